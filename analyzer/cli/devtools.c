/*
 * devtools.c — `heapsnap export --format devtools`: a snapshot as a V8 heap snapshot, the
 * .heapsnapshot JSON that Chrome DevTools' Memory panel and memlab open.  Streamed: the nodes,
 * then the edges, then the strings table are written as they are computed; what is kept is one
 * entry per distinct edge name, found in the edges and written at the end, never JSON text.
 *
 * V8's layout: snapshot.meta names the fields of a node (type, name, id, self_size, edge_count,
 * trace_node_id, detachedness) and of an edge (type, name_or_index, to_node); "nodes" and
 * "edges" are flat arrays of numbers, a node's edges are the next edge_count ones, to_node is
 * the target's offset in "nodes" (its index times 7), a name is an index into "strings" and an
 * element edge's name_or_index is its index.  Readers keep these numbers in 32 bits.
 *
 * The mapping (README "Chrome DevTools and memlab"):
 *   node 0      the synthetic root "" (id 1): an element edge to (GC roots), and a shortcut
 *               edge to each root object, the way V8 marks its user roots (DevTools counts
 *               distances from them);
 *   node 1      "(GC roots)" (synthetic, id 3): an internal edge to each named root, named as
 *               the root is, and "<external references>" to each object that has them;
 *   node 2 + i  object i: type "object", named by its type's __qualname__, id 2 * (2 + i) + 1
 *               (V8's object ids are odd), self_size its size (at most 2^32 - 1);
 *   its edges   [i] (a list's or tuple's items) are element i; .attr and [key] are property,
 *               named by the attribute, by a str key's text, by any other key as repr() writes
 *               it; every other label is internal, named by the label; weak links are weak
 *               edges "<referent>".
 * So the dominators and retained sizes DevTools and memlab compute (over every edge but weak
 * ones and shortcuts not from the root) are heapsnap's, for every object some root reaches.
 */
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "devtools.h"
#include "pyrepr.h"

#define NODE_FIELDS 7
#define FIRST_OBJECT 2 /* the node of object 0 */

/* Indexes into meta.node_types and meta.edge_types (V8's order, written in HEADER). */
enum { NODE_OBJECT = 3, NODE_SYNTHETIC = 9 };
enum { EDGE_ELEMENT = 1, EDGE_PROPERTY = 2, EDGE_INTERNAL = 3, EDGE_SHORTCUT = 5, EDGE_WEAK = 6 };

/* The strings every export has; the types' names follow from STR_TYPES, then the roots' names,
 * then the names found in the edges (struct name). */
enum { STR_EMPTY, STR_GC_ROOTS, STR_EXTERNAL, STR_REFERENT, STR_TYPES };
static const char *const fixed_strings[STR_TYPES] = {"", "(GC roots)", "<external references>",
                                                     "<referent>"};

static const char HEADER[] =
    "{\"snapshot\":{\"meta\":{\"node_fields\":[\"type\",\"name\",\"id\",\"self_size\","
    "\"edge_count\",\"trace_node_id\",\"detachedness\"],\n"
    "\"node_types\":[[\"hidden\",\"array\",\"string\",\"object\",\"code\",\"closure\","
    "\"regexp\",\"number\",\"native\",\"synthetic\",\"concatenated string\",\"sliced string\","
    "\"symbol\",\"bigint\",\"object shape\"],\"string\",\"number\",\"number\",\"number\","
    "\"number\",\"number\"],\n"
    "\"edge_fields\":[\"type\",\"name_or_index\",\"to_node\"],\n"
    "\"edge_types\":[[\"context\",\"element\",\"property\",\"internal\",\"hidden\",\"shortcut\","
    "\"weak\"],\"string_or_number\",\"node\"],\n"
    "\"trace_function_info_fields\":[\"function_id\",\"name\",\"script_name\",\"script_id\","
    "\"line\",\"column\"],\n"
    "\"trace_node_fields\":[\"id\",\"function_info_index\",\"count\",\"size\",\"children\"],\n"
    "\"sample_fields\":[\"timestamp_us\",\"last_assigned_id\"],\n"
    "\"location_fields\":[\"object_index\",\"script_id\",\"line\",\"column\"]},\n";

/* In by_object: a key that is an element index (the low bits); string ids stay below it. */
#define SLOT_ELEMENT UINT32_C(0x80000000)

