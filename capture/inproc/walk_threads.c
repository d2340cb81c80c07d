/*
 * walk_threads.c — the in-process walker's two-thread writer: how many threads emit, the split
 * of the pages into two halves of about equal cost, and the second thread that writes the lower
 * addresses into the file while this one writes the rest into a segment.
 */
#include "walk_internal.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>

/*
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
	double done_at; /* hs_ip_elapsed() when it was done */
	struct hs_error *err;
};

static void *second_main(void *arg)
{
	struct second *s = arg;
	s->err = hs_ip_emit_range(&s->k, s->from, s->to, s->first);
	s->done_at = hs_ip_elapsed(&s->k);
	atomic_store_explicit(&s->done, true, memory_order_release);
	return NULL;
}

/* How many threads emit: opts->threads, or by default two for a heap of TWO_THREADS_MIN objects
 * or more when this process may run on two CPUs and one of them is idle (the load average of
 * the last minute at least one below the CPUs).  On a busy machine the second thread waits for
 * a CPU while the first waits for it, and the segment it fills costs page faults and a copy:
 * 3.11, 1M objects of tests/bench's app heap, load 4 on 2 CPUs: one thread took 1.26
 * gc.collect()s of CPU and 0.58 s, two 2.41 and 1.22 s. */
unsigned hs_ip_emit_threads(const struct walk *k)
{
	if (k->opts->threads)
		return k->opts->threads > 1 ? 2 : 1;
	cpu_set_t cpus;
	double load;
	if (k->nobjs < TWO_THREADS_MIN || sched_getaffinity(0, sizeof(cpus), &cpus) != 0 ||
	    CPU_COUNT(&cpus) < 2)
		return 1;
	return getloadavg(&load, 1) == 1 && load + 1 <= CPU_COUNT(&cpus) ? 2 : 1;
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

/* Puts the second thread's weak links (s) before this one's, in k. */
static struct hs_error *take_weak(struct walk *k, struct second *s)
{
	if (!hs_ip_grow((void **)&s->k.weak, &s->k.weak_cap, s->k.nweak + k->nweak,
	                sizeof(*k->weak)))
		return &hs_error_nomem;
	if (k->nweak)
		memcpy(s->k.weak + s->k.nweak, k->weak, k->nweak * sizeof(*k->weak));
	free(k->weak);
	k->weak = s->k.weak;
	k->nweak += s->k.nweak;
	k->weak_cap = s->k.weak_cap;
	s->k.weak = NULL;
	return NULL;
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
	atomic_init(&s->done, false);
	/* Signals are for the first thread: the second starts with them all blocked. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int started = pthread_create(&s->thread, NULL, second_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started != 0) {
		free(s); /* no second thread: all of it here */
		hs_writer_destroy(segment);
		return hs_ip_emit_range(k, 0, k->a.set.npages, 0);
	}
	uint64_t split_addr = k->a.set.order[split].key << PAGE_SHIFT;
	while (k->presized_next < k->npresized && k->presized[k->presized_next].key < split_addr)
		k->presized_next++;
	k->w = segment;
	k->mailbox = &mailbox;
	err = hs_ip_emit_range(k, split, k->a.set.npages, first);
	if (k->progress)
		hs_ip_report(k, "wrote (the first thread's part)", k->nobjs - first, k->nobjs);
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
	if (!err && s->k.nweak) /* the second part's weak links come first */
		err = take_weak(k, s);
	free(s->k.weak);
	hs_ip_work_free(&s->k.a); /* its arrays, not the set it shares */
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
struct hs_error *hs_ip_emit_objects(struct walk *k)
{
	size_t first = 0, split = k->threads > 1 ? split_pages(k, &first) : 0;
	struct hs_error *err = split > 0 && split < k->a.set.npages
	                           ? emit_two(k, split, first)
	                           : hs_ip_emit_range(k, 0, k->a.set.npages, 0);
	if (k->progress)
		hs_ip_report(k, "wrote", k->nobjs, k->nobjs);
	return err;
}
