/*
 * graph_depth.c — depth and the shortest-path tree: breadth-first over strong edges of every kind
 * from all roots at once, so depth is the distance from the nearest root and parent_edge the edge
 * by which the search first reached each object.  Roots are seeded in hs_graph_next_root's order
 * (named roots first), and edges in their snapshot order, so paths are reproducible.
 */
#include <stdlib.h>

#include "graph_internal.h"

struct hs_error *hs_graph_depth(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	uint64_t n = snap->nobjects;
	uint32_t *queue = hs_graph_alloc(n * sizeof(*queue));
	if (!queue)
		return &hs_error_nomem;
	for (uint64_t i = 0; i < n; i++) {
		a->depth[i] = HS_NONE;
		a->parent_edge[i] = UINT64_MAX;
	}
	uint64_t head = 0, tail = 0, rc = 0;
	for (uint32_t r; (r = hs_graph_next_root(snap, a, &rc)) != HS_NONE;) {
		if (a->depth[r] == HS_NONE) {
			a->depth[r] = 0;
			queue[tail++] = r;
		}
	}
	while (head < tail) {
		uint32_t v = queue[head++];
		hs_graph_prefetch_targets(snap, a->depth, sizeof(*a->depth), v);
		for (uint64_t e = snap->edge_start[v]; e < snap->edge_start[v + 1]; e++) {
			uint32_t w = snap->edge_dst[e];
			if (a->depth[w] == HS_NONE) {
				a->depth[w] = a->depth[v] + 1;
				a->parent_edge[w] = e;
				queue[tail++] = w;
			}
		}
	}
	free(queue);
	return NULL;
}
