/*
 * cmd_query.c — `heapsnap query SNAP NAME [ARG...]` runs a named query (one .sql file of
 * queries/, embedded in the binary), `query --list` lists them (hs_queries_print, which the
 * shell's .queries prints too), and `heapsnap sql SNAP "SQL" [ARG...]` runs any SQL on the
 * snapshot's database (read-only, with the hs_ SQL functions).
 */
#include <stdio.h>

#include "commands.h"
#include "load.h"
#include "rows.h"
#include "store.h"

struct hs_error *hs_queries_print(FILE *out, enum hs_format format)
{
	static const char *const cols[] = {"name", "parameters", "help"};
	struct hs_table *t = hs_table_create(out, format, 3, cols);
	for (size_t i = 0; i < hs_nqueries; i++) {
		hs_table_cell(t, HS_CELL_TEXT, hs_queries[i].name);
		hs_table_cell(t, HS_CELL_TEXT, hs_queries[i].params);
		hs_table_cell(t, HS_CELL_TEXT, hs_queries[i].help);
		hs_table_end_row(t);
	}
	return hs_table_destroy(t);
}

/* Opens SNAP and runs sql with args bound to ?1, ?2, ... */
static int run_sql(const struct hs_cmd_args *a, const char *sql, int nargs, char **args)
{
	sqlite3 *db;
	struct hs_error *err = hs_cli_open(a->pos[0], &db);
	if (err)
		return hs_cli_fail(err);
	err = hs_rows_run_max(db, sql, nargs, args, a->format, stdout, a->limit);
	sqlite3_close(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}

int hs_cmd_query(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap query SNAP NAME [ARG...] [-n N] [--format table|csv|json]\n"
	    "       heapsnap query --list\n\n"
	    "Runs a named query; ARGs bind to its parameters ?1, ?2, ... in order (integers and\n"
	    "0x addresses as numbers).  --list prints every query with its parameters and help.\n"
	    "Put -- before arguments that start with '-'.  -n N prints the first N rows (default:\n"
	    "all), then how many more.\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE};
	int rc = hs_cmd_parse(argc, argv, help, "ln", 0, argc, &a);
	if (rc >= 0)
		return rc;
	if (a.list) {
		struct hs_error *err = hs_queries_print(stdout, a.format);
		return err ? hs_cli_fail(err) : HS_EXIT_OK;
	}
	if (a.npos < 2)
		return hs_cli_usage_error("query", "needs SNAP and a query NAME (or --list)");
	const struct hs_named_query *q = hs_query_find(a.pos[1]);
	if (!q)
		return hs_cli_usage_error(
		    "query", "no query named '%s' (see 'heapsnap query --list')", a.pos[1]);
	return run_sql(&a, q->sql, a.npos - 2, a.pos + 2);
}

int hs_cmd_sql(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap sql SNAP \"SELECT ...\" [ARG...] [-n N] [--format table|csv|json]\n\n"
	    "Runs SQL on the snapshot's database (read-only; tables in analyzer/SCHEMA.md) with\n"
	    "the functions hs_type(id), hs_path(id), hs_deep_size(id) and hs_deep_memory(id).\n"
	    "ARGs bind to ?1, ?2, "
	    "...\n"
	    "Every statement that returns rows prints them (-n N: the first N of each, then how\n"
	    "many more; default all).\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE};
	int rc = hs_cmd_parse(argc, argv, help, "n", 2, argc, &a);
	return rc >= 0 ? rc : run_sql(&a, a.pos[1], a.npos - 2, a.pos + 2);
}
