/*
 * cmd_report.c — `heapsnap report SNAP [--baseline OLD]... -o report.html`: one self-contained
 * HTML page (no network fetches) with a treemap of the dominator tree by retained size, the type
 * histogram, growth against the baselines, the leak report's sections (leaks.c) and a page per
 * notable object, reachable by #o-ADDR links.
 *
 * The page stays small for any heap: the treemap holds at most TREE_NODES objects (the largest
 * retained sizes, a set closed under dominators because a dominator retains at least what it
 * dominates), the rest of each box is one "(smaller objects)" box, and object pages exist only
 * for the tree's largest objects and the findings.
 *
 * The SQL is in queries/commands/report_*.sql (hs_sql_cmd_report_NAME), with these numbers
 * bound; an object's own name comes from the view object_names of queries/leaks/names.sql, which
 * the leak report run first defines.  Only a baseline's rows of report_types (type_counts) are
 * SQL text here: they name the baseline's schema.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_sql.h"
#include "commands.h"
#include "leaks.h"
#include "load.h"
#include "report_page.h"
#include "store.h"

enum {
	TREE_NODES = 2500,
	OBJECT_PAGES = 300,
	TYPE_ROWS = 25,
	REL_ROWS = 20,      /* referents and referrers on an object's page */
	VALUE_CHARS = 200,  /* of a value preview on an object's page */
	MAX_SNAPSHOTS = 64, /* bars in a growth chart */
};

static const char help[] =
    "usage: heapsnap report SNAP [--baseline OLD]... -o REPORT.html [--salvage] [--force]\n\n"
    "Writes one self-contained HTML file about snapshot SNAP: a treemap of what retains the\n"
    "memory (the dominator tree by retained size; every box links to the object's page), the\n"
    "type histogram, growth charts against each --baseline (earlier snapshots of the same\n"
    "process; --force as for leaks), the leak report's sections with their paths, and object\n"
    "pages.  The file is\n"
    "created with mode 0600 (it holds labels and value previews) and renamed into place.\n";

/* Column i of stmt as text, or "" for NULL. */
static const char *col(sqlite3_stmt *stmt, int i)
{
	const char *s = (const char *)sqlite3_column_text(stmt, i);
	return s ? s : "";
}

static struct hs_error *prepare(sqlite3 *db, const char *sql, sqlite3_stmt **ret)
{
	if (sqlite3_prepare_v2(db, sql, -1, ret, NULL) != SQLITE_OK)
		return hs_store_error(db, "report");
	return NULL;
}

static struct hs_error *write_summary(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *stmt;
	struct hs_error *err = prepare(db, hs_sql_cmd_report_summary, &stmt);
	if (err)
		return err;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		fputs("<header><h1>heapsnap report: ", out);
		hs_report_html(out, col(stmt, 0));
		fputs("</h1><input id=\"search\" type=\"search\" autocomplete=\"off\" "
		      "aria-label=\"search the report's objects by type, name, address or path\">"
		      "</header><main>\n<section id=\"search-results\" hidden></section>\n"
		      "<h2>Summary</h2><table>",
		      out);
		/* bytes: sys.getsizeof's sum; memory: what the objects occupy (README "Size and
		 * memory"), when the capture gave it. */
		static const char *const names[] = {
		    "snapshot",           "runtime", "objects",   "bytes (sys.getsizeof)", "memory",
		    "GC garbage objects", "roots",   "references"};
		for (int i = 0; i < 8; i++) {
			if (i == 4 && sqlite3_column_type(stmt, i) == SQLITE_NULL)
				continue;
			fprintf(out, "<tr><th>%s</th><td>", names[i]);
			hs_report_html(out, col(stmt, i));
			if (i == 3 || i == 4) {
				fputs(" (", out);
				hs_report_size(out, sqlite3_column_int64(stmt, i));
				fputc(')', out);
			}
			fputs("</td></tr>", out);
		}
		fputs("</table>\n", out);
	}
	sqlite3_finalize(stmt);
	return NULL;
}

