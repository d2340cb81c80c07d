/*
 * walker.c — the CPython 3.8–3.13 heap walker: from _PyRuntime to every interpreter's GC
 * generations, then every object's type, size, refcount and references as tp_traverse visits
 * them, discovery of untracked objects through those references, weak links and roots, and
 * finally the snapshot through hsnap.h's writer (objects sorted by address).
 *
 * The target's memory is hostile: every pointer is validated before it becomes an object
 * (aligned, readable, a sane refcount, a type whose metatype chain reaches `type`), every loop is
 * bounded, and an object that does not validate is skipped and counted as a warning.
 * Version differences come from the DWARF layout (hs_layout) and a minor version derived from
 * which members exist; the constants DWARF lacks are the HS_TPF_* below (capture/CPYTHON.md
 * §1.6).  Nothing here recurses over the heap: a worklist drives discovery.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "walker_internal.h"

/* PyExc_BaseException: the exported pointer to the static _PyExc_BaseException, which only a
 * .symtab names. */
static const char *const other_syms[] = {"_PyRuntime",   "subtype_traverse", "lookdict",
                                         "_PySet_Dummy", "_Py_NoneStruct",   "PyExc_BaseException"};

/* ---------------------------------------------------------------------------------------------
 * Reading target memory
 */

/* ---------------------------------------------------------------------------------------------
 * Strings (my table, interned into the writer at the end)
 */

/* ---------------------------------------------------------------------------------------------
 * Types
 */

/* ---------------------------------------------------------------------------------------------
 * Objects
 */

/* ---------------------------------------------------------------------------------------------
 * Dicts
 */

/* ---------------------------------------------------------------------------------------------
 * Frames (3.11+ interpreter frames live in thread stacks and generators, not as objects)
 */

/* ---------------------------------------------------------------------------------------------
 * Per-object work
 */

