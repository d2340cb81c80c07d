/*
 * layouts.c — the layouts a walk uses, and the checks that they are the target's.  Sources, in
 * order (capture/remote/README.md, "Pythons without DWARF"):
 *   1. the DWARF of the target's libpython (the file, a .build-id debug file, its debuglink);
 *   2. the table compiled in for the target's minor version (layout_tables.c, generated from
 *      reference builds by gen_layouts.py).
 * Whichever is used is checked against the target's memory: PyType_Type, read through it, must
 * be the type named "type" whose instances are PyHeapTypeObjects; and on 3.13+, every offset that
 * the target's own _Py_DebugOffsets states must equal the layout's (a disagreement refuses a
 * table and is reported beside DWARF).  The source and the check go into the snapshot's meta.
 */
#include <stdio.h>

#include "internal.h"

const struct hs_layout_builtin *hs_layout_builtin(int minor)
{
	for (size_t i = 0; i < hs_layout_nbuiltins; i++)
		if (hs_layout_builtins[i].minor == minor)
			return &hs_layout_builtins[i];
	return NULL;
}

/* The minor version from the members a DWARF layout has (capture/CPYTHON.md §1.1). */
static int minor_from_layout(const struct hs_layout *L)
{
	if (L->v[HS_L_DV_CAPACITY] >= 0)
		return 13;
	if (L->v[HS_L_LONG_LV_TAG] >= 0)
		return 12;
	if (L->v[HS_L_IF_CODE] >= 0)
		return 11;
	if (L->v[HS_L_F_STACKDEPTH] >= 0)
		return 10;
	if (L->v[HS_L_HT_MODULE] >= 0)
		return 9;
	return 8;
}

/* py->L from py's DWARF; the version from it when the target stated none. */
static struct hs_error *from_dwarf(const struct hs_layout_opts *lo, struct hs_python *py)
{
	struct hs_error *err = hs_layout_load_table(&py->file, lo, &hs_walker_fields, py->L.v);
	if (err)
		return err;
	if (py->L.v[HS_L_TP_FLAGS] < 0 || py->L.v[HS_L_GCGEN_SIZE] < 0)
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: its DWARF has no PyTypeObject or GC state: not a "
		                       "CPython 3.8-3.13 build?",
		                       py->path);
	int m = minor_from_layout(&py->L);
	if (py->minor < 0) {
		py->minor = m;
		snprintf(py->version_from, sizeof(py->version_from), "its DWARF");
	} else if (m != py->minor) {
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: its DWARF describes CPython 3.%d, its %s says 3.%d",
		                       py->path, m, py->version_from, py->minor);
	}
	const char *file = !py->debug_path[0]                       ? "(layout cache)"
	                   : !strcmp(py->debug_path, py->open_path) ? py->path
	                                                            : py->debug_path;
	snprintf(py->layout_source, sizeof(py->layout_source), "dwarf %s", file);
	return NULL;
}

/* py->L from the compiled-in table of py->minor. */
static struct hs_error *from_table(struct hs_memsrc *m, struct hs_python *py, const char *why)
{
	const struct hs_layout_builtin *b = py->minor >= 0 ? hs_layout_builtin(py->minor) : NULL;
	if (py->debug_build)
		return hs_error_create(
		    HS_ERROR_FORMAT,
		    "%s: %s is a debug build (Py_DEBUG), whose layouts differ from "
		    "the release tables heapsnap carries, and %s: install its "
		    "debug symbols or use --debug-dir DIR",
		    m->what, py->path, why);
	if (!b)
		return hs_error_create(
		    HS_ERROR_FORMAT,
		    "%s: %s states no version (no Py_Version, no 3.X in its name) "
		    "and %s: install its debug symbols or use --debug-dir DIR",
		    m->what, py->path, why);
	memcpy(py->L.v, b->walker, sizeof(py->L.v));
	snprintf(py->layout_source, sizeof(py->layout_source), "table 3.%d (generated from %s)",
	         py->minor, b->reference);
	return NULL;
}

