/*
 * hscapture.h — out-of-process capture of a CPython heap (capture/remote/).
 *
 * A memory source (a live pid, an ELF core file, or a caller's read callback) gives the bytes
 * of the target; the DWARF of its libpython gives the struct layouts; the walker turns them into
 * objects, edges, weak links and roots, written to a .hsnap file through hsnap.h's writer.
 * The gdb plugin uses hs_capture_callback through ctypes, so this header stays small.
 */
#ifndef HSCAPTURE_H
#define HSCAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hsnap.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads len bytes of target memory at addr into buf.  Returns 0 when all bytes were read, -1
 * otherwise (the capture then treats the range as unreadable).  ctx is the caller's pointer. */
typedef int (*hs_memsrc_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);

/* A mapping of the target, as /proc/PID/maps or gdb's `info proc mappings` lists it: the walker
 * finds libpython (or a static python) among them by path. */
struct hs_mapping {
	uint64_t start, end, file_offset;
	const char *path; /* NULL or "" for anonymous memory */
};

/* What a capture did. */
struct hs_capture_stats {
	uint64_t objects, edges, weak, roots;
	uint64_t warnings;    /* bad objects skipped (also in the snapshot's meta) */
	double pause_seconds; /* how long the target was stopped (pid only; 0 otherwise) */
	double seconds;       /* the whole capture */
	char source[512];     /* "python FILE 3.X.Y (version from W); layouts L; ..." */
};

/* Progress callback: called now and then with a phase name and a count. May be NULL. */
typedef void (*hs_capture_progress_fn)(void *ctx, const char *phase, uint64_t done);

struct hs_capture_options {
	hs_capture_progress_fn progress;
	void *progress_ctx;
	const char
	    *cache_dir; /* layout cache; NULL: $XDG_CACHE_HOME/heapsnap or ~/.cache/heapsnap */
	bool no_values; /* write no value previews: no str or bytes contents in the file */
	const char *debug_dir; /* also look for debug files under DIR/.build-id (NULL: only
	                          /usr/lib/debug) */
	int layouts;           /* enum hs_layouts: where the target's struct layouts come from */
};

/* Where layouts come from: the target's DWARF when it has any, else the tables compiled in for
 * its version (AUTO); or only those tables and exported symbols, as for a stripped python
 * (TABLE). */
enum hs_layouts { HS_LAYOUTS_AUTO, HS_LAYOUTS_TABLE };

/* Stops every thread of pid (PTRACE_SEIZE + PTRACE_INTERRUPT), walks it reading the pages the
 * walk touches (batched process_vm_readv calls; never a large buffer's contents), resumes it,
 * then writes out_path; once copying the rest would take no longer than the walk has, the rest
 * is copied and the target resumed early.  A thread asleep in a call that a stop would end with
 * EINTR (epoll_wait, ...) is left running unless it runs during the walk (README.md).  opts and
 * stats may be NULL. */
struct hs_error *hs_capture_pid(int pid, const char *out_path,
                                const struct hs_capture_options *opts,
                                struct hs_capture_stats *stats);
/* Captures the process recorded in an ELF core file.  exe (may be NULL) names the python
 * executable when the core's NT_FILE note is missing or its paths moved. */
struct hs_error *hs_capture_core(const char *core_path, const char *exe, const char *out_path,
                                 const struct hs_capture_options *opts,
                                 struct hs_capture_stats *stats);
/* Captures through a caller's read function (gdb).  maps lists the target's mappings; pages
 * read through read are cached for the duration of the call. */
struct hs_error *hs_capture_callback(hs_memsrc_read_fn read, void *read_ctx,
                                     const struct hs_mapping *maps, size_t nmaps,
                                     const char *out_path, const struct hs_capture_options *opts,
                                     struct hs_capture_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
