/*
 * walker_write.c — the snapshot, written after a live target runs again: objects in address
 * order (indexes remapped), each with its type, size, memory, edges and preview (floats formatted
 * only now), then weak links and roots, with the header, strings, types and META pairs
 * (FORMAT.md §4.4) the walk recorded.
 */
#include <time.h>

#include "walker_internal.h"

/* Which python was walked and where its layouts came from (FORMAT.md, META keys). */
static struct hs_error *write_source_meta(const struct walker *w, struct hs_writer *wr)
{
	const struct hs_python *py = &w->py;
	struct hs_error *err = hs_writer_meta(wr, "python.file", py->path);
	if (!err)
		err = hs_writer_meta(wr, "python.version_from", py->version_from);
	if (!err)
		err = hs_writer_meta(wr, "layout.source", py->layout_source);
	if (!err && py->debugoff_check[0])
		err = hs_writer_meta(wr, "layout.debug_offsets", py->debugoff_check);
	if (!err)
		err = hs_writer_meta(wr, "symbols", w->symbols_from);
	return err;
}

static uint32_t type_flags(const struct tinfo *ti)
{
	uint32_t f = 0;
	if (ti->finalize || ti->del)
		f |= HS_TYPE_HAS_FINALIZER;
	if (ti->flags & HS_CP_TPF_HEAPTYPE)
		f |= HS_TYPE_HEAP;
	if (ti->flags & HS_CP_TPF_HAVE_GC)
		f |= HS_TYPE_GC;
	return f;
}

/* The snapshot's writer with its header, its strings (sid: their ids) and its types. */
static struct hs_error *write_start(struct walker *w, enum hs_method method, int pid,
                                    const char *out_path, const uint64_t *newidx, uint32_t *sid,
                                    struct hs_writer **wr)
{
	char producer[64];
	snprintf(producer, sizeof(producer), "heapsnap %s",
	         method == HS_METHOD_PID    ? "pid"
	         : method == HS_METHOD_CORE ? "core"
	                                    : "callback");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct hs_header h = {producer,
	                      "cpython",
	                      w->version,
	                      8,
	                      (uint32_t)(pid > 0 ? pid : 0),
	                      (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
	                      method};
	struct hs_error *err = hs_writer_create(out_path, &h, wr);
	for (uint32_t i = 0; i < w->nstrs && !err; i++)
		err = hs_writer_string(*wr, w->strs[i], strlen(w->strs[i]), &sid[i]);
	for (uint64_t i = 0; i < w->tcap && !err; i++) {
		struct tinfo *ti = w->types[i];
		if (!ti || !ti->valid)
			continue;
		uint64_t self = hs_wk_obj_find(w, ti->addr);
		err = hs_writer_type(*wr, ti->out_name, ti->out_module, 0,
		                     self ? newidx[self - 1] + 1 : 0, type_flags(ti), &ti->hs_type);
		if (!err && ti->out_qual)
			err = hs_writer_qualname(*wr, ti->hs_type, ti->out_name, ti->out_qual);
	}
	return err;
}

/* The capture's META pairs (FORMAT.md §4.4). */
static struct hs_error *write_meta(struct walker *w, struct hs_writer *wr)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)w->warnings);
	struct hs_error *err = hs_writer_meta(wr, "warnings", buf);
	if (!err && w->warnings)
		err = hs_writer_meta(wr, "first_warning", w->first_warning);
	if (!err && w->collecting)
		err = hs_writer_meta(wr, "gc_collecting", "1");
	if (!err && w->gc_known) {
		snprintf(buf, sizeof(buf), "%d,%d,%d", w->gc_threshold[0], w->gc_threshold[1],
		         w->gc_threshold[2]);
		err = hs_writer_meta(wr, "gc.threshold", buf);
		snprintf(buf, sizeof(buf), "%d,%d,%d", w->gc_count[0], w->gc_count[1],
		         w->gc_count[2]);
		if (!err)
			err = hs_writer_meta(wr, "gc.count", buf);
	}
	if (!err) {
		snprintf(buf, sizeof(buf), "%.6f", w->m->pause_seconds);
		err = hs_writer_meta(wr, "pause_seconds", buf);
	}
	if (!err && w->m->pid > 0) {
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)w->m->bytes_read);
		err = hs_writer_meta(wr, "pause_bytes_read", buf);
	}
	if (!err)
		err = write_source_meta(w, wr);
	bool values = !(w->opts && w->opts->no_values);
	if (!err) /* FORMAT.md 4.5: the rounding assumes pymalloc */
		err = hs_writer_meta(wr, "memory.allocator",
		                     "pymalloc (assumed: the target's PYTHONMALLOC is not read)");
	return err ? err : hs_writer_meta(wr, "values", values ? "true" : "false");
}

