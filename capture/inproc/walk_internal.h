/*
 * walk_internal.h — what the in-process walker's files (walk*.c) share and nobody else sees: its
 * limits, the label ids (the labels are capture/cpython/labels.h's), the object set's pages, the
 * type table's entries, the sizes called before the walk, roots, weak links, the work arrays kept
 * between dumps, and struct walk; and what each file offers the others.
 */
#ifndef HS_INPROC_WALK_INTERNAL_H
#define HS_INPROC_WALK_INTERNAL_H

#include "../cpython/kinds.h"
#include "../cpython/labels.h"
#include "../cpython/preview.h"
#include "../cpython/sizes.h"
#include "cpython.h"
#include "memory.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "mailbox.h"
#include "pyrepr.h"
#include "walk.h"

/* Generation codes: 0-2 the generations, 3 the permanent one, 4 not on a GC list. */
#define GEN_CODE_NONE 4
#define PROGRESS_EVERY (1u << 18)
#define LINEAR_LABELS 8                   /* label maps up to this size are searched linearly */
#define PREVIEW_CHARS HS_CP_PREVIEW_CHARS /* value previews keep this many characters */

/* Names (of types, modules, functions, files in root names) keep this many characters, and
 * take up to NAME_BYTES bytes in UTF-8 (cstr). */
#define NAME_CHARS HS_CP_NAME_CHARS
#define NAME_BYTES (4 * NAME_CHARS + 8)
#define REASON_CHARS 64 /* of an exception's message in sizeof.failed (exception_reason) */
#define TYPE_CACHE 8    /* recent type lookups kept (a power of two) */
#define KEY_CACHE 256   /* dict keys and attribute names whose index emit found (key_index) */
#define FOLLOW_STEP 4   /* objects pass 1 follows per entry of the GC lists (see collect) */
#define VOTE_EVERY 64   /* of the objects pass 1 follows, one in this many votes (vote_size) */
#define TWO_THREADS_MIN 200000 /* objects from which a dump emits with two threads by default */
#define LISTED_COST 12 /* a GC object's emit costs as much as this many others (split_pages) */
#define SIZE_ROUNDS 4  /* walks that may call __sizeof__ before the one written (call_sizes) */
#define SIZEOF_CALL_SECONDS 1.0    /* a __sizeof__ call is interrupted after this (call_timer) */
#define SIZEOF_BUDGET_SECONDS 10.0 /* the calls of a dump start within this */

/* The object set: one bit per 8-byte word of the heap, a 64-byte bitmap for each 4 KiB page that
 * holds an object, the pages found through an open-addressing table of page numbers.  Bitmaps
 * and table stay small enough for the cache (a heap of 1M objects in 100 MB: 25k pages, 2 MB),
 * where a table of addresses would cost a cache miss per edge.  Once the walk has found
 * everything, set_rank gives each page the number of objects at lower addresses: an object's
 * index in address order is then that base plus the bits below its own, with no sort. */
#define PAGE_SHIFT 12
#define PAGE_BITS (1u << (PAGE_SHIFT - 3))
#define PAGE_WORDS (PAGE_BITS / 64)

struct page {
	uint64_t bits[PAGE_WORDS];
	uint32_t base;               /* objects in lower pages */
	uint32_t before[PAGE_WORDS]; /* objects in the earlier words of this page */
	uint32_t gen; /* its struct page_gen, or NO_GEN: none of its objects is listed */
};

#define NO_GEN UINT32_MAX

/* The object of bit b of word w of the bitmap of the page at base (the inverse of set_find's
 * bit of an address). */
static inline PyObject *hs_ip_page_object(uintptr_t base, unsigned w, unsigned b)
{
	return (PyObject *)(base + ((uintptr_t)w * 64 + b) * 8);
}

/* The generation codes of the objects of a page found on the GC lists (the others are
 * GEN_CODE_NONE); only pages that hold such objects have one. */
struct page_gen {
	uint64_t listed[PAGE_WORDS], bit0[PAGE_WORDS], bit1[PAGE_WORDS];
};

struct page_slot {
	uint64_t no; /* page number (address >> PAGE_SHIFT), 0 for an empty slot */
	uint32_t page;
};

struct objset {
	struct page_slot *slot;
	size_t mask;
	struct page *pages;
	uint64_t *page_no;
	size_t npages, pages_cap, page_no_cap;
	struct page_gen *gens;
	size_t ngens, gens_cap;
	struct hs_keyed *order; /* the pages in address order (page number, index), by set_rank */
	struct hs_keyed *order_tmp;
	size_t order_cap, order_tmp_cap;
	uint64_t last_no; /* the page of the last lookup, which the next one often hits */
	uint32_t last_page;
};

