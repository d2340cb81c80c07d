/*
 * walk_offsets.c — where the members of the kinds' field table (capture/cpython/kinds.h) are in
 * the structs of the interpreter this extension is built for: offsetof, under the version's
 * #ifs, by the field ids of capture/cpython/fields.h (hs_ip_offsets; -1: not read in process).
 * The out-of-process capture has the same offsets from a target's DWARF or the compiled-in
 * layouts (capture/remote/layout_tables.c); tests/integration/inproc_offsets.py checks that the
 * two agree, version by version, through the module's _field_offsets().
 */
#include "walk_internal.h"

#include <stddef.h>

int64_t hs_ip_offsets[HS_L_COUNT];

#define AT(id, type, member) hs_ip_offsets[HS_L_##id] = (int64_t)offsetof(type, member)

/* Functions, methods, cells, descriptors and their kin. */
static void callables(void)
{
	AT(FUNC_CODE, PyFunctionObject, func_code);
	AT(FUNC_GLOBALS, PyFunctionObject, func_globals);
	AT(FUNC_MODULE, PyFunctionObject, func_module);
	AT(FUNC_DEFAULTS, PyFunctionObject, func_defaults);
	AT(FUNC_KWDEFAULTS, PyFunctionObject, func_kwdefaults);
	AT(FUNC_DOC, PyFunctionObject, func_doc);
	AT(FUNC_NAME, PyFunctionObject, func_name);
	AT(FUNC_DICT, PyFunctionObject, func_dict);
	AT(FUNC_CLOSURE, PyFunctionObject, func_closure);
	AT(FUNC_ANNOTATIONS, PyFunctionObject, func_annotations);
	AT(FUNC_QUALNAME, PyFunctionObject, func_qualname);
#if PY_VERSION_HEX >= 0x030A0000
	AT(FUNC_BUILTINS, PyFunctionObject, func_builtins);
#endif
#if PY_VERSION_HEX >= 0x030C0000
	AT(FUNC_TYPEPARAMS, PyFunctionObject, func_typeparams);
#endif
	AT(METHOD_FUNC, PyMethodObject, im_func);
	AT(METHOD_SELF, PyMethodObject, im_self);
	AT(IMETHOD_FUNC, PyInstanceMethodObject, func);
	AT(CFUNC_SELF, PyCFunctionObject, m_self);
	AT(CFUNC_MODULE, PyCFunctionObject, m_module);
#if PY_VERSION_HEX >= 0x03090000
	AT(CMETH_CLASS, PyCMethodObject, mm_class);
#endif
	AT(SM_CALLABLE, struct hs_wrapper, callable);
	AT(SM_DICT, struct hs_wrapper, dict);
	AT(CM_CALLABLE, struct hs_wrapper, callable);
	AT(CM_DICT, struct hs_wrapper, dict);
	AT(DESCR_TYPE, PyDescrObject, d_type);
	AT(DESCR_NAME, PyDescrObject, d_name);
	AT(DESCR_QUALNAME, PyDescrObject, d_qualname);
	AT(CELL_REF, PyCellObject, ob_ref);
}

static void code(void)
{
	AT(CO_CONSTS, PyCodeObject, co_consts);
	AT(CO_NAMES, PyCodeObject, co_names);
	AT(CO_FILENAME, PyCodeObject, co_filename);
	AT(CO_NAME, PyCodeObject, co_name);
#if PY_VERSION_HEX < 0x030B0000
	AT(CO_CODE, PyCodeObject, co_code);
	AT(CO_VARNAMES, PyCodeObject, co_varnames);
	AT(CO_FREEVARS, PyCodeObject, co_freevars);
	AT(CO_CELLVARS, PyCodeObject, co_cellvars);
	AT(CO_ZOMBIEFRAME, PyCodeObject, co_zombieframe);
#if PY_VERSION_HEX < 0x030A0000
	AT(CO_LINETABLE, PyCodeObject, co_lnotab);
#else
	AT(CO_LINETABLE, PyCodeObject, co_linetable);
#endif
#else
	AT(CO_QUALNAME, PyCodeObject, co_qualname);
	AT(CO_LINETABLE, PyCodeObject, co_linetable);
	AT(CO_EXCEPTIONTABLE, PyCodeObject, co_exceptiontable);
	AT(CO_LOCALSPLUSNAMES, PyCodeObject, co_localsplusnames);
	AT(CO_LOCALSPLUSKINDS, PyCodeObject, co_localspluskinds);
#if PY_VERSION_HEX < 0x030C0000
	AT(CO_CODE311, PyCodeObject, _co_code);
#else
	AT(CO_CACHED, PyCodeObject, _co_cached);
	AT(COC_CODE, _PyCoCached, _co_code);
	AT(COC_VARNAMES, _PyCoCached, _co_varnames);
	AT(COC_CELLVARS, _PyCoCached, _co_cellvars);
	AT(COC_FREEVARS, _PyCoCached, _co_freevars);
#endif
#endif
}

