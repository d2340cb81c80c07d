/*
 * jsonl.c — the JSON-lines interchange of DESIGN.md: `heapsnap convert` (JSON lines to .hsnap)
 * and `heapsnap export` (.hsnap to JSON lines), so that tests, benchmarks and other runtimes can
 * make snapshots without C.  Round trip JSON lines → .hsnap → JSON lines loses nothing.
 *
 * Each line is one flat JSON object whose values are strings, integers, booleans or null.  The
 * converter holds the whole graph in memory (objects must be sorted by address before any can be
 * written), then writes it through the streaming writer.  Input is untrusted: errors name the
 * file, line and byte offset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hsnap.h"

/* ------------------------------------------------------------------------------------------
 * A flat JSON object parser.
 */
enum jtype { J_NULL, J_BOOL, J_INT, J_STRING };

struct jvalue {
	enum jtype type;
	uint64_t num; /* J_INT, J_BOOL */
	char *str;    /* J_STRING: points into the decoded line buffer, NUL-terminated */
	size_t len;
	size_t col; /* offset of the value in its line, for errors */
};

struct jfield {
	const char *key;
	struct jvalue v;
};

#define MAX_FIELDS 16

struct jline {
	struct jfield f[MAX_FIELDS];
	int n;
	const char *err; /* what was wrong */
	size_t err_col;
};

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static void put_utf8(char **out, uint32_t cp)
{
	char *o = *out;
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	*out = o;
}

static int hex4(const char *p, uint32_t *ret)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return 0;
	}
	*ret = v;
	return 1;
}

/* Decodes the string starting after its opening quote, in place (the decoded text is never
 * longer than the encoded).  Returns the position after the closing quote, or NULL. */
static char *parse_string(char *p, struct jvalue *v, const char **err)
{
	char *out = p;
	v->type = J_STRING;
	v->str = p;
	for (;;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c == '\0') {
			*err = "unterminated string";
			return NULL;
		}
		if (c < 0x20) {
			*err = "control character in a string";
			return NULL;
		}
		if (c != '\\') {
			*out++ = *p++;
			continue;
		}
		p++;
		uint32_t cp;
		switch (*p) {
		case '"':
		case '\\':
		case '/':
			*out++ = *p++;
			break;
		case 'b':
			*out++ = '\b', p++;
			break;
		case 'f':
			*out++ = '\f', p++;
			break;
		case 'n':
			*out++ = '\n', p++;
			break;
		case 'r':
			*out++ = '\r', p++;
			break;
		case 't':
			*out++ = '\t', p++;
			break;
		case 'u':
			if (!hex4(p + 1, &cp)) {
				*err = "bad \\u escape";
				return NULL;
			}
			p += 5;
			if (cp >= 0xd800 && cp < 0xdc00) {
				uint32_t lo;
				if (p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, &lo) ||
				    lo < 0xdc00 || lo >= 0xe000) {
					*err = "unpaired surrogate";
					return NULL;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xdc80 && cp < 0xdd00) {
				/* A lone \udc80..\udcff is a byte that is not UTF-8 (PEP 383's
				 * surrogateescape, as the export writes it). */
				*out++ = (char)(cp - 0xdc00);
				break;
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				*err = "unpaired surrogate";
				return NULL;
			}
			/* \u0000 is kept: strings carry their length (the fields that the format
			 * keeps as C strings refuse it, see c_string). */
			put_utf8(&out, cp);
			break;
		default:
			*err = "bad escape";
			return NULL;
		}
	}
	v->len = (size_t)(out - v->str);
	*out = '\0';
	return p + 1;
}

