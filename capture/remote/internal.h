/*
 * internal.h — what the files of capture/remote/ share and nobody else sees: the memory source
 * (segments of copied or mapped bytes, a file fallback and a paged callback), the ELF helpers,
 * the DWARF layout table, and the walker's entry point.
 */
#ifndef HS_CAPTURE_INTERNAL_H
#define HS_CAPTURE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hscapture.h"

/* ---------------------------------------------------------------------------------------------
 * Memory source (memsrc.c).  Reads try the primary segments (bytes copied from a stopped process
 * or mapped from a core's PT_LOAD), then the file segments (read-only file mappings served from
 * the file on disk, for what a core omits), then the caller's callback through a page cache.
 */
struct hs_memseg {
	uint64_t start, end;
	const uint8_t *data;
};

struct hs_memsrc {
	struct hs_memseg *segs; /* sorted by start, non-overlapping */
	size_t nsegs, segs_cap;
	struct hs_memseg *fsegs; /* file fallback, sorted */
	size_t nfsegs, fsegs_cap;
	size_t last;             /* index of the last segment hit (a one-entry lookup cache) */
	struct hs_mapping *maps; /* the target's mappings; paths owned */
	size_t nmaps;
	hs_memsrc_read_fn read;
	void *read_ctx;
	struct hs_pagecache *cache;
	struct hs_region *regions; /* what to unmap or free on destroy */
	double pause_seconds;
	int pid;
	char *what; /* for messages: "process PID", the core's path, or "the target" */
};

/* Fills m from a live process: stops it, copies its memory, resumes it.  The copy outlives the
 * process. */
struct hs_error *hs_memsrc_init_pid(struct hs_memsrc *m, int pid);
/* Fills m from an ELF core (PT_LOAD segments, NT_FILE file fallback). */
struct hs_error *hs_memsrc_init_core(struct hs_memsrc *m, const char *core_path);
/* Fills m with a caller's read function and mapping list. */
struct hs_error *hs_memsrc_init_callback(struct hs_memsrc *m, hs_memsrc_read_fn read, void *ctx,
                                         const struct hs_mapping *maps, size_t nmaps);
void hs_memsrc_deinit(struct hs_memsrc *m);
/* Reads len bytes at addr; false if any byte is unreadable. */
bool hs_mem_read(struct hs_memsrc *m, uint64_t addr, void *buf, size_t len);
/* A pointer to len readable bytes at addr inside one segment, or NULL (then use hs_mem_read). */
const uint8_t *hs_mem_peek(struct hs_memsrc *m, uint64_t addr, size_t len);

/* ---------------------------------------------------------------------------------------------
 * ELF helpers (elf.c), over libelf.
 */
struct stat;
/* Opens path read-only when it is a regular file, and only then: a FIFO (which would block the
 * open) or a device (whose open can act) named by a core or a target is never opened; nor is a
 * symbolic link as the last component unless follow.  Fills *fd_ret and *st_ret (may be NULL). */
struct hs_error *hs_open_regular(const char *path, bool follow, int *fd_ret, struct stat *st_ret);
struct hs_elf_sym {
	const char *name;
	uint64_t value; /* st_value, 0 when not found */
};
/* Looks up every name of syms[0..n) in PATH's .symtab and .dynsym. */
struct hs_error *hs_elf_symbols(const char *path, struct hs_elf_sym *syms, size_t n);
/* The build-id of PATH as lower-case hex into buf (41+ bytes); "" when it has none.  Also the
 * .gnu_debuglink name (or "") and the vaddr of the first PT_LOAD, and whether it has
 * .debug_info. */
struct hs_elf_info {
	char build_id[80];
	char debuglink[256];
	uint64_t first_load_vaddr;
	bool has_debug_info;
	bool is_core;
};
struct hs_error *hs_elf_info(const char *path, struct hs_elf_info *ret);

