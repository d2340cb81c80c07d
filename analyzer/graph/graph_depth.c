/*
 * graph_depth.c — depth and the shortest-path tree: breadth-first over strong edges of every kind,
 * leaving in parent_edge the edge by which the search first reached each object and in depth the
 * length of that path, i.e. of the path `heapsnap path` prints.
 *
 * Roots are taken in tiers, each searched to exhaustion before the next is seeded: first the
 * module-level roots (sys.modules, builtins, sys), then the other named roots (frames, threads,
 * locals), then the unnamed ones (objects with external references).  So a module global is shown
 * as `sys.modules['app'].__dict__['cache']` even when a running frame of module-level code reaches
 * the same dict in fewer steps: that is the answer a person looks for, and depth is the distance
 * from the nearest root of the first tier that reaches the object.  Within a tier, roots are
 * seeded in snapshot order and edges followed in snapshot order, so paths are reproducible.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* 0 for module-level roots, 1 for other named roots (unnamed roots are tier 2). */
static int named_root_tier(const struct hs_snapshot *snap, const struct hs_root *r)
{
	static const char *const module_level[] = {"module", "builtins", "sys"};
	const struct hs_string *kind = &snap->strings[r->kind];
	for (size_t i = 0; i < sizeof(module_level) / sizeof(module_level[0]); i++)
		if (kind->len == strlen(module_level[i]) &&
		    memcmp(kind->s, module_level[i], kind->len) == 0)
			return 0;
	return 1;
}

static void seed(struct hs_analysis *a, uint32_t *queue, uint64_t *tail, uint32_t r)
{
	if (a->depth[r] == HS_NONE) {
		a->depth[r] = 0;
		queue[(*tail)++] = r;
	}
}

struct hs_error *hs_graph_depth(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	uint64_t n = snap->nobjects;
	/* The roots it starts from.  The dominators, which use depth and parent_edge as scratch,
	 * are done or not yet begun (hs_analyze_early gives it a copy of the analysis with arrays
	 * of its own, so that they run meanwhile). */
	assert(a->nobjects == n && (a->phases & HS_PHASE_ROOTS));
	uint32_t *queue = hs_graph_alloc(n * sizeof(*queue));
	if (!queue)
		return &hs_error_nomem;
	for (uint64_t i = 0; i < n; i++) {
		a->depth[i] = HS_NONE;
		a->parent_edge[i] = UINT64_MAX;
	}
	uint64_t head = 0, tail = 0;
	for (int tier = 0; tier < 3; tier++) {
		if (tier < 2) {
			for (uint64_t k = 0; k < snap->nroots; k++)
				if (named_root_tier(snap, &snap->roots[k]) == tier)
					seed(a, queue, &tail, (uint32_t)snap->roots[k].obj);
		} else {
			uint64_t rc = snap->nroots; /* past the named roots: the unnamed ones */
			for (uint32_t r; (r = hs_graph_next_root(snap, a, &rc)) != HS_NONE;)
				seed(a, queue, &tail, r);
		}
		while (head < tail) {
			hs_graph_prefetch_queue(snap, queue, head, tail, a->depth,
			                        sizeof(*a->depth), a->parent_edge,
			                        sizeof(*a->parent_edge));
			uint32_t v = queue[head++];
			for (uint64_t e = snap->edge_start[v]; e < snap->edge_start[v + 1]; e++) {
				uint32_t w = snap->edge_dst[e];
				if (a->depth[w] == HS_NONE) {
					a->depth[w] = a->depth[v] + 1;
					a->parent_edge[w] = e;
					queue[tail++] = w;
				}
			}
		}
	}
	free(queue);
	return NULL;
}
