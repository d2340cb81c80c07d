/*
 * graph_deep.c — deep size (DESIGN.md): the bytes reachable from one object by strong edges,
 * each object once, not entering what belongs to the whole program unless the walk starts
 * there: type objects (of any metaclass), modules and modules' namespace dicts.  For plain data
 * this is the classic walk over gc.get_referents plus dict keys (owned edges) summing
 * sys.getsizeof, pympler's asizeof idea.  One walk per call, with a bitmap of visited objects
 * and an explicit stack.
 *
 * Which objects are types and modules is read from the snapshot's types: a type's instances
 * are types when its __mro__ (the tuple its type object's ".__mro__" edge leads to) holds the
 * type object of builtins.type — CPython's Py_TPFLAGS_TYPE_SUBCLASS, so ABCMeta, EnumMeta and
 * every other metaclass count — and modules when it holds builtins.module's.  A type whose
 * object or __mro__ is not in the snapshot falls back to its name ("type", "module").  A
 * module's namespace dict is the target of an edge labelled ".__dict__" from a module, or of
 * a ".__globals__", ".__builtins__", ".f_globals" or ".f_builtins" edge (functions and frames).
 * Finding them reads every edge's label once per call: O(objects + edges) before the walk.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* What a walk does not enter: objects whose type's instances are types or modules, the objects
 * the snapshot's types name as their type objects (sorted, for bsearch), and namespace dicts. */
struct boundary {
	uint8_t *by_type; /* per type: BOUND_TYPE, BOUND_MODULE or 0 */
	uint64_t *type_objects;
	uint32_t ntype_objects;
	uint64_t *namespace; /* bitmap over objects */
};

enum { BOUND_TYPE = 1, BOUND_MODULE = 2 };

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool bit(const uint64_t *map, uint64_t i)
{
	return map[i / 64] & (1ull << (i % 64));
}

static void set_bit(uint64_t *map, uint64_t i)
{
	map[i / 64] |= 1ull << (i % 64);
}

static bool is_boundary(const struct hs_snapshot *snap, const struct boundary *b, uint64_t o)
{
	return b->by_type[snap->type[o]] || bit(b->namespace, o) ||
	       bsearch(&o, b->type_objects, b->ntype_objects, sizeof(o), compare_u64);
}

static bool text_is(const struct hs_string *s, const char *want)
{
	return s->len == strlen(want) && memcmp(s->s, want, s->len) == 0;
}

/* The string id of text in the snapshot's string table, or UINT32_MAX. */
static uint32_t string_id(const struct hs_snapshot *snap, const char *text)
{
	for (uint32_t i = 0; i < snap->nstrings; i++)
		if (text_is(&snap->strings[i], text))
			return i;
	return UINT32_MAX;
}

/* The object index of builtins.NAME's type object whose own type's object is meta (any type's
 * object when meta is UINT64_MAX), or UINT64_MAX.  Out-of-process captures leave the module
 * empty, so an empty module counts as builtins; the type check tells builtins.type (the one
 * type whose type is itself) and builtins.module (whose type is type) from a class of the same
 * name. */
static uint64_t builtin_type_object(const struct hs_snapshot *snap, const char *name, uint64_t meta)
{
	for (uint32_t t = 0; t < snap->ntypes; t++) {
		const struct hs_type *ty = &snap->types[t];
		const struct hs_string *module = &snap->strings[ty->module];
		if (!ty->type_object || !text_is(&snap->strings[ty->name], name) ||
		    !(text_is(module, "builtins") || module->len == 0))
			continue;
		uint64_t o = ty->type_object - 1, self = snap->types[snap->type[o]].type_object;
		if (meta == UINT64_MAX ? self == o + 1 : self == meta + 1)
			return o;
	}
	return UINT64_MAX;
}

/* The __mro__ tuple of type object o (its first ".__mro__" edge), or UINT64_MAX. */
static uint64_t mro_of(const struct hs_snapshot *snap, uint64_t o, uint32_t mro_label)
{
	if (!snap->edge_form)
		return UINT64_MAX; /* labels dropped (hs_snapshot_drop_edge_labels) */
	for (uint64_t e = snap->edge_start[o]; e < snap->edge_start[o + 1]; e++)
		if (snap->edge_form[e] == HS_LABEL_STRING && snap->edge_label[e] == mro_label)
			return snap->edge_dst[e];
	return UINT64_MAX;
}

/* BOUND_TYPE or BOUND_MODULE when type t's instances are types or modules, else 0. */
static uint8_t type_kind(const struct hs_snapshot *snap, uint32_t t, uint32_t mro_label,
                         uint64_t type_type, uint64_t module_type)
{
	const struct hs_type *ty = &snap->types[t];
	uint64_t mro = ty->type_object ? mro_of(snap, ty->type_object - 1, mro_label) : UINT64_MAX;
	if (mro == UINT64_MAX) {
		if (text_is(&snap->strings[ty->name], "type"))
			return BOUND_TYPE;
		return text_is(&snap->strings[ty->name], "module") ? BOUND_MODULE : 0;
	}
	for (uint64_t e = snap->edge_start[mro]; e < snap->edge_start[mro + 1]; e++) {
		if (snap->edge_dst[e] == type_type)
			return BOUND_TYPE;
		if (snap->edge_dst[e] == module_type)
			return BOUND_MODULE;
	}
	return 0;
}

