/*
 * kinds_stdlib.c — exact out-of-process walking of the standard library's C types that programs
 * keep their data in: collections.deque (its blocks), OrderedDict, defaultdict, functools.partial
 * and the lru_cache wrapper, asyncio's Future and Task, contextvars' Context, ContextVar, Token and
 * the HAMT behind a Context, ElementTree's Element, array.array, SimpleNamespace, mappingproxy,
 * method-wrapper, namedtuple's field getters, abc's per-class data, the common itertools
 * (count, repeat, cycle, chain, islice), asyncio's future iterators and task callbacks, and
 * struct sequences (os.stat_result, time.struct_time, sys.flags, ...) with their hidden fields,
 * and the lru_cache's links (no traverse: their key and result as owned edges).
 *
 * A kind is recognised by its type's tp_traverse (or, for the non-GC array of 3.8-3.9, the static
 * type itself; for the lru_cache's links, which have no traverse, their tp_dealloc), found by
 * symbol in the file that defines it: libpython for the built-in modules, or the extension module
 * (_asyncio, _elementtree, array) among the target's mappings.  The layouts come from the DWARF of
 * the same files through hs_layout_load_table.  A kind whose symbol or layout is missing stays
 * unknown, so its objects are scanned conservatively by the walker, as before.  Edges follow the
 * kind's tp_traverse exactly (gc.get_referents), unlabelled as the in-process capture leaves them,
 * and sizes follow the type's __sizeof__ (sys.getsizeof, the walker adds the GC header).  A C heap
 * type's traverse visits the object's type (3.9+).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "../cpython/labels.h"
#include "internal.h"

#define HAMT_ARRAY_NODE_SIZE 32   /* Python/hamt.c: an array node's fixed width */
#define HAMT_MAX_NODE_ITEMS 65536 /* bound on a collision node's items (2 per key) */
#define MAX_ITEMS (1ll << 28)     /* bound on any container's item count */

/* The fields of the kinds that are only a list of them, in traverse order. */
static const enum hs_stdlib_field partial_f[] = {HS_SF_PARTIAL_FN, HS_SF_PARTIAL_ARGS,
                                                 HS_SF_PARTIAL_KW, HS_SF_PARTIAL_DICT};
static const enum hs_stdlib_field context_f[] = {HS_SF_CTX_PREV, HS_SF_CTX_VARS};
static const enum hs_stdlib_field contextvar_f[] = {HS_SF_CVAR_NAME, HS_SF_CVAR_DEFAULT};
static const enum hs_stdlib_field token_f[] = {HS_SF_TOK_CTX, HS_SF_TOK_VAR, HS_SF_TOK_OLDVAL};
static const enum hs_stdlib_field hamt_f[] = {HS_SF_HAMT_ROOT};
static const enum hs_stdlib_field namespace_f[] = {HS_SF_NS_DICT};
static const enum hs_stdlib_field mappingproxy_f[] = {HS_SF_MP_MAPPING};
static const enum hs_stdlib_field tuplegetter_f[] = {HS_SF_TG_DOC};
static const enum hs_stdlib_field abc_data_f[] = {HS_SF_ABC_REGISTRY, HS_SF_ABC_CACHE,
                                                  HS_SF_ABC_NEGATIVE_CACHE};
static const enum hs_stdlib_field method_wrapper_f[] = {HS_SF_MW_DESCR, HS_SF_MW_SELF};
static const enum hs_stdlib_field count_f[] = {HS_SF_COUNT_LONG_CNT, HS_SF_COUNT_LONG_STEP};
static const enum hs_stdlib_field repeat_f[] = {HS_SF_REPEAT_ELEMENT};
static const enum hs_stdlib_field cycle_f[] = {HS_SF_CYCLE_IT, HS_SF_CYCLE_SAVED};
static const enum hs_stdlib_field chain_f[] = {HS_SF_CHAIN_SOURCE, HS_SF_CHAIN_ACTIVE};
static const enum hs_stdlib_field islice_f[] = {HS_SF_ISLICE_IT};
static const enum hs_stdlib_field futureiter_f[] = {HS_SF_FUTITER_FUTURE};
static const enum hs_stdlib_field taskstep_f[] = {HS_SF_TASKSTEP_TASK, HS_SF_TASKSTEP_ARG};
static const enum hs_stdlib_field taskwakeup_f[] = {HS_SF_TASKWAKEUP_TASK};
static const enum hs_stdlib_field task_f[] = {HS_SF_TASK_CONTEXT, HS_SF_TASK_CORO, HS_SF_TASK_NAME,
                                              HS_SF_TASK_FUT_WAITER};
#define LIST(a) a, sizeof(a) / sizeof((a)[0])

/* The kinds: how each is recognised, the fields it cannot be walked without, and for the kinds
 * whose traverse visits only fields, those fields. */
