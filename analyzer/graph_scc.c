/*
 * graph_scc.c — strongly connected components over the strong edges of every kind.
 *
 * Pearce's algorithm ("A space-efficient algorithm for finding strongly connected components",
 * 2016), written as a loop over an explicit stack.  One number per object, rindex, serves as
 * Tarjan's index and lowlink while the object is on a stack, and becomes its component number
 * when the component is complete: visit numbers count up from 1, component numbers count down
 * from n, and the two never meet, so an edge into a finished component never lowers a lowlink.
 * 0 means "not visited yet".
 */
#include "graph_internal.h"

void hs_graph_scc(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	uint32_t n = (uint32_t)snap->nobjects;
	uint32_t *rindex = a->scc;
	uint32_t *call = a->idom;          /* scratch: the DFS path, as a stack */
	uint32_t *done = a->depth;         /* scratch: visited objects whose component is open */
	uint64_t *cursor = a->parent_edge; /* scratch: the next edge to look at, per object */
	uint32_t *is_head = a->scc_size;   /* scratch until the component is complete */
	uint32_t index = 1, c = n, ncall = 0, ndone = 0;

	for (uint32_t i = 0; i < n; i++)
		rindex[i] = 0;
	for (uint32_t r = 0; r < n; r++) {
		if (rindex[r])
			continue;
		rindex[r] = index++;
		is_head[r] = 1;
		cursor[r] = snap->edge_start[r];
		call[ncall++] = r;
		while (ncall) {
			uint32_t v = call[ncall - 1];
			uint64_t e = cursor[v], end = snap->edge_start[v + 1];
			for (; e < end; e++) {
				uint32_t w = snap->edge_dst[e];
				if (!rindex[w])
					break;
				/* w is finished or on the path: it may lower v's lowlink. */
				if (rindex[w] < rindex[v]) {
					rindex[v] = rindex[w];
					is_head[v] = 0;
				}
			}
			if (e < end) {
				/* Descend; back here, edge e is looked at again and lowers v. */
				uint32_t w = snap->edge_dst[e];
				cursor[v] = e;
				rindex[w] = index++;
				is_head[w] = 1;
				cursor[w] = snap->edge_start[w];
				call[ncall++] = w;
				continue;
			}
			ncall--;
			if (!is_head[v]) {
				done[ndone++] = v;
				continue;
			}
			/* v heads a component: it and the objects above its visit number on the
			 * done stack. */
			uint32_t first = ndone;
			while (first && rindex[v] <= rindex[done[first - 1]])
				first--;
			uint32_t size = ndone - first + 1;
			for (uint32_t k = first; k < ndone; k++) {
				rindex[done[k]] = c;
				a->scc_size[done[k]] = size;
			}
			index -= size;
			rindex[v] = c--;
			a->scc_size[v] = size;
			ndone = first;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		a->scc[i] = n - rindex[i];
	a->nsccs = n - c;
}
