/*
 * rows.c — runs SQL with bound command-line arguments and prints its rows through the hs_table
 * printer (rows.h); the note on conservatively scanned objects (its query:
 * queries/commands/conservative_types.sql).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_sql.h"
#include "rows.h"
#include "store.h"

struct hs_error *hs_rows_print(sqlite3 *db, sqlite3_stmt *stmt, struct hs_table *t, long max_rows,
                               long long *more)
{
	int rc, n = sqlite3_column_count(stmt);
	long rows = 0;
	*more = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (max_rows > 0 && rows >= max_rows) {
			++*more; /* counted, not printed */
			continue;
		}
		rows++;
		for (int i = 0; i < n; i++) {
			switch (sqlite3_column_type(stmt, i)) {
			case SQLITE_NULL:
				hs_table_cell(t, HS_CELL_NULL, NULL);
				break;
			case SQLITE_INTEGER:
			case SQLITE_FLOAT:
				hs_table_cell(t, HS_CELL_NUMBER,
				              (const char *)sqlite3_column_text(stmt, i));
				break;
			case SQLITE_BLOB: {
				const unsigned char *p = sqlite3_column_blob(stmt, i);
				int len = sqlite3_column_bytes(stmt, i);
				char *hex = malloc(2 * (size_t)len + 1);
				if (!hex)
					return &hs_error_nomem;
				for (int k = 0; k < len; k++)
					sprintf(hex + 2 * k, "%02x", p[k]);
				hex[2 * len] = 0;
				hs_table_cell(t, HS_CELL_TEXT, hex);
				free(hex);
				break;
			}
			default:
				hs_table_cell(t, HS_CELL_TEXT,
				              (const char *)sqlite3_column_text(stmt, i));
			}
		}
		hs_table_end_row(t);
	}
	return rc == SQLITE_DONE ? NULL : hs_store_error(db, "query");
}

/* Binds a command-line argument: an integer (decimal or 0x hex) or real when it reads as one,
 * text otherwise. */
static void bind_arg(sqlite3_stmt *stmt, int i, const char *arg)
{
	char *end;
	errno = 0;
	bool hex = arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X');
	long long v = hex ? (long long)strtoull(arg, &end, 16) : strtoll(arg, &end, 10);
	if (*arg && !*end && !errno) {
		sqlite3_bind_int64(stmt, i, v);
		return;
	}
	double d = strtod(arg, &end);
	if (*arg && !*end)
		sqlite3_bind_double(stmt, i, d);
	else
		sqlite3_bind_text(stmt, i, arg, -1, SQLITE_STATIC);
}

struct hs_error *hs_rows_run(sqlite3 *db, const char *sql, int nargs, char **args,
                             enum hs_format format, FILE *out)
{
	return hs_rows_run_max(db, sql, nargs, args, format, out, 0);
}

/* The line after a listing cut at max_rows: in the table, or on stderr beside csv and json
 * (which stay whole documents). */
static void print_more(FILE *out, enum hs_format format, long long more)
{
	if (more)
		fprintf(format == HS_FORMAT_TABLE ? out : stderr,
		        "... %lld more rows (-n N to list more, -n 0 for all)\n", more);
}

struct hs_error *hs_rows_run_max(sqlite3 *db, const char *sql, int nargs, char **args,
                                 enum hs_format format, FILE *out, long max_rows)
{
	const char *tail = sql;
	struct hs_error *err = NULL;
	while (!err && tail && *tail) {
		sqlite3_stmt *stmt;
		if (sqlite3_prepare_v2(db, tail, -1, &stmt, &tail) != SQLITE_OK)
			return hs_store_error(db, "SQL");
		if (!stmt) /* whitespace or a comment */
			break;
		int nparams = sqlite3_bind_parameter_count(stmt);
		for (int i = 0; i < nargs && i < nparams; i++)
			bind_arg(stmt, i + 1, args[i]);
		int ncols = sqlite3_column_count(stmt);
		if (ncols) {
			const char **names = calloc((size_t)ncols, sizeof(char *));
			if (!names) {
				sqlite3_finalize(stmt);
				return &hs_error_nomem;
			}
			for (int i = 0; i < ncols; i++)
				names[i] = sqlite3_column_name(stmt, i);
			struct hs_table *t = hs_table_create(out, format, (size_t)ncols, names);
			free(names);
			long long more = 0;
			err = hs_rows_print(db, stmt, t, max_rows, &more);
			struct hs_error *lost = hs_table_destroy(t);
			if (!err)
				err = lost;
			if (!err)
				print_more(out, format, more);
		} else if (sqlite3_step(stmt) != SQLITE_DONE) {
			err = hs_store_error(db, "SQL");
		}
		sqlite3_finalize(stmt);
	}
	return err;
}

struct hs_error *hs_rows_print_conservative(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, hs_sql_cmd_conservative_types, -1, &stmt, NULL) != SQLITE_OK)
		return hs_store_error(db, "conservatively scanned objects");
	int rc, row = 0;
	long long ntypes = 0;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const unsigned char *name = sqlite3_column_text(stmt, 0);
		if (row == 0) {
			ntypes = sqlite3_column_int64(stmt, 3);
			fprintf(
			    out,
			    "\nconservatively scanned: %lld objects of %lld types unknown to the "
			    "capture; their references were found by scanning their memory, so "
			    "objects they hold may be missing:\n ",
			    sqlite3_column_int64(stmt, 2), ntypes);
		}
		if (row < 10)
			fprintf(out, " %s %lld%s", name ? (const char *)name : "?",
			        sqlite3_column_int64(stmt, 1), row + 1 < ntypes ? "," : "");
		row++;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return hs_store_error(db, "conservatively scanned objects");
	if (row > 10)
		fprintf(out, " and %d more types", row - 10);
	if (row)
		fputs("\n", out);
	return NULL;
}
