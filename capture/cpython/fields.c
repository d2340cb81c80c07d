/*
 * capture/cpython/fields.c — the lists of fields.h as tables of strings: each entry's id, struct
 * names and member path, for capture/remote's dwarf.c (which resolves them), its layout generator
 * (which prints them by id) and layouts.c (which names a field in a message), and for the
 * in-process capture's offsets (which it names to the tests by id).
 */
#include "fields.h"

#define HS_TABLE(NAME, LIST, COUNT)                                                                \
	static const char *const NAME##_ids[COUNT] = {LIST(HS_ID)};                                \
	static const char *const NAME##_types[COUNT] = {LIST(HS_TYPE)};                            \
	static const char *const NAME##_members[COUNT] = {LIST(HS_MEMBER)};                        \
	const struct hs_layout_table hs_##NAME##_fields = {#NAME, NAME##_ids, NAME##_types,        \
	                                                   NAME##_members, COUNT};
#define HS_ID(id, type, member) #id,
#define HS_TYPE(id, type, member) type,
#define HS_MEMBER(id, type, member) member,

HS_TABLE(walker, HS_LAYOUT_FIELDS, HS_L_COUNT)
HS_TABLE(stdlib, HS_STDLIB_FIELDS, HS_SF_COUNT)
HS_TABLE(debugoff, HS_DEBUG_OFFSETS, HS_DO_COUNT)

const enum hs_layout_field hs_debugoff_walker_field[HS_DO_COUNT] = {
#define HS_X(id, type, member) HS_L_##id,
    HS_DEBUG_OFFSETS(HS_X)
#undef HS_X
};
