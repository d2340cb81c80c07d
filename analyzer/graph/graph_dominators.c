/*
 * graph_dominators.c — the dominator tree over a virtual root whose children are all the roots,
 * by the semi-NCA algorithm (Georgiadis; LLVM's GenericDomTreeConstruction does the same), and the
 * retained sizes that follow from it.  Strong edges of every kind count; weak links are not edges.
 *
 * Steps, each a loop (no recursion: a chain of a million objects is a DFS path a million long):
 *  1. DFS from the virtual root (number 0), numbering objects 1..n in preorder, successors in
 *     edge order; parent[d] is the DFS tree parent.  Objects the DFS does not reach keep dfn
 *     HS_NONE.  The DFS is a chain of cache misses, each step waiting for the last, so it reads
 *     as little as it can: whether a successor is new comes from a bitset that stays in cache
 *     (not from dfn), and each object's first three successors (or two and where its others
 *     start) are copied beforehand, in one pass in order over the edges, into a record of 12
 *     bytes per object (struct dfs_rec), so that entering an object or coming back to it waits
 *     for one record instead of edge_start and then the edges, two misses in a row.  The DFS path
 *     is an explicit stack holding, by depth, the vertices with successors left to look at
 *     (number, and record slot or next edge; see struct dfs_path), so that going back up it
 *     reads memory in order, prefetched a few levels ahead.  Then a pass over every edge in
 *     object order (classify), whose random lookups are prefetched, starts the
 *     semidominators: semi[w] = the least of parent[w] and of the predecessors numbered below
 *     w; and counts the predecessors numbered above w, which go to the reverse CSR.
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
 * 2 x (n+1) uint32); semi in depth.  During the DFS, the path's d and x (struct dfs_path) are
 * in parent_edge (2 x (n+1) uint32), its y in the lower half of retained and its bits (two
 * per object) in depth; the records are scratch of its own (12 bytes per object, freed before
 * classify allocates the reverse CSR's count array, so that the DFS's memory stays below the
 * peak, which comes later); after it, parent_edge holds the forest's anc/best pairs.  Step 4
 * puts the object of each number (vertex, the inverse of dfn) in depth and the retained sizes
 * by number in parent_edge.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* How many levels above the top the DFS prefetches where it will look next (a record or an
 * edge), going back up. */
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

/* An object's record for the DFS: its first three successors in edge order (HS_NONE past its
 * last), so that entering an object or coming back to it reads one record instead of
 * edge_start and then the edges, two misses in a row.  An object with more than three (a long
 * one, marked in the DFS's bitset) has its first two, then the index of its third edge: the DFS
 * reads its edges from there on, with edge_start of the next object for their end.  12 bytes,
 * not 16 with the edge index of the fourth: at 16 the DFS's memory went past the peak of the
 * later steps (bench_analyze, 10M objects, 3 edges each). */
struct dfs_rec {
	uint32_t succ[3];
};

/* The DFS path, by depth: the vertices with successors left to look at (a vertex whose last
 * successor is entered leaves the path), each as its number d and where to look next, x and y:
 * either object x's record from slot y (y <= 2; slot 2 of a long object is its edges from the
 * third on), or its edges x .. y (y > 2: a long object has at least four, so its end edge is at
 * least 4), x < y.  The entries of the path sit side by side, so returning up the path reads
 * memory in order and can be prefetched, where a step up the parent[] chain would be a cache
 * miss each. */
struct dfs_path {
	uint32_t *d, *x, *y;
};

/* What the DFS reads and writes. */
struct dfs {
	const uint64_t *edge_start;
	const uint32_t *edge_dst;
	const struct dfs_rec *rec;
	/* Two bits per object, side by side: bit 2v, object v is numbered; bit 2v + 1, v is long.
	 * Entering v sets the first, so reading the second then costs nothing. */
	uint64_t *bits;
	uint32_t *dfn, *parent;
	struct dfs_path path;
	uint32_t n;
	struct hs_graph_gate *roots_known; /* NULL once is_root is filled */
};

