/*
 * store_columns.h — one description of the columns of each big table (objects, edges): each
 * column's name, SQL type and how its value is obtained, read by both writers of a database —
 * the page writer (store_tables.c), which puts the values into records, and the streamed load
 * (store.c), which binds them to INSERTs — and by hs_store_table_sql, which spells the CREATE
 * statement.  Adding a column is one entry in store_columns.c (and its paragraph in SCHEMA.md).
 */
#ifndef HS_STORE_COLUMNS_H
#define HS_STORE_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "hsnap.h"

/* One row's source: an object (objects) or an edge (edges) of a snapshot, read whole by the
 * page writer or one run at a time by the streamed load.  The writer fills it per row. */
struct hs_row_src {
	const struct hs_snapshot *snap;
	/* The analysis; NULL in a streamed load, whose graph columns are NULL but ext_refs and
	 * is_root, which come from ext_refs below. */
	const struct hs_analysis *a;
	bool stream;    /* one run of a streamed load: other objects (labels, values) unknown */
	uint64_t i, id; /* the object (an edge's source): its index in snap's arrays, its id */
	uint64_t k, e;  /* edges: the edge's index in snap's edge arrays, its id */
	uint32_t nreferrers; /* objects: strong edges into the object */
	int64_t ext_refs;    /* objects of a stream: refcnt minus the known edges in */
	bool nomem;          /* a value could not be allocated: the row must fail, never be NULL */
	char buf[256];       /* a value spelled here (or in big, malloc'd, freed by the next row) */
	char *big;
};

enum hs_value_kind { HS_VALUE_NULL, HS_VALUE_INT, HS_VALUE_TEXT };

/* A column's value for one row.  Text in the source's buf or big (transient) lives until the
 * next value is asked of the same source; other text as long as the snapshot. */
struct hs_value {
	enum hs_value_kind kind;
	bool transient;
	int64_t i;
	const char *s;
	size_t len;
};

struct hs_column {
	const char *name;
	const char *type; /* as in the CREATE statement; "INTEGER PRIMARY KEY" is the rowid */
	void (*get)(struct hs_row_src *src, struct hs_value *ret);
};

struct hs_store_table {
	const char *name;
	const struct hs_column *columns; /* columns[0] is the rowid */
	int ncolumns;
};

extern const struct hs_store_table hs_store_objects, hs_store_edges;

/* The CREATE TABLE statement of t (SCHEMA.md), malloc'd; NULL when out of memory. */
char *hs_store_table_sql(const struct hs_store_table *t);
/* Frees what src allocated for its last value. */
void hs_row_src_release(struct hs_row_src *src);

#endif
