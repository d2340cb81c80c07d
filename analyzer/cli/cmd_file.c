/*
 * cmd_file.c — the commands that work on snapshot files as files: convert (JSON lines to
 * .hsnap), export (.hsnap to JSON lines, or to a V8 heap snapshot for Chrome DevTools and
 * memlab: devtools.c), check (validate, say where a file is damaged) and redact (a copy without
 * value previews).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "devtools.h"

/* Parses `CMD INPUT -o OUTPUT [--help]`: returns -1 with *input and *output set, or the exit
 * code to return (help printed, or a usage error). */
static int input_and_output(int argc, char **argv, const char *help, const char **input,
                            const char **output)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c;
	*output = NULL;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (c == 'o')
			*output = optarg;
		else if (c == 'h')
			return fputs(help, stdout), HS_EXIT_OK;
		else
			return hs_cli_usage_error(argv[0], "unknown option");
	}
	if (optind + 1 != argc || !*output)
		return hs_cli_usage_error(argv[0], "needs an input file and -o OUTPUT");
	*input = argv[optind];
	struct hs_error *same = hs_out_not_input(*output, *input);
	return same ? hs_cli_fail(same) : -1;
}

int hs_cmd_convert(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap convert GRAPH.jsonl -o SNAP.hsnap\n\n"
	    "Turns a JSON-lines graph (one "
	    "{\"t\":\"object\"|\"edge\"|\"weak\"|\"root\"|\"meta\",...}\n"
	    "per line, see README.md) into a snapshot.  Objects may come in any order.\n";
	const char *in, *out;
	int code = input_and_output(argc, argv, help, &in, &out);
	if (code >= 0)
		return code;
	struct hs_writer_stats st;
	struct hs_error *err = hs_jsonl_convert(in, out, &st);
	if (err)
		return hs_cli_fail(err);
	fprintf(stderr, "%s: %llu objects, %llu edges, %llu weak links, %llu roots, %llu bytes\n",
	        out, (unsigned long long)st.objects, (unsigned long long)st.edges,
	        (unsigned long long)st.weak, (unsigned long long)st.roots,
	        (unsigned long long)st.bytes);
	return HS_EXIT_OK;
}

int hs_cmd_export(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap export SNAP.hsnap [--format jsonl|devtools] [-o FILE]\n\n"
	    "Writes a snapshot in another format, to FILE or to standard output:\n"
	    "  jsonl     JSON lines, the form convert reads (the default)\n"
	    "  devtools  a V8 heap snapshot (FILE.heapsnapshot), which the Memory panel of Chrome\n"
	    "            DevTools (Load) and memlab open: objects named by their type's\n"
	    "            __qualname__, the roots under (GC roots), attributes and dict keys as\n"
	    "            property edges, list and tuple items as element edges, weak references\n"
	    "            as weak edges; its dominators and retained sizes are heapsnap's\n"
	    "-o FILE is created with mode 0600 (it holds the snapshot's labels and value "
	    "previews)\n"
	    "and renamed into place.\n";
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *out = NULL;
	struct hs_error *(*write)(const struct hs_snapshot *, FILE *) = hs_jsonl_export;
	int c;
	while ((c = getopt_long(argc, argv, "o:f:h", opts, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 'f' && strcmp(optarg, "jsonl") == 0)
			write = hs_jsonl_export;
		else if (c == 'f' && strcmp(optarg, "devtools") == 0)
			write = hs_devtools_export;
		else if (c == 'f')
			return hs_cli_usage_error("export", "--format is jsonl or devtools");
		else if (c == 'h')
			return fputs(help, stdout), HS_EXIT_OK;
		else
			return hs_cli_usage_error("export", "unknown option");
	}
	if (optind + 1 != argc)
		return hs_cli_usage_error("export", "needs one SNAP.hsnap");
	struct hs_error *err = hs_out_not_input(out, argv[optind]);
	struct hs_snapshot *snap = NULL;
	if (!err)
		err = hs_snapshot_open(argv[optind], false, &snap);
	struct hs_out file = {.fd = -1};
	FILE *f = stdout;
	if (!err && out && !(err = hs_out_open(out, &file)) && !(f = fdopen(file.fd, "w")))
		err = hs_error_errno(errno, file.tmp, "open");
	if (!err)
		err = write(snap, f);
	if (!err && (ferror(f) || fflush(f) != 0))
		err = hs_error_errno(errno, out ? file.tmp : "stdout", "write");
	if (out && f && f != stdout) { /* the FILE owns file.fd: sync and close it here */
		if (!err && fsync(fileno(f)) != 0)
			err = hs_error_errno(errno, file.tmp, "fsync");
		if (fclose(f) != 0 && !err)
			err = hs_error_errno(errno, file.tmp, "close");
		file.fd = -1;
	}
	if (out)
		err = err ? (hs_out_abort(&file), err) : hs_out_commit(&file);
	hs_snapshot_destroy(snap);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}

int hs_cmd_check(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap check SNAP.hsnap\n\n"
	    "Validates every section, checksum, count and index.  Exit 0 when the file is whole;\n"
	    "1 with the offset of the first damage and what a salvage would recover otherwise\n"
	    "(`--salvage` on any analysis command analyses that).\n";
	if (hs_cli_wants_help(argc, argv))
		return fputs(help, stdout), HS_EXIT_OK;
	if (argc != 2 || argv[1][0] == '-')
		return hs_cli_usage_error("check", "needs one SNAP.hsnap");
	struct hs_snapshot *snap;
	struct hs_error *err = hs_snapshot_open(argv[1], false, &snap);
	if (!err) {
		printf("%s: ok: %llu objects, %llu edges, %llu weak links, %llu roots, %u types, "
		       "%llu bytes\n",
		       argv[1], (unsigned long long)snap->nobjects,
		       (unsigned long long)snap->nedges, (unsigned long long)snap->nweak,
		       (unsigned long long)snap->nroots, snap->ntypes,
		       (unsigned long long)snap->file_size);
		hs_snapshot_destroy(snap);
		return HS_EXIT_OK;
	}
	if (err->code != HS_ERROR_FORMAT)
		return hs_cli_fail(err);
	hs_cli_fail(err);
	err = hs_snapshot_open(argv[1], true, &snap);
	if (!err) {
		fprintf(stderr, "heapsnap: salvage: %s\n", snap->salvage_warning);
		hs_snapshot_destroy(snap);
	} else {
		fprintf(stderr, "heapsnap: salvage: nothing can be recovered: %s\n", err->message);
	}
	hs_error_destroy(err);
	return HS_EXIT_DATA;
}

int hs_cmd_redact(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap redact SNAP.hsnap -o OUT.hsnap\n\n"
	    "Writes a copy of a snapshot without value previews (no VALUES sections), created "
	    "with\n"
	    "mode 0600.  Everything else is kept; dict keys and attribute names that were shown\n"
	    "through their str object's value become \"<str at 0xADDR>\".\n";
	const char *in, *out;
	int code = input_and_output(argc, argv, help, &in, &out);
	if (code >= 0)
		return code;
	struct hs_snapshot *snap;
	struct hs_error *err = hs_snapshot_open(in, false, &snap);
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
