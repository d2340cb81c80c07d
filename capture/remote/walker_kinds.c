/*
 * walker_kinds.c — each object's references and size by its kind, as tp_traverse visits them and
 * sys.getsizeof counts: the fixed fields of the builtin kinds, a loop over their shared table
 * (capture/cpython/kinds.h) at the target layout's offsets; as code, what is no fixed field: a
 * subtype's slots, dict and class (what subtype_traverse adds), code sizes, a static type's dict
 * and a heap type's shared keys, list, tuple and set items, a METH_METHOD function's class, a
 * module's C state, weak links, unknown types (scanned conservatively) and kinds_stdlib.c's; and
 * what kinds_stdlib.c uses of the walker (internal.h's hs_wk_*).
 */
#include "walker_internal.h"

/* The edges of a subtype instance that subtype_traverse adds before the base's traverse. */
struct hs_error *hs_wk_subtype_edges(struct walker *w, uint64_t src, uint64_t o,
                                     const struct tinfo *ti)
{
	struct hs_error *err = NULL;
	for (size_t i = 0; i < ti->nslots && !err; i++)
		err = hs_wk_edge_label(w, src, u64(w, o + ti->slots[i]), 0, HS_LABEL_STRING,
		                       ti->slot_names[i]);
	uint64_t keys =
	    (ti->flags & HS_CP_TPF_HEAPTYPE) ? fld(w, ti->addr, HS_L_HT_CACHED_KEYS) : 0;
	struct dkeys d;
	bool have_keys = keys && hs_wk_dkeys_read(w, keys, &d);
	if (ti->flags & hs_cp_flag(HS_CP_TPF_MANAGED_DICT, w->minor)) {
		uint64_t vals = 0, n = 0;
		uint64_t dict = 0, owned_dict = 0;
		if (w->minor == 11) {
			vals = u64(w, o - 32);
			n = have_keys ? d.nentries : 0;
			dict = u64(w, o - 24);
		} else if (w->minor == 12) {
			uint64_t dorv = u64(w, o - 24);
			if (dorv & 1) {
				vals = dorv + 1;
				n = have_keys ? d.nentries : 0;
			} else {
				dict = dorv;
			}
		} else {
			uint8_t cap = 0, valid = 0;
			uint64_t iv = o + ti->basicsize;
			if ((ti->flags & HS_CP_TPF_INLINE_VALUES) &&
			    rd(w, iv + (uint64_t)w->L.v[HS_L_DV_VALID], &valid, 1) && valid &&
			    rd(w, iv + (uint64_t)w->L.v[HS_L_DV_CAPACITY], &cap, 1)) {
				vals = iv + (uint64_t)w->L.v[HS_L_DV_VALUES];
				n = cap;
				/* A dict made of them shares them: not traversed, but held. */
				owned_dict = u64(w, o - 24);
			} else {
				dict = u64(w, o - 24);
			}
		}
		for (uint64_t i = 0; i < n && i < 4096 && !err; i++) {
			uint64_t k = have_keys && i < d.nentries ? hs_wk_entry_key(w, &d, i) : 0;
			err =
			    k ? hs_wk_edge_label(w, src, u64(w, vals + 8 * i), 0, HS_LABEL_ATTR, k)
			      : hs_wk_edge_label(w, src, u64(w, vals + 8 * i), 0, HS_LABEL_NONE, 0);
		}
		if (!err && dict)
			err = hs_wk_edge(w, src, dict, 0, hs_cp_label(HS_CP_DICT));
		if (!err && owned_dict)
			err =
			    hs_wk_edge(w, src, owned_dict, HS_EDGE_OWNED, hs_cp_label(HS_CP_DICT));
	} else if (ti->dictoffset != ti->base_dictoffset && ti->dictoffset) {
		int64_t off = ti->dictoffset;
		if (off < 0) {
			int64_t n = ti->itemsize ? ob_size(w, o) : 0;
			if (n < 0)
				n = -n;
			off += (int64_t)((ti->basicsize + (uint64_t)n * ti->itemsize + 7) & ~7ull);
		}
		err = hs_wk_edge(w, src, u64(w, o + (uint64_t)off), 0, hs_cp_label(HS_CP_DICT));
	}
	bool visit_type = w->minor <= 8 || !ti->base_has_traverse || !ti->base_heap;
	if (!err && (ti->flags & HS_CP_TPF_HEAPTYPE) && visit_type)
		err = hs_wk_edge(w, src, ti->addr, 0, hs_cp_label(HS_CP_CLASS));
	return err;
}

