/*
 * test_store.c — Check suite for the SQLite store (analyzer/store/): every column
 * the store writes equals the snapshot and the analysis it came from; hs_path (from the database's
 * columns) equals hs_path_text (from the analysis) for every object; the SQL functions; opening
 * refuses foreign and stale databases; ADDR parsing; database path naming; SQLite's
 * integrity_check passes and every index is in key order, also for a snapshot with addresses
 * from 2^63, a size of 2^55 (the reader refuses totals over 2^56), garbage cycles and values and
 * labels longer than a page.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot_maker.h"
#include "store.h"

#define N 2000

static char *snap_path, *db_path;
static struct hs_snapshot *snap;
static struct hs_analysis *an;

static void setup(void)
{
	snap_path = maker_path("store.hsnap");
	db_path = maker_path("store.db");
	make_snapshot(snap_path, N);
	CK_OK(hs_snapshot_open(snap_path, false, &snap));
	CK_OK(hs_analyze(snap, NULL, NULL, &an));
	CK_OK(hs_store_build(snap, an, db_path, NULL, NULL));
}

static void teardown(void)
{
	hs_analysis_destroy(an);
	hs_snapshot_destroy(snap);
	unlink(snap_path);
	unlink(db_path);
	free(snap_path);
	free(db_path);
}

static sqlite3 *open_db(void)
{
	sqlite3 *db;
	CK_OK(hs_store_open_db(db_path, true, &db));
	return db;
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	long long v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* SQLite's own check passes: store_tables.c writes most of the file's pages itself. */
static void check_integrity(sqlite3 *db)
{
	sqlite3_stmt *stmt;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 0), "ok");
	sqlite3_finalize(stmt);
}

/* Each index and WITHOUT ROWID table is in its key order (integrity_check compares an index's
 * entries with its table, not their order) and finds every row it holds. */
static void check_index_order(sqlite3 *db)
{
	static const struct {
		const char *scan, *rows;
	} trees[] = {
	    {"SELECT addr, id FROM objects INDEXED BY objects_addr WHERE addr >= "
	     "-9223372036854775808"
	     " ORDER BY addr",
	     "SELECT count(*) FROM objects"},
	    {"SELECT retained, id FROM objects INDEXED BY objects_retained"
	     " WHERE retained >= -9223372036854775808 ORDER BY retained",
	     "SELECT count(*) FROM objects"},
	    {"SELECT scc, id FROM objects INDEXED BY objects_garbage WHERE unreachable AND scc >= 0"
	     " ORDER BY scc",
	     "SELECT count(*) FROM objects WHERE unreachable"},
	    {"SELECT src, id FROM edges INDEXED BY edges_src WHERE src >= 0 ORDER BY src",
	     "SELECT count(*) FROM edges"},
	    {"SELECT dst, edge FROM referrers ORDER BY dst, edge", "SELECT count(*) FROM edges"}};
	for (size_t q = 0; q < sizeof(trees) / sizeof(*trees); q++) {
		sqlite3_stmt *stmt;
		ck_assert_int_eq(sqlite3_prepare_v2(db, trees[q].scan, -1, &stmt, NULL), SQLITE_OK);
		long long prev[2] = {0, 0}, rows = 0;
		for (; sqlite3_step(stmt) == SQLITE_ROW; rows++) {
			long long k = sqlite3_column_int64(stmt, 0),
			          id = sqlite3_column_int64(stmt, 1);
			ck_assert_msg(rows == 0 || prev[0] < k || (prev[0] == k && prev[1] < id),
			              "%s: (%lld, %lld) after (%lld, %lld)", trees[q].scan, k, id,
			              prev[0], prev[1]);
			prev[0] = k, prev[1] = id;
		}
		sqlite3_finalize(stmt);
		ck_assert_int_eq(rows, query_int(db, trees[q].rows));
	}
	ck_assert_int_eq(query_int(db,
	                           "SELECT count(*) FROM objects o WHERE (SELECT id FROM objects"
	                           " INDEXED BY objects_addr WHERE addr = o.addr) = o.id"),
	                 query_int(db, "SELECT count(*) FROM objects"));
}

