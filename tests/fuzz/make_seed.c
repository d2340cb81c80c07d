/*
 * make_seed.c — writes a small snapshot that uses every feature of the format through the real
 * writer: every edge kind and label form (ordinal, index, string, key, attribute), value previews
 * with escapes and invalid UTF-8, types with modules, flags and type objects, every generation,
 * meta, live and dead weak links with and without callbacks, and roots.  It is the reader's
 * richest fuzz seed (corpus/reader/features.hsnap) and the input of the redact and full-disk
 * tests (tests/integration/test_reliability.py).
 *
 * usage: make_seed OUT.hsnap
 */
#include <stdio.h>
#include <string.h>

#include "hsnap.h"

static struct hs_error *make(const char *path)
{
	struct hs_header h = {"heapsnap make_seed",   "cpython",       "3.12.1", 8, 4242,
	                      1700000000000000000ull, HS_METHOD_INPROC};
	struct hs_writer *w;
	struct hs_error *err = hs_writer_create(path, &h, &w);
	if (err)
		return err;
	uint32_t type, dict, str, list, user, intt, wref, label;
	/* type objects: object 0 is `type`, object 6 is the class User. */
	err = hs_writer_type(w, "type", "builtins", 920, 1, HS_TYPE_GC, &type);
	if (!err)
		err = hs_writer_type(w, "dict", "builtins", 232, 0, HS_TYPE_GC, &dict);
	if (!err)
		err = hs_writer_type(w, "str", "builtins", 54, 0, 0, &str);
	if (!err)
		err = hs_writer_type(w, "list", "builtins", 72, 0, HS_TYPE_GC, &list);
	if (!err)
		err = hs_writer_type(w, "User", "app.models", 56, 7,
		                     HS_TYPE_GC | HS_TYPE_HEAP | HS_TYPE_HAS_FINALIZER, &user);
	if (!err)
		err = hs_writer_type(w, "int", "builtins", 28, 0, 0, &intt);
	if (!err)
		err = hs_writer_type(w, "weakref", "builtins", 80, 0, HS_TYPE_GC, &wref);
	if (!err)
		err = hs_writer_string(w, ".__dict__", 9, &label);
	if (!err)
		err = hs_writer_meta(w, "runtime", "cpython 3.12.1");
	if (!err)
		err = hs_writer_meta(w, "argv", "python -m app --token=s3cret");
	/* Objects in address order: index, then what it holds. */
	const uint64_t base = 0x7f0000001000ull;
#define OBJ(i, t, size, rc, flags, gen)                                                            \
	if (!err)                                                                                  \
	err = hs_writer_object(w, base + 0x100 * (i), t, size, rc, flags, gen)
#define EDGE(dst, kind, form, v)                                                                   \
	if (!err)                                                                                  \
	err = hs_writer_edge(w, dst, kind, form, v)
#define VALUE(s)                                                                                   \
	if (!err)                                                                                  \
	err = hs_writer_value(w, s, sizeof(s) - 1)
	OBJ(0, type, 920, 1000, HS_OBJ_GC | HS_OBJ_IMMORTAL, HS_GEN_PERMANENT);
	OBJ(1, dict, 232, 3, HS_OBJ_GC, 2); /* the module's dict */
	EDGE(2, HS_EDGE_OWNED, HS_LABEL_NONE, 0);
	EDGE(3, HS_EDGE_TRAVERSE, HS_LABEL_KEY, 2);
	EDGE(4, HS_EDGE_OWNED, HS_LABEL_NONE, 0);
	EDGE(5, HS_EDGE_TRAVERSE, HS_LABEL_KEY, 4);
	OBJ(2, str, 54, 2, 0, HS_GEN_NONE);
	VALUE("users");
	OBJ(3, list, 88, 1, HS_OBJ_GC, 0);
	EDGE(6, HS_EDGE_TRAVERSE, HS_LABEL_ORDINAL, 0);
	EDGE(7, HS_EDGE_TRAVERSE, HS_LABEL_ORDINAL, 0);
	EDGE(5, HS_EDGE_TRAVERSE, HS_LABEL_INDEX, 2);
	OBJ(4, str, 60, 1, 0, HS_GEN_NONE);
	VALUE("secret \"key\"\n\xff\xfe");
	OBJ(5, intt, 28, 12, HS_OBJ_IMMORTAL, HS_GEN_NONE);
	VALUE("1234567890");
	OBJ(6, user, 56, 2, HS_OBJ_GC | HS_OBJ_FINALIZED, 1);
	EDGE(0, HS_EDGE_TRAVERSE, HS_LABEL_STRING, label);
	EDGE(7, HS_EDGE_TRAVERSE, HS_LABEL_ATTR, 8);
	EDGE(9, HS_EDGE_CONSERVATIVE, HS_LABEL_INDEX, 40);
	OBJ(7, user, 64, 1, HS_OBJ_GC, 1);
	EDGE(6, HS_EDGE_TRAVERSE, HS_LABEL_ATTR, 8);
	OBJ(8, str, 55, 3, 0, HS_GEN_NONE);
	VALUE("friend");
	OBJ(9, intt, 32, 1, HS_OBJ_CONSERVATIVE_SCAN | HS_OBJ_SIZE_APPROX, HS_GEN_NONE);
	OBJ(10, wref, 80, 1, HS_OBJ_GC, 2);
	OBJ(11, wref, 80, 1, HS_OBJ_GC, 0);
#undef OBJ
#undef EDGE
#undef VALUE
	if (!err)
		err = hs_writer_weak(w, 10, 7, 2);
	if (!err)
		err = hs_writer_weak(w, 11, 0, 0);
	if (!err)
		err = hs_writer_root(w, 1, "module", "sys.modules['app']");
	if (!err)
		err = hs_writer_root(w, 6, "frame", "<frame main at app.py:12>");
	if (!err)
		err = hs_writer_finish(w, NULL);
	hs_writer_destroy(w);
	return err;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: make_seed OUT.hsnap\n", stderr);
		return 2;
	}
	struct hs_error *err = make(argv[1]);
	if (err) {
		fprintf(stderr, "make_seed: %s\n", err->message);
		hs_error_destroy(err);
		return 1;
	}
	return 0;
}
