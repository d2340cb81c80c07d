/*
 * lines.h — the line a code object's instruction at a byte offset belongs to, from the code's line
 * table, as CPython's PyCode_Addr2Line computes it: co_lnotab on 3.8-3.9, co_linetable on 3.10
 * and the location table of 3.11+ (Objects/lnotab_notes.txt, Objects/locations.md).  The
 * out-of-process capture reads the table from the target and asks here; the in-process capture
 * calls PyCode_Addr2Line itself, so both name a frame's root by the same line.
 */
#ifndef HS_CPYTHON_LINES_H
#define HS_CPYTHON_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The line of the instruction at byte offset addr of a code object of minor version minor whose
 * line table is the n bytes at table and whose co_firstlineno is first: first for addr < 0,
 * -1 for an instruction with no line (3.10+) or an offset past the table (3.10+). */
int hs_cp_addr2line(unsigned minor, const uint8_t *table, size_t n, int first, int64_t addr);

/* The line PyFrame_GetLineNumber gives for a 3.8-3.10 frame object: f_lineno while it is traced
 * (3.8-3.9: it has an f_trace; 3.10: f_lineno is not 0), else the line of its last instruction,
 * f_lasti (a byte offset on 3.8-3.9, in 2-byte code units on 3.10), in its code's table. */
int hs_cp_frame310_line(unsigned minor, bool traced, int f_lineno, int f_lasti,
                        const uint8_t *table, size_t n, int first);

#endif
