/*
 * graph_dominators.c — the dominator tree over a virtual root whose children are all the roots,
 * by the semi-NCA algorithm (Georgiadis, as LLVM's GenericDomTreeConstruction does it), and the
 * retained sizes that follow from it.  Strong edges of every kind count; weak links are not edges.
 *
 * Steps, each a loop (no recursion: a chain of a million objects is a DFS path a million long):
 *  1. DFS from the virtual root (number 0), numbering objects 1..n in preorder; parent[d] is the
 *     DFS tree parent.  Objects the DFS does not reach keep dfn HS_NONE.
 *  2. Semidominators in reverse preorder: semi[w] = the least of parent[w] (0 for a root: the
 *     virtual root is a predecessor) and semi[eval(p)] over the predecessors p of w, where eval
 *     is the link-eval forest with path compression (anc, label) over the vertices numbered above
 * w.
 *  3. Nearest common ancestors in preorder: idom[w] starts at parent[w] and climbs the partly
 *     built dominator tree while it is numbered above semi[w].
 *  4. Retained sizes bottom-up: each vertex's total is added to its immediate dominator's; since
 *     a dominator precedes what it dominates in preorder, reverse preorder is bottom-up.
 *
 * Arrays by DFS number live in output arrays not yet filled (one spare entry each, see
 * graph_internal.h): dfn by object in idom; vertex and parent/idom in retained (as 2 x (n+1)
 * uint32); anc and semi in parent_edge; label, and during the DFS the edge cursor, in depth.
 */
#include <stdlib.h>

#include "graph_internal.h"

/* The path-compression stack of eval: grows as needed, usually stays short. */
struct path_stack {
	uint32_t *v;
	size_t len, cap;
};

static bool push(struct path_stack *s, uint32_t v)
{
	if (s->len == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		uint32_t *nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv)
			return false;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->len++] = v;
	return true;
}

struct semi_nca {
	uint32_t *anc, *semi, *label;
	struct path_stack stack;
};

/* The vertex of least semi on the forest path from v up to (not including) its tree's root,
 * where the vertices numbered >= last are the ones linked to their parents.  Compresses the path.
 * Returns HS_NONE when out of memory. */
static uint32_t eval(struct semi_nca *s, uint32_t v, uint32_t last)
{
	uint32_t *anc = s->anc, *semi = s->semi, *label = s->label;
	if (anc[v] < last)
		return label[v];
	s->stack.len = 0;
	uint32_t p = v;
	do {
		if (!push(&s->stack, p))
			return HS_NONE;
		p = anc[p];
	} while (anc[p] >= last);
	uint32_t plabel = label[p], x = v;
	while (s->stack.len) {
		x = s->stack.v[--s->stack.len];
		anc[x] = anc[p];
		if (semi[plabel] < semi[label[x]])
			label[x] = plabel;
		else
			plabel = label[x];
		p = x;
	}
	return label[x];
}

struct hs_error *hs_graph_dominators(const struct hs_snapshot *snap,
                                     const struct hs_graph_reverse *rev, struct hs_analysis *a)
{
	uint64_t nobj = snap->nobjects;
	uint32_t *dfn = a->idom;
	uint32_t *vertex = (uint32_t *)a->retained;
	uint32_t *idom = vertex + nobj + 1; /* the DFS parent until step 3 */
	struct semi_nca s = {
	    .anc = (uint32_t *)a->parent_edge,
	    .semi = (uint32_t *)a->parent_edge + nobj + 1,
	    .label = a->depth,
	};
	uint32_t *cursor = s.label; /* during step 1 */

	/* 1. DFS. */
	for (uint64_t i = 0; i < nobj; i++)
		dfn[i] = HS_NONE;
	uint32_t n = 0;
	uint64_t rc = 0;
	vertex[0] = HS_NONE;
	for (uint32_t r; (r = hs_graph_next_root(snap, a, &rc)) != HS_NONE;) {
		if (dfn[r] != HS_NONE)
			continue;
		dfn[r] = ++n;
		vertex[n] = r;
		s.anc[n] = idom[n] = 0;
		cursor[n] = 0;
		for (uint32_t cur = n; cur;) {
			uint64_t base = snap->edge_start[vertex[cur]];
			uint32_t deg = (uint32_t)(snap->edge_start[vertex[cur] + 1] - base);
			uint32_t w = HS_NONE;
			while (cursor[cur] < deg) {
				w = snap->edge_dst[base + cursor[cur]++];
				if (dfn[w] == HS_NONE)
					break;
				w = HS_NONE;
			}
			if (w == HS_NONE) {
				cur = s.anc[cur];
				continue;
			}
			dfn[w] = ++n;
			vertex[n] = w;
			s.anc[n] = idom[n] = cur;
			cursor[n] = 0;
			cur = n;
		}
	}
	a->nreached = n;

	/* 2. Semidominators. */
	for (uint32_t d = 0; d <= n; d++)
		s.semi[d] = s.label[d] = d;
	for (uint32_t w = n; w >= 1; w--) {
		uint32_t obj = vertex[w];
		uint32_t best = a->is_root[obj] ? 0 : idom[w];
		for (uint32_t k = rev->start[obj]; k < rev->start[obj + 1]; k++) {
			uint32_t dp = dfn[rev->src[k]];
			if (dp == HS_NONE)
				continue;
			uint32_t u = eval(&s, dp, w + 1);
			if (u == HS_NONE) {
				free(s.stack.v);
				return &hs_error_nomem;
			}
			if (s.semi[u] < best)
				best = s.semi[u];
		}
		s.semi[w] = best;
	}
	free(s.stack.v);

	/* 3. Immediate dominators. */
	for (uint32_t w = 1; w <= n; w++) {
		uint32_t c = idom[w];
		while (c > s.semi[w])
			c = idom[c];
		idom[w] = c;
	}

	/* 4. Retained sizes, by DFS number in parent_edge (anc and semi are done), then by
	 * object; idom by object in place of dfn. */
	double t0 = hs_graph_now();
	uint64_t *rd = a->parent_edge;
	for (uint32_t d = 1; d <= n; d++)
		rd[d] = snap->size[vertex[d]];
	for (uint32_t d = n; d >= 1; d--) {
		if (idom[d])
			rd[idom[d]] += rd[d];
	}
	for (uint64_t i = 0; i < nobj; i++) {
		uint32_t d = dfn[i];
		dfn[i] = d == HS_NONE || !idom[d] ? HS_NONE : vertex[idom[d]];
	}
	uint32_t *vertex_copy =
	    a->depth; /* label is done; retained[] is about to overwrite vertex */
	for (uint32_t d = 1; d <= n; d++)
		vertex_copy[d] = vertex[d];
	for (uint64_t i = 0; i < nobj; i++)
		a->retained[i] = snap->size[i];
	for (uint32_t d = 1; d <= n; d++)
		a->retained[vertex_copy[d]] = rd[d];
	a->t_retained = hs_graph_now() - t0;
	return NULL;
}
