/*
 * test_sqlite_btree.c — Check suite for the SQLite page writer (analyzer/store/sqlite_btree.c),
 * with SQLite itself as the oracle: files written with it pass `PRAGMA integrity_check`, and SQLite
 * reads back every row and key that went in, for trees of every height (empty, one leaf, three
 * levels and more), payloads that spill into overflow chains, every integer width, NULLs, an
 * index that SQLite uses to find rows, and the page that holds SQLite's lock byte (moved from 1 GiB
 * to 64 KiB here, so small files have one), which must stay unused.
 */
#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot_maker.h"
#include "sqlite_btree.h"

/* Where SQLite's lock byte is in this test (main moves it): page 17. */
#define LOCK_BYTE 0x10000

#define TABLE_SQL "CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER, s TEXT)"
#define INDEX_SQL "CREATE INDEX t_n ON t(n)"
#define PAIRS_SQL "CREATE TABLE p(a INTEGER, b INTEGER, c TEXT, PRIMARY KEY(a, b)) WITHOUT ROWID"

/* Row i's columns: n spans every serial type (negative, 0, 1, up to 64 bits); s is NULL, short,
 * or long enough for overflow pages (up to five of them) every so often. */
static int64_t row_n(uint64_t i)
{
	static const int64_t base[] = {0,         1,        -1,         127,       -129,
	                               40000,     -8388608, 2147483647, 1LL << 40, -(1LL << 47),
	                               INT64_MAX, INT64_MIN};
	return base[i % 12] + (i % 12 < 3 || i % 12 > 9 ? 0 : (int64_t)(i / 12) * (i % 2 ? -1 : 1));
}

static size_t row_len(uint64_t i)
{
	if (i % 7 == 3)
		return (size_t)-1; /* NULL */
	if (i % 97 == 5)
		return 4000 + (i * 7919) % 17000;
	return i % 40;
}

static void row_text(uint64_t i, char *buf, size_t len)
{
	for (size_t k = 0; k < len; k++)
		buf[k] = (char)('a' + (i + k * 31) % 26);
}

static int by_key(const void *x, const void *y)
{
	const int64_t *a = x, *b = y;
	if (a[0] != b[0])
		return a[0] < b[0] ? -1 : 1;
	return a[1] < b[1] ? -1 : a[1] > b[1];
}

/* A file with table t (rows 0..n-1 at rowids 3*i+1), its index t_n, and the WITHOUT ROWID table
 * p ((i, -i, text) for i < n). */
