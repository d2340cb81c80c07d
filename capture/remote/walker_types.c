/*
 * walker_types.c — the walker's type table: the static types it knows by name, every type met
 * on the heap read once and validated (its metatype chain must reach `type`), its kind (a
 * builtin's, a standard library C type's, a subtype's with its slots and base kind, or unknown),
 * whether it defines its own __sizeof__, and the names the snapshot gives it.
 */
#include "walker_internal.h"

/* The static types (and other symbols) the walker knows by name. */
const struct hs_wk_known hs_wk_known_types[NKNOWN] = {
    {"PyBaseObject_Type", K_OBJECT},
    {"PyType_Type", K_TYPE},
    {"PyList_Type", K_LIST},
    {"PyTuple_Type", K_TUPLE},
    {"PyDict_Type", K_DICT},
    {"PySet_Type", K_SET},
    {"PyFrozenSet_Type", K_SET},
    {"PyFunction_Type", K_FUNC},
    {"PyCell_Type", K_CELL},
    {"PyMethod_Type", K_METHOD},
    {"PyInstanceMethod_Type", K_IMETHOD},
    {"PyStaticMethod_Type", K_SM},
    {"PyClassMethod_Type", K_CM},
    {"PyProperty_Type", K_PROP},
    {"PyCFunction_Type", K_CFUNC},
    {"PyCMethod_Type", K_CFUNC},
    {"PyMethodDescr_Type", K_DESCR},
    {"PyClassMethodDescr_Type", K_DESCR},
    {"PyMemberDescr_Type", K_DESCR},
    {"PyGetSetDescr_Type", K_DESCR},
    {"PyWrapperDescr_Type", K_DESCR},
    {"PyModule_Type", K_MODULE},
    {"PyCode_Type", K_CODE},
    {"PyFrame_Type", K_FRAME},
    {"PyGen_Type", K_GEN},
    {"PyCoro_Type", K_GEN},
    {"PyAsyncGen_Type", K_ASYNCGEN},
    {"_PyWeakref_RefType", K_WEAKREF},
    {"_PyWeakref_ProxyType", K_WEAKREF},
    {"_PyWeakref_CallableProxyType", K_WEAKREF},
    {"_PyExc_BaseException", K_EXC},
    {"PyTraceBack_Type", K_TB},
    {"PySlice_Type", K_SLICE},
    {"PyUnicode_Type", K_STR},
    {"PyLong_Type", K_INT},
    {"PyBool_Type", K_INT},
    {"PyFloat_Type", K_FLOAT},
    {"PyBytes_Type", K_BYTES},
    {"PyByteArray_Type", K_BYTEARRAY},
    {"_PyNone_Type", K_NONE},
    {"_PyNotImplemented_Type", K_LEAF},
    {"PyEllipsis_Type", K_LEAF},
};

/* The kind of a static type from its address, or K_OTHER. */
static enum kind known_kind(struct walker *w, uint64_t t, size_t *idx)
{
	for (size_t i = 0; i < NKNOWN; i++)
		if (w->sym[i] && w->sym[i] == t) {
			if (idx)
				*idx = i;
			return hs_wk_known_types[i].kind;
		}
	return K_OTHER;
}

static char *read_cstr(struct walker *w, uint64_t addr, size_t max)
{
	char *buf = malloc(max + 1);
	if (!buf)
		return NULL;
	size_t n = 0;
	while (n < max) {
		char c;
		if (!rd(w, addr + n, &c, 1) || !c)
			break;
		buf[n++] = c;
	}
	buf[n] = 0;
	return buf;
}

/* The kind of a non-subtype type: a known static type, a standard library C type (*std set), or
 * a type whose tp_traverse is that of the first known type up its tp_base chain (so ValueError
 * is BaseException's kind, but OSError, with its own traverse, is unknown). */
static enum kind classify(struct walker *w, uint64_t t, int *std)
{
	enum kind k = known_kind(w, t, NULL);
	if (k != K_OTHER)
		return k;
	uint64_t trav = fld(w, t, HS_L_TP_TRAVERSE);
	char *name = read_cstr(w, fld(w, t, HS_L_TP_NAME), 64);
	*std = hs_stdlib_kind(w, w->std, t, trav, name);
	free(name);
	if (*std)
		return K_STDLIB;
	uint64_t b = fld(w, t, HS_L_TP_BASE);
	for (int depth = 0; b && depth < 64; depth++) {
		size_t idx;
		k = known_kind(w, b, &idx);
		if (k != K_OTHER) {
			if (k == K_OBJECT) /* a C type: a leaf only if it adds no fields */
				return !trav && fld(w, t, HS_L_TP_BASICSIZE) == 16 ? K_LEAF
				                                                   : K_OTHER;
			return trav == w->known_traverse[idx] ? k : K_OTHER;
		}
		b = fld(w, b, HS_L_TP_BASE);
	}
	return K_OTHER;
}

