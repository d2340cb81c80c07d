/*
 * sqlite_btree.c — SQLite database files written page by page from sorted rows (the interface
 * and its reasons are in sqlite_btree.h).
 *
 * The format (https://sqlite.org/fileformat2.html), as far as this writer uses it:
 *  - A rowid table is a B+tree: leaf cells are (payload size, rowid, payload), interior cells
 *    (left child page, largest rowid under it), the rightmost child in the page header.
 *  - An index (and a WITHOUT ROWID table) is a B-tree: every key is stored once, in a leaf or as
 *    the divider of an interior cell (left child page, payload size, payload).
 *  - A payload too big for its page keeps a prefix in the cell and the rest in a chain of
 *    overflow pages (4-byte next page, then data).
 * Trees are built bottom-up: cells fill a leaf, a full leaf is written and handed to the level
 * above as a child (with its largest rowid, or followed by the key that did not fit, which
 * becomes the divider), and so on up; the last page written is the root.  Every page holds at
 * least one cell, and every interior page at least two children.
 */
#include <assert.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sqlite_btree.h"

#define U HS_BTREE_PAGE
#define BUF_PAGES 256 /* pages gathered per write() */
/* Largest payload kept whole in a cell (the format's X), and the prefix kept when it is
 * bigger (M); see "cell payload overflow pages" in the file format. */
#define TABLE_LOCAL_MAX (U - 35)
#define INDEX_LOCAL_MAX (((U - 12) * 64 / 255) - 23)
#define LOCAL_MIN (((U - 12) * 32 / 255) - 23)

enum {
	PAGE_INDEX_INTERIOR = 2,
	PAGE_TABLE_INTERIOR = 5,
	PAGE_INDEX_LEAF = 10,
	PAGE_TABLE_LEAF = 13
};

/* ----- records ----- */

void hs_record_start(struct hs_record *r)
{
	r->ncols = 0;
	r->nomem = false;
	r->overflow = false;
	r->body_len = 0;
	if (!r->body) {
		r->body = r->small;
		r->body_cap = sizeof(r->small);
	}
}

void hs_record_free(struct hs_record *r)
{
	if (r->body != r->small)
		free(r->body);
	r->body = NULL;
}

/* Whether r has room for one more column; marks it failed when it has not (a caller adding
 * more columns than HS_BTREE_MAX_COLUMNS is a bug the assert names in the debug builds). */
static bool column_room(struct hs_record *r)
{
	assert(r->ncols <= HS_BTREE_MAX_COLUMNS);
	if (r->ncols < HS_BTREE_MAX_COLUMNS)
		return true;
	r->overflow = true;
	return false;
}

/* Room for one more column of n body bytes; false, the record marked failed, when out of memory
 * or of columns. */
static bool body_room(struct hs_record *r, size_t n)
{
	if (!column_room(r))
		return false;
	if (r->body_len + n <= r->body_cap)
		return true;
	size_t cap = 2 * r->body_cap > r->body_len + n ? 2 * r->body_cap : r->body_len + n;
	uint8_t *b = malloc(cap);
	if (!b) {
		r->nomem = true;
		return false;
	}
	memcpy(b, r->body, r->body_len);
	if (r->body != r->small)
		free(r->body);
	r->body = b;
	r->body_cap = cap;
	return true;
}

void hs_record_null(struct hs_record *r)
{
	if (column_room(r))
		r->types[r->ncols++] = 0;
}

void hs_record_int(struct hs_record *r, int64_t v)
{
	if (v == 0 || v == 1) { /* serial types 8 and 9: no body bytes */
		if (column_room(r))
			r->types[r->ncols++] = 8 + (uint64_t)v;
		return;
	}
	/* Serial types 1..6 hold 1, 2, 3, 4, 6, 8 bytes, big-endian two's complement. */
	static const int sizes[] = {1, 2, 3, 4, 6, 8};
	int t = 0;
	while (t < 5 &&
	       (v < -((int64_t)1 << (8 * sizes[t] - 1)) || v >= ((int64_t)1 << (8 * sizes[t] - 1))))
		t++;
	int n = sizes[t];
	if (!body_room(r, (size_t)n))
		return;
	uint64_t u = (uint64_t)v;
	for (int i = n - 1; i >= 0; i--, u >>= 8)
		r->body[r->body_len + (size_t)i] = (uint8_t)u;
	r->body_len += (size_t)n;
	r->types[r->ncols++] = (uint64_t)t + 1;
}