/* The edges of a subtype instance that subtype_traverse adds before the base's traverse. */
static struct hs_error *subtype_edges(struct walker *w, uint64_t src, uint64_t o,
                                      const struct tinfo *ti)
{
	struct hs_error *err = NULL;
	for (size_t i = 0; i < ti->nslots && !err; i++)
		err = hs_wk_edge_label(w, src, u64(w, o + ti->slots[i]), 0, HS_LABEL_STRING,
		                       ti->slot_names[i]);
	uint64_t keys = (ti->flags & HS_TPF_HEAPTYPE) ? fld(w, ti->addr, HS_L_HT_CACHED_KEYS) : 0;
	struct dkeys d;
	bool have_keys = keys && hs_wk_dkeys_read(w, keys, &d);
	if (w->minor >= 11 && (ti->flags & HS_TPF_MANAGED_DICT)) {
		uint64_t vals = 0, n = 0;
		uint64_t dict = 0;
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
			if ((ti->flags & HS_TPF_INLINE_VALUES) &&
			    rd(w, iv + (uint64_t)w->L.v[HS_L_DV_VALID], &valid, 1) && valid &&
			    rd(w, iv + (uint64_t)w->L.v[HS_L_DV_CAPACITY], &cap, 1)) {
				vals = iv + (uint64_t)w->L.v[HS_L_DV_VALUES];
				n = cap;
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
			err = hs_wk_edge(w, src, dict, 0, ".__dict__");
	} else if (ti->dictoffset != ti->base_dictoffset && ti->dictoffset) {
		int64_t off = ti->dictoffset;
		if (off < 0) {
			int64_t n = ti->itemsize ? ob_size(w, o) : 0;
			if (n < 0)
				n = -n;
			off += (int64_t)((ti->basicsize + (uint64_t)n * ti->itemsize + 7) & ~7ull);
		}
		err = hs_wk_edge(w, src, u64(w, o + (uint64_t)off), 0, ".__dict__");
	}
	bool visit_type = w->minor <= 8 || !ti->base_has_traverse || !ti->base_heap;
	if (!err && (ti->flags & HS_TPF_HEAPTYPE) && visit_type)
		err = hs_wk_edge(w, src, ti->addr, 0, ".__class__");
	return err;
}

static struct hs_error *code_edges(struct walker *w, uint64_t src, uint64_t o)
{
	static const struct field_edge owned[] = {
	    {HS_L_CO_CODE, HS_EDGE_OWNED, ".co_code"},
	    {HS_L_CO_CONSTS, HS_EDGE_OWNED, ".co_consts"},
	    {HS_L_CO_NAMES, HS_EDGE_OWNED, ".co_names"},
	    {HS_L_CO_VARNAMES, HS_EDGE_OWNED, ".co_varnames"},
	    {HS_L_CO_FREEVARS, HS_EDGE_OWNED, ".co_freevars"},
	    {HS_L_CO_CELLVARS, HS_EDGE_OWNED, ".co_cellvars"},
	    {HS_L_CO_FILENAME, HS_EDGE_OWNED, ".co_filename"},
	    {HS_L_CO_NAME, HS_EDGE_OWNED, ".co_name"},
	    {HS_L_CO_QUALNAME, HS_EDGE_OWNED, ".co_qualname"},
	    {HS_L_CO_EXCEPTIONTABLE, HS_EDGE_OWNED, ".co_exceptiontable"},
	    {HS_L_CO_LOCALSPLUSNAMES, HS_EDGE_OWNED, "<co_localsplusnames>"},
	    {HS_L_CO_LOCALSPLUSKINDS, HS_EDGE_OWNED, "<co_localspluskinds>"},
	    {HS_L_CO_CODE311, HS_EDGE_OWNED, ".co_code"},
	    {HS_L_CO_ZOMBIEFRAME, HS_EDGE_OWNED, "<co_zombieframe>"},
	};
	/* The _PyCoCached of 3.12+: what the code object computed from itself on demand. */
	static const struct field_edge cached_owned[] = {
	    {HS_L_COC_CODE, HS_EDGE_OWNED, ".co_code"},
	    {HS_L_COC_VARNAMES, HS_EDGE_OWNED, ".co_varnames"},
	    {HS_L_COC_CELLVARS, HS_EDGE_OWNED, ".co_cellvars"},
	    {HS_L_COC_FREEVARS, HS_EDGE_OWNED, ".co_freevars"},
	};
	struct hs_error *err = FIELD_EDGES(w, src, o, owned);
	if (!err) /* the attribute is co_lnotab up to 3.9 */
		err = hs_wk_edge_f(w, src, o, HS_L_CO_LINETABLE, HS_EDGE_OWNED,
		                   w->minor <= 9 ? ".co_lnotab" : ".co_linetable");
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
    {HS_L_TP_CACHE, HS_EDGE_TRAVERSE, "<tp_cache>"},
    {HS_L_TP_MRO, HS_EDGE_TRAVERSE, ".__mro__"},
    {HS_L_TP_BASES, HS_EDGE_TRAVERSE, ".__bases__"},
    {HS_L_TP_BASE, HS_EDGE_TRAVERSE, ".__base__"},
    {HS_L_HT_MODULE, HS_EDGE_TRAVERSE, "<ht_module>"},
    {HS_L_HT_NAME, HS_EDGE_OWNED, ".__name__"},
    {HS_L_HT_QUALNAME, HS_EDGE_OWNED, ".__qualname__"},
    {HS_L_HT_SLOTS, HS_EDGE_OWNED, "<ht_slots>"},
    {HS_L_TP_SUBCLASSES, HS_EDGE_OWNED, "<tp_subclasses>"},
};
/* K_TYPE, a static type (after its __dict__). */
static const struct field_edge static_type_fields[] = {
    {HS_L_TP_MRO, HS_EDGE_OWNED, ".__mro__"},
    {HS_L_TP_BASES, HS_EDGE_OWNED, ".__bases__"},
    {HS_L_TP_BASE, HS_EDGE_OWNED, ".__base__"},
};
/* K_FUNC. */
static const struct field_edge func_fields[] = {
    {HS_L_FUNC_CODE, HS_EDGE_TRAVERSE, ".__code__"},
    {HS_L_FUNC_GLOBALS, HS_EDGE_TRAVERSE, ".__globals__"},
    {HS_L_FUNC_MODULE, HS_EDGE_TRAVERSE, ".__module__"},
    {HS_L_FUNC_DEFAULTS, HS_EDGE_TRAVERSE, ".__defaults__"},
    {HS_L_FUNC_KWDEFAULTS, HS_EDGE_TRAVERSE, ".__kwdefaults__"},
    {HS_L_FUNC_DOC, HS_EDGE_TRAVERSE, ".__doc__"},
    {HS_L_FUNC_NAME, HS_EDGE_TRAVERSE, ".__name__"},
    {HS_L_FUNC_DICT, HS_EDGE_TRAVERSE, ".__dict__"},
    {HS_L_FUNC_CLOSURE, HS_EDGE_TRAVERSE, ".__closure__"},
    {HS_L_FUNC_ANNOTATIONS, HS_EDGE_TRAVERSE, ".__annotations__"},
    {HS_L_FUNC_QUALNAME, HS_EDGE_TRAVERSE, ".__qualname__"},
    {HS_L_FUNC_BUILTINS, HS_EDGE_TRAVERSE, ".__builtins__"},
    {HS_L_FUNC_TYPEPARAMS, HS_EDGE_TRAVERSE, ".__type_params__"},
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
		                   ti && ti->kind == K_TUPLE ? "<func_annotations>" : f->label);
	}
	return err;
}

