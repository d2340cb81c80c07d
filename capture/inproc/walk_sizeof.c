/*
 * walk_sizeof.c — the in-process walker's sizes by a __sizeof__ that may run Python code
 * (SIZE_USER): the table of sizes called before the walk, each call under a timer that
 * interrupts it past its limit, the reasons of those that failed, and their META.
 */
#include "walk_internal.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Sizes by a __sizeof__ that may run Python code (SIZE_USER)
 *
 * pandas' DataFrame.__sizeof__ builds Series to sum them; any __sizeof__ written in Python or
 * in an extension may allocate, free, or change the heap in other ways.  None runs while a pass
 * reads the heap: dump runs pass 1, and if it found SIZE_USER objects that have no size yet,
 * calls their __sizeof__ (call_sizes; the GC is off).  If the calls may have changed the heap,
 * dump runs pass 1 again over the heap as they left it, until a pass 1 finds no new one (at most
 * SIZE_ROUNDS calling rounds; past them, and past the time budget, an object gets its basic
 * size).  So the last pass 1 ran after the last call that may have changed the heap, and the
 * heap it found is the heap emit writes.  The dump holds a reference to each object it called,
 * so that a call cannot free one that the next call or the table still names; emit leaves that
 * reference out of the refcount it writes, and dump gives them back at the end.
 *
 * Whether the calls may have changed the heap (most heaps have a SIZE_USER type, _struct.Struct
 * of lib-dynload for one, whose calls change nothing; pass 1 again was a sixth of a dump): it
 * did if any __sizeof__ called is not an extension's C method (Python code: a float or an empty
 * dict made from a free list and stored in an existing slot would escape the checks below, and
 * while Python code runs, other threads may run too), and otherwise unless all of these hold
 * after the calls:
 *   - no block that existed before them was freed or reallocated, and every block allocated
 *     during them has been freed (walk_watch.c: wrappers over the RAW, MEM and OBJ allocators
 *     while the calls run, in every thread; each call's int result is freed before the check);
 *   - the GC lists' heads have the same neighbours and no collection ran (walk_watch.c): a
 *     tracked object made from a free list without allocating (a tuple, a list) joins
 *     generation 0's tail, and a gc.collect() moves objects between lists;
 *   - every object pass 1 found still has a reference (walk.c's found_alive): one that died
 *     into a free list (a tuple, a list, a dict, a float) gave no block back.
 * What this cannot see, in a C __sizeof__ (or in another thread while one releases the GIL):
 *   - a change of edges without allocating (an existing object stored into an existing slot,
 *     or appended to a list with room), or an untracked object made from a free list (a float)
 *     and stored so: emit reads each object's edges afresh, and a referent that pass 1 did not
 *     find is reported as an error by walk.c's missing(), never written silently; an object
 *     that died and whose memory a free list gave to a new object of its type is written as
 *     that new object, as it now is;
 *   - memory taken from the C library itself, not through PyMem / PyObject's allocators (an
 *     object that its type's own tp_free gives back to free()).
 */

static int by_called_addr(const void *a, const void *b)
{
	uint64_t x = ((const struct called *)a)->addr, y = ((const struct called *)b)->addr;
	return (x > y) - (x < y);
}

/* The entry of k->called (its first n sorted by address) for addr, or NULL. */
struct called *hs_ip_called_find(struct walk *k, uint64_t addr, size_t n)
{
	struct called key = {.addr = addr};
	return bsearch(&key, k->called, n, sizeof(*k->called), by_called_addr);
}

/* The size a failed __sizeof__ leaves: object.__sizeof__'s answer, plus the GC header and
 * pre-header as sys.getsizeof adds them. */
uint64_t hs_ip_basic_size(PyObject *o)
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
	             hs_ip_cstr_cut(text, buf, REASON_CHARS)) < 0)
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
		PyThreadState_SetAsyncExc(timer.caller, hs_ip_timeout_exc);
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
	double t0 = hs_ip_elapsed(k);
	if (timed)
		call_timer_start(SIZEOF_CALL_SECONDS);
	size_t s = _PySys_GetSizeOf(o);
	bool late = timed && call_timer_stop();
	double took = hs_ip_elapsed(k) - t0;
	k->call_seconds += took;
	if (late && s == (size_t)-1 && PyErr_ExceptionMatches(hs_ip_timeout_exc)) {
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
 * budget is spent, watching the heap (walk_watch.c); then gives back the references that were
 * the last (the calls dropped the others).  *ran receives whether any call ran, *changed
 * whether the calls may have changed the heap (all but the refcount check, see above). */
struct hs_error *hs_ip_call_sizes(struct walk *k, bool call, bool *ran, bool *changed)
{
	size_t first = k->ncalled;
	*ran = *changed = false;
	for (size_t i = 0; i < k->nuser; i++) {
		PyObject *o = (PyObject *)k->user[i];
		if (hs_ip_called_find(k, k->user[i], first))
			continue;
		if (!hs_ip_grow((void **)&k->called, &k->called_cap, k->ncalled + 1,
		                sizeof(*k->called)))
			return &hs_error_nomem;
		k->called[k->ncalled++] =
		    (struct called){k->user[i], hs_ip_basic_size(o), CALLED_SKIPPED, call, NULL};
		if (call)
			Py_INCREF(o);
	}
	bool watched = call && first < k->ncalled && hs_ip_watch_start(k->gen0);
	bool timed = call && first < k->ncalled && call_timer_open(), python = false;
	for (size_t i = first; i < k->ncalled; i++) {
		struct called *c = &k->called[i];
		if (call && k->call_seconds < SIZEOF_BUDGET_SECONDS) {
			PyObject *o = (PyObject *)(uintptr_t)c->addr;
			const struct type_info *ti = hs_ip_type_info(k, Py_TYPE(o));
			python = python || !ti || !ti->sizeof_c;
			*ran = true;
			call_size(k, o, c, timed);
		} else if (asprintf(&c->reason, "not called: %s",
		                    call ? "the dump's time budget for __sizeof__ was spent"
		                         : "__sizeof__ calls kept making new objects") < 0) {
			c->reason = NULL;
		}
	}
	if (timed)
		call_timer_close();
	bool seen = watched ? hs_ip_watch_stop(k->gen0) : true;
	*changed = *ran && (seen || python);
	for (size_t i = first; i < k->ncalled; i++) {
		PyObject *o = (PyObject *)(uintptr_t)k->called[i].addr;
		if (k->called[i].held && Py_REFCNT(o) == 1) {
			k->called[i].held = false;
			k->called[i].addr = 0; /* the calls dropped every other reference */
			Py_DECREF(o);
			*ran = *changed = true;
		}
	}
	qsort(k->called, k->ncalled, sizeof(*k->called), by_called_addr);
	return NULL;
}

/* The META entries sizeof.called and sizeof.failed (FORMAT.md). */
struct hs_error *hs_ip_write_called_meta(struct walk *k)
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