/* Writes JSON text s, or null for SQL NULL. */
static void json_or_null(FILE *out, sqlite3_stmt *stmt, int i)
{
	if (sqlite3_column_type(stmt, i) == SQLITE_NULL)
		fputs("null", out);
	else
		hs_report_json(out, col(stmt, i));
}

/* The treemap's data and the search's index, one row per object of report_objs:
 * [id, parent id (-1 the heap, -2 not in the tree), retained, type, label, name, module,
 *  address, has a page, path, garbage]. */
static struct hs_error *write_tree(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *stmt;
	struct hs_error *err = prepare(db, hs_sql_cmd_report_tree, &stmt);
	if (err)
		return err;
	fputs("<h2>What retains the memory</h2><p class=\"explain\">The dominator tree by retained "
	      "size: each box is an object and the memory only it keeps alive; boxes inside are "
	      "what it dominates.  A box is labelled with its type and name (a module's global as "
	      "MODULE.NAME, a function or class by its module and qualified name), else with the "
	      "reference that reaches it and the module it is in.  Click a box for the object's "
	      "page.</p>\n<div id=\"treemap\"></div>\n<script type=\"application/json\" "
	      "id=\"tree\">{\"nodes\":[",
	      out);
	long long total = 0;
	for (int n = 0; sqlite3_step(stmt) == SQLITE_ROW; n++) {
		total = sqlite3_column_int64(stmt, 11);
		fprintf(out, "%s[%lld,%lld,%lld", n ? ",\n" : "", sqlite3_column_int64(stmt, 0),
		        sqlite3_column_int64(stmt, 1), sqlite3_column_int64(stmt, 2));
		for (int i = 3; i <= 9; i++) {
			fputc(',', out);
			if (i == 8)
				fprintf(out, "%d", sqlite3_column_int(stmt, i));
			else
				json_or_null(out, stmt, i);
		}
		fprintf(out, ",%d]", sqlite3_column_int(stmt, 10));
	}
	fprintf(out, "],\"total\":%lld}</script>\n", total);
	sqlite3_finalize(stmt);
	return NULL;
}

/* One table with a bar per row: label, count, bytes; the bar is bytes against the largest. */
static struct hs_error *write_types(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *stmt;
	struct hs_error *err = prepare(db, hs_sql_cmd_report_types, &stmt);
	if (err)
		return err;
	sqlite3_bind_int(stmt, 1, TYPE_ROWS);
	fputs("<h2>Types</h2><table id=\"types\"><tr><th>type</th><th>objects</th><th>bytes</th>"
	      "<th></th></tr>\n",
	      out);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		double frac =
		    (double)sqlite3_column_int64(stmt, 2) /
		    (double)(sqlite3_column_int64(stmt, 3) ? sqlite3_column_int64(stmt, 3) : 1);
		fputs("<tr><td>", out);
		hs_report_html(out, col(stmt, 0));
		fprintf(out, "</td><td class=\"n\">%s</td><td class=\"n\">", col(stmt, 1));
		hs_report_size(out, sqlite3_column_int64(stmt, 2));
		fprintf(out,
		        "</td><td><span class=\"bar\" style=\"width:%.0fpx\"></span></td></tr>\n",
		        400 * frac);
	}
	fputs("</table>\n", out);
	sqlite3_finalize(stmt);
	return NULL;
}

/* Runs stmt (columns: x label, value) and draws its rows as the bar chart c (at most
 * MAX_SNAPSHOTS bars); the x labels are the file names of paths. */
