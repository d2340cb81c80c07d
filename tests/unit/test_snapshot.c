/*
 * test_snapshot.c — the writer and reader together: a round trip keeps every field, the writer
 * refuses misuse, files are created 0600 and only renamed into place when complete, and the
 * reader rejects bad files with the exact "PATH: offset N: ..." error.
 */
#include <check.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot_maker.h"

/* round_trip_keeps_everything's snapshots: n objects (n_quick when quick), those from split on
 * written through a segment. */
static const struct {
	uint64_t n, n_quick, split;
} splits[] = {
    {200000, 70000, UINT64_MAX}, /* no segment; several chunks (two when quick) */
    {20000, 20000, 7400},        /* a segment from the middle of a chunk */
    {20000, 20000, 0},           /* a segment with all the objects */
    {70000, 70000, 65536},       /* a segment from the second chunk's first object */
};

START_TEST(round_trip_keeps_everything)
{
	char *path = maker_path("rt.hsnap");
	const uint64_t n = test_size(splits[_i].n, splits[_i].n_quick);
	make_snapshot_split(path, n, splits[_i].split < n ? splits[_i].split : n);
	struct hs_snapshot *s;
	CK_OK(hs_snapshot_open(path, false, &s));
	ck_assert_ptr_null(s->salvage_warning);
	ck_assert_str_eq(s->header.producer, "test");
	ck_assert_str_eq(s->header.runtime_version, "3.11.7");
	ck_assert_uint_eq(s->header.pid, 42);
	ck_assert_uint_eq(s->header.time_ns, 1700000000000000000ull);
	ck_assert_int_eq(s->header.method, HS_METHOD_INPROC);
	ck_assert_uint_eq(s->nobjects, n);
	ck_assert_uint_eq(s->ntypes, 3);
	ck_assert_uint_eq(s->nedges, n + (n + 1) / 2);
	ck_assert_uint_eq(s->nweak, 2);
	ck_assert_uint_eq(s->nroots, 2);
	const struct hs_string *m = hs_snapshot_meta(s, "python");
	ck_assert_ptr_nonnull(m);
	ck_assert_mem_eq(m->s, "/usr/bin/python3", m->len);
	for (uint64_t i = 0; i < n; i++) {
		ck_assert_uint_eq(s->addr[i], 0x1000 + 48 * i);
		ck_assert_uint_eq(s->type[i], i % 3);
		ck_assert_uint_eq(s->size[i], i % 5 ? 64 : 100 + i);
		ck_assert_uint_eq(s->refcnt[i], i + 1);
		ck_assert_uint_eq(s->generation[i], i % 3 == 2 ? HS_GEN_NONE : i % 3);
		ck_assert_uint_eq(s->flags[i], i % 3 == 2 ? 0 : HS_OBJ_GC);
		uint64_t e = s->edge_start[i];
		ck_assert_uint_eq(s->edge_start[i + 1] - e, i % 2 == 0 ? 2 : 1);
		ck_assert_uint_eq(s->edge_dst[e], (i + 1) % n);
		ck_assert_uint_eq(s->edge_form[e], HS_LABEL_ORDINAL);
		if (i % 2 == 0) {
			ck_assert_uint_eq(s->edge_dst[e + 1], i / 2);
			ck_assert_uint_eq(s->edge_kind[e + 1],
			                  i % 4 ? HS_EDGE_OWNED : HS_EDGE_TRAVERSE);
			char buf[16];
			ck_assert_uint_eq(hs_snapshot_edge_label(s, i, e + 1, buf, sizeof(buf)), 2);
			ck_assert_str_eq(buf, ".x");
		}
		ck_assert_uint_eq(s->value[i] != 0, i % 7 == 0);
		if (i % 7 == 0) {
			char v[32];
			int len = snprintf(v, sizeof(v), "v%llu", (unsigned long long)i);
			const struct hs_string *val = &s->values[s->value[i] - 1];
			ck_assert_uint_eq(val->len, (size_t)len);
			ck_assert_mem_eq(val->s, v, (size_t)len);
		}
	}
	ck_assert_uint_eq(s->weak[0].ref, n - 1);
	ck_assert_uint_eq(s->weak[0].referent_plus1, 1);
	ck_assert_uint_eq(s->weak[1].referent_plus1, 0);
	ck_assert_int_eq(hs_snapshot_find(s, 0x1000 + 48 * 77), 77);
	ck_assert_int_eq(hs_snapshot_find(s, 0x1001), -1);
	size_t len;
	const char *tn = hs_snapshot_type_name(s, 1, &len);
	ck_assert_mem_eq(tn, "list", 4);
	hs_snapshot_destroy(s);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(file_is_private_and_appears_only_when_complete)
{
	char *path = maker_path("private.hsnap");
	struct hs_header h = {"test", "cpython", "3.11", 8, 0, 0, HS_METHOD_INPROC};
	struct hs_writer *w;
	umask(0);
	CK_OK(hs_writer_create(path, &h, &w));
	ck_assert_int_ne(access(path, F_OK), 0); /* not there until finished */
	/* One fresh temporary with a random name (hs_out_open) next to it. */
	char *pattern;
	ck_assert_int_ge(asprintf(&pattern, "%s.tmp-??????", path), 0);
	glob_t g;
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	ck_assert_uint_eq(g.gl_pathc, 1);
	char *tmp = strdup(g.gl_pathv[0]);
	globfree(&g);
	free(pattern);
	struct stat st;
	ck_assert_int_eq(stat(tmp, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* Abandoned: the temporary file goes, nothing is left that passes for a snapshot. */
	hs_writer_destroy(w);
	ck_assert_int_ne(access(tmp, F_OK), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
	make_snapshot(path, 10);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	umask(022);
	unlink(path);
	free(tmp);
	free(path);
}
END_TEST

/* Each misuse of the writer and the start of the error it gives. */
START_TEST(writer_refuses_misuse)
{
	char *path = maker_path("misuse.hsnap");
	struct hs_header h = {"test", "cpython", "3.11", 8, 0, 0, HS_METHOD_INPROC};
	struct hs_writer *w;
	struct hs_error *err;
	uint32_t t;
#define EXPECT(call, text)                                                                         \
	do {                                                                                       \
		err = (call);                                                                      \
		ck_assert_ptr_nonnull(err);                                                        \
		ck_assert_msg(strstr(err->message, text), "%s: got '%s'", #call, err->message);    \
		hs_error_destroy(err);                                                             \
	} while (0)
	/* Addresses must increase. */
	CK_OK(hs_writer_create(path, &h, &w));
	CK_OK(hs_writer_type(w, "int", "", 28, 0, 0, &t));
	CK_OK(hs_writer_object(w, 0x2000, t, 28, 1, 0, HS_GEN_NONE));
	EXPECT(hs_writer_object(w, 0x2000, t, 28, 1, 0, HS_GEN_NONE), "not above the previous");
	EXPECT(hs_writer_object(w, 0x3000, t, 28, 1, 0, HS_GEN_NONE), "an earlier write failed");
	EXPECT(hs_writer_finish(w, NULL), "an earlier write failed");
	hs_writer_destroy(w);
	/* Unknown type, bad generation, edge before any object, value twice. */
	CK_OK(hs_writer_create(path, &h, &w));
	EXPECT(hs_writer_object(w, 0x10, 5, 28, 1, 0, HS_GEN_NONE), "no type 5");
	hs_writer_destroy(w);
	CK_OK(hs_writer_create(path, &h, &w));
	CK_OK(hs_writer_type(w, "int", "", 28, 0, 0, &t));
	EXPECT(hs_writer_object(w, 0x10, t, 28, 1, 0, 7), "generation 7");
	hs_writer_destroy(w);
	CK_OK(hs_writer_create(path, &h, &w));
	EXPECT(hs_writer_edge(w, 0, HS_EDGE_TRAVERSE, HS_LABEL_NONE, 0), "outside an object");
	hs_writer_destroy(w);
	CK_OK(hs_writer_create(path, &h, &w));
	CK_OK(hs_writer_type(w, "int", "", 28, 0, 0, &t));
	CK_OK(hs_writer_object(w, 0x10, t, 28, 1, 0, HS_GEN_NONE));
	CK_OK(hs_writer_value(w, "1", 1));
	EXPECT(hs_writer_value(w, "1", 1), "given twice");
	hs_writer_destroy(w);
	/* Links to missing objects; objects after links. */
	CK_OK(hs_writer_create(path, &h, &w));
	CK_OK(hs_writer_type(w, "int", "", 28, 0, 0, &t));
	CK_OK(hs_writer_object(w, 0x10, t, 28, 1, 0, HS_GEN_NONE));
	EXPECT(hs_writer_root(w, 1, "module", "m"), "root 1: no such object");
	hs_writer_destroy(w);
	CK_OK(hs_writer_create(path, &h, &w));
	CK_OK(hs_writer_type(w, "int", "", 28, 0, 0, &t));
	CK_OK(hs_writer_object(w, 0x10, t, 28, 1, 0, HS_GEN_NONE));
	CK_OK(hs_writer_root(w, 0, "module", "m"));
	EXPECT(hs_writer_object(w, 0x20, t, 28, 1, 0, HS_GEN_NONE), "after weak links or roots");
	hs_writer_destroy(w);
	/* Edges to objects never written are caught when the file is read. */
	CK_OK(hs_writer_create(path, &h, &w));
	CK_OK(hs_writer_type(w, "int", "", 28, 0, 0, &t));
	CK_OK(hs_writer_object(w, 0x10, t, 28, 1, 0, HS_GEN_NONE));
	CK_OK(hs_writer_edge(w, 9, HS_EDGE_TRAVERSE, HS_LABEL_NONE, 0));
	CK_OK(hs_writer_finish(w, NULL));
	hs_writer_destroy(w);
	struct hs_snapshot *s;
	EXPECT(hs_snapshot_open(path, false, &s), "object 0 edge 0: no object 9");
	ck_assert_int_ne(access(path, F_OK), -1);
	unlink(path);
	/* A directory that does not exist: the error names the output. */
	EXPECT(hs_writer_create("/nonexistent-dir/x.hsnap", &h, &w),
	       "/nonexistent-dir/x.hsnap: create a temporary file next to");
#undef EXPECT
	free(path);
}
END_TEST

/* Writes objects with 0, 1, 127, 128, 300 and 20000 edges (their counts take one to three
 * bytes) of every kind and label form, edge by edge or in one call. */
static void write_edges(const char *path, bool batch)
{
	static const size_t counts[] = {0, 1, 127, 128, 300, 20000, 2};
	const size_t nobj = sizeof(counts) / sizeof(counts[0]);
	struct hs_header h = {"test", "cpython", "3.12", 8, 0, 0, HS_METHOD_INPROC};
	struct hs_writer *w;
	uint32_t t, label;
	CK_OK(hs_writer_create(path, &h, &w));
	CK_OK(hs_writer_type(w, "list", "", 56, 0, 0, &t));
	CK_OK(hs_writer_string(w, ".x", 2, &label));
	struct hs_edge *edges = calloc(20000, sizeof(*edges));
	ck_assert_ptr_nonnull(edges);
	for (size_t i = 0; i < nobj; i++) {
		CK_OK(hs_writer_object(w, 0x1000 + 64 * i, t, 56, 1, 0, HS_GEN_NONE));
		for (size_t e = 0; e < counts[i]; e++) {
			uint8_t form = (uint8_t)((e + i) % 6);
			edges[e] = (struct hs_edge){
			    .dst = (e * 7 + i) % nobj,
			    .label_value = form == HS_LABEL_STRING ? label
			                   : e % 3                 ? e
			                                           : 100000 + e,
			    .kind = (uint8_t)(e % 5 == 0 ? HS_EDGE_OWNED : HS_EDGE_TRAVERSE),
			    .form = form};
			if (form == HS_LABEL_KEY || form == HS_LABEL_ATTR)
				edges[e].label_value %= nobj;
			if (!batch)
				CK_OK(hs_writer_edge(w, edges[e].dst, edges[e].kind, edges[e].form,
				                     edges[e].label_value));
		}
		if (batch)
			CK_OK(hs_writer_edges(w, edges, counts[i]));
	}
	free(edges);
	CK_OK(hs_writer_finish(w, NULL));
	hs_writer_destroy(w);
}

/* hs_writer_edges writes the very bytes of as many hs_writer_edge calls, and the reader reads
 * every edge back; a bad edge in a batch fails the call. */
START_TEST(edges_in_one_call_match_one_by_one)
{
	char *p1 = maker_path("edges1.hsnap"), *p2 = maker_path("edges2.hsnap");
	write_edges(p1, false);
	write_edges(p2, true);
	size_t n1, n2;
	uint8_t *b1 = read_all(p1, &n1), *b2 = read_all(p2, &n2);
	ck_assert_uint_eq(n1, n2);
	ck_assert_mem_eq(b1, b2, n1);
	struct hs_snapshot *s;
	CK_OK(hs_snapshot_open(p2, false, &s));
	ck_assert_uint_eq(s->nobjects, 7);
	ck_assert_uint_eq(s->nedges, 0 + 1 + 127 + 128 + 300 + 20000 + 2);
	ck_assert_uint_eq(s->edge_start[5] - s->edge_start[4], 300);
	uint64_t e = s->edge_start[5] + 19999; /* object 5's last edge */
	ck_assert_uint_eq(s->edge_dst[e], (19999 * 7 + 5) % 7);
	ck_assert_uint_eq(s->edge_kind[e], HS_EDGE_TRAVERSE);
	ck_assert_uint_eq(s->edge_form[e], (19999 + 5) % 6);
	hs_snapshot_destroy(s);
	free(b1);
	free(b2);
	unlink(p1);
	unlink(p2);

	struct hs_header h = {"test", "cpython", "3.12", 8, 0, 0, HS_METHOD_INPROC};
	struct hs_writer *w;
	uint32_t t;
	struct hs_edge bad[2] = {{0, 0, HS_EDGE_TRAVERSE, HS_LABEL_NONE}, {0, 0, 7, HS_LABEL_NONE}};
	CK_OK(hs_writer_create(p1, &h, &w));
	struct hs_error *err = hs_writer_edges(w, bad, 1);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "outside an object"));
	hs_error_destroy(err);
	hs_writer_destroy(w);
	CK_OK(hs_writer_create(p1, &h, &w));
	CK_OK(hs_writer_type(w, "int", "", 28, 0, 0, &t));
	CK_OK(hs_writer_object(w, 0x10, t, 28, 1, 0, HS_GEN_NONE));
	err = hs_writer_edges(w, bad, 2);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "bad edge (dst 0, kind 7"));
	hs_error_destroy(err);
	hs_writer_destroy(w);
	free(p1);
	free(p2);
}
END_TEST

/* A segment declares nothing of its own, and is appended only where its objects belong. */
static void expect_error(struct hs_error *err, const char *text)
{
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err->message, text), "'%s' lacks '%s'", err->message, text);
	hs_error_destroy(err);
}

