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
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "leaks.h"
#include "report_page.h"
#include "store.h"

enum { TREE_NODES = 2500, OBJECT_PAGES = 300, TYPE_ROWS = 25 };

static const char help[] =
    "usage: heapsnap report SNAP [--baseline OLD]... -o REPORT.html [--salvage]\n\n"
    "Writes one self-contained HTML file about snapshot SNAP: a treemap of what retains the\n"
    "memory (the dominator tree by retained size; every box links to the object's page), the\n"
    "type histogram, growth charts against each --baseline (earlier snapshots of the same\n"
    "process), the leak report's sections with their paths, and object pages.  The file is\n"
    "created with mode 0600 (it holds labels and value previews) and renamed into place.\n";

/* Writes s HTML-escaped (NULL writes nothing). */
static void html(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '&':
			fputs("&amp;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		default:
			fputc(*s, out);
		}
	}
}

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

/* Writes the JSON string of s into out, with "</" written as "<\/" so that no value can end the
 * <script> element that holds it. */
static void json_in_script(FILE *out, const char *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem)
		return;
	hs_json_string(mem, s, strlen(s));
	fclose(mem);
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '<' && i + 1 < len && buf[i + 1] == '/')
			fputs("<\\", out);
		else
			fputc(buf[i], out);
	}
	free(buf);
}

/* The objects that get a page: the tree's largest and every finding's object. */
static const char pages_sql[] =
    "DROP TABLE IF EXISTS temp.report_tree;"
    "CREATE TEMP TABLE report_tree AS SELECT o.id, o.idom, o.retained, o.addr, hs_type(o.id) AS"
    " type, coalesce((SELECT label FROM edges WHERE id = o.parent_edge),"
    " (SELECT name FROM roots WHERE obj = o.id LIMIT 1), '') AS label"
    " FROM objects o WHERE o.depth IS NOT NULL ORDER BY o.retained DESC, o.depth LIMIT %d;"
    "DROP TABLE IF EXISTS temp.report_pages;"
    "CREATE TEMP TABLE report_pages(id INTEGER PRIMARY KEY);"
    "INSERT OR IGNORE INTO report_pages SELECT id FROM report_tree ORDER BY retained DESC"
    " LIMIT %d;"
    "INSERT OR IGNORE INTO report_pages SELECT obj FROM leak_findings WHERE obj IS NOT NULL;";

static struct hs_error *write_summary(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *stmt;
	struct hs_error *err = prepare(
	    db,
	    "SELECT (SELECT value FROM meta WHERE key = 'snapshot'),"
	    " (SELECT value FROM meta WHERE key = 'runtime') || ' ' || (SELECT value FROM meta"
	    " WHERE key = 'runtime_version'), count(*), sum(size), sum(unreachable),"
	    " (SELECT count(*) FROM roots), (SELECT count(*) FROM edges) FROM objects",
	    &stmt);
	if (err)
		return err;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		fputs("<header><h1>heapsnap report: ", out);
		html(out, col(stmt, 0));
		fputs("</h1></header><main>\n<h2>Summary</h2><table>", out);
		static const char *const names[] = {
		    "snapshot",           "runtime", "objects",   "bytes",
		    "GC garbage objects", "roots",   "references"};
		for (int i = 0; i < 7; i++) {
			fprintf(out, "<tr><th>%s</th><td>", names[i]);
			html(out, col(stmt, i));
			fputs("</td></tr>", out);
		}
		fputs("</table>\n", out);
	}
	sqlite3_finalize(stmt);
	return NULL;
}

