/*
 * walker.c — the CPython 3.8–3.13 heap walker's passes: setup (the interpreter, its layouts and
 * symbols), the walk (from _PyRuntime to every interpreter's GC generations and roots, then each
 * object of a worklist processed once: its size, value and references, which discover untracked
 * objects), the names writing needs, all while a live target is stopped (walked again if a
 * thread ran meanwhile), and then the snapshot.
 *
 * The target's memory is hostile: every pointer is validated before it becomes an object
 * (aligned, readable, a sane refcount, a type whose metatype chain reaches `type`), every loop is
 * bounded, and an object that does not validate is skipped and counted as a warning.
 * Version differences come from the DWARF layout (hs_layout) and a minor version derived from
 * which members exist; the constants DWARF lacks are in walker_internal.h and internal.h
 * (capture/CPYTHON.md §1.6).  Nothing here recurses over the heap: a worklist drives discovery.
 *
 * The rest of the walker (walker_internal.h declares what crosses files): walker_objects.c the
 * object set, edges and strings; walker_types.c the type table; walker_dicts.c dicts;
 * walker_values.c value previews; walker_kinds.c references and sizes by kind; walker_frames.c
 * frames and generators; walker_memory.c sizes and memory; walker_roots.c GC lists and roots;
 * walker_write.c the snapshot.
 */
#include <stdio.h>
#include <stdlib.h>

#include "walker_internal.h"

/* PyExc_BaseException: the exported pointer to the static _PyExc_BaseException, which only a
 * .symtab names. */
static const char *const other_syms[] = {"_PyRuntime",
                                         "subtype_traverse",
                                         "lookdict",
                                         "_PySet_Dummy",
                                         "_Py_NoneStruct",
                                         "PyExc_BaseException",
                                         "_Py_tracemalloc_config",
                                         "tracemalloc_traces"};

/* One object: size, value, and every edge, by kind. */
static struct hs_error *process(struct walker *w, uint64_t idx)
{
	struct obj *ob = &w->objs[idx];
	uint64_t o = ob->addr;
	struct tinfo *ti = hs_wk_type_get(w, ob->type);
	if (!ti)
		return NULL;
	ob->edge_first = w->nedges;
	uint64_t size = hs_wk_default_size(w, o, ti);
	struct hs_error *err = NULL;
	/* Every type is an object of the snapshot (static types have no other way in). */
	uint64_t tdummy;
	if (!ti->discovered)
		err = hs_wk_discover(w, ti->addr, &tdummy);
	ti->discovered = true;
	if (!ti->sizeof_checked) {
		ti->sizeof_checked = true;
		ti->own_sizeof = hs_wk_has_own_sizeof(w, ti->addr);
	}
	if (ti->own_sizeof) /* its __sizeof__, not the walker's size, is what getsizeof says */
		w->objs[idx].flags |= HS_OBJ_SIZE_APPROX;
	enum kind kind = ti->kind;
	if (!err && kind == K_SUBTYPE) {
		err = hs_wk_subtype_edges(w, idx, o, ti);
		kind = ti->base_kind;
	}
	if (!err)
		err = hs_wk_walk_kind(w, idx, o, ti, kind, &size);
	if (err)
		return err;
	ob = &w->objs[idx];
	ob->size = size + hs_wk_getsizeof_extra(w, o, ti);
	ob->memory_delta = (int32_t)hs_wk_memory_delta(w, o, ti, kind, ob->size);
	if (w->minor >= 12 && (int32_t)ob->refcnt < 0)
		ob->flags |= HS_OBJ_IMMORTAL;
	return NULL;
}

/* Counts a warning (internal.h); the first is kept, formatted, as first_warning. */

void hs_wk_warn(struct walker *w, const char *fmt, ...)
{
	if (!w->warnings++) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->first_warning, sizeof(w->first_warning), fmt, ap);
		va_end(ap);
	}
}

/* The tp_traverse that type_new gives every class defined in Python: ModuleSpec's, a class of
 * the frozen importlib that every interpreter imports at startup (for a python with no
 * subtype_traverse in any symbol table). */
