/*
 * dwarf.c — the one file that speaks libdwarf.  It finds the DWARF of a libpython (in the file,
 * through .gnu_debuglink, or under /usr/lib/debug/.build-id), finds the structs and typedefs
 * named in HS_LAYOUT_FIELDS, and resolves each member path to a byte offset, flattening the
 * anonymous unions and structs CPython uses.  The result is cached per build-id, because a full
 * scan of libpython's DWARF takes a second or more.  The same loader serves other tables
 * (hs_layout_load_table): kinds_stdlib.c's, over libpython and the stdlib's extension modules.
 * libdwarf's DW_DLV_* results and error objects never leave this file.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libdwarf/dwarf.h>
#include <libdwarf/libdwarf.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* The distinct type names of the table, with the DIE offset of a complete definition. */
struct wanted {
	char name[64];
	Dwarf_Off off; /* 0 = not found yet */
};

static bool file_exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether buf names a debug file (its own .debug_info) for the file whose build-id is want
 * ("" when the file has none, then any debug file will do). */
static bool debug_file_ok(const char *buf, const char *want)
{
	struct hs_elf_info di;
	if (!file_exists(buf))
		return false;
	struct hs_error *err = hs_elf_info(buf, &di);
	bool ok = !err && di.has_debug_info && (!want[0] || !strcmp(di.build_id, want));
	hs_error_destroy(err);
	return ok;
}

bool hs_debug_file(const struct hs_file *f, const struct hs_elf_info *info,
                   const struct hs_layout_opts *lo, char *buf, size_t size)
{
	if (info->has_debug_info) {
		snprintf(buf, size, "%s", f->open);
		return true;
	}
	char rootdbg[PATH_MAX];
	snprintf(rootdbg, sizeof(rootdbg), "%s/usr/lib/debug", f->root);
	const char *roots[] = {lo ? lo->debug_dir : NULL, rootdbg,
	                       f->root[0] ? "/usr/lib/debug" : NULL};
	for (size_t r = 0; r < 3 && strlen(info->build_id) > 2; r++) {
		if (!roots[r])
			continue;
		snprintf(buf, size, "%s/.build-id/%.2s/%s.debug", roots[r], info->build_id,
		         info->build_id + 2);
		if (debug_file_ok(buf, info->build_id))
			return true;
	}
	if (!info->debuglink[0] || strchr(info->debuglink, '/'))
		return false;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", f->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	const char *forms[] = {"%s%s/%s", "%s%s/.debug/%s", "%s/usr/lib/debug%s/%s"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(buf, size, forms[i], f->root, dir, info->debuglink);
		if (debug_file_ok(buf, info->build_id))
			return true;
	}
	return false;
}

/* Strips typedefs and qualifiers from the type at off; returns the DIE (caller deallocs). */
static Dwarf_Die strip_type(Dwarf_Debug dbg, Dwarf_Off off)
{
	for (int depth = 0; depth < 16; depth++) {
		Dwarf_Die die;
		Dwarf_Error e = NULL;
		if (dwarf_offdie_b(dbg, off, 1, &die, &e) != DW_DLV_OK)
			return NULL;
		Dwarf_Half tag = 0;
		dwarf_tag(die, &tag, &e);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type &&
		    tag != DW_TAG_volatile_type)
			return die;
		Dwarf_Attribute a;
		int r = dwarf_attr(die, DW_AT_type, &a, &e);
		if (r != DW_DLV_OK || dwarf_global_formref(a, &off, &e) != DW_DLV_OK) {
			dwarf_dealloc_die(die);
			return NULL;
		}
		dwarf_dealloc_die(die);
	}
	return NULL;
}

static bool die_flag(Dwarf_Die die, Dwarf_Half attr)
{
	Dwarf_Bool has = 0;
	Dwarf_Error e = NULL;
	return dwarf_hasattr(die, attr, &has, &e) == DW_DLV_OK && has;
}

static int64_t die_udata(Dwarf_Die die, Dwarf_Half attr)
{
	Dwarf_Attribute a;
	Dwarf_Error e = NULL;
	Dwarf_Unsigned v;
	if (dwarf_attr(die, attr, &a, &e) != DW_DLV_OK || dwarf_formudata(a, &v, &e) != DW_DLV_OK)
		return -1;
	return (int64_t)v;
}

static bool die_type_off(Dwarf_Die die, Dwarf_Off *ret)
{
	Dwarf_Attribute a;
	Dwarf_Error e = NULL;
	return dwarf_attr(die, DW_AT_type, &a, &e) == DW_DLV_OK &&
	       dwarf_global_formref(a, ret, &e) == DW_DLV_OK;
}