static const struct {
	const char *sym; /* its tp_traverse (or static type, see static_type) */
	enum { BY_TRAVERSE, BY_TYPE, BY_DEALLOC } by; /* what sym names */
	const char *module; /* the extension module's file name prefix, or NULL (libpython) */
	enum hs_stdlib_field needs[3];      /* fields required (HS_SF_COUNT ends the list) */
	const enum hs_stdlib_field *fields; /* a field list kind: the fields its traverse visits */
	size_t nfields;
} kinds[HS_STDLIB_KINDS] = {
    [HS_SK_DEQUE] = {"deque_traverse",
                     BY_TRAVERSE,
                     "_collections.",
                     {HS_SF_DQ_LEFTBLOCK, HS_SF_BLOCK_DATA, HS_SF_BLOCK_RIGHTLINK}},
    [HS_SK_ODICT] = {"odict_traverse",
                     BY_TRAVERSE,
                     NULL,
                     {HS_SF_OD_FAST_NODES_SIZE, HS_SF_ODNODE_SIZE, HS_SF_DICT_USED}},
    [HS_SK_DEFDICT] = {"defdict_traverse",
                       BY_TRAVERSE,
                       "_collections.",
                       {HS_SF_DD_FACTORY, HS_SF_COUNT}},
    [HS_SK_PARTIAL] = {"partial_traverse",
                       BY_TRAVERSE,
                       "_functools.",
                       {HS_SF_PARTIAL_FN, HS_SF_COUNT},
                       LIST(partial_f)},
    [HS_SK_LRU] = {"lru_cache_tp_traverse",
                   BY_TRAVERSE,
                   "_functools.",
                   {HS_SF_LRU_ROOT_NEXT, HS_SF_LRUE_NEXT, HS_SF_LRUE_KEY}},
    [HS_SK_FUTURE] = {"FutureObj_traverse",
                      BY_TRAVERSE,
                      "_asyncio.",
                      {HS_SF_FUT_LOOP, HS_SF_COUNT}},
    [HS_SK_TASK] = {"TaskObj_traverse",
                    BY_TRAVERSE,
                    "_asyncio.",
                    {HS_SF_FUT_LOOP, HS_SF_TASK_CORO, HS_SF_COUNT}},
    [HS_SK_CONTEXT] =
        {"context_tp_traverse", BY_TRAVERSE, NULL, {HS_SF_CTX_VARS, HS_SF_COUNT}, LIST(context_f)},
    [HS_SK_CONTEXTVAR] = {"contextvar_tp_traverse",
                          BY_TRAVERSE,
                          NULL,
                          {HS_SF_CVAR_NAME, HS_SF_COUNT},
                          LIST(contextvar_f)},
    [HS_SK_TOKEN] =
        {"token_tp_traverse", BY_TRAVERSE, NULL, {HS_SF_TOK_CTX, HS_SF_COUNT}, LIST(token_f)},
    [HS_SK_HAMT] =
        {"hamt_tp_traverse", BY_TRAVERSE, NULL, {HS_SF_HAMT_ROOT, HS_SF_COUNT}, LIST(hamt_f)},
    [HS_SK_HAMT_BITMAP] = {"hamt_node_bitmap_traverse",
                           BY_TRAVERSE,
                           NULL,
                           {HS_SF_HAMTB_ARRAY, HS_SF_COUNT}},
    [HS_SK_HAMT_ARRAY] = {"hamt_node_array_traverse",
                          BY_TRAVERSE,
                          NULL,
                          {HS_SF_HAMTA_ARRAY, HS_SF_COUNT}},
    [HS_SK_HAMT_COLLISION] = {"hamt_node_collision_traverse",
                              BY_TRAVERSE,
                              NULL,
                              {HS_SF_HAMTC_ARRAY, HS_SF_COUNT}},
    [HS_SK_NAMESPACE] =
        {"namespace_traverse", BY_TRAVERSE, NULL, {HS_SF_NS_DICT, HS_SF_COUNT}, LIST(namespace_f)},
    [HS_SK_MAPPINGPROXY] = {"mappingproxy_traverse",
                            BY_TRAVERSE,
                            NULL,
                            {HS_SF_MP_MAPPING, HS_SF_COUNT},
                            LIST(mappingproxy_f)},
    [HS_SK_ELEMENT] = {"element_gc_traverse",
                       BY_TRAVERSE,
                       "_elementtree.",
                       {HS_SF_EL_EXTRA, HS_SF_ELX_CHILDREN, HS_SF_ELX_SIZE}},
    [HS_SK_ARRAY] = {"array_tp_traverse",
                     BY_TRAVERSE,
                     "array.",
                     {HS_SF_ARR_ALLOCATED, HS_SF_ARR_DESCR, HS_SF_ARRD_ITEMSIZE}},
    [HS_SK_ARRAY_STATIC] = {"Arraytype",
                            BY_TYPE,
                            "array.",
                            {HS_SF_ARR_ALLOCATED, HS_SF_ARR_DESCR, HS_SF_ARRD_ITEMSIZE}},
    [HS_SK_TUPLEGETTER] = {"tuplegetter_traverse",
                           BY_TRAVERSE,
                           "_collections.",
                           {HS_SF_TG_DOC, HS_SF_COUNT},
                           LIST(tuplegetter_f)},
    [HS_SK_ABC_DATA] = {"abc_data_traverse",
                        BY_TRAVERSE,
                        "_abc.",
                        {HS_SF_ABC_REGISTRY, HS_SF_COUNT},
                        LIST(abc_data_f)},
    [HS_SK_METHOD_WRAPPER] = {"wrapper_traverse",
                              BY_TRAVERSE,
                              NULL,
                              {HS_SF_MW_DESCR, HS_SF_MW_SELF, HS_SF_COUNT},
                              LIST(method_wrapper_f)},
    [HS_SK_COUNT] = {"count_traverse",
                     BY_TRAVERSE,
                     "itertools.",
                     {HS_SF_COUNT_LONG_CNT, HS_SF_COUNT},
                     LIST(count_f)},
    [HS_SK_REPEAT] = {"repeat_traverse",
                      BY_TRAVERSE,
                      "itertools.",
                      {HS_SF_REPEAT_ELEMENT, HS_SF_COUNT},
                      LIST(repeat_f)},
    [HS_SK_CYCLE] =
        {"cycle_traverse", BY_TRAVERSE, "itertools.", {HS_SF_CYCLE_IT, HS_SF_COUNT}, LIST(cycle_f)},
    [HS_SK_CHAIN] = {"chain_traverse",
                     BY_TRAVERSE,
                     "itertools.",
                     {HS_SF_CHAIN_SOURCE, HS_SF_COUNT},
                     LIST(chain_f)},
    [HS_SK_ISLICE] = {"islice_traverse",
                      BY_TRAVERSE,
                      "itertools.",
                      {HS_SF_ISLICE_IT, HS_SF_COUNT},
                      LIST(islice_f)},
    [HS_SK_FUTUREITER] = {"FutureIter_traverse",
                          BY_TRAVERSE,
                          "_asyncio.",
                          {HS_SF_FUTITER_FUTURE, HS_SF_COUNT},
                          LIST(futureiter_f)},
    [HS_SK_TASKSTEP] = {"TaskStepMethWrapper_traverse",
                        BY_TRAVERSE,
                        "_asyncio.",
                        {HS_SF_TASKSTEP_TASK, HS_SF_COUNT},
                        LIST(taskstep_f)},
    [HS_SK_STRUCTSEQ] = {"structseq_traverse",
                         BY_TRAVERSE,
                         NULL,
                         {HS_SF_TP_MEMBERS, HS_SF_MEMBER_SIZE, HS_SF_TUPLE_ITEM}},
    [HS_SK_LRU_ELEM] = {"lru_list_elem_dealloc",
                        BY_DEALLOC,
                        "_functools.",
                        {HS_SF_LRUE_KEY, HS_SF_LRUE_RESULT, HS_SF_TP_DEALLOC}},
    [HS_SK_TASKWAKEUP] = {"TaskWakeupMethWrapper_traverse",
                          BY_TRAVERSE,
                          "_asyncio.",
                          {HS_SF_TASKWAKEUP_TASK, HS_SF_COUNT},
                          LIST(taskwakeup_f)},
};

