/*
 * fuzz_common.c — the helpers of fuzz.h: in-memory input files, a scratch directory, and the walk
 * over an opened snapshot that turns a broken promise of hsnap.h into an abort.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "format.h"
#include "fuzz.h"

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("fuzz: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static char tmpdir[4096];

static void remove_tmpdir(void)
{
	rmdir(tmpdir);
}

const char *fuzz_tmpdir(void)
{
	if (tmpdir[0])
		return tmpdir;
	/* A tmpfs when there is one: the writer fsyncs every snapshot it finishes. */
	const char *base = getenv("TMPDIR");
	if (access("/dev/shm", W_OK) == 0)
		base = "/dev/shm";
	snprintf(tmpdir, sizeof(tmpdir), "%s/hs-fuzz-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		fuzz_fail("mkdtemp %s failed", tmpdir);
	atexit(remove_tmpdir);
	return tmpdir;
}

int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t path_size)
{
	int fd = memfd_create("hs-fuzz-input", MFD_CLOEXEC);
	if (fd < 0)
		fuzz_fail("memfd_create failed");
	for (size_t done = 0; done < size;) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0)
			fuzz_fail("write to memfd failed");
		done += (size_t)n;
	}
	snprintf(path, path_size, "/proc/self/fd/%d", fd);
	return fd;
}

/* Sums bytes so that reading them cannot be optimized away. */
static volatile uint64_t sink;

static void touch_string(const struct hs_string *s)
{
	uint64_t sum = 0;
	for (uint32_t i = 0; i < s->len; i++)
		sum += (uint8_t)s->s[i];
	sink += sum;
}

void fuzz_walk_snapshot(const struct hs_snapshot *snap)
{
	const struct hs_header *h = &snap->header;
	sink += strlen(h->producer) + strlen(h->runtime) + strlen(h->runtime_version);
	for (uint32_t i = 0; i < snap->nstrings; i++)
		touch_string(&snap->strings[i]);
	for (uint32_t i = 0; i < 2 * snap->nmeta; i++)
		touch_string(&snap->meta[i]);
	for (uint32_t i = 0; i < snap->ntypes; i++) {
		const struct hs_type *t = &snap->types[i];
		if (t->name >= snap->nstrings || t->module >= snap->nstrings ||
		    t->type_object > snap->nobjects)
			fuzz_fail("type %u: name %u, module %u, type object %llu out of range", i,
			          t->name, t->module, (unsigned long long)t->type_object);
		size_t len;
		sink += (uint8_t)hs_snapshot_type_name(snap, i, &len)[0] + len + t->default_size +
		        t->flags;
	}
	for (uint64_t i = 0; i < snap->nvalues; i++)
		touch_string(&snap->values[i]);
	if (snap->edge_start[0] != 0 || snap->edge_start[snap->nobjects] != snap->nedges)
		fuzz_fail("edge_start[0] = %llu, edge_start[%llu] = %llu, nedges %llu",
		          (unsigned long long)snap->edge_start[0],
		          (unsigned long long)snap->nobjects,
		          (unsigned long long)snap->edge_start[snap->nobjects],
		          (unsigned long long)snap->nedges);
	char label[64];
	for (uint64_t i = 0; i < snap->nobjects; i++) {
		if (i && snap->addr[i] <= snap->addr[i - 1])
			fuzz_fail("object %llu is not above the previous one",
			          (unsigned long long)i);
		if (hs_snapshot_find(snap, snap->addr[i]) != (int64_t)i)
			fuzz_fail("find(addr[%llu]) is not %llu", (unsigned long long)i,
			          (unsigned long long)i);
		if (snap->type[i] >= snap->ntypes || snap->value[i] > snap->nvalues ||
		    (snap->generation[i] > HS_GEN_PERMANENT && snap->generation[i] != HS_GEN_NONE))
			fuzz_fail("object %llu: type %u, value %u, generation %u out of range",
			          (unsigned long long)i, snap->type[i], snap->value[i],
			          snap->generation[i]);
		sink += snap->size[i] + snap->refcnt[i] + snap->flags[i];
		if (snap->edge_start[i + 1] < snap->edge_start[i])
			fuzz_fail("edge_start decreases at object %llu", (unsigned long long)i);
		for (uint64_t e = snap->edge_start[i]; e < snap->edge_start[i + 1]; e++) {
			if (snap->edge_dst[e] >= snap->nobjects ||
			    snap->edge_kind[e] > HS_EDGE_CONSERVATIVE ||
			    snap->edge_form[e] > HS_LABEL_ATTR)
				fuzz_fail("edge %llu: dst %u, kind %u, form %u out of range",
				          (unsigned long long)e, snap->edge_dst[e],
				          snap->edge_kind[e], snap->edge_form[e]);
			/* Like snprintf: NUL-terminated at the length it reports or at the end
			 * of the buffer (a label may hold NUL bytes of a value preview). */
			size_t need = hs_snapshot_edge_label(snap, i, e, label, sizeof(label));
			if (label[need < sizeof(label) ? need : sizeof(label) - 1] != '\0')
				fuzz_fail("edge %llu: label of %zu bytes is not terminated there",
				          (unsigned long long)e, need);
		}
	}
	for (uint64_t i = 0; i < snap->nweak; i++) {
		const struct hs_weak *w = &snap->weak[i];
		if (w->ref >= snap->nobjects || w->referent_plus1 > snap->nobjects ||
		    w->callback_plus1 > snap->nobjects)
			fuzz_fail("weak link %llu out of range", (unsigned long long)i);
	}
	for (uint64_t i = 0; i < snap->nroots; i++) {
		const struct hs_root *r = &snap->roots[i];
		if (r->obj >= snap->nobjects || r->kind >= snap->nstrings ||
		    r->name >= snap->nstrings)
			fuzz_fail("root %llu out of range", (unsigned long long)i);
	}
	for (uint32_t i = 0; i < snap->nmeta; i++) {
		char key[64];
		snprintf(key, sizeof(key), "%.*s", (int)snap->meta[2 * i].len, snap->meta[2 * i].s);
		sink += hs_snapshot_meta(snap, key) != NULL;
	}
	static FILE *devnull;
	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		fuzz_fail("cannot open /dev/null");
	struct hs_error *err = hs_jsonl_export(snap, devnull);
	if (err)
		fuzz_fail("export of an opened snapshot failed: %s", err->message);
}

