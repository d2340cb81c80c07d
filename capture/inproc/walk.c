/*
 * walk.c — the in-process heap walk behind heapsnap.dump() (walk.h), streaming into hs_writer.
 *
 * Two passes, both under the GIL, neither allocating a Python object that could be in the
 * snapshot and neither holding a reference while refcounts are read:
 *   1. collect: every object of the three GC generation lists and the permanent one (with its
 *      generation), the roots (sys.modules, builtins, every thread's frames), and, depth first
 *      from each, what tp_traverse visits, the owned references a type does not traverse
 *      (DESIGN.md "owned" edges: str keys of dicts, code constants, type names...), each
 *      object's type and each weak reference's referent.  The set of objects found is a bitmap
 *      per page of memory (struct objset), small enough to stay in the cache.  A sample of
 *      the objects elects each type's declared size (vote_size).
 *   Between the two: with two threads, the sizes that take a call (presize); every type
 *   declared, the most common first (declare_types).
 *   2. emit: number the objects in address order (the writer wants increasing addresses) from
 *      the bitmaps, then for each object its size (sys.getsizeof's value: computed here for
 *      str, int, list, set, bytearray and object.__sizeof__'s formula, else the type's own
 *      __sizeof__ C function called directly), refcount, flags, the edges tp_traverse visits
 *      now (exactly gc.get_referents) labelled from what the container says about them, its
 *      owned edges and its value preview; then the weak links and the roots.  A big heap is
 *      emitted by two threads, each writing half of the addresses ("Two threads" below).
 *
 * The GC lists are found without internal headers: a freshly tracked object sits at the tail
 * of generation 0, so its PyGC_Head.next is the list head inside struct _gc_runtime_state,
 * whose layout (cpython.h) is then checked against the state's own generation0 pointer.
 */
#include "cpython.h"
#include "memory.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mailbox.h"
#include "pyrepr.h"
#include "walk.h"

/* Generation codes: 0-2 the generations, 3 the permanent one, 4 not on a GC list. */
#define GEN_CODE_NONE 4
#define PROGRESS_EVERY (1u << 18)
#define LINEAR_LABELS 8   /* label maps up to this size are searched linearly */
#define PREVIEW_CHARS 100 /* value previews keep this many characters */
/* Names (of types, modules, functions, files in root names) keep this many characters, and
 * take up to NAME_BYTES bytes in UTF-8 (cstr). */
#define NAME_CHARS 1000
#define NAME_BYTES (4 * NAME_CHARS + 8)
#define REASON_CHARS 64 /* of an exception's message in sizeof.failed (exception_reason) */
#define TYPE_CACHE 8    /* recent type lookups kept (a power of two) */
#define FOLLOW_STEP 4   /* objects pass 1 follows per entry of the GC lists (see collect) */
#define VOTE_EVERY 64   /* of the objects pass 1 follows, one in this many votes (vote_size) */
#define TWO_THREADS_MIN 200000 /* objects from which a dump emits with two threads by default */
#define LISTED_COST 12 /* a GC object's emit costs as much as this many others (split_pages) */
#define SIZE_ROUNDS 4  /* walks that may call __sizeof__ before the one written (call_sizes) */
#define SIZEOF_CALL_SECONDS 1.0    /* a __sizeof__ call is interrupted after this (call_timer) */
#define SIZEOF_BUDGET_SECONDS 10.0 /* the calls of a dump start within this */

/* The fixed labels (HS_LABEL_STRING), interned once per dump. */
enum label_name {
	L_DICT,
	L_CLASS,
	L_KEY,
	L_SHARED_KEY,
	L_CODE,
	L_GLOBALS,
	L_DEFAULTS,
	L_KWDEFAULTS,
	L_CLOSURE,
	L_DOC,
	L_NAME,
	L_QUALNAME,
	L_MODULE,
	L_ANNOTATIONS,
	L_FUNC_ANNOTATIONS,
	L_BUILTINS,
	L_TYPE_PARAMS,
	L_MRO,
	L_BASES,
	L_BASE,
	L_CACHE,
	L_HT_MODULE,
	L_SLOTS,
	L_SUBCLASSES,
	L_CELL,
	L_FUNC,
	L_SELF,
	L_CALLBACK,
	L_ARGS,
	L_TRACEBACK,
	L_CONTEXT,
	L_CAUSE,
	L_NOTES,
	L_F_BACK,
	L_F_CODE,
	L_F_GLOBALS,
	L_F_BUILTINS,
	L_F_LOCALS,
	L_F_TRACE,
	L_CO_CODE,
	L_CO_CONSTS,
	L_CO_NAMES,
	L_CO_VARNAMES,
	L_CO_FREEVARS,
	L_CO_CELLVARS,
	L_CO_FILENAME,
	L_CO_NAME,
	L_CO_QUALNAME,
	L_CO_LINETABLE,
	L_CO_LNOTAB,
	L_CO_EXCEPTIONTABLE,
	L_CO_LOCALSPLUSNAMES,
	L_CO_LOCALSPLUSKINDS,
	L_SLICE_START,
	L_SLICE_STOP,
	L_SLICE_STEP,
	NLABELS
};

static const char *const label_text[NLABELS] = {
    ".__dict__",
    ".__class__",
    "<key>",
    "<shared key>",
    ".__code__",
    ".__globals__",
    ".__defaults__",
    ".__kwdefaults__",
    ".__closure__",
    ".__doc__",
    ".__name__",
    ".__qualname__",
    ".__module__",
    ".__annotations__",
    "<func_annotations>",
    ".__builtins__",
    ".__type_params__",
    ".__mro__",
    ".__bases__",
    ".__base__",
    "<tp_cache>",
    "<ht_module>",
    "<ht_slots>",
    "<tp_subclasses>",
    ".cell_contents",
    ".__func__",
    ".__self__",
    ".__callback__",
    ".args",
    ".__traceback__",
    ".__context__",
    ".__cause__",
    ".__notes__",
    ".f_back",
    ".f_code",
    ".f_globals",
    ".f_builtins",
    ".f_locals",
    ".f_trace",
    ".co_code",
    ".co_consts",
    ".co_names",
    ".co_varnames",
    ".co_freevars",
    ".co_cellvars",
    ".co_filename",
    ".co_name",
    ".co_qualname",
    ".co_linetable",
    ".co_lnotab",
    ".co_exceptiontable",
    "<co_localsplusnames>",
    "<co_localspluskinds>",
    ".start",
    ".stop",
    ".step",
};

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
	SHAPE_CFUNCTION,
	SHAPE_WEAKREF,
	SHAPE_EXCEPTION,
	SHAPE_DESCRIPTOR,
	SHAPE_FRAME,
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
	uint32_t label_id[NLABELS];
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

	struct root *roots;
	size_t nroots, roots_cap;
	struct weak_link *weak;
	size_t nweak, weak_cap; /* The objects whose size takes a call (a __sizeof__), found by
	                         * pass 1.  With two threads, presize makes their sizes before emit,
	                         * and sorts them by address with their sizes (bit 63: approximate)
	                         * for emit, which finds them in order from presized_next. */
	struct hs_keyed *presized;
	size_t npresized, presized_cap, presized_next;
	unsigned threads; /* that emit, 1 or 2 (emit_threads) */
	/* 3.12+: static types' dicts, which PyType_GetDict gives with a new reference: taken in
	 * pass 1 (type address, dict), by address, for emit (static_dict). */
	struct hs_keyed *static_dicts;
	size_t nstatic_dicts, static_dicts_cap;
	bool emitting; /* pass 1 is over */

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

	/* Allocation sites, when tracemalloc traces (find_sites): _tracemalloc's
	 * _get_object_traceback, and by object number the file name's string id + 1 (0: none)
	 * and the line of the most recent frame it kept. */
	PyObject *get_traceback;
	uint32_t *site_file, *site_line;
};

static traverseproc subtype_traverse; /* the tp_traverse of classes made by a class statement */
/* The tp_traverse functions of the interpreter's core types, which read the object and call the
 * visitor, nothing else (3.12's structseq_traverse, for one, looks in its type's dict, which
 * needs the thread's interpreter): only those run on the second thread of emit (see
 * traverse_alone). */
static traverseproc pure_traverse[24];
static size_t npure_traverse;
static PyObject *str_sizeof, *str_module, *object_sizeof;
static PyObject *timeout_exc; /* heapsnap.SizeofTimeout: interrupts a __sizeof__ (call_timer) */
/* The C functions behind __sizeof__ of str, int, list, set and bytearray (SIZE_STR...). */
static PyCFunction builtin_sizeof[SIZE_BYTEARRAY - SIZE_STR + 1];

int hs_inproc_init(PyObject *cls, PyObject *timeout)
{
	timeout_exc = timeout;
	subtype_traverse = ((PyTypeObject *)cls)->tp_traverse;
	/* Not module_traverse (it calls an extension's m_traverse), nor a capsule's. */
	PyTypeObject *core[] = {
	    &PyList_Type,        &PyTuple_Type,        &PyDict_Type,        &PySet_Type,
	    &PyFrozenSet_Type,   &PyFunction_Type,     &PyCell_Type,        &PyMethod_Type,
	    &PyType_Type,        &PyCFunction_Type,    &PyProperty_Type,    &PyFrame_Type,
	    &PyGen_Type,         &PyCoro_Type,         &_PyWeakref_RefType, &PyMethodDescr_Type,
	    &PyDictProxy_Type,   &PyStaticMethod_Type, &PyClassMethod_Type, &PyMemberDescr_Type,
	    &PyGetSetDescr_Type, &PyWrapperDescr_Type};
	for (size_t i = 0; i < sizeof(core) / sizeof(*core); i++) {
		if (core[i]->tp_traverse &&
		    npure_traverse < sizeof(pure_traverse) / sizeof(*pure_traverse))
			pure_traverse[npure_traverse++] = core[i]->tp_traverse;
	}
	str_sizeof = PyUnicode_InternFromString("__sizeof__");
	str_module = PyUnicode_InternFromString("__module__");
	if (!str_sizeof || !str_module)
		return -1;
	object_sizeof = _PyType_Lookup(&PyBaseObject_Type, str_sizeof);
	PyTypeObject *builtin[] = {&PyUnicode_Type, &PyLong_Type, &PyList_Type, &PySet_Type,
	                           &PyByteArray_Type};
	for (size_t i = 0; i < sizeof(builtin) / sizeof(*builtin); i++) {
		PyObject *m = _PyType_Lookup(builtin[i], str_sizeof);
		if (!m || !Py_IS_TYPE(m, &PyMethodDescr_Type)) {
			PyErr_Format(PyExc_RuntimeError, "%s.__sizeof__ is not a C method",
			             builtin[i]->tp_name);
			return -1;
		}
		builtin_sizeof[i] = ((PyMethodDescrObject *)m)->d_method->ml_meth;
	}
	if (!object_sizeof)
		PyErr_SetString(PyExc_RuntimeError, "object.__sizeof__ not found");
	return object_sizeof ? 0 : -1;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elsize)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elsize);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static inline size_t hash_ptr(uint64_t a)
{
	return (size_t)((a >> 3) * 0x9E3779B97F4A7C15ull >> 20);
}

/* ---------------------------------------------------------------------------------------------
 * The object set
 */

static inline size_t hash_page(uint64_t no)
{
	return (size_t)(no * 0x9E3779B97F4A7C15ull >> 32);
}

static bool set_rehash(struct objset *s, size_t cap)
{
	struct page_slot *slot = calloc(cap, sizeof(*slot));
	if (!slot)
		return false;
	for (size_t i = 0; i < s->npages; i++) {
		size_t j = hash_page(s->page_no[i]) & (cap - 1);
		while (slot[j].no)
			j = (j + 1) & (cap - 1);
		slot[j] = (struct page_slot){s->page_no[i], (uint32_t)i};
	}
	free(s->slot);
	s->slot = slot;
	s->mask = cap - 1;
	return true;
}

/* Empties s for a walk, keeping the arrays it has (see spare). */
static bool set_clear(struct objset *s)
{
	s->npages = s->ngens = 0;
	s->last_no = UINT64_MAX; /* no page */
	if (!s->slot)
		return set_rehash(s, 1 << 12);
	memset(s->slot, 0, (s->mask + 1) * sizeof(*s->slot));
	return true;
}

static void set_free(struct objset *s)
{
	free(s->slot);
	free(s->pages);
	free(s->page_no);
	free(s->gens);
	free(s->order);
	free(s->order_tmp);
}

/* Frees the work arrays of a, all but its object set. */
static void work_free(struct work *a)
{
	free(a->stack);
	free(a->tedges);
	free(a->out);
	free(a->owned);
	free(a->labels);
	free(a->slots);
}

/* The page numbered no, or NULL. */
static inline struct page *set_page(struct objset *s, uint64_t no)
{
	if (no == s->last_no)
		return &s->pages[s->last_page];
	size_t j = hash_page(no) & s->mask;
	while (s->slot[j].no != no) {
		if (!s->slot[j].no)
			return NULL;
		j = (j + 1) & s->mask;
	}
	s->last_no = no;
	s->last_page = s->slot[j].page;
	return &s->pages[s->last_page];
}

static struct page *set_new_page(struct objset *s, uint64_t no)
{
	if ((s->npages + 1) * 2 > s->mask + 1 && !set_rehash(s, 2 * (s->mask + 1)))
		return NULL;
	if (!grow((void **)&s->pages, &s->pages_cap, s->npages + 1, sizeof(*s->pages)) ||
	    !grow((void **)&s->page_no, &s->page_no_cap, s->npages + 1, sizeof(*s->page_no)))
		return NULL;
	size_t j = hash_page(no) & s->mask;
	while (s->slot[j].no)
		j = (j + 1) & s->mask;
	s->slot[j] = (struct page_slot){no, (uint32_t)s->npages};
	s->page_no[s->npages] = no;
	struct page *p = &s->pages[s->npages++];
	memset(p, 0, sizeof(*p));
	p->gen = NO_GEN;
	return p;
}

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

