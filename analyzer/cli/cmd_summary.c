/*
 * cmd_summary.c — `heapsnap summary SNAP`: what a snapshot holds at a glance (producer, counts,
 * bytes, garbage) and its top types by bytes, from its database (a .hsnap is loaded on demand).
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "load.h"
#include "rows.h"
#include "store.h"

/* What a streamed load (meta.analysis not 'complete') did not compute reads "not computed". */
#define GRAPH(expr)                                                                                \
	" CASE WHEN (SELECT value FROM meta WHERE key = 'analysis') <> 'complete'"                 \
	" THEN 'not computed' ELSE " expr " END"

/* The one-row overview; printed as aligned "key  value" lines in table format. */
/* clang-format off */
static const char overview_sql[] =
    "SELECT (SELECT value FROM meta WHERE key = 'snapshot') AS snapshot,"
    " (SELECT file FROM pragma_database_list WHERE name = 'main') AS database,"
    " (SELECT value FROM meta WHERE key = 'producer') AS producer,"
    " (SELECT value FROM meta WHERE key = 'runtime') || ' ' ||"
    " (SELECT value FROM meta WHERE key = 'runtime_version') AS runtime,"
    " (SELECT count(*) FROM objects) AS objects,"
    " (SELECT count(*) FROM objects WHERE gc) AS gc_tracked,"
    " (SELECT coalesce(sum(size), 0) FROM objects) AS bytes,"
    " (SELECT CASE WHEN count(memory) THEN sum(memory) ELSE 'not captured' END"
    "  FROM objects) AS memory,"
    " (SELECT count(*) FROM edges) AS edges,"
    " (SELECT count(*) FROM weakrefs) AS weak,"
    " (SELECT count(*) FROM roots) AS roots,"
    " (SELECT count(*) FROM types) AS types,"
    GRAPH("(SELECT count(*) FROM objects WHERE unreachable)") " AS garbage,"
    GRAPH("(SELECT coalesce(sum(size), 0) FROM objects WHERE unreachable)") " AS garbage_bytes,"
    GRAPH("(SELECT count(*) FROM objects WHERE depth IS NULL)") " AS unrooted,"
    " (SELECT count(*) FROM objects WHERE flags & 4) AS conservative";
/* clang-format on */

static struct hs_error *print_overview(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, overview_sql, -1, &stmt, NULL) != SQLITE_OK)
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
	sqlite3 *db;
	struct hs_error *err = hs_cli_open(a.pos[0], &db);
	if (err)
		return hs_cli_fail(err);
	if (a.format == HS_FORMAT_TABLE)
		err = print_overview(db);

	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", a.limit);
	char *args[] = {limit};
	if (!err)
		err = hs_rows_run(db, hs_query_find("type_histogram")->sql, 1, args, a.format,
		                  stdout);
	if (!err && a.format == HS_FORMAT_TABLE) {
		fflush(stdout);
		err = hs_rows_print_conservative(db, stdout);
	}
	sqlite3_close(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}