/* An owned edge, or a label offered for a referent.  For HS_LABEL_KEY and HS_LABEL_ATTR, value
 * is the key object's address until it is resolved to an index. */
struct label {
	PyObject *ptr;
	uint64_t value;
	uint8_t form;
	bool owned; /* not found among the traverse edges: the object still owns the reference */
	bool used;
	int32_t next; /* next label for the same ptr, -1 at the end */
};

struct label_slot {
	PyObject *ptr;
	int32_t head, tail;
};

enum size_kind {
	SIZE_DEFAULT,   /* object.__sizeof__: basicsize + ob_size * itemsize */
	SIZE_CFUNC,     /* a METH_NOARGS C __sizeof__, called directly */
	SIZE_USER,      /* a __sizeof__ that may run Python code or allocate: written in Python,
	                 * or a C function outside the interpreter's binary; called before the
	                 * walk (call_sizes), never while it runs */
	SIZE_STR,       /* the builtin's __sizeof__, computed here (SIZE_CFUNC when in doubt) */
	SIZE_INT,       /* ... */
	SIZE_LIST,      /* ... */
	SIZE_SET,       /* ... (set and frozenset share theirs) */
	SIZE_BYTEARRAY, /* ... */
};

enum shape {
	SHAPE_OTHER,
	SHAPE_DICT,
	SHAPE_SEQUENCE,
	SHAPE_TYPE,
	SHAPE_CODE,
	SHAPE_MODULE,
	SHAPE_FUNCTION,
	SHAPE_CELL,
	SHAPE_SLICE,
	SHAPE_WRAPPER, /* classmethod, staticmethod: their __dict__ */
	SHAPE_METHOD,
	SHAPE_IMETHOD, /* instancemethod */
	SHAPE_CFUNCTION,
	SHAPE_WEAKREF,
	SHAPE_EXCEPTION,
	SHAPE_DESCRIPTOR,
	SHAPE_FRAME,
	SHAPE_LRU_LINK, /* functools' lru_cache link: no traverse, owns its key and result */
};

struct type_info {
	PyTypeObject *tp;
	uint32_t id;
	bool declared;
	bool heap;    /* a heap type: its instances own a reference to it */
	bool subtype; /* made by a class statement: tp_traverse is subtype_traverse */
	bool plain;   /* no labels and no owned edges (static type of SHAPE_OTHER): skip both */
	bool gc;      /* instances may be GC objects with references to visit (see is_gc) */
	bool added;   /* the type object is in the walk's set */
	bool traverse_alone; /* its tp_traverse may run on emit's second thread (traverse_alone) */
	bool sizeof_c;  /* SIZE_USER by an extension's C method, not Python code (call_sizes) */
	bool valued;    /* instances may have a value preview (hs_ip_preview's types) */
	bool anyset;    /* a subtype of set or frozenset (hs_memory) */
	bool bytearray; /* a subtype of bytearray (hs_memory) */
	uint8_t shape;
	uint8_t size_kind;
	PyCFunction sizeof_fn;
	uint64_t size_vote; /* the size declared as the type's: its objects' majority (vote_size) */
	uint64_t votes;
	uint64_t voters;    /* its objects that voted: the most common types are declared first */
	uint32_t *slot_ids; /* a class statement's class: its __slots__' labels (label_instance) */
};

/* A size taken by calling a SIZE_USER __sizeof__ before the walk (call_sizes). */
enum called_state {
	CALLED_OK,      /* size is sys.getsizeof's answer */
	CALLED_FAILED,  /* __sizeof__ raised: size is the basic size */
	CALLED_TIMEOUT, /* interrupted after SIZEOF_CALL_SECONDS: the basic size */
	CALLED_SKIPPED, /* not called (time budget or rounds spent): the basic size */
};

struct called {
	uint64_t addr; /* 0: dropped (the object was freed) */
	uint64_t size;
	uint8_t state;
	bool held;    /* the dump holds a reference to it, which emit leaves out of its refcount */
	char *reason; /* why there is no answer (malloc'd), or NULL */
};

struct root {
	PyObject *obj;
	const char *kind;
	char *name;
};

struct weak_link {
	uint64_t ref;
	PyObject *referent, *callback;
};

/* The arrays of a walk that grow with the heap (its object set and pass 1's stack, some 6 bytes
 * per object) or with its biggest object (that object's edges and labels, some 80 bytes per
 * edge): kept from one dump for the next (see spare). */
struct work {
	struct objset set;
	PyObject **stack;     /* pass 1's worklist: found, references not followed yet */
	PyObject **tedges;    /* the current object's traverse edges */
	struct hs_edge *out;  /* the current object's edges as written */
	struct label *owned;  /* the current object's owned edges */
	struct label *labels; /* the current object's label map */
	struct label_slot *slots;
	size_t stack_cap, tedges_cap, out_cap, owned_cap, labels_cap, slots_cap;
};