/* Numbers the objects in address order (see struct objset). */
static bool set_rank(struct objset *s)
{
	if (!grow((void **)&s->order, &s->order_cap, s->npages, sizeof(*s->order)) ||
	    !grow((void **)&s->order_tmp, &s->order_tmp_cap, s->npages, sizeof(*s->order_tmp)))
		return false;
	for (size_t i = 0; i < s->npages; i++)
		s->order[i] = (struct hs_keyed){s->page_no[i], i};
	hs_sort_keyed(s->order, s->order_tmp, s->npages);
	uint32_t n = 0;
	for (size_t i = 0; i < s->npages; i++) {
		struct page *p = &s->pages[s->order[i].index];
		p->base = n;
		for (unsigned w = 0; w < PAGE_WORDS; w++) {
			p->before[w] = n - p->base;
			n += popcount64(p->bits[w]);
		}
	}
	return true;
}

/* Index of o in address order (after set_rank), or -1 if the walk did not find it. */
static inline int64_t set_find(struct walk *k, const void *o)
{
	uint64_t a = (uint64_t)(uintptr_t)o;
	const struct page *p = set_page(&k->a.set, a >> PAGE_SHIFT);
	if (!p || (a & 7))
		return -1;
	unsigned w = (a >> 3) & (PAGE_BITS - 1);
	uint64_t word = p->bits[w / 64], bit = (uint64_t)1 << (w % 64);
	if (!(word & bit))
		return -1;
	return (int64_t)p->base + p->before[w / 64] + popcount64(word & (bit - 1));
}

/* Records that o, on page p, is on the GC list of generation gen. */
static bool set_listed(struct objset *s, struct page *p, uint64_t a, unsigned gen)
{
	if (p->gen == NO_GEN) {
		if (!grow((void **)&s->gens, &s->gens_cap, s->ngens + 1, sizeof(*s->gens)))
			return false;
		memset(&s->gens[s->ngens], 0, sizeof(*s->gens));
		p->gen = (uint32_t)s->ngens++;
	}
	struct page_gen *g = &s->gens[p->gen];
	unsigned w = (a >> 3) & (PAGE_BITS - 1);
	uint64_t bit = (uint64_t)1 << (w % 64);
	g->listed[w / 64] |= bit;
	g->bit0[w / 64] |= gen & 1 ? bit : 0;
	g->bit1[w / 64] |= gen & 2 ? bit : 0;
	return true;
}

/* Adds o to the walk if it is new. */
static void add(struct walk *k, PyObject *o, unsigned gen)
{
	if (!o || k->err)
		return;
	uint64_t a = (uint64_t)(uintptr_t)o;
	if (a & 7) {
		k->err = hs_error_create(HS_ERROR_OTHER, "object 0x%lx: not 8-byte aligned",
		                         (unsigned long)a);
		return;
	}
	struct page *p = set_page(&k->a.set, a >> PAGE_SHIFT);
	if (!p && !(p = set_new_page(&k->a.set, a >> PAGE_SHIFT))) {
		k->err = &hs_error_nomem;
		return;
	}
	unsigned w = (a >> 3) & (PAGE_BITS - 1);
	uint64_t bit = (uint64_t)1 << (w % 64);
	if (gen != GEN_CODE_NONE &&
	    !set_listed(&k->a.set, p, a, gen)) { /* also when found before */
		k->err = &hs_error_nomem;
		return;
	}
	if (p->bits[w / 64] & bit)
		return;
	if (k->nobjs >= UINT32_MAX ||
	    (k->nstack == k->a.stack_cap &&
	     !grow((void **)&k->a.stack, &k->a.stack_cap, k->nstack + 1, sizeof(*k->a.stack)))) {
		k->err = &hs_error_nomem;
		return;
	}
	p->bits[w / 64] |= bit;
	k->nobjs++;
	k->a.stack[k->nstack++] = o;
	__builtin_prefetch(o); /* its type is read soon: the stack is last in, first out */
}

static int visit_add(PyObject *o, void *arg)
{
	add(arg, o, GEN_CODE_NONE);
	return 0;
}

static int visit_collect(PyObject *o, void *arg)
{
	struct walk *k = arg;
	if (!o)
		return 0;
	if (k->ntedges == k->a.tedges_cap &&
	    !grow((void **)&k->a.tedges, &k->a.tedges_cap, k->ntedges + 1, sizeof(*k->a.tedges))) {
		k->err = &hs_error_nomem;
		return -1;
	}
	k->a.tedges[k->ntedges++] = o;
	return 0;
}

/* What the walker needs to know of an object's type, decided once per type (the checks below
 * walk the MRO).  Labels and owned edges dispatch on it. */
static uint8_t shape_of(PyTypeObject *tp)
{
	if (PyType_IsSubtype(tp, &PyDict_Type))
		return SHAPE_DICT;
	if (PyType_IsSubtype(tp, &PyList_Type) || PyType_IsSubtype(tp, &PyTuple_Type))
		return SHAPE_SEQUENCE;
	if (PyType_IsSubtype(tp, &PyType_Type))
		return SHAPE_TYPE;
	if (tp == &PyCode_Type)
		return SHAPE_CODE;
	if (PyType_IsSubtype(tp, &PyModule_Type))
		return SHAPE_MODULE;
	if (tp == &PyFunction_Type)
		return SHAPE_FUNCTION;
	if (tp == &PyCell_Type)
		return SHAPE_CELL;
	if (tp == &PySlice_Type)
		return SHAPE_SLICE;
	if (tp == &PyClassMethod_Type || tp == &PyStaticMethod_Type)
		return SHAPE_WRAPPER;
	if (tp == &PyMethod_Type)
		return SHAPE_METHOD;
	if (PyType_IsSubtype(tp, &PyCFunction_Type))
		return SHAPE_CFUNCTION;
	if (PyType_IsSubtype(tp, &_PyWeakref_RefType) ||
	    PyType_IsSubtype(tp, &_PyWeakref_ProxyType) ||
	    PyType_IsSubtype(tp, &_PyWeakref_CallableProxyType))
		return SHAPE_WEAKREF;
	if (PyType_IsSubtype(tp, (PyTypeObject *)PyExc_BaseException))
		return SHAPE_EXCEPTION;
	if (PyType_IsSubtype(tp, &PyMethodDescr_Type) ||
	    PyType_IsSubtype(tp, &PyClassMethodDescr_Type) ||
	    PyType_IsSubtype(tp, &PyGetSetDescr_Type) ||
	    PyType_IsSubtype(tp, &PyMemberDescr_Type) || PyType_IsSubtype(tp, &PyWrapperDescr_Type))
		return SHAPE_DESCRIPTOR;
#if PY_VERSION_HEX < 0x030B0000
	if (tp == &PyFrame_Type)
		return SHAPE_FRAME;
#endif
	return SHAPE_OTHER;
}

/* tp's __sizeof__ as sys.getsizeof will find it, without readying tp: a C type whose instances
 * exist before anything called PyType_Ready on it (3.9's _functools._lru_list_elem) would be
 * readied by _PyType_Lookup, which adds a weak reference to it to its base's tp_subclasses in
 * the middle of the walk.  Such a type's own methods are still only in tp_methods (returned in
 * *def); a NULL tp_base is object, as PyType_Ready will make it. */
static PyObject *lookup_sizeof(PyTypeObject *tp, PyMethodDef **def)
{
	*def = NULL;
	for (; tp && !(tp->tp_flags & Py_TPFLAGS_READY); tp = tp->tp_base) {
		for (PyMethodDef *m = tp->tp_methods; m && m->ml_name; m++) {
			if (strcmp(m->ml_name, "__sizeof__") == 0) {
				*def = m;
				return NULL;
			}
		}
	}
	return tp ? _PyType_Lookup(tp, str_sizeof) : object_sizeof;
}

/* Whether tp's tp_traverse may run on emit's second thread: one of pure_traverse's, or, for a
 * class statement's class, subtype_traverse with the first base traverse it calls one of them;
 * and its tp_is_gc, if any, type's. */
static bool traverse_alone(PyTypeObject *tp)
{
	if (tp->tp_is_gc && tp->tp_is_gc != PyType_Type.tp_is_gc)
		return false;
	while (tp && tp->tp_traverse == subtype_traverse)
		tp = tp->tp_base;
	if (!tp || !tp->tp_traverse)
		return true;
	for (size_t i = 0; i < npure_traverse; i++) {
		if (tp->tp_traverse == pure_traverse[i])
			return true;
	}
	return false;
}

/* Whether C function fn is part of the interpreter's own binary (libpython or the executable
 * that has it built in), whose __sizeof__ methods only compute and return an int; an
 * extension's may do anything (Cython's run Python code). */
static bool in_interpreter(PyCFunction fn)
{
	static void *base;
	Dl_info info;
	if (!base && dladdr((void *)&PyDict_Type, &info))
		base = info.dli_fbase;
	return base && dladdr((void *)(uintptr_t)fn, &info) && info.dli_fbase == base;
}

static struct type_info *type_info_lookup(struct walk *k, PyTypeObject *tp)
{
	if ((k->ntypes + 1) * 2 > k->types_mask + 1) {
		size_t cap = 2 * (k->types_mask + 1);
		struct type_info *v = calloc(cap, sizeof(*v));
		if (!v)
			return NULL;
		for (size_t i = 0; k->types && i <= k->types_mask; i++) {
			if (!k->types[i].tp)
				continue;
			size_t j = hash_ptr((uintptr_t)k->types[i].tp) & (cap - 1);
			while (v[j].tp)
				j = (j + 1) & (cap - 1);
			v[j] = k->types[i];
		}
		free(k->types);
		k->types = v;
		k->types_mask = cap - 1;
		memset(k->type_cache, 0, sizeof(k->type_cache));
	}
	size_t j = hash_ptr((uintptr_t)tp) & k->types_mask;
	while (k->types[j].tp && k->types[j].tp != tp)
		j = (j + 1) & k->types_mask;
	struct type_info *ti = &k->types[j];
	if (ti->tp)
		return ti;
	ti->tp = tp;
	k->ntypes++;
	PyMethodDef *def;
	PyObject *m = lookup_sizeof(tp, &def);
	if (m && Py_IS_TYPE(m, &PyMethodDescr_Type))
		def = ((PyMethodDescrObject *)m)->d_method;
	if (m == object_sizeof) {
		ti->size_kind = SIZE_DEFAULT;
	} else if (def && (def->ml_flags & METH_NOARGS) && in_interpreter(def->ml_meth)) {
		ti->size_kind = SIZE_CFUNC;
		ti->sizeof_fn = def->ml_meth;
		for (unsigned i = 0; i < sizeof(builtin_sizeof) / sizeof(*builtin_sizeof); i++) {
			if (def->ml_meth == builtin_sizeof[i])
				ti->size_kind = (uint8_t)(SIZE_STR + i);
		}
	} else {
		ti->size_kind = SIZE_USER;
	}
	ti->shape = shape_of(tp);
	ti->heap = (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) != 0;
	ti->subtype = ti->heap && tp->tp_traverse == subtype_traverse;
	ti->plain = !ti->heap && ti->shape == SHAPE_OTHER;
	ti->gc = PyType_IS_GC(tp) && tp->tp_traverse;
	ti->traverse_alone = traverse_alone(tp);
	return ti;
}

/* The type_info of tp, if the table has it: emit's lookup, which neither adds nor moves anything
 * while a second thread reads the table. */
static struct type_info *type_info_find(struct walk *k, PyTypeObject *tp)
{
	size_t j = hash_ptr((uintptr_t)tp) & k->types_mask;
	while (k->types[j].tp && k->types[j].tp != tp)
		j = (j + 1) & k->types_mask;
	return k->types[j].tp ? &k->types[j] : NULL;
}

/* The walk's type_info of tp, or NULL when out of memory (or, in emit, when tp is new: the heap
 * changed).  A few types make most objects (and the depth-first walk alternates
 * between a container's type and its items'): a small cache in front of the table. */
static inline struct type_info *type_info(struct walk *k, PyTypeObject *tp)
{
	size_t h = (size_t)((uintptr_t)tp * 0x9E3779B97F4A7C15ull >> 32) & (TYPE_CACHE - 1);
	if (k->type_cache[h].tp == tp)
		return k->type_cache[h].ti;
	struct type_info *ti = k->emitting ? type_info_find(k, tp) : type_info_lookup(k, tp);
	if (ti) {
		k->type_cache[h].tp = tp;
		k->type_cache[h].ti = ti;
	}
	return ti;
}

/* Whether o is a GC object whose tp_traverse has references to visit: PyObject_IS_GC (a call
 * into libpython on some versions) from what the type_info keeps. */
static inline bool is_gc(const struct type_info *ti, PyObject *o)
{
	return ti->gc && (!ti->tp->tp_is_gc || ti->tp->tp_is_gc(o));
}

/* ---------------------------------------------------------------------------------------------
 * Text without allocating Python objects
 */

/* Appends code point c to buf as UTF-8 (hs_utf8_put); returns the new length. */
static inline Py_ssize_t put_utf8(char *buf, Py_ssize_t n, Py_UCS4 c)
{
	return n + (Py_ssize_t)hs_utf8_put(buf + n, c);
}

/* UTF-8 of at most max_chars characters of str s into buf (cap >= 4 * max_chars + 4); returns
 * the length, or -1 for a 3.8-3.11 string that is not ready.  Surrogates become U+FFFD;
 * a cut string ends with U+2026.  One loop per kind, so that each reads its characters
 * directly. */
static Py_ssize_t utf8_of(PyObject *s, char *buf, Py_ssize_t max_chars)
{
#if PY_VERSION_HEX < 0x030C0000
	if (!PyUnicode_IS_READY(s))
		return -1;
#endif
	const void *data = PyUnicode_DATA(s);
	Py_ssize_t len = PyUnicode_GET_LENGTH(s), n = 0;
	Py_ssize_t lim = len < max_chars ? len : max_chars;
	if (PyUnicode_IS_ASCII(s)) {
		memcpy(buf, data, (size_t)lim);
		n = lim;
	} else if (PyUnicode_KIND(s) == PyUnicode_1BYTE_KIND) {
		const Py_UCS1 *d = data;
		for (Py_ssize_t i = 0; i < lim; i++) {
			if (d[i] < 0x80) {
				buf[n++] = (char)d[i];
			} else {
				buf[n++] = (char)(0xc0 | (d[i] >> 6));
				buf[n++] = (char)(0x80 | (d[i] & 0x3f));
			}
		}
	} else if (PyUnicode_KIND(s) == PyUnicode_2BYTE_KIND) {
		const Py_UCS2 *d = data;
		for (Py_ssize_t i = 0; i < lim; i++)
			n = put_utf8(buf, n, d[i]);
	} else {
		const Py_UCS4 *d = data;
		for (Py_ssize_t i = 0; i < lim; i++)
			n = put_utf8(buf, n, d[i]);
	}
	if (lim < len) {
		memcpy(buf + n, "\xe2\x80\xa6", 3);
		n += 3;
	}
	return n;
}

