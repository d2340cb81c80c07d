/*
 * walker_roots.c — where the walk starts: the runtime's interpreters, their GC generations
 * (each list walked forward, bounded and loop-checked, its objects added in order), the
 * permanent generation and the GC's state, and the roots: sys.modules, builtins, sys, and each
 * thread's dict, frames and (3.11+) frame locals, named by thread and code.
 */
#include "walker_internal.h"

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

/* The name of a code object (for root names), into buf. */
static void code_name(struct walker *w, uint64_t code, char *buf, size_t size)
{
	uint64_t n = fld(w, code, HS_L_CO_QUALNAME);
	if (!n)
		n = fld(w, code, HS_L_CO_NAME);
	uint64_t rc;
	struct tinfo *ti = hs_wk_obj_check(w, n, &rc);
	if (ti && ti->kind == K_STR)
		hs_wk_str_text(w, n, buf, size, NULL);
	else
		snprintf(buf, size, "?");
}

static struct hs_error *thread_roots(struct walker *w, uint64_t ts, unsigned tno)
{
	char name[256], fn[160];
	snprintf(name, sizeof(name), "<thread %u dict>", tno);
	struct hs_error *err = add_root(w, fld(w, ts, HS_L_TS_DICT), "thread", name);
	if (w->minor <= 10) {
		uint64_t f = fld(w, ts, HS_L_TS_FRAME);
		for (int depth = 0; f && depth < 100000 && !err; depth++) {
			code_name(w, fld(w, f, HS_L_F_CODE), fn, sizeof(fn));
			snprintf(name, sizeof(name), "<thread %u: %s>", tno, fn);
			err = add_root(w, f, "frame", name);
			f = fld(w, f, HS_L_F_BACK);
		}
		return err;
	}
	uint64_t f = w->minor >= 13 ? fld(w, ts, HS_L_TS_CURRENT_FRAME)
	                            : fld(w, fld(w, ts, HS_L_TS_CFRAME), HS_L_CFRAME_CURRENT);
	for (int depth = 0; f && depth < 100000 && !err; depth++) {
		uint8_t owner = 0;
		rd(w, f + (uint64_t)w->L.v[HS_L_IF_OWNER], &owner, 1);
		uint64_t code = fld(w, f, HS_L_IF_CODE);
		if (owner != HS_FRAME_OWNED_BY_CSTACK) {
			code_name(w, code, fn, sizeof(fn));
			snprintf(name, sizeof(name), "<thread %u: %s>", tno, fn);
			static const enum hs_layout_field fs[] = {
			    HS_L_IF_FUNC,     HS_L_IF_CODE,   HS_L_IF_GLOBALS,
			    HS_L_IF_BUILTINS, HS_L_IF_LOCALS, HS_L_IF_FRAME_OBJ};
			for (size_t i = 0; i < 6 && !err; i++)
				err = add_root(w, fld(w, f, fs[i]), "frame", name);
			int32_t nlp = 0;
			rd(w, code + (uint64_t)w->L.v[HS_L_CO_NLOCALSPLUS], &nlp, 4);
			uint64_t names = fld(w, code, HS_L_CO_LOCALSPLUSNAMES);
			for (int32_t i = 0; i < nlp && i < 65536 && !err; i++) {
				uint64_t v = u64(w, f + (uint64_t)w->L.v[HS_L_IF_LOCALSPLUS] +
				                        8 * (uint64_t)i);
				if (!v)
					continue;
				char var[100] = "?";
				uint64_t nm = u64(w, names + (uint64_t)w->L.v[HS_L_TUPLE_ITEM] +
				                         8 * (uint64_t)i);
				uint64_t rc;
				struct tinfo *nti = hs_wk_obj_check(w, nm, &rc);
				if (nti && nti->kind == K_STR)
					hs_wk_str_text(w, nm, var, sizeof(var), NULL);
				snprintf(name, sizeof(name), "<thread %u: %s: %s>", tno, fn, var);
				err = add_root(w, v, "local", name);
			}
		}
		f = fld(w, f, HS_L_IF_PREVIOUS);
	}
	return err;
}

struct hs_error *hs_wk_walk_runtime(struct walker *w)
{
	uint64_t rt = w->sym[SYM_RUNTIME];
	uint64_t interp = fld(w, rt, HS_L_RT_INTERP_HEAD);
	struct hs_error *err = NULL;
	unsigned tno = 0;
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
			err = add_root(w, fld(w, interp, HS_L_IS_BUILTINS), "builtins",
			               "builtins.__dict__");
		if (!err)
			err = add_root(w, fld(w, interp, HS_L_IS_SYSDICT), "sys", "sys.__dict__");
		if (!w->sysdict)
			w->sysdict = fld(w, interp, HS_L_IS_SYSDICT);
		uint64_t ts = fld(w, interp, HS_L_IS_THREADS_HEAD);
		for (int nt = 0; ts && nt < 100000 && !err; nt++) {
			err = thread_roots(w, ts, tno++);
			ts = fld(w, ts, HS_L_TS_NEXT);
		}
		interp = fld(w, interp, HS_L_IS_NEXT);
	}
	return err;
}
