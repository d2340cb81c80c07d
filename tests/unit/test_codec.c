/*
 * test_codec.c — unit tests of dumpfmt's building blocks: varints, zigzag, CRC-32C, JSON strings,
 * the keyed sort.
 * Table-driven: each case is one line of input and expected output.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "hsnap.h"

static const struct {
	uint64_t v;
	size_t len;
	uint8_t bytes[10];
} varints[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {127, 1, {0x7f}},
    {128, 2, {0x80, 0x01}},
    {300, 2, {0xac, 0x02}},
    {16383, 2, {0xff, 0x7f}},
    {16384, 3, {0x80, 0x80, 0x01}},
    {UINT32_MAX, 5, {0xff, 0xff, 0xff, 0xff, 0x0f}},
    {UINT64_MAX, 10, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
};

START_TEST(varint_encodes)
{
	uint8_t buf[10];
	size_t n = hs_varint_put(buf, varints[_i].v);
	ck_assert_uint_eq(n, varints[_i].len);
	ck_assert_mem_eq(buf, varints[_i].bytes, n);
	uint64_t v;
	ck_assert_uint_eq(hs_varint_get(buf, buf + n, &v), n);
	ck_assert_uint_eq(v, varints[_i].v);
	/* One byte short is truncated. */
	ck_assert_uint_eq(hs_varint_get(buf, buf + n - 1, &v), 0);
}
END_TEST

START_TEST(varint_rejects_malformed)
{
	uint64_t v;
	/* Eleven continuation bytes: too long. */
	uint8_t longer[11];
	memset(longer, 0x80, sizeof(longer));
	ck_assert_uint_eq(hs_varint_get(longer, longer + sizeof(longer), &v), 0);
	/* Ten bytes whose last carries more than the 64th bit: overflow. */
	uint8_t over[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
	ck_assert_uint_eq(hs_varint_get(over, over + 10, &v), 0);
	/* Empty input. */
	ck_assert_uint_eq(hs_varint_get(over, over, &v), 0);
}
END_TEST

static const struct {
	int64_t v;
	uint64_t z;
} zigzags[] = {
    {0, 0}, {-1, 1}, {1, 2}, {-2, 3}, {2, 4}, {INT64_MAX, UINT64_MAX - 1}, {INT64_MIN, UINT64_MAX}};

START_TEST(zigzag_maps)
{
	ck_assert_uint_eq(hs_zigzag(zigzags[_i].v), zigzags[_i].z);
	ck_assert_int_eq(hs_unzigzag(zigzags[_i].z), zigzags[_i].v);
}
END_TEST

START_TEST(crc32c_vectors)
{
	/* The standard check value of CRC-32C (RFC 3720 appendix, "123456789"). */
	ck_assert_uint_eq(hs_crc32c(0, "123456789", 9), 0xe3069283u);
	ck_assert_uint_eq(hs_crc32c(0, "", 0), 0);
	/* 32 zero bytes: RFC 3720 B.4. */
	uint8_t zeros[32] = {0};
	ck_assert_uint_eq(hs_crc32c(0, zeros, 32), 0x8a9136aau);
	/* Incremental equals one shot, across lengths that exercise the 8-byte loop and tail. */
	char buf[1000];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	for (size_t split = 0; split < 40; split++)
		ck_assert_uint_eq(hs_crc32c(hs_crc32c(0, buf, split), buf + split, 997 - split),
		                  hs_crc32c(0, buf, 997));
}
END_TEST

static const struct {
	const char *in;
	size_t len;
	const char *out;
} jsons[] = {
    {"plain", 5, "\"plain\""},
    {"q\"b\\", 4, "\"q\\\"b\\\\\""},
    {"\n\t\x01", 3, "\"\\n\\t\\u0001\""},
    {"caf\xc3\xa9", 5, "\"caf\xc3\xa9\""},
    {"bad\xff", 4, "\"bad\xef\xbf\xbd\""},
    {"\xe2\x82", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},                 /* truncated sequence */
    {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* a surrogate */
};

START_TEST(json_string_escapes)
{
	char *buf;
	size_t size;
	FILE *f = open_memstream(&buf, &size);
	hs_json_string(f, jsons[_i].in, jsons[_i].len);
	fclose(f);
	ck_assert_str_eq(buf, jsons[_i].out);
	free(buf);
}
END_TEST

static int by_key_then_index(const void *x, const void *y)
{
	const struct hs_keyed *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

/* Key sets for the sort: {count, mask of the bits that vary, fixed bits}. */
static const struct {
	size_t n;
	uint64_t vary, fixed;
} sorts[] = {
    {0, ~0ull, 0},
    {1, ~0ull, 0},
    {1000, 0, 0x7f0000001000ull},              /* all equal */
    {100000, 0xffffff8ull, 0x7f1200000000ull}, /* addresses of one heap */
    {100000, ~0ull, 0},                        /* every bit */
    {100000, 0xf00000000000000full, 0},        /* two far digits, many ties */
};

/* hs_sort_keyed against qsort by (key, original index): sorted and stable. */
START_TEST(sort_keyed_matches_qsort)
{
	size_t n = sorts[_i].n;
	struct hs_keyed *v = malloc((n + 1) * sizeof(*v)), *tmp = malloc((n + 1) * sizeof(*v)),
	                *want = malloc((n + 1) * sizeof(*v));
	uint64_t x = 88172645463325252ull; /* xorshift64 */
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = want[i] = (struct hs_keyed){(x & sorts[_i].vary) | sorts[_i].fixed, i};
	}
	qsort(want, n, sizeof(*want), by_key_then_index);
	hs_sort_keyed(v, tmp, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(v[i].key, want[i].key);
		ck_assert_uint_eq(v[i].index, want[i].index);
	}
	free(v);
	free(tmp);
	free(want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("codec");
	TCase *tc = tcase_create("codec");
	tcase_add_loop_test(tc, varint_encodes, 0, sizeof(varints) / sizeof(varints[0]));
	tcase_add_test(tc, varint_rejects_malformed);
	tcase_add_loop_test(tc, zigzag_maps, 0, sizeof(zigzags) / sizeof(zigzags[0]));
	tcase_add_test(tc, crc32c_vectors);
	tcase_add_loop_test(tc, json_string_escapes, 0, sizeof(jsons) / sizeof(jsons[0]));
	tcase_add_loop_test(tc, sort_keyed_matches_qsort, 0, sizeof(sorts) / sizeof(sorts[0]));
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