/* A name found in an edge, written at the end: the text of label string `val` (a STRING label),
 * or the label of edge `val` of object `src` (a dict key or an attribute name). */
struct name {
	uint32_t is_edge, src;
	uint64_t val;
};

struct buf {
	char *p;
	size_t cap;
};

struct dt_export {
	const struct hs_snapshot *snap;
	FILE *out;
	struct hs_analysis *roots;
	uint32_t *by_string; /* per label string: its name's string id + 1, or 0 */
	uint32_t *by_object; /* per key or attribute-name object: the same */
	struct name *names;  /* the names found in the edges, from string first_name on */
	size_t nnames, cap;
	uint64_t first_name;
	struct hs_keyed *weak; /* live weak links sorted by key = ref, index = referent */
	size_t nweak;
	uint64_t external;      /* objects with external references */
	uint32_t *qualname;     /* per type: the meta entry of its __qualname__ + 1, or 0 */
	struct buf label, name; /* an edge's label, and a str key's text */
	const char *sep;        /* written before the next number */
};

static void put_number(struct dt_export *x, uint64_t v)
{
	char buf[24];
	size_t n = sizeof(buf);
	do
		buf[--n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	fputs(x->sep, x->out);
	fwrite(buf + n, 1, sizeof(buf) - n, x->out);
	x->sep = ",";
}

/* The next number begins a row (a node or an edge): on a line of its own, as V8 writes it. */
static void begin_row(struct dt_export *x)
{
	if (x->sep[0])
		x->sep = "\n,";
}

static void put_node(struct dt_export *x, int type, uint64_t name, uint64_t node, uint64_t size,
                     uint64_t nedges)
{
	begin_row(x);
	uint64_t fields[NODE_FIELDS] = {(uint64_t)type,
	                                name,
	                                2 * node + 1,
	                                size > UINT32_MAX ? UINT32_MAX : size,
	                                nedges,
	                                0,
	                                0};
	for (int i = 0; i < NODE_FIELDS; i++)
		put_number(x, fields[i]);
}

static void put_edge(struct dt_export *x, int type, uint64_t name_or_index, uint64_t node)
{
	begin_row(x);
	put_number(x, (uint64_t)type);
	put_number(x, name_or_index);
	put_number(x, node * NODE_FIELDS);
}

/* The V8 edge type of a label's text s[0..n), and in *index an element's: "[N]" is element N
 * (up to 9 digits, which 32 bits hold), ".name" and "[key]" are properties, anything else
 * ("<cell x>", the empty label) is internal. */
static int label_type(const char *s, size_t n, uint64_t *index)
{
	if (n >= 3 && n <= 11 && s[0] == '[' && s[n - 1] == ']') {
		uint64_t v = 0;
		size_t i = 1;
		for (; i < n - 1 && s[i] >= '0' && s[i] <= '9'; i++)
			v = 10 * v + (uint64_t)(s[i] - '0');
		if (i == n - 1) {
			*index = v;
			return EDGE_ELEMENT;
		}
	}
	if (n >= 2 && (s[0] == '.' || (s[0] == '[' && s[n - 1] == ']')))
		return EDGE_PROPERTY;
	return EDGE_INTERNAL;
}

static bool reserve(struct buf *b, size_t n)
{
	if (n <= b->cap)
		return true;
	char *p = realloc(b->p, n);
	if (!p)
		return false;
	b->p = p;
	b->cap = n;
	return true;
}

/* Writes the name an edge labelled s[0..n) has: a property's without its punctuation (".name"
 * is name, "[key]" and ".__dict__[key]" are key, a str key by its text), anything else as is. */
static struct hs_error *put_label_name(struct dt_export *x, const char *s, size_t n)
{
	uint64_t index;
	if (label_type(s, n, &index) == EDGE_PROPERTY) {
		bool dot = s[0] == '.';
		s += 1;
		n -= dot ? 1 : 2;
		if (dot && n > 10 && memcmp(s, "__dict__[", 9) == 0 && s[n - 1] == ']') {
			s += 9;
			n -= 10;
		}
		/* The str a literal spells is never longer than the literal. */
		if (!reserve(&x->name, n + 1))
			return &hs_error_nomem;
		struct hs_textbuf o = {x->name.p, n + 1, 0};
		if (hs_py_str_unrepr(&o, s, n)) {
			hs_json_string(x->out, x->name.p, o.len);
			return NULL;
		}
	}
	hs_json_string(x->out, s, n);
	return NULL;
}

/* The string id of a name found in an edge, from *slot (id + 1, or 0 for a name not yet met,
 * which is then added). */
static struct hs_error *name_id(struct dt_export *x, uint32_t *slot, struct name name,
                                uint64_t *ret)
{
	if (!*slot) {
		if (x->first_name + x->nnames + 1 >= SLOT_ELEMENT)
			return hs_error_create(
			    HS_ERROR_OTHER, "%s: more than 2^31 - 2 distinct names", x->snap->path);
		if (x->nnames == x->cap) {
			size_t cap = x->cap ? 2 * x->cap : 4096;
			struct name *p = realloc(x->names, cap * sizeof(*p));
			if (!p)
				return &hs_error_nomem;
			x->names = p;
			x->cap = cap;
		}
		x->names[x->nnames] = name;
		*slot = (uint32_t)(x->first_name + x->nnames++ + 1);
	}
	*ret = *slot - 1;
	return NULL;
}

/* The label of edge e of object i, in x->label (its length in *len). */
static struct hs_error *render_label(struct dt_export *x, uint64_t i, uint64_t e, size_t *len)
{
	size_t n = hs_snapshot_edge_label(x->snap, i, e, x->label.p, x->label.cap);
	if (n >= x->label.cap) {
		if (!reserve(&x->label, n + 1))
			return &hs_error_nomem;
		hs_snapshot_edge_label(x->snap, i, e, x->label.p, x->label.cap);
	}
	*len = n;
	return NULL;
}

/* The type and name of edge e of object i, a dict item or an attribute whose key or name is
 * object v: element N for a key that is an int of up to 9 digits, as V8 has it for objects,
 * else a property named by the key.  The label is rendered once per key, the first time. */
static struct hs_error *key_edge(struct dt_export *x, uint64_t i, uint64_t e, uint32_t v, int *type,
                                 uint64_t *name)
{
	uint32_t *slot = &x->by_object[v];
	if (!*slot) {
		size_t n;
		uint64_t index;
		struct hs_error *err = render_label(x, i, e, &n);
		if (err)
			return err;
		if (label_type(x->label.p, n, &index) == EDGE_ELEMENT)
			*slot = SLOT_ELEMENT | (uint32_t)index;
	}
	if (*slot & SLOT_ELEMENT) {
		*type = EDGE_ELEMENT;
		*name = *slot & ~SLOT_ELEMENT;
		return NULL;
	}
	*type = EDGE_PROPERTY;
	return name_id(x, slot, (struct name){1, (uint32_t)i, e}, name);
}

/* The edges of object i: its references, then its weak links (from *weak on). */
static struct hs_error *put_object_edges(struct dt_export *x, uint64_t i, size_t *weak)
{
	const struct hs_snapshot *snap = x->snap;
	for (uint64_t e = snap->edge_start[i]; e < snap->edge_start[i + 1]; e++) {
		uint64_t dst = FIRST_OBJECT + (uint64_t)snap->edge_dst[e], name = STR_EMPTY;
		uint32_t v = snap->edge_label[e];
		int type = EDGE_INTERNAL;
		struct hs_error *err = NULL;
		switch (snap->edge_form[e]) {
		case HS_LABEL_ORDINAL:
			type = EDGE_ELEMENT, name = e - snap->edge_start[i];
			break;
		case HS_LABEL_INDEX:
			type = EDGE_ELEMENT, name = v;
			break;
		case HS_LABEL_STRING:
			type = label_type(snap->strings[v].s, snap->strings[v].len, &name);
			if (type != EDGE_ELEMENT)
				err = name_id(x, &x->by_string[v], (struct name){0, 0, v}, &name);
			break;
		case HS_LABEL_KEY:
		case HS_LABEL_ATTR:
			err = key_edge(x, i, e, v, &type, &name);
			break;
		}
		if (err)
			return err;
		put_edge(x, type, name, dst);
	}
	for (; *weak < x->nweak && x->weak[*weak].key == i; ++*weak)
		put_edge(x, EDGE_WEAK, STR_REFERENT, FIRST_OBJECT + x->weak[*weak].index);
	return NULL;
}

/* The edges of the root and of (GC roots) (see the top of this file). */
static void put_root_edges(struct dt_export *x)
{
	const struct hs_snapshot *snap = x->snap;
	uint8_t *is_root = x->roots->is_root;
	uint64_t first_root_name = STR_TYPES + snap->ntypes;
	put_edge(x, EDGE_ELEMENT, 1, 1);
	/* A root's shortcut is named by its first name; is_root becomes 2 once it has one. */
	for (uint64_t r = 0; r < snap->nroots; r++)
		if (is_root[snap->roots[r].obj] == 1) {
			put_edge(x, EDGE_SHORTCUT, first_root_name + r,
			         FIRST_OBJECT + snap->roots[r].obj);
			is_root[snap->roots[r].obj] = 2;
		}
	for (uint64_t i = 0; i < snap->nobjects; i++)
		if (is_root[i] == 1)
			put_edge(x, EDGE_SHORTCUT, STR_EXTERNAL, FIRST_OBJECT + i);
	for (uint64_t r = 0; r < snap->nroots; r++)
		put_edge(x, EDGE_INTERNAL, first_root_name + r, FIRST_OBJECT + snap->roots[r].obj);
	for (uint64_t i = 0; i < snap->nobjects; i++)
		if (x->roots->ext_refs[i] > 0)
			put_edge(x, EDGE_INTERNAL, STR_EXTERNAL, FIRST_OBJECT + i);
}

/* The nodes, with the edge counts put_root_edges and put_object_edges will write. */
static void put_nodes(struct dt_export *x)
{
	const struct hs_snapshot *snap = x->snap;
	put_node(x, NODE_SYNTHETIC, STR_EMPTY, 0, 0, 1 + x->roots->nroots);
	put_node(x, NODE_SYNTHETIC, STR_GC_ROOTS, 1, 0, snap->nroots + x->external);
	size_t weak = 0;
	for (uint64_t i = 0; i < snap->nobjects; i++) {
		uint64_t n = snap->edge_start[i + 1] - snap->edge_start[i];
		for (; weak < x->nweak && x->weak[weak].key == i; weak++)
			n++;
		put_node(x, NODE_OBJECT, STR_TYPES + snap->type[i], FIRST_OBJECT + i, snap->size[i],
		         n);
	}
}

/* The strings table: the fixed strings, the types' and roots' names, the names from edges. */
static struct hs_error *put_strings(struct dt_export *x)
{
	const struct hs_snapshot *snap = x->snap;
	const char *sep = "";
	for (int i = 0; i < STR_TYPES; i++, sep = ",\n")
		fputs(sep, x->out),
		    hs_json_string(x->out, fixed_strings[i], strlen(fixed_strings[i]));
	for (uint32_t t = 0; t < snap->ntypes; t++) {
		size_t len;
		const char *s = hs_snapshot_type_name(snap, t, &len);
		const struct hs_string *q =
		    x->qualname[t] ? &snap->meta[2 * (x->qualname[t] - 1) + 1] : NULL;
		fputs(sep, x->out);
		hs_json_string(x->out, q ? q->s : s, q ? q->len : len);
	}
	for (uint64_t r = 0; r < snap->nroots; r++) {
		const struct hs_string *s = &snap->strings[snap->roots[r].name];
		fputs(sep, x->out);
		hs_json_string(x->out, s->s, s->len);
	}
	for (size_t k = 0; k < x->nnames; k++) {
		const struct name *m = &x->names[k];
		struct hs_error *err = NULL;
		fputs(sep, x->out);
		if (!m->is_edge) {
			err = put_label_name(x, snap->strings[m->val].s, snap->strings[m->val].len);
		} else {
			size_t n =
			    hs_snapshot_edge_label(snap, m->src, m->val, x->label.p, x->label.cap);
			if (n >= x->label.cap) {
				if (!reserve(&x->label, n + 1))
					return &hs_error_nomem;
				hs_snapshot_edge_label(snap, m->src, m->val, x->label.p,
				                       x->label.cap);
			}
			err = put_label_name(x, x->label.p, n);
		}
		if (err)
			return err;
	}
	return NULL;
}

/* qualname[t]: the meta entry "type.qualname.T" + 1 (FORMAT.md §4.4), or 0. */
static void find_qualnames(const struct hs_snapshot *snap, uint32_t *qualname)
{
	static const char prefix[] = "type.qualname.";
	const size_t plen = sizeof(prefix) - 1;
	for (uint32_t m = 0; m < snap->nmeta; m++) {
		const struct hs_string *k = &snap->meta[2 * m];
		char id[24];
		uint64_t t;
		if (k->len <= plen || k->len - plen >= sizeof(id) ||
		    memcmp(k->s, prefix, plen) != 0)
			continue;
		memcpy(id, k->s + plen, k->len - plen);
		id[k->len - plen] = '\0';
		if (hs_parse_u64(id, false, &t) && t < snap->ntypes)
			qualname[t] = m + 1;
	}
}

/* The live weak links, sorted by the weakref object. */
static struct hs_error *sort_weak(struct dt_export *x)
{
	const struct hs_snapshot *snap = x->snap;
	x->weak = malloc((snap->nweak + 1) * sizeof(*x->weak));
	struct hs_keyed *tmp = malloc((snap->nweak + 1) * sizeof(*tmp));
	if (!x->weak || !tmp) {
		free(tmp);
		return &hs_error_nomem;
	}
	for (uint64_t w = 0; w < snap->nweak; w++)
		if (snap->weak[w].referent_plus1)
			x->weak[x->nweak++] =
			    (struct hs_keyed){snap->weak[w].ref, snap->weak[w].referent_plus1 - 1};
	hs_sort_keyed(x->weak, tmp, x->nweak);
	free(tmp);
	return NULL;
}

static struct hs_error *export_init(struct dt_export *x)
{
	const struct hs_snapshot *snap = x->snap;
	/* to_node (7 per node) and ids (2 per node) must fit in the 32 bits readers keep. */
	if (snap->nobjects > UINT32_MAX / NODE_FIELDS - FIRST_OBJECT)
		return hs_error_create(HS_ERROR_OTHER,
		                       "%s: %llu objects: a V8 heap snapshot holds at most %u",
		                       snap->path, (unsigned long long)snap->nobjects,
		                       UINT32_MAX / NODE_FIELDS - FIRST_OBJECT);
	struct hs_error *err = hs_analyze_roots(snap, &x->roots);
	if (err)
		return err;
	x->first_name = STR_TYPES + (uint64_t)snap->ntypes + snap->nroots;
	/* calloc: the pages of objects that name nothing are never touched. */
	x->by_string = calloc(snap->nstrings + 1, sizeof(*x->by_string));
	x->by_object = calloc(snap->nobjects + 1, sizeof(*x->by_object));
	x->qualname = calloc(snap->ntypes + 1, sizeof(*x->qualname));
	if (!x->by_string || !x->by_object || !x->qualname)
		return &hs_error_nomem;
	find_qualnames(snap, x->qualname);
	for (uint64_t i = 0; i < snap->nobjects; i++)
		x->external += x->roots->ext_refs[i] > 0;
	return sort_weak(x);
}

static void export_deinit(struct dt_export *x)
{
	hs_analysis_destroy(x->roots);
	free(x->by_string);
	free(x->by_object);
	free(x->names);
	free(x->weak);
	free(x->qualname);
	free(x->label.p);
	free(x->name.p);
}

struct hs_error *hs_devtools_export(const struct hs_snapshot *snap, FILE *out)
{
	struct dt_export x = {.snap = snap, .out = out, .sep = ""};
	struct hs_error *err = export_init(&x);
	if (!err) {
		uint64_t nedges =
		    1 + x.roots->nroots + snap->nroots + x.external + snap->nedges + x.nweak;
		fputs(HEADER, out);
		fprintf(out,
		        "\"node_count\":%llu,\"edge_count\":%llu,\"trace_function_count\":0},\n"
		        "\"nodes\":[",
		        (unsigned long long)(snap->nobjects + FIRST_OBJECT),
		        (unsigned long long)nedges);
		put_nodes(&x);
		fputs("],\n\"edges\":[", out);
		x.sep = "";
		put_root_edges(&x);
		size_t weak = 0;
		for (uint64_t i = 0; !err && i < snap->nobjects; i++)
			err = put_object_edges(&x, i, &weak);
	}
	if (!err) {
		fputs("],\n\"trace_function_infos\":[],\n\"trace_tree\":[],\n\"samples\":[],\n"
		      "\"locations\":[],\n\"strings\":[",
		      out);
		err = put_strings(&x);
		fputs("]}\n", out);
	}
	export_deinit(&x);
	return err;
}
