/*
 * label.c — the text of an edge label (hs_snapshot_edge_label, FORMAT.md §4.6), where a dict
 * key or an attribute name is an object of the snapshot: the label spells it as Python source,
 * so that a path can be pasted into a debugger.  A key is written as repr() writes it when the
 * snapshot holds all of it: a str, int, float, bool, None or bytes through its value preview (a
 * complete one), a tuple or frozenset of such keys through its edges.  Any other key, or one
 * whose preview was cut, is `<TYPE at 0xADDR>`: angle brackets are never Python (README "Paths").
 */
#include <stdio.h>
#include <string.h>

#include "hsnap.h"
#include "pyrepr.h"

#define PREVIEW_CHARS 100 /* the captures cut a str preview after this many characters, then … */
#define KEY_DEPTH 8       /* tuples nested deeper than this are not spelled out */
#define KEY_TEXT 1024     /* nor keys whose text would be longer than this */

/* Whether object k's type is the builtin one named name: its module is builtins, or unknown
 * (an out-of-process capture may not know it). */
static bool builtin(const struct hs_snapshot *snap, uint64_t k, const char *name)
{
	uint32_t t = snap->type[k];
	size_t len, n = strlen(name);
	const char *tname = hs_snapshot_type_name(snap, t, &len);
	if (len != n || memcmp(tname, name, n) != 0)
		return false;
	const struct hs_string *m = &snap->strings[snap->types[t].module];
	return m->len == 0 || (m->len == 8 && memcmp(m->s, "builtins", 8) == 0);
}

static const struct hs_string *preview(const struct hs_snapshot *snap, uint64_t k)
{
	return snap->value[k] ? &snap->values[snap->value[k] - 1] : NULL;
}

/* Whether the preview v of a str is all of it: not cut (PREVIEW_CHARS characters and U+2026)
 * and without U+FFFD, which previews also write for a surrogate. */
static bool str_whole(const struct hs_string *v)
{
	size_t chars = 0;
	for (uint32_t i = 0; i < v->len; i++)
		chars += ((unsigned char)v->s[i] & 0xc0) != 0x80;
	if (chars == PREVIEW_CHARS + 1 && v->len >= 3 &&
	    memcmp(v->s + v->len - 3, "\xe2\x80\xa6", 3) == 0)
		return false;
	for (uint32_t i = 0; i + 3 <= v->len; i++)
		if (memcmp(v->s + i, "\xef\xbf\xbd", 3) == 0)
			return false;
	return true;
}

/* Whether s[0..n) holds only characters of accept and at least one of need. */
static bool spelled_with(const char *s, size_t n, const char *accept, const char *need)
{
	bool found = false;
	for (size_t i = 0; i < n; i++) {
		if (!s[i] || !strchr(accept, s[i]))
			return false;
		found |= strchr(need, s[i]) != NULL;
	}
	return found;
}

static bool put_literal(struct hs_textbuf *o, const struct hs_snapshot *snap, uint64_t k, int depth);

/* The items of tuple or frozenset k (open ... close), each a literal; ordered: the tuple's
 * edges are its items in order, labelled with their positions. */
static bool put_items(struct hs_textbuf *o, const struct hs_snapshot *snap, uint64_t k, int depth,
                      bool ordered, const char *open, const char *close)
{
	uint64_t first = snap->edge_start[k], n = snap->edge_start[k + 1] - first;
	hs_textbuf_put(o, open, strlen(open));
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = first + i;
		uint8_t form = snap->edge_form[e];
		bool placed = ordered ? form == HS_LABEL_ORDINAL ||
		                            (form == HS_LABEL_INDEX && snap->edge_label[e] == i)
		                      : form == HS_LABEL_NONE;
		if (snap->edge_kind[e] != HS_EDGE_TRAVERSE || !placed)
			return false;
		if (i)
			hs_textbuf_put(o, ", ", 2);
		if (!put_literal(o, snap, snap->edge_dst[e], depth + 1))
			return false;
	}
	if (ordered && n == 1)
		hs_textbuf_put(o, ",", 1);
	hs_textbuf_put(o, close, strlen(close));
	return true;
}

/* Appends object k as a Python literal (or expression) equal to it; false, with o as it was,
 * when the snapshot does not hold all of it. */
