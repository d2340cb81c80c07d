/*
 * internal.h — what the files of capture/remote/ share and nobody else sees: the memory source
 * (segments of copied or mapped bytes, a file fallback and a paged callback), the ELF helpers,
 * the DWARF layout table, and the walker's entry point.
 */
#ifndef HS_CAPTURE_INTERNAL_H
#define HS_CAPTURE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../cpython/flags.h"
#include "hscapture.h"

/* Asks for transparent huge pages for a large block: the walker's tables of millions of entries
 * then take a page fault (and a TLB entry) per 2 MiB, not per 4 KiB.  The advice covers every
 * page the block touches, which for a block malloc mapped on its own is its whole mapping: advice
 * on part of a mapping splits it, and mremap cannot move a split mapping, so realloc would copy
 * the block at every growth instead (EFAULT; on a 1M-object heap that copying was most of the
 * pause). */
static inline void hs_huge(void *p, size_t len)
{
	const uintptr_t page = 4096;
	uintptr_t a = (uintptr_t)p & ~(page - 1), e = ((uintptr_t)p + len + page - 1) & ~(page - 1);
	madvise((void *)a, e - a, MADV_HUGEPAGE);
}

/* n zeroed elements of size bytes, each page written before use: a hash table's fresh pages
 * from calloc would otherwise be mapped to the shared zero page by the first probe and copied by
 * the first insert, a second fault and a TLB flush per page.  (malloc and memset would be turned
 * into calloc by the compiler.) */
static inline void *hs_zalloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	volatile uint8_t *p = calloc(n ? n : 1, size ? size : 1);
	if (p && n * size >= (4u << 20)) {
		hs_huge((void *)p, n * size);
		for (size_t i = 0; i < n * size; i += 4096)
			p[i] = 0;
	}
	return (void *)p;
}

/* ---------------------------------------------------------------------------------------------
 * Memory source (memsrc.c).  Reads try the primary segments (mapped from a core's PT_LOAD), then
 * the page cache (a stopped process's readable mappings, read on demand with process_vm_readv,
 * or the caller's callback), then the file segments (file mappings served from the file on disk:
 * what a core omits, a process's executable pages).
 */
struct hs_memseg {
	uint64_t start, end;
	const uint8_t *data;
};

struct hs_tracee; /* a stopped process's threads (memsrc.c) */
struct hs_memsrc {
	struct hs_memseg *segs; /* sorted by start, non-overlapping */
	size_t nsegs, segs_cap;
	struct hs_memseg *fsegs; /* file fallback, sorted */
	size_t nfsegs, fsegs_cap;
	size_t last;             /* index of the last segment hit (a one-entry lookup cache) */
	struct hs_mapping *maps; /* the target's mappings; paths owned */
	size_t nmaps;
	hs_memsrc_read_fn read;
	void *read_ctx;
	struct hs_pagecache *cache;
	struct hs_memseg *live; /* a pid's mappings read through the cache (data NULL), sorted */
	size_t nlive, live_cap;
	struct hs_region *regions; /* what to unmap or free on destroy */
	struct hs_tracee *stopped; /* a pid's threads while they are stopped, else NULL */
	double stop_start;         /* when they were stopped (CLOCK_MONOTONIC seconds) */
	double stop_cpu;           /* this process's CPU seconds then */
	double pause_seconds;      /* how long the target has been stopped, resumes included */
	double pause_cpu_seconds;  /* this process's CPU time meanwhile */
	uint64_t bytes_read;       /* of the target's memory, while it was stopped */
	uint64_t live_bytes;       /* the size of the live mappings */
	double read_seconds;       /* spent in process_vm_readv */
	bool copied;               /* every live page is in the cache: the target runs again */
	bool raced;                /* a thread left running ran before copied */
	bool gone;                 /* the process exited while stopped (ESRCH) */
	int pid;
	char *what; /* for messages: "process PID", the core's path, or "the target" */
};

/* Fills m from a live process and leaves it stopped: its memory is read as the walk needs it
 * (never a page that nothing reads), until hs_memsrc_resume. */
struct hs_error *hs_memsrc_init_pid(struct hs_memsrc *m, int pid);
/* Lets a stopped process run again (nothing for a core or a callback) and adds the pause to
 * m->pause_seconds; the pages read are dropped (unless hs_memsrc_tick copied them all) and no
 * more are read.  *again when a thread left running (asleep in an EINTR call) ran meanwhile:
 * what was read may be torn, so the walk must be made again after hs_memsrc_restop.  An error
 * when the process exited while stopped. */
