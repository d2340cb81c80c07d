/*
 * graph_reverse.c — the reverse CSR of the strong edges: for each object, the sources of the edges
 * into it.  The dominator computation needs the predecessors of every object; nothing else does,
 * so this lives only while the dominators are computed.
 *
 * Counting sort by destination: count the edges into each object, turn the counts into starts,
 * drop each source into place, then shift the starts back (placing advanced them by one slot).
 * Sources come out in increasing order for each destination.
 */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

struct hs_error *hs_graph_reverse_build(const struct hs_snapshot *snap,
                                        struct hs_graph_reverse *ret)
{
	uint64_t n = snap->nobjects;
	uint32_t *start = calloc(n + 1, sizeof(*start));
	uint32_t *src = malloc((snap->nedges ? snap->nedges : 1) * sizeof(*src));
	if (!start || !src) {
		free(start);
		free(src);
		return &hs_error_nomem;
	}
	for (uint64_t e = 0; e < snap->nedges; e++)
		start[snap->edge_dst[e] + 1]++;
	for (uint64_t i = 0; i < n; i++)
		start[i + 1] += start[i];
	for (uint64_t i = 0; i < n; i++) {
		for (uint64_t e = snap->edge_start[i]; e < snap->edge_start[i + 1]; e++)
			src[start[snap->edge_dst[e]]++] = (uint32_t)i;
	}
	memmove(start + 1, start, n * sizeof(*start));
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
