/*
 * cmd_object.c — the commands about one object, given by address: show, path, referrers and
 * deep.  ADDR is 0x hex or decimal; an address no object has is a data error (exit 1).
 */
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "dot.h"
#include "store.h"

/* The objects on the path to ?1, from its root (depth 0) to ?1 itself. */
#define CHAIN_SQL                                                                                  \
	"WITH RECURSIVE chain(id, n) AS (SELECT ?1, 0 UNION ALL"                                   \
	" SELECT e.src, chain.n + 1 FROM chain JOIN objects o ON o.id = chain.id"                  \
	" JOIN edges e ON e.id = o.parent_edge"                                                    \
	" WHERE o.depth > 0 AND chain.n < (SELECT depth FROM objects WHERE id = ?1)) "

/* Parses `CMD SNAP ADDR`, opens SNAP and finds ADDR's object id.  Returns -1 to go on (with
 * *db open), or the exit code. */
static int open_object(int argc, char **argv, const char *help, const char *opts,
                       struct hs_cmd_args *a, sqlite3 **db, char *id)
{
	int rc = hs_cmd_parse(argc, argv, help, opts, 2, 2, a);
	if (rc >= 0)
		return rc;
	long long found;
	struct hs_error *err = hs_store_open(a->pos[0], db);
	if (!err) {
		err = hs_store_find(*db, a->pos[1], &found);
		if (err)
			sqlite3_close(*db);
	}
	if (err)
		return hs_cli_fail(err);
	snprintf(id, 32, "%lld", found);
	return -1;
}

static int finish(sqlite3 *db, struct hs_error *err)
{
	sqlite3_close(db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}

int hs_cmd_show(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap show SNAP ADDR [--format table|csv|json]\n\n"
	    "The object at ADDR (relation 'object'), then what it refers to ('referent') and what\n"
	    "refers to it ('referrer'), each with the reference's label and kind (0 traverse,\n"
	    "1 owned, 2 conservative).\n";
	static const char sql[] =
	    "SELECT 'object' AS relation, printf('0x%x', o.addr) AS addr, t.name AS type,"
	    " o.size AS size, o.retained AS retained, o.refcnt AS refcnt, NULL AS label,"
	    " NULL AS kind, substr(o.value, 1, 60) AS value"
	    " FROM objects o JOIN types t ON t.id = o.type_id WHERE o.id = ?1 "
	    "UNION ALL SELECT * FROM (SELECT 'referent', printf('0x%x', d.addr), t.name, d.size,"
	    " d.retained, d.refcnt, e.label, e.kind, substr(d.value, 1, 60)"
	    " FROM edges e JOIN objects d ON d.id = e.dst JOIN types t ON t.id = d.type_id"
	    " WHERE e.src = ?1 ORDER BY e.id) "
	    "UNION ALL SELECT * FROM (SELECT 'referrer', printf('0x%x', s.addr), t.name, s.size,"
	    " s.retained, s.refcnt, e.label, e.kind, substr(s.value, 1, 60)"
	    " FROM referrers r JOIN edges e ON e.id = r.edge JOIN objects s ON s.id = r.src"
	    " JOIN types t ON t.id = s.type_id WHERE r.dst = ?1 ORDER BY s.addr, e.id)";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE};
	sqlite3 *db;
	char id[32];
	int rc = open_object(argc, argv, help, "", &a, &db, id);
	if (rc >= 0)
		return rc;
	struct hs_error *err = NULL;
	if (a.format == HS_FORMAT_TABLE) {
		char *path;
		err = hs_store_path(db, atoll(id), &path);
		if (!err)
			printf("path: %s\n\n", path ? path : "(no root reaches it)");
		free(path);
	}
	char *args[] = {id};
	if (!err)
		err = hs_store_run(db, sql, 1, args, a.format, stdout);
	return finish(db, err);
}

