/*
 * python.c — which CPython a target runs: the file that defines _PyRuntime among its mappings
 * (libpython, or a python executable with libpython linked in), read through the target's own
 * root for a live process; that file's debug file, if any; its version, from what the target's
 * memory says first (Py_Version on 3.11+, _Py_DebugOffsets on 3.13+) and from the file's name
 * otherwise; and the builds heapsnap cannot walk (another architecture, 3.14+, free-threaded),
 * refused in one line that names what was found and what is supported.  Symbols come from the
 * exported .dynsym, which every build keeps, and from .symtab only where a file or its debug file
 * has one (capture/remote/README.md, "Pythons without DWARF").
 */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define HS_MIN_MINOR 8
#define HS_MAX_MINOR 13
#define HS_SUPPORTED "CPython 3.8-3.13, x86-64, with the GIL (not free-threaded)"

void hs_memsrc_file(const struct hs_memsrc *m, size_t i, char *buf, size_t size)
{
	const struct hs_mapping *mp = &m->maps[i];
	if (m->pid > 0) {
		struct stat st;
		snprintf(buf, size, "/proc/%d/map_files/%llx-%llx", m->pid,
		         (unsigned long long)mp->start, (unsigned long long)mp->end);
		if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, R_OK) == 0)
			return;
		snprintf(buf, size, "/proc/%d/root%s", m->pid, mp->path);
		return;
	}
	snprintf(buf, size, "%s", mp->path);
}

const char *hs_memsrc_root(const struct hs_memsrc *m, char *buf, size_t size)
{
	if (m->pid > 0)
		snprintf(buf, size, "/proc/%d/root", m->pid);
	else if (size)
		buf[0] = 0;
	return buf;
}

/* Whether mapping i is the start of a file whose name begins with prefix. */
static bool named(const struct hs_memsrc *m, size_t i, const char *prefix)
{
	const char *p = m->maps[i].path, *base = strrchr(p, '/');
	base = base ? base + 1 : p;
	return m->maps[i].file_offset == 0 && p[0] == '/' && !strncmp(base, prefix, strlen(prefix));
}

/* The version from a file's name: libpythonM.N[suffix] or pythonM.N[suffix]; *suffix gets the ABI
 * letters after the number ("t": free-threaded, "d": debug).  The minor, -1 when the name has
 * none; *major gets M. */
static int version_from_name(const char *path, int *major, char *suffix, size_t size)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *v = strstr(base, "python");
	suffix[0] = 0;
	char *end;
	if (!v || !(v[6] == '2' || v[6] == '3') || v[7] != '.')
		return -1;
	*major = v[6] - '0';
	long minor = strtol(v + 8, &end, 10);
	if (end == v + 8 || minor < 0 || minor > 99)
		return -1;
	size_t n = strspn(end, "dmt");
	snprintf(suffix, size, "%.*s", (int)(n < size ? n : size - 1), end);
	return (int)minor;
}

/* Why a process with no _PyRuntime is no Python heapsnap can walk: a python it maps whose name
 * says another version (2.7, 3.6), or none at all. */
static struct hs_error *no_runtime(const struct hs_memsrc *m, const char *hint)
{
	for (size_t i = 0; i < m->nmaps; i++) {
		int major = 0, minor;
		char suffix[8];
		if (m->maps[i].file_offset != 0 || m->maps[i].path[0] != '/' ||
		    (minor = version_from_name(m->maps[i].path, &major, suffix, sizeof(suffix))) <
		        0)
			continue;
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s runs CPython %d.%d (%s, which defines no _PyRuntime): "
		                       "heapsnap supports %s",
		                       m->what, major, minor, m->maps[i].path, HS_SUPPORTED);
	}
	return hs_error_create(HS_ERROR_OTHER,
	                       "%s: no libpython or python executable defining _PyRuntime among "
	                       "its %zu mappings: not a Python process%s",
	                       m->what, m->nmaps, hint);
}

/* Fills py's paths, info and bias for mapping i when its file defines _PyRuntime; false (why
 * kept for the first unreadable one) otherwise. */
static bool try_file(struct hs_memsrc *m, size_t i, const char *open_path, struct hs_python *py,
                     struct hs_error **why)
{
	struct hs_elf_sym s = {"_PyRuntime", 0};
	struct hs_error *err = hs_elf_symbols(open_path, &s, 1, false);
	if (!err && s.value)
		err = hs_elf_info(open_path, &py->info);
	if (err && !*why)
		*why = err;
	else
		hs_error_destroy(err);
	if (err || !s.value)
		return false;
	snprintf(py->path, sizeof(py->path), "%s", m->maps[i].path);
	snprintf(py->open_path, sizeof(py->open_path), "%s", open_path);
	py->bias = m->maps[i].start - py->info.first_load_vaddr;
	py->runtime = s.value + py->bias;
	return true;
}

/* The mapped file that defines _PyRuntime: a libpython first, then a python executable, then
 * exe (a core whose NT_FILE paths moved). */
static struct hs_error *find_file(struct hs_memsrc *m, const char *exe, struct hs_python *py)
{
	struct hs_error *why = NULL;
	char p[PATH_MAX + 64];
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < m->nmaps; i++) {
			if (!named(m, i, pass == 0 ? "libpython" : "python"))
				continue;
			hs_memsrc_file(m, i, p, sizeof(p));
			if (try_file(m, i, p, py, &why)) {
				hs_error_destroy(why);
				return NULL;
			}
		}
	const char *base = exe ? strrchr(exe, '/') : NULL;
	base = base ? base + 1 : exe;
	for (size_t i = 0; exe && i < m->nmaps; i++)
		if (named(m, i, base) && try_file(m, i, exe, py, &why)) {
			hs_error_destroy(why);
			return NULL;
		}
	const char *hint = m->pid || exe ? "" : " (or its python moved: try --exe PYTHON)";
	struct hs_error *err =
	    why ? hs_error_create(HS_ERROR_OTHER, "%s: the python it maps cannot be read: %s%s",
	                          m->what, why->message, hint)
	        : no_runtime(m, hint);
	hs_error_destroy(why);
	return err;
}

