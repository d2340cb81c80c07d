/*
 * walker_objects.c — the walker's object set and what grows it: the table of objects found (an
 * open-addressing hash from address to index, laid out by page so that neighbours in memory are
 * neighbours in the table), the check that an address holds a live object, discovery through
 * references, the edges between objects, conservative scans, value previews, and the string
 * table that labels edges and roots.
 */
#include <assert.h>

#include "walker_internal.h"

bool hs_wk_grow(void **p, uint64_t *cap, uint64_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	uint64_t nc = *cap ? *cap : 1024;
	while (nc < need)
		nc *= 2;
	void *q = realloc(*p, nc * elem);
	if (!q)
		return false;
	if (nc * elem >= (4u << 20))
		hs_huge(q, nc * elem);
	*p = q;
	*cap = nc;
	return true;
}

static uint32_t str_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

static struct hs_error *intern(struct walker *w, const char *s, size_t n, uint32_t *ret)
{
	if ((w->nstrs + 1) * 2 > w->shcap) {
		uint32_t nc = w->shcap ? w->shcap * 2 : 1024;
		uint32_t *nh = hs_zalloc(nc, sizeof(*nh));
		if (!nh)
			return &hs_error_nomem;
		for (uint32_t i = 0; i < w->nstrs; i++) {
			uint32_t j = str_hash(w->strs[i], strlen(w->strs[i])) & (nc - 1);
			while (nh[j])
				j = (j + 1) & (nc - 1);
			nh[j] = i + 1;
		}
		free(w->shash);
		w->shash = nh;
		w->shcap = nc;
	}
	uint32_t j = str_hash(s, n) & (w->shcap - 1);
	while (w->shash[j]) {
		const char *t = w->strs[w->shash[j] - 1];
		if (strlen(t) == n && !memcmp(t, s, n)) {
			*ret = w->shash[j] - 1;
			return NULL;
		}
		j = (j + 1) & (w->shcap - 1);
	}
	uint64_t cap = w->strs_cap;
	if (!hs_wk_grow((void **)&w->strs, &cap, w->nstrs + 1, sizeof(char *)))
		return &hs_error_nomem;
	w->strs_cap = (uint32_t)cap;
	char *c = strndup(s, n);
	if (!c)
		return &hs_error_nomem;
	w->strs[w->nstrs] = c;
	w->shash[j] = w->nstrs + 1;
	*ret = w->nstrs++;
	return NULL;
}

uint32_t hs_wk_intern_c(struct walker *w, const char *s)
{
	uint32_t id = 0;
	if (intern(w, s, strlen(s), &id))
		return 0; /* out of memory: label id 0 is "" below */
	return id;
}

/* The object table's home slot of addr (before masking): the objects of one 4 KiB page go to one
 * run of 256 slots (one 4 KiB stretch of the table, each at its own place in it), the pages to
 * random places: objects met one after another, as a GC list or a container lists them, are
 * mostly neighbours in memory and so in the table, and a lookup seldom misses the cache. */
static inline uint64_t obj_slot(uint64_t addr)
{
	return hash64(addr >> 12) + ((addr >> 4) & 255);
}

uint64_t hs_wk_obj_find(struct walker *w, uint64_t addr)
{
	if (!w->hcap)
		return 0;
	uint64_t j = obj_slot(addr) & (w->hcap - 1);
	while (w->hash[j].addr) {
		if (w->hash[j].addr == addr)
			return w->hash[j].idx1;
		j = (j + 1) & (w->hcap - 1);
	}
	return 0;
}

