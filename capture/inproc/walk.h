/*
 * walk.h — the in-process heap walker behind heapsnap.dump(): it enumerates every object of
 * the running interpreter and streams them through dumpfmt's hs_writer.  module.c is the thin
 * Python layer over it.  The caller holds the GIL for the whole call.
 */
#ifndef HS_INPROC_WALK_H
#define HS_INPROC_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "hsnap.h"

typedef struct _object PyObject;

struct hs_inproc_options {
	bool values;      /* write value previews of str, bytes, int, float, bool, None */
	bool progress;    /* report progress on stderr */
	unsigned threads; /* threads writing the objects: 1, 2, or 0 (walk_threads.c chooses) */
	/* A tuple of frame objects that have ended, or NULL: python -m heapsnap passes the
	 * script's frames when it ended (from the traceback of its SystemExit or exception), and
	 * each is a root named <exit: ...> as a thread's frames are (walk_roots.c's exit_roots). */
	PyObject *exit_frames;
};

/* An object whose __sizeof__ gave no size (walk_sizeof.c's call_sizes): why. */
struct hs_inproc_failed {
	uint64_t addr;
	char *reason; /* "ValueError: message", "timed out: ...", "not called: ..."; may be NULL */
};

struct hs_inproc_stats {
	uint64_t objects, edges, weak, roots, values;
	uint64_t bytes;         /* size of the .hsnap file */
	uint64_t heap_bytes;    /* sum of the objects' sys.getsizeof sizes */
	uint64_t sizeof_called; /* objects whose size their own __sizeof__ gave, called before */
	unsigned walks; /* times pass 1 walked the heap: 1, more when those calls changed it */
	struct hs_inproc_failed *sizeof_failed; /* the others: their basic size was written */
	size_t nsizeof_failed;
};

/* Prepares what the walker needs from the interpreter (called once, from the module's init):
 * cls is a class made by a class statement (type(name, (), {})), whose tp_traverse tells
 * the instances of such classes apart; timeout is the exception class that interrupts a
 * __sizeof__ past its time limit (heapsnap.SizeofTimeout); the caller keeps both alive.
 * Returns -1 with a Python exception set on failure. */
int hs_inproc_init(PyObject *cls, PyObject *timeout);

/* The offset of each field of capture/cpython/fields.h's walker list (hs_walker_fields) in this
 * interpreter's structs, -1 for those the in-process capture does not read (walk_offsets.c). */
const int64_t *hs_inproc_offsets(void);

/* Writes a snapshot of the whole heap to path.  Needs the GIL, and the cyclic GC off.  Before
 * the walk it calls the __sizeof__ methods that may run Python code (walk_sizeof.c's call_sizes);
 * the walk that follows allocates no Python object that the snapshot could contain, and leaves the
 * references the dump holds out of the refcounts it writes.  Keeps its work arrays (a few bytes
 * per object) for the next call.  On success the caller frees *ret with hs_inproc_stats_free. */
struct hs_error *hs_inproc_dump(const char *path, const struct hs_inproc_options *opts,
                                struct hs_inproc_stats *ret);

/* Frees what hs_inproc_dump allocated in st. */
void hs_inproc_stats_free(struct hs_inproc_stats *st);

#endif