static uint64_t discover_subtype_traverse(struct walker *w)
{
	uint64_t interp = fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD);
	uint64_t mod = hs_wk_dict_get_str(w, fld(w, interp, HS_L_IS_MODULES), "_frozen_importlib");
	uint64_t spec = mod ? hs_wk_dict_get_str(w, fld(w, mod, HS_L_MOD_DICT), "ModuleSpec") : 0;
	if (!spec || u64(w, spec + 8) != w->sym[SYM_TYPE] ||
	    !(fld(w, spec, HS_L_TP_FLAGS) & HS_CP_TPF_HEAPTYPE))
		return 0;
	return fld(w, spec, HS_L_TP_TRAVERSE);
}

/* The tp_traverse of struct sequences: sys.flags' type's. */
static uint64_t discover_structseq_traverse(struct walker *w)
{
	uint64_t interp = fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD);
	/* Not checked as an object: that would classify its type before the kind is known. */
	uint64_t flags = hs_wk_dict_get_str_raw(w, fld(w, interp, HS_L_IS_SYSDICT), "flags");
	return flags ? fld(w, u64(w, flags + 8), HS_L_TP_TRAVERSE) : 0;
}

/* lookdict, the dk_lookup of 3.8-3.10's general tables: os.environ._data's, whose keys are
 * bytes (0 when os was not imported; dkeys_read then learns it from the first table seen with a
 * key that is not a str). */
static uint64_t discover_lookdict(struct walker *w)
{
	uint64_t interp = fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD);
	uint64_t os = hs_wk_dict_get_str(w, fld(w, interp, HS_L_IS_MODULES), "os");
	uint64_t env = os ? hs_wk_dict_get_str(w, fld(w, os, HS_L_MOD_DICT), "environ") : 0;
	uint64_t rc, type = env ? u64(w, env + 8) : 0;
	int64_t off = type ? (int64_t)fld(w, type, HS_L_TP_DICTOFFSET) : 0;
	uint64_t dict = off > 0 && off < 4096 ? u64(w, env + (uint64_t)off) : 0;
	uint64_t data = dict ? hs_wk_dict_get_str(w, dict, "_data") : 0;
	struct tinfo *ti = data ? hs_wk_obj_check(w, data, &rc) : NULL;
	struct dkeys d;
	if (!ti || ti->kind != K_DICT || fld(w, data, HS_L_DICT_VALUES) ||
	    !hs_wk_dkeys_read(w, fld(w, data, HS_L_DICT_KEYS), &d) || !d.nentries)
		return 0;
	uint64_t k = hs_wk_entry_key(w, &d, 0);
	struct tinfo *kt = k ? hs_wk_obj_check(w, k, &rc) : NULL;
	return kt && kt->kind == K_BYTES ? fld(w, d.addr, HS_L_DK_LOOKUP) : 0;
}

static void walker_free(struct walker *w)
{
	free(w->objs);
	free(w->hash);
	free(w->edges);
	free(w->work);
	for (uint64_t i = 0; i < w->tcap; i++) {
		if (!w->types[i])
			continue;
		free(w->types[i]->name);
		free(w->types[i]->out_name);
		free(w->types[i]->out_module);
		free(w->types[i]->out_qual);
		free(w->types[i]->slots);
		free(w->types[i]->slot_names);
		free(w->types[i]);
	}
	free(w->types);
	for (uint32_t i = 0; i < w->nstrs; i++)
		free(w->strs[i]);
	free(w->strs);
	free(w->shash);
	free(w->vals);
	free(w->roots);
	free(w->weaks);
	free(w->site_file);
	free(w->site_line);
	hs_stdlib_free(w->std);
}

/* Everything a walk needs before its first object: the interpreter, its layouts, its symbols
 * (from the exported .dynsym, a .symtab where there is one, or found on the heap). */