/* Parses one line: {"key": value, ...}.  Keys and strings are decoded in place. */
static bool parse_line(char *line, struct jline *jl)
{
	char *p = (char *)skip_ws(line), *start = line;
	jl->n = 0;
	jl->err = NULL;
#define FAIL(msg)                                                                                  \
	do {                                                                                       \
		jl->err = (msg);                                                                   \
		jl->err_col = (size_t)(p - start);                                                 \
		return false;                                                                      \
	} while (0)
	if (*p != '{')
		FAIL("expected '{'");
	p++;
	p = (char *)skip_ws(p);
	if (*p == '}') {
		p = (char *)skip_ws(p + 1);
		if (*p)
			FAIL("text after the object");
		return true;
	}
	for (;;) {
		if (*p != '"')
			FAIL("expected a key");
		if (jl->n == MAX_FIELDS)
			FAIL("too many fields");
		struct jfield *f = &jl->f[jl->n];
		struct jvalue key;
		const char *err = NULL;
		char *q = parse_string(p + 1, &key, &err);
		if (!q)
			FAIL(err);
		p = q;
		f->key = key.str;
		p = (char *)skip_ws(p);
		if (*p++ != ':')
			FAIL("expected ':'");
		p = (char *)skip_ws(p);
		size_t col = (size_t)(p - start);
		if (*p == '"') {
			q = parse_string(p + 1, &f->v, &err);
			if (!q)
				FAIL(err);
			p = q;
		} else if (strncmp(p, "null", 4) == 0) {
			f->v.type = J_NULL;
			p += 4;
		} else if (strncmp(p, "true", 4) == 0) {
			f->v = (struct jvalue){J_BOOL, 1, NULL, 0, 0};
			p += 4;
		} else if (strncmp(p, "false", 5) == 0) {
			f->v = (struct jvalue){J_BOOL, 0, NULL, 0, 0};
			p += 5;
		} else if (*p >= '0' && *p <= '9') {
			uint64_t v = 0;
			if (*p == '0' && p[1] >= '0' && p[1] <= '9')
				FAIL("leading zero");
			for (; *p >= '0' && *p <= '9'; p++) {
				uint64_t d = (uint64_t)(*p - '0');
				if (v > (UINT64_MAX - d) / 10)
					FAIL("integer out of range");
				v = v * 10 + d;
			}
			if (*p == '.' || *p == 'e' || *p == 'E')
				FAIL("only whole numbers are allowed");
			f->v = (struct jvalue){J_INT, v, NULL, 0, 0};
		} else {
			FAIL("expected a string, a whole number, true, false or null");
		}
		f->v.col = col;
		jl->n++;
		p = (char *)skip_ws(p);
		if (*p == ',') {
			p = (char *)skip_ws(p + 1);
			continue;
		}
		if (*p != '}')
			FAIL("expected ',' or '}'");
		p = (char *)skip_ws(p + 1);
		if (*p)
			FAIL("text after the object");
		return true;
	}
#undef FAIL
}

static const struct jvalue *field(const struct jline *jl, const char *key)
{
	for (int i = 0; i < jl->n; i++)
		if (strcmp(jl->f[i].key, key) == 0)
			return &jl->f[i].v;
	return NULL;
}

/* ------------------------------------------------------------------------------------------
 * Convert.
 */
struct jobj {
	uint64_t addr, size, refcnt, line;
	uint64_t memory; /* when has_memory */
	bool has_memory;
	uint32_t type; /* index into the type names */
	uint8_t flags, gen;
	char *value;
	size_t value_len;
	char *site_file; /* NULL: no allocation site */
	size_t site_file_len;
	uint32_t site_line;
};

struct jedge {
	uint64_t src, dst, seq; /* addresses until resolved, then indexes */
	char *label;            /* NULL: no label */
	size_t label_len;
	uint8_t kind;
	uint64_t line;
};

struct jweak {
	uint64_t ref, referent, callback, line;
	bool has_referent, has_callback;
};

struct jroot {
	uint64_t addr, line;
	char *kind, *name;
};

struct jmeta {
	char *key, *value;
};

#define VEC(T)                                                                                     \
	struct {                                                                                   \
		T *v;                                                                              \
		size_t n, cap;                                                                     \
	}

struct graph {
	VEC(struct jobj) objs;
	VEC(struct jedge) edges;
	VEC(struct jweak) weak;
	VEC(struct jroot) roots;
	VEC(struct jmeta) meta;
	VEC(char *) type_names;
	bool has_memory; /* some object gives "memory" */
	bool has_sites;  /* some object gives "site_file" and "site_line" */
	/* type name -> index, open addressing */
	uint32_t *type_slots;
	size_t ntype_slots;
};

static bool vec_grow(void **v, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? 2 * *cap : 1024;
	void *nv = realloc(*v, c * elem);
	if (!nv)
		return false;
	*v = nv;
	*cap = c;
	return true;
}

