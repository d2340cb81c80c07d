/*
 * test_corruption.c — a valid multi-chunk snapshot, damaged on purpose: truncated at every
 * section boundary and at random offsets, bits flipped in every section and in the trailer.
 * Each damaged file must be rejected with the exact error naming the offset of the damage, and
 * with salvage allowed must give the complete chunks before the damage (or a clear error), never
 * a crash or a hang.  The section walk here is written from FORMAT.md, not from reader.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "snapshot_maker.h"

struct sec {
	uint64_t offset, len; /* len: the whole record, head + payload + CRC */
	uint8_t kind;
	uint64_t edges_run_end; /* for EDGES sections: first + count of the run */
	uint64_t run_count;     /* for OBJECTS and EDGES sections: count of the run */
};

static uint8_t *orig;
static size_t orig_len;
static struct sec secs[256];
static size_t nsecs;
static char *src_path, *bad_path;
static uint64_t total_objects;

/* FORMAT.md §3: after the 16-byte file header, records of kind u8, length u64 LE, payload,
 * CRC u32, until the INDEX; then the 16-byte trailer. */
static void walk(void)
{
	uint64_t off = 16;
	nsecs = 0;
	for (;;) {
		uint64_t len = 0;
		for (int i = 7; i >= 0; i--)
			len = (len << 8) | orig[off + 1 + i];
		/* Kind bit 0x80: a packed payload, its length and one Zstandard frame (§2.4). */
		struct sec s = {off, 9 + len + 4, orig[off] & 0x7f, 0, 0};
		if (s.kind == 5 || s.kind == 6) { /* OBJECTS, EDGES: varint first, varint count */
			uint64_t first, count, n = len;
			const uint8_t *p = orig + off + 9, *end = p + len;
			uint8_t prefix[32];
			if (orig[off] & 0x80) {
				size_t k = hs_varint_get(p, end, &n);
				uint8_t *all = malloc(n);
				ck_assert_uint_eq(ZSTD_decompress(all, n, p + k, len - k), n);
				memcpy(prefix, all, sizeof(prefix));
				free(all);
				p = prefix;
				end = prefix + sizeof(prefix);
			}
			p += hs_varint_get(p, end, &first);
			hs_varint_get(p, end, &count);
			s.run_count = count;
			if (s.kind == 6)
				s.edges_run_end = first + count;
		}
		ck_assert_uint_lt(nsecs, 256);
		secs[nsecs++] = s;
		off += s.len;
		if (s.kind == 10)
			break;
	}
	ck_assert_uint_eq(off + 16, orig_len);
}

static void setup(void)
{
	src_path = maker_path("corrupt-src.hsnap");
	bad_path = maker_path("corrupt-bad.hsnap");
	total_objects = 70000; /* two chunks of 65536: enough to cut between runs */
	make_snapshot(src_path, total_objects);
	orig = read_all(src_path, &orig_len);
	walk();
}

static void teardown(void)
{
	unlink(src_path);
	unlink(bad_path);
	free(src_path);
	free(bad_path);
	free(orig);
}

/* Opens bad_path strictly (must fail) and returns the message after "PATH: ". */
static char *strict_error(void)
{
	struct hs_snapshot *s = NULL;
	struct hs_error *err = hs_snapshot_open(bad_path, false, &s);
	ck_assert_msg(err != NULL, "damaged file accepted");
	size_t plen = strlen(bad_path);
	ck_assert_msg(strncmp(err->message, bad_path, plen) == 0 && err->message[plen] == ':',
	              "error does not name the file: %s", err->message);
	char *msg = strdup(err->message + plen + 2);
	hs_error_destroy(err);
	return msg;
}

/* Salvage: either an error or a consistent partial snapshot with a warning. */
static int64_t salvage_objects(void)
{
	struct hs_snapshot *s = NULL;
	struct hs_error *err = hs_snapshot_open(bad_path, true, &s);
	if (err) {
		hs_error_destroy(err);
		return -1;
	}
	ck_assert_ptr_nonnull(s->salvage_warning);
	for (uint64_t e = 0; e < s->nedges; e++)
		ck_assert_uint_lt(s->edge_dst[e], s->nobjects);
	for (uint64_t i = 0; i < s->nobjects; i++)
		ck_assert_uint_le(s->edge_start[i], s->edge_start[i + 1]);
	ck_assert_uint_eq(s->edge_start[s->nobjects], s->nedges);
	for (uint64_t i = 0; i < s->nroots; i++)
		ck_assert_uint_lt(s->roots[i].obj, s->nobjects);
	int64_t n = (int64_t)s->nobjects;
	hs_snapshot_destroy(s);
	return n;
}

