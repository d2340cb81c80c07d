/*
 * hsnap.h — the public API of the .hsnap dump format library (dumpfmt/).
 *
 * Everything that captures a heap writes through struct hs_writer; everything that analyzes one
 * reads through struct hs_snapshot.  Nothing above this header knows how the bytes are laid out
 * (that is FORMAT.md's job), and nothing below it knows how a heap was captured.
 *
 * Conventions (see STYLE.md): fallible functions return a struct hs_error *, NULL on
 * success; out-parameters come last, are called ret, and are written only on success; the caller
 * owns what it allocated; _create/_destroy pairs, destroy accepts NULL.
 */
#ifndef HSNAP_H
#define HSNAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Errors
 */

enum hs_error_code {
	HS_ERROR_NOMEM = 1, /* out of memory (the static hs_error_nomem) */
	HS_ERROR_IO,        /* open/read/write/rename failed; errno is in the message */
	HS_ERROR_FORMAT,    /* bad data in a file: message names the file and byte offset */
	HS_ERROR_MEMORY,    /* a read of target memory failed or gave bad data: names the address */
	HS_ERROR_USAGE,     /* a command-line argument is malformed (the CLI exits 2); data a
	                     * library is given, even by its caller, is HS_ERROR_FORMAT (exit 1) */
	HS_ERROR_OTHER,
};

/* An error: a code and one line of text that a person can act on.  The text already carries the
 * file and offset or address ("snap.hsnap: offset 1234: objects section checksum mismatch"). */
struct hs_error {
	enum hs_error_code code;
	char *message; /* owned, NUL-terminated; static for hs_error_nomem */
};

/* The error returned when an allocation fails; reporting it never allocates. */
extern struct hs_error hs_error_nomem;

