/*
 * graph_analyze.c — hs_analyze: runs the graph phases over a snapshot in the order
 * graph_internal.h gives (each phase may use later phases' outputs as scratch), times them and
 * reports progress.  The entry point the store and the CLI call; hs_analyze_early the same with
 * a callback (a first answer) as soon as what it reads is known: the roots, the garbage and the
 * depths (`summary`), or those and the dominators (`top --by retained`, `path`, `show`).
 *
 * The machine this is made for has two cores; where a thread cannot be started, everything runs
 * in this one.  hs_analyze runs the components in a second thread beside everything else (they
 * need nothing the other phases compute, and write disjoint arrays).  hs_analyze_early runs
 * nothing its answer does not read before it, and the components only after the answer: for
 * `summary`, the depths in the second thread beside the garbage; for an answer that reads the
 * dominators, the roots, the garbage and then the depths in the second thread beside the
 * dominators, which stand alone before the answer (the longest phase): their search starts from
 * the snapshot's named roots at once and waits for the roots phase (a gate) only before the
 * roots it finds in is_root.  What runs beside the dominators has arrays of its own, since they
 * use depth's and retained (the garbage's scratch) as scratch.
 * First, the snapshot's edge arrays are moved
 * to huge pages (MADV_COLLAPSE) where the reader did not get them, since every phase reads them
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

static void roots(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	double t = hs_graph_now();
	hs_graph_roots(snap, a);
	a->phases |= HS_PHASE_ROOTS;
	a->t_roots = hs_graph_now() - t;
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
	roots(snap, a);
	*ret = a;
	return NULL;
}

void hs_graph_gate_open(struct hs_graph_gate *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

void hs_graph_gate_wait(struct hs_graph_gate *g)
{
	pthread_mutex_lock(&g->lock);
	while (!g->open)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

/* A phase run in a second thread (where none can be started, in this one at once): run fills
 * a's arrays and sets its phase bit once joined, t gets its CPU time.  A run that computes the
 * roots opens roots_known once they are (another thread's dominators wait for it). */
struct phase_job {
	struct hs_error *(*run)(struct phase_job *job);
	const struct hs_snapshot *snap;
	struct hs_analysis *a;
	unsigned phase;
	double *t;
	struct hs_graph_gate *roots_known;
	struct hs_error *err;
	pthread_t thread;
	bool started, threaded;
};

static void *job_thread(void *arg)
{
	struct phase_job *job = arg;
	double t = hs_graph_now();
	job->err = job->run(job);
	*job->t = hs_graph_now() - t;
	return NULL;
}

static void job_start(struct phase_job *job)
{
	job->started = true;
	job->threaded = pthread_create(&job->thread, NULL, job_thread, job) == 0;
	if (!job->threaded)
		job_thread(job);
}

