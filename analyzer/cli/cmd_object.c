/*
 * cmd_object.c — the commands about one object, given by address: show, path, referrers and
 * deep.  ADDR is 0x hex or decimal; an address no object has is a data error (exit 1).  The
 * longer queries are queries/commands/show_object.sql and path_*.sql.  path and show answer a
 * fresh snapshot (no database yet) from a partial database of the object, its path (and for show
 * its references) before the database is written (first_answer.h), unless a note on references
 * from outside the graph needs the whole database.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd_sql.h"
#include "commands.h"
#include "dot.h"
#include "first_answer.h"
#include "load.h"
#include "rows.h"
#include "store.h"

/* What a command's work sees once run_object has found the object: the parsed arguments (pos[0]
 * SNAP, pos[1] ADDR), the open snapshot, and the object's id as a number and as SQL parameter
 * text; partial when db is a first answer's partial database (first_answer.h). */
struct object_cmd {
	struct hs_cmd_args a;
	sqlite3 *db;
	long long id;
	char id_text[32];
	bool partial;
	struct hs_error *(*work)(struct object_cmd *c);
};

/* hs_first_object_fn: c's work on the partial database of a fresh snapshot. */
static struct hs_error *first_work(void *arg, sqlite3 *db, long long id)
{
	struct object_cmd *c = arg;
	c->db = db;
	c->id = id;
	c->partial = true;
	snprintf(c->id_text, sizeof(c->id_text), "%lld", c->id);
	return c->work(c);
}

/* Whether a command answers a fresh snapshot first (hs_first_object), and from which rows. */
enum first { NOT_FIRST, FIRST_PATH, FIRST_REFS };

/* Runs `CMD SNAP ADDR [options]` (help and opts as hs_cmd_parse takes them): opens SNAP, finds
 * ADDR's object, calls work on it, closes SNAP; unless NOT_FIRST, on a fresh snapshot, on its
 * partial database before writing the database (hs_first_object; FIRST_REFS with the object's
 * references).  Returns the exit code: the parser's, a failure to open or find or work's error
 * reported, or HS_EXIT_OK. */
static int run_object(int argc, char **argv, const char *help, const char *opts,
                      struct hs_error *(*work)(struct object_cmd *c), enum first first)
{
	struct object_cmd c = {.a = {.format = HS_FORMAT_TABLE, .limit = -1}, .work = work};
	int rc = hs_cmd_parse(argc, argv, help, opts, 2, 2, &c.a); /* limit -1: no -n */
	if (rc >= 0)
		return rc;
	if (first != NOT_FIRST && (rc = hs_first_object(c.a.pos[0], c.a.pos[1], first == FIRST_REFS,
	                                                first_work, &c)) >= 0)
		return rc;
	c.partial = false;
	struct hs_error *err = hs_cli_open(c.a.pos[0], &c.db);
	if (err)
		return hs_cli_fail(err);
	err = hs_store_find(c.db, c.a.pos[1], &c.id);
	if (!err) {
		snprintf(c.id_text, sizeof(c.id_text), "%lld", c.id);
		err = work(&c);
	}
	sqlite3_close(c.db);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}

/* Who may hold the object that sql (?1: the object's id) selects when sql's one value is true,
 * "held from outside the snapshot's graph: ..." malloc'd into *ret, else NULL; declined on a
 * partial database, which has not the objects that hs_store_outside_note counts. */
static struct hs_error *outside_note(struct object_cmd *c, const char *sql, char **ret)
{
	*ret = NULL;
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(c->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return hs_store_error(c->db, "find the references from outside");
	sqlite3_bind_int64(stmt, 1, c->id);
	bool outside = sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (outside && c->partial)
		return &hs_first_declined;
	return outside ? hs_store_outside_note(c->db, ret) : NULL;
}

/* Prints "WHAT NOTE" and a blank line when note is not NULL; frees it. */
static void print_note(const char *what, char *note)
{
	if (note)
		printf("%s %s\n\n", what, note);
	free(note);
}

#define SHOW_LIMIT 100 /* referents and referrers that show lists without -n */

/* After show's rows: how many referents and referrers -n left out (on stderr for csv and json,
 * whose output stays rows only). */
static struct hs_error *print_more(struct object_cmd *c, long limit)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT (SELECT count(*) FROM edges WHERE src = ?1),"
	                       " (SELECT count(*) FROM referrers WHERE dst = ?1)",
	                       -1, &stmt, NULL) != SQLITE_OK)
		return hs_store_error(c->db, "count the references");
	sqlite3_bind_int64(stmt, 1, c->id);
	long long n[2] = {0, 0};
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		n[0] = sqlite3_column_int64(stmt, 0);
		n[1] = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_finalize(stmt);
	FILE *f = c->a.format == HS_FORMAT_TABLE ? stdout : stderr;
	const char *what[2] = {"referents", "referrers"};
	for (int i = 0; i < 2; i++)
		if (n[i] > limit)
			fprintf(f, "... %lld more %s (%lld in all; -n N to list more)\n",
			        n[i] - limit, what[i], n[i]);
	return NULL;
}

/* show's work: the path in table format, then the object, its referents and referrers (the
 * first -n of each, 100 by default). */
