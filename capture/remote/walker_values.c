/*
 * walker_values.c — what the snapshot previews of value objects, read as the in-process writer
 * writes them: a str's text (and its sys.getsizeof size), bytes' repr, an int's value or bit
 * count (and its size), a float's raw double, None and bools; and the runtime's version from
 * sys.version.
 */
#include <assert.h>

#include "walker_internal.h"

/* The str's text as UTF-8 into buf (at most size-1 bytes); returns its length. */
size_t hs_wk_str_text(struct walker *w, uint64_t o, char *buf, size_t size, uint64_t *sizeof_ret)
{
	uint32_t state = 0;
	rd(w, o + (uint64_t)w->L.v[HS_L_ASCII_STATE], &state, 4);
	unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
	int64_t len = (int64_t)fld(w, o, HS_L_ASCII_LENGTH);
	if (len < 0 || len > (1ll << 40))
		len = 0;
	uint64_t data;
	uint64_t sz;
	if (compact && ascii) {
		data = o + (uint64_t)w->L.v[HS_L_ASCII_SIZE];
		sz = (uint64_t)w->L.v[HS_L_ASCII_SIZE] + (uint64_t)len + 1;
	} else if (compact) {
		data = o + (uint64_t)w->L.v[HS_L_CUNI_SIZE];
		sz = (uint64_t)w->L.v[HS_L_CUNI_SIZE] + ((uint64_t)len + 1) * kind;
	} else {
		data = fld(w, o, HS_L_UNI_DATA);
		sz = (uint64_t)w->L.v[HS_L_UNI_SIZE] + (data ? ((uint64_t)len + 1) * kind : 0);
	}
	if (!(compact && ascii)) {
		uint64_t utf8 = fld(w, o, HS_L_CUNI_UTF8);
		if (utf8 && utf8 != data)
			sz += fld(w, o, HS_L_CUNI_UTF8_LENGTH) + 1;
	}
	if (w->minor <= 11) {
		uint64_t wstr = fld(w, o, HS_L_ASCII_WSTR);
		bool ready = (state >> 7) & 1;
		/* An ASCII str has no wstr_length: its wstr is as long as it is. */
		uint64_t wlen = compact && ascii ? (uint64_t)len : fld(w, o, HS_L_CUNI_WSTR_LENGTH);
		if (wstr && (!ready || wstr != data))
			sz += (wlen + 1) * 4;
	}
	if (sizeof_ret)
		*sizeof_ret = sz;
	/* As the in-process writer: at most HS_PREVIEW_CHARS characters, then an ellipsis;
	 * surrogates become U+FFFD.  size must hold 4 bytes per character plus 4. */
	size_t n = 0;
	int64_t i = 0;
	for (; i < len && i < HS_PREVIEW_CHARS && n + 8 < size && kind && data; i++) {
		uint32_t c = 0;
		if (!rd(w, data + (uint64_t)i * kind, &c, kind))
			break;
		n += hs_utf8_put(buf + n, c);
	}
	if (i < len && n + 4 <= size) {
		memcpy(buf + n, "\xe2\x80\xa6", 3);
		n += 3;
	}
	buf[n] = 0;
	return n;
}

/* bytes: its repr, cut as the in-process writer cuts it. */
static void bytes_text(struct walker *w, uint64_t o, char *buf)
{
	int64_t len = ob_size(w, o);
	uint8_t p[HS_PREVIEW_CHARS];
	size_t k = len < 0 ? 0 : len > HS_PREVIEW_CHARS ? HS_PREVIEW_CHARS : (size_t)len;
	if (!rd(w, o + (uint64_t)w->L.v[HS_L_BYTES_SVAL], p, k))
		len = 0;
	hs_py_bytes_repr(p, len < 0 ? 0 : (size_t)len, HS_PREVIEW_CHARS, buf);
}

/* int: its size, and its preview: the value when it fits a long long, else its bit count. */
static uint64_t int_info(struct walker *w, uint64_t o, char *buf, size_t size)
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
	uint64_t sz = 24 + (uint64_t)(w->minor >= 11 && ndigits < 1 ? 1 : ndigits) * 4;
	buf[0] = 0;
	if (sign == 0) {
		snprintf(buf, size, "0");
	} else if (ndigits <= 3) {
		uint32_t dg[3] = {0, 0, 0};
		rd(w, o + 24, dg, (size_t)ndigits * 4);
		unsigned __int128 v = (unsigned __int128)dg[0] + ((unsigned __int128)dg[1] << 30) +
		                      ((unsigned __int128)dg[2] << 60);
		/* What fits a long long is printed; larger values get their bit count below. */
		if (sign > 0 ? v <= INT64_MAX : v <= (unsigned __int128)INT64_MAX + 1)
			snprintf(buf, size, "%s%llu", sign < 0 ? "-" : "", (unsigned long long)v);
	}
	if (!buf[0] && ndigits > 0) {
		uint32_t top = 0;
		rd(w, o + 24 + 4 * (uint64_t)(ndigits - 1), &top, 4);
		uint64_t bits =
		    (uint64_t)(ndigits - 1) * 30 + (top ? 32 - (unsigned)__builtin_clz(top) : 0);
		snprintf(buf, size, "<int of %llu bits>", (unsigned long long)bits);
	}
	return sz;
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
		*size = int_info(w, o, vbuf, sizeof(vbuf));
		if (ti->addr == w->bool_type && vbuf[0])
			snprintf(vbuf, sizeof(vbuf), "%s", strcmp(vbuf, "0") ? "True" : "False");
		return vbuf[0] ? hs_wk_set_value(w, idx, vbuf, strlen(vbuf)) : NULL;
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
