/*
 * dot.h — Graphviz DOT output for `heapsnap path --dot` and `heapsnap cycles --dot` (dot.c):
 * a picture of why an object is alive, or of the garbage cycles, drawn by `dot -Tsvg`.
 */
#ifndef HS_DOT_H
#define HS_DOT_H

#include <sqlite3.h>
#include <stdio.h>

#include "hsnap.h"

/* Writes s as a DOT quoted string: '"' and '\' escaped, a newline as the line break "\n",
 * other control characters as spaces, so any label gives valid DOT that shows it as it is. */
void hs_dot_string(FILE *out, const char *s);

/* Runs sql (its ?1..?nargs bound to args) and writes its rows to out as one DOT digraph named
 * by title.  Each row is (src, dst, label, cluster): dst NULL makes node src with that label,
 * inside the subgraph cluster whose label is cluster (rows of one cluster come together;
 * NULL: none); otherwise an edge src -> dst with that label (NULL: none). */
struct hs_error *hs_dot_write(sqlite3 *db, const char *sql, int nargs, const long long *args,
                              const char *title, FILE *out);

#endif