/* Types, modules, exceptions, tracebacks, slices, weak references. */
static void others(void)
{
	AT(TP_DICT, PyTypeObject, tp_dict);
	AT(TP_CACHE, PyTypeObject, tp_cache);
	AT(TP_MRO, PyTypeObject, tp_mro);
	AT(TP_BASES, PyTypeObject, tp_bases);
	AT(TP_BASE, PyTypeObject, tp_base);
	AT(TP_SUBCLASSES, PyTypeObject, tp_subclasses);
	AT(HT_NAME, PyHeapTypeObject, ht_name);
	AT(HT_QUALNAME, PyHeapTypeObject, ht_qualname);
	AT(HT_SLOTS, PyHeapTypeObject, ht_slots);
	AT(HT_CACHED_KEYS, PyHeapTypeObject, ht_cached_keys);
#if PY_VERSION_HEX >= 0x03090000
	AT(HT_MODULE, PyHeapTypeObject, ht_module);
#endif
	AT(MOD_DICT, struct hs_module, md_dict);
	AT(MOD_NAME, struct hs_module, md_name);
	AT(EXC_DICT, PyBaseExceptionObject, dict);
	AT(EXC_ARGS, PyBaseExceptionObject, args);
#if PY_VERSION_HEX >= 0x030B0000
	AT(EXC_NOTES, PyBaseExceptionObject, notes);
#endif
	AT(EXC_TB, PyBaseExceptionObject, traceback);
	AT(EXC_CONTEXT, PyBaseExceptionObject, context);
	AT(EXC_CAUSE, PyBaseExceptionObject, cause);
	AT(TB_NEXT, PyTracebackObject, tb_next);
	AT(TB_FRAME, PyTracebackObject, tb_frame);
	AT(SLICE_START, PySliceObject, start);
	AT(SLICE_STOP, PySliceObject, stop);
	AT(SLICE_STEP, PySliceObject, step);
	AT(WR_OBJECT, PyWeakReference, wr_object);
	AT(WR_CALLBACK, PyWeakReference, wr_callback);
}

/* Frame objects: a public struct up to 3.10, an internal one since (cpython.h). */
static void frames(void)
{
#if PY_VERSION_HEX < 0x030B0000
	AT(F_BACK, PyFrameObject, f_back);
	AT(F_CODE, PyFrameObject, f_code);
	AT(F_BUILTINS, PyFrameObject, f_builtins);
	AT(F_GLOBALS, PyFrameObject, f_globals);
	AT(F_LOCALS, PyFrameObject, f_locals);
	AT(F_TRACE, PyFrameObject, f_trace);
#else
	hs_ip_offsets[HS_L_F_BACK] = HS_FRAMEOBJ_BACK;
	hs_ip_offsets[HS_L_F_FRAME] = HS_FRAMEOBJ_IFRAME;
	hs_ip_offsets[HS_L_F_TRACE] = HS_FRAMEOBJ_TRACE;
#if PY_VERSION_HEX >= 0x030D0000
	hs_ip_offsets[HS_L_F_EXTRA_LOCALS] = HS_FRAMEOBJ_EXTRA_LOCALS;
	hs_ip_offsets[HS_L_F_LOCALS_CACHE] = HS_FRAMEOBJ_LOCALS_CACHE;
#endif
#endif
}

void hs_ip_offsets_init(void)
{
	for (size_t i = 0; i < HS_L_COUNT; i++)
		hs_ip_offsets[i] = -1;
	callables();
	code();
	others();
	frames();
}

const int64_t *hs_inproc_offsets(void)
{
	return hs_ip_offsets;
}
