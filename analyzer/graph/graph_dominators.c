/*
 * graph_dominators.c — the dominator tree over a virtual root whose children are all the roots,
 * by the semi-NCA algorithm (Georgiadis; LLVM's GenericDomTreeConstruction does the same), and the
 * retained sizes that follow from it.  Strong edges of every kind count; weak links are not edges.
 *
 * Steps, each a loop (no recursion: a chain of a million objects is a DFS path a million long):
 *  1. DFS from the virtual root (number 0), numbering objects 1..n in preorder; parent[d] is the
 *     DFS tree parent.  Objects the DFS does not reach keep dfn HS_NONE.  The DFS path is an
 *     explicit stack (vertex number, next edge, end edge by depth), so that going back up it reads
 *     memory in order instead of chasing parent[] and the object's edge_start once more.  The DFS
 *     is a chain of cache misses, each step waiting for the last, so it reads as little as it
 *     can: whether a successor is new comes from a bitset that stays in cache (not from dfn), and
 *     each object's first successor is copied beforehand into first[] (read in order), so that
 *     descending to a new first successor waits for edge_start and first of the object together
 *     instead of edge_start and then its edges.  Then a pass over every edge in object order
 *     (classify), whose random lookups are prefetched, starts the semidominators: semi[w] = the
 *     least of parent[w] and of the predecessors numbered below w; and counts the predecessors
 *     numbered above w, which go to the reverse CSR.
 *  2. Semidominators in reverse preorder: semi[w] = the least of parent[w] (0 for a root: the
 *     virtual root is a predecessor), of every predecessor numbered below w (found by classify,
 *     which sees every edge), and of eval(p) for every predecessor p numbered above w (from the
 *     reverse CSR, which holds only those).  eval is the link-eval forest over the vertices already
 *     done, with path compression: anc[] climbs the forest, best[v] is the least semi on the
 *     compressed path from v up to (not including) its tree's root.  anc and best of a vertex sit
 *     side by side, so a step up the forest costs one cache miss; and since the reverse CSR says in
 *     advance which vertices eval will start from, a pipeline walks their first forest steps ahead
 *     of time, so that eval finds them in cache (see climb_ahead).
 *  3. Nearest common ancestors in preorder: idom[w] starts at parent[w] and climbs the partly
 *     built dominator tree while it is numbered above semi[w].
 *  4. Retained sizes bottom-up: each vertex's total is added to its immediate dominator's; since
 *     a dominator precedes what it dominates in preorder, reverse preorder is bottom-up.
 *
 * Arrays by DFS number live in output arrays not yet filled (one spare entry each, see
 * graph_internal.h): dfn by object in idom; parent/idom in the upper half of retained (as
 * 2 x (n+1) uint32); semi in depth.  During the DFS, the path's vertex numbers and next edges
 * are in parent_edge (2 x (n+1) uint32), its end edges in the lower half of retained, first[]
 * in the reverse CSR's count array and the bitset in depth; after it, parent_edge holds the
 * forest's anc/best pairs. Step 4 puts the object of each number (vertex, the inverse of dfn) in
 * depth and the retained sizes by number in parent_edge.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* How many levels above the top the DFS prefetches the next edge of, going back up. */
#define PATH_AHEAD 4

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

/* The pipeline of climb_ahead: PIPE_STAGES steps up the forest for each predecessor, one step
 * every PIPE_GAP predecessors; the ring holds where each predecessor in flight has got to. */
enum { PIPE_STAGES = 6, PIPE_GAP = 12, PIPE_RING = 128 };
_Static_assert((PIPE_RING & (PIPE_RING - 1)) == 0 && PIPE_RING > PIPE_STAGES * PIPE_GAP,
               "the ring is a power of two with room for every predecessor in flight");

