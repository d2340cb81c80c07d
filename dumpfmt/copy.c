/*
 * copy.c — re-emits an opened snapshot through the streaming writer, optionally without its value
 * previews (`heapsnap redact`).  Everything else comes out as it went in: header, meta, strings,
 * types (with their type objects), objects, edges with their kinds and labels, weak links and
 * roots, memory and allocation sites, so the output exports identically apart from the values and
 * the labels that render through them (a KEY or ATTR label names its key object's value preview;
 * without it the label is the "<type at 0xaddr>" fallback).
 */
#include <stdlib.h>
#include <string.h>

#include "hsnap.h"

/* A NUL-terminated copy of s for the writer's C-string arguments; a string holding a NUL byte
 * cannot be passed on unchanged, so it is an error rather than a silent truncation. */
static struct hs_error *cstr(const struct hs_snapshot *snap, const struct hs_string *s,
                             const char *what, char **ret)
{
	if (memchr(s->s, '\0', s->len))
		return hs_error_create(HS_ERROR_FORMAT, "%s: a %s holds a NUL byte", snap->path,
		                       what);
	char *c = strndup(s->s ? s->s : "", s->len);
	if (!c)
		return &hs_error_nomem;
	*ret = c;
	return NULL;
}

static struct hs_error *copy_declarations(const struct hs_snapshot *snap, struct hs_writer *w,
                                          uint32_t *strmap)
{
	struct hs_error *err = NULL;
	/* Strings first, in order, so that ids stay the same (the writer dedups, so a file with
	 * duplicate strings gets a map). */
	for (uint32_t i = 0; !err && i < snap->nstrings; i++)
		err = hs_writer_string(w, snap->strings[i].s, snap->strings[i].len, &strmap[i]);
	for (uint32_t i = 0; !err && i < snap->ntypes; i++) {
		const struct hs_type *t = &snap->types[i];
		char *name = NULL, *module = NULL;
		uint32_t id;
		err = cstr(snap, &snap->strings[t->name], "type name", &name);
		if (!err)
			err = cstr(snap, &snap->strings[t->module], "type module", &module);
		if (!err)
			err = hs_writer_type(w, name, module, t->default_size, t->type_object,
			                     t->flags, &id);
		free(name);
		free(module);
	}
	for (uint32_t i = 0; !err && i < snap->nmeta; i++) {
		char *key = NULL, *value = NULL;
		err = cstr(snap, &snap->meta[2 * i], "meta key", &key);
		if (!err)
			err = cstr(snap, &snap->meta[2 * i + 1], "meta value", &value);
		if (!err)
			err = hs_writer_meta(w, key, value);
		free(key);
		free(value);
	}
	return err;
}

static struct hs_error *copy_objects(const struct hs_snapshot *snap, struct hs_writer *w,
                                     const uint32_t *strmap, bool values)
{
	struct hs_error *err = NULL;
	for (uint64_t i = 0; !err && i < snap->nobjects; i++) {
		err = hs_writer_object(w, snap->addr[i], snap->type[i], snap->size[i],
		                       snap->refcnt[i], snap->flags[i], snap->generation[i]);
		if (!err && snap->has_memory)
			err = hs_writer_memory(w, snap->memory_delta[i]);
		if (!err && snap->has_memory && snap->has_sites) {
			const struct hs_site *site =
			    snap->site[i] ? &snap->sites[snap->site[i] - 1] : NULL;
			err = hs_writer_site(w, site ? (uint64_t)strmap[site->file] + 1 : 0,
			                     site ? site->line : 0);
		}
		for (uint64_t e = snap->edge_start[i]; !err && e < snap->edge_start[i + 1]; e++) {
			uint32_t label = snap->edge_label[e];
			if (snap->edge_form[e] == HS_LABEL_STRING)
				label = strmap[label];
			err = hs_writer_edge(w, snap->edge_dst[e], snap->edge_kind[e],
			                     snap->edge_form[e], label);
		}
		if (!err && values && snap->value[i]) {
			const struct hs_string *v = &snap->values[snap->value[i] - 1];
			err = hs_writer_value(w, v->s, v->len);
		}
	}
	for (uint64_t i = 0; !err && i < snap->nweak; i++)
		err = hs_writer_weak(w, snap->weak[i].ref, snap->weak[i].referent_plus1,
		                     snap->weak[i].callback_plus1);
	for (uint64_t i = 0; !err && i < snap->nroots; i++) {
		const struct hs_root *r = &snap->roots[i];
		char *kind = NULL, *name = NULL;
		err = cstr(snap, &snap->strings[r->kind], "root kind", &kind);
		if (!err)
			err = cstr(snap, &snap->strings[r->name], "root name", &name);
		if (!err)
			err = hs_writer_root(w, r->obj, kind, name);
		free(kind);
		free(name);
	}
	return err;
}

struct hs_error *hs_snapshot_copy(const struct hs_snapshot *snap, const char *path, bool values,
                                  struct hs_writer_stats *stats)
{
	uint32_t *strmap = malloc((snap->nstrings ? snap->nstrings : 1) * sizeof(*strmap));
	if (!strmap)
		return &hs_error_nomem;
	struct hs_writer *w;
	struct hs_error *err = hs_writer_create(path, &snap->header, &w);
	if (err) {
		free(strmap);
		return err;
	}
	err = copy_declarations(snap, w, strmap);
	if (!err)
		err = copy_objects(snap, w, strmap, values);
	if (!err)
		err = hs_writer_finish(w, stats);
	hs_writer_destroy(w);
	free(strmap);
	return err;
}