/* ---------------------------------------------------------------------------------------------
 * Layouts (dwarf.c): offsets and sizes by DWARF name, -1 where a member does not exist.
 * Each entry is (type names, member path): "|" separates alternatives, tried in order.
 */
#define HS_LAYOUT_FIELDS(X)                                                                        \
	X(RT_INTERP_HEAD, "pyruntimestate", "interpreters.head")                                   \
	X(RT_GC, "pyruntimestate", "gc")                                                           \
	X(IS_NEXT, "_is", "next")                                                                  \
	X(IS_THREADS_HEAD, "_is", "threads.head|tstate_head")                                      \
	X(IS_GC, "_is", "gc")                                                                      \
	X(IS_MODULES, "_is", "imports.modules|modules")                                            \
	X(IS_SYSDICT, "_is", "sysdict")                                                            \
	X(IS_BUILTINS, "_is", "builtins")                                                          \
	X(IS_TYPES_BUILTINS, "_is", "types.builtins.initialized|types.builtins")                   \
	X(SBS_SIZE, "static_builtin_state|managed_static_type_state", "sizeof")                    \
	X(SBS_TYPE, "static_builtin_state|managed_static_type_state", "type")                      \
	X(SBS_TP_DICT, "static_builtin_state|managed_static_type_state", "tp_dict")                \
	X(GCS_GENERATIONS, "_gc_runtime_state", "generations")                                     \
	X(GCS_PERMANENT, "_gc_runtime_state", "permanent_generation")                              \
	X(GCS_COLLECTING, "_gc_runtime_state", "collecting")                                       \
	X(GCGEN_SIZE, "gc_generation", "sizeof")                                                   \
	X(GCGEN_THRESHOLD, "gc_generation", "threshold")                                           \
	X(GCGEN_COUNT, "gc_generation", "count")                                                   \
	X(TS_NEXT, "_ts", "next")                                                                  \
	X(TS_FRAME, "_ts", "frame")                                                                \
	X(TS_CFRAME, "_ts", "cframe")                                                              \
	X(TS_CURRENT_FRAME, "_ts", "current_frame")                                                \
	X(TS_DICT, "_ts", "dict")                                                                  \
	X(CFRAME_CURRENT, "_PyCFrame", "current_frame")                                            \
	X(F_SIZE, "_frame", "sizeof")                                                              \
	X(F_BACK, "_frame", "f_back")                                                              \
	X(F_CODE, "_frame", "f_code")                                                              \
	X(F_BUILTINS, "_frame", "f_builtins")                                                      \
	X(F_GLOBALS, "_frame", "f_globals")                                                        \
	X(F_LOCALS, "_frame", "f_locals")                                                          \
	X(F_VALUESTACK, "_frame", "f_valuestack")                                                  \
	X(F_STACKTOP, "_frame", "f_stacktop")                                                      \
	X(F_STACKDEPTH, "_frame", "f_stackdepth")                                                  \
	X(F_TRACE, "_frame", "f_trace")                                                            \
	X(F_LOCALSPLUS, "_frame", "f_localsplus")                                                  \
	X(F_FRAME, "_frame", "f_frame")                                                            \
	X(F_EXTRA_LOCALS, "_frame", "f_extra_locals")                                              \
	X(F_LOCALS_CACHE, "_frame", "f_locals_cache")                                              \
	X(F_FRAME_DATA, "_frame", "_f_frame_data")                                                 \
	X(IF_CODE, "_PyInterpreterFrame", "f_executable|f_code")                                   \
	X(IF_FUNC, "_PyInterpreterFrame", "f_funcobj|f_func")                                      \
	X(IF_GLOBALS, "_PyInterpreterFrame", "f_globals")                                          \
	X(IF_BUILTINS, "_PyInterpreterFrame", "f_builtins")                                        \
	X(IF_LOCALS, "_PyInterpreterFrame", "f_locals")                                            \
	X(IF_FRAME_OBJ, "_PyInterpreterFrame", "frame_obj")                                        \
	X(IF_PREVIOUS, "_PyInterpreterFrame", "previous")                                          \
	X(IF_STACKTOP, "_PyInterpreterFrame", "stacktop")                                          \
	X(IF_OWNER, "_PyInterpreterFrame", "owner")                                                \
	X(IF_LOCALSPLUS, "_PyInterpreterFrame", "localsplus")                                      \
	X(GEN_FRAME, "PyGenObject", "gi_frame")                                                    \
	X(GEN_CODE, "PyGenObject", "gi_code")                                                      \
	X(GEN_NAME, "PyGenObject", "gi_name")                                                      \
	X(GEN_QUALNAME, "PyGenObject", "gi_qualname")                                              \
	X(GEN_EXC_STATE, "PyGenObject", "gi_exc_state")                                            \
	X(GEN_FRAME_STATE, "PyGenObject", "gi_frame_state")                                        \
	X(GEN_IFRAME, "PyGenObject", "gi_iframe")                                                  \
	X(GEN_ORIGIN_FIN, "PyGenObject", "gi_origin_or_finalizer")                                 \
	X(AG_FINALIZER, "PyAsyncGenObject", "ag_finalizer")                                        \
	X(EXC_TYPE, "_PyErr_StackItem", "exc_type")                                                \
	X(EXC_VALUE, "_PyErr_StackItem", "exc_value")                                              \
	X(EXC_TRACEBACK, "_PyErr_StackItem", "exc_traceback")                                      \
	X(TP_SIZE, "_typeobject", "sizeof")                                                        \
	X(TP_NAME, "_typeobject", "tp_name")                                                       \
	X(TP_BASICSIZE, "_typeobject", "tp_basicsize")                                             \
	X(TP_ITEMSIZE, "_typeobject", "tp_itemsize")                                               \
	X(TP_FLAGS, "_typeobject", "tp_flags")                                                     \
	X(TP_TRAVERSE, "_typeobject", "tp_traverse")                                               \
	X(TP_BASE, "_typeobject", "tp_base")                                                       \
	X(TP_DICT, "_typeobject", "tp_dict")                                                       \
	X(TP_DICTOFFSET, "_typeobject", "tp_dictoffset")                                           \
	X(TP_IS_GC, "_typeobject", "tp_is_gc")                                                     \
	X(TP_BASES, "_typeobject", "tp_bases")                                                     \
	X(TP_MRO, "_typeobject", "tp_mro")                                                         \
	X(TP_CACHE, "_typeobject", "tp_cache")                                                     \
	X(TP_SUBCLASSES, "_typeobject", "tp_subclasses")                                           \
	X(TP_DEL, "_typeobject", "tp_del")                                                         \
	X(TP_FINALIZE, "_typeobject", "tp_finalize")                                               \
	X(HT_SIZE, "_heaptypeobject", "sizeof")                                                    \
	X(HT_NAME, "_heaptypeobject", "ht_name")                                                   \
	X(HT_SLOTS, "_heaptypeobject", "ht_slots")                                                 \
	X(HT_QUALNAME, "_heaptypeobject", "ht_qualname")                                           \
	X(HT_CACHED_KEYS, "_heaptypeobject", "ht_cached_keys")                                     \
	X(HT_MODULE, "_heaptypeobject", "ht_module")                                               \
	X(MEMBER_SIZE, "PyMemberDef", "sizeof")                                                    \
	X(MEMBER_NAME, "PyMemberDef", "name")                                                      \
	X(MEMBER_TYPE, "PyMemberDef", "type")                                                      \
	X(MEMBER_OFFSET, "PyMemberDef", "offset")                                                  \
	X(LIST_ITEM, "PyListObject", "ob_item")                                                    \
	X(LIST_ALLOCATED, "PyListObject", "allocated")                                             \
	X(TUPLE_ITEM, "PyTupleObject", "ob_item")                                                  \
	X(DICT_KEYS, "PyDictObject", "ma_keys")                                                    \
	X(DICT_VALUES, "PyDictObject", "ma_values")                                                \
	X(DK_REFCNT, "_dictkeysobject", "dk_refcnt")                                               \
	X(DK_SIZE, "_dictkeysobject", "dk_size")                                                   \
	X(DK_LOG2_SIZE, "_dictkeysobject", "dk_log2_size")                                         \
	X(DK_LOG2_INDEX_BYTES, "_dictkeysobject", "dk_log2_index_bytes")                           \
	X(DK_KIND, "_dictkeysobject", "dk_kind")                                                   \
	X(DK_LOOKUP, "_dictkeysobject", "dk_lookup")                                               \
	X(DK_USABLE, "_dictkeysobject", "dk_usable")                                               \
	X(DK_NENTRIES, "_dictkeysobject", "dk_nentries")                                           \
	X(DK_INDICES, "_dictkeysobject", "dk_indices")                                             \
	X(DV_CAPACITY, "_dictvalues", "capacity")                                                  \
	X(DV_EMBEDDED, "_dictvalues", "embedded")                                                  \
	X(DV_VALID, "_dictvalues", "valid")                                                        \
	X(DV_VALUES, "_dictvalues", "values")                                                      \
	X(SET_MASK, "PySetObject", "mask")                                                         \
	X(SET_TABLE, "PySetObject", "table")                                                       \
	X(SET_SMALLTABLE, "PySetObject", "smalltable")                                             \
	X(FUNC_CODE, "PyFunctionObject", "func_code")                                              \
	X(FUNC_GLOBALS, "PyFunctionObject", "func_globals")                                        \
	X(FUNC_BUILTINS, "PyFunctionObject", "func_builtins")                                      \
	X(FUNC_NAME, "PyFunctionObject", "func_name")                                              \
	X(FUNC_QUALNAME, "PyFunctionObject", "func_qualname")                                      \
	X(FUNC_DEFAULTS, "PyFunctionObject", "func_defaults")                                      \
	X(FUNC_KWDEFAULTS, "PyFunctionObject", "func_kwdefaults")                                  \
	X(FUNC_CLOSURE, "PyFunctionObject", "func_closure")                                        \
	X(FUNC_DOC, "PyFunctionObject", "func_doc")                                                \
	X(FUNC_DICT, "PyFunctionObject", "func_dict")                                              \
	X(FUNC_MODULE, "PyFunctionObject", "func_module")                                          \
	X(FUNC_ANNOTATIONS, "PyFunctionObject", "func_annotations")                                \
	X(FUNC_TYPEPARAMS, "PyFunctionObject", "func_typeparams")                                  \
	X(CELL_REF, "PyCellObject", "ob_ref")                                                      \
	X(METHOD_FUNC, "PyMethodObject", "im_func")                                                \
	X(METHOD_SELF, "PyMethodObject", "im_self")                                                \
	X(IMETHOD_FUNC, "PyInstanceMethodObject", "func")                                          \
	X(SM_CALLABLE, "staticmethod", "sm_callable")                                              \
	X(SM_DICT, "staticmethod", "sm_dict")                                                      \
	X(CM_CALLABLE, "classmethod", "cm_callable")                                               \
	X(CM_DICT, "classmethod", "cm_dict")                                                       \
	X(PROP_GET, "propertyobject", "prop_get")                                                  \
	X(PROP_SET, "propertyobject", "prop_set")                                                  \
	X(PROP_DEL, "propertyobject", "prop_del")                                                  \
	X(PROP_DOC, "propertyobject", "prop_doc")                                                  \
	X(PROP_NAME, "propertyobject", "prop_name")                                                \
	X(CFUNC_ML, "PyCFunctionObject", "m_ml")                                                   \
	X(CFUNC_SELF, "PyCFunctionObject", "m_self")                                               \
	X(CFUNC_MODULE, "PyCFunctionObject", "m_module")                                           \
	X(CMETH_CLASS, "PyCMethodObject", "mm_class")                                              \
	X(ML_FLAGS, "PyMethodDef", "ml_flags")                                                     \
	X(DESCR_TYPE, "PyDescrObject", "d_type")                                                   \
	X(DESCR_NAME, "PyDescrObject", "d_name")                                                   \
	X(DESCR_QUALNAME, "PyDescrObject", "d_qualname")                                           \
	X(MOD_DICT, "PyModuleObject", "md_dict")                                                   \
	X(MOD_DEF, "PyModuleObject", "md_def")                                                     \
	X(MOD_STATE, "PyModuleObject", "md_state")                                                 \
	X(MOD_NAME, "PyModuleObject", "md_name")                                                   \
	X(MODDEF_SIZE, "PyModuleDef", "m_size")                                                    \
	X(EXC_DICT, "PyBaseExceptionObject", "dict")                                               \
	X(EXC_ARGS, "PyBaseExceptionObject", "args")                                               \
	X(EXC_NOTES, "PyBaseExceptionObject", "notes")                                             \
	X(EXC_TB, "PyBaseExceptionObject", "traceback")                                            \
	X(EXC_CONTEXT, "PyBaseExceptionObject", "context")                                         \
	X(EXC_CAUSE, "PyBaseExceptionObject", "cause")                                             \
	X(TB_NEXT, "PyTracebackObject", "tb_next")                                                 \
	X(TB_FRAME, "PyTracebackObject", "tb_frame")                                               \
	X(SLICE_START, "PySliceObject", "start")                                                   \
	X(SLICE_STOP, "PySliceObject", "stop")                                                     \
	X(SLICE_STEP, "PySliceObject", "step")                                                     \
	X(WR_OBJECT, "_PyWeakReference", "wr_object")                                              \
	X(WR_CALLBACK, "_PyWeakReference", "wr_callback")                                          \
	X(CO_NLOCALSPLUS, "PyCodeObject", "co_nlocalsplus")                                        \
	X(CO_STACKSIZE, "PyCodeObject", "co_stacksize")                                            \
	X(CO_CODE, "PyCodeObject", "co_code")                                                      \
	X(CO_CONSTS, "PyCodeObject", "co_consts")                                                  \
	X(CO_NAMES, "PyCodeObject", "co_names")                                                    \
	X(CO_VARNAMES, "PyCodeObject", "co_varnames")                                              \
	X(CO_FREEVARS, "PyCodeObject", "co_freevars")                                              \
	X(CO_CELLVARS, "PyCodeObject", "co_cellvars")                                              \
	X(CO_CELL2ARG, "PyCodeObject", "co_cell2arg")                                              \
	X(CO_FILENAME, "PyCodeObject", "co_filename")                                              \
	X(CO_NAME, "PyCodeObject", "co_name")                                                      \
	X(CO_QUALNAME, "PyCodeObject", "co_qualname")                                              \
	X(CO_LINETABLE, "PyCodeObject", "co_linetable|co_lnotab")                                  \
	X(CO_EXCEPTIONTABLE, "PyCodeObject", "co_exceptiontable")                                  \
	X(CO_LOCALSPLUSNAMES, "PyCodeObject", "co_localsplusnames")                                \
	X(CO_LOCALSPLUSKINDS, "PyCodeObject", "co_localspluskinds")                                \
	X(CO_ZOMBIEFRAME, "PyCodeObject", "co_zombieframe")                                        \
	X(CO_CODE311, "PyCodeObject", "_co_code")                                                  \
	X(CO_LINEARRAY, "PyCodeObject", "_co_linearray")                                           \
	X(CO_LINEARRAY_ES, "PyCodeObject", "_co_linearray_entry_size")                             \
	X(CO_CACHED, "PyCodeObject", "_co_cached")                                                 \
	X(CO_OPCACHE, "PyCodeObject", "co_opcache")                                                \
	X(CO_OPCACHE_SIZE, "PyCodeObject", "co_opcache_size")                                      \
	X(OPCACHE_SIZE, "_PyOpcache", "sizeof")                                                    \
	X(COC_CODE, "_PyCoCached", "_co_code")                                                     \
	X(COC_VARNAMES, "_PyCoCached", "_co_varnames")                                             \
	X(COC_CELLVARS, "_PyCoCached", "_co_cellvars")                                             \
	X(COC_FREEVARS, "_PyCoCached", "_co_freevars")                                             \
	X(LONG_LV_TAG, "_longobject", "long_value.lv_tag")                                         \
	X(ASCII_SIZE, "PyASCIIObject", "sizeof")                                                   \
	X(ASCII_LENGTH, "PyASCIIObject", "length")                                                 \
	X(ASCII_STATE, "PyASCIIObject", "state")                                                   \
	X(ASCII_WSTR, "PyASCIIObject", "wstr")                                                     \
	X(CUNI_SIZE, "PyCompactUnicodeObject", "sizeof")                                           \
	X(CUNI_UTF8_LENGTH, "PyCompactUnicodeObject", "utf8_length")                               \
	X(CUNI_UTF8, "PyCompactUnicodeObject", "utf8")                                             \
	X(CUNI_WSTR_LENGTH, "PyCompactUnicodeObject", "wstr_length")                               \
	X(UNI_SIZE, "PyUnicodeObject", "sizeof")                                                   \
	X(UNI_DATA, "PyUnicodeObject", "data")                                                     \
	X(BYTEARRAY_ALLOC, "PyByteArrayObject", "ob_alloc")                                        \
	X(BYTES_SVAL, "PyBytesObject", "ob_sval")                                                  \
	X(FLOAT_FVAL, "PyFloatObject", "ob_fval")