/* K_METHOD. */
static const struct field_edge method_fields[] = {
    {HS_L_METHOD_FUNC, HS_EDGE_TRAVERSE, ".__func__"},
    {HS_L_METHOD_SELF, HS_EDGE_TRAVERSE, ".__self__"},
};
/* K_SM. */
static const struct field_edge sm_fields[] = {
    {HS_L_SM_CALLABLE, HS_EDGE_TRAVERSE, ""},
    {HS_L_SM_DICT, HS_EDGE_TRAVERSE, ".__dict__"},
};
/* K_CM. */
static const struct field_edge cm_fields[] = {
    {HS_L_CM_CALLABLE, HS_EDGE_TRAVERSE, ""},
    {HS_L_CM_DICT, HS_EDGE_TRAVERSE, ".__dict__"},
};
/* K_PROP. */
static const struct field_edge prop_fields[] = {
    {HS_L_PROP_GET, HS_EDGE_TRAVERSE, ""},  {HS_L_PROP_SET, HS_EDGE_TRAVERSE, ""},
    {HS_L_PROP_DEL, HS_EDGE_TRAVERSE, ""},  {HS_L_PROP_DOC, HS_EDGE_TRAVERSE, ""},
    {HS_L_PROP_NAME, HS_EDGE_TRAVERSE, ""},
};
/* K_CFUNC (then a method's defining class). */
static const struct field_edge cfunc_fields[] = {
    {HS_L_CFUNC_SELF, HS_EDGE_TRAVERSE, ".__self__"},
    {HS_L_CFUNC_MODULE, HS_EDGE_TRAVERSE, ".__module__"},
};
/* K_DESCR. */
static const struct field_edge descr_fields[] = {
    {HS_L_DESCR_TYPE, HS_EDGE_TRAVERSE, ""},
    {HS_L_DESCR_NAME, HS_EDGE_OWNED, ".__name__"},
    {HS_L_DESCR_QUALNAME, HS_EDGE_OWNED, ".__qualname__"},
};
/* K_MODULE (then its state, scanned). */
static const struct field_edge module_fields[] = {
    {HS_L_MOD_DICT, HS_EDGE_TRAVERSE, ".__dict__"},
    {HS_L_MOD_NAME, HS_EDGE_OWNED, ".__name__"},
};
/* K_EXC. */
static const struct field_edge exc_fields[] = {
    {HS_L_EXC_DICT, HS_EDGE_TRAVERSE, ".__dict__"},
    {HS_L_EXC_ARGS, HS_EDGE_TRAVERSE, ".args"},
    {HS_L_EXC_NOTES, HS_EDGE_TRAVERSE, ".__notes__"},
    {HS_L_EXC_TB, HS_EDGE_TRAVERSE, ".__traceback__"},
    {HS_L_EXC_CONTEXT, HS_EDGE_TRAVERSE, ".__context__"},
    {HS_L_EXC_CAUSE, HS_EDGE_TRAVERSE, ".__cause__"},
};
/* K_TB. */
static const struct field_edge tb_fields[] = {
    {HS_L_TB_NEXT, HS_EDGE_TRAVERSE, ""},
    {HS_L_TB_FRAME, HS_EDGE_TRAVERSE, ""},
};
/* K_SLICE. */
static const struct field_edge slice_fields[] = {
    {HS_L_SLICE_START, HS_EDGE_TRAVERSE, ".start"},
    {HS_L_SLICE_STOP, HS_EDGE_TRAVERSE, ".stop"},
    {HS_L_SLICE_STEP, HS_EDGE_TRAVERSE, ".step"},
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
	if (!err && w->minor >= 11 && (ti->flags & HS_TPF_MANAGED_DICT))
		err = hs_wk_scan(w, idx, o - 24, o - 16);
	if (!err && (ti->flags & HS_TPF_HEAPTYPE))
		err = hs_wk_edge(w, idx, ti->addr, HS_EDGE_CONSERVATIVE, ".__class__");
	if (!err && hs_wk_in_mro(w, ti->addr, K_FLOAT)) /* numpy.float64: a float by its MRO */
		err = hs_wk_float_value(w, idx, o);
	return err;
}

