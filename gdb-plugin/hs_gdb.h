/*
 * hs_gdb.h — the C entry points of libheapsnap.so that gdb-plugin/heapsnap-gdb.py calls through
 * ctypes, besides hscapture.h's hs_capture_core and hs_capture_callback: one to run any
 * `heapsnap` subcommand in gdb's process (so the plugin's answers are the CLI's by construction)
 * and one to capture a live process that gdb already holds stopped.
 */
#ifndef HS_GDB_H
#define HS_GDB_H

#include <stddef.h>

#include "hscapture.h"

/* Runs `heapsnap argv[1] argv[2] ...` (argv[0] is "heapsnap", argv[argc] NULL) as the CLI's main
 * would, with its standard output written to out_fd and its standard error to err_fd; gdb's own
 * descriptors 1 and 2 are restored before returning.  Returns the CLI's exit code (cli.h), or -1
 * with errno set when the descriptors could not be redirected. */
int hs_cli_run(int argc, char **argv, int out_fd, int err_fd);

/* Captures live process pid, which the caller (gdb) holds ptrace-stopped, by reading its memory
 * through /proc/PID/mem; maps are its mappings as /proc/PID/maps lists them.  Writes out_path
 * and fills stats (which may be NULL) like hs_capture_callback. */
struct hs_error *hs_gdb_capture_procmem(int pid, const struct hs_mapping *maps, size_t nmaps,
                                        const char *out_path, struct hs_capture_stats *stats);

#endif
