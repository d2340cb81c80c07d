/*
 * writer.c — streams a snapshot into a .hsnap file (FORMAT.md).
 *
 * The writer never holds the heap: objects arrive in address order and are buffered one chunk at a
 * time (HS_CHUNK_OBJECTS objects or HS_CHUNK_BYTES bytes), then written as an OBJECTS, EDGES and
 * VALUES section with the strings and types declared so far written just before them, so that a
 * truncated file still decodes up to its last whole chunk.  The chunk's sections are packed with
 * Zstandard (pack.c, FORMAT.md §2.4) as they are written.  What grows with the input is only the
 * string-intern table, the section index (one entry per section) and one object's edges.
 *
 * The file is written to a fresh PATH.tmp-XXXXXX (outfile.c: O_EXCL, mode 0600) and renamed to PATH
 * by hs_writer_finish; destroying an unfinished writer unlinks the temporary file, so a killed or
 * failed capture never leaves a file that passes for a complete snapshot.  Its writeback to the
 * disk starts as it is written (out_put), so that the fsync before the rename has little left to
 * wait for.
 *
 * A segment (hs_writer_segment) is a writer whose chunks go to memory: another thread encodes
 * the objects from some index on while this one writes those before, and hs_writer_append
 * copies its sections (and their index entries, moved by the offset) into the file.
 *
 * A destroyed writer leaves its chunk and write buffers for the next writer to take (struct
 * spare_bufs), as pack.c leaves its compression context: a process writing one snapshot after
 * another (heapsnap.dump) then does not page-fault fresh buffers into being every time.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "hsnap.h"

#define OUT_BUFFER (1u << 20)         /* the write buffer in front of the file */
#define OUT_DIRECT (1u << 16)         /* longer writes bypass it */
#define WRITEBACK (1u << 20)          /* written bytes that start their writeback (see out_put) */
#define OBJECT_MAX_BYTES (4 * 10 + 1) /* an object record: four varints and the flags byte */

/* A writer's buffer bigger than this (a segment's, a huge object's edges) is not kept. */
#define SPARE_MAX (4 * HS_CHUNK_BYTES)

struct buf {
	uint8_t *data;
	size_t len, cap;
};

static struct hs_error *buf_grow(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	uint8_t *data = realloc(b->data, cap);
	if (!data)
		return &hs_error_nomem;
	b->data = data;
	b->cap = cap;
	return NULL;
}

/* Makes room for more bytes; the common case (room enough) stays inline in the hot paths. */
static inline struct hs_error *buf_reserve(struct buf *b, size_t more)
{
	return b->len + more <= b->cap ? NULL : buf_grow(b, more);
}

static struct hs_error *buf_put(struct buf *b, const void *p, size_t len)
{
	struct hs_error *err = buf_reserve(b, len);
	if (err)
		return err;
	if (len)
		memcpy(b->data + b->len, p, len);
	b->len += len;
	return NULL;
}

static struct hs_error *buf_varint(struct buf *b, uint64_t v)
{
	struct hs_error *err = buf_reserve(b, 10);
	if (err)
		return err;
	b->len += hs_varint_put(b->data + b->len, v);
	return NULL;
}

static struct hs_error *buf_bytes(struct buf *b, const void *p, size_t len)
{
	struct hs_error *err = buf_varint(b, len);
	return err ? err : buf_put(b, p, len);
}

/* An entry of the string-intern table: open addressing over (hash, id). */
struct intern_slot {
	uint64_t hash;
	uint32_t id_plus1;
};

struct index_entry {
	uint8_t kind;
	uint64_t offset, length;
};

struct hs_writer {
	char *path;
	struct hs_out file; /* the temporary being written (file.tmp NULL in a segment) */
	int fd;             /* file.fd, or -1 */
	uint64_t offset;    /* bytes written to the file so far */
	uint64_t writeback; /* bytes whose writeback to the disk has been started */
	struct buf out;     /* write buffer in front of fd */
	bool failed;        /* sticky: a call failed, so every later one does */
	bool finished;
	bool segment; /* made by hs_writer_segment: writes into out alone, never to a file */
	uint64_t segment_first, segment_first_addr; /* a segment's first object: index, address */

	struct index_entry *index;
	size_t nindex, index_cap;

	/* String table: every interned string, for lookups; pending ones are in strings. */
	struct buf string_store; /* varint len + bytes of every string, in id order */
	uint64_t *string_pos;    /* offset of each id's record in string_store */
	uint32_t nstrings, strings_flushed;
	size_t string_pos_cap;
	struct intern_slot *slots;
	size_t nslots;

	struct buf types, meta;
	uint32_t ntypes, types_flushed, nmeta_pending;
	uint64_t *type_default; /* each type's default size, to elide sizes equal to it */
	size_t type_cap;

	/* The current chunk.  The current object's edges go straight into edges, behind a one-byte
	 * placeholder at count_pos for their count (end_object widens it when needed). */
	struct buf objs, edges, values;
	struct buf memory; /* the chunk's OBJECTS tail: each object's memory less its size */
	uint64_t nmemory_chunk;
	struct buf sites; /* the chunk's site tail, after memory: where each object was allocated */
	uint64_t nsites_chunk;
	size_t count_pos;
	uint64_t chunk_first, nobjects, last_addr, chunk_first_addr, cur_nedges, cur_prev_dst;
	uint64_t value_prev, nvalues_chunk, chunk_nedges;
	bool in_object, have_value, objects_closed;

