/*
 * shell.c — `heapsnap shell SNAP`: an interactive SQL shell on the snapshot's database.
 *
 * On a terminal it uses readline, with history in ~/.heapsnap_history and tab completion of the
 * dot-commands, named queries, tables, columns, SQL keywords and the hs_ functions; otherwise it
 * reads statements from stdin without prompts, so scripts can drive it.  A statement runs once
 * sqlite3_complete() says it is whole; dot-commands are one line each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "commands.h"
#include "load.h"
#include "rows.h"
#include "store.h"

static const char shell_help[] =
    ".help                   this text\n"
    ".tables                 the tables\n"
    ".schema [TABLE]         the CREATE statements\n"
    ".mode table|csv|json    how rows are printed\n"
    ".timer on|off           print the time each statement took\n"
    ".queries                the named queries\n"
    ".query NAME [ARG...]    run a named query (ARGs bind to ?1, ?2, ...)\n"
    ".quit                   leave (also .exit or end of input)\n"
    "Anything else is SQL, run when it ends with ';'.  Functions: hs_type(id), hs_path(id),\n"
    "hs_deep_size(id), hs_deep_memory(id).  The tables are described in analyzer/SCHEMA.md.\n";

static const char *const dot_commands[] = {".help",    ".tables", ".schema", ".mode", ".timer",
                                           ".queries", ".query",  ".quit",   ".exit", NULL};
static const char *const sql_words[] = {"SELECT",   "FROM",     "WHERE",         "GROUP BY",
                                        "ORDER BY", "LIMIT",    "JOIN",          "LEFT JOIN",
                                        "ON",       "AS",       "AND",           "OR",
                                        "NOT",      "IN",       "IS NULL",       "DESC",
                                        "ASC",      "HAVING",   "DISTINCT",      "count(",
                                        "sum(",     "max(",     "min(",          "avg(",
                                        "printf(",  "WITH",     "RECURSIVE",     "UNION ALL",
                                        "hs_type(", "hs_path(", "hs_deep_size(", "hs_deep_memory(",
                                        NULL};

struct shell {
	sqlite3 *db;
	enum hs_format mode;
	bool timer;
	/* Completion words: tables and columns of the database, read once. */
	char **names;
	size_t nnames;
};

/* Readline's completion callbacks take no argument: the one shell of this process. */
static struct shell *the_shell;

static void add_name(struct shell *sh, const char *name)
{
	for (size_t i = 0; i < sh->nnames; i++)
		if (strcmp(sh->names[i], name) == 0)
			return;
	char **grown = realloc(sh->names, (sh->nnames + 1) * sizeof(char *));
	char *copy = strdup(name);
	if (!grown || !copy) {
		free(copy);
		if (grown)
			sh->names = grown;
		return;
	}
	sh->names = grown;
	sh->names[sh->nnames++] = copy;
}

static void load_names(struct shell *sh)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(
	        sh->db,
	        "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p"
	        " WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid",
	        -1, &stmt, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		add_name(sh, (const char *)sqlite3_column_text(stmt, 0));
		add_name(sh, (const char *)sqlite3_column_text(stmt, 1));
	}
	sqlite3_finalize(stmt);
}

/* The completion candidates of the current context, walked by gen_state. */
enum context { CTX_DOT, CTX_QUERY, CTX_MODE, CTX_TABLE, CTX_SQL };
static enum context gen_context;

/* The n-th candidate word of the context, or NULL past the last. */
static const char *candidate(size_t n)
{
	static const char *const modes[] = {"table", "csv", "json", NULL};
	switch (gen_context) {
	case CTX_DOT:
		return n < sizeof(dot_commands) / sizeof(dot_commands[0]) ? dot_commands[n] : NULL;
	case CTX_QUERY:
		return n < hs_nqueries ? hs_queries[n].name : NULL;
	case CTX_MODE:
		return n < 3 ? modes[n] : NULL;
	case CTX_TABLE:
	case CTX_SQL:
		if (n < the_shell->nnames)
			return the_shell->names[n];
		n -= the_shell->nnames;
		if (gen_context == CTX_TABLE)
			return NULL;
		return n < sizeof(sql_words) / sizeof(sql_words[0]) ? sql_words[n] : NULL;
	}
	return NULL;
}

