/*
 * walker_dicts.c — dicts in the target: their key tables (3.8-3.10's and 3.11+'s layouts, combined
 * and split, general and unicode), a dict's edges and size as dict_traverse and sys.getsizeof see
 * them, hs_wk_dict for the kind files, and lookups of a str key (module attributes, a type's
 * __module__ and __sizeof__, sys.version).
 */
#include "walker_internal.h"

bool hs_wk_dkeys_read(struct walker *w, uint64_t k, struct dkeys *d)
{
	uint8_t hdr[64];
	size_t hdr_len = (size_t)w->L.v[HS_L_DK_INDICES];
	if (!k || (k & 7) || hdr_len > sizeof(hdr) || !rd(w, k, hdr, hdr_len))
		return false;
	memset(d, 0, sizeof(*d));
	d->addr = k;
	d->refcnt = (int64_t)fld(w, k, HS_L_DK_REFCNT);
	d->nentries = fld(w, k, HS_L_DK_NENTRIES);
	d->usable = (int64_t)fld(w, k, HS_L_DK_USABLE);
	uint64_t indices = k + (uint64_t)w->L.v[HS_L_DK_INDICES];
	if (w->minor <= 10) {
		d->size = fld(w, k, HS_L_DK_SIZE);
		if (!d->size || (d->size & (d->size - 1)) || d->size > (1ull << 40))
			return false;
		unsigned ix = d->size <= 0xff         ? 1
		              : d->size <= 0xffff     ? 2
		              : d->size <= 0xffffffff ? 4
		                                      : 8;
		d->general = fld(w, k, HS_L_DK_LOOKUP) == w->sym[SYM_LOOKDICT];
		d->entry_size = 24;
		d->entries = indices + d->size * ix;
		d->keys_size =
		    (uint64_t)w->L.v[HS_L_DK_INDICES] + ix * d->size + 24 * ((d->size * 2) / 3);
	} else {
		uint8_t b[3] = {0};
		rd(w, k + (uint64_t)w->L.v[HS_L_DK_LOG2_SIZE], &b[0], 1);
		rd(w, k + (uint64_t)w->L.v[HS_L_DK_LOG2_INDEX_BYTES], &b[1], 1);
		rd(w, k + (uint64_t)w->L.v[HS_L_DK_KIND], &b[2], 1);
		if (b[0] > 40 || b[1] > 43)
			return false;
		d->size = 1ull << b[0];
		d->index_bytes_log2 = b[1];
		d->general = b[2] == HS_DICT_KEYS_GENERAL;
		d->entry_size = d->general ? 24 : 16;
		d->entries = indices + (1ull << b[1]);
		d->keys_size = (uint64_t)w->L.v[HS_L_DK_INDICES] + (1ull << b[1]) +
		               ((d->size * 2) / 3) * d->entry_size;
	}
	if (d->nentries > d->size)
		return false;
	return true;
}

uint64_t hs_wk_entry_key(struct walker *w, const struct dkeys *d, uint64_t i)
{
	return u64(w, d->entries + i * d->entry_size + (d->entry_size == 24 ? 8 : 0));
}

static uint64_t entry_value(struct walker *w, const struct dkeys *d, uint64_t i)
{
	return u64(w, d->entries + i * d->entry_size + (d->entry_size == 24 ? 16 : 8));
}

/* The values array of a split dict (3.11/3.12: the values pointer itself; 3.13: its values
 * member). */
static uint64_t split_values(struct walker *w, uint64_t values)
{
	return values + (uint64_t)(w->L.v[HS_L_DV_VALUES] > 0 ? w->L.v[HS_L_DV_VALUES] : 0);
}

/* keys_visited: the type's traverse visits every key itself (OrderedDict), so each key of a
 * table that is not split has a traverse edge labelled <key>, and a general table's keys a second,
 * unlabelled one (dict_traverse's), as the in-process capture labels them. */
