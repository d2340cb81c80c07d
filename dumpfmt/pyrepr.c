/*
 * pyrepr.c — Python's repr() of str, float and bytes without an interpreter (pyrepr.h): the
 * rules of CPython's unicode_repr, float_repr (the 'r' format of PyOS_double_to_string) and
 * bytes_repr, the same from 3.8 to 3.13.  The printable characters of unicode_repr come from a
 * table (pyrepr_table.h, made by gen_printable.py).
 */
#include "pyrepr.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsnap.h"
#include "pyrepr_table.h"

static const char hexdigits[] = "0123456789abcdef";

void hs_textbuf_put(struct hs_textbuf *o, const char *s, size_t n)
{
	if (o->len < o->size) {
		size_t room = o->size - 1 - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

size_t hs_textbuf_finish(struct hs_textbuf *o)
{
	if (o->size)
		o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
	return o->len;
}

bool hs_py_printable(uint32_t c)
{
	if (c < 0x80)
		return c >= 0x20 && c < 0x7f;
	/* The number of flips at or below c: odd means a non-printable run. */
	size_t lo = 0, hi = sizeof(hs_py_printable_flips) / sizeof(*hs_py_printable_flips);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (hs_py_printable_flips[mid] <= c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo % 2 == 0;
}

/* The code point at s[*i..n) in well-formed UTF-8, advancing *i; -1 when malformed. */
static int32_t utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned char b = s[*i];
	int len = b < 0x80                ? 1
	          : b >= 0xc2 && b < 0xe0 ? 2
	          : b >= 0xe0 && b < 0xf0 ? 3
	          : b >= 0xf0 && b < 0xf5 ? 4
	                                  : 0;
	if (!len || *i + (size_t)len > n)
		return -1;
	uint32_t c = len == 1 ? b : b & (0x7f >> len);
	for (int k = 1; k < len; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (s[*i + k] & 0x3f);
	}
	static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (c < least[len] || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
		return -1;
	*i += (size_t)len;
	return (int32_t)c;
}

/* Appends character c of a str repr whose quote is quote. */
static void put_char(struct hs_textbuf *o, uint32_t c, char quote, const char *utf8, size_t len)
{
	char esc[10] = {'\\'};
	size_t n = 2;
	if (c == (uint32_t)quote || c == '\\') {
		esc[1] = (char)c;
	} else if (c == '\t' || c == '\n' || c == '\r') {
		esc[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
	} else if (hs_py_printable(c)) {
		hs_textbuf_put(o, utf8, len);
		return;
	} else {
		int digits = c <= 0xff ? 2 : c <= 0xffff ? 4 : 8;
		esc[1] = c <= 0xff ? 'x' : c <= 0xffff ? 'u' : 'U';
		for (int k = 0; k < digits; k++)
			esc[n++] = hexdigits[(c >> (4 * (digits - 1 - k))) & 15];
	}
	hs_textbuf_put(o, esc, n);
}

bool hs_py_str_repr(struct hs_textbuf *o, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	bool single = false, dbl = false;
	for (size_t i = 0; i < n;) {
		int32_t c = utf8_next(u, n, &i);
		if (c < 0)
			return false;
		single |= c == '\'';
		dbl |= c == '"';
	}
	char quote = single && !dbl ? '"' : '\'';
	hs_textbuf_put(o, &quote, 1);
	for (size_t i = 0; i < n;) {
		size_t at = i;
		int32_t c = utf8_next(u, n, &i);
		put_char(o, (uint32_t)c, quote, s + at, i - at);
	}
	hs_textbuf_put(o, &quote, 1);
	return true;
}

/* Appends code point c as UTF-8. */
static void put_utf8(struct hs_textbuf *o, uint32_t c)
{
	char u[4];
	size_t n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
	static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
	for (size_t k = n - 1; k > 0; k--, c >>= 6)
		u[k] = (char)(0x80 | (c & 0x3f));
	u[0] = (char)(lead[n] | c);
	hs_textbuf_put(o, u, n);
}

/* The value of the hex digits s[0..n), or -1. */
static int32_t hex_value(const char *s, size_t n)
{
	int32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		const char *d = s[i] ? strchr(hexdigits, s[i] | 0x20) : NULL;
		if (!d)
			return -1;
		v = v * 16 + (int32_t)(d - hexdigits);
	}
	return v;
}

bool hs_py_str_unrepr(struct hs_textbuf *o, const char *s, size_t n)
{
	if (n < 2 || (s[0] != '\'' && s[0] != '"') || s[n - 1] != s[0])
		return false;
	char quote = s[0];
	struct hs_textbuf out = *o;
	for (size_t i = 1; i < n - 1;) {
		size_t at = i;
		int32_t c = utf8_next((const unsigned char *)s, n - 1, &i);
		if (c < 0 || c == quote)
			return false;
		if (c != '\\') {
			hs_textbuf_put(&out, s + at, i - at);
			continue;
		}
		if (i >= n - 1)
			return false;
		char e = s[i++];
		size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
		if (digits) {
			c = i + digits <= n - 1 ? hex_value(s + i, digits) : -1;
			if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c < 0xe000))
				return false;
			i += digits;
			put_utf8(&out, (uint32_t)c);
		} else if (e == '\\' || e == '\'' || e == '"') {
			hs_textbuf_put(&out, &e, 1);
		} else if (e == 'n' || e == 't' || e == 'r') {
			hs_textbuf_put(&out, e == 'n' ? "\n" : e == 't' ? "\t" : "\r", 1);
		} else {
			return false;
		}
	}
	*o = out;
	return true;
}

/* The shortest digits that read back as d > 0 (finite), without trailing zeros, into digits
 * (at least 18 bytes); returns their count and sets *decpt, where the decimal point goes (d =
 * 0.DIGITS * 10^decpt).  Correctly rounded to 15 digits, a double that some string of 15 or
 * fewer digits spells is that string (DBL_DIG); failing that 16, and 17 always read back.  A
 * subnormal double has fewer bits than that argument needs: its digit counts are all tried. */
static int shortest_digits(double d, char *digits, int *decpt)
{
	char e[40];
	for (int p = d < DBL_MIN ? 1 : 15;; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, d);
		if (p == 17 || strtod(e, NULL) == d)
			break;
	}
	int n = 0;
	for (const char *c = e; *c != 'e'; c++)
		if (*c != '.')
			digits[n++] = *c;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = '\0';
	*decpt = atoi(strchr(e, 'e') + 1) + 1;
	return n;
}

