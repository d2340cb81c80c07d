/*
 * walk_types.c — what the in-process walker knows of types: what it learns of the interpreter
 * once (hs_inproc_init: subtype_traverse, the core types' tp_traverse, the builtins' __sizeof__),
 * and each type's entry in the walk's table, decided once per type: its shape (which labels and
 * owned edges it has), how its size is taken, whether its tp_traverse may run on emit's second
 * thread.
 */
#include "walk_internal.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static traverseproc subtype_traverse; /* the tp_traverse of classes made by a class statement */
/* The tp_traverse functions of the interpreter's core types, which read the object and call the
 * visitor, nothing else (3.12's structseq_traverse, for one, looks in its type's dict, which
 * needs the thread's interpreter): only those run on the second thread of emit (see
 * traverse_alone). */
static traverseproc pure_traverse[24];
static size_t npure_traverse;
static PyObject *str_sizeof, *object_sizeof;
PyObject *hs_ip_str_module;  /* "__module__", interned */
PyObject *hs_ip_timeout_exc; /* heapsnap.SizeofTimeout: interrupts a __sizeof__ (call_timer) */
/* The C functions behind __sizeof__ of str, int, list, set and bytearray (SIZE_STR...). */
static PyCFunction builtin_sizeof[SIZE_BYTEARRAY - SIZE_STR + 1];

int hs_inproc_init(PyObject *cls, PyObject *timeout)
{
	hs_ip_timeout_exc = timeout;
	hs_ip_offsets_init();
	subtype_traverse = ((PyTypeObject *)cls)->tp_traverse;
	/* Not module_traverse (it calls an extension's m_traverse), nor a capsule's. */
	PyTypeObject *core[] = {
	    &PyList_Type,        &PyTuple_Type,        &PyDict_Type,        &PySet_Type,
	    &PyFrozenSet_Type,   &PyFunction_Type,     &PyCell_Type,        &PyMethod_Type,
	    &PyType_Type,        &PyCFunction_Type,    &PyProperty_Type,    &PyFrame_Type,
	    &PyGen_Type,         &PyCoro_Type,         &_PyWeakref_RefType, &PyMethodDescr_Type,
	    &PyDictProxy_Type,   &PyStaticMethod_Type, &PyClassMethod_Type, &PyMemberDescr_Type,
	    &PyGetSetDescr_Type, &PyWrapperDescr_Type};
	for (size_t i = 0; i < sizeof(core) / sizeof(*core); i++) {
		if (core[i]->tp_traverse &&
		    npure_traverse < sizeof(pure_traverse) / sizeof(*pure_traverse))
			pure_traverse[npure_traverse++] = core[i]->tp_traverse;
	}
	str_sizeof = PyUnicode_InternFromString("__sizeof__");
	hs_ip_str_module = PyUnicode_InternFromString("__module__");
	if (!str_sizeof || !hs_ip_str_module)
		return -1;
	object_sizeof = _PyType_Lookup(&PyBaseObject_Type, str_sizeof);
	PyTypeObject *builtin[] = {&PyUnicode_Type, &PyLong_Type, &PyList_Type, &PySet_Type,
	                           &PyByteArray_Type};
	for (size_t i = 0; i < sizeof(builtin) / sizeof(*builtin); i++) {
		PyObject *m = _PyType_Lookup(builtin[i], str_sizeof);
		if (!m || !Py_IS_TYPE(m, &PyMethodDescr_Type)) {
			PyErr_Format(PyExc_RuntimeError, "%s.__sizeof__ is not a C method",
			             builtin[i]->tp_name);
			return -1;
		}
		builtin_sizeof[i] = ((PyMethodDescrObject *)m)->d_method->ml_meth;
	}
	if (!object_sizeof)
		PyErr_SetString(PyExc_RuntimeError, "object.__sizeof__ not found");
	return object_sizeof ? 0 : -1;
}

