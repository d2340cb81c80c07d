/*
 * walker_memory.c — what an object occupies: the GC header or pre-header that sys.getsizeof
 * adds, the default size from basicsize and itemsize, and the memory beyond its size
 * (capture/cpython/memory.h's parts: a list's array, a dict's key table or split values, a set's
 * table, a bytearray's buffer, an instance's values outside a dict), as capture/inproc/memory.h
 * counts.  What differs between versions is capture/cpython's (sizes.h: the pre-header and what
 * getsizeof counts of it; memory.h: where values live) or the layouts' (a field a version lacks).
 */
#include "walker_internal.h"

uint64_t hs_wk_preheader(struct walker *w, const struct tinfo *ti)
{
	return hs_cp_preheader(ti->flags, w->minor);
}

/* sys.getsizeof's extra bytes for o (the GC header or pre-header). */
uint64_t hs_wk_getsizeof_extra(struct walker *w, uint64_t o, const struct tinfo *ti)
{
	bool o_is_type = ti->is_gc != 0; /* only type's tp_is_gc is set */
	bool o_heap = o_is_type && (fld(w, o, HS_L_TP_FLAGS) & HS_CP_TPF_HEAPTYPE);
	return hs_cp_getsizeof_extra(ti->flags, o_is_type && !o_heap, w->minor);
}

uint64_t hs_wk_default_size(struct walker *w, uint64_t o, const struct tinfo *ti)
{
	uint64_t s = ti->basicsize;
	if (ti->itemsize) {
		int64_t n = ob_size(w, o);
		if (n < 0)
			n = -n;
		s += (uint64_t)n * ti->itemsize;
	}
	return s;
}

/* The blocks of a dict: its key table, or a split table's values (as in capture/inproc/memory.h:
 * getsizeof counts them without the 3.11/3.12 order prefix; a 3.13 dict may share them with its
 * instance, which holds them inline). */
static void dict_memory(struct walker *w, uint64_t o, const struct tinfo *ti,
                        struct hs_mem_parts *p)
{
	uint64_t own = ti->basicsize + hs_wk_getsizeof_extra(w, o, ti);
	if (p->size <= own)
		return;
	uint64_t rest = p->size - own, values = fld(w, o, HS_L_DICT_VALUES);
	uint64_t keys = fld(w, o, HS_L_DICT_KEYS);
	p->counted = rest;
	if (!values || (int64_t)fld(w, keys, HS_L_DK_REFCNT) == 1)
		return;
	uint8_t b[2] = {0, 0};
	if (w->L.v[HS_L_DV_EMBEDDED] >= 0) { /* 3.13's _PyDictValues */
		rd(w, values + (uint64_t)w->L.v[HS_L_DV_EMBEDDED], &b[0], 1);
		rd(w, values + (uint64_t)w->L.v[HS_L_DV_CAPACITY], &b[1], 1);
		if (b[0]) {
			p->counted = 0;
			p->shared = rest;
			return;
		}
		uint64_t block = hs_mem_values_313(b[1]);
		p->counted_extra = block > rest ? block - rest : 0;
	} else if (hs_mem_values_prefixed(w->minor) && rd(w, values - 1, &b[0], 1)) {
		p->counted_extra = b[0]; /* the order prefix's size, its last byte */
	}
}

/* An instance's attribute values outside a dict (3.11+): their own block on 3.11 and 3.12 while
 * the instance has no dict, inline after the object on 3.13. */
static void instance_memory(struct walker *w, uint64_t o, const struct tinfo *ti,
                            struct hs_mem_parts *p)
{
	if (!(ti->flags & hs_cp_flag(HS_CP_TPF_MANAGED_DICT, w->minor)) ||
	    !(ti->flags & HS_CP_TPF_HEAPTYPE))
		return;
	uint8_t b = 0;
	if (ti->flags & hs_cp_flag(HS_CP_TPF_INLINE_VALUES, w->minor)) {
		if (rd(w, o + ti->basicsize + (uint64_t)w->L.v[HS_L_DV_CAPACITY], &b, 1))
			p->inline_extra = hs_mem_values_313(b);
		return;
	}
	unsigned word = hs_mem_values_word(w->minor);
	uint64_t vals = word ? hs_mem_values_ptr(u64(w, o - 8 * (uint64_t)word), w->minor) : 0;
	struct dkeys d;
	if (vals && rd(w, vals - 1, &b, 1) &&
	    hs_wk_dkeys_read(w, fld(w, ti->addr, HS_L_HT_CACHED_KEYS), &d))
		p->uncounted = b + (d.nentries + (uint64_t)d.usable) * 8;
}

/* The memory o occupies less its size (capture/cpython/memory.h), by its kind (a subtype's base
 * kind). */
int64_t hs_wk_memory_delta(struct walker *w, uint64_t o, const struct tinfo *ti, enum kind kind,
                           uint64_t size)
{
	struct hs_mem_parts p = {.size = size};
	/* By the type's flags, as in process (a C subclass of dict, defaultdict, is K_STDLIB). */
	if (ti->flags & HS_CP_TPF_LIST_SUBCLASS) {
		p.counted = fld(w, o, HS_L_LIST_ALLOCATED) * 8;
	} else if (ti->flags & HS_CP_TPF_DICT_SUBCLASS) {
		dict_memory(w, o, ti, &p);
	} else if (kind == K_BYTEARRAY) {
		p.counted = fld(w, o, HS_L_BYTEARRAY_ALLOC);
	} else if (kind == K_SET) {
		uint64_t mask = fld(w, o, HS_L_SET_MASK);
		if (fld(w, o, HS_L_SET_TABLE) != o + (uint64_t)w->L.v[HS_L_SET_SMALLTABLE])
			p.counted = (mask + 1) * 16;
	} else if (ti->flags & HS_CP_TPF_TYPE_SUBCLASS) {
		p.is_static = !(fld(w, o, HS_L_TP_FLAGS) & HS_CP_TPF_HEAPTYPE);
	}
	instance_memory(w, o, ti, &p);
	int64_t delta = (int64_t)hs_mem_total(&p) - (int64_t)size;
	return delta > INT32_MAX / 2 || delta < INT32_MIN / 2 ? 0 : delta; /* damaged memory */
}
