/*
 * cmd_objects.c — the commands that list objects of a whole snapshot: types, top, cycles and
 * garbage.  Each runs SQL (a named query where one fits) on the snapshot's database.
 */
#include <stdio.h>
#include <string.h>

#include "cmd_sql.h"
#include "commands.h"
#include "dot.h"
#include "first_answer.h"
#include "load.h"
#include "rows.h"
#include "store.h"

/* cycles --dot: the objects drawn at most, per component and in all, as its help says (dot is
 * slow on more) */
enum { DOT_MAX_COMPONENT = 100, DOT_MAX_NODES = 500 };

/* Opens SNAP, runs sql with the limit as ?1 (none when limit < 0), prints, closes. */
static int run_listing(const struct hs_cmd_args *a, const char *sql)
{
	sqlite3 *db;
	struct hs_error *err = hs_cli_open(a->pos[0], &db);
	if (err)
		return hs_cli_fail(err);
	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", a->limit);
	char *args[] = {limit};
	err = hs_rows_run(db, sql, a->limit < 0 ? 0 : 1, args, a->format, stdout);
	sqlite3_close(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}

int hs_cmd_types(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap types SNAP [-n N] [--format table|csv|json]\n\n"
	    "Objects and bytes per type, most bytes first (all types, or the first N).\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE, .limit = -1};
	int rc = hs_cmd_parse(argc, argv, help, "n", 1, 1, &a);
	return rc >= 0 ? rc : run_listing(&a, hs_query_find("type_histogram")->sql);
}

int hs_cmd_top(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap top SNAP [--by size|retained|memory|count|site] [-n N] [--format "
	    "table|csv|json]\n\n"
	    "The N (default 20) largest objects by their own size, by retained size (the memory\n"
	    "each keeps alive, with its path from a root), by retained memory (the same counted\n"
	    "as the allocator hands it out: objects.retained_memory, from the in-process "
	    "capture),\n"
	    "or the types with the most objects.\n"
	    "--by site: objects, bytes, memory and retained memory per allocation line (the most\n"
	    "recent frame tracemalloc kept for each object, when it was tracing during an\n"
	    "in-process capture), the lines whose objects keep the most memory alive first.\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE, .limit = 20, .by = "size"};
	int rc = hs_cmd_parse(argc, argv, help, "nb", 1, 1, &a);
	if (rc >= 0)
		return rc;
	if (strcmp(a.by, "size") == 0)
		return run_listing(&a, hs_query_find("largest_objects")->sql);
	if (strcmp(a.by, "retained") == 0) {
		const char *sql = hs_query_find("largest_retained")->sql;
		rc = hs_first_top_retained(&a, sql);
		return rc >= 0 ? rc : run_listing(&a, sql);
	}
	if (strcmp(a.by, "memory") == 0)
		return run_listing(&a, hs_query_find("largest_retained_memory")->sql);
	if (strcmp(a.by, "count") == 0)
		return run_listing(&a, hs_sql_cmd_top_by_count);
	if (strcmp(a.by, "site") == 0)
		return run_listing(&a, hs_query_find("allocation_sites")->sql);
	return hs_cli_usage_error("top", "--by is size, retained, memory, count or site");
}

int hs_cmd_cycles(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap cycles SNAP [-n N] [--format table|csv|json | --dot]\n\n"
	    "GC garbage (what gc.collect() would free) grouped by strongly connected component,\n"
	    "largest first, with the types in each.\n"
	    "--dot: the components (the first N) as a Graphviz digraph instead, one cluster each,\n"
	    "largest first, with each object's type, address and size and the labelled references\n"
	    "between them, drawing at most 100 objects of a component and 500 in all\n"
	    "(heapsnap cycles SNAP --dot | dot -Tsvg > cycles.svg).\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE, .limit = -1};
	int rc = hs_cmd_parse(argc, argv, help, "nd", 1, 1, &a);
	if (rc >= 0 || !a.dot)
		return rc >= 0 ? rc : run_listing(&a, hs_query_find("garbage_cycles")->sql);
	sqlite3 *db;
	struct hs_error *err = hs_cli_open(a.pos[0], &db);
	if (err)
		return hs_cli_fail(err);
	long long args[] = {a.limit, DOT_MAX_COMPONENT, DOT_MAX_NODES};
	err = hs_dot_write(db, hs_sql_cmd_cycles_dot, 3, args, "GC garbage by component", stdout);
	sqlite3_close(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}

int hs_cmd_garbage(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap garbage SNAP [-n N] [--format table|csv|json]\n\n"
	    "Every object gc.collect() would free (or the first N), by component then address.\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE, .limit = -1};
	int rc = hs_cmd_parse(argc, argv, help, "n", 1, 1, &a);
	return rc >= 0 ? rc : run_listing(&a, hs_sql_cmd_garbage_list);
}