START_TEST(integrity_and_order)
{
	sqlite3 *db = open_db();
	check_integrity(db);
	check_index_order(db);
	sqlite3_close(db);
}
END_TEST

/* A snapshot with what the usual one lacks: addresses from 2^63 up (negative as SQLite integers),
 * a size of 2^55, GC garbage in several cycles, a value and a label too long for one
 * page (overflow chains). */
START_TEST(odd_snapshot)
{
	char *path = maker_path("odd.hsnap"), *db_path_odd = maker_path("odd.db");
	struct hs_header h = {"test", "cpython", "3.12.1", 8, 42, 0, HS_METHOD_CONVERT};
	struct hs_writer *w;
	CK_OK(hs_writer_create(path, &h, &w));
	uint32_t type, label;
	CK_OK(hs_writer_type(w, "Node", "app", 56, 0, HS_TYPE_GC, &type));
	char *big = malloc(9000);
	memset(big, 'k', 9000);
	CK_OK(hs_writer_string(w, big, 6000, &label));
	enum { M = 300 };
	for (uint64_t i = 0; i < M; i++) {
		/* Objects 0..99 at low addresses, the rest from 2^63; i >= 100 form cycles of 5
		 * that nothing outside refers to: garbage. */
		uint64_t addr = i < 100 ? 0x1000 + 64 * i : (1ull << 63) + 64 * i;
		bool garbage = i >= 100;
		CK_OK(hs_writer_object(w, addr, type, i == 7 ? (UINT64_C(1) << 55) + 5 : 56 + i,
		                       garbage ? 1 : 2, HS_OBJ_GC, 2));
		uint64_t next =
		    garbage ? 100 + (i - 100 + 1) % 5 + (i - 100) / 5 * 5 : (i + 1) % 100;
		CK_OK(hs_writer_edge(w, next, HS_EDGE_TRAVERSE,
		                     i % 2 ? HS_LABEL_STRING : HS_LABEL_NONE, i % 2 ? label : 0));
		if (i % 50 == 0)
			CK_OK(hs_writer_value(w, big, 9000));
	}
	free(big);
	CK_OK(hs_writer_root(w, 0, "module", "sys.modules"));
	CK_OK(hs_writer_finish(w, NULL));
	hs_writer_destroy(w);

	struct hs_snapshot *s;
	struct hs_analysis *a;
	CK_OK(hs_snapshot_open(path, false, &s));
	CK_OK(hs_analyze(s, NULL, NULL, &a));
	ck_assert_uint_eq(a->ngarbage, M - 100);
	CK_OK(hs_store_build(s, a, db_path_odd, NULL, NULL));
	sqlite3 *db;
	CK_OK(hs_store_open_db(db_path_odd, true, &db));
	check_integrity(db);
	check_index_order(db);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM objects WHERE addr < 0"), M - 100);
	ck_assert_int_eq(query_int(db, "SELECT size FROM objects WHERE id = 7"),
	                 (int64_t)(UINT64_C(1) << 55) + 5);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM objects WHERE length(value) = 9000"),
	                 M / 50);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM edges WHERE length(label) = 6000"),
	                 M / 2);
	ck_assert_int_eq(query_int(db, "SELECT count(DISTINCT scc) FROM objects WHERE unreachable"),
	                 (M - 100) / 5);
	sqlite3_close(db);
	hs_analysis_destroy(a);
	hs_snapshot_destroy(s);
	unlink(path);
	unlink(db_path_odd);
	free(path);
	free(db_path_odd);
}
END_TEST

