/*
 * graph_roots.c — external references and roots (DESIGN.md "Semantics"), the first phase of
 * hs_analyze.
 *
 * The external references of o are what its refcount says beyond the strong references the
 * snapshot shows: refcount minus the traverse and owned edges into o (conservative edges are
 * guesses and are not subtracted).  They come from C code, C stacks, frames of 3.11+ that are not
 * objects, or a capture that missed something, and may be negative when the refcount drifted.
 * Immortal objects have none: their refcount means nothing.  The roots are the objects with
 * external references plus the snapshot's named roots (sys.modules, builtins, frames, ...).
 */
#include <assert.h>

#include "graph_internal.h"

void hs_graph_roots(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	uint64_t n = snap->nobjects;
	assert(a->nobjects == n && a->ext_refs && a->is_root && !(a->phases & HS_PHASE_ROOTS));
	for (uint64_t i = 0; i < n; i++)
		a->ext_refs[i] = snap->refcnt[i] > INT64_MAX ? INT64_MAX : (int64_t)snap->refcnt[i];
	for (uint64_t e = 0; e < snap->nedges; e++) {
		if (e + HS_PREFETCH_AHEAD < snap->nedges)
			__builtin_prefetch(&a->ext_refs[snap->edge_dst[e + HS_PREFETCH_AHEAD]]);
		if (snap->edge_kind[e] != HS_EDGE_CONSERVATIVE)
			a->ext_refs[snap->edge_dst[e]]--;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (snap->flags[i] & HS_OBJ_IMMORTAL)
			a->ext_refs[i] = 0;
		a->is_root[i] = a->ext_refs[i] > 0;
	}
	for (uint64_t r = 0; r < snap->nroots; r++)
		a->is_root[snap->roots[r].obj] = 1;
	a->nroots = 0;
	for (uint64_t i = 0; i < n; i++)
		a->nroots += a->is_root[i];
}

uint32_t hs_graph_next_root(const struct hs_snapshot *snap, const struct hs_analysis *a,
                            uint64_t *cursor)
{
	if (*cursor < snap->nroots)
		return (uint32_t)snap->roots[(*cursor)++].obj;
	for (uint64_t i = *cursor - snap->nroots; i < snap->nobjects; i++) {
		if (a->is_root[i]) {
			*cursor = snap->nroots + i + 1;
			return (uint32_t)i;
		}
	}
	*cursor = snap->nroots + snap->nobjects;
	return HS_NONE;
}