START_TEST(truncated_at_every_section_boundary)
{
	for (size_t k = 1; k <= nsecs; k++) {
		uint64_t cut =
		    k < nsecs ? secs[k].offset : secs[nsecs - 1].offset + secs[nsecs - 1].len;
		write_all(bad_path, orig, cut);
		char *msg = strict_error();
		char want[160];
		if (k < nsecs)
			snprintf(want, sizeof(want),
			         "offset %llu: truncated: no section header or end marker here",
			         (unsigned long long)cut);
		else
			snprintf(
			    want, sizeof(want),
			    "offset %llu: expected the 16-byte trailer after the INDEX, found 0 "
			    "bytes",
			    (unsigned long long)cut);
		ck_assert_str_eq(msg, want);
		free(msg);
		/* Salvage keeps the objects of every EDGES run that ended before the cut. */
		uint64_t expect = 0;
		for (size_t j = 0; j < k; j++)
			if (secs[j].kind == 6)
				expect = secs[j].edges_run_end;
		ck_assert_int_eq(salvage_objects(), (int64_t)expect);
	}
}
END_TEST

START_TEST(truncated_at_random_offsets)
{
	srand(20261122);
	for (int i = 0, n = (int)test_size(60, 8); i < n; i++) {
		uint64_t cut = (uint64_t)rand() % orig_len;
		write_all(bad_path, orig, cut);
		char *msg = strict_error();
		ck_assert_msg(strncmp(msg, "offset ", 7) == 0, "cut %llu: %s",
		              (unsigned long long)cut, msg);
		free(msg);
		salvage_objects();
	}
}
END_TEST

START_TEST(bit_flips_in_every_section)
{
	srand(7);
	uint8_t *copy = malloc(orig_len);
	for (size_t k = 0; k < nsecs; k++) {
		for (int rep = 0, n = (int)test_size(4, 2); rep < n; rep++) {
			/* Flip a bit of the kind, the length, the payload or the CRC. */
			uint64_t at = secs[k].offset + (uint64_t)rand() % secs[k].len;
			if (rep == 0)
				at = secs[k].offset; /* the kind byte */
			memcpy(copy, orig, orig_len);
			copy[at] ^= (uint8_t)(1u << (rand() % 8));
			write_all(bad_path, copy, orig_len);
			char *msg = strict_error();
			char want[64];
			snprintf(want, sizeof(want),
			         "offset %llu: ", (unsigned long long)secs[k].offset);
			ck_assert_msg(strncmp(msg, want, strlen(want)) == 0 &&
			                  (strstr(msg, "checksum mismatch") ||
			                   strstr(msg, "runs past the end")),
			              "flip at %llu in section %zu: %s", (unsigned long long)at, k,
			              msg);
			free(msg);
			salvage_objects();
		}
	}
	/* The trailer: the INDEX offset, then the end marker. */
	static const char *trailer_errors[] = {"trailer names the INDEX at", "end marker missing"};
	for (int part = 0; part < 2; part++) {
		memcpy(copy, orig, orig_len);
		copy[orig_len - 16 + 8 * part] ^= 1;
		write_all(bad_path, copy, orig_len);
		char *msg = strict_error();
		ck_assert_msg(strstr(msg, trailer_errors[part]), "%s", msg);
		free(msg);
		/* Every section is whole: salvage gives everything. */
		ck_assert_int_eq(salvage_objects(), (int64_t)total_objects);
	}
	free(copy);
}
END_TEST

/* Damage inside one section's payload (its length intact): a salvage skips that section and
 * keeps every other, so only the objects of a damaged OBJECTS or EDGES run are lost. */
START_TEST(salvage_keeps_the_other_sections)
{
	uint8_t *copy = malloc(orig_len);
	for (size_t k = 1; k + 1 < nsecs; k++) {
		if (secs[k].kind == 2 || secs[k].kind == 3)
			continue; /* lost strings or types make the objects naming them undecodable
			           */
		memcpy(copy, orig, orig_len);
		copy[secs[k].offset + 9 + (secs[k].len - 13) / 2] ^= 0x10;
		write_all(bad_path, copy, orig_len);
		free(strict_error());
		uint64_t lost = secs[k].kind == 5 || secs[k].kind == 6 ? secs[k].run_count : 0;
		ck_assert_msg(salvage_objects() == (int64_t)(total_objects - lost),
		              "section %zu (kind %u) damaged", k, secs[k].kind);
	}
	free(copy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("corruption");
	TCase *tc = tcase_create("corruption");
	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, truncated_at_every_section_boundary);
	tcase_add_test(tc, truncated_at_random_offsets);
	tcase_add_test(tc, bit_flips_in_every_section);
	tcase_add_test(tc, salvage_keeps_the_other_sections);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
