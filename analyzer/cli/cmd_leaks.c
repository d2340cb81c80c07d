/*
 * cmd_leaks.c — `heapsnap leaks SNAP [--baseline OLD]...`: the leak report.  leaks.c computes
 * the findings; this file parses the options and prints them, a titled section per pattern
 * (table format) or one row per finding with its section (csv, json).
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_sql.h"
#include "commands.h"
#include "leaks.h"
#include "load.h"
#include "rows.h"
#include "store.h"

static const char help[] =
    "usage: heapsnap leaks SNAP [--baseline OLD]... [--min-bytes N] [--min-count N] [-n N]\n"
    "                      [--format table|csv|json] [--salvage] [--force]\n\n"
    "The leak report of snapshot SNAP (a .hsnap or its .db): the classic leak patterns, each a\n"
    "section with its evidence (objects, bytes, retained bytes, the labelled path that holds\n"
    "it, where it was allocated when tracemalloc traced the capture) and a line on the\n"
    "pattern and its usual fix:\n"
    "  1 cycles with finalizers        5 references held by C code\n"
    "  2 unbounded caches              6 __slots__ candidates\n"
    "  3 global accumulation           7 weak references\n"
    "  4 closures and bound methods    8 GC state\n"
    "Each --baseline is an earlier snapshot of the same process; with several, growth is a\n"
    "trend over all of them (oldest first by capture time).  A baseline of another process\n"
    "(pid), another Python version, the snapshot itself, or one captured at or after it is\n"
    "refused (exit 2); --force compares it anyway, with a warning.  A finding retains at least\n"
    "--min-bytes bytes, or grows: against the baselines it grew in every interval, in entries\n"
    "(by --min-count in all, default 100) or in retained bytes (by --min-bytes in all).\n"
    "--min-bytes is used as given (--min-bytes 1 reports every size); without it the size\n"
    "is 256 KiB or 1% of the heap, the larger.  Each section shows N findings (default 10).\n";

/* Parses the options into *opts and the snapshot path into *snap; returns -1 to go on, or the
 * exit code. */
static int parse(int argc, char **argv, struct hs_leaks_options *opts, enum hs_format *format,
                 const char **snap)
{
	static const struct option longopts[] = {{"baseline", required_argument, NULL, 'b'},
	                                         {"min-bytes", required_argument, NULL, 'B'},
	                                         {"min-count", required_argument, NULL, 'C'},
	                                         {"limit", required_argument, NULL, 'n'},
	                                         {"format", required_argument, NULL, 'f'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"salvage", no_argument, NULL, 'S'},
	                                         {"force", no_argument, NULL, 'F'},
	                                         {NULL, 0, NULL, 0}};
	*snap = NULL;
	optind = 0;
	for (;;) {
		int c = getopt_long(argc, argv, "+b:n:f:h", longopts, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			if (*snap)
				return hs_cli_usage_error("leaks", "one snapshot at a time");
			*snap = argv[optind++];
			continue;
		}
		uint64_t v = 0;
		if (c == 'B' || c == 'C' || c == 'n') {
			if (!hs_parse_u64(optarg, false, &v) || v == 0 || v > LONG_MAX)
				return hs_cli_usage_error("leaks", "--%s needs a positive number",
				                          c == 'B'   ? "min-bytes"
				                          : c == 'C' ? "min-count"
				                                     : "limit");
		}
		switch (c) {
		case 'h':
			fputs(help, stdout);
			return HS_EXIT_OK;
		case 'S':
			hs_cli_allow_salvage(true);
			break;
		case 'F':
			opts->force = true;
			break;
		case 'b':
			opts->baselines[opts->nbaselines++] = optarg;
			break;
		case 'B':
			opts->min_bytes = (uint64_t)v;
			break;
		case 'C':
			opts->min_count = (long)v;
			break;
		case 'n':
			opts->limit = (long)v;
			break;
		case 'f':
			if (!hs_format_parse(optarg, format))
				return hs_cli_usage_error("leaks",
				                          "--format is table, csv or json");
			break;
		default:
			return hs_cli_usage_error("leaks", "unknown option");
		}
	}
	if (!*snap)
		return hs_cli_usage_error("leaks", "which snapshot?");
	return -1;
}

/* Prints the findings: per section a title, the explanation and a table (or "no finding") in
 * table format; every finding with its section number and pattern in csv and json. */
static struct hs_error *print_findings(sqlite3 *db, enum hs_format format)
{
	if (format != HS_FORMAT_TABLE)
		return hs_rows_run(db, hs_sql_cmd_leaks_findings, 0, NULL, format, stdout);
	char *untraversed;
	struct hs_error *err = hs_store_untraversed(db, &untraversed);
	bool streamed = hs_store_streamed(db);
	for (int i = 0; !err && i < hs_leak_nsections; i++) {
		const struct hs_leak_section *s = &hs_leak_sections[i];
		printf("%s== %d. %s ==\n%s\n", i ? "\n" : "", s->number, s->title, s->explain);
		if (untraversed && strcmp(s->pattern, "c-references") == 0)
			printf("This snapshot has objects whose type has no tp_traverse: %s\n",
			       untraversed);
		sqlite3_stmt *stmt;
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM leak_findings WHERE section = ?1",
		                       -1, &stmt, NULL) != SQLITE_OK)
			return hs_store_error(db, "leak findings");
		sqlite3_bind_int(stmt, 1, s->number);
		long long n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : 0;
		sqlite3_finalize(stmt);
		if (n == 0) {
			puts(streamed && s->number != 8
			         ? "not computed: `heapsnap load --stream` skipped the graph "
			           "analyses "
			           "(plain `heapsnap load SNAP` computes them)"
			         : "no finding");
			continue;
		}
		fflush(stdout);
		char num[16];
		snprintf(num, sizeof(num), "%d", s->number);
		char *args[] = {num};
		err = hs_rows_run(db, hs_sql_cmd_leaks_section, 1, args, format, stdout);
	}
	free(untraversed);
	return err;
}

int hs_cmd_leaks(int argc, char **argv)
{
	struct hs_leaks_options opts = {0};
	opts.baselines = calloc((size_t)argc, sizeof(char *));
	if (!opts.baselines)
		return hs_cli_fail(&hs_error_nomem);
	enum hs_format format = HS_FORMAT_TABLE;
	const char *snap;
	int rc = parse(argc, argv, &opts, &format, &snap);
	if (rc >= 0) {
		free(opts.baselines);
		return rc;
	}
	sqlite3 *db;
	struct hs_error *err = hs_cli_open(snap, &db);
	if (!err) {
		err = hs_leaks_run(db, &opts);
		if (!err)
			err = print_findings(db, format);
		if (!err && format == HS_FORMAT_TABLE) {
			fflush(stdout);
			err = hs_rows_print_conservative(db, stdout);
		}
		sqlite3_close(db);
	}
	free(opts.baselines);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}
