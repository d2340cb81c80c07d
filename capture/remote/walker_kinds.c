/*
 * walker_kinds.c — each object's references and size by its kind, as tp_traverse visits them and
 * sys.getsizeof counts: the field tables of the builtin kinds, a subtype's slots, dict and class
 * (what subtype_traverse adds), code, functions, types, lists, tuples, sets, C functions,
 * modules, weak references, unknown types (scanned conservatively) and kinds_stdlib.c's; and
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

static struct hs_error *code_edges(struct walker *w, uint64_t src, uint64_t o)
{
	static const struct field_edge owned[] = {
	    {HS_L_CO_CODE, HS_EDGE_OWNED, HS_CP_CO_CODE},
	    {HS_L_CO_CONSTS, HS_EDGE_OWNED, HS_CP_CO_CONSTS},
	    {HS_L_CO_NAMES, HS_EDGE_OWNED, HS_CP_CO_NAMES},
	    {HS_L_CO_VARNAMES, HS_EDGE_OWNED, HS_CP_CO_VARNAMES},
	    {HS_L_CO_FREEVARS, HS_EDGE_OWNED, HS_CP_CO_FREEVARS},
	    {HS_L_CO_CELLVARS, HS_EDGE_OWNED, HS_CP_CO_CELLVARS},
	    {HS_L_CO_FILENAME, HS_EDGE_OWNED, HS_CP_CO_FILENAME},
	    {HS_L_CO_NAME, HS_EDGE_OWNED, HS_CP_CO_NAME},
	    {HS_L_CO_QUALNAME, HS_EDGE_OWNED, HS_CP_CO_QUALNAME},
	    {HS_L_CO_EXCEPTIONTABLE, HS_EDGE_OWNED, HS_CP_CO_EXCEPTIONTABLE},
	    {HS_L_CO_LOCALSPLUSNAMES, HS_EDGE_OWNED, HS_CP_CO_LOCALSPLUSNAMES},
	    {HS_L_CO_LOCALSPLUSKINDS, HS_EDGE_OWNED, HS_CP_CO_LOCALSPLUSKINDS},
	    {HS_L_CO_CODE311, HS_EDGE_OWNED, HS_CP_CO_CODE},
	    {HS_L_CO_ZOMBIEFRAME, HS_EDGE_OWNED, HS_CP_CO_ZOMBIEFRAME},
	};
	/* The _PyCoCached of 3.12+: what the code object computed from itself on demand. */
	static const struct field_edge cached_owned[] = {
	    {HS_L_COC_CODE, HS_EDGE_OWNED, HS_CP_CO_CODE},
	    {HS_L_COC_VARNAMES, HS_EDGE_OWNED, HS_CP_CO_VARNAMES},
	    {HS_L_COC_CELLVARS, HS_EDGE_OWNED, HS_CP_CO_CELLVARS},
	    {HS_L_COC_FREEVARS, HS_EDGE_OWNED, HS_CP_CO_FREEVARS},
	};
	struct hs_error *err = FIELD_EDGES(w, src, o, owned);
	if (!err) /* the attribute is co_lnotab up to 3.9 */
		err = hs_wk_edge_f(w, src, o, HS_L_CO_LINETABLE, HS_EDGE_OWNED,
		                   hs_cp_code_linetable(w->minor));
	uint64_t cached = fld(w, o, HS_L_CO_CACHED);
	if (cached && !err)
		err = FIELD_EDGES(w, src, cached, cached_owned);
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

/* ---------------------------------------------------------------------------------------------
 * The reference fields of each kind, as field_edges walks them: traversed ones in tp_traverse's
 * order, owned ones where the in-process writer gives them (the tests compare edge lists).
 */

/* K_TYPE, a heap type (after its __dict__). */
static const struct field_edge heap_type_fields[] = {
    {HS_L_TP_CACHE, HS_EDGE_TRAVERSE, HS_CP_TP_CACHE},
    {HS_L_TP_MRO, HS_EDGE_TRAVERSE, HS_CP_MRO},
    {HS_L_TP_BASES, HS_EDGE_TRAVERSE, HS_CP_BASES},
    {HS_L_TP_BASE, HS_EDGE_TRAVERSE, HS_CP_BASE},
    {HS_L_HT_MODULE, HS_EDGE_TRAVERSE, HS_CP_HT_MODULE},
    {HS_L_HT_NAME, HS_EDGE_OWNED, HS_CP_NAME},
    {HS_L_HT_QUALNAME, HS_EDGE_OWNED, HS_CP_QUALNAME},
    {HS_L_HT_SLOTS, HS_EDGE_OWNED, HS_CP_HT_SLOTS},
    {HS_L_TP_SUBCLASSES, HS_EDGE_OWNED, HS_CP_TP_SUBCLASSES},
};

