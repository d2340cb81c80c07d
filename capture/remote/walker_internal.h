/*
 * walker_internal.h — what the walker's files (walker*.c) share and nobody else sees: the
 * constants DWARF lacks, the object kinds, the walker's tables (types, objects, edges, strings,
 * previews, roots, weak links), the inline readers of target memory (rd, u64, fld) every file
 * uses, and what each file offers the others.
 */
#ifndef HS_WALKER_INTERNAL_H
#define HS_WALKER_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../cpython/kinds.h"
#include "../cpython/labels.h"
#include "../cpython/memory.h"
#include "../cpython/preview.h"
#include "../cpython/sizes.h"
#include "internal.h"
#include "pyrepr.h"

/* Constants DWARF does not carry (Include/): the type flags are capture/cpython/flags.h's. */
#define HS_T_OBJECT_EX 16
#define HS_METH_METHOD 0x200
#define HS_FRAME_OWNED_BY_FRAME_OBJECT 2
#define HS_FRAME_OWNED_BY_CSTACK 3
#define HS_FRAME_CLEARED 4
#define HS_DICT_KEYS_GENERAL 0
#define HS_MAX_OBJECTS (1ull << 31)
#define HS_MAX_ITEMS (1ll << 28)             /* bound on any container's item count */
#define HS_PREVIEW_CHARS HS_CP_PREVIEW_CHARS /* value previews keep this many characters */

enum kind {
	K_OTHER, /* unknown: conservative scan */
	K_OBJECT,
	K_SUBTYPE, /* tp_traverse == subtype_traverse; base_kind says what follows */
	K_TYPE,
	K_LIST,
	K_TUPLE,
	K_DICT,
	K_SET,
	K_FUNC,
	K_CELL,
	K_METHOD,
	K_IMETHOD,
	K_SM,
	K_CM,
	K_PROP,
	K_CFUNC,
	K_DESCR,
	K_MODULE,
	K_CODE,
	K_FRAME,
	K_GEN,
	K_ASYNCGEN,
	K_WEAKREF,
	K_EXC,
	K_TB,
	K_SLICE,
	K_STR,
	K_INT,
	K_FLOAT,
	K_BYTES,
	K_BYTEARRAY,
	K_NONE,
	K_LEAF,   /* no references at all (NotImplemented, Ellipsis, ...) */
	K_STDLIB, /* a standard library C type: kinds_stdlib.c (tinfo.std says which) */
};

/* The static types (and other symbols) the walker knows by name (walker_types.c). */
struct hs_wk_known {
	const char *sym;
	enum kind kind;
};
#define NKNOWN 42
extern const struct hs_wk_known hs_wk_known_types[NKNOWN];

/* Other symbols: indexes into struct walker.sym after the known types. */
enum {
	SYM_TYPE = 1, /* hs_wk_known_types[1], PyType_Type */
	SYM_RUNTIME = NKNOWN,
	SYM_SUBTYPE_TRAVERSE,
	SYM_LOOKDICT,
	SYM_SET_DUMMY,
	SYM_NONE,
	SYM_EXC_PTR,
	SYM_TM_CONFIG, /* 3.8-3.11: _Py_tracemalloc_config (exported) */
	SYM_TM_TRACES, /* 3.8-3.11: tracemalloc_traces (a static: .symtab only) */
	SYM_COUNT
};

struct tinfo {
	uint64_t addr;
	bool valid;
	enum kind kind, base_kind;
	int std; /* enum hs_stdlib_kind of kind or base_kind K_STDLIB */
	uint64_t flags, basicsize, itemsize, traverse, is_gc, base, finalize, del;
	int64_t dictoffset, base_dictoffset; /* base: the first non-subtype base's */
	bool base_heap, base_has_traverse;
	bool discovered;                 /* the type object itself is in the snapshot */
	bool sizeof_checked, own_sizeof; /* has_own_sizeof, computed once */
	uint64_t *slots;                 /* T_OBJECT_EX offsets along the subtype chain */
	uint32_t *slot_names;
	size_t nslots;
	uint32_t hs_type;
	char *name;
	/* What the snapshot says of it, read before the target runs again (names_read). */
	char *out_name, *out_module, *out_qual; /* out_qual: NULL unless a heap type */
};

