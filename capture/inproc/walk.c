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
 *
 * walk.c holds the passes and the object set; walk_internal.h declares what crosses files:
 * walk_labels.c the labels and owned edges (the kinds' fixed fields from capture/cpython/kinds.h),
 * walk_types.c what the walker knows of types (and hs_inproc_init), walk_offsets.c the kinds'
 * field offsets, walk_roots.c the roots, walk_text.c text and value previews,
 * walk_sizeof.c the sizes that take a __sizeof__ call (SIZE_USER), walk_watch.c whether those
 * calls changed the heap, walk_threads.c the two-thread writer, walk_sites.c the allocation
 * sites.
 */
#include "walk_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* hs_ip_grow's growth: *cap doubled until it holds need. */
bool hs_ip_grow_to(void **p, size_t *cap, size_t need, size_t elsize)
{
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
void hs_ip_work_free(struct work *a)
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
	if (!hs_ip_grow((void **)&s->pages, &s->pages_cap, s->npages + 1, sizeof(*s->pages)) ||
	    !hs_ip_grow((void **)&s->page_no, &s->page_no_cap, s->npages + 1, sizeof(*s->page_no)))
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

/* Numbers the objects in address order (see struct objset). */
static bool set_rank(struct objset *s)
{
	if (!hs_ip_grow((void **)&s->order, &s->order_cap, s->npages, sizeof(*s->order)) ||
	    !hs_ip_grow((void **)&s->order_tmp, &s->order_tmp_cap, s->npages,
	                sizeof(*s->order_tmp)))
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
		if (!hs_ip_grow((void **)&s->gens, &s->gens_cap, s->ngens + 1, sizeof(*s->gens)))
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
void hs_ip_add(struct walk *k, PyObject *o, unsigned gen)
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
	    (k->nstack == k->a.stack_cap && !hs_ip_grow((void **)&k->a.stack, &k->a.stack_cap,
	                                                k->nstack + 1, sizeof(*k->a.stack)))) {
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
	hs_ip_add(arg, o, GEN_CODE_NONE);
	return 0;
}

static int visit_collect(PyObject *o, void *arg)
{
	struct walk *k = arg;
	if (!o)
		return 0;
	if (k->ntedges == k->a.tedges_cap && !hs_ip_grow((void **)&k->a.tedges, &k->a.tedges_cap,
	                                                 k->ntedges + 1, sizeof(*k->a.tedges))) {
		k->err = &hs_error_nomem;
		return -1;
	}
	k->a.tedges[k->ntedges++] = o;
	return 0;
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
inline struct type_info *hs_ip_type_info(struct walk *k, PyTypeObject *tp)
{
	size_t h = (size_t)((uintptr_t)tp * 0x9E3779B97F4A7C15ull >> 32) & (TYPE_CACHE - 1);
	if (k->type_cache[h].tp == tp)
		return k->type_cache[h].ti;
	struct type_info *ti = k->emitting ? type_info_find(k, tp) : hs_ip_type_info_lookup(k, tp);
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
 * Pass 1: collect
 */

double hs_ip_elapsed(const struct walk *k)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - k->start.tv_sec) + (double)(t.tv_nsec - k->start.tv_nsec) / 1e9;
}

void hs_ip_report(struct walk *k, const char *what, size_t done, size_t total)
{
	fprintf(stderr, "heapsnap: %.3f s: %s %zu/%zu objects\n", hs_ip_elapsed(k), what, done,
	        total);
}

/* Reports every PROGRESS_EVERY objects when asked to (the callers report the last count). */
static inline void progress(struct walk *k, const char *what, size_t done, size_t total)
{
	if (k->progress && done % PROGRESS_EVERY == 0)
		hs_ip_report(k, what, done, total);
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
		struct type_info *ti = hs_ip_type_info(k, tp);
		if (!ti) {
			k->err = &hs_error_nomem;
			return;
		}
		if (!ti->added) {
			hs_ip_add(k, (PyObject *)tp, GEN_CODE_NONE);
			ti->added = true;
		}
		if (!ti->voters || (k->ndone & (VOTE_EVERY - 1)) == 0)
			vote_size(ti, o);
		if (ti->size_kind == SIZE_USER) {
			if (!hs_ip_grow((void **)&k->user, &k->user_cap, k->nuser + 1,
			                sizeof(*k->user))) {
				k->err = &hs_error_nomem;
				return;
			}
			k->user[k->nuser++] = (uintptr_t)o;
		} else if (size_by_call(ti, o)) {
			if (!hs_ip_grow((void **)&k->presized, &k->presized_cap, k->npresized + 1,
			                sizeof(*k->presized))) {
				k->err = &hs_error_nomem;
				return;
			}
			k->presized[k->npresized++] = (struct hs_keyed){(uintptr_t)o, 0};
		}
		if (is_gc(ti, o))
			tp->tp_traverse(o, visit_add, k);
#if PY_VERSION_HEX < 0x030B0000
		if (ti->shape == SHAPE_FRAME)
			hs_ip_intern_fast_locals(k, (PyFrameObject *)o);
#endif
		if (!ti->plain) {
			hs_ip_owned_edges(k, o, ti);
			for (size_t j = 0; j < k->nowned; j++)
				hs_ip_add(k, k->a.owned[j].ptr, GEN_CODE_NONE);
		}
		if (ti->shape == SHAPE_DICT) { /* keys: owned, or label targets of split tables */
			Py_ssize_t pos = 0;
			PyObject *key, *value;
			while (PyDict_Next(o, &pos, &key, &value))
				hs_ip_add(k, key, GEN_CODE_NONE);
		} else if (ti->shape == SHAPE_WEAKREF) {
			PyObject *r = ((PyWeakReference *)o)->wr_object;
			if (r != Py_None)
				hs_ip_add(k, r, GEN_CODE_NONE);
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
			hs_ip_add(k, (PyObject *)(p + sizeof(struct hs_gc_head)), g);
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
	hs_ip_collect_roots(k);
	follow(k, SIZE_MAX);
	if (k->progress)
		hs_ip_report(k, "found", k->nobjs, k->nobjs);
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
	case SIZE_STR: {
		if (!PyUnicode_IS_COMPACT_ASCII(o))
			return -1;
#if PY_VERSION_HEX < 0x030C0000
		if (((PyASCIIObject *)o)->wstr)
			return -1;
#endif
		struct hs_cp_str s = {.compact = true,
		                      .ascii = true,
		                      .kind = 1,
		                      .length = (uint64_t)PyUnicode_GET_LENGTH(o)};
		return (Py_ssize_t)hs_cp_str_sizeof(&s, PY_MINOR_VERSION);
	}
	case SIZE_INT: {
		int sign;
		size_t n;
		hs_long_digits(o, &sign, &n);
		return (Py_ssize_t)hs_cp_int_sizeof(n, PY_MINOR_VERSION);
	}
	case SIZE_LIST:
		return (Py_ssize_t)hs_cp_list_sizeof((uint64_t)basic,
		                                     (uint64_t)((PyListObject *)o)->allocated);
	case SIZE_SET: {
		PySetObject *so = (PySetObject *)o;
		return (Py_ssize_t)hs_cp_set_sizeof((uint64_t)basic, (uint64_t)so->mask,
		                                    so->table == so->smalltable);
	}
	case SIZE_BYTEARRAY:
		return (Py_ssize_t)hs_cp_bytearray_sizeof(
		    (uint64_t)basic, (uint64_t)((PyByteArrayObject *)o)->ob_alloc);
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

/* Before emit, while nothing else reads the heap, with two threads: the sizes that take a call
 * (whatever a C __sizeof__ does, a refcount changing, a result allocated, it does then, not
 * while the second thread reads), sorted by address (with one thread, emit calls them as it
 * goes); sorts static_dicts and local_ids. */
static struct hs_error *presize(struct walk *k)
{
	if (k->threads < 2)
		k->npresized = 0;
	for (size_t i = 0; i < k->npresized; i++) {
		PyObject *o = (PyObject *)(uintptr_t)k->presized[i].key;
		bool approx = false;
		const struct type_info *ti = hs_ip_type_info(k, Py_TYPE(o));
		if (!ti)
			return &hs_error_nomem;
		uint64_t size = called_size(ti, o, &approx);
		k->presized[i].index = size | (approx ? PRESIZED_APPROX : 0);
	}
	struct hs_keyed *tmp =
	    malloc((k->npresized + k->nstatic_dicts + k->nlocal_ids + 1) * sizeof(*tmp));
	if (!tmp)
		return &hs_error_nomem;
	hs_sort_keyed(k->presized, tmp, k->npresized);
	hs_sort_keyed(k->static_dicts, tmp, k->nstatic_dicts);
	hs_sort_keyed(k->local_ids, tmp, k->nlocal_ids);
	free(tmp);
	k->emitting = true;
	return NULL;
}

/* o's size made by presize; emit asks in address order, so the search goes on from the last. */
static uint64_t presized_size(struct walk *k, PyObject *o, bool *approx)
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
	return v & ~PRESIZED_APPROX;
}

/* The size of SIZE_USER object o that call_sizes took; *held is set when the dump holds a
 * reference to o. */
static uint64_t user_size(struct walk *k, PyObject *o, bool *approx, bool *held)
{
	/* pass 1 found no SIZE_USER object that call_sizes did not list */
	const struct called *c = hs_ip_called_find(k, (uint64_t)(uintptr_t)o, k->ncalled);
	assert(c);
	if (!c) {
		*approx = true;
		return hs_ip_basic_size(o);
	}
	*approx = c->state != CALLED_OK;
	*held = c->held;
	return c->size;
}

/* sys.getsizeof(o), as getsizeof makes it; *approx is set when __sizeof__ failed, *held when
 * the dump holds a reference to o (call_sizes). */
static uint64_t object_size(struct walk *k, const struct type_info *ti, PyObject *o, bool *approx,
                            bool *held)
{
	Py_ssize_t s = pure_size(ti, o);
	if (s >= 0)
		return (uint64_t)s;
	if (ti->size_kind == SIZE_USER)
		return user_size(k, o, approx, held);
	return k->threads > 1 ? presized_size(k, o, approx) : called_size(ti, o, approx);
}

static void count_slot(void *arg, const PyMemberDef *mp, size_t j)
{
	(void)mp;
	*(size_t *)arg = j + 1;
}

/* Interns the label of slot member mp (".name") as the label of the j-th slot. */
static void intern_slot(void *arg, const PyMemberDef *mp, size_t j)
{
	struct slot_visit *v = arg;
	char name[HS_CP_SLOT_NAME_MAX + 2];
	size_t n = hs_cp_slot_label(mp->name, name);
	if (!v->err)
		v->err = hs_writer_string(v->k->w, name, n, &v->ids[j]);
}

static struct hs_error *declare_type(struct walk *k, struct type_info *ti, uint64_t size)
{
	PyTypeObject *tp = ti->tp;
	char name[NAME_BYTES], module[NAME_BYTES], qual[NAME_BYTES];
	const char *n = tp->tp_name, *m = "builtins";
	if (tp->tp_flags & HS_CP_TPF_HEAPTYPE) { /* type.__name__ (which a class may reassign) */
		n = hs_ip_cstr(((PyHeapTypeObject *)tp)->ht_name, name);
		/* type.__module__ is its dict's __module__, whatever it is: "" unless a str. */
		PyObject *mod =
		    tp->tp_dict ? PyDict_GetItemWithError(tp->tp_dict, hs_ip_str_module) : NULL;
		PyErr_Clear();
		m = mod && PyUnicode_Check(mod) ? hs_ip_cstr(mod, module) : "";
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
	if (tp->tp_flags & HS_CP_TPF_HEAPTYPE)
		flags |= HS_TYPE_HEAP;
	if (PyType_IS_GC(tp))
		flags |= HS_TYPE_GC;
	if (tp->tp_finalize || tp->tp_del)
		flags |= HS_TYPE_HAS_FINALIZER;
	int64_t self = set_find(k, tp);
	ti->declared = true;
	struct hs_error *err =
	    hs_writer_type(k->w, n, m, size, (uint64_t)(self + 1), flags, &ti->id);
	if (!err && (tp->tp_flags & HS_CP_TPF_HEAPTYPE))
		err = hs_writer_qualname(k->w, ti->id, n,
		                         hs_ip_cstr(((PyHeapTypeObject *)tp)->ht_qualname, qual));
	size_t nslots = 0;
	if (!err && ti->subtype)
		hs_ip_for_each_slot(tp, count_slot, &nslots);
	if (err || !nslots)
		return err;
	struct slot_visit v = {k, NULL, calloc(nslots, sizeof(*v.ids)), NULL};
	if (!v.ids)
		return &hs_error_nomem;
	ti->slot_ids = v.ids;
	hs_ip_for_each_slot(tp, intern_slot, &v);
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

/* The index of key, a dict key or an attribute name (set_find).  A few keys label most edges
 * (the attribute names of a class's instances, the keys of many small dicts alike): a small
 * cache in front of the object set, whose lookup is a cache miss on a big heap.  Emit only: the
 * set does not change then. */
static inline int64_t key_index(struct walk *k, const void *key)
{
	size_t h = hash_ptr((uintptr_t)key) & (KEY_CACHE - 1);
	if (k->key_cache[h].key == key)
		return k->key_cache[h].index;
	int64_t i = set_find(k, key);
	if (i >= 0) {
		k->key_cache[h].key = key;
		k->key_cache[h].index = (uint32_t)i;
	}
	return i;
}

/* The label of a traverse edge to dst (index), as (form, value). */
static void resolve(struct walk *k, struct label *l, uint8_t *form, uint64_t *value)
{
	*form = HS_LABEL_NONE;
	*value = 0;
	if (!l)
		return;
	if (l->form == HS_LABEL_KEY || l->form == HS_LABEL_ATTR) {
		int64_t key = key_index(k, (const void *)(uintptr_t)l->value);
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
		    !hs_ip_grow((void **)&k->a.tedges, &k->a.tedges_cap, n, sizeof(*k->a.tedges)))
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
		hs_ip_build_labels(k, o, ti);
	if (k->err)
		return k->err;
	if (!hs_ip_grow((void **)&k->a.out, &k->a.out_cap, k->ntedges, sizeof(*k->a.out)))
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
			resolve(k, hs_ip_take_label(k, d), &out->form, &out->label_value);
	}
	size_t nout = k->ntedges;
	k->nowned = 0;
	if (!ti->plain)
		hs_ip_owned_edges(k, o, ti);
	if (k->err)
		return k->err;
	for (size_t i = 0; i < k->nlabels; i++) {
		if (k->a.labels[i].owned && !k->a.labels[i].used)
			hs_ip_push(k, &k->a.owned, &k->nowned, &k->a.owned_cap, k->a.labels[i].ptr,
			           k->a.labels[i].form, k->a.labels[i].value, false);
	}
	if (k->err ||
	    !hs_ip_grow((void **)&k->a.out, &k->a.out_cap, nout + k->nowned, sizeof(*k->a.out)))
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

/* Writes object number i, o, whose generation code is gen. */
static inline __attribute__((always_inline)) struct hs_error *
emit_object(struct walk *k, PyObject *o, unsigned gen, size_t i)
{
	uint64_t refcnt = (uint64_t)Py_REFCNT(o); /* first: before anything touches o */
	struct type_info *ti = hs_ip_type_info(k, Py_TYPE(o));
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
		err = hs_writer_memory(
		    k->w, (int64_t)hs_memory(o, size, ti->anyset, ti->bytearray) - (int64_t)size);
	if (!err && k->site_file)
		err = hs_writer_site(k->w, k->site_file[i], k->site_line[i]);
	bool gc = k->worker && !ti->traverse_alone && ti->gc && ti->tp->tp_is_gc ? ask_is_gc(k, o)
	                                                                         : is_gc(ti, o);
	if (!err && (gc || !ti->plain)) /* else no traverse, no labels, no owned edges */
		err = emit_edges(k, o, ti, gc);
	if (!err && k->opts->values && ti->valued) { /* not a call for each record, list... */
		char buf[HS_CP_PREVIEW_BYTES];       /* not cleared: a 408-byte memset an object */
		Py_ssize_t n = hs_ip_preview(o, buf);
		if (n >= 0)
			err = hs_writer_value(k->w, buf, (size_t)n);
	}
	if (!err && ti->shape == SHAPE_WEAKREF) {
		PyWeakReference *wr = (PyWeakReference *)o;
		if (!hs_ip_grow((void **)&k->weak, &k->weak_cap, k->nweak + 1, sizeof(*k->weak)))
			return &hs_error_nomem;
		k->weak[k->nweak++] = (struct weak_link){
		    i, wr->wr_object == Py_None ? NULL : wr->wr_object, wr->wr_callback};
	}
	return err;
}

/* Writes the objects of the pages from up to to (in address order), the first of them object
 * number i: the pages in order, the bits of each.  With two threads, the first answers the
 * second's mailbox after each object, and the second stops when told to. */
struct hs_error *hs_ip_emit_range(struct walk *k, size_t from, size_t to, size_t i)
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
				PyObject *o = hs_ip_page_object(base, w, b);
				err = emit_object(k, o, gen, i);
				if (k->mailbox && !k->worker)
					mailbox_serve(k->mailbox);
				progress(k, "wrote", ++i, k->nobjs);
			}
		}
	}
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

/* Whether every object of the last pass 1 still has a reference: one that died into a free
 * list (a tuple, a float...) gave no block back to the allocator (walk_sizeof.c). */
static bool found_alive(struct walk *k)
{
	const struct objset *s = &k->a.set;
	for (size_t n = 0; n < s->npages; n++) {
		uintptr_t base = (uintptr_t)s->page_no[n] << PAGE_SHIFT;
		if (n + 2 < s->npages) /* the pages come in no address order: a miss each */
			__builtin_prefetch((void *)((uintptr_t)s->page_no[n + 2] << PAGE_SHIFT));
		for (unsigned w = 0; w < PAGE_WORDS; w++) {
			for (uint64_t bits = s->pages[n].bits[w]; bits; bits &= bits - 1) {
				unsigned b = (unsigned)__builtin_ctzll(bits);
				PyObject *o = hs_ip_page_object(base, w, b);
				if (Py_REFCNT(o) <= 0)
					return false;
			}
		}
	}
	return true;
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
	k->nobjs = k->ndone = k->nstack = k->npresized = k->nuser = k->nstatic_dicts = 0;
	k->nlocal_ids = 0;
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
	for (int i = 0; !err && i < HS_CP_NLABELS; i++) {
		const char *text = hs_cp_label_text((enum hs_cp_label)i, PY_MINOR_VERSION);
		if (text)
			err = hs_writer_string(k->w, text, strlen(text), &k->label_id[i]);
	}
	if (!err)
		err = write_meta(k, gen0);
	hs_ip_open_sites(k);
	k->gen0 = gen0;
	/* Pass 1 until one finds no SIZE_USER object without a size, or the calls left the heap
	 * as it found it (walk_sizeof.c). */
	for (unsigned round = 0; !err; round++) {
		bool ran = false, changed = false;
		if (!walk_restart(k))
			err = &hs_error_nomem;
		if (!err)
			err = collect(k, gen0);
		if (!err)
			err = hs_ip_call_sizes(k, round < SIZE_ROUNDS, &ran, &changed);
		k->walks = round + 1;
		if (!ran || (!changed && found_alive(k)))
			break;
	}
	if (!err)
		err = hs_ip_write_called_meta(k);
	if (!err && !set_rank(&k->a.set))
		err = &hs_error_nomem;
	if (!err) {
		k->threads = hs_ip_emit_threads(k);
		err = presize(k);
	}
	if (!err)
		err = declare_types(k);
	if (!err)
		err = hs_ip_find_sites(k);
	if (!err)
		err = hs_ip_emit_objects(k);
	if (!err)
		err = emit_links(k);
	if (k->progress)
		hs_ip_report(k, "linked", k->nobjs, k->nobjs);
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
	hs_ip_work_free(&k->a);
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
		hs_ip_report(&k, "finished", k.nobjs, k.nobjs);
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
	free(k.user);
	free(k.static_dicts);
	free(k.local_ids);
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
		                                .heap_bytes = k.heap_bytes,
		                                .walks = k.walks};
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
