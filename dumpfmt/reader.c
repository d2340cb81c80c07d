/*
 * reader.c — opens a .hsnap file into the arrays of struct hs_snapshot (FORMAT.md).
 *
 * The file is untrusted.  It is mapped read-only and read in two passes: the first walks the
 * section records, checking every length against the file and every CRC-32C, and sums the run
 * counts so that the arrays are allocated once at their final size; the second decodes each
 * section, checking every varint, count, index and range before use.  The first problem becomes
 * the error "PATH: offset N: what was wrong".  A packed payload (FORMAT.md §2.4) is unpacked
 * into a buffer of its own where it is read (open_payload: in each pass, then freed, unless the
 * snapshot's strings point into it), its length bounded before anything is allocated.
 * The arrays are advised onto transparent huge pages before they are filled (advise_huge), and
 * the EDGES runs are decoded in a second thread beside the OBJECTS runs (decode_runs).
 * With salvage allowed, damage ends the walk instead:
 * the sections before it are decoded (objects only up to their last whole EDGES run, links only to
 * objects that survived) and salvage_warning says what was lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "hsnap.h"

struct section {
	uint8_t kind;    /* without HS_PACKED */
	uint64_t offset; /* of the section record */
	const uint8_t *payload;
	uint64_t len;
	bool packed; /* the payload is packed (FORMAT.md §2.4): open_payload unpacks it */
	uint64_t run_first, run_n; /* a salvage's run sections: the run prefix */
};

/* A decoding position inside one section's payload. */
struct cursor {
	const struct hs_snapshot *snap;
	const uint8_t *p, *end;
	struct hs_error *err;
	/* hs_snapshot_stream: the per-object arrays start at object base, the edge arrays at edge
	 * ebase (0 and 0 for hs_snapshot_open). */
	uint64_t base, ebase;
	/* A salvage that skipped damaged sections: the object runs kept, which renumber the
	 * objects (NULL otherwise: indexes are the file's). */
	const struct kept_runs *kept;
	/* A packed payload: p is in its unpacked copy, and errors name the offset of its section
	 * record (0: p is in the mapping). */
	uint64_t record;
};

/* The object runs a salvage keeps (an OBJECTS run and its EDGES run both whole), in file order:
 * run i holds the file's objects first[i] .. first[i] + n[i] - 1, renumbered from new_first[i]. */
struct kept_runs {
	uint64_t *first, *n, *new_first;
	size_t count, cap;
	uint64_t file_objects; /* the file's object count as far as it is known */
};

/* The index a salvage gives the file's object i, or UINT64_MAX when its run was lost. */
static uint64_t kept_index(const struct kept_runs *k, uint64_t i)
{
	size_t lo = 0, hi = k->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (i < k->first[mid])
			hi = mid;
		else if (i >= k->first[mid] + k->n[mid])
			lo = mid + 1;
		else
			return k->new_first[mid] + (i - k->first[mid]);
	}
	return UINT64_MAX;
}

static uint64_t file_offset(const struct cursor *c)
{
	return c->record ? c->record : (uint64_t)(c->p - (const uint8_t *)c->snap->map);
}

__attribute__((format(printf, 2, 3))) static bool bad(struct cursor *c, const char *fmt, ...)
{
	if (c->err)
		return false;
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		c->err = &hs_error_nomem;
		return false;
	}
	c->err = hs_error_create(HS_ERROR_FORMAT, "%s: offset %llu: %s", c->snap->path,
	                         (unsigned long long)file_offset(c), msg);
	free(msg);
	return false;
}

static bool get_varint(struct cursor *c, uint64_t *ret, const char *what)
{
	if (c->err)
		return false;
	size_t n = hs_varint_get(c->p, c->end, ret);
	if (!n)
		return bad(c, "%s: truncated or malformed varint", what);
	c->p += n;
	return true;
}

static bool get_max(struct cursor *c, uint64_t *ret, uint64_t max, const char *what)
{
	if (!get_varint(c, ret, what))
		return false;
	if (*ret > max) {
		c->p--; /* point at the varint's last byte */
		return bad(c, "%s %llu out of range (at most %llu)", what, (unsigned long long)*ret,
		           (unsigned long long)max);
	}
	return true;
}

static bool get_byte(struct cursor *c, uint8_t *ret, const char *what)
{
	if (c->err)
		return false;
	if (c->p >= c->end)
		return bad(c, "%s: truncated", what);
	*ret = *c->p++;
	return true;
}

static bool get_bytes(struct cursor *c, struct hs_string *ret, const char *what)
{
	uint64_t len;
	if (!get_varint(c, &len, what))
		return false;
	if (len > (uint64_t)(c->end - c->p) || len > UINT32_MAX)
		return bad(c, "%s: length %llu exceeds the section", what, (unsigned long long)len);
	ret->s = (const char *)c->p;
	ret->len = (uint32_t)len;
	c->p += len;
	return true;
}

