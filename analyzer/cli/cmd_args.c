/*
 * cmd_args.c — the argument parsing every database command shares: positional arguments (SNAP,
 * ADDR, ...) mixed with --format, -n/--limit/--top, --by, --section, --list, -o and --dot
 * (commands.h).
 */
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "load.h"

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
	                                    {"dot", no_argument, NULL, 'd'},
	                                    {"help", no_argument, NULL, 'h'},
	                                    {"salvage", no_argument, NULL, 'S'},
	                                    {NULL, 0, NULL, 0}};
	const char *cmd = argv[0];
	ret->npos = 0;
	ret->pos = argv + 1;
	optind = 0; /* glibc: start over, forgetting any earlier parse */
	/* "+": stop at each positional argument, move it to the front of argv (to a slot already
	 * read) and go on, so options may come before or after them; "--" ends the options. */
	for (;;) {
		int c = getopt_long(argc, argv, "+f:n:b:s:lo:dh", all, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			bool dashdash = strcmp(argv[optind - 1], "--") == 0;
			do
				ret->pos[ret->npos++] = argv[optind++];
			while (dashdash && optind < argc);
			continue;
		}
		if (c == 'h')
			return fputs(help, stdout), HS_EXIT_OK;
		if (c == 'S') {
			hs_cli_allow_salvage(true);
			continue;
		}
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
			uint64_t n;
			if (!hs_parse_u64(optarg, false, &n) || n > LONG_MAX)
				return hs_cli_usage_error(cmd, "-n needs a count");
			ret->limit = (long)n;
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
		case 'd':
			ret->dot = true;
			break;
		}
	}
	if (ret->npos < min_pos || ret->npos > max_pos)
		return hs_cli_usage_error(cmd, "wrong number of arguments");
	return -1;
}