/* A NUL-terminated UTF-8 copy of str s into buf (4 * chars + 8 bytes), or "?" if s is not a
 * str: its first chars characters, then an ellipsis. */
static const char *cstr_cut(PyObject *s, char *buf, Py_ssize_t chars)
{
	Py_ssize_t n = s && PyUnicode_Check(s) ? utf8_of(s, buf, chars) : -1;
	if (n < 0)
		return "?";
	buf[n] = '\0';
	return buf;
}

/* A name (str s) into buf (NAME_BYTES), as cstr_cut. */
static const char *cstr(PyObject *s, char *buf)
{
	return cstr_cut(s, buf, NAME_CHARS);
}

/* u in decimal into buf (20 bytes), two digits at a time; returns the length. */
static Py_ssize_t udecimal(char *buf, unsigned long long u)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
	                            "25262728293031323334353637383940414243444546474849"
	                            "50515253545556575859606162636465666768697071727374"
	                            "75767778798081828384858687888990919293949596979899";
	char tmp[20];
	int n = 20;
	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);
		u /= 100;
		n -= 2;
		memcpy(tmp + n, pairs + 2 * r, 2);
	}
	if (u >= 10) {
		n -= 2;
		memcpy(tmp + n, pairs + 2 * u, 2);
	} else {
		tmp[--n] = (char)('0' + u);
	}
	memcpy(buf, tmp + n, (size_t)(20 - n));
	return 20 - n;
}

/* v in decimal into buf (21 bytes), as repr(int) writes it; returns the length.  (snprintf
 * was a tenth of the dump.) */
static Py_ssize_t decimal(char *buf, long long v)
{
	if (v >= 0)
		return udecimal(buf, (unsigned long long)v);
	buf[0] = '-';
	return 1 + udecimal(buf + 1, 0ull - (unsigned long long)v);
}

/* repr(v) without dtoa when v has at most 15 significant digits and repr writes it without an
 * exponent (1e-4 <= |v| < 1e15), e.g. 0.5, 2.25, 0.1; returns its length, or -1 when it cannot
 * tell.  The shortest decimal that reads back as v is what repr writes.  For k = 0, 1, 2, ...
 * the only candidate with k decimals is m / 10**k, m = round(|v| * 10**k): m and 10**k are
 * exact doubles, so m / 10**k is the correctly rounded quotient, the double that reading the
 * decimal gives.  The first k that gives back v has the fewest digits, and with at most 15
 * significant digits no other decimal of as many digits reads as v, so it is repr's. */
static Py_ssize_t float_short(char *buf, double v)
{
	static const double pow10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	double a = fabs(v);
	if (!(a >= 1e-4 && a < 1e15))
		return -1;
	for (int k = 0; k < 16; k++) {
		double x = a * pow10[k];
		if (x >= 1e15)
			return -1;
		unsigned long long m = (unsigned long long)(x + 0.5); /* x + 0.5 < 2**50: exact */
		if ((double)m / pow10[k] != a)
			continue;
		char digits[20];
		Py_ssize_t nd = udecimal(digits, m), n = 0;
		if (v < 0)
			buf[n++] = '-';
		if (nd > k) { /* digits before the point */
			memcpy(buf + n, digits, (size_t)(nd - k));
			n += nd - k;
			buf[n++] = '.';
			if (k == 0) {
				buf[n++] = '0';
			} else {
				memcpy(buf + n, digits + nd - k, (size_t)k);
				n += k;
			}
		} else { /* 0.00ddd */
			buf[n++] = '0';
			buf[n++] = '.';
			memset(buf + n, '0', (size_t)(k - nd));
			n += k - nd;
			memcpy(buf + n, digits, (size_t)nd);
			n += nd;
		}
		return n;
	}
	return -1;
}

/* The value preview of o into buf (size 4 * PREVIEW_CHARS + 8); returns its length, or -1 for
 * none, or NEEDS_INTERPRETER when pure is set and o's preview needs a call into the interpreter
 * (an int beyond the small ones, a float's repr by dtoa: allocations, an exception). */
#define NEEDS_INTERPRETER (-2)
static Py_ssize_t preview(PyObject *o, char *buf, size_t cap, bool pure)
{
	if (PyUnicode_Check(o))
		return utf8_of(o, buf, PREVIEW_CHARS);
	if (o == Py_None) {
		memcpy(buf, "None", 4);
		return 4;
	}
	if (PyBool_Check(o)) {
		memcpy(buf, o == Py_True ? "True" : "False", o == Py_True ? 4 : 5);
		return o == Py_True ? 4 : 5;
	}
	if (PyLong_Check(o)) {
		long long v;
		if (hs_long_small(o, &v))
			return decimal(buf, v);
		if (pure)
			return NEEDS_INTERPRETER;
		int overflow;
		v = PyLong_AsLongLongAndOverflow(o, &overflow);
		if (!overflow && !(v == -1 && PyErr_Occurred()))
			return decimal(buf, v);
		PyErr_Clear();
		return snprintf(buf, cap, "<int of %zu bits>", _PyLong_NumBits(o));
	}
	if (PyFloat_Check(o)) {
		double v = PyFloat_AS_DOUBLE(o);
		Py_ssize_t n = float_short(buf, v);
		if (n >= 0)
			return n;
		if (v == 0 && !signbit(v)) {
			memcpy(buf, "0.0", 3);
			return 3;
		}
		if (pure)
			return NEEDS_INTERPRETER;
		char *r = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
		if (!r) {
			PyErr_Clear();
			return -1;
		}
		n = snprintf(buf, cap, "%s", r);
		PyMem_Free(r);
		return n;
	}
	if (PyBytes_Check(o))
		return (Py_ssize_t)hs_py_bytes_repr((const uint8_t *)PyBytes_AS_STRING(o),
		                                    (size_t)PyBytes_GET_SIZE(o), PREVIEW_CHARS,
		                                    buf);
	return -1;
}

/* ---------------------------------------------------------------------------------------------
 * Owned edges and labels
 */

static void push(struct walk *k, struct label **v, size_t *n, size_t *cap, PyObject *ptr,
                 uint8_t form, uint64_t value, bool owned)
{
	if (!ptr || k->err)
		return;
	if (!grow((void **)v, cap, *n + 1, sizeof(**v))) {
		k->err = &hs_error_nomem;
		return;
	}
	(*v)[(*n)++] = (struct label){ptr, value, form, owned, false, -1};
}

static void own(struct walk *k, PyObject *ptr, enum label_name name)
{
	push(k, &k->a.owned, &k->nowned, &k->a.owned_cap, ptr, HS_LABEL_STRING, k->label_id[name],
	     false);
}

static void label(struct walk *k, PyObject *ptr, uint8_t form, uint64_t value, bool owned)
{
	push(k, &k->a.labels, &k->nlabels, &k->a.labels_cap, ptr, form, value, owned);
}

static void label_fixed(struct walk *k, PyObject *ptr, enum label_name name)
{
	label(k, ptr, HS_LABEL_STRING, k->label_id[name], false);
}

#if PY_VERSION_HEX >= 0x030C0000
/* The dict of static type t, which the interpreter keeps for it (3.12+).  PyType_GetDict gives
 * it with a new reference: pass 1 takes it, gives the reference back and keeps the pointer in
 * static_dicts, where emit finds it, so that no refcount changes while emit reads them. */
static PyObject *static_dict(struct walk *k, PyTypeObject *t)
{
	uint64_t key = (uint64_t)(uintptr_t)t;
	if (!k->emitting) {
		PyObject *d = PyType_GetDict(t);
		Py_XDECREF(d); /* the interpreter holds it */
		if (d && !grow((void **)&k->static_dicts, &k->static_dicts_cap,
		               k->nstatic_dicts + 1, sizeof(*k->static_dicts)))
			k->err = &hs_error_nomem;
		else if (d)
			k->static_dicts[k->nstatic_dicts++] = (struct hs_keyed){key, (uintptr_t)d};
		return d;
	}
	size_t lo = 0, hi = k->nstatic_dicts; /* sorted by presize */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->static_dicts[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k->nstatic_dicts && k->static_dicts[lo].key == key
	           ? (PyObject *)(uintptr_t)k->static_dicts[lo].index
	           : NULL;
}
#endif

/* The strong references of a type that type_traverse does not visit (or, for static types,
 * that exist although the type is not a GC object). */
static void owned_type(struct walk *k, PyTypeObject *t)
{
	if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) {
		PyHeapTypeObject *ht = (PyHeapTypeObject *)t;
		own(k, ht->ht_name, L_NAME);
		own(k, ht->ht_qualname, L_QUALNAME);
		own(k, ht->ht_slots, L_SLOTS);
		own(k, (PyObject *)t->tp_subclasses, L_SUBCLASSES);
		if (ht->ht_cached_keys) {
			Py_ssize_t n = hs_keys_nentries(ht->ht_cached_keys);
			for (Py_ssize_t i = 0; i < n; i++)
				own(k, hs_keys_key(ht->ht_cached_keys, i), L_SHARED_KEY);
		}
		return;
	}
#if PY_VERSION_HEX >= 0x030C0000
	own(k, static_dict(k, t), L_DICT);
#else
	own(k, t->tp_dict, L_DICT);
	own(k, t->tp_subclasses, L_SUBCLASSES);
#endif
	own(k, t->tp_mro, L_MRO);
	own(k, t->tp_bases, L_BASES);
}

static void owned_code(struct walk *k, PyCodeObject *co)
{
	own(k, co->co_consts, L_CO_CONSTS);
	own(k, co->co_names, L_CO_NAMES);
	own(k, co->co_filename, L_CO_FILENAME);
	own(k, co->co_name, L_CO_NAME);
#if PY_VERSION_HEX < 0x030B0000
	own(k, co->co_code, L_CO_CODE);
	own(k, co->co_varnames, L_CO_VARNAMES);
	own(k, co->co_freevars, L_CO_FREEVARS);
	own(k, co->co_cellvars, L_CO_CELLVARS);
#if PY_VERSION_HEX < 0x030A0000
	own(k, co->co_lnotab, L_CO_LNOTAB);
#else
	own(k, co->co_linetable, L_CO_LINETABLE);
#endif
#else
	own(k, co->co_qualname, L_CO_QUALNAME);
	own(k, co->co_linetable, L_CO_LINETABLE);
	own(k, co->co_exceptiontable, L_CO_EXCEPTIONTABLE);
	own(k, co->co_localsplusnames, L_CO_LOCALSPLUSNAMES);
	own(k, co->co_localspluskinds, L_CO_LOCALSPLUSKINDS);
#if PY_VERSION_HEX < 0x030C0000
	own(k, co->_co_code, L_CO_CODE);
#else
	if (co->_co_cached) {
		own(k, co->_co_cached->_co_code, L_CO_CODE);
		own(k, co->_co_cached->_co_varnames, L_CO_VARNAMES);
		own(k, co->_co_cached->_co_cellvars, L_CO_CELLVARS);
		own(k, co->_co_cached->_co_freevars, L_CO_FREEVARS);
	}
#endif
#endif
}

/* Fills k->a.owned with the references o (of type ti) holds that its tp_traverse does not visit
 * (and that no label below offers as "owned if not traversed"). */
static void owned_edges(struct walk *k, PyObject *o, const struct type_info *ti)
{
	k->nowned = 0;
	if (ti->shape == SHAPE_TYPE) {
		owned_type(k, (PyTypeObject *)o);
	} else if (ti->shape == SHAPE_CODE) {
		owned_code(k, (PyCodeObject *)o);
	} else if (ti->shape == SHAPE_MODULE) {
		own(k, ((struct hs_module *)o)->md_name, L_NAME);
	} else if (ti->shape == SHAPE_DESCRIPTOR) {
		own(k, (PyObject *)((PyDescrObject *)o)->d_name, L_NAME);
		own(k, (PyObject *)((PyDescrObject *)o)->d_qualname, L_QUALNAME);
	}
	if (ti->heap)
		own(k, hs_instance_untraversed_dict(o), L_DICT);
}

/* Calls fn(arg, member, j) for each object member of the __slots__ of tp and of its heap-type
 * bases, j counting them: the order of a type_info's slot_ids. */
static void for_each_slot(PyTypeObject *tp, void (*fn)(void *, const PyMemberDef *, size_t),
                          void *arg)
{
	size_t j = 0;
	for (PyTypeObject *b = tp; b && (b->tp_flags & Py_TPFLAGS_HEAPTYPE); b = b->tp_base) {
		const PyMemberDef *mp = HS_HEAPTYPE_MEMBERS(b);
		for (Py_ssize_t i = 0; i < Py_SIZE(b); i++, mp++) {
			if (mp->type == Py_T_OBJECT_EX)
				fn(arg, mp, j++);
		}
	}
}

/* for_each_slot's arg for label_slot (an instance o's labels) and intern_slot (a type's). */
struct slot_visit {
	struct walk *k;
	PyObject *o;
	uint32_t *ids; /* the type_info's slot_ids */
	struct hs_error *err;
};

static void label_slot(void *arg, const PyMemberDef *mp, size_t j)
{
	struct slot_visit *v = arg;
	PyObject *value = *(PyObject **)((char *)v->o + mp->offset);
	if (value)
		label(v->k, value, HS_LABEL_STRING, v->ids[j], false);
}

/* Labels for an instance of a class statement's class: slots, its dict or the attribute
 * values kept outside one, its class. */
