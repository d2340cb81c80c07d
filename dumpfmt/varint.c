/*
 * varint.c — unsigned LEB128 varints, the integer encoding of every .hsnap section (FORMAT.md §2).
 *
 * Seven bits a byte, least significant group first, high bit set on every byte but the last.
 * The encoder is inline in hsnap.h (the writer's hot path); the decoder is the one place that
 * guards against truncated and over-long encodings.
 */
#include "hsnap.h"

size_t hs_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *ret)
{
	uint64_t v = 0;
	for (size_t i = 0; i < 10 && p + i < end; i++) {
		uint64_t byte = p[i];
		/* The tenth byte may carry only the top bit of a 64-bit value. */
		if (i == 9 && byte > 1)
			return 0;
		v |= (byte & 0x7f) << (7 * i);
		if (!(byte & 0x80)) {
			*ret = v;
			return i + 1;
		}
	}
	return 0;
}