static struct hs_error *chart_from(sqlite3 *db, sqlite3_stmt *stmt, struct hs_report_chart *c,
                                   FILE *out)
{
	char *labels[MAX_SNAPSHOTS];
	long long values[MAX_SNAPSHOTS];
	int n = 0;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && n < MAX_SNAPSHOTS) {
		const char *name = col(stmt, 0), *slash = strrchr(name, '/');
		labels[n] = sqlite3_mprintf("#%d %s", n, slash ? slash + 1 : name);
		values[n++] = sqlite3_column_int64(stmt, 1);
	}
	c->n = n;
	c->labels = (const char *const *)labels;
	c->values = values;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		hs_report_bar_chart(out, c);
	for (int i = 0; i < n; i++)
		sqlite3_free(labels[i]);
	sqlite3_reset(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? NULL : hs_store_error(db, "report: chart");
}

/* Bar charts of the heap's bytes and objects per snapshot and of the entries of the
 * containers that grew (leak section 3), each with its axis. */
static struct hs_error *write_growth_charts(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *snaps, *found, *series;
	struct hs_error *err = prepare(db, hs_sql_cmd_report_growth, &snaps);
	if (err)
		return err;
	struct hs_report_chart c = {.id = "growth",
	                            .title = "Heap size per snapshot",
	                            .noun = "heap bytes",
	                            .unit = HS_UNIT_BYTES};
	sqlite3_bind_int(snaps, 1, 0);
	err = chart_from(db, snaps, &c, out);
	struct hs_report_chart o = {.id = "growth-objects",
	                            .title = "Objects per snapshot",
	                            .noun = "objects",
	                            .unit = HS_UNIT_COUNT};
	sqlite3_bind_int(snaps, 1, 1);
	if (!err)
		err = chart_from(db, snaps, &o, out);
	sqlite3_finalize(snaps);
	if (err || (err = prepare(db, hs_sql_cmd_report_grown, &found)))
		return err;
	err = prepare(db, hs_sql_cmd_report_entries, &series);
	for (int i = 0; !err && sqlite3_step(found) == SQLITE_ROW; i++) {
		char id[32], *title = sqlite3_mprintf("Entries of %s per snapshot", col(found, 1));
		snprintf(id, sizeof(id), "growth-entries-%d", i);
		struct hs_report_chart e = {.id = id,
		                            .title = title ? title : "",
		                            .noun = "entries",
		                            .unit = HS_UNIT_COUNT};
		sqlite3_bind_int64(series, 1, sqlite3_column_int64(found, 0));
		err = chart_from(db, series, &e, out);
		sqlite3_free(title);
	}
	sqlite3_finalize(found);
	sqlite3_finalize(series);
	return err;
}

/* Fills temp.report_types: the objects per type in the main snapshot (report_type_counts.sql)
 * and in each attached baseline bK, whose schema name no parameter can give. */
static struct hs_error *type_counts(sqlite3 *db, int nbaselines)
{
	const long long k = nbaselines;
	struct hs_error *err =
	    hs_store_exec(db, hs_sql_cmd_report_type_counts, "report: types per snapshot", 1, &k);
	for (int i = 0; !err && i < nbaselines; i++) {
		char *sql =
		    sqlite3_mprintf("INSERT INTO report_types SELECT ?1, t.name, count(*)"
		                    " FROM b%d.objects o JOIN b%d.types t ON t.id = o.type_id"
		                    " GROUP BY t.name",
		                    i, i);
		const long long bk = i;
		err = sql ? hs_store_exec(db, sql, "report: types per snapshot", 1, &bk)
		          : &hs_error_nomem;
		sqlite3_free(sql);
	}
	return err;
}

