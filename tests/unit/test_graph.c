/*
 * test_graph.c — table-driven Check tests of the graph analyses (analyzer/graph/): each case
 * is a small heap written through the real writer, read back, analyzed, and compared with
 * answers worked out by hand (the larger random graphs are checked against networkx by
 * tests/integration/test_graph_networkx.py).
 *
 * A case's heap: object i is at 0x1000 * (i + 1) with size 2^i (so a retained size is the set of
 * objects dominated, as bits), refcount = its traverse and owned edges in, plus extra.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "snapshot_maker.h"

struct gcase {
	const char *name;
	/* One char per object: g tracked, u untracked, i immortal (tracked), p permanent
	 * generation, s opaque (tracked, edges found by scanning), t tracked of type "type". */
	const char *objs;
	/* "0-1 1=2 2~3 3:4": traverse, owned, conservative edges, and a traverse edge without a
	 * label (the others are ORDINAL), in each source's order. */
	const char *edges;
	/* Extra refcount per object: a digit, or '-' for -1 (a reference the capture lost). */
	const char *extra;
	const char *named; /* objects that are named roots ("sys.modules" for the first, ...) */
	/* Expected, one char per object ('.' = HS_NONE): */
	const char *idom, *depth, *garbage, *scc_size, *is_root;
	const char *ext_refs; /* one digit or '-' per object */
	uint64_t retained[8];
};

static const struct gcase cases[] = {
    {"diamond",
     "gggg",
     "0-1 0-2 1-3 2-3",
     "1000",
     "",
     ".000",
     "0112",
     "0000",
     "1111",
     "1000",
     "1000",
     {15, 2, 4, 8}},
    {"garbage cycle",
     "ggg",
     "0-1 1-2 2-0",
     "000",
     "",
     "...",
     "...",
     "111",
     "333",
     "000",
     "000",
     {1, 2, 4}},
    {"untracked holder keeps a cycle alive",
     "ugg",
     "0-1 1-2 2-1",
     "100",
     "",
     ".01",
     "012",
     "000",
     "122",
     "100",
     "100",
     {7, 6, 4}},
    /* The collector does not see owned edges; dominators and external references do. */
    {"owned edge into a tracked object",
     "ggggg",
     "0-1 2-3 3-2 3=4",
     "10000",
     "",
     ".0...",
     "01...",
     "00110",
     "11221",
     "10000",
     "10000",
     {3, 2, 4, 8, 16}},
    {"immortal is never garbage nor a root",
     "ig",
     "0-1 1-0",
     "00",
     "",
     "..",
     "..",
     "00",
     "22",
     "00",
     "00",
     {1, 2}},
    {"permanent generation is not collected",
     "pg",
     "0-1 1-0",
     "00",
     "",
     "..",
     "..",
     "00",
     "22",
     "00",
     "00",
     {1, 2}},
    {"opaque object subtracts nothing",
     "sg",
     "0~1 1-0",
     "01",
     "",
     "1.",
     "10",
     "00",
     "22",
     "01",
     "01",
     {1, 3}},
    {"named root with a self loop",
     "gg",
     "0-0 0-1",
     "00",
     "0",
     ".0",
     "01",
     "11",
     "11",
     "10",
     "00",
     {3, 2}},
    {"two roots share a child",
     "gggg",
     "0-2 1-2 2-3",
     "1100",
     "",
     "...2",
     "0012",
     "0000",
     "1111",
     "1100",
     "1100",
     {1, 2, 12, 8}},
    {"back edge needs a semidominator",
     "gggg",
     "0-1 0-3 1-2 2-3 3-1",
     "1000",
     "",
     ".010",
     "0121",
     "0000",
     "1333",
     "1000",
     "1000",
     {15, 6, 4, 8}},
    {"lost reference: negative external refs",
     "gg",
     "0-1 0-1",
     "1-",
     "",
     ".0",
     "01",
     "00",
     "11",
     "10",
     "1-",
     {3, 2}},
    {"untracked objects are never garbage",
     "gu",
     "0-0 0=1",
     "00",
     "",
     "..",
     "..",
     "10",
     "11",
     "00",
     "00",
     {1, 2}},
};

/* The per-edge parse of a case's edge string. */
static int next_edge(const char **p, unsigned *src, char *kind, unsigned *dst)
{
	while (**p == ' ')
		(*p)++;
	if (!**p)
		return 0;
	*src = (unsigned)((*p)[0] - '0');
	*kind = (*p)[1];
	*dst = (unsigned)((*p)[2] - '0');
	*p += 3;
	return 1;
}

static int extra_of(char c)
{
	return c == '-' ? -1 : c - '0';
}

