/*
 * leaks.h — the leak report (leaks.c): the classic Python leak patterns, each a section of
 * findings with their evidence, computed by SQL over a snapshot's database (SCHEMA.md) and the
 * databases of earlier snapshots of the same process (baselines).  `heapsnap leaks` prints the
 * findings (cmd_leaks.c); `heapsnap report` draws them (cmd_report.c).
 *
 * hs_leaks_run attaches the baselines as b0, b1, ... (oldest first) and fills the connection's
 * temporary tables:
 *   leak_findings(section, pattern, subject, objects, bytes, retained, trend, obj, path, detail)
 *     one row per finding; obj is an object id of the main database (NULL when the finding is a
 *     group without one representative), path its labelled path from a root;
 *   leak_snapshots(k, name, time_ns, objects, bytes)
 *     the snapshots compared, k = 0 .. nbaselines (the main one last);
 *   leak_spaces(dict, owner, kind)
 *     the namespaces: each module's __dict__ (kind 'module', owner its __name__) and each
 *     class's (kind 'class', owner its __qualname__);
 *   leak_named(owner, kind, name, id)
 *     the objects those namespaces name (kind 'module' or 'class': owner.name), and the
 *     attributes of module-level instances (kind 'instance');
 *   leak_series(id, k, entries, retained)
 *     the entries and retained bytes of each named container in snapshot k (id: its id in
 *     the main database).
 */
#ifndef HS_LEAKS_H
#define HS_LEAKS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "hsnap.h"

/* The sections, in report order. */
struct hs_leak_section {
	int number;
	const char *pattern; /* short name: "finalizer-cycles", ... */
	const char *title;
	const char *explain; /* one line: the pattern and its usual fix */
};
extern const struct hs_leak_section hs_leak_sections[];
extern const int hs_leak_nsections;

struct hs_leaks_options {
	int nbaselines;
	char **baselines;   /* .hsnap or .db paths of earlier snapshots, in any order */
	uint64_t min_bytes; /* a "large" retained size, as given; 0: 256 KiB or 1% of the heap,
	                     * the larger */
	long min_count;     /* the fewest objects or entries a group or growth must have (0: 100) */
	long limit;         /* findings per section (0: 10) */
	bool force;         /* compare baselines of another process or Python, or not earlier */
};

/* Attaches the baselines to db (a connection from hs_cli_open) and computes every section
 * into the temporary tables above.  Errors name the database or baseline file. */
struct hs_error *hs_leaks_run(sqlite3 *db, const struct hs_leaks_options *opts);

#endif