/* The tp_name of each kind's type, "|" between the spellings of different versions: how a kind
 * is recognised when its file has no symbol for it (a stripped python).  The structseq kind has
 * no one name: hs_stdlib_learn is told its traverse from sys.flags. */
static const char *const kind_names[HS_STDLIB_KINDS] = {
    [HS_SK_DEQUE] = "collections.deque",
    [HS_SK_ODICT] = "collections.OrderedDict",
    [HS_SK_DEFDICT] = "collections.defaultdict",
    [HS_SK_PARTIAL] = "functools.partial",
    [HS_SK_LRU] = "functools._lru_cache_wrapper",
    [HS_SK_FUTURE] = "_asyncio.Future",
    [HS_SK_TASK] = "_asyncio.Task",
    [HS_SK_CONTEXT] = "_contextvars.Context|Context",
    [HS_SK_CONTEXTVAR] = "_contextvars.ContextVar|ContextVar",
    [HS_SK_TOKEN] = "_contextvars.Token|Token",
    [HS_SK_HAMT] = "hamt",
    [HS_SK_HAMT_BITMAP] = "hamt_bitmap_node",
    [HS_SK_HAMT_ARRAY] = "hamt_array_node",
    [HS_SK_HAMT_COLLISION] = "hamt_collision_node",
    [HS_SK_NAMESPACE] = "types.SimpleNamespace",
    [HS_SK_MAPPINGPROXY] = "mappingproxy",
    [HS_SK_ELEMENT] = "xml.etree.ElementTree.Element",
    [HS_SK_ARRAY] = "array.array",
    [HS_SK_ARRAY_STATIC] = "array.array",
    [HS_SK_TUPLEGETTER] = "collections._tuplegetter|_collections._tuplegetter",
    [HS_SK_ABC_DATA] = "_abc._abc_data",
    [HS_SK_METHOD_WRAPPER] = "method-wrapper",
    [HS_SK_COUNT] = "itertools.count",
    [HS_SK_REPEAT] = "itertools.repeat",
    [HS_SK_CYCLE] = "itertools.cycle",
    [HS_SK_CHAIN] = "itertools.chain",
    [HS_SK_ISLICE] = "itertools.islice",
    [HS_SK_FUTUREITER] = "_asyncio.FutureIter",
    [HS_SK_TASKSTEP] = "_asyncio.TaskStepMethWrapper|TaskStepMethWrapper",
    [HS_SK_TASKWAKEUP] = "_asyncio.TaskWakeupMethWrapper|TaskWakeupMethWrapper",
    [HS_SK_LRU_ELEM] = "functools._lru_list_elem",
};