enum hs_layout_field {
#define HS_X(id, type, member) HS_L_##id,
	HS_LAYOUT_FIELDS(HS_X)
#undef HS_X
	    HS_L_COUNT
};

struct hs_layout {
	int64_t v[HS_L_COUNT]; /* byte offset, or the size for "sizeof"; -1 when absent */
};

/* A table of (type names, member path) entries, as HS_LAYOUT_FIELDS spells them. */
struct hs_layout_table {
	const char *const *types, *const *members;
	size_t n;
};
/* Resolves table t from the DWARF of elf_path into ret[0..t->n) (-1 where absent), cached by
 * build-id and table as hs_layout_load does. */
struct hs_error *hs_layout_load_table(const char *elf_path, const char *cache_dir,
                                      const struct hs_layout_table *t, int64_t *ret);

/* Fills ret from the DWARF of the ELF file elf_path (whose build-id is build_id, "" if none),
 * looking for it in the file, its .gnu_debuglink and /usr/lib/debug/.build-id, and caching
 * the table in cache_dir (NULL: the default) by build-id. */
struct hs_error *hs_layout_load(const char *elf_path, const char *cache_dir, struct hs_layout *ret);

/* ---------------------------------------------------------------------------------------------
 * The walker (walker.c): everything between a memory source and a written snapshot.
 */

