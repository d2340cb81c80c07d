/*
 * graph_dominators.c — the dominator tree over a virtual root whose children are all the roots,
 * by the semi-NCA algorithm (Georgiadis; LLVM's GenericDomTreeConstruction does the same), and the
 * retained sizes that follow from it.  Strong edges of every kind count; weak links are not edges.
 *
 * Steps, each a loop (no recursion: a chain of a million objects is a DFS path a million long):
 *  1. DFS from the virtual root (number 0), numbering objects 1..n in preorder; parent[d] is the
 *     DFS tree parent.  Objects the DFS does not reach keep dfn HS_NONE.
 *  2. Semidominators in reverse preorder: semi[w] = the least of parent[w] (0 for a root: the
 *     virtual root is a predecessor), of every predecessor numbered below w (found by the DFS,
 *     which sees every edge), and of eval(p) for every predecessor p numbered above w (from
 *     the reverse CSR, which holds only those).  eval is the link-eval forest over the vertices
 *     already done, with path compression: anc[] climbs the forest, best[v] is the least semi on
 *     the compressed path from v up to (not including) its tree's root.  anc and best of a vertex
 *     sit side by side, so a step up the forest costs one cache miss.
 *  3. Nearest common ancestors in preorder: idom[w] starts at parent[w] and climbs the partly
 *     built dominator tree while it is numbered above semi[w].
 *  4. Retained sizes bottom-up: each vertex's total is added to its immediate dominator's; since
 *     a dominator precedes what it dominates in preorder, reverse preorder is bottom-up.
 *
 * Arrays by DFS number live in output arrays not yet filled (one spare entry each, see
 * graph_internal.h): dfn by object in idom; vertex and parent/idom in retained (as 2 x (n+1)
 * uint32); the anc/best pairs in parent_edge (best is the edge cursor during the DFS); semi in
 * depth.
 */
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

struct forest {
	uint32_t anc, best;
};

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

/* The least semi on the forest path from v up to (not including) its tree's root, where the
 * vertices numbered >= last are the ones linked to their parents.  Compresses the path.
 * Returns HS_NONE when out of memory. */
static uint32_t eval(struct forest *f, struct path_stack *s, uint32_t v, uint32_t last)
{
	if (f[v].anc < last)
		return f[v].best;
	s->len = 0;
	uint32_t p = v;
	do {
		if (!push(s, p))
			return HS_NONE;
		p = f[p].anc;
	} while (f[p].anc >= last);
	uint32_t root = f[p].anc, best = f[p].best;
	while (s->len) {
		struct forest *x = &f[s->v[--s->len]];
		x->anc = root;
		if (best < x->best)
			x->best = best;
		else
			best = x->best;
	}
	return best;
}

/* Step 1, the DFS: fills dfn, vertex, parent and the forest's anc; returns n.  It sees every
 * edge from a vertex once, so it also starts the semidominators (semi[w] = the least of parent[w]
 * and the predecessors numbered below w) and counts in count[w + 1] the predecessors numbered
 * above w, which go to the reverse CSR.  The forest's best is the edge cursor meanwhile. */
static uint32_t dfs(const struct hs_snapshot *snap, const struct hs_analysis *a, uint32_t *dfn,
                    uint32_t *vertex, uint32_t *parent, struct forest *f, uint32_t *semi,
                    uint32_t *count)
{
	for (uint64_t i = 0; i < snap->nobjects; i++)
		dfn[i] = HS_NONE;
	uint32_t n = 0;
	uint64_t rc = 0;
	vertex[0] = HS_NONE;
	for (uint32_t r; (r = hs_graph_next_root(snap, a, &rc)) != HS_NONE;) {
		if (dfn[r] != HS_NONE)
			continue;
		dfn[r] = ++n;
		vertex[n] = r;
		parent[n] = semi[n] = f[n].anc = 0;
		f[n].best = 0;
		for (uint32_t cur = n; cur;) {
			uint64_t base = snap->edge_start[vertex[cur]];
			uint64_t e = base + f[cur].best, end = snap->edge_start[vertex[cur] + 1];
			uint32_t w = HS_NONE;
			for (; e < end; e++) {
				w = snap->edge_dst[e];
				uint32_t dw = dfn[w];
				if (dw == HS_NONE)
					break;
				if (dw < cur)
					count[dw + 1]++;
				else if (cur < semi[dw])
					semi[dw] = cur;
			}
			if (e == end) {
				cur = parent[cur];
				continue;
			}
			f[cur].best = (uint32_t)(e + 1 - base);
			dfn[w] = ++n;
			hs_graph_prefetch_targets(snap, dfn, sizeof(*dfn), w);
			vertex[n] = w;
			parent[n] = semi[n] = f[n].anc = cur;
			f[n].best = 0;
			cur = n;
		}
	}
	return n;
}

