/*
 * number.c — the one parser of numbers typed by a person or a script: a pid, a count, an
 * address.  Whitespace around the number is accepted (a field cut from CSV output keeps its CRLF
 * line ending: `$(heapsnap top ... --format csv | tail -1)`), nothing else: no sign, no trailing
 * text, no value past 2^64 - 1.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "hsnap.h"

bool hs_parse_u64(const char *s, bool hex_prefix, uint64_t *ret)
{
	while (isspace((unsigned char)*s))
		s++;
	int base = 10;
	if (hex_prefix && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!isxdigit((unsigned char)*s) || (base == 10 && !isdigit((unsigned char)*s)))
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno)
		return false;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return false;
	*ret = v;
	return true;
}