/* K_TYPE, a static type (after its __dict__). */
static const struct field_edge static_type_fields[] = {
    {HS_L_TP_MRO, HS_EDGE_OWNED, HS_CP_MRO},
    {HS_L_TP_BASES, HS_EDGE_OWNED, HS_CP_BASES},
    {HS_L_TP_BASE, HS_EDGE_OWNED, HS_CP_BASE},
};

/* K_FUNC. */
static const struct field_edge func_fields[] = {
    {HS_L_FUNC_CODE, HS_EDGE_TRAVERSE, HS_CP_CODE},
    {HS_L_FUNC_GLOBALS, HS_EDGE_TRAVERSE, HS_CP_GLOBALS},
    {HS_L_FUNC_MODULE, HS_EDGE_TRAVERSE, HS_CP_MODULE},
    {HS_L_FUNC_DEFAULTS, HS_EDGE_TRAVERSE, HS_CP_DEFAULTS},
    {HS_L_FUNC_KWDEFAULTS, HS_EDGE_TRAVERSE, HS_CP_KWDEFAULTS},
    {HS_L_FUNC_DOC, HS_EDGE_TRAVERSE, HS_CP_DOC},
    {HS_L_FUNC_NAME, HS_EDGE_TRAVERSE, HS_CP_NAME},
    {HS_L_FUNC_DICT, HS_EDGE_TRAVERSE, HS_CP_DICT},
    {HS_L_FUNC_CLOSURE, HS_EDGE_TRAVERSE, HS_CP_CLOSURE},
    {HS_L_FUNC_ANNOTATIONS, HS_EDGE_TRAVERSE, HS_CP_ANNOTATIONS},
    {HS_L_FUNC_QUALNAME, HS_EDGE_TRAVERSE, HS_CP_QUALNAME},
    {HS_L_FUNC_BUILTINS, HS_EDGE_TRAVERSE, HS_CP_BUILTINS},
    {HS_L_FUNC_TYPEPARAMS, HS_EDGE_TRAVERSE, HS_CP_TYPE_PARAMS},
};

/* func_fields' edges, where annotations still in the compiler's tuple (3.10+, until
 * __annotations__ makes the dict of it) are no attribute: <func_annotations>. */
static struct hs_error *func_edges(struct walker *w, uint64_t src, uint64_t o)
{
	struct hs_error *err = NULL;
	for (size_t i = 0; i < sizeof(func_fields) / sizeof(*func_fields) && !err; i++) {
		const struct field_edge *f = &func_fields[i];
		bool ann = f->f == HS_L_FUNC_ANNOTATIONS && w->L.v[f->f] >= 0;
		uint64_t rc, a = ann ? fld(w, o, f->f) : 0;
		struct tinfo *ti = a ? hs_wk_obj_check(w, a, &rc) : NULL;
		err = hs_wk_edge_f(w, src, o, f->f, f->kind,
		                   ti && ti->kind == K_TUPLE ? HS_CP_FUNC_ANNOTATIONS : f->label);
	}
	return err;
}

/* K_METHOD. */
static const struct field_edge method_fields[] = {
    {HS_L_METHOD_FUNC, HS_EDGE_TRAVERSE, HS_CP_FUNC},
    {HS_L_METHOD_SELF, HS_EDGE_TRAVERSE, HS_CP_SELF},
};

/* K_SM. */
static const struct field_edge sm_fields[] = {
    {HS_L_SM_CALLABLE, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_SM_DICT, HS_EDGE_TRAVERSE, HS_CP_DICT},
};

/* K_CM. */
static const struct field_edge cm_fields[] = {
    {HS_L_CM_CALLABLE, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_CM_DICT, HS_EDGE_TRAVERSE, HS_CP_DICT},
};