#define PUSH(vec, item)                                                                            \
	(vec_grow((void **)&(vec).v, &(vec).cap, (vec).n, sizeof(*(vec).v))                        \
	     ? ((vec).v[(vec).n++] = (item), true)                                                 \
	     : false)

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static bool intern_type(struct graph *g, const char *name, uint32_t *ret)
{
	if (2 * (g->type_names.n + 1) > g->ntype_slots) {
		size_t ns = g->ntype_slots ? 2 * g->ntype_slots : 64;
		uint32_t *slots = malloc(ns * sizeof(*slots));
		if (!slots)
			return false;
		memset(slots, 0xff, ns * sizeof(*slots));
		for (size_t i = 0; i < g->type_names.n; i++) {
			size_t j = hash_str(g->type_names.v[i]) & (ns - 1);
			while (slots[j] != UINT32_MAX)
				j = (j + 1) & (ns - 1);
			slots[j] = (uint32_t)i;
		}
		free(g->type_slots);
		g->type_slots = slots;
		g->ntype_slots = ns;
	}
	size_t j = hash_str(name) & (g->ntype_slots - 1);
	for (; g->type_slots[j] != UINT32_MAX; j = (j + 1) & (g->ntype_slots - 1))
		if (strcmp(g->type_names.v[g->type_slots[j]], name) == 0) {
			*ret = g->type_slots[j];
			return true;
		}
	char *copy = strdup(name);
	if (!copy || !PUSH(g->type_names, copy)) {
		free(copy);
		return false;
	}
	g->type_slots[j] = (uint32_t)(g->type_names.n - 1);
	*ret = g->type_slots[j];
	return true;
}

static void graph_free(struct graph *g)
{
	for (size_t i = 0; i < g->objs.n; i++) {
		free(g->objs.v[i].value);
		free(g->objs.v[i].site_file);
	}
	for (size_t i = 0; i < g->edges.n; i++)
		free(g->edges.v[i].label);
	for (size_t i = 0; i < g->roots.n; i++) {
		free(g->roots.v[i].kind);
		free(g->roots.v[i].name);
	}
	for (size_t i = 0; i < g->meta.n; i++) {
		free(g->meta.v[i].key);
		free(g->meta.v[i].value);
	}
	for (size_t i = 0; i < g->type_names.n; i++)
		free(g->type_names.v[i]);
	free(g->objs.v);
	free(g->edges.v);
	free(g->weak.v);
	free(g->roots.v);
	free(g->meta.v);
	free(g->type_names.v);
	free(g->type_slots);
}

/* True when v, a J_STRING, holds a NUL (type names, roots' kind and name and meta are C
 * strings in the format and cannot). */
static bool has_nul(const struct jvalue *v)
{
	return strlen(v->str) != v->len;
}

/* An object's allocation site, "site_file" (a string) with "site_line" (below 2^32), both or
 * neither, into o (site_file allocated); an error message or NULL, as add_record. */
static const char *object_site(const struct jline *jl, struct jobj *o, bool *nomem, size_t *col)
{
	const struct jvalue *f = field(jl, "site_file"), *l = field(jl, "site_line");
	bool file = f && f->type != J_NULL, line = l && l->type != J_NULL;
	*col = f ? f->col : l ? l->col : 0;
	if (file != line)
		return "\"site_file\" and \"site_line\" go together";
	if (!file)
		return NULL;
	if (f->type != J_STRING)
		return "\"site_file\" must be a string or null";
	*col = l->col;
	if (l->type != J_INT || l->num > UINT32_MAX)
		return "\"site_line\" must be a whole number below 2^32 or null";
	o->site_file = malloc(f->len + 1);
	if (!o->site_file)
		return *nomem = true, "out of memory";
	memcpy(o->site_file, f->str, f->len + 1);
	o->site_file_len = f->len;
	o->site_line = (uint32_t)l->num;
	return NULL;
}

/* Reads one line's record into g; returns an error message (static text) or NULL, with *col set
 * to the offending value's offset in the line (0 when a field is missing). */