#define MAX_FILES 64 /* mappings of libpython and the kinds' modules remembered */

struct hs_stdlib {
	int64_t v[HS_SF_COUNT];         /* merged over the files, -1 where absent */
	uint64_t addr[HS_STDLIB_KINDS]; /* the symbol's address in the target, 0: unknown */
	struct {
		uint64_t start, end;
	} files[MAX_FILES]; /* where libpython and the kinds' modules are mapped */
	size_t nfiles;
	uint64_t subtype_traverse; /* never a kind's (a class defined in Python) */
};

/* The field f of the struct at o (0 when the layout lacks it). */
static uint64_t sf(struct walker *w, const struct hs_stdlib *s, uint64_t o, enum hs_stdlib_field f)
{
	return s->v[f] < 0 ? 0 : hs_wk_u64(w, o + (uint64_t)s->v[f]);
}

/* Whether the file at path is libpython, a static python, or the extension module a kind names.
 */
static bool wanted_file(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (!strncmp(base, "libpython", 9) || !strncmp(base, "python", 6))
		return true;
	for (size_t k = 1; k < HS_STDLIB_KINDS; k++)
		if (kinds[k].module && !strncmp(base, kinds[k].module, strlen(kinds[k].module)))
			return true;
	return false;
}

/* err, when it is running out of memory; otherwise nothing (err destroyed). */
static struct hs_error *forget(struct hs_error *err)
{
	if (err == &hs_error_nomem)
		return err;
	hs_error_destroy(err);
	return NULL;
}

/* Whether the fields kind k cannot be walked without are known. */
static bool has_needs(const struct hs_stdlib *s, size_t k)
{
	for (size_t i = 0; i < 3 && kinds[k].needs[i] != HS_SF_COUNT; i++)
		if (s->v[kinds[k].needs[i]] < 0)
			return false;
	return true;
}

/* The kinds' symbols in one file (and in its debug file's .symtab), addresses in the target. */
static struct hs_error *file_symbols(const struct hs_file *f, const struct hs_elf_info *info,
                                     const struct hs_layout_opts *lo, uint64_t bias,
                                     struct hs_elf_sym *syms)
{
	for (size_t k = 0; k < HS_STDLIB_KINDS; k++)
		syms[k] = (struct hs_elf_sym){k ? kinds[k].sym : "", 0};
	struct hs_error *err = hs_elf_symbols(f->open, syms + 1, HS_STDLIB_KINDS - 1, lo->no_dwarf);
	char dbg[PATH_MAX];
	if (!err && !lo->no_dwarf && !info->has_debug_info &&
	    hs_debug_file(f, info, lo, dbg, sizeof(dbg))) {
		struct hs_elf_sym more[HS_STDLIB_KINDS];
		memcpy(more, syms, sizeof(more));
		err = hs_elf_symbols(dbg, more + 1, HS_STDLIB_KINDS - 1, false);
		for (size_t k = 1; k < HS_STDLIB_KINDS && !err; k++)
			syms[k].value = syms[k].value ? syms[k].value : more[k].value;
	}
	for (size_t k = 1; k < HS_STDLIB_KINDS && !err; k++)
		syms[k].value = syms[k].value ? syms[k].value + bias : 0;
	return err;
}

/* Adds one mapped file's symbols and DWARF layouts to s; a file without them (or that cannot be
 * read) adds nothing.  Only running out of memory is an error. */
