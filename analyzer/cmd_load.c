/*
 * cmd_load.c — `heapsnap load SNAP [-o DB]`: read, analyze and store a snapshot in the SQLite
 * database of SCHEMA.md (the step every other database command does on demand).
 */
#include <stdlib.h>

#include "commands.h"
#include "store.h"

int hs_cmd_load(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap load SNAP.hsnap [-o SNAP.db]\n\n"
	    "Builds the SQLite database of the snapshot with every analysis (GC garbage, strongly\n"
	    "connected components, dominators, retained sizes, depths; see analyzer/SCHEMA.md).\n"
	    "The default output is SNAP with .hsnap replaced by .db, where the other commands "
	    "look\n"
	    "for it.  Open it in sqlite3 with `.load libheapsnap_sqlite` for the hs_ functions.\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE};
	int rc = hs_cmd_parse(argc, argv, help, "o", 1, 1, &a);
	if (rc >= 0)
		return rc;
	char *db = a.output ? NULL : hs_store_db_path(a.pos[0]);
	if (!a.output && !db)
		return hs_cli_fail(&hs_error_nomem);
	struct hs_error *err = hs_store_load(a.pos[0], a.output ? a.output : db);
	if (!err)
		fprintf(stderr, "%s: loaded\n", a.output ? a.output : db);
	free(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}