struct hs_error *hs_memsrc_resume(struct hs_memsrc *m, bool *again);
/* Called now and then by a walk of a stopped process: once copying what is left of its mappings
 * would take no longer, at the rate of the reads so far, than the walk has taken, copies it all
 * and lets the process run (its pause is then at most about twice the copy's); the rest of the
 * walk reads the copy, and hs_memsrc_resume only says whether a spared thread ran meanwhile.  A
 * heap of few bytes is so copied early, a heap of many bytes in few objects is walked stopped. */
struct hs_error *hs_memsrc_tick(struct hs_memsrc *m);
/* Stops the process of m again, every thread this time, with an empty cache. */
struct hs_error *hs_memsrc_restop(struct hs_memsrc *m);
/* Fills m from an ELF core (PT_LOAD segments, NT_FILE file fallback). */
struct hs_error *hs_memsrc_init_core(struct hs_memsrc *m, const char *core_path);
/* Fills m with a caller's read function and mapping list. */
struct hs_error *hs_memsrc_init_callback(struct hs_memsrc *m, hs_memsrc_read_fn read, void *ctx,
                                         const struct hs_mapping *maps, size_t nmaps);
void hs_memsrc_deinit(struct hs_memsrc *m);
/* Reads len bytes at addr; false if any byte is unreadable. */
bool hs_mem_read(struct hs_memsrc *m, uint64_t addr, void *buf, size_t len);
/* A pointer to len readable bytes at addr inside one segment, or NULL (then use hs_mem_read). */
const uint8_t *hs_mem_peek(struct hs_memsrc *m, uint64_t addr, size_t len);

/* ---------------------------------------------------------------------------------------------
 * ELF helpers (elf.c), over libelf.
 */
struct stat;
/* Opens path read-only when it is a regular file, and only then: a FIFO (which would block the
 * open) or a device (whose open can act) named by a core or a target is never opened; nor is a
 * symbolic link as the last component unless follow.  Fills *fd_ret and *st_ret (may be NULL). */
struct hs_error *hs_open_regular(const char *path, bool follow, int *fd_ret, struct stat *st_ret);
struct hs_elf_sym {
	const char *name;
	uint64_t value; /* st_value, 0 when not found */
};
/* Looks up every name of syms[0..n) in PATH's .dynsym (the exported symbols, which even a
 * stripped file keeps) and, unless dynsym_only, its .symtab. */
struct hs_error *hs_elf_symbols(const char *path, struct hs_elf_sym *syms, size_t n,
                                bool dynsym_only);
/* The build-id of PATH as lower-case hex into buf (41+ bytes); "" when it has none.  Also the
 * .gnu_debuglink name (or "") and the vaddr of the first PT_LOAD, and whether it has
 * .debug_info. */
struct hs_elf_info {
	char build_id[80];
	char debuglink[256];
	uint64_t first_load_vaddr;
	bool has_debug_info;
	bool is_core;
	bool elf64;
	uint16_t machine; /* e_machine */
};
struct hs_error *hs_elf_info(const char *path, struct hs_elf_info *ret);

/* ---------------------------------------------------------------------------------------------
 * Layouts: the members of the target's structs that capture reads (fields.h), resolved from
 * DWARF (dwarf.c) or taken from the tables compiled in per minor version (layouts.c).
 */
#include "../cpython/fields.h"

struct hs_layout {
	int64_t v[HS_L_COUNT]; /* byte offset, or the size for "sizeof"; -1 when absent */
};

/* Where layouts and symbols may come from (the capture's options). */
struct hs_layout_opts {
	const char *cache_dir; /* the DWARF layout cache; NULL: the default */
	const char *debug_dir; /* a root holding .build-id/NN/REST.debug, searched before
	                          /usr/lib/debug; NULL: none */
	bool no_dwarf;         /* compiled-in tables and exported symbols only (--layouts table) */
};

/* A file of the target: the path this process opens (/proc/PID/map_files/... for a live target),
 * the path the target names it by, and the target's root as this process reaches it
 * ("/proc/PID/root" for a live target, "" otherwise), under which its debug files are looked for
 * first. */
struct hs_file {
	const char *open, *path, *root;
};
/* The file holding the DWARF of f into buf: the file itself; a debug file of the same build-id
 * under lo->debug_dir, the target's /usr/lib/debug/.build-id or this machine's; or its
 * .gnu_debuglink beside it, in .debug/ or under /usr/lib/debug.  False when there is none. */