/* Growth: the charts, and the types that grew most with their count in each snapshot. */
static struct hs_error *write_growth(sqlite3 *db, FILE *out, int nbaselines)
{
	if (nbaselines == 0)
		return NULL;
	fputs("<h2>Growth</h2><div class=\"charts\">\n", out);
	struct hs_error *err = write_growth_charts(db, out);
	if (err)
		return err;
	fputs("</div>\n", out);
	fputs("<h3>Types that grew most</h3><table><tr><th>type</th><th>objects per "
	      "snapshot, oldest first</th></tr>\n",
	      out);
	err = type_counts(db, nbaselines);
	sqlite3_stmt *stmt;
	if (err || (err = prepare(db, hs_sql_cmd_report_types_grown, &stmt)))
		return err;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		fputs("<tr><td>", out);
		hs_report_html(out, col(stmt, 0));
		fputs("</td><td>", out);
		hs_report_html(out, col(stmt, 1));
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
	sqlite3_finalize(stmt);
	return NULL;
}

/* Writes a link to object ADDR's page when it has one, else the text alone. */
static void object_link(FILE *out, const char *addr, bool has_page, const char *text)
{
	if (has_page) {
		fprintf(out, "<a href=\"#o-%s\">", addr);
		hs_report_html(out, text);
		fputs("</a>", out);
	} else {
		hs_report_html(out, text);
	}
}

static struct hs_error *write_findings(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *stmt;
	struct hs_error *err = prepare(db, hs_sql_cmd_report_findings, &stmt);
	if (err)
		return err;
	fputs("<h2>Leak report</h2>\n", out);
	for (int i = 0; i < hs_leak_nsections; i++) {
		const struct hs_leak_section *s = &hs_leak_sections[i];
		fprintf(out, "<section class=\"leak\" id=\"leak-%s\"><h3>%d. ", s->pattern,
		        s->number);
		hs_report_html(out, s->title);
		fputs("</h3><p class=\"explain\">", out);
		hs_report_html(out, s->explain);
		fputs("</p>\n", out);
		sqlite3_reset(stmt);
		sqlite3_bind_int(stmt, 1, s->number);
		int n = 0;
		while (sqlite3_step(stmt) == SQLITE_ROW) {
			if (n++ == 0)
				fputs("<table><tr><th>subject</th><th>objects</th><th>bytes</th>"
				      "<th>retained</th><th>evidence</th></tr>\n",
				      out);
			fputs("<tr><td>", out);
			object_link(out, col(stmt, 5), sqlite3_column_int(stmt, 8), col(stmt, 0));
			fprintf(out,
			        "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			        "<td class=\"n\">%s</td><td>",
			        col(stmt, 1), col(stmt, 2), col(stmt, 3));
			hs_report_html(out, col(stmt, 7));
			if (*col(stmt, 4)) {
				fputs("<br>trend: ", out);
				hs_report_html(out, col(stmt, 4));
			}
			if (*col(stmt, 6)) {
				fputs("<br>path: <code>", out);
				hs_report_html(out, col(stmt, 6));
				fputs("</code>", out);
			}
			fputs("</td></tr>\n", out);
		}
		fputs(n ? "</table></section>\n" : "<p class=\"none\">no finding</p></section>\n",
		      out);
	}
	sqlite3_finalize(stmt);
	return NULL;
}

static const char garbage_badge[] =
    "<span class=\"badge garbage\" title=\"unreachable: no root reaches it, and gc.collect() "
    "would free it\">garbage</span>";

/* Writes the rows of rel (report_refers_to.sql or report_referred_by.sql: ?1 the object; columns:
 * label, address, type, retained, has a page, name or value preview, garbage) under heading, and "N
 * more" when total is more than the rows shown. */