static struct hs_error *write_tree(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *stmt;
	struct hs_error *err = prepare(
	    db,
	    "SELECT r.id, coalesce((SELECT t.id FROM report_tree t WHERE t.id = r.idom), -1),"
	    " r.retained, type || ' ' || label, type, printf('0x%x', addr),"
	    " r.id IN (SELECT id FROM report_pages) FROM report_tree r ORDER BY r.retained DESC",
	    &stmt);
	if (err)
		return err;
	fputs(
	    "<h2>What retains the memory</h2><p class=\"explain\">The dominator tree by retained "
	    "size: each box is an object and the memory only it keeps alive; boxes inside are what "
	    "it dominates.  Click a box for the object's page.</p>\n<div id=\"treemap\"></div>\n"
	    "<script type=\"application/json\" id=\"tree\">{\"total\":",
	    out);
	sqlite3_stmt *total;
	err = prepare(db, "SELECT coalesce(sum(size), 0) FROM objects WHERE depth IS NOT NULL",
	              &total);
	if (err) {
		sqlite3_finalize(stmt);
		return err;
	}
	fprintf(out, "%lld",
	        sqlite3_step(total) == SQLITE_ROW ? sqlite3_column_int64(total, 0) : 0);
	sqlite3_finalize(total);
	fputs(",\"nodes\":[", out);
	for (int n = 0; sqlite3_step(stmt) == SQLITE_ROW; n++) {
		fprintf(out, "%s[%lld,%lld,%lld,", n ? ",\n" : "", sqlite3_column_int64(stmt, 0),
		        sqlite3_column_int64(stmt, 1), sqlite3_column_int64(stmt, 2));
		json_in_script(out, col(stmt, 3));
		fputc(',', out);
		json_in_script(out, col(stmt, 4));
		fputc(',', out);
		if (sqlite3_column_int(stmt, 6))
			json_in_script(out, col(stmt, 5));
		else
			fputs("null", out);
		fputc(']', out);
	}
	fputs("]}</script>\n", out);
	sqlite3_finalize(stmt);
	return NULL;
}

/* One table with a bar per row: label, count, bytes; the bar is bytes against the largest. */
static struct hs_error *write_types(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *stmt;
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "SELECT t.name, count(*), sum(o.size), max(sum(o.size)) OVER () FROM objects o"
	         " JOIN types t ON t.id = o.type_id GROUP BY o.type_id ORDER BY 3 DESC LIMIT %d",
	         TYPE_ROWS);
	struct hs_error *err = prepare(db, sql, &stmt);
	if (err)
		return err;
	fputs("<h2>Types</h2><table id=\"types\"><tr><th>type</th><th>objects</th><th>bytes</th>"
	      "<th></th></tr>\n",
	      out);
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		double frac =
		    (double)sqlite3_column_int64(stmt, 2) /
		    (double)(sqlite3_column_int64(stmt, 3) ? sqlite3_column_int64(stmt, 3) : 1);
		fputs("<tr><td>", out);
		html(out, col(stmt, 0));
		fprintf(
		    out,
		    "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td><span class=\"bar\" "
		    "style=\"width:%.0fpx\"></span></td></tr>\n",
		    col(stmt, 1), col(stmt, 2), 400 * frac);
	}
	fputs("</table>\n", out);
	sqlite3_finalize(stmt);
	return NULL;
}

/* Growth: total bytes per snapshot as bars, and the types that grew most with their count in
 * each snapshot. */