	struct buf weak, roots;
	uint64_t nweak_pending, nroots_pending, weak_prev;

	struct hs_packer packer; /* packs the chunk's sections (FORMAT.md §2.4) */

	struct hs_writer_stats stats;
};

/* The buffers a writer keeps for the next one, in the order of spare_of. */
#define SPARE_BUFS 6
struct spare_bufs {
	struct buf b[SPARE_BUFS];
};

/* Those of the last writer destroyed, or NULL; any thread may take them. */
static _Atomic(struct spare_bufs *) spare_bufs;

static void spare_of(struct hs_writer *w, struct buf *ret[SPARE_BUFS])
{
	struct buf *b[SPARE_BUFS] = {&w->out,    &w->objs,   &w->edges,
	                             &w->values, &w->memory, &w->sites};
	memcpy(ret, b, sizeof(b));
}

/* Gives a new writer w the spare buffers, if any. */
static void spare_take(struct hs_writer *w)
{
	struct spare_bufs *s = atomic_exchange(&spare_bufs, NULL);
	if (!s)
		return;
	struct buf *b[SPARE_BUFS];
	spare_of(w, b);
	for (size_t i = 0; i < SPARE_BUFS; i++)
		*b[i] = s->b[i];
	free(s);
}

/* Leaves w's buffers (those not too big) for the next writer; frees what it does not keep. */
static void spare_put(struct hs_writer *w)
{
	struct buf *b[SPARE_BUFS];
	spare_of(w, b);
	struct spare_bufs *s = malloc(sizeof(*s));
	for (size_t i = 0; i < SPARE_BUFS; i++) {
		bool keep = s && b[i]->cap <= SPARE_MAX;
		if (s)
			s->b[i] = keep ? (struct buf){b[i]->data, 0, b[i]->cap} : (struct buf){0};
		if (!keep)
			free(b[i]->data);
	}
	s = atomic_exchange(&spare_bufs, s);
	for (size_t i = 0; s && i < SPARE_BUFS; i++)
		free(s->b[i].data);
	free(s);
}

/* Marks the writer failed: every later call fails too, and the temporary file is removed. */
static struct hs_error *fail(struct hs_writer *w, struct hs_error *err)
{
	if (err)
		w->failed = true;
	return err;
}

static struct hs_error *failed_before(struct hs_writer *w)
{
	return hs_error_create(HS_ERROR_FORMAT, "%s: an earlier write failed", w->path);
}

static struct hs_error *out_flush(struct hs_writer *w)
{
	if (w->segment)
		return NULL; /* out holds all of it until hs_writer_append */
	size_t done = 0;
	while (done < w->out.len) {
		ssize_t n = write(w->fd, w->out.data + done, w->out.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return hs_error_errno(errno, w->file.tmp, "write");
		done += (size_t)n;
	}
	w->out.len = 0;
	return NULL;
}

/* Appends to the file through the write buffer; what is at least OUT_DIRECT bytes long (a
 * chunk's sections) goes to the file as is, without a copy into the buffer. */
static struct hs_error *out_put(struct hs_writer *w, const void *p, size_t len)
{
	if (w->segment) {
		w->offset += len;
		return buf_put(&w->out, p, len);
	}
	if (w->out.len + len > OUT_BUFFER || (len >= OUT_DIRECT && w->out.len)) {
		struct hs_error *err = out_flush(w);
		if (err)
			return err;
	}
	if (len >= OUT_DIRECT) {
		size_t done = 0;
		while (done < len) {
			ssize_t n = write(w->fd, (const uint8_t *)p + done, len - done);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return hs_error_errno(errno, w->file.tmp, "write");
			done += (size_t)n;
		}
	} else {
		struct hs_error *err = buf_put(&w->out, p, len);
		if (err)
			return err;
	}
	w->offset += len;
	/* The disk gets what the file has while the capture goes on, so that the fsync of
	 * hs_writer_finish has less to wait for.  A hint: where it fails, fsync does it all. */
	uint64_t in_file = w->offset - w->out.len;
	if (in_file - w->writeback >= WRITEBACK) {
		(void)sync_file_range(w->fd, (off_t)w->writeback, (off_t)(in_file - w->writeback),
		                      SYNC_FILE_RANGE_WRITE);
		w->writeback = in_file;
	}
	return NULL;
}

/* Adds e to the section index. */
static struct hs_error *index_add(struct hs_writer *w, struct index_entry e)
{
	if (w->nindex == w->index_cap) {
		size_t cap = w->index_cap ? 2 * w->index_cap : 64;
		struct index_entry *idx = realloc(w->index, cap * sizeof(*idx));
		if (!idx)
			return &hs_error_nomem;
		w->index = idx;
		w->index_cap = cap;
	}
	w->index[w->nindex++] = e;
	return NULL;
}

/* Writes one section: kind, payload length, prefix + body as payload, CRC-32C of all of it.
 * OBJECTS, EDGES and VALUES are packed (FORMAT.md §2.4) when that makes them smaller. */
static struct hs_error *write_section(struct hs_writer *w, uint8_t kind, const struct buf *prefix,
                                      const struct buf *body)
{
	struct buf none = {0}, packed = {0};
	if (!prefix)
		prefix = &none;
	if (!body)
		body = &none;
	if ((kind == HS_SEC_OBJECTS || kind == HS_SEC_EDGES || kind == HS_SEC_VALUES) &&
	    hs_pack(&w->packer, prefix->data, prefix->len, body->data, body->len)) {
		kind |= HS_PACKED;
		packed = (struct buf){w->packer.out, w->packer.len, w->packer.cap};
		prefix = &packed;
		body = &none;
	}
	uint64_t plen = prefix->len + body->len;
	uint8_t head[HS_SECTION_HEAD_SIZE];
	head[0] = kind;
	for (int i = 0; i < 8; i++)
		head[1 + i] = (uint8_t)(plen >> (8 * i));
	uint32_t crc = hs_crc32c(0, head, sizeof(head));
	crc = hs_crc32c(crc, prefix->data, prefix->len);
	crc = hs_crc32c(crc, body->data, body->len);
	uint8_t tail[4] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
	                   (uint8_t)(crc >> 24)};

