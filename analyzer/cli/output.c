/*
 * output.c — prints rows as an aligned table, CSV (RFC 4180) or one JSON array of objects keyed
 * by column name: the --format of every heapsnap command that prints rows (DESIGN.md).
 *
 * Out of memory is a sticky state of the printer, never an exit (this code also runs inside the
 * user's gdb): a table that could not keep a cell drops every later one and hs_table_destroy
 * returns the error.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct cell {
	enum hs_cell_type type;
	char *text;
};

/* What every table says it lacks (hs_table_set_partial), or NULL. */
static char *partial_note;

struct hs_error *hs_table_set_partial(const char *note)
{
	free(partial_note);
	partial_note = NULL;
	if (note && !(partial_note = strdup(note)))
		return &hs_error_nomem;
	return NULL;
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
	bool nomem; /* a cell was lost: nothing more is kept, hs_table_destroy fails */
};

/* What hs_table_create returns when it cannot allocate a printer: one that drops everything. */
static struct hs_table nomem_table = {.nomem = true};

/* Frees t and everything it holds, printing nothing. */
static void free_table(struct hs_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i].text);
	free(t->cells);
	for (size_t i = 0; t->names && i < t->ncols; i++)
		free(t->names[i]);
	free(t->names);
	free(t);
}

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
		return &nomem_table;
	t->out = out;
	t->format = format;
	t->ncols = ncols;
	t->names = calloc(ncols ? ncols : 1, sizeof(char *));
	for (size_t i = 0; t->names && i < ncols; i++)
		if (!(t->names[i] = strdup(names[i])))
			t->nomem = true;
	if (!t->names || t->nomem) {
		free_table(t);
		return &nomem_table;
	}
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
	if (t->nomem)
		return;
	if (t->ncells == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		struct cell *cells = realloc(t->cells, cap * sizeof(*cells));
		if (!cells) {
			t->nomem = true;
			return;
		}
		t->cells = cells;
		t->cap = cap;
	}
	char *copy = text ? strdup(text) : NULL;
	if (text && !copy) {
		t->nomem = true;
		return;
	}
	t->cells[t->ncells++] = (struct cell){text ? type : HS_CELL_NULL, copy};
}

void hs_table_cellf(struct hs_table *t, enum hs_cell_type type, const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		t->nomem = true;
		return;
	}
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
	if (t->nomem)
		return;
	/* Pad or cut the row to the column count. */
	while (!t->nomem && t->ncells - t->row_start < t->ncols)
		hs_table_cell(t, HS_CELL_NULL, NULL);
	if (t->nomem)
		return;
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
	if (!width) {
		t->nomem = true;
		return;
	}
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

struct hs_error *hs_table_destroy(struct hs_table *t)
{
	if (!t)
		return NULL;
	if (t == &nomem_table)
		return &hs_error_nomem;
	if (t->ncells > t->row_start)
		hs_table_end_row(t);
	if (t->format == HS_FORMAT_TABLE && !t->nomem) {
		print_table(t);
		if (partial_note && !t->nomem)
			fprintf(t->out, "(partial: %s)\n", partial_note);
	} else if (t->format == HS_FORMAT_JSON)
		fputs(t->nrows ? "\n]\n" : "]\n", t->out);
	bool nomem = t->nomem;
	free_table(t);
	return nomem ? &hs_error_nomem : NULL;
}