/* Marks the namespace dicts in b->namespace, except those of module x when x is one. */
static void mark_namespaces(const struct hs_snapshot *snap, struct boundary *b, uint64_t x)
{
	uint32_t dict = string_id(snap, ".__dict__"),
	         names[4] = {string_id(snap, ".__globals__"), string_id(snap, ".__builtins__"),
	                     string_id(snap, ".f_globals"), string_id(snap, ".f_builtins")};
	for (uint64_t v = 0; v < snap->nobjects; v++) {
		bool module = b->by_type[snap->type[v]] == BOUND_MODULE;
		for (uint64_t e = snap->edge_start[v]; e < snap->edge_start[v + 1]; e++) {
			if (snap->edge_form[e] != HS_LABEL_STRING)
				continue;
			uint32_t l = snap->edge_label[e];
			if ((module && l == dict && v != x) || l == names[0] || l == names[1] ||
			    l == names[2] || l == names[3])
				set_bit(b->namespace, snap->edge_dst[e]);
		}
	}
	if (b->by_type[snap->type[x]] == BOUND_MODULE)
		for (uint64_t e = snap->edge_start[x]; e < snap->edge_start[x + 1]; e++)
			if (snap->edge_form[e] == HS_LABEL_STRING && snap->edge_label[e] == dict)
				b->namespace[snap->edge_dst[e] / 64] &=
				    ~(1ull << (snap->edge_dst[e] % 64));
}

static struct hs_error *boundary_init(const struct hs_snapshot *snap, uint64_t x,
                                      struct boundary *b)
{
	b->by_type = malloc(snap->ntypes + 1);
	b->type_objects = malloc((snap->ntypes + 1) * sizeof(uint64_t));
	b->ntype_objects = 0;
	b->namespace = calloc(snap->nobjects / 64 + 1, sizeof(uint64_t));
	if (!b->by_type || !b->type_objects || !b->namespace)
		return &hs_error_nomem;
	uint32_t mro_label = string_id(snap, ".__mro__");
	uint64_t type_type = builtin_type_object(snap, "type", UINT64_MAX);
	uint64_t module_type =
	    type_type == UINT64_MAX ? UINT64_MAX : builtin_type_object(snap, "module", type_type);
	for (uint32_t t = 0; t < snap->ntypes; t++) {
		b->by_type[t] = type_kind(snap, t, mro_label, type_type, module_type);
		if (snap->types[t].type_object)
			b->type_objects[b->ntype_objects++] = snap->types[t].type_object - 1;
	}
	qsort(b->type_objects, b->ntype_objects, sizeof(uint64_t), compare_u64);
	mark_namespaces(snap, b, x);
	return NULL;
}

/* The deep size of x, and with memory (not NULL) the same objects' memory. */
static struct hs_error *deep_walk(const struct hs_snapshot *snap, uint64_t x, uint64_t *ret,
                                  uint64_t *memory)
{
	if (x >= snap->nobjects)
		return hs_error_create(HS_ERROR_USAGE, "%s: no object with index %llu", snap->path,
		                       (unsigned long long)x);
	struct boundary b;
	struct hs_error *err = boundary_init(snap, x, &b);
	uint64_t *visited = calloc(snap->nobjects / 64 + 1, sizeof(*visited));
	size_t cap = 1024, len = 0;
	uint32_t *stack = malloc(cap * sizeof(*stack));
	if (!err && (!visited || !stack))
		err = &hs_error_nomem;
	if (err)
		goto out;

	uint64_t total = 0, mem = 0;
	set_bit(visited, x);
	stack[len++] = (uint32_t)x;
	while (len) {
		uint32_t v = stack[--len];
		total += snap->size[v];
		if (memory)
			mem += (uint64_t)((int64_t)snap->size[v] + snap->memory_delta[v]);
		for (uint64_t e = snap->edge_start[v]; e < snap->edge_start[v + 1]; e++) {
			uint32_t w = snap->edge_dst[e];
			if (bit(visited, w))
				continue;
			set_bit(visited, w);
			if (is_boundary(snap, &b, w))
				continue;
			if (len == cap) {
				uint32_t *ns = realloc(stack, 2 * cap * sizeof(*ns));
				if (!ns) {
					err = &hs_error_nomem;
					goto out;
				}
				stack = ns;
				cap *= 2;
			}
			stack[len++] = w;
		}
	}
	*ret = total;
	if (memory)
		*memory = mem;
out:
	free(b.by_type);
	free(b.type_objects);
	free(b.namespace);
	free(visited);
	free(stack);
	return err;
}

struct hs_error *hs_deep_size(const struct hs_snapshot *snap, uint64_t x, uint64_t *ret)
{
	return deep_walk(snap, x, ret, NULL);
}

struct hs_error *hs_deep_memory(const struct hs_snapshot *snap, uint64_t x, uint64_t *ret)
{
	assert(snap->has_memory);
	uint64_t size;
	return deep_walk(snap, x, &size, ret);
}