/* What the walker needs to know of an object's type, decided once per type (the checks below
 * walk the MRO).  Labels and owned edges dispatch on it. */
static uint8_t shape_of(PyTypeObject *tp)
{
	if (PyType_IsSubtype(tp, &PyDict_Type))
		return SHAPE_DICT;
	if (PyType_IsSubtype(tp, &PyList_Type) || PyType_IsSubtype(tp, &PyTuple_Type))
		return SHAPE_SEQUENCE;
	if (PyType_IsSubtype(tp, &PyType_Type))
		return SHAPE_TYPE;
	if (tp == &PyCode_Type)
		return SHAPE_CODE;
	if (PyType_IsSubtype(tp, &PyModule_Type))
		return SHAPE_MODULE;
	if (tp == &PyFunction_Type)
		return SHAPE_FUNCTION;
	if (tp == &PyCell_Type)
		return SHAPE_CELL;
	if (tp == &PySlice_Type)
		return SHAPE_SLICE;
	if (tp == &PyClassMethod_Type || tp == &PyStaticMethod_Type)
		return SHAPE_WRAPPER;
	if (tp == &PyMethod_Type)
		return SHAPE_METHOD;
	if (tp == &PyInstanceMethod_Type)
		return SHAPE_IMETHOD;
	if (PyType_IsSubtype(tp, &PyCFunction_Type))
		return SHAPE_CFUNCTION;
	if (PyType_IsSubtype(tp, &_PyWeakref_RefType) ||
	    PyType_IsSubtype(tp, &_PyWeakref_ProxyType) ||
	    PyType_IsSubtype(tp, &_PyWeakref_CallableProxyType))
		return SHAPE_WEAKREF;
	if (PyType_IsSubtype(tp, (PyTypeObject *)PyExc_BaseException))
		return SHAPE_EXCEPTION;
	if (PyType_IsSubtype(tp, &PyMethodDescr_Type) ||
	    PyType_IsSubtype(tp, &PyClassMethodDescr_Type) ||
	    PyType_IsSubtype(tp, &PyGetSetDescr_Type) ||
	    PyType_IsSubtype(tp, &PyMemberDescr_Type) || PyType_IsSubtype(tp, &PyWrapperDescr_Type))
		return SHAPE_DESCRIPTOR;
	if (tp == &PyFrame_Type)
		return SHAPE_FRAME;
	if (!strcmp(tp->tp_name, "functools._lru_list_elem") && !tp->tp_traverse)
		return SHAPE_LRU_LINK;
	return SHAPE_OTHER;
}

/* tp's __sizeof__ as sys.getsizeof will find it, without readying tp: a C type whose instances
 * exist before anything called PyType_Ready on it (3.9's _functools._lru_list_elem) would be
 * readied by _PyType_Lookup, which adds a weak reference to it to its base's tp_subclasses in
 * the middle of the walk.  Such a type's own methods are still only in tp_methods (returned in
 * *def); a NULL tp_base is object, as PyType_Ready will make it. */
static PyObject *lookup_sizeof(PyTypeObject *tp, PyMethodDef **def)
{
	*def = NULL;
	for (; tp && !(tp->tp_flags & HS_CP_TPF_READY); tp = tp->tp_base) {
		for (PyMethodDef *m = tp->tp_methods; m && m->ml_name; m++) {
			if (strcmp(m->ml_name, "__sizeof__") == 0) {
				*def = m;
				return NULL;
			}
		}
	}
	return tp ? _PyType_Lookup(tp, str_sizeof) : object_sizeof;
}

/* Whether tp's tp_traverse may run on emit's second thread: one of pure_traverse's, or, for a
 * class statement's class, subtype_traverse with the first base traverse it calls one of them;
 * and its tp_is_gc, if any, type's. */