static struct hs_error *write_growth(sqlite3 *db, FILE *out, int nbaselines)
{
	if (nbaselines == 0)
		return NULL;
	fputs("<h2>Growth</h2><svg id=\"growth\" width=\"640\" height=\"220\">\n", out);
	sqlite3_stmt *stmt;
	struct hs_error *err =
	    prepare(db,
	            "SELECT k, name, bytes, max(bytes) OVER (), count(*) OVER () FROM"
	            " leak_snapshots ORDER BY k",
	            &stmt);
	if (err)
		return err;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		int k = sqlite3_column_int(stmt, 0), n = sqlite3_column_int(stmt, 4);
		double h =
		    170.0 * (double)sqlite3_column_int64(stmt, 2) /
		    (double)(sqlite3_column_int64(stmt, 3) ? sqlite3_column_int64(stmt, 3) : 1);
		double w = 600.0 / n;
		fprintf(out,
		        "<rect class=\"grow\" x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" "
		        "fill=\"#c53\"><title>",
		        20 + k * w, 190 - h, w * 0.8, h);
		html(out, col(stmt, 1));
		fprintf(out, "</title></rect><text x=\"%.0f\" y=\"205\">#%d: %s bytes</text>\n",
		        20 + k * w, k, col(stmt, 2));
	}
	sqlite3_finalize(stmt);
	fputs("</svg>\n<h3>Types that grew most</h3><table><tr><th>type</th><th>objects per "
	      "snapshot, oldest first</th></tr>\n",
	      out);
	/* Per type and snapshot, from each attached baseline bK and main. */
	char *sql = sqlite3_mprintf("DROP TABLE IF EXISTS temp.report_types;"
	                            "CREATE TEMP TABLE report_types AS SELECT %d AS k, t.name AS"
	                            " type, count(*) AS n FROM objects o JOIN types t ON"
	                            " t.id = o.type_id GROUP BY t.name;",
	                            nbaselines);
	for (int k = 0; sql && k < nbaselines; k++) {
		char *more =
		    sqlite3_mprintf("%sINSERT INTO report_types SELECT %d, t.name, count(*)"
		                    " FROM b%d.objects o JOIN b%d.types t ON t.id = o.type_id"
		                    " GROUP BY t.name;",
		                    sql, k, k, k);
		sqlite3_free(sql);
		sql = more;
	}
	if (!sql)
		return &hs_error_nomem;
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return hs_store_error(db, "report: types per snapshot");
	err = prepare(db,
	              "SELECT type, group_concat(n, ' > ') FROM (SELECT r.type, r.k, r.n FROM"
	              " report_types r JOIN (SELECT type, max(CASE WHEN k = (SELECT max(k) FROM"
	              " report_types) THEN n END) - coalesce(max(CASE WHEN k = 0 THEN n END), 0) AS"
	              " d FROM report_types GROUP BY type ORDER BY d DESC LIMIT 10) g USING (type)"
	              " ORDER BY g.d DESC, r.type, r.k) GROUP BY type ORDER BY min(rowid)",
	              &stmt);
	if (err)
		return err;
	while (sqlite3_step(stmt) == SQLITE_ROW) {
		fputs("<tr><td>", out);
		html(out, col(stmt, 0));
		fputs("</td><td>", out);
		html(out, col(stmt, 1));
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
	sqlite3_finalize(stmt);
	return NULL;
}

/* Writes a link to object ADDR's page when it has one, else the address. */
static void object_link(FILE *out, const char *addr, bool has_page, const char *text)
{
	if (has_page) {
		fprintf(out, "<a href=\"#o-%s\">", addr);
		html(out, text);
		fputs("</a>", out);
	} else {
		html(out, text);
	}
}