START_TEST(counts_and_identity)
{
	sqlite3 *db = open_db();
	static const struct {
		const char *sql;
		int which; /* 0 objects, 1 edges, 2 weak, 3 roots, 4 types, 5 literal */
		long long literal;
	} cases[] = {
	    {"SELECT count(*) FROM objects", 0, 0},
	    {"SELECT count(*) FROM edges", 1, 0},
	    {"SELECT count(*) FROM weakrefs", 2, 0},
	    {"SELECT count(*) FROM roots", 3, 0},
	    {"SELECT count(*) FROM types", 4, 0},
	    {"PRAGMA application_id", 5, HS_STORE_APPLICATION_ID},
	    {"PRAGMA user_version", 5, HS_STORE_SCHEMA_VERSION},
	    {"SELECT count(*) FROM weakrefs WHERE referent IS NULL", 5, 1},
	    {"SELECT value FROM meta WHERE key = 'objects'", 0, 0},
	    {"SELECT count(*) FROM referrers", 1, 0},
	    {"SELECT count(*) FROM referrers r JOIN edges e ON e.id = r.edge"
	     " WHERE e.src = r.src AND e.dst = r.dst",
	     1, 0},
	    {"SELECT count(*) FROM (SELECT dst, src, count(*) FROM edges GROUP BY dst, src"
	     " EXCEPT SELECT dst, src, count(*) FROM referrers GROUP BY dst, src)",
	     5, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long want = cases[i].which == 0   ? (long long)snap->nobjects
		                 : cases[i].which == 1 ? (long long)snap->nedges
		                 : cases[i].which == 2 ? (long long)snap->nweak
		                 : cases[i].which == 3 ? (long long)snap->nroots
		                 : cases[i].which == 4 ? (long long)snap->ntypes
		                                       : cases[i].literal;
		ck_assert_msg(query_int(db, cases[i].sql) == want, "%s: want %lld", cases[i].sql,
		              want);
	}
	sqlite3_close(db);
}
END_TEST

/* Every object row and every edge row equals the snapshot and the analysis. */
START_TEST(columns_match_analysis)
{
	sqlite3 *db = open_db();
	sqlite3_stmt *stmt;
	ck_assert_int_eq(sqlite3_prepare_v2(db,
	                                    "SELECT id, addr, type_id, size, refcnt, ext_refs,"
	                                    " unreachable, scc, idom, retained, depth, parent_edge,"
	                                    " nrefs, gc FROM objects ORDER BY id",
	                                    -1, &stmt, NULL),
	                 SQLITE_OK);
	uint64_t i = 0;
	for (; sqlite3_step(stmt) == SQLITE_ROW; i++) {
		ck_assert_int_eq(sqlite3_column_int64(stmt, 0), (long long)i);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 1), (long long)snap->addr[i]);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 2), snap->type[i]);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 3), (long long)snap->size[i]);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 4), (long long)snap->refcnt[i]);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 5), an->ext_refs[i]);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 6), an->unreachable[i]);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 7), an->scc[i]);
		if (an->idom[i] == HS_NONE)
			ck_assert_int_eq(sqlite3_column_type(stmt, 8), SQLITE_NULL);
		else
			ck_assert_int_eq(sqlite3_column_int64(stmt, 8), an->idom[i]);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 9), (long long)an->retained[i]);
		if (an->depth[i] == HS_NONE)
			ck_assert_int_eq(sqlite3_column_type(stmt, 10), SQLITE_NULL);
		else
			ck_assert_int_eq(sqlite3_column_int64(stmt, 10), an->depth[i]);
		if (an->parent_edge[i] == UINT64_MAX)
			ck_assert_int_eq(sqlite3_column_type(stmt, 11), SQLITE_NULL);
		else
			ck_assert_int_eq(sqlite3_column_int64(stmt, 11),
			                 (long long)an->parent_edge[i]);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 12),
		                 (long long)(snap->edge_start[i + 1] - snap->edge_start[i]));
		ck_assert_int_eq(sqlite3_column_int64(stmt, 13), snap->flags[i] & HS_OBJ_GC);
	}
	ck_assert_uint_eq(i, snap->nobjects);
	sqlite3_finalize(stmt);

	ck_assert_int_eq(
	    sqlite3_prepare_v2(db, "SELECT id, src, dst, label, kind FROM edges", -1, &stmt, NULL),
	    SQLITE_OK);
	uint64_t e = 0, src = 0;
	for (; sqlite3_step(stmt) == SQLITE_ROW; e++) {
		while (snap->edge_start[src + 1] <= e)
			src++;
		char label[256];
		size_t len = hs_snapshot_edge_label(snap, src, e, label, sizeof(label));
		ck_assert_int_eq(sqlite3_column_int64(stmt, 0), (long long)e);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 1), (long long)src);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 2), snap->edge_dst[e]);
		if (len == 0)
			ck_assert_int_eq(sqlite3_column_type(stmt, 3), SQLITE_NULL);
		else
			ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 3), label);
		ck_assert_int_eq(sqlite3_column_int64(stmt, 4), snap->edge_kind[e]);
	}
	ck_assert_uint_eq(e, snap->nedges);
	sqlite3_finalize(stmt);
	sqlite3_close(db);
}
END_TEST