static inline bool numbered(const struct dfs *s, uint32_t v)
{
	return hs_graph_bit(s->bits, 2 * (uint64_t)v);
}

static inline bool is_long(const struct dfs *s, uint32_t v)
{
	return hs_graph_bit(s->bits, 2 * (uint64_t)v + 1);
}

static inline void keep(struct dfs *s, uint32_t *depth, uint32_t d, uint32_t x, uint32_t y)
{
	s->path.d[*depth] = d;
	s->path.x[*depth] = x;
	s->path.y[*depth] = y;
	(*depth)++;
}

/* The first new successor of vertex d among its object's edges e .. end (past its record), or
 * HS_NONE; keeps the edges after it on the path at *depth, and prefetches the records of the
 * first few, which the DFS may enter when it comes back. */
static inline uint32_t next_edge(struct dfs *s, uint32_t *depth, uint32_t d, uint32_t e,
                                 uint32_t end)
{
	for (; e < end; e++) {
		uint32_t x = s->edge_dst[e];
		if (numbered(s, x))
			continue;
		if (e + 1 < end) {
			keep(s, depth, d, e + 1, end);
			for (uint32_t k = e + 1; k < end && k < e + 9; k++)
				__builtin_prefetch(&s->rec[s->edge_dst[k]]);
		}
		return x;
	}
	return HS_NONE;
}

/* The first new successor of vertex d (object w) from slot k of its record on, or HS_NONE; keeps
 * where to look after it on the path at *depth, if there is anything left, and prefetches the
 * records of the record's successors after it, which the DFS may enter when it comes back. */
static inline uint32_t next_in_record(struct dfs *s, uint32_t *depth, uint32_t d, uint32_t w,
                                      uint32_t k)
{
	const struct dfs_rec *r = &s->rec[w];
	bool lng = is_long(s, w);
	uint32_t slots = lng ? 2 : 3;
	for (; k < slots && r->succ[k] != HS_NONE; k++) {
		uint32_t x = r->succ[k];
		if (numbered(s, x))
			continue;
		if (lng || (k < 2 && r->succ[k + 1] != HS_NONE)) {
			keep(s, depth, d, w, k + 1);
			for (uint32_t j = k + 1; j < slots && r->succ[j] != HS_NONE; j++)
				__builtin_prefetch(&s->rec[r->succ[j]]);
		}
		return x;
	}
	if (!lng)
		return HS_NONE;
	return next_edge(s, depth, d, r->succ[2], (uint32_t)s->edge_start[w + 1]);
}

/* Numbers w, a successor of vertex pd (0: w is a root), and goes on down: as long as the new
 * vertex has a new successor, numbers that one too.  A step down waits for one record.  Returns
 * the new depth. */
static uint32_t enter(struct dfs *s, uint32_t depth, uint32_t pd, uint32_t w)
{
	do {
		hs_graph_bit_set(s->bits, 2 * (uint64_t)w);
		s->dfn[w] = ++s->n;
		s->parent[s->n] = pd;
		pd = s->n;
		if (is_long(s, w)) { /* its other edges, which it may need next */
			__builtin_prefetch(&s->edge_dst[s->rec[w].succ[2]]);
			__builtin_prefetch(&s->edge_start[w + 1]);
		}
		w = next_in_record(s, &depth, pd, w, 0);
	} while (w != HS_NONE);
	return depth;
}

/* Step 1, the DFS: fills dfn and parent; returns n.  Whether a successor is new comes from
 * bits, which stay in cache, so that the DFS path waits only for records. */