START_TEST(segment_refuses_misuse)
{
	char *path = maker_path("seg.hsnap");
	struct hs_header h = {"test", "cpython", "3.12", 8, 0, 0, HS_METHOD_INPROC};
	struct hs_writer *w, *s;
	uint32_t t, id;
	CK_OK(hs_writer_create(path, &h, &w));
	CK_OK(hs_writer_type(w, "int", "", 28, 0, 0, &t));
	CK_OK(hs_writer_segment(w, 2, &s));
	expect_error(hs_writer_string(s, "x", 1, &id), "a string in a segment");
	hs_writer_destroy(s);
	CK_OK(hs_writer_segment(w, 2, &s));
	expect_error(hs_writer_type(s, "x", "", 1, 0, 0, &id), "a type in a segment");
	hs_writer_destroy(s);
	CK_OK(hs_writer_segment(w, 2, &s));
	CK_OK(hs_writer_object(s, 0x100, t, 28, 1, 0, HS_GEN_NONE));
	expect_error(hs_writer_finish(s, NULL), "finish in a segment");
	hs_writer_destroy(s);
	CK_OK(hs_writer_segment(w, 1, &s));
	CK_OK(hs_writer_object(s, 0x100, t, 28, 1, 0, HS_GEN_NONE));
	CK_OK(hs_writer_object(w, 0x200, t, 28, 1, 0, HS_GEN_NONE));
	expect_error(hs_writer_append(w, s), "object 0x100 is not above the previous 0x200");
	hs_writer_destroy(w);
	CK_OK(hs_writer_create(path, &h, &w));
	CK_OK(hs_writer_type(w, "int", "", 28, 0, 0, &t));
	CK_OK(hs_writer_segment(w, 1, &s));
	expect_error(hs_writer_append(w, s), "the segment starts at object 1, not 0");
	hs_writer_destroy(w);
	free(path);
}
END_TEST