static struct hs_error *walker_setup(struct walker *w, const char *exe,
                                     const struct hs_layout_opts *lo)
{
	struct hs_python *py = &w->py;
	struct hs_error *err = hs_python_find(w->m, exe, lo, py);
	if (!err)
		err = hs_layouts_choose(w->m, lo, py);
	if (err)
		return err;
	w->L = py->L;
	w->minor = py->minor;
	struct hs_elf_sym syms[SYM_COUNT];
	for (size_t i = 0; i < NKNOWN; i++)
		syms[i] = (struct hs_elf_sym){hs_wk_known_types[i].sym, 0};
	for (size_t i = NKNOWN; i < SYM_COUNT; i++)
		syms[i] = (struct hs_elf_sym){other_syms[i - NKNOWN], 0};
	err = hs_python_symbols(py, syms, SYM_COUNT);
	if (err)
		return err;
	for (size_t i = 0; i < SYM_COUNT; i++)
		w->sym[i] = syms[i].value;
	for (size_t i = 0; i < NKNOWN; i++)
		if (!w->sym[i] && w->sym[SYM_EXC_PTR] && hs_wk_known_types[i].kind == K_EXC)
			w->sym[i] = u64(w, w->sym[SYM_EXC_PTR]);
	if (!w->sym[SYM_RUNTIME] || !w->sym[SYM_TYPE])
		return hs_error_create(HS_ERROR_FORMAT, "%s: no _PyRuntime or PyType_Type symbol",
		                       py->path);
	if (!fld(w, w->sym[SYM_RUNTIME], HS_L_RT_INTERP_HEAD))
		return hs_error_create(
		    HS_ERROR_MEMORY,
		    "%s: no interpreter state: _PyRuntime (0x%llx in %s) lists no "
		    "interpreter (Python not initialised or finalised, or memory "
		    "that does not match its files)",
		    w->m->what, (unsigned long long)w->sym[SYM_RUNTIME], py->path);
	for (size_t i = 0; i < NKNOWN; i++)
		w->known_traverse[i] = w->sym[i] ? fld(w, w->sym[i], HS_L_TP_TRAVERSE) : 0;
	w->set_dummy = w->sym[SYM_SET_DUMMY] ? u64(w, w->sym[SYM_SET_DUMMY]) : 0;
	w->none = w->sym[SYM_NONE];
	for (size_t i = 0; i < NKNOWN; i++)
		if (!strcmp(hs_wk_known_types[i].sym, "PyBool_Type"))
			w->bool_type = w->sym[i];
	uint64_t found = discover_subtype_traverse(w);
	if (w->sym[SYM_SUBTYPE_TRAVERSE] && found && found != w->sym[SYM_SUBTYPE_TRAVERSE])
		hs_wk_warn(w, "ModuleSpec's tp_traverse 0x%llx is not subtype_traverse 0x%llx",
		           (unsigned long long)found,
		           (unsigned long long)w->sym[SYM_SUBTYPE_TRAVERSE]);
	snprintf(w->symbols_from, sizeof(w->symbols_from), "%s",
	         w->sym[SYM_SUBTYPE_TRAVERSE]
	             ? "symbol tables"
	             : "exported symbols; subtype_traverse from "
	               "_frozen_importlib.ModuleSpec; stdlib kinds by name");
	if (!w->sym[SYM_SUBTYPE_TRAVERSE])
		w->sym[SYM_SUBTYPE_TRAVERSE] = found;
	if (!w->sym[SYM_SUBTYPE_TRAVERSE])
		return hs_error_create(
		    HS_ERROR_MEMORY,
		    "%s: cannot find subtype_traverse: %s has no symbol for it and "
		    "_frozen_importlib.ModuleSpec cannot be read",
		    w->m->what, py->path);
	if (w->minor <= 10 && !w->sym[SYM_LOOKDICT])
		w->sym[SYM_LOOKDICT] = discover_lookdict(w);
	err = hs_stdlib_load(w->m, py, lo, &w->std);
	if (!err) /* struct sequences have no one name: sys.flags is one of them */
		hs_stdlib_learn(w->std, HS_SK_STRUCTSEQ, discover_structseq_traverse(w),
		                w->sym[SYM_SUBTYPE_TRAVERSE]);
	return err;
}