/* Finds member `name` of the struct/union at off, looking into anonymous members (a bounded
 * explicit stack, no recursion); returns its offset and writes its type's DIE offset. */
static int64_t find_member(Dwarf_Debug dbg, Dwarf_Off off, const char *name, size_t len,
                           Dwarf_Off *type_ret)
{
	struct {
		Dwarf_Off off;
		int64_t base;
	} stack[16];
	int sp = 0;
	stack[sp++].off = off;
	stack[0].base = 0;
	while (sp > 0) {
		sp--;
		Dwarf_Off cur = stack[sp].off;
		int64_t base = stack[sp].base;
		Dwarf_Die s = strip_type(dbg, cur), child = NULL;
		Dwarf_Error e = NULL;
		if (!s)
			continue;
		int r = dwarf_child(s, &child, &e);
		dwarf_dealloc_die(s);
		while (r == DW_DLV_OK) {
			Dwarf_Half tag = 0;
			dwarf_tag(child, &tag, &e);
			char *n = NULL;
			if (tag == DW_TAG_member) {
				int64_t loc = die_udata(child, DW_AT_data_member_location);
				if (loc < 0)
					loc = 0; /* union members */
				Dwarf_Off t = 0;
				bool has_t = die_type_off(child, &t);
				if (dwarf_diename(child, &n, &e) != DW_DLV_OK) {
					if (has_t && sp < 16)
						stack[sp++] = (typeof(stack[0])){t, base + loc};
				} else if (strlen(n) == len && !memcmp(n, name, len)) {
					dwarf_dealloc_die(child);
					*type_ret = has_t ? t : 0;
					return base + loc;
				}
			}
			Dwarf_Die next = NULL;
			r = dwarf_siblingof_b(dbg, child, 1, &next, &e);
			dwarf_dealloc_die(child);
			child = next;
		}
	}
	return -1;
}

/* The offset of a dotted member path in the type at off, or its size for "sizeof"; -1. */
static int64_t resolve_path(Dwarf_Debug dbg, Dwarf_Off off, const char *path, size_t plen)
{
	if (plen == 6 && !memcmp(path, "sizeof", 6)) {
		Dwarf_Die d = strip_type(dbg, off);
		int64_t v = d ? die_udata(d, DW_AT_byte_size) : -1;
		if (d)
			dwarf_dealloc_die(d);
		return v;
	}
	int64_t total = 0;
	const char *p = path, *end = path + plen;
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);
		Dwarf_Off t = 0;
		int64_t o = find_member(dbg, off, p, n, &t);
		if (o < 0)
			return -1;
		total += o;
		off = t;
		p += n + (dot ? 1 : 0);
	}
	return total;
}

/* Scans every CU's top-level DIEs for complete definitions of the wanted names. */
static void scan_types(Dwarf_Debug dbg, struct wanted *w, size_t nw)
{
	size_t found = 0;
	Dwarf_Error e = NULL;
	for (;;) {
		Dwarf_Unsigned hlen, abbr, typeoff, next;
		Dwarf_Half ver, asz, lsz, esz, cutype;
		Dwarf_Off abbrev;
		Dwarf_Sig8 sig;
		(void)abbr;
		int r = dwarf_next_cu_header_d(dbg, 1, &hlen, &ver, &abbrev, &asz, &lsz, &esz, &sig,
		                               &typeoff, &next, &cutype, &e);
		if (r != DW_DLV_OK)
			break;
		Dwarf_Die cu = NULL, die = NULL;
		if (dwarf_siblingof_b(dbg, NULL, 1, &cu, &e) != DW_DLV_OK)
			continue;
		r = found < nw ? dwarf_child(cu, &die, &e) : DW_DLV_NO_ENTRY;
		dwarf_dealloc_die(cu);
		while (r == DW_DLV_OK) {
			Dwarf_Half tag = 0;
			char *name = NULL;
			dwarf_tag(die, &tag, &e);
			if ((tag == DW_TAG_structure_type || tag == DW_TAG_union_type ||
			     tag == DW_TAG_typedef) &&
			    dwarf_diename(die, &name, &e) == DW_DLV_OK) {
				for (size_t i = 0; i < nw; i++) {
					if (w[i].off || strcmp(w[i].name, name) != 0)
						continue;
					Dwarf_Off o = 0;
					if (tag == DW_TAG_typedef) {
						Dwarf_Off t;
						Dwarf_Die s = die_type_off(die, &t)
						                  ? strip_type(dbg, t)
						                  : NULL;
						if (s && !die_flag(s, DW_AT_declaration))
							dwarf_dieoffset(s, &o, &e);
						if (s)
							dwarf_dealloc_die(s);
					} else if (!die_flag(die, DW_AT_declaration)) {
						dwarf_dieoffset(die, &o, &e);
					}
					if (o) {
						w[i].off = o;
						found++;
					}
				}
			}
			Dwarf_Die next_die = NULL;
			r = dwarf_siblingof_b(dbg, die, 1, &next_die, &e);
			dwarf_dealloc_die(die);
			die = next_die;
		}
	}
}

