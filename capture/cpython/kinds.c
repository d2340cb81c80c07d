/*
 * capture/cpython/kinds.c — the kinds' field tables (kinds.h): for each kind, its members that
 * hold a reference, in tp_traverse's order then the owned ones, each with its edge kind, label
 * and the minor versions whose struct has it (capture/CPYTHON.md; tests/unit/test_kinds.c checks
 * every entry against each version's layout, capture/remote/layout_tables.c).
 */
#include "kinds.h"

#include "hsnap.h"

#define FIRST HS_CP_MINOR_FIRST
#define LAST HS_CP_MINOR_LAST
/* A member of every version, of 3.first..3.last, of 3.first on. */
#define T(f, label)                                                                                \
	{                                                                                          \
		HS_L_##f, HS_EDGE_TRAVERSE, FIRST, LAST, false, label                              \
	}
#define O(f, label)                                                                                \
	{                                                                                          \
		HS_L_##f, HS_EDGE_OWNED, FIRST, LAST, false, label                                 \
	}
#define T_IN(f, label, a, b)                                                                       \
	{                                                                                          \
		HS_L_##f, HS_EDGE_TRAVERSE, a, b, false, label                                     \
	}
#define O_IN(f, label, a, b)                                                                       \
	{                                                                                          \
		HS_L_##f, HS_EDGE_OWNED, a, b, false, label                                        \
	}
#define U HS_CP_UNLABELLED

static const struct hs_cp_field func[] = {
    T(FUNC_CODE, HS_CP_CODE),
    T(FUNC_GLOBALS, HS_CP_GLOBALS),
    T(FUNC_MODULE, HS_CP_MODULE),
    T(FUNC_DEFAULTS, HS_CP_DEFAULTS),
    T(FUNC_KWDEFAULTS, HS_CP_KWDEFAULTS),
    T(FUNC_DOC, HS_CP_DOC),
    T(FUNC_NAME, HS_CP_NAME),
    T(FUNC_DICT, HS_CP_DICT),
    T(FUNC_CLOSURE, HS_CP_CLOSURE),
    T(FUNC_ANNOTATIONS, HS_CP_ANNOTATIONS), /* hs_cp_field_label: or <func_annotations> */
    T(FUNC_QUALNAME, HS_CP_QUALNAME),
    T_IN(FUNC_BUILTINS, HS_CP_BUILTINS, 10, LAST),
    T_IN(FUNC_TYPEPARAMS, HS_CP_TYPE_PARAMS, 12, LAST),
};

static const struct hs_cp_field code[] = {
    O_IN(CO_CODE, HS_CP_CO_CODE, FIRST, 10),
    O(CO_CONSTS, HS_CP_CO_CONSTS),
    O(CO_NAMES, HS_CP_CO_NAMES),
    O_IN(CO_VARNAMES, HS_CP_CO_VARNAMES, FIRST, 10),
    O_IN(CO_FREEVARS, HS_CP_CO_FREEVARS, FIRST, 10),
    O_IN(CO_CELLVARS, HS_CP_CO_CELLVARS, FIRST, 10),
    O(CO_FILENAME, HS_CP_CO_FILENAME),
    O(CO_NAME, HS_CP_CO_NAME),
    O_IN(CO_QUALNAME, HS_CP_CO_QUALNAME, 11, LAST),
    O_IN(CO_EXCEPTIONTABLE, HS_CP_CO_EXCEPTIONTABLE, 11, LAST),
    O_IN(CO_LOCALSPLUSNAMES, HS_CP_CO_LOCALSPLUSNAMES, 11, LAST),
    O_IN(CO_LOCALSPLUSKINDS, HS_CP_CO_LOCALSPLUSKINDS, 11, LAST),
    O_IN(CO_CODE311, HS_CP_CO_CODE, 11, 11),
    /* a frame kept for the next call, untracked */
    {HS_L_CO_ZOMBIEFRAME, HS_EDGE_OWNED, FIRST, 10, true, HS_CP_CO_ZOMBIEFRAME},
    O_IN(CO_LINETABLE, HS_CP_CO_LNOTAB, FIRST, 9), /* the member is co_lnotab */
    O_IN(CO_LINETABLE, HS_CP_CO_LINETABLE, 10, LAST),
};

/* What the code object computed from itself on demand (3.12+). */
static const struct hs_cp_field code_cache[] = {
    O_IN(COC_CODE, HS_CP_CO_CODE, 12, LAST),
    O_IN(COC_VARNAMES, HS_CP_CO_VARNAMES, 12, LAST),
    O_IN(COC_CELLVARS, HS_CP_CO_CELLVARS, 12, LAST),
    O_IN(COC_FREEVARS, HS_CP_CO_FREEVARS, 12, LAST),
};

static const struct hs_cp_field heap_type[] = {
    T(TP_DICT, HS_CP_DICT),      T(TP_CACHE, HS_CP_TP_CACHE),
    T(TP_MRO, HS_CP_MRO),        T(TP_BASES, HS_CP_BASES),
    T(TP_BASE, HS_CP_BASE),      T_IN(HT_MODULE, HS_CP_HT_MODULE, 9, LAST),
    O(HT_NAME, HS_CP_NAME),      O(HT_QUALNAME, HS_CP_QUALNAME),
    O(HT_SLOTS, HS_CP_HT_SLOTS), O(TP_SUBCLASSES, HS_CP_TP_SUBCLASSES),
};