/* Called before eval of predecessor k (the semidominator pass takes them from last to first):
 * prefetches the forest entry of predecessor k - PIPE_STAGES * PIPE_GAP, and moves each of the
 * ones between up one step, prefetching where it arrives.  Each step reads an entry prefetched
 * PIPE_GAP calls before, so the misses of a path overlap with the evals before it instead of
 * coming one after another in eval.  Path compression may change anc meanwhile: then a
 * prefetch is wasted, never wrong. */
static inline void climb_ahead(const struct forest *f, const uint32_t *src, uint32_t *ring,
                               int64_t k)
{
	int64_t i = k - PIPE_STAGES * PIPE_GAP;
	if (i >= 0) {
		ring[i & (PIPE_RING - 1)] = src[i];
		__builtin_prefetch(&f[src[i]]);
	}
	for (int s = 1; s < PIPE_STAGES; s++) {
		i = k - (PIPE_STAGES - s) * PIPE_GAP;
		if (i >= 0) {
			uint32_t c = f[ring[i & (PIPE_RING - 1)]].anc;
			ring[i & (PIPE_RING - 1)] = c;
			__builtin_prefetch(&f[c]);
		}
	}
}

/* The DFS path, by depth: the vertex's number, its next edge and its end (edge indexes fit in
 * 32 bits, hs_analyze checks).  The entries of the path sit side by side, so returning up the path
 * reads memory in order and can be prefetched, where a step up the parent[] chain would be a
 * cache miss each. */
struct dfs_path {
	uint32_t *d, *e, *end;
};

/* What the DFS reads and writes. */
struct dfs {
	const struct hs_snapshot *snap;
	const uint64_t *edge_start;
	const uint32_t *edge_dst;
	const uint32_t *first; /* each object's first successor, HS_NONE if it has none */
	uint64_t *bits;        /* bit v: object v is numbered */
	uint32_t *dfn, *parent;
	struct dfs_path path;
	uint32_t n;
	struct hs_graph_gate *roots_known; /* NULL once is_root is filled */
};

/* Numbers w, a successor of the path's vertex at depth - 1 (none when depth is 0), and pushes it;
 * then, as long as the new top's first successor is new, that one too, without reading the top's
 * edges (first[] gives it): a descent costs one wait (edge_start and first, fetched together)
 * instead of two in a row (edge_start, then the edges).  Returns the new depth. */
static uint32_t enter(struct dfs *s, uint32_t depth, uint32_t w)
{
	struct dfs_path path = s->path;
	for (;;) {
		hs_graph_bit_set(s->bits, w);
		s->dfn[w] = ++s->n;
		s->parent[s->n] = depth ? path.d[depth - 1] : 0;
		uint32_t we = (uint32_t)s->edge_start[w], wend = (uint32_t)s->edge_start[w + 1];
		uint32_t x = s->first[w];
		path.d[depth] = s->n;
		path.end[depth] = wend;
		depth++;
		if (x == HS_NONE || hs_graph_bit(s->bits, x)) {
			path.e[depth - 1] = we;
			return depth;
		}
		/* Its other edges, for when the DFS comes back to it. */
		__builtin_prefetch(&s->edge_dst[we + 1]);
		path.e[depth - 1] = we + 1;
		w = x;
	}
}

/* Step 1, the DFS: fills dfn and parent; returns n.  Whether a successor is new comes from
 * bits, a bit per object that stays in cache, so that the DFS path waits only for the edges. */