/* The edges of the fixed fields of kind k (capture/cpython/kinds.h) of the struct at o, in the
 * table's order (the tests compare edge lists), those of fields the target's version or layout
 * lacks left out. */
struct hs_error *hs_wk_kind_edges(struct walker *w, uint64_t src, uint64_t o, enum hs_cp_kind k)
{
	const struct hs_cp_kind_fields *t = &hs_cp_kinds[k];
	struct hs_error *err = NULL;
	for (size_t i = 0; i < t->n && !err; i++) {
		const struct hs_cp_field *f = &t->v[i];
		if (!hs_cp_field_in(f, w->minor))
			continue;
		bool tuple = false;
		if (hs_cp_field_label_needs_type(f) && w->L.v[f->field] >= 0) {
			uint64_t rc, a = fld(w, o, f->field);
			struct tinfo *ti = a ? hs_wk_obj_check(w, a, &rc) : NULL;
			tuple = ti && ti->kind == K_TUPLE;
		}
		err = hs_wk_edge_f(w, src, o, f->field, f->edge, hs_cp_field_label(f, tuple));
	}
	return err;
}

/* K_CODE: its fields, and those of its _co_cached (3.12+). */
static struct hs_error *code_edges(struct walker *w, uint64_t src, uint64_t o)
{
	struct hs_error *err = hs_wk_kind_edges(w, src, o, HS_CP_K_CODE);
	uint64_t cached = w->L.v[HS_L_CO_CACHED] >= 0 ? fld(w, o, HS_L_CO_CACHED) : 0;
	if (cached && !err)
		err = hs_wk_kind_edges(w, src, cached, HS_CP_K_CODE_CACHE);
	return err;
}

static uint64_t code_size(struct walker *w, uint64_t o, const struct tinfo *ti)
{
	uint64_t s;
	if (w->minor <= 10) {
		s = ti->basicsize;
		uint64_t cells = fld(w, o, HS_L_CO_CELLVARS);
		if (fld(w, o, HS_L_CO_CELL2ARG) && cells)
			s += (uint64_t)ob_size(w, cells) * 8;
		/* A code object run often enough has an opcode cache (3.8-3.10): one byte per
		 * code unit for its map, and its entries. */
		uint8_t nopcache = 0;
		rd(w, o + (uint64_t)w->L.v[HS_L_CO_OPCACHE_SIZE], &nopcache, 1);
		uint64_t bytecode = fld(w, o, HS_L_CO_CODE);
		int64_t ncode = bytecode ? ob_size(w, bytecode) : 0;
		if (fld(w, o, HS_L_CO_OPCACHE) && ncode > 0 && ncode < HS_MAX_ITEMS)
			s += (uint64_t)ncode / 2 + nopcache * (uint64_t)w->L.v[HS_L_OPCACHE_SIZE];
	} else {
		s = (hs_wk_default_size(w, o, ti) + 7) & ~7ull;
		if (w->minor == 11 && fld(w, o, HS_L_CO_LINEARRAY)) {
			int8_t es = 0;
			rd(w, o + (uint64_t)w->L.v[HS_L_CO_LINEARRAY_ES], &es, 1);
			s += (uint64_t)es * ((uint64_t)ob_size(w, o) + 1);
		}
	}
	return s;
}

/* The kinds' edges, sizes and previews: each function below makes the edges of the object o
 * (index idx) of type ti and sets *size to its sys.getsizeof size without the GC header (it holds
 * the default size on entry). */

