/*
 * capture/cpython/flags.c — the type-flag table (flags.h): each flag's name and the CPython minor
 * versions that have it (Include/object.h of each; tests/unit/test_cpython.c checks them against
 * the flags real interpreters' types show).
 */
#include "flags.h"

#include <assert.h>

#include "labels.h"

#define FLAG(f, first)                                                                             \
	{                                                                                          \
		"Py_TPFLAGS_" #f, HS_CP_TPF_##f, first, HS_CP_MINOR_LAST                           \
	}

const struct hs_cp_flag_info hs_cp_flags[] = {
    FLAG(INLINE_VALUES, 13), FLAG(MANAGED_WEAKREF, 12),
    FLAG(MANAGED_DICT, 11),  FLAG(HEAPTYPE, 8),
    FLAG(READY, 8),          FLAG(HAVE_GC, 8),
    FLAG(LIST_SUBCLASS, 8),  FLAG(DICT_SUBCLASS, 8),
    FLAG(TYPE_SUBCLASS, 8),
};

const size_t hs_cp_nflags = sizeof(hs_cp_flags) / sizeof(hs_cp_flags[0]);

uint64_t hs_cp_flag(uint64_t bit, int minor)
{
	for (size_t i = 0; i < hs_cp_nflags; i++) {
		if (hs_cp_flags[i].bit == bit)
			return minor >= hs_cp_flags[i].first && minor <= hs_cp_flags[i].last ? bit
			                                                                     : 0;
	}
	assert(!"not a flag of flags.h");
	return 0;
}
