/*
 * output.c — prints rows as an aligned table, CSV (RFC 4180) or one JSON array of objects keyed
 * by column name: the --format of every heapsnap command that prints rows (DESIGN.md).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void *xmalloc_fail(void)
{
	fputs("heapsnap: out of memory\n", stderr);
	exit(HS_EXIT_DATA);
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	return d ? d : xmalloc_fail();
}

struct cell {
	enum hs_cell_type type;
	char *text;
};

/* What every table says it lacks (hs_table_set_partial), or NULL. */
static char *partial_note;

void hs_table_set_partial(const char *note)
{
	free(partial_note);
	partial_note = note ? xstrdup(note) : NULL;
}

struct hs_table {
	FILE *out;
	enum hs_format format;
	size_t ncols;
	char **names;
	/* Table format: every row, for the column widths. CSV/JSON: the current row only. */
	struct cell *cells;
	size_t ncells, cap;
	size_t row_start; /* index of the current row's first cell */
	size_t nrows;
};

bool hs_format_parse(const char *s, enum hs_format *ret)
{
	static const char *names[] = {"table", "csv", "json"};
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum hs_format)i;
			return true;
		}
	return false;
}

struct hs_table *hs_table_create(FILE *out, enum hs_format format, size_t ncols,
                                 const char *const *names)
{
	struct hs_table *t = calloc(1, sizeof(*t));
	if (!t)
		return xmalloc_fail();
	t->out = out;
	t->format = format;
	t->ncols = ncols;
	t->names = calloc(ncols ? ncols : 1, sizeof(char *));
	if (!t->names)
		return xmalloc_fail();
	for (size_t i = 0; i < ncols; i++)
		t->names[i] = xstrdup(names[i]);
	if (format == HS_FORMAT_CSV) {
		if (partial_note) /* a comment line before the header */
			fprintf(out, "# partial: %s\r\n", partial_note);
		/* The header row uses the same quoting as data rows. */
		for (size_t i = 0; i < ncols; i++)
			hs_table_cell(t, HS_CELL_TEXT, names[i]);
		hs_table_end_row(t);
		t->nrows = 0;
	} else if (format == HS_FORMAT_JSON) {
		fputc('[', out);
	}
	return t;
}

void hs_table_cell(struct hs_table *t, enum hs_cell_type type, const char *text)
{
	if (t->ncells == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->cells = realloc(t->cells, t->cap * sizeof(*t->cells));
		if (!t->cells)
			xmalloc_fail();
	}
	t->cells[t->ncells++] =
	    (struct cell){text ? type : HS_CELL_NULL, text ? xstrdup(text) : NULL};
}

void hs_table_cellf(struct hs_table *t, enum hs_cell_type type, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		xmalloc_fail();
	va_end(ap);
	hs_table_cell(t, type, s);
	free(s);
}

static void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void free_cells(struct hs_table *t, size_t from)
{
	for (size_t i = from; i < t->ncells; i++)
		free(t->cells[i].text);
	t->ncells = from;
}

void hs_table_end_row(struct hs_table *t)
{
	/* Pad or cut the row to the column count. */
	while (t->ncells - t->row_start < t->ncols)
		hs_table_cell(t, HS_CELL_NULL, NULL);
	struct cell *row = t->cells + t->row_start;
	if (t->format == HS_FORMAT_TABLE) {
		free_cells(t, t->row_start + t->ncols);
		t->row_start = t->ncells;
		t->nrows++;
		return;
	}
	if (t->format == HS_FORMAT_CSV) {
		for (size_t i = 0; i < t->ncols; i++) {
			fputs(i ? "," : "", t->out);
			if (row[i].type != HS_CELL_NULL)
				csv_field(t->out, row[i].text);
		}
		fputs("\r\n", t->out);
	} else {
		fputs(t->nrows ? ",\n{" : "\n{", t->out);
		for (size_t i = 0; i < t->ncols; i++) {
			fputs(i ? "," : "", t->out);
			hs_json_string(t->out, t->names[i], strlen(t->names[i]));
			fputc(':', t->out);
			if (row[i].type == HS_CELL_NULL)
				fputs("null", t->out);
			else if (row[i].type == HS_CELL_NUMBER)
				fputs(row[i].text, t->out);
			else
				hs_json_string(t->out, row[i].text, strlen(row[i].text));
		}
		fputs(partial_note ? ",\"partial\":true}" : "}", t->out);
	}
	t->nrows++;
	free_cells(t, 0);
	t->row_start = 0;
}

static void print_table(struct hs_table *t)
{
	size_t *width = calloc(t->ncols ? t->ncols : 1, sizeof(size_t));
	if (!width)
		xmalloc_fail();
	for (size_t i = 0; i < t->ncols; i++)
		width[i] = strlen(t->names[i]);
	for (size_t i = 0; i < t->row_start; i++) {
		const struct cell *c = &t->cells[i];
		size_t w = c->text ? strlen(c->text) : 0;
		if (w > width[i % t->ncols])
			width[i % t->ncols] = w;
	}
	for (size_t i = 0; i < t->ncols; i++)
		fprintf(t->out, "%s%-*s", i ? "  " : "", i + 1 < t->ncols ? (int)width[i] : 0,
		        t->names[i]);
	fputc('\n', t->out);
	for (size_t i = 0; i < t->ncols; i++) {
		fputs(i ? "  " : "", t->out);
		for (size_t k = 0; k < width[i]; k++)
			fputc('-', t->out);
	}
	fputc('\n', t->out);
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; i < t->ncols; i++) {
			const struct cell *c = &t->cells[r * t->ncols + i];
			const char *s = c->text ? c->text : "";
			bool last = i + 1 == t->ncols;
			fputs(i ? "  " : "", t->out);
			if (c->type == HS_CELL_NUMBER)
				fprintf(t->out, "%*s", (int)width[i], s);
			else
				fprintf(t->out, "%-*s", last ? 0 : (int)width[i], s);
		}
		fputc('\n', t->out);
	}
	free(width);
}

void hs_table_destroy(struct hs_table *t)
{
	if (!t)
		return;
	if (t->ncells > t->row_start)
		hs_table_end_row(t);
	if (t->format == HS_FORMAT_TABLE) {
		print_table(t);
		if (partial_note)
			fprintf(t->out, "(partial: %s)\n", partial_note);
	} else if (t->format == HS_FORMAT_JSON)
		fputs(t->nrows ? "\n]\n" : "]\n", t->out);
	free_cells(t, 0);
	free(t->cells);
	for (size_t i = 0; i < t->ncols; i++)
		free(t->names[i]);
	free(t->names);
	free(t);
}
