/*
 * pack.c — packed section payloads (FORMAT.md §2.4): a payload stored as its length and one
 * Zstandard frame, written by writer.c (hs_pack) and read back by reader.c (hs_unpack).
 *
 * Packing is what makes a snapshot small: object records, edges and value previews repeat
 * (types, attribute labels, neighbouring indexes, the zeros of a bytes repr), and level 1 of
 * Zstandard takes them to about a sixth at a few hundred MB/s per thread.  The reader's
 * trust model holds: the length is bounded (HS_PACK_MAX) before anything is allocated, the frame
 * must declare exactly that length and fill the rest of the payload, and it must decompress to
 * exactly that many bytes.
 *
 * A packer's compression context outlives it: hs_packer_free leaves it for the next packer to
 * take (spare_cctx), so that a process writing one snapshot after another (heapsnap.dump) does
 * not page-fault a fresh context's megabyte of tables into being every time.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <zstd.h>

#include "format.h"
#include "hsnap.h"

/* The context of the last packer freed, set to HS_PACK_LEVEL, or NULL; any thread may take it. */
static _Atomic(ZSTD_CCtx *) spare_cctx;

bool hs_pack(struct hs_packer *pk, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen + blen;
	if (n < HS_PACK_MIN || n > HS_PACK_MAX)
		return false;
	if (!pk->cctx)
		pk->cctx = atomic_exchange(&spare_cctx, NULL);
	if (!pk->cctx) {
		ZSTD_CCtx *c =
		    ZSTD_createCCtx(); /* set before it is kept (it may become the spare) */
		if (!c || ZSTD_isError(
		              ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, HS_PACK_LEVEL))) {
			ZSTD_freeCCtx(c);
			return false;
		}
		pk->cctx = c;
	}
	size_t cap = 10 + ZSTD_compressBound(n);
	if (pk->cap < cap) { /* not realloc: the old payload need not be copied */
		free(pk->out);
		pk->cap = 0;
		if (!(pk->out = malloc(cap)))
			return false;
		pk->cap = cap;
	}
	size_t k = hs_varint_put(pk->out, n);
	ZSTD_CCtx_reset(pk->cctx, ZSTD_reset_session_only);
	if (ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(pk->cctx, n)))
		return false;
	ZSTD_outBuffer out = {pk->out + k, cap - k, 0};
	ZSTD_inBuffer in = {a, alen, 0};
	while (in.pos < in.size)
		if (ZSTD_isError(ZSTD_compressStream2(pk->cctx, &out, &in, ZSTD_e_continue)))
			return false;
	in = (ZSTD_inBuffer){b, blen, 0};
	for (;;) {
		size_t left = ZSTD_compressStream2(pk->cctx, &out, &in, ZSTD_e_end);
		if (ZSTD_isError(left) || (left && out.pos == out.size))
			return false;
		if (!left)
			break;
	}
	pk->len = k + out.pos;
	return pk->len < n; /* else storing it as is is smaller */
}

void hs_packer_free(struct hs_packer *pk)
{
	ZSTD_freeCCtx(atomic_exchange(&spare_cctx, pk->cctx));
	free(pk->out);
	*pk = (struct hs_packer){0};
}

const char *hs_unpack(const uint8_t *p, uint64_t len, uint8_t **ret, uint64_t *ret_len)
{
	uint64_t n;
	size_t k = hs_varint_get(p, p + len, &n);
	if (!k)
		return "packed payload: truncated or malformed length";
	if (n > HS_PACK_MAX)
		return "packed payload: length above 2^24";
	const uint8_t *frame = p + k;
	size_t flen = (size_t)(len - k);
	if (ZSTD_getFrameContentSize(frame, flen) != n)
		return "packed payload: the frame does not declare the payload's length";
	if (ZSTD_findFrameCompressedSize(frame, flen) != flen)
		return "packed payload: not one whole frame filling the payload";
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return NULL;
	size_t got = ZSTD_decompress(buf, n, frame, flen);
	if (ZSTD_isError(got) || got != n) {
		free(buf);
		return "packed payload: the frame does not decompress";
	}
	*ret = buf;
	*ret_len = n;
	return "";
}
