/*
 * snapshot_maker.h — builds small and large snapshots through the real writer for the unit
 * tests of the reader (round trip, corruption, salvage).  Header-only: tests include it.
 */
#ifndef HS_TEST_SNAPSHOT_MAKER_H
#define HS_TEST_SNAPSHOT_MAKER_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsnap.h"

/* full, or quick when HS_TEST_QUICK is set (./dev test sets it for the run under valgrind, which
 * is some 100 times slower here): sizes that still make the test's point with less work. */
static inline uint64_t test_size(uint64_t full, uint64_t quick)
{
	const char *q = getenv("HS_TEST_QUICK");
	return q && *q && *q != '0' ? quick : full;
}

/* A unique path under the test's temporary directory. */
static inline char *maker_path(const char *name)
{
	char *p;
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	ck_assert_int_ge(asprintf(&p, "%s/hs-test-%d-%s", dir, (int)getpid(), name), 0);
	return p;
}

#define CK_OK(expr)                                                                                \
	do {                                                                                       \
		struct hs_error *err_ = (expr);                                                    \
		ck_assert_msg(err_ == NULL, "%s: %s", #expr, err_ ? err_->message : "");           \
	} while (0)

/* n objects at 0x1000 + 48*i: type i%3, object i refers to (i+1)%n (label "[0]") and, for even
 * i, to i/2 (labelled with the string "x"); every 7th has a value "v<i>"; two weak links, one
 * dead; two roots.  The objects from split on go through a segment (hs_writer_segment), written
 * before the objects ahead of it and appended after them. */
static inline void make_snapshot_split(const char *path, uint64_t n, uint64_t split)
{
	struct hs_header h = {"test",          "cpython", "3.11.7", 8, 42, 1700000000000000000ull,
	                      HS_METHOD_INPROC};
	struct hs_writer *w;
	CK_OK(hs_writer_create(path, &h, &w));
	uint32_t t[3], x;
	CK_OK(hs_writer_type(w, "dict", "builtins", 64, 0, HS_TYPE_GC, &t[0]));
	CK_OK(hs_writer_type(w, "list", "builtins", 56, 0, HS_TYPE_GC, &t[1]));
	CK_OK(hs_writer_type(w, "str", "builtins", 50, 0, 0, &t[2]));
	CK_OK(hs_writer_string(w, ".x", 2, &x));
	CK_OK(hs_writer_meta(w, "python", "/usr/bin/python3"));
	struct hs_writer *seg = NULL, *main = w;
	if (split < n)
		CK_OK(hs_writer_segment(main, split, &seg));
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = split < n ? (k + split) % n : k; /* the segment's objects first */
		w = i < split ? main : seg;
		CK_OK(hs_writer_object(w, 0x1000 + 48 * i, t[i % 3], i % 5 ? 64 : 100 + i, i + 1,
		                       i % 3 == 2 ? 0 : HS_OBJ_GC,
		                       i % 3 == 2 ? HS_GEN_NONE : i % 3));
		CK_OK(hs_writer_edge(w, (i + 1) % n, HS_EDGE_TRAVERSE, HS_LABEL_ORDINAL, 0));
		if (i % 2 == 0)
			CK_OK(hs_writer_edge(w, i / 2, i % 4 ? HS_EDGE_OWNED : HS_EDGE_TRAVERSE,
			                     HS_LABEL_STRING, x));
		if (i % 7 == 0) {
			char v[32];
			int len = snprintf(v, sizeof(v), "v%llu", (unsigned long long)i);
			CK_OK(hs_writer_value(w, v, (size_t)len));
		}
	}
	w = main;
	if (seg)
		CK_OK(hs_writer_append(w, seg));
	CK_OK(hs_writer_weak(w, n - 1, 1, 0));
	CK_OK(hs_writer_weak(w, n - 2, 0, 0));
	CK_OK(hs_writer_root(w, 0, "module", "sys.modules"));
	CK_OK(hs_writer_root(w, n / 2, "frame", "<frame main>"));
	CK_OK(hs_writer_finish(w, NULL));
	hs_writer_destroy(w);
}

static inline void make_snapshot(const char *path, uint64_t n)
{
	make_snapshot_split(path, n, n);
}

static inline uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(*len ? *len : 1);
	ck_assert_uint_eq(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

static inline void write_all(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	fclose(f);
}

#endif
