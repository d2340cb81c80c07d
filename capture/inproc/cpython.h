/*
 * cpython.h — the few CPython internals the in-process walker reads that no public header
 * declares, one definition per minor version (3.8-3.13), compiled against the interpreter the
 * extension is built for.  Every layout here is a verified entry of
 * capture/CPYTHON.md (§1.2, §1.3, §2.3, §4.2, §9); the walker's tests check them by
 * comparing every object against sys.getsizeof and gc.get_referents.
 *
 * Only the in-process walker (walk_internal.h, so walk*.c) includes this file.
 */
#ifndef HS_INPROC_CPYTHON_H
#define HS_INPROC_CPYTHON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "../cpython/flags.h"
#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h>
#endif
#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h> /* T_OBJECT_EX */
#endif

#if PY_VERSION_HEX < 0x03080000 || PY_VERSION_HEX >= 0x030E0000
#error "heapsnap supports CPython 3.8 to 3.13"
#endif
#ifdef Py_GIL_DISABLED
#error "heapsnap does not support free-threaded builds"
#endif

#ifndef Py_IS_TYPE /* 3.8 */
#define Py_IS_TYPE(o, t) (Py_TYPE(o) == (t))
#endif

/* The type flags the walker tests are capture/cpython/flags.h's: the headers it is built with
 * must agree, flag by flag, on the versions flags.c says have it. */
#define HS_SAME_FLAG(f) _Static_assert(HS_CP_TPF_##f == Py_TPFLAGS_##f, "flags.h: Py_TPFLAGS_" #f)
HS_SAME_FLAG(HEAPTYPE);
HS_SAME_FLAG(READY);
HS_SAME_FLAG(HAVE_GC);
HS_SAME_FLAG(LIST_SUBCLASS);
HS_SAME_FLAG(DICT_SUBCLASS);
HS_SAME_FLAG(TYPE_SUBCLASS);
#if PY_VERSION_HEX >= 0x030B0000
HS_SAME_FLAG(MANAGED_DICT);
#endif
#if PY_VERSION_HEX >= 0x030C0000
HS_SAME_FLAG(MANAGED_WEAKREF);
#endif
#if PY_VERSION_HEX >= 0x030D0000
HS_SAME_FLAG(INLINE_VALUES);
#endif
#undef HS_SAME_FLAG

/* The __slots__ members of a heap type, right after its type object (PyHeapType_GET_MEMBERS,
 * which 3.12 stopped declaring). */
#define HS_HEAPTYPE_MEMBERS(t) ((PyMemberDef *)((char *)(t) + Py_TYPE(t)->tp_basicsize))

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif

#if PY_VERSION_HEX >= 0x030D0000
/* Exported by libpython 3.13 but declared only in an internal header. */
PyAPI_FUNC(size_t) _PySys_GetSizeOf(PyObject *);
#endif

/* PyGC_Head, identical in 3.8-3.13: the two words right before every GC object. */
struct hs_gc_head {
	uintptr_t next; /* next PyGC_Head of the generation list; 0 = not tracked */
	uintptr_t prev; /* previous one, bit 0 = tp_finalize has run */
};

/* struct _gc_runtime_state, counted from generations[0] (the gen-0 list head): three
 * struct gc_generation of 24 bytes, the generation0 pointer, the permanent generation, the
 * generation_stats of each generation (24 bytes, the number of its collections first), and the
 * `collecting` flag.  The same in 3.8-3.13 (3.13.0 still has three generations). */
#define HS_GC_GENERATION_STRIDE 24
#define HS_GC_GENERATION0_PTR 72
#define HS_GC_PERMANENT 80
#define HS_GC_COLLECTIONS 104 /* generation_stats[0].collections, then one each stride */
#define HS_GC_COLLECTING 176

/* PyModuleObject (moduleobject.c): md_name holds a strong reference. */
struct hs_module {
	PyObject_HEAD PyObject *md_dict;
	void *md_def;
	void *md_state;
	PyObject *md_weaklist;
	PyObject *md_name;
};

/* staticmethod and classmethod (funcobject.c: their sm_/cm_ callable and dict), the same in
 * 3.8-3.13. */
struct hs_wrapper {
	PyObject_HEAD PyObject *callable;
	PyObject *dict;
};

