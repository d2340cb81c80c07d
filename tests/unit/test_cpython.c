/*
 * test_cpython.c — unit tests of capture/cpython/, the model of CPython both captures share:
 * the value previews and the getsizeof rules against what real interpreters answered
 * (cpython_table.h, made by gen_cpython_table.py from pyenv's 3.8-3.13: repr() of each value,
 * sys.getsizeof of each int and str and __sizeof__ of lists, sets and bytearrays on each minor
 * version), the label table against which fields each version's objects have, and the type-flag
 * table against the __flags__ of types that have and lack each flag on each version.
 * Table-driven: each case is one line of the generated table.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "labels.h"
#include "preview.h"
#include "sizes.h"

#include "cpython_table.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(float_preview_is_repr)
{
	double d;
	memcpy(&d, &float_cases[_i].bits, 8);
	char buf[32];
	size_t n = hs_cp_float_text(d, buf);
	ck_assert_str_eq(buf, float_cases[_i].repr);
	ck_assert_uint_eq(n, strlen(float_cases[_i].repr));
}
END_TEST

START_TEST(int_preview_and_size)
{
	const struct int_case *c = &int_cases[_i];
	char buf[32];
	size_t n = hs_cp_int_text(c->sign, c->ndigits, c->low, c->top, buf);
	ck_assert_str_eq(buf, c->preview);
	ck_assert_uint_eq(n, strlen(c->preview));
	for (size_t m = 0; m < N(minors); m++)
		ck_assert_uint_eq(hs_cp_int_sizeof(c->ndigits, minors[m]), c->size[m]);
}
END_TEST

/* The code units of str case c as CPython stores them: the narrowest kind that holds them. */
static unsigned str_units_of(const struct str_case *c, void *units, bool *ascii)
{
	uint32_t max = 0;
	for (size_t i = 0; i < c->len; i++)
		max = str_units[c->at + i] > max ? str_units[c->at + i] : max;
	unsigned kind = max < 0x100 ? 1 : max < 0x10000 ? 2 : 4;
	for (size_t i = 0; i < c->len; i++) {
		uint32_t u = str_units[c->at + i];
		if (kind == 1)
			((uint8_t *)units)[i] = (uint8_t)u;
		else if (kind == 2)
			((uint16_t *)units)[i] = (uint16_t)u;
		else
			((uint32_t *)units)[i] = u;
	}
	*ascii = max < 0x80;
	return kind;
}

START_TEST(str_preview_and_size)
{
	const struct str_case *c = &str_cases[_i];
	uint32_t units[256];
	ck_assert_uint_le(c->len, N(units));
	bool ascii;
	unsigned kind = str_units_of(c, units, &ascii);
	char buf[HS_CP_PREVIEW_BYTES];
	size_t n = hs_cp_str_text(units, kind, ascii, c->len, HS_CP_PREVIEW_CHARS, buf);
	ck_assert_uint_eq(n, c->text_len);
	ck_assert_mem_eq(buf, c->text, n);
	/* A fresh str is compact, with no UTF-8 or wchar_t copy. */
	struct hs_cp_str s = {.compact = true, .ascii = ascii, .kind = kind, .length = c->len};
	for (size_t m = 0; m < N(minors); m++)
		ck_assert_uint_eq(hs_cp_str_sizeof(&s, minors[m]), c->size[m]);
}
END_TEST

START_TEST(container_size_is_sizeof)
{
	const struct container_case *c = &container_cases[_i];
	uint64_t size = !strcmp(c->type, "list") ? hs_cp_list_sizeof(c->basicsize, c->field)
	                : !strcmp(c->type, "set")
	                    ? hs_cp_set_sizeof(c->basicsize, c->field, c->small_table)
	                    : hs_cp_bytearray_sizeof(c->basicsize, c->field);
	ck_assert_msg(size == c->size, "3.%d %s: %llu, __sizeof__ %llu", c->minor, c->type,
	              (unsigned long long)size, (unsigned long long)c->size);
}
END_TEST