static uint32_t dfs(struct dfs *s, const struct hs_analysis *a)
{
	const struct hs_snapshot *snap = s->snap;
	const uint32_t *edge_dst = s->edge_dst;
	struct dfs_path path = s->path;
	uint64_t rc = 0;
	for (;;) {
		if (rc == snap->nroots && s->roots_known) { /* the named roots are done */
			hs_graph_gate_wait(s->roots_known);
			s->roots_known = NULL;
		}
		uint32_t r = hs_graph_next_root(snap, a, &rc);
		if (r == HS_NONE)
			break;
		if (hs_graph_bit(s->bits, r))
			continue;
		for (uint32_t depth = enter(s, 0, r); depth;) {
			uint32_t top = depth - 1;
			uint32_t e = path.e[top], end = path.end[top], w = HS_NONE;
			while (e < end && hs_graph_bit(s->bits, w = edge_dst[e]))
				e++;
			if (e == end) {
				depth--;
				/* Where the path will go back to: its next edges. */
				if (depth > PATH_AHEAD) {
					uint32_t k = depth - PATH_AHEAD;
					if (path.e[k] < path.end[k])
						__builtin_prefetch(&edge_dst[path.e[k]]);
				}
				continue;
			}
			path.e[top] = e + 1;
			/* The successors after w, which the DFS comes back to. */
			hs_graph_prefetch_descent(s->snap, s->first, NULL, 0, e + 1, end);
			depth = enter(s, depth, w);
		}
	}
	return s->n;
}

/* The rest of step 1, over every edge v -> w of the vertices in object order (the lookups are
 * prefetched): semi[w] = the least of parent[w] and of the predecessors numbered below w, and
 * count[w + 1] = the number of predecessors numbered above w, which go to the reverse CSR. */
static void classify(const struct hs_snapshot *snap, const uint32_t *dfn, uint32_t *semi,
                     uint32_t *count)
{
	const uint64_t *edge_start = snap->edge_start;
	const uint32_t *edge_dst = snap->edge_dst;
	uint64_t nedges = snap->nedges;
	for (uint64_t v = 0; v < snap->nobjects; v++) {
		uint32_t dv = dfn[v];
		if (dv == HS_NONE)
			continue;
		for (uint64_t e = edge_start[v]; e < edge_start[v + 1]; e++) {
			if (e + 2 * HS_PREFETCH_AHEAD < nedges)
				__builtin_prefetch(&dfn[edge_dst[e + 2 * HS_PREFETCH_AHEAD]]);
			if (e + HS_PREFETCH_AHEAD < nedges) {
				uint32_t ahead = dfn[edge_dst[e + HS_PREFETCH_AHEAD]];
				if (ahead != HS_NONE) {
					__builtin_prefetch(&semi[ahead], 1);
					__builtin_prefetch(&count[ahead + 1], 1);
				}
			}
			uint32_t dw = dfn[edge_dst[e]];
			if (dw < dv)
				count[dw + 1]++;
			else if (dv < semi[dw])
				semi[dw] = dv;
		}
	}
}

/* Step 1: the DFS, then classify.  Scratch: first[] in count until classify counts there, and
 * the DFS's bits in semi until semi starts.  Returns n. */
static uint32_t step1(const struct hs_snapshot *snap, const struct hs_analysis *a,
                      struct hs_graph_gate *roots_known, struct dfs_path path, uint32_t *parent,
                      uint32_t *semi, uint32_t *count)
{
	uint64_t nobj = snap->nobjects;
	uint32_t *dfn = a->idom;
	uint64_t *bits = (uint64_t *)semi; /* (n + 1) x 4 bytes hold (n + 63) / 64 words */
	memset(bits, 0, (nobj + 63) / 64 * sizeof(*bits));
	for (uint64_t i = 0; i < nobj; i++) {
		dfn[i] = HS_NONE;
		count[i] = snap->edge_start[i] < snap->edge_start[i + 1]
		               ? snap->edge_dst[snap->edge_start[i]]
		               : HS_NONE;
	}
	struct dfs s = {snap, snap->edge_start, snap->edge_dst, count, bits,
	                dfn,  parent,           path,           0,     roots_known};
	uint32_t n = dfs(&s, a);
	memset(count, 0, (nobj + 2) * sizeof(*count));
	for (uint32_t d = 1; d <= n; d++)
		semi[d] = parent[d];
	classify(snap, dfn, semi, count);
	return n;
}

/* Object i's memory (FORMAT.md §4.5), in a snapshot that gives it. */
static inline uint64_t memory_of(const struct hs_snapshot *snap, uint64_t i)
{
	return (uint64_t)((int64_t)snap->size[i] + snap->memory_delta[i]);
}