/* After its dict; a built-in's tp_subclasses is an index from 3.12. */
static const struct hs_cp_field static_type[] = {
    O(TP_MRO, HS_CP_MRO),
    O(TP_BASES, HS_CP_BASES),
    O(TP_BASE, HS_CP_BASE),
    O_IN(TP_SUBCLASSES, HS_CP_TP_SUBCLASSES, FIRST, 11),
};

static const struct hs_cp_field module[] = {
    T(MOD_DICT, HS_CP_DICT),
    O(MOD_NAME, HS_CP_NAME),
};

static const struct hs_cp_field descr[] = {
    T(DESCR_TYPE, U),
    O(DESCR_NAME, HS_CP_NAME),
    O(DESCR_QUALNAME, HS_CP_QUALNAME),
};

static const struct hs_cp_field cell[] = {T(CELL_REF, HS_CP_CELL_CONTENTS)};

static const struct hs_cp_field method[] = {
    T(METHOD_FUNC, HS_CP_FUNC),
    T(METHOD_SELF, HS_CP_SELF),
};

static const struct hs_cp_field imethod[] = {T(IMETHOD_FUNC, HS_CP_FUNC)};

static const struct hs_cp_field cfunc[] = {
    T(CFUNC_SELF, HS_CP_SELF),
    T(CFUNC_MODULE, HS_CP_MODULE),
};

static const struct hs_cp_field sm[] = {
    T(SM_CALLABLE, U),
    T(SM_DICT, HS_CP_DICT),
};

static const struct hs_cp_field cm[] = {
    T(CM_CALLABLE, U),
    T(CM_DICT, HS_CP_DICT),
};

static const struct hs_cp_field prop[] = {
    T(PROP_GET, U), T(PROP_SET, U), T(PROP_DEL, U), T(PROP_DOC, U), T_IN(PROP_NAME, U, 10, LAST),
};

static const struct hs_cp_field weakref[] = {T(WR_CALLBACK, HS_CP_CALLBACK)};

static const struct hs_cp_field exc[] = {
    T(EXC_DICT, HS_CP_DICT),
    T(EXC_ARGS, HS_CP_ARGS),
    T_IN(EXC_NOTES, HS_CP_NOTES, 11, LAST),
    T(EXC_TB, HS_CP_TRACEBACK),
    T(EXC_CONTEXT, HS_CP_CONTEXT),
    T(EXC_CAUSE, HS_CP_CAUSE),
};

static const struct hs_cp_field tb[] = {T(TB_NEXT, U), T(TB_FRAME, U)};

static const struct hs_cp_field slice[] = {
    T(SLICE_START, HS_CP_SLICE_START),
    T(SLICE_STOP, HS_CP_SLICE_STOP),
    T(SLICE_STEP, HS_CP_SLICE_STEP),
};

/* Up to 3.10 a frame holds its code and namespaces; from 3.11 its interpreter frame does. */
static const struct hs_cp_field frame[] = {
    T(F_BACK, HS_CP_F_BACK),
    T_IN(F_CODE, HS_CP_F_CODE, FIRST, 10),
    T_IN(F_BUILTINS, HS_CP_F_BUILTINS, FIRST, 10),
    T_IN(F_GLOBALS, HS_CP_F_GLOBALS, FIRST, 10),
    T_IN(F_LOCALS, HS_CP_F_LOCALS, FIRST, 10),
    T(F_TRACE, HS_CP_F_TRACE),
    T_IN(F_EXTRA_LOCALS, HS_CP_F_EXTRA_LOCALS, 13, LAST),
    T_IN(F_LOCALS_CACHE, HS_CP_F_LOCALS_CACHE, 13, LAST),
};

#define KIND(t)                                                                                    \
	{                                                                                          \
		t, sizeof(t) / sizeof((t)[0])                                                      \
	}
const struct hs_cp_kind_fields hs_cp_kinds[HS_CP_NKINDS] = {
    [HS_CP_K_FUNC] = KIND(func),
    [HS_CP_K_CODE] = KIND(code),
    [HS_CP_K_CODE_CACHE] = KIND(code_cache),
    [HS_CP_K_HEAP_TYPE] = KIND(heap_type),
    [HS_CP_K_STATIC_TYPE] = KIND(static_type),
    [HS_CP_K_MODULE] = KIND(module),
    [HS_CP_K_DESCR] = KIND(descr),
    [HS_CP_K_CELL] = KIND(cell),
    [HS_CP_K_METHOD] = KIND(method),
    [HS_CP_K_IMETHOD] = KIND(imethod),
    [HS_CP_K_CFUNC] = KIND(cfunc),
    [HS_CP_K_SM] = KIND(sm),
    [HS_CP_K_CM] = KIND(cm),
    [HS_CP_K_PROP] = KIND(prop),
    [HS_CP_K_WEAKREF] = KIND(weakref),
    [HS_CP_K_EXC] = KIND(exc),
    [HS_CP_K_TB] = KIND(tb),
    [HS_CP_K_SLICE] = KIND(slice),
    [HS_CP_K_FRAME] = KIND(frame),
};
