/*
 * store_cli.c — what the database commands share: argument parsing (SNAP, ADDR, --format, -n),
 * running SQL with bound arguments and printing its rows through the hs_table printer, and
 * finding named queries.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

struct hs_error *hs_store_error(sqlite3 *db, const char *what)
{
	const char *file = db ? sqlite3_db_filename(db, "main") : NULL;
	return hs_error_create(HS_ERROR_FORMAT, "%s: %s: %s", file && *file ? file : "database",
	                       what, db ? sqlite3_errmsg(db) : "out of memory");
}

struct hs_error *hs_store_print(sqlite3 *db, sqlite3_stmt *stmt, struct hs_table *t)
{
	int rc, n = sqlite3_column_count(stmt);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
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

struct hs_error *hs_store_run(sqlite3 *db, const char *sql, int nargs, char **args,
                              enum hs_format format, FILE *out)
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
			err = hs_store_print(db, stmt, t);
			hs_table_destroy(t);
		} else if (sqlite3_step(stmt) != SQLITE_DONE) {
			err = hs_store_error(db, "SQL");
		}
		sqlite3_finalize(stmt);
	}
	return err;
}

struct hs_error *hs_store_find(sqlite3 *db, const char *addr, long long *ret)
{
	char *end;
	errno = 0;
	bool hex = addr[0] == '0' && (addr[1] == 'x' || addr[1] == 'X');
	unsigned long long a = strtoull(addr, &end, hex ? 16 : 10);
	if (!*addr || *end || errno || addr[0] == '-')
		return hs_error_create(HS_ERROR_USAGE, "'%s' is not an address (0x hex or decimal)",
		                       addr);
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "SELECT id FROM objects WHERE addr = ?", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return hs_store_error(db, "find object");
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)a);
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc == SQLITE_ROW)
		return NULL;
	const char *file = sqlite3_db_filename(db, "main");
	return hs_error_create(HS_ERROR_OTHER, "%s: no object at address 0x%llx", file, a);
}

const struct hs_named_query *hs_query_find(const char *name)
{
	for (size_t i = 0; i < hs_nqueries; i++)
		if (strcmp(hs_queries[i].name, name) == 0)
			return &hs_queries[i];
	return NULL;
}

int hs_cmd_parse(int argc, char **argv, const char *help, const char *opts, int min_pos,
                 int max_pos, struct hs_cmd_args *ret)
{
	static const struct option all[] = {{"format", required_argument, NULL, 'f'},
	                                    {"limit", required_argument, NULL, 'n'},
	                                    {"top", required_argument, NULL, 'n'},
	                                    {"by", required_argument, NULL, 'b'},
	                                    {"section", required_argument, NULL, 's'},
	                                    {"list", no_argument, NULL, 'l'},
	                                    {"output", required_argument, NULL, 'o'},
	                                    {"help", no_argument, NULL, 'h'},
	                                    {NULL, 0, NULL, 0}};
	const char *cmd = argv[0];
	ret->npos = 0;
	ret->pos = argv + 1;
	optind = 0; /* glibc: start over, forgetting any earlier parse */
	/* "+": stop at each positional argument, move it to the front of argv (to a slot already
	 * read) and go on, so options may come before or after them; "--" ends the options. */
	for (;;) {
		int c = getopt_long(argc, argv, "+f:n:b:s:lo:h", all, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			bool dashdash = strcmp(argv[optind - 1], "--") == 0;
			do
				ret->pos[ret->npos++] = argv[optind++];
			while (dashdash && optind < argc);
			continue;
		}
		char *end;
		if (c == 'h')
			return fputs(help, stdout), HS_EXIT_OK;
		if (c == '?')
			return hs_cli_usage_error(cmd, "unknown option");
		if (c != 'f' && !strchr(opts, c))
			return hs_cli_usage_error(cmd, "no option -%c here", c);
		switch (c) {
		case 'f':
			if (!hs_format_parse(optarg, &ret->format))
				return hs_cli_usage_error(cmd, "--format is table, csv or json");
			break;
		case 'n':
			ret->limit = strtol(optarg, &end, 10);
			if (ret->limit < 0 || *end || !*optarg)
				return hs_cli_usage_error(cmd, "-n needs a count");
			break;
		case 'b':
			ret->by = optarg;
			break;
		case 's':
			ret->section = optarg;
			break;
		case 'l':
			ret->list = true;
			break;
		case 'o':
			ret->output = optarg;
			break;
		}
	}
	if (ret->npos < min_pos || ret->npos > max_pos)
		return hs_cli_usage_error(cmd, "wrong number of arguments");
	return -1;
}
