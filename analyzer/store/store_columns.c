/*
 * store_columns.c — the columns of the big tables objects and edges (SCHEMA.md): for each, its
 * name, its SQL type and the function that gives its value for one row (struct hs_row_src),
 * whichever writer asks: the page writer (store_tables.c) or the streamed load (store.c).  The
 * CREATE statements are spelled from the same lists, so the two writers cannot disagree on a
 * column's place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sqlite_btree.h"
#include "store_columns.h"

static void set_int(struct hs_value *ret, int64_t v)
{
	*ret = (struct hs_value){.kind = HS_VALUE_INT, .i = v};
}

static void set_null(struct hs_value *ret)
{
	*ret = (struct hs_value){.kind = HS_VALUE_NULL};
}

/* v as an integer when it is known, else NULL. */
static void set_known(struct hs_value *ret, bool known, int64_t v)
{
	if (known)
		set_int(ret, v);
	else
		set_null(ret);
}

/* v as an integer, NULL when it is none (the "no value" mark of its array). */
static void set_unless(struct hs_value *ret, uint64_t v, uint64_t none)
{
	if (v == none)
		set_null(ret);
	else
		set_int(ret, (int64_t)v);
}

static void set_string(struct hs_value *ret, const struct hs_string *s)
{
	*ret = (struct hs_value){.kind = HS_VALUE_TEXT, .s = s->s, .len = s->len};
}

/* The columns every snapshot gives (a stream's runs too). */
static void obj_id(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, (int64_t)src->id);
}

static void obj_addr(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, (int64_t)src->snap->addr[src->i]);
}

static void obj_type(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, src->snap->type[src->i]);
}

static void obj_size(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, (int64_t)src->snap->size[src->i]);
}

static void obj_refcnt(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, (int64_t)src->snap->refcnt[src->i]);
}

static void obj_gc(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, src->snap->flags[src->i] & HS_OBJ_GC ? 1 : 0);
}

static void obj_generation(struct hs_row_src *src, struct hs_value *ret)
{
	set_unless(ret, src->snap->generation[src->i], HS_GEN_NONE);
}

static void obj_immortal(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, src->snap->flags[src->i] & HS_OBJ_IMMORTAL ? 1 : 0);
}

/* A stream decodes no previews: its value[] is 0. */
static void obj_value(struct hs_row_src *src, struct hs_value *ret)
{
	uint32_t v = src->snap->value[src->i];
	if (v)
		set_string(ret, &src->snap->values[v - 1]);
	else
		set_null(ret);
}

static void obj_nrefs(struct hs_row_src *src, struct hs_value *ret)
{
	const uint64_t *start = src->snap->edge_start;
	set_int(ret, (int64_t)(start[src->i + 1] - start[src->i]));
}

static void obj_nreferrers(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, src->nreferrers);
}

static void obj_flags(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, src->snap->flags[src->i]);
}

static void obj_memory(struct hs_row_src *src, struct hs_value *ret)
{
	const struct hs_snapshot *snap = src->snap;
	set_known(ret, snap->has_memory,
	          snap->has_memory ? (int64_t)snap->size[src->i] + snap->memory_delta[src->i] : 0);
}

/* sites.id, NULL when none. */
static void obj_site(struct hs_row_src *src, struct hs_value *ret)
{
	set_unless(ret, (uint64_t)src->snap->site[src->i] - 1, UINT64_MAX);
}

/* The analysis' columns: NULL in a stream but for ext_refs and is_root, which a stream
 * estimates from the edges it counted (OUT-OF-CORE.md). */
static void obj_ext_refs(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, src->a ? src->a->ext_refs[src->i] : src->ext_refs);
}

static void obj_is_root(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, src->a ? src->a->is_root[src->i] : src->ext_refs > 0);
}

static void obj_unreachable(struct hs_row_src *src, struct hs_value *ret)
{
	set_known(ret, src->a, src->a ? src->a->unreachable[src->i] : 0);
}

static void obj_scc(struct hs_row_src *src, struct hs_value *ret)
{
	set_known(ret, src->a, src->a ? src->a->scc[src->i] : 0);
}

static void obj_idom(struct hs_row_src *src, struct hs_value *ret)
{
	set_unless(ret, src->a ? src->a->idom[src->i] : HS_NONE, HS_NONE);
}

static void obj_retained(struct hs_row_src *src, struct hs_value *ret)
{
	set_known(ret, src->a, src->a ? (int64_t)src->a->retained[src->i] : 0);
}

static void obj_depth(struct hs_row_src *src, struct hs_value *ret)
{
	set_unless(ret, src->a ? src->a->depth[src->i] : HS_NONE, HS_NONE);
}

static void obj_scc_size(struct hs_row_src *src, struct hs_value *ret)
{
	set_known(ret, src->a, src->a ? src->a->scc_size[src->i] : 0);
}

static void obj_parent_edge(struct hs_row_src *src, struct hs_value *ret)
{
	set_unless(ret, src->a ? src->a->parent_edge[src->i] : UINT64_MAX, UINT64_MAX);
}

static void obj_retained_memory(struct hs_row_src *src, struct hs_value *ret)
{
	const uint64_t *rm = src->a ? src->a->retained_memory : NULL;
	set_known(ret, rm, rm ? (int64_t)rm[src->i] : 0);
}

