/*
 * fuzz_jsonl.c — fuzz target for the JSON-lines importer: the input is a graph in JSON lines,
 * converted to a snapshot in a scratch directory.  A conversion that succeeds must give a file
 * that opens strictly and walks cleanly (fuzz.h), and whose export converts back to a snapshot
 * with the same export (the round trip of DESIGN.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* Opens path strictly, walks it, and returns its JSON-lines export (malloc'd, *len bytes). */
static char *open_and_export(const char *path, size_t *len)
{
	struct hs_snapshot *snap;
	struct hs_error *err = hs_snapshot_open(path, false, &snap);
	if (err)
		fuzz_fail("converted snapshot does not open: %s", err->message);
	fuzz_walk_snapshot(snap);
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		fuzz_fail("open_memstream failed");
	err = hs_jsonl_export(snap, f);
	if (err)
		fuzz_fail("export failed: %s", err->message);
	fclose(f);
	hs_snapshot_destroy(snap);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[64], out[4200], again[4200];
	int fd = fuzz_memfile(data, size, in, sizeof(in));
	snprintf(out, sizeof(out), "%s/out.hsnap", fuzz_tmpdir());
	snprintf(again, sizeof(again), "%s/again.hsnap", fuzz_tmpdir());
	struct hs_error *err = hs_jsonl_convert(in, out, NULL);
	close(fd);
	if (err) {
		hs_error_destroy(err);
		return 0;
	}
	size_t len1, len2;
	char *text1 = open_and_export(out, &len1);
	unlink(out);
	fd = fuzz_memfile((const uint8_t *)text1, len1, in, sizeof(in));
	err = hs_jsonl_convert(in, again, NULL);
	close(fd);
	if (err)
		fuzz_fail("the export of a converted snapshot does not convert: %s", err->message);
	char *text2 = open_and_export(again, &len2);
	unlink(again);
	if (len1 != len2 || memcmp(text1, text2, len1) != 0)
		fuzz_fail("export -> convert -> export differs (%zu and %zu bytes)", len1, len2);
	free(text1);
	free(text2);
	return 0;
}