/* K_TYPE: its dict (3.12+ static builtin types: kept in the interpreter's state), its fields, a
 * heap type's shared keys. */
static struct hs_error *walk_type(struct walker *w, uint64_t idx, uint64_t o, uint64_t *size)
{
	bool heap = fld(w, o, HS_L_TP_FLAGS) & HS_TPF_HEAPTYPE;
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
	struct hs_error *err = hs_wk_edge(w, idx, dict, k, ".__dict__");
	if (!err)
		err = heap ? FIELD_EDGES(w, idx, o, heap_type_fields)
		           : FIELD_EDGES(w, idx, o, static_type_fields);
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
			err = hs_wk_edge(w, idx, hs_wk_entry_key(w, &d, i), 1, "<shared key>");
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
	*size = ti->basicsize + (uint64_t)alloc * 8;
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
	if (table != o + (uint64_t)w->L.v[HS_L_SET_SMALLTABLE])
		*size += (mask + 1) * 16;
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
		err = hs_wk_edge_f(w, idx, o, HS_L_CMETH_CLASS, 0, "<class>");
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
	struct hs_error *err = hs_wk_edge_f(w, idx, o, HS_L_WR_CALLBACK, 0, ".__callback__");
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
	    ti->addr, ti->flags, sub ? ti->base_heap : (ti->flags & HS_TPF_HEAPTYPE) != 0};
	return hs_stdlib_walk(w, w->std, &so, size);
}

/* The edges and size of o by its kind (a subtype's by its base's). */
static struct hs_error *walk_kind(struct walker *w, uint64_t idx, uint64_t o,
                                  const struct tinfo *ti, enum kind kind, uint64_t *size)
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
		return hs_wk_edge_f(w, idx, o, HS_L_CELL_REF, 0, ".cell_contents");
	case K_METHOD:
		return FIELD_EDGES(w, idx, o, method_fields);
	case K_IMETHOD:
		return hs_wk_edge_f(w, idx, o, HS_L_IMETHOD_FUNC, 0, ".__func__");
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
		*size = ti->basicsize + fld(w, o, HS_L_BYTEARRAY_ALLOC);
		return NULL;
	case K_STDLIB:
		return walk_stdlib(w, idx, o, ti, size);
	}
	return NULL;
}

/* One object: size, value, and every edge, by kind. */
static struct hs_error *process(struct walker *w, uint64_t idx)
{
	struct obj *ob = &w->objs[idx];
	uint64_t o = ob->addr;
	struct tinfo *ti = hs_wk_type_get(w, ob->type);
	if (!ti)
		return NULL;
	ob->edge_first = w->nedges;
	uint64_t size = hs_wk_default_size(w, o, ti);
	struct hs_error *err = NULL;
	/* Every type is an object of the snapshot (static types have no other way in). */
	uint64_t tdummy;
	if (!ti->discovered)
		err = hs_wk_discover(w, ti->addr, &tdummy);
	ti->discovered = true;
	if (!ti->sizeof_checked) {
		ti->sizeof_checked = true;
		ti->own_sizeof = hs_wk_has_own_sizeof(w, ti->addr);
	}
	if (ti->own_sizeof) /* its __sizeof__, not the walker's size, is what getsizeof says */
		w->objs[idx].flags |= HS_OBJ_SIZE_APPROX;
	enum kind kind = ti->kind;
	if (!err && kind == K_SUBTYPE) {
		err = subtype_edges(w, idx, o, ti);
		kind = ti->base_kind;
	}
	if (!err)
		err = walk_kind(w, idx, o, ti, kind, &size);
	if (err)
		return err;
	ob = &w->objs[idx];
	ob->size = size + hs_wk_getsizeof_extra(w, o, ti);
	ob->memory_delta = (int32_t)hs_wk_memory_delta(w, o, ti, kind, ob->size);
	if (w->minor >= 12 && (int32_t)ob->refcnt < 0)
		ob->flags |= HS_OBJ_IMMORTAL;
	return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * What the kind files (kinds_stdlib.c) use of the walker (internal.h)
 */

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

void hs_wk_warn(struct walker *w, const char *fmt, ...)
{
	if (!w->warnings++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->first_warning, sizeof(w->first_warning), fmt, ap);
		va_end(ap);
	}
}

