/*
 * cmd_diff.c — `heapsnap diff OLD NEW`: what grew between two snapshots of one process.
 * Objects are matched by address and type name.  Three sections: per type, the count and bytes
 * gained or lost; the new objects (largest retained first); the matched containers that grew;
 * and a fourth when the snapshots have allocation sites: per site, the count, bytes and memory
 * gained or lost.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "load.h"
#include "rows.h"
#include "store.h"

struct section {
	const char *name, *title, *sql;
	bool sites; /* printed by default only when either snapshot has allocation sites */
};

static const struct section sections[] = {
    {"types", "by type",
     "WITH n AS (SELECT t.name AS type, count(*) AS c, sum(o.size) AS b"
     "  FROM main.objects o JOIN main.types t ON t.id = o.type_id GROUP BY t.name),"
     " p AS (SELECT t.name AS type, count(*) AS c, sum(o.size) AS b"
     "  FROM old.objects o JOIN old.types t ON t.id = o.type_id GROUP BY t.name) "
     "SELECT type, coalesce(n.c, 0) - coalesce(p.c, 0) AS count_delta,"
     " coalesce(n.b, 0) - coalesce(p.b, 0) AS bytes_delta, coalesce(p.c, 0) AS old_count,"
     " coalesce(n.c, 0) AS new_count, coalesce(p.b, 0) AS old_bytes, coalesce(n.b, 0) AS new_bytes "
     "FROM n FULL OUTER JOIN p USING (type) WHERE count_delta != 0 OR bytes_delta != 0 "
     "ORDER BY abs(bytes_delta) DESC, type LIMIT ?1",
     false},
    {"new", "new objects",
     "SELECT printf('0x%x', addr) AS addr, type, size, retained, hs_path(id) AS path FROM"
     " (SELECT o.id, o.addr, t.name AS type, o.size, o.retained"
     "  FROM main.objects o JOIN main.types t ON t.id = o.type_id"
     "  WHERE NOT EXISTS (SELECT 1 FROM old.objects p JOIN old.types pt ON pt.id = p.type_id"
     "   WHERE p.addr = o.addr AND pt.name = t.name)"
     "  ORDER BY o.retained DESC, o.addr LIMIT ?1)",
     false},
    {"grown", "containers that grew",
     "SELECT printf('0x%x', addr) AS addr, type, old_refs, new_refs, refs_delta, old_size,"
     " new_size, bytes_delta, hs_path(id) AS path FROM"
     " (SELECT n.id, n.addr, t.name AS type, p.nrefs AS old_refs,"
     "  n.nrefs AS new_refs, n.nrefs - p.nrefs AS refs_delta, p.size AS old_size,"
     "  n.size AS new_size, n.size - p.size AS bytes_delta"
     "  FROM main.objects n JOIN main.types t ON t.id = n.type_id"
     "  JOIN old.objects p ON p.addr = n.addr JOIN old.types pt ON pt.id = p.type_id"
     "  WHERE pt.name = t.name AND (n.nrefs > p.nrefs OR n.size > p.size)"
     "  ORDER BY refs_delta DESC, bytes_delta DESC, n.addr LIMIT ?1)",
     false},
    {"sites", "by allocation site",
     "WITH n AS (SELECT s.filename, s.lineno, count(*) AS c, sum(o.size) AS b,"
     "  sum(o.memory) AS m FROM main.objects o JOIN main.sites s ON s.id = o.site"
     "  GROUP BY o.site),"
     " p AS (SELECT s.filename, s.lineno, count(*) AS c, sum(o.size) AS b,"
     "  sum(o.memory) AS m FROM old.objects o JOIN old.sites s ON s.id = o.site"
     "  GROUP BY o.site) "
     "SELECT filename, lineno, coalesce(n.c, 0) - coalesce(p.c, 0) AS count_delta,"
     " coalesce(n.b, 0) - coalesce(p.b, 0) AS bytes_delta,"
     " coalesce(n.m, 0) - coalesce(p.m, 0) AS memory_delta, coalesce(p.c, 0) AS old_count,"
     " coalesce(n.c, 0) AS new_count, coalesce(p.m, 0) AS old_memory,"
     " coalesce(n.m, 0) AS new_memory "
     "FROM n FULL OUTER JOIN p USING (filename, lineno)"
     " WHERE count_delta != 0 OR memory_delta != 0"
     " ORDER BY abs(memory_delta) DESC, filename, lineno LIMIT ?1",
     true},
};

/* Whether either snapshot of db has allocation sites. */
static bool has_sites(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db,
	                       "SELECT EXISTS (SELECT 1 FROM main.sites)"
	                       " OR EXISTS (SELECT 1 FROM old.sites)",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return false;
	bool yes = sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return yes;
}

/* Opens NEW and attaches OLD's database (both loaded on demand) as `old`. */
static struct hs_error *open_pair(const char *old_path, const char *new_path, sqlite3 **ret)
{
	sqlite3 *old, *db;
	struct hs_error *err = hs_cli_open(old_path, &old);
	if (err)
		return err;
	err = hs_cli_open(new_path, &db);
	if (!err) {
		err = hs_store_attach(db, sqlite3_db_filename(old, "main"), "old");
		if (err)
			sqlite3_close(db);
	}
	sqlite3_close(old);
	if (!err)
		*ret = db;
	return err;
}

int hs_cmd_diff(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap diff OLD NEW [--section types|new|grown|sites] [-n N] [--format F]\n\n"
	    "What grew from snapshot OLD to NEW (each a .hsnap or its .db), matching objects by\n"
	    "address and type: per type the count and bytes gained or lost (types); the objects\n"
	    "only NEW has, largest retained first (new); the objects in both whose references or\n"
	    "size grew (grown); per allocation site (file:line, when tracemalloc traced the\n"
	    "captures) the objects, bytes and memory gained or lost (sites).  Each section shows "
	    "N\n"
	    "rows (default 20).  The table format prints every section (sites only when a "
	    "snapshot\n"
	    "has sites) unless --section picks one; csv and json print one (default types).\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE, .limit = 20};
	int rc = hs_cmd_parse(argc, argv, help, "ns", 2, 2, &a);
	if (rc >= 0)
		return rc;
	const struct section *only = NULL;
	if (a.section) {
		for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
			if (strcmp(a.section, sections[i].name) == 0)
				only = &sections[i];
		if (!only)
			return hs_cli_usage_error("diff",
			                          "--section is types, new, grown or sites");
	} else if (a.format != HS_FORMAT_TABLE) {
		only = &sections[0];
	}
	sqlite3 *db;
	struct hs_error *err = open_pair(a.pos[0], a.pos[1], &db);
	if (err)
		return hs_cli_fail(err);
	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", a.limit);
	char *args[] = {limit};
	bool sites = only || has_sites(db);
	for (size_t i = 0; !err && i < sizeof(sections) / sizeof(sections[0]); i++) {
		if ((only && only != &sections[i]) || (sections[i].sites && !sites))
			continue;
		if (!only)
			printf("%s== %s ==\n", i ? "\n" : "", sections[i].title);
		err = hs_rows_run(db, sections[i].sql, 1, args, a.format, stdout);
	}
	sqlite3_close(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}
