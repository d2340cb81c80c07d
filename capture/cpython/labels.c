/*
 * capture/cpython/labels.c — the label table (labels.h): each field's name and the CPython minor
 * versions whose structs hold it (CPython's Include/cpython headers of each version;
 * capture/CPYTHON.md). A label string that changes here changes in both captures' snapshots at
 * once, and in what users match it with (paths, queries): see README.md.
 */
#include "labels.h"

#include <assert.h>

#define ALL HS_CP_MINOR_FIRST, HS_CP_MINOR_LAST

const struct hs_cp_label_info hs_cp_labels[HS_CP_NLABELS] = {
    [HS_CP_DICT] = {".__dict__", ALL},
    [HS_CP_CLASS] = {".__class__", ALL},
    [HS_CP_KEY] = {"<key>", ALL},
    [HS_CP_SHARED_KEY] = {"<shared key>", ALL},
    [HS_CP_CODE] = {".__code__", ALL},
    [HS_CP_GLOBALS] = {".__globals__", ALL},
    [HS_CP_DEFAULTS] = {".__defaults__", ALL},
    [HS_CP_KWDEFAULTS] = {".__kwdefaults__", ALL},
    [HS_CP_CLOSURE] = {".__closure__", ALL},
    [HS_CP_DOC] = {".__doc__", ALL},
    [HS_CP_NAME] = {".__name__", ALL},
    [HS_CP_QUALNAME] = {".__qualname__", ALL},
    [HS_CP_MODULE] = {".__module__", ALL},
    [HS_CP_ANNOTATIONS] = {".__annotations__", ALL},
    [HS_CP_FUNC_ANNOTATIONS] = {"<func_annotations>", 10, HS_CP_MINOR_LAST},
    [HS_CP_BUILTINS] = {".__builtins__", 10, HS_CP_MINOR_LAST},
    [HS_CP_TYPE_PARAMS] = {".__type_params__", 12, HS_CP_MINOR_LAST},
    [HS_CP_MRO] = {".__mro__", ALL},
    [HS_CP_BASES] = {".__bases__", ALL},
    [HS_CP_BASE] = {".__base__", ALL},
    [HS_CP_TP_CACHE] = {"<tp_cache>", ALL},
    [HS_CP_HT_MODULE] = {"<ht_module>", 9, HS_CP_MINOR_LAST},
    [HS_CP_HT_SLOTS] = {"<ht_slots>", ALL},
    [HS_CP_TP_SUBCLASSES] = {"<tp_subclasses>", ALL},
    [HS_CP_CELL_CONTENTS] = {".cell_contents", ALL},
    [HS_CP_FUNC] = {".__func__", ALL},
    [HS_CP_SELF] = {".__self__", ALL},
    [HS_CP_CMETH_CLASS] = {"<class>", 9, HS_CP_MINOR_LAST},
    [HS_CP_CALLBACK] = {".__callback__", ALL},
    [HS_CP_ARGS] = {".args", ALL},
    [HS_CP_TRACEBACK] = {".__traceback__", ALL},
    [HS_CP_CONTEXT] = {".__context__", ALL},
    [HS_CP_CAUSE] = {".__cause__", ALL},
    [HS_CP_NOTES] = {".__notes__", 11, HS_CP_MINOR_LAST},
    [HS_CP_F_BACK] = {".f_back", ALL},
    /* From 3.11 the frame object's code, globals, builtins and locals live in the interpreter
     * frame it points to (and are labelled there by neither capture). */
    [HS_CP_F_CODE] = {".f_code", 8, 10},
    [HS_CP_F_GLOBALS] = {".f_globals", 8, 10},
    [HS_CP_F_BUILTINS] = {".f_builtins", 8, 10},
    [HS_CP_F_LOCALS] = {".f_locals", 8, 10},
    [HS_CP_F_TRACE] = {".f_trace", ALL},
    [HS_CP_F_EXTRA_LOCALS] = {"<extra locals>", 13, HS_CP_MINOR_LAST},
    [HS_CP_F_LOCALS_CACHE] = {"<locals cache>", 13, HS_CP_MINOR_LAST},
    [HS_CP_CO_CODE] = {".co_code", ALL},
    [HS_CP_CO_CONSTS] = {".co_consts", ALL},
    [HS_CP_CO_NAMES] = {".co_names", ALL},
    [HS_CP_CO_VARNAMES] = {".co_varnames", ALL},
    [HS_CP_CO_FREEVARS] = {".co_freevars", ALL},
    [HS_CP_CO_CELLVARS] = {".co_cellvars", ALL},
    [HS_CP_CO_FILENAME] = {".co_filename", ALL},
    [HS_CP_CO_NAME] = {".co_name", ALL},
    [HS_CP_CO_QUALNAME] = {".co_qualname", 11, HS_CP_MINOR_LAST},
    [HS_CP_CO_LINETABLE] = {".co_linetable", 10, HS_CP_MINOR_LAST},
    [HS_CP_CO_LNOTAB] = {".co_lnotab", 8, 9},
    [HS_CP_CO_EXCEPTIONTABLE] = {".co_exceptiontable", 11, HS_CP_MINOR_LAST},
    [HS_CP_CO_LOCALSPLUSNAMES] = {"<co_localsplusnames>", 11, HS_CP_MINOR_LAST},
    [HS_CP_CO_LOCALSPLUSKINDS] = {"<co_localspluskinds>", 11, HS_CP_MINOR_LAST},
    [HS_CP_CO_ZOMBIEFRAME] = {"<co_zombieframe>", 8, 10},
    [HS_CP_SLICE_START] = {".start", ALL},
    [HS_CP_SLICE_STOP] = {".stop", ALL},
    [HS_CP_SLICE_STEP] = {".step", ALL},
};

const char *hs_cp_label_text(enum hs_cp_label l, int minor)
{
	assert(l < HS_CP_NLABELS);
	const struct hs_cp_label_info *i = &hs_cp_labels[l];
	return minor >= i->first && minor <= i->last ? i->text : NULL;
}
