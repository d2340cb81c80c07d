/*
 * capture/cpython/kinds.h — the fixed fields of each kind of object, once, for both captures: for
 * each kind (function, code, type, module, descriptor, cell, method, ...) the members that hold a
 * reference (fields.h ids), whether its tp_traverse visits the reference (HS_EDGE_TRAVERSE) or
 * the object holds it without visiting it (HS_EDGE_OWNED), its label (labels.h) and the minor
 * versions whose struct has the member.  Each capture walks a kind's table with a loop of the same
 * shape, reading a member at its own offset of the field id: out of process the target's layout
 * (w->L.v[id]), in process offsetof (capture/inproc/walk_offsets.c).  Out of process every entry
 * makes an edge; in process tp_traverse makes the traverse edges and the table gives their labels
 * and the owned edges.  A table's order is part of the contract: the order tp_traverse visits in,
 * so that a referent held by two fields takes their labels in the same order in both captures.
 *
 * What is not a fixed field stays code in each capture: dict entries, list and tuple items, a
 * heap type's shared keys, an instance's slots and managed dict, a static type's dict (3.12+:
 * kept in the interpreter's state), a METH_METHOD function's class, a frame's locals and value
 * stack (3.8-3.10) or interpreter frame (3.11+), generators.
 * Pure data: nothing here reads memory.
 */
#ifndef HS_CPYTHON_KINDS_H
#define HS_CPYTHON_KINDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fields.h"
#include "labels.h"

/* A traverse edge the in-process capture leaves unlabelled (and so must the other). */
#define HS_CP_UNLABELLED HS_CP_NLABELS

enum hs_cp_kind {
	HS_CP_K_FUNC,        /* PyFunctionObject */
	HS_CP_K_CODE,        /* PyCodeObject (no traverse: every edge owned) */
	HS_CP_K_CODE_CACHE,  /* its _co_cached (_PyCoCached, 3.12+), edges of the code object */
	HS_CP_K_HEAP_TYPE,   /* PyHeapTypeObject */
	HS_CP_K_STATIC_TYPE, /* a static PyTypeObject (no traverse), after its dict */
	HS_CP_K_MODULE,      /* PyModuleObject (then its C state, scanned out of process) */
	HS_CP_K_DESCR,       /* PyDescrObject: method, class method, getset, member, wrapper */
	HS_CP_K_CELL,        /* PyCellObject */
	HS_CP_K_METHOD,      /* PyMethodObject */
	HS_CP_K_IMETHOD,     /* PyInstanceMethodObject */
	HS_CP_K_CFUNC,       /* PyCFunctionObject (then a METH_METHOD function's class) */
	HS_CP_K_SM,          /* staticmethod */
	HS_CP_K_CM,          /* classmethod */
	HS_CP_K_PROP,        /* property */
	HS_CP_K_WEAKREF,     /* PyWeakReference (its referent is a weak link, not an edge) */
	HS_CP_K_EXC,         /* PyBaseExceptionObject */
	HS_CP_K_TB,          /* PyTracebackObject */
	HS_CP_K_SLICE,       /* PySliceObject */
	HS_CP_K_FRAME,       /* PyFrameObject (then its fast locals, or its interpreter frame) */
	HS_CP_NKINDS
};

/* One reference-holding member of a kind. */
struct hs_cp_field {
	uint16_t field; /* enum hs_layout_field */
	uint8_t edge;   /* HS_EDGE_TRAVERSE or HS_EDGE_OWNED */
	uint8_t first;  /* the minor versions of 3 whose struct has it: first..last */
	uint8_t last;
	bool untracked; /* the referent is an object no GC list holds, which the in-process
	                 * capture does not reach: that capture skips the entry */
	uint16_t label; /* enum hs_cp_label, or HS_CP_UNLABELLED (a traverse edge only) */
};

struct hs_cp_kind_fields {
	const struct hs_cp_field *v;
	size_t n;
};

extern const struct hs_cp_kind_fields hs_cp_kinds[HS_CP_NKINDS];

/* Whether 3.minor's struct has f. */
static inline bool hs_cp_field_in(const struct hs_cp_field *f, int minor)
{
	return minor >= f->first && minor <= f->last;
}

/* The label of f's referent: a function's annotations still in the compiler's tuple (3.10+,
 * until __annotations__ makes the dict of it) are no attribute, <func_annotations>.  Asking
 * whether the referent is a tuple costs a capture a read: needs_type says when to ask. */
static inline bool hs_cp_field_label_needs_type(const struct hs_cp_field *f)
{
	return f->label == HS_CP_ANNOTATIONS;
}
static inline enum hs_cp_label hs_cp_field_label(const struct hs_cp_field *f, bool is_tuple)
{
	return f->label == HS_CP_ANNOTATIONS && is_tuple ? HS_CP_FUNC_ANNOTATIONS
	                                                 : (enum hs_cp_label)f->label;
}

#endif