/* Reads the type at t into ti; false when t does not look like a type. */
static bool type_read(struct walker *w, uint64_t t, struct tinfo *ti)
{
	/* Its metatype chain must reach `type`, each metatype flagged as a type subclass. */
	uint64_t mt = t;
	bool ok = false;
	for (int i = 0; i < 8 && !ok; i++) {
		uint64_t next = u64(w, mt + 8);
		if (!next || (next & 7))
			return false;
		if (!(fld(w, next, HS_L_TP_FLAGS) & HS_CP_TPF_TYPE_SUBCLASS))
			return false;
		ok = next == w->sym[1]; /* PyType_Type */
		mt = next;
	}
	if (!ok)
		return false;
	ti->addr = t;
	ti->flags = fld(w, t, HS_L_TP_FLAGS);
	ti->basicsize = fld(w, t, HS_L_TP_BASICSIZE);
	ti->itemsize = fld(w, t, HS_L_TP_ITEMSIZE);
	ti->traverse = fld(w, t, HS_L_TP_TRAVERSE);
	ti->is_gc = fld(w, t, HS_L_TP_IS_GC);
	ti->base = fld(w, t, HS_L_TP_BASE);
	ti->dictoffset = i64f(w, t, HS_L_TP_DICTOFFSET);
	ti->finalize = fld(w, t, HS_L_TP_FINALIZE);
	ti->del = fld(w, t, HS_L_TP_DEL);
	if (ti->basicsize < 16 || ti->basicsize > (1u << 24) || ti->itemsize > (1u << 16))
		return false;
	ti->name = read_cstr(w, fld(w, t, HS_L_TP_NAME), 200);
	if (!ti->name || !ti->name[0]) /* every type has a name; a forged one may not */
		return false;
	if (ti->traverse && ti->traverse == w->sym[SYM_SUBTYPE_TRAVERSE]) {
		ti->kind = K_SUBTYPE;
		uint64_t b = t;
		for (int depth = 0; b && depth < 64; depth++) {
			if (fld(w, b, HS_L_TP_TRAVERSE) != w->sym[SYM_SUBTYPE_TRAVERSE])
				break;
			int64_t n = ob_size(w, b);
			uint64_t meta = u64(w, b + 8);
			uint64_t mp = b + fld(w, meta, HS_L_TP_BASICSIZE);
			for (int64_t i = 0; i < n && i < 4096; i++) {
				uint64_t me = mp + (uint64_t)(i * w->L.v[HS_L_MEMBER_SIZE]);
				uint32_t ty = 0;
				rd(w, me + (uint64_t)w->L.v[HS_L_MEMBER_TYPE], &ty, 4);
				if (ty != HS_T_OBJECT_EX)
					continue;
				uint64_t cap = ti->nslots;
				if (!hs_wk_grow((void **)&ti->slots, &cap, ti->nslots + 1, 8))
					return false;
				cap = ti->nslots;
				if (!hs_wk_grow((void **)&ti->slot_names, &cap, ti->nslots + 1, 4))
					return false;
				char *nm =
				    read_cstr(w, fld(w, me, HS_L_MEMBER_NAME), HS_CP_SLOT_NAME_MAX);
				char label[HS_CP_SLOT_NAME_MAX + 2];
				hs_cp_slot_label(nm ? nm : "?", label);
				free(nm);
				ti->slot_names[ti->nslots] = hs_wk_intern_c(w, label);
				ti->slots[ti->nslots++] = fld(w, me, HS_L_MEMBER_OFFSET);
			}
			b = fld(w, b, HS_L_TP_BASE);
		}
		ti->base_kind = b ? classify(w, b, &ti->std) : K_OBJECT;
		ti->base_dictoffset = b ? i64f(w, b, HS_L_TP_DICTOFFSET) : 0;
		ti->base_heap = b && (fld(w, b, HS_L_TP_FLAGS) & HS_CP_TPF_HEAPTYPE);
		ti->base_has_traverse = b && fld(w, b, HS_L_TP_TRAVERSE);
	} else {
		ti->kind = classify(w, t, &ti->std);
	}
	return true;
}

/* The validated type at t, or NULL.  Entries never move once made (the table holds pointers),
 * so callers may keep the result across later lookups. */
struct tinfo *hs_wk_type_get(struct walker *w, uint64_t t)
{
	if (!t || (t & 7))
		return NULL;
	if ((w->ntypes + 1) * 2 > w->tcap) {
		uint64_t nc = w->tcap ? w->tcap * 2 : 1024;
		struct tinfo **nt = hs_zalloc(nc, sizeof(*nt));
		if (!nt)
			return NULL;
		for (uint64_t i = 0; i < w->tcap; i++) {
			if (!w->types[i])
				continue;
			uint64_t j = hash64(w->types[i]->addr) & (nc - 1);
			while (nt[j])
				j = (j + 1) & (nc - 1);
			nt[j] = w->types[i];
		}
		free(w->types);
		w->types = nt;
		w->tcap = nc;
	}
	uint64_t j = hash64(t) & (w->tcap - 1);
	while (w->types[j]) {
		if (w->types[j]->addr == t)
			return w->types[j]->valid ? w->types[j] : NULL;
		j = (j + 1) & (w->tcap - 1);
	}
	struct tinfo *ti = calloc(1, sizeof(*ti));
	if (!ti)
		return NULL;
	ti->valid = type_read(w, t, ti);
	ti->addr = t;
	/* type_read never touches the type table: j is still the free slot. */
	w->types[j] = ti;
	w->ntypes++;
	return ti->valid ? ti : NULL;
}

