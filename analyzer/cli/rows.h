/*
 * rows.h — prints what SQL returns through the table/CSV/JSON printer of cli.h (rows.c): the
 * output of `query`, `sql`, the shell and every command whose answer is one SELECT.
 */
#ifndef HS_ROWS_H
#define HS_ROWS_H

#include <sqlite3.h>
#include <stdio.h>

#include "cli.h"

/* Prints the rows stmt returns with t (which the caller creates and destroys), at most
 * max_rows of them (0: every row); *more gets how many rows were left out. */
struct hs_error *hs_rows_print(sqlite3 *db, sqlite3_stmt *stmt, struct hs_table *t, long max_rows,
                               long long *more);
/* Prepares sql, binds the text arguments (integers when they look like one) to ?1, ?2, ...,
 * and prints the rows in format to out with the statement's column names. */
struct hs_error *hs_rows_run(sqlite3 *db, const char *sql, int nargs, char **args,
                             enum hs_format format, FILE *out);
/* The same, printing at most max_rows rows of each statement (0: all), then "... K more rows"
 * (in a table; on stderr beside csv and json). */
struct hs_error *hs_rows_run_max(sqlite3 *db, const char *sql, int nargs, char **args,
                                 enum hs_format format, FILE *out, long max_rows);
/* The note `summary` and `leaks` print when the capture scanned objects conservatively (their
 * type unknown to it: their references were found by scanning their memory, so objects they hold
 * may be missing): how many, of which types (the 10 commonest), after a blank line.  Nothing when
 * there are none. */
struct hs_error *hs_rows_print_conservative(sqlite3 *db, FILE *out);

#endif
