/*
 * walker_frames.c — frames and generators: a frame object's references (3.8-3.10's fast locals
 * and cells, labelled with their names, and value stack; from 3.11 the interpreter frame it owns),
 * a generator's or coroutine's (from 3.11 its embedded interpreter frame), and their sys.getsizeof
 * sizes.  3.11+ interpreter frames live in thread stacks and generators, not as objects.
 */
#include "walker_internal.h"

/* The references of an interpreter frame as _PyFrame_Traverse visits them (unlabelled, as the
 * in-process writer gives them). */
static struct hs_error *iframe_edges(struct walker *w, uint64_t src, uint64_t f)
{
	static const struct field_edge fs[] = {
	    {HS_L_IF_FRAME_OBJ, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
	    {HS_L_IF_LOCALS, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
	    {HS_L_IF_FUNC, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
	    {HS_L_IF_CODE, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
	};
	struct hs_error *err = FIELD_EDGES(w, src, f, fs);
	int32_t top = 0;
	rd(w, f + (uint64_t)w->L.v[HS_L_IF_STACKTOP], &top, 4);
	for (int32_t i = 0; i < top && i < (1 << 20) && !err; i++)
		err = hs_wk_edge_label(
		    w, src, u64(w, f + (uint64_t)w->L.v[HS_L_IF_LOCALSPLUS] + 8 * (uint64_t)i), 0,
		    HS_LABEL_NONE, 0);
	return err;
}

static uint64_t iframe_size_words(struct walker *w, uint64_t code)
{
	int32_t nlp = 0, ss = 0;
	rd(w, code + (uint64_t)w->L.v[HS_L_CO_NLOCALSPLUS], &nlp, 4);
	rd(w, code + (uint64_t)w->L.v[HS_L_CO_STACKSIZE], &ss, 4);
	if (nlp < 0 || ss < 0 || nlp > (1 << 20) || ss > (1 << 20))
		return 0;
	return (uint64_t)nlp + (uint64_t)ss;
}

/* K_GEN and K_ASYNCGEN up to 3.10 (after an async generator's finalizer). */
static const struct field_edge gen310_fields[] = {
    {HS_L_GEN_FRAME, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_GEN_CODE, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_GEN_NAME, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_GEN_QUALNAME, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
};

/* The exception state of a generator up to 3.10 (after gen310_fields). */
static const struct field_edge exc_state310_fields[] = {
    {HS_L_EXC_TYPE, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_EXC_VALUE, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_EXC_TRACEBACK, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
};

/* K_GEN and K_ASYNCGEN from 3.11 (then the frame, the exception, the origin or finalizer). */
static const struct field_edge gen_fields[] = {
    {HS_L_GEN_CODE, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_GEN_NAME, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
    {HS_L_GEN_QUALNAME, HS_EDGE_TRAVERSE, HS_WK_UNLABELLED},
};

/* The edge to a 3.8-3.10 frame's fast local at slot, labelled "<local name>" (labels.h) by the
 * str at name; unlabelled when name is not a str. */
static struct hs_error *fast_local_edge(struct walker *w, uint64_t idx, uint64_t slot,
                                        uint64_t name)
{
	uint64_t v = u64(w, slot), rc;
	struct tinfo *ti = v ? hs_wk_obj_check(w, name, &rc) : NULL;
	if (!ti || ti->kind != K_STR)
		return hs_wk_edge_label(w, idx, v, 0, HS_LABEL_NONE, 0);
	char var[HS_CP_PREVIEW_BYTES], label[HS_CP_LOCAL_LABEL_BYTES];
	hs_wk_str_text(w, name, var, sizeof(var), NULL);
	hs_cp_local_label(var, label);
	return hs_wk_edge(w, idx, v, 0, label);
}

/* The edges of a 3.8-3.10 frame's fast locals and cells, the slots [lp, vs) of its f_localsplus,
 * each labelled with its name in code's co_varnames, co_cellvars or co_freevars. */
static struct hs_error *fast_local_edges(struct walker *w, uint64_t idx, uint64_t code, uint64_t lp,
                                         uint64_t vs)
{
	static const enum hs_layout_field fs[] = {HS_L_CO_VARNAMES, HS_L_CO_CELLVARS,
	                                          HS_L_CO_FREEVARS};
	uint64_t t[3];
	size_t n[3];
	for (int i = 0; i < 3; i++) {
		t[i] = code ? fld(w, code, fs[i]) : 0;
		int64_t size = t[i] ? ob_size(w, t[i]) : 0;
		n[i] = size > 0 && size < (1 << 20) ? (size_t)size : 0;
	}
	struct hs_error *err = NULL;
	for (uint64_t a = lp, i = 0; a < vs && !err; a += 8, i++) {
		size_t j;
		enum hs_cp_local_names at = hs_cp_local_slot(i, n[0], n[1], n[2], &j);
		uint64_t name = at == HS_CP_VALUE_STACK
		                    ? 0
		                    : u64(w, t[at] + (uint64_t)w->L.v[HS_L_TUPLE_ITEM] + 8 * j);
		err = fast_local_edge(w, idx, a, name);
	}
	return err;
}

/* K_FRAME up to 3.10: its fixed fields (kinds.h), fast locals, cells and value stack. */
static struct hs_error *walk_frame310(struct walker *w, uint64_t idx, uint64_t o, uint64_t *size)
{
	struct hs_error *err = hs_wk_kind_edges(w, idx, o, HS_CP_K_FRAME);
	uint64_t lp = o + (uint64_t)w->L.v[HS_L_F_LOCALSPLUS];
	uint64_t vs = fld(w, o, HS_L_F_VALUESTACK);
	uint64_t top = w->minor <= 9 ? fld(w, o, HS_L_F_STACKTOP) : 0;
	if (w->minor == 10) {
		int32_t depth = 0;
		rd(w, o + (uint64_t)w->L.v[HS_L_F_STACKDEPTH], &depth, 4);
		top = depth > 0 && depth < (1 << 20) ? vs + 8 * (uint64_t)depth : 0;
	}
	if (vs < lp || vs - lp > (8u << 20))
		return err;
	if (!err)
		err = fast_local_edges(w, idx, fld(w, o, HS_L_F_CODE), lp, vs);
	for (uint64_t a = vs; top && a < top && a < vs + (8u << 20) && !err; a += 8)
		err = hs_wk_edge_label(w, idx, u64(w, a), 0, HS_LABEL_NONE, 0);
	uint64_t code = fld(w, o, HS_L_F_CODE);
	int32_t ss = 0;
	if (code)
		rd(w, code + (uint64_t)w->L.v[HS_L_CO_STACKSIZE], &ss, 4);
	*size = (uint64_t)w->L.v[HS_L_F_SIZE] + ((vs - lp) / 8 + (uint64_t)ss - 1) * 8;
	return err;
}

/* K_FRAME from 3.11: its fixed fields (kinds.h) and, when it owns it, its interpreter frame. */
struct hs_error *hs_wk_walk_frame(struct walker *w, uint64_t idx, uint64_t o, uint64_t *size)
{
	if (w->minor <= 10)
		return walk_frame310(w, idx, o, size);
	struct hs_error *err = hs_wk_kind_edges(w, idx, o, HS_CP_K_FRAME);
	uint64_t f = fld(w, o, HS_L_F_FRAME);
	uint8_t owner = 0;
	rd(w, f + (uint64_t)w->L.v[HS_L_IF_OWNER], &owner, 1);
	if (!err && f && owner == HS_FRAME_OWNED_BY_FRAME_OBJECT)
		err = iframe_edges(w, idx, f);
	*size = (uint64_t)w->L.v[HS_L_F_FRAME_DATA] + (uint64_t)w->L.v[HS_L_IF_LOCALSPLUS] +
	        8 * iframe_size_words(w, fld(w, f, HS_L_IF_CODE));
	return err;
}

/* K_GEN, K_ASYNCGEN (coroutines too): up to 3.10 their fields and exception state; from 3.11
 * their embedded interpreter frame too, unlabelled as the in-process writer gives them. */
struct hs_error *hs_wk_walk_gen(struct walker *w, uint64_t idx, uint64_t o, enum kind kind,
                                uint64_t *size)
{
	struct hs_error *err = NULL;
	if (kind == K_ASYNCGEN && w->minor <= 10)
		err = hs_wk_edge_f(w, idx, o, HS_L_AG_FINALIZER, 0, HS_WK_UNLABELLED);
	if (w->minor <= 10) {
		uint64_t es = o + (uint64_t)w->L.v[HS_L_GEN_EXC_STATE];
		if (!err)
			err = FIELD_EDGES(w, idx, o, gen310_fields);
		return err ? err : FIELD_EDGES(w, idx, es, exc_state310_fields);
	}
	uint64_t f = o + (uint64_t)w->L.v[HS_L_GEN_IFRAME];
	int8_t st = 0;
	rd(w, o + (uint64_t)w->L.v[HS_L_GEN_FRAME_STATE], &st, 1);
	err = FIELD_EDGES(w, idx, o, gen_fields);
	if (!err && st < HS_FRAME_CLEARED)
		err = iframe_edges(w, idx, f);
	if (!err)
		err = hs_wk_edge_f(w, idx, o + (uint64_t)w->L.v[HS_L_GEN_EXC_STATE], HS_L_EXC_VALUE,
		                   0, HS_WK_UNLABELLED);
	/* An async generator's finalizer, which its traverse visits.  A coroutine's origin is not
	 * followed, as in process; a generator leaves the field uninitialised (stale pointers). */
	if (!err && kind == K_ASYNCGEN)
		err = hs_wk_edge_f(w, idx, o, HS_L_GEN_ORIGIN_FIN, HS_EDGE_TRAVERSE,
		                   HS_WK_UNLABELLED);
	*size = (uint64_t)w->L.v[HS_L_GEN_IFRAME] + (uint64_t)w->L.v[HS_L_IF_LOCALSPLUS] +
	        8 * iframe_size_words(w, fld(w, f, HS_L_IF_CODE));
	return err;
}
