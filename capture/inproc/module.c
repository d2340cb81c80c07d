/*
 * module.c — the Python face of the in-process capture: the extension module _heapsnap_3X
 * (HS_MODULE names it; the heapsnap package's __init__.py picks the one for the running
 * interpreter).  It adapts arguments, errors and results around hs_inproc_dump (walk.c) and
 * holds no logic of its own, except switching the cyclic GC off while the walk runs so that no
 * collection frees an object the walk has already recorded.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../cpython/fields.h"
#include "walk.h"

#define HS_CAT(a, b) a##b
#define HS_XCAT(a, b) HS_CAT(a, b)
#define HS_STR(a) #a
#define HS_XSTR(a) HS_STR(a)

#if PY_VERSION_HEX < 0x030A0000
static PyObject *gc_module; /* 3.8/3.9 have no PyGC_Disable */
#endif

/* Switches the collector off; returns 1 if it was on, -1 on error. */
static int gc_off(void)
{
#if PY_VERSION_HEX >= 0x030A0000
	return PyGC_Disable();
#else
	PyObject *on = PyObject_CallMethod(gc_module, "isenabled", NULL);
	int was = on ? PyObject_IsTrue(on) : -1;
	Py_XDECREF(on);
	PyObject *r = was >= 0 ? PyObject_CallMethod(gc_module, "disable", NULL) : NULL;
	Py_XDECREF(r);
	return r ? was : -1;
#endif
}

static void gc_on(void)
{
#if PY_VERSION_HEX >= 0x030A0000
	PyGC_Enable();
#else
	PyObject *r = PyObject_CallMethod(gc_module, "enable", NULL);
	if (!r)
		PyErr_WriteUnraisable(gc_module);
	Py_XDECREF(r);
#endif
}

static PyObject *raise(struct hs_error *err)
{
	if (err->code == HS_ERROR_NOMEM)
		PyErr_NoMemory();
	else
		PyErr_SetString(err->code == HS_ERROR_IO ? PyExc_OSError : PyExc_RuntimeError,
		                err->message);
	hs_error_destroy(err);
	return NULL;
}

