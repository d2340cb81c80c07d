/*
 * dot.c — Graphviz DOT output (dot.h): the escaping of quoted strings and the digraph writer
 * that turns the rows of a query into nodes, clusters and labelled edges.
 */
#include <stdlib.h>
#include <string.h>

#include "dot.h"
#include "store.h"

void hs_dot_string(FILE *out, const char *s)
{
	putc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else
			putc(c < 0x20 || c == 0x7f ? ' ' : c, out);
	}
	putc('"', out);
}

struct hs_error *hs_dot_write(sqlite3 *db, const char *sql, int nargs, const long long *args,
                              const char *title, FILE *out)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return hs_store_error(db, "SQL");
	for (int i = 0; i < nargs; i++)
		sqlite3_bind_int64(stmt, i + 1, args[i]);
	fputs("digraph heapsnap {\n\tlabel=", out);
	hs_dot_string(out, title);
	fputs(";\n\tlabelloc=t;\n\tnode [shape=box, fontname=\"monospace\", fontsize=10];\n"
	      "\tedge [fontname=\"monospace\", fontsize=9];\n",
	      out);
	char *cluster = NULL; /* the open subgraph's label */
	int nclusters = 0, rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *label = (const char *)sqlite3_column_text(stmt, 2);
		const char *in = (const char *)sqlite3_column_text(stmt, 3);
		bool node = sqlite3_column_type(stmt, 1) == SQLITE_NULL;
		if (cluster && (!node || !in || strcmp(in, cluster) != 0)) {
			fputs("\t}\n", out);
			free(cluster);
			cluster = NULL;
		}
		if (node && in && !cluster) {
			if (!(cluster = strdup(in))) {
				sqlite3_finalize(stmt);
				return &hs_error_nomem;
			}
			fprintf(out, "\tsubgraph cluster_%d {\n\t\tlabel=", nclusters++);
			hs_dot_string(out, in);
			fputs(";\n", out);
		}
		fprintf(out, cluster ? "\t\to%lld" : "\to%lld", sqlite3_column_int64(stmt, 0));
		if (!node)
			fprintf(out, " -> o%lld", sqlite3_column_int64(stmt, 1));
		if (label) {
			fputs(" [label=", out);
			hs_dot_string(out, label);
			putc(']', out);
		}
		fputs(";\n", out);
	}
	if (cluster)
		fputs("\t}\n", out);
	free(cluster);
	fputs("}\n", out);
	struct hs_error *err = rc == SQLITE_DONE ? NULL : hs_store_error(db, "SQL");
	sqlite3_finalize(stmt);
	return err;
}
