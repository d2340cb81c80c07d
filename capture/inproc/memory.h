/*
 * capture/inproc/memory.h: the blocks of a live object, for capture/cpython/memory.h's count of the
 * memory it occupies.  Reads the object in this interpreter (the layouts of capture/CPYTHON.md
 * §3a); everything else, rounding included, is capture/cpython/memory.h's.
 */
#ifndef HS_INPROC_MEMORY_H
#define HS_INPROC_MEMORY_H

#include "../cpython/memory.h"
#include "cpython.h"

/* PyDictKeysObject's dk_refcnt, and the size of a split table's values array (3.11+:
 * shared_keys_usable_size, dk_nentries + dk_usable; before: USABLE_FRACTION(dk_size)). */
static inline Py_ssize_t hs_keys_refcnt(const void *keys)
{
	return *(const Py_ssize_t *)keys;
}

static inline uint64_t hs_keys_usable_size(const void *keys)
{
#if PY_VERSION_HEX < 0x030B0000
	Py_ssize_t dk_size = *(const Py_ssize_t *)((const char *)keys + 8);
	return (uint64_t)((dk_size << 1) / 3);
#else
	return (uint64_t)(hs_keys_nentries(keys) + *(const Py_ssize_t *)((const char *)keys + 16));
#endif
}

/* A dict's blocks: its key table, or the values of a split table (which getsizeof counts
 * without the 3.11/3.12 order prefix, and which a 3.13 dict may share with its instance). */
static inline void hs_dict_parts(PyObject *o, struct hs_mem_parts *p)
{
	PyDictObject *mp = (PyDictObject *)o;
	uint64_t own = (uint64_t)Py_TYPE(o)->tp_basicsize + hs_preheader_size(o);
	if (p->size <= own)
		return;
	uint64_t rest = p->size - own;
	const uint8_t *values = (const uint8_t *)mp->ma_values;
	if (!values || hs_keys_refcnt(mp->ma_keys) == 1) {
		p->counted = rest; /* the key table (with a split table's keys, counted once) */
		return;
	}
#if PY_VERSION_HEX >= 0x030D0000
	if (values[2]) { /* embedded: the instance's inline values */
		p->shared = rest;
		return;
	}
	p->counted = rest;
	uint64_t block = hs_mem_values_313(values[0]);
	p->counted_extra = block > rest ? block - rest : 0;
#elif PY_VERSION_HEX >= 0x030B0000
	p->counted = rest;
	p->counted_extra = values[-1]; /* the order prefix's size, its last byte */
#else
	p->counted = rest;
#endif
}

/* An instance's attribute values outside a dict: a block of their own on 3.11 and 3.12
 * (prefix and values), inline after the object on 3.13. */
static inline void hs_instance_parts(PyObject *o, struct hs_mem_parts *p)
{
#if PY_VERSION_HEX >= 0x030D0000
	PyTypeObject *tp = Py_TYPE(o);
	if (tp->tp_flags & HS_CP_TPF_INLINE_VALUES)
		p->inline_extra = hs_mem_values_313(((const uint8_t *)o + tp->tp_basicsize)[0]);
#elif PY_VERSION_HEX >= 0x030B0000
	/* The values pointer itself: an instance of a class with no attribute yet has values
	 * (hs_instance_values counts none). */
	PyTypeObject *tp = Py_TYPE(o);
	const void *keys = ((PyHeapTypeObject *)tp)->ht_cached_keys;
	if (!(tp->tp_flags & HS_CP_TPF_MANAGED_DICT) || !(tp->tp_flags & HS_CP_TPF_HEAPTYPE) ||
	    !keys)
		return;
#if PY_VERSION_HEX < 0x030C0000
	const uint8_t *values = ((const uint8_t **)o)[-4];
#else
	uintptr_t dorv = ((uintptr_t *)o)[-3];
	const uint8_t *values = (dorv & 1) ? (const uint8_t *)(dorv + 1) : NULL;
#endif
	if (values)
		p->uncounted = values[-1] + hs_keys_usable_size(keys) * sizeof(PyObject *);
#else
	(void)o;
	(void)p;
#endif
}

/* The memory o occupies, whose sys.getsizeof is size; anyset and bytearray: whether o's type is
 * a subtype of set or frozenset, of bytearray (PyAnySet_Check and PyByteArray_Check are up to
 * three calls of PyType_IsSubtype an object: the caller knows them by type). */
static inline uint64_t hs_memory(PyObject *o, uint64_t size, bool anyset, bool bytearray)
{
	struct hs_mem_parts p = {.size = size};
	PyTypeObject *tp = Py_TYPE(o);
	unsigned long flags = tp->tp_flags;
	if (flags & HS_CP_TPF_LIST_SUBCLASS) {
		p.counted = (uint64_t)((PyListObject *)o)->allocated * sizeof(PyObject *);
	} else if (flags & HS_CP_TPF_DICT_SUBCLASS) {
		hs_dict_parts(o, &p);
	} else if (flags & HS_CP_TPF_TYPE_SUBCLASS) {
		p.is_static = !(((PyTypeObject *)o)->tp_flags & HS_CP_TPF_HEAPTYPE);
	} else if (anyset) {
		PySetObject *so = (PySetObject *)o;
		if (so->table != so->smalltable)
			p.counted = (uint64_t)(so->mask + 1) * sizeof(setentry);
	} else if (bytearray) {
		p.counted = (uint64_t)((PyByteArrayObject *)o)->ob_alloc;
	}
	hs_instance_parts(o, &p);
	return hs_mem_total(&p);
}

#endif
