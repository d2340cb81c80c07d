/*
 * graph_scc.c — strongly connected components over the strong edges of every kind.
 *
 * Pearce's algorithm ("A space-efficient algorithm for finding strongly connected components",
 * 2016), written as a loop over an explicit stack.  One number per object, rindex, serves as
 * Tarjan's index and lowlink while the object is on a stack, and becomes its component number
 * when the component is complete: visit numbers count up from 1, component numbers count down
 * from n, and the two never meet, so an edge into a finished component never lowers a lowlink.
 * 0 means "not visited yet".  Everything else about an object on the DFS path (its next edge,
 * whether it still heads a component) lives in its stack entry, so the only scattered accesses
 * are rindex and edge_start of each edge's target (prefetched together as the DFS enters an
 * object) and the object's edges.
 */
#include <assert.h>

#include "graph_internal.h"

#define HEAD (1ull << 63) /* in a path entry's edge cursor: no lowlink below the object's own */

void hs_graph_scc(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	uint32_t n = (uint32_t)snap->nobjects;
	/* a->phases is not read here: the other thread writes it meanwhile. */
	assert(a->nobjects == n && a->scc && a->scc_size && a->idom && a->parent_edge && a->depth);
	uint32_t *rindex = a->scc;
	uint32_t *path = a->idom;          /* scratch: the DFS path, as a stack */
	uint64_t *cursor = a->parent_edge; /* scratch: each path entry's next edge, and HEAD */
	uint32_t *done = a->depth;         /* scratch: visited objects whose component is open */
	uint32_t index = 1, c = n, npath = 0, ndone = 0;

	for (uint32_t i = 0; i < n; i++)
		rindex[i] = 0;
	for (uint32_t r = 0; r < n; r++) {
		if (rindex[r])
			continue;
		rindex[r] = index++;
		path[0] = r;
		cursor[0] = snap->edge_start[r] | HEAD;
		npath = 1;
		while (npath) {
			uint32_t v = path[npath - 1], rv = rindex[v];
			uint64_t head = cursor[npath - 1] & HEAD;
			uint64_t e = cursor[npath - 1] & ~HEAD, end = snap->edge_start[v + 1];
			uint32_t w = 0;
			for (; e < end; e++) {
				w = snap->edge_dst[e];
				uint32_t rw = rindex[w];
				if (!rw)
					break;
				/* w is finished or on the path: it may lower v's lowlink. */
				if (rw < rv) {
					rv = rw;
					head = 0;
				}
			}
			rindex[v] = rv;
			if (e < end) {
				/* Descend; back here, edge e is looked at again and lowers v. */
				cursor[npath - 1] = e | head;
				rindex[w] = index++;
				uint64_t we = snap->edge_start[w];
				hs_graph_prefetch_descent(snap, rindex, sizeof(*rindex), we,
				                          snap->edge_start[w + 1]);
				path[npath] = w;
				cursor[npath] = we | HEAD;
				npath++;
				continue;
			}
			npath--;
			if (!head) {
				done[ndone++] = v;
				continue;
			}
			/* v heads a component: it and the objects above its visit number on the
			 * done stack. */
			uint32_t first = ndone;
			while (first && rv <= rindex[done[first - 1]])
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