/* K_OTHER: an unknown type's instance, scanned conservatively. */
static struct hs_error *walk_other(struct walker *w, uint64_t idx, uint64_t o,
                                   const struct tinfo *ti, uint64_t *size)
{
	w->objs[idx].flags |= HS_OBJ_CONSERVATIVE_SCAN | HS_OBJ_SIZE_APPROX;
	if (ti->is_gc)
		return NULL; /* instances of unknown metatypes: their layout is a type's */
	struct hs_error *err = hs_wk_scan(w, idx, o + 16, o + *size);
	/* A managed dict (3.11+) is a word of the pre-header, before the GC header. */
	if (!err && (ti->flags & hs_cp_flag(HS_CP_TPF_MANAGED_DICT, w->minor)))
		err = hs_wk_scan(w, idx, o - 24, o - 16);
	if (!err && (ti->flags & HS_CP_TPF_HEAPTYPE))
		err = hs_wk_edge(w, idx, ti->addr, HS_EDGE_CONSERVATIVE, hs_cp_label(HS_CP_CLASS));
	if (!err && hs_wk_in_mro(w, ti->addr, K_FLOAT)) /* numpy.float64: a float by its MRO */
		err = hs_wk_float_value(w, idx, o);
	return err;
}

/* A static type's dict: its tp_dict, or on 3.12+ for a built-in (whose tp_dict is NULL) the one
 * its interpreter keeps for it. */
static uint64_t static_type_dict(struct walker *w, uint64_t o)
{
	uint64_t dict = fld(w, o, HS_L_TP_DICT);
	if (w->minor >= 12 && !dict) {
		uint64_t ix = fld(w, o, HS_L_TP_SUBCLASSES);
		uint64_t interp = fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD);
		uint64_t st = interp + (uint64_t)w->L.v[HS_L_IS_TYPES_BUILTINS] +
		              (ix - 1) * (uint64_t)w->L.v[HS_L_SBS_SIZE];
		/* The state must name this type back (capture/CPYTHON.md §1.4). */
		if (ix && ix < 1024 && interp && fld(w, st, HS_L_SBS_TYPE) == o)
			dict = fld(w, st, HS_L_SBS_TP_DICT);
	}
	return dict;
}

/* K_TYPE: a static type's dict, its fields, a heap type's shared keys. */
static struct hs_error *walk_type(struct walker *w, uint64_t idx, uint64_t o, uint64_t *size)
{
	bool heap = fld(w, o, HS_L_TP_FLAGS) & HS_CP_TPF_HEAPTYPE;
	struct hs_error *err = NULL;
	if (!heap)
		err = hs_wk_edge(w, idx, static_type_dict(w, o), HS_EDGE_OWNED,
		                 hs_cp_label(HS_CP_DICT));
	if (!err)
		err = hs_wk_kind_edges(w, idx, o, heap ? HS_CP_K_HEAP_TYPE : HS_CP_K_STATIC_TYPE);
	if (!heap) {
		*size = (uint64_t)w->L.v[HS_L_TP_SIZE];
		return err;
	}
	struct dkeys d;
	uint64_t keys = fld(w, o, HS_L_HT_CACHED_KEYS);
	*size = (uint64_t)w->L.v[HS_L_HT_SIZE];
	if (keys && hs_wk_dkeys_read(w, keys, &d)) {
		*size += d.keys_size;
		for (uint64_t i = 0; i < d.nentries && !err; i++)
			err = hs_wk_edge(w, idx, hs_wk_entry_key(w, &d, i), 1,
			                 hs_cp_label(HS_CP_SHARED_KEY));
	}
	return err;
}