/* Resolves every entry of table t from the DWARF in debug_path into ret[0..t->n) (-1: absent). */
static struct hs_error *layout_from_dwarf(const char *debug_path, const struct hs_layout_table *t,
                                          int64_t *ret)
{
	Dwarf_Debug dbg = NULL;
	Dwarf_Error e = NULL;
	char true_path[PATH_MAX];
	int r = dwarf_init_path(debug_path, true_path, sizeof(true_path), DW_DLC_READ,
	                        DW_GROUPNUMBER_ANY, NULL, NULL, &dbg, NULL, 0, NULL, &e);
	if (r != DW_DLV_OK) {
		struct hs_error *err =
		    hs_error_create(HS_ERROR_FORMAT, "%s: cannot read DWARF: %s", debug_path,
		                    r == DW_DLV_ERROR ? dwarf_errmsg(e) : "no debug sections");
		if (r == DW_DLV_ERROR)
			dwarf_dealloc_error(dbg, e);
		return err;
	}
	struct wanted *w = calloc(t->n ? t->n : 1, sizeof(*w));
	if (!w) {
		dwarf_finish(dbg, &e);
		return &hs_error_nomem;
	}
	size_t nw = 0;
	for (size_t f = 0; f < t->n; f++) {
		const char *p = t->types[f];
		while (*p) {
			size_t n = strcspn(p, "|");
			bool seen = false;
			for (size_t i = 0; i < nw && !seen; i++)
				seen = strlen(w[i].name) == n && !memcmp(w[i].name, p, n);
			if (!seen && n < sizeof(w[0].name)) {
				memcpy(w[nw].name, p, n);
				w[nw].name[n] = 0;
				w[nw++].off = 0;
			}
			p += n + (p[n] == '|');
		}
	}
	scan_types(dbg, w, nw);
	for (size_t f = 0; f < t->n; f++) {
		ret[f] = -1;
		for (const char *ty = t->types[f]; *ty && ret[f] < 0;) {
			size_t tn = strcspn(ty, "|");
			Dwarf_Off off = 0;
			for (size_t i = 0; i < nw; i++)
				if (strlen(w[i].name) == tn && !memcmp(w[i].name, ty, tn))
					off = w[i].off;
			for (const char *m = t->members[f]; off && *m && ret[f] < 0;) {
				size_t mn = strcspn(m, "|");
				ret[f] = resolve_path(dbg, off, m, mn);
				m += mn + (m[mn] == '|');
			}
			ty += tn + (ty[tn] == '|');
		}
	}
	free(w);
	dwarf_finish(dbg, &e);
	return NULL;
}

/* The cache directory into buf: dir, or $XDG_CACHE_HOME/heapsnap, or ~/.cache/heapsnap with ~ from
 * $HOME or the password database; false when there is none (never a shared directory such as
 * /tmp: another user could plant entries there). */
static bool cache_dir_path(const char *dir, char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(geteuid());
		home = pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
	}
	int n;
	if (dir)
		n = snprintf(buf, size, "%s", dir);
	else if (xdg && *xdg)
		n = snprintf(buf, size, "%s/heapsnap", xdg);
	else if (home)
		n = snprintf(buf, size, "%s/.cache/heapsnap", home);
	else
		return false;
	return n > 0 && (size_t)n < size;
}

/* Creates the cache directory (and its parents) 0700 when missing, and accepts it only when it
 * is a real directory (not a symlink) owned by this user and not writable or readable by
 * others: anyone who can write an entry chooses the offsets every later capture uses.  A refusal
 * is said on stderr (one line) and the capture goes on without the cache. */
