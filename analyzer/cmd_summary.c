/*
 * cmd_summary.c — `heapsnap summary SNAP`: what a snapshot holds at a glance (producer, counts,
 * bytes) and its top types by bytes, straight from the snapshot file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

struct type_total {
	uint32_t type;
	uint64_t count, bytes;
};

static int by_bytes(const void *a, const void *b)
{
	const struct type_total *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->type < y->type ? -1 : x->type > y->type;
}

int hs_cmd_summary(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap summary SNAP [--format table|csv|json] [--top N]\n\n"
	    "Prints the snapshot's producer and counts, then the N (default 10) types holding the\n"
	    "most bytes.  SNAP is a .hsnap file.\n";
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {"top", required_argument, NULL, 'n'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	enum hs_format format = HS_FORMAT_TABLE;
	long top = 10;
	int c;
	while ((c = getopt_long(argc, argv, "f:n:h", opts, NULL)) != -1) {
		char *end;
		if (c == 'f' && !hs_format_parse(optarg, &format))
			return hs_cli_usage_error("summary", "--format is table, csv or json");
		if (c == 'n' && ((top = strtol(optarg, &end, 10)) < 0 || *end))
			return hs_cli_usage_error("summary", "--top needs a count");
		if (c == 'h')
			return fputs(help, stdout), HS_EXIT_OK;
		if (c == '?')
			return hs_cli_usage_error("summary", "unknown option");
	}
	if (optind + 1 != argc)
		return hs_cli_usage_error("summary", "needs one SNAP");
	struct hs_snapshot *snap;
	struct hs_error *err = hs_snapshot_open(argv[optind], true, &snap);
	if (err)
		return hs_cli_fail(err);
	if (snap->salvage_warning)
		fprintf(stderr, "heapsnap: warning: %s\n", snap->salvage_warning);

	struct type_total *tt = calloc(snap->ntypes ? snap->ntypes : 1, sizeof(*tt));
	if (!tt) {
		hs_snapshot_destroy(snap);
		return hs_cli_fail(&hs_error_nomem);
	}
	uint64_t bytes = 0, tracked = 0;
	for (uint32_t t = 0; t < snap->ntypes; t++)
		tt[t].type = t;
	for (uint64_t i = 0; i < snap->nobjects; i++) {
		tt[snap->type[i]].count++;
		tt[snap->type[i]].bytes += snap->size[i];
		bytes += snap->size[i];
		tracked += snap->flags[i] & HS_OBJ_GC;
	}
	qsort(tt, snap->ntypes, sizeof(*tt), by_bytes);

	if (format == HS_FORMAT_TABLE) {
		printf("snapshot  %s\nproducer  %s\nruntime   %s %s\nobjects   %llu (%llu "
		       "GC-tracked)\nbytes     %llu\nedges     %llu\nweak      %llu\nroots     "
		       "%llu\ntypes     %u\n\n",
		       snap->path, snap->header.producer, snap->header.runtime,
		       snap->header.runtime_version, (unsigned long long)snap->nobjects,
		       (unsigned long long)tracked, (unsigned long long)bytes,
		       (unsigned long long)snap->nedges, (unsigned long long)snap->nweak,
		       (unsigned long long)snap->nroots, snap->ntypes);
	}
	static const char *const cols[] = {"type", "count", "bytes", "percent"};
	struct hs_table *t = hs_table_create(stdout, format, 4, cols);
	for (uint32_t k = 0; k < snap->ntypes && k < (uint64_t)top; k++) {
		size_t len;
		const char *name = hs_snapshot_type_name(snap, tt[k].type, &len);
		hs_table_cellf(t, HS_CELL_TEXT, "%.*s", (int)len, name);
		hs_table_cellf(t, HS_CELL_NUMBER, "%llu", (unsigned long long)tt[k].count);
		hs_table_cellf(t, HS_CELL_NUMBER, "%llu", (unsigned long long)tt[k].bytes);
		hs_table_cellf(t, HS_CELL_NUMBER, "%.1f",
		               bytes ? 100.0 * (double)tt[k].bytes / (double)bytes : 0.0);
		hs_table_end_row(t);
	}
	hs_table_destroy(t);
	free(tt);
	hs_snapshot_destroy(snap);
	return HS_EXIT_OK;
}