static struct hs_error *load_file(struct hs_stdlib *s, const struct hs_memsrc *m, size_t i,
                                  const struct hs_layout_opts *lo)
{
	char path[PATH_MAX + 64], root[64];
	hs_memsrc_file(m, i, path, sizeof(path));
	struct hs_file f = {path, m->maps[i].path, hs_memsrc_root(m, root, sizeof(root))};
	struct hs_elf_info info;
	struct hs_error *err = hs_elf_info(path, &info);
	if (err)
		return forget(err);
	uint64_t bias = m->maps[i].start - info.first_load_vaddr;
	struct hs_elf_sym syms[HS_STDLIB_KINDS];
	err = file_symbols(&f, &info, lo, bias, syms);
	if (err)
		return forget(err);
	bool any = false;
	for (size_t k = 1; k < HS_STDLIB_KINDS; k++)
		any |= syms[k].value != 0;
	int64_t v[HS_SF_COUNT];
	err = any ? hs_layout_load_table(&f, lo, &hs_stdlib_fields, v) : NULL;
	if (err || !any) /* no DWARF: this file's kinds are recognised by name */
		return forget(err);
	for (size_t f = 0; f < HS_SF_COUNT; f++)
		if (s->v[f] < 0)
			s->v[f] = v[f];
	for (size_t k = 1; k < HS_STDLIB_KINDS; k++) {
		bool ok = syms[k].value && !s->addr[k];
		for (size_t n = 0; n < 3 && ok && kinds[k].needs[n] != HS_SF_COUNT; n++)
			ok = v[kinds[k].needs[n]] >= 0;
		if (ok)
			s->addr[k] = syms[k].value;
	}
	return NULL;
}

/* Remembers where mapping i lies (a kind recognised by name must live in one of them). */
static void add_range(struct hs_stdlib *s, const struct hs_mapping *map)
{
	if (s->nfiles < MAX_FILES) {
		s->files[s->nfiles].start = map->start;
		s->files[s->nfiles++].end = map->end;
	}
}

struct hs_error *hs_stdlib_load(const struct hs_memsrc *m, const struct hs_python *py,
                                const struct hs_layout_opts *lo, struct hs_stdlib **ret)
{
	struct hs_stdlib *s = calloc(1, sizeof(*s));
	if (!s)
		return &hs_error_nomem;
	for (size_t f = 0; f < HS_SF_COUNT; f++)
		s->v[f] = -1;
	struct hs_error *err = NULL;
	for (size_t i = 0; i < m->nmaps && !err; i++) {
		const struct hs_mapping *map = &m->maps[i];
		if (map->path[0] != '/' || !wanted_file(map->path))
			continue;
		add_range(s, map);
		bool seen =
		    map->file_offset != 0; /* a file mapped twice at offset 0 is read once */
		for (size_t j = 0; j < i && !seen; j++)
			seen = m->maps[j].file_offset == 0 && !strcmp(m->maps[j].path, map->path);
		if (!seen)
			err = load_file(s, m, i, lo);
	}
	const struct hs_layout_builtin *b = hs_layout_builtin(py->minor);
	for (size_t f = 0; b && f < HS_SF_COUNT; f++)
		if (s->v[f] < 0)
			s->v[f] = b->stdlib[f];
	if (err) {
		free(s);
		return err;
	}
	*ret = s;
	return NULL;
}

void hs_stdlib_free(struct hs_stdlib *s)
{
	free(s);
}

void hs_stdlib_learn(struct hs_stdlib *s, int kind, uint64_t key, uint64_t subtype_traverse)
{
	assert(kind > 0 && kind < HS_STDLIB_KINDS);
	s->subtype_traverse = subtype_traverse;
	if (!s->addr[kind] && key && key != subtype_traverse && has_needs(s, (size_t)kind))
		s->addr[kind] = key;
}

/* Whether name is one of the "|"-separated names. */
static bool name_is(const char *names, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = names; p && *p;) {
		size_t l = strcspn(p, "|");
		if (l == n && !memcmp(p, name, n))
			return true;
		p += l + (p[l] == '|');
	}
	return false;
}

/* Whether addr lies in libpython or one of the kinds' modules. */
static bool in_files(const struct hs_stdlib *s, uint64_t addr)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (addr >= s->files[i].start && addr < s->files[i].end)
			return true;
	return false;
}

int hs_stdlib_kind(struct walker *w, struct hs_stdlib *s, uint64_t type, uint64_t traverse,
                   const char *name)
{
	uint64_t dealloc = s ? sf(w, s, type, HS_SF_TP_DEALLOC) : 0;
	for (int k = 1; s && k < HS_STDLIB_KINDS; k++) {
		uint64_t key = kinds[k].by == BY_TYPE      ? type
		               : kinds[k].by == BY_DEALLOC ? dealloc
		                                           : traverse;
		/* By name only when the name's type is where libpython or its module lies. */
		if (!s->addr[k] && name && name_is(kind_names[k], name) && in_files(s, key) &&
		    (kinds[k].by != BY_TYPE || hs_wk_minor(w) <= 9) &&
		    (k != HS_SK_ARRAY || hs_wk_minor(w) >= 10))
			hs_stdlib_learn(s, k, key, s->subtype_traverse);
		if (s->addr[k] && s->addr[k] == key)
			return k;
	}
	return 0;
}

