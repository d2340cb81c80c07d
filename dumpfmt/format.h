/*
 * format.h — the constants of the .hsnap layout, shared by writer.c and reader.c only.
 * FORMAT.md is the specification; every value here is named and explained there.
 */
#ifndef HSNAP_FORMAT_H
#define HSNAP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_MAGIC "HSNP\r\n\x1a\n" /* 8 bytes at offset 0 */
#define HS_END_MAGIC "HSNPEND\n"  /* the last 8 bytes */
#define HS_VERSION_MAJOR 2        /* the version written; a reader reads 1 and 2 */
#define HS_VERSION_MINOR 0        /* a reader accepts any minor version of its major */
#define HS_VERSION_MAJOR_OLDEST 1 /* the oldest major version the reader reads */
#define HS_FILE_HEADER_SIZE 16    /* magic, major u16, minor u16, flags u32 */
#define HS_SECTION_HEAD_SIZE 9    /* kind u8, payload length u64 */
#define HS_SECTION_CRC_SIZE 4     /* CRC-32C of kind, length and payload */
#define HS_TRAILER_SIZE 16        /* index offset u64, end magic */

/* Section kinds (FORMAT.md §4). */
enum hs_section_kind {
	HS_SEC_HEADER = 1,  /* producer, runtime, version, pointer size, pid, time, method */
	HS_SEC_STRINGS = 2, /* a run of string-table entries */
	HS_SEC_TYPES = 3,   /* a run of type records */
	HS_SEC_META = 4,    /* key/value pairs */
	HS_SEC_OBJECTS = 5, /* a run of object records, address-sorted and delta-coded */
	HS_SEC_EDGES = 6,   /* the edges of the same run of objects */
	HS_SEC_VALUES = 7,  /* value previews of objects of that run */
	HS_SEC_WEAK = 8,    /* weak links */
	HS_SEC_ROOTS = 9,   /* roots */
	HS_SEC_INDEX = 10,  /* the footer index: every section's kind, offset and length */
};

/* Packed payloads (FORMAT.md §2.4, pack.c): a record whose kind byte has HS_PACKED set holds
 * its payload's length and one Zstandard frame of it.  The writer packs OBJECTS, EDGES and VALUES
 * payloads of HS_PACK_MIN to HS_PACK_MAX bytes (the reader refuses longer ones: no allocation
 * beyond it per record), when packing makes them smaller. */
#define HS_PACKED 0x80
#define HS_PACK_MIN 64
#define HS_PACK_MAX (1u << 24)
/* Zstandard's level.  On the 34.6 MB of OBJECTS, EDGES and VALUES payloads of a 1M-object app
 * heap (tests/bench/heap_shapes.py), `zstd -b`: level 1 gives 6.6x at 420-600 MB/s (60-80 ms,
 * 5.2 bytes/object), level -1 5.7x at 630 MB/s, level -2 5.2x at 910 MB/s, level 2 6.7x at
 * 580 MB/s. */
#define HS_PACK_LEVEL 1

/* The writer's packing state: a compression context and the packed payload of the last
 * successful hs_pack (out[0 .. len)). */
struct hs_packer {
	void *cctx; /* ZSTD_CCtx, made on first use */
	uint8_t *out;
	size_t len, cap;
};
/* Packs the payload a[0..alen) b[0..blen) into pk->out: false when it is outside the packed
 * sizes, packing does not make it smaller or fails (then it is stored as is). */
bool hs_pack(struct hs_packer *pk, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
void hs_packer_free(struct hs_packer *pk);
/* Unpacks the packed payload p[0..len) into a new buffer *ret of *ret_len bytes.  Returns "" on
 * success, NULL when out of memory, else what is wrong with it. */
const char *hs_unpack(const uint8_t *p, uint64_t len, uint8_t **ret, uint64_t *ret_len);

/* Edge header bits (FORMAT.md §4.6). */
#define HS_EDGE_LABEL_NONE 0
#define HS_EDGE_LABEL_ORDINAL 1
#define HS_EDGE_LABEL_EXPLICIT 2
#define HS_EDGE_KIND_FOLLOWS 4
#define HS_EDGE_HEAD_BITS 3

/* Object flags byte: HS_OBJ_* in bits 0-4, generation code in bits 5-7 (7 = none). */
#define HS_GEN_SHIFT 5
#define HS_GEN_CODE_NONE 7
#define HS_OBJ_FLAG_MASK 0x1f

/* The writer flushes a chunk (objects, edges, values) once it holds this many objects or bytes. */
#define HS_CHUNK_OBJECTS 65536
#define HS_CHUNK_BYTES (1u << 20)

#endif