static void label_instance(struct walk *k, PyObject *o, const struct type_info *ti)
{
	PyTypeObject *tp = ti->tp;
	if (ti->slot_ids)
		for_each_slot(tp, label_slot, &(struct slot_visit){k, o, ti->slot_ids, NULL});
	label_fixed(k, hs_instance_dict(o), L_DICT);
	PyObject **values;
	Py_ssize_t n = hs_instance_values(o, &values);
	const void *keys = ((PyHeapTypeObject *)tp)->ht_cached_keys;
	for (Py_ssize_t i = 0; i < n; i++)
		label(k, values[i], HS_LABEL_ATTR, (uintptr_t)hs_keys_key(keys, i), false);
}

static void label_type(struct walk *k, PyTypeObject *t)
{
	label_fixed(k, t->tp_dict, L_DICT);
	label_fixed(k, t->tp_mro, L_MRO);
	label_fixed(k, t->tp_bases, L_BASES);
	label_fixed(k, (PyObject *)t->tp_base, L_BASE);
	label_fixed(k, t->tp_cache, L_CACHE);
#if PY_VERSION_HEX >= 0x03090000
	if (t->tp_flags & Py_TPFLAGS_HEAPTYPE)
		label_fixed(k, ((PyHeapTypeObject *)t)->ht_module, L_HT_MODULE);
#endif
}

static void label_function(struct walk *k, PyFunctionObject *f)
{
	label_fixed(k, f->func_code, L_CODE);
	label_fixed(k, f->func_globals, L_GLOBALS);
	label_fixed(k, f->func_module, L_MODULE);
	label_fixed(k, f->func_defaults, L_DEFAULTS);
	label_fixed(k, f->func_kwdefaults, L_KWDEFAULTS);
	label_fixed(k, f->func_doc, L_DOC);
	label_fixed(k, f->func_name, L_NAME);
	label_fixed(k, f->func_dict, L_DICT);
	label_fixed(k, f->func_closure, L_CLOSURE);
	/* 3.10+ keeps the compiler's tuple until __annotations__ makes the dict of it. */
	label_fixed(k, f->func_annotations,
	            f->func_annotations && PyTuple_Check(f->func_annotations) ? L_FUNC_ANNOTATIONS
	                                                                      : L_ANNOTATIONS);
	label_fixed(k, f->func_qualname, L_QUALNAME);
#if PY_VERSION_HEX >= 0x030A0000
	label_fixed(k, f->func_builtins, L_BUILTINS);
#endif
#if PY_VERSION_HEX >= 0x030C0000
	label_fixed(k, f->func_typeparams, L_TYPE_PARAMS);
#endif
}

static void label_exception(struct walk *k, PyBaseExceptionObject *e)
{
	label_fixed(k, e->dict, L_DICT);
	label_fixed(k, e->args, L_ARGS);
	label_fixed(k, e->traceback, L_TRACEBACK);
	label_fixed(k, e->context, L_CONTEXT);
	label_fixed(k, e->cause, L_CAUSE);
#if PY_VERSION_HEX >= 0x030B0000
	label_fixed(k, e->notes, L_NOTES);
#endif
}

/* Fills the label map of o: first the labels of what tp_traverse visits, then (owned=true)
 * references that o holds whether or not its traverse visits them.  Lists and tuples need no
 * map (see emit_edges). */
static void build_labels(struct walk *k, PyObject *o, const struct type_info *ti)
{
	PyTypeObject *tp = Py_TYPE(o);
	k->nlabels = 0;
	if (ti->subtype)
		label_instance(k, o, ti);

	switch (ti->shape) {
	case SHAPE_DICT: {
		Py_ssize_t pos = 0;
		PyObject *key, *value;
		while (PyDict_Next(o, &pos, &key, &value))
			label(k, value, HS_LABEL_KEY, (uintptr_t)key, false);
		break;
	}
	case SHAPE_SEQUENCE: {
		PyObject **items =
		    PyList_Check(o) ? ((PyListObject *)o)->ob_item : ((PyTupleObject *)o)->ob_item;
		for (Py_ssize_t i = 0; i < Py_SIZE(o); i++)
			label(k, items[i], HS_LABEL_INDEX, (uint64_t)i, false);
		break;
	}
	case SHAPE_TYPE:
		label_type(k, (PyTypeObject *)o);
		break;
	case SHAPE_FUNCTION:
		label_function(k, (PyFunctionObject *)o);
		break;
	case SHAPE_MODULE:
		label_fixed(k, ((struct hs_module *)o)->md_dict, L_DICT);
		break;
	case SHAPE_CELL:
		label_fixed(k, PyCell_GET(o), L_CELL);
		break;
	case SHAPE_WRAPPER: { /* cm_dict, sm_dict */
		PyObject **dict = _PyObject_GetDictPtr(o);
		label_fixed(k, dict ? *dict : NULL, L_DICT);
		break;
	}
	case SHAPE_SLICE:
		label_fixed(k, ((PySliceObject *)o)->start, L_SLICE_START);
		label_fixed(k, ((PySliceObject *)o)->stop, L_SLICE_STOP);
		label_fixed(k, ((PySliceObject *)o)->step, L_SLICE_STEP);
		break;
	case SHAPE_METHOD:
		label_fixed(k, PyMethod_GET_FUNCTION(o), L_FUNC);
		label_fixed(k, PyMethod_GET_SELF(o), L_SELF);
		break;
	case SHAPE_CFUNCTION:
		label_fixed(k, ((PyCFunctionObject *)o)->m_self, L_SELF);
		label_fixed(k, ((PyCFunctionObject *)o)->m_module, L_MODULE);
		break;
	case SHAPE_WEAKREF:
		label_fixed(k, ((PyWeakReference *)o)->wr_callback, L_CALLBACK);
		break;
	case SHAPE_EXCEPTION:
		label_exception(k, (PyBaseExceptionObject *)o);
		break;
#if PY_VERSION_HEX < 0x030B0000
	case SHAPE_FRAME: {
		PyFrameObject *f = (PyFrameObject *)o;
		label_fixed(k, (PyObject *)f->f_back, L_F_BACK);
		label_fixed(k, (PyObject *)f->f_code, L_F_CODE);
		label_fixed(k, f->f_globals, L_F_GLOBALS);
		label_fixed(k, f->f_builtins, L_F_BUILTINS);
		label_fixed(k, f->f_locals, L_F_LOCALS);
		label_fixed(k, f->f_trace, L_F_TRACE);
		break;
	}
#endif
	}
	/* Second tier: taken only by traverse edges no first-tier label matched. */
	if (ti->heap)
		label(k, (PyObject *)tp, HS_LABEL_STRING, k->label_id[L_CLASS], true);
	if (ti->shape == SHAPE_DICT && !((PyDictObject *)o)->ma_values) {
		/* A combined table owns its keys; a split one's belong to the shared keys. */
		Py_ssize_t pos = 0;
		PyObject *key, *value;
		while (PyDict_Next(o, &pos, &key, &value))
			label(k, key, HS_LABEL_STRING, k->label_id[L_KEY], true);
	}
	if (k->nlabels <= LINEAR_LABELS || k->err)
		return;
	/* Chain the labels of each referent in insertion order behind a hash slot. */
	size_t cap = 16;
	while (cap < 2 * k->nlabels)
		cap *= 2;
	if (!grow((void **)&k->a.slots, &k->a.slots_cap, cap, sizeof(*k->a.slots))) {
		k->err = &hs_error_nomem;
		return;
	}
	k->slots_mask = cap - 1;
	memset(k->a.slots, 0, cap * sizeof(*k->a.slots));
	for (size_t i = 0; i < k->nlabels; i++) {
		PyObject *p = k->a.labels[i].ptr;
		size_t j = hash_ptr((uintptr_t)p) & k->slots_mask;
		while (k->a.slots[j].ptr && k->a.slots[j].ptr != p)
			j = (j + 1) & k->slots_mask;
		if (!k->a.slots[j].ptr)
			k->a.slots[j] = (struct label_slot){p, (int32_t)i, (int32_t)i};
		else
			k->a.labels[k->a.slots[j].tail].next = (int32_t)i,
			k->a.slots[j].tail = (int32_t)i;
	}
}

/* The first unused label offered for p, marked used; NULL if none. */
static struct label *take_label(struct walk *k, PyObject *p)
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

/* ---------------------------------------------------------------------------------------------
 * Pass 1: collect
 */

static void add_root(struct walk *k, PyObject *o, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_root(struct walk *k, PyObject *o, const char *kind, const char *fmt, ...)
{
	if (!o || k->err)
		return;
	char *name;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&name, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow((void **)&k->roots, &k->roots_cap, k->nroots + 1, sizeof(*k->roots))) {
		if (n >= 0)
			free(name);
		k->err = &hs_error_nomem;
		return;
	}
	k->roots[k->nroots++] = (struct root){o, kind, name};
	add(k, o, GEN_CODE_NONE);
}

#if PY_VERSION_HEX >= 0x030B0000
/* The roots of interpreter frame fr, named "<WHO: qualname (file:line) ...>": its frame
 * object, function, code, locals dict and each local.  line 0: the code's first line. */
static void iframe_roots(struct walk *k, char *fr, const char *who, int line)
{
	PyObject *code = *(PyObject **)(fr + HS_IFRAME_CODE);
	if (!code || !PyCode_Check(code))
		return;
	PyCodeObject *co = (PyCodeObject *)code;
	char b1[NAME_BYTES], b2[NAME_BYTES], where[2 * NAME_BYTES + 64];
	snprintf(where, sizeof(where), "%s: %s (%s:%d)", who, cstr(co->co_qualname, b1),
	         cstr(co->co_filename, b2), line ? line : co->co_firstlineno);
	add_root(k, *(PyObject **)(fr + HS_IFRAME_FRAME_OBJ), "frame", "<%s>", where);
	add_root(k, *(PyObject **)(fr + HS_IFRAME_FUNC), "frame", "<%s function>", where);
	add_root(k, code, "frame", "<%s code>", where);
	add_root(k, *(PyObject **)(fr + HS_IFRAME_LOCALS), "frame", "<%s locals>", where);
	PyObject **plus = (PyObject **)(fr + HS_IFRAME_LOCALSPLUS);
	for (int i = 0; i < co->co_nlocalsplus; i++)
		add_root(k, plus[i], "frame", "<%s local %s>", where,
		         cstr(PyTuple_GET_ITEM(co->co_localsplusnames, i), b1));
}
#endif

static void frame_roots(struct walk *k, PyThreadState *ts)
{
#if PY_VERSION_HEX < 0x030B0000
	char b1[NAME_BYTES], b2[NAME_BYTES];
	for (PyFrameObject *f = ts->frame; f; f = f->f_back)
		add_root(k, (PyObject *)f, "frame", "<thread %lu: %s (%s:%d)>", ts->thread_id,
		         cstr(f->f_code->co_name, b1), cstr(f->f_code->co_filename, b2),
		         PyFrame_GetLineNumber(f));
#else
	char who[64];
	snprintf(who, sizeof(who), "thread %lu", ts->thread_id);
	for (char *fr = hs_thread_frame(ts); fr; fr = *(char **)(fr + HS_IFRAME_PREVIOUS)) {
#if PY_VERSION_HEX >= 0x030C0000
		if (fr[HS_IFRAME_OWNER] == HS_FRAME_OWNED_BY_CSTACK)
			continue;
#endif
		iframe_roots(k, fr, who, 0);
	}
#endif
}

/* The frames of opts->exit_frames (a script's when it ended), roots as a thread's frames are,
 * at the line each had reached: "<exit: name (file:line)>" ... */
static void exit_roots(struct walk *k)
{
	PyObject *t = k->opts->exit_frames;
	for (Py_ssize_t i = 0; t && i < PyTuple_GET_SIZE(t); i++) {
		PyFrameObject *f = (PyFrameObject *)PyTuple_GET_ITEM(t, i);
#if PY_VERSION_HEX < 0x030B0000
		char b1[NAME_BYTES], b2[NAME_BYTES];
		add_root(k, (PyObject *)f, "frame", "<exit: %s (%s:%d)>",
		         cstr(f->f_code->co_name, b1), cstr(f->f_code->co_filename, b2),
		         PyFrame_GetLineNumber(f));
#else
		iframe_roots(k, *(char **)((char *)f + HS_FRAMEOBJ_IFRAME), "exit",
		             PyFrame_GetLineNumber(f));
#endif
	}
}

/* The module-level roots, then the ended frames (which so win a tie against a frame of the
 * code that holds them), then every thread's frames. */
static void collect_roots(struct walk *k)
{
	add_root(k, PyImport_GetModuleDict(), "module", "sys.modules");
	add_root(k, PyEval_GetBuiltins(), "module", "builtins.__dict__");
	exit_roots(k);
	PyInterpreterState *interp = PyThreadState_Get()->interp;
	for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
	     ts = PyThreadState_Next(ts))
		frame_roots(k, ts);
}

static double elapsed(const struct walk *k)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - k->start.tv_sec) + (double)(t.tv_nsec - k->start.tv_nsec) / 1e9;
}

static void report(struct walk *k, const char *what, size_t done, size_t total)
{
	fprintf(stderr, "heapsnap: %.3f s: %s %zu/%zu objects\n", elapsed(k), what, done, total);
}

/* Reports every PROGRESS_EVERY objects when asked to (the callers report the last count). */
static inline void progress(struct walk *k, const char *what, size_t done, size_t total)
{
	if (k->progress && done % PROGRESS_EVERY == 0)
		report(k, what, done, total);
}

/* The gen-0 list head, found through a freshly tracked object; checked against the state. */
static struct hs_error *find_generations(uintptr_t *ret)
{
	PyObject *probe = PyList_New(0);
	if (!probe) {
		PyErr_Clear();
		return &hs_error_nomem;
	}
	uintptr_t head = ((struct hs_gc_head *)probe)[-1].next & ~(uintptr_t)1;
	Py_DECREF(probe);
	if (!head || *(uintptr_t *)(head + HS_GC_GENERATION0_PTR) != head)
		return hs_error_create(HS_ERROR_OTHER,
		                       "0x%lx: not the GC state's generation 0 (unknown layout)",
		                       (unsigned long)head);
	if (*(int *)(head + HS_GC_COLLECTING))
		return hs_error_create(HS_ERROR_USAGE,
		                       "a garbage collection is running (dump called from a "
		                       "finalizer?): the GC lists are not consistent");
	*ret = head;
	return NULL;
}