/* A new error whose message is printf(fmt, ...).  Never returns NULL (falls back to nomem). */
struct hs_error *hs_error_create(enum hs_error_code code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
struct hs_error *hs_error_createv(enum hs_error_code code, const char *fmt, va_list ap);
/* An HS_ERROR_IO error "PATH: what: strerror(errnum)". */
struct hs_error *hs_error_errno(int errnum, const char *path, const char *what);
/* A malloc'd copy of s with every control character (below 0x20, and 0x7f) written as \xNN, so
 * that a message quoting a file name or target bytes stays one line; NULL when out of memory.
 * hs_error_create applies it to every message. */
char *hs_escape_controls(const char *s);
/* Frees an error (NULL and hs_error_nomem are accepted). */
void hs_error_destroy(struct hs_error *err);

/* Parses s as an unsigned decimal number, or also as 0x hex when hex_prefix, with whitespace
 * allowed around it and nothing else (number.c); false when it is not one or exceeds 2^64 - 1. */
bool hs_parse_u64(const char *s, bool hex_prefix, uint64_t *ret);

/* ---------------------------------------------------------------------------------------------
 * Output files (outfile.c).  Every file heapsnap creates goes through these: a fresh
 * PATH.tmp-XXXXXX (random name, O_CREAT|O_EXCL, mode 0600) in PATH's directory, fsynced and renamed
 * over PATH.
 */
struct hs_out {
	int fd;     /* the temporary's descriptor, -1 once closed */
	char *path; /* the destination */
	char *tmp;  /* the temporary's name */
};

/* Creates the temporary for path into *ret. */
struct hs_error *hs_out_open(const char *path, struct hs_out *ret);
/* fsyncs and closes the temporary (unless the caller closed it: fd -1) and renames it over
 * path; on failure removes it.  Frees o's strings either way. */
struct hs_error *hs_out_commit(struct hs_out *o);
/* Closes and removes the temporary; frees o's strings. Safe on an already-committed o. */
void hs_out_abort(struct hs_out *o);
/* Removes the temporary being written; async-signal-safe, for a SIGINT/SIGTERM handler. */
void hs_out_signal_cleanup(void);
/* An error when out exists and is the same file as in (also through a symlink), else NULL. */
struct hs_error *hs_out_not_input(const char *out, const char *in);

/* ---------------------------------------------------------------------------------------------
 * The in-memory model shared by writer and reader
 */

/* Edge kinds, as in DESIGN.md. */
enum hs_edge_kind {
	HS_EDGE_TRAVERSE = 0, /* what tp_traverse visits (gc.get_referents) */
	HS_EDGE_OWNED = 1, /* strong, held but not traversed (str keys of str-keyed dicts, ...) */
	HS_EDGE_CONSERVATIVE = 2, /* a pointer found by scanning memory of an unknown type */
};

/* How an edge's label is given.  A label is (form, value), rendered to text by hs_label_format:
 *   NONE     ""                  (value 0)
 *   ORDINAL  "[i]"  i = the edge's position among its source's edges (lists, tuples: free)
 *   INDEX    "[value]"
 *   STRING   the text of string-table entry `value`, as is (".__dict__", "<cell x>", ...)
 *   KEY      "[repr of object `value`]": a dict value whose key is that object ("['users']")
 *   ATTR     ".text of object `value`": an attribute whose name is that str object (".cache")
 */
enum hs_label_form {
	HS_LABEL_NONE = 0,
	HS_LABEL_ORDINAL = 1,
	HS_LABEL_INDEX = 2,
	HS_LABEL_STRING = 3,
	HS_LABEL_KEY = 4,
	HS_LABEL_ATTR = 5,
};

/* Object flags (struct hs_object.flags). */
#define HS_OBJ_GC 0x01                /* GC-tracked (in one of the generation lists) */
#define HS_OBJ_IMMORTAL 0x02          /* immortal refcount (3.12+) */
#define HS_OBJ_CONSERVATIVE_SCAN 0x04 /* type unknown to the capture; edges found by scanning */
#define HS_OBJ_SIZE_APPROX 0x08       /* size could not be computed exactly (extension types) */
#define HS_OBJ_FINALIZED 0x10         /* tp_finalize has already run (PyGC_Head prev bit 0) */

/* Generation values (struct hs_object.generation). */
#define HS_GEN_NONE 255    /* not tracked, or not known */
#define HS_GEN_PERMANENT 3 /* gc.freeze()'s permanent generation */

/* Type flags (struct hs_type.flags). */
#define HS_TYPE_HAS_FINALIZER 0x01 /* tp_finalize or __del__ (or legacy tp_del) */
#define HS_TYPE_HEAP 0x02          /* a heap type (class statement) */
#define HS_TYPE_GC 0x04            /* Py_TPFLAGS_HAVE_GC */

/* Capture methods (struct hs_header.method). */
enum hs_method {
	HS_METHOD_UNKNOWN = 0,
	HS_METHOD_INPROC = 1,
	HS_METHOD_PID = 2,
	HS_METHOD_CORE = 3,
	HS_METHOD_GDB = 4,
	HS_METHOD_CONVERT = 5, /* made from a JSON-lines graph */
};

/* The header: who made the snapshot and of what.  Strings are borrowed by the writer (copied),
 * and point into the mapped file (NUL-terminated copies owned by the snapshot) for the reader. */
struct hs_header {
	const char *producer;        /* "heapsnap 0.1 inproc" */
	const char *runtime;         /* "cpython" */
	const char *runtime_version; /* "3.11.7" */
	uint32_t pointer_size;       /* 8 */
	uint32_t pid;                /* 0 when not known */
	uint64_t time_ns;            /* capture time, nanoseconds since the Unix epoch */
	enum hs_method method;
};

/* ---------------------------------------------------------------------------------------------
 * Writer: streams a snapshot to a fresh PATH.tmp-XXXXXX (hs_out_open, mode 0600) and renames it to
 * PATH on finish.
 *
 * Call order: create; any number of hs_writer_string / hs_writer_type / hs_writer_meta at any time;
 * then the objects in strictly increasing address order, each as hs_writer_object followed by its
 * edges (hs_writer_edge) and optionally its value (hs_writer_value); then weak links and roots
 * (which refer to object indexes, so they come after the objects); then finish.  Object indexes
 * are 0, 1, 2, ... in the order objects were written.  Any error is sticky: later calls return
 * it again, and destroy without finish removes the temporary file.
 */
struct hs_writer;

struct hs_error *hs_writer_create(const char *path, const struct hs_header *header,
                                  struct hs_writer **ret);
/* Interns a string (bytes, len) and returns its string-table id. */
struct hs_error *hs_writer_string(struct hs_writer *w, const char *s, size_t len, uint32_t *ret);
/* Declares a type; default_size is the size an object of this type has when none is given
 * (objects whose size equals it cost nothing).  type_object is the index of the type's own object
 * in the snapshot plus one, or 0 if unknown (it may be an index not yet written). */
struct hs_error *hs_writer_type(struct hs_writer *w, const char *name, const char *module,
                                uint64_t default_size, uint64_t type_object, uint32_t flags,
                                uint32_t *ret);
struct hs_error *hs_writer_meta(struct hs_writer *w, const char *key, const char *value);
/* The __qualname__ of type (an id from hs_writer_type) where it differs from its name: META
 * "type.qualname.ID" (FORMAT.md §4.4). */
struct hs_error *hs_writer_qualname(struct hs_writer *w, uint32_t type, const char *name,
                                    const char *qualname);
/* Begins an object; its edges and value follow.  addr must exceed the previous object's. */
struct hs_error *hs_writer_object(struct hs_writer *w, uint64_t addr, uint32_t type_id,
                                  uint64_t size, uint64_t refcnt, uint8_t flags,
                                  uint8_t generation);
/* An edge from the current object to object index dst. */
struct hs_error *hs_writer_edge(struct hs_writer *w, uint64_t dst, enum hs_edge_kind kind,
                                enum hs_label_form form, uint64_t label_value);
/* An edge for hs_writer_edges. */
struct hs_edge {
	uint64_t dst;         /* object index */
	uint64_t label_value; /* as for hs_writer_edge */
	uint8_t kind;         /* enum hs_edge_kind */
	uint8_t form;         /* enum hs_label_form */
};
/* n edges from the current object: the same as n calls of hs_writer_edge, in one call (the
 * capture's hot path).  Nothing is written unless every edge is valid. */
struct hs_error *hs_writer_edges(struct hs_writer *w, const struct hs_edge *edges, size_t n);
/* The memory the current object occupies less its size (sys.getsizeof's answer): its
 * allocations, each rounded as the allocator rounds it, less what getsizeof counts (FORMAT.md
 * §4.5), at most 2^31 either way.  Optional; a writer that gives it gives it for every object
 * of a chunk. */
struct hs_error *hs_writer_memory(struct hs_writer *w, int64_t delta);
/* Where the current object was allocated, after its memory: file (a string id + 1; 0 when
 * unknown) and line (FORMAT.md §4.5 site tail).  Optional; a writer that gives it gives it for
 * every object of a chunk, and only with memory. */
struct hs_error *hs_writer_site(struct hs_writer *w, uint64_t file, uint32_t line);
/* The current object's value preview (bytes, len); at most one per object. */
struct hs_error *hs_writer_value(struct hs_writer *w, const char *s, size_t len);
/* A segment: objects from index first on, written apart from w (by another thread, while w
 * writes the objects before them) into memory, with the types and strings w has declared so far
 * (a segment declares none of its own, and has no weak links, roots or finish).  Then
 * hs_writer_append(w, segment), once w has written every object before first, puts them in w's
 * file and destroys the segment.  hs_writer_destroy frees a segment never appended. */
struct hs_error *hs_writer_segment(struct hs_writer *w, uint64_t first, struct hs_writer **ret);
struct hs_error *hs_writer_append(struct hs_writer *w, struct hs_writer *segment);
/* A weak reference object `ref` to `referent` with `callback` (object indexes plus one; 0 = dead
 * referent / no callback). */
struct hs_error *hs_writer_weak(struct hs_writer *w, uint64_t ref, uint64_t referent_plus1,
                                uint64_t callback_plus1);
/* A root: object index, kind ("module", "frame", "external", ...) and name. */
struct hs_error *hs_writer_root(struct hs_writer *w, uint64_t obj, const char *kind,
                                const char *name);
/* Writes the remaining sections, the index and the end marker, fsyncs and renames into place.
 * stats (may be NULL) receives the final counts. */
struct hs_writer_stats {
	uint64_t objects, edges, weak, roots, values, bytes;
};
struct hs_error *hs_writer_finish(struct hs_writer *w, struct hs_writer_stats *stats);
/* Frees the writer; if it was not finished, removes the temporary file. */
void hs_writer_destroy(struct hs_writer *w);

/* ---------------------------------------------------------------------------------------------
 * Reader: a whole snapshot in arrays, every byte validated before use.
 *
 * The struct is a read-only view owned by the snapshot: object i has addr[i], type[i], ...;
 * its edges are edge_dst[edge_start[i] .. edge_start[i+1]).  Label values and value indexes are
 * 32-bit: a file whose labels or values do not fit is rejected with an error.
 */
struct hs_type {
	uint32_t name;   /* string id */
	uint32_t module; /* string id; the empty string when none */
	uint64_t default_size;
	uint64_t type_object; /* object index + 1, or 0 */
	uint32_t flags;       /* HS_TYPE_* */
};

struct hs_string {
	const char *s; /* points into the mapped file or an unpacked payload: NOT NUL-terminated */
	uint32_t len;
};

struct hs_weak {
	uint64_t ref, referent_plus1, callback_plus1;
};

struct hs_root {
	uint64_t obj;
	uint32_t kind, name; /* string ids */
};

/* The reader refuses a file whose object sizes add up to more than this (64 PiB), so that no
 * sum over objects (summary, retained sizes, SQL's sum(), even times 100 for a percentage) can
 * overflow 64 signed bits. */
#define HS_MAX_TOTAL_SIZE (UINT64_C(1) << 56)

/* An allocation site: the file name's string id and the line. */
struct hs_site {
	uint32_t file, line;
};

struct hs_snapshot {
	char *path;
	struct hs_header header;
	uint64_t file_size;

	uint32_t nstrings;
	struct hs_string *strings;
	uint32_t ntypes;
	struct hs_type *types;
	uint32_t nmeta;
	struct hs_string *meta; /* 2*nmeta: key, value, key, value, ... */

	uint64_t nobjects;
	uint64_t *addr;
	uint32_t *type;
	uint64_t *size;
	uint64_t total_size; /* sum of size[] over the objects read, at most HS_MAX_TOTAL_SIZE */
	uint64_t *refcnt;
	uint8_t *flags;      /* HS_OBJ_* */
	uint8_t *generation; /* 0, 1, 2, HS_GEN_PERMANENT, HS_GEN_NONE */
	uint32_t *value;     /* value index + 1 into values[], or 0 */
	/* The memory each object occupies less its size (FORMAT.md §4.5): its memory is
	 * size + memory_delta when has_memory (some run gave it), else unknown. */
	int32_t *memory_delta;
	bool has_memory;
	/* Where each object was allocated (FORMAT.md §4.5 site tail): site[i] is the index + 1
	 * into sites (0: unknown) of object i's site, the distinct (file, line) pairs in the order
	 * the objects first name them; has_sites when some run gave them.  In a stream, sites
	 * grows run by run. */
	uint32_t *site;
	struct hs_site *sites;
	uint32_t nsites, sites_cap;
	uint32_t *site_slots; /* open addressing over sites: index + 1, 0 empty */
	uint32_t site_mask;   /* site_slots' size - 1, or 0 before the first site */
	bool has_sites;

	uint64_t nedges;
	uint64_t *edge_start; /* nobjects + 1 entries */
	uint32_t *edge_dst;   /* object indexes (so at most 2^32 objects) */
	uint8_t *edge_kind;   /* enum hs_edge_kind */
	uint8_t *edge_form;   /* enum hs_label_form */
	uint32_t *edge_label; /* label value */

	uint64_t nvalues;
	struct hs_string *values;

	uint64_t nweak;
	struct hs_weak *weak;
	uint64_t nroots;
	struct hs_root *roots;

	/* Set when the file was damaged and only the sections before the damage were read. */
	char *salvage_warning;
	/* Internal: the mapping, and the unpacked payloads that strings, meta and values point
	 * into. */
	void *map;
	size_t map_len;
	void **buffers;
	size_t nbuffers;
};

/* Opens and validates PATH.  A damaged file whose leading sections are intact gives a partial
 * snapshot with salvage_warning set when allow_salvage is true; otherwise the first problem is
 * the error ("PATH: offset N: what was wrong"). */
struct hs_error *hs_snapshot_open(const char *path, bool allow_salvage, struct hs_snapshot **ret);

/* One run of objects given by hs_snapshot_stream: objects first .. first + n - 1. */
struct hs_run {
	uint64_t first, n;
	uint64_t first_edge; /* the global index of the run's first edge */
};
typedef struct hs_error *hs_run_fn(void *arg, const struct hs_snapshot *snap,
                                   const struct hs_run *run);
/* Reads PATH in memory bounded by one run (HS_CHUNK_OBJECTS objects) instead of the whole heap:
 * the small sections (strings, types, meta, weak links, roots) are decoded into a snapshot as by
 * hs_snapshot_open, with nobjects and nedges the totals, but its per-object and per-edge arrays
 * hold one run at a time: fn is called for each run in order with addr[i] ... the object
 * run->first + i, edge_start[i] its first edge (a global index) and edge_dst[e -
 * run->first_edge] ... its edges.  Value previews are not decoded (value[] is 0).  Each run's
 * pages of the mapping are dropped once decoded.  No salvage; fn's error ends the stream. */
struct hs_error *hs_snapshot_stream(const char *path, hs_run_fn *fn, void *arg);
void hs_snapshot_destroy(struct hs_snapshot *snap);
/* Frees the edges' labels (edge_form and edge_label, 5 bytes per edge) of a snapshot that no
 * longer needs them: `heapsnap load` once its edges table is written, while the analysis, which
 * never reads them, goes on.  Labels read as empty afterwards. */
void hs_snapshot_drop_edge_labels(struct hs_snapshot *snap);

/* Index of the object at addr, or -1. Binary search: objects are sorted by address. */
int64_t hs_snapshot_find(const struct hs_snapshot *snap, uint64_t addr);
/* The text of a type's name. */
const char *hs_snapshot_type_name(const struct hs_snapshot *snap, uint32_t type_id, size_t *len);
/* Renders the label of edge e (of source object src) into buf (always NUL-terminated, truncated
 * to size); returns the full length it needed, like snprintf. */
size_t hs_snapshot_edge_label(const struct hs_snapshot *snap, uint64_t src, uint64_t e, char *buf,
                              size_t size);
/* A meta value by key, or NULL (the returned hs_string is owned by the snapshot). */
const struct hs_string *hs_snapshot_meta(const struct hs_snapshot *snap, const char *key);

/* Writes snap to PATH through the writer (mode 0600, a fresh PATH.tmp-XXXXXX renamed into place),
 * with its value previews when values is true and without any VALUES section otherwise (`heapsnap
 * redact`).  Everything else is copied as is.  stats may be NULL. */
struct hs_error *hs_snapshot_copy(const struct hs_snapshot *snap, const char *path, bool values,
                                  struct hs_writer_stats *stats);

/* ---------------------------------------------------------------------------------------------
 * JSON-lines interchange (DESIGN.md): convert a graph to a snapshot and back.
 */
struct hs_error *hs_jsonl_convert(const char *jsonl_path, const char *hsnap_path,
                                  struct hs_writer_stats *stats);
/* Writes snap as JSON lines to out. */
struct hs_error *hs_jsonl_export(const struct hs_snapshot *snap, FILE *out);
/* Writes s as a JSON string (quotes included); invalid UTF-8 bytes become U+FFFD. */
void hs_json_string(FILE *out, const char *s, size_t len);
/* The same, lossless: a byte that is not part of valid UTF-8 becomes the lone surrogate
 * \udc80..\udcff (PEP 383), which hs_jsonl_convert turns back into the byte; NUL is \u0000. */
void hs_json_string_exact(FILE *out, const char *s, size_t len);

/* ---------------------------------------------------------------------------------------------
 * Building blocks, exposed for tests and for the capture libraries.
 */
uint32_t hs_crc32c(uint32_t crc, const void *buf, size_t len);
/* A 64-bit key and the index of what it stands for. */
struct hs_keyed {
	uint64_t key, index;
};
/* Sorts v[0..n) by key, equal keys in their order (sort.c); tmp has room for n entries. */
void hs_sort_keyed(struct hs_keyed *v, struct hs_keyed *tmp, size_t n);
/* Encodes v as an unsigned LEB128 varint into buf (10 bytes suffice); returns bytes written. */
static inline size_t hs_varint_put(uint8_t *buf, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		buf[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	buf[n++] = (uint8_t)v;
	return n;
}
/* Encodes code point c as UTF-8 into buf (4 bytes suffice), a surrogate (which UTF-8 cannot
 * hold) as U+FFFD; returns bytes written.  Both captures' value previews use it. */
static inline size_t hs_utf8_put(char *buf, uint32_t c)
{
	if (c >= 0xd800 && c < 0xe000)
		c = 0xfffd;
	if (c < 0x80) {
		buf[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		buf[0] = (char)(0xc0 | (c >> 6));
		buf[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		buf[0] = (char)(0xe0 | (c >> 12));
		buf[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | (c >> 18));
	buf[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	buf[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	buf[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}
/* Decodes a varint from [p, end); returns bytes consumed, or 0 if truncated or over 10 bytes or
 * overflowing 64 bits. */
size_t hs_varint_get(const uint8_t *p, const uint8_t *end, uint64_t *ret);
static inline uint64_t hs_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t hs_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#ifdef __cplusplus
}
#endif
#endif
