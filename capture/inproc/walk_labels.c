/*
 * walk_labels.c — what a container says about the references it holds, for the emit pass
 * (walk.c): the label map of an object (its fixed fields from the kinds' table both captures
 * share, capture/cpython/kinds.h, read at walk_offsets.c's offsets by one loop, kind_fields; its
 * __slots__, instance dict values, dict keys, frame locals, list and tuple indexes) and the owned
 * edges, the references it holds that its tp_traverse does not visit.  hs_ip_take_label
 * (walk_internal.h) hands each traverse edge its label.
 */
#include "walk_internal.h"

#include <string.h>

static void own(struct walk *k, PyObject *ptr, enum hs_cp_label name)
{
	assert(hs_cp_label_text(name, PY_MINOR_VERSION)); /* interned for this version */
	hs_ip_push(k, &k->a.owned, &k->nowned, &k->a.owned_cap, ptr, HS_LABEL_STRING,
	           k->label_id[name], false);
}

static void label(struct walk *k, PyObject *ptr, uint8_t form, uint64_t value, bool owned)
{
	hs_ip_push(k, &k->a.labels, &k->nlabels, &k->a.labels_cap, ptr, form, value, owned);
}

static void label_fixed(struct walk *k, PyObject *ptr, enum hs_cp_label name)
{
	assert(hs_cp_label_text(name, PY_MINOR_VERSION));
	label(k, ptr, HS_LABEL_STRING, k->label_id[name], false);
}

#if PY_VERSION_HEX < 0x030B0000 || PY_VERSION_HEX >= 0x030C0000 /* local_ids, static_dicts */
/* The entry of v (n entries, sorted by key: presize sorts them) whose key is key, or NULL. */
static const struct hs_keyed *keyed_find(const struct hs_keyed *v, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].key == key ? &v[lo] : NULL;
}
#endif

#if PY_VERSION_HEX >= 0x030C0000
/* The dict of static type t, which the interpreter keeps for it (3.12+).  PyType_GetDict gives
 * it with a new reference: pass 1 takes it, gives the reference back and keeps the pointer in
 * static_dicts, where emit finds it, so that no refcount changes while emit reads them. */
static PyObject *static_dict(struct walk *k, PyTypeObject *t)
{
	uint64_t key = (uint64_t)(uintptr_t)t;
	if (!k->emitting) {
		PyObject *d = PyType_GetDict(t);
		Py_XDECREF(d); /* the interpreter holds it */
		if (d && !hs_ip_grow((void **)&k->static_dicts, &k->static_dicts_cap,
		                     k->nstatic_dicts + 1, sizeof(*k->static_dicts)))
			k->err = &hs_error_nomem;
		else if (d)
			k->static_dicts[k->nstatic_dicts++] = (struct hs_keyed){key, (uintptr_t)d};
		return d;
	}
	const struct hs_keyed *d = keyed_find(k->static_dicts, k->nstatic_dicts, key);
	return d ? (PyObject *)(uintptr_t)d->index : NULL;
}
#endif

/* The kind of o (of type ti) in the shared field table (capture/cpython/kinds.h), or -1. */
static int kind_of(PyObject *o, const struct type_info *ti)
{
	switch (ti->shape) {
	case SHAPE_TYPE:
		return (((PyTypeObject *)o)->tp_flags & HS_CP_TPF_HEAPTYPE) ? HS_CP_K_HEAP_TYPE
		                                                            : HS_CP_K_STATIC_TYPE;
	case SHAPE_CODE:
		return HS_CP_K_CODE;
	case SHAPE_MODULE:
		return HS_CP_K_MODULE;
	case SHAPE_FUNCTION:
		return HS_CP_K_FUNC;
	case SHAPE_CELL:
		return HS_CP_K_CELL;
	case SHAPE_SLICE:
		return HS_CP_K_SLICE;
	case SHAPE_WRAPPER:
		return Py_IS_TYPE(o, &PyClassMethod_Type) ? HS_CP_K_CM : HS_CP_K_SM;
	case SHAPE_METHOD:
		return HS_CP_K_METHOD;
	case SHAPE_IMETHOD:
		return HS_CP_K_IMETHOD;
	case SHAPE_CFUNCTION:
		return HS_CP_K_CFUNC;
	case SHAPE_WEAKREF:
		return HS_CP_K_WEAKREF;
	case SHAPE_EXCEPTION:
		return HS_CP_K_EXC;
	case SHAPE_DESCRIPTOR:
		return HS_CP_K_DESCR;
	case SHAPE_FRAME:
		return HS_CP_K_FRAME;
	}
	return -1;
}