struct hs_error *hs_wk_dict_edges(struct walker *w, uint64_t src, uint64_t o, uint64_t *size,
                                  const struct tinfo *ti, bool keys_visited)
{
	uint64_t keys = fld(w, o, HS_L_DICT_KEYS), values = fld(w, o, HS_L_DICT_VALUES);
	struct dkeys d;
	if (!hs_wk_dkeys_read(w, keys, &d)) {
		hs_wk_warn(w, "dict at 0x%llx: unreadable keys at 0x%llx", (unsigned long long)o,
		           (unsigned long long)keys);
		return NULL;
	}
	*size = ti->basicsize;
	if (values)
		*size += (w->minor <= 10 ? (d.size * 2) / 3 : d.nentries + (uint64_t)d.usable) * 8;
	if (d.refcnt == 1)
		*size += d.keys_size;
	bool embedded = false;
	if (values && w->minor >= 13) {
		uint8_t e = 0;
		rd(w, values + (uint64_t)w->L.v[HS_L_DV_EMBEDDED], &e, 1);
		embedded = e != 0;
	}
	uint64_t vals = values ? split_values(w, values) : 0;
	struct hs_error *err = NULL;
	for (uint64_t i = 0; i < d.nentries && !err; i++) {
		uint64_t k = hs_wk_entry_key(w, &d, i);
		uint64_t v = vals ? u64(w, vals + i * 8) : entry_value(w, &d, i);
		if (!k || !v)
			continue;
		uint8_t kind = embedded ? HS_EDGE_OWNED : HS_EDGE_TRAVERSE;
		err = hs_wk_edge_label(w, src, v, kind, HS_LABEL_KEY, k);
		/* A split table's keys belong to the type's shared keys, not to the dict. */
		if (!err && !vals)
			err = hs_wk_edge(w, src, k,
			                 (d.general && !embedded) || keys_visited ? HS_EDGE_TRAVERSE
			                                                          : HS_EDGE_OWNED,
			                 hs_cp_label(HS_CP_KEY));
		if (!err && keys_visited && (vals || (d.general && !embedded)))
			err = hs_wk_edge(w, src, k, HS_EDGE_TRAVERSE, "");
	}
	return err;
}

struct hs_error *hs_wk_dict(struct walker *w, uint64_t src, uint64_t o, uint64_t type,
                            bool keys_visited, uint64_t *size)
{
	const struct tinfo *ti = hs_wk_type_get(w, type);
	return ti ? hs_wk_dict_edges(w, src, o, size, ti, keys_visited) : NULL;
}

/* The value of the str key `key` in the dict at dict (combined or split table), or 0. */
uint64_t hs_wk_dict_get_str_raw(struct walker *w, uint64_t dict, const char *key)
{
	uint64_t rc;
	struct tinfo *ti = hs_wk_obj_check(w, dict, &rc);
	struct dkeys d;
	if (!ti || ti->kind != K_DICT || !hs_wk_dkeys_read(w, fld(w, dict, HS_L_DICT_KEYS), &d))
		return 0;
	uint64_t values = fld(w, dict, HS_L_DICT_VALUES); /* a split table's (an instance dict) */
	uint64_t vals = values ? split_values(w, values) : 0;
	size_t klen = strlen(key);
	for (uint64_t i = 0; i < d.nentries && i < 4096; i++) {
		char k[4 * HS_PREVIEW_CHARS + 16];
		uint64_t kaddr = hs_wk_entry_key(w, &d, i);
		struct tinfo *kti = kaddr ? hs_wk_obj_check(w, kaddr, &rc) : NULL;
		if (!kti || kti->kind != K_STR ||
		    hs_wk_str_text(w, kaddr, k, sizeof(k), NULL) != klen ||
		    memcmp(k, key, klen) != 0)
			continue;
		return vals ? u64(w, vals + i * 8) : entry_value(w, &d, i);
	}
	return 0;
}

/* The same, when the value is an object. */
uint64_t hs_wk_dict_get_str(struct walker *w, uint64_t dict, const char *key)
{
	uint64_t rc, v = hs_wk_dict_get_str_raw(w, dict, key);
	return v && hs_wk_obj_check(w, v, &rc) ? v : 0;
}
