/*
 * walker_roots.c — where the walk starts: the runtime's interpreters, their GC generations
 * (each list walked forward, bounded and loop-checked, its objects added in order), the
 * permanent generation and the GC's state, and the roots: sys.modules, builtins, sys, and each
 * thread's dict, frames and (3.11+) frame locals, named exactly as the in-process capture names
 * them (capture/inproc/walk_roots.c): by the thread's thread_id, the code and the frame's line.
 */
#include "walker_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lines.h"

/* Walks one GC list forward.  A link that is not a readable PyGC_Head ends it, and so does a
 * loop: back to an object already found, or through objects that do not validate (Brent's
 * method over each run of them: the link seen at each power of two steps into the run is
 * remembered), so a loop of bad objects ends within twice its length. */
static struct hs_error *walk_gc_list(struct walker *w, uint64_t head, uint8_t gen)
{
	uint64_t p = u64(w, head) & ~1ull, n = 0, from = head, mark = head, run = 0;
	while (p != head) {
		uint64_t gch[2];
		if (!p || (p & 7) || n++ >= HS_MAX_OBJECTS || !rd(w, p, gch, 16)) {
			hs_wk_warn(
			    w, "GC generation %u: bad link 0x%llx after 0x%llx (%llu objects)", gen,
			    (unsigned long long)p, (unsigned long long)from, (unsigned long long)n);
			break;
		}
		if (p == mark) {
			hs_wk_warn(w, "GC generation %u: loop at 0x%llx", gen,
			           (unsigned long long)p + 16);
			break;
		}
		run++;
		if (!(run & (run - 1)))
			mark = p;
		uint64_t o = p + 16, refcnt, d;
		uint64_t prev = gch[1];
		struct tinfo *ti = hs_wk_obj_check(w, o, &refcnt);
		if (!ti) {
			hs_wk_warn(w, "GC generation %u: object 0x%llx does not validate", gen,
			           (unsigned long long)o);
		} else if (hs_wk_obj_find(w, o)) {
			hs_wk_warn(w, "GC generation %u: loop at 0x%llx", gen,
			           (unsigned long long)o);
			break;
		} else {
			uint8_t fl = HS_OBJ_GC | ((prev & 1) ? HS_OBJ_FINALIZED : 0);
			struct hs_error *err = hs_wk_obj_add(w, o, ti->addr, refcnt, fl, gen, &d);
			if (err)
				return err;
			run = 0;
			mark = head;
		}
		from = o;
		p = gch[0] & ~1ull;
	}
	return NULL;
}

static struct hs_error *add_root(struct walker *w, uint64_t addr, const char *kind,
                                 const char *name)
{
	uint64_t i;
	struct hs_error *err = hs_wk_discover(w, addr, &i);
	if (err || !i)
		return err;
	if (!hs_wk_grow((void **)&w->roots, &w->roots_cap, w->nroots + 1, sizeof(*w->roots)))
		return &hs_error_nomem;
	w->roots[w->nroots++] =
	    (struct root){i - 1, hs_wk_intern_c(w, kind), hs_wk_intern_c(w, name)};
	return NULL;
}

/* The line table (co_lnotab or co_linetable) of the code at code, read into a buffer the caller
 * frees (NULL when it cannot be read), its length in *n. */
static uint8_t *line_table(struct walker *w, uint64_t code, size_t *n)
{
	uint64_t t = fld(w, code, HS_L_CO_LINETABLE);
	int64_t len = t ? ob_size(w, t) : -1;
	uint8_t *p = len >= 0 && len <= (1 << 24) ? malloc((size_t)len + 1) : NULL;
	if (p && !rd(w, t + (uint64_t)w->L.v[HS_L_BYTES_SVAL], p, (size_t)len)) {
		free(p);
		p = NULL;
	}
	*n = p ? (size_t)len : 0;
	return p;
}

static int32_t i32(struct walker *w, uint64_t base, enum hs_layout_field f)
{
	int32_t v = 0;
	if (w->L.v[f] >= 0)
		rd(w, base + (uint64_t)w->L.v[f], &v, 4);
	return v;
}

/* The line a frame is at, as the in-process capture names it: PyFrame_GetLineNumber for a
 * 3.8-3.10 frame object f, and from 3.11 PyCode_Addr2Line of interpreter frame f's instruction
 * pointer (capture/cpython/lines.h). */
