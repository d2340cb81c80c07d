/*
 * walker_values.c — what the snapshot previews of value objects: a str's code units (and its
 * sys.getsizeof size), bytes, an int's digits (and its size), a float's raw double, None and
 * bools, read from the target and handed to capture/cpython/preview.h and sizes.h, which the
 * in-process capture uses too; and the runtime's version from sys.version.
 */
#include <assert.h>

#include "walker_internal.h"

/* The code units of the str at o as unicode___sizeof__ and a preview read them. */
struct str_read {
	struct hs_cp_str s;
	uint64_t data; /* its code units, or 0 */
};

static void str_read(struct walker *w, uint64_t o, struct str_read *r)
{
	uint32_t state = 0;
	rd(w, o + (uint64_t)w->L.v[HS_L_ASCII_STATE], &state, 4);
	struct hs_cp_str *s = &r->s;
	*s = (struct hs_cp_str){
	    .kind = (state >> 2) & 7, .compact = (state >> 5) & 1, .ascii = (state >> 6) & 1};
	int64_t len = (int64_t)fld(w, o, HS_L_ASCII_LENGTH);
	s->length = len < 0 || len > (1ll << 40) ? 0 : (uint64_t)len;
	if (s->compact)
		r->data = o + (uint64_t)w->L.v[s->ascii ? HS_L_ASCII_SIZE : HS_L_CUNI_SIZE];
	else
		r->data = fld(w, o, HS_L_UNI_DATA);
	s->has_data = r->data != 0;
	if (!(s->compact && s->ascii)) {
		uint64_t utf8 = fld(w, o, HS_L_CUNI_UTF8);
		s->utf8_apart = utf8 && utf8 != r->data;
		s->utf8_length = s->utf8_apart ? fld(w, o, HS_L_CUNI_UTF8_LENGTH) : 0;
	}
	if (w->minor <= 11) {
		uint64_t wstr = fld(w, o, HS_L_ASCII_WSTR);
		bool ready = (state >> 7) & 1;
		s->wstr_apart = wstr && (!ready || wstr != r->data);
		/* An ASCII str has no wstr_length: its wstr is as long as it is. */
		s->wstr_length =
		    s->compact && s->ascii ? s->length : fld(w, o, HS_L_CUNI_WSTR_LENGTH);
	}
}

/* The str's text as UTF-8 into buf (at most size-1 bytes, at most max characters, as
 * capture/cpython/preview.h writes it); returns its length. */
static size_t str_text(struct walker *w, uint64_t o, char *buf, size_t size, uint64_t max,
                       uint64_t *sizeof_ret)
{
	struct str_read r;
	str_read(w, o, &r);
	if (sizeof_ret)
		*sizeof_ret = hs_cp_str_sizeof(&r.s, w->minor);
	assert(size >= HS_CP_TEXT_BYTES(1) && max <= HS_CP_NAME_CHARS);
	unsigned kind = r.s.kind;
	bool ascii = r.s.compact && r.s.ascii;
	/* As many characters as buf holds in UTF-8 at most, with an ellipsis and a NUL. */
	uint64_t per = ascii ? 1 : kind == 1 ? 2 : kind == 2 ? 3 : 4;
	max = (size - 8) / per < max ? (size - 8) / per : max;
	uint64_t lim = r.s.length < max ? r.s.length : max;
	uint32_t units[HS_CP_NAME_CHARS];
	size_t n = 0;
	if ((kind == 1 || kind == 2 || kind == 4) && r.data && rd(w, r.data, units, lim * kind))
		n = hs_cp_str_text(units, kind, ascii, r.s.length, max, buf);
	buf[n] = 0;
	return n;
}

/* The str's text as UTF-8 into buf (at most size-1 bytes, at most HS_PREVIEW_CHARS characters);
 * returns its length. */
size_t hs_wk_str_text(struct walker *w, uint64_t o, char *buf, size_t size, uint64_t *sizeof_ret)
{
	return str_text(w, o, buf, size, HS_PREVIEW_CHARS, sizeof_ret);
}

/* The name the str at o holds, into buf (HS_WK_NAME_BYTES): its first HS_CP_NAME_CHARS
 * characters as the in-process capture's root and type names keep them, or "?" when o is not a
 * str. */
const char *hs_wk_name_at(struct walker *w, uint64_t o, char *buf)
{
	uint64_t rc;
	struct tinfo *ti = hs_wk_obj_check(w, o, &rc);
	if (!ti || ti->kind != K_STR)
		return "?";
	str_text(w, o, buf, HS_WK_NAME_BYTES, HS_CP_NAME_CHARS, NULL);
	return buf;
}