static char *generate(const char *text, int state)
{
	static size_t next;
	if (state == 0)
		next = 0;
	/* "o.si" completes the column part after the last dot (not for dot-commands). */
	const char *dot = gen_context == CTX_DOT ? NULL : strrchr(text, '.');
	const char *word = dot ? dot + 1 : text;
	size_t len = strlen(word), plen = (size_t)(word - text);
	const char *c;
	while ((c = candidate(next++)) != NULL) {
		if (strncasecmp(c, word, len) != 0)
			continue;
		char *match = malloc(plen + strlen(c) + 1);
		if (match) {
			memcpy(match, text, plen);
			strcpy(match + plen, c);
		}
		return match;
	}
	return NULL;
}

static char **complete(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1; /* never fall back to file names */
	const char *line = rl_line_buffer;
	while (*line == ' ')
		line++;
	if (line == rl_line_buffer + start && text[0] == '.')
		gen_context = CTX_DOT;
	else if (strncmp(line, ".query ", 7) == 0)
		gen_context = CTX_QUERY;
	else if (strncmp(line, ".mode ", 6) == 0)
		gen_context = CTX_MODE;
	else if (strncmp(line, ".schema ", 8) == 0)
		gen_context = CTX_TABLE;
	else
		gen_context = CTX_SQL;
	if (gen_context == CTX_SQL || gen_context == CTX_TABLE)
		rl_completion_append_character = '\0';
	return rl_completion_matches(text, generate);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Runs SQL (with args for ?1...) and reports errors without leaving the shell. */
static void run(struct shell *sh, const char *sql, int nargs, char **args)
{
	double t0 = now();
	struct hs_error *err = hs_rows_run(sh->db, sql, nargs, args, sh->mode, stdout);
	if (err) {
		fprintf(stderr, "error: %s\n", err->message);
		hs_error_destroy(err);
	}
	if (sh->timer)
		printf("Run Time: real %.3f\n", now() - t0);
	fflush(stdout);
}

/* Splits line into at most max whitespace-separated words, in place. */
static int split(char *line, char **words, int max)
{
	int n = 0;
	for (char *tok = strtok(line, " \t"); tok && n < max; tok = strtok(NULL, " \t"))
		words[n++] = tok;
	return n;
}

/* Runs a dot-command; false when it asks to leave. */
static bool dot_command(struct shell *sh, char *line)
{
	char *w[64];
	int n = split(line, w, 64);
	if (strcmp(w[0], ".quit") == 0 || strcmp(w[0], ".exit") == 0)
		return false;
	if (strcmp(w[0], ".help") == 0) {
		fputs(shell_help, stdout);
	} else if (strcmp(w[0], ".tables") == 0) {
		run(sh,
		    "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') ORDER BY name",
		    0, NULL);
	} else if (strcmp(w[0], ".schema") == 0) {
		run(sh,
		    "SELECT sql || ';' AS sql FROM sqlite_schema WHERE sql IS NOT NULL"
		    " AND (?1 IS NULL OR tbl_name = ?1) ORDER BY type DESC, name",
		    n > 1 ? 1 : 0, w + 1);
	} else if (strcmp(w[0], ".mode") == 0) {
		if (n != 2 || !hs_format_parse(w[1], &sh->mode))
			fputs("usage: .mode table|csv|json\n", stderr);
	} else if (strcmp(w[0], ".timer") == 0) {
		if (n == 2 && (strcmp(w[1], "on") == 0 || strcmp(w[1], "off") == 0))
			sh->timer = strcmp(w[1], "on") == 0;
		else
			fputs("usage: .timer on|off\n", stderr);
	} else if (strcmp(w[0], ".queries") == 0) {
		struct hs_error *err = hs_queries_print(stdout, sh->mode);
		if (err) {
			fprintf(stderr, "error: %s\n", err->message);
			hs_error_destroy(err);
		}
	} else if (strcmp(w[0], ".query") == 0) {
		const struct hs_named_query *q = n > 1 ? hs_query_find(w[1]) : NULL;
		if (q)
			run(sh, q->sql, n - 2, w + 2);
		else
			fputs("usage: .query NAME [ARG...] (.queries lists the names)\n", stderr);
	} else {
		fprintf(stderr, "unknown command %s (.help lists them)\n", w[0]);
	}
	fflush(stdout);
	return true;
}

/* One input line: from readline on a terminal, from stdin otherwise.  malloc'd or NULL at end. */
static char *read_line(bool tty, bool continued)
{
	if (tty)
		return readline(continued ? "   ...> " : "heapsnap> ");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, stdin);
	if (len < 0) {
		free(line);
		return NULL;
	}
	if (len && line[len - 1] == '\n')
		line[len - 1] = 0;
	return line;
}

