/*
 * walker_sites.c — allocation sites (issue 21) read from the target, while it is stopped: when
 * tracemalloc traces there, each object's most recent allocation frame, the frame the in-process
 * capture takes from _tracemalloc._get_object_traceback (capture/inproc/walk_sites.c).
 *
 * Where tracemalloc keeps its traces (capture/CPYTHON.md §3b): 3.8–3.11 in the static
 * tracemalloc_traces of Modules/_tracemalloc.c (only a .symtab names it), tracing in the exported
 * _Py_tracemalloc_config; 3.12+ in _PyRuntime.tracemalloc.  The table (3.9+ Python/hashtable.c,
 * 3.8 Modules/hashtable.c) has nbuckets singly linked chains of entries; an entry maps the address
 * of an allocation (an object's less its GC header or pre-header, hs_wk_preheader) to a trace
 * whose traceback's frames[0] is the most recent frame.  3.9+ entries point at key and trace; a
 * 3.8 entry holds them inline after itself, the key (key_size bytes) a pointer, or a pointer
 * and a domain once a domain other than 0 was traced (only domain 0's are objects).
 *
 * The table is hostile memory: every read is checked, a chain that loops or breaks is left where
 * it does (a warning names the entry; the other chains are read), and the chains are followed at
 * most as many entries as the table counts in all.  A table that cannot be reached at all (no
 * symbol, no layout) leaves sites_note and no sites: the capture goes on.
 */
#include <stdlib.h>

#include "walker_internal.h"

#define MAX_BUCKETS (1ull << 32)
#define BUCKETS_PER_READ 512
#define NAME_CACHE 256 /* tracemalloc interns file names: a few objects serve every frame */

struct sites {
	uint64_t table, nentries, nbuckets, buckets, key_size, seen;
	struct {
		uint64_t addr;
		uint32_t id1;
	} names[NAME_CACHE];
};

