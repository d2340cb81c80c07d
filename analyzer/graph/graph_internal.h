/*
 * graph_internal.h — what the analyzer's graph phases (graph_*.c) share and nobody else uses.
 *
 * hs_analyze (graph_analyze.c) allocates every output array of struct hs_analysis with one
 * spare entry, starts scc in a second thread (its scratch is its own), and meanwhile runs roots,
 * garbage, dominators (with a reverse CSR), then depth.  A phase may use the output arrays of
 * later phases as scratch space; each phase's comment says which.  This is how the peak stays at
 * the result plus the reverse CSR and scc's 8 bytes per object.  hs_analyze_early runs roots,
 * then depth in the second thread into arrays of its own (the dominators use depth's as
 * scratch) beside garbage, or, when its callback reads the dominators, roots, garbage (with
 * scratch of its own) and depth in the second thread beside the dominators (which wait for the
 * roots only after the named ones); calls back, then starts scc and runs what is left.
 */
#ifndef HS_GRAPH_INTERNAL_H
#define HS_GRAPH_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "analysis.h"

/* The phases, as bits of hs_analysis.phases.  hs_analyze sets each once the phase has returned
 * (the components' once their thread is joined: hs_graph_scc reads no bit, the other thread
 * writes them meanwhile), and each phase asserts those it relies on: the arrays they fill, and
 * the scratch they have finished with. */
enum {
	HS_PHASE_ROOTS = 1,
	HS_PHASE_GARBAGE = 2,
	HS_PHASE_SCC = 4,
	HS_PHASE_DOMINATORS = 8,
	HS_PHASE_DEPTH = 16
};

/* The predecessors of the dominator DFS's vertices numbered above them, by DFS number (0 is the
 * virtual root, which has no entry here): they are src[start[d] .. start[d+1]) for vertex d.
 * Temporary: built for and freed by the dominators. */
struct hs_graph_reverse {
	uint32_t *start; /* n + 2 entries */
	uint32_t *src;   /* one per edge from a vertex */
};

/* ext_refs, is_root and nroots.  Uses no scratch. */
void hs_graph_roots(const struct hs_snapshot *snap, struct hs_analysis *a);
/* unreachable and ngarbage (CPython's collector, capture/CPYTHON.md §7).  Scratch: retained
 * only, so that it can run while hs_graph_scc does. */
void hs_graph_garbage(const struct hs_snapshot *snap, struct hs_analysis *a);
/* scc, scc_size and nsccs (Pearce's iterative algorithm).  Reads only the snapshot and writes
 * only those: its scratch is its own (8 bytes and 2 bits per object). */
struct hs_error *hs_graph_scc(const struct hs_snapshot *snap, struct hs_analysis *a);
/* The reverse CSR of the vertices numbered 1..n, dfn giving each object's number or HS_NONE,
 * from count[d + 1] = the number of predecessors numbered above d (n + 2 entries, owned by the
 * result from here on, freed also on failure). */
struct hs_error *hs_graph_reverse_build(const struct hs_snapshot *snap, const uint32_t *dfn,
                                        uint32_t n, uint32_t *count, struct hs_graph_reverse *ret);
void hs_graph_reverse_deinit(struct hs_graph_reverse *rev);
/* A one-way signal from one phase's thread to another's: closed until opened, once. */
struct hs_graph_gate {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool open;
};
#define HS_GRAPH_GATE_INIT                                                                         \
	{                                                                                          \
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false                         \
	}
void hs_graph_gate_open(struct hs_graph_gate *g);
void hs_graph_gate_wait(struct hs_graph_gate *g);

/* idom, retained and nreached (semi-NCA over the virtual root).  Scratch: retained, depth,
 * parent_edge, and for its DFS 12 bytes per object of its own, freed before the reverse CSR is
 * built.  Sets t_reverse and t_retained itself, the parts before and after the tree.
 * The roots must be known (HS_PHASE_ROOTS), or be on their way in another thread that opens
 * roots_known once is_root is filled: the search starts from the snapshot's named roots, which
 * need no analysis, and waits for the gate only before the roots it finds in is_root. */
struct hs_error *hs_graph_dominators(const struct hs_snapshot *snap, struct hs_analysis *a,
                                     struct hs_graph_gate *roots_known);
