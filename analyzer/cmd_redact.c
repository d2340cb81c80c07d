/*
 * cmd_redact.c — `heapsnap redact SNAP -o OUT`: a copy of a snapshot without its value previews
 * (the contents of strings, numbers and the like), for sharing a dump without its secrets.  The
 * graph, sizes, types, labels held as strings, meta, weak links and roots are kept; see
 * hs_snapshot_copy.
 */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "commands.h"

int hs_cmd_redact(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap redact SNAP.hsnap -o OUT.hsnap\n\n"
	    "Writes a copy of a snapshot without value previews (no VALUES sections), created "
	    "with\n"
	    "mode 0600.  Everything else is kept; dict keys and attribute names that were shown\n"
	    "through their str object's value become \"<str at 0xADDR>\".\n";
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *out = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'h')
			return fputs(help, stdout), HS_EXIT_OK;
		else
			return hs_cli_usage_error("redact", "unknown option");
	}
	if (optind + 1 != argc || !out)
		return hs_cli_usage_error("redact", "needs SNAP.hsnap and -o OUT.hsnap");
	struct hs_snapshot *snap;
	struct hs_error *err = hs_snapshot_open(argv[optind], false, &snap);
	if (err)
		return hs_cli_fail(err);
	struct hs_writer_stats st;
	err = hs_snapshot_copy(snap, out, false, &st);
	if (!err)
		fprintf(stderr,
		        "%s: %llu objects, %llu edges, %llu value previews removed, %llu bytes\n",
		        out, (unsigned long long)st.objects, (unsigned long long)st.edges,
		        (unsigned long long)snap->nvalues, (unsigned long long)st.bytes);
	hs_snapshot_destroy(snap);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}