/* The fixed fields of kind kd of the struct at o (kinds.h) whose edge is edge, at this
 * interpreter's offsets (walk_offsets.c): owned ones as owned references, traverse ones as the
 * labels of what tp_traverse visits (unlabelled ones have nothing to add). */
static void kind_fields(struct walk *k, const void *o, enum hs_cp_kind kd, uint8_t edge)
{
	const struct hs_cp_kind_fields *t = &hs_cp_kinds[kd];
	for (size_t i = 0; i < t->n; i++) {
		const struct hs_cp_field *f = &t->v[i];
		if (f->edge != edge || f->untracked || f->label == HS_CP_UNLABELLED ||
		    !hs_cp_field_in(f, PY_MINOR_VERSION))
			continue;
		assert(hs_ip_offsets[f->field] >= 0);
		PyObject *p = *(PyObject *const *)((const char *)o + hs_ip_offsets[f->field]);
		bool tuple = hs_cp_field_label_needs_type(f) && p && PyTuple_Check(p);
		if (edge == HS_EDGE_OWNED)
			own(k, p, hs_cp_field_label(f, tuple));
		else
			label_fixed(k, p, hs_cp_field_label(f, tuple));
	}
}

/* The strong references of a type that are no fixed field: a heap type's shared keys, a static
 * type's dict. */
static void owned_type(struct walk *k, PyTypeObject *t)
{
	if (t->tp_flags & HS_CP_TPF_HEAPTYPE) {
		PyHeapTypeObject *ht = (PyHeapTypeObject *)t;
		if (ht->ht_cached_keys) {
			Py_ssize_t n = hs_keys_nentries(ht->ht_cached_keys);
			for (Py_ssize_t i = 0; i < n; i++)
				own(k, hs_keys_key(ht->ht_cached_keys, i), HS_CP_SHARED_KEY);
		}
		return;
	}
#if PY_VERSION_HEX >= 0x030C0000
	own(k, static_dict(k, t), HS_CP_DICT);
#else
	own(k, t->tp_dict, HS_CP_DICT);
#endif
}

#if PY_VERSION_HEX >= 0x030D0000
/* The values of a 3.13 dict that shares its instance's inline values (embedded: capacity, size,
 * embedded, valid, then the values): the instance's traverse visits them, the dict's does not,
 * so the dict holds them as owned references, labelled by their keys. */
static void owned_embedded_values(struct walk *k, PyDictObject *mp)
{
	const uint8_t *values = (const uint8_t *)mp->ma_values;
	if (!values || !values[2])
		return;
	PyObject *const *v = (PyObject *const *)(values + 8);
	Py_ssize_t n = hs_keys_nentries(mp->ma_keys);
	for (Py_ssize_t i = 0; i < n && i < values[0]; i++) {
		if (v[i])
			hs_ip_push(k, &k->a.owned, &k->nowned, &k->a.owned_cap, v[i], HS_LABEL_KEY,
			           (uintptr_t)hs_keys_key(mp->ma_keys, i), false);
	}
}
#endif

/* Fills k->a.owned with the references o (of type ti) holds that its tp_traverse does not visit
 * (and that no label below offers as "owned if not traversed"). */
void hs_ip_owned_edges(struct walk *k, PyObject *o, const struct type_info *ti)
{
	k->nowned = 0;
	int kd = kind_of(o, ti);
	if (kd >= 0)
		kind_fields(k, o, (enum hs_cp_kind)kd, HS_EDGE_OWNED);
	if (ti->shape == SHAPE_TYPE) {
		owned_type(k, (PyTypeObject *)o);
#if PY_VERSION_HEX >= 0x030C0000
	} else if (ti->shape == SHAPE_CODE && ((PyCodeObject *)o)->_co_cached) {
		kind_fields(k, ((PyCodeObject *)o)->_co_cached, HS_CP_K_CODE_CACHE, HS_EDGE_OWNED);
#endif
#if PY_VERSION_HEX >= 0x030D0000
	} else if (ti->shape == SHAPE_DICT) {
		owned_embedded_values(k, (PyDictObject *)o);
#endif
	} else if (ti->shape == SHAPE_LRU_LINK) { /* no traverse: key and result are held */
		PyObject **field = (PyObject **)o;
		hs_ip_push(k, &k->a.owned, &k->nowned, &k->a.owned_cap, field[HS_LRU_LINK_KEY / 8],
		           HS_LABEL_NONE, 0, false);
		hs_ip_push(k, &k->a.owned, &k->nowned, &k->a.owned_cap,
		           field[HS_LRU_LINK_RESULT / 8], HS_LABEL_NONE, 0, false);
	}
	if (ti->heap)
		own(k, hs_instance_untraversed_dict(o), HS_CP_DICT);
}

/* Calls fn(arg, member, j) for each object member of the __slots__ of tp and of its heap-type
 * bases, j counting them: the order of a type_info's slot_ids. */
