/*
 * walk_watch.c — whether the __sizeof__ calls of a dump (walk_sizeof.c's call_sizes) may have
 * changed the heap that pass 1 found, so that dump walks it again only then.  While the calls
 * run, wrappers over the allocators of the three domains (RAW, MEM, OBJ; PyMem_SetAllocator,
 * as tracemalloc.start() installs its hooks, and the originals restored right after) record
 * whether a block that existed before the calls was freed or reallocated, and which blocks
 * allocated during them are still live; and the state of the GC lists (each list head's two
 * neighbours, each generation's number of collections) is compared before and after.
 * walk_sizeof.c's opening comment says what this detects and what it cannot.
 */
#include "walk_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define WATCH_SLOTS (1u << 12) /* live blocks kept at most half of this: past it, "changed" */
#define GC_WORDS 11            /* the GC state compared: 4 heads' next and prev, 3 counts */

static struct {
	PyMemAllocatorEx orig[3]; /* the allocators wrapped, by domain */
	pthread_mutex_t lock;     /* the RAW domain's allocator runs without the GIL */
	atomic_bool on;           /* recording (the wrappers stay correct when not) */
	bool stuck;               /* a wrapper could not be taken out (hs_ip_watch_stop) */
	bool changed;             /* an older block freed or moved, or too many live ones */
	size_t nlive;
	uintptr_t live[WATCH_SLOTS]; /* blocks allocated during the calls and not freed; 0: none */
	uintptr_t gc[GC_WORDS];
} watch = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void live_add(uintptr_t p)
{
	if (2 * (watch.nlive + 1) > WATCH_SLOTS) {
		watch.changed = true;
		return;
	}
	size_t j = hash_ptr(p) & (WATCH_SLOTS - 1);
	while (watch.live[j])
		j = (j + 1) & (WATCH_SLOTS - 1);
	watch.live[j] = p;
	watch.nlive++;
}

/* Removes p from the live blocks; false if it is not one (it is older than the calls). */
static bool live_remove(uintptr_t p)
{
	size_t j = hash_ptr(p) & (WATCH_SLOTS - 1);
	while (watch.live[j] != p) {
		if (!watch.live[j])
			return false;
		j = (j + 1) & (WATCH_SLOTS - 1);
	}
	watch.live[j] = 0;
	watch.nlive--;
	/* Linear probing: the rest of the run goes back in, each where its probe now ends. */
	for (size_t i = (j + 1) & (WATCH_SLOTS - 1); watch.live[i];
	     i = (i + 1) & (WATCH_SLOTS - 1)) {
		uintptr_t q = watch.live[i];
		watch.live[i] = 0;
		size_t h = hash_ptr(q) & (WATCH_SLOTS - 1);
		while (watch.live[h])
			h = (h + 1) & (WATCH_SLOTS - 1);
		watch.live[h] = q;
	}
	return true;
}

/* Records that block freed (if not NULL) is given back, before the allocator may hand it to
 * another thread, and that allocated (if not NULL) was handed out. */
static void note(void *freed, void *allocated)
{
	if (!atomic_load_explicit(&watch.on, memory_order_relaxed))
		return;
	pthread_mutex_lock(&watch.lock);
	if (freed && !live_remove((uintptr_t)freed))
		watch.changed = true;
	if (allocated)
		live_add((uintptr_t)allocated);
	pthread_mutex_unlock(&watch.lock);
}

static void *watch_malloc(int d, size_t n)
{
	void *p = watch.orig[d].malloc(watch.orig[d].ctx, n);
	if (p)
		note(NULL, p);
	return p;
}

static void *watch_calloc(int d, size_t m, size_t n)
{
	void *p = watch.orig[d].calloc(watch.orig[d].ctx, m, n);
	if (p)
		note(NULL, p);
	return p;
}

/* The old block is noted as freed first (a block older than the calls marks a change, even
 * when the realloc fails); a new block of the calls that a failed realloc leaves is noted
 * again. */
static void *watch_realloc(int d, void *p, size_t n)
{
	if (p)
		note(p, NULL);
	void *q = watch.orig[d].realloc(watch.orig[d].ctx, p, n);
	note(NULL, q ? q : p);
	return q;
}

static void watch_free(int d, void *p)
{
	if (p)
		note(p, NULL);
	watch.orig[d].free(watch.orig[d].ctx, p);
}

