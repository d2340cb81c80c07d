/*
 * walk_roots.c — the in-process walker's roots, each named: sys.modules, builtins, sys, every
 * thread's dict and frames (3.11+: each interpreter frame's frame object, function, code, locals
 * and each local), at the line each is executing, and the frames of a script that ended
 * (opts->exit_frames), at the line each had reached.  The out-of-process capture names the same
 * roots alike (capture/remote/walker_roots.c).
 */
#include "walk_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static void add_root(struct walk *k, PyObject *o, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_root(struct walk *k, PyObject *o, const char *kind, const char *fmt, ...)
{
	if (!o || k->err)
		return;
	char *name;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&name, fmt, ap);
	va_end(ap);
	if (n < 0 ||
	    !hs_ip_grow((void **)&k->roots, &k->roots_cap, k->nroots + 1, sizeof(*k->roots))) {
		if (n >= 0)
			free(name);
		k->err = &hs_error_nomem;
		return;
	}
	k->roots[k->nroots++] = (struct root){o, kind, name};
	hs_ip_add(k, o, GEN_CODE_NONE);
}

#if PY_VERSION_HEX >= 0x030B0000
/* The line interpreter frame fr is at: its instruction pointer's in its code's line table, as
 * CPython's _PyInterpreterFrame_GetLine finds it (PyCode_Addr2Line: the code's first line before
 * the first instruction). */
static int iframe_line(char *fr)
{
	PyCodeObject *co = *(PyCodeObject **)(fr + HS_IFRAME_CODE);
	if (!co || !PyCode_Check(co))
		return 0;
	char *instr = *(char **)(fr + HS_IFRAME_INSTR);
	return PyCode_Addr2Line(co, (int)(instr - (char *)co->co_code_adaptive));
}

/* The roots of interpreter frame fr, named "<WHO: qualname (file:line) ...>": its frame
 * object, function, code, locals dict and each local. */
static void iframe_roots(struct walk *k, char *fr, const char *who, int line)
{
	PyObject *code = *(PyObject **)(fr + HS_IFRAME_CODE);
	if (!code || !PyCode_Check(code))
		return;
	PyCodeObject *co = (PyCodeObject *)code;
	char b1[NAME_BYTES], b2[NAME_BYTES], where[2 * NAME_BYTES + 64];
	snprintf(where, sizeof(where), "%s: %s (%s:%d)", who, hs_ip_cstr(co->co_qualname, b1),
	         hs_ip_cstr(co->co_filename, b2), line);
	add_root(k, *(PyObject **)(fr + HS_IFRAME_FRAME_OBJ), "frame", "<%s>", where);
	add_root(k, *(PyObject **)(fr + HS_IFRAME_FUNC), "frame", "<%s function>", where);
	add_root(k, code, "frame", "<%s code>", where);
	add_root(k, *(PyObject **)(fr + HS_IFRAME_LOCALS), "frame", "<%s locals>", where);
	PyObject **plus = (PyObject **)(fr + HS_IFRAME_LOCALSPLUS);
	for (int i = 0; i < co->co_nlocalsplus; i++)
		add_root(k, plus[i], "frame", "<%s local %s>", where,
		         hs_ip_cstr(PyTuple_GET_ITEM(co->co_localsplusnames, i), b1));
}
#endif

/* A thread's roots: its dict, "<thread ID dict>", then its frames from the innermost, ID its
 * thread_id: up to 3.10 its frame objects, "<thread ID: name (file:line)>", from 3.11 each
 * interpreter frame's roots.  capture/remote/walker_roots.c names them alike. */
static void thread_roots(struct walk *k, PyThreadState *ts)
{
	add_root(k, ts->dict, "thread", "<thread %lu dict>", ts->thread_id);
#if PY_VERSION_HEX < 0x030B0000
	char b1[NAME_BYTES], b2[NAME_BYTES];
	for (PyFrameObject *f = ts->frame; f; f = f->f_back)
		add_root(k, (PyObject *)f, "frame", "<thread %lu: %s (%s:%d)>", ts->thread_id,
		         hs_ip_cstr(f->f_code->co_name, b1), hs_ip_cstr(f->f_code->co_filename, b2),
		         PyFrame_GetLineNumber(f));
#else
	char who[64];
	snprintf(who, sizeof(who), "thread %lu", ts->thread_id);
	for (char *fr = hs_thread_frame(ts); fr; fr = *(char **)(fr + HS_IFRAME_PREVIOUS)) {
#if PY_VERSION_HEX >= 0x030C0000
		if (fr[HS_IFRAME_OWNER] == HS_FRAME_OWNED_BY_CSTACK)
			continue;
#endif
		iframe_roots(k, fr, who, iframe_line(fr));
	}
#endif
}

/* The frames of opts->exit_frames (a script's when it ended), roots as a thread's frames are,
 * at the line each had reached: "<exit: name (file:line)>" ... */
static void exit_roots(struct walk *k)
{
	PyObject *t = k->opts->exit_frames;
	for (Py_ssize_t i = 0; t && i < PyTuple_GET_SIZE(t); i++) {
		PyFrameObject *f = (PyFrameObject *)PyTuple_GET_ITEM(t, i);
#if PY_VERSION_HEX < 0x030B0000
		char b1[NAME_BYTES], b2[NAME_BYTES];
		add_root(k, (PyObject *)f, "frame", "<exit: %s (%s:%d)>",
		         hs_ip_cstr(f->f_code->co_name, b1), hs_ip_cstr(f->f_code->co_filename, b2),
		         PyFrame_GetLineNumber(f));
#else
		iframe_roots(k, *(char **)((char *)f + HS_FRAMEOBJ_IFRAME), "exit",
		             PyFrame_GetLineNumber(f));
#endif
	}
}

/* The module-level roots, then the ended frames (which so win a tie against a frame of the
 * code that holds them), then every thread's dict and frames. */
void hs_ip_collect_roots(struct walk *k)
{
	add_root(k, PyImport_GetModuleDict(), "module", "sys.modules");
	add_root(k, PyEval_GetBuiltins(), "module", "builtins.__dict__");
	/* sys.modules['sys'].__dict__: the interpreter's sysdict, which has no public accessor,
	 * unless a program replaced the module (the walk allocates a str here, before it reads any
	 * object's size) */
	PyObject *sys = PyDict_GetItemString(PyImport_GetModuleDict(), "sys");
	if (sys && PyModule_Check(sys))
		add_root(k, PyModule_GetDict(sys), "module", "sys.__dict__");
	exit_roots(k);
	PyInterpreterState *interp = PyThreadState_Get()->interp;
	for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
	     ts = PyThreadState_Next(ts))
		thread_roots(k, ts);
}
