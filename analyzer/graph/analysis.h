/*
 * analysis.h — the graph analyses of a snapshot (analyzer/graph/), as per-object arrays.
 *
 * Input is a struct hs_snapshot (dumpfmt/hsnap.h); output is struct hs_analysis, which the store
 * (store.c) writes into the objects table's computed columns.  Definitions are DESIGN.md's
 * "Semantics": garbage over traverse edges only; dominators, retained sizes, depth and paths over
 * strong edges of every kind; weak links never.  Every algorithm is iterative: heaps hold chains of
 * millions of objects.
 *
 * Objects that no root reaches (GC garbage among them) have idom = HS_NONE,
 * depth = HS_NONE, parent_edge = UINT64_MAX and retained = their own size: nothing reachable
 * from the roots retains them, and what they keep alive is not attributed to them.
 *
 * Memory: the result holds 42 bytes per object.  While it runs, hs_analyze also needs a reverse
 * CSR of the dominator DFS (4 bytes per object, and 4 per edge that goes back or across the DFS
 * tree); the other working arrays live in output arrays that are not yet filled, so the peak is
 * the result plus that reverse CSR.  Referrers come from the snapshot's edges (the store's edges
 * table), not from here.  The components are found in a second thread while the roots and the
 * garbage are computed.  A snapshot with 2^32 - 1 objects or edges or more is refused.
 */
#ifndef HS_ANALYSIS_H
#define HS_ANALYSIS_H

#include "hsnap.h"

#define HS_NONE UINT32_MAX /* "no object" in the uint32_t index arrays below */

struct hs_analysis {
	uint64_t nobjects;

	int64_t *ext_refs;    /* refcount minus traverse and owned edges into i; 0 for immortals */
	uint8_t *is_root;     /* 1 when i is a root (DESIGN.md's definition) */
	uint8_t *unreachable; /* 1 for GC garbage: what gc.collect() would free */
	uint32_t *scc;        /* strongly connected component id (strong edges of every kind),
	                         0 .. nsccs-1, sinks first (reverse topological order) */
	uint32_t *scc_size;   /* number of objects in i's component */
	uint32_t *idom;       /* immediate dominator, HS_NONE when it is the virtual root or i is
	                         unreachable from every root */
	uint64_t *retained; /* retained size: sum of sizes of the objects i dominates, i included */
	uint64_t *retained_memory; /* the same sum of their memory (FORMAT.md §4.5); NULL when the
	                              snapshot gives no memory */
	uint32_t *depth; /* length of i's path: BFS distance from the nearest root of the first
	                    tier that reaches i (module-level roots, then other named roots,
	                    then unnamed ones; graph_depth.c); HS_NONE when no root reaches i */
	uint64_t
	    *parent_edge; /* the edge into i on a shortest path from a root, UINT64_MAX if none */

	/* Counts: roots, GC garbage objects, components, objects some root reaches. */
	uint64_t nroots, ngarbage, nsccs, nreached;
	unsigned phases; /* the phases that have filled their arrays (graph_internal.h) */

	/* CPU seconds spent per phase, for the benchmark table: the same as wall time on an idle
	 * machine and steady on a busy one.  t_reverse is the reverse CSR the dominators need,
	 * t_roots external references and roots. */
	double t_roots, t_reverse, t_scc, t_garbage, t_dominators, t_retained, t_depth;
};

/* Progress callback: phase name and fraction done (0..1); may be NULL. */
typedef void hs_progress_fn(void *arg, const char *phase, double fraction);

/* Runs every analysis.  The result is owned by the caller (hs_analysis_destroy). */
struct hs_error *hs_analyze(const struct hs_snapshot *snap, hs_progress_fn *progress,
                            void *progress_arg, struct hs_analysis **ret);
/* The same, calling early(early_arg, a) as soon as ext_refs, is_root, unreachable, depth and
 * parent_edge are filled, with nroots and ngarbage, and at HS_EARLY_DOMINATORS idom, retained,
 * retained_memory and nreached too (the other arrays hold scratch or nothing yet): for an answer
 * that needs no more, printed before the rest is computed.  Nothing it does not read runs before
 * it (the components start after it: early must not read scc, scc_size or nsccs); the depths
 * are computed in a second thread beside the garbage, or with the roots and the garbage beside
 * the dominators (at HS_EARLY_DOMINATORS, whose search starts from the named roots meanwhile),
 * into arrays of their own (12 bytes per object more at the peak).  An error from early ends the
 * analysis with it. */
typedef struct hs_error *hs_early_fn(void *arg, const struct hs_analysis *a);
enum hs_early_at { HS_EARLY_DEPTH, HS_EARLY_DOMINATORS };
struct hs_error *hs_analyze_early(const struct hs_snapshot *snap, hs_progress_fn *progress,
                                  void *progress_arg, hs_early_fn *early, void *early_arg,
                                  enum hs_early_at at, struct hs_analysis **ret);
void hs_analysis_destroy(struct hs_analysis *a);
/* Only the roots: ext_refs, is_root and nroots as hs_analyze gives them, every other array NULL
 * (9 bytes per object), for an export that leaves the graph work to its reader (`heapsnap export
 * --format devtools`).  Destroy with hs_analysis_destroy. */
struct hs_error *hs_analyze_roots(const struct hs_snapshot *snap, struct hs_analysis **ret);

/* The deep size of object x (DESIGN.md): the sum of sizes of every object reachable from x by
 * strong edges, each once, not entering type objects (of any metaclass), modules or modules'
 * namespace dicts unless x is one (SCHEMA.md, hs_deep_size, says how each is recognised).
 * Those are neither counted nor followed. */
struct hs_error *hs_deep_size(const struct hs_snapshot *snap, uint64_t x, uint64_t *ret);
/* The memory (FORMAT.md §4.5) of the same objects, in a snapshot that gives it. */
struct hs_error *hs_deep_memory(const struct hs_snapshot *snap, uint64_t x, uint64_t *ret);

/* The source object of edge e (binary search over edge_start). */
uint32_t hs_graph_edge_source(const struct hs_snapshot *snap, uint64_t e);

/* The labelled shortest path from a root to x, as DESIGN.md prints it
 * ("sys.modules['app'].__dict__['cache']['users'][3]"); malloc'd, caller frees.  *ret is NULL
 * when no root reaches x.  The root is printed as its name in the snapshot's roots, or
 * "<TYPE at 0xADDR>" when it has none; an edge without a label prints as "-><TYPE at 0xADDR>"
 * of the object it leads to. */
struct hs_error *hs_path_text(const struct hs_snapshot *snap, const struct hs_analysis *a,
                              uint64_t x, char **ret);

#endif