/* Type flags that DWARF does not carry (Include/object.h). */
#define HS_TPF_INLINE_VALUES (1ull << 2)   /* 3.13 */
#define HS_TPF_MANAGED_WEAKREF (1ull << 3) /* 3.12+ */
#define HS_TPF_MANAGED_DICT (1ull << 4)    /* 3.11+ */
#define HS_TPF_HEAPTYPE (1ull << 9)
#define HS_TPF_HAVE_GC (1ull << 14)
#define HS_TPF_TYPE_SUBCLASS (1ull << 31)

struct walker;
/* What walker.c offers the files that walk further kinds (kinds_stdlib.c).  src is the index of
 * the object whose edges are being made (the current object). */
bool hs_wk_read(struct walker *w, uint64_t addr, void *buf, size_t len);
uint64_t hs_wk_u64(struct walker *w, uint64_t addr); /* 0 when unreadable */
int hs_wk_minor(const struct walker *w);             /* the target's 3.x */
/* An edge from src to the object at dst (none when dst is 0 or not an object); label "" for none.
 */
struct hs_error *hs_wk_edge(struct walker *w, uint64_t src, uint64_t dst, uint8_t kind,
                            const char *label);
/* A traverse edge from src to the object at dst labelled by position, as a tuple's items. */
struct hs_error *hs_wk_edge_index(struct walker *w, uint64_t src, uint64_t dst, uint64_t index);
/* The edges and sys.getsizeof size (without the GC header) of the dict part of the object o of
 * type `type`; keys_visited: its tp_traverse visits every key itself (OrderedDict's node list), so
 * each key gets a traverse edge labelled <key>. */