/* bytes: its repr, cut as capture/cpython/preview.h cuts it. */
static void bytes_text(struct walker *w, uint64_t o, char *buf)
{
	int64_t len = ob_size(w, o);
	uint8_t p[HS_PREVIEW_CHARS];
	size_t k = len < 0 ? 0 : len > HS_PREVIEW_CHARS ? HS_PREVIEW_CHARS : (size_t)len;
	if (!rd(w, o + (uint64_t)w->L.v[HS_L_BYTES_SVAL], p, k))
		len = 0;
	hs_cp_bytes_text(p, len < 0 ? 0 : (size_t)len, buf);
}

/* int: its size and its preview (capture/cpython/sizes.h and preview.h). */
static uint64_t int_info(struct walker *w, uint64_t o, char *buf)
{
	int64_t ndigits;
	int sign;
	if (w->minor >= 12) {
		uint64_t tag = fld(w, o, HS_L_LONG_LV_TAG);
		ndigits = (int64_t)(tag >> 3);
		sign = (tag & 3) == 0 ? 1 : (tag & 3) == 1 ? 0 : -1;
	} else {
		int64_t s = ob_size(w, o);
		ndigits = s < 0 ? -s : s;
		sign = s < 0 ? -1 : s > 0;
	}
	if (ndigits < 0 || ndigits > (1ll << 40))
		ndigits = 0;
	uint32_t low[3] = {0, 0, 0}, top = 0;
	uint64_t digits = o + HS_CP_INT_HEADER;
	rd(w, digits, low, (size_t)(ndigits < 3 ? ndigits : 3) * HS_CP_DIGIT_SIZE);
	if (ndigits > 0)
		rd(w, digits + HS_CP_DIGIT_SIZE * (uint64_t)(ndigits - 1), &top, HS_CP_DIGIT_SIZE);
	hs_cp_int_text(sign, (uint64_t)ndigits, low, top, buf);
	return hs_cp_int_sizeof((uint64_t)ndigits, w->minor);
}

/* The preview of the float (or instance of a float subclass) at o. */
struct hs_error *hs_wk_float_value(struct walker *w, uint64_t idx, uint64_t o)
{
	double d = 0;
	rd(w, o + (uint64_t)w->L.v[HS_L_FLOAT_FVAL], &d, 8);
	struct hs_error *err = hs_wk_set_value(w, idx, (const char *)&d, 8);
	if (!err)
		memcpy(w->vals + w->objs[idx].value - 1, &(uint16_t){HS_VAL_FLOAT}, 2);
	return err;
}

/* The kinds with a value preview and no references: None, str, int and bool, float, bytes. */
struct hs_error *hs_wk_walk_value(struct walker *w, uint64_t idx, uint64_t o, enum kind kind,
                                  const struct tinfo *ti, uint64_t *size)
{
	char vbuf[4 * HS_PREVIEW_CHARS + 16];
	switch (kind) {
	case K_NONE:
		return hs_wk_set_value(w, idx, "None", strlen("None"));
	case K_STR:
		return hs_wk_set_value(w, idx, vbuf,
		                       hs_wk_str_text(w, o, vbuf, sizeof(vbuf), size));
	case K_INT:
		*size = int_info(w, o, vbuf);
		if (ti->addr == w->bool_type)
			snprintf(vbuf, sizeof(vbuf), "%s", hs_cp_bool_text(strcmp(vbuf, "0")));
		return hs_wk_set_value(w, idx, vbuf, strlen(vbuf));
	case K_FLOAT:
		return hs_wk_float_value(w, idx, o);
	default:
		assert(kind == K_BYTES);
		bytes_text(w, o, vbuf);
		return hs_wk_set_value(w, idx, vbuf, strlen(vbuf));
	}
}

/* The text of the str at o into buf; false when o is not a str. */
bool hs_wk_str_at(struct walker *w, uint64_t o, char *buf, size_t size)
{
	uint64_t rc;
	struct tinfo *ti = hs_wk_obj_check(w, o, &rc);
	if (!ti || ti->kind != K_STR)
		return false;
	hs_wk_str_text(w, o, buf, size, NULL);
	return true;
}

/* The interpreter's version from sys.version (its first word), into buf. */
void hs_wk_runtime_version(struct walker *w, char *buf, size_t size)
{
	snprintf(buf, size, "3.%d", w->minor);
	char v[4 * HS_PREVIEW_CHARS + 16];
	if (!hs_wk_str_at(w, hs_wk_dict_get_str(w, w->sysdict, "version"), v, sizeof(v)))
		return;
	size_t n = strcspn(v, " ");
	if (v[0] != '3')
		return;
	n = n < size ? n : size - 1;
	memcpy(buf, v, n);
	buf[n] = 0;
}
