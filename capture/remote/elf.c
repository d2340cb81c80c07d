/*
 * elf.c — what the capture needs from ELF files on disk, through libelf: symbol values (the
 * runtime, the static types, subtype_traverse), the build-id, the .gnu_debuglink name and the
 * first PT_LOAD address (for the load bias); and the one way the capture opens a file a target
 * or a core names (hs_open_regular: never a FIFO or a device).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* What a file that is not a regular one is, for messages. */
static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFDIR:
		return "a directory";
	case S_IFSOCK:
		return "a socket";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "not a regular file";
	}
}

struct hs_error *hs_open_regular(const char *path, bool follow, int *fd_ret, struct stat *st_ret)
{
	struct stat before, st;
	if ((follow ? stat(path, &before) : lstat(path, &before)) != 0)
		return hs_error_errno(errno, path, "open");
	if (!S_ISREG(before.st_mode))
		return hs_error_create(HS_ERROR_IO, "%s: %s, not a regular file: not opened", path,
		                       file_kind(before.st_mode));
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return hs_error_errno(errno, path, "open");
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != before.st_dev ||
	    st.st_ino != before.st_ino) {
		close(fd);
		return hs_error_create(HS_ERROR_IO, "%s: replaced while being opened", path);
	}
	*fd_ret = fd;
	if (st_ret)
		*st_ret = st;
	return NULL;
}

static struct hs_error *open_elf(const char *path, int *fd, Elf **e)
{
	elf_version(EV_CURRENT);
	struct hs_error *err = hs_open_regular(path, true, fd, NULL);
	if (err)
		return err;
	*e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!*e || elf_kind(*e) != ELF_K_ELF) {
		if (*e)
			elf_end(*e);
		close(*fd);
		return hs_error_create(HS_ERROR_FORMAT, "%s: offset 0: not an ELF file", path);
	}
	return NULL;
}

/* Whether the symbol table's name is the static function or object `want`: the same name, or the
 * name link-time optimisation gives a static it keeps (want.lto_priv.N, as in Debian's python3),
 * never the cold part GCC splits off it (want.lto_priv.N.cold). */
static bool same_symbol(const char *name, const char *want)
{
	size_t n = strlen(want);
	if (strncmp(name, want, n) != 0)
		return false;
	if (!name[n])
		return true;
	/* NAME.lto_priv.N exactly: not its split-off NAME.lto_priv.N.cold part */
	const char *d = name + n + 10;
	return !strncmp(name + n, ".lto_priv.", 10) && *d && strspn(d, "0123456789") == strlen(d);
}

struct hs_error *hs_elf_symbols(const char *path, struct hs_elf_sym *syms, size_t n,
                                bool dynsym_only)
{
	int fd;
	Elf *e;
	struct hs_error *err = open_elf(path, &fd, &e);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		syms[i].value = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_DYNSYM && (dynsym_only || sh.sh_type != SHT_SYMTAB)))
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !sh.sh_entsize)
			continue;
		size_t count = sh.sh_size / sh.sh_entsize;
		for (size_t k = 0; k < count; k++) {
			GElf_Sym sym;
			if (!gelf_getsym(d, (int)k, &sym) || !sym.st_value ||
			    sym.st_shndx == SHN_UNDEF)
				continue;
			const char *name = elf_strptr(e, sh.sh_link, sym.st_name);
			if (!name || !name[0])
				continue;
			for (size_t i = 0; i < n; i++)
				if (!syms[i].value && same_symbol(name, syms[i].name))
					syms[i].value = sym.st_value;
		}
	}
	elf_end(e);
	close(fd);
	return NULL;
}

struct hs_error *hs_elf_info(const char *path, struct hs_elf_info *ret)
{
	int fd;
	Elf *e;
	struct hs_error *err = open_elf(path, &fd, &e);
	if (err)
		return err;
	struct hs_elf_info info = {0};
	GElf_Ehdr eh;
	size_t shstrndx = 0, nph = 0;
	if (gelf_getehdr(e, &eh)) {
		info.is_core = eh.e_type == ET_CORE;
		info.machine = eh.e_machine;
	}
	info.elf64 = gelf_getclass(e) == ELFCLASS64;
	elf_getshdrstrndx(e, &shstrndx);
	if (elf_getphdrnum(e, &nph) == 0) {
		for (size_t i = 0; i < nph; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD) {
				info.first_load_vaddr = ph.p_vaddr & ~(uint64_t)0xfff;
				break;
			}
		}
	}
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (!strcmp(name, ".debug_info") && sh.sh_type != SHT_NOBITS)
			info.has_debug_info = true;
		Elf_Data *d;
		if (!strcmp(name, ".gnu_debuglink") && (d = elf_getdata(scn, NULL)) && d->d_size) {
			size_t l = strnlen(d->d_buf, d->d_size);
			if (l < sizeof(info.debuglink))
				memcpy(info.debuglink, d->d_buf, l);
		}
		if (sh.sh_type == SHT_NOTE && (d = elf_getdata(scn, NULL))) {
			size_t off = 0, noff, doff;
			GElf_Nhdr nh;
			while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
				if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
				    memcmp((char *)d->d_buf + noff, "GNU", 4) != 0 ||
				    nh.n_descsz * 2 >= sizeof(info.build_id))
					continue;
				for (size_t i = 0; i < nh.n_descsz; i++)
					sprintf(info.build_id + 2 * i, "%02x",
					        ((uint8_t *)d->d_buf)[doff + i]);
			}
		}
	}
	elf_end(e);
	close(fd);
	*ret = info;
	return NULL;
}
