/*
 * first_answer.h — the commands that answer a fresh snapshot (no database next to it yet) from
 * the snapshot and its analysis before the database is written (first_answer.c, over
 * hs_cli_first_answer of load.h), with the same output as from the database.
 */
#ifndef HS_FIRST_ANSWER_H
#define HS_FIRST_ANSWER_H

#include <sqlite3.h>
#include <stdbool.h>

#include "analysis.h"

#include "commands.h"

/* `heapsnap top SNAP --by retained`: runs sql (the named query largest_retained, ?1 the limit)
 * on a partial database of the N objects with the largest retained sizes and their paths.
 * Returns the exit code, or -1 when SNAP is no fresh snapshot or N is not one this answers
 * (the caller then goes through the database). */
int hs_first_top_retained(const struct hs_cmd_args *a, const char *sql);

/* `heapsnap summary`'s partial database of a fresh snapshot at path (hs_store_partial, with
 * the objects scanned conservatively, which hs_rows_print_conservative lists) plus the temporary
 * tables that queries/commands/first_overview.sql and first_types.sql read: first_counts, what
 * summary_overview.sql counts over the whole database, and first_types, the objects and bytes
 * per type.  total gets the objects' total size, first_types.sql's ?2.  Reads only what
 * hs_analyze_early gives early (unreachable, depth): the objects' rows hold scratch in their
 * other analysis columns, which no summary query reads. */
struct hs_error *hs_first_summary_db(const char *path, const struct hs_snapshot *snap,
                                     const struct hs_analysis *a, sqlite3 **ret, char total[32]);

#endif