struct walk {
	const struct hs_inproc_options *opts;
	struct hs_writer *w;
	uint32_t label_id[HS_CP_NLABELS];
	bool progress;        /* opts->progress, where the hot loops find it */
	struct hs_error *err; /* first failure inside a visit callback */

	size_t nobjs;      /* objects found */
	size_t ndone;      /* objects whose references pass 1 has followed */
	struct work a;     /* the object set and the work arrays, kept between dumps */
	size_t nstack;     /* entries of a.stack */
	size_t ntedges;    /* of a.tedges */
	size_t nowned;     /* of a.owned */
	size_t nlabels;    /* of a.labels */
	size_t slots_mask; /* a.slots' size - 1 */

	struct type_info *types; /* open addressing over tp */
	size_t types_mask, ntypes;
	struct {
		PyTypeObject *tp;
		struct type_info *ti;
	} type_cache[TYPE_CACHE]; /* recent lookups, by a hash of tp; cleared when types moves */
	struct {
		const void *key;
		uint32_t index;
	} key_cache[KEY_CACHE]; /* emit's recent label keys, by a hash of the key (key_index) */

	struct root *roots;
	size_t nroots, roots_cap;
	struct weak_link *weak;
	size_t nweak, weak_cap;
	/* The objects whose size takes a call to a C __sizeof__ of the interpreter's (SIZE_CFUNC,
	 * and a str that builtin_size leaves), found by pass 1.  With two threads, presize makes
	 * their sizes before emit, and sorts them by address with their sizes (bit 63:
	 * approximate) for emit, which finds them in order from presized_next; with one, emit
	 * calls them as it goes. */
	struct hs_keyed *presized;
	size_t npresized, presized_cap, presized_next;
	uintptr_t *user; /* the SIZE_USER objects pass 1 found (call_sizes) */
	size_t nuser, user_cap;
	unsigned threads; /* that emit, 1 or 2 (emit_threads) */
	/* 3.12+: static types' dicts, which PyType_GetDict gives with a new reference: taken in
	 * pass 1 (type address, dict), by address, for emit (static_dict). */
	struct hs_keyed *static_dicts;
	size_t nstatic_dicts, static_dicts_cap;
	bool emitting; /* pass 1 is over */
	/* 3.8-3.10: the label "<local name>" of each fast local's name that a frame of pass 1
	 * holds, as (name str's address, string id), by address for emit (label_frame). */
	struct hs_keyed *local_ids;
	size_t nlocal_ids, local_ids_cap;

	/* The sizes of SIZE_USER objects, by address once sorted (call_sizes); kept over the
	 * rounds of pass 1 that dump makes. */
	struct called *called;
	size_t ncalled, called_cap;
	double call_seconds; /* spent in them */

	/* Two threads (emit_objects): the second one's walk has worker set; it asks the first
	 * one's mailbox for what needs the interpreter, and stops when stop is set. */
	bool worker;
	struct mailbox *mailbox;
	atomic_bool *stop;

	uint64_t heap_bytes;
	struct timespec start;
	uintptr_t gen0; /* the GC state's gen-0 list head (cpython.h) */
	unsigned walks; /* pass 1s run (dump) */

	/* Allocation sites, when tracemalloc traces (walk_sites.c): _tracemalloc's
	 * _get_object_traceback, and by object number the file name's string id + 1 (0: none)
	 * and the line of the most recent frame it kept. */
	PyObject *get_traceback;
	uint32_t *site_file, *site_line;
};

/* The bits set in x. */
static inline unsigned popcount64(uint64_t x)
{
#ifdef __POPCNT__
	return (unsigned)__builtin_popcountll(x);
#else /* libgcc's fallback is a call and a table */
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
#endif
}

/* A hash of a pointer, for the tables of types and labels. */
static inline size_t hash_ptr(uint64_t a)
{
	return (size_t)((a >> 3) * 0x9E3779B97F4A7C15ull >> 20);
}

/* ---------------------------------------------------------------------------------------------
 * What the walker's files offer each other, by the file that defines it.
 */

/* walk.c: the passes. */
bool hs_ip_grow_to(void **p, size_t *cap, size_t need, size_t elsize);

/* Makes *p (*cap elements of elsize bytes) hold need elements; false when out of memory.  The
 * common case, room enough, stays inline: the walk calls it once an edge and a label. */