/* depth and parent_edge (breadth-first from every root at once). */
struct hs_error *hs_graph_depth(const struct hs_snapshot *snap, struct hs_analysis *a);

/* The roots in the order every phase visits them: the snapshot's named roots first, then every
 * object with is_root set (so named roots come twice; callers skip what they have seen).  Start
 * with *cursor = 0; returns HS_NONE when done. */
uint32_t hs_graph_next_root(const struct hs_snapshot *snap, const struct hs_analysis *a,
                            uint64_t *cursor);
/* How far ahead the sequential passes over the edges prefetch what they will touch. */
#define HS_PREFETCH_AHEAD 16

/* The prefetch helpers below are always_inline: GCC counts a function that only loads and
 * prefetches as having no side effects, and deletes a call to it that it did not inline,
 * prefetches and all.  The reads of a BFS or a DFS step do not depend on each other, so asking
 * for them together overlaps their cache misses instead of taking them one after another. */

/* For a BFS about to take queue[head] (the queue holds queue[head .. tail)): prefetches what the
 * objects a little further on in the queue will read, in three stages that each depend on what
 * the one before fetched, so that each stage's misses are over by the time the next needs them:
 * edge_start of queue[head + 24], the edges of queue[head + 12], and arr1[w] and arr2[w]
 * (elements of elem1 and elem2 bytes; arr2 may be NULL) for the first successors w of
 * queue[head + 4]. */
static inline __attribute__((always_inline)) void
hs_graph_prefetch_queue(const struct hs_snapshot *snap, const uint32_t *queue, uint64_t head,
                        uint64_t tail, const void *arr1, size_t elem1, const void *arr2,
                        size_t elem2)
{
	if (head + 24 < tail)
		__builtin_prefetch(&snap->edge_start[queue[head + 24]]);
	if (head + 12 < tail)
		__builtin_prefetch(&snap->edge_dst[snap->edge_start[queue[head + 12]]]);
	if (head + 4 < tail) {
		uint32_t u = queue[head + 4];
		uint64_t e = snap->edge_start[u], end = snap->edge_start[u + 1];
		for (uint64_t k = 0; e + k < end && k < 16; k++) {
			uint32_t w = snap->edge_dst[e + k];
			__builtin_prefetch((const char *)arr1 + (size_t)w * elem1);
			if (arr2)
				__builtin_prefetch((const char *)arr2 + (size_t)w * elem2);
		}
	}
}

/* For a DFS about to look at the edges edge_dst[e .. end) of an object: prefetches, for the first
 * few successors w, what a descent into w reads at once (edge_start[w] and first[w], each
 * object's first successor) and arr[w] (elements of elem bytes; arr may be NULL), which the DFS
 * looks at for w.  Fetched together, the misses cost one wait instead of several in a row. */
static inline __attribute__((always_inline)) void
hs_graph_prefetch_descent(const struct hs_snapshot *snap, const uint32_t *first, const void *arr,
                          size_t elem, uint64_t e, uint64_t end)
{
	for (uint64_t k = 0; e + k < end && k < 8; k++) {
		uint32_t w = snap->edge_dst[e + k];
		__builtin_prefetch(&snap->edge_start[w]);
		__builtin_prefetch(&first[w]);
		if (arr)
			__builtin_prefetch((const char *)arr + (size_t)w * elem);
	}
}

/* Bit i of a bitset, and setting it: the DFSs keep which objects they have seen in one, a bit per
 * object, small enough to stay in cache where an array of numbers would miss on every edge. */
static inline bool hs_graph_bit(const uint64_t *bits, uint64_t i)
{
	return bits[i >> 6] >> (i & 63) & 1;
}

static inline void hs_graph_bit_set(uint64_t *bits, uint64_t i)
{
	bits[i >> 6] |= 1ull << (i & 63);
}

/* malloc for the large per-object arrays: 2 MiB aligned and advised to use transparent huge
 * pages when at least that big (free() releases it).  graph_alloc.c. */
void *hs_graph_alloc(size_t bytes);
/* Asks the kernel to back the whole huge pages of [p, p + bytes) by huge pages now (advice only;
 * the contents stay as they are).  graph_alloc.c. */
void hs_graph_collapse(const void *p, size_t bytes);
/* The calling thread's CPU time in seconds (what hs_analysis's phase times count). */
static inline double hs_graph_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