static int frame_line(struct walker *w, uint64_t f, uint64_t code)
{
	size_t n;
	uint8_t *table = line_table(w, code, &n);
	int first = i32(w, code, HS_L_CO_FIRSTLINENO), line;
	if (w->L.v[HS_L_IF_INSTR] < 0)
		line = hs_cp_frame310_line((unsigned)w->minor, fld(w, f, HS_L_F_TRACE) != 0,
		                           i32(w, f, HS_L_F_LINENO), i32(w, f, HS_L_F_LASTI), table,
		                           n, first);
	else
		line = hs_cp_addr2line((unsigned)w->minor, table, n, first,
		                       (int64_t)(fld(w, f, HS_L_IF_INSTR) -
		                                 (code + (uint64_t)w->L.v[HS_L_CO_CODE_ADAPTIVE])));
	free(table);
	return line;
}

#define HS_WK_WHERE_BYTES (2 * HS_WK_NAME_BYTES + 64) /* frame_where's text */

/* "thread ID: FUNC (FILE:LINE)" of frame f (of code code) of the thread with thread_id tid, into
 * where (HS_WK_WHERE_BYTES), as the in-process capture names it: up to 3.10 the code's co_name,
 * from 3.11 its co_qualname. */
static void frame_where(struct walker *w, uint64_t tid, uint64_t f, uint64_t code, char *where)
{
	char fn[HS_WK_NAME_BYTES], file[HS_WK_NAME_BYTES];
	uint64_t qual = fld(w, code, HS_L_CO_QUALNAME);
	snprintf(where, HS_WK_WHERE_BYTES, "thread %llu: %s (%s:%d)", (unsigned long long)tid,
	         hs_wk_name_at(w, qual ? qual : fld(w, code, HS_L_CO_NAME), fn),
	         hs_wk_name_at(w, fld(w, code, HS_L_CO_FILENAME), file), frame_line(w, f, code));
}

