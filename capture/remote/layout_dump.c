/*
 * layout_dump.c — `hs-layout-dump TABLE FILE...`: prints one of fields.h's tables ("walker",
 * "stdlib" or "debugoff") as resolved from the DWARF of the given ELF files, one "ID VALUE" line
 * per entry, VALUE from the first file that has the member (-1 when none has).  gen_layouts.py
 * runs it over reference builds to write layout_tables.c.  Exit 1 when no file has DWARF.
 */
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

int main(int argc, char **argv)
{
	const struct hs_layout_table *tables[] = {&hs_walker_fields, &hs_stdlib_fields,
	                                          &hs_debugoff_fields};
	const struct hs_layout_table *t = NULL;
	for (size_t i = 0; argc > 1 && i < 3; i++)
		if (!strcmp(argv[1], tables[i]->name))
			t = tables[i];
	if (!t || argc < 3) {
		fputs("usage: hs-layout-dump walker|stdlib|debugoff ELF...\n", stderr);
		return 2;
	}
	int64_t *v = malloc(t->n * sizeof(*v)), *got = malloc(t->n * sizeof(*got));
	if (!v || !got)
		return 1;
	for (size_t f = 0; f < t->n; f++)
		v[f] = -1;
	int files = 0;
	struct hs_layout_opts lo = {0};
	for (int a = 2; a < argc; a++) {
		struct hs_file f = {argv[a], argv[a], ""};
		struct hs_error *err = hs_layout_load_table(&f, &lo, t, got);
		if (err) {
			fprintf(stderr, "hs-layout-dump: %s\n", err->message);
			hs_error_destroy(err);
			continue;
		}
		files++;
		for (size_t f = 0; f < t->n; f++)
			if (v[f] < 0)
				v[f] = got[f];
	}
	for (size_t f = 0; files && f < t->n; f++)
		printf("%s %lld\n", t->ids[f], (long long)v[f]);
	free(v);
	free(got);
	return files ? 0 : 1;
}
