/* commands.h — the functions behind commands.def, one per subcommand, and the argument parsing
 * the database commands share (cmd_args.c). */
#ifndef HS_COMMANDS_H
#define HS_COMMANDS_H

#include <stdbool.h>

#include "cli.h"

int hs_cmd_capture(int argc, char **argv);
int hs_cmd_watch(int argc, char **argv);
int hs_cmd_summary(int argc, char **argv);
int hs_cmd_convert(int argc, char **argv);
int hs_cmd_export(int argc, char **argv);
int hs_cmd_check(int argc, char **argv);
int hs_cmd_redact(int argc, char **argv);
int hs_cmd_load(int argc, char **argv);
int hs_cmd_types(int argc, char **argv);
int hs_cmd_top(int argc, char **argv);
int hs_cmd_cycles(int argc, char **argv);
int hs_cmd_garbage(int argc, char **argv);
int hs_cmd_show(int argc, char **argv);
int hs_cmd_path(int argc, char **argv);
int hs_cmd_referrers(int argc, char **argv);
int hs_cmd_deep(int argc, char **argv);
int hs_cmd_diff(int argc, char **argv);
int hs_cmd_query(int argc, char **argv);
int hs_cmd_sql(int argc, char **argv);
int hs_cmd_shell(int argc, char **argv);
int hs_cmd_leaks(int argc, char **argv);
int hs_cmd_report(int argc, char **argv);

/* ---------------------------------------------------------------------------------------------
 * What the commands share: `CMD SNAP [ARG...] [--format F] [-n N]` parsing.
 */
struct hs_cmd_args {
	enum hs_format format;
	long limit;          /* -n N; the command's default when not given */
	const char *by;      /* --by, for top */
	const char *section; /* --section, for diff */
	bool list;           /* --list, for query */
	const char *output;  /* -o, for load */
	bool dot;            /* --dot, for path and cycles */
	int npos;
	char **pos; /* positional arguments */
};
/* Parses argv for command cmd with usage text help; opts is a string of the optional letters it
 * accepts among "nbslod" (-n, --by, --section, --list, -o, --dot).  Returns -1 when the command
 * should go on, or the exit code (help printed: 0, usage error: 2). */
int hs_cmd_parse(int argc, char **argv, const char *help, const char *opts, int min_pos,
                 int max_pos, struct hs_cmd_args *ret);

#endif