void hs_ip_for_each_slot(PyTypeObject *tp, void (*fn)(void *, const PyMemberDef *, size_t),
                         void *arg)
{
	size_t j = 0;
	for (PyTypeObject *b = tp; b && (b->tp_flags & HS_CP_TPF_HEAPTYPE); b = b->tp_base) {
		const PyMemberDef *mp = HS_HEAPTYPE_MEMBERS(b);
		for (Py_ssize_t i = 0; i < Py_SIZE(b); i++, mp++) {
			if (mp->type == Py_T_OBJECT_EX)
				fn(arg, mp, j++);
		}
	}
}

static void label_slot(void *arg, const PyMemberDef *mp, size_t j)
{
	struct slot_visit *v = arg;
	PyObject *value = *(PyObject **)((char *)v->o + mp->offset);
	if (value)
		label(v->k, value, HS_LABEL_STRING, v->ids[j], false);
}

/* Labels for an instance of a class statement's class: slots, its dict or the attribute
 * values kept outside one, its class. */
static void label_instance(struct walk *k, PyObject *o, const struct type_info *ti)
{
	PyTypeObject *tp = ti->tp;
	if (ti->slot_ids)
		hs_ip_for_each_slot(tp, label_slot, &(struct slot_visit){k, o, ti->slot_ids, NULL});
	label_fixed(k, hs_instance_dict(o), HS_CP_DICT);
	PyObject **values;
	Py_ssize_t n = hs_instance_values(o, &values);
	const void *keys = ((PyHeapTypeObject *)tp)->ht_cached_keys;
	for (Py_ssize_t i = 0; i < n; i++)
		label(k, values[i], HS_LABEL_ATTR, (uintptr_t)hs_keys_key(keys, i), false);
}

#if PY_VERSION_HEX < 0x030B0000
/* The name of slot i of frame f's f_localsplus (labels.h), or NULL in its value stack. */
static PyObject *fast_local_name(PyFrameObject *f, size_t i)
{
	PyCodeObject *co = f->f_code;
	PyObject *names[] = {co->co_varnames, co->co_cellvars, co->co_freevars};
	size_t j;
	enum hs_cp_local_names at = hs_cp_local_slot(i, (size_t)PyTuple_GET_SIZE(names[0]),
	                                             (size_t)PyTuple_GET_SIZE(names[1]),
	                                             (size_t)PyTuple_GET_SIZE(names[2]), &j);
	return at == HS_CP_VALUE_STACK ? NULL : PyTuple_GET_ITEM(names[at], j);
}

/* The number of fast locals and cells of frame f (its f_localsplus before the value stack). */
static size_t fast_locals(PyFrameObject *f)
{
	return (size_t)(f->f_valuestack - f->f_localsplus);
}

/* Pass 1: interns the labels of frame f's fast locals ("<local name>") into local_ids. */
void hs_ip_intern_fast_locals(struct walk *k, PyFrameObject *f)
{
	for (size_t i = 0; i < fast_locals(f) && !k->err; i++) {
		PyObject *name = fast_local_name(f, i);
		char text[HS_CP_PREVIEW_BYTES], label[HS_CP_LOCAL_LABEL_BYTES];
		uint32_t id;
		if (!name || !PyUnicode_Check(name))
			continue;
		size_t n = hs_cp_local_label(hs_ip_cstr_cut(name, text, PREVIEW_CHARS), label);
		if (!hs_ip_grow((void **)&k->local_ids, &k->local_ids_cap, k->nlocal_ids + 1,
		                sizeof(*k->local_ids)))
			k->err = &hs_error_nomem;
		else
			k->err = hs_writer_string(k->w, label, n, &id);
		if (!k->err)
			k->local_ids[k->nlocal_ids++] = (struct hs_keyed){(uintptr_t)name, id};
	}
}

/* Emit: labels frame f's fast locals with the labels intern_fast_locals made. */
static void label_fast_locals(struct walk *k, PyFrameObject *f)
{
	for (size_t i = 0; i < fast_locals(f); i++) {
		PyObject *name = fast_local_name(f, i);
		const struct hs_keyed *id =
		    name ? keyed_find(k->local_ids, k->nlocal_ids, (uintptr_t)name) : NULL;
		if (id)
			label(k, f->f_localsplus[i], HS_LABEL_STRING, id->index, false);
	}
}
#endif

/* The first-tier labels of o by its type's shape: what its container says of each referent (a
 * dict's: label_dict). */