/* K_LIST: its items, by index; the allocated array in its size. */
static struct hs_error *walk_list(struct walker *w, uint64_t idx, uint64_t o,
                                  const struct tinfo *ti, uint64_t *size)
{
	int64_t n = ob_size(w, o);
	uint64_t items = fld(w, o, HS_L_LIST_ITEM);
	int64_t alloc = (int64_t)fld(w, o, HS_L_LIST_ALLOCATED);
	if (n < 0 || n > alloc || alloc > HS_MAX_ITEMS) {
		hs_wk_warn(w, "list at 0x%llx: size %lld, allocated %lld", (unsigned long long)o,
		           (long long)n, (long long)alloc);
		return NULL;
	}
	*size = hs_cp_list_sizeof(ti->basicsize, (uint64_t)alloc);
	struct hs_error *err = NULL;
	for (int64_t i = 0; i < n && !err; i++) {
		uint64_t item;
		if (!rd(w, items + 8 * (uint64_t)i, &item, 8)) {
			hs_wk_warn(w, "list at 0x%llx: item %lld at 0x%llx unreadable",
			           (unsigned long long)o, (long long)i,
			           (unsigned long long)(items + 8 * (uint64_t)i));
			break;
		}
		err = hs_wk_edge_label(w, idx, item, 0, HS_LABEL_INDEX, (uint64_t)i);
	}
	return err;
}

/* K_TUPLE: its items, by index. */
static struct hs_error *walk_tuple(struct walker *w, uint64_t idx, uint64_t o)
{
	int64_t n = ob_size(w, o);
	struct hs_error *err = NULL;
	for (int64_t i = 0; n <= HS_MAX_ITEMS && i < n && !err; i++)
		err = hs_wk_edge_label(
		    w, idx, u64(w, o + (uint64_t)w->L.v[HS_L_TUPLE_ITEM] + 8 * (uint64_t)i), 0,
		    HS_LABEL_INDEX, (uint64_t)i);
	return err;
}

/* K_SET: its keys (not the dummy); a table that is not the small table in its size. */
static struct hs_error *walk_set(struct walker *w, uint64_t idx, uint64_t o, uint64_t *size)
{
	uint64_t mask = fld(w, o, HS_L_SET_MASK), table = fld(w, o, HS_L_SET_TABLE);
	if (mask > HS_MAX_ITEMS || ((mask + 1) & mask))
		return NULL;
	*size = hs_cp_set_sizeof(*size, mask, table == o + (uint64_t)w->L.v[HS_L_SET_SMALLTABLE]);
	struct hs_error *err = NULL;
	for (uint64_t i = 0; i <= mask && !err; i++) {
		uint64_t k = u64(w, table + 16 * i);
		if (k && k != w->set_dummy)
			err = hs_wk_edge(w, idx, k, 0, "");
	}
	return err;
}

/* K_CFUNC: its fields; a METH_METHOD function (3.9+) its defining class. */
static struct hs_error *walk_cfunc(struct walker *w, uint64_t idx, uint64_t o)
{
	struct hs_error *err = hs_wk_kind_edges(w, idx, o, HS_CP_K_CFUNC);
	uint32_t mlf = 0;
	uint64_t ml = fld(w, o, HS_L_CFUNC_ML);
	if (ml)
		rd(w, ml + (uint64_t)w->L.v[HS_L_ML_FLAGS], &mlf, 4);
	if (!err && w->minor >= 9 && (mlf & HS_METH_METHOD))
		err = hs_wk_edge_f(w, idx, o, HS_L_CMETH_CLASS, 0, HS_CP_CMETH_CLASS);
	return err;
}

/* K_MODULE: its fields, and its C state scanned conservatively. */
static struct hs_error *walk_module(struct walker *w, uint64_t idx, uint64_t o)
{
	struct hs_error *err = hs_wk_kind_edges(w, idx, o, HS_CP_K_MODULE);
	uint64_t def = fld(w, o, HS_L_MOD_DEF), state = fld(w, o, HS_L_MOD_STATE);
	int64_t msize = def ? (int64_t)fld(w, def, HS_L_MODDEF_SIZE) : 0;
	if (!err && state && msize > 0) {
		w->objs[idx].flags |= HS_OBJ_CONSERVATIVE_SCAN;
		err = hs_wk_scan(w, idx, state, state + (uint64_t)msize);
	}
	return err;
}