/* ---------------------------------------------------------------------------------------------
 * GC lists, roots, and the driver
 */

/* ---------------------------------------------------------------------------------------------
 * Writing
 */

/* The tp_traverse that type_new gives every class defined in Python: ModuleSpec's, a class of
 * the frozen importlib that every interpreter imports at startup (for a python with no
 * subtype_traverse in any symbol table). */
static uint64_t discover_subtype_traverse(struct walker *w)
{
	uint64_t interp = fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD);
	uint64_t mod = hs_wk_dict_get_str(w, fld(w, interp, HS_L_IS_MODULES), "_frozen_importlib");
	uint64_t spec = mod ? hs_wk_dict_get_str(w, fld(w, mod, HS_L_MOD_DICT), "ModuleSpec") : 0;
	if (!spec || u64(w, spec + 8) != w->sym[SYM_TYPE] ||
	    !(fld(w, spec, HS_L_TP_FLAGS) & HS_TPF_HEAPTYPE))
		return 0;
	return fld(w, spec, HS_L_TP_TRAVERSE);
}

/* The tp_traverse of struct sequences: sys.flags' type's. */
static uint64_t discover_structseq_traverse(struct walker *w)
{
	uint64_t interp = fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD);
	/* Not checked as an object: that would classify its type before the kind is known. */
	uint64_t flags = hs_wk_dict_get_str_raw(w, fld(w, interp, HS_L_IS_SYSDICT), "flags");
	return flags ? fld(w, u64(w, flags + 8), HS_L_TP_TRAVERSE) : 0;
}

/* lookdict, the dk_lookup of 3.8-3.10's general tables: os.environ._data's, whose keys are
 * bytes (0 when os was not imported; dkeys_read then learns it from the first table seen with a
 * key that is not a str). */
static uint64_t discover_lookdict(struct walker *w)
{
	uint64_t interp = fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD);
	uint64_t os = hs_wk_dict_get_str(w, fld(w, interp, HS_L_IS_MODULES), "os");
	uint64_t env = os ? hs_wk_dict_get_str(w, fld(w, os, HS_L_MOD_DICT), "environ") : 0;
	uint64_t rc, type = env ? u64(w, env + 8) : 0;
	int64_t off = type ? (int64_t)fld(w, type, HS_L_TP_DICTOFFSET) : 0;
	uint64_t dict = off > 0 && off < 4096 ? u64(w, env + (uint64_t)off) : 0;
	uint64_t data = dict ? hs_wk_dict_get_str(w, dict, "_data") : 0;
	struct tinfo *ti = data ? hs_wk_obj_check(w, data, &rc) : NULL;
	struct dkeys d;
	if (!ti || ti->kind != K_DICT || fld(w, data, HS_L_DICT_VALUES) ||
	    !hs_wk_dkeys_read(w, fld(w, data, HS_L_DICT_KEYS), &d) || !d.nentries)
		return 0;
	uint64_t k = hs_wk_entry_key(w, &d, 0);
	struct tinfo *kt = k ? hs_wk_obj_check(w, k, &rc) : NULL;
	return kt && kt->kind == K_BYTES ? fld(w, d.addr, HS_L_DK_LOOKUP) : 0;
}

