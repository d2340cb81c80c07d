/*
 * store_tables.c — the big tables of a snapshot's database (objects, edges, referrers) and
 * their indexes, written as SQLite pages by sqlite_btree.c instead of through INSERT.
 *
 * Every tree is written in its key order, which the snapshot mostly gives for free: objects
 * by id (= address order, so objects_addr too), edges by id (sorted by source, so edges_src
 * too).  The rest is sorted here: referrers by (dst, edge) with a counting sort of the edges by
 * destination, objects_retained with a radix sort of the ids by retained size, objects_garbage
 * (few rows) with qsort.  The edge trees need no analysis, so hs_store_tables_edges can run
 * while hs_analyze does (store.c starts it in a thread); hs_store_tables_objects follows.
 * The rows of objects and edges are their columns as store_columns.c describes them.
 */
#include <stdlib.h>
#include <string.h>

#include "store_tables.h"

/* The CREATE statements of the trees whose columns store_columns.c does not describe: the
 * referrers (rows that a sort gives, written here alone) and the indexes. */
const char hs_sql_referrers[] =
    "CREATE TABLE referrers(dst INTEGER, edge INTEGER, src INTEGER, PRIMARY KEY(dst, edge))\n"
    "  WITHOUT ROWID";
const char hs_sql_objects_addr[] = "CREATE UNIQUE INDEX objects_addr ON objects(addr)";
const char hs_sql_objects_retained[] = "CREATE INDEX objects_retained ON objects(retained)";
const char hs_sql_objects_garbage[] =
    "CREATE INDEX objects_garbage ON objects(scc) WHERE unreachable";
const char hs_sql_edges_src[] = "CREATE INDEX edges_src ON edges(src)";

/* Adds src's row of t to bt under rowid: the rowid column (columns[0]) is stored as NULL, as
 * SQLite stores an INTEGER PRIMARY KEY. */
static void add_row(struct hs_btree *bt, struct hs_record *r, const struct hs_store_table *t,
                    struct hs_row_src *src, int64_t rowid)
{
	hs_record_start(r);
	hs_record_null(r);
	for (int c = 1; c < t->ncolumns; c++) {
		struct hs_value v;
		t->columns[c].get(src, &v);
		if (v.kind == HS_VALUE_INT)
			hs_record_int(r, v.i);
		else if (v.kind == HS_VALUE_TEXT)
			hs_record_text(r, v.s, v.len);
		else
			hs_record_null(r);
		if (src->big)
			hs_row_src_release(src);
	}
	if (src->nomem)
		r->nomem = true; /* never a NULL column: hs_btree_add_row fails the load */
	hs_btree_add_row(bt, rowid, r);
	src->nomem = false;
}

/* Ends the tree of table t, entered in the schema with the CREATE statement t's columns give. */
static void end_table(struct hs_btree *bt, const struct hs_store_table *t)
{
	char *sql = hs_store_table_sql(t);
	if (!sql && !bt->f->err)
		bt->f->err = &hs_error_nomem;
	hs_btree_end(bt, "table", t->name, t->name, sql ? sql : "");
	free(sql);
}

/* edges and edges_src: one pass over the edges each, in id order. */
static void write_edges(struct hs_btree_file *f, const struct hs_snapshot *snap,
                        struct hs_record *r)
{
	struct hs_btree t;
	struct hs_row_src src = {.snap = snap};
	if ((f->err = hs_btree_begin(&t, f, true)))
		return;
	for (uint64_t i = 0; i < snap->nobjects && !f->err; i++) {
		src.i = src.id = i;
		for (uint64_t e = snap->edge_start[i]; e < snap->edge_start[i + 1]; e++) {
			src.k = src.e = e;
			add_row(&t, r, &hs_store_edges, &src, (int64_t)e);
		}
	}
	end_table(&t, &hs_store_edges);
	if (f->err || (f->err = hs_btree_begin(&t, f, false)))
		return;
	for (uint64_t i = 0; i < snap->nobjects && !f->err; i++) {
		for (uint64_t e = snap->edge_start[i]; e < snap->edge_start[i + 1]; e++) {
			hs_record_start(r);
			hs_record_int(r, (int64_t)i);
			hs_record_int(r, (int64_t)e);
			hs_btree_add_key(&t, r);
		}
	}
	hs_btree_end(&t, "index", "edges_src", "edges", hs_sql_edges_src);
}