static void write_relations(FILE *out, sqlite3_stmt *rel, long long id, const char *heading,
                            long long total)
{
	fprintf(out,
	        "<h4>%s (%lld)</h4><table class=\"rel\"><tr><th>label</th><th>object</th>"
	        "<th>name or value</th><th>retained</th></tr>",
	        heading, total);
	sqlite3_reset(rel);
	sqlite3_bind_int64(rel, 1, id);
	long long n = 0;
	for (; sqlite3_step(rel) == SQLITE_ROW; n++) {
		char text[160];
		snprintf(text, sizeof(text), "%s at %s", col(rel, 2), col(rel, 1));
		fputs("<tr><td><code>", out);
		hs_report_html(out, col(rel, 0));
		fputs("</code></td><td>", out);
		object_link(out, col(rel, 1), sqlite3_column_int(rel, 4), text);
		if (sqlite3_column_int(rel, 6))
			fputs(garbage_badge, out);
		fputs("</td><td><code>", out);
		hs_report_html(out, col(rel, 5));
		fprintf(out, "</code></td><td class=\"n\">%s</td></tr>", col(rel, 3));
	}
	if (total > n)
		fprintf(
		    out,
		    "<tr class=\"more\"><td colspan=\"4\">and <span class=\"n-more\">%lld</span> "
		    "more (%lld in all; the %lld that retain the most are shown)</td></tr>",
		    total - n, total, n);
	fputs("</table>", out);
}

/* Writes one object's facts: a row per fact, the garbage marker in the heading. */
static void write_facts(FILE *out, sqlite3_stmt *obj)
{
	fprintf(out,
	        "<section class=\"obj\" id=\"o-%s\"><a class=\"back\" href=\"#\">&larr; the whole "
	        "report</a><h3>",
	        col(obj, 1));
	hs_report_html(out, col(obj, 2));
	if (*col(obj, 12)) {
		fputc(' ', out);
		hs_report_html(out, col(obj, 12));
	}
	fprintf(out, " at %s%s</h3><table class=\"facts\">", col(obj, 1),
	        sqlite3_column_int(obj, 11) ? garbage_badge : "");
	static const char *const facts[] = {"size",  "retained", "refcount",
	                                    "depth", "path",     "module"};
	static const int cols[] = {3, 4, 5, 7, 8, 13};
	for (int i = 0; i < 6; i++) {
		const char *v = col(obj, cols[i]);
		if (i == 4 && !*v)
			v = sqlite3_column_int(obj, 11) ? "(no root reaches it: GC garbage)"
			                                : "(no root reaches it)";
		if (i == 5 && !*v)
			continue;
		fprintf(out, "<tr><th>%s</th><td%s>", facts[i], i == 4 ? " class=\"path\"" : "");
		fputs(i == 4 ? "<code>" : "", out);
		hs_report_html(out, v);
		if (i == 2)
			fprintf(out, " (%s not explained by the heap)", col(obj, 6));
		fputs(i == 4 ? "</code></td></tr>" : "</td></tr>", out);
	}
	if (sqlite3_column_type(obj, 9) != SQLITE_NULL) {
		fputs("<tr><th>value</th><td><code class=\"value\">", out);
		hs_report_html(out, col(obj, 9));
		long long len = sqlite3_column_int64(obj, 10);
		if (len > VALUE_CHARS)
			fprintf(out, "</code> … (the first %d of %lld characters)", VALUE_CHARS,
			        len);
		else
			fputs("</code>", out);
		fputs("</td></tr>", out);
	}
	fputs("</table>", out);
}

/* A page per object of report_objs with page set: its facts, and what it refers to and what
 * refers to it (REL_ROWS each, largest retained first, "N more" for the rest), linked when they
 * have a page too. */
static struct hs_error *write_pages(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *obj, *refs, *referrers;
	struct hs_error *err = prepare(db, hs_sql_cmd_report_pages, &obj);
	if (err)
		return err;
	sqlite3_bind_int(obj, 1, VALUE_CHARS);
	err = prepare(db, hs_sql_cmd_report_refers_to, &refs);
	if (!err && (err = prepare(db, hs_sql_cmd_report_referred_by, &referrers)))
		sqlite3_finalize(refs);
	if (err) {
		sqlite3_finalize(obj);
		return err;
	}
	sqlite3_bind_int(refs, 2, REL_ROWS);
	sqlite3_bind_int(referrers, 2, REL_ROWS);
	fputs("<h2>Objects</h2><p class=\"explain\">Follow a link to open an object's page.</p>\n",
	      out);
	while (sqlite3_step(obj) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(obj, 0);
		write_facts(out, obj);
		write_relations(out, refs, id, "Refers to", sqlite3_column_int64(obj, 14));
		write_relations(out, referrers, id, "Referred to by",
		                sqlite3_column_int64(obj, 15));
		fputs("</section>\n", out);
	}
	sqlite3_finalize(obj);
	sqlite3_finalize(refs);
	sqlite3_finalize(referrers);
	return NULL;
}