/* The walk: the interpreter and its layouts, the runtime's roots, every object, and what
 * writing needs; all of it while a live target is stopped. */
static struct hs_error *walk(struct walker *w, const char *exe, const struct hs_layout_opts *lo)
{
	const struct hs_capture_options *opts = w->opts;
	struct hs_error *err = walker_setup(w, exe, lo);
	if (!err)
		err = hs_wk_walk_runtime(w);
	uint64_t done = 0;
	while (!err && w->nwork) {
		/* Process in discovery order: pop from the front would need a deque; a stack is
		 * as good since each object is processed exactly once. */
		uint64_t idx = w->work[--w->nwork];
		err = process(w, idx);
		if (++done % 16384 == 0 && !err)
			err = hs_memsrc_tick(w->m);
		if (done % 200000 == 0 && opts && opts->progress)
			opts->progress(opts->progress_ctx, "objects", done);
	}
	if (!err && !w->nobjs)
		err = hs_error_create(
		    HS_ERROR_MEMORY,
		    "%s: no objects: the interpreter's GC lists and roots are empty "
		    "or unreadable (%llu warnings; first: %s)",
		    w->m->what, (unsigned long long)w->warnings,
		    w->warnings ? w->first_warning : "none");
	if (!err)
		err = hs_wk_read_sites(w);
	if (!err)
		err = hs_wk_names_read(w);
	return err;
}

/* walk, then lets a live target run again; walks again, every thread stopped, when a thread
 * that was left running ran meanwhile (hs_memsrc_resume). */
static struct hs_error *walk_stopped(struct walker *w, const char *exe,
                                     const struct hs_layout_opts *lo)
{
	struct walker fresh = *w;
	for (;;) {
		struct hs_error *err = walk(w, exe, lo);
		bool again;
		struct hs_error *rerr = hs_memsrc_resume(w->m, &again);
		if (rerr) {
			hs_error_destroy(err);
			return rerr;
		}
		if (!again)
			return err;
		hs_error_destroy(err);
		walker_free(w);
		*w = fresh;
		if ((err = hs_memsrc_restop(w->m)) != NULL)
			return err;
	}
}

struct hs_error *hs_walk_and_write(struct hs_memsrc *m, enum hs_method method, const char *exe,
                                   const char *out_path, const struct hs_capture_options *opts,
                                   struct hs_capture_stats *stats)
{
	struct walker w = {0};
	w.m = m;
	w.opts = opts;
	struct hs_layout_opts lo = {opts ? opts->cache_dir : NULL, opts ? opts->debug_dir : NULL,
	                            opts && opts->layouts == HS_LAYOUTS_TABLE};
	struct hs_error *err = walk_stopped(&w, exe, &lo);
	if (!err)
		err = hs_wk_write_snapshot(&w, method, m->pid, out_path, stats);
	if (!err && w.sites_note[0]) /* one line: the capture itself succeeded */
		fprintf(stderr, "heapsnap: allocation sites %s\n", w.sites_note);
	if (!err && stats) {
		stats->warnings = w.warnings;
		char read[96] = "";
		if (method == HS_METHOD_PID)
			snprintf(read, sizeof(read),
			         "; read %llu bytes of the target while stopped, %.3f s of CPU",
			         (unsigned long long)m->bytes_read, m->pause_cpu_seconds);
		if (snprintf(stats->source, sizeof(stats->source),
		             "python %s %s (version from %s); layouts: %s%s%s; symbols: %s%s",
		             w.py.path, w.version, w.py.version_from, w.py.layout_source,
		             w.py.debugoff_check[0] ? "; _Py_DebugOffsets: " : "",
		             w.py.debugoff_check, w.symbols_from, read) < 0)
			stats->source[0] = 0;
	}
	walker_free(&w);
	return err;
}