static struct hs_error *hash_insert(struct walker *w, uint64_t addr, uint64_t idx1)
{
	if ((w->nobjs + 1) * 2 > w->hcap) {
		uint64_t nc = w->hcap ? w->hcap * 2 : 1 << 16;
		struct hslot *nh = hs_zalloc(nc, sizeof(*nh));
		if (!nh)
			return &hs_error_nomem;
		for (uint64_t i = 0; i < w->hcap; i++) {
			if (!w->hash[i].addr)
				continue;
			uint64_t j = obj_slot(w->hash[i].addr) & (nc - 1);
			while (nh[j].addr)
				j = (j + 1) & (nc - 1);
			nh[j] = w->hash[i];
		}
		free(w->hash);
		w->hash = nh;
		w->hcap = nc;
	}
	uint64_t j = obj_slot(addr) & (w->hcap - 1);
	while (w->hash[j].addr)
		j = (j + 1) & (w->hcap - 1);
	w->hash[j] = (struct hslot){addr, idx1};
	return NULL;
}

/* Checks that addr looks like a live object: aligned, readable, sane refcount, valid type. */
struct tinfo *hs_wk_obj_check(struct walker *w, uint64_t addr, uint64_t *refcnt)
{
	uint64_t hdr[2];
	if (!addr || (addr & 7) || !rd(w, addr, hdr, 16))
		return NULL;
	if (hdr[0] == 0 || hdr[0] >= (1ull << 40))
		return NULL;
	struct tinfo *ti = hs_wk_type_get(w, hdr[1]);
	if (!ti)
		return NULL;
	if (ti->kind == K_STR) {
		uint32_t state = 0;
		rd(w, addr + (uint64_t)w->L.v[HS_L_ASCII_STATE], &state, 4);
		unsigned kind = (state >> 2) & 7;
		if (kind != 1 && kind != 2 && kind != 4 && !(w->minor < 12 && kind == 0))
			return NULL;
	}
	*refcnt = hdr[0];
	return ti;
}

/* Adds an object (validated by the caller) and queues it; returns its index + 1. */
struct hs_error *hs_wk_obj_add(struct walker *w, uint64_t addr, uint64_t type, uint64_t refcnt,
                               uint8_t flags, uint8_t gen, uint64_t *ret)
{
	if (w->nobjs >= HS_MAX_OBJECTS)
		return hs_error_create(HS_ERROR_MEMORY, "more than %llu objects",
		                       (unsigned long long)HS_MAX_OBJECTS);
	if (!hs_wk_grow((void **)&w->objs, &w->objs_cap, w->nobjs + 1, sizeof(*w->objs)) ||
	    !hs_wk_grow((void **)&w->work, &w->work_cap, w->nwork + 1, 8))
		return &hs_error_nomem;
	struct hs_error *err = hash_insert(w, addr, w->nobjs + 1);
	if (err)
		return err;
	struct obj *o = &w->objs[w->nobjs];
	memset(o, 0, sizeof(*o));
	o->addr = addr;
	o->type = type;
	o->refcnt = refcnt;
	o->flags = flags;
	o->gen = gen;
	w->work[w->nwork++] = w->nobjs;
	*ret = ++w->nobjs;
	return NULL;
}

/* The index + 1 of the object at addr, discovering (validating and queueing) it if new; 0 when
 * addr is not an object. */
struct hs_error *hs_wk_discover(struct walker *w, uint64_t addr, uint64_t *ret)
{
	*ret = 0;
	if (!addr)
		return NULL;
	uint64_t i = hs_wk_obj_find(w, addr);
	if (i) {
		*ret = i;
		return NULL;
	}
	uint64_t refcnt;
	struct tinfo *ti = hs_wk_obj_check(w, addr, &refcnt);
	if (!ti)
		return NULL;
	return hs_wk_obj_add(w, addr, ti->addr, refcnt, 0, HS_GEN_NONE, ret);
}

/* Current object's edges go to the end of w->edges.  label: a string id (STRING), an object
 * address (KEY, ATTR: resolved to an index when written), an index (INDEX). */
