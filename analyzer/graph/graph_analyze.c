/*
 * graph_analyze.c — hs_analyze: runs the graph phases over a snapshot in the order
 * graph_internal.h gives (each phase may use later phases' outputs as scratch), times them and
 * reports progress.  The entry point the store and the CLI call; hs_analyze_early the same with
 * a callback halfway, once roots, garbage and depth are known (a first answer's `summary`);
 * depth's result is copied aside while the dominators use its arrays as scratch.
 *
 * The components need nothing the roots and the garbage compute, and the three write disjoint
 * arrays, so the components run in a second thread meanwhile (the machine this is made for has
 * two cores; where a thread cannot be started, everything runs in this one).  First, the
 * snapshot's edge arrays are moved to huge pages (MADV_COLLAPSE), since every phase reads them
 * at random (hs_graph_collapse); hs_graph_alloc gives the analysis's own large arrays huge pages
 * from the start (both in graph_alloc.c).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

void hs_analysis_destroy(struct hs_analysis *a)
{
	if (!a)
		return;
	void *arrays[] = {a->ext_refs, a->is_root,  a->unreachable,     a->scc,   a->scc_size,
	                  a->idom,     a->retained, a->retained_memory, a->depth, a->parent_edge};
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		free(arrays[i]);
	free(a);
}

struct hs_error *hs_analyze_roots(const struct hs_snapshot *snap, struct hs_analysis **ret)
{
	struct hs_analysis *a = calloc(1, sizeof(*a));
	if (!a)
		return &hs_error_nomem;
	a->nobjects = snap->nobjects;
	a->ext_refs = hs_graph_alloc((snap->nobjects + 1) * sizeof(*a->ext_refs));
	a->is_root = hs_graph_alloc(snap->nobjects + 1);
	if (!a->ext_refs || !a->is_root) {
		hs_analysis_destroy(a);
		return &hs_error_nomem;
	}
	double t = hs_graph_now();
	hs_graph_roots(snap, a);
	a->phases |= HS_PHASE_ROOTS;
	a->t_roots = hs_graph_now() - t;
	*ret = a;
	return NULL;
}

struct scc_job {
	const struct hs_snapshot *snap;
	struct hs_analysis *a;
	struct hs_error *err;
	pthread_t thread;
	bool threaded;
};

static void *scc_thread(void *arg)
{
	struct scc_job *job = arg;
	double t = hs_graph_now();
	job->err = hs_graph_scc(job->snap, job->a);
	job->a->t_scc = hs_graph_now() - t;
	return NULL;
}

/* Starts the components in a second thread (where none can be started, runs them now). */
static void scc_start(struct scc_job *job)
{
	job->threaded = pthread_create(&job->thread, NULL, scc_thread, job) == 0;
	if (!job->threaded)
		scc_thread(job);
}

/* Waits for the components; to be called once whatever happened meanwhile. */
static struct hs_error *scc_finish(struct scc_job *job)
{
	if (job->threaded)
		pthread_join(job->thread, NULL);
	if (!job->err)
		job->a->phases |= HS_PHASE_SCC;
	return job->err;
}

static void report(hs_progress_fn *progress, void *arg, const char *phase, double fraction)
{
	if (progress)
		progress(arg, phase, fraction);
}
/* The result of hs_analyze with every output array allocated (not filled), or NULL when out of
 * memory.  One spare entry each: the dominators keep arrays indexed 0..n by DFS number in them. */
static struct hs_analysis *alloc_result(const struct hs_snapshot *snap)
{
	uint64_t n = snap->nobjects;
	struct hs_analysis *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->nobjects = n;
	a->ext_refs = hs_graph_alloc((n + 1) * sizeof(*a->ext_refs));
	a->is_root = hs_graph_alloc(n + 1);
	a->unreachable = hs_graph_alloc(n + 1);
	a->scc = hs_graph_alloc((n + 1) * sizeof(*a->scc));
	a->scc_size = hs_graph_alloc((n + 1) * sizeof(*a->scc_size));
	a->idom = hs_graph_alloc((n + 1) * sizeof(*a->idom));
	a->retained = hs_graph_alloc((n + 1) * sizeof(*a->retained));
	if (snap->has_memory)
		a->retained_memory = hs_graph_alloc((n + 1) * sizeof(*a->retained_memory));
	a->depth = hs_graph_alloc((n + 1) * sizeof(*a->depth));
	a->parent_edge = hs_graph_alloc((n + 1) * sizeof(*a->parent_edge));
	if (!a->ext_refs || !a->is_root || !a->unreachable || !a->scc || !a->scc_size || !a->idom ||
	    !a->retained || (snap->has_memory && !a->retained_memory) || !a->depth ||
	    !a->parent_edge) {
		hs_analysis_destroy(a);
		return NULL;
	}
	return a;
}

static void roots_garbage(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	double t = hs_graph_now();
	hs_graph_roots(snap, a);
	a->phases |= HS_PHASE_ROOTS;
	a->t_roots = hs_graph_now() - t;
	t = hs_graph_now();
	hs_graph_garbage(snap, a);
	a->phases |= HS_PHASE_GARBAGE;
	a->t_garbage = hs_graph_now() - t;
}

static struct hs_error *depth(const struct hs_snapshot *snap, struct hs_analysis *a,
                              hs_progress_fn *progress, void *progress_arg)
{
	double t = hs_graph_now();
	report(progress, progress_arg, "depth", 0);
	struct hs_error *err = hs_graph_depth(snap, a);
	if (err)
		return err;
	a->phases |= HS_PHASE_DEPTH;
	a->t_depth += hs_graph_now() - t;
	report(progress, progress_arg, "depth", 1);
	return NULL;
}

