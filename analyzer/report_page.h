/*
 * report_page.h — the fixed parts of the HTML report (report_page.c): the stylesheet and the
 * script that draws the treemap, embedded so the page is one self-contained file that fetches
 * nothing.  cmd_report.c writes the data and the static sections between them.
 */
#ifndef HS_REPORT_PAGE_H
#define HS_REPORT_PAGE_H

/* Everything up to and including <body>. */
extern const char hs_report_head[];
/* The script that draws the treemap from the JSON in <script id="tree">, shows the object page
 * the URL's #fragment names, and records its render time in body[data-render-ms]. */
extern const char hs_report_script[];

#endif