struct obj {
	uint64_t addr, type, size, refcnt;
	uint64_t edge_first;
	uint64_t value; /* offset + 1 of the preview in walker.vals (u16 length, bytes) */
	uint32_t nedges;
	int32_t memory_delta; /* its memory less its size (capture/cpython/memory.h) */
	uint8_t flags, gen;
};

struct hslot {
	uint64_t addr, idx1;
};

struct edge {
	uint64_t dst; /* object index */
	uint64_t label;
	uint8_t kind, form;
};

struct root {
	uint64_t obj;
	uint32_t kind, name;
};

struct weak {
	uint64_t ref, referent, callback; /* object indexes + 1 */
};

struct walker {
	struct hs_memsrc *m;
	struct hs_python py;
	struct hs_layout L; /* py.L */
	int minor;
	char symbols_from[160]; /* for the snapshot's meta */
	uint64_t sym[SYM_COUNT];
	uint64_t known_traverse[NKNOWN];
	uint64_t set_dummy, none, bool_type;
	const struct hs_capture_options *opts;
	struct hs_stdlib *std;

	struct obj *objs;
	uint64_t nobjs, objs_cap;
	struct hslot *hash; /* open addressing: addr -> index + 1 (one cache line per probe) */
	uint64_t hcap;

	struct edge *edges;
	uint64_t nedges, edges_cap;

	uint64_t *work;
	uint64_t nwork, work_cap;

	struct tinfo **types; /* open addressing by type address */
	uint64_t tcap, ntypes;

	char **strs; /* string table: my ids */
	uint32_t nstrs, strs_cap;
	uint32_t *shash;
	uint32_t shcap;

	char *vals; /* value previews, not interned: most are unique */
	uint64_t nvals, vals_cap;
	struct root *roots;
	uint64_t nroots, roots_cap;
	struct weak *weaks;
	uint64_t nweaks, weaks_cap;

	uint64_t warnings;
	char first_warning[256];
	bool collecting;
	/* The first interpreter's gc.get_threshold() and gc.get_count(), when its layout has them.
	 */
	bool gc_known;
	int32_t gc_threshold[3], gc_count[3];
	uint64_t sysdict;
	char version[64]; /* runtime_version, read before the target runs again */
	/* Allocation sites (walker_sites.c), by object index, when tracemalloc traces: the file's
	 * string id + 1 (0: unknown) and line; sites_note: "unavailable: WHY" or "incomplete: WHY",
	 * or "". */
	uint32_t *site_file, *site_line;
	char sites_note[256];
};

static inline struct hs_error *nomem_if(bool bad)
{
	return bad ? &hs_error_nomem : NULL;
}

static inline uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* Reading target memory: rd copies len bytes (false when unreadable), u64 a word (0 then). */
static inline bool rd(struct walker *w, uint64_t addr, void *buf, size_t len)
{
	const uint8_t *p = hs_mem_peek(w->m, addr, len);
	if (p) {
		memcpy(buf, p, len);
		return true;
	}
	return hs_mem_read(w->m, addr, buf, len);
}

static inline uint64_t u64(struct walker *w, uint64_t addr)
{
	uint64_t v = 0;
	if (!rd(w, addr, &v, 8))
		return 0;
	return v;
}

/* A field of the object at base; 0 when the field does not exist in this version. */
static inline uint64_t fld(struct walker *w, uint64_t base, enum hs_layout_field f)
{
	return w->L.v[f] < 0 ? 0 : u64(w, base + (uint64_t)w->L.v[f]);
}

static inline int64_t ob_size(struct walker *w, uint64_t o)
{
	return (int64_t)u64(w, o + 16);
}

static inline int64_t i64f(struct walker *w, uint64_t t, enum hs_layout_field f)
{
	return (int64_t)fld(w, t, f);
}

/* The label of the references the in-process writer leaves unlabelled, in field tables. */
#define HS_WK_UNLABELLED HS_CP_UNLABELLED

