/*
 * capture/cpython/preview.c — the previews of ints and floats (preview.h): an int's digits to its
 * decimal repr or bit length, a float's repr, by a short path for the floats most programs hold
 * (at most 15 significant digits, no exponent) and dumpfmt/pyrepr.c's general one otherwise.
 */
#include "preview.h"

#include <math.h>
#include <stdio.h>

size_t hs_cp_int_text(int sign, uint64_t ndigits, const uint32_t low[3], uint32_t top, char *buf)
{
	if (sign == 0 || ndigits == 0)
		return (size_t)sprintf(buf, "0");
	if (ndigits <= 3) {
		unsigned __int128 v = 0;
		for (uint64_t i = ndigits; i-- > 0;)
			v = (v << HS_CP_DIGIT_BITS) | low[i];
		/* What fits a long long is printed; larger values get their bit count. */
		if (sign > 0 ? v <= INT64_MAX : v <= (unsigned __int128)INT64_MAX + 1) {
			size_t n = 0;
			if (sign < 0)
				buf[n++] = '-';
			n += hs_cp_udecimal(buf + n, (unsigned long long)v);
			buf[n] = '\0';
			return n;
		}
	}
	uint64_t bits =
	    (ndigits - 1) * HS_CP_DIGIT_BITS + (top ? 32 - (unsigned)__builtin_clz(top) : 0);
	return (size_t)sprintf(buf, "<int of %llu bits>", (unsigned long long)bits);
}

/* repr(v) without dtoa when v has at most 15 significant digits and repr writes it without an
 * exponent (1e-4 <= |v| < 1e15), e.g. 0.5, 2.25, 0.1; returns its length, or 0 when it cannot
 * tell.  The shortest decimal that reads back as v is what repr writes.  For k = 0, 1, 2, ...
 * the only candidate with k decimals is m / 10**k, m = round(|v| * 10**k): m and 10**k are
 * exact doubles, so m / 10**k is the correctly rounded quotient, the double that reading the
 * decimal gives.  The first k that gives back v has the fewest digits, and with at most 15
 * significant digits no other decimal of as many digits reads as v, so it is repr's. */
static size_t float_short(char *buf, double v)
{
	static const double pow10[16] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                                 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	double a = fabs(v);
	if (!(a >= 1e-4 && a < 1e15))
		return 0;
	for (int k = 0; k < 16; k++) {
		double x = a * pow10[k];
		if (x >= 1e15)
			return 0;
		unsigned long long m = (unsigned long long)(x + 0.5); /* x + 0.5 < 2**50: exact */
		if ((double)m / pow10[k] != a)
			continue;
		char digits[20];
		size_t nd = hs_cp_udecimal(digits, m), n = 0, kk = (size_t)k;
		if (v < 0)
			buf[n++] = '-';
		if (nd > kk) { /* digits before the point */
			memcpy(buf + n, digits, nd - kk);
			n += nd - kk;
			buf[n++] = '.';
			if (kk == 0) {
				buf[n++] = '0';
			} else {
				memcpy(buf + n, digits + nd - kk, kk);
				n += kk;
			}
		} else { /* 0.00ddd */
			buf[n++] = '0';
			buf[n++] = '.';
			memset(buf + n, '0', kk - nd);
			n += kk - nd;
			memcpy(buf + n, digits, nd);
			n += nd;
		}
		buf[n] = '\0';
		return n;
	}
	return 0;
}

size_t hs_cp_float_text(double d, char *buf)
{
	size_t n = float_short(buf, d);
	return n ? n : hs_py_float_repr(d, buf);
}