/* K_WEAKREF: its callback; the referent and callback recorded as a weak link. */
static struct hs_error *walk_weakref(struct walker *w, uint64_t idx, uint64_t o)
{
	struct hs_error *err = hs_wk_kind_edges(w, idx, o, HS_CP_K_WEAKREF);
	uint64_t referent = fld(w, o, HS_L_WR_OBJECT), r1 = 0, c1 = 0;
	if (!err && referent && referent != w->none)
		err = hs_wk_discover(w, referent, &r1);
	if (!err)
		err = hs_wk_discover(w, fld(w, o, HS_L_WR_CALLBACK), &c1);
	if (!err &&
	    !hs_wk_grow((void **)&w->weaks, &w->weaks_cap, w->nweaks + 1, sizeof(*w->weaks)))
		err = &hs_error_nomem;
	if (!err)
		w->weaks[w->nweaks++] = (struct weak){idx, r1, c1};
	return err;
}

/* K_STDLIB: kinds_stdlib.c's. */
static struct hs_error *walk_stdlib(struct walker *w, uint64_t idx, uint64_t o,
                                    const struct tinfo *ti, uint64_t *size)
{
	bool sub = ti->kind == K_SUBTYPE;
	struct hs_stdlib_obj so = {
	    ti->std,  idx,       o,
	    ti->addr, ti->flags, sub ? ti->base_heap : (ti->flags & HS_CP_TPF_HEAPTYPE) != 0};
	return hs_stdlib_walk(w, w->std, &so, size);
}

/* The edges and size of o by its kind (a subtype's by its base's). */
struct hs_error *hs_wk_walk_kind(struct walker *w, uint64_t idx, uint64_t o, const struct tinfo *ti,
                                 enum kind kind, uint64_t *size)
{
	switch (kind) {
	case K_OTHER:
		return walk_other(w, idx, o, ti, size);
	case K_OBJECT:
	case K_LEAF:
	case K_SUBTYPE: /* a base kind is never itself a subtype */
		return NULL;
	case K_NONE:
	case K_STR:
	case K_INT:
	case K_FLOAT:
	case K_BYTES:
		return hs_wk_walk_value(w, idx, o, kind, ti, size);
	case K_TYPE:
		return walk_type(w, idx, o, size);
	case K_LIST:
		return walk_list(w, idx, o, ti, size);
	case K_TUPLE:
		return walk_tuple(w, idx, o);
	case K_DICT:
		return hs_wk_dict_edges(w, idx, o, size, ti, false);
	case K_SET:
		return walk_set(w, idx, o, size);
	case K_FUNC:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_FUNC);
	case K_CELL:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_CELL);
	case K_METHOD:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_METHOD);
	case K_IMETHOD:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_IMETHOD);
	case K_SM:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_SM);
	case K_CM:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_CM);
	case K_PROP:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_PROP);
	case K_CFUNC:
		return walk_cfunc(w, idx, o);
	case K_DESCR:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_DESCR);
	case K_MODULE:
		return walk_module(w, idx, o);
	case K_CODE:
		*size = code_size(w, o, ti);
		return code_edges(w, idx, o);
	case K_FRAME:
		return hs_wk_walk_frame(w, idx, o, size);
	case K_GEN:
	case K_ASYNCGEN:
		return hs_wk_walk_gen(w, idx, o, kind, size);
	case K_WEAKREF:
		return walk_weakref(w, idx, o);
	case K_EXC:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_EXC);
	case K_TB:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_TB);
	case K_SLICE:
		return hs_wk_kind_edges(w, idx, o, HS_CP_K_SLICE);
	case K_BYTEARRAY:
		*size = hs_cp_bytearray_sizeof(ti->basicsize, fld(w, o, HS_L_BYTEARRAY_ALLOC));
		return NULL;
	case K_STDLIB:
		return walk_stdlib(w, idx, o, ti, size);
	}
	return NULL;
}

bool hs_wk_read(struct walker *w, uint64_t addr, void *buf, size_t len)
{
	return rd(w, addr, buf, len);
}

uint64_t hs_wk_u64(struct walker *w, uint64_t addr)
{
	return u64(w, addr);
}

int hs_wk_minor(const struct walker *w)
{
	return w->minor;
}

struct hs_error *hs_wk_edge_index(struct walker *w, uint64_t src, uint64_t dst, uint64_t index)
{
	return hs_wk_edge_label(w, src, dst, HS_EDGE_TRAVERSE, HS_LABEL_INDEX, index);
}
