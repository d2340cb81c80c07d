/*
 * devtools.h — a snapshot as a V8 heap snapshot (devtools.c), the .heapsnapshot file that Chrome
 * DevTools' Memory panel and memlab open: `heapsnap export --format devtools`.
 */
#ifndef HS_DEVTOOLS_H
#define HS_DEVTOOLS_H

#include <stdio.h>

#include "hsnap.h"

/* Writes snap to out as V8 heap snapshot JSON, streamed: memory grows with the number of
 * distinct edge names and types, not with the output.  Write errors are left in out's error
 * indicator for the caller to check; the returned error is for what the format cannot hold
 * (more than 613,566,754 objects) or out of memory. */
struct hs_error *hs_devtools_export(const struct hs_snapshot *snap, FILE *out);

#endif
