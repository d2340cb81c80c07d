/*
 * capture/cpython/memory.h: the memory an object occupies, as both captures count it (FORMAT.md
 * §4.5).
 *
 * sys.getsizeof answers what an object's __sizeof__ says plus its GC header and pre-header.  The
 * memory the allocator hands out differs in two ways: each block is rounded (pymalloc serves
 * requests of at most 512 bytes from size classes 16 bytes apart; glibc's malloc serves larger
 * ones from chunks of the request plus 8 bytes, to 16), and some blocks are not counted by
 * getsizeof at all (3.11 and 3.12 keep an instance's attributes in a values array of their own
 * while it has no __dict__; 3.13 keeps them inline, after the object) or are counted by two
 * objects (a 3.13 dict made from an instance counts the values its instance holds).
 *
 * A capture describes an object as its size plus the blocks it knows of (struct hs_mem_parts)
 * and hs_mem_total does the rest.  Pure functions: nothing here reads memory.  The layouts the
 * captures read the parts from are in capture/CPYTHON.md (§3a).
 */
#ifndef HS_CAPTURE_MEMORY_H
#define HS_CAPTURE_MEMORY_H

#include <stdint.h>

#define HS_MEM_SMALL_MAX 512 /* pymalloc's SMALL_REQUEST_THRESHOLD, 3.8-3.13 */
#define HS_MEM_ALIGN 16      /* pymalloc's ALIGNMENT on 64-bit builds, and glibc's */

/* An object's memory, by its blocks. */
struct hs_mem_parts {
	uint64_t size; /* sys.getsizeof's answer */
	/* A block of its own that size counts (an item array, a key table, a values array), as
	 * getsizeof counts it; the object's own block is size less this. */
	uint64_t counted;
	/* Bytes in the object's own block that size leaves out (3.13 inline values). */
	uint64_t inline_extra;
	/* Bytes the counted block really has beyond what size counts for it (the 3.11/3.12 values
	 * array's order prefix). */
	uint64_t counted_extra;
	/* A block size does not count (the values array of a 3.11/3.12 instance with no dict). */
	uint64_t uncounted;
	/* Bytes size counts that another object holds (the 3.13 values a dict shares with its
	 * instance). */
	uint64_t shared;
	/* The object is not from the allocator (a static type): its memory is its size. */
	int is_static;
};

/* What a request of n bytes takes from CPython's allocator. */
static inline uint64_t hs_mem_block(uint64_t n)
{
	if (n <= HS_MEM_SMALL_MAX)
		return n ? (n + HS_MEM_ALIGN - 1) & ~(uint64_t)(HS_MEM_ALIGN - 1) : HS_MEM_ALIGN;
	return (n + 8 + HS_MEM_ALIGN - 1) & ~(uint64_t)(HS_MEM_ALIGN - 1);
}

/* The size of a 3.13 _PyDictValues block of capacity cap (capacity, size, embedded, valid, the
 * values, then the order array): new_values's request, and _PyInlineValuesSize's. */
static inline uint64_t hs_mem_values_313(uint64_t cap)
{
	return (cap + 1) * 8 + ((cap + 7) & ~(uint64_t)7);
}

/* 3.11 and 3.12 keep the attribute values of an instance with no dict in a block of their own,
 * pointed to by the word this many words before the object (0: not there, 3.8-3.10 and 3.13+,
 * which keeps them inline); hs_mem_values_ptr reads that word (3.12 tags it: the values less 1,
 * with bit 0 set; 0 otherwise). */
static inline unsigned hs_mem_values_word(int minor)
{
	return minor == 11 ? 4 : minor == 12 ? 3 : 0;
}

static inline uint64_t hs_mem_values_ptr(uint64_t word, int minor)
{
	return minor != 12 ? word : (word & 1) ? word + 1 : 0;
}

/* Whether a split dict's or an instance's values block starts with an order prefix, its size in
 * the byte before the values (3.11 and 3.12). */
static inline int hs_mem_values_prefixed(int minor)
{
	return minor == 11 || minor == 12;
}

/* The object's memory: its blocks, each rounded.  A size that its counted block exceeds (a
 * __sizeof__ that says less than the object holds) is taken as one block. */
static inline uint64_t hs_mem_total(const struct hs_mem_parts *p)
{
	if (p->is_static)
		return p->size;
	uint64_t uncounted = p->uncounted ? hs_mem_block(p->uncounted) : 0;
	if (p->shared + p->counted > p->size)
		return hs_mem_block(p->size + p->inline_extra) + uncounted;
	uint64_t total = hs_mem_block(p->size - p->shared - p->counted + p->inline_extra);
	if (p->counted)
		total += hs_mem_block(p->counted + p->counted_extra);
	return total + uncounted;
}

#endif