struct hs_error *hs_graph_dominators(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	uint64_t nobj = snap->nobjects;
	uint32_t *dfn = a->idom;
	uint32_t *vertex = (uint32_t *)a->retained;
	uint32_t *idom = vertex + nobj + 1; /* the DFS parent until step 3 */
	struct forest *f = (struct forest *)a->parent_edge;
	uint32_t *semi = a->depth;
	uint32_t *count = hs_graph_alloc((nobj + 2) * sizeof(*count));
	if (!count)
		return &hs_error_nomem;
	memset(count, 0, (nobj + 2) * sizeof(*count));

	uint32_t n = dfs(snap, a, dfn, vertex, idom, f, semi, count);
	a->nreached = n;

	/* 2. Semidominators: a root's is 0, the virtual root being a predecessor; then the
	 * predecessors numbered above w, through the forest. */
	for (uint64_t i = 0; i < nobj; i++) {
		if (a->is_root[i])
			semi[dfn[i]] = 0;
	}
	double t0 = hs_graph_now();
	struct hs_graph_reverse rev;
	struct hs_error *err = hs_graph_reverse_build(snap, dfn, n, count, &rev);
	if (err)
		return err;
	a->t_reverse = hs_graph_now() - t0;
	struct path_stack stack = {0};
	for (uint32_t w = n; w >= 1; w--) {
		/* The forest entries of a later vertex's predecessors: independent of this one's.
		 */
		if (w > 4) {
			for (uint32_t k = rev.start[w - 4]; k < rev.start[w - 3]; k++)
				__builtin_prefetch(&f[rev.src[k]]);
		}
		uint32_t best = semi[w];
		for (uint32_t k = rev.start[w]; k < rev.start[w + 1]; k++) {
			uint32_t s = eval(f, &stack, rev.src[k], w + 1);
			if (s == HS_NONE) {
				free(stack.v);
				hs_graph_reverse_deinit(&rev);
				return &hs_error_nomem;
			}
			if (s < best)
				best = s;
		}
		semi[w] = f[w].best = best;
	}
	free(stack.v);
	hs_graph_reverse_deinit(&rev);

	/* 3. Immediate dominators. */
	for (uint32_t w = 1; w <= n; w++) {
		if (w + HS_PREFETCH_AHEAD <= n)
			__builtin_prefetch(&idom[idom[w + HS_PREFETCH_AHEAD]]);
		uint32_t c = idom[w];
		while (c > semi[w])
			c = idom[c];
		idom[w] = c;
	}

	/* 4. Retained sizes, by DFS number in parent_edge (the forest is done), then by object;
	 * idom by object in place of dfn. */
	t0 = hs_graph_now();
	uint64_t *rd = a->parent_edge;
	for (uint32_t d = 1; d <= n; d++)
		rd[d] = snap->size[vertex[d]];
	for (uint32_t d = n; d >= 1; d--) {
		if (d > HS_PREFETCH_AHEAD)
			__builtin_prefetch(&rd[idom[d - HS_PREFETCH_AHEAD]]);
		if (idom[d])
			rd[idom[d]] += rd[d];
	}
	for (uint64_t i = 0; i < nobj; i++) {
		uint32_t d = dfn[i];
		dfn[i] = d == HS_NONE || !idom[d] ? HS_NONE : vertex[idom[d]];
	}
	uint32_t *vertex_copy =
	    a->depth; /* semi is done; retained[] is about to overwrite vertex */
	for (uint32_t d = 1; d <= n; d++)
		vertex_copy[d] = vertex[d];
	for (uint64_t i = 0; i < nobj; i++)
		a->retained[i] = snap->size[i];
	for (uint32_t d = 1; d <= n; d++)
		a->retained[vertex_copy[d]] = rd[d];
	a->t_retained = hs_graph_now() - t0;
	return NULL;
}
