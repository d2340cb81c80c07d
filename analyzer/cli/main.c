/*
 * main.c — the heapsnap command: git-style subcommands, each with --help, and the exit codes of
 * DESIGN.md (0 success, 1 user or data error, 2 usage error).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

const struct hs_command hs_commands[] = {
#define HS_COMMAND(name, fn, summary) {name, fn, summary},
#include "commands.def"
#undef HS_COMMAND
    {NULL, NULL, NULL},
};

int hs_cli_fail(struct hs_error *err)
{
	fprintf(stderr, "heapsnap: %s\n", err->message);
	int code = err->code == HS_ERROR_USAGE ? HS_EXIT_USAGE : HS_EXIT_DATA;
	hs_error_destroy(err);
	return code;
}

/* A pid as the kernel has them: decimal digits only (whitespace around them allowed), 1 to
 * INT_MAX (never wrapped: 4294999707 is no alias for 32411). */
bool hs_cli_parse_pid(const char *s, int *ret)
{
	uint64_t v;
	if (!hs_parse_u64(s, false, &v) || v == 0 || v > INT_MAX)
		return false;
	*ret = (int)v;
	return true;
}

int hs_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct hs_error *err = hs_error_createv(HS_ERROR_USAGE, fmt, ap); /* one line, escaped */
	va_end(ap);
	fprintf(stderr, "heapsnap %s: %s\n(see 'heapsnap %s --help')\n", cmd, err->message, cmd);
	hs_error_destroy(err);
	return HS_EXIT_USAGE;
}

bool hs_cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

static void usage(FILE *out)
{
	fputs("usage: heapsnap COMMAND [ARGS...]   (heapsnap COMMAND --help for one command)\n\n"
	      "Capture a Python heap into a .hsnap snapshot and find what keeps memory alive.\n\n"
	      "commands:\n",
	      out);
	for (const struct hs_command *c = hs_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fputs("\nA damaged snapshot is refused (exit 1, with the offset); every analysis command "
	      "takes\n"
	      "--salvage to analyse what survives, and then marks its output partial.\n"
	      "\nExit codes: 0 success, 1 user or data error, 2 usage error.\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return HS_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return HS_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("heapsnap %s\n", HS_VERSION);
		return HS_EXIT_OK;
	}
	for (const struct hs_command *c = hs_commands; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "heapsnap: '%s' is not a command (see 'heapsnap --help')\n", argv[1]);
	return HS_EXIT_USAGE;
}
