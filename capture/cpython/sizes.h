/*
 * capture/cpython/sizes.h — sys.getsizeof of the value objects both captures size from their
 * fields rather than by a __sizeof__ call: int and str (int___sizeof__ and unicode___sizeof__,
 * capture/CPYTHON.md §3).  Neither has a GC header, so getsizeof is __sizeof__.  Pure functions
 * of what a capture read and of the minor version; nothing here reads memory.
 */
#ifndef HS_CPYTHON_SIZES_H
#define HS_CPYTHON_SIZES_H

#include <stdbool.h>
#include <stdint.h>

#include "flags.h"

#define HS_CP_INT_HEADER 24 /* offsetof(PyLongObject, ob_digit), 3.8-3.13 */
#define HS_CP_DIGIT_SIZE 4

/* sys.getsizeof of an int of ndigits digits: 3.11+ counts one digit for 0. */
static inline uint64_t hs_cp_int_sizeof(uint64_t ndigits, int minor)
{
	return HS_CP_INT_HEADER + (minor >= 11 && ndigits < 1 ? 1 : ndigits) * HS_CP_DIGIT_SIZE;
}

/* The GC header and pre-header in front of an instance of a type with tp_flags flags on 3.minor:
 * 16 bytes for a GC type, and 16 more when the type keeps the instance's dict (3.11+) or its
 * weakref list (3.12+) there. */
static inline uint64_t hs_cp_preheader(uint64_t flags, int minor)
{
	uint64_t managed = hs_cp_flag(HS_CP_TPF_MANAGED_DICT, minor) |
	                   hs_cp_flag(HS_CP_TPF_MANAGED_WEAKREF, minor);
	return ((flags & HS_CP_TPF_HAVE_GC) ? 16 : 0) + ((flags & managed) ? 16 : 0);
}

/* What sys.getsizeof adds to __sizeof__ for an object of a type with tp_flags flags: its GC
 * header and pre-header (hs_cp_preheader), except for a static type (static_type) on 3.8-3.10
 * (PyObject_IS_GC asks type's tp_is_gc, false for it) and 3.13+ (which counts nothing for it). */
static inline uint64_t hs_cp_getsizeof_extra(uint64_t flags, bool static_type, int minor)
{
	return static_type && (minor <= 10 || minor >= 13) ? 0 : hs_cp_preheader(flags, minor);
}

/* What unicode___sizeof__ reads of a str. */
struct hs_cp_str {
	bool compact, ascii; /* state.compact, state.ascii */
	unsigned kind;       /* state.kind: bytes per code unit */
	uint64_t length;
	bool has_data;        /* a legacy (not compact) str's data pointer is set */
	bool utf8_apart;      /* utf8 is set and is not the data (ignored for compact ASCII) */
	uint64_t utf8_length; /* then its length */
	bool wstr_apart; /* 3.8-3.11: wstr is set and the str is not ready or wstr is not data */
	uint64_t wstr_length; /* then its length in wchar_t (4 bytes) */
};

/* sizeof(PyASCIIObject), sizeof(PyCompactUnicodeObject) or sizeof(PyUnicodeObject), the header
 * of a compact ASCII, compact or legacy str: 3.12 dropped wstr and wstr_length. */
static inline uint64_t hs_cp_str_header(bool compact, bool ascii, int minor)
{
	if (compact && ascii)
		return minor >= 12 ? 40 : 48;
	return compact ? (minor >= 12 ? 56 : 72) : (minor >= 12 ? 64 : 80);
}

/* sys.getsizeof of the str s on 3.minor. */
static inline uint64_t hs_cp_str_sizeof(const struct hs_cp_str *s, int minor)
{
	uint64_t size = hs_cp_str_header(s->compact, s->ascii, minor);
	if (s->compact || s->has_data)
		size += (s->length + 1) * s->kind;
	if (!(s->compact && s->ascii) && s->utf8_apart)
		size += s->utf8_length + 1;
	if (minor <= 11 && s->wstr_apart)
		size += (s->wstr_length + 1) * 4;
	return size;
}

/* list.__sizeof__: basicsize plus its allocated item pointers. */
static inline uint64_t hs_cp_list_sizeof(uint64_t basicsize, uint64_t allocated)
{
	return basicsize + allocated * 8;
}

#define HS_CP_SET_ENTRY 16 /* sizeof(setentry): key, hash */

/* set.__sizeof__ (and frozenset's): basicsize plus its table when it is not the small table
 * inside the object; mask + 1 entries. */
static inline uint64_t hs_cp_set_sizeof(uint64_t basicsize, uint64_t mask, bool small_table)
{
	return basicsize + (small_table ? 0 : (mask + 1) * HS_CP_SET_ENTRY);
}

/* bytearray.__sizeof__: basicsize plus its buffer (ob_alloc). */
static inline uint64_t hs_cp_bytearray_sizeof(uint64_t basicsize, uint64_t alloc)
{
	return basicsize + alloc;
}

#endif