static char *write_case(const struct gcase *c)
{
	char *path = maker_path("graph.hsnap");
	size_t n = strlen(c->objs);
	int indeg[8] = {0};
	unsigned s, d;
	char k;
	for (const char *p = c->edges; next_edge(&p, &s, &k, &d);)
		indeg[d] += k != '~';

	struct hs_header h = {"test", "cpython", "3.11.7", 8, 1, 1, HS_METHOD_CONVERT};
	struct hs_writer *w;
	CK_OK(hs_writer_create(path, &h, &w));
	uint32_t tobj, ttype, tstr;
	CK_OK(hs_writer_type(w, "obj", "", 0, 0, HS_TYPE_GC, &tobj));
	CK_OK(hs_writer_type(w, "type", "builtins", 0, 0, HS_TYPE_GC, &ttype));
	CK_OK(hs_writer_type(w, "str", "builtins", 0, 0, 0, &tstr));
	for (size_t i = 0; i < n; i++) {
		char o = c->objs[i];
		uint8_t flags = o == 'u' ? 0 : HS_OBJ_GC;
		flags |= o == 'i' ? HS_OBJ_IMMORTAL : o == 's' ? HS_OBJ_CONSERVATIVE_SCAN : 0;
		uint64_t refcnt =
		    o == 'i' ? 0xFFFFFFFF : (uint64_t)(indeg[i] + extra_of(c->extra[i]));
		uint8_t gen = o == 'u' ? HS_GEN_NONE : o == 'p' ? HS_GEN_PERMANENT : 2;
		CK_OK(hs_writer_object(w, 0x1000 * (i + 1),
		                       o == 't'   ? ttype
		                       : o == 'u' ? tstr
		                                  : tobj,
		                       1u << i, refcnt, flags, gen));
		for (const char *p = c->edges; next_edge(&p, &s, &k, &d);) {
			if (s != i)
				continue;
			enum hs_edge_kind kind = k == '='   ? HS_EDGE_OWNED
			                         : k == '~' ? HS_EDGE_CONSERVATIVE
			                                    : HS_EDGE_TRAVERSE;
			CK_OK(hs_writer_edge(w, d, kind,
			                     k == ':' ? HS_LABEL_NONE : HS_LABEL_ORDINAL, 0));
		}
	}
	for (const char *r = c->named; *r; r++)
		CK_OK(hs_writer_root(w, (uint64_t)(*r - '0'), "module",
		                     r == c->named ? "sys.modules" : ""));
	CK_OK(hs_writer_finish(w, NULL));
	hs_writer_destroy(w);
	return path;
}

static struct hs_snapshot *open_case(const struct gcase *c, struct hs_analysis **a)
{
	char *path = write_case(c);
	struct hs_snapshot *snap;
	CK_OK(hs_snapshot_open(path, false, &snap));
	unlink(path);
	free(path);
	CK_OK(hs_analyze(snap, NULL, NULL, a));
	return snap;
}

static char none_or_digit(uint32_t v)
{
	return v == HS_NONE ? '.' : (char)('0' + v);
}

START_TEST(test_case)
{
	const struct gcase *c = &cases[_i];
	struct hs_analysis *a;
	struct hs_snapshot *snap = open_case(c, &a);
	size_t n = strlen(c->objs);
	char idom[9] = "", depth[9] = "", garbage[9] = "", scc[9] = "", root[9] = "", ext[9] = "";
	for (size_t i = 0; i < n; i++) {
		idom[i] = none_or_digit(a->idom[i]);
		depth[i] = none_or_digit(a->depth[i]);
		garbage[i] = (char)('0' + a->unreachable[i]);
		scc[i] = (char)('0' + a->scc_size[i]);
		root[i] = (char)('0' + a->is_root[i]);
		ext[i] = a->ext_refs[i] < 0 ? '-' : (char)('0' + a->ext_refs[i]);
		ck_assert_msg(a->retained[i] == c->retained[i], "%s: retained[%zu] %llu != %llu",
		              c->name, i, (unsigned long long)a->retained[i],
		              (unsigned long long)c->retained[i]);
		/* Objects share an id exactly with the members of their component. */
		uint32_t same = 0;
		for (size_t j = 0; j < n; j++)
			same += a->scc[j] == a->scc[i];
		ck_assert_msg(same == a->scc_size[i], "%s: scc id of %zu", c->name, i);
	}
	ck_assert_msg(strcmp(idom, c->idom) == 0, "%s: idom %s, want %s", c->name, idom, c->idom);
	ck_assert_msg(strcmp(depth, c->depth) == 0, "%s: depth %s, want %s", c->name, depth,
	              c->depth);
	ck_assert_msg(strcmp(garbage, c->garbage) == 0, "%s: garbage %s, want %s", c->name, garbage,
	              c->garbage);
	ck_assert_msg(strcmp(scc, c->scc_size) == 0, "%s: scc_size %s, want %s", c->name, scc,
	              c->scc_size);
	ck_assert_msg(strcmp(root, c->is_root) == 0, "%s: is_root %s, want %s", c->name, root,
	              c->is_root);
	ck_assert_msg(strcmp(ext, c->ext_refs) == 0, "%s: ext_refs %s, want %s", c->name, ext,
	              c->ext_refs);
	/* Depth and parent_edge agree: a root has no parent edge, others one into them. */
	for (size_t i = 0; i < n; i++) {
		if (a->depth[i] == 0 || a->depth[i] == HS_NONE)
			ck_assert_uint_eq(a->parent_edge[i], UINT64_MAX);
		else
			ck_assert_uint_eq(snap->edge_dst[a->parent_edge[i]], i);
	}
	hs_analysis_destroy(a);
	hs_snapshot_destroy(snap);
}
END_TEST