/* The database's path (parent_edge, depth, roots) spells what the analysis' path does. */
START_TEST(path_matches_hs_path_text)
{
	sqlite3 *db = open_db();
	uint64_t reached = 0;
	/* Under valgrind (HS_TEST_QUICK) every 7th object: a path is a few SQL steps per edge. */
	uint64_t step = getenv("HS_TEST_QUICK") ? 7 : 1;
	for (uint64_t i = 0; i < snap->nobjects; i += step) {
		char *want, *got;
		CK_OK(hs_path_text(snap, an, i, &want));
		CK_OK(hs_store_path(db, (long long)i, &got));
		if (!want) {
			ck_assert_ptr_null(got);
			continue;
		}
		reached++;
		ck_assert_msg(got && strcmp(want, got) == 0, "object %llu: %s != %s",
		              (unsigned long long)i, want, got ? got : "(null)");
		free(want);
		free(got);
	}
	ck_assert_uint_gt(reached, N / 2 / step);
	sqlite3_close(db);
}
END_TEST

START_TEST(sql_functions)
{
	sqlite3 *db = open_db();
	sqlite3_stmt *stmt;
	ck_assert_int_eq(sqlite3_prepare_v2(db,
	                                    "SELECT id, hs_type(id), hs_deep_size(id) FROM objects"
	                                    " WHERE id % 97 = 0 ORDER BY id",
	                                    -1, &stmt, NULL),
	                 SQLITE_OK);
	int rows = 0;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		uint64_t id = (uint64_t)sqlite3_column_int64(stmt, 0), deep;
		size_t len;
		const char *name = hs_snapshot_type_name(snap, snap->type[id], &len);
		ck_assert_int_eq(sqlite3_column_bytes(stmt, 1), (int)len);
		ck_assert_int_eq(memcmp(sqlite3_column_text(stmt, 1), name, len), 0);
		CK_OK(hs_deep_size(snap, id, &deep));
		ck_assert_int_eq(sqlite3_column_int64(stmt, 2), (long long)deep);
		rows++;
	}
	sqlite3_finalize(stmt);
	ck_assert_int_eq(rows, (N + 96) / 97);
	/* Past 256 calls hs_type switches to its cache: the answers stay the same. */
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM objects o JOIN types t"
	                               " ON t.id = o.type_id WHERE hs_type(o.id) = t.name"),
	                 N);
	ck_assert_int_eq(query_int(db, "SELECT hs_type(NULL) IS NULL AND hs_type(-5) IS NULL"
	                               " AND hs_path(NULL) IS NULL AND hs_deep_size(1e9) IS NULL"),
	                 1);
	sqlite3_close(db);
}
END_TEST