START_TEST(bytes_preview_is_repr)
{
	const struct bytes_case *c = &bytes_cases[_i];
	char buf[HS_CP_PREVIEW_BYTES];
	size_t n = hs_cp_bytes_text((const uint8_t *)c->b, c->n, buf);
	ck_assert_str_eq(buf, c->repr);
	ck_assert_uint_eq(n, strlen(c->repr));
}
END_TEST

START_TEST(bool_preview_is_repr)
{
	ck_assert_str_eq(hs_cp_bool_text(true), "True");
	ck_assert_str_eq(hs_cp_bool_text(false), "False");
}
END_TEST

/* The fields Python shows on each version are those the table gives a label on it. */
START_TEST(label_versions_match_python)
{
	const struct field_case *c = &field_cases[_i];
	for (size_t m = 0; m < N(minors); m++) {
		const char *text = hs_cp_label_text((enum hs_cp_label)c->label, minors[m]);
		ck_assert_msg((text != NULL) == c->present[m], "%s on 3.%d",
		              hs_cp_label((enum hs_cp_label)c->label), minors[m]);
	}
}
END_TEST

/* Every label has a text, as an attribute (".name") or a field ("<name>"), distinct from the
 * others, and a version range within the model's. */
START_TEST(label_table_is_whole)
{
	for (int l = 0; l < HS_CP_NLABELS; l++) {
		const struct hs_cp_label_info *i = &hs_cp_labels[l];
		ck_assert_ptr_nonnull(i->text);
		size_t len = strlen(i->text);
		ck_assert(len > 2);
		ck_assert(i->text[0] == '.' || (i->text[0] == '<' && i->text[len - 1] == '>'));
		ck_assert_int_ge(i->first, HS_CP_MINOR_FIRST);
		ck_assert_int_le(i->last, HS_CP_MINOR_LAST);
		ck_assert_int_le(i->first, i->last);
		for (int m = 0; m < l; m++)
			ck_assert_str_ne(hs_cp_labels[m].text, i->text);
		ck_assert_ptr_null(hs_cp_label_text((enum hs_cp_label)l, i->first - 1));
		ck_assert_ptr_null(hs_cp_label_text((enum hs_cp_label)l, i->last + 1));
		ck_assert_str_eq(hs_cp_label_text((enum hs_cp_label)l, i->first), i->text);
	}
}
END_TEST

/* A slot's label: its name after a dot, cut alike by both captures. */
START_TEST(slot_label_is_cut)
{
	char name[400], buf[HS_CP_SLOT_NAME_MAX + 2];
	ck_assert_uint_eq(hs_cp_slot_label("a", buf), 2);
	ck_assert_str_eq(buf, ".a");
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_uint_eq(hs_cp_slot_label(name, buf), HS_CP_SLOT_NAME_MAX + 1);
	ck_assert_uint_eq(strlen(buf), HS_CP_SLOT_NAME_MAX + 1);
	ck_assert_int_eq(buf[0], '.');
}
END_TEST

/* A fast local's label: "<local name>", cut as a slot's; the names of a 3.8-3.10 frame's slots:
 * co_varnames, co_cellvars, co_freevars, then the value stack. */
START_TEST(local_label_and_slots)
{
	char buf[HS_CP_LOCAL_LABEL_BYTES];
	ck_assert_uint_eq(hs_cp_local_label("journal", buf), strlen("<local journal>"));
	ck_assert_str_eq(buf, "<local journal>");
	/* A name cut as a preview: 100 characters of 4 bytes and an ellipsis, whole. */
	uint32_t units[150];
	char name[HS_CP_PREVIEW_BYTES];
	for (size_t i = 0; i < N(units); i++)
		units[i] = 0x1f600;
	size_t n = hs_cp_str_text(units, 4, false, N(units), HS_CP_PREVIEW_CHARS, name);
	name[n] = '\0';
	ck_assert_uint_eq(hs_cp_local_label(name, buf), n + 8);
	ck_assert_int_eq(memcmp(buf + 7, name, n), 0);
	ck_assert_str_eq(buf + 7 + n, ">");
	static const struct {
		size_t i;
		enum hs_cp_local_names at;
		size_t j;
	} slots[] = {{0, HS_CP_VARNAMES, 0},    {1, HS_CP_VARNAMES, 1}, {2, HS_CP_CELLVARS, 0},
	             {3, HS_CP_FREEVARS, 0},    {4, HS_CP_FREEVARS, 1}, {5, HS_CP_VALUE_STACK, 0},
	             {99, HS_CP_VALUE_STACK, 0}};
	for (size_t k = 0; k < N(slots); k++) {
		size_t j = 42;
		ck_assert_int_eq(hs_cp_local_slot(slots[k].i, 2, 1, 2, &j), slots[k].at);
		ck_assert_uint_eq(j, slots[k].j);
	}
	size_t j;
	ck_assert_int_eq(hs_cp_local_slot(0, 0, 0, 1, &j), HS_CP_FREEVARS);
}
END_TEST