static char *path_of(const struct gcase *c, uint64_t x)
{
	struct hs_analysis *a;
	struct hs_snapshot *snap = open_case(c, &a);
	char *text;
	CK_OK(hs_path_text(snap, a, x, &text));
	hs_analysis_destroy(a);
	hs_snapshot_destroy(snap);
	return text;
}

START_TEST(test_path)
{
	static const struct gcase named = {
	    .objs = "gggg", .edges = "0-1 0-2 1-3 2-3", .extra = "0000", .named = "0"};
	static const struct gcase unnamed = {
	    .objs = "gggg", .edges = "0-2 1-2 2-3", .extra = "1100", .named = ""};
	static const struct gcase unlabelled = {
	    .objs = "gg", .edges = "0:1", .extra = "10", .named = ""};
	static const struct gcase unreached = {
	    .objs = "gg", .edges = "", .extra = "10", .named = ""};
	char *t = path_of(&named, 3);
	ck_assert_str_eq(t, "sys.modules[0][0]");
	free(t);
	t = path_of(&named, 0);
	ck_assert_str_eq(t, "sys.modules");
	free(t);
	t = path_of(&unnamed, 3);
	ck_assert_str_eq(t, "<obj at 0x1000>[0][0]");
	free(t);
	t = path_of(&unlabelled, 1);
	ck_assert_str_eq(t, "<obj at 0x1000>-><obj at 0x2000>");
	free(t);
	ck_assert_ptr_null(path_of(&unreached, 1));
}
END_TEST

START_TEST(test_deep_size)
{
	/* 0 -> 1 (a type) -> 2; 0 -> 3 -> 2; 3 = 4 (owned, a str key) */
	static const struct gcase c = {
	    .objs = "gtggu", .edges = "0-1 0-3 1-2 3-2 3=4", .extra = "10000", .named = ""};
	char *path = write_case(&c);
	struct hs_snapshot *snap;
	CK_OK(hs_snapshot_open(path, false, &snap));
	unlink(path);
	free(path);
	uint64_t deep;
	CK_OK(hs_deep_size(snap, 0, &deep));
	ck_assert_uint_eq(deep, 1 + 4 + 8 + 16); /* everything but the type */
	CK_OK(hs_deep_size(snap, 1, &deep));
	ck_assert_uint_eq(deep, 2 + 4); /* a type is entered when the walk starts there */
	CK_OK(hs_deep_size(snap, 4, &deep));
	ck_assert_uint_eq(deep, 16);
	struct hs_error *err = hs_deep_size(snap, 5, &deep);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, HS_ERROR_USAGE);
	ck_assert_msg(strstr(err->message, "no object with index 5"), "%s", err->message);
	hs_error_destroy(err);

	struct hs_analysis *a;
	CK_OK(hs_analyze(snap, NULL, NULL, &a));
	char *text;
	err = hs_path_text(snap, a, 99, &text);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, HS_ERROR_USAGE);
	hs_error_destroy(err);
	hs_analysis_destroy(a);
	hs_snapshot_destroy(snap);
}
END_TEST