/* referrers in (dst, edge) order: a counting sort of the edges by destination, each edge
 * scattered with its source so that the rows come out in one sequential pass.  The
 * destinations go in ranges of at most an eighth of the edges (a million at least), each range
 * a sequential pass over all the edges: 1 byte per edge while it runs, where sorting them all at
 * once would take 8, on top of the analysis running meanwhile.  ends (zeroed, nobjects entries)
 * counts the edges into each object, then holds where each one's run starts, and ends as the
 * end of its run. */
static void write_referrers(struct hs_btree_file *f, const struct hs_snapshot *snap, uint32_t *ends,
                            struct hs_record *r)
{
	uint64_t n = snap->nobjects, m = snap->nedges;
	uint64_t chunk = m / 8 > (1 << 20) ? m / 8 : (1 << 20), cap = m < chunk ? m : chunk;
	uint32_t(*edge)[2] = malloc((cap ? cap : 1) * sizeof(*edge));
	struct hs_btree t;
	if (!edge || (f->err = hs_btree_begin(&t, f, false))) {
		if (!f->err)
			f->err = &hs_error_nomem;
		free(edge);
		return;
	}
	for (uint64_t e = 0; e < m; e++)
		ends[snap->edge_dst[e]]++;
	for (uint64_t d = 0, run = 0; d < n; d++) {
		uint32_t count = ends[d];
		ends[d] = (uint32_t)run;
		run += count;
	}
	for (uint64_t lo = 0, hi; lo < n && !f->err; lo = hi) {
		/* Destinations lo .. hi-1: as many as fit chunk edges (at least one); ends[d] is
		 * the start of d's run for every d >= lo. */
		uint64_t base = ends[lo], end;
		for (hi = lo + 1; hi < n && ends[hi] - base <= chunk; hi++)
			;
		end = hi < n ? ends[hi] : m;
		if (hi > lo + 1 && end - base > chunk)
			end = ends[--hi];
		if (end - base > cap) { /* one object with more referrers than a chunk */
			uint32_t(*big)[2] = realloc(edge, (end - base) * sizeof(*edge));
			if (!big) {
				f->err = &hs_error_nomem;
				break;
			}
			edge = big;
			cap = end - base;
		}
		for (uint64_t i = 0; i < n; i++) {
			for (uint64_t e = snap->edge_start[i]; e < snap->edge_start[i + 1]; e++) {
				uint32_t d = snap->edge_dst[e];
				if (d < lo || d >= hi)
					continue;
				uint32_t *to = edge[ends[d]++ - base];
				to[0] = (uint32_t)e;
				to[1] = (uint32_t)i;
			}
		}
		/* ends[d] is now the end of d's run. */
		for (uint64_t d = lo, k = base; d < hi && !f->err; d++) {
			for (; k < ends[d]; k++) {
				hs_record_start(r);
				hs_record_int(r, (int64_t)d);
				hs_record_int(r, edge[k - base][0]);
				hs_record_int(r, edge[k - base][1]);
				hs_btree_add_key(&t, r);
			}
		}
	}
	free(edge);
	hs_btree_end(&t, "table", "referrers", "referrers", hs_sql_referrers);
}

struct hs_error *hs_store_tables_edges(struct hs_btree_file *f, const struct hs_snapshot *snap)
{
	if (snap->nedges > UINT32_MAX || snap->nobjects >= UINT32_MAX)
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: %llu edges: the store needs ids below 2^32", f->path,
		                       (unsigned long long)snap->nedges);
	struct hs_record r = {0};
	write_edges(f, snap, &r);
	hs_record_free(&r);
	return f->err;
}

struct hs_error *hs_store_tables_referrers(struct hs_btree_file *f, const struct hs_snapshot *snap,
                                           uint32_t *ends)
{
	struct hs_record r = {0};
	write_referrers(f, snap, ends, &r);
	hs_record_free(&r);
	return f->err;
}

/* Two-column index entries (key, id) in order. */
static void add_pair(struct hs_btree *t, struct hs_record *r, int64_t key, uint64_t id)
{
	hs_record_start(r);
	hs_record_int(r, key);
	hs_record_int(r, (int64_t)id);
	hs_btree_add_key(t, r);
}

/* The ids 0..n-1 in order of key(id) as a signed 64-bit integer, ties by id: a stable LSD
 * radix sort by 11-bit digits, skipping the digits every key shares.  NULL when out of memory. */