#if PY_VERSION_HEX >= 0x030C0000
static int count_object(PyObject *o, void *arg)
{
	(void)o;
	++*(size_t *)arg;
	return 1;
}
#endif

static inline Py_ssize_t pure_size(const struct type_info *ti, PyObject *o);
static inline Py_ssize_t builtin_size(const struct type_info *ti, PyObject *o);

/* Whether o's size takes a call (its type's __sizeof__, or a str that builtin_size leaves). */
static inline bool size_by_call(const struct type_info *ti, PyObject *o)
{
	return ti->size_kind == SIZE_CFUNC || ti->size_kind == SIZE_USER ||
	       (ti->size_kind == SIZE_STR && builtin_size(ti, o) < 0);
}

/* o's vote for the size declared as its type's, which its objects then have without writing
 * it: Boyer and Moore's majority vote, which elects the size that more than half of the voters
 * have, if one does.  A sample votes: each type's first object, then one object in VOTE_EVERY
 * (a vote is a few branches hard to predict; one object in 8 was still a tenth of pass 1).  A
 * size that only a call gives votes for the basic size. */
static void vote_size(struct type_info *ti, PyObject *o)
{
	Py_ssize_t s = pure_size(ti, o);
	uint64_t size =
	    s >= 0 ? (uint64_t)s : (uint64_t)ti->tp->tp_basicsize + hs_preheader_size(o);
	if (!ti->votes)
		ti->size_vote = size;
	if (size == ti->size_vote)
		ti->votes++;
	else
		ti->votes--;
	ti->voters++;
}

/* Follows the references of the objects on the stack, and of those they find, until it is
 * empty or n objects have been followed: each object's type, what tp_traverse visits, its owned
 * references, the keys of a dict, the referent of a weak reference. */
static void follow(struct walk *k, size_t n)
{
	for (; n && k->nstack && !k->err; n--) {
		PyObject *o = k->a.stack[--k->nstack];
		PyTypeObject *tp = Py_TYPE(o);
		struct type_info *ti = type_info(k, tp);
		if (!ti) {
			k->err = &hs_error_nomem;
			return;
		}
		if (!ti->added) {
			add(k, (PyObject *)tp, GEN_CODE_NONE);
			ti->added = true;
		}
		if (!ti->voters || (k->ndone & (VOTE_EVERY - 1)) == 0)
			vote_size(ti, o);
		if (size_by_call(ti, o)) {
			if (!grow((void **)&k->presized, &k->presized_cap, k->npresized + 1,
			          sizeof(*k->presized))) {
				k->err = &hs_error_nomem;
				return;
			}
			k->presized[k->npresized++] = (struct hs_keyed){(uintptr_t)o, 0};
		}
		if (is_gc(ti, o))
			tp->tp_traverse(o, visit_add, k);
		if (!ti->plain) {
			owned_edges(k, o, ti);
			for (size_t j = 0; j < k->nowned; j++)
				add(k, k->a.owned[j].ptr, GEN_CODE_NONE);
		}
		if (ti->shape == SHAPE_DICT) { /* keys: owned, or label targets of split tables */
			Py_ssize_t pos = 0;
			PyObject *key, *value;
			while (PyDict_Next(o, &pos, &key, &value))
				add(k, key, GEN_CODE_NONE);
		} else if (ti->shape == SHAPE_WEAKREF) {
			PyObject *r = ((PyWeakReference *)o)->wr_object;
			if (r != Py_None)
				add(k, r, GEN_CODE_NONE);
		}
		progress(k, "found", ++k->ndone, k->nobjs);
	}
}

/* Pass 1.  The walk of the GC lists is a chain of cache misses (each PyGC_Head names the next),
 * and most of its objects were found before, from their containers.  So each step prefetches
 * the next entry and follows a few objects of the stack while it arrives: first the one just
 * found, while its header is in the cache, then what it refers to (depth first).  (Following
 * the whole stack at once left most steps with nothing to hide the miss: 3.11, 1M objects,
 * 5 ms of 60.) */
static struct hs_error *collect(struct walk *k, uintptr_t gen0)
{
	size_t tracked = 0;
	for (unsigned g = 0; g < 4; g++) {
		uintptr_t head = gen0 + (g < 3 ? g * HS_GC_GENERATION_STRIDE : HS_GC_PERMANENT);
		for (uintptr_t p = ((struct hs_gc_head *)head)->next & ~(uintptr_t)1, next;
		     p != head; p = next) {
			next = ((struct hs_gc_head *)p)->next & ~(uintptr_t)1;
			__builtin_prefetch((void *)next);
			add(k, (PyObject *)(p + sizeof(struct hs_gc_head)), g);
			follow(k, FOLLOW_STEP);
			tracked += g < 3;
		}
	}
#if PY_VERSION_HEX >= 0x030C0000
	/* The layout check: once per interpreter's GC state (a second walk of the lists). */
	static uintptr_t checked_gen0;
	if (gen0 != checked_gen0) {
		size_t visited = 0;
		PyUnstable_GC_VisitObjects(count_object, &visited);
		if (visited != tracked)
			return hs_error_create(HS_ERROR_OTHER,
			                       "GC lists at 0x%lx hold %zu objects, "
			                       "PyUnstable_GC_VisitObjects saw %zu",
			                       (unsigned long)gen0, tracked, visited);
		checked_gen0 = gen0;
	}
#else
	(void)tracked;
#endif
	collect_roots(k);
	follow(k, SIZE_MAX);
	if (k->progress)
		report(k, "found", k->nobjs, k->nobjs);
	return k->err;
}

/* ---------------------------------------------------------------------------------------------
 * Pass 2: emit
 */

/* What the __sizeof__ of str, int, list, set or bytearray returns for o, computed as they do
 * (capture/CPYTHON.md section 3), or -1: not one of those, or a str other than compact ASCII. */
static inline __attribute__((always_inline)) Py_ssize_t builtin_size(const struct type_info *ti,
                                                                     PyObject *o)
{
	Py_ssize_t basic = Py_TYPE(o)->tp_basicsize;
	switch (ti->size_kind) {
	case SIZE_STR:
		if (!PyUnicode_IS_COMPACT_ASCII(o))
			return -1;
#if PY_VERSION_HEX < 0x030C0000
		if (((PyASCIIObject *)o)->wstr)
			return -1;
#endif
		return (Py_ssize_t)sizeof(PyASCIIObject) + PyUnicode_GET_LENGTH(o) + 1;
	case SIZE_INT: {
#if PY_VERSION_HEX >= 0x030C0000
		Py_ssize_t n = (Py_ssize_t)(((PyLongObject *)o)->long_value.lv_tag >> 3);
		return (Py_ssize_t)offsetof(PyLongObject, long_value.ob_digit) +
		       (n > 1 ? n : 1) * (Py_ssize_t)sizeof(digit);
#else
		Py_ssize_t n = Py_SIZE(o) < 0 ? -Py_SIZE(o) : Py_SIZE(o);
#if PY_VERSION_HEX >= 0x030B0000
		n = n > 1 ? n : 1;
#endif
		return (Py_ssize_t)offsetof(PyLongObject, ob_digit) + n * (Py_ssize_t)sizeof(digit);
#endif
	}
	case SIZE_LIST:
		return basic + ((PyListObject *)o)->allocated * (Py_ssize_t)sizeof(PyObject *);
	case SIZE_SET: {
		PySetObject *so = (PySetObject *)o;
		return basic + (so->table != so->smalltable
		                    ? (so->mask + 1) * (Py_ssize_t)sizeof(setentry)
		                    : 0);
	}
	case SIZE_BYTEARRAY:
		return basic + ((PyByteArrayObject *)o)->ob_alloc;
	default:
		return -1;
	}
}

/* sys.getsizeof(o) when it can be computed here without a call (object.__sizeof__'s formula
 * and the builtins' of builtin_size), else -1. */
static inline __attribute__((always_inline)) Py_ssize_t pure_size(const struct type_info *ti,
                                                                  PyObject *o)
{
	PyTypeObject *tp = Py_TYPE(o);
	Py_ssize_t s = builtin_size(ti, o);
	if (s < 0 && ti->size_kind == SIZE_DEFAULT) {
		s = tp->tp_basicsize;
		if (tp->tp_itemsize > 0)
			s += Py_SIZE(o) * tp->tp_itemsize;
	}
	return s < 0 ? -1 : s + (Py_ssize_t)hs_preheader_size(o);
}

/* sys.getsizeof(o) by a call, as getsizeof makes it: o's type's C __sizeof__ from the
 * interpreter's own binary (the thread with the GIL only); *approx is set when the call failed. */
static uint64_t called_size(const struct type_info *ti, PyObject *o, bool *approx)
{
	Py_ssize_t s = -1;
	PyObject *r = ti->sizeof_fn(o, NULL);
	if (r) {
		s = PyLong_AsSsize_t(r);
		Py_DECREF(r);
	}
	*approx = s < 0;
	if (s < 0) {
		PyErr_Clear();
		s = Py_TYPE(o)->tp_basicsize;
	}
	return (uint64_t)s + hs_preheader_size(o);
}

#define PRESIZED_APPROX ((uint64_t)1 << 63)
#define PRESIZED_HELD ((uint64_t)1 << 62)

/* ---------------------------------------------------------------------------------------------
 * Sizes by a __sizeof__ that may run Python code (SIZE_USER)
 *
 * pandas' DataFrame.__sizeof__ builds Series to sum them; any __sizeof__ written in Python may
 * allocate, free, or change the heap in other ways.  None runs while a pass reads the heap: dump
 * runs pass 1, and if it found SIZE_USER objects that have no size yet, calls their __sizeof__
 * (call_sizes; the GC is off) and runs pass 1 again over the heap as those calls left it, until
 * a pass 1 finds no new one (at most SIZE_ROUNDS calling rounds; past them, and past the time
 * budget, an object gets its basic size).  The last pass 1 ran after the last call, so the heap
 * it found is the heap emit writes.  The dump holds a reference to each object it called, so
 * that a call cannot free one that the next call or the table still names; emit leaves that
 * reference out of the refcount it writes, and dump gives them back at the end.
 */

static int by_called_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct called *)a)->addr, y = ((const struct called *)b)->addr;
	return (x > y) - (x < y);
}

/* The entry of k->called (its first n sorted by address) for addr, or NULL. */
static struct called *called_find(struct walk *k, uint64_t addr, size_t n)
{
	struct called key = {.addr = addr};
	return bsearch(&key, k->called, n, sizeof(*k->called), by_called_addr);
}

/* The size a failed __sizeof__ leaves: object.__sizeof__'s answer, plus the GC header and
 * pre-header as sys.getsizeof adds them. */
static uint64_t basic_size(PyObject *o)
{
	PyTypeObject *tp = Py_TYPE(o);
	Py_ssize_t s = tp->tp_basicsize;
	if (tp->tp_itemsize > 0)
		s += Py_SIZE(o) * tp->tp_itemsize;
	return (uint64_t)s + hs_preheader_size(o);
}

/* "ExcType: message" of the exception the current call raised (cleared), malloc'd. */
static char *exception_reason(void)
{
	PyObject *t, *v, *tb;
	PyErr_Fetch(&t, &v, &tb);
	PyErr_NormalizeException(&t, &v, &tb);
	PyObject *text = v ? PyObject_Str(v) : NULL;
	PyErr_Clear();
	char buf[4 * REASON_CHARS + 8], *r = NULL;
	if (asprintf(&r, "%s: %s", t && PyType_Check(t) ? ((PyTypeObject *)t)->tp_name : "?",
	             cstr_cut(text, buf, REASON_CHARS)) < 0)
		r = NULL;
	Py_XDECREF(text);
	Py_XDECREF(t);
	Py_XDECREF(v);
	Py_XDECREF(tb);
	return r;
}

/* The call timer: while a __sizeof__ call runs past its deadline, a thread takes the GIL (which
 * the interpreter hands over at its next check, as to any thread) and raises heapsnap's
 * SizeofTimeout in the calling thread with PyThreadState_SetAsyncExc, the one way to interrupt
 * Python code in another thread on every version (Py_AddPendingCall from another thread does not
 * wake the eval loop on 3.11 and 3.12), and again each period while the call runs on.
 * SizeofTimeout derives from BaseException, so that `except Exception` in the __sizeof__ does
 * not swallow it.  It does nothing unless that call is still running; call_timer_stop cancels a
 * raise that comes after the call ended.  What it cannot interrupt: code that catches
 * BaseException each time and goes on, and a call blocked in C (time.sleep, a lock, I/O: an
 * asynchronous exception is seen only between bytecodes) or in C code that keeps the GIL; the
 * dump waits for such a call to end, and uses its answer if it gives one. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	unsigned long caller; /* PyThread_get_thread_ident() of the dumping thread */
	bool open, quit, armed, fired;
	uint64_t call; /* number of the current call */
	struct timespec deadline;
	double period; /* the call's time limit, and the time between two raises after it */
} timer = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* t + seconds into *ret. */
static void time_after(struct timespec t, double seconds, struct timespec *ret)
{
	long ns = t.tv_nsec + (long)((seconds - (double)(long)seconds) * 1e9);
	ret->tv_sec = t.tv_sec + (time_t)seconds + ns / 1000000000;
	ret->tv_nsec = ns % 1000000000;
}

/* In the timer's thread: interrupts call number `call` if it is still running. */
static void raise_timeout(uint64_t call)
{
	PyGILState_STATE g = PyGILState_Ensure();
	pthread_mutex_lock(&timer.lock);
	bool now = timer.armed && timer.call == call;
	pthread_mutex_unlock(&timer.lock);
	if (now)
		PyThreadState_SetAsyncExc(timer.caller, timeout_exc);
	PyGILState_Release(g);
}

static void *timer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&timer.lock);
	while (!timer.quit) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		bool due =
		    t.tv_sec > timer.deadline.tv_sec ||
		    (t.tv_sec == timer.deadline.tv_sec && t.tv_nsec >= timer.deadline.tv_nsec);
		if (timer.armed && due) {
			timer.fired = true;
			time_after(t, timer.period, &timer.deadline);
			uint64_t call = timer.call;
			pthread_mutex_unlock(&timer.lock);
			raise_timeout(call);
			pthread_mutex_lock(&timer.lock);
		} else if (timer.armed) {
			pthread_cond_timedwait(&timer.cond, &timer.lock, &timer.deadline);
		} else {
			pthread_cond_wait(&timer.cond, &timer.lock);
		}
	}
	pthread_mutex_unlock(&timer.lock);
	return NULL;
}

