/*
 * format.h — the constants of the .hsnap layout, shared by writer.c and reader.c only.
 * FORMAT.md is the specification; every value here is named and explained there.
 */
#ifndef HSNAP_FORMAT_H
#define HSNAP_FORMAT_H

#include <stdint.h>

#define HS_MAGIC "HSNP\r\n\x1a\n" /* 8 bytes at offset 0 */
#define HS_END_MAGIC "HSNPEND\n"  /* the last 8 bytes */
#define HS_VERSION_MAJOR 1        /* a reader rejects another major version */
#define HS_VERSION_MINOR 1        /* a reader accepts any minor version of its major */
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
