/*
 * cmd_watch.c — `heapsnap watch --pid PID --rss SIZE [--every STEP] [--interval SECONDS] -o DIR`:
 * the out-of-process trigger (as the JVM's HeapDumpOnOutOfMemoryError, from outside).  It reads
 * the target's resident set from /proc/PID/statm every interval and captures the process
 * (hs_capture_pid) each time the RSS crosses SIZE, then SIZE+STEP, SIZE+2*STEP, ... (once per
 * step; without --every, once).  Snapshots go to DIR/heapsnap-PID-N.hsnap, one line on stderr
 * each.  It ends when the target exits (exit 0), after its single capture without --every, or
 * on a failed capture (exit 1).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "hscapture.h"

/* A size in bytes: digits with an optional K, M or G suffix (powers of 1024). */
static bool parse_size(const char *s, uint64_t *ret)
{
	char digits[32];
	size_t n = strlen(s);
	uint64_t mult = 1;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	if (n && strchr("KkMmGg", s[n - 1])) {
		char c = (char)(s[n - 1] | 0x20);
		mult = c == 'k' ? 1ull << 10 : c == 'm' ? 1ull << 20 : 1ull << 30;
		n--;
	}
	if (n == 0 || n >= sizeof(digits))
		return false;
	memcpy(digits, s, n);
	digits[n] = 0;
	uint64_t v;
	if (!hs_parse_u64(digits, false, &v) || v == 0 || v > UINT64_MAX / mult)
		return false;
	*ret = v * mult;
	return true;
}

/* The target's RSS in bytes; false when it is gone (or /proc says nothing readable). */
static bool target_rss(int pid, uint64_t *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/statm", pid);
	FILE *f = fopen(path, "r");
	unsigned long long size, resident;
	bool ok = f && fscanf(f, "%llu %llu", &size, &resident) == 2;
	if (f)
		fclose(f);
	if (ok)
		*ret = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
	return ok;
}

struct watch {
	int pid;
	uint64_t threshold, every;
	double interval;
	const char *dir;
};

/* Polls until the target exits or the last step is captured; returns the exit code. */
static int watch_loop(struct watch *wt)
{
	unsigned n = 0;
	uint64_t rss;
	while (target_rss(wt->pid, &rss)) {
		if (rss < wt->threshold) {
			struct timespec ts = {
			    (time_t)wt->interval,
			    (long)((wt->interval - (double)(time_t)wt->interval) * 1e9)};
			nanosleep(&ts, NULL);
			continue;
		}
		char out[PATH_MAX];
		snprintf(out, sizeof(out), "%s/heapsnap-%d-%u.hsnap", wt->dir, wt->pid, ++n);
		struct hs_capture_stats st;
		struct hs_error *err = hs_capture_pid(wt->pid, out, NULL, &st);
		if (err)
			return hs_cli_fail(err);
		fprintf(stderr, "%s: RSS %llu bytes crossed %llu: %llu objects, pause %.3f s\n",
		        out, (unsigned long long)rss, (unsigned long long)wt->threshold,
		        (unsigned long long)st.objects, st.pause_seconds);
		if (!wt->every)
			return HS_EXIT_OK;
		while (wt->threshold <= rss) /* one capture per step, however many were crossed */
			wt->threshold += wt->every;
	}
	fprintf(stderr, "heapsnap watch: process %d has exited after %u captures\n", wt->pid, n);
	return HS_EXIT_OK;
}

int hs_cmd_watch(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap watch --pid PID --rss SIZE [--every STEP] [--interval SECONDS] -o "
	    "DIR\n\n"
	    "Watches a process's resident set and captures it out of process (as `capture --pid`)\n"
	    "each time the RSS crosses SIZE, then SIZE+STEP, SIZE+2*STEP, ... (without --every,\n"
	    "once).  SIZE and STEP take K, M or G (powers of 1024); the RSS is read every SECONDS\n"
	    "(default 0.5).  Snapshots: DIR/heapsnap-PID-N.hsnap.  Ends when the process exits or\n"
	    "its last capture is taken (exit 0); exit 1 when a capture fails, 2 on bad "
	    "arguments.\n";
	static const struct option opts[] = {{"pid", required_argument, NULL, 'p'},
	                                     {"rss", required_argument, NULL, 'r'},
	                                     {"every", required_argument, NULL, 'e'},
	                                     {"interval", required_argument, NULL, 'i'},
	                                     {"output", required_argument, NULL, 'o'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	struct watch wt = {0, 0, 0, 0.5, NULL};
	char *end;
	int c;
	while ((c = getopt_long(argc, argv, "p:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!hs_cli_parse_pid(optarg, &wt.pid))
				return hs_cli_usage_error("watch", "bad pid '%s'", optarg);
			break;
		case 'r':
		case 'e':
			if (!parse_size(optarg, c == 'r' ? &wt.threshold : &wt.every))
				return hs_cli_usage_error("watch", "bad size '%s' (e.g. 500M)",
				                          optarg);
			break;
		case 'i':
			errno = 0;
			wt.interval = strtod(optarg, &end);
			if (errno || *end || !(wt.interval >= 0.01 && wt.interval <= 3600))
				return hs_cli_usage_error(
				    "watch", "bad interval '%s' (0.01 to 3600 s)", optarg);
			break;
		case 'o':
			wt.dir = optarg;
			break;
		case 'h':
			return fputs(help, stdout), HS_EXIT_OK;
		default:
			return hs_cli_usage_error("watch", "unknown option");
		}
	}
	if (optind != argc || !wt.pid || !wt.threshold || !wt.dir)
		return hs_cli_usage_error("watch", "needs --pid PID, --rss SIZE and -o DIR");
	return watch_loop(&wt);
}
