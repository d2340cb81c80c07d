/*
 * graph_path.c — the labelled shortest path from a root to an object (DESIGN.md "path"), read
 * off the breadth-first tree that graph_depth.c leaves in parent_edge:
 * "sys.modules['app'].__dict__['cache']['users'][3]".
 */
#include <stdlib.h>

#include "graph_internal.h"

uint32_t hs_graph_edge_source(const struct hs_snapshot *snap, uint64_t e)
{
	/* The last object whose edges start at or before e. */
	uint64_t lo = 0, hi = snap->nobjects;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (snap->edge_start[mid] <= e)
			lo = mid;
		else
			hi = mid;
	}
	return (uint32_t)lo;
}

static void print_anonymous(FILE *out, const struct hs_snapshot *snap, uint32_t obj)
{
	size_t len;
	const char *name = hs_snapshot_type_name(snap, snap->type[obj], &len);
	fprintf(out, "<%.*s at 0x%llx>", (int)len, name, (unsigned long long)snap->addr[obj]);
}

static void print_root(FILE *out, const struct hs_snapshot *snap, uint32_t obj)
{
	for (uint64_t r = 0; r < snap->nroots; r++) {
		const struct hs_string *name = &snap->strings[snap->roots[r].name];
		if (snap->roots[r].obj == obj && name->len) {
			fwrite(name->s, 1, name->len, out);
			return;
		}
	}
	print_anonymous(out, snap, obj);
}

struct hs_error *hs_path_text(const struct hs_snapshot *snap, const struct hs_analysis *a,
                              uint64_t x, char **ret)
{
	if (x >= snap->nobjects)
		return hs_error_create(HS_ERROR_USAGE, "%s: no object with index %llu", snap->path,
		                       (unsigned long long)x);
	if (a->depth[x] == HS_NONE) {
		*ret = NULL;
		return NULL;
	}
	/* The edges from x up to its root, last edge first. */
	uint32_t nhops = a->depth[x];
	uint64_t *hops = malloc((nhops ? nhops : 1) * sizeof(*hops));
	if (!hops)
		return &hs_error_nomem;
	uint32_t v = (uint32_t)x;
	for (uint32_t k = 0; k < nhops; k++) {
		hops[k] = a->parent_edge[v];
		v = hs_graph_edge_source(snap, hops[k]);
	}

	char *text = NULL, label[256];
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out) {
		free(hops);
		return &hs_error_nomem;
	}
	print_root(out, snap, v);
	for (uint32_t k = nhops; k-- > 0;) {
		uint64_t e = hops[k];
		uint32_t src = hs_graph_edge_source(snap, e);
		size_t need = hs_snapshot_edge_label(snap, src, e, label, sizeof(label));
		if (need == 0) {
			fputs("->", out);
			print_anonymous(out, snap, snap->edge_dst[e]);
		} else if (need < sizeof(label)) {
			fputs(label, out);
		} else {
			char *big = malloc(need + 1);
			if (big) {
				hs_snapshot_edge_label(snap, src, e, big, need + 1);
				fputs(big, out);
			}
			free(big);
			if (!big) {
				fclose(out);
				free(text);
				free(hops);
				return &hs_error_nomem;
			}
		}
	}
	free(hops);
	if (fclose(out) != 0) {
		free(text);
		return &hs_error_nomem;
	}
	*ret = text;
	return NULL;
}