static bool traverse_alone(PyTypeObject *tp)
{
	if (tp->tp_is_gc && tp->tp_is_gc != PyType_Type.tp_is_gc)
		return false;
	while (tp && tp->tp_traverse == subtype_traverse)
		tp = tp->tp_base;
	if (!tp || !tp->tp_traverse)
		return true;
	for (size_t i = 0; i < npure_traverse; i++) {
		if (tp->tp_traverse == pure_traverse[i])
			return true;
	}
	return false;
}

/* Whether C function fn is part of the interpreter's own binary (libpython or the executable
 * that has it built in), whose __sizeof__ methods only compute and return an int; an
 * extension's may do anything (Cython's run Python code). */
static bool in_interpreter(PyCFunction fn)
{
	static void *base;
	Dl_info info;
	if (!base && dladdr((void *)&PyDict_Type, &info))
		base = info.dli_fbase;
	return base && dladdr((void *)(uintptr_t)fn, &info) && info.dli_fbase == base;
}

struct type_info *hs_ip_type_info_lookup(struct walk *k, PyTypeObject *tp)
{
	if ((k->ntypes + 1) * 2 > k->types_mask + 1) {
		size_t cap = 2 * (k->types_mask + 1);
		struct type_info *v = calloc(cap, sizeof(*v));
		if (!v)
			return NULL;
		for (size_t i = 0; k->types && i <= k->types_mask; i++) {
			if (!k->types[i].tp)
				continue;
			size_t j = hash_ptr((uintptr_t)k->types[i].tp) & (cap - 1);
			while (v[j].tp)
				j = (j + 1) & (cap - 1);
			v[j] = k->types[i];
		}
		free(k->types);
		k->types = v;
		k->types_mask = cap - 1;
		memset(k->type_cache, 0, sizeof(k->type_cache));
	}
	size_t j = hash_ptr((uintptr_t)tp) & k->types_mask;
	while (k->types[j].tp && k->types[j].tp != tp)
		j = (j + 1) & k->types_mask;
	struct type_info *ti = &k->types[j];
	if (ti->tp)
		return ti;
	ti->tp = tp;
	k->ntypes++;
	PyMethodDef *def;
	PyObject *m = lookup_sizeof(tp, &def);
	if (m && Py_IS_TYPE(m, &PyMethodDescr_Type))
		def = ((PyMethodDescrObject *)m)->d_method;
	if (m == object_sizeof) {
		ti->size_kind = SIZE_DEFAULT;
	} else if (def && (def->ml_flags & METH_NOARGS) && in_interpreter(def->ml_meth)) {
		ti->size_kind = SIZE_CFUNC;
		ti->sizeof_fn = def->ml_meth;
		for (unsigned i = 0; i < sizeof(builtin_sizeof) / sizeof(*builtin_sizeof); i++) {
			if (def->ml_meth == builtin_sizeof[i])
				ti->size_kind = (uint8_t)(SIZE_STR + i);
		}
	} else {
		ti->size_kind = SIZE_USER;
		ti->sizeof_c = def && (def->ml_flags & METH_NOARGS);
	}
	ti->shape = shape_of(tp);
	ti->heap = (tp->tp_flags & HS_CP_TPF_HEAPTYPE) != 0;
	ti->subtype = ti->heap && tp->tp_traverse == subtype_traverse;
	ti->plain = !ti->heap && ti->shape == SHAPE_OTHER;
	ti->gc = PyType_IS_GC(tp) && tp->tp_traverse;
	ti->traverse_alone = traverse_alone(tp);
	ti->valued = tp == Py_TYPE(Py_None) || PyType_IsSubtype(tp, &PyUnicode_Type) ||
	             PyType_IsSubtype(tp, &PyLong_Type) || PyType_IsSubtype(tp, &PyFloat_Type) ||
	             PyType_IsSubtype(tp, &PyBytes_Type);
	ti->anyset = PyType_IsSubtype(tp, &PySet_Type) || PyType_IsSubtype(tp, &PyFrozenSet_Type);
	ti->bytearray = PyType_IsSubtype(tp, &PyByteArray_Type);
	return ti;
}
