/*
 * graph_deep.c — deep size (DESIGN.md): the bytes reachable from one object by strong edges,
 * each object once, not entering type objects or modules unless the walk starts at one.  For
 * plain data this is the classic walk over gc.get_referents plus dict keys (owned edges) summing
 * sys.getsizeof, pympler's asizeof idea.  One walk per call, with a bitmap of visited objects
 * and an explicit stack.
 */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* What a walk does not enter: objects of the types "type" and "module", and the objects the
 * snapshot's types name as their type objects (sorted, for bsearch). */
struct boundary {
	uint8_t *by_type;
	uint64_t *type_objects;
	uint32_t ntype_objects;
};

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool is_boundary(const struct hs_snapshot *snap, const struct boundary *b, uint64_t o)
{
	return b->by_type[snap->type[o]] ||
	       bsearch(&o, b->type_objects, b->ntype_objects, sizeof(o), compare_u64);
}

static bool name_is(const struct hs_snapshot *snap, uint32_t t, const char *want)
{
	size_t len;
	const char *name = hs_snapshot_type_name(snap, t, &len);
	return len == strlen(want) && memcmp(name, want, len) == 0;
}

struct hs_error *hs_deep_size(const struct hs_snapshot *snap, uint64_t x, uint64_t *ret)
{
	if (x >= snap->nobjects)
		return hs_error_create(HS_ERROR_USAGE, "%s: no object with index %llu", snap->path,
		                       (unsigned long long)x);
	struct boundary b = {malloc(snap->ntypes + 1),
	                     malloc((snap->ntypes + 1) * sizeof(uint64_t)), 0};
	uint64_t *visited = calloc(snap->nobjects / 64 + 1, sizeof(*visited));
	size_t cap = 1024, len = 0;
	uint32_t *stack = malloc(cap * sizeof(*stack));
	struct hs_error *err = NULL;
	if (!b.by_type || !b.type_objects || !visited || !stack) {
		err = &hs_error_nomem;
		goto out;
	}
	for (uint32_t t = 0; t < snap->ntypes; t++) {
		b.by_type[t] = name_is(snap, t, "type") || name_is(snap, t, "module");
		if (snap->types[t].type_object)
			b.type_objects[b.ntype_objects++] = snap->types[t].type_object - 1;
	}
	qsort(b.type_objects, b.ntype_objects, sizeof(uint64_t), compare_u64);

	uint64_t total = 0;
	visited[x / 64] |= 1ull << (x % 64);
	stack[len++] = (uint32_t)x;
	while (len) {
		uint32_t v = stack[--len];
		total += snap->size[v];
		for (uint64_t e = snap->edge_start[v]; e < snap->edge_start[v + 1]; e++) {
			uint32_t w = snap->edge_dst[e];
			if (visited[w / 64] & (1ull << (w % 64)))
				continue;
			visited[w / 64] |= 1ull << (w % 64);
			if (is_boundary(snap, &b, w))
				continue;
			if (len == cap) {
				uint32_t *ns = realloc(stack, 2 * cap * sizeof(*ns));
				if (!ns) {
					err = &hs_error_nomem;
					goto out;
				}
				stack = ns;
				cap *= 2;
			}
			stack[len++] = w;
		}
	}
	*ret = total;
out:
	free(b.by_type);
	free(b.type_objects);
	free(visited);
	free(stack);
	return err;
}