static void note(struct walker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct walker *w, const char *fmt, ...)
{
	int n = snprintf(w->sites_note, sizeof(w->sites_note), "unavailable: ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->sites_note + n, sizeof(w->sites_note) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* A damaged table: a warning (the snapshot's first_warning when it is the first), and the note
 * when it is the first damage (one line). */
static void damaged(struct walker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void damaged(struct walker *w, const char *fmt, ...)
{
	char buf[sizeof(w->sites_note) - 16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	hs_wk_warn(w, "%s", buf);
	if (!w->sites_note[0])
		snprintf(w->sites_note, sizeof(w->sites_note), "incomplete: %s", buf);
}

static bool has(const struct walker *w, enum hs_layout_field f)
{
	return w->L.v[f] >= 0;
}

/* The traces table's address into *table when tracemalloc traces; false when it does not (no
 * note) or when where it is cannot be told (a note says why). */
static bool find_table(struct walker *w, uint64_t *table)
{
	uint64_t config, slot;
	if (!has(w, HS_L_TMC_TRACING) || !has(w, HS_L_HT_BUCKETS) || !has(w, HS_L_TMTB_FRAMES)) {
		note(w, "the layout of %s has no tracemalloc state", w->py.path);
		return false;
	}
	if (w->minor >= 12) {
		if (!has(w, HS_L_RT_TRACEMALLOC) || !has(w, HS_L_TMS_TRACES)) {
			note(w, "the layout of %s has no _PyRuntime.tracemalloc", w->py.path);
			return false;
		}
		/* config is the state's first member (Include/internal/pycore_tracemalloc.h) */
		config = w->sym[SYM_RUNTIME] + (uint64_t)w->L.v[HS_L_RT_TRACEMALLOC];
		slot = config + (uint64_t)w->L.v[HS_L_TMS_TRACES];
	} else {
		config = w->sym[SYM_TM_CONFIG];
		slot = w->sym[SYM_TM_TRACES];
		if (!config) {
			note(w, "%s exports no _Py_tracemalloc_config", w->py.path);
			return false;
		}
	}
	int32_t tracing = 0;
	if (!rd(w, config + (uint64_t)w->L.v[HS_L_TMC_TRACING], &tracing, 4)) {
		note(w, "tracemalloc's configuration at 0x%llx is unreadable",
		     (unsigned long long)config);
		return false;
	}
	if (!tracing)
		return false;
	if (!slot) {
		note(w,
		     "tracemalloc traces, but no symbol table read names tracemalloc_traces, a "
		     "static of %s (%s)",
		     w->py.path,
		     w->py.no_dwarf ? "--layouts table reads exported symbols only"
		                    : "install its debug symbols or use --debug-dir DIR");
		return false;
	}
	*table = u64(w, slot);
	if (!*table)
		note(w, "tracemalloc traces, but its traces table (at 0x%llx) is NULL",
		     (unsigned long long)slot);
	return *table != 0;
}

/* The table's header into s; false (a note and a warning naming it) when it is not a table. */
static bool read_header(struct walker *w, struct sites *s)
{
	uint64_t t = s->table;
	s->nentries = fld(w, t, HS_L_HT_NENTRIES);
	s->nbuckets = fld(w, t, HS_L_HT_NBUCKETS);
	s->buckets = fld(w, t, HS_L_HT_BUCKETS);
	s->key_size = has(w, HS_L_HT_KEY_SIZE) ? fld(w, t, HS_L_HT_KEY_SIZE) : 8;
	if (!s->nbuckets || s->nbuckets > MAX_BUCKETS || (s->nbuckets & (s->nbuckets - 1)) ||
	    s->buckets % 8 || !s->buckets || s->nentries > HS_MAX_OBJECTS * 16 ||
	    (s->key_size != 8 && s->key_size != 12)) {
		note(w,
		     "tracemalloc's traces table at 0x%llx is damaged (%llu buckets at 0x%llx, "
		     "%llu entries, keys of %llu bytes)",
		     (unsigned long long)t, (unsigned long long)s->nbuckets,
		     (unsigned long long)s->buckets, (unsigned long long)s->nentries,
		     (unsigned long long)s->key_size);
		hs_wk_warn(w, "%s", w->sites_note);
		return false;
	}
	return true;
}

/* The walker's string id + 1 of the file name at addr (a str), 0 when it is not one. */
static uint32_t file_id(struct walker *w, struct sites *s, uint64_t addr)
{
	unsigned slot = (unsigned)(hash64(addr) % NAME_CACHE);
	if (s->names[slot].addr == addr)
		return s->names[slot].id1;
	char buf[4096];
	uint32_t id1 = hs_wk_str_at(w, addr, buf, sizeof(buf)) ? hs_wk_intern_c(w, buf) + 1 : 0;
	s->names[slot].addr = addr;
	s->names[slot].id1 = id1;
	return id1;
}

/* The object whose allocation starts at key (index + 1), or 0: its address less its header. */
static uint64_t object_at(struct walker *w, uint64_t key)
{
	for (uint64_t before = 0; before <= 32; before += 16) {
		uint64_t idx1 = hs_wk_obj_find(w, key + before);
		struct tinfo *ti = idx1 ? hs_wk_type_get(w, w->objs[idx1 - 1].type) : NULL;
		if (ti && hs_wk_preheader(w, ti) == before)
			return idx1;
	}
	return 0;
}

/* The entry at e: when its allocation is an object's, that object's site from the most recent
 * frame of its traceback.  False when e cannot be read. */
static bool take_entry(struct walker *w, struct sites *s, uint64_t e)
{
	uint64_t key, trace;
	if (has(w, HS_L_HTE_KEY)) { /* 3.9+: key and value are pointers */
		key = u64(w, e + (uint64_t)w->L.v[HS_L_HTE_KEY]);
		trace = u64(w, e + (uint64_t)w->L.v[HS_L_HTE_VALUE]);
	} else { /* 3.8: key then trace inline after the entry */
		uint64_t k = e + (uint64_t)w->L.v[HS_L_HTE_SIZE];
		uint32_t domain = 0;
		if (s->key_size == 12 && !rd(w, k + 8, &domain, 4))
			return false;
		if (domain)
			return true;
		key = u64(w, k);
		trace = k + s->key_size;
	}
	if (!key || !trace)
		return false;
	uint64_t idx1 = object_at(w, key);
	if (!idx1)
		return true;
	uint64_t tb = u64(w, trace + (uint64_t)w->L.v[HS_L_TRACE_TRACEBACK]);
	uint16_t nframe = 0;
	if (!tb || !rd(w, tb + (uint64_t)w->L.v[HS_L_TMTB_NFRAME], &nframe, 2))
		return false;
	if (!nframe)
		return true;
	uint64_t frame = tb + (uint64_t)w->L.v[HS_L_TMTB_FRAMES];
	uint32_t line = 0;
	if (!rd(w, frame + (uint64_t)w->L.v[HS_L_TMF_LINENO], &line, 4))
		return false;
	w->site_file[idx1 - 1] = file_id(w, s, u64(w, frame + (uint64_t)w->L.v[HS_L_TMF_FILENAME]));
	w->site_line[idx1 - 1] = w->site_file[idx1 - 1] ? line : 0;
	return true;
}

/* The chain from head.  A chain that loops (Brent's cycle check: mark moves to the entries at
 * steps 1, 2, 4, ...) or whose next entry is unreadable or misaligned is left there, with a
 * warning naming the entry; false when the chains hold more entries than the table counts
 * (then no chain can be trusted to end). */
static bool take_chain(struct walker *w, struct sites *s, uint64_t head)
{
	uint64_t mark = 0, power = 1, steps = 0;
	for (uint64_t e = head; e; e = u64(w, e)) {
		const char *bad = e == mark              ? "in a loop"
		                  : e % 8                ? "misaligned"
		                  : !take_entry(w, s, e) ? "unreadable"
		                                         : NULL;
		if (bad) {
			damaged(w,
			        "tracemalloc's traces table 0x%llx: entry 0x%llx is %s; the rest "
			        "of its chain is skipped",
			        (unsigned long long)s->table, (unsigned long long)e, bad);
			return true;
		}
		if (++s->seen > s->nentries) {
			damaged(w,
			        "tracemalloc's traces table 0x%llx: its chains hold more than its "
			        "%llu entries (at entry 0x%llx); the sites read before are kept",
			        (unsigned long long)s->table, (unsigned long long)s->nentries,
			        (unsigned long long)e);
			return false;
		}
		if (++steps == power) {
			mark = e;
			power *= 2;
			steps = 0;
		}
	}
	return true;
}

struct hs_error *hs_wk_read_sites(struct walker *w)
{
	struct sites *s = calloc(1, sizeof(*s));
	if (!s)
		return &hs_error_nomem;
	if (!find_table(w, &s->table) || !read_header(w, s)) {
		free(s);
		return NULL;
	}
	w->site_file = calloc(w->nobjs + 1, sizeof(*w->site_file));
	w->site_line = calloc(w->nobjs + 1, sizeof(*w->site_line));
	struct hs_error *err = nomem_if(!w->site_file || !w->site_line);
	uint64_t heads[BUCKETS_PER_READ];
	for (uint64_t b = 0; !err && b < s->nbuckets; b += BUCKETS_PER_READ) {
		uint64_t n =
		    s->nbuckets - b < BUCKETS_PER_READ ? s->nbuckets - b : BUCKETS_PER_READ;
		if (!rd(w, s->buckets + b * 8, heads, n * 8)) {
			damaged(w,
			        "tracemalloc's traces table 0x%llx: its buckets at 0x%llx are "
			        "unreadable; the sites read before them are kept",
			        (unsigned long long)s->table,
			        (unsigned long long)(s->buckets + b * 8));
			break;
		}
		bool ok = true;
		for (uint64_t i = 0; ok && i < n; i++)
			ok = take_chain(w, s, heads[i]);
		if (!ok)
			break;
		err = hs_memsrc_tick(w->m);
	}
	free(s);
	return err;
}

struct hs_error *hs_wk_write_site(struct walker *w, struct hs_writer *wr, uint64_t idx,
                                  const uint32_t *sid)
{
	if (!w->site_file)
		return NULL;
	uint32_t f = w->site_file[idx];
	return hs_writer_site(wr, f ? (uint64_t)sid[f - 1] + 1 : 0, w->site_line[idx]);
}
