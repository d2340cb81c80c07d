/*
 * sqlite_btree.h — writes SQLite database files directly, page by page, from rows that come
 * already in key order (sqlite_btree.c).
 *
 * The store's big tables (objects, edges, referrers) and their indexes go in this way instead
 * of through INSERT and CREATE INDEX: at 10M objects that is 70M rows, and SQLite spends most of
 * a microsecond on each one (the VM, the record, the cursor, the sort of every index).  Here a
 * row costs its record's bytes.  The file is an ordinary SQLite 3 database (the format of
 * https://sqlite.org/fileformat2.html: 4096-byte pages, UTF-8, schema format 4, no free pages)
 * that SQLite then opens to add the small tables, so anything this writer gets wrong shows in
 * `PRAGMA integrity_check`, which the tests run.
 *
 * Use: hs_btree_file_create, then per tree hs_btree_begin, hs_btree_add_row (table) or
 * hs_btree_add_key (index or WITHOUT ROWID table) in strictly increasing key order, and
 * hs_btree_end, which gives the root page; hs_btree_file_finish writes page 1 (the schema
 * table, naming each tree with its CREATE statement and root page) and the header.  Trees are
 * written one after another; a tree's pages are appended as they fill, so memory stays at a
 * few pages per tree level.
 */
#ifndef HS_SQLITE_BTREE_H
#define HS_SQLITE_BTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hsnap.h"

#define HS_BTREE_PAGE 4096
#define HS_BTREE_MAX_LEVELS 16 /* 4096-byte pages: 10 levels hold more rows than SQLite allows */
#define HS_BTREE_MAX_COLUMNS 32
/* SQLite's PENDING_BYTE, where its file locks live: the page holding it is never used, so the
 * writer leaves it zero and numbers pages around it. */
#define HS_BTREE_LOCK_BYTE 0x40000000

/* A record (one row's columns in SQLite's record format) being built: hs_record_start, then
 * one call per column, at most HS_BTREE_MAX_COLUMNS.  A column that cannot be added (out of
 * memory, or one column too many) is never written as NULL: the record is marked failed and
 * hs_btree_add_row / hs_btree_add_key refuse it, failing the file with the reason. */
struct hs_record {
	int ncols;
	bool nomem;    /* a column's bytes could not be allocated */
	bool overflow; /* more than HS_BTREE_MAX_COLUMNS columns were added */
	uint64_t types[HS_BTREE_MAX_COLUMNS]; /* serial types */
	uint8_t *body; /* the values: small, or malloc'd when they outgrow it */
	size_t body_len, body_cap;
	uint8_t small[512];
};

void hs_record_start(struct hs_record *r);
void hs_record_null(struct hs_record *r);
void hs_record_int(struct hs_record *r, int64_t v);
void hs_record_text(struct hs_record *r, const char *s, size_t len);
/* Frees what the record allocated (a body that outgrew small). */
void hs_record_free(struct hs_record *r);

/* The output file: pages numbered 2, 3, ... in the order they are written; page 1 last. */
struct hs_btree_file {
	int fd;
	const char *path; /* for messages */
	uint32_t next_page;
	uint32_t lock_page; /* the page holding HS_BTREE_LOCK_BYTE (tests that move SQLite's
	                       with SQLITE_TESTCTRL_PENDING_BYTE move it too) */
	uint8_t *buf;       /* pages waiting to be written */
	size_t buf_len;
	struct hs_error *err; /* the first write error; later calls do nothing */
	/* The schema table's rows, added by hs_btree_end. */
	struct hs_btree_schema_row {
		const char *type, *name, *table;
		char *sql; /* a copy */
		uint32_t root;
	} * schema;
	size_t nschema;
};

struct hs_error *hs_btree_file_create(struct hs_btree_file *f, int fd, const char *path);
/* Writes page 1 and the header and frees f's memory; returns f's first error if there was one
 * (then nothing more is written).  The caller closes fd. */
struct hs_error *hs_btree_file_finish(struct hs_btree_file *f);
/* Frees f's memory without finishing the file. */
void hs_btree_file_discard(struct hs_btree_file *f);

/* One b-tree being written. */
struct hs_btree_level {
	uint8_t page[HS_BTREE_PAGE];
	int ncells;
	size_t used;         /* cell bytes plus cell pointers */
	uint32_t pending;    /* a child page not yet given a cell (0: none) */
	int64_t pending_key; /* table trees: the largest rowid under pending */
	bool has_page;       /* table trees' interior levels: a child has come (pending is set) */
};

struct hs_btree {
	struct hs_btree_file *f;
	bool table;  /* rowid table (B+tree) or index (B-tree) */
	int nlevels; /* levels[0] are the leaves */
	struct hs_btree_level *levels[HS_BTREE_MAX_LEVELS];
	int64_t last_rowid;
	/* Index trees: a full leaf and the key that did not fit it, held until the next key comes
	 * (then the held key is the divider between the two leaves; when none comes, the full
	 * leaf's last key is the divider and the held key starts the last leaf). */
	struct hs_btree_level *full;
	bool holding;
	size_t held_len;
	uint8_t held[HS_BTREE_PAGE];
	/* The payload being added (header and body). */
	uint8_t *payload;
	size_t payload_cap;
	uint64_t rows;
};

/* table: a rowid table; otherwise an index or a WITHOUT ROWID table. */
struct hs_error *hs_btree_begin(struct hs_btree *t, struct hs_btree_file *f, bool table);
/* Appends a row of a table (rowids strictly increasing: a rowid out of order is an error) or an
 * entry of an index (records strictly increasing in SQLite's order: the caller sorts, and this
 * is not checked).  A failed record (struct hs_record) is an error too.  Errors are kept in
 * t->f->err. */
void hs_btree_add_row(struct hs_btree *t, int64_t rowid, const struct hs_record *r);
void hs_btree_add_key(struct hs_btree *t, const struct hs_record *r);
/* Writes what is left of the tree, enters it in the schema (type "table" or "index", its name,
 * the table it belongs to: static text; its CREATE statement, copied) and frees t's memory. */
void hs_btree_end(struct hs_btree *t, const char *type, const char *name, const char *table,
                  const char *sql);

#endif
