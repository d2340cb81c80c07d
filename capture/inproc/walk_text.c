/*
 * walk_text.c — text without allocating Python objects, for the in-process walker: a str's
 * UTF-8 (cut, surrogates replaced), names for roots and types, ints in decimal, floats as repr
 * writes them (without dtoa when it can), and the value previews of str, None, bool, int, float
 * and bytes.
 */
#include "walk_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Appends code point c to buf as UTF-8 (hs_utf8_put); returns the new length. */
static inline Py_ssize_t put_utf8(char *buf, Py_ssize_t n, Py_UCS4 c)
{
	return n + (Py_ssize_t)hs_utf8_put(buf + n, c);
}

/* UTF-8 of at most max_chars characters of str s into buf (cap >= 4 * max_chars + 4); returns
 * the length, or -1 for a 3.8-3.11 string that is not ready.  Surrogates become U+FFFD;
 * a cut string ends with U+2026.  One loop per kind, so that each reads its characters
 * directly. */
static Py_ssize_t utf8_of(PyObject *s, char *buf, Py_ssize_t max_chars)
{
#if PY_VERSION_HEX < 0x030C0000
	if (!PyUnicode_IS_READY(s))
		return -1;
#endif
	const void *data = PyUnicode_DATA(s);
	Py_ssize_t len = PyUnicode_GET_LENGTH(s), n = 0;
	Py_ssize_t lim = len < max_chars ? len : max_chars;
	if (PyUnicode_IS_ASCII(s)) {
		memcpy(buf, data, (size_t)lim);
		n = lim;
	} else if (PyUnicode_KIND(s) == PyUnicode_1BYTE_KIND) {
		const Py_UCS1 *d = data;
		for (Py_ssize_t i = 0; i < lim; i++) {
			if (d[i] < 0x80) {
				buf[n++] = (char)d[i];
			} else {
				buf[n++] = (char)(0xc0 | (d[i] >> 6));
				buf[n++] = (char)(0x80 | (d[i] & 0x3f));
			}
		}
	} else if (PyUnicode_KIND(s) == PyUnicode_2BYTE_KIND) {
		const Py_UCS2 *d = data;
		for (Py_ssize_t i = 0; i < lim; i++)
			n = put_utf8(buf, n, d[i]);
	} else {
		const Py_UCS4 *d = data;
		for (Py_ssize_t i = 0; i < lim; i++)
			n = put_utf8(buf, n, d[i]);
	}
	if (lim < len) {
		memcpy(buf + n, "\xe2\x80\xa6", 3);
		n += 3;
	}
	return n;
}

/* A NUL-terminated UTF-8 copy of str s into buf (4 * chars + 8 bytes), or "?" if s is not a
 * str: its first chars characters, then an ellipsis. */
const char *hs_ip_cstr_cut(PyObject *s, char *buf, Py_ssize_t chars)
{
	Py_ssize_t n = s && PyUnicode_Check(s) ? utf8_of(s, buf, chars) : -1;
	if (n < 0)
		return "?";
	buf[n] = '\0';
	return buf;
}

/* A name (str s) into buf (NAME_BYTES), as cstr_cut. */
const char *hs_ip_cstr(PyObject *s, char *buf)
{
	return hs_ip_cstr_cut(s, buf, NAME_CHARS);
}

/* u in decimal into buf (20 bytes), two digits at a time; returns the length. */
static Py_ssize_t udecimal(char *buf, unsigned long long u)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324"
	                            "25262728293031323334353637383940414243444546474849"
	                            "50515253545556575859606162636465666768697071727374"
	                            "75767778798081828384858687888990919293949596979899";
	char tmp[20];
	int n = 20;
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
	memcpy(buf, tmp + n, (size_t)(20 - n));
	return 20 - n;
}

/* v in decimal into buf (21 bytes), as repr(int) writes it; returns the length.  (snprintf
 * was a tenth of the dump.) */
static Py_ssize_t decimal(char *buf, long long v)
{
	if (v >= 0)
		return udecimal(buf, (unsigned long long)v);
	buf[0] = '-';
	return 1 + udecimal(buf + 1, 0ull - (unsigned long long)v);
}