int hs_cmd_path(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap path SNAP ADDR [--format table|csv|json | --dot]\n\n"
	    "The shortest chain of labelled strong references from a root to ADDR, as\n"
	    "sys.modules['app'].__dict__['cache']['users'][3], then one row per step (the root's\n"
	    "row has the root's name as its label; the labels in order spell the path).\n"
	    "--dot: the chain as a Graphviz digraph instead (heapsnap path SNAP ADDR --dot |\n"
	    "dot -Tsvg > path.svg): one box per object with its type, address, size and retained\n"
	    "size, the root's box with the root's name, the arrows labelled with the references.\n";
	static const char sql[] = CHAIN_SQL
	    "SELECT o.depth AS depth, printf('0x%x', o.addr) AS addr, t.name AS type,"
	    " CASE WHEN o.depth > 0 THEN coalesce(nullif(e.label, ''),"
	    "  printf('-><%s at 0x%x>', t.name, o.addr))"
	    " ELSE coalesce((SELECT nullif(name, '') FROM roots WHERE obj = o.id ORDER BY rowid"
	    "  LIMIT 1), printf('<%s at 0x%x>', t.name, o.addr)) END AS label,"
	    " o.size AS size, o.retained AS retained "
	    "FROM chain JOIN objects o ON o.id = chain.id JOIN types t ON t.id = o.type_id"
	    " LEFT JOIN edges e ON e.id = o.parent_edge ORDER BY o.depth";
	/* hs_dot_write's rows: the objects root first, then the references between them. */
	static const char dot_sql[] = CHAIN_SQL
	    "SELECT * FROM (SELECT o.id, NULL, printf('%s at 0x%x', t.name, o.addr)"
	    " || char(10) || printf('%lld B, %lld B retained', o.size, o.retained)"
	    " || CASE WHEN o.depth = 0 THEN char(10) || 'root ' || coalesce((SELECT nullif(name, "
	    "'')"
	    "  FROM roots WHERE obj = o.id ORDER BY rowid LIMIT 1), '(unnamed)') ELSE '' END, NULL"
	    " FROM chain JOIN objects o ON o.id = chain.id JOIN types t ON t.id = o.type_id"
	    " ORDER BY o.depth) "
	    "UNION ALL SELECT * FROM (SELECT e.src, o.id, nullif(e.label, ''), NULL"
	    " FROM chain JOIN objects o ON o.id = chain.id JOIN edges e ON e.id = o.parent_edge"
	    " WHERE o.depth > 0 ORDER BY o.depth)";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE};
	sqlite3 *db;
	char id[32];
	int rc = open_object(argc, argv, help, "d", &a, &db, id);
	if (rc >= 0)
		return rc;
	char *path;
	struct hs_error *err = hs_store_path(db, atoll(id), &path);
	if (!err && !path)
		err = hs_error_create(HS_ERROR_OTHER, "%s: no root reaches the object at %s",
		                      a.pos[0], a.pos[1]);
	if (!err && a.format == HS_FORMAT_TABLE && !a.dot)
		printf("%s\n\n", path);
	long long ids[] = {atoll(id)};
	if (!err && a.dot)
		err = hs_dot_write(db, dot_sql, 1, ids, path, stdout);
	else if (!err)
		err = hs_store_run(db, sql, 1, (char *[]){id}, a.format, stdout);
	free(path);
	return finish(db, err);
}

int hs_cmd_referrers(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap referrers SNAP ADDR [--format table|csv|json]\n\n"
	    "What refers to the object at ADDR, with each reference's label and kind.\n";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE};
	sqlite3 *db;
	char id[32];
	int rc = open_object(argc, argv, help, "", &a, &db, id);
	if (rc >= 0)
		return rc;
	return finish(db, hs_store_run(db, hs_query_find("referrers_of")->sql, 1, &a.pos[1],
	                               a.format, stdout));
}

int hs_cmd_deep(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap deep SNAP ADDR [--format table|csv|json]\n\n"
	    "The deep size of the object at ADDR: the bytes of everything reachable from it by\n"
	    "strong references, each object once, not entering types or modules unless it is one\n"
	    "(pympler's asizeof); shown with its own size and its retained size.\n";
	static const char sql[] =
	    "SELECT printf('0x%x', o.addr) AS addr, t.name AS type, o.size AS size,"
	    " hs_deep_size(o.id) AS deep_size, o.retained AS retained"
	    " FROM objects o JOIN types t ON t.id = o.type_id WHERE o.id = ?1";
	struct hs_cmd_args a = {.format = HS_FORMAT_TABLE};
	sqlite3 *db;
	char id[32];
	int rc = open_object(argc, argv, help, "", &a, &db, id);
	if (rc >= 0)
		return rc;
	char *args[] = {id};
	return finish(db, hs_store_run(db, sql, 1, args, a.format, stdout));
}
