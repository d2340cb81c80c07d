/*
 * first_answer.h — the commands that answer a fresh snapshot (no database next to it yet) from
 * the snapshot and its analysis before the database is written (first_answer.c, over
 * hs_cli_first_answer of load.h), with the same output as from the database: summary, top --by
 * retained, path, show.
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

/* What a partial database's work returns, before printing anything, when that database cannot
 * give the database's answer: the caller then goes through the database.  Never destroyed. */
extern struct hs_error hs_first_declined;

/* The work of a command about one object (cmd_object.c): prints from db, where the object has
 * the id id. */
typedef struct hs_error *hs_first_object_fn(void *arg, sqlite3 *db, long long id);

/* `heapsnap path SNAP ADDR` and `show`: calls work on a partial database of the object at addr
 * and the objects and edges of its path, with refs its references in and out too (the objects,
 * edges and referrers rows: hs_store_partial).  Returns the exit code (work's error reported), or
 * -1 when SNAP is no fresh snapshot, ADDR no object of it, or work declined (the caller then goes
 * through the database, which is written by then and gives the error of an unknown ADDR). */
int hs_first_object(const char *path, const char *addr, bool refs, hs_first_object_fn *work,
                    void *arg);

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