/* Whether the known type of kind k is in the MRO of type t (a C type whose tp_base chain does
 * not show it, as numpy.float64's does not show float). */
bool hs_wk_in_mro(struct walker *w, uint64_t t, enum kind k)
{
	uint64_t mro = fld(w, t, HS_L_TP_MRO);
	int64_t n = mro ? ob_size(w, mro) : 0;
	for (int64_t i = 0; i < n && i < 64; i++)
		if (known_kind(w, u64(w, mro + (uint64_t)w->L.v[HS_L_TUPLE_ITEM] + 8 * (uint64_t)i),
		               NULL) == k)
			return true;
	return false;
}

/* Whether a type between t and the first type the walker knows (a builtin's or a stdlib kind's)
 * defines __sizeof__ (ctypes' StgDict, a Python class like pandas' DataFrame): then
 * sys.getsizeof runs code that only the target can run, and the walker's size is a lower bound
 * (HS_OBJ_SIZE_APPROX). */
bool hs_wk_has_own_sizeof(struct walker *w, uint64_t t)
{
	for (int depth = 0; t && depth < 64; depth++) {
		struct tinfo *ti = known_kind(w, t, NULL) == K_OTHER ? hs_wk_type_get(w, t) : NULL;
		if (!ti || ti->kind == K_STDLIB)
			return false;
		if (hs_wk_dict_get_str_raw(w, fld(w, t, HS_L_TP_DICT), "__sizeof__"))
			return true;
		t = fld(w, t, HS_L_TP_BASE);
	}
	return false;
}

/* type.__name__ and type.__module__ as Python gives them: for a heap type, its ht_name and the
 * __module__ str of its dict (else ""); for a static type, tp_name split at its last dot (no
 * dot: builtins). */
static void type_names(struct walker *w, const struct tinfo *ti, char *name, char *module,
                       size_t size)
{
	char *dot = strrchr(ti->name, '.');
	if (!(ti->flags & HS_CP_TPF_HEAPTYPE)) {
		snprintf(name, size, "%s", dot ? dot + 1 : ti->name);
		snprintf(module, size, "%.*s", dot ? (int)(dot - ti->name) : 8,
		         dot ? ti->name : "builtins");
		return;
	}
	if (!hs_wk_str_at(w, fld(w, ti->addr, HS_L_HT_NAME), name, size))
		snprintf(name, size, "%s", ti->name);
	if (!hs_wk_str_at(w, hs_wk_dict_get_str(w, fld(w, ti->addr, HS_L_TP_DICT), "__module__"),
	                  module, size))
		module[0] = 0;
}

/* What writing needs of the target's memory, read while it is still stopped: every valid type's
 * name, module and (heap types) __qualname__, and the runtime's version.  Reading a name may
 * meet a new type (a str subclass): passes go on until every valid type has its names. */
struct hs_error *hs_wk_names_read(struct walker *w)
{
	hs_wk_runtime_version(w, w->version, sizeof(w->version));
	for (bool more = true; more;) {
		more = false;
		struct tinfo **list = malloc((w->ntypes ? w->ntypes : 1) * sizeof(*list));
		if (!list)
			return &hs_error_nomem;
		uint64_t n = 0;
		for (uint64_t i = 0; i < w->tcap; i++)
			if (w->types[i] && w->types[i]->valid && !w->types[i]->out_name)
				list[n++] = w->types[i];
		for (uint64_t i = 0; i < n; i++) {
			struct tinfo *ti = list[i];
			char name[4 * HS_PREVIEW_CHARS + 16], module[4 * HS_PREVIEW_CHARS + 16];
			char qual[4 * HS_PREVIEW_CHARS + 16];
			type_names(w, ti, name, module, sizeof(name));
			ti->out_name = strdup(name);
			ti->out_module = strdup(module);
			if ((ti->flags & HS_CP_TPF_HEAPTYPE) &&
			    hs_wk_str_at(w, fld(w, ti->addr, HS_L_HT_QUALNAME), qual, sizeof(qual)))
				ti->out_qual = strdup(qual);
			if (!ti->out_name || !ti->out_module) {
				free(list);
				return &hs_error_nomem;
			}
		}
		free(list);
		more = n > 0;
	}
	return NULL;
}