/* One set of wrappers per domain, which ignore ctx: a thread that reads the allocator while
 * PyMem_SetAllocator writes it may pair a wrapper with the original's ctx. */
#define WATCH_DOMAIN(d, name)                                                                      \
	static void *name##_malloc(void *ctx, size_t n)                                            \
	{                                                                                          \
		(void)ctx;                                                                         \
		return watch_malloc(d, n);                                                         \
	}                                                                                          \
	static void *name##_calloc(void *ctx, size_t m, size_t n)                                  \
	{                                                                                          \
		(void)ctx;                                                                         \
		return watch_calloc(d, m, n);                                                      \
	}                                                                                          \
	static void *name##_realloc(void *ctx, void *p, size_t n)                                  \
	{                                                                                          \
		(void)ctx;                                                                         \
		return watch_realloc(d, p, n);                                                     \
	}                                                                                          \
	static void name##_free(void *ctx, void *p)                                                \
	{                                                                                          \
		(void)ctx;                                                                         \
		watch_free(d, p);                                                                  \
	}

WATCH_DOMAIN(0, raw)
WATCH_DOMAIN(1, mem)
WATCH_DOMAIN(2, obj)

static const PyMemAllocatorDomain domains[3] = {PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM,
                                                PYMEM_DOMAIN_OBJ};
static const PyMemAllocatorEx wrappers[3] = {
    {NULL, raw_malloc, raw_calloc, raw_realloc, raw_free},
    {NULL, mem_malloc, mem_calloc, mem_realloc, mem_free},
    {NULL, obj_malloc, obj_calloc, obj_realloc, obj_free},
};

/* The GC state compared (see above), from the gen-0 list head. */
static void gc_state(uintptr_t gen0, uintptr_t *ret)
{
	for (unsigned g = 0; g < 4; g++) {
		const struct hs_gc_head *h =
		    (const void *)(gen0 + (g < 3 ? g * HS_GC_GENERATION_STRIDE : HS_GC_PERMANENT));
		ret[2 * g] = h->next;
		ret[2 * g + 1] = h->prev;
	}
	for (unsigned g = 0; g < 3; g++)
		ret[8 + g] =
		    *(const uintptr_t *)(gen0 + HS_GC_COLLECTIONS + g * HS_GC_GENERATION_STRIDE);
}

/* Starts watching the heap (the GIL held); false when it cannot (a dump inside another's
 * __sizeof__ calls, which that one watches, or wrappers left in place, see hs_ip_watch_stop):
 * the caller then takes the heap as changed. */
bool hs_ip_watch_start(uintptr_t gen0)
{
	if (atomic_load(&watch.on) || watch.stuck)
		return false;
	for (int d = 0; d < 3; d++)
		PyMem_GetAllocator(domains[d], &watch.orig[d]);
	memset(watch.live, 0, sizeof(watch.live));
	watch.nlive = 0;
	watch.changed = false;
	gc_state(gen0, watch.gc);
	atomic_store(&watch.on, true);
	for (int d = 0; d < 3; d++)
		PyMem_SetAllocator(domains[d], (PyMemAllocatorEx *)&wrappers[d]);
	return true;
}

/* Stops watching; whether the heap may have changed since hs_ip_watch_start.  When something
 * installed its own allocator over a wrapper meanwhile (tracemalloc.start() in a __sizeof__),
 * that wrapper stays below it for good, passing every call on unrecorded; the heap counts as
 * changed, and no later dump watches (wrapping again would make a loop). */
bool hs_ip_watch_stop(uintptr_t gen0)
{
	bool changed = false;
	for (int d = 0; d < 3; d++) {
		PyMemAllocatorEx cur;
		PyMem_GetAllocator(domains[d], &cur);
		if (cur.malloc == wrappers[d].malloc)
			PyMem_SetAllocator(domains[d], &watch.orig[d]);
		else
			changed = watch.stuck = true;
	}
	pthread_mutex_lock(&watch.lock);
	atomic_store(&watch.on, false);
	changed = changed || watch.changed || watch.nlive;
	pthread_mutex_unlock(&watch.lock);
	uintptr_t now[GC_WORDS];
	gc_state(gen0, now);
	return changed || memcmp(now, watch.gc, sizeof(now)) != 0;
}
