/*
 * load.h — how a command gets its database (load.c): a .db of ours as it is, or a .hsnap read,
 * analyzed and stored into SNAP.db next to it, reused while it was built from this very file.
 * The pipeline of `heapsnap load` and of every database command; the store (store.h) only writes
 * and opens databases, and the graph analyses (analysis.h) only compute.
 */
#ifndef HS_LOAD_H
#define HS_LOAD_H

#include <sqlite3.h>
#include <stdbool.h>

#include "analysis.h"
#include "hsnap.h"

/* Opens what a command was given: a .db of ours, or a .hsnap whose database is built (with
 * progress on a terminal) unless one built from this very file exists next to it.  A database
 * with partial results (a salvage, a streamed load) says so once on stderr and marks every table
 * printed (hs_table_set_partial). */
struct hs_error *hs_cli_open(const char *path, sqlite3 **ret);

/* Whether a damaged snapshot is salvaged (the --salvage option every database command takes)
 * instead of refused.  Off by default: hs_cli_load fails with the offset of the damage, and
 * hs_cli_open does not reuse the salvaged database of a .hsnap. */
void hs_cli_allow_salvage(bool yes);

/* The first answer of a command on a .hsnap that has no database yet: reads the snapshot,
 * analyzes it, calls answer (which prints from the snapshot and the analysis, e.g. through
 * hs_store_partial), and only then writes the database next to it, as hs_cli_open would have
 * before answering.  answer is called as soon as the analysis has the roots, the garbage, the
 * depths and the dominators, or with early halfway through, as soon as it has the roots, the
 * garbage and the depths (hs_analyze_early), and must read nothing else: nothing more is computed
 * before it prints, and the database's writing starts after it.
 * *answered is false, and nothing done, when path is no such snapshot (a database, a snapshot with
 * one, one that does not open, or --salvage): the caller goes through hs_cli_open instead, which
 * says what is wrong.  A database that fails to be written after the answer is the error returned.
 */
typedef struct hs_error *hs_cli_answer_fn(void *arg, const struct hs_snapshot *snap,
                                          const struct hs_analysis *a);
struct hs_error *hs_cli_first_answer(const char *path, hs_cli_answer_fn *answer, void *arg,
                                     bool early, bool *answered);

/* Loads snap_path, analyzes it and writes db_path, showing progress on stderr when it is a
 * terminal and the work takes over a second. */
struct hs_error *hs_cli_load(const char *snap_path, const char *db_path);

#endif
