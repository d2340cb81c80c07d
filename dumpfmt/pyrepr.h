/*
 * pyrepr.h — Python's repr() of the values a snapshot spells out: str, float and bytes, exactly
 * as CPython 3.8-3.13 writes them, with no interpreter at hand.  The edge labels of dict keys and
 * attribute names (label.c) and both captures' value previews use it.
 */
#ifndef HSNAP_PYREPR_H
#define HSNAP_PYREPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A bounded text sink that counts what it would need, like snprintf, and copies bytes as they
 * are (labels may hold NUL bytes).  size 0 writes nothing; finish NUL-terminates within size. */
struct hs_textbuf {
	char *buf;
	size_t size, len;
};
void hs_textbuf_put(struct hs_textbuf *o, const char *s, size_t n);
/* NUL-terminates the text (truncated to size) and returns the length it needed. */
size_t hs_textbuf_finish(struct hs_textbuf *o);

/* Whether code point c is printable for Python's str.isprintable() (Unicode 15.1: see
 * gen_printable.py). */
bool hs_py_printable(uint32_t c);
/* Appends repr(s) of the str whose UTF-8 is s[0..n): quotes and escapes as unicode_repr
 * chooses them.  Returns false, writing nothing, when s is not well-formed UTF-8. */
bool hs_py_str_repr(struct hs_textbuf *o, const char *s, size_t n);
/* The inverse: appends the UTF-8 of the str that the literal s[0..n) spells, a literal as
 * repr() writes one (quoted with ' or ", escapes \\ \' \" \n \r \t \xHH \uHHHH \UHHHHHHHH; no
 * surrogates).  Returns false, writing nothing, when s[0..n) is not one such literal. */
bool hs_py_str_unrepr(struct hs_textbuf *o, const char *s, size_t n);
/* repr(d) of a float into buf (at least 32 bytes), NUL-terminated; returns its length. */
size_t hs_py_float_repr(double d, char *buf);
/* repr() of the bytes p[0..n) cut after max of them, then U+2026 when cut, into buf (at least
 * 4 * max + 8 bytes), NUL-terminated; returns its length. */
size_t hs_py_bytes_repr(const uint8_t *p, size_t n, size_t max, char *buf);
/* Whether s[0..n) can follow a dot in Python source: an ASCII identifier and not a keyword. */
bool hs_py_attribute_name(const char *s, size_t n);

#endif
