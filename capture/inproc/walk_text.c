/*
 * walk_text.c — text without allocating Python objects, for the in-process walker: a str's
 * UTF-8 (cut, surrogates replaced), names for roots and types, and the value previews of str,
 * None, bool, int, float and bytes: what this interpreter's objects hold, handed to
 * capture/cpython/preview.h, which the out-of-process capture uses too.
 */
#include "walk_internal.h"

#include <stdio.h>
#include <string.h>

/* UTF-8 of at most max_chars characters of str s into buf (HS_CP_TEXT_BYTES(max_chars)), as
 * capture/cpython/preview.h writes it; returns the length, or -1 for a 3.8-3.11 string that is
 * not ready. */
static Py_ssize_t utf8_of(PyObject *s, char *buf, Py_ssize_t max_chars)
{
#if PY_VERSION_HEX < 0x030C0000
	if (!PyUnicode_IS_READY(s))
		return -1;
#endif
	return (Py_ssize_t)hs_cp_str_text(PyUnicode_DATA(s), PyUnicode_KIND(s),
	                                  PyUnicode_IS_ASCII(s), (uint64_t)PyUnicode_GET_LENGTH(s),
	                                  (uint64_t)max_chars, buf);
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

/* The value preview of o into buf (HS_CP_PREVIEW_BYTES), as capture/cpython/preview.h writes
 * it; returns its length, or -1 for none.  Pure: it reads o and calls nothing of the
 * interpreter, so either emitting thread may call it. */
_Static_assert(PyLong_SHIFT == HS_CP_DIGIT_BITS, "30-bit digits");

Py_ssize_t hs_ip_preview(PyObject *o, char *buf)
{
	if (PyUnicode_Check(o))
		return utf8_of(o, buf, PREVIEW_CHARS);
	if (o == Py_None) {
		memcpy(buf, "None", 4);
		return 4;
	}
	if (PyBool_Check(o)) {
		const char *t = hs_cp_bool_text(o == Py_True);
		memcpy(buf, t, strlen(t));
		return (Py_ssize_t)strlen(t);
	}
	if (PyLong_Check(o)) {
		int sign;
		size_t n;
		const digit *d = hs_long_digits(o, &sign, &n);
		uint32_t low[3] = {n > 0 ? d[0] : 0, n > 1 ? d[1] : 0, n > 2 ? d[2] : 0};
		return (Py_ssize_t)hs_cp_int_text(sign, n, low, n ? d[n - 1] : 0, buf);
	}
	if (PyBytes_Check(o)) /* before PyFloat_Check, which calls PyType_IsSubtype */
		return (Py_ssize_t)hs_cp_bytes_text((const uint8_t *)PyBytes_AS_STRING(o),
		                                    (size_t)PyBytes_GET_SIZE(o), buf);
	if (PyFloat_Check(o))
		return (Py_ssize_t)hs_cp_float_text(PyFloat_AS_DOUBLE(o), buf);
	return -1;
}