START_TEST(refuses_foreign_and_stale)
{
	sqlite3 *db;
	char *other = maker_path("foreign.db");
	ck_assert_int_eq(sqlite3_open(other, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE TABLE objects(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	struct hs_error *err = hs_store_open_db(other, true, &db);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "not a heapsnap database"));
	hs_error_destroy(err);

	FILE *f = fopen(other, "w");
	fputs("not sqlite at all", f);
	fclose(f);
	err = hs_store_open_db(other, true, &db);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "offset 0: not a SQLite database"));
	hs_error_destroy(err);
	unlink(other);
	free(other);

	/* Ours, but another schema version. */
	ck_assert_int_eq(sqlite3_open(db_path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
	                              "UPDATE meta SET value = '999' WHERE key = 'schema_version';"
	                              "PRAGMA user_version = 999",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	err = hs_store_open_db(db_path, true, &db);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "schema version 999"));
	hs_error_destroy(err);
}
END_TEST

START_TEST(find_addresses)
{
	sqlite3 *db = open_db();
	static const struct {
		const char *addr;
		long long id;   /* when found */
		int error_code; /* 0: found */
	} cases[] = {
	    {"0x1000", 0, 0},
	    {"4096", 0, 0},
	    {"0x1030", 1, 0},
	    {"0X1060", 2, 0},
	    {"0x1001", 0, HS_ERROR_OTHER},
	    {"zz", 0, HS_ERROR_USAGE},
	    {"", 0, HS_ERROR_USAGE},
	    {"-4096", 0, HS_ERROR_USAGE},
	    {"0x", 0, HS_ERROR_USAGE},
	    {"99999999999999999999999", 0, HS_ERROR_USAGE},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long id = -1;
		struct hs_error *err = hs_store_find(db, cases[i].addr, &id);
		if (!cases[i].error_code) {
			ck_assert_msg(!err, "%s: %s", cases[i].addr, err ? err->message : "");
			ck_assert_int_eq(id, cases[i].id);
		} else {
			ck_assert_msg(err && (int)err->code == cases[i].error_code, "%s",
			              cases[i].addr);
			ck_assert_int_eq(id, -1);
			hs_error_destroy(err);
		}
	}
	sqlite3_close(db);
}
END_TEST

START_TEST(db_path_names)
{
	static const char *const cases[][2] = {
	    {"a.hsnap", "a.db"},     {"dir/x.y.hsnap", "dir/x.y.db"}, {"snap", "snap.db"},
	    {".hsnap", ".hsnap.db"}, {"a.hsnap.gz", "a.hsnap.gz.db"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = hs_store_db_path(cases[i][0]);
		ck_assert_str_eq(got, cases[i][1]);
		free(got);
	}
}
END_TEST

START_TEST(named_queries_prepare)
{
	sqlite3 *db = open_db();
	ck_assert_uint_ge(hs_nqueries, 12);
	for (size_t i = 0; i < hs_nqueries; i++) {
		sqlite3_stmt *stmt;
		ck_assert_msg(sqlite3_prepare_v2(db, hs_queries[i].sql, -1, &stmt, NULL) ==
		                  SQLITE_OK,
		              "%s: %s", hs_queries[i].name, sqlite3_errmsg(db));
		while (sqlite3_step(stmt) == SQLITE_ROW)
			;
		ck_assert_msg(sqlite3_errcode(db) == SQLITE_DONE ||
		                  sqlite3_errcode(db) == SQLITE_OK,
		              "%s: %s", hs_queries[i].name, sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		ck_assert_ptr_eq(hs_query_find(hs_queries[i].name), &hs_queries[i]);
		ck_assert_str_ne(hs_queries[i].help, "");
	}
	ck_assert_ptr_null(hs_query_find("no_such_query"));
	sqlite3_close(db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, integrity_and_order);
	tcase_add_test(tc, odd_snapshot);
	tcase_add_test(tc, counts_and_identity);
	tcase_add_test(tc, columns_match_analysis);
	tcase_add_test(tc, path_matches_hs_path_text);
	tcase_add_test(tc, sql_functions);
	tcase_add_test(tc, refuses_foreign_and_stale);
	tcase_add_test(tc, find_addresses);
	tcase_add_test(tc, db_path_names);
	tcase_add_test(tc, named_queries_prepare);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