static bool at_end(struct cursor *c, const char *what)
{
	if (c->err)
		return false;
	if (c->p != c->end)
		return bad(c, "%s: %llu stray bytes at the end of the section", what,
		           (unsigned long long)(c->end - c->p));
	return true;
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const char *section_name(uint8_t kind)
{
	static const char *names[] = {"?",     "HEADER", "STRINGS", "TYPES", "META", "OBJECTS",
	                              "EDGES", "VALUES", "WEAK",    "ROOTS", "INDEX"};
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "unknown";
}

/* A cursor over section s's payload.  A packed one is unpacked into *owned, which the caller
 * frees (NULL otherwise; the cursor points into the mapping).  False with c->err set when the
 * payload does not unpack, or may not be packed: in a version 1 file, a HEADER or INDEX. */
static bool open_payload(const struct hs_snapshot *snap, const struct section *s, struct cursor *c,
                         uint8_t **owned)
{
	*c = (struct cursor){snap, s->payload, s->payload + s->len, NULL, 0, 0, NULL, 0};
	*owned = NULL;
	if (!s->packed)
		return true;
	const uint8_t *base = snap->map;
	if ((base[8] | base[9] << 8) < 2 || s->kind == HS_SEC_HEADER || s->kind == HS_SEC_INDEX)
		return bad(c, "%s section packed, which %s", section_name(s->kind),
		           s->kind == HS_SEC_HEADER || s->kind == HS_SEC_INDEX
		               ? "it may not be"
		               : "a version 1 file may not be");
	uint64_t n;
	const char *why = hs_unpack(s->payload, s->len, owned, &n);
	if (!why) {
		c->err = &hs_error_nomem;
		return false;
	}
	c->record = s->offset;
	if (*why)
		return bad(c, "%s section: %s", section_name(s->kind), why);
	c->p = *owned;
	c->end = *owned + n;
	return true;
}

/* Totals summed over the runs in pass 1. */
struct totals {
	uint64_t strings, types, meta, objects, edges_runs_objects, edges, values, weak, roots;
};

struct reader {
	struct hs_snapshot *snap;
	struct section *sections;
	size_t nsections;
	struct totals t;
	size_t damaged_at; /* index of the first section not read (nsections when none) */
	bool stream;       /* hs_snapshot_stream: OBJECTS, EDGES and VALUES are left to it */
	char *damage;      /* what was wrong there, for the salvage warning */
	/* A salvage past the damage (salvage_sections): the runs kept, the sections skipped. */
	struct kept_runs kept;
	uint64_t skipped;
	bool renumber; /* objects are renumbered by kept */
};

/* Reads a run prefix (first, count) and checks that runs are contiguous. */
static bool run_prefix(struct cursor *c, const char *what, uint64_t expected_first, uint64_t *count)
{
	uint64_t first;
	if (!get_varint(c, &first, what) || !get_varint(c, count, what))
		return false;
	if (first != expected_first)
		return bad(c, "%s run starts at %llu, expected %llu", what,
		           (unsigned long long)first, (unsigned long long)expected_first);
	if (*count > (uint64_t)(c->end - c->p) + (c->p == c->end))
		return bad(c, "%s run of %llu cannot fit in %llu bytes", what,
		           (unsigned long long)*count, (unsigned long long)(c->end - c->p));
	return true;
}

/* Pass 1 for one section: the counts it adds. */
static bool count_section(struct cursor *c, uint8_t kind, struct totals *t)
{
	uint64_t n, v;
	switch (kind) {
	case HS_SEC_STRINGS:
		if (!run_prefix(c, "STRINGS", t->strings, &n))
			return false;
		t->strings += n;
		return t->strings <= UINT32_MAX - 1 || bad(c, "too many strings");
	case HS_SEC_TYPES:
		if (!run_prefix(c, "TYPES", t->types, &n))
			return false;
		t->types += n;
		return t->types <= UINT32_MAX - 1 || bad(c, "too many types");
	case HS_SEC_META:
		if (!get_varint(c, &n, "META count"))
			return false;
		if (n > (uint64_t)(c->end - c->p))
			return bad(c, "META run of %llu cannot fit", (unsigned long long)n);
		t->meta += n;
		return t->meta <= UINT32_MAX || bad(c, "too many meta entries");
	case HS_SEC_OBJECTS:
		if (!run_prefix(c, "OBJECTS", t->objects, &n))
			return false;
		if (t->edges_runs_objects != t->objects)
			return bad(c, "OBJECTS run before the EDGES run of objects %llu..%llu",
			           (unsigned long long)t->edges_runs_objects,
			           (unsigned long long)t->objects);
		t->objects += n;
		return t->objects < UINT32_MAX || bad(c, "more than 2^32 objects");
	case HS_SEC_EDGES:
		if (!run_prefix(c, "EDGES", t->edges_runs_objects, &n) ||
		    !get_varint(c, &v, "EDGES count"))
			return false;
		if (t->edges_runs_objects + n != t->objects)
			return bad(
			    c, "EDGES run for objects %llu..%llu does not match the OBJECTS run",
			    (unsigned long long)t->edges_runs_objects,
			    (unsigned long long)(t->edges_runs_objects + n));
		if (v > (uint64_t)(c->end - c->p))
			return bad(c, "EDGES run of %llu edges cannot fit in %llu bytes",
			           (unsigned long long)v, (unsigned long long)(c->end - c->p));
		t->edges_runs_objects += n;
		t->edges += v;
		return true;
	case HS_SEC_VALUES:
		if (!get_varint(c, &v, "VALUES first") || !get_varint(c, &n, "VALUES count"))
			return false;
		if (n > (uint64_t)(c->end - c->p))
			return bad(c, "VALUES run of %llu cannot fit", (unsigned long long)n);
		t->values += n;
		return t->values <= UINT32_MAX - 1 || bad(c, "too many values");
	case HS_SEC_WEAK:
		if (!get_varint(c, &n, "WEAK count"))
			return false;
		if (n > (uint64_t)(c->end - c->p))
			return bad(c, "WEAK run of %llu cannot fit", (unsigned long long)n);
		t->weak += n;
		return true;
	case HS_SEC_ROOTS:
		if (!get_varint(c, &n, "ROOTS count"))
			return false;
		if (n > (uint64_t)(c->end - c->p))
			return bad(c, "ROOTS run of %llu cannot fit", (unsigned long long)n);
		t->roots += n;
		return true;
	case HS_SEC_HEADER:
	case HS_SEC_INDEX:
		return true;
	default:
		return bad(c, "unknown section kind %u", kind);
	}
}

static struct hs_error *add_section(struct reader *r, struct section s)
{
	if ((r->nsections & (r->nsections + 1)) == 0 || r->nsections == 0) {
		size_t cap = r->nsections ? 2 * (r->nsections + 1) : 16;
		struct section *ns = realloc(r->sections, cap * sizeof(*ns));
		if (!ns)
			return &hs_error_nomem;
		r->sections = ns;
	}
	r->sections[r->nsections++] = s;
	return NULL;
}

/* Checks the footer index against the sections walked, and the trailer after it. */
static bool check_index(struct reader *r, struct cursor *c, uint64_t index_offset)
{
	uint64_t n;
	if (!get_varint(c, &n, "INDEX count"))
		return false;
	if (n != r->nsections - 1)
		return bad(c, "INDEX lists %llu sections, the file has %zu", (unsigned long long)n,
		           r->nsections - 1);
	for (uint64_t i = 0; i < n; i++) {
		uint8_t kind = 0;
		uint64_t off, len;
		if (!get_byte(c, &kind, "INDEX kind") || !get_varint(c, &off, "INDEX offset") ||
		    !get_varint(c, &len, "INDEX length"))
			return false;
		const struct section *s = &r->sections[i];
		if (kind != (s->kind | (s->packed ? HS_PACKED : 0)) || off != s->offset ||
		    len != s->len + HS_SECTION_HEAD_SIZE + HS_SECTION_CRC_SIZE)
			return bad(c, "INDEX entry %llu does not match the section at offset %llu",
			           (unsigned long long)i, (unsigned long long)s->offset);
	}
	if (!at_end(c, "INDEX"))
		return false;
	const uint8_t *base = r->snap->map;
	uint64_t trailer = (uint64_t)(c->end - base) + HS_SECTION_CRC_SIZE;
	c->p = base + trailer;
	c->end = base + r->snap->file_size;
	if (r->snap->file_size - trailer != HS_TRAILER_SIZE)
		return bad(c, "expected the %d-byte trailer after the INDEX, found %llu bytes",
		           HS_TRAILER_SIZE, (unsigned long long)(r->snap->file_size - trailer));
	if (le64(c->p) != index_offset)
		return bad(c, "trailer names the INDEX at %llu, it is at %llu",
		           (unsigned long long)le64(c->p), (unsigned long long)index_offset);
	if (memcmp(c->p + 8, HS_END_MAGIC, 8) != 0) {
		c->p += 8;
		return bad(c, "end marker missing");
	}
	return true;
}

/* Pass 1: walks the section records.  Returns false with c->err set at the first damage. */
static bool walk_sections(struct reader *r, struct cursor *c)
{
	struct hs_snapshot *snap = r->snap;
	const uint8_t *base = snap->map, *end = base + snap->file_size;
	c->p = base;
	c->end = end;
	if (snap->file_size < HS_FILE_HEADER_SIZE)
		return bad(c, "file of %llu bytes is too short for a snapshot",
		           (unsigned long long)snap->file_size);
	if (memcmp(base, HS_MAGIC, 8) != 0)
		return bad(c, "not a heapsnap snapshot (bad magic)");
	c->p = base + 8;
	unsigned major = base[8] | base[9] << 8;
	if (major < HS_VERSION_MAJOR_OLDEST || major > HS_VERSION_MAJOR)
		return bad(c, "format version %u, this reader reads versions %d to %d", major,
		           HS_VERSION_MAJOR_OLDEST, HS_VERSION_MAJOR);
	c->p = base + 12;
	if (le32(base + 12) != 0)
		return bad(c, "reserved flags %08x are not zero", le32(base + 12));
	const uint8_t *p = base + HS_FILE_HEADER_SIZE;
	for (;;) {
		c->p = p;
		c->end = end;
		if ((uint64_t)(end - p) < HS_SECTION_HEAD_SIZE + HS_SECTION_CRC_SIZE)
			return bad(c, "truncated: no section header or end marker here");
		uint8_t kind = p[0] & ~HS_PACKED;
		uint64_t len = le64(p + 1);
		if (len > (uint64_t)(end - p) - HS_SECTION_HEAD_SIZE - HS_SECTION_CRC_SIZE)
			return bad(c, "%s section of %llu bytes runs past the end of the file",
			           section_name(kind), (unsigned long long)len);
		const uint8_t *payload = p + HS_SECTION_HEAD_SIZE;
		uint32_t want = le32(payload + len);
		uint32_t crc = hs_crc32c(0, p, HS_SECTION_HEAD_SIZE + len);
		if (crc != want)
			return bad(c, "%s section checksum mismatch (stored %08x, computed %08x)",
			           section_name(kind), want, crc);
		if ((r->nsections == 0) != (kind == HS_SEC_HEADER))
			return bad(c, "%s section where %s", section_name(kind),
			           r->nsections ? "a second HEADER is not allowed"
			                        : "the HEADER section must come first");
		/* The totals count only sections that were added: a salvage decodes no others. */
		struct section s = {kind, (uint64_t)(p - base), payload, len, p[0] & HS_PACKED, 0,
		                    0};
		struct cursor sc;
		uint8_t *owned;
		struct totals t = r->t;
		bool ok = open_payload(snap, &s, &sc, &owned) && count_section(&sc, kind, &t);
		free(owned);
		if (!ok) {
			c->err = sc.err;
			return false;
		}
		struct hs_error *err = add_section(r, s);
		if (err) {
			c->err = err;
			return false;
		}
		r->t = t;
		if (kind == HS_SEC_INDEX) {
			struct cursor ic = {snap, payload, payload + len, NULL, 0, 0, NULL, 0};
			if (!check_index(r, &ic, (uint64_t)(p - base))) {
				c->err = ic.err;
				return false;
			}
			return true;
		}
		p = payload + len + HS_SECTION_CRC_SIZE;
	}
}

/* Salvage past damage: the section records as the INDEX lists them when the trailer and the
 * INDEX are whole, else as found walking from the file header, stepping over a damaged record by
 * its length while that stays inside the file.  Each record must pass its own CRC; runs may
 * have gaps where runs were lost (lost strings and types read as "<lost>").  An OBJECTS run is
 * kept only with its EDGES run; the objects kept are renumbered (r->kept).  Sections are added
 * to r->sections only when kept.  False when there is nothing to salvage this way. */
struct record {
	uint8_t kind;
	uint64_t offset, len;
};

static size_t index_records(struct reader *r, struct record *recs, size_t cap)
{
	const uint8_t *base = r->snap->map;
	uint64_t size = r->snap->file_size, off;
	if (size < HS_FILE_HEADER_SIZE + HS_TRAILER_SIZE ||
	    memcmp(base + size - 8, HS_END_MAGIC, 8) != 0)
		return 0;
	off = le64(base + size - HS_TRAILER_SIZE);
	uint64_t room = size - HS_TRAILER_SIZE;
	if (off < HS_FILE_HEADER_SIZE || off > room - HS_SECTION_HEAD_SIZE - HS_SECTION_CRC_SIZE ||
	    base[off] != HS_SEC_INDEX)
		return 0;
	uint64_t len = le64(base + off + 1);
	if (len != room - off - HS_SECTION_HEAD_SIZE - HS_SECTION_CRC_SIZE ||
	    hs_crc32c(0, base + off, HS_SECTION_HEAD_SIZE + len) !=
	        le32(base + off + HS_SECTION_HEAD_SIZE + len))
		return 0;
	const uint8_t *p = base + off + HS_SECTION_HEAD_SIZE, *end = p + len;
	uint64_t n, v[2];
	size_t m = hs_varint_get(p, end, &n), k = 0;
	if (!m)
		return 0;
	for (p += m; k < n && k < cap; k++) {
		if (p >= end)
			return 0;
		recs[k].kind = *p++;
		for (int j = 0; j < 2; j++) {
			if (!(m = hs_varint_get(p, end, &v[j])))
				return 0;
			p += m;
		}
		recs[k].offset = v[0];
		recs[k].len = v[1];
	}
	return k == n ? k : 0;
}

/* The records from the file header on, stepping over a damaged one by its length. */
static size_t walked_records(struct reader *r, struct record *recs, size_t cap)
{
	const uint8_t *base = r->snap->map;
	uint64_t size = r->snap->file_size, off = HS_FILE_HEADER_SIZE;
	size_t k = 0;
	while (k < cap && size - off >= HS_SECTION_HEAD_SIZE + HS_SECTION_CRC_SIZE) {
		uint64_t len = le64(base + off + 1);
		if (len > size - off - HS_SECTION_HEAD_SIZE - HS_SECTION_CRC_SIZE)
			break;
		recs[k++] = (struct record){base[off], off,
		                            len + HS_SECTION_HEAD_SIZE + HS_SECTION_CRC_SIZE};
		if (base[off] == HS_SEC_INDEX)
			break;
		off += len + HS_SECTION_HEAD_SIZE + HS_SECTION_CRC_SIZE;
	}
	return k;
}

static bool kept_add(struct kept_runs *k, uint64_t first, uint64_t n, uint64_t new_first)
{
	if (k->count == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 16;
		uint64_t *a = realloc(k->first, cap * sizeof(*a)), *b, *c;
		if (a)
			k->first = a;
		b = a ? realloc(k->n, cap * sizeof(*b)) : NULL;
		if (b)
			k->n = b;
		c = b ? realloc(k->new_first, cap * sizeof(*c)) : NULL;
		if (!c)
			return false;
		k->new_first = c;
		k->cap = cap;
	}
	k->first[k->count] = first;
	k->n[k->count] = n;
	k->new_first[k->count++] = new_first;
	return true;
}

/* The run prefix (first, count) of a run section's payload at c, without checks beyond the
 * varints. */
static bool peek_run(const struct cursor *c, uint64_t *first, uint64_t *n)
{
	size_t m = hs_varint_get(c->p, c->end, first);
	return m && hs_varint_get(c->p + m, c->end, n);
}

/* The counting part of salvage_record, over the unpacked payload at c: a run that does not go
 * back, whose prefix is kept in s. */
static bool salvage_count(struct reader *r, struct section *s, struct cursor *c)
{
	uint64_t first = 0, n = 0;
	struct totals t = r->t;
	bool run = s->kind == HS_SEC_STRINGS || s->kind == HS_SEC_TYPES ||
	           s->kind == HS_SEC_OBJECTS || s->kind == HS_SEC_EDGES;
	if (run && !peek_run(c, &first, &n))
		return false;
	s->run_first = first;
	s->run_n = n;
	/* A run may start past the previous one (runs lost between them), never before it; the
	 * strings or types lost between them each took at least a byte of the file, so a gap wider
	 * than the file is damage too (their entries are allocated, as "<lost>"). */
	if (s->kind == HS_SEC_STRINGS || s->kind == HS_SEC_TYPES) {
		uint64_t *total = s->kind == HS_SEC_STRINGS ? &t.strings : &t.types;
		if (first < *total || first - *total > r->snap->file_size)
			return false;
		*total = first;
	}
	if (s->kind == HS_SEC_OBJECTS || s->kind == HS_SEC_EDGES) {
		if (first < r->kept.file_objects - n * (s->kind == HS_SEC_EDGES))
			return false;
		t.edges_runs_objects = first;
		t.objects = s->kind == HS_SEC_EDGES ? first + n : first;
	}
	if (!count_section(c, s->kind, &t))
		return false;
	if (s->kind == HS_SEC_OBJECTS || s->kind == HS_SEC_EDGES) {
		t.objects = r->t.objects;
		t.edges_runs_objects = r->t.edges_runs_objects;
	}
	r->t = t;
	return true;
}

/* Checks one record for the salvage and counts it into r->t: its CRC, and a run that does not
 * go back.  Returns false for a record to skip. */
static bool salvage_record(struct reader *r, const struct record *rec, struct section *ret)
{
	const uint8_t *base = r->snap->map;
	uint64_t size = r->snap->file_size;
	if (rec->offset < HS_FILE_HEADER_SIZE || rec->offset > size ||
	    rec->len < HS_SECTION_HEAD_SIZE + HS_SECTION_CRC_SIZE || rec->len > size - rec->offset)
		return false;
	const uint8_t *p = base + rec->offset;
	uint64_t len = le64(p + 1);
	if (p[0] != rec->kind || len != rec->len - HS_SECTION_HEAD_SIZE - HS_SECTION_CRC_SIZE ||
	    hs_crc32c(0, p, HS_SECTION_HEAD_SIZE + len) != le32(p + HS_SECTION_HEAD_SIZE + len))
		return false;
	*ret = (struct section){rec->kind & ~HS_PACKED,
	                        rec->offset,
	                        p + HS_SECTION_HEAD_SIZE,
	                        len,
	                        rec->kind & HS_PACKED,
	                        0,
	                        0};
	if (ret->kind == HS_SEC_HEADER || ret->kind == HS_SEC_INDEX)
		return !ret->packed && (ret->kind == HS_SEC_HEADER) == (r->nsections == 0);
	if (r->nsections == 0)
		return false;
	struct cursor c;
	uint8_t *owned;
	bool ok = open_payload(r->snap, ret, &c, &owned) && salvage_count(r, ret, &c);
	hs_error_destroy(c.err);
	free(owned);
	return ok;
}

/* Fills r->sections, r->t and r->kept with what a salvage past the damage keeps. */
static bool salvage_sections(struct reader *r)
{
	size_t cap = r->snap->file_size / (HS_SECTION_HEAD_SIZE + HS_SECTION_CRC_SIZE) + 1;
	struct record *recs = malloc(cap * sizeof(*recs));
	if (!recs)
		return false;
	size_t n = index_records(r, recs, cap);
	if (!n)
		n = walked_records(r, recs, cap);
	r->nsections = 0;
	r->t = (struct totals){0};
	struct section pending = {0}; /* the OBJECTS run waiting for its EDGES run */
	uint64_t pending_first = 0, pending_n = 0, kept_objects = 0;
	bool ok = true;
	for (size_t i = 0; i < n && ok; i++) {
		struct section s;
		uint64_t first, count;
		struct totals before = r->t;
		if (!salvage_record(r, &recs[i], &s)) {
			r->skipped++;
			continue;
		}
		if (s.kind == HS_SEC_INDEX)
			break;
		if (s.kind == HS_SEC_OBJECTS) {
			pending_first = s.run_first;
			pending_n = s.run_n;
			pending = s;
			r->kept.file_objects = pending_first + pending_n;
			continue;
		}
		if (s.kind == HS_SEC_EDGES) {
			first = s.run_first;
			count = s.run_n;
			if (!pending.payload || first != pending_first || count != pending_n) {
				r->t = before; /* its edges are not kept */
				continue;
			}
			ok = add_section(r, pending) == NULL &&
			     kept_add(&r->kept, first, count, kept_objects);
			kept_objects += count;
			pending.payload = NULL;
		}
		ok = ok && add_section(r, s) == NULL;
	}
	free(recs);
	r->t.objects = r->t.edges_runs_objects = kept_objects;
	r->damaged_at = r->nsections;
	return ok && r->nsections > 0 && r->sections[0].kind == HS_SEC_HEADER;
}

/* The OBJECTS and EDGES payloads are copied into the arrays by decode(), so their pages of the
 * mapping are dropped from memory (about 15 bytes per object at 3 edges each): MADV_DONTNEED on
 * a private read-only file mapping only discards clean pages, and a later read faults them back
 * in from the file.  The other sections stay: strings and values point into the mapping. */
static void drop_pages(const uint8_t *p, uint64_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t hi = ((uintptr_t)p + len) & ~(page - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static void drop_decoded_pages(const struct reader *r)
{
	for (size_t i = 0; i < r->nsections; i++) {
		const struct section *s = &r->sections[i];
		if (s->kind == HS_SEC_OBJECTS || s->kind == HS_SEC_EDGES)
			drop_pages(s->payload, s->len);
	}
}

static bool decode_header(struct cursor *c, struct hs_snapshot *snap, char **strs)
{
	struct hs_string s[3];
	uint64_t ptr, pid, time_ns, method;
	for (int i = 0; i < 3; i++)
		if (!get_bytes(c, &s[i], "HEADER string"))
			return false;
	if (!get_max(c, &ptr, 16, "pointer size") || !get_max(c, &pid, UINT32_MAX, "pid") ||
	    !get_varint(c, &time_ns, "time") || !get_max(c, &method, HS_METHOD_CONVERT, "method"))
		return false;
	/* Minor versions may append fields: anything after them is ignored. */
	for (int i = 0; i < 3; i++) {
		strs[i] = strndup(s[i].s, s[i].len);
		if (!strs[i]) {
			c->err = &hs_error_nomem;
			return false;
		}
	}
	snap->header = (struct hs_header){strs[0],
	                                  strs[1],
	                                  strs[2],
	                                  (uint32_t)ptr,
	                                  (uint32_t)pid,
	                                  time_ns,
	                                  (enum hs_method)method};
	return true;
}

static bool decode_strings(struct cursor *c, struct hs_snapshot *snap)
{
	uint64_t first, n;
	get_varint(c, &first, "STRINGS first");
	get_varint(c, &n, "STRINGS count");
	for (uint64_t i = 0; i < n; i++)
		if (!get_bytes(c, &snap->strings[first + i], "string"))
			return false;
	return at_end(c, "STRINGS");
}

/* Names that the analyses and the writer use as C strings (type names and modules, root kinds
 * and names) must hold no NUL byte. */
static bool c_string(struct cursor *c, const struct hs_snapshot *snap, uint64_t id,
                     const char *what)
{
	const struct hs_string *s = &snap->strings[id];
	if (s->len && memchr(s->s, '\0', s->len))
		return bad(c, "%s (string %llu) holds a NUL byte", what, (unsigned long long)id);
	return true;
}

static bool decode_types(struct cursor *c, struct hs_snapshot *snap, uint64_t nobjects)
{
	uint64_t first, n, name, module, dsize, tobj, flags;
	get_varint(c, &first, "TYPES first");
	get_varint(c, &n, "TYPES count");
	for (uint64_t i = 0; i < n; i++) {
		if (!get_max(c, &name, snap->nstrings ? snap->nstrings - 1 : 0,
		             "type name string id") ||
		    !get_max(c, &module, snap->nstrings ? snap->nstrings - 1 : 0,
		             "type module string id") ||
		    !get_max(c, &dsize, HS_MAX_TOTAL_SIZE, "type default size") ||
		    !get_max(c, &tobj, nobjects, "type object index+1") ||
		    !get_max(c, &flags, UINT32_MAX, "type flags"))
			return false;
		if (!snap->nstrings)
			return bad(c, "type refers to a string but there are none");
		if (!c_string(c, snap, name, "type name") ||
		    !c_string(c, snap, module, "type module"))
			return false;
		snap->types[first + i] = (struct hs_type){(uint32_t)name, (uint32_t)module, dsize,
		                                          tobj, (uint32_t)flags};
	}
	return at_end(c, "TYPES");
}

static bool decode_meta(struct cursor *c, struct hs_snapshot *snap)
{
	uint64_t n;
	get_varint(c, &n, "META count");
	for (uint64_t i = 0; i < n; i++, snap->nmeta++)
		if (!get_bytes(c, &snap->meta[2 * snap->nmeta], "meta key") ||
		    !get_bytes(c, &snap->meta[2 * snap->nmeta + 1], "meta value"))
			return false;
	return at_end(c, "META");
}

static bool grow_sites(struct hs_snapshot *snap)
{
	if (snap->sites_cap > UINT32_MAX / 4)
		return false; /* 2 * cap slots must fit the index type */
	uint32_t cap = snap->sites_cap ? 2 * snap->sites_cap : 64;
	struct hs_site *sites = realloc(snap->sites, cap * sizeof(*sites));
	uint32_t *slots = calloc(2 * (size_t)cap, sizeof(*slots));
	if (sites)
		snap->sites = sites;
	if (!sites || !slots) {
		free(slots);
		return false;
	}
	free(snap->site_slots);
	snap->site_slots = slots;
	snap->sites_cap = cap;
	snap->site_mask = 2 * cap - 1;
	for (uint32_t j = 0; j < snap->nsites; j++) {
		uint64_t h =
		    (snap->sites[j].file * UINT64_C(0x9E3779B97F4A7C15)) ^ snap->sites[j].line;
		size_t at = (size_t)(h * UINT64_C(0x9E3779B97F4A7C15) >> 32) & snap->site_mask;
		while (slots[at])
			at = (at + 1) & snap->site_mask;
		slots[at] = j + 1;
	}
	return true;
}

/* The index + 1 in snap->sites of (file, line), added when new; 0 when out of memory. */
static uint32_t intern_site(struct hs_snapshot *snap, uint32_t file, uint32_t line)
{
	if (snap->nsites == snap->sites_cap && !grow_sites(snap))
		return 0;
	uint64_t h = (file * UINT64_C(0x9E3779B97F4A7C15)) ^ line;
	size_t at = (size_t)(h * UINT64_C(0x9E3779B97F4A7C15) >> 32) & snap->site_mask;
	for (uint32_t j; (j = snap->site_slots[at]); at = (at + 1) & snap->site_mask)
		if (snap->sites[j - 1].file == file && snap->sites[j - 1].line == line)
			return j;
	snap->sites[snap->nsites] = (struct hs_site){file, line};
	return snap->site_slots[at] = ++snap->nsites;
}

/* The site tail after the memory tail (FORMAT.md §4.5): where each object was allocated, when
 * the writer gave it.  A run without one leaves its objects' site at 0. */
static bool decode_sites(struct cursor *c, struct hs_snapshot *snap, uint64_t k, uint64_t n)
{
	if (c->p == c->end)
		return true;
	snap->has_sites = true;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t file, line = 0;
		if (!get_max(c, &file, snap->nstrings, "object site file") ||
		    (file && !get_max(c, &line, UINT32_MAX, "object site line")))
			return false;
		snap->site[k + i] =
		    file ? intern_site(snap, (uint32_t)file - 1, (uint32_t)line) : 0;
		if (file && !snap->site[k + i]) {
			c->err = &hs_error_nomem;
			return false;
		}
	}
	return true;
}

/* The OBJECTS run's tail (minor version 1): each object's memory less its size, when the
 * writer gave it.  A run without one leaves its objects' memory_delta at 0. */
static bool decode_memory(struct cursor *c, struct hs_snapshot *snap, uint64_t k, uint64_t n)
{
	if (c->p == c->end)
		return true;
	snap->has_memory = true;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t z;
		if (!get_max(c, &z, UINT32_MAX, "object memory less its size"))
			return false;
		int64_t delta = hs_unzigzag(z);
		if ((int64_t)snap->size[k + i] + delta < 0)
			return bad(c, "object %llu: memory %lld less than nothing",
			           (unsigned long long)(k + i), (long long)delta);
		snap->memory_delta[k + i] = (int32_t)delta;
	}
	return decode_sites(c, snap, k, n);
}

static bool decode_objects(struct cursor *c, struct hs_snapshot *snap)
{
	uint64_t first, n, addr, delta, typeword, size, refcnt;
	get_varint(c, &first, "OBJECTS first");
	get_varint(c, &n, "OBJECTS count");
	if (!get_varint(c, &addr, "OBJECTS first address"))
		return false;
	if (first > c->base && addr <= snap->addr[first - 1 - c->base])
		return bad(c, "OBJECTS run starts at 0x%llx, not above the previous object",
		           (unsigned long long)addr);
	/* In a salvage, objects past the last whole EDGES run are dropped. */
	for (uint64_t i = first; i < first + n && i - c->base < snap->nobjects; i++) {
		uint8_t fb = 0;
		if (!get_varint(c, &delta, "object address delta"))
			return false;
		if ((i == first) != (delta == 0))
			return bad(c, "object %llu: address delta %llu (objects must be sorted)",
			           (unsigned long long)i, (unsigned long long)delta);
		if (addr + delta < addr)
			return bad(c, "object %llu: address overflows", (unsigned long long)i);
		addr += delta;
		if (!get_max(c, &typeword, ((uint64_t)snap->ntypes << 1) - (snap->ntypes > 0),
		             "object type id") ||
		    (typeword & 1 && !get_varint(c, &size, "object size")) ||
		    !get_varint(c, &refcnt, "object refcount") || !get_byte(c, &fb, "object flags"))
			return false;
		if (!snap->ntypes)
			return bad(c, "object %llu has a type but there are none",
			           (unsigned long long)i);
		uint32_t type = (uint32_t)(typeword >> 1);
		unsigned gen = fb >> HS_GEN_SHIFT;
		if (gen > HS_GEN_PERMANENT && gen != HS_GEN_CODE_NONE) {
			c->p--;
			return bad(c, "object %llu: generation code %u", (unsigned long long)i,
			           gen);
		}
		uint64_t k = i - c->base;
		snap->addr[k] = addr;
		snap->type[k] = type;
		snap->size[k] = typeword & 1 ? size : snap->types[type].default_size;
		if (snap->size[k] > HS_MAX_TOTAL_SIZE - snap->total_size)
			return bad(c,
			           "object %llu: size %llu makes the heap larger than 2^56 bytes "
			           "(the sizes are wrong)",
			           (unsigned long long)i, (unsigned long long)snap->size[k]);
		snap->total_size += snap->size[k];
		snap->refcnt[k] = refcnt;
		snap->flags[k] = fb & HS_OBJ_FLAG_MASK;
		snap->generation[k] = gen == HS_GEN_CODE_NONE ? HS_GEN_NONE : (uint8_t)gen;
	}
	if (first + n - c->base > snap->nobjects)
		return true; /* a salvage's last run: objects past its EDGES are dropped */
	return decode_memory(c, snap, first - c->base, n) && at_end(c, "OBJECTS");
}

/* Decodes an EDGES run.  Edges to objects that did not survive a salvage are dropped and counted
 * in *dropped; in a complete file they are errors. */
static bool decode_edges(struct cursor *c, struct hs_snapshot *snap, uint64_t *next_edge,
                         bool salvage, uint64_t *dropped)
{
	uint64_t first, n, count, e = *next_edge;
	get_varint(c, &first, "EDGES first");
	get_varint(c, &n, "EDGES count");
	get_varint(c, &count, "EDGES edge count");
	uint64_t run_end = e + count;
	for (uint64_t src = first; src < first + n; src++) {
		uint64_t k, head, prev = src;
		snap->edge_start[src - c->base] = e;
		if (!get_varint(c, &k, "edge count"))
			return false;
		if (k > run_end - e)
			return bad(c, "object %llu: %llu edges, more than its run declares",
			           (unsigned long long)src, (unsigned long long)k);
		for (uint64_t j = 0; j < k; j++) {
			uint8_t kind = HS_EDGE_TRAVERSE, form = HS_LABEL_NONE;
			uint64_t label = 0, lv;
			if (!get_varint(c, &head, "edge"))
				return false;
			uint64_t dst = prev + (uint64_t)hs_unzigzag(head >> HS_EDGE_HEAD_BITS);
			unsigned lbits = head & 3;
			if (lbits == 3)
				return bad(c, "object %llu edge %llu: label bits 3",
				           (unsigned long long)src, (unsigned long long)j);
			if (head & HS_EDGE_KIND_FOLLOWS) {
				if (!get_byte(c, &kind, "edge kind"))
					return false;
				if (kind != HS_EDGE_OWNED && kind != HS_EDGE_CONSERVATIVE) {
					c->p--;
					return bad(c, "edge kind %u", kind);
				}
			}
			if (lbits == HS_EDGE_LABEL_ORDINAL) {
				form = HS_LABEL_ORDINAL;
			} else if (lbits == HS_EDGE_LABEL_EXPLICIT) {
				if (!get_varint(c, &lv, "edge label"))
					return false;
				form = lv & 7;
				label = lv >> 3;
				uint64_t max = form == HS_LABEL_INDEX    ? UINT32_MAX
				               : form == HS_LABEL_STRING ? snap->nstrings
				               : c->kept                 ? c->kept->file_objects
				                                         : snap->nobjects;
				if (c->kept && form >= HS_LABEL_KEY && form <= HS_LABEL_ATTR &&
				    label < max)
					label = kept_index(c->kept, label); /* lost: UINT64_MAX */
				if (salvage && form >= HS_LABEL_KEY && form <= HS_LABEL_ATTR &&
				    label >= max)
					form = HS_LABEL_NONE, label = 0; /* its key was lost */
				else if (form < HS_LABEL_INDEX || form > HS_LABEL_ATTR ||
				         label >= max + (form == HS_LABEL_INDEX))
					return bad(c, "object %llu edge %llu: bad label %u/%llu",
					           (unsigned long long)src, (unsigned long long)j,
					           form, (unsigned long long)label);
			}
			prev = dst;
			if (c->kept)
				dst = kept_index(c->kept, dst);
			if (dst >= snap->nobjects) {
				if (!salvage)
					return bad(c, "object %llu edge %llu: no object %lld",
					           (unsigned long long)src, (unsigned long long)j,
					           (long long)dst);
				(*dropped)++;
				continue;
			}
			snap->edge_dst[e - c->ebase] = (uint32_t)dst;
			snap->edge_kind[e - c->ebase] = kind;
			snap->edge_form[e - c->ebase] = form;
			snap->edge_label[e - c->ebase] = (uint32_t)label;
			e++;
		}
	}
	if (!at_end(c, "EDGES"))
		return false;
	if (!salvage && e != run_end)
		return bad(c, "EDGES run declares %llu edges, holds %llu",
		           (unsigned long long)count, (unsigned long long)(e - *next_edge));
	snap->edge_start[first + n - c->base] = e;
	*next_edge = e;
	return true;
}

static bool decode_values(struct cursor *c, struct hs_snapshot *snap)
{
	uint64_t first, n, delta;
	get_varint(c, &first, "VALUES first");
	get_varint(c, &n, "VALUES count");
	uint64_t obj = first;
	for (uint64_t i = 0; i < n; i++) {
		if (!get_varint(c, &delta, "value object delta"))
			return false;
		uint64_t nobj = c->kept ? c->kept->file_objects : snap->nobjects;
		if ((i > 0 && delta == 0) || delta >= nobj - obj)
			return bad(c, "value for object %llu+%llu: no such object or out of order",
			           (unsigned long long)obj, (unsigned long long)delta);
		obj += delta;
		uint64_t k = c->kept ? kept_index(c->kept, obj) : obj;
		struct hs_string *v = &snap->values[snap->nvalues];
		if (!get_bytes(c, v, "value"))
			return false;
		if (k == UINT64_MAX)
			continue; /* its object was lost in a salvage */
		if (snap->value[k])
			return bad(c, "a second value for object %llu", (unsigned long long)obj);
		snap->value[k] = (uint32_t)++snap->nvalues;
	}
	return at_end(c, "VALUES");
}

static bool decode_weak(struct cursor *c, struct hs_snapshot *snap, bool salvage, uint64_t *dropped)
{
	uint64_t n, d, target, cb;
	get_varint(c, &n, "WEAK count");
	uint64_t ref = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (!get_varint(c, &d, "weak ref") || !get_varint(c, &target, "weak referent") ||
		    !get_varint(c, &cb, "weak callback"))
			return false;
		ref += (uint64_t)hs_unzigzag(d);
		if (c->kept) {
			uint64_t kr = kept_index(c->kept, ref);
			uint64_t kt = target ? kept_index(c->kept, target - 1) : 0;
			uint64_t kc = cb ? kept_index(c->kept, cb - 1) : 0;
			target = target ? kt + 1 : 0;
			cb = cb ? kc + 1 : 0;
			if (kr == UINT64_MAX || kt == UINT64_MAX || kc == UINT64_MAX) {
				(*dropped)++;
				continue;
			}
			snap->weak[snap->nweak++] = (struct hs_weak){kr, target, cb};
			continue;
		}
		if (ref >= snap->nobjects || target > snap->nobjects || cb > snap->nobjects) {
			if (!salvage)
				return bad(c, "weak link %llu names a missing object",
				           (unsigned long long)i);
			(*dropped)++;
			continue;
		}
		snap->weak[snap->nweak++] = (struct hs_weak){ref, target, cb};
	}
	return at_end(c, "WEAK");
}