void hs_record_text(struct hs_record *r, const char *s, size_t len)
{
	if (!body_room(r, len))
		return;
	memcpy(r->body + r->body_len, s, len);
	r->body_len += len;
	r->types[r->ncols++] = 2 * (uint64_t)len + 13;
}

/* SQLite's varint: big-endian groups of 7 bits, the ninth byte holding 8. */
static int varint_len(uint64_t v)
{
	int n = 1;
	while (n < 9 && v >> (7 * n))
		n++;
	return n;
}

static int varint_put(uint8_t *p, uint64_t v)
{
	if (v >> 56) { /* nine bytes: 8 groups of 7 bits, then 8 */
		p[8] = (uint8_t)v;
		v >>= 8;
		for (int i = 7; i >= 0; i--, v >>= 7)
			p[i] = (uint8_t)((v & 0x7f) | 0x80);
		return 9;
	}
	int n = varint_len(v);
	for (int i = n - 1; i >= 0; i--, v >>= 7)
		p[i] = (uint8_t)((v & 0x7f) | (i == n - 1 ? 0 : 0x80));
	return n;
}

/* The record's header and body, contiguous, in *buf (grown as needed); returns its length, or 0
 * when out of memory. */
static size_t record_payload(const struct hs_record *r, uint8_t **buf, size_t *cap)
{
	size_t types_len = 0;
	for (int i = 0; i < r->ncols; i++)
		types_len += (size_t)varint_len(r->types[i]);
	size_t hdr = types_len + 1;
	if (varint_len(hdr) > 1)
		hdr = types_len + (size_t)varint_len(types_len + 2);
	size_t len = hdr + r->body_len;
	if (len > *cap) {
		uint8_t *b = realloc(*buf, len);
		if (!b)
			return 0;
		*buf = b;
		*cap = len;
	}
	uint8_t *p = *buf;
	p += varint_put(p, hdr);
	for (int i = 0; i < r->ncols; i++)
		p += varint_put(p, r->types[i]);
	memcpy(p, r->body, r->body_len);
	return len;
}