/* Bad files and the exact error each gives. */
static const struct {
	const char *name;
	const char *bytes;
	size_t len;
	const char *error; /* after "PATH: " */
} bad_files[] = {
    {"empty", "", 0, "offset 0: the file is empty"},
    {"short", "HSNP", 4, "offset 0: file of 4 bytes is too short for a snapshot"},
    {"magic", "HSNQ\r\n\x1a\n\1\0\0\0\0\0\0\0", 16,
     "offset 0: not a heapsnap snapshot (bad magic)"},
    {"version", "HSNP\r\n\x1a\n\3\0\0\0\0\0\0\0", 16,
     "offset 8: format version 3, this reader reads versions 1 to 2"},
    {"version 0", "HSNP\r\n\x1a\n\0\0\0\0\0\0\0\0", 16,
     "offset 8: format version 0, this reader reads versions 1 to 2"},
    {"flags", "HSNP\r\n\x1a\n\1\0\0\0\1\0\0\0", 16,
     "offset 12: reserved flags 00000001 are not zero"},
    {"no sections", "HSNP\r\n\x1a\n\1\0\0\0\0\0\0\0", 16,
     "offset 16: truncated: no section header or end marker here"},
    {"huge section", "HSNP\r\n\x1a\n\1\0\0\0\0\0\0\0\1\xff\xff\xff\xff\xff\xff\xff\xff\0\0\0\0", 29,
     "offset 16: HEADER section of 18446744073709551615 bytes runs past the end of the file"},
};

