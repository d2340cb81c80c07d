/*
 * bench_store.c — the SQLite store's benchmark: builds a synthetic snapshot of N objects with 3
 * edges each (through the real writer), analyzes it, writes the database after the analysis
 * (time per phase: edge trees, object trees, SQLite's small tables and ANALYZE), then again as
 * `heapsnap load` does (the edge trees in a thread while the analysis runs), then times
 * `top --by retained` on it (open the database + the named query
 * largest_retained, as the CLI does) and `path` to the deepest object (open + hs_store_path).
 * Last, the same tables through SQLite's own best ordinary path (hs_store_stream: prepared
 * multi-row INSERTs in rowid order with journal_mode=OFF, indexes built after the data), against
 * which the page writer (sqlite_btree.c) must stay justified.  Prints a table; never fails a
 * build.
 *
 * Usage: bench_store [N|SNAP.hsnap] [DIR] [keep]   (N default 1000000; or an existing snapshot,
 * which is never removed; files go to DIR, default $TMPDIR or /tmp, and are removed unless the
 * third argument is "keep")
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analysis.h"
#include "rows.h"
#include "store.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* CPU time of this process: on a shared machine, wall time measures the neighbours too. */
static double cpu(void)
{
	return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void die(struct hs_error *err)
{
	if (err) {
		fprintf(stderr, "bench_store: %s\n", err->message);
		exit(1);
	}
}

/* A heap shaped like a program's: one root over a binary tree (object i refers to 2i+1 and
 * 2i+2, so depth is log n), and every object has 3 edges, the rest to pseudo-random objects
 * (sharing and cycles).  Refcounts equal the incoming edges, so object 0 is the only root. */
static void make_snapshot(const char *path, uint64_t n)
{
	uint32_t *dst = malloc(3 * n * sizeof(uint32_t));
	uint32_t *refcnt = calloc(n, sizeof(uint32_t));
	if (!dst || !refcnt)
		die(&hs_error_nomem);
	uint64_t x = 88172645463325252ull;
	for (uint64_t i = 0; i < n; i++)
		for (uint64_t k = 0; k < 3; k++) {
			uint64_t d = 2 * i + 1 + k;
			if (k == 2 || d >= n) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				d = x % n;
			}
			dst[3 * i + k] = (uint32_t)d;
			refcnt[d]++;
		}
	refcnt[0]++;
	struct hs_header h = {"bench", "cpython", "3.11.7", 8, 1, 0, HS_METHOD_CONVERT};
	struct hs_writer *w;
	die(hs_writer_create(path, &h, &w));
	uint32_t types[16], key;
	static const char *const names[16] = {
	    "dict", "list", "str",  "int",   "tuple", "set",  "bytes",  "function",
	    "cell", "Node", "User", "float", "frame", "code", "method", "weakref"};
	for (int t = 0; t < 16; t++)
		die(hs_writer_type(w, names[t], t < 9 ? "builtins" : "app", 48 + 8 * (uint64_t)t, 0,
		                   HS_TYPE_GC, &types[t]));
	die(hs_writer_string(w, ".attr", 5, &key));
	for (uint64_t i = 0; i < n; i++) {
		die(hs_writer_object(w, 0x10000 + 64 * i, types[i % 16], 48 + (i % 13) * 16,
		                     refcnt[i], HS_OBJ_GC, (uint8_t)(i % 3)));
		for (uint64_t k = 0; k < 3; k++)
			die(hs_writer_edge(w, dst[3 * i + k], HS_EDGE_TRAVERSE,
			                   k == 2 ? HS_LABEL_STRING : HS_LABEL_ORDINAL,
			                   k == 2 ? key : 0));
	}
	die(hs_writer_root(w, 0, "module", "sys.modules"));
	die(hs_writer_finish(w, NULL));
	hs_writer_destroy(w);
	free(dst);
	free(refcnt);
}

/* Records when each store phase starts (hs_store_finish's progress). */
struct phases {
	const char *phase;
	double t_edges, t_objects, t_indexes; /* wall */
	double c_edges, c_objects, c_indexes; /* CPU */
};