struct hs_error *hs_wk_edge_label(struct walker *w, uint64_t src, uint64_t dst_addr, uint8_t kind,
                                  uint8_t form, uint64_t label)
{
	uint64_t d;
	struct hs_error *err = hs_wk_discover(w, dst_addr, &d);
	if (!err && !d && dst_addr && kind == HS_EDGE_TRAVERSE)
		hs_wk_warn(w, "object 0x%llx: reference to 0x%llx, not an object",
		           (unsigned long long)w->objs[src].addr, (unsigned long long)dst_addr);
	if (err || !d)
		return err;
	if (form == HS_LABEL_KEY || form == HS_LABEL_ATTR) {
		/* The label names an object: its index, or no label if it is not one. */
		uint64_t l;
		err = hs_wk_discover(w, label, &l);
		if (err)
			return err;
		form = l ? form : HS_LABEL_NONE;
		label = l ? l - 1 : 0;
	}
	if (!hs_wk_grow((void **)&w->edges, &w->edges_cap, w->nedges + 1, sizeof(*w->edges)))
		return &hs_error_nomem;
	w->edges[w->nedges++] = (struct edge){d - 1, label, kind, form};
	w->objs[src].nedges++;
	return NULL;
}

struct hs_error *hs_wk_edge(struct walker *w, uint64_t src, uint64_t dst, uint8_t kind,
                            const char *label)
{
	if (!dst)
		return NULL;
	if (!label[0])
		return hs_wk_edge_label(w, src, dst, kind, HS_LABEL_NONE, 0);
	return hs_wk_edge_label(w, src, dst, kind, HS_LABEL_STRING, hs_wk_intern_c(w, label));
}

/* A field holding a reference, as an edge labelled as the model names the field (labels.h):
 * the target's version must have the field the label names, as its layout does. */
struct hs_error *hs_wk_edge_f(struct walker *w, uint64_t src, uint64_t o, enum hs_layout_field f,
                              uint8_t kind, enum hs_cp_label label)
{
	if (w->L.v[f] < 0)
		return NULL;
	if (label == HS_WK_UNLABELLED)
		return hs_wk_edge(w, src, fld(w, o, f), kind, "");
	const char *text = hs_cp_label_text(label, w->minor);
	assert(text);
	return hs_wk_edge(w, src, fld(w, o, f), kind, text ? text : "");
}

/* The edges of the fields t[0..n) of the struct at o, in the table's order (the tests compare edge
 * lists, so a table's order is part of the contract), stopping at the first error; fields the
 * target's layout lacks are skipped. */
struct hs_error *hs_wk_field_edges(struct walker *w, uint64_t src, uint64_t o,
                                   const struct field_edge *t, size_t n)
{
	struct hs_error *err = NULL;
	for (size_t i = 0; i < n && !err; i++)
		err = hs_wk_edge_f(w, src, o, t[i].f, t[i].kind, t[i].label);
	return err;
}

/* Words of [from, to) that are objects, as conservative edges. */
struct hs_error *hs_wk_scan(struct walker *w, uint64_t src, uint64_t from, uint64_t to)
{
	struct hs_error *err = NULL;
	for (uint64_t a = from; a + 8 <= to && a < from + (1u << 20) && !err; a += 8) {
		uint64_t p;
		if (!rd(w, a, &p, 8))
			break;
		if (p && !(p & 7) && p != w->objs[src].addr)
			err = hs_wk_edge_label(w, src, p, HS_EDGE_CONSERVATIVE, HS_LABEL_NONE, 0);
	}
	return err;
}

struct hs_error *hs_wk_set_value(struct walker *w, uint64_t idx, const char *s, size_t n)
{
	if (n >= HS_VAL_FLOAT)
		n = HS_VAL_FLOAT - 1;
	if (!hs_wk_grow((void **)&w->vals, &w->vals_cap, w->nvals + 2 + n, 1))
		return &hs_error_nomem;
	uint16_t len = (uint16_t)n;
	memcpy(w->vals + w->nvals, &len, 2);
	memcpy(w->vals + w->nvals + 2, s, n);
	w->objs[idx].value = w->nvals + 1;
	w->nvals += 2 + n;
	return NULL;
}