static const char *add_record(struct graph *g, const struct jline *jl, uint64_t line, bool *nomem,
                              size_t *col)
{
	const struct jvalue *t = field(jl, "t");
	*col = t ? t->col : 0;
	if (!t || t->type != J_STRING)
		return "no \"t\" string";
#define NEED_INT(name, var)                                                                        \
	do {                                                                                       \
		const struct jvalue *v_ = field(jl, name);                                         \
		*col = v_ ? v_->col : 0;                                                           \
		if (!v_ || v_->type != J_INT)                                                      \
			return "\"" name "\" must be a whole number";                              \
		var = v_->num;                                                                     \
	} while (0)
#define OPT_INT(name, var, has)                                                                    \
	do {                                                                                       \
		const struct jvalue *v_ = field(jl, name);                                         \
		*col = v_ ? v_->col : 0;                                                           \
		has = v_ && v_->type == J_INT;                                                     \
		if (v_ && v_->type != J_INT && v_->type != J_NULL)                                 \
			return "\"" name "\" must be a whole number or null";                      \
		if (has)                                                                           \
			var = v_->num;                                                             \
	} while (0)

/* prior: a string of this record allocated before, freed when this one fails. */
#define OPT_STR(name, var, len_out, prior)                                                         \
	do {                                                                                       \
		const struct jvalue *v_ = field(jl, name);                                         \
		*col = v_ ? v_->col : 0;                                                           \
		if (v_ && v_->type != J_STRING && v_->type != J_NULL)                              \
			return free(prior), "\"" name "\" must be a string or null";               \
		if (v_ && v_->type == J_STRING) {                                                  \
			if (c_string && has_nul(v_))                                               \
				return free(prior), "NUL character in \"" name "\" (a C string)";  \
			var = malloc(v_->len + 1);                                                 \
			if (!var)                                                                  \
				return free(prior), *nomem = true, "out of memory";                \
			memcpy(var, v_->str, v_->len + 1);                                         \
			len_out = v_->len;                                                         \
		}                                                                                  \
	} while (0)
	bool has;
	size_t len = 0;
	if (strcmp(t->str, "object") == 0) {
		struct jobj o = {.gen = HS_GEN_NONE, .line = line};
		NEED_INT("addr", o.addr);
		const struct jvalue *ty = field(jl, "type");
		*col = ty ? ty->col : 0;
		if (!ty || ty->type != J_STRING)
			return "\"type\" must be a string";
		if (has_nul(ty))
			return "NUL character in \"type\" (a C string)";
		uint64_t gen = 0, flags = 0;
		OPT_INT("size", o.size, has);
		OPT_INT("refcnt", o.refcnt, has);
		OPT_INT("memory", o.memory, has);
		if (has && o.memory - o.size + (1ull << 31) >= (1ull << 32))
			return "\"memory\" must be within 2^31 of \"size\"";
		o.has_memory = has;
		g->has_memory |= has;
		OPT_INT("gen", gen, has);
		if (has) {
			if (gen > HS_GEN_PERMANENT)
				return "\"gen\" must be 0, 1, 2, 3 (permanent) or null";
			o.gen = (uint8_t)gen;
		}
		OPT_INT("flags", flags, has);
		if (has && flags > 0x1f)
			return "\"flags\" has unknown bits";
		o.flags = (uint8_t)flags;
		const struct jvalue *b = field(jl, "gc");
		*col = b ? b->col : 0;
		if (b && b->type != J_BOOL && b->type != J_NULL)
			return "\"gc\" must be true, false or null";
		if (b && b->type == J_BOOL && b->num)
			o.flags |= HS_OBJ_GC;
		b = field(jl, "immortal");
		if (b && b->type == J_BOOL && b->num)
			o.flags |= HS_OBJ_IMMORTAL;
		if (!intern_type(g, ty->str, &o.type))
			return *nomem = true, "out of memory";
		bool c_string = false;
		OPT_STR("value", o.value, o.value_len, NULL);
		const char *bad = object_site(jl, &o, nomem, col);
		if (bad)
			return free(o.value), bad;
		g->has_sites |= o.site_file != NULL;
		if (!PUSH(g->objs, o)) {
			free(o.value);
			free(o.site_file);
			return *nomem = true, "out of memory";
		}
	} else if (strcmp(t->str, "edge") == 0) {
		struct jedge e = {.line = line, .seq = g->edges.n};
		NEED_INT("src", e.src);
		NEED_INT("dst", e.dst);
		const struct jvalue *k = field(jl, "kind");
		*col = k ? k->col : 0;
		if (k && k->type == J_STRING) {
			if (strcmp(k->str, "traverse") == 0)
				e.kind = HS_EDGE_TRAVERSE;
			else if (strcmp(k->str, "owned") == 0)
				e.kind = HS_EDGE_OWNED;
			else if (strcmp(k->str, "conservative") == 0)
				e.kind = HS_EDGE_CONSERVATIVE;
			else
				return "\"kind\" must be traverse, owned or conservative";
		} else if (k && k->type != J_NULL) {
			return "\"kind\" must be a string";
		}
		bool c_string = false;
		OPT_STR("label", e.label, e.label_len, NULL);
		if (!PUSH(g->edges, e)) {
			free(e.label);
			return *nomem = true, "out of memory";
		}
	} else if (strcmp(t->str, "weak") == 0) {
		struct jweak w = {.line = line};
		NEED_INT("ref", w.ref);
		OPT_INT("referent", w.referent, w.has_referent);
		OPT_INT("callback", w.callback, w.has_callback);
		if (!PUSH(g->weak, w))
			return *nomem = true, "out of memory";
	} else if (strcmp(t->str, "root") == 0) {
		struct jroot r = {.line = line};
		bool c_string = true;
		NEED_INT("addr", r.addr);
		OPT_STR("kind", r.kind, len, NULL);
		OPT_STR("name", r.name, len, r.kind);
		if (!PUSH(g->roots, r)) {
			free(r.kind);
			free(r.name);
			return *nomem = true, "out of memory";
		}
	} else if (strcmp(t->str, "meta") == 0) {
		struct jmeta m = {NULL, NULL};
		bool c_string = true;
		OPT_STR("key", m.key, len, NULL);
		OPT_STR("value", m.value, len, m.key);
		if (!m.key || !PUSH(g->meta, m)) {
			free(m.key);
			free(m.value);
			return m.key ? (*nomem = true, "out of memory")
			             : "\"key\" must be a string";
		}
	} else {
		return "\"t\" must be object, edge, weak, root or meta";
	}
	(void)len;
	return NULL;
#undef NEED_INT
#undef OPT_INT
#undef OPT_STR
}

