/*
 * analysis.h — the graph analyses of a snapshot (analyzer/graph*.c), as per-object arrays.
 *
 * Input is a struct hs_snapshot (dumpfmt/hsnap.h); output is struct hs_analysis, which the store
 * (store.c) writes into the objects table's computed columns.  Definitions are DESIGN.md's
 * "Semantics": garbage over traverse edges only; dominators, retained sizes, depth and paths over
 * strong edges of every kind; weak links never.  Every algorithm is iterative: heaps hold chains of
 * millions of objects.
 */
#ifndef HS_ANALYSIS_H
#define HS_ANALYSIS_H

#include "hsnap.h"

#define HS_NONE UINT32_MAX /* "no object" in the uint32_t index arrays below */

struct hs_analysis {
	uint64_t nobjects;
	/* Reverse CSR over strong edges: the edges into object i are
	 * rev_edge[rev_start[i] .. rev_start[i+1]), each an edge index into the snapshot's arrays
	 * (so its source is found with rev_src). */
	uint64_t *rev_start;
	uint64_t *rev_edge;
	uint32_t *rev_src;

	int64_t *ext_refs;    /* refcount minus traverse and owned edges into i; 0 for immortals */
	uint8_t *is_root;     /* 1 when i is a root (DESIGN.md's definition) */
	uint8_t *unreachable; /* 1 for GC garbage: what gc.collect() would free */
	uint32_t *scc;        /* strongly connected component id (strong edges of every kind) */
	uint32_t *scc_size;   /* number of objects in i's component */
	uint32_t *idom;       /* immediate dominator, HS_NONE when it is the virtual root or i is
				 unreachable from every root */
	uint64_t *retained;   /* retained size: sum of sizes of the objects i dominates, i included */
	uint32_t *depth;      /* BFS distance from the nearest root, HS_NONE when no root reaches i */
	uint64_t *parent_edge; /* the edge into i on a shortest path from a root, UINT64_MAX if none */

	/* Seconds spent per phase, for progress and the benchmark table. */
	double t_reverse, t_scc, t_garbage, t_dominators, t_retained, t_depth;
};

/* Progress callback: phase name and fraction done (0..1); may be NULL. */
typedef void hs_progress_fn(void *arg, const char *phase, double fraction);

/* Runs every analysis.  The result is owned by the caller (hs_analysis_destroy). */
struct hs_error *hs_analyze(const struct hs_snapshot *snap, hs_progress_fn *progress,
			    void *progress_arg, struct hs_analysis **ret);
void hs_analysis_destroy(struct hs_analysis *a);

/* The deep size of object x (DESIGN.md): the sum of sizes of every object reachable from x by
 * strong edges, each once, not entering type objects or modules unless x is one. */
struct hs_error *hs_deep_size(const struct hs_snapshot *snap, uint64_t x, uint64_t *ret);

/* The labelled shortest path from a root to x, as DESIGN.md prints it
 * ("sys.modules['app'].__dict__['cache']['users'][3]"); malloc'd, caller frees.  *ret is NULL
 * when no root reaches x. */
struct hs_error *hs_path_text(const struct hs_snapshot *snap, const struct hs_analysis *a,
			      uint64_t x, char **ret);

#endif