static uint32_t dfs(struct dfs *s, const struct hs_analysis *a, const struct hs_snapshot *snap)
{
	const struct dfs_path path = s->path;
	uint64_t rc = 0;
	for (;;) {
		if (rc == snap->nroots && s->roots_known) { /* the named roots are done */
			hs_graph_gate_wait(s->roots_known);
			s->roots_known = NULL;
		}
		uint32_t r = hs_graph_next_root(snap, a, &rc);
		if (r == HS_NONE)
			break;
		if (numbered(s, r))
			continue;
		for (uint32_t depth = enter(s, 0, 0, r); depth;) {
			depth--;
			/* Where the path will go back to. */
			if (depth >= PATH_AHEAD) {
				uint32_t k = depth - PATH_AHEAD;
				if (path.y[k] <= 2)
					__builtin_prefetch(&s->rec[path.x[k]]);
				else
					__builtin_prefetch(&s->edge_dst[path.x[k]]);
			}
			uint32_t d = path.d[depth], x = path.x[depth], y = path.y[depth];
			uint32_t w = y <= 2 ? next_in_record(s, &depth, d, x, y)
			                    : next_edge(s, &depth, d, x, y);
			if (w != HS_NONE)
				depth = enter(s, depth, d, w);
		}
	}
	return s->n;
}

/* Each object's DFS record, and its long bit (bits is zeroed), in one pass in order over the
 * edges. */
static void fill_records(const struct hs_snapshot *snap, struct dfs_rec *rec, uint64_t *bits)
{
	const uint64_t *edge_start = snap->edge_start;
	const uint32_t *edge_dst = snap->edge_dst;
	for (uint64_t i = 0; i < snap->nobjects; i++) {
		uint64_t e = edge_start[i], end = edge_start[i + 1];
		struct dfs_rec r;
		for (uint64_t k = 0; k < 3; k++)
			r.succ[k] = e + k < end ? edge_dst[e + k] : HS_NONE;
		if (end - e > 3) {
			r.succ[2] = (uint32_t)(e + 2);
			hs_graph_bit_set(bits, 2 * i + 1);
		}
		rec[i] = r;
	}
}

/* Step 1's DFS, on records of its own (12 bytes per object, freed before it returns) and the
 * bits in semi.  Sets *n. */
static struct hs_error *number(const struct hs_snapshot *snap, const struct hs_analysis *a,
                               struct hs_graph_gate *roots_known, struct dfs_path path,
                               uint32_t *parent, uint32_t *semi, uint32_t *n)
{
	uint64_t nobj = snap->nobjects;
	struct dfs_rec *rec = hs_graph_alloc(nobj * sizeof(*rec));
	if (!rec)
		return &hs_error_nomem;
	uint64_t *bits = (uint64_t *)semi; /* (n + 1) x 4 bytes hold (n + 31) / 32 words */
	memset(bits, 0, (nobj + 31) / 32 * sizeof(*bits));
	fill_records(snap, rec, bits);
	for (uint64_t i = 0; i < nobj; i++)
		a->idom[i] = HS_NONE; /* dfn */
	struct dfs s = {snap->edge_start, snap->edge_dst, rec, bits,       a->idom,
	                parent,           path,           0,   roots_known};
	*n = dfs(&s, a, snap);
	free(rec);
	return NULL;
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

/* Step 1: the DFS, which sets *n, then classify, into *count (allocated here, n + 2 entries). */
static struct hs_error *step1(const struct hs_snapshot *snap, const struct hs_analysis *a,
                              struct hs_graph_gate *roots_known, struct dfs_path path,
                              uint32_t *parent, uint32_t *semi, uint32_t **count, uint32_t *n)
{
	struct hs_error *err = number(snap, a, roots_known, path, parent, semi, n);
	if (err)
		return err;
	*count = hs_graph_alloc((snap->nobjects + 2) * sizeof(**count));
	if (!*count)
		return &hs_error_nomem;
	memset(*count, 0, (snap->nobjects + 2) * sizeof(**count));
	for (uint32_t d = 1; d <= *n; d++)
		semi[d] = parent[d];
	classify(snap, a->idom, semi, *count);
	return NULL;
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
	struct dfs_path path = {(uint32_t *)a->parent_edge, (uint32_t *)a->parent_edge + nobj + 1,
	                        (uint32_t *)a->retained};
	uint32_t *count, n;
	struct hs_error *err = step1(snap, a, roots_known, path, idom, semi, &count, &n);
	if (err)
		return err;
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
	err = hs_graph_reverse_build(snap, dfn, n, count, &rev);
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
