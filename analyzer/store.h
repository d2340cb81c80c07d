/*
 * store.h — the SQLite store of a snapshot (store.c, store_open.c), its SQL functions
 * (sqlfuncs.c), the named queries embedded from the .sql files of queries/, and the helpers every
 * command that reads a database shares (store_cli.c).
 *
 * The database is analyzer/SCHEMA.md: the snapshot's objects, edges, weak links and roots plus
 * every hs_analysis column.  Commands take a .hsnap or its .db; hs_store_open builds the database
 * on demand next to the snapshot and reuses it while it is newer than the snapshot.
 */
#ifndef HS_STORE_H
#define HS_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>

#include "analysis.h"
#include "cli.h"
#include "hsnap.h"

/* PRAGMA application_id of every heapsnap database ('HSDB'), and the schema version kept in
 * PRAGMA user_version and meta('schema_version'). */
#define HS_STORE_APPLICATION_ID 0x48534442
#define HS_STORE_SCHEMA_VERSION 2

/* Writes the database of snap and its analysis a to db_path (through a fresh db_path.tmp-XXXXXX, renamed into
 * place when complete).  progress may be NULL.  snap is left as it was. */
struct hs_error *hs_store_build(struct hs_snapshot *snap, const struct hs_analysis *a,
                                const char *db_path, hs_progress_fn *progress, void *progress_arg);
/* The same in two steps, so that the analysis runs meanwhile: hs_store_begin starts writing
 * the tables that need no analysis (in a thread: snap must stay open), then hs_store_finish(w, a)
 * writes the rest and frees w, or hs_store_abort(w) drops it all.  With drop_labels the edges'
 * labels are freed once the edges table has them (hs_snapshot_drop_edge_labels): `heapsnap
 * load`, which needs nothing more of them, saves 5 bytes per edge during the analysis. */
struct hs_store_writer;
struct hs_error *hs_store_begin(struct hs_snapshot *snap, const char *db_path, bool drop_labels,
                                struct hs_store_writer **ret);
struct hs_error *hs_store_finish(struct hs_store_writer *w, const struct hs_analysis *a,
                                 hs_progress_fn *progress, void *progress_arg);
void hs_store_abort(struct hs_store_writer *w);

/* The database a snapshot is cached in: SNAP with ".hsnap" replaced by ".db" (or ".db" appended).
 * malloc'd; NULL when out of memory. */
char *hs_store_db_path(const char *snap_path);

/* Opens an existing database at path with SQLite's defensive settings, checks that it is one of
 * ours (application_id and meta), and registers the SQL functions.  read_only opens it so. */
struct hs_error *hs_store_open_db(const char *path, bool read_only, sqlite3 **ret);

/* Opens what a command was given: a .db of ours, or a .hsnap whose database is built (with
 * progress on a terminal) unless a newer one exists next to it. */
struct hs_error *hs_store_open(const char *path, sqlite3 **ret);

/* Loads snap_path, analyzes it and writes db_path, showing progress on stderr when it is a
 * terminal and the work takes over a second. */
struct hs_error *hs_store_load(const char *snap_path, const char *db_path);
/* The streamed load of OUT-OF-CORE.md (`heapsnap load --stream`): the database from the snapshot
 * decoded run by run, in memory bounded by a run, SQLite's cache and 8 bytes per object; the
 * graph analyses (and value previews, key and attribute labels) are NULL and meta.analysis says
 * so. */
struct hs_error *hs_store_stream(const char *snap_path, const char *db_path,
                                 hs_progress_fn *progress, void *progress_arg);

/* Registers hs_deep_size(id), hs_path(id) and hs_type(id) on db.  The snapshot that
 * hs_deep_size needs is opened on first use from meta('snapshot').  Returns an SQLite code. */
int hs_sqlfuncs_register(sqlite3 *db);

/* The labelled shortest path from a root to object id, from the database's parent_edge and roots
 * columns ("sys.modules['app'].__dict__['cache']"); malloc'd into *ret, NULL when no root reaches
 * it. */
struct hs_error *hs_store_path(sqlite3 *db, long long id, char **ret);

/* Prints every row stmt returns with t (which the caller creates and destroys). */
struct hs_error *hs_store_print(sqlite3 *db, sqlite3_stmt *stmt, struct hs_table *t);
/* Prepares sql, binds the text arguments (integers when they look like one) to ?1, ?2, ...,
 * and prints the rows in format to out with the statement's column names. */
struct hs_error *hs_store_run(sqlite3 *db, const char *sql, int nargs, char **args,
                              enum hs_format format, FILE *out);
/* An error naming db's file for SQLite's current error on db. */
struct hs_error *hs_store_error(sqlite3 *db, const char *what);

/* Parses ADDR as 0x hex or decimal and finds the object's id in db. */
struct hs_error *hs_store_find(sqlite3 *db, const char *addr, long long *ret);

/* ---------------------------------------------------------------------------------------------
 * Named queries (the .sql files of queries/, embedded by queries/embed.py).
 */
struct hs_named_query {
	const char *name;
	const char *help;
	const char *params; /* "?1 limit: rows to print (default 20); ..." or "" */
	const char *sql;
};
extern const struct hs_named_query hs_queries[];
extern const size_t hs_nqueries;
const struct hs_named_query *hs_query_find(const char *name);

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
