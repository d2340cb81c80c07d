/*
 * sort.c — hs_sort_keyed: the sort that puts a capture's objects (or the pages that hold them)
 * in the address order the writer wants (FORMAT.md: objects by increasing address).
 *
 * A stable LSD radix sort by 11-bit digits that skips the digits every key shares: addresses of
 * one heap share their top bits, so a million objects take three or four passes of a 16 KiB
 * count table that stays in the cache (qsort took a tenth of a second for them, and was a
 * twentieth of an in-process dump for its 25k pages).
 */
#include <string.h>

#include "hsnap.h"

#define DIGIT_BITS 11
#define DIGITS (1u << DIGIT_BITS)

void hs_sort_keyed(struct hs_keyed *v, struct hs_keyed *tmp, size_t n)
{
	uint64_t all_or = 0, all_and = ~(uint64_t)0;
	for (size_t i = 0; i < n; i++) {
		all_or |= v[i].key;
		all_and &= v[i].key;
	}
	struct hs_keyed *from = v, *to = tmp;
	for (unsigned shift = 0; shift < 64; shift += DIGIT_BITS) {
		uint64_t mask = (uint64_t)(DIGITS - 1) << shift;
		if (((all_or ^ all_and) & mask) == 0)
			continue; /* every key has the same digit here */
		size_t count[DIGITS] = {0};
		for (size_t i = 0; i < n; i++)
			count[(from[i].key >> shift) & (DIGITS - 1)]++;
		size_t sum = 0;
		for (unsigned d = 0; d < DIGITS; d++) {
			size_t c = count[d];
			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			to[count[(from[i].key >> shift) & (DIGITS - 1)]++] = from[i];
		struct hs_keyed *t = from;
		from = to;
		to = t;
	}
	if (from != v)
		memcpy(v, from, n * sizeof(*v));
}