bool hs_debug_file(const struct hs_file *f, const struct hs_elf_info *info,
                   const struct hs_layout_opts *lo, char *buf, size_t size);
/* Resolves table t from the DWARF of f (hs_debug_file) into ret[0..t->n) (-1 where absent),
 * cached by build-id and table in lo->cache_dir.  lo->no_dwarf must be false. */
struct hs_error *hs_layout_load_table(const struct hs_file *f, const struct hs_layout_opts *lo,
                                      const struct hs_layout_table *t, int64_t *ret);

/* ---------------------------------------------------------------------------------------------
 * The interpreter a target runs (python.c) and the layouts its walk uses (layouts.c).
 */
struct hs_python {
	char path[PATH_MAX];       /* libpython or the static python, as the target names it */
	char open_path[PATH_MAX];  /* the same file as this process opens it (hs_memsrc_file) */
	char debug_path[PATH_MAX]; /* the file holding its DWARF and full .symtab; "" if none */
	char root[64];             /* hs_memsrc_root */
	struct hs_file file;       /* open_path, path, root */
	struct hs_elf_info info;
	uint64_t bias;         /* load address minus link-time address */
	uint64_t runtime;      /* &_PyRuntime in the target */
	int minor, micro;      /* 3.minor.micro; micro -1 when unknown */
	char version_from[48]; /* where the version was read */
	bool no_dwarf;         /* symbols from .dynsym only, layouts from the tables only */
	bool debug_build;      /* Py_DEBUG: layouts only from its own DWARF */
	struct hs_layout L;
	char layout_source[PATH_MAX + 64]; /* "dwarf FILE" or "table 3.X (...)" */
	char debugoff_check[160];          /* _Py_DebugOffsets against L, or "" */
};
/* Finds the file among m's mappings that defines _PyRuntime (libpython first, then a python
 * executable; exe when the core names none), its debug file, and the version of CPython it is.
 * Refuses, in one line naming what was found and what is supported, another architecture, a
 * version outside 3.8-3.13 and a free-threaded build. */
struct hs_error *hs_python_find(struct hs_memsrc *m, const char *exe,
                                const struct hs_layout_opts *lo, struct hs_python *py);
/* Looks up syms[0..n) in py's file (.dynsym, and .symtab unless py->no_dwarf) and then in its
 * debug file's .symtab; values are the target's addresses (bias added), 0 when not found. */
struct hs_error *hs_python_symbols(const struct hs_python *py, struct hs_elf_sym *syms, size_t n);
/* The path to open for mapping i of m: the target's own file through /proc/PID/map_files or
 * /proc/PID/root for a live target (so that a container's files are read, not the host's of the
 * same name), its path otherwise. */
void hs_memsrc_file(const struct hs_memsrc *m, size_t i, char *buf, size_t size);
/* The target's root as this process reaches it: "/proc/PID/root" for a live target, "". */
const char *hs_memsrc_root(const struct hs_memsrc *m, char *buf, size_t size);

/* The layout tables compiled in (layout_tables.c, generated by gen_layouts.py). */
struct hs_layout_builtin {
	int minor;
	const char *reference; /* the build it was generated from ("3.11.7 pyenv") */
	const int64_t *walker, *stdlib, *debugoff;
};
extern const struct hs_layout_builtin hs_layout_builtins[];
extern const size_t hs_layout_nbuiltins;
const struct hs_layout_builtin *hs_layout_builtin(int minor);
/* Fills py->L from py's DWARF, or from the compiled-in table of py->minor when there is none (or
 * py->no_dwarf), checks it against the target's memory (PyType_Type read through it) and, on
 * 3.13+, against the target's _Py_DebugOffsets; sets py->layout_source and debugoff_check. */
struct hs_error *hs_layouts_choose(struct hs_memsrc *m, const struct hs_layout_opts *lo,
                                   struct hs_python *py);

/* ---------------------------------------------------------------------------------------------
 * The walker (walker.c and walker_*.c): everything between a memory source and a written snapshot.
 */

/* The type flags DWARF does not carry are capture/cpython/flags.h's HS_CP_TPF_*. */

struct walker;
/* What the walker offers the files that walk further kinds (kinds_stdlib.c).  src is the index of
 * the object whose edges are being made (the current object). */
