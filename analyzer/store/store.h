/*
 * store.h — the SQLite store of a snapshot: writing it (store.c over store_tables.c and
 * sqlite_btree.c), opening it (store_open.c), its SQL functions (sqlfuncs.c), the questions the
 * commands ask of it (store_query.c), and the named queries embedded from the .sql files of
 * queries/.
 *
 * The database is analyzer/SCHEMA.md: the snapshot's objects, edges, weak links and roots plus
 * every hs_analysis column.  The store knows nothing of the command line: the CLI's load
 * pipeline (cli/load.c) decides when a database is built and prints its rows (cli/rows.c).
 */
#ifndef HS_STORE_H
#define HS_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>

#include "analysis.h"
#include "hsnap.h"

/* PRAGMA application_id of every heapsnap database ('HSDB'), and the schema version kept in
 * PRAGMA user_version and meta('schema_version'). */
#define HS_STORE_APPLICATION_ID 0x48534442
#define HS_STORE_SCHEMA_VERSION 4

/* Writes the database of snap and its analysis a to db_path (through a fresh db_path.tmp-XXXXXX,
 * renamed into place when complete).  progress may be NULL.  snap is left as it was. */
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

/* A partial database in memory, for a first answer before the database is written: the small
 * tables (but meta), and of the big ones only the rows of objects objs[0 .. n) (indexes into
 * snap), with paths of the objects and edges on each one's path from a root, and with refs of
 * each one's edges out and in, the objects at their other ends and the referrers rows of the
 * edges in (no referrers table without refs), every column as the full database has it
 * (nreferrers 0).  Queries that read only those rows (the objects' own columns, hs_path, the
 * types and roots, an object's references) answer there as on the full database.  The SQL
 * functions are registered; the caller closes it. */
struct hs_error *hs_store_partial(const struct hs_snapshot *snap, const struct hs_analysis *a,
                                  const uint32_t *objs, size_t n, bool paths, bool refs,
                                  sqlite3 **ret);

/* The database a snapshot is cached in: SNAP with ".hsnap" replaced by ".db" (or ".db" appended).
 * malloc'd; NULL when out of memory. */
char *hs_store_db_path(const char *snap_path);

/* Opens an existing database at path with SQLite's defensive settings, checks that it is one of
 * ours (application_id, user_version and meta) and owned by this user, and registers the SQL
 * functions.  read_only opens it so.  SQL on the connection cannot create files (ATTACH and
 * VACUUM INTO are denied) nor call fts3_tokenizer: see hs_store_attach. */
struct hs_error *hs_store_open_db(const char *path, bool read_only, sqlite3 **ret);
/* What lies at a database path: nothing, a file that is not ours (or not this user's), ours with
 * another schema version, or ours and current. */
enum hs_store_kind { HS_STORE_MISSING, HS_STORE_FOREIGN, HS_STORE_STALE, HS_STORE_CURRENT };
/* hs_store_open_db, also saying in *kind what path holds (on failure too: HS_STORE_FOREIGN or
 * HS_STORE_STALE), so that callers decide on the kind, never on the message. */
struct hs_error *hs_store_open_kind(const char *path, bool read_only, sqlite3 **ret,
                                    enum hs_store_kind *kind);
/* True when path starts with SQLite's file header. */
bool hs_store_is_sqlite(const char *path);

/* Attaches the database file path (one that hs_store_open_db accepted) as schema; the only way
 * an ATTACH passes the connection's authorizer. */
struct hs_error *hs_store_attach(sqlite3 *db, const char *path, const char *schema);

/* The identity of the snapshot file at path, "SIZE:HASH" (store_identity.c): opened without
 * blocking, and without following a symbolic link unless follow; must be a regular file. */
#define HS_STORE_IDENTITY_LEN 48
struct hs_error *hs_store_identity(const char *path, bool follow, char ret[HS_STORE_IDENTITY_LEN]);

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

/* An error naming db's file for SQLite's current error on db. */
struct hs_error *hs_store_error(sqlite3 *db, const char *what);
/* Runs each statement of sql (one or more, as in sqlite3_exec) on db, binding args[i] to ?(i+1)
 * in each statement that has that parameter: SQL from queries/ whose numbers are bound, not
 * printed into its text.  An error names what was being computed. */
struct hs_error *hs_store_exec(sqlite3 *db, const char *sql, const char *what, int nargs,
                               const long long *args);
/* The types of the objects that may hold unseen references in db (their type has no tp_traverse
 * and no edge leaves them: queries/store/untraversed.sql), as
 * "numpy.ndarray (77), datetime.date (21), ..." (malloc'd, the three with most objects), or
 * NULL in *ret when there are none. */
struct hs_error *hs_store_untraversed(sqlite3 *db, char **ret);
/* A line for an object with references from outside the snapshot's graph (ext_refs > 0): who
 * may hold them, naming the untraversed types of db if any.  malloc'd into *ret. */
struct hs_error *hs_store_outside_note(sqlite3 *db, char **ret);

/* True when db comes from `heapsnap load --stream`, which leaves the graph analyses NULL. */
bool hs_store_streamed(sqlite3 *db);

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

#endif
