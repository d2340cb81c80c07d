/*
 * first_answer.c — answers on a fresh snapshot before its database is written (first_answer.h):
 * the rows a command's SQL reads are picked from the snapshot and the analysis, put into a
 * partial database in memory (hs_store_partial) and the command's own SQL runs there, so the
 * output is the database's to the byte; the database is written after (hs_cli_first_answer).
 */
#include <stdint.h>
#include <stdlib.h>

#include "first_answer.h"
#include "load.h"
#include "rows.h"
#include "store.h"

/* The most rows `top` answers this way: a selection of more is no quicker than the database. */
enum { TOP_MAX = 10000 };

/* SQLite's order of `ORDER BY retained DESC, addr`: whether x comes before y. */
static bool before(const struct hs_snapshot *snap, const struct hs_analysis *a, uint32_t x,
                   uint32_t y)
{
	int64_t rx = (int64_t)a->retained[x], ry = (int64_t)a->retained[y];
	return rx != ry ? rx > ry : (int64_t)snap->addr[x] < (int64_t)snap->addr[y];
}

/* Moves heap[k] down the heap of n whose top is the object that comes last. */
static void sift_down(const struct hs_snapshot *snap, const struct hs_analysis *a, uint32_t *heap,
                      size_t n, size_t k)
{
	for (;;) {
		size_t last = k, l = 2 * k + 1, r = l + 1;
		if (l < n && before(snap, a, heap[last], heap[l]))
			last = l;
		if (r < n && before(snap, a, heap[last], heap[r]))
			last = r;
		if (last == k)
			return;
		uint32_t t = heap[k];
		heap[k] = heap[last];
		heap[last] = t;
		k = last;
	}
}

/* The n objects that come first in that order (fewer when the snapshot has fewer), in *len. */
static void select_top(const struct hs_snapshot *snap, const struct hs_analysis *a, uint32_t *heap,
                       size_t n, size_t *len)
{
	size_t k = 0;
	for (uint64_t i = 0; n && i < snap->nobjects; i++) {
		if (k < n) {
			heap[k++] = (uint32_t)i;
			if (k == n)
				for (size_t j = n / 2 + 1; j-- > 0;)
					sift_down(snap, a, heap, n, j);
		} else if (before(snap, a, (uint32_t)i, heap[0])) {
			heap[0] = (uint32_t)i;
			sift_down(snap, a, heap, n, 0);
		}
	}
	*len = k;
}

struct top_job {
	const struct hs_cmd_args *args;
	const char *sql;
};

static struct hs_error *answer_top(void *arg, const struct hs_snapshot *snap,
                                   const struct hs_analysis *a)
{
	struct top_job *job = arg;
	size_t n = (size_t)job->args->limit, len;
	uint32_t *top = malloc((n ? n : 1) * sizeof(*top));
	if (!top)
		return &hs_error_nomem;
	select_top(snap, a, top, n, &len);
	sqlite3 *db;
	struct hs_error *err = hs_store_partial(snap, a, top, len, &db);
	free(top);
	if (err)
		return err;
	char limit[32];
	snprintf(limit, sizeof(limit), "%ld", job->args->limit);
	char *args[] = {limit};
	err = hs_rows_run(db, job->sql, 1, args, job->args->format, stdout);
	sqlite3_close(db);
	return err;
}

int hs_first_top_retained(const struct hs_cmd_args *a, const char *sql)
{
	if (a->limit < 0 || a->limit > TOP_MAX)
		return -1;
	struct top_job job = {a, sql};
	bool answered;
	struct hs_error *err = hs_cli_first_answer(a->pos[0], answer_top, &job, &answered);
	if (err)
		return hs_cli_fail(err);
	return answered ? HS_EXIT_OK : -1;
}