/* One row of a kind's field table: a member of the layout holding a reference, the edge's kind
 * (HS_EDGE_*) and its label (capture/cpython/labels.h), or HS_WK_UNLABELLED. */
struct field_edge {
	enum hs_layout_field f;
	uint8_t kind;
	enum hs_cp_label label; /* or HS_WK_UNLABELLED */
};

/* field_edges over a whole static table. */
#define FIELD_EDGES(w, src, o, t) hs_wk_field_edges(w, src, o, t, sizeof(t) / sizeof((t)[0]))

struct dkeys {
	uint64_t addr, nentries, size, entries;
	int64_t usable, refcnt;
	unsigned entry_size, index_bytes_log2;
	bool general;
	uint64_t keys_size; /* _PyDict_KeysSize */
};

/* A preview length that marks a float's 8 raw bytes, its repr written with the snapshot (after
 * the target runs again: formatting a double is slow); previews are never this long. */
#define HS_VAL_FLOAT 0xffff

/* ---------------------------------------------------------------------------------------------
 * What the walker's files offer each other, by the file that defines it.
 */

/* walker_objects.c: the object set, edges, previews and strings.  src and idx are the index of
 * the object whose edges are being made. */
bool hs_wk_grow(void **p, uint64_t *cap, uint64_t need, size_t elem); /* false: no memory */
uint32_t hs_wk_intern_c(struct walker *w, const char *s);             /* 0 ("") on no memory */
uint64_t hs_wk_obj_find(struct walker *w, uint64_t addr);             /* index + 1, or 0 */
/* The type of the live object at addr (its refcount in *refcnt), or NULL. */
struct tinfo *hs_wk_obj_check(struct walker *w, uint64_t addr, uint64_t *refcnt);
/* Adds a validated object and queues it; *ret: its index + 1. */
struct hs_error *hs_wk_obj_add(struct walker *w, uint64_t addr, uint64_t type, uint64_t refcnt,
                               uint8_t flags, uint8_t gen, uint64_t *ret);
/* *ret: the index + 1 of the object at addr, discovered if new; 0 when it is none. */
struct hs_error *hs_wk_discover(struct walker *w, uint64_t addr, uint64_t *ret);
/* An edge with a label of form HS_LABEL_* (KEY, ATTR: label is an object's address). */
struct hs_error *hs_wk_edge_label(struct walker *w, uint64_t src, uint64_t dst_addr, uint8_t kind,
                                  uint8_t form, uint64_t label);
/* The edge of the field f of the struct at o, labelled (none where the layout lacks f). */
struct hs_error *hs_wk_edge_f(struct walker *w, uint64_t src, uint64_t o, enum hs_layout_field f,
                              uint8_t kind, enum hs_cp_label label);
/* The edges of kind k's fixed fields (capture/cpython/kinds.h) of the struct at o, in order. */
struct hs_error *hs_wk_kind_edges(struct walker *w, uint64_t src, uint64_t o, enum hs_cp_kind k);
struct hs_error *hs_wk_field_edges(struct walker *w, uint64_t src, uint64_t o,
                                   const struct field_edge *t, size_t n);
/* The words of [from, to) that are objects, as conservative edges. */
struct hs_error *hs_wk_scan(struct walker *w, uint64_t src, uint64_t from, uint64_t to);
struct hs_error *hs_wk_set_value(struct walker *w, uint64_t idx, const char *s, size_t n);

/* walker_types.c: the type table. */
struct tinfo *hs_wk_type_get(struct walker *w, uint64_t t); /* validated, or NULL */
bool hs_wk_in_mro(struct walker *w, uint64_t t, enum kind k);
bool hs_wk_has_own_sizeof(struct walker *w, uint64_t t);
/* Every valid type's names, and the runtime's version, read before the target runs again. */
struct hs_error *hs_wk_names_read(struct walker *w);