static int put(PyObject *d, const char *key, PyObject *v)
{
	int r = v ? PyDict_SetItemString(d, key, v) : -1;
	Py_XDECREF(v);
	return r;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* {address: reason} of the objects whose __sizeof__ gave no size. */
static PyObject *failed_dict(const struct hs_inproc_stats *st)
{
	PyObject *d = PyDict_New();
	for (size_t i = 0; d && i < st->nsizeof_failed; i++) {
		PyObject *k = PyLong_FromUnsignedLongLong(st->sizeof_failed[i].addr);
		const char *r = st->sizeof_failed[i].reason;
		PyObject *v =
		    PyUnicode_DecodeUTF8(r ? r : "?", (Py_ssize_t)strlen(r ? r : "?"), "replace");
		if (!k || !v || PyDict_SetItem(d, k, v) < 0)
			Py_CLEAR(d);
		Py_XDECREF(k);
		Py_XDECREF(v);
	}
	return d;
}

PyDoc_STRVAR(dump_doc,
             "dump(path, *, values=True, progress=False, threads=0) -> dict\n\n"
             "Write a .hsnap snapshot of the whole heap to path and return its counts:\n"
             "objects, edges, weak, roots, values, bytes (file size), heap_bytes (sum of\n"
             "sys.getsizeof), seconds, sizeof_called (objects sized by a __sizeof__ that\n"
             "may run Python code, called before the walk) and sizeof_failed ({address:\n"
             "reason} of those whose __sizeof__ raised, timed out (interrupted by\n"
             "heapsnap.SizeofTimeout after 1 s) or was not called: their\n"
             "basic size is written), walks (times the dump walked the heap to find\n"
             "its objects: 1, more when those calls changed it).  values=False leaves out the "
             "previews of str,\n"
             "bytes, int and float values; progress=True reports on stderr.  threads=1 or 2\n"
             "writes the objects with that many threads; 0 chooses: two for a heap of\n"
             "200,000 objects or more when the process may use two CPUs and one is idle\n"
             "(the load average of the last minute below the CPUs less one).  _exit_frames\n"
             "(python -m heapsnap's): a tuple of frames that have ended, the script's when\n"
             "it ended, each a root of its own (<exit: ...>) as a thread's frames are.");

/* The frames of _exit_frames: None, or a tuple of frame objects. */
static int exit_frames(PyObject *v, struct hs_inproc_options *opts)
{
	if (v == Py_None)
		return 0;
	bool ok = PyTuple_Check(v);
	for (Py_ssize_t i = 0; ok && i < PyTuple_GET_SIZE(v); i++)
		ok = PyFrame_Check(PyTuple_GET_ITEM(v, i));
	if (!ok) {
		PyErr_SetString(PyExc_TypeError, "dump(): _exit_frames must be a tuple of frames");
		return -1;
	}
	opts->exit_frames = v;
	return 0;
}

/* Sets the option keyword name gives to v; -1 with an exception set when it cannot. */
static int keyword(PyObject *name, PyObject *v, struct hs_inproc_options *opts)
{
	if (PyUnicode_CompareWithASCIIString(name, "threads") == 0) {
		long n = PyLong_AsLong(v);
		if (n == -1 && PyErr_Occurred())
			return -1;
		if (n < 0 || n > 2) {
			PyErr_SetString(PyExc_ValueError, "dump(): threads must be 0, 1 or 2");
			return -1;
		}
		opts->threads = (unsigned)n;
		return 0;
	}
	if (PyUnicode_CompareWithASCIIString(name, "_exit_frames") == 0)
		return exit_frames(v, opts);
	int on = PyObject_IsTrue(v);
	if (on < 0)
		return -1;
	if (PyUnicode_CompareWithASCIIString(name, "values") == 0) {
		opts->values = on;
	} else if (PyUnicode_CompareWithASCIIString(name, "progress") == 0) {
		opts->progress = on;
	} else {
		PyErr_Format(PyExc_TypeError, "dump() got an unexpected keyword argument %R", name);
		return -1;
	}
	return 0;
}

/* Fast-call with keywords, so that the call itself allocates no argument tuple or dict that
 * the snapshot would contain. */
static PyObject *hs_py_dump(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                            PyObject *kwnames)
{
	(void)self;
	struct hs_inproc_options opts = {.values = true, .progress = false};
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	if (nargs != 1) {
		PyErr_SetString(PyExc_TypeError, "dump() takes one positional argument, path");
		return NULL;
	}
	for (Py_ssize_t i = 0; i < nkw; i++) {
		if (keyword(PyTuple_GET_ITEM(kwnames, i), args[nargs + i], &opts) < 0)
			return NULL;
	}
	PyObject *fs;
	if (!PyUnicode_FSConverter(args[0], &fs))
		return NULL;
	char *path = strdup(PyBytes_AS_STRING(fs));
	Py_DECREF(fs); /* freed before the walk starts */
	if (!path)
		return PyErr_NoMemory();

	int was_on = gc_off();
	if (was_on < 0) {
		free(path);
		return NULL;
	}
	double t0 = now();
	struct hs_inproc_stats st;
	struct hs_error *err = hs_inproc_dump(path, &opts, &st);
	double seconds = now() - t0;
	free(path);
	if (was_on)
		gc_on();
	if (err)
		return raise(err);

	PyObject *d = PyDict_New();
	if (!d || put(d, "objects", PyLong_FromUnsignedLongLong(st.objects)) ||
	    put(d, "edges", PyLong_FromUnsignedLongLong(st.edges)) ||
	    put(d, "weak", PyLong_FromUnsignedLongLong(st.weak)) ||
	    put(d, "roots", PyLong_FromUnsignedLongLong(st.roots)) ||
	    put(d, "values", PyLong_FromUnsignedLongLong(st.values)) ||
	    put(d, "bytes", PyLong_FromUnsignedLongLong(st.bytes)) ||
	    put(d, "heap_bytes", PyLong_FromUnsignedLongLong(st.heap_bytes)) ||
	    put(d, "seconds", PyFloat_FromDouble(seconds)) ||
	    put(d, "sizeof_called", PyLong_FromUnsignedLongLong(st.sizeof_called)) ||
	    put(d, "walks", PyLong_FromUnsignedLong(st.walks)) ||
	    put(d, "sizeof_failed", failed_dict(&st))) {
		Py_XDECREF(d);
		d = NULL;
	}
	hs_inproc_stats_free(&st);
	return d;
}

PyDoc_STRVAR(offsets_doc,
             "_field_offsets() -> {field id: offset}\n\n"
             "The offsets the in-process capture reads the shared kinds' fields at\n"
             "(capture/cpython/fields.h ids), for tests/integration/inproc_offsets.py.");

static PyObject *hs_py_field_offsets(PyObject *self, PyObject *unused)
{
	(void)self;
	(void)unused;
	const int64_t *v = hs_inproc_offsets();
	PyObject *d = PyDict_New();
	for (size_t i = 0; d && i < hs_walker_fields.n; i++) {
		PyObject *off = v[i] >= 0 ? PyLong_FromLongLong(v[i]) : NULL;
		if (v[i] >= 0 &&
		    (!off || PyDict_SetItemString(d, hs_walker_fields.ids[i], off) < 0))
			Py_CLEAR(d);
		Py_XDECREF(off);
	}
	return d;
}

static PyMethodDef methods[] = {
    {"dump", (PyCFunction)(void (*)(void))hs_py_dump, METH_FASTCALL | METH_KEYWORDS, dump_doc},
    {"_field_offsets", hs_py_field_offsets, METH_NOARGS, offsets_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    HS_XSTR(HS_MODULE),
    "In-process heap capture for heapsnap (use the heapsnap package).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC HS_XCAT(PyInit_, HS_MODULE)(void)
{
#if PY_VERSION_HEX < 0x030A0000
	gc_module = PyImport_ImportModule("gc");
	if (!gc_module)
		return NULL;
#endif
	PyObject *m = PyModule_Create(&module_def);
	if (!m)
		return NULL;
	/* What interrupts a __sizeof__ past its time limit: a BaseException, which `except
	 * Exception` does not catch.  The module holds it. */
	PyObject *timeout = PyErr_NewExceptionWithDoc(
	    "heapsnap.SizeofTimeout",
	    "Raised inside a __sizeof__ that heapsnap.dump() called and that ran past its time\n"
	    "limit (1 s); the dump then writes the object's basic size.",
	    PyExc_BaseException, NULL);
	if (!timeout || PyModule_AddObject(m, "SizeofTimeout", timeout) < 0) {
		Py_XDECREF(timeout);
		Py_DECREF(m);
		return NULL;
	}
	/* The class the walker learns subtype_traverse from, kept reachable so that it never is
	 * garbage in a snapshot. */
	PyObject *probe = PyObject_CallFunction((PyObject *)&PyType_Type, "s(){}", "_probe");
	if (!probe || hs_inproc_init(probe, timeout) < 0 ||
	    PyModule_AddObject(m, "_probe_class", probe) < 0) {
		Py_XDECREF(probe);
		Py_DECREF(m);
		return NULL;
	}
	return m;
}
