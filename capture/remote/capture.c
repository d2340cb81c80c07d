/*
 * capture.c — the public entry points of hscapture.h: make a memory source (pid, core or
 * callback), hand it to the walker, time the whole, and release the source.
 */
#include <time.h>

#include "internal.h"

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Walks m into out_path and fills stats (which may be NULL); releases m. */
static struct hs_error *finish(struct hs_memsrc *m, struct hs_error *err, enum hs_method method,
                               const char *exe, const char *out_path,
                               const struct hs_capture_options *opts,
                               struct hs_capture_stats *stats, double t0)
{
	struct hs_capture_stats st = {0};
	if (!err) {
		if (opts && opts->progress)
			opts->progress(opts->progress_ctx, "walking", 0);
		err = hs_walk_and_write(m, method, exe, out_path, opts, &st);
	}
	st.pause_seconds = m->pause_seconds;
	hs_memsrc_deinit(m);
	st.seconds = seconds_now() - t0;
	if (!err && stats)
		*stats = st;
	return err;
}

struct hs_error *hs_capture_pid(int pid, const char *out_path,
                                const struct hs_capture_options *opts,
                                struct hs_capture_stats *stats)
{
	double t0 = seconds_now();
	struct hs_memsrc m;
	struct hs_error *err = hs_memsrc_init_pid(&m, pid);
	return finish(&m, err, HS_METHOD_PID, NULL, out_path, opts, stats, t0);
}

struct hs_error *hs_capture_core(const char *core_path, const char *exe, const char *out_path,
                                 const struct hs_capture_options *opts,
                                 struct hs_capture_stats *stats)
{
	double t0 = seconds_now();
	struct hs_memsrc m;
	struct hs_error *err = hs_memsrc_init_core(&m, core_path);
	return finish(&m, err, HS_METHOD_CORE, exe, out_path, opts, stats, t0);
}

struct hs_error *hs_capture_callback(hs_memsrc_read_fn read, void *read_ctx,
                                     const struct hs_mapping *maps, size_t nmaps,
                                     const char *out_path, const struct hs_capture_options *opts,
                                     struct hs_capture_stats *stats)
{
	double t0 = seconds_now();
	struct hs_memsrc m;
	struct hs_error *err = hs_memsrc_init_callback(&m, read, read_ctx, maps, nmaps);
	return finish(&m, err, HS_METHOD_GDB, NULL, out_path, opts, stats, t0);
}