static inline bool hs_ip_grow(void **p, size_t *cap, size_t need, size_t elsize)
{
	return need <= *cap || hs_ip_grow_to(p, cap, need, elsize);
}
struct type_info *hs_ip_type_info(struct walk *k, PyTypeObject *tp);
double hs_ip_elapsed(const struct walk *k);
void hs_ip_work_free(struct work *a);
void hs_ip_report(struct walk *k, const char *what, size_t done, size_t total);
struct hs_error *hs_ip_emit_range(struct walk *k, size_t from, size_t to, size_t i);
void hs_ip_add(struct walk *k, PyObject *o, unsigned gen);

/* walk_labels.c: the labels a container gives its references and its owned edges. */
/* Appends a label for ptr (none for NULL) to *v (*n of *cap); inline: one call a label was
 * a percent of a dump. */
static inline void hs_ip_push(struct walk *k, struct label **v, size_t *n, size_t *cap,
                              PyObject *ptr, uint8_t form, uint64_t value, bool owned)
{
	if (!ptr || k->err)
		return;
	if (!hs_ip_grow((void **)v, cap, *n + 1, sizeof(**v))) {
		k->err = &hs_error_nomem;
		return;
	}
	(*v)[(*n)++] = (struct label){ptr, value, form, owned, false, -1};
}
void hs_ip_owned_edges(struct walk *k, PyObject *o, const struct type_info *ti);
/* hs_ip_for_each_slot's arg for label_slot (an instance o's labels) and walk.c's intern_slot (a
 * type's). */
struct slot_visit {
	struct walk *k;
	PyObject *o;
	uint32_t *ids; /* the type_info's slot_ids */
	struct hs_error *err;
};

void hs_ip_for_each_slot(PyTypeObject *tp, void (*fn)(void *, const PyMemberDef *, size_t),
                         void *arg);
#if PY_VERSION_HEX < 0x030B0000
void hs_ip_intern_fast_locals(struct walk *k, PyFrameObject *f);
#endif
void hs_ip_build_labels(struct walk *k, PyObject *o, const struct type_info *ti);
/* The first unused label offered for p, marked used; NULL if none. */
static inline struct label *hs_ip_take_label(struct walk *k, PyObject *p)
{
	if (k->nlabels <= LINEAR_LABELS) {
		for (size_t i = 0; i < k->nlabels; i++) {
			if (k->a.labels[i].ptr == p && !k->a.labels[i].used) {
				k->a.labels[i].used = true;
				return &k->a.labels[i];
			}
		}
		return NULL;
	}
	size_t j = hash_ptr((uintptr_t)p) & k->slots_mask;
	while (k->a.slots[j].ptr && k->a.slots[j].ptr != p)
		j = (j + 1) & k->slots_mask;
	if (!k->a.slots[j].ptr || k->a.slots[j].head < 0)
		return NULL;
	struct label *l = &k->a.labels[k->a.slots[j].head];
	k->a.slots[j].head = l->next;
	l->used = true;
	return l;
}

/* walk_offsets.c: the offsets of fields.h's fields in this interpreter's structs, by id (-1: not
 * read in process), filled by hs_ip_offsets_init (hs_inproc_init). */
extern int64_t hs_ip_offsets[HS_L_COUNT];
void hs_ip_offsets_init(void);

/* walk_roots.c: the roots. */
void hs_ip_collect_roots(struct walk *k);

/* walk_sizeof.c: sizes by a __sizeof__ that may run Python code (SIZE_USER). */
struct called *hs_ip_called_find(struct walk *k, uint64_t addr, size_t n);
uint64_t hs_ip_basic_size(PyObject *o);
struct hs_error *hs_ip_call_sizes(struct walk *k, bool call, bool *ran, bool *changed);
struct hs_error *hs_ip_write_called_meta(struct walk *k);

/* walk_watch.c: whether the __sizeof__ calls changed the heap. */
bool hs_ip_watch_start(uintptr_t gen0);
bool hs_ip_watch_stop(uintptr_t gen0);

/* walk_sites.c: allocation sites, when tracemalloc traces. */
void hs_ip_open_sites(struct walk *k);
struct hs_error *hs_ip_find_sites(struct walk *k);

/* walk_text.c: text without allocating Python objects. */
const char *hs_ip_cstr_cut(PyObject *s, char *buf, Py_ssize_t chars);
const char *hs_ip_cstr(PyObject *s, char *buf);
Py_ssize_t hs_ip_preview(PyObject *o, char *buf);

/* walk_threads.c: the two-thread writer. */
unsigned hs_ip_emit_threads(const struct walk *k);
struct hs_error *hs_ip_emit_objects(struct walk *k);

/* walk_types.c: what the walker knows of types. */
extern PyObject *hs_ip_timeout_exc; /* heapsnap.SizeofTimeout (hs_inproc_init) */
extern PyObject *hs_ip_str_module;  /* "__module__", interned (hs_inproc_init) */
struct type_info *hs_ip_type_info_lookup(struct walk *k, PyTypeObject *tp);

#endif
