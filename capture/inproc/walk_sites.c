/*
 * walk_sites.c — allocation sites (issue 21): when tracemalloc traces, each object's most recent
 * allocation frame, as _tracemalloc._get_object_traceback gives it, asked for every object in
 * emit's order before emit runs (emit's second thread may not call the interpreter).
 */
#include "walk_internal.h"

#include <stdlib.h>

/* _tracemalloc._get_object_traceback into k->get_traceback when tracemalloc is tracing (before
 * pass 1, so that an import's objects are walked); else nothing. */
void hs_ip_open_sites(struct walk *k)
{
	PyObject *mod = PyImport_ImportModule("_tracemalloc");
	PyObject *on = mod ? PyObject_CallMethod(mod, "is_tracing", NULL) : NULL;
	if (on == Py_True)
		k->get_traceback = PyObject_GetAttrString(mod, "_get_object_traceback");
	Py_XDECREF(on);
	Py_XDECREF(mod);
	PyErr_Clear();
}

/* Object number i's site: the most recent frame (the first of the raw traceback, the frame
 * Snapshot.statistics('lineno') counts by) of the traceback tracemalloc kept for it. */
static struct hs_error *find_site(struct walk *k, PyObject *o, size_t i)
{
	k->site_file[i] = k->site_line[i] = 0;
	PyObject *tb = PyObject_CallFunctionObjArgs(k->get_traceback, o, NULL);
#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030C0000
	/* 3.11's _get_object_traceback leaves out the two pointers (dict, values) before the GC
	 * header of an instance with a managed dict, and finds no traceback for it. */
	if (tb == Py_None && PyType_HasFeature(Py_TYPE(o), HS_CP_TPF_MANAGED_DICT)) {
		Py_DECREF(tb);
		tb = _PyTraceMalloc_GetTraceback(0, (uintptr_t)o - sizeof(struct hs_gc_head) -
		                                        2 * sizeof(PyObject *));
	}
#endif
	PyObject *frame =
	    tb && PyTuple_Check(tb) && PyTuple_GET_SIZE(tb) > 0 ? PyTuple_GET_ITEM(tb, 0) : NULL;
	struct hs_error *err = NULL;
	if (frame && PyTuple_Check(frame) && PyTuple_GET_SIZE(frame) == 2 &&
	    PyUnicode_Check(PyTuple_GET_ITEM(frame, 0))) {
		Py_ssize_t len;
		const char *name = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(frame, 0), &len);
		long line = PyLong_AsLong(PyTuple_GET_ITEM(frame, 1));
		uint32_t id;
		if (name && line >= 0 && line <= (long)UINT32_MAX) {
			err = hs_writer_string(k->w, name, (size_t)len, &id);
			k->site_file[i] = id + 1;
			k->site_line[i] = (uint32_t)line;
		}
	}
	Py_XDECREF(tb);
	PyErr_Clear();
	return err;
}

/* Every object's site (find_site), in the order emit writes them, before emit (whose second
 * thread may not call the interpreter) and while a string may still be declared. */
struct hs_error *hs_ip_find_sites(struct walk *k)
{
	if (!k->get_traceback)
		return NULL;
	k->site_file = malloc((k->nobjs + 1) * sizeof(*k->site_file));
	k->site_line = malloc((k->nobjs + 1) * sizeof(*k->site_line));
	if (!k->site_file || !k->site_line)
		return &hs_error_nomem;
	struct hs_error *err = NULL;
	size_t i = 0;
	for (size_t n = 0; !err && n < k->a.set.npages; n++) {
		const struct page *p = &k->a.set.pages[k->a.set.order[n].index];
		uintptr_t base = (uintptr_t)k->a.set.order[n].key << PAGE_SHIFT;
		for (unsigned w = 0; !err && w < PAGE_WORDS; w++)
			for (uint64_t bits = p->bits[w]; bits && !err && i < k->nobjs;
			     bits &= bits - 1)
				err = find_site(
				    k, hs_ip_page_object(base, w, (unsigned)__builtin_ctzll(bits)),
				    i++);
	}
	return err;
}