/* PyType_Type read through py->L: named "type", instances the size of a PyHeapTypeObject. */
static struct hs_error *check_memory(struct hs_memsrc *m, const struct hs_python *py)
{
	struct hs_elf_sym s = {"PyType_Type", 0};
	struct hs_error *err = hs_python_symbols(py, &s, 1);
	if (err)
		return err;
	const int64_t *v = py->L.v;
	uint64_t basicsize = 0, name = 0;
	char buf[5] = {0};
	bool ok = s.value &&
	          hs_mem_read(m, s.value + (uint64_t)v[HS_L_TP_BASICSIZE], &basicsize, 8) &&
	          hs_mem_read(m, s.value + (uint64_t)v[HS_L_TP_NAME], &name, 8) &&
	          hs_mem_read(m, name, buf, 5) && !memcmp(buf, "type", 5);
	if (ok && (int64_t)basicsize == v[HS_L_HT_SIZE])
		return NULL;
	return hs_error_create(
	    HS_ERROR_MEMORY,
	    "%s: PyType_Type (0x%llx) does not read as the type \"type\" through "
	    "the layout (%s): tp_basicsize %llu (expected %lld), tp_name \"%.4s\" "
	    "(memory that does not match its files, or a build with other "
	    "options: then install its debug symbols)",
	    m->what, (unsigned long long)s.value, py->layout_source, (unsigned long long)basicsize,
	    (long long)v[HS_L_HT_SIZE], buf);
}

/* The target's _Py_DebugOffsets (3.13+) against py->L: the positions of its members come from
 * the same source as py->L.  Sets py->debugoff_check; an error for a table that disagrees. */
static struct hs_error *check_debugoffsets(struct hs_memsrc *m, const struct hs_layout_opts *lo,
                                           struct hs_python *py)
{
	char cookie[8];
	if (py->minor < 13 || !hs_mem_read(m, py->runtime, cookie, 8) ||
	    memcmp(cookie, "xdebugpy", 8))
		return NULL;
	int64_t pos[HS_DO_COUNT];
	const struct hs_layout_builtin *b = hs_layout_builtin(py->minor);
	bool dwarf = !strncmp(py->layout_source, "dwarf", 5);
	struct hs_error *err =
	    dwarf ? hs_layout_load_table(&py->file, lo, &hs_debugoff_fields, pos) : NULL;
	if (err || (!dwarf && !b)) {
		hs_error_destroy(err);
		return NULL;
	}
	if (!dwarf)
		memcpy(pos, b->debugoff, sizeof(pos));
	size_t agree = 0, differ = 0;
	char first[96] = "";
	for (size_t i = 0; i < HS_DO_COUNT; i++) {
		enum hs_layout_field f = hs_debugoff_walker_field[i];
		uint64_t said;
		if (pos[i] < 0 || py->L.v[f] < 0 ||
		    !hs_mem_read(m, py->runtime + (uint64_t)pos[i], &said, 8))
			continue;
		if ((int64_t)said == py->L.v[f]) {
			agree++;
		} else if (!differ++) {
			snprintf(first, sizeof(first), "%s is %llu there, %lld here",
			         hs_debugoff_fields.members[i], (unsigned long long)said,
			         (long long)py->L.v[f]);
		}
	}
	snprintf(py->debugoff_check, sizeof(py->debugoff_check),
	         differ ? "%zu of %zu offsets differ (first: %s)" : "%zu offsets agree",
	         differ ? differ : agree, agree + differ, first);
	if (differ && !dwarf)
		return hs_error_create(
		    HS_ERROR_FORMAT,
		    "%s: its _Py_DebugOffsets disagree with heapsnap's table for "
		    "3.%d: %s: install its debug symbols or use --debug-dir DIR",
		    m->what, py->minor, py->debugoff_check);
	return NULL;
}

struct hs_error *hs_layouts_choose(struct hs_memsrc *m, const struct hs_layout_opts *lo,
                                   struct hs_python *py)
{
	struct hs_error *err = NULL;
	char why[256] = "heapsnap was asked not to read DWARF (--layouts table)";
	if (!py->no_dwarf) {
		err = from_dwarf(lo, py);
		if (!err)
			goto check;
		if (err == &hs_error_nomem)
			return err;
		snprintf(why, sizeof(why), "%s", err->message);
		hs_error_destroy(err);
	}
	err = from_table(m, py, why);
	if (err)
		return err;
check:
	err = check_memory(m, py);
	return err ? err : check_debugoffsets(m, lo, py);
}