/* A chain far longer than any C stack: every phase must be iterative. */
START_TEST(test_long_chain)
{
	const uint64_t N = test_size(2000000, 300000);
	char *path = maker_path("chain.hsnap");
	struct hs_header h = {"test", "cpython", "3.11.7", 8, 1, 1, HS_METHOD_CONVERT};
	struct hs_writer *w;
	CK_OK(hs_writer_create(path, &h, &w));
	uint32_t t;
	CK_OK(hs_writer_type(w, "obj", "", 16, 0, HS_TYPE_GC, &t));
	for (uint64_t i = 0; i < N; i++) {
		CK_OK(hs_writer_object(w, 0x1000 + 16 * i, t, 16, 1 + (i == 0), HS_OBJ_GC, 2));
		CK_OK(hs_writer_edge(w, (i + 1) % N, HS_EDGE_TRAVERSE, HS_LABEL_NONE, 0));
	}
	CK_OK(hs_writer_finish(w, NULL));
	hs_writer_destroy(w);
	struct hs_snapshot *snap;
	CK_OK(hs_snapshot_open(path, false, &snap));
	unlink(path);
	free(path);
	struct hs_analysis *a;
	CK_OK(hs_analyze(snap, NULL, NULL, &a));
	ck_assert_uint_eq(a->nsccs, 1);
	ck_assert_uint_eq(a->scc_size[N / 2], N);
	ck_assert_uint_eq(a->depth[N - 1], N - 1);
	ck_assert_uint_eq(a->idom[N - 1], N - 2);
	ck_assert_uint_eq(a->retained[0], 16ull * N);
	ck_assert_uint_eq(a->retained[N - 1], 16);
	ck_assert_uint_eq(a->ngarbage, 0);
	ck_assert_uint_eq(a->nroots, 1);
	ck_assert_uint_eq(a->nreached, N);
	hs_analysis_destroy(a);
	hs_snapshot_destroy(snap);
}
END_TEST

/* What hs_analyze_early's callback saw: copies of the arrays it may read. */
struct early_seen {
	uint64_t n, ngarbage;
	uint32_t depth[16];
	uint64_t parent_edge[16];
	uint8_t unreachable[16];
	uint32_t idom[16];
	uint64_t retained[16];
	enum hs_early_at at;
	int calls;
};

static struct hs_error *copy_early(void *arg, const struct hs_analysis *a)
{
	struct early_seen *e = arg;
	e->calls++;
	memcpy(e->depth, a->depth, e->n * sizeof(*e->depth));
	memcpy(e->parent_edge, a->parent_edge, e->n * sizeof(*e->parent_edge));
	memcpy(e->unreachable, a->unreachable, e->n);
	if (e->at == HS_EARLY_DOMINATORS) {
		memcpy(e->idom, a->idom, e->n * sizeof(*e->idom));
		memcpy(e->retained, a->retained, e->n * sizeof(*e->retained));
	}
	e->ngarbage = a->ngarbage;
	return NULL;
}

/* hs_analyze_early gives the callback the final depth, parent_edge and garbage (and at
 * HS_EARLY_DOMINATORS idom and retained), and ends with every array as hs_analyze gives it (the
 * first answers of `summary`, `top --by retained`, `path` and `show` rely on both). */
START_TEST(test_early)
{
	const struct gcase *c = &cases[_i];
	struct hs_analysis *a, *b;
	struct hs_snapshot *snap = open_case(c, &a);
	uint64_t n = snap->nobjects;
	ck_assert_uint_le(n, 16);
	for (int at = HS_EARLY_DEPTH; at <= HS_EARLY_DOMINATORS; at++) {
		struct early_seen e = {.n = n, .at = (enum hs_early_at)at};
		CK_OK(hs_analyze_early(snap, NULL, NULL, copy_early, &e, (enum hs_early_at)at, &b));
		ck_assert_int_eq(e.calls, 1);
		ck_assert_mem_eq(e.depth, a->depth, n * sizeof(*a->depth));
		ck_assert_mem_eq(e.parent_edge, a->parent_edge, n * sizeof(*a->parent_edge));
		ck_assert_mem_eq(e.unreachable, a->unreachable, n);
		ck_assert_uint_eq(e.ngarbage, a->ngarbage);
		if (at == HS_EARLY_DOMINATORS) {
			ck_assert_mem_eq(e.idom, a->idom, n * sizeof(*a->idom));
			ck_assert_mem_eq(e.retained, a->retained, n * sizeof(*a->retained));
		}
		ck_assert_mem_eq(b->scc, a->scc, n * sizeof(*a->scc));
		ck_assert_mem_eq(b->scc_size, a->scc_size, n * sizeof(*a->scc_size));
		ck_assert_mem_eq(b->idom, a->idom, n * sizeof(*a->idom));
		ck_assert_mem_eq(b->retained, a->retained, n * sizeof(*a->retained));
		ck_assert_mem_eq(b->depth, a->depth, n * sizeof(*a->depth));
		ck_assert_mem_eq(b->parent_edge, a->parent_edge, n * sizeof(*a->parent_edge));
		ck_assert_mem_eq(b->ext_refs, a->ext_refs, n * sizeof(*a->ext_refs));
		ck_assert_uint_eq(b->nsccs, a->nsccs);
		ck_assert_uint_eq(b->nreached, a->nreached);
		ck_assert_uint_eq(b->nroots, a->nroots);
		ck_assert_uint_eq(b->phases, a->phases);
		hs_analysis_destroy(b);
	}
	hs_analysis_destroy(a);
	hs_snapshot_destroy(snap);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("graph");
	TCase *tc = tcase_create("graph");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_case, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_loop_test(tc, test_early, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_deep_size);
	tcase_add_test(tc, test_long_chain);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