size_t hs_py_float_repr(double d, char *buf)
{
	if (isnan(d))
		return (size_t)sprintf(buf, "nan");
	if (isinf(d))
		return (size_t)sprintf(buf, d > 0 ? "inf" : "-inf");
	size_t n = 0;
	if (signbit(d))
		buf[n++] = '-';
	if (d == 0)
		return n + (size_t)sprintf(buf + n, "0.0");
	char digits[24];
	int decpt, nd = shortest_digits(fabs(d), digits, &decpt);
	if (decpt <= -4 || decpt > 16) { /* float_repr_style short: exponent outside 1e-4 .. 1e16 */
		buf[n++] = digits[0];
		if (nd > 1)
			n += (size_t)sprintf(buf + n, ".%s", digits + 1);
		return n + (size_t)sprintf(buf + n, "e%c%02d", decpt - 1 < 0 ? '-' : '+',
		                           abs(decpt - 1));
	}
	/* Positional: 0.000DIGITS, DIGITS000.0 or DIG.ITS */
	if (decpt <= 0) {
		n += (size_t)sprintf(buf + n, "0.");
		for (int z = 0; z < -decpt; z++)
			buf[n++] = '0';
		return n + (size_t)sprintf(buf + n, "%s", digits);
	}
	if (decpt >= nd) {
		n += (size_t)sprintf(buf + n, "%s", digits);
		for (int z = 0; z < decpt - nd; z++)
			buf[n++] = '0';
		return n + (size_t)sprintf(buf + n, ".0");
	}
	return n + (size_t)sprintf(buf + n, "%.*s.%s", decpt, digits, digits + decpt);
}

size_t hs_py_bytes_repr(const uint8_t *p, size_t n, size_t max, char *buf)
{
	size_t k = n < max ? n : max, len = 0;
	bool single = memchr(p, '\'', k) != NULL, dbl = memchr(p, '"', k) != NULL;
	char quote = single && !dbl ? '"' : '\'';
	buf[len++] = 'b';
	buf[len++] = quote;
	for (size_t i = 0; i < k; i++) {
		uint8_t c = p[i];
		if (c == (uint8_t)quote || c == '\\') {
			buf[len++] = '\\';
			buf[len++] = (char)c;
		} else if (c == '\t' || c == '\n' || c == '\r') {
			buf[len++] = '\\';
			buf[len++] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		} else if (c < 0x20 || c >= 0x7f) {
			buf[len++] = '\\';
			buf[len++] = 'x';
			buf[len++] = hexdigits[c >> 4];
			buf[len++] = hexdigits[c & 15];
		} else {
			buf[len++] = (char)c;
		}
	}
	buf[len++] = quote;
	if (n > max) {
		memcpy(buf + len, "\xe2\x80\xa6", 3);
		len += 3;
	}
	buf[len] = '\0';
	return len;
}

bool hs_py_attribute_name(const char *s, size_t n)
{
	static const char *const keywords[] = {
	    "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
	    "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
	    "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
	    "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9')))
			return false;
	}
	for (size_t i = 0; i < sizeof(keywords) / sizeof(*keywords); i++)
		if (strlen(keywords[i]) == n && memcmp(keywords[i], s, n) == 0)
			return false;
	return true;
}