/* Starts the timer's thread (not for a dump inside another's __sizeof__: its timer runs). */
static bool call_timer_open(void)
{
	if (timer.open)
		return false;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&timer.cond, &attr);
	pthread_condattr_destroy(&attr);
	timer.quit = timer.armed = false;
	timer.caller = PyThread_get_thread_ident();
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	timer.open = pthread_create(&timer.thread, NULL, timer_main, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!timer.open)
		pthread_cond_destroy(&timer.cond);
	return timer.open;
}

static void call_timer_close(void)
{
	pthread_mutex_lock(&timer.lock);
	timer.quit = true;
	pthread_cond_signal(&timer.cond);
	pthread_mutex_unlock(&timer.lock);
	Py_BEGIN_ALLOW_THREADS /* the timer's thread may be waiting for the GIL */
	    pthread_join(timer.thread, NULL);
	Py_END_ALLOW_THREADS pthread_cond_destroy(&timer.cond);
	timer.open = false;
}

static void call_timer_start(double seconds)
{
	pthread_mutex_lock(&timer.lock);
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	time_after(t, seconds, &timer.deadline);
	timer.period = seconds;
	timer.call++;
	timer.armed = true;
	timer.fired = false;
	pthread_cond_signal(&timer.cond);
	pthread_mutex_unlock(&timer.lock);
}

/* Whether the call ran past its deadline.  A SizeofTimeout that the timer raised but the call did
 * not reach is cancelled (with the GIL held, the timer cannot raise another meanwhile). */
static bool call_timer_stop(void)
{
	pthread_mutex_lock(&timer.lock);
	timer.armed = false;
	bool fired = timer.fired;
	pthread_mutex_unlock(&timer.lock);
	if (fired)
		PyThreadState_SetAsyncExc(timer.caller, NULL);
	return fired;
}

/* Calls o's __sizeof__ as sys.getsizeof does, within SIZEOF_CALL_SECONDS (call_timer), into c. */
static void call_size(struct walk *k, PyObject *o, struct called *c, bool timed)
{
	double t0 = elapsed(k);
	if (timed)
		call_timer_start(SIZEOF_CALL_SECONDS);
	size_t s = _PySys_GetSizeOf(o);
	bool late = timed && call_timer_stop();
	double took = elapsed(k) - t0;
	k->call_seconds += took;
	if (late && s == (size_t)-1 && PyErr_ExceptionMatches(timeout_exc)) {
		PyErr_Clear();
		c->state = CALLED_TIMEOUT;
		if (asprintf(&c->reason, "timed out: interrupted after %.1f s", took) < 0)
			c->reason = NULL;
	} else if (s == (size_t)-1 && PyErr_Occurred()) {
		c->state = CALLED_FAILED;
		c->reason = exception_reason();
	} else {
		c->state = CALLED_OK;
		c->size = s;
	}
}

/* Adds to k->called the objects of the last pass 1 whose size is SIZE_USER and not taken yet.
 * With call, takes a reference to each and calls its __sizeof__ (call_size) until the time
 * budget is spent; then gives back the references that were the last (the calls dropped the
 * others).  *ran receives whether any Python code ran. */
static struct hs_error *call_sizes(struct walk *k, bool call, bool *ran)
{
	size_t first = k->ncalled;
	*ran = false;
	for (size_t i = 0; i < k->npresized; i++) {
		PyObject *o = (PyObject *)(uintptr_t)k->presized[i].key;
		const struct type_info *ti = type_info(k, Py_TYPE(o));
		if (!ti)
			return &hs_error_nomem;
		if (ti->size_kind != SIZE_USER || called_find(k, k->presized[i].key, first))
			continue;
		if (!grow((void **)&k->called, &k->called_cap, k->ncalled + 1, sizeof(*k->called)))
			return &hs_error_nomem;
		k->called[k->ncalled++] =
		    (struct called){k->presized[i].key, basic_size(o), CALLED_SKIPPED, call, NULL};
		if (call)
			Py_INCREF(o);
	}
	bool timed = call && first < k->ncalled && call_timer_open();
	for (size_t i = first; i < k->ncalled; i++) {
		struct called *c = &k->called[i];
		if (call && k->call_seconds < SIZEOF_BUDGET_SECONDS) {
			*ran = true;
			call_size(k, (PyObject *)(uintptr_t)c->addr, c, timed);
		} else if (asprintf(&c->reason, "not called: %s",
		                    call ? "the dump's time budget for __sizeof__ was spent"
		                         : "__sizeof__ calls kept making new objects") < 0) {
			c->reason = NULL;
		}
	}
	if (timed)
		call_timer_close();
	for (size_t i = first; i < k->ncalled; i++) {
		PyObject *o = (PyObject *)(uintptr_t)k->called[i].addr;
		if (k->called[i].held && Py_REFCNT(o) == 1) {
			k->called[i].held = false;
			k->called[i].addr = 0; /* the calls dropped every other reference */
			Py_DECREF(o);
			*ran = true;
		}
	}
	qsort(k->called, k->ncalled, sizeof(*k->called), by_called_addr);
	return NULL;
}

/* The META entries sizeof.called and sizeof.failed (FORMAT.md). */
static struct hs_error *write_called_meta(struct walk *k)
{
	char *ok = NULL, *failed = NULL;
	size_t nok = 0, nfailed = 0;
	FILE *a = open_memstream(&ok, &nok), *b = open_memstream(&failed, &nfailed);
	for (size_t i = 0; a && b && i < k->ncalled; i++) {
		const struct called *c = &k->called[i];
		if (!c->addr)
			continue;
		if (c->state == CALLED_OK)
			fprintf(a, "%s0x%lx", ftell(a) ? " " : "", (unsigned long)c->addr);
		else
			fprintf(b, "%s0x%lx %s", ftell(b) ? "\n" : "", (unsigned long)c->addr,
			        c->reason ? c->reason : "?");
	}
	bool done = a && b;
	done = (a && fclose(a) == 0) && done;
	done = (b && fclose(b) == 0) && done;
	struct hs_error *err = done ? hs_writer_meta(k->w, "sizeof.called", ok) : &hs_error_nomem;
	if (!err)
		err = hs_writer_meta(k->w, "sizeof.failed", failed);
	free(ok);
	free(failed);
	return err;
}

/* Before emit, while nothing else reads the heap: the sizes of SIZE_USER objects from
 * call_sizes, and, with two threads, the other sizes that take a call (whatever a C __sizeof__
 * does, a refcount changing, a result allocated, it does then, not while the second thread
 * reads), sorted by address; sorts static_dicts. */
static struct hs_error *presize(struct walk *k)
{
	for (size_t i = 0; i < k->npresized; i++) {
		PyObject *o = (PyObject *)(uintptr_t)k->presized[i].key;
		bool approx = false;
		const struct type_info *ti = type_info(k, Py_TYPE(o));
		if (!ti)
			return &hs_error_nomem;
		if (ti->size_kind == SIZE_USER) {
			/* pass 1 found no SIZE_USER object that call_sizes did not list */
			const struct called *c = called_find(k, k->presized[i].key, k->ncalled);
			assert(c);
			k->presized[i].index =
			    c ? c->size | (c->state != CALLED_OK ? PRESIZED_APPROX : 0) |
			            (c->held ? PRESIZED_HELD : 0)
			      : basic_size(o) | PRESIZED_APPROX;
		} else if (k->threads > 1) {
			uint64_t size = called_size(ti, o, &approx);
			k->presized[i].index = size | (approx ? PRESIZED_APPROX : 0);
		}
	}
	struct hs_keyed *tmp = malloc((k->npresized + k->nstatic_dicts + 1) * sizeof(*tmp));
	if (!tmp)
		return &hs_error_nomem;
	hs_sort_keyed(k->presized, tmp, k->npresized);
	hs_sort_keyed(k->static_dicts, tmp, k->nstatic_dicts);
	free(tmp);
	k->emitting = true;
	return NULL;
}

/* o's size made by presize; emit asks in address order, so the search goes on from the last.
 * *held is set when the dump holds a reference to o. */
static uint64_t presized_size(struct walk *k, PyObject *o, bool *approx, bool *held)
{
	uint64_t a = (uint64_t)(uintptr_t)o;
	while (k->presized_next < k->npresized && k->presized[k->presized_next].key < a)
		k->presized_next++;
	if (k->presized_next == k->npresized || k->presized[k->presized_next].key != a) {
		*approx = true; /* found by neither pass 1 nor presize: the heap changed */
		return (uint64_t)Py_TYPE(o)->tp_basicsize;
	}
	uint64_t v = k->presized[k->presized_next].index;
	*approx = (v & PRESIZED_APPROX) != 0;
	*held = (v & PRESIZED_HELD) != 0;
	return v & ~(PRESIZED_APPROX | PRESIZED_HELD);
}

/* sys.getsizeof(o), as getsizeof makes it; *approx is set when __sizeof__ failed, *held when
 * the dump holds a reference to o (call_sizes). */
static uint64_t object_size(struct walk *k, const struct type_info *ti, PyObject *o, bool *approx,
                            bool *held)
{
	Py_ssize_t s = pure_size(ti, o);
	if (s >= 0)
		return (uint64_t)s;
	return k->threads > 1 || ti->size_kind == SIZE_USER ? presized_size(k, o, approx, held)
	                                                    : called_size(ti, o, approx);
}

static void count_slot(void *arg, const PyMemberDef *mp, size_t j)
{
	(void)mp;
	*(size_t *)arg = j + 1;
}

/* Interns ".name" of slot member mp as the label of the j-th slot. */
static void intern_slot(void *arg, const PyMemberDef *mp, size_t j)
{
	struct slot_visit *v = arg;
	char name[256];
	int n = snprintf(name, sizeof(name), ".%s", mp->name);
	if (!v->err)
		v->err = hs_writer_string(v->k->w, name,
		                          n < (int)sizeof(name) ? (size_t)n : sizeof(name) - 1,
		                          &v->ids[j]);
}

static struct hs_error *declare_type(struct walk *k, struct type_info *ti, uint64_t size)
{
	PyTypeObject *tp = ti->tp;
	char name[NAME_BYTES], module[NAME_BYTES], qual[NAME_BYTES];
	const char *n = tp->tp_name, *m = "builtins";
	if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) { /* type.__name__ (which a class may reassign) */
		n = cstr(((PyHeapTypeObject *)tp)->ht_name, name);
		/* type.__module__ is its dict's __module__, whatever it is: "" unless a str. */
		PyObject *mod =
		    tp->tp_dict ? PyDict_GetItemWithError(tp->tp_dict, str_module) : NULL;
		PyErr_Clear();
		m = mod && PyUnicode_Check(mod) ? cstr(mod, module) : "";
	} else {
		const char *dot = strrchr(tp->tp_name, '.');
		if (dot) {
			snprintf(module, sizeof(module), "%.*s", (int)(dot - tp->tp_name),
			         tp->tp_name);
			m = module;
			n = dot + 1;
		}
	}
	uint32_t flags = 0;
	if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE)
		flags |= HS_TYPE_HEAP;
	if (PyType_IS_GC(tp))
		flags |= HS_TYPE_GC;
	if (tp->tp_finalize || tp->tp_del)
		flags |= HS_TYPE_HAS_FINALIZER;
	int64_t self = set_find(k, tp);
	ti->declared = true;
	struct hs_error *err =
	    hs_writer_type(k->w, n, m, size, (uint64_t)(self + 1), flags, &ti->id);
	if (!err && (tp->tp_flags & Py_TPFLAGS_HEAPTYPE))
		err = hs_writer_qualname(k->w, ti->id, n,
		                         cstr(((PyHeapTypeObject *)tp)->ht_qualname, qual));
	size_t nslots = 0;
	if (!err && ti->subtype)
		for_each_slot(tp, count_slot, &nslots);
	if (err || !nslots)
		return err;
	struct slot_visit v = {k, NULL, calloc(nslots, sizeof(*v.ids)), NULL};
	if (!v.ids)
		return &hs_error_nomem;
	ti->slot_ids = v.ids;
	for_each_slot(tp, intern_slot, &v);
	return v.err;
}

static int more_objects(const void *a, const void *b)
{
	uint64_t x = (*(struct type_info *const *)a)->voters,
	         y = (*(struct type_info *const *)b)->voters;
	return (x < y) - (x > y);
}

/* Declares the types of all the objects before any is written (a second thread writes
 * objects, and only this one may declare), the most common first: an object's type id takes
 * one byte below 64. */
static struct hs_error *declare_types(struct walk *k)
{
	struct type_info **order = malloc((k->ntypes + 1) * sizeof(*order));
	if (!order)
		return &hs_error_nomem;
	size_t n = 0;
	for (size_t i = 0; i <= k->types_mask; i++) {
		if (k->types[i].tp && !k->types[i].declared)
			order[n++] = &k->types[i];
	}
	qsort(order, n, sizeof(*order), more_objects);
	struct hs_error *err = NULL;
	for (size_t i = 0; i < n && !err; i++)
		err = declare_type(k, order[i], order[i]->size_vote);
	free(order);
	return err;
}

/* The label of a traverse edge to dst (index), as (form, value). */
static void resolve(struct walk *k, struct label *l, uint8_t *form, uint64_t *value)
{
	*form = HS_LABEL_NONE;
	*value = 0;
	if (!l)
		return;
	if (l->form == HS_LABEL_KEY || l->form == HS_LABEL_ATTR) {
		int64_t key = set_find(k, (const void *)(uintptr_t)l->value);
		if (key < 0)
			return;
		*value = (uint64_t)key;
	} else {
		*value = l->value;
	}
	*form = l->form;
}

static struct hs_error *missing(PyObject *src, PyObject *dst)
{
	return hs_error_create(HS_ERROR_OTHER,
	                       "object 0x%lx: referent 0x%lx was not found in the first pass "
	                       "(the heap changed during the dump)",
	                       (unsigned long)(uintptr_t)src, (unsigned long)(uintptr_t)dst);
}