/* Unlabelled traverse edges to the fields t[0..n) of the struct at o. */
static struct hs_error *fields(struct walker *w, const struct hs_stdlib *s, uint64_t src,
                               uint64_t o, const enum hs_stdlib_field *t, size_t n)
{
	struct hs_error *err = NULL;
	for (size_t i = 0; i < n && !err; i++)
		err = hs_wk_edge(w, src, sf(w, s, o, t[i]), HS_EDGE_TRAVERSE, "");
	return err;
}
#define FIELDS(w, s, src, o, t) fields(w, s, src, o, t, sizeof(t) / sizeof((t)[0]))

/* Edges to the n words at a (an array of references; NULL items skipped), up to the first
 * unreadable one. */
static struct hs_error *items(struct walker *w, uint64_t src, uint64_t a, int64_t n)
{
	struct hs_error *err = NULL;
	uint64_t p;
	for (int64_t i = 0; i < n && i < MAX_ITEMS && !err; i++) {
		if (!hs_wk_read(w, a + 8 * (uint64_t)i, &p, 8))
			break;
		err = hs_wk_edge(w, src, p, HS_EDGE_TRAVERSE, "");
	}
	return err;
}

/* deque_traverse: the items, block by block; deque.__sizeof__: the blocks in use. */
static struct hs_error *deque_walk(struct walker *w, const struct hs_stdlib *s, uint64_t src,
                                   uint64_t o, uint64_t *size)
{
	int64_t n = (int64_t)hs_wk_u64(w, o + 16);
	int64_t left = (int64_t)sf(w, s, o, HS_SF_DQ_LEFTINDEX);
	uint64_t blocklen = (uint64_t)(s->v[HS_SF_BLOCK_RIGHTLINK] - s->v[HS_SF_BLOCK_DATA]) / 8;
	if (n < 0 || n > MAX_ITEMS || left < 0 || (uint64_t)left >= blocklen || !blocklen) {
		hs_wk_warn(w, "deque at 0x%llx: length %lld, left index %lld",
		           (unsigned long long)o, (long long)n, (long long)left);
		return NULL;
	}
	*size += ((uint64_t)left + (uint64_t)n + blocklen - 1) / blocklen *
	         (uint64_t)s->v[HS_SF_BLOCK_SIZE];
	uint64_t first = sf(w, s, o, HS_SF_DQ_LEFTBLOCK), b = first, i = (uint64_t)left;
	struct hs_error *err = NULL;
	for (int64_t k = 0; k < n && b && !err; k++) {
		err = hs_wk_edge(w, src, hs_wk_u64(w, b + (uint64_t)s->v[HS_SF_BLOCK_DATA] + 8 * i),
		                 HS_EDGE_TRAVERSE, "");
		if (++i == blocklen) {
			uint64_t next = hs_wk_u64(w, b + (uint64_t)s->v[HS_SF_BLOCK_RIGHTLINK]);
			b = next == b || next == first ? 0 : next; /* a loop ends the walk */
			i = 0;
		}
	}
	return err;
}

/* lru_cache_tp_traverse: each link's key and result (and, 3.10+, the link's type), then the
 * wrapper's own fields.  The root link is the wrapper itself (its first member). */
static struct hs_error *lru_walk(struct walker *w, const struct hs_stdlib *s, uint64_t src,
                                 uint64_t o, bool heap)
{
	static const enum hs_stdlib_field own[] = {HS_SF_LRU_CACHE,     HS_SF_LRU_FUNC,
	                                           HS_SF_LRU_KWD_MARK,  HS_SF_LRU_ELEM_TYPE,
	                                           HS_SF_LRU_INFO_TYPE, HS_SF_LRU_DICT};
	struct hs_error *err = NULL;
	uint64_t first = sf(w, s, o, HS_SF_LRU_ROOT_NEXT), link = first;
	for (int64_t k = 0; link && link != o && (k == 0 || link != first) && k < MAX_ITEMS && !err;
	     k++) {
		err = hs_wk_edge(w, src, sf(w, s, link, HS_SF_LRUE_KEY), HS_EDGE_TRAVERSE, "");
		if (!err)
			err = hs_wk_edge(w, src, sf(w, s, link, HS_SF_LRUE_RESULT),
			                 HS_EDGE_TRAVERSE, "");
		if (!err && heap)
			err = hs_wk_edge(w, src, hs_wk_u64(w, link + 8), HS_EDGE_TRAVERSE, "");
		link = sf(w, s, link, HS_SF_LRUE_NEXT);
	}
	return err ? err : FIELDS(w, s, src, o, own);
}