/* walker_dicts.c: dicts. */
bool hs_wk_dkeys_read(struct walker *w, uint64_t k, struct dkeys *d); /* false: not a key table */
uint64_t hs_wk_entry_key(struct walker *w, const struct dkeys *d, uint64_t i);
/* The edges and size (without the GC header) of the dict part of o. */
struct hs_error *hs_wk_dict_edges(struct walker *w, uint64_t src, uint64_t o, uint64_t *size,
                                  const struct tinfo *ti, bool keys_visited);
/* The value of the str key `key` in the dict at dict, or 0; _str: only when it is an object. */
uint64_t hs_wk_dict_get_str_raw(struct walker *w, uint64_t dict, const char *key);
uint64_t hs_wk_dict_get_str(struct walker *w, uint64_t dict, const char *key);

/* walker_values.c: value previews. */
/* The str's text as UTF-8 into buf; returns its length (*sizeof_ret: its getsizeof size). */
size_t hs_wk_str_text(struct walker *w, uint64_t o, char *buf, size_t size, uint64_t *sizeof_ret);
bool hs_wk_str_at(struct walker *w, uint64_t o, char *buf, size_t size); /* false: not a str */
#define HS_WK_NAME_BYTES HS_CP_TEXT_BYTES(HS_CP_NAME_CHARS)
const char *hs_wk_name_at(struct walker *w, uint64_t o, char *buf);
void hs_wk_runtime_version(struct walker *w, char *buf, size_t size);
struct hs_error *hs_wk_float_value(struct walker *w, uint64_t idx, uint64_t o);
/* None, str, int and bool, float, bytes: their previews (and a str's or int's size). */
struct hs_error *hs_wk_walk_value(struct walker *w, uint64_t idx, uint64_t o, enum kind kind,
                                  const struct tinfo *ti, uint64_t *size);

/* walker_kinds.c: references and sizes by kind. */
/* The edges a subtype instance has before its base kind's (slots, dict, class). */
struct hs_error *hs_wk_subtype_edges(struct walker *w, uint64_t src, uint64_t o,
                                     const struct tinfo *ti);
/* The edges and size of o by its kind (*size holds the default size on entry). */
struct hs_error *hs_wk_walk_kind(struct walker *w, uint64_t idx, uint64_t o, const struct tinfo *ti,
                                 enum kind kind, uint64_t *size);

/* walker_frames.c: frames and generators (K_FRAME, K_GEN, K_ASYNCGEN). */
struct hs_error *hs_wk_walk_frame(struct walker *w, uint64_t idx, uint64_t o, uint64_t *size);
struct hs_error *hs_wk_walk_gen(struct walker *w, uint64_t idx, uint64_t o, enum kind kind,
                                uint64_t *size);

/* walker_memory.c: sizes and memory. */
/* The bytes before an instance of ti in its allocation: GC header, 3.11's managed dict, 3.12+'s
 * pre-header. */
uint64_t hs_wk_preheader(struct walker *w, const struct tinfo *ti);
uint64_t hs_wk_getsizeof_extra(struct walker *w, uint64_t o, const struct tinfo *ti);
uint64_t hs_wk_default_size(struct walker *w, uint64_t o, const struct tinfo *ti);
int64_t hs_wk_memory_delta(struct walker *w, uint64_t o, const struct tinfo *ti, enum kind kind,
                           uint64_t size);

/* walker_roots.c: the GC lists and roots of every interpreter. */
struct hs_error *hs_wk_walk_runtime(struct walker *w);

/* walker_sites.c: allocation sites, when tracemalloc traces in the target. */
/* Every object's most recent allocation frame, from tracemalloc's traces table, while the
 * target is stopped; a table that cannot be read leaves sites_note (the capture goes on). */
struct hs_error *hs_wk_read_sites(struct walker *w);
/* Object idx's site (sid: the writer's ids of the walker's strings); nothing without sites. */
struct hs_error *hs_wk_write_site(struct walker *w, struct hs_writer *wr, uint64_t idx,
                                  const uint32_t *sid);

/* walker_write.c: the snapshot, objects in address order. */
struct hs_error *hs_wk_write_snapshot(struct walker *w, enum hs_method method, int pid,
                                      const char *out_path, struct hs_capture_stats *stats);

#endif