/* K_PROP. */
static const struct field_edge prop_fields[] = {
    {HS_L_PROP_GET, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_PROP_SET, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_PROP_DEL, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_PROP_DOC, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_PROP_NAME, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
};

/* K_CFUNC (then a method's defining class). */
static const struct field_edge cfunc_fields[] = {
    {HS_L_CFUNC_SELF, HS_EDGE_TRAVERSE, HS_CP_SELF},
    {HS_L_CFUNC_MODULE, HS_EDGE_TRAVERSE, HS_CP_MODULE},
};

/* K_DESCR. */
static const struct field_edge descr_fields[] = {
    {HS_L_DESCR_TYPE, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_DESCR_NAME, HS_EDGE_OWNED, HS_CP_NAME},
    {HS_L_DESCR_QUALNAME, HS_EDGE_OWNED, HS_CP_QUALNAME},
};

/* K_MODULE (then its state, scanned). */
static const struct field_edge module_fields[] = {
    {HS_L_MOD_DICT, HS_EDGE_TRAVERSE, HS_CP_DICT},
    {HS_L_MOD_NAME, HS_EDGE_OWNED, HS_CP_NAME},
};

/* K_EXC. */
static const struct field_edge exc_fields[] = {
    {HS_L_EXC_DICT, HS_EDGE_TRAVERSE, HS_CP_DICT},
    {HS_L_EXC_ARGS, HS_EDGE_TRAVERSE, HS_CP_ARGS},
    {HS_L_EXC_NOTES, HS_EDGE_TRAVERSE, HS_CP_NOTES},
    {HS_L_EXC_TB, HS_EDGE_TRAVERSE, HS_CP_TRACEBACK},
    {HS_L_EXC_CONTEXT, HS_EDGE_TRAVERSE, HS_CP_CONTEXT},
    {HS_L_EXC_CAUSE, HS_EDGE_TRAVERSE, HS_CP_CAUSE},
};

/* K_TB. */
static const struct field_edge tb_fields[] = {
    {HS_L_TB_NEXT, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_TB_FRAME, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
};

/* K_SLICE. */
static const struct field_edge slice_fields[] = {
    {HS_L_SLICE_START, HS_EDGE_TRAVERSE, HS_CP_SLICE_START},
    {HS_L_SLICE_STOP, HS_EDGE_TRAVERSE, HS_CP_SLICE_STOP},
    {HS_L_SLICE_STEP, HS_EDGE_TRAVERSE, HS_CP_SLICE_STEP},
};

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

/* K_TYPE: its dict (3.12+ static builtin types: kept in the interpreter's state), its fields, a
 * heap type's shared keys. */
static struct hs_error *walk_type(struct walker *w, uint64_t idx, uint64_t o, uint64_t *size)
{
	bool heap = fld(w, o, HS_L_TP_FLAGS) & HS_CP_TPF_HEAPTYPE;
	uint8_t k = heap ? HS_EDGE_TRAVERSE : HS_EDGE_OWNED;
	uint64_t dict = fld(w, o, HS_L_TP_DICT);
	if (!heap && w->minor >= 12 && !dict) {
		uint64_t ix = fld(w, o, HS_L_TP_SUBCLASSES);
		uint64_t interp = fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD);
		uint64_t st = interp + (uint64_t)w->L.v[HS_L_IS_TYPES_BUILTINS] +
		              (ix - 1) * (uint64_t)w->L.v[HS_L_SBS_SIZE];
		/* The state must name this type back (capture/CPYTHON.md §1.4). */
		if (ix && ix < 1024 && interp && fld(w, st, HS_L_SBS_TYPE) == o)
			dict = fld(w, st, HS_L_SBS_TP_DICT);
	}
	struct hs_error *err = hs_wk_edge(w, idx, dict, k, hs_cp_label(HS_CP_DICT));
	if (!err)
		err = heap ? FIELD_EDGES(w, idx, o, heap_type_fields)
		           : FIELD_EDGES(w, idx, o, static_type_fields);
	/* A static type's subclasses: a dict up to 3.11 (from 3.12 a built-in's is an index). */
	if (!err && !heap && w->minor <= 11)
		err =
		    hs_wk_edge_f(w, idx, o, HS_L_TP_SUBCLASSES, HS_EDGE_OWNED, HS_CP_TP_SUBCLASSES);
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
	struct hs_error *err = FIELD_EDGES(w, idx, o, cfunc_fields);
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
	struct hs_error *err = FIELD_EDGES(w, idx, o, module_fields);
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
	struct hs_error *err = hs_wk_edge_f(w, idx, o, HS_L_WR_CALLBACK, 0, HS_CP_CALLBACK);
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
		return func_edges(w, idx, o);
	case K_CELL:
		return hs_wk_edge_f(w, idx, o, HS_L_CELL_REF, 0, HS_CP_CELL_CONTENTS);
	case K_METHOD:
		return FIELD_EDGES(w, idx, o, method_fields);
	case K_IMETHOD:
		return hs_wk_edge_f(w, idx, o, HS_L_IMETHOD_FUNC, 0, HS_CP_FUNC);
	case K_SM:
		return FIELD_EDGES(w, idx, o, sm_fields);
	case K_CM:
		return FIELD_EDGES(w, idx, o, cm_fields);
	case K_PROP:
		return FIELD_EDGES(w, idx, o, prop_fields);
	case K_CFUNC:
		return walk_cfunc(w, idx, o);
	case K_DESCR:
		return FIELD_EDGES(w, idx, o, descr_fields);
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
		return FIELD_EDGES(w, idx, o, exc_fields);
	case K_TB:
		return FIELD_EDGES(w, idx, o, tb_fields);
	case K_SLICE:
		return FIELD_EDGES(w, idx, o, slice_fields);
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