static void label_shape(struct walk *k, PyObject *o, const struct type_info *ti)
{
	int kd = kind_of(o, ti);
	if (kd >= 0)
		kind_fields(k, o, (enum hs_cp_kind)kd, HS_EDGE_TRAVERSE);
	switch (ti->shape) {
	case SHAPE_SEQUENCE: {
		PyObject **items =
		    PyList_Check(o) ? ((PyListObject *)o)->ob_item : ((PyTupleObject *)o)->ob_item;
		for (Py_ssize_t i = 0; i < Py_SIZE(o); i++)
			label(k, items[i], HS_LABEL_INDEX, (uint64_t)i, false);
		break;
	}
#if PY_VERSION_HEX >= 0x03090000
	case SHAPE_CFUNCTION:
		if (PyCFunction_GET_FLAGS(o) & METH_METHOD)
			label_fixed(k, (PyObject *)((PyCMethodObject *)o)->mm_class,
			            HS_CP_CMETH_CLASS);
		break;
#endif
#if PY_VERSION_HEX < 0x030B0000
	case SHAPE_FRAME:
		label_fast_locals(k, (PyFrameObject *)o);
		break;
#endif
	}
}

/* The labels of dict o (of type ti): first tier, each value's (its key); second tier, its
 * class's if a heap type's, then, for a combined table (which owns its keys; a split one's
 * belong to the shared keys), each key's.  One pass over the entries, each label written at
 * its place. */
static void label_dict(struct walk *k, PyObject *o, const struct type_info *ti)
{
	bool keys = !((PyDictObject *)o)->ma_values;
	size_t n = (size_t)PyDict_GET_SIZE(o), heap = ti->heap, base = k->nlabels;
	if (!hs_ip_grow((void **)&k->a.labels, &k->a.labels_cap, base + 2 * n + heap,
	                sizeof(*k->a.labels))) {
		k->err = &hs_error_nomem;
		return;
	}
	struct label *v = k->a.labels + base, *kl = v + n + heap;
	Py_ssize_t pos = 0;
	PyObject *key, *value;
	size_t i = 0;
	for (; i < n && PyDict_Next(o, &pos, &key, &value); i++) {
		v[i] = (struct label){value, (uintptr_t)key, HS_LABEL_KEY, false, false, -1};
		kl[i] =
		    (struct label){key, k->label_id[HS_CP_KEY], HS_LABEL_STRING, true, false, -1};
	}
	if (heap)
		v[i] = (struct label){(PyObject *)Py_TYPE(o),
		                      k->label_id[HS_CP_CLASS],
		                      HS_LABEL_STRING,
		                      true,
		                      false,
		                      -1};
	if (keys && i < n) /* fewer entries than ma_used says: the keys' labels follow on */
		memmove(v + i + heap, kl, i * sizeof(*kl));
	k->nlabels = base + i + heap + (keys ? i : 0);
}

/* Chains the labels of each referent in insertion order behind a hash slot (a map of more than
 * LINEAR_LABELS labels). */
static void index_labels(struct walk *k)
{
	size_t cap = 16;
	while (cap < 2 * k->nlabels)
		cap *= 2;
	if (!hs_ip_grow((void **)&k->a.slots, &k->a.slots_cap, cap, sizeof(*k->a.slots))) {
		k->err = &hs_error_nomem;
		return;
	}
	k->slots_mask = cap - 1;
	memset(k->a.slots, 0, cap * sizeof(*k->a.slots));
	for (size_t i = 0; i < k->nlabels; i++) {
		PyObject *p = k->a.labels[i].ptr;
		size_t j = hash_ptr((uintptr_t)p) & k->slots_mask;
		while (k->a.slots[j].ptr && k->a.slots[j].ptr != p)
			j = (j + 1) & k->slots_mask;
		if (!k->a.slots[j].ptr)
			k->a.slots[j] = (struct label_slot){p, (int32_t)i, (int32_t)i};
		else
			k->a.labels[k->a.slots[j].tail].next = (int32_t)i,
			k->a.slots[j].tail = (int32_t)i;
	}
}

/* Fills the label map of o: first the labels of what tp_traverse visits, then (owned=true)
 * references that o holds whether or not its traverse visits them.  Lists and tuples need no
 * map (see emit_edges). */
void hs_ip_build_labels(struct walk *k, PyObject *o, const struct type_info *ti)
{
	PyTypeObject *tp = Py_TYPE(o);
	k->nlabels = 0;
	if (ti->subtype)
		label_instance(k, o, ti);
	label_shape(k, o, ti);
	/* Second tier: taken only by traverse edges no first-tier label matched. */
	if (ti->shape == SHAPE_DICT)
		label_dict(k, o, ti);
	else if (ti->heap)
		label(k, (PyObject *)tp, HS_LABEL_STRING, k->label_id[HS_CP_CLASS], true);
	if (k->nlabels <= LINEAR_LABELS || k->err)
		return;
	index_labels(k);
}
