/*
 * report_page.h — the fixed parts of the HTML report (report_page.c): the stylesheet and the
 * script that draws the treemap and runs the search, embedded so the page is one self-contained
 * file that fetches nothing; and the writers every section uses for text from the heap (which
 * is untrusted: any name may hold <, &, quotes or newlines) and for bar charts with an axis.
 * cmd_report.c writes the data and the static sections between them.
 */
#ifndef HS_REPORT_PAGE_H
#define HS_REPORT_PAGE_H

#include <stdio.h>

/* Everything up to and including <body>. */
extern const char hs_report_head[];
/* The script that draws the treemap from the JSON in <script id="tree">, shows the object page
 * the URL's #fragment names (#o-ADDR), searches the report's objects (#q=TEXT fills the search
 * box), and records its render time in body[data-render-ms]. */
extern const char hs_report_script[];

/* Writes s as HTML text or attribute value (NULL writes nothing): <, >, &, " and ' escaped. */
void hs_report_html(FILE *out, const char *s);

/* Writes s as a JSON string fit for a <script> element: every '<' is written \u003c, so no
 * value can end the element or open a comment in it. */
void hs_report_json(FILE *out, const char *s);

/* What a bar chart counts: its unit picks the axis' labels. */
enum hs_report_unit {
	HS_UNIT_BYTES, /* B, KiB, MiB or GiB, by the largest value */
	HS_UNIT_COUNT, /* plain numbers; the chart's noun says what is counted */
};

/* A bar chart: one bar per value with its x label below, a y axis from 0 with 4 to 10 ticks
 * labelled in the unit, and the axis title "NOUN (UNIT)".  Written as
 * <svg class="chart" id=ID data-unit=...>: each bar a rect.bar with data-value, each tick a
 * text.tick with data-value, so a reader (or a test) can check the bars against the axis. */
struct hs_report_chart {
	const char *id;
	const char *title;
	const char *noun; /* "heap bytes", "objects", "entries" */
	enum hs_report_unit unit;
	int n;
	const char *const *labels;
	const long long *values;
};
void hs_report_bar_chart(FILE *out, const struct hs_report_chart *c);

/* Writes bytes as a person reads them: "512 B", "1.5 KiB", "11.3 MiB". */
void hs_report_size(FILE *out, long long bytes);

#endif
