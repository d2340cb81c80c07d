/*
 * bench_analyze.c — times hs_snapshot_open and each phase of hs_analyze on one snapshot and
 * reports memory, as "key value" lines that bench_analyze.py turns into a table.  With --early,
 * hs_analyze_early with a callback that does nothing (the analysis of `summary`'s first answer),
 * with --early-retained the same called once the dominators are known too (that of `top --by
 * retained`, `path` and `show`); both add answer_s, the wall time from the analysis's start to
 * the callback (open_s plus answer_s: the analysis's part of the time to the first answer).
 *
 * Times are wall-clock seconds; analyze_cpu_s and total_cpu_s are the process's CPU time, close
 * to what the wall time would be on an idle machine.  Memory figures come from /proc/self/status:
 * VmHWM is the peak resident set (it includes the pages of the mapped .hsnap file that the reader
 * touched), RssAnon and RssFile split the resident set at the end into heap and file pages.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analysis.h"

static double clock_s(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* A /proc/self/status field in kB, or 0. */
static unsigned long long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long long kb = 0;
	size_t len = strlen(field);
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, len) == 0 && line[len] == ':')
			sscanf(line + len + 1, "%llu", &kb);
	}
	if (f)
		fclose(f);
	return kb;
}

/* hs_analyze_early's callback for --early and --early-retained: the analysis as a first answer
 * runs it, without the answer; *arg gets the wall time it is called at. */
static struct hs_error *no_answer(void *arg, const struct hs_analysis *a)
{
	(void)a;
	*(double *)arg = now();
	return NULL;
}

int main(int argc, char **argv)
{
	bool retained = argc == 3 && strcmp(argv[2], "--early-retained") == 0;
	bool early = retained || (argc == 3 && strcmp(argv[2], "--early") == 0);
	if (argc != 2 && !early) {
		fputs("usage: bench-analyze SNAP.hsnap [--early | --early-retained]\n", stderr);
		return 2;
	}
	double t0 = now(), cpu_open = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	struct hs_snapshot *snap;
	struct hs_error *err = hs_snapshot_open(argv[1], false, &snap);
	if (err) {
		fprintf(stderr, "bench-analyze: %s\n", err->message);
		return 1;
	}
	double t_open = now() - t0;
	cpu_open = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu_open;
	unsigned long long rss_open = status_kb("VmRSS"), file_open = status_kb("RssFile");
	struct hs_analysis *a;
	double cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	t0 = now();
	double t_answer = 0;
	err = early ? hs_analyze_early(snap, NULL, NULL, no_answer, &t_answer,
	                               retained ? HS_EARLY_DOMINATORS : HS_EARLY_DEPTH, &a)
	            : hs_analyze(snap, NULL, NULL, &a);
	if (err) {
		fprintf(stderr, "bench-analyze: %s\n", err->message);
		return 1;
	}
	double t_analyze = now() - t0;
	double cpu_analyze = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
	double n = (double)snap->nobjects;
	printf("objects %" PRIu64 "\nedges %" PRIu64 "\n", snap->nobjects, snap->nedges);
	printf("open_s %.3f\nroots_s %.3f\ngarbage_s %.3f\nscc_s %.3f\nreverse_s %.3f\n"
	       "dominators_s %.3f\nretained_s %.3f\ndepth_s %.3f\nanalyze_s %.3f\ntotal_s %.3f\n",
	       t_open, a->t_roots, a->t_garbage, a->t_scc, a->t_reverse, a->t_dominators,
	       a->t_retained, a->t_depth, t_analyze, t_open + t_analyze);
	if (early)
		printf("answer_s %.3f\n", t_answer - t0);
	/* On a busy machine the CPU time is closer to what an idle one would take. */
	printf("analyze_cpu_s %.3f\ntotal_cpu_s %.3f\n", cpu_analyze, cpu_analyze + cpu_open);
	printf("dominator_edges_per_s %.0f\n", (double)snap->nedges / a->t_dominators);
	printf(
	    "rss_after_open_bytes_per_object %.1f\nfile_pages_after_open_bytes_per_object %.1f\n",
	    rss_open * 1024.0 / n, file_open * 1024.0 / n);
	printf("peak_rss_bytes_per_object %.1f\npeak_rss_mb %.0f\n",
	       status_kb("VmHWM") * 1024.0 / n, status_kb("VmHWM") / 1024.0);
	printf("end_anon_bytes_per_object %.1f\nend_file_bytes_per_object %.1f\n",
	       status_kb("RssAnon") * 1024.0 / n, status_kb("RssFile") * 1024.0 / n);
	printf("garbage %" PRIu64 "\nroots %" PRIu64 "\nsccs %" PRIu64 "\nreached %" PRIu64 "\n",
	       a->ngarbage, a->nroots, a->nsccs, a->nreached);
	hs_analysis_destroy(a);
	hs_snapshot_destroy(snap);
	return 0;
}