struct is_gc_call {
	PyObject *o;
	bool gc;
};

static void run_is_gc_call(void *arg)
{
	struct is_gc_call *c = arg;
	c->gc = Py_TYPE(c->o)->tp_is_gc(c->o);
}

/* is_gc for emit's second thread, of an object whose tp_is_gc it may not call (traverse_alone). */
static bool ask_is_gc(struct walk *k, PyObject *o)
{
	struct is_gc_call c = {o, false};
	mailbox_ask(k->mailbox, run_is_gc_call, &c);
	return c.gc;
}

/* A tp_traverse that emit's second thread asks the first to run for it (traverse_alone). */
struct traverse_call {
	struct walk *k;
	PyObject *o;
};

static void run_traverse_call(void *arg)
{
	struct traverse_call *c = arg;
	Py_TYPE(c->o)->tp_traverse(c->o, visit_collect, c->k);
}

/* Writes the edges of o, of type ti; gc: is_gc(ti, o). */
static struct hs_error *emit_edges(struct walk *k, PyObject *o, const struct type_info *ti, bool gc)
{
	PyTypeObject *tp = Py_TYPE(o);
	k->ntedges = 0;
	/* list_traverse and tupletraverse visit the items that are not NULL, last to first.  When
	 * none is NULL, the edges are the items, written first to last, where an item's label is
	 * its position (free). */
	bool positional = false;
	if (gc && (Py_IS_TYPE(o, &PyList_Type) || Py_IS_TYPE(o, &PyTuple_Type))) {
		PyObject **items = PyList_CheckExact(o) ? ((PyListObject *)o)->ob_item
		                                        : ((PyTupleObject *)o)->ob_item;
		size_t n = (size_t)Py_SIZE(o);
		positional = true;
		for (size_t e = 0; positional && e < n; e++)
			positional = items[e] != NULL;
		if (positional &&
		    !grow((void **)&k->a.tedges, &k->a.tedges_cap, n, sizeof(*k->a.tedges)))
			return &hs_error_nomem;
		if (positional && n)
			memcpy(k->a.tedges, items, n * sizeof(*items));
		k->ntedges = positional ? n : 0;
	}
	if (gc && !positional && k->worker && !ti->traverse_alone)
		mailbox_ask(k->mailbox, run_traverse_call, &(struct traverse_call){k, o});
	else if (gc && !positional)
		tp->tp_traverse(o, visit_collect, k);
	if (k->err)
		return k->err;
	if (positional || ti->plain)
		k->nlabels = 0;
	else
		build_labels(k, o, ti);
	if (k->err)
		return k->err;
	if (!grow((void **)&k->a.out, &k->a.out_cap, k->ntedges, sizeof(*k->a.out)))
		return &hs_error_nomem;
	for (size_t e = 0; e < k->ntedges; e++) {
		PyObject *d = k->a.tedges[e];
		int64_t dst = set_find(k, d);
		if (dst < 0)
			return missing(o, d);
		struct hs_edge *out = &k->a.out[e];
		*out = (struct hs_edge){(uint64_t)dst, 0, HS_EDGE_TRAVERSE, HS_LABEL_NONE};
		if (positional)
			out->form = HS_LABEL_ORDINAL;
		else
			resolve(k, take_label(k, d), &out->form, &out->label_value);
	}
	size_t nout = k->ntedges;
	k->nowned = 0;
	if (!ti->plain)
		owned_edges(k, o, ti);
	if (k->err)
		return k->err;
	for (size_t i = 0; i < k->nlabels; i++) {
		if (k->a.labels[i].owned && !k->a.labels[i].used)
			push(k, &k->a.owned, &k->nowned, &k->a.owned_cap, k->a.labels[i].ptr,
			     k->a.labels[i].form, k->a.labels[i].value, false);
	}
	if (k->err || !grow((void **)&k->a.out, &k->a.out_cap, nout + k->nowned, sizeof(*k->a.out)))
		return k->err ? k->err : &hs_error_nomem;
	for (size_t i = 0; i < k->nowned; i++) {
		int64_t dst = set_find(k, k->a.owned[i].ptr);
		if (dst < 0)
			return missing(o, k->a.owned[i].ptr);
		struct hs_edge *out = &k->a.out[nout++];
		*out = (struct hs_edge){(uint64_t)dst, 0, HS_EDGE_OWNED, HS_LABEL_NONE};
		resolve(k, &k->a.owned[i], &out->form, &out->label_value);
	}
	return nout ? hs_writer_edges(k->w, k->a.out, nout) : NULL;
}

static struct hs_error *changed_type(PyObject *o)
{
	return hs_error_create(HS_ERROR_OTHER,
	                       "object 0x%lx: its type is not the one the first pass found (the "
	                       "heap changed during the dump)",
	                       (unsigned long)(uintptr_t)o);
}

struct preview_call {
	PyObject *o;
	Py_ssize_t n;
	char buf[4 * PREVIEW_CHARS + 8];
};

static void run_preview_call(void *arg)
{
	struct preview_call *c = arg;
	c->n = preview(c->o, c->buf, sizeof(c->buf), false);
}

/* Writes object number i, o, whose generation code is gen. */
static inline __attribute__((always_inline)) struct hs_error *
emit_object(struct walk *k, PyObject *o, unsigned gen, size_t i)
{
	uint64_t refcnt = (uint64_t)Py_REFCNT(o); /* first: before anything touches o */
	struct type_info *ti = type_info(k, Py_TYPE(o));
	if (!ti || !ti->declared)
		return changed_type(o);
	bool approx = false, held = false;
	uint64_t size = object_size(k, ti, o, &approx, &held);
	if (held && !hs_is_immortal(o))
		refcnt--; /* the dump's own reference */
	/* A __sizeof__ may return any int: one past the address space, or one that would take the
	 * heap past the reader's limit (half of it for each of the two writers), is replaced by the
	 * type's basic size and the object marked approximate. */
	if (size > (UINT64_C(1) << 48) || size > HS_MAX_TOTAL_SIZE / 2 - k->heap_bytes) {
		size = (uint64_t)Py_TYPE(o)->tp_basicsize;
		approx = true;
	}
	uint8_t flags = approx ? HS_OBJ_SIZE_APPROX : 0;
	if (gen != GEN_CODE_NONE) {
		flags |= HS_OBJ_GC;
		if (((struct hs_gc_head *)o)[-1].prev & 1)
			flags |= HS_OBJ_FINALIZED;
	}
	if (hs_is_immortal(o))
		flags |= HS_OBJ_IMMORTAL;
	k->heap_bytes += size;
	struct hs_error *err =
	    hs_writer_object(k->w, (uint64_t)(uintptr_t)o, ti->id, size, refcnt, flags,
	                     gen == GEN_CODE_NONE ? HS_GEN_NONE : (uint8_t)gen);
	if (!err)
		err = hs_writer_memory(k->w, (int64_t)hs_memory(o, size) - (int64_t)size);
	if (!err && k->site_file)
		err = hs_writer_site(k->w, k->site_file[i], k->site_line[i]);
	bool gc = k->worker && !ti->traverse_alone && ti->gc && ti->tp->tp_is_gc ? ask_is_gc(k, o)
	                                                                         : is_gc(ti, o);
	if (!err && (gc || !ti->plain)) /* else no traverse, no labels, no owned edges */
		err = emit_edges(k, o, ti, gc);
	if (!err && k->opts->values) {
		struct preview_call c; /* buf not cleared: a 408-byte memset an object */
		c.o = o;
		c.n = preview(o, c.buf, sizeof(c.buf), k->worker);
		if (c.n == NEEDS_INTERPRETER)
			mailbox_ask(k->mailbox, run_preview_call, &c);
		if (c.n >= 0)
			err = hs_writer_value(k->w, c.buf, (size_t)c.n);
	}
	if (!err && ti->shape == SHAPE_WEAKREF) {
		PyWeakReference *wr = (PyWeakReference *)o;
		if (!grow((void **)&k->weak, &k->weak_cap, k->nweak + 1, sizeof(*k->weak)))
			return &hs_error_nomem;
		k->weak[k->nweak++] = (struct weak_link){
		    i, wr->wr_object == Py_None ? NULL : wr->wr_object, wr->wr_callback};
	}
	return err;
}

/* Writes the objects of the pages from up to to (in address order), the first of them object
 * number i: the pages in order, the bits of each.  With two threads, the first answers the
 * second's mailbox after each object, and the second stops when told to. */
static struct hs_error *emit_range(struct walk *k, size_t from, size_t to, size_t i)
{
	struct hs_error *err = NULL;
	for (size_t n = from; !err && n < to; n++) {
		if (k->worker && atomic_load_explicit(k->stop, memory_order_relaxed))
			break;
		const struct page *p = &k->a.set.pages[k->a.set.order[n].index];
		static const struct page_gen none;
		const struct page_gen *g = p->gen == NO_GEN ? &none : &k->a.set.gens[p->gen];
		uintptr_t base = (uintptr_t)k->a.set.order[n].key << PAGE_SHIFT;
		for (unsigned w = 0; !err && w < PAGE_WORDS; w++) {
			for (uint64_t bits = p->bits[w]; bits && !err; bits &= bits - 1) {
				unsigned b = (unsigned)__builtin_ctzll(bits);
				uint64_t bit = (uint64_t)1 << b;
				unsigned gen = GEN_CODE_NONE;
				if (g->listed[w] & bit)
					gen = (g->bit0[w] & bit ? 1u : 0u) |
					      (g->bit1[w] & bit ? 2u : 0u);
				PyObject *o = (PyObject *)(base + (uintptr_t)(w * 64 + b) * 8);
				err = emit_object(k, o, gen, i);
				if (k->mailbox && !k->worker)
					mailbox_serve(k->mailbox);
				progress(k, "wrote", ++i, k->nobjs);
			}
		}
	}
	return err;
}

/* ---------------------------------------------------------------------------------------------
 * Two threads
 *
 * Emit is most of a dump, and each object's record depends on nothing but the object and the
 * set, so a second thread writes the objects of the lower addresses straight into the file's
 * writer while this one writes the rest into a segment (hs_writer_segment), appended once both
 * are done.  The second thread must not call into the interpreter (it has no thread state and
 * this one holds the GIL), and neither thread may change what the other reads: the sizes that
 * take a call were made before (presize), the static types' dicts taken in pass 1
 * (static_dict), and what remains (a value preview through dtoa or a big int, a tp_traverse
 * other than the core types', see traverse_alone) the second asks this thread for
 * (mailbox.h).  The types and labels are all declared before (declare_types): a segment
 * cannot declare.  3.11, 1M objects: emit 34 -> 18 ms on this 2-core machine.
 */

struct second {
	struct walk k; /* shares the set, the types and presize's sizes with the first thread's */
	size_t from, to, first;
	pthread_t thread;
	atomic_bool done;
	double done_at; /* elapsed() when it was done */
	struct hs_error *err;
};

static void *second_main(void *arg)
{
	struct second *s = arg;
	s->err = emit_range(&s->k, s->from, s->to, s->first);
	s->done_at = elapsed(&s->k);
	atomic_store_explicit(&s->done, true, memory_order_release);
	return NULL;
}

/* How many threads emit: opts->threads, or by default two for a heap of TWO_THREADS_MIN objects
 * or more when this process may run on two CPUs. */
static unsigned emit_threads(const struct walk *k)
{
	if (k->opts->threads)
		return k->opts->threads > 1 ? 2 : 1;
	cpu_set_t cpus;
	if (k->nobjs < TWO_THREADS_MIN || sched_getaffinity(0, sizeof(cpus), &cpus) != 0)
		return 1;
	return CPU_COUNT(&cpus) >= 2 ? 2 : 1;
}

/* The cost of emitting the objects of the n-th page in address order: its objects, a GC object
 * counting as LISTED_COST (its edges and labels: with 12, the two threads end within 1-3 ms of each
 * other on 3.11-3.13, 1M objects; with 8, 3 to 5 ms apart).  *objects receives how many it
 * holds. */
static uint64_t page_cost(const struct objset *s, size_t n, size_t *objects)
{
	const struct page *p = &s->pages[s->order[n].index];
	uint64_t c = 0, listed = 0;
	for (unsigned w = 0; w < PAGE_WORDS; w++) {
		c += popcount64(p->bits[w]);
		listed += p->gen == NO_GEN ? 0 : popcount64(s->gens[p->gen].listed[w]);
	}
	*objects = c;
	return c + LISTED_COST * listed;
}

/* The page where the second thread's part ends: the first past half the cost of emit.
 * *first receives the number of objects before it. */
static size_t split_pages(const struct walk *k, size_t *first)
{
	const struct objset *s = &k->a.set;
	uint64_t total = 0, cost = 0;
	size_t objects;
	for (size_t n = 0; n < s->npages; n++)
		total += page_cost(s, n, &objects);
	*first = 0;
	size_t n = 0;
	for (; n < s->npages && cost < total / 2; n++) {
		cost += page_cost(s, n, &objects);
		*first += objects;
	}
	return n;
}

