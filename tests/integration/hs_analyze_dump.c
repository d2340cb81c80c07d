/*
 * hs_analyze_dump.c — a test-only window on hs_analyze for scripts (test_graph_networkx.py):
 *   hs-analyze-dump SNAP            one line per object, space-separated:
 *                                   addr idom depth retained scc scc_size unreachable ext_refs
 *                                   is_root  (idom as an address; -1 for HS_NONE)
 *   hs-analyze-dump SNAP path ADDR  the path text of the object at ADDR ("-" when none)
 *   hs-analyze-dump SNAP deep ADDR  its deep size
 * The SQL store is the product's way to read these; this program exists so that the graph
 * algorithms can be checked against networkx without it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

static int fail(struct hs_error *err)
{
	fprintf(stderr, "hs-analyze-dump: %s\n", err->message);
	hs_error_destroy(err);
	return 1;
}

static long long none_or(uint32_t v, long long value)
{
	return v == HS_NONE ? -1 : value;
}

int main(int argc, char **argv)
{
	if (argc != 2 && argc != 4) {
		fputs("usage: hs-analyze-dump SNAP [path|deep ADDR]\n", stderr);
		return 2;
	}
	struct hs_snapshot *snap;
	struct hs_analysis *a = NULL;
	struct hs_error *err = hs_snapshot_open(argv[1], false, &snap);
	if (err)
		return fail(err);
	int64_t x = argc == 4 ? hs_snapshot_find(snap, strtoull(argv[3], NULL, 0)) : 0;
	if (x < 0) {
		fprintf(stderr, "hs-analyze-dump: no object at %s\n", argv[3]);
		return 1;
	}
	if (argc == 4 && strcmp(argv[2], "deep") == 0) {
		uint64_t deep;
		err = hs_deep_size(snap, (uint64_t)x, &deep);
		if (!err)
			printf("%" PRIu64 "\n", deep);
	} else if (!(err = hs_analyze(snap, NULL, NULL, &a)) && argc == 4) {
		char *text;
		err = hs_path_text(snap, a, (uint64_t)x, &text);
		if (!err)
			printf("%s\n", text ? text : "-");
		free(text);
	} else if (!err) {
		for (uint64_t i = 0; i < snap->nobjects; i++) {
			uint32_t d = a->idom[i];
			printf("%" PRIu64 " %lld %lld %" PRIu64 " %u %u %u %" PRId64 " %u\n",
			       snap->addr[i],
			       none_or(d, d == HS_NONE ? 0 : (long long)snap->addr[d]),
			       none_or(a->depth[i], a->depth[i]), a->retained[i], a->scc[i],
			       a->scc_size[i], a->unreachable[i], a->ext_refs[i], a->is_root[i]);
		}
	}
	hs_analysis_destroy(a);
	hs_snapshot_destroy(snap);
	return err ? fail(err) : 0;
}