static int cmp_obj(const void *a, const void *b)
{
	const struct jobj *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Orders (type, size) pairs. */
static int cmp_pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

static int cmp_edge(const void *a, const void *b)
{
	const struct jedge *x = a, *y = b;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Object index of addr, or -1. */
static int64_t find_obj(const struct graph *g, uint64_t addr)
{
	size_t lo = 0, hi = g->objs.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->objs.v[mid].addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->objs.n && g->objs.v[lo].addr == addr ? (int64_t)lo : -1;
}

/* The most common size of each type: objects of that size then cost no bytes for it. */
static struct hs_error *default_sizes(const struct graph *g, uint64_t **ret)
{
	size_t nt = g->type_names.n, n = g->objs.n;
	uint64_t *best = calloc(nt ? nt : 1, sizeof(*best));
	uint64_t *pairs = malloc((n ? n : 1) * 2 * sizeof(*pairs));
	uint64_t *best_count = calloc(nt ? nt : 1, sizeof(*best_count));
	if (!best || !pairs || !best_count) {
		free(best);
		free(pairs);
		free(best_count);
		return &hs_error_nomem;
	}
	for (size_t i = 0; i < n; i++) {
		pairs[2 * i] = g->objs.v[i].type;
		pairs[2 * i + 1] = g->objs.v[i].size;
	}
	qsort(pairs, n, 2 * sizeof(*pairs), cmp_pair);
	/* Runs of equal (type, size): the longest run of a type is its default. */
	for (size_t a = 0; a < n;) {
		size_t b = a;
		while (b < n && pairs[2 * b] == pairs[2 * a] &&
		       pairs[2 * b + 1] == pairs[2 * a + 1])
			b++;
		if (b - a > best_count[pairs[2 * a]]) {
			best_count[pairs[2 * a]] = b - a;
			best[pairs[2 * a]] = pairs[2 * a + 1];
		}
		a = b;
	}
	free(pairs);
	free(best_count);
	*ret = best;
	return NULL;
}

/* True when label is "[k]" with k the edge's position among its source's edges. */
static bool is_ordinal(const char *label, size_t len, uint64_t k)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "[%llu]", (unsigned long long)k);
	return (size_t)n == len && memcmp(buf, label, len) == 0;
}