struct hs_error *hs_wk_dict(struct walker *w, uint64_t src, uint64_t o, uint64_t type,
                            bool keys_visited, uint64_t *size);
/* Counts a warning (the snapshot's warnings meta); the first one is kept as first_warning. */
void hs_wk_warn(struct walker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------------------------------------
 * The standard library's C types (kinds_stdlib.c).
 */
enum hs_stdlib_kind {
	HS_SK_NONE,
	HS_SK_DEQUE,
	HS_SK_ODICT,
	HS_SK_DEFDICT,
	HS_SK_PARTIAL,
	HS_SK_LRU,
	HS_SK_FUTURE,
	HS_SK_TASK,
	HS_SK_CONTEXT,
	HS_SK_CONTEXTVAR,
	HS_SK_TOKEN,
	HS_SK_HAMT,
	HS_SK_HAMT_BITMAP,
	HS_SK_HAMT_ARRAY,
	HS_SK_HAMT_COLLISION,
	HS_SK_NAMESPACE,
	HS_SK_MAPPINGPROXY,
	HS_SK_ELEMENT,
	HS_SK_ARRAY,
	HS_SK_ARRAY_STATIC,
	HS_SK_TUPLEGETTER,
	HS_SK_ABC_DATA,
	HS_SK_METHOD_WRAPPER,
	HS_SK_COUNT,
	HS_SK_REPEAT,
	HS_SK_CYCLE,
	HS_SK_CHAIN,
	HS_SK_ISLICE,
	HS_SK_FUTUREITER,
	HS_SK_TASKSTEP,
	HS_SK_TASKWAKEUP,
	HS_SK_STRUCTSEQ,
	HS_SK_LRU_ELEM,
	HS_STDLIB_KINDS
};
struct hs_stdlib;
/* Finds the kinds' symbols and layouts in libpython and the stdlib extension modules among m's
 * mappings (what cannot be found stays unknown: not an error). */
struct hs_error *hs_stdlib_load(const struct hs_memsrc *m, const char *cache_dir,
                                struct hs_stdlib **ret);
void hs_stdlib_free(struct hs_stdlib *s);
/* The kind of a type from its address and tp_traverse (or its tp_dealloc), or HS_SK_NONE. */
int hs_stdlib_kind(struct walker *w, const struct hs_stdlib *s, uint64_t type, uint64_t traverse);
/* One object of a stdlib kind, as hs_stdlib_walk needs it. */
struct hs_stdlib_obj {
	int kind;            /* enum hs_stdlib_kind */
	uint64_t src;        /* its index in the walker */
	uint64_t addr, type; /* its address, its type's */
	uint64_t type_flags; /* its type's tp_flags */
	bool heap;           /* the C type of the kind is a heap type (its traverse visits type) */
};
/* The object's edges as its tp_traverse visits them, and its size: *size holds object.__sizeof__
 * on entry, sys.getsizeof's (without the GC header) on return. */
struct hs_error *hs_stdlib_walk(struct walker *w, const struct hs_stdlib *s,
                                const struct hs_stdlib_obj *ob, uint64_t *size);
struct hs_error *hs_walk_and_write(struct hs_memsrc *m, enum hs_method method, const char *exe,
                                   const char *out_path, const struct hs_capture_options *opts,
                                   struct hs_capture_stats *stats);

#endif