uint8_t *fuzz_fix_checksums(const uint8_t *data, size_t size, size_t *ret_size)
{
	/* Room for the input plus a rebuilt index: at most 21 bytes per section, plus the
	 * INDEX record and the trailer. */
	size_t cap = size + (size / (HS_SECTION_HEAD_SIZE + HS_SECTION_CRC_SIZE) + 1) * 21 + 64;
	uint8_t *out = malloc(cap);
	if (!out)
		fuzz_fail("out of memory");
	memcpy(out, data, size);
	uint8_t *index = malloc(cap);
	if (!index)
		fuzz_fail("out of memory");
	size_t ilen = 0, nsec = 0, p = HS_FILE_HEADER_SIZE;
	while (p < size && size - p >= HS_SECTION_HEAD_SIZE + HS_SECTION_CRC_SIZE) {
		uint64_t len = 0;
		for (int i = 7; i >= 0; i--)
			len = (len << 8) | out[p + 1 + i];
		if (len > size - p - HS_SECTION_HEAD_SIZE - HS_SECTION_CRC_SIZE)
			break;
		if (out[p] == HS_SEC_INDEX) {
			/* Replace the INDEX with one listing the sections so far, then the trailer.
			 */
			uint8_t count[10];
			size_t clen = hs_varint_put(count, nsec);
			size_t plen = clen + ilen;
			out[p + 1] = HS_SEC_INDEX;
			for (int i = 0; i < 8; i++)
				out[p + 1 + i] = (uint8_t)(plen >> (8 * i));
			memcpy(out + p + HS_SECTION_HEAD_SIZE, count, clen);
			memcpy(out + p + HS_SECTION_HEAD_SIZE + clen, index, ilen);
			len = plen;
		}
		uint32_t crc = hs_crc32c(0, out + p, HS_SECTION_HEAD_SIZE + len);
		size_t c = p + HS_SECTION_HEAD_SIZE + len;
		for (int i = 0; i < 4; i++)
			out[c + i] = (uint8_t)(crc >> (8 * i));
		if (out[p] == HS_SEC_INDEX) {
			size_t t = c + HS_SECTION_CRC_SIZE;
			for (int i = 0; i < 8; i++)
				out[t + i] = (uint8_t)((uint64_t)p >> (8 * i));
			memcpy(out + t + 8, HS_END_MAGIC, 8);
			size = t + HS_TRAILER_SIZE;
			break;
		}
		index[ilen++] = out[p];
		ilen += hs_varint_put(index + ilen, p);
		ilen +=
		    hs_varint_put(index + ilen, HS_SECTION_HEAD_SIZE + len + HS_SECTION_CRC_SIZE);
		nsec++;
		p = c + HS_SECTION_CRC_SIZE;
	}
	free(index);
	*ret_size = size;
	return out;
}
