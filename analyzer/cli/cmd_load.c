/*
 * cmd_load.c — `heapsnap load SNAP [-o DB] [--stream]`: read, analyze and store a snapshot in the
 * SQLite database of SCHEMA.md (the step every other database command does on demand); with
 * --stream, the bounded-memory load of OUT-OF-CORE.md.
 */
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "load.h"
#include "store.h"

int hs_cmd_load(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap load SNAP.hsnap [-o SNAP.db] [--stream]\n\n"
	    "Builds the SQLite database of the snapshot with every analysis (GC garbage, strongly\n"
	    "connected components, dominators, retained sizes, depths; see analyzer/SCHEMA.md).\n"
	    "The default output is SNAP with .hsnap replaced by .db, where the other commands "
	    "look\n"
	    "for it.  Open it in sqlite3 with `.load libheapsnap_sqlite` for the hs_ functions.\n\n"
	    "--stream  a heap larger than memory: decode the snapshot run by run straight into "
	    "the\n"
	    "          database (memory: about 8 bytes per object plus 32 MiB); the graph\n"
	    "          analyses, value previews and dict-key labels are left NULL "
	    "(meta.analysis).\n";
	/* --stream is this command's own flag: taken out before the shared parser sees argv. */
	bool stream = false;
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--stream") == 0) {
			stream = true;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - i) * sizeof(*argv));
			argc--;
			break;
		}
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE};
	int rc = hs_cmd_parse(argc, argv, help, "o", 1, 1, &a);
	if (rc >= 0)
		return rc;
	char *db = a.output ? NULL : hs_store_db_path(a.pos[0]);
	if (!a.output && !db)
		return hs_cli_fail(&hs_error_nomem);
	struct hs_error *err = hs_out_not_input(a.output ? a.output : db, a.pos[0]);
	if (!err)
		err = stream ? hs_store_stream(a.pos[0], a.output ? a.output : db, NULL, NULL)
		             : hs_cli_load(a.pos[0], a.output ? a.output : db);
	if (!err)
		fprintf(stderr, "%s: loaded\n", a.output ? a.output : db);
	free(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}