/* ----- the file ----- */

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void write_at(struct hs_btree_file *f, const uint8_t *p, size_t len, off_t off)
{
	while (!f->err && len) {
		ssize_t n = pwrite(f->fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			f->err = hs_error_create(HS_ERROR_IO, "%s: offset %lld: write: %s", f->path,
			                         (long long)off, strerror(n < 0 ? errno : ENOSPC));
			return;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
}

static void flush_buf(struct hs_btree_file *f)
{
	size_t pages = f->buf_len / U;
	write_at(f, f->buf, f->buf_len, (off_t)(f->next_page - pages - 1) * U);
	f->buf_len = 0;
}

/* The number write_page gives the page it writes next, and the one after page p. */
static uint32_t upcoming(const struct hs_btree_file *f)
{
	return f->next_page == f->lock_page ? f->lock_page + 1 : f->next_page;
}

static uint32_t page_after(const struct hs_btree_file *f, uint32_t p)
{
	return p + 1 == f->lock_page ? f->lock_page + 1 : p + 1;
}

static uint32_t append_page(struct hs_btree_file *f, const uint8_t *page);

/* Appends a page; returns its number (0 once the file has failed). */
static uint32_t write_page(struct hs_btree_file *f, const uint8_t *page)
{
	if (f->err)
		return 0;
	if (f->next_page == f->lock_page) {
		static const uint8_t zero[U];
		append_page(f, zero);
	}
	return append_page(f, page);
}

static uint32_t append_page(struct hs_btree_file *f, const uint8_t *page)
{
	if (f->next_page == UINT32_MAX - 1) {
		f->err = hs_error_create(HS_ERROR_FORMAT, "%s: over 2^32 pages", f->path);
		return 0;
	}
	memcpy(f->buf + f->buf_len, page, U);
	f->buf_len += U;
	uint32_t pgno = f->next_page++;
	if (f->buf_len == (size_t)BUF_PAGES * U)
		flush_buf(f);
	return pgno;
}

struct hs_error *hs_btree_file_create(struct hs_btree_file *f, int fd, const char *path)
{
	*f = (struct hs_btree_file){
	    .fd = fd, .path = path, .next_page = 2, .lock_page = HS_BTREE_LOCK_BYTE / U + 1};
	f->buf = malloc((size_t)BUF_PAGES * U);
	return f->buf ? NULL : &hs_error_nomem;
}

void hs_btree_file_discard(struct hs_btree_file *f)
{
	free(f->buf);
	for (size_t i = 0; i < f->nschema; i++)
		free(f->schema[i].sql);
	free(f->schema);
	f->buf = NULL;
	f->schema = NULL;
	if (f->err)
		hs_error_destroy(f->err);
	f->err = NULL;
}

/* ----- pages being filled ----- */

static size_t header_size(bool leaf)
{
	return leaf ? 8 : 12;
}

static void level_reset(struct hs_btree_level *lv)
{
	lv->ncells = 0;
	lv->used = 0;
}

static bool fits(const struct hs_btree_level *lv, bool leaf, size_t cell)
{
	return header_size(leaf) + lv->used + 2 + cell <= U;
}

/* Appends a cell: its bytes at the end of the content area, its offset in the pointer array. */
static void add_cell(struct hs_btree_level *lv, bool leaf, const uint8_t *cell, size_t len)
{
	assert(fits(lv, leaf, len));
	size_t content = U - (lv->used - 2 * (size_t)lv->ncells) - len;
	memcpy(lv->page + content, cell, len);
	put16(lv->page + header_size(leaf) + 2 * (size_t)lv->ncells, (unsigned)content);
	lv->ncells++;
	lv->used += len + 2;
}

/* Removes the last cell of a leaf into cell (at most U bytes); returns its length.  The cells
 * sit back to back from the end of the page, the last one lowest. */
static size_t pop_cell(struct hs_btree_level *lv, uint8_t *cell)
{
	assert(lv->ncells > 0);
	const uint8_t *ptr = lv->page + header_size(true) + 2 * (size_t)(lv->ncells - 1);
	size_t at = (size_t)ptr[0] << 8 | ptr[1];
	size_t end = lv->ncells == 1 ? U : ((size_t)ptr[-2] << 8 | ptr[-1]);
	size_t len = end - at;
	memcpy(cell, lv->page + at, len);
	lv->ncells--;
	lv->used -= len + 2;
	return len;
}

/* Writes a level's page (right: the rightmost child of an interior page); returns its number. */
static uint32_t write_level(struct hs_btree *t, struct hs_btree_level *lv, bool leaf,
                            uint32_t right)
{
	/* An interior page has a cell and its rightmost child; only an empty table's root leaf
	 * may have no cell. */
	assert(leaf || t->f->err || (lv->ncells > 0 && right != 0));
	uint8_t *p = lv->page;
	size_t h = header_size(leaf);
	size_t content = U - (lv->used - 2 * (size_t)lv->ncells);
	p[0] = t->table ? (leaf ? PAGE_TABLE_LEAF : PAGE_TABLE_INTERIOR)
	                : (leaf ? PAGE_INDEX_LEAF : PAGE_INDEX_INTERIOR);
	put16(p + 1, 0); /* no freeblocks */
	put16(p + 3, (unsigned)lv->ncells);
	put16(p + 5, (unsigned)content);
	p[7] = 0; /* no fragmented bytes */
	if (!leaf)
		put32(p + 8, right);
	size_t gap = h + 2 * (size_t)lv->ncells;
	memset(p + gap, 0, content - gap);
	uint32_t pgno = write_page(t->f, p);
	level_reset(lv);
	return pgno;
}

/* Level l of t (0: the leaves), created when first needed. */
static struct hs_btree_level *level(struct hs_btree *t, int l)
{
	assert(l >= 0 && l <= t->nlevels); /* levels are made bottom-up, one at a time */
	if (l < t->nlevels)
		return t->levels[l];
	if (l >= HS_BTREE_MAX_LEVELS) {
		if (!t->f->err)
			t->f->err =
			    hs_error_create(HS_ERROR_FORMAT, "%s: b-tree too deep", t->f->path);
		return NULL;
	}
	struct hs_btree_level *lv = calloc(1, sizeof(*lv));
	if (!lv) {
		if (!t->f->err)
			t->f->err = &hs_error_nomem;
		return NULL;
	}
	t->levels[t->nlevels++] = lv;
	return lv;
}

/* Table trees: hands child page pgno, whose largest rowid is key, to level l.  The child before
 * it (pending) gets its cell now that it is not the rightmost; a full page goes up in turn. */
static void table_child(struct hs_btree *t, int l, uint32_t pgno, int64_t key)
{
	for (; !t->f->err; l++) {
		struct hs_btree_level *lv = level(t, l);
		if (!lv)
			return;
		if (!lv->has_page) {
			lv->has_page = true;
			lv->pending = pgno;
			lv->pending_key = key;
			return;
		}
		uint8_t cell[4 + 9];
		put32(cell, lv->pending);
		size_t len = 4 + (size_t)varint_put(cell + 4, (uint64_t)lv->pending_key);
		if (fits(lv, false, len)) {
			add_cell(lv, false, cell, len);
			lv->pending = pgno;
			lv->pending_key = key;
			return;
		}
		/* Full: the pending child becomes its rightmost, and the page goes up. */
		uint32_t full = write_level(t, lv, false, lv->pending);
		int64_t full_key = lv->pending_key;
		lv->pending = pgno;
		lv->pending_key = key;
		pgno = full;
		key = full_key;
	}
}

/* Index trees: level l receives a child page, then (unless it is the last) a divider. */
static void index_child(struct hs_btree *t, int l, uint32_t pgno)
{
	struct hs_btree_level *lv = level(t, l);
	if (lv)
		lv->pending = pgno;
}

static void index_divider(struct hs_btree *t, int l, const uint8_t *key, size_t key_len)
{
	uint8_t cell[4 + U];
	assert(key_len <= U);
	memcpy(cell + 4, key, key_len);
	for (; !t->f->err; l++) {
		struct hs_btree_level *lv = level(t, l);
		if (!lv)
			return;
		put32(cell, lv->pending);
		if (fits(lv, false, 4 + key_len)) {
			add_cell(lv, false, cell, 4 + key_len);
			lv->pending = 0;
			return;
		}
		/* Full: the pending child is its rightmost; the page goes up, followed by the key.
		 */
		uint32_t full = write_level(t, lv, false, lv->pending);
		lv->pending = 0;
		index_child(t, l + 1, full);
	}
}

/* The cell bytes of a payload (without a child pointer): its size, the rowid of a table row,
 * the part kept in the page and, for a big one, the first overflow page, whose chain is
 * written here.  Returns the cell's length (at most U). */
static size_t make_cell(struct hs_btree *t, uint8_t *cell, const uint8_t *payload, size_t len,
                        const int64_t *rowid)
{
	size_t n = (size_t)varint_put(cell, len);
	if (rowid)
		n += (size_t)varint_put(cell + n, (uint64_t)*rowid);
	size_t max = t->table ? TABLE_LOCAL_MAX : INDEX_LOCAL_MAX;
	if (len <= max) {
		memcpy(cell + n, payload, len);
		assert(n + len <= U);
		return n + len;
	}
	size_t local = LOCAL_MIN + (len - LOCAL_MIN) % (U - 4);
	if (local > max)
		local = LOCAL_MIN;
	memcpy(cell + n, payload, local);
	n += local;
	/* The overflow chain, pages in order: each names the next, which is written right after. */
	size_t left = len - local;
	put32(cell + n, upcoming(t->f));
	uint8_t page[U];
	for (const uint8_t *p = payload + local; left && !t->f->err;) {
		size_t chunk = left < U - 4 ? left : U - 4;
		left -= chunk;
		put32(page, left ? page_after(t->f, upcoming(t->f)) : 0);
		memcpy(page + 4, p, chunk);
		memset(page + 4 + chunk, 0, U - 4 - chunk);
		write_page(t->f, page);
		p += chunk;
	}
	return n + 4;
}

/* The cell of record r (and the rowid of a table row); 0 when r failed or out of memory (the
 * error kept in t->f). */
static size_t record_cell(struct hs_btree *t, const struct hs_record *r, uint8_t *cell,
                          const int64_t *rowid)
{
	if (r->nomem || r->overflow) {
		t->f->err = r->nomem ? &hs_error_nomem
		                     : hs_error_create(HS_ERROR_OTHER,
		                                       "%s: a record of more than %d columns",
		                                       t->f->path, HS_BTREE_MAX_COLUMNS);
		return 0;
	}
	size_t len = record_payload(r, &t->payload, &t->payload_cap);
	if (!len) {
		t->f->err = &hs_error_nomem;
		return 0;
	}
	return make_cell(t, cell, t->payload, len, rowid);
}

struct hs_error *hs_btree_begin(struct hs_btree *t, struct hs_btree_file *f, bool table)
{
	*t = (struct hs_btree){.f = f, .table = table};
	return level(t, 0) ? NULL : &hs_error_nomem;
}

void hs_btree_add_row(struct hs_btree *t, int64_t rowid, const struct hs_record *r)
{
	if (t->f->err)
		return;
	if (t->rows && rowid <= t->last_rowid) {
		t->f->err = hs_error_create(HS_ERROR_FORMAT, "%s: rowid %lld out of order",
		                            t->f->path, (long long)rowid);
		return;
	}
	uint8_t cell[U];
	size_t n = record_cell(t, r, cell, &rowid);
	if (!n)
		return;
	struct hs_btree_level *leaf = t->levels[0];
	if (!fits(leaf, true, n)) {
		uint32_t pgno = write_level(t, leaf, true, 0);
		table_child(t, 1, pgno, t->last_rowid);
	}
	add_cell(leaf, true, cell, n);
	t->last_rowid = rowid;
	t->rows++;
}

/* The held key follows a full leaf: the leaf goes to level 1, the key after it as divider. */
static void release_held(struct hs_btree *t)
{
	uint32_t pgno = write_level(t, t->full, true, 0);
	index_child(t, 1, pgno);
	index_divider(t, 1, t->held, t->held_len);
	t->holding = false;
}

void hs_btree_add_key(struct hs_btree *t, const struct hs_record *r)
{
	if (t->f->err)
		return;
	uint8_t cell[U];
	size_t n = record_cell(t, r, cell, NULL);
	if (!n)
		return;
	if (t->holding)
		release_held(t);
	struct hs_btree_level *leaf = t->levels[0];
	if (!fits(leaf, true, n)) {
		if (!t->full && !(t->full = calloc(1, sizeof(*t->full)))) {
			t->f->err = &hs_error_nomem;
			return;
		}
		t->levels[0] = t->full;
		t->full = leaf;
		memcpy(t->held, cell, n);
		t->held_len = n;
		t->holding = true;
	} else {
		add_cell(leaf, true, cell, n);
	}
	t->rows++;
}

static void add_schema(struct hs_btree_file *f, const char *type, const char *name,
                       const char *table, const char *sql, uint32_t root)
{
	struct hs_btree_schema_row *rows = realloc(f->schema, (f->nschema + 1) * sizeof(*rows));
	char *copy = strdup(sql);
	if (!rows || !copy) {
		if (rows)
			f->schema = rows;
		free(copy);
		if (!f->err)
			f->err = &hs_error_nomem;
		return;
	}
	f->schema = rows;
	rows[f->nschema++] = (struct hs_btree_schema_row){type, name, table, copy, root};
}

void hs_btree_end(struct hs_btree *t, const char *type, const char *name, const char *table,
                  const char *sql)
{
	if (t->holding) {
		/* No key after the held one: the full leaf's last key divides instead. */
		uint8_t cell[U];
		size_t n = pop_cell(t->full, cell);
		uint32_t pgno = write_level(t, t->full, true, 0);
		index_child(t, 1, pgno);
		index_divider(t, 1, cell, n);
		add_cell(t->levels[0], true, t->held, t->held_len);
		t->holding = false;
	}
	/* The leaf (possibly empty: then the tree has no rows and it is the root), then each level
	 * above: a page with cells is written with its pending child rightmost and goes up; a
	 * level with only a pending child passes it up; the top one's is the root. */
	uint32_t root = 0, pgno = write_level(t, t->levels[0], true, 0);
	int64_t key = t->last_rowid;
	for (int l = 1; !t->f->err; l++) {
		if (l == t->nlevels) {
			root = pgno;
			break;
		}
		struct hs_btree_level *lv = t->levels[l];
		if (t->table)
			table_child(t, l, pgno, key);
		else
			index_child(t, l, pgno);
		if (lv->ncells) {
			key = lv->pending_key;
			pgno = write_level(t, lv, false, lv->pending);
		} else {
			pgno = lv->pending;
			key = lv->pending_key;
		}
	}
	add_schema(t->f, type, name, table, sql, root);
	for (int l = 0; l < t->nlevels; l++)
		free(t->levels[l]);
	free(t->full);
	free(t->payload);
	*t = (struct hs_btree){.f = t->f};
}

/* Page 1: the file header, then the schema table as one leaf of rows (type, name, tbl_name,
 * rootpage, sql) with rowids 1, 2, ... */
struct hs_error *hs_btree_file_finish(struct hs_btree_file *f)
{
	if (!f->err && f->buf_len)
		flush_buf(f);
	struct hs_btree_level page1 = {0};
	struct hs_record r = {0};
	uint8_t *payload = NULL;
	size_t cap = 0;
	for (size_t i = 0; !f->err && i < f->nschema; i++) {
		const struct hs_btree_schema_row *row = &f->schema[i];
		hs_record_start(&r);
		hs_record_text(&r, row->type, strlen(row->type));
		hs_record_text(&r, row->name, strlen(row->name));
		hs_record_text(&r, row->table, strlen(row->table));
		hs_record_int(&r, row->root);
		hs_record_text(&r, row->sql, strlen(row->sql));
		size_t len = record_payload(&r, &payload, &cap);
		uint8_t cell[U];
		size_t n = (size_t)varint_put(cell, len);
		n += (size_t)varint_put(cell + n, i + 1);
		/* Page 1 starts with the 100-byte file header: its cells have 100 bytes less. */
		if (!len || n + len > U || !fits(&page1, true, n + len + 100)) {
			f->err = hs_error_create(HS_ERROR_FORMAT,
			                         "%s: the schema does not fit page 1", f->path);
			break;
		}
		memcpy(cell + n, payload, len);
		add_cell(&page1, true, cell, n + len);
	}
	hs_record_free(&r);
	free(payload);
	if (!f->err) {
		/* The b-tree header sits at offset 100: move the cell pointers there. */
		uint8_t *p = page1.page;
		size_t content = U - (page1.used - 2 * (size_t)page1.ncells);
		memmove(p + 100 + 8, p + 8, 2 * (size_t)page1.ncells);
		memset(p, 0, 108);
		memset(p + 108 + 2 * (size_t)page1.ncells, 0,
		       content - 108 - 2 * (size_t)page1.ncells);
		p[100] = PAGE_TABLE_LEAF;
		put16(p + 103, (unsigned)page1.ncells);
		put16(p + 105, (unsigned)content);
		memcpy(p, "SQLite format 3", 16);
		put16(p + 16, U);
		p[18] = p[19] = 1; /* legacy (rollback journal) write and read versions */
		p[21] = 64, p[22] = 32, p[23] = 32; /* payload fractions, fixed by the format */
		put32(p + 24, 1);                   /* file change counter */
		put32(p + 28, f->next_page - 1);    /* pages */
		put32(p + 40, 1);                   /* schema cookie */
		put32(p + 44, 4);                   /* schema format */
		put32(p + 56, 1);                   /* UTF-8 */
		put32(p + 92, 1);                   /* version-valid-for: the change counter */
		put32(p + 96, (uint32_t)sqlite3_libversion_number());
		write_at(f, p, U, 0);
	}
	struct hs_error *err = f->err;
	f->err = NULL;
	hs_btree_file_discard(f);
	return err;
}
