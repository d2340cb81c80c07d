/*
 * cli.h — what the heapsnap command's subcommands share: the command table, exit codes, option
 * helpers, the table/CSV/JSON row printer (output.c) and the named queries' listing.
 *
 * Each subcommand is a function `int hs_cmd_NAME(int argc, char **argv)` (argv[0] is the
 * subcommand's name) registered in main.c's table, and returns an exit code.
 */
#ifndef HS_CLI_H
#define HS_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "hsnap.h"

/* Exit codes (DESIGN.md): scripts rely on them. */
enum { HS_EXIT_OK = 0, HS_EXIT_DATA = 1, HS_EXIT_USAGE = 2 };

/* Prints "heapsnap: MESSAGE" on stderr, frees err, and returns the exit code for it
 * (HS_EXIT_USAGE for HS_ERROR_USAGE, HS_EXIT_DATA otherwise). */
int hs_cli_fail(struct hs_error *err);
/* Prints "heapsnap CMD: MESSAGE" and "usage: ..." hint on stderr; returns HS_EXIT_USAGE. */
int hs_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A pid as the kernel has them: decimal digits (whitespace around them allowed), 1 to INT_MAX. */
bool hs_cli_parse_pid(const char *s, int *ret);

/* --------------------------------------------------------------------------------------------
 * Row output: --format table|csv|json.
 */
enum hs_format { HS_FORMAT_TABLE, HS_FORMAT_CSV, HS_FORMAT_JSON };
enum hs_cell_type { HS_CELL_NULL, HS_CELL_TEXT, HS_CELL_NUMBER };

/* Parses "table", "csv" or "json"; false when it is none of them. */
bool hs_format_parse(const char *s, enum hs_format *ret);

struct hs_table;
/* A printer of rows with the given column names to out.  Table output is buffered to align
 * columns and printed by hs_table_destroy; CSV and JSON stream.  Never NULL: out of memory is
 * sticky and hs_table_destroy reports it. */
struct hs_table *hs_table_create(FILE *out, enum hs_format format, size_t ncols,
                                 const char *const *names);
/* Adds the next cell of the current row (text is copied; NULL text is a NULL cell). */
void hs_table_cell(struct hs_table *t, enum hs_cell_type type, const char *text);
void hs_table_cellf(struct hs_table *t, enum hs_cell_type type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Ends the current row. */
void hs_table_end_row(struct hs_table *t);
/* Flushes what is buffered, ends the JSON array, and frees the printer.  Returns
 * &hs_error_nomem when a cell could not be kept (the table then printed nothing more; a
 * printer hs_table_create could not allocate drops every cell), else NULL; accepts NULL. */
struct hs_error *hs_table_destroy(struct hs_table *t);
/* Marks every table printed from now on as partial, saying why (note; NULL: complete): a
 * "(partial: NOTE)" line under table output, a "# partial: NOTE" line before the CSV header, a
 * "partial": true key in every JSON row. */
struct hs_error *hs_table_set_partial(const char *note);

/* The named queries, one row each (name, parameters, help), to out: `query --list` and the
 * shell's .queries (cmd_query.c). */
struct hs_error *hs_queries_print(FILE *out, enum hs_format format);

/* --------------------------------------------------------------------------------------------
 * The subcommands.
 */
struct hs_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary; /* one line for `heapsnap --help` */
};
extern const struct hs_command hs_commands[];

/* True when argv has -h or --help; commands print their usage then and exit 0. */
bool hs_cli_wants_help(int argc, char **argv);

#endif