	struct hs_error *err =
	    index_add(w, (struct index_entry){kind, w->offset, sizeof(head) + plen + 4});
	if (!err)
		err = out_put(w, head, sizeof(head));
	if (!err && prefix->len)
		err = out_put(w, prefix->data, prefix->len);
	if (!err && body->len)
		err = out_put(w, body->data, body->len);
	if (!err)
		err = out_put(w, tail, sizeof(tail));
	return err;
}

static struct hs_error *write_run(struct hs_writer *w, uint8_t kind, uint64_t first, uint64_t count,
                                  struct buf *body)
{
	struct buf prefix = {0};
	struct hs_error *err = buf_varint(&prefix, first);
	if (!err)
		err = buf_varint(&prefix, count);
	if (!err)
		err = write_section(w, kind, &prefix, body);
	free(prefix.data);
	body->len = 0;
	return err;
}

/* Writes the strings, types and meta declared since the last call. */
static struct hs_error *flush_declarations(struct hs_writer *w)
{
	struct hs_error *err = NULL;
	if (w->nstrings > w->strings_flushed) {
		struct buf body = {.data = w->string_store.data + w->string_pos[w->strings_flushed],
		                   .len = w->string_store.len - w->string_pos[w->strings_flushed]};
		err = write_run(w, HS_SEC_STRINGS, w->strings_flushed,
		                w->nstrings - w->strings_flushed, &body);
		w->strings_flushed = w->nstrings;
	}
	if (!err && w->ntypes > w->types_flushed) {
		err = write_run(w, HS_SEC_TYPES, w->types_flushed, w->ntypes - w->types_flushed,
		                &w->types);
		w->types_flushed = w->ntypes;
	}
	if (!err && w->nmeta_pending) {
		struct buf prefix = {0};
		err = buf_varint(&prefix, w->nmeta_pending);
		if (!err)
			err = write_section(w, HS_SEC_META, &prefix, &w->meta);
		free(prefix.data);
		w->meta.len = 0;
		w->nmeta_pending = 0;
	}
	return err;
}

/* Writes the current object's edge count into its placeholder, moving its edges up when the
 * count needs more than one byte (128 edges or more: rare, and then the move is cheap beside
 * the edges themselves). */
static struct hs_error *end_object(struct hs_writer *w)
{
	if (!w->in_object)
		return NULL;
	w->in_object = false;
	uint8_t count[10];
	size_t n = hs_varint_put(count, w->cur_nedges);
	if (n > 1) {
		struct hs_error *err = buf_reserve(&w->edges, n - 1);
		if (err)
			return err;
		uint8_t *p = w->edges.data + w->count_pos;
		memmove(p + n, p + 1, w->edges.len - w->count_pos - 1);
		w->edges.len += n - 1;
	}
	memcpy(w->edges.data + w->count_pos, count, n);
	return NULL;
}

static struct hs_error *flush_chunk(struct hs_writer *w)
{
	struct hs_error *err = end_object(w);
	uint64_t count = w->nobjects - w->chunk_first;
	if (err || count == 0)
		return err;
	err = flush_declarations(w);
	if (err)
		return err;
	struct buf prefix = {0};
	err = buf_varint(&prefix, w->chunk_first);
	if (!err)
		err = buf_varint(&prefix, count);
	if (!err)
		err = buf_varint(&prefix, w->chunk_first_addr);
	if (!err && w->nmemory_chunk && w->nmemory_chunk != count)
		err = hs_error_create(
		    HS_ERROR_FORMAT,
		    "%s: the memory of %llu of the %llu objects from %llu was given", w->path,
		    (unsigned long long)w->nmemory_chunk, (unsigned long long)count,
		    (unsigned long long)w->chunk_first);
	if (!err && w->nsites_chunk && (w->nsites_chunk != count || !w->nmemory_chunk))
		err = hs_error_create(
		    HS_ERROR_FORMAT, "%s: the site of %llu of the %llu objects from %llu was given",
		    w->path, (unsigned long long)w->nsites_chunk, (unsigned long long)count,
		    (unsigned long long)w->chunk_first);
	if (!err && w->nmemory_chunk)
		err = buf_put(&w->objs, w->memory.data, w->memory.len);
	if (!err && w->nsites_chunk)
		err = buf_put(&w->objs, w->sites.data, w->sites.len);
	if (!err)
		err = write_section(w, HS_SEC_OBJECTS, &prefix, &w->objs);
	free(prefix.data);
	w->objs.len = 0;
	w->memory.len = 0;
	w->nmemory_chunk = 0;
	w->sites.len = 0;
	w->nsites_chunk = 0;
	if (!err) {
		struct buf eprefix = {0};
		err = buf_varint(&eprefix, w->chunk_first);
		if (!err)
			err = buf_varint(&eprefix, count);
		if (!err)
			err = buf_varint(&eprefix, w->chunk_nedges);
		if (!err)
			err = write_section(w, HS_SEC_EDGES, &eprefix, &w->edges);
		free(eprefix.data);
		w->edges.len = 0;
		w->chunk_nedges = 0;
	}
	if (!err && w->nvalues_chunk)
		err = write_run(w, HS_SEC_VALUES, w->chunk_first, w->nvalues_chunk, &w->values);
	if (w->segment && w->chunk_first == w->segment_first)
		w->segment_first_addr = w->chunk_first_addr;
	w->nvalues_chunk = 0;
	w->value_prev = w->nobjects;
	w->chunk_first = w->nobjects;
	return err;
}