/* The object o with its edges and preview; a size read from damaged memory that could exceed the
 * address space is recorded as 0, with a warning (the reader refuses a heap past
 * HS_MAX_TOTAL_SIZE). */
static struct hs_error *write_object(struct walker *w, struct hs_writer *wr, const struct obj *o,
                                     const uint64_t *newidx, const uint32_t *sid,
                                     uint64_t *total_size)
{
	struct tinfo *ti = hs_wk_type_get(w, o->type);
	uint64_t size = o->size;
	if (size > (UINT64_C(1) << 48) || size > HS_MAX_TOTAL_SIZE - *total_size) {
		hs_wk_warn(w,
		           "object 0x%llx: size %llu is larger than the address space (damaged "
		           "memory?); recorded as 0",
		           (unsigned long long)o->addr, (unsigned long long)size);
		size = 0;
	}
	*total_size += size;
	struct hs_error *err =
	    hs_writer_object(wr, o->addr, ti->hs_type, size, o->refcnt, o->flags, o->gen);
	if (!err) /* a size recorded as 0 takes its memory with it */
		err = hs_writer_memory(wr, size ? o->memory_delta : 0);
	if (!err)
		err = hs_wk_write_site(w, wr, (uint64_t)(o - w->objs), sid);
	for (uint32_t e = 0; e < o->nedges && !err; e++) {
		const struct edge *ed = &w->edges[o->edge_first + e];
		uint64_t label = ed->label;
		if (ed->form == HS_LABEL_STRING)
			label = sid[label];
		else if (ed->form == HS_LABEL_KEY || ed->form == HS_LABEL_ATTR)
			label = newidx[label];
		err = hs_writer_edge(wr, newidx[ed->dst], ed->kind, ed->form, label);
	}
	if (!err && o->value && !(w->opts && w->opts->no_values)) {
		uint16_t len;
		memcpy(&len, w->vals + o->value - 1, 2);
		const char *text = w->vals + o->value + 1;
		char buf[32];
		if (len == HS_VAL_FLOAT) {
			double d;
			memcpy(&d, text, 8);
			hs_cp_float_text(d, buf);
			text = buf;
			len = (uint16_t)strlen(buf);
		}
		err = hs_writer_value(wr, text, len);
	}
	return err;
}

/* Writes the snapshot: objects in address order (newidx: an object's index there). */
struct hs_error *hs_wk_write_snapshot(struct walker *w, enum hs_method method, int pid,
                                      const char *out_path, struct hs_capture_stats *stats)
{
	struct hs_keyed *order = malloc((w->nobjs ? w->nobjs : 1) * sizeof(*order));
	struct hs_keyed *tmp = malloc((w->nobjs ? w->nobjs : 1) * sizeof(*tmp));
	uint64_t *newidx = malloc((w->nobjs ? w->nobjs : 1) * 8);
	uint32_t *sid = malloc((w->nstrs ? w->nstrs : 1) * 4);
	struct hs_writer *wr = NULL;
	struct hs_error *err = nomem_if(!order || !tmp || !newidx || !sid);
	if (err)
		goto out;
	for (uint64_t i = 0; i < w->nobjs; i++)
		order[i] = (struct hs_keyed){w->objs[i].addr, i};
	hs_sort_keyed(order, tmp, w->nobjs);
	free(tmp); /* no longer needed: a large heap's writing should not hold it */
	tmp = NULL;
	for (uint64_t i = 0; i < w->nobjs; i++)
		newidx[order[i].index] = i;
	err = write_start(w, method, pid, out_path, newidx, sid, &wr);
	if (!err)
		err = write_meta(w, wr);
	uint64_t total_size = 0;
	for (uint64_t k = 0; k < w->nobjs && !err; k++)
		err = write_object(w, wr, &w->objs[order[k].index], newidx, sid, &total_size);
	for (uint64_t i = 0; i < w->nweaks && !err; i++) {
		const struct weak *wk = &w->weaks[i];
		err = hs_writer_weak(wr, newidx[wk->ref],
		                     wk->referent ? newidx[wk->referent - 1] + 1 : 0,
		                     wk->callback ? newidx[wk->callback - 1] + 1 : 0);
	}
	for (uint64_t i = 0; i < w->nroots && !err; i++)
		err = hs_writer_root(wr, newidx[w->roots[i].obj], w->strs[w->roots[i].kind],
		                     w->strs[w->roots[i].name]);
	struct hs_writer_stats st;
	if (!err)
		err = hs_writer_finish(wr, &st);
	if (!err && stats) {
		stats->objects = st.objects;
		stats->edges = st.edges;
		stats->weak = st.weak;
		stats->roots = st.roots;
	}
out:
	hs_writer_destroy(wr);
	free(tmp);
	free(order);
	free(newidx);
	free(sid);
	return err;
}