/* Emits with two threads, the second one's part ending at page split, before object first. */
static struct hs_error *emit_two(struct walk *k, size_t split, size_t first)
{
	struct hs_writer *file = k->w, *segment;
	struct hs_error *err = hs_writer_segment(file, first, &segment);
	struct second *s = err ? NULL : calloc(1, sizeof(*s));
	if (!s) {
		hs_writer_destroy(segment);
		return err ? err : &hs_error_nomem;
	}
	struct mailbox mailbox = {0};
	atomic_bool stop = false;
	s->k = *k;
	s->k.a = (struct work){.set = k->a.set}; /* its own last-page cache and work arrays */
	s->k.weak = NULL;
	s->k.nweak = s->k.weak_cap = 0;
	s->k.heap_bytes = 0;
	s->k.progress = false;
	s->k.worker = true;
	s->k.mailbox = &mailbox;
	s->k.stop = &stop;
	s->k.presized_next = 0;
	s->to = split;
	atomic_init(
	    &s->done,
	    false); /* Signals are for the first thread: the second starts with them all blocked. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int started = pthread_create(&s->thread, NULL, second_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started != 0) {
		free(s); /* no second thread: all of it here */
		hs_writer_destroy(segment);
		return emit_range(k, 0, k->a.set.npages, 0);
	}
	uint64_t split_addr = k->a.set.order[split].key << PAGE_SHIFT;
	while (k->presized_next < k->npresized && k->presized[k->presized_next].key < split_addr)
		k->presized_next++;
	k->w = segment;
	k->mailbox = &mailbox;
	err = emit_range(k, split, k->a.set.npages, first);
	if (k->progress)
		report(k, "wrote (the first thread's part)", k->nobjs - first, k->nobjs);
	if (err)
		atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (unsigned long n = 0; !atomic_load_explicit(&s->done, memory_order_acquire); n++) {
		if (mailbox_serve(&mailbox))
			n = 0;
		mailbox_relax(n);
	}
	pthread_join(s->thread, NULL);
	if (k->progress)
		fprintf(stderr,
		        "heapsnap: %.3f s: wrote (the second thread's part) %zu/%zu objects\n",
		        s->done_at, first, k->nobjs);
	k->w = file;
	k->mailbox = NULL;
	k->heap_bytes += s->k.heap_bytes;
	if (!err && s->k.nweak) { /* the second part's weak links come first */
		if (!grow((void **)&s->k.weak, &s->k.weak_cap, s->k.nweak + k->nweak,
		          sizeof(*k->weak)))
			err = &hs_error_nomem;
		else if (k->nweak)
			memcpy(s->k.weak + s->k.nweak, k->weak, k->nweak * sizeof(*k->weak));
		if (!err) {
			free(k->weak);
			k->weak = s->k.weak;
			k->nweak += s->k.nweak;
			k->weak_cap = s->k.weak_cap;
			s->k.weak = NULL;
		}
	}
	free(s->k.weak);
	work_free(&s->k.a); /* its arrays, not the set it shares */
	if (!err && s->err)
		err = s->err;
	else if (s->err)
		hs_error_destroy(s->err);
	free(s);
	if (err) {
		hs_writer_destroy(segment);
		return err;
	}
	return hs_writer_append(file, segment);
}

/* Writes every object, in address order. */
static struct hs_error *emit_objects(struct walk *k)
{
	size_t first = 0, split = k->threads > 1 ? split_pages(k, &first) : 0;
	struct hs_error *err = split > 0 && split < k->a.set.npages
	                           ? emit_two(k, split, first)
	                           : emit_range(k, 0, k->a.set.npages, 0);
	if (k->progress)
		report(k, "wrote", k->nobjs, k->nobjs);
	return err;
}

static struct hs_error *emit_links(struct walk *k)
{
	struct hs_error *err = NULL;
	for (size_t i = 0; i < k->nweak && !err; i++) {
		int64_t r = k->weak[i].referent ? set_find(k, k->weak[i].referent) : -1;
		int64_t c = k->weak[i].callback ? set_find(k, k->weak[i].callback) : -1;
		err = hs_writer_weak(k->w, k->weak[i].ref, (uint64_t)(r + 1), (uint64_t)(c + 1));
	}
	for (size_t i = 0; i < k->nroots && !err; i++)
		err = hs_writer_root(k->w, (uint64_t)set_find(k, k->roots[i].obj), k->roots[i].kind,
		                     k->roots[i].name);
	return err;
}

/* The allocator the memory figures assume (FORMAT.md §4.5): pymalloc, unless PYTHONMALLOC or
 * -X dev (pymalloc with the debug hooks) chose another. */
static const char *allocator_name(void)
{
	const char *env = getenv("PYTHONMALLOC");
	if (env && *env)
		return env;
	PyObject *flags = PySys_GetObject("flags"); /* borrowed */
	PyObject *dev = flags ? PyObject_GetAttrString(flags, "dev_mode") : NULL;
	int on = dev ? PyObject_IsTrue(dev) : 0;
	Py_XDECREF(dev);
	PyErr_Clear();
	return on > 0 ? "pymalloc_debug" : "pymalloc";
}

static struct hs_error *write_meta(struct walk *k, uintptr_t gen0)
{
	char thr[64], cnt[64];
	const int *g0 = (const int *)(gen0 + 16), *g1 = (const int *)(gen0 + 40),
	          *g2 = (const int *)(gen0 + 64); /* {threshold, count} of each generation */
	snprintf(thr, sizeof(thr), "%d,%d,%d", g0[0], g1[0], g2[0]);
	snprintf(cnt, sizeof(cnt), "%d,%d,%d", g0[1], g1[1], g2[1]);
	struct hs_error *err = hs_writer_meta(k->w, "gc.threshold", thr);
	if (!err)
		err = hs_writer_meta(k->w, "gc.count", cnt);
	if (!err)
		err = hs_writer_meta(k->w, "values", k->opts->values ? "true" : "false");
	if (!err)
		err = hs_writer_meta(k->w, "memory.allocator", allocator_name());
	return err;
}

/* _tracemalloc._get_object_traceback into k->get_traceback when tracemalloc is tracing (before
 * pass 1, so that an import's objects are walked); else nothing. */
static void open_sites(struct walk *k)
{
	PyObject *mod = PyImport_ImportModule("_tracemalloc");
	PyObject *on = mod ? PyObject_CallMethod(mod, "is_tracing", NULL) : NULL;
	if (on == Py_True)
		k->get_traceback = PyObject_GetAttrString(mod, "_get_object_traceback");
	Py_XDECREF(on);
	Py_XDECREF(mod);
	PyErr_Clear();
}

/* Object number i's site: the most recent frame (the first of the raw traceback, the frame
 * Snapshot.statistics('lineno') counts by) of the traceback tracemalloc kept for it. */
static struct hs_error *find_site(struct walk *k, PyObject *o, size_t i)
{
	k->site_file[i] = k->site_line[i] = 0;
	PyObject *tb = PyObject_CallFunctionObjArgs(k->get_traceback, o, NULL);
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
	/* 3.11's _get_object_traceback leaves out the two pointers (dict, values) before the GC
	 * header of an instance with a managed dict, and finds no traceback for it. */
	if (tb == Py_None && PyType_HasFeature(Py_TYPE(o), Py_TPFLAGS_MANAGED_DICT)) {
		Py_DECREF(tb);
		tb = _PyTraceMalloc_GetTraceback(
		    0, (uintptr_t)o - sizeof(struct hs_gc_head) - 2 * sizeof(PyObject *));
	}
#endif
	PyObject *frame =
	    tb && PyTuple_Check(tb) && PyTuple_GET_SIZE(tb) > 0 ? PyTuple_GET_ITEM(tb, 0) : NULL;
	struct hs_error *err = NULL;
	if (frame && PyTuple_Check(frame) && PyTuple_GET_SIZE(frame) == 2 &&
	    PyUnicode_Check(PyTuple_GET_ITEM(frame, 0))) {
		Py_ssize_t len;
		const char *name = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(frame, 0), &len);
		long line = PyLong_AsLong(PyTuple_GET_ITEM(frame, 1));
		uint32_t id;
		if (name && line >= 0 && line <= (long)UINT32_MAX) {
			err = hs_writer_string(k->w, name, (size_t)len, &id);
			k->site_file[i] = id + 1;
			k->site_line[i] = (uint32_t)line;
		}
	}
	Py_XDECREF(tb);
	PyErr_Clear();
	return err;
}

/* Every object's site (find_site), in the order emit writes them, before emit (whose second
 * thread may not call the interpreter) and while a string may still be declared. */
static struct hs_error *find_sites(struct walk *k)
{
	if (!k->get_traceback)
		return NULL;
	k->site_file = malloc((k->nobjs + 1) * sizeof(*k->site_file));
	k->site_line = malloc((k->nobjs + 1) * sizeof(*k->site_line));
	if (!k->site_file || !k->site_line)
		return &hs_error_nomem;
	struct hs_error *err = NULL;
	size_t i = 0;
	for (size_t n = 0; !err && n < k->a.set.npages; n++) {
		const struct page *p = &k->a.set.pages[k->a.set.order[n].index];
		uintptr_t base = (uintptr_t)k->a.set.order[n].key << PAGE_SHIFT;
		for (unsigned w = 0; !err && w < PAGE_WORDS; w++)
			for (uint64_t bits = p->bits[w]; bits && !err && i < k->nobjs;
			     bits &= bits - 1)
				err = find_site(
				    k,
				    (PyObject *)(base +
				                 (uintptr_t)(w * 64 + __builtin_ctzll(bits)) * 8),
				    i++);
	}
	return err;
}

/* Forgets what a pass 1 found, for the next one (dump), keeping k->called. */
static bool walk_restart(struct walk *k)
{
	for (size_t i = 0; i < k->nroots; i++)
		free(k->roots[i].name);
	k->nroots = 0;
	free(k->types); /* no slot_ids before declare_types */
	k->types = NULL;
	k->types_mask = k->ntypes = 0;
	memset(k->type_cache, 0, sizeof(k->type_cache));
	k->nobjs = k->ndone = k->nstack = k->npresized = k->nstatic_dicts = 0;
	return set_clear(&k->a.set);
}

static struct hs_error *dump(struct walk *k, const char *path)
{
	uintptr_t gen0 = 0;
	struct hs_error *err = find_generations(&gen0);
	if (err)
		return err;
	char version[32];
	snprintf(version, sizeof(version), "%s", Py_GetVersion());
	version[strcspn(version, " ")] = '\0';
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct hs_header h = {.producer = "heapsnap 0.1 inproc",
	                      .runtime = "cpython",
	                      .runtime_version = version,
	                      .pointer_size = sizeof(void *),
	                      .pid = (uint32_t)getpid(),
	                      .time_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec,
	                      .method = HS_METHOD_INPROC};
	err = hs_writer_create(path, &h, &k->w);
	for (int i = 0; !err && i < NLABELS; i++)
		err = hs_writer_string(k->w, label_text[i], strlen(label_text[i]), &k->label_id[i]);
	if (!err)
		err = write_meta(k, gen0);
	open_sites(k);
	/* Pass 1 until one finds no SIZE_USER object without a size (see call_sizes). */
	for (unsigned round = 0; !err; round++) {
		bool ran = false;
		if (!walk_restart(k))
			err = &hs_error_nomem;
		if (!err)
			err = collect(k, gen0);
		if (!err)
			err = call_sizes(k, round < SIZE_ROUNDS, &ran);
		if (!ran)
			break;
	}
	if (!err)
		err = write_called_meta(k);
	if (!err && !set_rank(&k->a.set))
		err = &hs_error_nomem;
	if (!err) {
		k->threads = emit_threads(k);
		err = presize(k);
	}
	if (!err)
		err = declare_types(k);
	if (!err)
		err = find_sites(k);
	if (!err)
		err = emit_objects(k);
	if (!err)
		err = emit_links(k);
	if (k->progress)
		report(k, "linked", k->nobjs, k->nobjs);
	return err;
}

/* A walk's work arrays kept from one dump for the next: fresh ones cost a dump of a million
 * objects 1,400 page faults (of its 1,850), 2 ms of its 60.  A dump takes them and puts them back
 * when it is done; a dump that runs inside another (from a __sizeof__ written in Python) finds
 * none, allocates its own, and leaves them for the next one. */
static struct work spare;

static void spare_take(struct walk *k)
{
	k->a = spare;
	spare = (struct work){0};
}

static void spare_put(struct walk *k)
{
	if (!spare.set.slot) {
		spare = k->a;
		return;
	} /* Left by a dump that ran inside this one. */
	set_free(&k->a.set);
	work_free(&k->a);
}

/* Moves the results of call_sizes into ret (if not NULL) and gives back the dump's references
 * (which may run finalizers: the dump is over). */
static void called_results(struct walk *k, struct hs_inproc_stats *ret)
{
	if (ret)
		ret->sizeof_failed = calloc(k->ncalled + 1, sizeof(*ret->sizeof_failed));
	for (size_t i = 0; i < k->ncalled; i++) {
		struct called *c = &k->called[i];
		if (ret && c->addr && c->state == CALLED_OK) {
			ret->sizeof_called++;
		} else if (ret && ret->sizeof_failed && c->addr) {
			ret->sizeof_failed[ret->nsizeof_failed++] =
			    (struct hs_inproc_failed){c->addr, c->reason};
			c->reason = NULL;
		}
		free(c->reason);
	}
	for (size_t i = 0; i < k->ncalled; i++) {
		if (k->called[i].held)
			Py_DECREF((PyObject *)(uintptr_t)k->called[i].addr);
	}
	free(k->called);
}

struct hs_error *hs_inproc_dump(const char *path, const struct hs_inproc_options *opts,
                                struct hs_inproc_stats *ret)
{
	struct walk k = {.opts = opts, .progress = opts->progress};
	spare_take(&k);
	clock_gettime(CLOCK_MONOTONIC, &k.start);
	struct hs_error *err = dump(&k, path);
	struct hs_writer_stats st;
	if (!err)
		err = hs_writer_finish(k.w, &st);
	if (k.progress)
		report(&k, "finished", k.nobjs, k.nobjs);
	hs_writer_destroy(k.w);
	for (size_t i = 0; i < k.nroots; i++)
		free(k.roots[i].name);
	free(k.roots);
	free(k.weak);
	spare_put(&k);
	for (size_t i = 0; k.types && i <= k.types_mask; i++)
		free(k.types[i].slot_ids);
	free(k.types);
	free(k.presized);
	free(k.static_dicts);
	free(k.site_file);
	free(k.site_line);
	Py_XDECREF(k.get_traceback);
	if (!err)
		*ret = (struct hs_inproc_stats){.objects = st.objects,
		                                .edges = st.edges,
		                                .weak = st.weak,
		                                .roots = st.roots,
		                                .values = st.values,
		                                .bytes = st.bytes,
		                                .heap_bytes = k.heap_bytes};
	called_results(&k, err ? NULL : ret);
	return err;
}

void hs_inproc_stats_free(struct hs_inproc_stats *st)
{
	for (size_t i = 0; i < st->nsizeof_failed; i++)
		free(st->sizeof_failed[i].reason);
	free(st->sizeof_failed);
	st->sizeof_failed = NULL;
	st->nsizeof_failed = 0;
}