/* Waits for the job if it was started; to be called once whatever happened meanwhile. */
static struct hs_error *job_finish(struct phase_job *job)
{
	if (job->threaded)
		pthread_join(job->thread, NULL);
	job->threaded = false;
	if (job->started && !job->err)
		job->a->phases |= job->phase;
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

static void garbage(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	double t = hs_graph_now();
	hs_graph_garbage(snap, a);
	a->phases |= HS_PHASE_GARBAGE;
	a->t_garbage = hs_graph_now() - t;
}

/* Starts the depth_job on a copy of the analysis as it is now, whose arrays the job shares
 * but for those it makes its own. */
static void start_beside(struct hs_analysis *a, struct phase_job *depth_job)
{
	*depth_job->a = *a;
	depth_job->a->depth = NULL;
	depth_job->a->parent_edge = NULL;
	depth_job->a->retained = NULL;
	job_start(depth_job);
}

/* The roots, then the depth_job (if any) started, then the garbage here. */
static void roots_garbage(const struct hs_snapshot *snap, struct hs_analysis *a,
                          struct phase_job *depth_job)
{
	roots(snap, a);
	if (depth_job)
		start_beside(a, depth_job);
	garbage(snap, a);
}

static struct hs_error *run_scc(struct phase_job *job)
{
	return hs_graph_scc(job->snap, job->a);
}

/* depth's phase_job run: depth and parent_edge into arrays of d's own (d is a copy of the
 * analysis), so that it runs while the dominators use the analysis's as scratch. */
static struct hs_error *own_depth(struct phase_job *job)
{
	struct hs_analysis *d = job->a;
	d->depth = hs_graph_alloc((d->nobjects + 1) * sizeof(*d->depth));
	d->parent_edge = hs_graph_alloc((d->nobjects + 1) * sizeof(*d->parent_edge));
	if (!d->depth || !d->parent_edge)
		return &hs_error_nomem;
	return hs_graph_depth(job->snap, d);
}

/* The same with the roots first, into the analysis's ext_refs and is_root (d's copies of the
 * pointers; the dominators beside read is_root only once roots_known is open), then the garbage
 * into its unreachable (nothing else touches it meanwhile), with scratch of d's own in place of
 * retained. */
static struct hs_error *own_roots_garbage_depth(struct phase_job *job)
{
	struct hs_analysis *d = job->a;
	roots(job->snap, d);
	hs_graph_gate_open(job->roots_known);
	d->retained = hs_graph_alloc((d->nobjects + 1) * sizeof(*d->retained));
	if (!d->retained)
		return &hs_error_nomem;
	garbage(job->snap, d);
	free(d->retained);
	d->retained = NULL;
	return own_depth(job);
}

/* Moves the depth_job's results from d into a: the depths in place of the dominators' scratch,
 * and the roots' and the garbage's counts and times when they ran there. */
static void take_depth(struct hs_analysis *a, struct hs_analysis *d)
{
	free(a->depth);
	free(a->parent_edge);
	a->depth = d->depth;
	a->parent_edge = d->parent_edge;
	d->depth = NULL;
	d->parent_edge = NULL;
	a->t_depth = d->t_depth;
	a->phases |= HS_PHASE_DEPTH;
	if (d->phases & HS_PHASE_ROOTS && !(a->phases & HS_PHASE_ROOTS)) {
		a->nroots = d->nroots;
		a->t_roots = d->t_roots;
		a->phases |= HS_PHASE_ROOTS;
	}
	if (d->phases & HS_PHASE_GARBAGE) {
		a->ngarbage = d->ngarbage;
		a->t_garbage = d->t_garbage;
		a->phases |= HS_PHASE_GARBAGE;
	}
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

static struct hs_error *dominators(const struct hs_snapshot *snap, struct hs_analysis *a,
                                   struct hs_graph_gate *roots_known, hs_progress_fn *progress,
                                   void *progress_arg)
{
	double t = hs_graph_now();
	report(progress, progress_arg, "dominators", 0);
	struct hs_error *err = hs_graph_dominators(snap, a, roots_known);
	if (err)
		return err;
	a->phases |= HS_PHASE_DOMINATORS;
	a->t_dominators = hs_graph_now() - t - a->t_reverse - a->t_retained;
	return NULL;
}

/* hs_analyze_early's answer: waits for the depths (depth_job, into d), calls early with them,
 * then starts the components (scc_job).  Before the dominators (at HS_EARLY_DEPTH) early sees a
 * copy of a with d's depths, which stay in d until the dominators are done with a's. */
static struct hs_error *answer(struct hs_analysis *a, struct phase_job *depth_job,
                               enum hs_early_at at, hs_early_fn *early, void *early_arg,
                               struct phase_job *scc_job)
{
	struct hs_error *err = job_finish(depth_job);
	if (err)
		return err;
	struct hs_analysis view = *a, *d = depth_job->a;
	if (at == HS_EARLY_DOMINATORS) {
		take_depth(a, d);
		err = early(early_arg, a);
	} else {
		view.depth = d->depth;
		view.parent_edge = d->parent_edge;
		view.phases |= HS_PHASE_DEPTH;
		err = early(early_arg, &view);
	}
	if (!err)
		job_start(scc_job);
	return err;
}

struct hs_error *hs_analyze(const struct hs_snapshot *snap, hs_progress_fn *progress,
                            void *progress_arg, struct hs_analysis **ret)
{
	return hs_analyze_early(snap, progress, progress_arg, NULL, NULL, HS_EARLY_DEPTH, ret);
}

struct hs_error *hs_analyze_early(const struct hs_snapshot *snap, hs_progress_fn *progress,
                                  void *progress_arg, hs_early_fn *early, void *early_arg,
                                  enum hs_early_at at, struct hs_analysis **ret)
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
	 * each of those reads also misses the TLB.  The reader asks for huge pages; where it did
	 * not get them, collapsing costs about 10 ms per 100 MB copied and saves several times
	 * that in each walk. */
	hs_graph_collapse(snap->edge_start, (n + 1) * sizeof(*snap->edge_start));
	hs_graph_collapse(snap->edge_dst, snap->nedges * sizeof(*snap->edge_dst));
	hs_graph_collapse(snap->edge_kind, snap->nedges * sizeof(*snap->edge_kind));

	/* The components read only the snapshot and write only scc and scc_size: they run beside
	 * everything else, but after an early answer, which does not read them.  The depths of an
	 * early answer are computed beside the garbage, or with the roots and the garbage beside
	 * the dominators (which start from the named roots meanwhile), into arrays of their own. */
	struct hs_analysis d = {0};
	struct hs_graph_gate roots_known = HS_GRAPH_GATE_INIT;
	struct phase_job scc_job = {
	    .run = run_scc, .snap = snap, .a = a, .phase = HS_PHASE_SCC, .t = &a->t_scc};
	struct phase_job depth_job = {.run = own_depth,
	                              .snap = snap,
	                              .a = &d,
	                              .phase = HS_PHASE_DEPTH,
	                              .t = &d.t_depth,
	                              .roots_known = &roots_known};
	bool beside = early && at == HS_EARLY_DOMINATORS;
	if (beside) {
		depth_job.run = own_roots_garbage_depth;
		depth_job.phase |= HS_PHASE_ROOTS | HS_PHASE_GARBAGE;
	}
	if (!early)
		job_start(&scc_job);
	report(progress, progress_arg, early ? "roots, garbage, depth" : "roots, garbage", 0);
	if (beside)
		start_beside(a, &depth_job);
	else
		roots_garbage(snap, a, early ? &depth_job : NULL);
	struct hs_error *err = NULL;
	if (!early || beside)
		err = dominators(snap, a, beside ? &roots_known : NULL, progress, progress_arg);
	if (early && !err)
		err = answer(a, &depth_job, at, early, early_arg, &scc_job);
	if (!err && !(a->phases & HS_PHASE_DOMINATORS))
		err = dominators(snap, a, NULL, progress, progress_arg);
	if (!err && early && !(a->phases & HS_PHASE_DEPTH))
		take_depth(a, &d);
	else if (!err && !early)
		err = depth(snap, a, progress, progress_arg);
	struct hs_error *scc_err = job_finish(&scc_job);
	job_finish(&depth_job); /* when the answer was never reached */
	free(d.depth);
	free(d.parent_edge);
	if (!err)
		err = scc_err;
	if (err) {
		hs_analysis_destroy(a);
		return err;
	}
	*ret = a;
	return NULL;
}
