/*
 * lines.c — a code object's line table decoded as CPython's PyCode_Addr2Line decodes it, per
 * version (lines.h).
 */
#include "lines.h"

/* 3.8-3.9, co_lnotab: (address increment, signed line increment) byte pairs; the line is that of
 * the last pair whose address is at most addr. */
static int lnotab_line(const uint8_t *p, size_t n, int line, int64_t addr)
{
	int64_t at = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		at += p[i];
		if (at > addr)
			break;
		line += (int8_t)p[i + 1];
	}
	return line;
}

/* 3.10, co_linetable: (address increment, signed line increment) byte pairs, each a range of
 * addresses; a line increment of -128 marks a range without a line.  Empty ranges only move the
 * line. */
static int linetable310_line(const uint8_t *p, size_t n, int line, int64_t addr)
{
	int64_t end = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		int64_t start = end;
		end += p[i];
		int delta = (int8_t)p[i + 1];
		if (delta != -128)
			line += delta;
		if (start <= addr && addr < end)
			return delta == -128 ? -1 : line;
	}
	return -1;
}

/* A location table's varint at *p (6 bits a byte, low first, 0x40 for more), bounded by end. */
static uint32_t varint(const uint8_t **p, const uint8_t *end)
{
	uint32_t v = 0;
	for (unsigned shift = 0; *p < end && shift < 32; shift += 6) {
		uint8_t b = *(*p)++;
		v |= (uint32_t)(b & 63) << shift;
		if (!(b & 64))
			break;
	}
	return v;
}

/* The line increment of the location entry starting at p: code 15 none, 14 (long) and 13 (no
 * columns) a signed varint, 10-12 the code minus 10, the short forms (0-9) none. */
static int location_delta(const uint8_t *p, const uint8_t *end)
{
	unsigned code = (p[0] >> 3) & 15;
	if (code == 13 || code == 14) {
		const uint8_t *q = p + 1;
		uint32_t u = varint(&q, end);
		return u & 1 ? -(int)(u >> 1) : (int)(u >> 1);
	}
	return code >= 10 && code <= 12 ? (int)code - 10 : 0;
}

/* 3.11+, the location table: entries starting with a byte with bit 7 set, each covering
 * (its low 3 bits + 1) code units of 2 bytes; code 15 has no line.  An entry's other bytes have
 * bit 7 clear (a table read from a target is not trusted to be well formed: this only reads
 * within it). */
static int locations_line(const uint8_t *p, size_t n, int line, int64_t addr)
{
	const uint8_t *end = p + n;
	int64_t at = 0;
	while (p < end) {
		int64_t start = at;
		at += 2 * ((int64_t)(*p & 7) + 1);
		line += location_delta(p, end);
		bool none = ((*p >> 3) & 15) == 15;
		if (start <= addr && addr < at)
			return none ? -1 : line;
		do
			p++;
		while (p < end && !(*p & 128));
	}
	return -1;
}

int hs_cp_addr2line(unsigned minor, const uint8_t *table, size_t n, int first, int64_t addr)
{
	if (addr < 0)
		return first;
	if (minor <= 9)
		return lnotab_line(table, n, first, addr);
	if (minor == 10)
		return linetable310_line(table, n, first, addr);
	return locations_line(table, n, first, addr);
}

int hs_cp_frame310_line(unsigned minor, bool traced, int f_lineno, int f_lasti,
                        const uint8_t *table, size_t n, int first)
{
	if (minor <= 9 ? traced : f_lineno != 0)
		return f_lineno;
	return hs_cp_addr2line(minor, table, n, first, minor <= 9 ? f_lasti : 2 * (int64_t)f_lasti);
}