bool hs_wk_read(struct walker *w, uint64_t addr, void *buf, size_t len);
uint64_t hs_wk_u64(struct walker *w, uint64_t addr); /* 0 when unreadable */
int hs_wk_minor(const struct walker *w);             /* the target's 3.x */
/* An edge from src to the object at dst (none when dst is 0 or not an object); label "" for none.
 */
struct hs_error *hs_wk_edge(struct walker *w, uint64_t src, uint64_t dst, uint8_t kind,
                            const char *label);
/* A traverse edge from src to the object at dst labelled by position, as a tuple's items. */
struct hs_error *hs_wk_edge_index(struct walker *w, uint64_t src, uint64_t dst, uint64_t index);
/* The edges and sys.getsizeof size (without the GC header) of the dict part of the object o of
 * type `type`; keys_visited: its tp_traverse visits every key itself (OrderedDict's node list), so
 * each key gets a traverse edge labelled <key>. */
struct hs_error *hs_wk_dict(struct walker *w, uint64_t src, uint64_t o, uint64_t type,
                            bool keys_visited, uint64_t *size);
/* Counts a warning (the snapshot's warnings meta); the first one is kept as first_warning. */
void hs_wk_warn(struct walker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------------------------------------
 * The standard library's C types (kinds_stdlib.c).
 */
enum hs_stdlib_kind {
	HS_SK_NONE,
	HS_SK_DEQUE,
	HS_SK_ODICT,
	HS_SK_DEFDICT,
	HS_SK_PARTIAL,
	HS_SK_LRU,
	HS_SK_FUTURE,
	HS_SK_TASK,
	HS_SK_CONTEXT,
	HS_SK_CONTEXTVAR,
	HS_SK_TOKEN,
	HS_SK_HAMT,
	HS_SK_HAMT_BITMAP,
	HS_SK_HAMT_ARRAY,
	HS_SK_HAMT_COLLISION,
	HS_SK_NAMESPACE,
	HS_SK_MAPPINGPROXY,
	HS_SK_ELEMENT,
	HS_SK_ARRAY,
	HS_SK_ARRAY_STATIC,
	HS_SK_TUPLEGETTER,
	HS_SK_ABC_DATA,
	HS_SK_METHOD_WRAPPER,
	HS_SK_COUNT,
	HS_SK_REPEAT,
	HS_SK_CYCLE,
	HS_SK_CHAIN,
	HS_SK_ISLICE,
	HS_SK_FUTUREITER,
	HS_SK_TASKSTEP,
	HS_SK_TASKWAKEUP,
	HS_SK_STRUCTSEQ,
	HS_SK_LRU_ELEM,
	HS_STDLIB_KINDS
};
struct hs_stdlib;
/* Finds the kinds' symbols and layouts in libpython and the stdlib extension modules among m's
 * mappings (what cannot be found stays unknown: not an error). */
struct hs_error *hs_stdlib_load(const struct hs_memsrc *m, const struct hs_python *py,
                                const struct hs_layout_opts *lo, struct hs_stdlib **ret);
void hs_stdlib_free(struct hs_stdlib *s);
/* The kind of a type from its address and tp_traverse (or its tp_dealloc), or HS_SK_NONE. */
int hs_stdlib_kind(struct walker *w, struct hs_stdlib *s, uint64_t type, uint64_t traverse,
                   const char *name);
/* Tells s that kind's key (its tp_traverse, or what enum says) is key, unless it knows it already
 * or key is subtype_traverse (a class defined in Python); also remembers subtype_traverse. */
void hs_stdlib_learn(struct hs_stdlib *s, int kind, uint64_t key, uint64_t subtype_traverse);
/* One object of a stdlib kind, as hs_stdlib_walk needs it. */
struct hs_stdlib_obj {
	int kind;            /* enum hs_stdlib_kind */
	uint64_t src;        /* its index in the walker */
	uint64_t addr, type; /* its address, its type's */
	uint64_t type_flags; /* its type's tp_flags */
	bool heap;           /* the C type of the kind is a heap type (its traverse visits type) */
};
/* The object's edges as its tp_traverse visits them, and its size: *size holds object.__sizeof__
 * on entry, sys.getsizeof's (without the GC header) on return. */
struct hs_error *hs_stdlib_walk(struct walker *w, const struct hs_stdlib *s,
                                const struct hs_stdlib_obj *ob, uint64_t *size);
struct hs_error *hs_walk_and_write(struct hs_memsrc *m, enum hs_method method, const char *exe,
                                   const char *out_path, const struct hs_capture_options *opts,
                                   struct hs_capture_stats *stats);

#endif