static char *write_file(uint64_t n)
{
	char *path = maker_path("btree.db");
	unlink(path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	struct hs_btree_file f;
	CK_OK(hs_btree_file_create(&f, fd, path));
	f.lock_page = LOCK_BYTE / HS_BTREE_PAGE + 1;
	struct hs_btree t;
	struct hs_record r = {0};
	char *text = malloc(32768);
	CK_OK(hs_btree_begin(&t, &f, true));
	for (uint64_t i = 0; i < n; i++) {
		size_t len = row_len(i);
		hs_record_start(&r);
		hs_record_null(&r);
		hs_record_int(&r, row_n(i));
		if (len == (size_t)-1) {
			hs_record_null(&r);
		} else {
			row_text(i, text, len);
			hs_record_text(&r, text, len);
		}
		hs_btree_add_row(&t, (int64_t)(3 * i + 1), &r);
	}
	hs_btree_end(&t, "table", "t", "t", TABLE_SQL);

	/* The index: (n, rowid) sorted as SQLite compares integers. */
	int64_t(*keys)[2] = malloc((n ? n : 1) * sizeof(*keys));
	for (uint64_t i = 0; i < n; i++)
		keys[i][0] = row_n(i), keys[i][1] = (int64_t)(3 * i + 1);
	qsort(keys, n, sizeof(*keys), by_key);
	CK_OK(hs_btree_begin(&t, &f, false));
	for (uint64_t i = 0; i < n; i++) {
		hs_record_start(&r);
		hs_record_int(&r, keys[i][0]);
		hs_record_int(&r, keys[i][1]);
		hs_btree_add_key(&t, &r);
	}
	hs_btree_end(&t, "index", "t_n", "t", INDEX_SQL);
	free(keys);

	CK_OK(hs_btree_begin(&t, &f, false));
	for (uint64_t i = 0; i < n; i++) {
		size_t len = i % 50;
		row_text(i, text, len);
		hs_record_start(&r);
		hs_record_int(&r, (int64_t)i);
		hs_record_int(&r, -(int64_t)i);
		hs_record_text(&r, text, len);
		hs_btree_add_key(&t, &r);
	}
	hs_btree_end(&t, "table", "p", "p", PAIRS_SQL);
	hs_record_free(&r);
	free(text);
	CK_OK(hs_btree_file_finish(&f));
	close(fd);
	return path;
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	ck_assert_msg(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "%s: %s", sql,
	              sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	long long v = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

static void check_file(uint64_t n)
{
	char *path = write_file(n);
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_stmt *stmt;
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	ck_assert_msg(strcmp((const char *)sqlite3_column_text(stmt, 0), "ok") == 0,
	              "%llu rows: %s", (unsigned long long)n, sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);

	/* Every row of t, in rowid order, as written. */
	ck_assert_int_eq(
	    sqlite3_prepare_v2(db, "SELECT id, n, s FROM t ORDER BY id", -1, &stmt, NULL),
	    SQLITE_OK);
	char *text = malloc(32768);
	uint64_t i = 0;
	for (; sqlite3_step(stmt) == SQLITE_ROW; i++) {
		ck_assert_int_eq(sqlite3_column_int64(stmt, 0), (long long)(3 * i + 1));
		ck_assert_int_eq(sqlite3_column_int64(stmt, 1), row_n(i));
		size_t len = row_len(i);
		if (len == (size_t)-1) {
			ck_assert_int_eq(sqlite3_column_type(stmt, 2), SQLITE_NULL);
			continue;
		}
		row_text(i, text, len);
		ck_assert_int_eq(sqlite3_column_bytes(stmt, 2), (int)len);
		ck_assert_int_eq(memcmp(sqlite3_column_text(stmt, 2), text, len), 0);
	}
	sqlite3_finalize(stmt);
	ck_assert_int_eq(i, n);
	free(text);

	/* The index answers lookups (the plan uses it: integrity_check compared it to t). */
	if (n > 20) {
		char sql[128];
		snprintf(sql, sizeof(sql), "SELECT id FROM t INDEXED BY t_n WHERE n = %lld",
		         (long long)row_n(20));
		ck_assert_int_eq(query_int(db, sql), 3 * 20 + 1);
	}
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM p"), (long long)n);
	ck_assert_int_eq(
	    query_int(db, "SELECT count(*) FROM p WHERE a = -b AND length(c) = a % 50"),
	    (long long)n);
	/* SQLite can go on writing to it. */
	ck_assert_int_eq(sqlite3_exec(db,
	                              "CREATE TABLE more(x); INSERT INTO more VALUES (1);"
	                              "INSERT INTO t(n, s) VALUES (5, 'x');",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(query_int(db, "SELECT count(*) FROM t"), (long long)n + 1);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, NULL),
	                 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(stmt), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(stmt, 0), "ok");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	unlink(path);
	free(path);
}

START_TEST(empty_trees)
{
	check_file(0);
}
END_TEST

START_TEST(one_row)
{
	check_file(1);
}
END_TEST

/* Around one leaf's worth, then enough for interior levels (t_n has 3 levels at 100k). */
START_TEST(sizes)
{
	static const uint64_t sizes[] = {2, 150, 400, 1000, 30000};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(*sizes); k++)
		check_file(sizes[k]);
}
END_TEST

START_TEST(deep)
{
	check_file(getenv("HS_TEST_QUICK") ? 60000 : 300000);
}
END_TEST

/* Writes nrows table rows, each with rowid and ncols integer columns (marked out of memory when
 * nomem), and returns what finishing the file says. */
static struct hs_error *write_rows(const char *name, int nrows, int64_t rowid, int ncols,
                                   bool nomem)
{
	char *path = maker_path(name);
	unlink(path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	struct hs_btree_file f;
	CK_OK(hs_btree_file_create(&f, fd, path));
	struct hs_btree t;
	struct hs_record r = {0};
	CK_OK(hs_btree_begin(&t, &f, true));
	hs_record_start(&r);
	for (int i = 0; i < ncols; i++)
		hs_record_int(&r, i);
	r.nomem = r.nomem || nomem;
	for (int i = 0; i < nrows; i++)
		hs_btree_add_row(&t, rowid, &r);
	hs_btree_end(&t, "table", "t", "t", "CREATE TABLE t(x)");
	struct hs_error *err = hs_btree_file_finish(&f);
	hs_record_free(&r);
	close(fd);
	unlink(path);
	free(path);
	return err;
}

/* Keys out of order are refused, not written into a file SQLite would call corrupt. */
START_TEST(rowids_in_order)
{
	struct hs_error *err = write_rows("order.db", 2, 5, 1, false);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "rowid 5 out of order"));
	hs_error_destroy(err);
}
END_TEST

/* A column that cannot be added is never written as NULL: one too many columns, or a column the
 * record could not allocate (store_tables.c marks a label it cannot allocate so), fails the
 * file with the reason; HS_BTREE_MAX_COLUMNS columns are fine. */
START_TEST(failed_records)
{
	CK_OK(write_rows("cols_max.db", 1, 1, HS_BTREE_MAX_COLUMNS, false));
	struct hs_error *err = write_rows("cols_over.db", 1, 1, HS_BTREE_MAX_COLUMNS + 1, false);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "a record of more than 32 columns"));
	hs_error_destroy(err);
	err = write_rows("nomem.db", 1, 1, 3, true);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->code, HS_ERROR_NOMEM);
	hs_error_destroy(err);
}
END_TEST

int main(void)
{
	sqlite3_test_control(SQLITE_TESTCTRL_PENDING_BYTE, LOCK_BYTE);
	Suite *s = suite_create("sqlite_btree");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, empty_trees);
	tcase_add_test(tc, one_row);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, deep);
	tcase_add_test(tc, rowids_in_order);
	tcase_add_test(tc, failed_records);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