static void walker_free(struct walker *w)
{
	free(w->objs);
	free(w->hash);
	free(w->edges);
	free(w->work);
	for (uint64_t i = 0; i < w->tcap; i++) {
		if (!w->types[i])
			continue;
		free(w->types[i]->name);
		free(w->types[i]->out_name);
		free(w->types[i]->out_module);
		free(w->types[i]->out_qual);
		free(w->types[i]->slots);
		free(w->types[i]->slot_names);
		free(w->types[i]);
	}
	free(w->types);
	for (uint32_t i = 0; i < w->nstrs; i++)
		free(w->strs[i]);
	free(w->strs);
	free(w->shash);
	free(w->vals);
	free(w->roots);
	free(w->weaks);
	hs_stdlib_free(w->std);
}

/* Everything a walk needs before its first object: the interpreter, its layouts, its symbols
 * (from the exported .dynsym, a .symtab where there is one, or found on the heap). */
static struct hs_error *walker_setup(struct walker *w, const char *exe,
                                     const struct hs_layout_opts *lo)
{
	struct hs_python *py = &w->py;
	struct hs_error *err = hs_python_find(w->m, exe, lo, py);
	if (!err)
		err = hs_layouts_choose(w->m, lo, py);
	if (err)
		return err;
	w->L = py->L;
	w->minor = py->minor;
	struct hs_elf_sym syms[SYM_COUNT];
	for (size_t i = 0; i < NKNOWN; i++)
		syms[i] = (struct hs_elf_sym){hs_wk_known_types[i].sym, 0};
	for (size_t i = NKNOWN; i < SYM_COUNT; i++)
		syms[i] = (struct hs_elf_sym){other_syms[i - NKNOWN], 0};
	err = hs_python_symbols(py, syms, SYM_COUNT);
	if (err)
		return err;
	for (size_t i = 0; i < SYM_COUNT; i++)
		w->sym[i] = syms[i].value;
	for (size_t i = 0; i < NKNOWN; i++)
		if (!w->sym[i] && w->sym[SYM_EXC_PTR] && hs_wk_known_types[i].kind == K_EXC)
			w->sym[i] = u64(w, w->sym[SYM_EXC_PTR]);
	if (!w->sym[SYM_RUNTIME] || !w->sym[SYM_TYPE])
		return hs_error_create(HS_ERROR_FORMAT, "%s: no _PyRuntime or PyType_Type symbol",
		                       py->path);
	if (!fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD))
		return hs_error_create(
		    HS_ERROR_MEMORY,
		    "%s: no interpreter state: _PyRuntime (0x%llx in %s) lists no "
		    "interpreter (Python not initialised or finalised, or memory "
		    "that does not match its files)",
		    w->m->what, (unsigned long long)w->sym[SYM_RUNTIME], py->path);
	for (size_t i = 0; i < NKNOWN; i++)
		w->known_traverse[i] = w->sym[i] ? fld(w, w->sym[i], HS_L_TP_TRAVERSE) : 0;
	w->set_dummy = w->sym[SYM_SET_DUMMY] ? u64(w, w->sym[SYM_SET_DUMMY]) : 0;
	w->none = w->sym[SYM_NONE];
	for (size_t i = 0; i < NKNOWN; i++)
		if (!strcmp(hs_wk_known_types[i].sym, "PyBool_Type"))
			w->bool_type = w->sym[i];
	uint64_t found = discover_subtype_traverse(w);
	if (w->sym[SYM_SUBTYPE_TRAVERSE] && found && found != w->sym[SYM_SUBTYPE_TRAVERSE])
		hs_wk_warn(w, "ModuleSpec's tp_traverse 0x%llx is not subtype_traverse 0x%llx",
		           (unsigned long long)found,
		           (unsigned long long)w->sym[SYM_SUBTYPE_TRAVERSE]);
	snprintf(w->symbols_from, sizeof(w->symbols_from), "%s",
	         w->sym[SYM_SUBTYPE_TRAVERSE]
	             ? "symbol tables"
	             : "exported symbols; subtype_traverse from "
	               "_frozen_importlib.ModuleSpec; stdlib kinds by name");
	if (!w->sym[SYM_SUBTYPE_TRAVERSE])
		w->sym[SYM_SUBTYPE_TRAVERSE] = found;
	if (!w->sym[SYM_SUBTYPE_TRAVERSE])
		return hs_error_create(
		    HS_ERROR_MEMORY,
		    "%s: cannot find subtype_traverse: %s has no symbol for it and "
		    "_frozen_importlib.ModuleSpec cannot be read",
		    w->m->what, py->path);
	if (w->minor <= 10 && !w->sym[SYM_LOOKDICT])
		w->sym[SYM_LOOKDICT] = discover_lookdict(w);
	err = hs_stdlib_load(w->m, py, lo, &w->std);
	if (!err) /* struct sequences have no one name: sys.flags is one of them */
		hs_stdlib_learn(w->std, HS_SK_STRUCTSEQ, discover_structseq_traverse(w),
		                w->sym[SYM_SUBTYPE_TRAVERSE]);
	return err;
}