static struct hs_error *write_findings(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *stmt;
	struct hs_error *err = prepare(
	    db,
	    "SELECT f.subject, f.objects, f.bytes, f.retained, f.trend, printf('0x%x', o.addr),"
	    " f.path, detail, o.id IS NOT NULL FROM leak_findings f LEFT JOIN objects o"
	    " ON o.id = f.obj WHERE section = ?1 ORDER BY f.rowid",
	    &stmt);
	if (err)
		return err;
	fputs("<h2>Leak report</h2>\n", out);
	for (int i = 0; i < hs_leak_nsections; i++) {
		const struct hs_leak_section *s = &hs_leak_sections[i];
		fprintf(out, "<section class=\"leak\" id=\"leak-%s\"><h3>%d. ", s->pattern,
		        s->number);
		html(out, s->title);
		fputs("</h3><p class=\"explain\">", out);
		html(out, s->explain);
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
			html(out, col(stmt, 7));
			if (*col(stmt, 4)) {
				fputs("<br>trend: ", out);
				html(out, col(stmt, 4));
			}
			if (*col(stmt, 6)) {
				fputs("<br>path: <code>", out);
				html(out, col(stmt, 6));
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

/* A page per object of report_pages: its facts, path, and what it refers to and what refers to
 * it (20 each, largest retained first), linked when they have a page too. */
static struct hs_error *write_pages(sqlite3 *db, FILE *out)
{
	sqlite3_stmt *obj, *rel;
	struct hs_error *err = prepare(
	    db,
	    "SELECT o.id, printf('0x%x', o.addr), hs_type(o.id), o.size, o.retained, o.refcnt,"
	    " o.ext_refs, o.depth, hs_path(o.id), substr(o.value, 1, 100)"
	    " FROM report_pages p JOIN objects o ON o.id = p.id ORDER BY o.retained DESC",
	    &obj);
	if (err)
		return err;
	err =
	    prepare(db,
	            "SELECT * FROM (SELECT 'refers to', e.label, printf('0x%x', d.addr),"
	            " hs_type(d.id), d.retained, d.id IN (SELECT id FROM report_pages)"
	            " FROM edges e JOIN objects d ON d.id = e.dst WHERE e.src = ?1"
	            " ORDER BY d.retained DESC LIMIT 20) UNION ALL SELECT * FROM (SELECT"
	            " 'referred to by', e.label, printf('0x%x', s.addr), hs_type(s.id), s.retained,"
	            " s.id IN (SELECT id FROM report_pages) FROM referrers r JOIN edges e"
	            " ON e.id = r.edge JOIN objects s ON s.id = r.src WHERE r.dst = ?1"
	            " ORDER BY s.retained DESC LIMIT 20)",
	            &rel);
	if (err) {
		sqlite3_finalize(obj);
		return err;
	}
	fputs("<h2>Objects</h2><p class=\"explain\">Follow a link to open an object's page.</p>\n",
	      out);
	while (sqlite3_step(obj) == SQLITE_ROW) {
		fprintf(out, "<section class=\"obj\" id=\"o-%s\"><h3>", col(obj, 1));
		html(out, col(obj, 2));
		fprintf(out,
		        " at %s</h3><table><tr><th>size</th><td>%s</td></tr><tr><th>retained</th>"
		        "<td>%s</td></tr><tr><th>refcount</th><td>%s (%s not explained by the heap)"
		        "</td></tr><tr><th>depth</th><td>%s</td></tr><tr><th>path</th><td><code>",
		        col(obj, 1), col(obj, 3), col(obj, 4), col(obj, 5), col(obj, 6),
		        col(obj, 7));
		html(out, *col(obj, 8) ? col(obj, 8) : "(no root reaches it)");
		fputs("</code></td></tr>", out);
		if (*col(obj, 9)) {
			fputs("<tr><th>value</th><td><code>", out);
			html(out, col(obj, 9));
			fputs("</code></td></tr>", out);
		}
		fputs("</table><table><tr><th></th><th>label</th><th>object</th><th>retained</th></"
		      "tr>",
		      out);
		sqlite3_reset(rel);
		sqlite3_bind_int64(rel, 1, sqlite3_column_int64(obj, 0));
		while (sqlite3_step(rel) == SQLITE_ROW) {
			char text[160];
			snprintf(text, sizeof(text), "%s at %s", col(rel, 3), col(rel, 2));
			fprintf(out, "<tr><td>%s</td><td><code>", col(rel, 0));
			html(out, col(rel, 1));
			fputs("</code></td><td>", out);
			object_link(out, col(rel, 2), sqlite3_column_int(rel, 5), text);
			fprintf(out, "</td><td class=\"n\">%s</td></tr>", col(rel, 4));
		}
		fputs("</table></section>\n", out);
	}
	sqlite3_finalize(obj);
	sqlite3_finalize(rel);
	return NULL;
}

static struct hs_error *write_report(sqlite3 *db, FILE *out, int nbaselines)
{
	char *sql = sqlite3_mprintf(pages_sql, TREE_NODES, OBJECT_PAGES);
	if (!sql)
		return &hs_error_nomem;
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK)
		return hs_store_error(db, "report: objects");
	fputs(hs_report_head, out);
	struct hs_error *err = write_summary(db, out);
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
	static const struct option longopts[] = {{"baseline", required_argument, NULL, 'b'},
	                                         {"output", required_argument, NULL, 'o'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {"salvage", no_argument, NULL, 'S'},
	                                         {NULL, 0, NULL, 0}};
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
			hs_store_allow_salvage(true);
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
		err = hs_store_open(snap, &db);
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