static bool decode_roots(struct cursor *c, struct hs_snapshot *snap, bool salvage,
                         uint64_t *dropped)
{
	uint64_t n, obj, kind, name;
	get_varint(c, &n, "ROOTS count");
	for (uint64_t i = 0; i < n; i++) {
		if (!get_varint(c, &obj, "root object") ||
		    !get_max(c, &kind, snap->nstrings ? snap->nstrings - 1 : 0, "root kind") ||
		    !get_max(c, &name, snap->nstrings ? snap->nstrings - 1 : 0, "root name"))
			return false;
		if (!snap->nstrings)
			return bad(c, "root names a string but there are none");
		if (!c_string(c, snap, kind, "root kind") || !c_string(c, snap, name, "root name"))
			return false;
		if (c->kept)
			obj = kept_index(c->kept, obj);
		if (obj >= snap->nobjects) {
			if (!salvage)
				return bad(c, "root %llu names missing object %llu",
				           (unsigned long long)i, (unsigned long long)obj);
			(*dropped)++;
			continue;
		}
		snap->roots[snap->nroots++] = (struct hs_root){obj, (uint32_t)kind, (uint32_t)name};
	}
	return at_end(c, "ROOTS");
}

/* Asks for transparent huge pages over the whole huge pages of a fresh allocation [p, p + bytes),
 * before anything touches it: decoding then takes one page fault per 2 MiB instead of one per
 * 4 KiB (on a virtual machine, faults cost a large share of the decoding), and the analyses'
 * random reads of the edge arrays miss the TLB less.  Advice only; failure changes nothing. */