START_TEST(reader_rejects_bad_files)
{
	char *path = maker_path("bad.hsnap");
	write_all(path, (const uint8_t *)bad_files[_i].bytes, bad_files[_i].len);
	struct hs_snapshot *s;
	struct hs_error *err = hs_snapshot_open(path, true, &s);
	ck_assert_ptr_nonnull(err);
	char *want;
	ck_assert_int_ge(asprintf(&want, "%s: %s", path, bad_files[_i].error), 0);
	ck_assert_str_eq(err->message, want);
	ck_assert_int_eq(err->code, HS_ERROR_FORMAT);
	hs_error_destroy(err);
	free(want);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(reader_names_missing_file)
{
	struct hs_snapshot *s;
	struct hs_error *err = hs_snapshot_open("/nonexistent/snap.hsnap", false, &s);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err->message, "/nonexistent/snap.hsnap: open: No such file or directory");
	ck_assert_int_eq(err->code, HS_ERROR_IO);
	hs_error_destroy(err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("snapshot");
	TCase *tc = tcase_create("snapshot");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, round_trip_keeps_everything, 0, sizeof(splits) / sizeof(splits[0]));
	tcase_add_test(tc, segment_refuses_misuse);
	tcase_add_test(tc, file_is_private_and_appears_only_when_complete);
	tcase_add_test(tc, writer_refuses_misuse);
	tcase_add_test(tc, edges_in_one_call_match_one_by_one);
	tcase_add_loop_test(tc, reader_rejects_bad_files, 0,
	                    sizeof(bad_files) / sizeof(bad_files[0]));
	tcase_add_test(tc, reader_names_missing_file);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