static struct hs_error *show_object(struct object_cmd *c)
{
	struct hs_error *err = NULL;
	if (c->a.format == HS_FORMAT_TABLE) {
		char *path = NULL, *note = NULL; /* the note before printing: it may decline */
		err = hs_store_path(c->db, c->id, &path);
		if (!err)
			err = outside_note(
			    c, "SELECT ext_refs > 0 AND NOT immortal FROM objects WHERE id = ?1",
			    &note);
		if (!err)
			printf("path: %s\n\n", path ? path : "(no root reaches it)");
		free(path);
		print_note("references:", note);
	}
	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", c->a.limit > 0 ? c->a.limit : SHOW_LIMIT);
	char *args[] = {c->id_text, limit};
	if (!err)
		err = hs_rows_run(c->db, hs_sql_cmd_show_object, 2, args, c->a.format, stdout);
	return err ? err : print_more(c, c->a.limit > 0 ? c->a.limit : SHOW_LIMIT);
}

int hs_cmd_show(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap show SNAP ADDR [-n N] [--format table|csv|json]\n\n"
	    "The object at ADDR (relation 'object'), then what it refers to ('referent') and what\n"
	    "refers to it ('referrer'), each with the reference's label and kind (0 traverse,\n"
	    "1 owned, 2 conservative): the first N of each (default 100), then how many more.\n"
	    "site: where each was allocated (file:line), when tracemalloc traced the capture.\n";
	return run_object(argc, argv, help, "n", show_object, FIRST_REFS);
}

/* path's work: the chain from a root to the object, as text and rows or as a digraph. */
static struct hs_error *print_path(struct object_cmd *c)
{
	char *path = NULL;
	struct hs_error *err = hs_store_path(c->db, c->id, &path);
	if (!err && !path && hs_store_streamed(c->db))
		err = hs_error_create(HS_ERROR_OTHER,
		                      "%s: paths were not computed: `heapsnap load --stream` skips "
		                      "them (plain `heapsnap load SNAP` computes them)",
		                      c->a.pos[0]);
	else if (!err && !path)
		err = hs_error_create(HS_ERROR_OTHER, "%s: no root reaches the object at %s",
		                      c->a.pos[0], c->a.pos[1]);
	char *args[] = {c->id_text};
	if (!err) /* temp.path_chain, which the queries below read */
		err = hs_rows_run(c->db, hs_sql_cmd_path_chain, 1, args, c->a.format, stdout);
	char *note = NULL; /* computed before printing: a partial database may decline it */
	if (!err && c->a.format == HS_FORMAT_TABLE && !c->a.dot &&
	    (err = outside_note(c, hs_sql_cmd_path_root, &note)) == NULL) {
		printf("%s\n\n", path);
		print_note("root:", note);
	}
	long long ids[] = {c->id};
	if (!err && c->a.dot)
		err = hs_dot_write(c->db, hs_sql_cmd_path_dot, 1, ids, path, stdout);
	else if (!err)
		err = hs_rows_run(c->db, hs_sql_cmd_path_rows, 1, args, c->a.format, stdout);
	free(path);
	return err;
}

int hs_cmd_path(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap path SNAP ADDR [--format table|csv|json | --dot]\n\n"
	    "The shortest chain of labelled strong references from a root to ADDR, as\n"
	    "sys.modules['app'].__dict__['cache']['users'][3], then one row per step (the root's\n"
	    "row has the root's name as its label; the labels in order spell the path; site: "
	    "where\n"
	    "each object was allocated, when tracemalloc traced the capture).\n"
	    "--dot: the chain as a Graphviz digraph instead (heapsnap path SNAP ADDR --dot |\n"
	    "dot -Tsvg > path.svg): one box per object with its type, address, size and retained\n"
	    "size, the root's box with the root's name, the arrows labelled with the references.\n";
	return run_object(argc, argv, help, "d", print_path, FIRST_PATH);
}

/* referrers' work: what refers to the object, by the named query. */
static struct hs_error *list_referrers(struct object_cmd *c)
{
	return hs_rows_run_max(c->db, hs_query_find("referrers_of")->sql, 1, &c->a.pos[1],
	                       c->a.format, stdout, c->a.limit < 0 ? SHOW_LIMIT : c->a.limit);
}

int hs_cmd_referrers(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap referrers SNAP ADDR [-n N] [--format table|csv|json]\n\n"
	    "What refers to the object at ADDR, with each reference's label and kind: the first N\n"
	    "(default 100; 0 for all), then how many more.\n";
	return run_object(argc, argv, help, "n", list_referrers, NOT_FIRST);
}

/* deep's work: the object's deep size beside its own and its retained size. */
static struct hs_error *print_deep_size(struct object_cmd *c)
{
	char *args[] = {c->id_text};
	return hs_rows_run(c->db, hs_sql_cmd_deep_size, 1, args, c->a.format, stdout);
}

int hs_cmd_deep(int argc, char **argv)
{
	static const char help[] =
	    "usage: heapsnap deep SNAP ADDR [--format table|csv|json]\n\n"
	    "The deep size of the object at ADDR: the bytes of everything reachable from it by\n"
	    "strong references, each object once, not entering types or modules unless it is one\n"
	    "(pympler's asizeof); shown with its own size and its retained size, and the same\n"
	    "three counted in memory (README \"Size and memory\"; empty when the capture gave "
	    "none).\n";
	return run_object(argc, argv, help, "", print_deep_size, NOT_FIRST);
}