static void advise_huge(void *p, size_t bytes)
{
	const uintptr_t huge = 2 << 20;
	uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
	uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

#define ALLOC(field, n)                                                                            \
	do {                                                                                       \
		uint64_t count_ = (n);                                                             \
		snap->field = calloc(count_ ? count_ : 1, sizeof(*snap->field));                   \
		if (!snap->field)                                                                  \
			return &hs_error_nomem;                                                    \
		advise_huge(snap->field, count_ * sizeof(*snap->field));                           \
	} while (0)

/* Allocates the arrays at their final size; in a stream, the per-object and per-edge arrays at
 * size 1 (hs_snapshot_stream grows them to a run's size). */
static struct hs_error *allocate(struct hs_snapshot *snap, const struct totals *t,
                                 uint64_t nobjects, bool stream)
{
	snap->nstrings = (uint32_t)t->strings;
	snap->ntypes = (uint32_t)t->types;
	snap->nobjects = nobjects;
	uint64_t n = stream ? 0 : nobjects, ne = stream ? 0 : t->edges;
	ALLOC(strings, t->strings);
	ALLOC(types, t->types);
	ALLOC(meta, 2 * t->meta);
	ALLOC(addr, n);
	ALLOC(type, n);
	ALLOC(size, n);
	ALLOC(refcnt, n);
	ALLOC(flags, n);
	ALLOC(generation, n);
	ALLOC(value, n);
	ALLOC(memory_delta, n);
	ALLOC(site, n);
	ALLOC(edge_start, n + 1);
	ALLOC(edge_dst, ne);
	ALLOC(edge_kind, ne);
	ALLOC(edge_form, ne);
	ALLOC(edge_label, ne);
	ALLOC(values, stream ? 0 : t->values);
	ALLOC(weak, t->weak);
	ALLOC(roots, t->roots);
	return NULL;
}

/* Keeps buf (an unpacked payload that the snapshot's strings point into) until the snapshot is
 * destroyed; frees it and returns false when out of memory. */
static bool keep_buffer(struct hs_snapshot *snap, uint8_t *buf)
{
	void **kept = realloc(snap->buffers, (snap->nbuffers + 1) * sizeof(*kept));
	if (!kept) {
		free(buf);
		return false;
	}
	snap->buffers = kept;
	snap->buffers[snap->nbuffers++] = buf;
	return true;
}

/* Pass 2: decodes sections [0, r->damaged_at). */
/* What pass 2 carries from section to section. */
struct pass2 {
	struct hs_snapshot *snap;
	const struct kept_runs *kept; /* a salvage past damage: the object runs kept */
	char **header_strs;
	uint64_t nobjects; /* the objects kept */
	uint64_t next_edge, dropped_edges, dropped_links;
	bool salvage;
};

/* Decodes section s at c (its payload); false with c->err set. */
static bool decode_section(struct pass2 *d, const struct section *s, struct cursor *c)
{
	struct hs_snapshot *snap = d->snap;
	if (s->kind == HS_SEC_OBJECTS || s->kind == HS_SEC_EDGES || s->kind == HS_SEC_VALUES) {
		/* Peek at the run's first index to skip runs lost in a salvage. */
		uint64_t first = 0;
		hs_varint_get(c->p, c->end, &first);
		uint64_t k = d->kept ? kept_index(d->kept, first) : first;
		if (s->kind == HS_SEC_VALUES ? !d->kept && first >= d->nobjects : k >= d->nobjects)
			return true;
		if (s->kind != HS_SEC_VALUES)
			c->base = first - k;
	}
	switch (s->kind) {
	case HS_SEC_HEADER:
		return decode_header(c, snap, d->header_strs);
	case HS_SEC_STRINGS:
		return decode_strings(c, snap);
	case HS_SEC_TYPES:
		/* A salvage drops type objects it did not read (decode). */
		return decode_types(c, snap, d->salvage ? UINT64_MAX - 1 : d->nobjects);
	case HS_SEC_META:
		return decode_meta(c, snap);
	case HS_SEC_OBJECTS:
		return decode_objects(c, snap);
	case HS_SEC_EDGES:
		return decode_edges(c, snap, &d->next_edge, d->salvage, &d->dropped_edges);
	case HS_SEC_VALUES:
		return decode_values(c, snap);
	case HS_SEC_WEAK:
		return decode_weak(c, snap, d->salvage, &d->dropped_links);
	case HS_SEC_ROOTS:
		return decode_roots(c, snap, d->salvage, &d->dropped_links);
	}
	return true;
}

/* Opens section s's payload and decodes it.  Strings, meta and value previews point into the
 * payload: an unpacked one stays with the snapshot, any other is freed. */
static struct hs_error *decode_payload(struct pass2 *d, const struct section *s)
{
	struct cursor c;
	uint8_t *owned;
	if (!open_payload(d->snap, s, &c, &owned))
		return c.err;
	c.kept = d->kept;
	bool ok = decode_section(d, s, &c);
	bool points =
	    s->kind == HS_SEC_STRINGS || s->kind == HS_SEC_META || s->kind == HS_SEC_VALUES;
	if (!(ok && owned && points))
		free(owned);
	else if (!keep_buffer(d->snap, owned))
		return &hs_error_nomem;
	return ok ? NULL : c.err;
}

/* Pass 2 for the sections of one kind, in file order: the first error. */
static struct hs_error *decode_kind(const struct reader *r, struct pass2 *d, uint8_t kind)
{
	for (size_t i = 0; i < r->damaged_at; i++) {
		if (r->sections[i].kind != kind)
			continue;
		struct hs_error *err = decode_payload(d, &r->sections[i]);
		if (err)
			return err;
	}
	return NULL;
}

/* The EDGES runs, decoded in a second thread while this one decodes the OBJECTS runs. */
struct edges_job {
	const struct reader *r;
	struct pass2 *d;
	struct hs_error *err;
};

static void *decode_edges_job(void *arg)
{
	struct edges_job *job = arg;
	job->err = decode_kind(job->r, job->d, HS_SEC_EDGES);
	return NULL;
}

/* The OBJECTS runs, then the EDGES runs, as far as errors go: the two read nothing of each other
 * (edges are checked against the counts, not the objects) and write disjoint arrays and fields
 * of d, so the EDGES runs are decoded in a second thread meanwhile (where none can be started,
 * after them); an error in the OBJECTS runs comes first, as it would in file order. */
static struct hs_error *decode_runs(const struct reader *r, struct pass2 *d)
{
	struct edges_job job = {r, d, NULL};
	pthread_t thread;
	bool threaded = pthread_create(&thread, NULL, decode_edges_job, &job) == 0;
	struct hs_error *err = decode_kind(r, d, HS_SEC_OBJECTS);
	if (threaded)
		pthread_join(thread, NULL);
	else if (!err)
		decode_edges_job(&job);
	if (!err)
		return job.err;
	hs_error_destroy(job.err);
	return err;
}

static struct hs_error *decode(struct reader *r, bool salvage, char **header_strs)
{
	struct hs_snapshot *snap = r->snap;
	/* Objects survive up to the end of the last EDGES run read. */
	uint64_t nobjects = r->t.objects;
	if (salvage)
		nobjects = r->t.edges_runs_objects;
	if (r->renumber)
		r->t.strings++; /* one more string: "<lost>", the name of what was lost */
	else if (r->t.edges_runs_objects != r->t.objects)
		return hs_error_create(HS_ERROR_FORMAT, "%s: objects %llu.. have no EDGES run",
		                       snap->path, (unsigned long long)r->t.edges_runs_objects);
	struct hs_error *err = allocate(snap, &r->t, nobjects, r->stream);
	if (err)
		return err;
	const struct kept_runs *kept = r->renumber ? &r->kept : NULL;
	if (kept) {
		for (uint32_t t = 0; t < snap->ntypes; t++)
			snap->types[t].name = UINT32_MAX; /* until a TYPES run says */
		snap->strings[snap->nstrings - 1] = (struct hs_string){"<lost>", 6};
	}
	/* Types, strings and objects first: edges, values and links are checked against them. */
	static const uint8_t order[] = {HS_SEC_HEADER, HS_SEC_STRINGS, HS_SEC_TYPES,
	                                HS_SEC_META,   HS_SEC_OBJECTS, HS_SEC_EDGES,
	                                HS_SEC_VALUES, HS_SEC_WEAK,    HS_SEC_ROOTS};
	struct pass2 d = {snap, kept, header_strs, nobjects, 0, 0, 0, salvage};
	for (size_t o = 0; o < sizeof(order); o++) {
		if (r->stream && (order[o] == HS_SEC_OBJECTS || order[o] == HS_SEC_EDGES ||
		                  order[o] == HS_SEC_VALUES))
			continue;
		if (order[o] == HS_SEC_OBJECTS)
			err = decode_runs(r, &d);
		else if (order[o] != HS_SEC_EDGES)
			err = decode_kind(r, &d, order[o]);
		if (err)
			return err;
	}
	uint64_t next_edge = d.next_edge;
	snap->nedges = r->stream ? r->t.edges : next_edge;
	for (uint32_t t = 0; t < snap->ntypes; t++) {
		struct hs_type *ty = &snap->types[t];
		if (kept && ty->type_object)
			ty->type_object = kept_index(kept, ty->type_object - 1) + 1; /* lost: 0 */
		if (ty->type_object > nobjects)
			ty->type_object = 0; /* its object was lost in a salvage */
		if (ty->name == UINT32_MAX)  /* its TYPES run was lost */
			*ty = (struct hs_type){snap->nstrings - 1, snap->nstrings - 1, 0, 0, 0};
	}
	for (uint32_t i = 0; kept && i < snap->nstrings; i++)
		if (!snap->strings[i].s) /* its STRINGS run was lost */
			snap->strings[i] = snap->strings[snap->nstrings - 1];
	if (r->damage) {
		if (asprintf(&snap->salvage_warning,
		             "%s; salvaged %llu of %llu objects, %llu edges (%llu dropped), %llu "
		             "weak links and roots dropped, %llu damaged sections skipped",
		             r->damage, (unsigned long long)nobjects,
		             (unsigned long long)(kept ? kept->file_objects : r->t.objects),
		             (unsigned long long)next_edge, (unsigned long long)d.dropped_edges,
		             (unsigned long long)d.dropped_links,
		             (unsigned long long)r->skipped) < 0)
			return &hs_error_nomem;
	}
	return NULL;
}

/* hs_snapshot_open, or with stream the start of hs_snapshot_stream (no salvage then).  With
 * damage (the first damage's message), a salvage past it (salvage_sections). */
static struct hs_error *open_snapshot(const char *path, bool allow_salvage, bool stream,
                                      const char *damage, struct hs_snapshot **ret)
{
	struct hs_snapshot *snap = calloc(1, sizeof(*snap));
	if (!snap)
		return &hs_error_nomem;
	struct hs_error *err = NULL;
	char *header_strs[3] = {NULL, NULL, NULL};
	struct reader r = {.snap = snap, .stream = stream};
	snap->path = strdup(path);
	if (!snap->path) {
		err = &hs_error_nomem;
		goto out;
	}
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a FIFO must not block */
	if (fd < 0) {
		err = hs_error_errno(errno, path, "open");
		goto out;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = fstat(fd, &st) < 0
		          ? hs_error_errno(errno, path, "stat")
		          : hs_error_create(HS_ERROR_IO, "%s: not a regular file", path);
		close(fd);
		goto out;
	}
	snap->file_size = (uint64_t)st.st_size;
	if (st.st_size == 0) {
		close(fd);
		err = hs_error_create(HS_ERROR_FORMAT, "%s: offset 0: the file is empty", path);
		goto out;
	}
	snap->map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (snap->map == MAP_FAILED) {
		snap->map = NULL;
		err = hs_error_errno(errno, path, "mmap");
		goto out;
	}
	snap->map_len = (size_t)st.st_size;

	if (damage) {
		r.renumber = true;
		r.damage = strdup(damage);
		err = !r.damage ? &hs_error_nomem
		      : salvage_sections(&r)
		          ? decode(&r, true, header_strs)
		          : hs_error_create(HS_ERROR_FORMAT, "%s: nothing to salvage", path);
		goto out;
	}
	struct cursor c = {snap, NULL, NULL, NULL, 0, 0, NULL, 0};
	bool complete = walk_sections(&r, &c);
	r.damaged_at = r.nsections;
	if (!complete) {
		/* The error names the first damage.  Without salvage, or with nothing to salvage
		 * (no HEADER), that is the answer. */
		if (!allow_salvage || r.nsections == 0) {
			err = c.err;
			goto out;
		}
		r.damage = c.err == &hs_error_nomem ? strdup("out of memory") : c.err->message;
		if (c.err != &hs_error_nomem) {
			c.err->message = NULL;
			hs_error_destroy(c.err);
		}
		if (!r.damage) {
			err = &hs_error_nomem;
			goto out;
		}
		/* Past the damage when every section kept decodes; else the sections before it. */
		struct hs_snapshot *past;
		err = open_snapshot(path, true, false, r.damage, &past);
		if (!err) {
			hs_snapshot_destroy(snap);
			free(r.sections);
			free(r.damage);
			*ret = past;
			return NULL;
		}
		hs_error_destroy(err);
	}
	err = decode(&r, !complete, header_strs);
	if (!err && !stream)
		drop_decoded_pages(&r);
out:
	snap->header.producer = header_strs[0];
	snap->header.runtime = header_strs[1];
	snap->header.runtime_version = header_strs[2];
	free(r.sections);
	free(r.damage);
	free(r.kept.first);
	free(r.kept.n);
	free(r.kept.new_first);
	if (err) {
		hs_snapshot_destroy(snap);
		return err;
	}
	*ret = snap;
	return NULL;
}

struct hs_error *hs_snapshot_open(const char *path, bool allow_salvage, struct hs_snapshot **ret)
{
	return open_snapshot(path, allow_salvage, false, NULL, ret);
}

/* Grows a run array to n entries (kept between runs: runs have about the same size). */
#define GROW(field, n)                                                                             \
	do {                                                                                       \
		void *p_ = realloc(snap->field, ((n) ? (n) : 1) * sizeof(*snap->field));           \
		if (!p_)                                                                           \
			return &hs_error_nomem;                                                    \
		snap->field = p_;                                                                  \
	} while (0)

static struct hs_error *grow_run(struct hs_snapshot *snap, uint64_t n, uint64_t nedges)
{
	GROW(addr, n);
	GROW(type, n);
	GROW(size, n);
	GROW(refcnt, n);
	GROW(flags, n);
	GROW(generation, n);
	GROW(value, n);
	GROW(memory_delta, n);
	GROW(site, n);
	GROW(edge_start, n + 1);
	GROW(edge_dst, nedges);
	GROW(edge_kind, nedges);
	GROW(edge_form, nedges);
	GROW(edge_label, nedges);
	memset(snap->value, 0, n * sizeof(*snap->value));
	memset(snap->memory_delta, 0, n * sizeof(*snap->memory_delta));
	memset(snap->site, 0, n * sizeof(*snap->site));
	return NULL;
}

/* One run of hs_snapshot_stream: its OBJECTS and EDGES sections decoded into the run arrays
 * (grown to *cap objects and *ecap edges as needed), then fn. */
static struct hs_error *stream_run(struct hs_snapshot *snap, const struct section *objects,
                                   const struct section *edges, uint64_t *next_edge,
                                   uint64_t *last_addr, uint64_t *cap, uint64_t *ecap,
                                   hs_run_fn *fn, void *arg)
{
	struct cursor oc, ec;
	uint8_t *oowned = NULL, *eowned;
	if (!open_payload(snap, edges, &ec, &eowned))
		return ec.err;
	struct hs_run run;
	uint64_t count, ofirst = UINT64_MAX;
	const uint8_t *q = ec.p;
	q += hs_varint_get(q, ec.end, &run.first);
	q += hs_varint_get(q, ec.end, &run.n);
	hs_varint_get(q, ec.end, &count);
	if (objects->payload && !open_payload(snap, objects, &oc, &oowned)) {
		free(eowned);
		return oc.err;
	}
	if (objects->payload)
		hs_varint_get(oc.p, oc.end, &ofirst);
	struct hs_error *err = NULL;
	if (ofirst != run.first)
		err = hs_error_create(HS_ERROR_FORMAT,
		                      "%s: offset %llu: EDGES run of objects %llu.. follows no "
		                      "OBJECTS run of them",
		                      snap->path, (unsigned long long)edges->offset,
		                      (unsigned long long)run.first);
	if (!err && (run.n > *cap || count > *ecap)) {
		*cap = run.n > *cap ? run.n : *cap;
		*ecap = count > *ecap ? count : *ecap;
		err = grow_run(snap, *cap, *ecap);
	} else if (!err) {
		memset(snap->value, 0, run.n * sizeof(*snap->value));
		memset(snap->memory_delta, 0, run.n * sizeof(*snap->memory_delta));
		memset(snap->site, 0, run.n * sizeof(*snap->site));
	}
	run.first_edge = *next_edge;
	oc.base = ec.base = run.first;
	oc.ebase = ec.ebase = *next_edge;
	if (!err && !decode_objects(&oc, snap))
		err = oc.err;
	if (!err && run.n && run.first && snap->addr[0] <= *last_addr)
		err = hs_error_create(HS_ERROR_FORMAT,
		                      "%s: offset %llu: OBJECTS run starts at 0x%llx, not above "
		                      "the previous object",
		                      snap->path, (unsigned long long)objects->offset,
		                      (unsigned long long)snap->addr[0]);
	if (!err && !decode_edges(&ec, snap, next_edge, false, NULL))
		err = ec.err;
	free(oowned);
	free(eowned);
	if (err)
		return err;
	if (run.n)
		*last_addr = snap->addr[run.n - 1];
	drop_pages(objects->payload, objects->len);
	drop_pages(edges->payload, edges->len);
	return fn(arg, snap, &run);
}

/* The run loop of hs_snapshot_stream: the sections were checked by open_snapshot (lengths,
 * CRCs, run prefixes, unpacking), so it steps from record to record. */
static struct hs_error *stream_runs(struct hs_snapshot *snap, hs_run_fn *fn, void *arg)
{
	const uint8_t *base = snap->map, *p = base + HS_FILE_HEADER_SIZE;
	struct section objects = {0};
	uint64_t next_edge = 0, last_addr = 0, cap = 0, ecap = 0;
	for (;;) {
		struct section s = {p[0] & ~HS_PACKED,
		                    (uint64_t)(p - base),
		                    p + HS_SECTION_HEAD_SIZE,
		                    le64(p + 1),
		                    p[0] & HS_PACKED,
		                    0,
		                    0};
		if (s.kind == HS_SEC_INDEX)
			return NULL;
		p = s.payload + s.len + HS_SECTION_CRC_SIZE;
		if (s.kind == HS_SEC_OBJECTS) {
			objects = s;
			continue;
		}
		if (s.kind != HS_SEC_EDGES)
			continue;
		struct hs_error *err =
		    stream_run(snap, &objects, &s, &next_edge, &last_addr, &cap, &ecap, fn, arg);
		if (err)
			return err;
		objects = (struct section){0};
	}
}

struct hs_error *hs_snapshot_stream(const char *path, hs_run_fn *fn, void *arg)
{
	struct hs_snapshot *snap;
	struct hs_error *err = open_snapshot(path, false, true, NULL, &snap);
	if (err)
		return err;
	/* nedges is the total; the run loop counts edges itself. */
	err = stream_runs(snap, fn, arg);
	hs_snapshot_destroy(snap);
	return err;
}

void hs_snapshot_destroy(struct hs_snapshot *snap)
{
	if (!snap)
		return;
	free((char *)snap->header.producer);
	free((char *)snap->header.runtime);
	free((char *)snap->header.runtime_version);
	void *arrays[] = {snap->strings,
	                  snap->types,
	                  snap->meta,
	                  snap->addr,
	                  snap->type,
	                  snap->size,
	                  snap->refcnt,
	                  snap->flags,
	                  snap->generation,
	                  snap->value,
	                  snap->memory_delta,
	                  snap->site,
	                  snap->sites,
	                  snap->site_slots,
	                  snap->edge_start,
	                  snap->edge_dst,
	                  snap->edge_kind,
	                  snap->edge_form,
	                  snap->edge_label,
	                  snap->values,
	                  snap->weak,
	                  snap->roots,
	                  snap->salvage_warning,
	                  snap->path};
	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		free(arrays[i]);
	for (size_t i = 0; i < snap->nbuffers; i++)
		free(snap->buffers[i]);
	free(snap->buffers);
	if (snap->map)
		munmap(snap->map, snap->map_len);
	free(snap);
}

int64_t hs_snapshot_find(const struct hs_snapshot *snap, uint64_t addr)
{
	uint64_t lo = 0, hi = snap->nobjects;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (snap->addr[mid] < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < snap->nobjects && snap->addr[lo] == addr ? (int64_t)lo : -1;
}

const char *hs_snapshot_type_name(const struct hs_snapshot *snap, uint32_t type_id, size_t *len)
{
	if (type_id >= snap->ntypes || snap->types[type_id].name >= snap->nstrings) {
		*len = 1;
		return "?";
	}
	const struct hs_string *s = &snap->strings[snap->types[type_id].name];
	*len = s->len;
	return s->s;
}

const struct hs_string *hs_snapshot_meta(const struct hs_snapshot *snap, const char *key)
{
	size_t klen = strlen(key);
	for (uint32_t i = 0; i < snap->nmeta; i++) {
		const struct hs_string *k = &snap->meta[2 * i];
		if (k->len == klen && memcmp(k->s, key, klen) == 0)
			return &snap->meta[2 * i + 1];
	}
	return NULL;
}

void hs_snapshot_drop_edge_labels(struct hs_snapshot *snap)
{
	free(snap->edge_form);
	free(snap->edge_label);
	snap->edge_form = NULL;
	snap->edge_label = NULL;
}
