/*
 * store_tables.h — the big tables of the store (objects, edges, referrers) and their indexes,
 * written page by page into a new database file (store_tables.c, over sqlite_btree.h).
 */
#ifndef HS_STORE_TABLES_H
#define HS_STORE_TABLES_H

#include "analysis.h"
#include "hsnap.h"
#include "sqlite_btree.h"
#include "store_columns.h"

/* The CREATE statements (SCHEMA.md) of referrers and the indexes, for the streamed load which
 * creates them with SQL; objects' and edges' are hs_store_table_sql's (store_columns.h). */
extern const char hs_sql_referrers[], hs_sql_objects_addr[], hs_sql_objects_retained[],
    hs_sql_objects_garbage[], hs_sql_edges_src[];

/* Writes the edges table and edges_src to f (the only trees that read the edges' labels). */
struct hs_error *hs_store_tables_edges(struct hs_btree_file *f, const struct hs_snapshot *snap);
/* Writes the referrers table to f.  ends (nobjects entries, zeroed by the caller) gets where each
 * object's run of referrers ends: ends[i] - ends[i - 1] strong edges go into object i.  These
 * trees need no analysis. */
struct hs_error *hs_store_tables_referrers(struct hs_btree_file *f, const struct hs_snapshot *snap,
                                           uint32_t *ends);
/* Writes the objects table and objects_addr, objects_retained and objects_garbage, reporting
 * progress (phase "objects") when progress is not NULL. */
struct hs_error *hs_store_tables_objects(struct hs_btree_file *f, const struct hs_snapshot *snap,
                                         const struct hs_analysis *a, const uint32_t *ends,
                                         hs_progress_fn *progress, void *progress_arg);

#endif
