/*
 * capture/cpython/labels.h — the names both captures give the references an object holds
 * (HS_LABEL_STRING labels, FORMAT.md): one table, so that the in-process and the out-of-process
 * capture cannot spell a field two ways.  A label that names a Python attribute is written as
 * that attribute (".co_code"); a field with no attribute is written in angle brackets
 * ("<tp_cache>").  Each label carries the minor versions whose structs hold the field: a
 * capture asks hs_cp_label_text for the version it walks.  Pure data: nothing here reads memory.
 */
#ifndef HS_CPYTHON_LABELS_H
#define HS_CPYTHON_LABELS_H

#include <stddef.h>
#include <string.h>

#include "preview.h"

enum hs_cp_label {
	/* any object */
	HS_CP_DICT,       /* an instance's, module's, function's or wrapper's __dict__ */
	HS_CP_CLASS,      /* a heap type's instance's type */
	HS_CP_KEY,        /* a combined dict's key */
	HS_CP_SHARED_KEY, /* a key of a heap type's shared keys */
	/* functions (PyFunctionObject) */
	HS_CP_CODE,
	HS_CP_GLOBALS,
	HS_CP_DEFAULTS,
	HS_CP_KWDEFAULTS,
	HS_CP_CLOSURE,
	HS_CP_DOC,
	HS_CP_NAME,     /* also a type's, a descriptor's and a module's name */
	HS_CP_QUALNAME, /* also a type's and a descriptor's */
	HS_CP_MODULE,   /* also a builtin function's m_module */
	HS_CP_ANNOTATIONS,
	HS_CP_FUNC_ANNOTATIONS, /* annotations still in the compiler's tuple (3.10+) */
	HS_CP_BUILTINS,
	HS_CP_TYPE_PARAMS,
	/* types */
	HS_CP_MRO,
	HS_CP_BASES,
	HS_CP_BASE,
	HS_CP_TP_CACHE,
	HS_CP_HT_MODULE,
	HS_CP_HT_SLOTS,
	HS_CP_TP_SUBCLASSES,
	/* cells, methods, builtin methods, weak references */
	HS_CP_CELL_CONTENTS,
	HS_CP_FUNC,
	HS_CP_SELF,
	HS_CP_CMETH_CLASS, /* PyCMethodObject.mm_class: a METH_METHOD function's defining class */
	HS_CP_CALLBACK,
	/* exceptions */
	HS_CP_ARGS,
	HS_CP_TRACEBACK,
	HS_CP_CONTEXT,
	HS_CP_CAUSE,
	HS_CP_NOTES,
	/* frames (PyFrameObject) */
	HS_CP_F_BACK,
	HS_CP_F_CODE,
	HS_CP_F_GLOBALS,
	HS_CP_F_BUILTINS,
	HS_CP_F_LOCALS,
	HS_CP_F_TRACE,
	HS_CP_F_EXTRA_LOCALS,
	HS_CP_F_LOCALS_CACHE,
	/* code objects (all owned: a code object's traverse visits nothing) */
	HS_CP_CO_CODE, /* co_code, the 3.11 _co_code or the 3.12+ _co_cached->_co_code */
	HS_CP_CO_CONSTS,
	HS_CP_CO_NAMES,
	HS_CP_CO_VARNAMES,
	HS_CP_CO_FREEVARS,
	HS_CP_CO_CELLVARS,
	HS_CP_CO_FILENAME,
	HS_CP_CO_NAME,
	HS_CP_CO_QUALNAME,
	HS_CP_CO_LINETABLE,
	HS_CP_CO_LNOTAB,
	HS_CP_CO_EXCEPTIONTABLE,
	HS_CP_CO_LOCALSPLUSNAMES,
	HS_CP_CO_LOCALSPLUSKINDS,
	HS_CP_CO_ZOMBIEFRAME,
	/* slices */
	HS_CP_SLICE_START,
	HS_CP_SLICE_STOP,
	HS_CP_SLICE_STEP,
	HS_CP_NLABELS
};

/* A label: its text and the minor versions (3.first .. 3.last) that have the field. */
struct hs_cp_label_info {
	const char *text;
	int first, last;
};

extern const struct hs_cp_label_info hs_cp_labels[HS_CP_NLABELS];

/* The oldest and newest minor versions of 3 the model describes. */
#define HS_CP_MINOR_FIRST 8
#define HS_CP_MINOR_LAST 13

/* Label l's text, whatever the version (for a capture that knows the field is there). */
static inline const char *hs_cp_label(enum hs_cp_label l)
{
	return hs_cp_labels[l].text;
}

/* Label l's text on 3.minor, or NULL when that version's structs have no such field. */
const char *hs_cp_label_text(enum hs_cp_label l, int minor);

/* The label of the __slots__ member called name: ".name", the name cut after
 * HS_CP_SLOT_NAME_MAX bytes.  buf holds HS_CP_SLOT_NAME_MAX + 2 bytes; NUL-terminated; returns
 * the length. */
#define HS_CP_SLOT_NAME_MAX 254
static inline size_t hs_cp_slot_label(const char *name, char *buf)
{
	size_t n = strnlen(name, HS_CP_SLOT_NAME_MAX);
	buf[0] = '.';
	memcpy(buf + 1, name, n);
	buf[n + 1] = '\0';
	return n + 1;
}

/* The label of a fast local (a 3.8-3.10 frame's f_localsplus slot) called name: "<local name>",
 * as 3.11+ name a running frame's local in its root ("<thread 1: main (app.py:9) local
 * journal>").  name is the str's text as a preview keeps it (preview.h: HS_CP_PREVIEW_CHARS
 * characters, then an ellipsis), so that both captures cut a long one alike.  buf holds
 * HS_CP_LOCAL_LABEL_BYTES bytes; NUL-terminated; returns the length. */
#define HS_CP_LOCAL_LABEL_BYTES (HS_CP_PREVIEW_BYTES + 8)
static inline size_t hs_cp_local_label(const char *name, char *buf)
{
	size_t n = strnlen(name, HS_CP_PREVIEW_BYTES - 1);
	memcpy(buf, "<local ", 7);
	memcpy(buf + 7, name, n);
	memcpy(buf + 7 + n, ">", 2);
	return n + 8;
}

/* Where the name of slot i of a 3.8-3.10 frame's f_localsplus is: its code's co_varnames (nvar
 * names), then co_cellvars (ncell), then co_freevars; *j: the index in that tuple.  The slots
 * after them are the value stack (HS_CP_VALUE_STACK). */
enum hs_cp_local_names { HS_CP_VARNAMES, HS_CP_CELLVARS, HS_CP_FREEVARS, HS_CP_VALUE_STACK };
static inline enum hs_cp_local_names hs_cp_local_slot(size_t i, size_t nvar, size_t ncell,
                                                      size_t nfree, size_t *j)
{
	const size_t n[] = {nvar, ncell, nfree};
	for (int t = HS_CP_VARNAMES; t < HS_CP_VALUE_STACK; i -= n[t++]) {
		if (i < n[t]) {
			*j = i;
			return (enum hs_cp_local_names)t;
		}
	}
	*j = 0;
	return HS_CP_VALUE_STACK;
}

#endif