/* hs_analyze_early's first stage: depth, then early. */
static struct hs_error *early_stage(const struct hs_snapshot *snap, struct hs_analysis *a,
                                    hs_progress_fn *progress, void *progress_arg,
                                    hs_early_fn *early, void *early_arg)
{
	struct hs_error *err = depth(snap, a, progress, progress_arg);
	if (!err)
		err = early(early_arg, a);
	return err;
}

/* What the dominators overwrite of depth's result (they use its arrays as scratch), kept aside
 * so that hs_analyze_early need not run depth again (a copy costs a few percent of a depth):
 * parent_edge in 32 bits, UINT32_MAX for none (edge indexes fit, hs_analyze checks). */
struct depth_copy {
	uint32_t *depth, *parent_edge;
};

/* Copies depth and parent_edge aside, or leaves copy empty when out of memory (then depth runs
 * again after the dominators). */
static void depth_save(const struct hs_analysis *a, struct depth_copy *copy)
{
	size_t n = a->nobjects;
	copy->depth = hs_graph_alloc(n * sizeof(*copy->depth));
	copy->parent_edge = hs_graph_alloc(n * sizeof(*copy->parent_edge));
	if (copy->depth && copy->parent_edge) {
		memcpy(copy->depth, a->depth, n * sizeof(*a->depth));
		for (size_t i = 0; i < n; i++)
			copy->parent_edge[i] = a->parent_edge[i] == UINT64_MAX
			                           ? UINT32_MAX
			                           : (uint32_t)a->parent_edge[i];
		return;
	}
	free(copy->depth);
	free(copy->parent_edge);
	copy->depth = copy->parent_edge = NULL;
}

/* Puts depth's result back after the dominators (when it was saved) and frees the copy; a second
 * call does nothing. */
static void depth_restore(struct hs_analysis *a, struct depth_copy *copy)
{
	if (copy->depth) {
		memcpy(a->depth, copy->depth, a->nobjects * sizeof(*a->depth));
		for (size_t i = 0; i < a->nobjects; i++)
			a->parent_edge[i] =
			    copy->parent_edge[i] == UINT32_MAX ? UINT64_MAX : copy->parent_edge[i];
		a->phases |= HS_PHASE_DEPTH;
	}
	free(copy->depth);
	free(copy->parent_edge);
	copy->depth = copy->parent_edge = NULL;
}

/* The dominators, then depth's result: put back from copy when hs_analyze_early saved it, else
 * computed. */
static struct hs_error *dominators_depth(const struct hs_snapshot *snap, struct hs_analysis *a,
                                         hs_progress_fn *progress, void *progress_arg,
                                         struct depth_copy *copy)
{
	double t = hs_graph_now();
	report(progress, progress_arg, "dominators", 0);
	struct hs_error *err = hs_graph_dominators(snap, a);
	if (err)
		return err;
	a->phases |= HS_PHASE_DOMINATORS;
	a->t_dominators = hs_graph_now() - t - a->t_reverse - a->t_retained;
	depth_restore(a, copy);
	if (a->phases & HS_PHASE_DEPTH)
		return NULL;
	return depth(snap, a, progress, progress_arg);
}

struct hs_error *hs_analyze(const struct hs_snapshot *snap, hs_progress_fn *progress,
                            void *progress_arg, struct hs_analysis **ret)
{
	return hs_analyze_early(snap, progress, progress_arg, NULL, NULL, ret);
}

struct hs_error *hs_analyze_early(const struct hs_snapshot *snap, hs_progress_fn *progress,
                                  void *progress_arg, hs_early_fn *early, void *early_arg,
                                  struct hs_analysis **ret)
{
	uint64_t n = snap->nobjects;
	if (n >= HS_NONE || snap->nedges >= UINT32_MAX)
		return hs_error_create(
		    HS_ERROR_FORMAT,
		    "%s: %llu objects and %llu edges: the analysis handles fewer "
		    "than 2^32 - 1 of each",
		    snap->path, (unsigned long long)n, (unsigned long long)snap->nedges);
	struct hs_analysis *a = alloc_result(snap);
	if (!a)
		return &hs_error_nomem;

	/* Every phase reads the snapshot's edges at random, object by object: with 4 KiB pages
	 * (the reader's arrays are plain heap memory) each of those reads also misses the TLB.
	 * Collapsing them into huge pages costs about 10 ms per 100 MB copied and saves several
	 * times that in each walk. */
	hs_graph_collapse(snap->edge_start, (n + 1) * sizeof(*snap->edge_start));
	hs_graph_collapse(snap->edge_dst, snap->nedges * sizeof(*snap->edge_dst));
	hs_graph_collapse(snap->edge_kind, snap->nedges * sizeof(*snap->edge_kind));

	/* The components read only the snapshot and write only scc and scc_size: they run beside
	 * everything else. */
	struct scc_job job = {.snap = snap, .a = a};
	scc_start(&job);
	report(progress, progress_arg, early ? "roots, garbage, depth" : "roots, garbage", 0);
	roots_garbage(snap, a);
	struct hs_error *err = NULL;
	struct depth_copy copy = {NULL, NULL};
	if (early && !(err = early_stage(snap, a, progress, progress_arg, early, early_arg))) {
		depth_save(a, &copy);
		a->phases &= ~(unsigned)HS_PHASE_DEPTH;
	}
	if (!err)
		err = dominators_depth(snap, a, progress, progress_arg, &copy);
	depth_restore(a, &copy); /* frees the copy on failure */
	struct hs_error *scc_err = scc_finish(&job);
	if (!err)
		err = scc_err;
	if (err)
		goto fail;
	*ret = a;
	return NULL;

fail:
	hs_analysis_destroy(a);
	return err;
}