/* FutureObj_traverse (and the future part of TaskObj_traverse). */
static struct hs_error *future_walk(struct walker *w, const struct hs_stdlib *s, uint64_t src,
                                    uint64_t o, uint64_t type_flags)
{
	static const enum hs_stdlib_field fut[] = {
	    HS_SF_FUT_LOOP,          HS_SF_FUT_CALLBACK0, HS_SF_FUT_CONTEXT0,
	    HS_SF_FUT_CALLBACKS,     HS_SF_FUT_RESULT,    HS_SF_FUT_EXCEPTION,
	    HS_SF_FUT_EXCEPTION_TB,  HS_SF_FUT_SOURCE_TB, HS_SF_FUT_CANCEL_MSG,
	    HS_SF_FUT_CANCELLED_EXC, HS_SF_FUT_DICT};
	struct hs_error *err = FIELDS(w, s, src, o, fut);
	/* 3.13: the dict is a managed one, just before the GC header. */
	if (!err && s->v[HS_SF_FUT_DICT] < 0 && (type_flags & HS_CP_TPF_MANAGED_DICT))
		err = hs_wk_edge(w, src, hs_wk_u64(w, o - 24), HS_EDGE_TRAVERSE, "");
	return err;
}

/* structseq_traverse: every field, the hidden ones (after the len() visible ones) too.  Their
 * number is the type's n_fields; each hidden field is named, so it is also the end of the last
 * member of the struct sequence type (the first type up from `type` with this traverse). */
static struct hs_error *structseq_walk(struct walker *w, const struct hs_stdlib *s, uint64_t src,
                                       uint64_t o, uint64_t type)
{
	uint64_t t = type;
	for (int depth = 0; t && depth < 64; depth++) {
		if (sf(w, s, t, HS_SF_TP_TRAVERSE) == s->addr[HS_SK_STRUCTSEQ])
			break;
		t = sf(w, s, t, HS_SF_TP_BASE);
	}
	int64_t visible = (int64_t)hs_wk_u64(w, o + 16), n = visible;
	uint64_t members = t ? sf(w, s, t, HS_SF_TP_MEMBERS) : 0;
	uint64_t msize = (uint64_t)s->v[HS_SF_MEMBER_SIZE],
	         items0 = (uint64_t)s->v[HS_SF_TUPLE_ITEM];
	for (uint64_t i = 0; members && i < 1024; i++) {
		uint64_t m = members + i * msize;
		if (!sf(w, s, m, HS_SF_MEMBER_NAME))
			break;
		uint64_t off = sf(w, s, m, HS_SF_MEMBER_OFFSET);
		if (off >= items0 && (off - items0) / 8 < 1024 &&
		    (int64_t)((off - items0) / 8) >= n)
			n = (int64_t)((off - items0) / 8) + 1;
	}
	if (visible < 0 || n > 1024) {
		hs_wk_warn(w, "struct sequence at 0x%llx: %lld fields", (unsigned long long)o,
		           (long long)n);
		return NULL;
	}
	/* The visible fields are labelled by position, as a tuple's items. */
	struct hs_error *err = NULL;
	for (int64_t i = 0; i < visible && !err; i++)
		err = hs_wk_edge_index(w, src, hs_wk_u64(w, o + items0 + 8 * (uint64_t)i),
		                       (uint64_t)i);
	return err ? err : items(w, src, o + items0 + 8 * (uint64_t)visible, n - visible);
}

/* A HAMT node's item count (its ob_size), 0 (and a warning) beyond max. */
static int64_t hamt_items(struct walker *w, uint64_t o, int64_t max)
{
	int64_t n = (int64_t)hs_wk_u64(w, o + 16);
	if (n >= 0 && n <= max)
		return n;
	hs_wk_warn(w, "HAMT node at 0x%llx: %lld items", (unsigned long long)o, (long long)n);
	return 0;
}

/* ElementTree's element_gc_traverse and element_sizeof. */
static struct hs_error *element_walk(struct walker *w, const struct hs_stdlib *s, uint64_t src,
                                     uint64_t o, uint64_t *size)
{
	struct hs_error *err = hs_wk_edge(w, src, sf(w, s, o, HS_SF_EL_TAG), HS_EDGE_TRAVERSE, "");
	/* text and tail carry a flag in their low bit (JOIN_OBJ). */
	if (!err)
		err = hs_wk_edge(w, src, sf(w, s, o, HS_SF_EL_TEXT) & ~1ull, HS_EDGE_TRAVERSE, "");
	if (!err)
		err = hs_wk_edge(w, src, sf(w, s, o, HS_SF_EL_TAIL) & ~1ull, HS_EDGE_TRAVERSE, "");
	uint64_t x = sf(w, s, o, HS_SF_EL_EXTRA);
	if (err || !x)
		return err;
	int64_t n = (int64_t)sf(w, s, x, HS_SF_ELX_LENGTH),
	        cap = (int64_t)sf(w, s, x, HS_SF_ELX_ALLOCATED);
	uint64_t children = sf(w, s, x, HS_SF_ELX_CHILDREN);
	if (n < 0 || n > cap || cap > MAX_ITEMS) {
		hs_wk_warn(w, "Element at 0x%llx: %lld children of %lld allocated",
		           (unsigned long long)o, (long long)n, (long long)cap);
		return NULL;
	}
	*size += (uint64_t)s->v[HS_SF_ELX_SIZE];
	if (children != x + (uint64_t)s->v[HS_SF_ELX_CHILDREN0])
		*size += 8 * (uint64_t)cap;
	err = hs_wk_edge(w, src, sf(w, s, x, HS_SF_ELX_ATTRIB), HS_EDGE_TRAVERSE, "");
	return err ? err : items(w, src, children, n);
}