static const struct hs_column objects_columns[] = {
    {"id", "INTEGER PRIMARY KEY", obj_id},
    {"addr", "INTEGER", obj_addr},
    {"type_id", "INTEGER", obj_type},
    {"size", "INTEGER", obj_size},
    {"refcnt", "INTEGER", obj_refcnt},
    {"gc", "INTEGER", obj_gc},
    {"generation", "INTEGER", obj_generation},
    {"immortal", "INTEGER", obj_immortal},
    {"value", "TEXT", obj_value},
    {"ext_refs", "INTEGER", obj_ext_refs},
    {"unreachable", "INTEGER", obj_unreachable},
    {"scc", "INTEGER", obj_scc},
    {"idom", "INTEGER", obj_idom},
    {"retained", "INTEGER", obj_retained},
    {"depth", "INTEGER", obj_depth},
    {"is_root", "INTEGER", obj_is_root},
    {"scc_size", "INTEGER", obj_scc_size},
    {"parent_edge", "INTEGER", obj_parent_edge},
    {"nrefs", "INTEGER", obj_nrefs},
    {"nreferrers", "INTEGER", obj_nreferrers},
    {"flags", "INTEGER", obj_flags},
    {"memory", "INTEGER", obj_memory},
    {"retained_memory", "INTEGER", obj_retained_memory},
    {"site", "INTEGER", obj_site},
};

static void edge_id(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, (int64_t)src->e);
}

static void edge_src(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, (int64_t)src->id);
}

static void edge_dst(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, src->snap->edge_dst[src->k]);
}

static void edge_kind(struct hs_row_src *src, struct hs_value *ret)
{
	set_int(ret, src->snap->edge_kind[src->k]);
}

/* The label as hs_snapshot_edge_label spells it, in src->buf or src->big. */
static void edge_label_spelled(struct hs_row_src *src, struct hs_value *ret)
{
	size_t need = hs_snapshot_edge_label(src->snap, src->i, src->k, src->buf, sizeof(src->buf));
	char *text = src->buf;
	if (need >= sizeof(src->buf)) {
		text = src->big = malloc(need + 1);
		if (!text) {
			src->nomem = true; /* never a NULL label: the row fails */
			set_null(ret);
			return;
		}
		if (!hs_snapshot_edge_label(src->snap, src->i, src->k, text, need + 1)) {
			set_null(ret);
			return;
		}
	}
	*ret = (struct hs_value){.kind = HS_VALUE_TEXT, .transient = true, .s = text, .len = need};
}

/* NULL when the edge has none.  Labels that name another object (dict keys, attributes) need
 * that object's value, which a stream does not hold: they are NULL there. */
static void edge_label(struct hs_row_src *src, struct hs_value *ret)
{
	const struct hs_snapshot *snap = src->snap;
	uint8_t form = snap->edge_form[src->k];
	uint32_t v = snap->edge_label[src->k];
	if (form == HS_LABEL_NONE) {
		set_null(ret);
	} else if (form == HS_LABEL_STRING) {
		set_string(ret, &snap->strings[v]);
	} else if (!src->stream) {
		edge_label_spelled(src, ret);
	} else if (form == HS_LABEL_ORDINAL || form == HS_LABEL_INDEX) {
		uint64_t n = form == HS_LABEL_INDEX ? v : src->e - snap->edge_start[src->i];
		int len = snprintf(src->buf, sizeof(src->buf), "[%llu]", (unsigned long long)n);
		*ret = (struct hs_value){
		    .kind = HS_VALUE_TEXT, .transient = true, .s = src->buf, .len = (size_t)len};
	} else {
		set_null(ret);
	}
}

static const struct hs_column edges_columns[] = {
    {"id", "INTEGER PRIMARY KEY", edge_id}, {"src", "INTEGER", edge_src},
    {"dst", "INTEGER", edge_dst},           {"label", "TEXT", edge_label},
    {"kind", "INTEGER", edge_kind},
};

#define NCOLUMNS(cols) ((int)(sizeof(cols) / sizeof(*(cols))))
_Static_assert(NCOLUMNS(objects_columns) <= HS_BTREE_MAX_COLUMNS, "objects: too many columns");
_Static_assert(NCOLUMNS(edges_columns) <= HS_BTREE_MAX_COLUMNS, "edges: too many columns");

const struct hs_store_table hs_store_objects = {"objects", objects_columns,
                                                NCOLUMNS(objects_columns)};
const struct hs_store_table hs_store_edges = {"edges", edges_columns, NCOLUMNS(edges_columns)};

/* The statement's lines wrap before a column that would take one past this width. */
#define SQL_WIDTH 92

char *hs_store_table_sql(const struct hs_store_table *t)
{
	size_t size = strlen("CREATE TABLE ()") + strlen(t->name) + 1;
	for (int c = 0; c < t->ncolumns; c++)
		size += strlen(t->columns[c].name) + strlen(t->columns[c].type) + 5;
	char *sql = malloc(size);
	if (!sql)
		return NULL;
	size_t len = (size_t)snprintf(sql, size, "CREATE TABLE %s(", t->name), line = len;
	for (int c = 0; c < t->ncolumns; c++) {
		const struct hs_column *col = &t->columns[c];
		size_t piece = strlen(col->name) + 1 + strlen(col->type) + 1;
		const char *sep = c == 0 ? "" : line + 1 + piece > SQL_WIDTH ? "\n  " : " ";
		if (*sep == '\n')
			line = 2;
		else
			line += strlen(sep);
		len += (size_t)snprintf(sql + len, size - len, "%s%s %s%s", sep, col->name,
		                        col->type, c + 1 < t->ncolumns ? "," : ")");
		line += piece;
	}
	return sql;
}

void hs_row_src_release(struct hs_row_src *src)
{
	free(src->big);
	src->big = NULL;
}
