/*
 * mailbox.h — how the in-process walk's second thread has the first one run what it may not run
 * itself (walk.c, "Two threads").
 *
 * The first thread holds the GIL; the second has no Python thread state and must not call into
 * the interpreter (an allocation, an exception, a __sizeof__).  It posts such a call and spins
 * until it is done; the first thread looks at the mailbox between two objects of its own and
 * runs what it finds.  One request at a time, no lock: the state word orders everything else.
 */
#ifndef HS_INPROC_MAILBOX_H
#define HS_INPROC_MAILBOX_H

#include <stdatomic.h>
#include <stdbool.h>

enum { MAILBOX_EMPTY, MAILBOX_ASKED, MAILBOX_DONE };

struct mailbox {
	atomic_int state;
	void (*fn)(void *arg);
	void *arg;
};

static inline void mailbox_relax(void)
{
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
	while (atomic_load_explicit(&m->state, memory_order_acquire) != MAILBOX_DONE)
		mailbox_relax();
	atomic_store_explicit(&m->state, MAILBOX_EMPTY, memory_order_relaxed);
}

/* The first thread: runs the call waiting in m, if any. */
static inline void mailbox_serve(struct mailbox *m)
{
	if (atomic_load_explicit(&m->state, memory_order_acquire) != MAILBOX_ASKED)
		return;
	m->fn(m->arg);
	atomic_store_explicit(&m->state, MAILBOX_DONE, memory_order_release);
}

#endif
