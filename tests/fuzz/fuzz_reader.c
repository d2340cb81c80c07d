/*
 * fuzz_reader.c — fuzz target for the snapshot reader.  The input is a .hsnap image, opened both
 * strictly and with salvage, first as it is and then with its checksums and index repaired
 * (fuzz_fix_checksums) so that mutations reach the section decoders.  Whatever opens is walked
 * entry by entry (fuzz.h).  A strict open that succeeds must also succeed with salvage, without a
 * salvage warning, and give the same counts.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

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
