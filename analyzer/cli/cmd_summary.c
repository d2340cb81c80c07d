/*
 * cmd_summary.c — `heapsnap summary SNAP`: what a snapshot holds at a glance (producer, counts,
 * bytes, garbage) and its top types by bytes, from its database (a .hsnap is loaded on demand).
 * The overview's SQL is queries/commands/summary_overview.sql.  On a snapshot with no database
 * yet, the same is printed first from the snapshot and its analysis (first_answer.h), through
 * first_overview.sql and first_types.sql, and the database is written after.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd_sql.h"
#include "commands.h"
#include "first_answer.h"
#include "load.h"
#include "rows.h"
#include "store.h"

static struct hs_error *print_overview(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return hs_store_error(db, "summary");
	if (sqlite3_step(stmt) == SQLITE_ROW)
		for (int i = 0; i < sqlite3_column_count(stmt); i++) {
			const unsigned char *v = sqlite3_column_text(stmt, i);
			printf("%-14s%s\n", sqlite3_column_name(stmt, i), v ? (const char *)v : "");
		}
	putchar('\n');
	sqlite3_finalize(stmt);
	return NULL;
}

/* The summary from db: the overview (a table only), the types (types_sql, its ?2 total when
 * not NULL), the note on conservatively scanned objects (a table only). */
static struct hs_error *print_summary(sqlite3 *db, const struct hs_cmd_args *a,
                                      const char *overview_sql, const char *types_sql, char *total)
{
	struct hs_error *err = NULL;
	if (a->format == HS_FORMAT_TABLE)
		err = print_overview(db, overview_sql);
	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", a->limit);
	char *args[] = {limit, total};
	if (!err)
		err = hs_rows_run(db, types_sql, total ? 2 : 1, args, a->format, stdout);
	if (!err && a->format == HS_FORMAT_TABLE) {
		fflush(stdout);
		err = hs_rows_print_conservative(db, stdout);
	}
	return err;
}

/* The summary of a fresh snapshot, from its partial database (hs_first_summary_db). */
static struct hs_error *answer_summary(void *arg, const struct hs_snapshot *snap,
                                       const struct hs_analysis *an)
{
	const struct hs_cmd_args *a = arg;
	sqlite3 *db;
	char total[32];
	struct hs_error *err = hs_first_summary_db(a->pos[0], snap, an, &db, total);
	if (err)
		return err;
	err = print_summary(db, a, hs_sql_cmd_first_overview, hs_sql_cmd_first_types, total);
	sqlite3_close(db);
	return err;
}

int hs_cmd_summary(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap summary SNAP [--format table|csv|json] [--top N]\n\n"
	    "Prints the snapshot's producer, counts, bytes and GC garbage, then the N (default "
	    "10)\n"
	    "types holding the most bytes (only those in csv and json).  SNAP is a .hsnap or its\n"
	    ".db.  `conservative` counts the objects whose type the capture does not know: their\n"
	    "references were found by scanning their memory, so objects they hold may be\n"
	    "missing; the types of those objects are listed at the end.  `unrooted` counts the\n"
	    "objects no root reaches (objects.depth NULL: `heapsnap path` has no path for them):\n"
	    "the GC garbage and what only garbage holds.  `bytes` sums sys.getsizeof; `memory`\n"
	    "what the objects occupy in memory (objects.memory: their allocations as the "
	    "allocator\n"
	    "rounds them; the in-process capture gives it).  `database` is the SQLite file the\n"
	    "commands read (`sqlite3 DATABASE` opens it).\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE, .limit = 10};
	int rc = hs_cmd_parse(argc, argv, help, "n", 1, 1, &a);
	if (rc >= 0)
		return rc;
	bool answered;
	struct hs_error *err = hs_cli_first_answer(a.pos[0], answer_summary, &a, true, &answered);
	if (err || answered)
		return err ? hs_cli_fail(err) : HS_EXIT_OK;
	sqlite3 *db;
	err = hs_cli_open(a.pos[0], &db);
	if (err)
		return hs_cli_fail(err);
	err = print_summary(db, &a, hs_sql_cmd_summary_overview,
	                    hs_query_find("type_histogram")->sql, NULL);
	sqlite3_close(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}
