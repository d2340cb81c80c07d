/*
 * test_kinds.c — unit tests of capture/cpython/kinds.h, the kinds' field table both captures
 * walk, against the layouts of every minor version 3.8-3.13 the out-of-process capture has
 * compiled in (capture/remote/layout_tables.c, generated from the DWARF of reference builds):
 * each entry's member exists in the versions its range names and, but for the exceptions below,
 * in no other; its label names a field of those versions; an unlabelled entry is a traverse one.
 * (The in-process offsets are checked against the same tables by
 * tests/integration/inproc_offsets.py.)
 */
#include <check.h>
#include <stdio.h>

#include "internal.h"
#include "kinds.h"

#define NMINORS (HS_CP_MINOR_LAST - HS_CP_MINOR_FIRST + 1)

/* Whether kind kd has an entry for field f on 3.minor. */
static bool kind_has(enum hs_cp_kind kd, unsigned f, int minor)
{
	const struct hs_cp_kind_fields *t = &hs_cp_kinds[kd];
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].field == f && hs_cp_field_in(&t->v[i], minor))
			return true;
	return false;
}

/* Members a version has that the kind's entry leaves out on purpose: from 3.12 a static
 * built-in type's tp_subclasses is an index into the interpreter's state, no reference. */
static bool left_out(enum hs_cp_kind kd, unsigned f, int minor)
{
	return kd == HS_CP_K_STATIC_TYPE && f == HS_L_TP_SUBCLASSES && minor >= 12;
}

START_TEST(entries_match_layouts)
{
	enum hs_cp_kind kd = (enum hs_cp_kind)(_i / NMINORS);
	int minor = HS_CP_MINOR_FIRST + _i % NMINORS;
	const struct hs_layout_builtin *b = hs_layout_builtin(minor);
	ck_assert_msg(b, "no compiled-in layout for 3.%d", minor);
	const struct hs_cp_kind_fields *t = &hs_cp_kinds[kd];
	ck_assert_uint_gt(t->n, 0);
	for (size_t i = 0; i < t->n; i++) {
		const struct hs_cp_field *f = &t->v[i];
		const char *id = hs_walker_fields.ids[f->field];
		ck_assert_int_ge(f->first, HS_CP_MINOR_FIRST);
		ck_assert_int_le(f->last, HS_CP_MINOR_LAST);
		ck_assert_int_le(f->first, f->last);
		ck_assert_msg(f->label != HS_CP_UNLABELLED || f->edge == HS_EDGE_TRAVERSE,
		              "kind %d %s: an owned edge without a label", kd, id);
		bool has = b->walker[f->field] >= 0;
		if (hs_cp_field_in(f, minor)) {
			ck_assert_msg(has, "kind %d %s: 3.%d's layout lacks it", kd, id, minor);
			ck_assert_msg(f->label == HS_CP_UNLABELLED ||
			                  hs_cp_label_text((enum hs_cp_label)f->label, minor),
			              "kind %d %s: label %d is not 3.%d's", kd, id, f->label,
			              minor);
		} else {
			ck_assert_msg(!has || kind_has(kd, f->field, minor) ||
			                  left_out(kd, f->field, minor),
			              "kind %d %s: 3.%d has it, the table's range %d..%d not", kd,
			              id, minor, f->first, f->last);
		}
	}
}
END_TEST

/* Every kind has a table, and no field is listed twice for one version of a kind (its edge would
 * be made twice). */
START_TEST(no_field_twice)
{
	for (int kd = 0; kd < HS_CP_NKINDS; kd++) {
		const struct hs_cp_kind_fields *t = &hs_cp_kinds[kd];
		ck_assert_msg(t->v && t->n, "kind %d has no table", kd);
		for (int minor = HS_CP_MINOR_FIRST; minor <= HS_CP_MINOR_LAST; minor++)
			for (size_t i = 0; i < t->n; i++)
				for (size_t j = i + 1; j < t->n; j++)
					ck_assert_msg(t->v[i].field != t->v[j].field ||
					                  !hs_cp_field_in(&t->v[i], minor) ||
					                  !hs_cp_field_in(&t->v[j], minor),
					              "kind %d: %s twice on 3.%d", kd,
					              hs_walker_fields.ids[t->v[i].field], minor);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kinds");
	TCase *t = tcase_create("table");
	tcase_add_loop_test(t, entries_match_layouts, 0, HS_CP_NKINDS * NMINORS);
	tcase_add_test(t, no_field_twice);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_ENV);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? 1 : 0;
}