/* The version the target's memory states: PY_VERSION_HEX from _Py_DebugOffsets (3.13+, which
 * also says whether the build is free-threaded) or the exported Py_Version (3.11+); 0 when it
 * states none. */
static uint64_t hexversion(struct hs_memsrc *m, struct hs_python *py, uint64_t py_version,
                           bool *free_threaded)
{
	char cookie[8];
	uint64_t v = 0, ft = 0;
	if (hs_mem_read(m, py->runtime, cookie, 8) && !memcmp(cookie, "xdebugpy", 8) &&
	    hs_mem_read(m, py->runtime + 8, &v, 8) && v >> 24 == 3) {
		snprintf(py->version_from, sizeof(py->version_from), "_Py_DebugOffsets");
		*free_threaded = hs_mem_read(m, py->runtime + 16, &ft, 8) && ft == 1;
		return v;
	}
	v = 0;
	if (py_version && hs_mem_read(m, py_version, &v, 8) && v >> 24 == 3) {
		snprintf(py->version_from, sizeof(py->version_from), "Py_Version");
		return v;
	}
	return 0;
}

/* Sets py->minor and micro, refusing what heapsnap cannot walk. */
static struct hs_error *version(struct hs_memsrc *m, struct hs_python *py)
{
	/* Exported by every build that has them: Py_Version on 3.11+; _Py_MergeZeroLocalRefcount
	 * only by free-threaded builds (Objects/object.c under Py_GIL_DISABLED);
	 * _Py_NegativeRefcount only by debug builds (Py_REF_DEBUG). */
	struct hs_elf_sym s[] = {
	    {"Py_Version", 0}, {"_Py_MergeZeroLocalRefcount", 0}, {"_Py_NegativeRefcount", 0}};
	struct hs_error *err = hs_python_symbols(py, s, 3);
	if (err)
		return err;
	char suffix[8];
	int major = 3, by_name = version_from_name(py->path, &major, suffix, sizeof(suffix));
	bool ft_said = false;
	uint64_t hex = hexversion(m, py, s[0].value, &ft_said);
	py->micro = -1;
	if (hex) {
		py->minor = (int)((hex >> 16) & 0xff);
		py->micro = (int)((hex >> 8) & 0xff);
	} else if (by_name >= 0) {
		py->minor = by_name;
		snprintf(py->version_from, sizeof(py->version_from), "the file name");
	} else {
		py->minor = -1; /* layouts.c tells it from the DWARF, or refuses */
	}
	py->debug_build = s[2].value != 0;
	bool free_threaded = ft_said || s[1].value || strchr(suffix, 't');
	if (!free_threaded &&
	    (py->minor < 0 || (py->minor >= HS_MIN_MINOR && py->minor <= HS_MAX_MINOR)))
		return NULL;
	char v[32] = "3.?";
	if (py->minor >= 0)
		snprintf(v, sizeof(v), py->micro >= 0 ? "3.%d.%d" : "3.%d", py->minor, py->micro);
	return hs_error_create(HS_ERROR_FORMAT,
	                       "%s runs CPython %s%s (%s; version from %s): "
	                       "heapsnap supports %s",
	                       m->what, v, free_threaded ? " free-threaded" : "", py->path,
	                       py->version_from[0] ? py->version_from : "nowhere", HS_SUPPORTED);
}

struct hs_error *hs_python_find(struct hs_memsrc *m, const char *exe,
                                const struct hs_layout_opts *lo, struct hs_python *py)
{
	memset(py, 0, sizeof(*py));
	py->no_dwarf = lo && lo->no_dwarf;
	struct hs_error *err = find_file(m, exe, py);
	if (err)
		return err;
	if (py->info.machine != EM_X86_64 || !py->info.elf64)
		return hs_error_create(
		    HS_ERROR_FORMAT,
		    "%s: %s is an ELF%s file for machine %u, not x86-64: heapsnap "
		    "supports %s",
		    m->what, py->path, py->info.elf64 ? "64" : "32", (unsigned)py->info.machine,
		    HS_SUPPORTED);
	py->file = (struct hs_file){py->open_path, py->path,
	                            hs_memsrc_root(m, py->root, sizeof(py->root))};
	if (!py->no_dwarf &&
	    !hs_debug_file(&py->file, &py->info, lo, py->debug_path, sizeof(py->debug_path)))
		py->debug_path[0] = 0;
	return version(m, py);
}

struct hs_error *hs_python_symbols(const struct hs_python *py, struct hs_elf_sym *syms, size_t n)
{
	struct hs_error *err = hs_elf_symbols(py->open_path, syms, n, py->no_dwarf);
	bool missing = false;
	for (size_t i = 0; i < n && !err; i++)
		missing |= !syms[i].value;
	if (!err && missing && !py->no_dwarf && py->debug_path[0] &&
	    strcmp(py->debug_path, py->open_path)) {
		struct hs_elf_sym *more = malloc(n * sizeof(*more));
		if (!more)
			return &hs_error_nomem;
		memcpy(more, syms, n * sizeof(*more));
		err = hs_elf_symbols(py->debug_path, more, n, false);
		for (size_t i = 0; i < n && !err; i++)
			if (!syms[i].value)
				syms[i].value = more[i].value;
		free(more);
	}
	for (size_t i = 0; i < n && !err; i++)
		if (syms[i].value)
			syms[i].value += py->bias;
	return err;
}