/* The current object's site tail entry: its file declared as a string, or 0 when it has none. */
static struct hs_error *write_site(struct hs_writer *w, const struct jobj *o)
{
	if (!o->site_file)
		return hs_writer_site(w, 0, 0);
	uint32_t sid;
	struct hs_error *err = hs_writer_string(w, o->site_file, o->site_file_len, &sid);
	return err ? err : hs_writer_site(w, (uint64_t)sid + 1, o->site_line);
}

static struct hs_error *write_graph(struct graph *g, const char *out, struct hs_writer_stats *stats)
{
	const char *runtime = "unknown";
	for (size_t i = 0; i < g->meta.n; i++)
		if (strcmp(g->meta.v[i].key, "runtime") == 0 && g->meta.v[i].value)
			runtime = g->meta.v[i].value;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct hs_header h = {"heapsnap convert",
	                      runtime,
	                      "",
	                      8,
	                      0,
	                      (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
	                      HS_METHOD_CONVERT};
	uint64_t *dsize;
	struct hs_error *err = default_sizes(g, &dsize);
	if (err)
		return err;
	struct hs_writer *w;
	err = hs_writer_create(out, &h, &w);
	if (err) {
		free(dsize);
		return err;
	}
	for (size_t i = 0; !err && i < g->meta.n; i++)
		err = hs_writer_meta(w, g->meta.v[i].key,
		                     g->meta.v[i].value ? g->meta.v[i].value : "");
	uint32_t tid;
	for (size_t i = 0; !err && i < g->type_names.n; i++)
		err = hs_writer_type(w, g->type_names.v[i], "", dsize[i], 0, 0, &tid);
	free(dsize);
	size_t e = 0;
	for (size_t i = 0; !err && i < g->objs.n; i++) {
		const struct jobj *o = &g->objs.v[i];
		err = hs_writer_object(w, o->addr, o->type, o->size, o->refcnt, o->flags, o->gen);
		/* An object without "memory" in a graph that gives it (or sites, which come only
		 * after memory: FORMAT.md §4.5) has its size as memory. */
		if (!err && (g->has_memory || g->has_sites))
			err =
			    hs_writer_memory(w, o->has_memory ? (int64_t)(o->memory - o->size) : 0);
		if (!err && g->has_sites)
			err = write_site(w, o);
		for (uint64_t k = 0; !err && e < g->edges.n && g->edges.v[e].src == i; e++, k++) {
			const struct jedge *ed = &g->edges.v[e];
			if (!ed->label) {
				err = hs_writer_edge(w, ed->dst, ed->kind, HS_LABEL_NONE, 0);
			} else if (is_ordinal(ed->label, ed->label_len, k)) {
				err = hs_writer_edge(w, ed->dst, ed->kind, HS_LABEL_ORDINAL, 0);
			} else {
				uint32_t sid;
				err = hs_writer_string(w, ed->label, ed->label_len, &sid);
				if (!err)
					err = hs_writer_edge(w, ed->dst, ed->kind, HS_LABEL_STRING,
					                     sid);
			}
		}
		if (!err && o->value)
			err = hs_writer_value(w, o->value, o->value_len);
	}
	for (size_t i = 0; !err && i < g->weak.n; i++) {
		const struct jweak *wk = &g->weak.v[i];
		err = hs_writer_weak(w, wk->ref, wk->has_referent ? wk->referent + 1 : 0,
		                     wk->has_callback ? wk->callback + 1 : 0);
	}
	for (size_t i = 0; !err && i < g->roots.n; i++) {
		const struct jroot *r = &g->roots.v[i];
		err = hs_writer_root(w, r->addr, r->kind ? r->kind : "", r->name ? r->name : "");
	}
	if (!err)
		err = hs_writer_finish(w, stats);
	hs_writer_destroy(w);
	return err;
}

/* Resolves addresses to object indexes, checking that each names an object. */
static struct hs_error *resolve(struct graph *g, const char *path)
{
	/* qsort's array must not be NULL, even when empty (an empty graph has none). */
	if (g->objs.n)
		qsort(g->objs.v, g->objs.n, sizeof(*g->objs.v), cmp_obj);
	for (size_t i = 1; i < g->objs.n; i++)
		if (g->objs.v[i].addr == g->objs.v[i - 1].addr)
			return hs_error_create(HS_ERROR_FORMAT,
			                       "%s: line %llu: object 0x%llx already defined on "
			                       "line %llu",
			                       path, (unsigned long long)g->objs.v[i].line,
			                       (unsigned long long)g->objs.v[i].addr,
			                       (unsigned long long)g->objs.v[i - 1].line);
#define RESOLVE(what, field, line)                                                                 \
	do {                                                                                       \
		int64_t idx_ = find_obj(g, field);                                                 \
		if (idx_ < 0)                                                                      \
			return hs_error_create(                                                    \
			    HS_ERROR_FORMAT, "%s: line %llu: " what " 0x%llx is not an object",    \
			    path, (unsigned long long)(line), (unsigned long long)(field));        \
		field = (uint64_t)idx_;                                                            \
	} while (0)
	for (size_t i = 0; i < g->edges.n; i++) {
		RESOLVE("edge src", g->edges.v[i].src, g->edges.v[i].line);
		RESOLVE("edge dst", g->edges.v[i].dst, g->edges.v[i].line);
	}
	if (g->edges.n)
		qsort(g->edges.v, g->edges.n, sizeof(*g->edges.v), cmp_edge);
	for (size_t i = 0; i < g->weak.n; i++) {
		struct jweak *w = &g->weak.v[i];
		RESOLVE("weak ref", w->ref, w->line);
		if (w->has_referent)
			RESOLVE("weak referent", w->referent, w->line);
		if (w->has_callback)
			RESOLVE("weak callback", w->callback, w->line);
	}
	for (size_t i = 0; i < g->roots.n; i++)
		RESOLVE("root", g->roots.v[i].addr, g->roots.v[i].line);
#undef RESOLVE
	return NULL;
}

struct hs_error *hs_jsonl_convert(const char *jsonl_path, const char *hsnap_path,
                                  struct hs_writer_stats *stats)
{
	FILE *f = fopen(jsonl_path, "r");
	if (!f)
		return hs_error_errno(errno, jsonl_path, "open");
	struct graph g = {0};
	struct hs_error *err = NULL;
	char *line = NULL;
	size_t cap = 0;
	uint64_t lineno = 0, offset = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		struct jline jl;
		bool nomem = false;
		if (memchr(line, '\0', (size_t)n)) {
			err = hs_error_create(
			    HS_ERROR_FORMAT, "%s: line %llu (offset %llu): NUL byte in the line",
			    jsonl_path, (unsigned long long)lineno, (unsigned long long)offset);
			break;
		}
		const char *p = skip_ws(line);
		if (*p == '\0') {
			offset += (uint64_t)n;
			continue; /* blank lines are allowed */
		}
		const char *msg = NULL;
		size_t col = 0;
		if (!parse_line(line, &jl))
			msg = jl.err, col = jl.err_col;
		else
			msg = add_record(&g, &jl, lineno, &nomem, &col);
		if (nomem) {
			err = &hs_error_nomem;
			break;
		}
		if (msg) {
			err = hs_error_create(HS_ERROR_FORMAT, "%s: line %llu (offset %llu): %s",
			                      jsonl_path, (unsigned long long)lineno,
			                      (unsigned long long)(offset + col), msg);
			break;
		}
		offset += (uint64_t)n;
	}
	if (!err && ferror(f))
		err = hs_error_errno(errno, jsonl_path, "read");
	free(line);
	fclose(f);
	if (!err)
		err = resolve(&g, jsonl_path);
	if (!err)
		err = write_graph(&g, hsnap_path, stats);
	graph_free(&g);
	return err;
}

