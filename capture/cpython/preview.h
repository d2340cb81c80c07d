/*
 * capture/cpython/preview.h — the value previews a snapshot keeps of str, int, float, bytes,
 * bool and None (FORMAT.md: an object's value), as pure functions over what a capture has
 * already read of the object: a str's code units, an int's 30-bit digits, a float's double, a
 * bytes' bytes.  Both captures call them, so an object's preview is the same whichever capture
 * wrote it.  Where the snapshot keeps Python's repr (floats, bytes, ints that fit in 64 bits) it is
 * repr exactly; a str keeps its text as UTF-8; a cut preview ends with U+2026.  The tests compare
 * them with a real interpreter's repr (tests/unit/test_cpython.c, gen_preview_table.py).
 */
#ifndef HS_CPYTHON_PREVIEW_H
#define HS_CPYTHON_PREVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hsnap.h"
#include "pyrepr.h"

#define HS_CP_PREVIEW_CHARS 100 /* characters (of a str) or bytes a preview keeps */
/* Characters of a name (a type's, module's, function's, file's or local's) that type and root
 * names keep. */
#define HS_CP_NAME_CHARS 1000
/* What a preview of max characters takes: 4 bytes of UTF-8 each, an ellipsis and a NUL. */
#define HS_CP_TEXT_BYTES(max) (4 * (max) + 8)
#define HS_CP_PREVIEW_BYTES HS_CP_TEXT_BYTES(HS_CP_PREVIEW_CHARS)
#define HS_CP_DIGIT_BITS 30 /* PyLong_SHIFT on 64-bit builds */

/* u in decimal into buf (20 bytes), two digits at a time; returns the length. */
static inline size_t hs_cp_udecimal(char *buf, unsigned long long u)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
	                            "25262728293031323334353637383940414243444546474849"
	                            "50515253545556575859606162636465666768697071727374"
	                            "75767778798081828384858687888990919293949596979899";
	char tmp[20];
	size_t n = 20;
	while (u >= 100) {
		unsigned r = (unsigned)(u % 100);
		u /= 100;
		n -= 2;
		memcpy(tmp + n, pairs + 2 * r, 2);
	}
	if (u >= 10) {
		n -= 2;
		memcpy(tmp + n, pairs + 2 * u, 2);
	} else {
		tmp[--n] = (char)('0' + u);
	}
	memcpy(buf, tmp + n, 20 - n);
	return 20 - n;
}

/* The UTF-8 of at most max characters of a str: its len code units of kind bytes each (1, 2 or
 * 4, CPython's PyUnicode_*_KIND) at data, ascii when they all are below 0x80.  Surrogates become
 * U+FFFD; a cut str ends with U+2026.  buf holds HS_CP_TEXT_BYTES(max); returns the length,
 * without a NUL.  One loop per kind, each reading its code units directly. */
static inline size_t hs_cp_str_text(const void *data, unsigned kind, bool ascii, uint64_t len,
                                    uint64_t max, char *buf)
{
	uint64_t lim = len < max ? len : max;
	size_t n = 0;
	if (ascii) {
		memcpy(buf, data, (size_t)lim);
		n = (size_t)lim;
	} else if (kind == 1) {
		const uint8_t *d = data;
		for (uint64_t i = 0; i < lim; i++) {
			if (d[i] < 0x80) {
				buf[n++] = (char)d[i];
			} else {
				buf[n++] = (char)(0xc0 | (d[i] >> 6));
				buf[n++] = (char)(0x80 | (d[i] & 0x3f));
			}
		}
	} else if (kind == 2) {
		const uint16_t *d = data;
		for (uint64_t i = 0; i < lim; i++)
			n += hs_utf8_put(buf + n, d[i]);
	} else {
		const uint32_t *d = data;
		for (uint64_t i = 0; i < lim; i++)
			n += hs_utf8_put(buf + n, d[i]);
	}
	if (lim < len) {
		memcpy(buf + n, "\xe2\x80\xa6", 3);
		n += 3;
	}
	return n;
}

/* An int's preview from its digits (base 2**30, least significant first): ndigits of them,
 * the lowest min(ndigits, 3) in low, the most significant top; sign -1, 0 or 1.  Its repr when
 * it fits in a long long, else "<int of N bits>" (N its bit length, as int.bit_length()).  buf
 * holds 32 bytes; NUL-terminated; returns the length. */
size_t hs_cp_int_text(int sign, uint64_t ndigits, const uint32_t low[3], uint32_t top, char *buf);

/* repr(d) into buf (32 bytes), NUL-terminated; returns its length. */
size_t hs_cp_float_text(double d, char *buf);

/* A bytes' preview: repr of its first HS_CP_PREVIEW_CHARS bytes, then U+2026 when cut.  buf holds
 * HS_CP_PREVIEW_BYTES; NUL-terminated; returns the length. */
static inline size_t hs_cp_bytes_text(const uint8_t *p, size_t n, char *buf)
{
	return hs_py_bytes_repr(p, n, HS_CP_PREVIEW_CHARS, buf);
}

/* A bool's preview (its repr); None's is "None". */
static inline const char *hs_cp_bool_text(bool v)
{
	return v ? "True" : "False";
}

#endif