struct hs_error *hs_stdlib_walk(struct walker *w, const struct hs_stdlib *s,
                                const struct hs_stdlib_obj *ob, uint64_t *size)
{
	if (ob->kind <= 0 || ob->kind >= HS_STDLIB_KINDS)
		return NULL;
	uint64_t src = ob->src, o = ob->addr;
	struct hs_error *err = NULL;
	/* A C heap type's traverse visits the type first (3.9+; 3.8's did not); an instance of a
	 * heap type holds its type all the same, as an owned reference where it is not visited. */
	bool traversed = kinds[ob->kind].by != BY_DEALLOC && hs_wk_minor(w) >= 9;
	if (ob->heap)
		err = hs_wk_edge(w, src, ob->type, traversed ? HS_EDGE_TRAVERSE : HS_EDGE_OWNED,
		                 hs_cp_label(HS_CP_CLASS));
	if (err)
		return err;
	if (kinds[ob->kind].nfields)
		return fields(w, s, src, o, kinds[ob->kind].fields, kinds[ob->kind].nfields);
	switch ((enum hs_stdlib_kind)ob->kind) {
	case HS_SK_DEQUE:
		return deque_walk(w, s, src, o, size);
	case HS_SK_ODICT: {
		err = hs_wk_edge(w, src, sf(w, s, o, HS_SF_OD_INST_DICT), HS_EDGE_TRAVERSE, "");
		if (!err)
			err = hs_wk_dict(w, src, o, ob->type, true, size);
		int64_t fast = (int64_t)sf(w, s, o, HS_SF_OD_FAST_NODES_SIZE);
		int64_t used = (int64_t)sf(w, s, o, HS_SF_DICT_USED);
		if (fast > 0 && fast < MAX_ITEMS && used > 0 && used < MAX_ITEMS)
			*size +=
			    8 * (uint64_t)fast + (uint64_t)used * (uint64_t)s->v[HS_SF_ODNODE_SIZE];
		return err;
	}
	case HS_SK_DEFDICT:
		err = hs_wk_edge(w, src, sf(w, s, o, HS_SF_DD_FACTORY), HS_EDGE_TRAVERSE, "");
		return err ? err : hs_wk_dict(w, src, o, ob->type, false, size);
	case HS_SK_LRU:
		return lru_walk(w, s, src, o, ob->heap);
	case HS_SK_TASK:
		err = FIELDS(w, s, src, o, task_f);
		return err ? err : future_walk(w, s, src, o, ob->type_flags);
	case HS_SK_FUTURE:
		return future_walk(w, s, src, o, ob->type_flags);
	case HS_SK_HAMT_BITMAP:
		return items(w, src, o + (uint64_t)s->v[HS_SF_HAMTB_ARRAY],
		             hamt_items(w, o, 2 * HAMT_ARRAY_NODE_SIZE));
	case HS_SK_HAMT_ARRAY:
		return items(w, src, o + (uint64_t)s->v[HS_SF_HAMTA_ARRAY], HAMT_ARRAY_NODE_SIZE);
	case HS_SK_HAMT_COLLISION:
		return items(w, src, o + (uint64_t)s->v[HS_SF_HAMTC_ARRAY],
		             hamt_items(w, o, HAMT_MAX_NODE_ITEMS));
	case HS_SK_ELEMENT:
		return element_walk(w, s, src, o, size);
	case HS_SK_STRUCTSEQ:
		return structseq_walk(w, s, src, o, ob->type);
	case HS_SK_LRU_ELEM: /* no traverse: its key and result are held, not visited */
		err = hs_wk_edge(w, src, sf(w, s, o, HS_SF_LRUE_KEY), HS_EDGE_OWNED, "");
		return err ? err
		           : hs_wk_edge(w, src, sf(w, s, o, HS_SF_LRUE_RESULT), HS_EDGE_OWNED, "");
	case HS_SK_ARRAY:
	case HS_SK_ARRAY_STATIC: {
		int64_t cap = (int64_t)sf(w, s, o, HS_SF_ARR_ALLOCATED);
		int32_t isz = 0;
		uint64_t descr = sf(w, s, o, HS_SF_ARR_DESCR);
		if (descr)
			hs_wk_read(w, descr + (uint64_t)s->v[HS_SF_ARRD_ITEMSIZE], &isz, 4);
		if (cap >= 0 && cap < MAX_ITEMS && isz > 0 && isz <= 16)
			*size += (uint64_t)cap * (uint64_t)isz;
		return NULL;
	}
	default: /* HS_SK_NONE, and the field list kinds above */
		break;
	}
	return NULL;
}