struct hs_error *hs_graph_dominators(const struct hs_snapshot *snap, struct hs_analysis *a,
                                     struct hs_graph_gate *roots_known)
{
	uint64_t nobj = snap->nobjects;
	/* The roots it starts from; depth not holding a result (its arrays are scratch here).  The
	 * garbage must be done with retained, its scratch: it ran before, or runs beside on scratch
	 * of its own (hs_analyze_early); it never runs after (hs_graph_garbage asserts it). */
	assert(a->nobjects == nobj && ((a->phases & HS_PHASE_ROOTS) || roots_known) &&
	       !(a->phases & (HS_PHASE_DOMINATORS | HS_PHASE_DEPTH)));
	uint32_t *dfn = a->idom;
	uint32_t *idom = (uint32_t *)a->retained + nobj + 1; /* the DFS parent until step 3 */
	struct forest *f = (struct forest *)a->parent_edge;
	uint32_t *semi = a->depth;
	uint32_t *count = hs_graph_alloc((nobj + 2) * sizeof(*count));
	if (!count)
		return &hs_error_nomem;

	struct dfs_path path = {(uint32_t *)a->parent_edge, (uint32_t *)a->parent_edge + nobj + 1,
	                        (uint32_t *)a->retained};
	uint32_t n = step1(snap, a, roots_known, path, idom, semi, count);
	for (uint32_t d = 1; d <= n; d++)
		f[d].anc = idom[d]; /* each vertex linked to its DFS parent once it is done */
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
	uint32_t ring[PIPE_RING];
	int64_t total = rev.start[n + 1];
	/* The last few predecessors enter the pipeline part way along. */
	for (int64_t i = total - 1; i >= 0 && i >= total - PIPE_STAGES * PIPE_GAP; i--)
		ring[i & (PIPE_RING - 1)] = rev.src[i];
	f[0].anc = f[0].best = 0; /* the virtual root, where the pipeline may climb */
	int64_t k = total - 1;
	for (uint32_t w = n; w >= 1; w--) {
		uint32_t best = semi[w];
		for (; k >= (int64_t)rev.start[w]; k--) {
			climb_ahead(f, rev.src, ring, k);
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
	 * idom by object in place of dfn.  vertex, the object of each number, goes in depth. */
	t0 = hs_graph_now();
	uint64_t *rd = a->parent_edge;
	uint32_t *vertex = a->depth; /* semi is done */
	for (uint64_t i = 0; i < nobj; i++) {
		if (i + HS_PREFETCH_AHEAD < nobj) {
			uint32_t ahead = dfn[i + HS_PREFETCH_AHEAD];
			if (ahead != HS_NONE) {
				__builtin_prefetch(&vertex[ahead], 1);
				__builtin_prefetch(&rd[ahead], 1);
			}
		}
		uint32_t d = dfn[i];
		if (d != HS_NONE) {
			vertex[d] = (uint32_t)i;
			rd[d] = snap->size[i];
		}
	}
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
	uint64_t *rm = a->retained_memory; /* by number until the retained sizes are placed */
	if (rm) {
		for (uint32_t d = 1; d <= n; d++)
			rm[d] = memory_of(snap, vertex[d]);
		for (uint32_t d = n; d >= 1; d--)
			if (idom[d])
				rm[idom[d]] += rm[d];
	}
	for (uint64_t i = 0; i < nobj; i++)
		a->retained[i] = snap->size[i]; /* idom, in its upper half, is done */
	for (uint32_t d = 1; d <= n; d++)
		a->retained[vertex[d]] = rd[d];
	if (rm) { /* by object, through rd, which is done too */
		memcpy(rd + 1, rm + 1, n * sizeof(*rd));
		for (uint64_t i = 0; i < nobj; i++)
			rm[i] = memory_of(snap, i);
		for (uint32_t d = 1; d <= n; d++)
			rm[vertex[d]] = rd[d];
	}
	a->t_retained = hs_graph_now() - t0;
	return NULL;
}