static void repl(struct shell *sh, bool tty)
{
	char *buf = NULL; /* the statement being typed */
	size_t buflen = 0;
	char *line;
	while ((line = read_line(tty, buf != NULL)) != NULL) {
		const char *p = line + strspn(line, " \t");
		if (!buf && *p == 0) {
			free(line);
			continue;
		}
		if (tty && *p)
			add_history(line);
		if (!buf && *p == '.') {
			char *cmd = strdup(p);
			bool go_on = cmd ? dot_command(sh, cmd) : true;
			free(cmd);
			free(line);
			if (!go_on)
				break;
			continue;
		}
		size_t len = strlen(line);
		char *grown = realloc(buf, buflen + len + 2);
		if (!grown) {
			free(line);
			break;
		}
		buf = grown;
		memcpy(buf + buflen, line, len);
		buflen += len;
		buf[buflen++] = '\n';
		buf[buflen] = 0;
		free(line);
		if (sqlite3_complete(buf)) {
			run(sh, buf, 0, NULL);
			free(buf);
			buf = NULL;
			buflen = 0;
		}
	}
	if (buf && buf[strspn(buf, " \t\n")]) /* a last statement without ';' */
		run(sh, buf, 0, NULL);
	free(buf);
}

int hs_cmd_shell(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap shell SNAP [--format table|csv|json]\n\n"
	    "An interactive SQL shell on the snapshot's database (read-only).  On a terminal:\n"
	    "readline editing, history in ~/.heapsnap_history, tab completion of commands, query\n"
	    "names, tables and columns.  Otherwise it reads statements from stdin.  .help inside\n"
	    "lists the dot-commands.\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE};
	int rc = hs_cmd_parse(argc, argv, help, "", 1, 1, &a);
	if (rc >= 0)
		return rc;
	struct shell sh = {.mode = a.format};
	struct hs_error *err = hs_cli_open(a.pos[0], &sh.db);
	if (err)
		return hs_cli_fail(err);
	bool tty = isatty(0) == 1;
	char *history = NULL;
	if (tty) {
		the_shell = &sh;
		load_names(&sh);
		rl_readline_name = "heapsnap";
		rl_attempted_completion_function = complete;
		using_history();
		const char *home = getenv("HOME");
		if (home && asprintf(&history, "%s/.heapsnap_history", home) < 0)
			history = NULL;
		if (history)
			read_history(history);
		printf("heapsnap shell on %s: .help for help, .quit to leave\n", a.pos[0]);
	}
	repl(&sh, tty);
	if (history) {
		write_history(history);
		history_truncate_file(history, 1000);
		free(history);
	}
	for (size_t i = 0; i < sh.nnames; i++)
		free(sh.names[i]);
	free(sh.names);
	sqlite3_close(sh.db);
	return HS_EXIT_OK;
}
