/*
 * capture/cpython/flags.h — the bits of PyTypeObject.tp_flags both captures test
 * (Include/object.h of each version), once: the in-process capture checks them against the
 * headers it is built with (capture/inproc/cpython.h), the out-of-process one, which has no
 * headers and whose DWARF carries no macros, tests them on the types it reads.  Each flag carries
 * the minor versions that have it: on the others its bit is unused.  Pure data.
 */
#ifndef HS_CPYTHON_FLAGS_H
#define HS_CPYTHON_FLAGS_H

#include <stddef.h>
#include <stdint.h>

#define HS_CP_TPF_INLINE_VALUES (1ull << 2)   /* 3.13+: attribute values after the object */
#define HS_CP_TPF_MANAGED_WEAKREF (1ull << 3) /* 3.12+: the weakref list before the object */
#define HS_CP_TPF_MANAGED_DICT (1ull << 4)    /* 3.11+: the dict (or values) before it */
#define HS_CP_TPF_HEAPTYPE (1ull << 9)
#define HS_CP_TPF_READY (1ull << 12)
#define HS_CP_TPF_HAVE_GC (1ull << 14)
#define HS_CP_TPF_LIST_SUBCLASS (1ull << 25)
#define HS_CP_TPF_DICT_SUBCLASS (1ull << 29)
#define HS_CP_TPF_TYPE_SUBCLASS (1ull << 31)

/* A flag: CPython's name for it, its bit, and the minor versions (3.first .. 3.last) with it. */
struct hs_cp_flag_info {
	const char *name;
	uint64_t bit;
	int first, last;
};

/* Every flag above, in the order of their bits. */
extern const struct hs_cp_flag_info hs_cp_flags[];
extern const size_t hs_cp_nflags;

/* bit (an HS_CP_TPF_*) on 3.minor, or 0 when that version has no such flag. */
uint64_t hs_cp_flag(uint64_t bit, int minor);

#endif