static void header_str(struct buf *b, struct hs_error **err, const char *s)
{
	if (!*err)
		*err = buf_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

struct hs_error *hs_writer_create(const char *path, const struct hs_header *header,
                                  struct hs_writer **ret)
{
	struct hs_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return &hs_error_nomem;
	spare_take(w);
	w->fd = -1;
	w->path = strdup(path);
	struct hs_error *oerr = w->path ? hs_out_open(path, &w->file) : &hs_error_nomem;
	if (oerr) {
		hs_writer_destroy(w);
		return oerr;
	}
	w->fd = w->file.fd;

	uint8_t fh[HS_FILE_HEADER_SIZE] = {0};
	memcpy(fh, HS_MAGIC, 8);
	fh[8] = HS_VERSION_MAJOR;
	fh[10] = HS_VERSION_MINOR;
	struct hs_error *err = out_put(w, fh, sizeof(fh));

	struct buf b = {0};
	header_str(&b, &err, header->producer);
	header_str(&b, &err, header->runtime);
	header_str(&b, &err, header->runtime_version);
	if (!err)
		err = buf_varint(&b, header->pointer_size);
	if (!err)
		err = buf_varint(&b, header->pid);
	if (!err)
		err = buf_varint(&b, header->time_ns);
	if (!err)
		err = buf_varint(&b, header->method);
	if (!err)
		err = write_section(w, HS_SEC_HEADER, NULL, &b);
	free(b.data);
	if (err) {
		hs_writer_destroy(w);
		return err;
	}
	*ret = w;
	return NULL;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
	return h | 1; /* 0 marks an empty slot */
}

static bool string_equals(struct hs_writer *w, uint32_t id, const char *s, size_t len)
{
	const uint8_t *p = w->string_store.data + w->string_pos[id];
	uint64_t n;
	size_t k = hs_varint_get(p, w->string_store.data + w->string_store.len, &n);
	return n == len && memcmp(p + k, s, len) == 0;
}

static struct hs_error *intern_grow(struct hs_writer *w)
{
	size_t nslots = w->nslots ? 2 * w->nslots : 1024;
	struct intern_slot *slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return &hs_error_nomem;
	for (size_t i = 0; i < w->nslots; i++) {
		if (!w->slots[i].hash)
			continue;
		size_t j = w->slots[i].hash & (nslots - 1);
		while (slots[j].hash)
			j = (j + 1) & (nslots - 1);
		slots[j] = w->slots[i];
	}
	free(w->slots);
	w->slots = slots;
	w->nslots = nslots;
	return NULL;
}

static struct hs_error *in_segment(struct hs_writer *w, const char *what)
{
	return fail(w, hs_error_create(HS_ERROR_FORMAT,
	                               "%s in a segment: only its objects are its own", what));
}

struct hs_error *hs_writer_string(struct hs_writer *w, const char *s, size_t len, uint32_t *ret)
{
	if (w->failed)
		return failed_before(w);
	if (w->segment)
		return in_segment(w, "a string");
	if (len > UINT32_MAX)
		return fail(
		    w, hs_error_create(HS_ERROR_FORMAT, "string of %zu bytes is too long", len));
	if ((w->nstrings + 1) * 2 > w->nslots && intern_grow(w))
		return fail(w, &hs_error_nomem);
	uint64_t h = hash_bytes(s, len);
	size_t j = h & (w->nslots - 1);
	for (; w->slots[j].hash; j = (j + 1) & (w->nslots - 1)) {
		if (w->slots[j].hash == h && string_equals(w, w->slots[j].id_plus1 - 1, s, len)) {
			*ret = w->slots[j].id_plus1 - 1;
			return NULL;
		}
	}
	if (w->nstrings == UINT32_MAX - 1)
		return fail(w, hs_error_create(HS_ERROR_FORMAT, "too many strings"));
	if (w->nstrings == w->string_pos_cap) {
		size_t cap = w->string_pos_cap ? 2 * w->string_pos_cap : 256;
		uint64_t *pos = realloc(w->string_pos, cap * sizeof(*pos));
		if (!pos)
			return fail(w, &hs_error_nomem);
		w->string_pos = pos;
		w->string_pos_cap = cap;
	}
	w->string_pos[w->nstrings] = w->string_store.len;
	if (buf_bytes(&w->string_store, s, len))
		return fail(w, &hs_error_nomem);
	w->slots[j] = (struct intern_slot){h, w->nstrings + 1};
	*ret = w->nstrings++;
	return NULL;
}

struct hs_error *hs_writer_type(struct hs_writer *w, const char *name, const char *module,
                                uint64_t default_size, uint64_t type_object, uint32_t flags,
                                uint32_t *ret)
{
	if (w->segment)
		return in_segment(w, "a type");
	uint32_t name_id, module_id;
	struct hs_error *err = hs_writer_string(w, name, strlen(name), &name_id);
	if (!err)
		err = hs_writer_string(w, module ? module : "", module ? strlen(module) : 0,
		                       &module_id);
	if (!err && w->ntypes == w->type_cap) {
		size_t cap = w->type_cap ? 2 * w->type_cap : 64;
		uint64_t *td = realloc(w->type_default, cap * sizeof(*td));
		if (!td)
			return fail(w, &hs_error_nomem);
		w->type_default = td;
		w->type_cap = cap;
	}
	if (!err)
		err = buf_varint(&w->types, name_id);
	if (!err)
		err = buf_varint(&w->types, module_id);
	if (!err)
		err = buf_varint(&w->types, default_size);
	if (!err)
		err = buf_varint(&w->types, type_object);
	if (!err)
		err = buf_varint(&w->types, flags);
	if (err)
		return fail(w, err);
	w->type_default[w->ntypes] = default_size;
	*ret = w->ntypes++;
	return NULL;
}

struct hs_error *hs_writer_meta(struct hs_writer *w, const char *key, const char *value)
{
	if (w->failed)
		return failed_before(w);
	if (w->segment)
		return in_segment(w, "meta");
	struct hs_error *err = buf_bytes(&w->meta, key, strlen(key));
	if (!err)
		err = buf_bytes(&w->meta, value, strlen(value));
	if (err)
		return fail(w, err);
	w->nmeta_pending++;
	return NULL;
}

struct hs_error *hs_writer_qualname(struct hs_writer *w, uint32_t type, const char *name,
                                    const char *qualname)
{
	if (!strcmp(name, qualname))
		return NULL;
	char key[32];
	snprintf(key, sizeof(key), "type.qualname.%u", (unsigned)type);
	return hs_writer_meta(w, key, qualname);
}

/* Why hs_writer_object refused an object (the checks of its fast path, one by one). */
static struct hs_error *object_error(struct hs_writer *w, uint64_t addr, uint32_t type_id,
                                     uint8_t generation)
{
	if (w->failed)
		return failed_before(w);
	if (w->objects_closed)
		return fail(w, hs_error_create(HS_ERROR_FORMAT,
		                               "object 0x%llx written after weak links or roots",
		                               (unsigned long long)addr));
	if (w->nobjects && addr <= w->last_addr)
		return fail(w, hs_error_create(HS_ERROR_FORMAT,
		                               "object 0x%llx is not above the previous 0x%llx",
		                               (unsigned long long)addr,
		                               (unsigned long long)w->last_addr));
	if (type_id >= w->ntypes)
		return fail(w, hs_error_create(HS_ERROR_FORMAT, "object 0x%llx: no type %u",
		                               (unsigned long long)addr, type_id));
	if (generation > HS_GEN_PERMANENT && generation != HS_GEN_NONE)
		return fail(w, hs_error_create(HS_ERROR_FORMAT, "object 0x%llx: generation %u",
		                               (unsigned long long)addr, generation));
	return fail(w, hs_error_create(HS_ERROR_FORMAT, "more than 2^32 objects"));
}

/* Ends the previous object and makes room for the next one's record: the part of
 * hs_writer_object that is not the common case. */
static struct hs_error *object_room(struct hs_writer *w)
{
	struct hs_error *err = end_object(w);
	if (!err && (w->nobjects - w->chunk_first >= HS_CHUNK_OBJECTS ||
	             w->objs.len + w->edges.len + w->values.len >= HS_CHUNK_BYTES))
		err = flush_chunk(w);
	if (!err)
		err = buf_reserve(&w->objs, OBJECT_MAX_BYTES);
	if (!err)
		err = buf_reserve(&w->edges, 1);
	return err;
}

/* The hot path of a capture: every check in one test, the previous object's count written in
 * place when it fits a byte, the record written in place. */
struct hs_error *hs_writer_object(struct hs_writer *w, uint64_t addr, uint32_t type_id,
                                  uint64_t size, uint64_t refcnt, uint8_t flags, uint8_t generation)
{
	bool ok = !w->failed & !w->objects_closed & (addr > w->last_addr || !w->nobjects) &
	          (type_id < w->ntypes) &
	          (generation <= HS_GEN_PERMANENT || generation == HS_GEN_NONE) &
	          (w->nobjects < UINT32_MAX);
	if (!ok)
		return object_error(w, addr, type_id, generation);
	if (w->in_object && w->cur_nedges < 0x80) {
		w->edges.data[w->count_pos] = (uint8_t)w->cur_nedges;
		w->in_object = false;
	}
	if (w->in_object || w->nobjects - w->chunk_first >= HS_CHUNK_OBJECTS ||
	    w->objs.len + w->edges.len + w->values.len >= HS_CHUNK_BYTES ||
	    w->objs.len + OBJECT_MAX_BYTES > w->objs.cap || w->edges.len + 1 > w->edges.cap) {
		struct hs_error *err = object_room(w);
		if (err)
			return fail(w, err);
	}

	bool first = w->nobjects == w->chunk_first;
	if (first)
		w->chunk_first_addr = addr;
	bool explicit_size = size != w->type_default[type_id];
	uint8_t gen_code = generation == HS_GEN_NONE ? HS_GEN_CODE_NONE : generation;
	w->count_pos = w->edges.len++;
	uint8_t *p = w->objs.data + w->objs.len;
	p += hs_varint_put(p, first ? 0 : addr - w->last_addr);
	p += hs_varint_put(p, ((uint64_t)type_id << 1) | explicit_size);
	if (explicit_size)
		p += hs_varint_put(p, size);
	p += hs_varint_put(p, refcnt);
	*p++ = (uint8_t)((flags & HS_OBJ_FLAG_MASK) | (gen_code << HS_GEN_SHIFT));
	w->objs.len = (size_t)(p - w->objs.data);
	w->last_addr = addr;
	w->nobjects++;
	w->in_object = true;
	w->have_value = false;
	w->cur_nedges = 0;
	w->stats.objects++;
	return NULL;
}

struct hs_error *hs_writer_memory(struct hs_writer *w, int64_t delta)
{
	if (w->failed)
		return failed_before(w);
	if (delta >= INT32_MAX || delta <= INT32_MIN)
		return fail(w, hs_error_create(HS_ERROR_FORMAT, "object 0x%llx: memory delta %lld",
		                               (unsigned long long)w->last_addr, (long long)delta));
	if (!w->in_object || w->nmemory_chunk != w->nobjects - 1 - w->chunk_first)
		return fail(
		    w, hs_error_create(HS_ERROR_FORMAT,
		                       "object 0x%llx: memory given twice, or outside an object",
		                       (unsigned long long)w->last_addr));
	w->nmemory_chunk++;
	return fail(w, buf_varint(&w->memory, hs_zigzag(delta)));
}

struct hs_error *hs_writer_site(struct hs_writer *w, uint64_t file, uint32_t line)
{
	if (w->failed)
		return failed_before(w);
	if (file > w->nstrings)
		return fail(w, hs_error_create(HS_ERROR_FORMAT, "object 0x%llx: site file id %llu",
		                               (unsigned long long)w->last_addr,
		                               (unsigned long long)file));
	if (!w->in_object || w->nsites_chunk != w->nobjects - 1 - w->chunk_first)
		return fail(w,
		            hs_error_create(HS_ERROR_FORMAT,
		                            "object 0x%llx: site given twice, or outside an object",
		                            (unsigned long long)w->last_addr));
	w->nsites_chunk++;
	struct hs_error *err = buf_varint(&w->sites, file);
	if (!err && file)
		err = buf_varint(&w->sites, line);
	return fail(w, err);
}

/* The edge record of FORMAT.md §4.6 at p, for an edge already checked, the current object's
 * edge number nth, whose previous destination (or the object itself, for the first) is prev;
 * returns the record's end.  The callers keep prev and nth in locals: the record's byte stores
 * would make the compiler reload anything kept in *w. */
static inline uint8_t *put_edge(uint8_t *p, uint64_t prev, uint64_t nth, uint64_t dst, uint8_t kind,
                                uint8_t form, uint64_t label_value)
{
	uint64_t head = hs_zigzag((int64_t)(dst - prev)) << HS_EDGE_HEAD_BITS;
	bool ordinal = form == HS_LABEL_ORDINAL || (form == HS_LABEL_INDEX && label_value == nth);
	if (ordinal)
		head |= HS_EDGE_LABEL_ORDINAL;
	else if (form != HS_LABEL_NONE)
		head |= HS_EDGE_LABEL_EXPLICIT;
	if (kind != HS_EDGE_TRAVERSE)
		head |= HS_EDGE_KIND_FOLLOWS;
	if (head < 0x80) /* most edges: a near destination, no label or an ordinal one */
		*p++ = (uint8_t)head;
	else
		p += hs_varint_put(p, head);
	if (kind != HS_EDGE_TRAVERSE)
		*p++ = kind;
	if (!ordinal && form != HS_LABEL_NONE)
		p += hs_varint_put(p, (label_value << 3) | form);
	return p;
}

/* The destination the current object's next edge is a delta from: its previous edge's, or the
 * object itself for the first. */
static inline uint64_t edge_prev(const struct hs_writer *w)
{
	return w->cur_nedges ? w->cur_prev_dst : w->nobjects - 1;
}

#define EDGE_MAX_BYTES (10 + 1 + 10) /* head, kind byte, label */

static struct hs_error *bad_edge(struct hs_writer *w, uint64_t dst, int kind, int form,
                                 uint64_t label_value)
{
	if (!w->in_object)
		return fail(w, hs_error_create(HS_ERROR_FORMAT, "edge to %llu outside an object",
		                               (unsigned long long)dst));
	return fail(w, hs_error_create(HS_ERROR_FORMAT,
	                               "object 0x%llx: bad edge (dst %llu, kind %d, label %d/%llu)",
	                               (unsigned long long)w->last_addr, (unsigned long long)dst,
	                               kind, form, (unsigned long long)label_value));
}

static inline bool edge_ok(uint64_t dst, int kind, int form, uint64_t label_value)
{
	return dst < UINT32_MAX && kind >= 0 && kind <= HS_EDGE_CONSERVATIVE && form >= 0 &&
	       form <= HS_LABEL_ATTR && label_value <= UINT32_MAX;
}

struct hs_error *hs_writer_edge(struct hs_writer *w, uint64_t dst, enum hs_edge_kind kind,
                                enum hs_label_form form, uint64_t label_value)
{
	if (w->failed)
		return failed_before(w);
	if (!w->in_object || !edge_ok(dst, (int)kind, (int)form, label_value))
		return bad_edge(w, dst, (int)kind, (int)form, label_value);
	struct hs_error *err = buf_reserve(&w->edges, EDGE_MAX_BYTES);
	if (err)
		return fail(w, err);
	uint8_t *p = put_edge(w->edges.data + w->edges.len, edge_prev(w), w->cur_nedges, dst,
	                      (uint8_t)kind, (uint8_t)form, label_value);
	w->edges.len = (size_t)(p - w->edges.data);
	w->cur_prev_dst = dst;
	w->cur_nedges++;
	w->chunk_nedges++;
	w->stats.edges++;
	return NULL;
}

struct hs_error *hs_writer_edges(struct hs_writer *w, const struct hs_edge *edges, size_t n)
{
	if (w->failed)
		return failed_before(w);
	bool ok = w->in_object;
	for (size_t i = 0; i < n; i++) /* all of them at once, then which one */
		ok &= edge_ok(edges[i].dst, edges[i].kind, edges[i].form, edges[i].label_value);
	for (size_t i = 0; !ok; i++) {
		const struct hs_edge *e = &edges[i];
		if (!w->in_object || !edge_ok(e->dst, e->kind, e->form, e->label_value))
			return bad_edge(w, e->dst, e->kind, e->form, e->label_value);
	}
	uint64_t prev = edge_prev(w), nth = w->cur_nedges;
	/* Room for a slice at a time: a big list's edges take a few bytes each, not the most. */
	for (size_t i = 0; i < n;) {
		size_t end = n - i > 1024 ? i + 1024 : n;
		struct hs_error *err = buf_reserve(&w->edges, (end - i) * EDGE_MAX_BYTES);
		if (err)
			return fail(w, err);
		uint8_t *p = w->edges.data + w->edges.len;
		for (; i < end; i++, nth++) {
			p = put_edge(p, prev, nth, edges[i].dst, edges[i].kind, edges[i].form,
			             edges[i].label_value);
			prev = edges[i].dst;
		}
		w->edges.len = (size_t)(p - w->edges.data);
	}
	w->cur_prev_dst = prev;
	w->cur_nedges = nth;
	w->chunk_nedges += n;
	w->stats.edges += n;
	return NULL;
}

struct hs_error *hs_writer_value(struct hs_writer *w, const char *s, size_t len)
{
	if (w->failed)
		return failed_before(w);
	if (!w->in_object || w->have_value)
		return fail(
		    w, hs_error_create(HS_ERROR_FORMAT, "value outside an object or given twice"));
	uint64_t idx = w->nobjects - 1;
	struct hs_error *err = buf_varint(&w->values, idx - w->value_prev);
	if (!err)
		err = buf_bytes(&w->values, s, len);
	if (err)
		return fail(w, err);
	w->value_prev = idx;
	w->have_value = true;
	w->nvalues_chunk++;
	w->stats.values++;
	return NULL;
}

static struct hs_error *close_objects(struct hs_writer *w)
{
	if (w->objects_closed)
		return NULL;
	w->objects_closed = true;
	return flush_chunk(w);
}

static struct hs_error *flush_links(struct hs_writer *w)
{
	struct hs_error *err = flush_declarations(w);
	if (!err && w->nweak_pending) {
		struct buf prefix = {0};
		err = buf_varint(&prefix, w->nweak_pending);
		if (!err)
			err = write_section(w, HS_SEC_WEAK, &prefix, &w->weak);
		free(prefix.data);
		w->weak.len = 0;
		w->nweak_pending = 0;
		w->weak_prev = 0;
	}
	if (!err && w->nroots_pending) {
		struct buf prefix = {0};
		err = buf_varint(&prefix, w->nroots_pending);
		if (!err)
			err = write_section(w, HS_SEC_ROOTS, &prefix, &w->roots);
		free(prefix.data);
		w->roots.len = 0;
		w->nroots_pending = 0;
	}
	return err;
}

struct hs_error *hs_writer_weak(struct hs_writer *w, uint64_t ref, uint64_t referent_plus1,
                                uint64_t callback_plus1)
{
	if (w->failed)
		return failed_before(w);
	if (w->segment)
		return in_segment(w, "a weak link");
	struct hs_error *err = close_objects(w);
	if (!err &&
	    (ref >= w->nobjects || referent_plus1 > w->nobjects || callback_plus1 > w->nobjects))
		err = hs_error_create(HS_ERROR_FORMAT, "weak link %llu -> %llu: no such object",
		                      (unsigned long long)ref, (unsigned long long)referent_plus1);
	if (!err)
		err = buf_varint(&w->weak, hs_zigzag((int64_t)(ref - w->weak_prev)));
	if (!err)
		err = buf_varint(&w->weak, referent_plus1);
	if (!err)
		err = buf_varint(&w->weak, callback_plus1);
	if (err)
		return fail(w, err);
	w->weak_prev = ref;
	w->nweak_pending++;
	w->stats.weak++;
	if (w->weak.len >= HS_CHUNK_BYTES)
		return fail(w, flush_links(w));
	return NULL;
}

struct hs_error *hs_writer_root(struct hs_writer *w, uint64_t obj, const char *kind,
                                const char *name)
{
	if (w->failed)
		return failed_before(w);
	if (w->segment)
		return in_segment(w, "a root");
	uint32_t kind_id, name_id;
	struct hs_error *err = close_objects(w);
	if (!err && obj >= w->nobjects)
		err = hs_error_create(HS_ERROR_FORMAT, "root %llu: no such object",
		                      (unsigned long long)obj);
	if (!err)
		err = hs_writer_string(w, kind, strlen(kind), &kind_id);
	if (!err)
		err = hs_writer_string(w, name ? name : "", name ? strlen(name) : 0, &name_id);
	if (!err)
		err = buf_varint(&w->roots, obj);
	if (!err)
		err = buf_varint(&w->roots, kind_id);
	if (!err)
		err = buf_varint(&w->roots, name_id);
	if (err)
		return fail(w, err);
	w->nroots_pending++;
	w->stats.roots++;
	if (w->roots.len >= HS_CHUNK_BYTES)
		return fail(w, flush_links(w));
	return NULL;
}

struct hs_error *hs_writer_finish(struct hs_writer *w, struct hs_writer_stats *stats)
{
	if (w->failed)
		return failed_before(w);
	if (w->segment)
		return in_segment(w, "finish");
	struct hs_error *err = close_objects(w);
	if (!err)
		err = flush_links(w);
	if (err)
		return fail(w, err);

	struct buf idx = {0};
	err = buf_varint(&idx, w->nindex);
	for (size_t i = 0; !err && i < w->nindex; i++) {
		err = buf_put(&idx, &w->index[i].kind, 1);
		if (!err)
			err = buf_varint(&idx, w->index[i].offset);
		if (!err)
			err = buf_varint(&idx, w->index[i].length);
	}
	uint64_t index_offset = w->offset;
	if (!err)
		err = write_section(w, HS_SEC_INDEX, NULL, &idx);
	free(idx.data);
	uint8_t trailer[HS_TRAILER_SIZE];
	for (int i = 0; i < 8; i++)
		trailer[i] = (uint8_t)(index_offset >> (8 * i));
	memcpy(trailer + 8, HS_END_MAGIC, 8);
	if (!err)
		err = out_put(w, trailer, sizeof(trailer));
	if (!err)
		err = out_flush(w);
	if (!err) {
		w->fd = -1;
		err = hs_out_commit(&w->file);
	}
	if (err)
		return fail(w, err);
	w->finished = true;
	w->stats.bytes = w->offset;
	if (stats)
		*stats = w->stats;
	return NULL;
}

struct hs_error *hs_writer_segment(struct hs_writer *w, uint64_t first, struct hs_writer **ret)
{
	if (w->failed)
		return failed_before(w);
	if (w->segment)
		return in_segment(w, "a segment");
	struct hs_writer *s = calloc(1, sizeof(*s));
	if (!s || !(s->path = strdup(w->path)) ||
	    !(s->type_default = malloc((w->ntypes ? w->ntypes : 1) * sizeof(*s->type_default)))) {
		hs_writer_destroy(s);
		return &hs_error_nomem;
	}
	memcpy(s->type_default, w->type_default, w->ntypes * sizeof(*s->type_default));
	spare_take(s);
	s->fd = -1;
	s->segment = true;
	s->ntypes = s->types_flushed = w->ntypes;
	s->type_cap = w->ntypes;
	s->nstrings = s->strings_flushed = w->nstrings;
	s->segment_first = s->nobjects = s->chunk_first = s->value_prev = first;
	*ret = s;
	return NULL;
}

struct hs_error *hs_writer_append(struct hs_writer *w, struct hs_writer *s)
{
	struct hs_error *err = NULL;
	if (w->failed || s->failed)
		err = w->failed ? failed_before(w) : failed_before(s);
	else if (w->segment || !s->segment || w->objects_closed)
		err = fail(w,
		           hs_error_create(HS_ERROR_FORMAT, "append: not a segment after objects"));
	else if (s->segment_first != w->nobjects)
		err = fail(w, hs_error_create(HS_ERROR_FORMAT,
		                              "append: the segment starts at object %llu, not %llu",
		                              (unsigned long long)s->segment_first,
		                              (unsigned long long)w->nobjects));
	if (!err)
		err = flush_chunk(s);
	if (!err && s->nobjects > s->segment_first && w->nobjects &&
	    s->segment_first_addr <= w->last_addr)
		err = hs_error_create(
		    HS_ERROR_FORMAT, "append: object 0x%llx is not above the previous 0x%llx",
		    (unsigned long long)s->segment_first_addr, (unsigned long long)w->last_addr);
	if (!err)
		err = flush_chunk(w);
	if (!err)
		err = flush_declarations(w);
	for (size_t i = 0; !err && i < s->nindex; i++)
		err = index_add(w, (struct index_entry){s->index[i].kind,
		                                        w->offset + s->index[i].offset,
		                                        s->index[i].length});
	if (!err)
		err = out_put(w, s->out.data, s->out.len);
	if (!err && s->nobjects > s->segment_first) {
		w->nobjects = w->chunk_first = w->value_prev = s->nobjects;
		w->last_addr = s->last_addr;
		w->stats.objects += s->stats.objects;
		w->stats.edges += s->stats.edges;
		w->stats.values += s->stats.values;
	}
	hs_writer_destroy(s);
	return fail(w, err);
}

void hs_writer_destroy(struct hs_writer *w)
{
	if (!w)
		return;
	if (w->file.tmp)
		hs_out_abort(&w->file);
	else if (w->fd >= 0)
		close(w->fd);
	struct buf *bufs[] = {&w->string_store, &w->types, &w->meta, &w->weak, &w->roots};
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		free(bufs[i]->data);
	spare_put(w);
	hs_packer_free(&w->packer);
	free(w->string_pos);
	free(w->slots);
	free(w->type_default);
	free(w->index);
	free(w->path);
	free(w);
}
