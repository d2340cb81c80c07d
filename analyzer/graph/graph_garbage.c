/*
 * graph_garbage.c — GC garbage: the objects gc.collect() would find unreachable, computed as
 * CPython's collector does (Modules/gcmodule.c; capture/CPYTHON.md §7).
 *
 * The candidates C are the GC-tracked objects outside the permanent generation.  Each candidate's
 * gc_refs starts at its refcount; every traverse edge from a candidate to a candidate subtracts
 * one (update_refs, subtract_refs), except from an object whose traverse is opaque (its edges were
 * found by scanning memory): such an object subtracts nothing, so that a guessed edge can never
 * make a live object look dead.  The candidates left with gc_refs > 0 are referenced from outside
 * C, and so are immortal ones; everything they reach through candidates, over traverse edges (and
 * the scanned edges of opaque objects), is alive (move_unreachable).  The rest is garbage.
 * gc_refs is kept as min(refcount, 2^32 - 1) and stops at 0: it is only ever compared with 0,
 * and fewer than 2^32 - 1 edges cannot bring a saturated count down to 0.
 * Untracked objects are never garbage, and are never walked through: CPython does not look
 * inside them either.
 */
#include <assert.h>

#include "graph_internal.h"

/* unreachable[] holds each object's state during the walk. */
enum {
	NOT_CANDIDATE = 0,
	UNREACHED = 1, /* a candidate not (yet) known to be alive */
	REACHED = 2,
};

static bool is_candidate(const struct hs_snapshot *snap, uint64_t i)
{
	return (snap->flags[i] & HS_OBJ_GC) && snap->generation[i] != HS_GEN_PERMANENT;
}

/* Whether the collector would follow edge e of object i when propagating reachability. */
static bool follows(const struct hs_snapshot *snap, uint64_t i, uint64_t e)
{
	return snap->edge_kind[e] == HS_EDGE_TRAVERSE ||
	       (snap->edge_kind[e] == HS_EDGE_CONSERVATIVE &&
	        (snap->flags[i] & HS_OBJ_CONSERVATIVE_SCAN));
}

void hs_graph_garbage(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	uint64_t n = snap->nobjects;
	/* Its scratch (retained) is the dominators' output: they must not have run. */
	assert(a->nobjects == n && a->retained && a->unreachable &&
	       !(a->phases & (HS_PHASE_GARBAGE | HS_PHASE_DOMINATORS)));
	/* Scratch: retained as two arrays of n + 1 uint32. */
	uint32_t *gc_refs = (uint32_t *)a->retained;
	uint32_t *queue = gc_refs + n + 1;
	uint8_t *state = a->unreachable;

	for (uint64_t i = 0; i < n; i++) {
		state[i] = is_candidate(snap, i) ? UNREACHED : NOT_CANDIDATE;
		gc_refs[i] = snap->refcnt[i] > UINT32_MAX ? UINT32_MAX : (uint32_t)snap->refcnt[i];
	}
	for (uint64_t i = 0; i < n; i++) {
		if (state[i] == NOT_CANDIDATE || (snap->flags[i] & HS_OBJ_CONSERVATIVE_SCAN))
			continue;
		for (uint64_t e = snap->edge_start[i]; e < snap->edge_start[i + 1]; e++) {
			if (e + HS_PREFETCH_AHEAD < snap->nedges) {
				uint32_t ahead = snap->edge_dst[e + HS_PREFETCH_AHEAD];
				__builtin_prefetch(&state[ahead]);
				__builtin_prefetch(&gc_refs[ahead]);
			}
			uint32_t w = snap->edge_dst[e];
			if (snap->edge_kind[e] == HS_EDGE_TRAVERSE && state[w] != NOT_CANDIDATE &&
			    gc_refs[w])
				gc_refs[w]--;
		}
	}

	/* Postcondition of the loop below: every candidate reachable from one referenced from
	 * outside C is REACHED; the queue holds each REACHED object once. */
	uint64_t head = 0, tail = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (state[i] == UNREACHED &&
		    (gc_refs[i] > 0 || (snap->flags[i] & HS_OBJ_IMMORTAL))) {
			state[i] = REACHED;
			queue[tail++] = (uint32_t)i;
		}
	}
	while (head < tail) {
		hs_graph_prefetch_queue(snap, queue, head, tail, state, sizeof(*state), NULL, 0);
		uint32_t v = queue[head++];
		for (uint64_t e = snap->edge_start[v]; e < snap->edge_start[v + 1]; e++) {
			uint32_t w = snap->edge_dst[e];
			if (state[w] == UNREACHED && follows(snap, v, e)) {
				state[w] = REACHED;
				queue[tail++] = w;
			}
		}
	}

	a->ngarbage = 0;
	for (uint64_t i = 0; i < n; i++) {
		state[i] = state[i] == UNREACHED;
		a->ngarbage += state[i];
	}
}