static bool put_literal(struct hs_textbuf *o, const struct hs_snapshot *snap, uint64_t k, int depth)
{
	size_t start = o->len;
	const struct hs_string *v = preview(snap, k);
	bool ok = false;
	if (depth > KEY_DEPTH) {
		ok = false;
	} else if (builtin(snap, k, "tuple")) {
		ok = put_items(o, snap, k, depth, true, "(", ")");
	} else if (builtin(snap, k, "frozenset")) {
		ok = snap->edge_start[k + 1] == snap->edge_start[k]
		         ? (hs_textbuf_put(o, "frozenset()", 11), true)
		         : put_items(o, snap, k, depth, false, "frozenset({", "})");
	} else if (!v) {
		ok = false;
	} else if (builtin(snap, k, "str")) {
		ok = str_whole(v) && hs_py_str_repr(o, v->s, v->len);
	} else if (builtin(snap, k, "float") && v->len == 3 && memcmp(v->s, "inf", 3) == 0) {
		ok = (hs_textbuf_put(o, "float('inf')", 12), true);
	} else if (builtin(snap, k, "float") && v->len == 4 && memcmp(v->s, "-inf", 4) == 0) {
		ok = (hs_textbuf_put(o, "-float('inf')", 13), true);
	} else {
		bool b = builtin(snap, k, "bytes");
		ok =
		    (builtin(snap, k, "int") &&
		     spelled_with(v->s, v->len, "-0123456789", "0123456789")) ||
		    (builtin(snap, k, "float") &&
		     spelled_with(v->s, v->len, "-+.e0123456789", "0123456789")) ||
		    (builtin(snap, k, "bool") &&
		     ((v->len == 4 && memcmp(v->s, "True", 4) == 0) ||
		      (v->len == 5 && memcmp(v->s, "False", 5) == 0))) ||
		    (builtin(snap, k, "NoneType") && v->len == 4 && memcmp(v->s, "None", 4) == 0) ||
		    (b && v->len >= 3 && v->s[0] == 'b' && (v->s[1] == '\'' || v->s[1] == '"') &&
		     v->s[v->len - 1] == v->s[1]);
		if (ok)
			hs_textbuf_put(o, v->s, v->len);
	}
	if (!ok || o->len - start > KEY_TEXT) {
		o->len = start;
		return false;
	}
	return true;
}

/* `<TYPE at 0xADDR>`: object k, which no Python expression here spells. */
static void put_anonymous(struct hs_textbuf *o, const struct hs_snapshot *snap, uint64_t k)
{
	size_t tlen;
	const char *tname = hs_snapshot_type_name(snap, snap->type[k], &tlen);
	char addr[32];
	int n = snprintf(addr, sizeof(addr), " at 0x%llx>", (unsigned long long)snap->addr[k]);
	hs_textbuf_put(o, "<", 1);
	hs_textbuf_put(o, tname, tlen);
	hs_textbuf_put(o, addr, (size_t)n);
}

/* A dict's item of key k: [KEY]. */
static void put_key(struct hs_textbuf *o, const struct hs_snapshot *snap, uint64_t k)
{
	hs_textbuf_put(o, "[", 1);
	if (!put_literal(o, snap, k, 0))
		put_anonymous(o, snap, k);
	hs_textbuf_put(o, "]", 1);
}

/* An instance attribute kept outside a dict (inline values), of name k: .name when the name can
 * follow a dot, else .__dict__['name'], which gives the same object. */
static void put_attribute(struct hs_textbuf *o, const struct hs_snapshot *snap, uint64_t k)
{
	const struct hs_string *v = preview(snap, k);
	if (v && builtin(snap, k, "str") && str_whole(v) && hs_py_attribute_name(v->s, v->len)) {
		hs_textbuf_put(o, ".", 1);
		hs_textbuf_put(o, v->s, v->len);
		return;
	}
	size_t start = o->len;
	hs_textbuf_put(o, ".__dict__[", 10);
	if (v && builtin(snap, k, "str") && put_literal(o, snap, k, 0)) {
		hs_textbuf_put(o, "]", 1);
		return;
	}
	o->len = start;
	hs_textbuf_put(o, ".", 1);
	put_anonymous(o, snap, k);
}

size_t hs_snapshot_edge_label(const struct hs_snapshot *snap, uint64_t src, uint64_t e, char *buf,
                              size_t size)
{
	struct hs_textbuf o = {buf, size, 0};
	if (!snap->edge_form)
		return hs_textbuf_finish(&o);
	uint32_t v = snap->edge_label[e];
	char num[32];
	switch (snap->edge_form[e]) {
	case HS_LABEL_ORDINAL:
		hs_textbuf_put(&o, num,
		           (size_t)snprintf(num, sizeof(num), "[%llu]",
		                            (unsigned long long)(e - snap->edge_start[src])));
		break;
	case HS_LABEL_INDEX:
		hs_textbuf_put(&o, num, (size_t)snprintf(num, sizeof(num), "[%u]", v));
		break;
	case HS_LABEL_STRING:
		hs_textbuf_put(&o, snap->strings[v].s, snap->strings[v].len);
		break;
	case HS_LABEL_KEY:
		put_key(&o, snap, v);
		break;
	case HS_LABEL_ATTR:
		put_attribute(&o, snap, v);
		break;
	}
	return hs_textbuf_finish(&o);
}