static struct hs_error *write_report(sqlite3 *db, FILE *out, int nbaselines)
{
	const long long limits[] = {TREE_NODES, OBJECT_PAGES};
	struct hs_error *err =
	    hs_store_exec(db, hs_sql_cmd_report_objects, "report: objects", 2, limits);
	if (err)
		return err;
	fputs(hs_report_head, out);
	err = write_summary(db, out);
	if (!err)
		err = write_tree(db, out);
	if (!err)
		err = write_findings(db, out);
	if (!err)
		err = write_types(db, out);
	if (!err)
		err = write_growth(db, out, nbaselines);
	if (!err)
		err = write_pages(db, out);
	fputs("</main>\n", out);
	fputs(hs_report_script, out);
	return err;
}

int hs_cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"baseline", required_argument, NULL, 'b'}, {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},           {"salvage", no_argument, NULL, 'S'},
	    {"force", no_argument, NULL, 'F'},          {NULL, 0, NULL, 0}};
	struct hs_leaks_options opts = {0};
	opts.baselines = calloc((size_t)argc, sizeof(char *));
	if (!opts.baselines)
		return hs_cli_fail(&hs_error_nomem);
	const char *snap = NULL, *output = NULL;
	int rc = -1;
	optind = 0;
	while (rc < 0) {
		int c = getopt_long(argc, argv, "+b:o:h", longopts, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			if (snap)
				rc = hs_cli_usage_error("report", "one snapshot at a time");
			snap = argv[optind++];
		} else if (c == 'h') {
			fputs(help, stdout);
			rc = HS_EXIT_OK;
		} else if (c == 'b') {
			opts.baselines[opts.nbaselines++] = optarg;
		} else if (c == 'o') {
			output = optarg;
		} else if (c == 'S') {
			hs_cli_allow_salvage(true);
		} else if (c == 'F') {
			opts.force = true;
		} else {
			rc = hs_cli_usage_error("report", "unknown option");
		}
	}
	if (rc < 0 && (!snap || !output))
		rc = hs_cli_usage_error("report", "needs SNAP and -o REPORT.html");
	if (rc >= 0) {
		free(opts.baselines);
		return rc;
	}
	sqlite3 *db = NULL;
	struct hs_error *err = hs_out_not_input(output, snap);
	if (!err)
		err = hs_cli_open(snap, &db);
	if (!err) {
		err = hs_leaks_run(db, &opts);
		struct hs_out file = {.fd = -1};
		FILE *out = NULL;
		bool opened = !err && !(err = hs_out_open(output, &file));
		if (opened && !(out = fdopen(file.fd, "w")))
			err = hs_error_errno(errno, file.tmp, "open");
		if (!err)
			err = write_report(db, out, opts.nbaselines);
		if (out) { /* the FILE owns file.fd: sync and close it here */
			if (!err && (fflush(out) != 0 || fsync(fileno(out)) != 0))
				err = hs_error_errno(errno, file.tmp, "write");
			if (fclose(out) != 0 && !err)
				err = hs_error_errno(errno, file.tmp, "write");
			file.fd = -1;
		}
		if (opened)
			err = err ? (hs_out_abort(&file), err) : hs_out_commit(&file);
		sqlite3_close(db);
	}
	free(opts.baselines);
	return err ? hs_cli_fail(err) : HS_EXIT_OK;
}
