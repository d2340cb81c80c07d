/*
 * hs_pyrepr.c — a test-only filter over dumpfmt/pyrepr.c for pyrepr_oracle.py, which compares
 * its answers with Python's own repr().  One request a line on stdin, one answer a line out:
 *   f HEX16   the float whose IEEE bits are HEX16 (big-endian hex)  ->  hs_py_float_repr
 *   s HEX     the str whose UTF-8 is HEX                            ->  hs_py_str_repr, or FAIL
 *   b HEX     the bytes HEX                                         ->  hs_py_bytes_repr (max 100)
 *   u HEX     the str literal whose UTF-8 is HEX  ->  hs_py_str_unrepr: the value's UTF-8 in hex,
 *             or FAIL
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyrepr.h"

/* Decodes the hex digits of s into a new buffer of *n bytes. */
static unsigned char *unhex(const char *s, size_t *n)
{
	*n = strlen(s) / 2;
	unsigned char *b = malloc(*n + 1);
	for (size_t i = 0; b && i < *n; i++)
		sscanf(s + 2 * i, "%2hhx", &b[i]);
	return b;
}

int main(void)
{
	static char line[1 << 20], out[1 << 22];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		size_t n;
		unsigned char *b = unhex(line + 2, &n);
		if (!b)
			return 1;
		if (line[0] == 'f') {
			unsigned long long bits = strtoull(line + 2, NULL, 16);
			double d;
			memcpy(&d, &bits, sizeof(d));
			hs_py_float_repr(d, out);
		} else if (line[0] == 's') {
			struct hs_textbuf o = {out, sizeof(out), 0};
			if (hs_py_str_repr(&o, (const char *)b, n))
				hs_textbuf_finish(&o);
			else
				strcpy(out, "FAIL");
		} else if (line[0] == 'u') {
			static char value[1 << 20];
			struct hs_textbuf o = {value, sizeof(value), 0};
			if (hs_py_str_unrepr(&o, (const char *)b, n)) {
				size_t len = hs_textbuf_finish(&o);
				for (size_t i = 0; i < len; i++)
					sprintf(out + 2 * i, "%02x", (unsigned char)value[i]);
				out[2 * len] = '\0';
			} else {
				strcpy(out, "FAIL");
			}
		} else {
			hs_py_bytes_repr(b, n, 100, out);
		}
		puts(out);
		free(b);
	}
	return 0;
}