/* PyDictKeysObject: where entry i's key is (shared keys of a heap type, ht_cached_keys). */
static inline Py_ssize_t hs_keys_nentries(const void *keys)
{
#if PY_VERSION_HEX < 0x030B0000
	return *(const Py_ssize_t *)((const char *)keys + 32);
#else
	return *(const Py_ssize_t *)((const char *)keys + 24);
#endif
}

static inline PyObject *hs_keys_key(const void *keys, Py_ssize_t i)
{
	const char *k = keys;
#if PY_VERSION_HEX < 0x030B0000
	Py_ssize_t size = *(const Py_ssize_t *)(k + 8);
	size_t ix = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffLL ? 4 : 8;
	const char *entries = k + 40 + (size_t)size * ix;
	return *(PyObject *const *)(entries + 24 * i + 8); /* {hash, key, value} */
#else
	uint8_t log2_index_bytes = *(const uint8_t *)(k + 9);
	uint8_t kind = *(const uint8_t *)(k + 10); /* 0 general, 1 unicode, 2 split */
	const char *entries = k + 32 + ((size_t)1 << log2_index_bytes);
	if (kind == 0)
		return *(PyObject *const *)(entries + 24 * i + 8);
	return *(PyObject *const *)(entries + 16 * i); /* {key, value} */
#endif
}

/* The attribute values of an instance of a MANAGED_DICT class that are stored outside a dict
 * (3.11+): sets *ret to the array and returns how many slots it has, or 0 if the instance keeps
 * its attributes in a dict. */
static inline Py_ssize_t hs_instance_values(PyObject *o, PyObject ***ret)
{
#if PY_VERSION_HEX >= 0x030B0000
	PyTypeObject *tp = Py_TYPE(o);
	PyHeapTypeObject *ht = (PyHeapTypeObject *)tp;
	if (!(tp->tp_flags & HS_CP_TPF_MANAGED_DICT) || !(tp->tp_flags & HS_CP_TPF_HEAPTYPE) ||
	    !ht->ht_cached_keys)
		return 0;
	Py_ssize_t n = hs_keys_nentries(ht->ht_cached_keys);
#if PY_VERSION_HEX < 0x030C0000
	PyObject **values = ((PyObject ***)o)[-4];
#elif PY_VERSION_HEX < 0x030D0000
	uintptr_t dorv = ((uintptr_t *)o)[-3];
	PyObject **values = (dorv & 1) ? (PyObject **)(dorv + 1) : NULL;
#else
	PyObject **values = NULL;
	if (tp->tp_flags & HS_CP_TPF_INLINE_VALUES) {
		const uint8_t *v = (const uint8_t *)o + tp->tp_basicsize;
		if (v[3]) { /* valid */
			values = (PyObject **)(v + 8);
			if (n > v[0])
				n = v[0]; /* capacity */
		}
	}
#endif
	if (!values)
		return 0;
	*ret = values;
	return n;
#else
	(void)o;
	(void)ret;
	return 0;
#endif
}

/* The dict of an instance, or NULL; never materialises one (unlike _PyObject_GetDictPtr on
 * 3.11+). */
static inline PyObject *hs_instance_dict(PyObject *o)
{
#if PY_VERSION_HEX >= 0x030B0000
	if (Py_TYPE(o)->tp_flags & HS_CP_TPF_MANAGED_DICT) {
#if PY_VERSION_HEX < 0x030C0000
		return ((PyObject **)o)[-3];
#elif PY_VERSION_HEX < 0x030D0000
		uintptr_t dorv = ((uintptr_t *)o)[-3];
		return (dorv & 1) ? NULL : (PyObject *)dorv;
#else
		return ((PyObject **)o)[-3];
#endif
	}
#endif
	PyObject **dp = _PyObject_GetDictPtr(o);
	return dp ? *dp : NULL;
}

/* 3.13: an instance whose inline values are valid does not traverse its materialised dict, yet
 * owns it. */
static inline PyObject *hs_instance_untraversed_dict(PyObject *o)
{
#if PY_VERSION_HEX >= 0x030D0000
	PyObject **values;
	if (hs_instance_values(o, &values))
		return ((PyObject **)o)[-3];
#else
	(void)o;
#endif
	return NULL;
}