/* The flag table's entry called name, or NULL. */
static const struct hs_cp_flag_info *flag_named(const char *name)
{
	for (size_t i = 0; i < hs_cp_nflags; i++) {
		if (!strcmp(hs_cp_flags[i].name, name))
			return &hs_cp_flags[i];
	}
	return NULL;
}

/* Each flag's bit is set on a type that has it exactly on the versions the table gives it, and
 * never on a type that lacks it. */
START_TEST(flag_versions_match_python)
{
	const struct flag_case *c = &flag_cases[_i];
	const struct hs_cp_flag_info *f = flag_named(c->name);
	ck_assert_msg(f != NULL, "%s is not in flags.c", c->name);
	for (size_t m = 0; m < N(minors); m++) {
		bool has = minors[m] >= f->first && minors[m] <= f->last;
		ck_assert_msg(((c->has[m] & f->bit) != 0) == has, "%s on 3.%d: __flags__ 0x%llx",
		              c->name, minors[m], (unsigned long long)c->has[m]);
		ck_assert_msg(!(c->lacks[m] & f->bit), "%s on 3.%d: set where it is not", c->name,
		              minors[m]);
		ck_assert_uint_eq(hs_cp_flag(f->bit, minors[m]), has ? f->bit : 0);
	}
}
END_TEST

/* Every flag is one bit of its own, within the model's versions, and checked against Python. */
START_TEST(flag_table_is_whole)
{
	ck_assert_uint_eq(hs_cp_nflags, N(flag_cases));
	for (size_t i = 0; i < hs_cp_nflags; i++) {
		const struct hs_cp_flag_info *f = &hs_cp_flags[i];
		ck_assert(f->bit && !(f->bit & (f->bit - 1)));
		ck_assert_int_ge(f->first, HS_CP_MINOR_FIRST);
		ck_assert_int_le(f->last, HS_CP_MINOR_LAST);
		for (size_t k = 0; k < i; k++)
			ck_assert_uint_ne(hs_cp_flags[k].bit, f->bit);
		bool found = false;
		for (size_t k = 0; k < N(flag_cases); k++)
			found |= !strcmp(flag_cases[k].name, f->name);
		ck_assert_msg(found, "%s: no case in cpython_table.h", f->name);
	}
}
END_TEST

static Suite *cpython_suite(void)
{
	Suite *s = suite_create("cpython");
	TCase *t = tcase_create("previews");
	tcase_add_loop_test(t, float_preview_is_repr, 0, N(float_cases));
	tcase_add_loop_test(t, int_preview_and_size, 0, N(int_cases));
	tcase_add_loop_test(t, str_preview_and_size, 0, N(str_cases));
	tcase_add_loop_test(t, bytes_preview_is_repr, 0, N(bytes_cases));
	tcase_add_loop_test(t, container_size_is_sizeof, 0, N(container_cases));
	tcase_add_test(t, bool_preview_is_repr);
	suite_add_tcase(s, t);
	t = tcase_create("labels");
	tcase_add_loop_test(t, label_versions_match_python, 0, N(field_cases));
	tcase_add_test(t, label_table_is_whole);
	tcase_add_test(t, slot_label_is_cut);
	tcase_add_test(t, local_label_and_slots);
	suite_add_tcase(s, t);
	t = tcase_create("flags");
	tcase_add_loop_test(t, flag_versions_match_python, 0, N(flag_cases));
	tcase_add_test(t, flag_table_is_whole);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(cpython_suite());
	srunner_run_all(r, CK_ENV);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