/* ------------------------------------------------------------------------------------------
 * Export.
 */
struct hs_error *hs_jsonl_export(const struct hs_snapshot *snap, FILE *out)
{
	static const char *kinds[] = {"traverse", "owned", "conservative"};
	for (uint32_t i = 0; i < snap->nmeta; i++) {
		fputs("{\"t\":\"meta\",\"key\":", out);
		hs_json_string_exact(out, snap->meta[2 * i].s, snap->meta[2 * i].len);
		fputs(",\"value\":", out);
		hs_json_string_exact(out, snap->meta[2 * i + 1].s, snap->meta[2 * i + 1].len);
		fputs("}\n", out);
	}
	for (uint64_t i = 0; i < snap->nobjects; i++) {
		size_t tlen;
		const char *tname = hs_snapshot_type_name(snap, snap->type[i], &tlen);
		fprintf(out, "{\"t\":\"object\",\"addr\":%llu,\"type\":",
		        (unsigned long long)snap->addr[i]);
		hs_json_string_exact(out, tname, tlen);
		fprintf(out, ",\"size\":%llu,\"refcnt\":%llu,\"gc\":%s",
		        (unsigned long long)snap->size[i], (unsigned long long)snap->refcnt[i],
		        snap->flags[i] & HS_OBJ_GC ? "true" : "false");
		if (snap->has_memory)
			fprintf(out, ",\"memory\":%lld",
			        (long long)snap->size[i] + snap->memory_delta[i]);
		if (snap->has_sites && snap->site[i]) {
			const struct hs_site *site = &snap->sites[snap->site[i] - 1];
			const struct hs_string *f = &snap->strings[site->file];
			fputs(",\"site_file\":", out);
			hs_json_string_exact(out, f->s, f->len);
			fprintf(out, ",\"site_line\":%u", site->line);
		}
		if (snap->generation[i] != HS_GEN_NONE)
			fprintf(out, ",\"gen\":%u", snap->generation[i]);
		if (snap->flags[i] & HS_OBJ_IMMORTAL)
			fputs(",\"immortal\":true", out);
		unsigned other = snap->flags[i] & ~(HS_OBJ_GC | HS_OBJ_IMMORTAL);
		if (other)
			fprintf(out, ",\"flags\":%u", snap->flags[i]);
		if (snap->value[i]) {
			const struct hs_string *v = &snap->values[snap->value[i] - 1];
			fputs(",\"value\":", out);
			hs_json_string_exact(out, v->s, v->len);
		}
		fputs("}\n", out);
	}
	char small[256];
	for (uint64_t i = 0; i < snap->nobjects; i++) {
		for (uint64_t e = snap->edge_start[i]; e < snap->edge_start[i + 1]; e++) {
			fprintf(out, "{\"t\":\"edge\",\"src\":%llu,\"dst\":%llu",
			        (unsigned long long)snap->addr[i],
			        (unsigned long long)snap->addr[snap->edge_dst[e]]);
			if (snap->edge_form[e] != HS_LABEL_NONE) {
				size_t need =
				    hs_snapshot_edge_label(snap, i, e, small, sizeof(small));
				char *label = small;
				if (need >= sizeof(small)) {
					label = malloc(need + 1);
					if (!label)
						return &hs_error_nomem;
					hs_snapshot_edge_label(snap, i, e, label, need + 1);
				}
				fputs(",\"label\":", out);
				hs_json_string_exact(out, label, need);
				if (label != small)
					free(label);
			}
			fprintf(out, ",\"kind\":\"%s\"}\n", kinds[snap->edge_kind[e]]);
		}
	}
	for (uint64_t i = 0; i < snap->nweak; i++) {
		const struct hs_weak *w = &snap->weak[i];
		fprintf(out, "{\"t\":\"weak\",\"ref\":%llu,\"referent\":",
		        (unsigned long long)snap->addr[w->ref]);
		if (w->referent_plus1)
			fprintf(out, "%llu", (unsigned long long)snap->addr[w->referent_plus1 - 1]);
		else
			fputs("null", out);
		fputs(",\"callback\":", out);
		if (w->callback_plus1)
			fprintf(out, "%llu", (unsigned long long)snap->addr[w->callback_plus1 - 1]);
		else
			fputs("null", out);
		fputs("}\n", out);
	}
	for (uint64_t i = 0; i < snap->nroots; i++) {
		const struct hs_root *r = &snap->roots[i];
		fprintf(out, "{\"t\":\"root\",\"addr\":%llu,\"kind\":",
		        (unsigned long long)snap->addr[r->obj]);
		hs_json_string_exact(out, snap->strings[r->kind].s, snap->strings[r->kind].len);
		fputs(",\"name\":", out);
		hs_json_string_exact(out, snap->strings[r->name].s, snap->strings[r->name].len);
		fputs("}\n", out);
	}
	return NULL;
}