/* repr(v) without dtoa when v has at most 15 significant digits and repr writes it without an
 * exponent (1e-4 <= |v| < 1e15), e.g. 0.5, 2.25, 0.1; returns its length, or -1 when it cannot
 * tell.  The shortest decimal that reads back as v is what repr writes.  For k = 0, 1, 2, ...
 * the only candidate with k decimals is m / 10**k, m = round(|v| * 10**k): m and 10**k are
 * exact doubles, so m / 10**k is the correctly rounded quotient, the double that reading the
 * decimal gives.  The first k that gives back v has the fewest digits, and with at most 15
 * significant digits no other decimal of as many digits reads as v, so it is repr's. */
static Py_ssize_t float_short(char *buf, double v)
{
	static const double pow10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	double a = fabs(v);
	if (!(a >= 1e-4 && a < 1e15))
		return -1;
	for (int k = 0; k < 16; k++) {
		double x = a * pow10[k];
		if (x >= 1e15)
			return -1;
		unsigned long long m = (unsigned long long)(x + 0.5); /* x + 0.5 < 2**50: exact */
		if ((double)m / pow10[k] != a)
			continue;
		char digits[20];
		Py_ssize_t nd = udecimal(digits, m), n = 0;
		if (v < 0)
			buf[n++] = '-';
		if (nd > k) { /* digits before the point */
			memcpy(buf + n, digits, (size_t)(nd - k));
			n += nd - k;
			buf[n++] = '.';
			if (k == 0) {
				buf[n++] = '0';
			} else {
				memcpy(buf + n, digits + nd - k, (size_t)k);
				n += k;
			}
		} else { /* 0.00ddd */
			buf[n++] = '0';
			buf[n++] = '.';
			memset(buf + n, '0', (size_t)(k - nd));
			n += k - nd;
			memcpy(buf + n, digits, (size_t)nd);
			n += nd;
		}
		return n;
	}
	return -1;
}

/* The value preview of o into buf (size 4 * PREVIEW_CHARS + 8); returns its length, or -1 for
 * none, or NEEDS_INTERPRETER when pure is set and o's preview needs a call into the interpreter
 * (an int beyond the small ones, a float's repr by dtoa: allocations, an exception). */

Py_ssize_t hs_ip_preview(PyObject *o, char *buf, size_t cap, bool pure)
{
	if (PyUnicode_Check(o))
		return utf8_of(o, buf, PREVIEW_CHARS);
	if (o == Py_None) {
		memcpy(buf, "None", 4);
		return 4;
	}
	if (PyBool_Check(o)) {
		memcpy(buf, o == Py_True ? "True" : "False", o == Py_True ? 4 : 5);
		return o == Py_True ? 4 : 5;
	}
	if (PyLong_Check(o)) {
		long long v;
		if (hs_long_small(o, &v))
			return decimal(buf, v);
		if (pure)
			return NEEDS_INTERPRETER;
		int overflow;
		v = PyLong_AsLongLongAndOverflow(o, &overflow);
		if (!overflow && !(v == -1 && PyErr_Occurred()))
			return decimal(buf, v);
		PyErr_Clear();
		return snprintf(buf, cap, "<int of %zu bits>", _PyLong_NumBits(o));
	}
	if (PyFloat_Check(o)) {
		double v = PyFloat_AS_DOUBLE(o);
		Py_ssize_t n = float_short(buf, v);
		if (n >= 0)
			return n;
		if (v == 0 && !signbit(v)) {
			memcpy(buf, "0.0", 3);
			return 3;
		}
		if (pure)
			return NEEDS_INTERPRETER;
		char *r = PyOS_double_to_string(v, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
		if (!r) {
			PyErr_Clear();
			return -1;
		}
		n = snprintf(buf, cap, "%s", r);
		PyMem_Free(r);
		return n;
	}
	if (PyBytes_Check(o))
		return (Py_ssize_t)hs_py_bytes_repr((const uint8_t *)PyBytes_AS_STRING(o),
		                                    (size_t)PyBytes_GET_SIZE(o), PREVIEW_CHARS,
		                                    buf);
	return -1;
}
