/*
 * cmd_capture.c — `heapsnap capture --pid PID | --core CORE [--exe PYTHON] [-o FILE]`: the
 * out-of-process capture (capture/remote/hscapture.h), with progress on a terminal and a
 * summary line (objects, edges, pause, seconds) on stderr.  SIGINT, SIGTERM and SIGHUP remove the
 * temporary file before ending the process (whose exit detaches the target).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "hscapture.h"

/* Removes the partial snapshot (the writer's temporary, hs_out_open), then lets the signal end
 * the process as it would have. */
static void on_signal(int sig)
{
	hs_out_signal_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Progress on stderr, rewritten in place; only when stderr is a terminal. */
static void progress(void *ctx, const char *phase, uint64_t done)
{
	(void)ctx;
	fprintf(stderr, "\rheapsnap capture: %s %llu...", phase, (unsigned long long)done);
	fflush(stderr);
}

int hs_cmd_capture(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap capture --pid PID [OPTIONS] [-o FILE]\n"
	    "       heapsnap capture --core CORE [--exe PYTHON] [OPTIONS] [-o FILE]\n\n"
	    "Snapshots the heap of a running CPython 3.8-3.13 process (stopped only while its\n"
	    "memory is copied) or of a core file, from outside.  No debug symbols are needed:\n"
	    "the struct layouts come from the target's DWARF when it has any (in the file, a\n"
	    "/usr/lib/debug/.build-id debug file, its .gnu_debuglink), else from the tables\n"
	    "heapsnap carries for each version, checked against the target's memory.\n"
	    "  --layouts auto|table  table: use only those tables and exported symbols\n"
	    "  --debug-dir DIR       also look for DIR/.build-id/NN/REST.debug\n"
	    "  --verbose             say which python, version and layout source were used\n"
	    "FILE defaults to heapsnap-PID.hsnap or CORE.hsnap.  --no-values writes no value\n"
	    "previews: no str or bytes contents (secrets) in the file.\n"
	    "Exit 1, naming the pid or core and the cause, when there is nothing to capture\n"
	    "(a zombie, a kernel thread, no Python in it, another tracer attached); exit 2 for a\n"
	    "PID that is not a decimal number from 1 to 2147483647 (whitespace around it is "
	    "allowed).\n";
	static const struct option opts[] = {{"pid", required_argument, NULL, 'p'},
	                                     {"core", required_argument, NULL, 'c'},
	                                     {"exe", required_argument, NULL, 'e'},
	                                     {"output", required_argument, NULL, 'o'},
	                                     {"no-values", no_argument, NULL, 'n'},
	                                     {"layouts", required_argument, NULL, 'L'},
	                                     {"debug-dir", required_argument, NULL, 'D'},
	                                     {"verbose", no_argument, NULL, 'v'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *core = NULL, *exe = NULL, *out = NULL;
	int pid = 0, c;
	bool no_values = false, verbose = false;
	struct hs_capture_options o = {0};
	while ((c = getopt_long(argc, argv, "p:c:e:o:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!hs_cli_parse_pid(optarg, &pid))
				return hs_cli_usage_error("capture",
				                          "bad pid '%s': not a number from 1 to %d",
				                          optarg, INT_MAX);
			break;
		case 'c':
			core = optarg;
			break;
		case 'e':
			exe = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'n':
			no_values = true;
			break;
		case 'L':
			if (strcmp(optarg, "auto") && strcmp(optarg, "table"))
				return hs_cli_usage_error(
				    "capture", "--layouts takes auto or table, not '%s'", optarg);
			o.layouts = !strcmp(optarg, "table") ? HS_LAYOUTS_TABLE : HS_LAYOUTS_AUTO;
			break;
		case 'D':
			o.debug_dir = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			return fputs(help, stdout), HS_EXIT_OK;
		default:
			return hs_cli_usage_error("capture", "unknown option");
		}
	}
	if (optind != argc || (!pid == !core))
		return hs_cli_usage_error("capture",
		                          "needs exactly one of --pid PID or --core CORE");
	if (exe && !core)
		return hs_cli_usage_error("capture", "--exe goes with --core");
	char def[4096];
	if (!out) {
		if (pid)
			snprintf(def, sizeof(def), "heapsnap-%d.hsnap", pid);
		else
			snprintf(def, sizeof(def), "%s.hsnap", core);
		out = def;
	}
	struct hs_error *same = hs_out_not_input(out, core);
	if (same)
		return hs_cli_fail(same);
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	o.no_values = no_values;
	if (isatty(STDERR_FILENO))
		o.progress = progress;
	struct hs_capture_stats st;
	struct hs_error *err =
	    pid ? hs_capture_pid(pid, out, &o, &st) : hs_capture_core(core, exe, out, &o, &st);
	if (o.progress)
		fputs("\r\033[K", stderr);
	if (err)
		return hs_cli_fail(err);
	fprintf(stderr,
	        "%s: %llu objects, %llu edges, %llu weak, %llu roots, %llu warnings, "
	        "pause %.3f s, %.3f s\n",
	        out, (unsigned long long)st.objects, (unsigned long long)st.edges,
	        (unsigned long long)st.weak, (unsigned long long)st.roots,
	        (unsigned long long)st.warnings, st.pause_seconds, st.seconds);
	if (verbose)
		fprintf(stderr, "%s: %s\n", out, st.source);
	return HS_EXIT_OK;
}
