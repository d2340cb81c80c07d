/*
 * graph_reverse.c — the predecessors of every vertex of the dominator DFS, by DFS number: the
 * dominator computation needs them, nothing else does, so they live only while it runs.  Built
 * after the DFS in DFS numbers, the semidominator pass then reads them in order and never maps an
 * object to its number.
 *
 * Only the predecessors numbered above their vertex are kept (those of back and cross edges):
 * one numbered below w is a semidominator candidate as it is, and the pass after the DFS folds
 * the least of them into semi[w].  That drops every tree and forward edge from the lists.
 *
 * Counting sort by destination: that pass counted the edges into each vertex; turn the counts
 * into starts, drop each source into place, then shift the starts back (placing advanced them by
 * one slot).
 */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

struct hs_error *hs_graph_reverse_build(const struct hs_snapshot *snap, const uint32_t *dfn,
                                        uint32_t n, uint32_t *start, struct hs_graph_reverse *ret)
{
	for (uint32_t d = 0; d <= n; d++)
		start[d + 1] += start[d];
	uint32_t *src = hs_graph_alloc(start[n + 1] * sizeof(*src));
	if (!src) {
		free(start);
		return &hs_error_nomem;
	}
	/* Every successor of a vertex is a vertex: the DFS followed every edge. */
	for (uint64_t v = 0; v < snap->nobjects; v++) {
		uint32_t dv = dfn[v];
		if (dv == HS_NONE)
			continue;
		for (uint64_t e = snap->edge_start[v]; e < snap->edge_start[v + 1]; e++) {
			if (e + 2 * HS_PREFETCH_AHEAD < snap->nedges)
				__builtin_prefetch(&dfn[snap->edge_dst[e + 2 * HS_PREFETCH_AHEAD]]);
			if (e + HS_PREFETCH_AHEAD < snap->nedges) {
				uint32_t ahead = dfn[snap->edge_dst[e + HS_PREFETCH_AHEAD]];
				if (ahead != HS_NONE)
					__builtin_prefetch(&start[ahead], 1);
			}
			uint32_t dw = dfn[snap->edge_dst[e]];
			if (dv > dw)
				src[start[dw]++] = dv;
		}
	}
	memmove(start + 1, start, ((size_t)n + 1) * sizeof(*start));
	start[0] = 0;
	ret->start = start;
	ret->src = src;
	return NULL;
}

void hs_graph_reverse_deinit(struct hs_graph_reverse *rev)
{
	free(rev->start);
	free(rev->src);
}
