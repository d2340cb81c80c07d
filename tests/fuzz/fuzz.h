/*
 * fuzz.h — what the fuzz targets share: the libFuzzer entry point each target defines, a
 * temporary file for the input bytes, and the check that walks an opened snapshot.
 *
 * Each target is one fuzz_*.c defining LLVMFuzzerTestOneInput.  With -Dfuzzers=true it links
 * against libFuzzer; otherwise fuzz_driver.c gives it a main that replays files and a bounded
 * number of deterministic mutations of them (so `meson test` always runs the targets).
 */
#ifndef HS_FUZZ_H
#define HS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "hsnap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A scratch directory for the run (made once, under /dev/shm, $TMPDIR or /tmp; removed at exit). */
const char *fuzz_tmpdir(void);
/* Writes data to a fresh in-memory file and puts a path that opens it into path (size >= 32).
 * Returns the descriptor to close afterwards. */
int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t path_size);
/* A copy of a .hsnap image (malloc'd, *ret_size bytes) with every section CRC recomputed and the
 * INDEX section and trailer rebuilt from the sections before it, so that mutations reach the
 * decoders instead of stopping at a checksum.  Bytes past a section that does not fit are kept
 * as they are. */
uint8_t *fuzz_fix_checksums(const uint8_t *data, size_t size, size_t *ret_size);
/* Touches every entry of every array snap exposes and checks the invariants hsnap.h promises
 * (indexes in range, edge_start monotone, objects sorted, find(addr[i]) == i), renders every
 * edge label and exports the whole snapshot to /dev/null.  Aborts on a broken promise. */
void fuzz_walk_snapshot(const struct hs_snapshot *snap);
/* Prints what went wrong and aborts (a finding, for libFuzzer or the replay driver). */
void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