static struct hs_error *add_rootf(struct walker *w, uint64_t addr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A root of kind "frame" named by fmt. */
static struct hs_error *add_rootf(struct walker *w, uint64_t addr, const char *fmt, ...)
{
	char name[HS_WK_WHERE_BYTES + HS_WK_NAME_BYTES + 16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	return addr ? add_root(w, addr, "frame", name) : NULL;
}

/* The roots of 3.11+ interpreter frame f, named as walk_roots.c names them: "<WHERE>" its frame
 * object, "<WHERE function>", "<WHERE code>", "<WHERE locals>" and "<WHERE local NAME>" for each
 * of its locals, cells and free variables that is set. */
static struct hs_error *iframe_roots(struct walker *w, uint64_t tid, uint64_t f)
{
	uint64_t code = fld(w, f, HS_L_IF_CODE);
	char where[HS_WK_WHERE_BYTES], var[HS_WK_NAME_BYTES];
	frame_where(w, tid, f, code, where);
	struct hs_error *err = add_rootf(w, fld(w, f, HS_L_IF_FRAME_OBJ), "<%s>", where);
	if (!err)
		err = add_rootf(w, fld(w, f, HS_L_IF_FUNC), "<%s function>", where);
	if (!err)
		err = add_rootf(w, code, "<%s code>", where);
	if (!err)
		err = add_rootf(w, fld(w, f, HS_L_IF_LOCALS), "<%s locals>", where);
	int32_t nlp = i32(w, code, HS_L_CO_NLOCALSPLUS);
	uint64_t names = fld(w, code, HS_L_CO_LOCALSPLUSNAMES);
	for (int32_t i = 0; i < nlp && i < 65536 && !err; i++) {
		uint64_t v = u64(w, f + (uint64_t)w->L.v[HS_L_IF_LOCALSPLUS] + 8 * (uint64_t)i);
		uint64_t nm = u64(w, names + (uint64_t)w->L.v[HS_L_TUPLE_ITEM] + 8 * (uint64_t)i);
		if (v)
			err = add_rootf(w, v, "<%s local %s>", where, hs_wk_name_at(w, nm, var));
	}
	return err;
}

/* A thread's roots, in the in-process capture's order and names (walk_roots.c): its dict
 * "<thread ID dict>", then each of its frames from the innermost, ID its PyThreadState's
 * thread_id: up to 3.10 the frame objects, "<thread ID: FUNC (FILE:LINE)>", from 3.11 each
 * interpreter frame's roots (iframe_roots). */
static struct hs_error *thread_roots(struct walker *w, uint64_t ts)
{
	char name[64];
	uint64_t tid = fld(w, ts, HS_L_TS_THREAD_ID);
	snprintf(name, sizeof(name), "<thread %llu dict>", (unsigned long long)tid);
	struct hs_error *err = add_root(w, fld(w, ts, HS_L_TS_DICT), "thread", name);
	char where[HS_WK_WHERE_BYTES];
	if (w->minor <= 10) {
		uint64_t f = fld(w, ts, HS_L_TS_FRAME);
		for (int depth = 0; f && depth < 100000 && !err; depth++) {
			frame_where(w, tid, f, fld(w, f, HS_L_F_CODE), where);
			err = add_rootf(w, f, "<%s>", where);
			f = fld(w, f, HS_L_F_BACK);
		}
		return err;
	}
	uint64_t f = w->minor >= 13 ? fld(w, ts, HS_L_TS_CURRENT_FRAME)
	                            : fld(w, fld(w, ts, HS_L_TS_CFRAME), HS_L_CFRAME_CURRENT);
	for (int depth = 0; f && depth < 100000 && !err; depth++) {
		uint8_t owner = 0;
		rd(w, f + (uint64_t)w->L.v[HS_L_IF_OWNER], &owner, 1);
		if (owner != HS_FRAME_OWNED_BY_CSTACK)
			err = iframe_roots(w, tid, f);
		f = fld(w, f, HS_L_IF_PREVIOUS);
	}
	return err;
}

struct hs_error *hs_wk_walk_runtime(struct walker *w)
{
	uint64_t rt = w->sym[SYM_RUNTIME];
	uint64_t interp = fld(w, rt, HS_L_RT_INTERP_HEAD);
	struct hs_error *err = NULL;
	for (int ni = 0; interp && ni < 1024 && !err; ni++) {
		uint64_t gc = w->minor == 8 ? rt + (uint64_t)w->L.v[HS_L_RT_GC]
		                            : interp + (uint64_t)w->L.v[HS_L_IS_GC];
		if (ni == 0 || w->minor > 8) {
			int32_t collecting = 0;
			rd(w, gc + (uint64_t)w->L.v[HS_L_GCS_COLLECTING], &collecting, 4);
			if (collecting) {
				w->collecting = true;
				hs_wk_warn(
				    w, "a garbage collection was running: the young generation may "
				       "be incomplete");
			}
			w->gc_known = ni == 0 && w->L.v[HS_L_GCGEN_THRESHOLD] >= 0 &&
			              w->L.v[HS_L_GCGEN_COUNT] >= 0;
			for (uint8_t g = 0; g < 3 && !err; g++) {
				uint64_t gen = gc + (uint64_t)w->L.v[HS_L_GCS_GENERATIONS] +
				               g * (uint64_t)w->L.v[HS_L_GCGEN_SIZE];
				if (w->gc_known) {
					rd(w, gen + (uint64_t)w->L.v[HS_L_GCGEN_THRESHOLD],
					   &w->gc_threshold[g], 4);
					rd(w, gen + (uint64_t)w->L.v[HS_L_GCGEN_COUNT],
					   &w->gc_count[g], 4);
				}
				err = walk_gc_list(w, gen, g);
			}
			if (!err)
				err = walk_gc_list(w, gc + (uint64_t)w->L.v[HS_L_GCS_PERMANENT],
				                   HS_GEN_PERMANENT);
		}
		if (!err)
			err = add_root(w, fld(w, interp, HS_L_IS_MODULES), "module", "sys.modules");
		if (!err)
			err = add_root(w, fld(w, interp, HS_L_IS_BUILTINS), "module",
			               "builtins.__dict__");
		if (!err)
			err =
			    add_root(w, fld(w, interp, HS_L_IS_SYSDICT), "module", "sys.__dict__");
		if (!w->sysdict)
			w->sysdict = fld(w, interp, HS_L_IS_SYSDICT);
		uint64_t ts = fld(w, interp, HS_L_IS_THREADS_HEAD);
		for (int nt = 0; ts && nt < 100000 && !err; nt++) {
			err = thread_roots(w, ts);
			ts = fld(w, ts, HS_L_TS_NEXT);
		}
		interp = fld(w, interp, HS_L_IS_NEXT);
	}
	return err;
}