static bool cache_dir_ok(const char *dir)
{
	char tmp[PATH_MAX + 64];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		mkdir(tmp, 0700);
		*p = '/';
	}
	mkdir(dir, 0700);
	struct stat st;
	if (lstat(dir, &st) != 0)
		return false;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		fprintf(stderr,
		        "heapsnap: layout cache %s not used: %s (it must be a directory of uid %d, "
		        "mode 0700)\n",
		        dir,
		        !S_ISDIR(st.st_mode)     ? "not a directory"
		        : st.st_uid != geteuid() ? "owned by another user"
		                                 : "open to other users",
		        (int)geteuid());
		return false;
	}
	return true;
}

/* The cache file name into buf: the build-id plus a checksum of the field table, so that a
 * changed table never reads an old cache.  False when there is no usable cache directory. */
static bool cache_path(const char *dir, const char *build_id, const struct hs_layout_table *t,
                       char *buf, size_t size)
{
	uint32_t crc = 0;
	for (size_t f = 0; f < t->n; f++) {
		crc = hs_crc32c(crc, t->types[f], strlen(t->types[f]) + 1);
		crc = hs_crc32c(crc, t->members[f], strlen(t->members[f]) + 1);
	}
	char d[PATH_MAX];
	if (!cache_dir_path(dir, d, sizeof(d)) || !cache_dir_ok(d))
		return false;
	int n = snprintf(buf, size, "%s/layout-%s-%08x.txt", d, build_id, crc);
	return n > 0 && (size_t)n < size;
}

/* The checksum of an entry's n values, its last line. */
static uint32_t layout_crc(const int64_t *v, size_t n)
{
	return hs_crc32c(0x68736c61u, v, n * sizeof(*v));
}

/* Reads an entry: n offsets, then their checksum, into ret (n values).  Returns 1 when it is
 * whole and plausible, 0 when there is none, -1 when it is bad (the caller rebuilds it). */
static int cache_read(const char *path, int64_t *ret, size_t n)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat st;
	FILE *f = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
	                  st.st_size < 65536
	              ? fdopen(fd, "r")
	              : NULL;
	if (!f) {
		close(fd);
		return -1;
	}
	int64_t *l = calloc(n ? n : 1, sizeof(*l));
	size_t i = 0;
	long long v;
	unsigned long long crc = 0;
	while (l && i < n && fscanf(f, "%lld", &v) == 1 && v >= -1 && v < (1 << 20))
		l[i++] = v;
	bool ok = l && i == n && fscanf(f, " crc %llx", &crc) == 1 && crc == layout_crc(l, n);
	fclose(f);
	if (ok)
		memcpy(ret, l, n * sizeof(*l));
	free(l);
	return ok ? 1 : -1;
}

/* Writes an entry through hs_out_open's private temporary and a rename; failures are ignored
 * (the cache is an optimisation). */
static void cache_write(const char *path, const int64_t *l, size_t n)
{
	struct hs_out o;
	if (hs_out_open(path, &o))
		return;
	FILE *f = fdopen(o.fd, "w");
	if (!f) {
		hs_out_abort(&o);
		return;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%lld\n", (long long)l[i]);
	fprintf(f, "crc %08x\n", (unsigned)layout_crc(l, n));
	bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	o.fd = -1;
	if (ok)
		hs_error_destroy(hs_out_commit(&o));
	else
		hs_out_abort(&o);
}

struct hs_error *hs_layout_load_table(const struct hs_file *f, const struct hs_layout_opts *lo,
                                      const struct hs_layout_table *t, int64_t *ret)
{
	const char *elf_path = f->open;
	assert(!lo || !lo->no_dwarf);
	const char *cache_dir = lo ? lo->cache_dir : NULL;
	struct hs_elf_info info;
	struct hs_error *err = hs_elf_info(elf_path, &info);
	if (err)
		return err;
	char cpath[PATH_MAX + 64];
	bool cached =
	    info.build_id[0] && cache_path(cache_dir, info.build_id, t, cpath, sizeof(cpath));
	int got = cached ? cache_read(cpath, ret, t->n) : 0;
	if (got > 0)
		return NULL;
	if (got < 0)
		fprintf(stderr, "heapsnap: layout cache %s: bad entry, rebuilt from the DWARF\n",
		        cpath);
	char dbg[PATH_MAX];
	if (!hs_debug_file(f, &info, lo, dbg, sizeof(dbg)))
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: no DWARF debug information (build-id %s) in the file, "
		                       "its .gnu_debuglink or a .build-id directory",
		                       f->path, info.build_id[0] ? info.build_id : "none");
	err = layout_from_dwarf(dbg, t, ret);
	if (!err && cached)
		cache_write(cpath, ret, t->n);
	return err;
}