/* What sys.getsizeof adds to __sizeof__: the GC header and the pre-header. */
static inline size_t hs_preheader_size(PyObject *o)
{
#if PY_VERSION_HEX < 0x030B0000
	return PyObject_IS_GC(o) ? sizeof(struct hs_gc_head) : 0;
#else
	PyTypeObject *tp = Py_TYPE(o);
#if PY_VERSION_HEX >= 0x030D0000
	if (Py_IS_TYPE(o, &PyType_Type) && !(((PyTypeObject *)o)->tp_flags & HS_CP_TPF_HEAPTYPE))
		return 0;
#endif
	size_t n = PyType_IS_GC(tp) ? sizeof(struct hs_gc_head) : 0;
#if PY_VERSION_HEX < 0x030C0000
	if (tp->tp_flags & HS_CP_TPF_MANAGED_DICT)
#else
	if (tp->tp_flags & Py_TPFLAGS_PREHEADER)
#endif
		n += 2 * sizeof(PyObject *);
	return n;
#endif
}

/* The digits of int o (base 2**PyLong_SHIFT, least significant first), their count in *n and
 * its sign (-1, 0, 1) in *sign, read without a call into libpython. */
static inline const digit *hs_long_digits(PyObject *o, int *sign, size_t *n)
{
	const PyLongObject *l = (const PyLongObject *)o;
#if PY_VERSION_HEX >= 0x030C0000
	uintptr_t tag = l->long_value.lv_tag;
	*n = (size_t)(tag >> 3); /* _PyLong_NON_SIZE_BITS */
	/* sign bits: 0 positive, 1 zero, 2 negative */
	*sign = (tag & 3) == 0 ? 1 : (tag & 3) == 1 ? 0 : -1;
	return l->long_value.ob_digit;
#else
	Py_ssize_t size = Py_SIZE(o);
	*n = (size_t)(size < 0 ? -size : size);
	*sign = size < 0 ? -1 : size > 0;
	return l->ob_digit;
#endif
}

static inline int hs_is_immortal(PyObject *o)
{
#if PY_VERSION_HEX >= 0x030C0000
	return _Py_IsImmortal(o);
#else
	(void)o;
	return 0;
#endif
}

/* _PyInterpreterFrame (3.11+), which is not an object: the offsets of §9. */
#if PY_VERSION_HEX >= 0x030B0000
#if PY_VERSION_HEX < 0x030C0000
#define HS_IFRAME_FUNC 0
#define HS_IFRAME_LOCALS 24
#define HS_IFRAME_CODE 32
#define HS_IFRAME_FRAME_OBJ 40
#define HS_IFRAME_PREVIOUS 48
#define HS_IFRAME_OWNER 69
#else
#define HS_IFRAME_CODE 0
#define HS_IFRAME_PREVIOUS 8
#define HS_IFRAME_FUNC 16
#define HS_IFRAME_LOCALS 40
#define HS_IFRAME_FRAME_OBJ 48
#define HS_IFRAME_OWNER 70
#endif
#define HS_IFRAME_INSTR 56 /* prev_instr (3.11, 3.12), instr_ptr (3.13) */
#define HS_IFRAME_LOCALSPLUS 72
/* PyFrameObject's fields from 3.11 (capture/CPYTHON.md, _frame) */
#define HS_FRAMEOBJ_BACK 16
#define HS_FRAMEOBJ_IFRAME 24
#define HS_FRAMEOBJ_TRACE 32
#define HS_FRAMEOBJ_EXTRA_LOCALS 48 /* 3.13 */
#define HS_FRAMEOBJ_LOCALS_CACHE 56 /* 3.13 */
#define HS_FRAME_OWNED_BY_CSTACK 3

static inline void *hs_thread_frame(PyThreadState *ts)
{
#if PY_VERSION_HEX < 0x030D0000
	return ts->cframe ? (void *)ts->cframe->current_frame : NULL;
#else
	return ts->current_frame;
#endif
}
#endif

/* Modules/_functoolsmodule.c's lru_list_elem (3.8-3.13): head, prev, next, hash, key, result */
#define HS_LRU_LINK_KEY 40
#define HS_LRU_LINK_RESULT 48

#endif
