/*
 * first_answer.h — the commands that answer a fresh snapshot (no database next to it yet) from
 * the snapshot and its analysis before the database is written (first_answer.c, over
 * hs_cli_first_answer of load.h), with the same output as from the database.
 */
#ifndef HS_FIRST_ANSWER_H
#define HS_FIRST_ANSWER_H

#include <stdbool.h>

#include "commands.h"

/* `heapsnap top SNAP --by retained`: runs sql (the named query largest_retained, ?1 the limit)
 * on a partial database of the N objects with the largest retained sizes and their paths.
 * Returns the exit code, or -1 when SNAP is no fresh snapshot or N is not one this answers
 * (the caller then goes through the database). */
int hs_first_top_retained(const struct hs_cmd_args *a, const char *sql);

#endif