/* The walk: the interpreter and its layouts, the runtime's roots, every object, and what
 * writing needs; all of it while a live target is stopped. */
static struct hs_error *walk(struct walker *w, const char *exe, const struct hs_layout_opts *lo)
{
	const struct hs_capture_options *opts = w->opts;
	struct hs_error *err = walker_setup(w, exe, lo);
	if (!err)
		err = hs_wk_walk_runtime(w);
	uint64_t done = 0;
	while (!err && w->nwork) {
		/* Process in discovery order: pop from the front would need a deque; a stack is
		 * as good since each object is processed exactly once. */
		uint64_t idx = w->work[--w->nwork];
		err = process(w, idx);
		if (++done % 16384 == 0 && !err)
			err = hs_memsrc_tick(w->m);
		if (done % 200000 == 0 && opts && opts->progress)
			opts->progress(opts->progress_ctx, "objects", done);
	}
	if (!err && !w->nobjs)
		err = hs_error_create(
		    HS_ERROR_MEMORY,
		    "%s: no objects: the interpreter's GC lists and roots are empty "
		    "or unreadable (%llu warnings; first: %s)",
		    w->m->what, (unsigned long long)w->warnings,
		    w->warnings ? w->first_warning : "none");
	if (!err)
		err = hs_wk_names_read(w);
	return err;
}

/* walk, then lets a live target run again; walks again, every thread stopped, when a thread
 * that was left running ran meanwhile (hs_memsrc_resume). */
static struct hs_error *walk_stopped(struct walker *w, const char *exe,
                                     const struct hs_layout_opts *lo)
{
	struct walker fresh = *w;
	for (;;) {
		struct hs_error *err = walk(w, exe, lo);
		bool again;
		struct hs_error *rerr = hs_memsrc_resume(w->m, &again);
		if (rerr) {
			hs_error_destroy(err);
			return rerr;
		}
		if (!again)
			return err;
		hs_error_destroy(err);
		walker_free(w);
		*w = fresh;
		if ((err = hs_memsrc_restop(w->m)) != NULL)
			return err;
	}
}

struct hs_error *hs_walk_and_write(struct hs_memsrc *m, enum hs_method method, const char *exe,
                                   const char *out_path, const struct hs_capture_options *opts,
                                   struct hs_capture_stats *stats)
{
	struct walker w = {0};
	w.m = m;
	w.opts = opts;
	struct hs_layout_opts lo = {opts ? opts->cache_dir : NULL, opts ? opts->debug_dir : NULL,
	                            opts && opts->layouts == HS_LAYOUTS_TABLE};
	struct hs_error *err = walk_stopped(&w, exe, &lo);
	if (!err)
		err = hs_wk_write_snapshot(&w, method, m->pid, out_path, stats);
	if (!err && stats) {
		stats->warnings = w.warnings;
		char read[96] = "";
		if (method == HS_METHOD_PID)
			snprintf(read, sizeof(read),
			         "; read %llu bytes of the target while stopped, %.3f s of CPU",
			         (unsigned long long)m->bytes_read, m->pause_cpu_seconds);
		if (snprintf(stats->source, sizeof(stats->source),
		             "python %s %s (version from %s); layouts: %s%s%s; symbols: %s%s",
		             w.py.path, w.version, w.py.version_from, w.py.layout_source,
		             w.py.debugoff_check[0] ? "; _Py_DebugOffsets: " : "",
		             w.py.debugoff_check, w.symbols_from, read) < 0)
			stats->source[0] = 0;
	}
	walker_free(&w);
	return err;
}