static uint32_t *sort_by_key(const uint64_t *key, uint64_t n)
{
	uint32_t *ids = malloc((n ? n : 1) * sizeof(*ids)),
	         *tmp = malloc((n ? n : 1) * sizeof(*tmp));
	if (!ids || !tmp) {
		free(ids);
		free(tmp);
		return NULL;
	}
	const uint64_t flip = (uint64_t)1 << 63; /* signed order as unsigned */
	uint64_t all_or = 0, all_and = ~(uint64_t)0;
	for (uint64_t i = 0; i < n; i++) {
		ids[i] = (uint32_t)i;
		all_or |= key[i] ^ flip;
		all_and &= key[i] ^ flip;
	}
	for (int shift = 0; shift < 64; shift += 11) {
		uint64_t mask = (uint64_t)0x7ff << shift;
		if (((all_or ^ all_and) & mask) == 0)
			continue; /* every key has the same digit here */
		uint64_t count[2049] = {0};
		for (uint64_t i = 0; i < n; i++)
			count[(((key[ids[i]] ^ flip) >> shift) & 0x7ff) + 1]++;
		for (int d = 0; d < 2048; d++)
			count[d + 1] += count[d];
		for (uint64_t i = 0; i < n; i++)
			tmp[count[((key[ids[i]] ^ flip) >> shift) & 0x7ff]++] = ids[i];
		uint32_t *swap = ids;
		ids = tmp;
		tmp = swap;
	}
	free(tmp);
	return ids;
}

static int by_value(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

struct hs_error *hs_store_tables_objects(struct hs_btree_file *f, const struct hs_snapshot *snap,
                                         const struct hs_analysis *a, const uint32_t *ends,
                                         hs_progress_fn *progress, void *progress_arg)
{
	uint64_t n = snap->nobjects;
	struct hs_record r = {0};
	struct hs_btree t;
	if ((f->err = hs_btree_begin(&t, f, true)))
		return f->err;
	struct hs_row_src src = {.snap = snap, .a = a};
	for (uint64_t i = 0; i < n && !f->err; i++) {
		if (progress && (i & 0xffff) == 0)
			progress(progress_arg, "objects", (double)i / (double)n);
		src.i = src.id = i;
		src.nreferrers = ends[i] - (i ? ends[i - 1] : 0);
		add_row(&t, &r, &hs_store_objects, &src, (int64_t)i);
	}
	end_table(&t, &hs_store_objects);

	/* objects_addr: id order is unsigned address order; as signed integers the addresses from
	 * 2^63 up come first. */
	uint64_t high = n;
	while (high > 0 && snap->addr[high - 1] >> 63)
		high--;
	if (!f->err && !(f->err = hs_btree_begin(&t, f, false))) {
		for (uint64_t k = 0; k < n && !f->err; k++) {
			uint64_t i = (high + k) % n;
			add_pair(&t, &r, (int64_t)snap->addr[i], i);
		}
		hs_btree_end(&t, "index", "objects_addr", "objects", hs_sql_objects_addr);
	}

	uint32_t *ids = f->err ? NULL : sort_by_key(a->retained, n);
	if (!f->err && !ids)
		f->err = &hs_error_nomem;
	if (!f->err && !(f->err = hs_btree_begin(&t, f, false))) {
		for (uint64_t k = 0; k < n && !f->err; k++)
			add_pair(&t, &r, (int64_t)a->retained[ids[k]], ids[k]);
		hs_btree_end(&t, "index", "objects_retained", "objects", hs_sql_objects_retained);
	}

	free(ids);
	/* objects_garbage: (scc << 32 | id) sorts as (scc, id). */
	uint64_t ngarbage = 0, *garbage = NULL;
	for (uint64_t i = 0; i < n; i++)
		ngarbage += a->unreachable[i] != 0;
	if (!f->err && !(garbage = malloc((ngarbage ? ngarbage : 1) * sizeof(*garbage))))
		f->err = &hs_error_nomem;
	if (!f->err && !(f->err = hs_btree_begin(&t, f, false))) {
		for (uint64_t i = 0, k = 0; i < n; i++)
			if (a->unreachable[i])
				garbage[k++] = (uint64_t)a->scc[i] << 32 | i;
		qsort(garbage, ngarbage, sizeof(*garbage), by_value);
		for (uint64_t k = 0; k < ngarbage && !f->err; k++)
			add_pair(&t, &r, (int64_t)(garbage[k] >> 32), garbage[k] & UINT32_MAX);
		hs_btree_end(&t, "index", "objects_garbage", "objects", hs_sql_objects_garbage);
	}
	free(garbage);
	hs_record_free(&r);
	return f->err;
}
