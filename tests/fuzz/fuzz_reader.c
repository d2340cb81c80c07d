/*
 * fuzz_reader.c — fuzz target for the snapshot reader.  The input is a .hsnap image, opened both
 * strictly and with salvage, first as it is and then with its checksums and index repaired
 * (fuzz_fix_checksums) so that mutations reach the section decoders.  Whatever opens is walked
 * entry by entry (fuzz.h) and copied through the writer (hs_snapshot_copy), which must give a file
 * that opens strictly and exports the same.  A strict open that succeeds must also succeed with
 * salvage, without a salvage warning, and give the same counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* The JSON-lines export of snap (malloc'd, *len bytes). */
static char *export_text(const struct hs_snapshot *snap, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		fuzz_fail("open_memstream failed");
	struct hs_error *err = hs_jsonl_export(snap, f);
	if (err)
		fuzz_fail("export failed: %s", err->message);
	fclose(f);
	return text;
}

/* hs_snapshot_copy of anything that opened (a salvage too) must open strictly and export the
 * same; a string holding a NUL byte that the writer takes as a C string is refused instead. */
static void check_copy(const struct hs_snapshot *snap)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/copy.hsnap", fuzz_tmpdir());
	struct hs_error *err = hs_snapshot_copy(snap, path, true, NULL);
	if (err) {
		if (err->code != HS_ERROR_FORMAT || !strstr(err->message, "NUL byte"))
			fuzz_fail("copy failed: %s", err->message);
		hs_error_destroy(err);
		return;
	}
	struct hs_snapshot *copy;
	err = hs_snapshot_open(path, false, &copy);
	if (err)
		fuzz_fail("a copy does not open: %s", err->message);
	unlink(path);
	size_t len1, len2;
	char *text1 = export_text(snap, &len1), *text2 = export_text(copy, &len2);
	if (len1 != len2 || memcmp(text1, text2, len1) != 0)
		fuzz_fail("a copy exports differently (%zu and %zu bytes)", len1, len2);
	free(text1);
	free(text2);
	hs_snapshot_destroy(copy);
}

static void open_both(const uint8_t *data, size_t size)
{
	char path[64];
	int fd = fuzz_memfile(data, size, path, sizeof(path));
	struct hs_snapshot *strict = NULL, *salvaged = NULL;
	struct hs_error *err = hs_snapshot_open(path, false, &strict);
	if (err)
		hs_error_destroy(err);
	else
		fuzz_walk_snapshot(strict);
	err = hs_snapshot_open(path, true, &salvaged);
	if (err) {
		if (strict)
			fuzz_fail("opens strictly but not with salvage: %s", err->message);
		hs_error_destroy(err);
	} else {
		fuzz_walk_snapshot(salvaged);
		check_copy(salvaged);
		if (strict &&
		    (salvaged->salvage_warning || salvaged->nobjects != strict->nobjects ||
		     salvaged->nedges != strict->nedges || salvaged->nroots != strict->nroots))
			fuzz_fail("a whole file salvages differently");
	}
	hs_snapshot_destroy(strict);
	hs_snapshot_destroy(salvaged);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	open_both(data, size);
	size_t fixed_size;
	uint8_t *fixed = fuzz_fix_checksums(data, size, &fixed_size);
	if (fixed_size != size || memcmp(fixed, data, size) != 0)
		open_both(fixed, fixed_size);
	free(fixed);
	return 0;
}
