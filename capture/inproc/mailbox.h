/*
 * mailbox.h — how the in-process walk's second thread has the first one run what it may not run
 * itself (walk_threads.c, "Two threads").
 *
 * The first thread holds the GIL; the second has no Python thread state and must not call into
 * the interpreter (an allocation, an exception, a __sizeof__).  It posts such a call and spins
 * until it is done; the first thread looks at the mailbox between two objects of its own and
 * runs what it finds.  One request at a time, no lock: the state word orders everything else.
 */
#ifndef HS_INPROC_MAILBOX_H
#define HS_INPROC_MAILBOX_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

enum { MAILBOX_EMPTY, MAILBOX_ASKED, MAILBOX_DONE };

struct mailbox {
	atomic_int state;
	void (*fn)(void *arg);
	void *arg;
};

/* One step of a wait for the other thread, the n-th: a pause instruction for a while (the
 * answer usually takes well under a microsecond), then the CPU given up at each step, for a
 * machine so busy that the other thread is not running. */
static inline void mailbox_relax(unsigned long n)
{
	if (n > 4096) {
		sched_yield();
		return;
	}
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* The second thread: has fn(arg) run by the first one and waits for it. */
static inline void mailbox_ask(struct mailbox *m, void (*fn)(void *), void *arg)
{
	m->fn = fn;
	m->arg = arg;
	atomic_store_explicit(&m->state, MAILBOX_ASKED, memory_order_release);
	for (unsigned long n = 0;
	     atomic_load_explicit(&m->state, memory_order_acquire) != MAILBOX_DONE; n++)
		mailbox_relax(n);
	atomic_store_explicit(&m->state, MAILBOX_EMPTY, memory_order_relaxed);
}

/* The first thread: runs the call waiting in m, if any; returns whether there was one. */
static inline bool mailbox_serve(struct mailbox *m)
{
	if (atomic_load_explicit(&m->state, memory_order_acquire) != MAILBOX_ASKED)
		return false;
	m->fn(m->arg);
	atomic_store_explicit(&m->state, MAILBOX_DONE, memory_order_release);
	return true;
}

#endif