static void on_progress(void *arg, const char *phase, double fraction)
{
	struct phases *p = arg;
	(void)fraction;
	if (p->phase && strcmp(p->phase, phase) == 0)
		return;
	p->phase = phase;
	double t = now(), c = cpu();
	if (strcmp(phase, "edges") == 0)
		p->t_edges = t, p->c_edges = c;
	else if (strcmp(phase, "objects") == 0)
		p->t_objects = t, p->c_objects = c;
	else if (strcmp(phase, "indexes") == 0)
		p->t_indexes = t, p->c_indexes = c;
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *given = argc > 1 && access(argv[1], R_OK) == 0 ? argv[1] : NULL;
	uint64_t n = argc > 1 && !given ? strtoull(argv[1], NULL, 10) : 1000000;
	const char *dir = argc > 2 ? argv[2] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *snap_path, *db_path;
	if (asprintf(&snap_path, "%s/bench-store-%d.hsnap", dir, (int)getpid()) < 0 ||
	    asprintf(&db_path, "%s/bench-store-%d.db", dir, (int)getpid()) < 0)
		return 1;

	double t0 = now();
	if (given) {
		free(snap_path);
		snap_path = strdup(given);
	} else {
		make_snapshot(snap_path, n);
	}
	double t_write = now() - t0;

	t0 = now();
	struct hs_snapshot *snap;
	die(hs_snapshot_open(snap_path, false, &snap));
	double t_open = now() - t0;
	t0 = now();
	double c0 = cpu();
	struct hs_analysis *a;
	die(hs_analyze(snap, NULL, NULL, &a));
	double t_analyze = now() - t0, c_analyze = cpu() - c0;

	/* The store alone, after the analysis: its phases one after another. */
	struct phases ph = {0};
	double t_start = now(), c_start = cpu();
	die(hs_store_build(snap, a, db_path, on_progress, &ph));
	double t_end = now(), c_end = cpu();
	hs_analysis_destroy(a);
	unlink(db_path);

	/* As heapsnap load runs it: the edge trees in a thread during the analysis. */
	t0 = now();
	c0 = cpu();
	struct hs_store_writer *sw;
	die(hs_store_begin(snap, db_path, true, &sw)); /* the last use of snap's labels */
	die(hs_analyze(snap, NULL, NULL, &a));
	die(hs_store_finish(sw, a, NULL, NULL));
	double t_load = now() - t0, c_load = cpu() - c0;
	uint64_t nedges = snap->nedges;
	n = snap->nobjects;
	uint64_t deepest = 0;
	for (uint64_t i = 0; i < n; i++)
		if (a->depth[i] != HS_NONE && a->depth[i] > a->depth[deepest])
			deepest = i;
	hs_analysis_destroy(a);
	hs_snapshot_destroy(snap);

	/* top --by retained: open + query, as the CLI runs it, median of 7. */
	double lat[7];
	FILE *devnull = fopen("/dev/null", "w");
	for (int r = 0; r < 7; r++) {
		t0 = now();
		sqlite3 *db;
		die(hs_store_open_db(db_path, true, &db));
		char *args[] = {"20"};
		die(hs_rows_run(db, hs_query_find("largest_retained")->sql, 1, args,
		                HS_FORMAT_TABLE, devnull));
		sqlite3_close(db);
		lat[r] = now() - t0;
	}
	fclose(devnull);
	qsort(lat, 7, sizeof(double), by_double);

	/* path to the deepest object: open + hs_store_path, median of 7. */
	double plat[7];
	for (int r = 0; r < 7; r++) {
		t0 = now();
		sqlite3 *db;
		die(hs_store_open_db(db_path, true, &db));
		char *path;
		die(hs_store_path(db, (long long)deepest, &path));
		free(path);
		sqlite3_close(db);
		plat[r] = now() - t0;
	}
	qsort(plat, 7, sizeof(double), by_double);

	/* SQLite's ordinary path.  It decodes the snapshot as it goes and leaves the analysis
	 * columns NULL (fewer bytes to write), so it is set against the page writer's store total
	 * plus one open of the snapshot: the ratio favours SQLite, if anything. */
	char *stream_path;
	if (asprintf(&stream_path, "%s.insert.db", db_path) < 0)
		return 1;
	t0 = now();
	c0 = cpu();
	die(hs_store_stream(snap_path, stream_path, NULL, NULL));
	double t_insert = now() - t0, c_insert = cpu() - c0;
	unlink(stream_path);
	free(stream_path);

	double rows = (double)(n + 2 * nedges); /* objects, edges, referrers */
	printf("%-34s %12s %12s\n", "measure", "wall", "cpu");
	printf("%-34s %12llu\n", "objects", (unsigned long long)n);
	printf("%-34s %12llu\n", "edges", (unsigned long long)nedges);
	printf("%-34s %12.3f\n", "write snapshot (s)", t_write);
	printf("%-34s %12.3f\n", "open snapshot (s)", t_open);
	printf("%-34s %12.3f %12.3f\n", "analyze (s)", t_analyze, c_analyze);
	printf("%-34s %12.3f %12.3f\n", "store: edge trees (s)", ph.t_objects - ph.t_edges,
	       ph.c_objects - ph.c_edges);
	printf("%-34s %12.3f %12.3f\n", "store: object trees (s)", ph.t_indexes - ph.t_objects,
	       ph.c_indexes - ph.c_objects);
	printf("%-34s %12.3f %12.3f\n", "store: small tables + analyze (s)", t_end - ph.t_indexes,
	       c_end - ph.c_indexes);
	printf("%-34s %12.3f %12.3f\n", "store total (s)", t_end - t_start, c_end - c_start);
	printf("%-34s %12.0f %12.0f\n", "store rate (rows/s)", rows / (t_end - t_start),
	       rows / (c_end - c_start));
	printf("%-34s %12.3f %12.3f\n", "store: SQLite INSERT path (s)", t_insert, c_insert);
	printf("%-34s %12.2f %12.2f\n", "page writer speedup (x)",
	       t_insert / (t_open + t_end - t_start), c_insert / (t_open + c_end - c_start));
	printf("%-34s %12.3f %12.3f\n", "load: analyze || edge trees (s)", t_load, c_load);
	printf("%-34s %12.3f\n", "load + open snapshot (s)", t_open + t_load);
	printf("%-34s %12.1f\n", "top --by retained median (ms)", 1e3 * lat[3]);
	printf("%-34s %12.1f\n", "top --by retained max (ms)", 1e3 * lat[6]);
	printf("%-34s %12.1f\n", "path to the deepest median (ms)", 1e3 * plat[3]);
	if (argc > 3 && strcmp(argv[3], "keep") == 0) {
		printf("kept %s and %s\n", snap_path, db_path);
	} else {
		if (!given)
			unlink(snap_path);
		unlink(db_path);
	}
	free(snap_path);
	free(db_path);
	return 0;
}
