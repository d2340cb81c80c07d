/*
 * memsrc.c — the memory sources behind the walker: a live pid (stopped with ptrace while it is
 * walked; the pages the walk touches are read on demand, in batched process_vm_readv calls, into
 * a page cache, so that a large buffer nobody reads is never copied), an ELF core file (PT_LOAD
 * segments mapped from the core, plus the NT_FILE files for the read-only pages a core omits),
 * and a caller's read callback (gdb) behind the same page cache.  All three end up as one struct
 * hs_memsrc that hs_mem_read serves.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define PAGE 4096u

/* A memory region to release on deinit: an mmap (len > 0) or a malloc (len == 0). */
struct hs_region {
	struct hs_region *next;
	void *addr;
	size_t len;
};

/* The page cache of a live pid and of a callback source: open addressing on page addresses, a
 * NULL data pointer in a used slot remembering an unreadable page, and in front of it a small
 * direct-mapped table of the pages last used.  Pages are carved from slabs of SLAB_PAGES pages. */
#define TLB_SIZE 512
#define SLAB_PAGES 256
struct hs_pagecache {
	uint64_t *keys; /* page address + 1; 0 = empty slot */
	uint8_t **data;
	size_t cap, used;
	uint64_t tlb_key[TLB_SIZE]; /* page address + 1 */
	const uint8_t *tlb_data[TLB_SIZE];
	uint8_t **slabs; /* mmaps of SLAB_PAGES pages */
	size_t nslabs;
	size_t slab_left; /* pages left in slabs[nslabs - 1] */
};

static double clock_seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_seconds(void)
{
	return clock_seconds(CLOCK_MONOTONIC);
}

static struct hs_error *keep_region(struct hs_memsrc *m, void *addr, size_t len)
{
	struct hs_region *r = malloc(sizeof(*r));
	if (!r)
		return &hs_error_nomem;
	r->addr = addr;
	r->len = len;
	r->next = m->regions;
	m->regions = r;
	return NULL;
}

static struct hs_error *push_seg(struct hs_memseg **segs, size_t *n, size_t *cap, uint64_t start,
                                 uint64_t end, const uint8_t *data)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct hs_memseg *p = realloc(*segs, nc * sizeof(*p));
		if (!p)
			return &hs_error_nomem;
		*segs = p;
		*cap = nc;
	}
	(*segs)[(*n)++] = (struct hs_memseg){start, end, data};
	return NULL;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct hs_memseg *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static struct hs_error *add_mapping(struct hs_memsrc *m, uint64_t start, uint64_t end, uint64_t off,
                                    const char *path)
{
	struct hs_mapping *p = realloc(m->maps, (m->nmaps + 1) * sizeof(*p));
	if (!p)
		return &hs_error_nomem;
	m->maps = p;
	char *copy = strdup(path ? path : "");
	if (!copy)
		return &hs_error_nomem;
	m->maps[m->nmaps++] = (struct hs_mapping){start, end, off, copy};
	return NULL;
}

/* Finds the segment holding addr in a sorted array, or NULL. */
static const struct hs_memseg *find_seg(const struct hs_memseg *segs, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (segs[mid].end <= addr)
			lo = mid + 1;
		else if (segs[mid].start > addr)
			hi = mid;
		else
			return &segs[mid];
	}
	return NULL;
}

/* Whether addr is served by the page cache: any address of a callback source, an address in a
 * readable mapping of a live pid (then *end is where that mapping ends). */
static bool cached_range(const struct hs_memsrc *m, uint64_t addr, uint64_t *end)
{
	if (m->read) {
		*end = UINT64_MAX;
		return true;
	}
	const struct hs_memseg *s = m->nlive ? find_seg(m->live, m->nlive, addr) : NULL;
	if (!s)
		return false;
	*end = s->end;
	return true;
}

/* The slot of key in c: where it is, or the empty slot where it goes. */
static size_t cache_slot(const struct hs_pagecache *c, uint64_t key)
{
	size_t j = (size_t)((key / PAGE) * 0x9E3779B97F4A7C15ull) & (c->cap - 1);
	while (c->keys[j] && c->keys[j] != key)
		j = (j + 1) & (c->cap - 1);
	return j;
}

static bool cache_grow(struct hs_pagecache *c)
{
	size_t nc = c->cap ? c->cap * 2 : 4096;
	uint64_t *nk = hs_zalloc(nc, sizeof(*nk));
	uint8_t **nd = hs_zalloc(nc, sizeof(*nd));
	if (!nk || !nd) {
		free(nk);
		free(nd);
		return false;
	}
	struct hs_pagecache old = *c;
	c->keys = nk;
	c->data = nd;
	c->cap = nc;
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.keys[i])
			continue;
		size_t j = cache_slot(c, old.keys[i]);
		nk[j] = old.keys[i];
		nd[j] = old.data[i];
	}
	free(old.keys);
	free(old.data);
	return true;
}

static struct hs_pagecache *cache_new(void)
{
	struct hs_pagecache *c = calloc(1, sizeof(*c));
	if (c && !cache_grow(c)) {
		free(c);
		return NULL;
	}
	return c;
}

static void cache_free(struct hs_pagecache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nslabs; i++)
		munmap(c->slabs[i], (size_t)SLAB_PAGES * PAGE);
	free(c->slabs);
	free(c->keys);
	free(c->data);
	free(c);
}

/* A page of memory for the cache, from its current slab (a new one when it is used up). */
static uint8_t *page_alloc(struct hs_pagecache *c)
{
	if (!c->slab_left) {
		uint8_t **ns = realloc(c->slabs, (c->nslabs + 1) * sizeof(*ns));
		if (!ns)
			return NULL;
		c->slabs = ns;
		/* Populated: one call maps the slab rather than a fault per page. */
		void *p = mmap(NULL, (size_t)SLAB_PAGES * PAGE, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		c->slabs[c->nslabs++] = p;
		c->slab_left = SLAB_PAGES;
	}
	return c->slabs[c->nslabs - 1] + (SLAB_PAGES - c->slab_left--) * (size_t)PAGE;
}

/* Records page in the cache: its bytes, or NULL when it cannot be read. */
static void cache_put(struct hs_pagecache *c, uint64_t page, uint8_t *data)
{
	size_t j = cache_slot(c, page + 1);
	c->used += !c->keys[j];
	c->keys[j] = page + 1;
	c->data[j] = data;
}

/* Reads the k pages remote[0..k) into local[0..k) and caches them: a live pid's in as few
 * process_vm_readv calls as the readable pages allow (one, unless a page fails: it is remembered
 * as unreadable and the read goes on after it), a callback's page by page. */
static void read_batch(struct hs_memsrc *m, struct iovec *local, struct iovec *remote, size_t k)
{
	struct hs_pagecache *c = m->cache;
	for (size_t i = 0; i < k;) {
		size_t ok = 0, tried = k - i; /* pages read, of pages tried */
		if (m->read) {
			tried = 1;
			ok = m->read(m->read_ctx, (uint64_t)(uintptr_t)remote[i].iov_base,
			             local[i].iov_base, PAGE) == 0;
		} else if (!m->gone && m->stopped) { /* never a process that runs */
			double t0 = now_seconds();
			ssize_t got =
			    process_vm_readv(m->pid, local + i, k - i, remote + i, k - i, 0);
			m->read_seconds += now_seconds() - t0;
			if (got < 0 && errno == ESRCH)
				m->gone = true; /* reported when the target is resumed */
			ok = got > 0 ? (size_t)got / PAGE : 0;
		}
		for (size_t j = i; j < i + ok; j++)
			cache_put(c, (uint64_t)(uintptr_t)remote[j].iov_base, local[j].iov_base);
		m->bytes_read += ok * PAGE;
		i += ok;
		if (ok < tried) /* remote[i] cannot be read */
			cache_put(c, (uint64_t)(uintptr_t)remote[i++].iov_base, NULL);
	}
}

/* Reads into the cache the pages of [first, first + n pages) that it lacks, in batches. */
static void cache_fill(struct hs_memsrc *m, uint64_t first, size_t n)
{
	enum { BATCH = 256 };
	struct hs_pagecache *c = m->cache;
	struct iovec local[BATCH], remote[BATCH];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t page = first + i * PAGE;
		if ((c->used + k + 1) * 2 > c->cap) {
			read_batch(m, local, remote, k);
			k = 0;
			if (!cache_grow(c))
				return;
		}
		if (c->keys[cache_slot(c, page + 1)])
			continue;
		uint8_t *buf = page_alloc(c);
		if (!buf)
			break;
		local[k] = (struct iovec){buf, PAGE};
		remote[k++] = (struct iovec){(void *)(uintptr_t)page, PAGE};
		if (k == BATCH) {
			read_batch(m, local, remote, k);
			k = 0;
		}
	}
	read_batch(m, local, remote, k);
}

/* The cached bytes of page, reading it first (with the n - 1 pages after it, as one batch) when
 * the cache lacks it; NULL when it cannot be read. */
static const uint8_t *cache_page(struct hs_memsrc *m, uint64_t page, size_t n)
{
	struct hs_pagecache *c = m->cache;
	size_t t = (size_t)(page / PAGE) & (TLB_SIZE - 1);
	if (c->tlb_key[t] == page + 1)
		return c->tlb_data[t];
	size_t j = cache_slot(c, page + 1);
	if (!c->keys[j]) {
		cache_fill(m, page, n);
		j = cache_slot(c, page + 1);
		if (!c->keys[j])
			return NULL; /* out of memory */
	}
	c->tlb_key[t] = page + 1;
	c->tlb_data[t] = c->data[j];
	return c->data[j];
}

/* The segment holding addr: the last one hit, else by binary search. */
static const struct hs_memseg *seg_at(struct hs_memsrc *m, uint64_t addr)
{
	if (m->last < m->nsegs && m->segs[m->last].start <= addr && addr < m->segs[m->last].end)
		return &m->segs[m->last];
	const struct hs_memseg *s = find_seg(m->segs, m->nsegs, addr);
	if (s)
		m->last = (size_t)(s - m->segs);
	return s;
}

const uint8_t *hs_mem_peek(struct hs_memsrc *m, uint64_t addr, size_t len)
{
	uint64_t page = addr & ~(uint64_t)(PAGE - 1), end;
	struct hs_pagecache *c = m->cache;
	if (c && addr - page + len <= PAGE) {
		size_t t = (size_t)(page / PAGE) & (TLB_SIZE - 1);
		const uint8_t *p = NULL;
		if (c->tlb_key[t] == page + 1)
			p = c->tlb_data[t];
		else if (c->keys[cache_slot(c, page + 1)] || cached_range(m, addr, &end))
			p = cache_page(m, page, 1);
		else
			goto segments;
		return p ? p + (addr - page) : NULL;
	}
segments:;
	const struct hs_memseg *s = seg_at(m, addr);
	if (!s || s->end - addr < len)
		return NULL;
	return s->data + (addr - s->start);
}

bool hs_mem_read(struct hs_memsrc *m, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;
	if (addr + len < addr)
		return false;
	while (len) {
		const struct hs_memseg *s = seg_at(m, addr);
		uint64_t end;
		size_t n;
		if (!s && cached_range(m, addr, &end)) {
			if (!m->cache)
				return false; /* the target runs again: nothing more is read */
			uint64_t page = addr & ~(uint64_t)(PAGE - 1);
			uint64_t stop = end - addr < len ? end : addr + len;
			const uint8_t *p =
			    cache_page(m, page, (size_t)((stop - page + PAGE - 1) / PAGE));
			if (!p)
				return false;
			n = page + PAGE - addr < len ? (size_t)(page + PAGE - addr) : len;
			memcpy(out, p + (addr - page), n);
		} else {
			if (!s)
				s = find_seg(m->fsegs, m->nfsegs, addr);
			if (!s)
				return false;
			n = s->end - addr < len ? (size_t)(s->end - addr) : len;
			memcpy(out, s->data + (addr - s->start), n);
		}
		out += n;
		addr += n;
		len -= n;
	}
	return true;
}

static void sort_segs(struct hs_memseg *segs, size_t n)
{
	if (n > 1)
		qsort(segs, n, sizeof(*segs), cmp_seg);
}

/* Serves the file-backed mappings from their files: for a core, the pages it omits; for a pid,
 * the executable mappings it does not read.  Only regular files are opened (a FIFO or a device a
 * hostile core names is not), and only those whose size reaches the mapping's last page (a file
 * that is shorter is not the one that was mapped); the others are skipped. */
static struct hs_error *add_file_fallback(struct hs_memsrc *m)
{
	for (size_t i = 0; i < m->nmaps; i++) {
		const struct hs_mapping *mp = &m->maps[i];
		if (!mp->path || mp->path[0] != '/' || mp->end <= mp->start ||
		    (mp->start | mp->end) % PAGE)
			continue;
		int fd;
		struct stat st;
		struct hs_error *err = hs_open_regular(mp->path, false, &fd, &st);
		if (err) {
			hs_error_destroy(err);
			continue;
		}
		uint64_t len = mp->end - mp->start, size = (uint64_t)st.st_size;
		uint64_t have = size > mp->file_offset ? size - mp->file_offset : 0;
		void *p = have && have + PAGE > len && mp->file_offset % PAGE == 0
		              ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, (off_t)mp->file_offset)
		              : MAP_FAILED;
		close(fd);
		if (p == MAP_FAILED)
			continue;
		err = keep_region(m, p, len);
		if (!err)
			err = push_seg(&m->fsegs, &m->nfsegs, &m->fsegs_cap, mp->start, mp->end, p);
		if (err)
			return err;
	}
	sort_segs(m->fsegs, m->nfsegs);
	return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Live pid
 */

/* A thread left running because it sleeps in a system call that any stop ends with EINTR (the
 * kernel restarts the others unseen): where it sleeps and how often it has been switched out,
 * read again after the walk to prove that it did not run meanwhile. */
struct spared {
	pid_t tid;
	char where[256]; /* /proc/TID/syscall: number, arguments, stack and instruction pointer */
	long switches;   /* voluntary + involuntary context switches */
};

struct hs_tracee {
	pid_t *tids; /* seized and stopped */
	size_t n, cap;
	struct spared *spared;
	size_t nspared, spared_cap;
	bool spare; /* whether to spare threads in EINTR calls (false on the retry) */
};

static bool tracee_has(const struct hs_tracee *t, pid_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->tids[i] == tid)
			return true;
	for (size_t i = 0; i < t->nspared; i++)
		if (t->spared[i].tid == tid)
			return true;
	return false;
}

static void detach_all(struct hs_tracee *t)
{
	for (size_t i = 0; i < t->n; i++)
		ptrace(PTRACE_DETACH, t->tids[i], NULL, NULL);
	free(t->tids);
	free(t->spared);
	*t = (struct hs_tracee){.spare = t->spare};
}

/* Interrupts a seized thread and waits for its stop; false when it exited instead.  A signal
 * that arrives first is delivered (PTRACE_CONT with it) and the wait goes on. */
static bool interrupt_one(pid_t tid)
{
	ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
	for (int i = 0; i < 1000; i++) {
		int status;
		pid_t r = waitpid(tid, &status, __WALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || WIFEXITED(status) || WIFSIGNALED(status))
			return false;
		if (WIFSTOPPED(status) && (status >> 16) == PTRACE_EVENT_STOP)
			return true;
		if (WIFSTOPPED(status))
			ptrace(PTRACE_CONT, tid, NULL, (void *)(long)WSTOPSIG(status));
	}
	return false;
}

#define PF_KTHREAD 0x00200000 /* /proc/PID/stat flags: a kernel thread (linux/sched.h) */

/* Refuses, before anything is attached, what ptrace would only answer EPERM for: a zombie (its
 * memory is gone; a zombie leader whose other threads live is left to ptrace) and a kernel
 * thread (it has no user memory).  Also says when pid does not exist. */
static struct hs_error *check_process(int pid)
{
	char path[64], buf[1024], comm[64] = "?";
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT
		           ? hs_error_create(HS_ERROR_IO, "process %d does not exist", pid)
		           : hs_error_errno(errno, path, "open");
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* pid (comm) state ppid pgrp session tty tpgid flags ... num_threads (field 20) */
	char *lp = strchr(buf, '('), *rp = strrchr(buf, ')'), state;
	int ppid;
	unsigned long flags;
	long threads;
	if (!lp || !rp || rp < lp ||
	    sscanf(rp + 1, " %c %d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld",
	           &state, &ppid, &flags, &threads) != 4)
		return NULL; /* unknown format: ptrace will tell */
	snprintf(comm, sizeof(comm), "%.*s", (int)(rp - lp - 1), lp + 1);
	if ((state == 'Z' || state == 'X') && threads <= 1)
		return hs_error_create(HS_ERROR_IO,
		                       "process %d (%s) is a zombie: it has exited and waits for "
		                       "its parent (process %d) to reap it; no memory is left",
		                       pid, comm, ppid);
	if (flags & PF_KTHREAD)
		return hs_error_create(HS_ERROR_IO,
		                       "process %d (%s) is a kernel thread: it has no user memory "
		                       "to capture",
		                       pid, comm);
	return NULL;
}

/* The number after "key" in /proc/TID/status (its first one for "Uid:", the real uid), or -1. */
static long status_field(pid_t tid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	FILE *f = fopen(path, "r");
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && sscanf(line + strlen(key), "%ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* Why PTRACE_SEIZE of thread tid of pid failed with errno er, as far as /proc tells. */
static struct hs_error *attach_error(int pid, pid_t tid, int er)
{
	long tracer = status_field(tid, "TracerPid:"), uid = status_field(tid, "Uid:");
	long scope = -1;
	FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
	if (f) {
		if (fscanf(f, "%ld", &scope) != 1)
			scope = -1;
		fclose(f);
	}
	const char *why = "";
	char buf[160];
	if (er == EPERM && tracer > 0) {
		snprintf(buf, sizeof(buf),
		         ": already traced by process %ld (a debugger or strace: one tracer at a "
		         "time)",
		         tracer);
		why = buf;
	} else if (er == EPERM && geteuid() != 0 && uid >= 0 && uid != (long)geteuid()) {
		snprintf(buf, sizeof(buf),
		         ": it belongs to uid %ld, not to uid %ld: run as that user or root", uid,
		         (long)geteuid());
		why = buf;
	} else if (er == EPERM && geteuid() != 0 && scope > 0) {
		snprintf(buf, sizeof(buf),
		         ": kernel.yama.ptrace_scope is %ld: run as root, or set it to 0", scope);
		why = buf;
	} else if (er == EPERM) {
		why = " (not dumpable, or a security module refused)";
	}
	return hs_error_create(HS_ERROR_IO, "process %d: cannot attach to thread %d: %s%s", pid,
	                       (int)tid, strerror(er), why);
}

/* Where tid sleeps, as /proc/TID/syscall says, and its context switches; false when it cannot
 * be read or tid is not asleep in a system call. */
static bool sleep_state(pid_t tid, char where[256], long *switches)
{
	char path[64];
	long vol = status_field(tid, "voluntary_ctxt_switches:");
	long invol = status_field(tid, "nonvoluntary_ctxt_switches:");
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool ok =
	    fgets(where, 256, f) && where[0] >= '0' && where[0] <= '9' && vol >= 0 && invol >= 0;
	fclose(f);
	*switches = vol + invol;
	return ok;
}

/* Whether tid sleeps in a system call that a stop would end with EINTR rather than restart
 * (signal(7): epoll_wait and epoll_pwait, semop and semtimedop, sigtimedwait, io_getevents), and
 * if so where (into sp). */
static bool in_eintr_call(pid_t tid, struct spared *sp)
{
#if defined(__x86_64__)
	static const long calls[] = {232 /* epoll_wait */,   281 /* epoll_pwait */,
	                             441 /* epoll_pwait2 */, 65 /* semop */,
	                             220 /* semtimedop */,   128 /* rt_sigtimedwait */,
	                             208 /* io_getevents */, 333 /* io_pgetevents */};
	if (!sleep_state(tid, sp->where, &sp->switches))
		return false;
	long nr = strtol(sp->where, NULL, 10);
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (nr == calls[i]) {
			sp->tid = tid;
			return true;
		}
#else
	(void)tid;
	(void)sp;
#endif
	return false;
}

/* Whether every spared thread still sleeps where it slept, never switched in since. */
static bool spared_slept(const struct hs_tracee *t)
{
	for (size_t i = 0; i < t->nspared; i++) {
		char where[256];
		long switches;
		if (!sleep_state(t->spared[i].tid, where, &switches) ||
		    strcmp(where, t->spared[i].where) || switches != t->spared[i].switches)
			return false;
	}
	return true;
}

/* Adds tid to the spared threads when t->spare and it sleeps in an EINTR call. */
static struct hs_error *spare_one(struct hs_tracee *t, pid_t tid, bool *ret)
{
	struct spared sp;
	*ret = t->spare && in_eintr_call(tid, &sp);
	if (!*ret)
		return NULL;
	if (t->nspared == t->spared_cap) {
		size_t nc = t->spared_cap ? t->spared_cap * 2 : 8;
		struct spared *p = realloc(t->spared, nc * sizeof(*p));
		if (!p)
			return &hs_error_nomem;
		t->spared = p;
		t->spared_cap = nc;
	}
	t->spared[t->nspared++] = sp;
	return NULL;
}

/* Seizes and interrupts every thread of pid, rescanning /proc/PID/task until no new thread
 * appears (a running thread may start another before it stops); a thread asleep in a call that
 * the stop would end with EINTR is spared instead when t->spare. */
static struct hs_error *stop_all(int pid, struct hs_tracee *t)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	for (int round = 0; round < 100; round++) {
		DIR *d = opendir(dir);
		if (!d) {
			if (errno == ENOENT)
				return hs_error_create(HS_ERROR_IO, "process %d does not exist",
				                       pid);
			return hs_error_errno(errno, dir, "open");
		}
		bool added = false;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			pid_t tid = (pid_t)atoi(e->d_name);
			if (tracee_has(t, tid))
				continue;
			bool spared;
			struct hs_error *err = spare_one(t, tid, &spared);
			if (err || spared) {
				if (err) {
					closedir(d);
					return err;
				}
				added = true;
				continue;
			}
			if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
				if (errno == ESRCH)
					continue; /* the thread just exited */
				int er = errno;
				closedir(d);
				return attach_error(pid, tid, er);
			}
			if (t->n == t->cap) {
				size_t nc = t->cap ? t->cap * 2 : 16;
				pid_t *p = realloc(t->tids, nc * sizeof(*p));
				if (!p) {
					ptrace(PTRACE_DETACH, tid, NULL, NULL);
					closedir(d);
					return &hs_error_nomem;
				}
				t->tids = p;
				t->cap = nc;
			}
			t->tids[t->n++] = tid;
			added = true;
			if (!interrupt_one(tid)) {
				t->n--; /* the thread is gone */
				if (tid == pid) {
					closedir(d);
					return hs_error_create(
					    HS_ERROR_IO, "process %d exited during capture", pid);
				}
			}
		}
		closedir(d);
		if (!t->n && !t->nspared)
			return hs_error_create(HS_ERROR_IO, "process %d exited during capture",
			                       pid);
		if (!added)
			return NULL;
	}
	return NULL;
}

/* Parses one /proc/PID/maps line into its fields; path may be empty. */
static bool parse_maps_line(char *line, uint64_t *start, uint64_t *end, char perms[5],
                            uint64_t *off, char **path)
{
	unsigned long long s, e, o;
	int n = 0;
	if (sscanf(line, "%llx-%llx %4s %llx %*s %*s%n", &s, &e, perms, &o, &n) < 4)
		return false;
	char *p = line + n;
	while (*p == ' ')
		p++;
	p[strcspn(p, "\n")] = 0;
	*start = s;
	*end = e;
	*off = o;
	*path = p;
	return true;
}

/* Reads /proc/PID/maps of the stopped pid: every mapping into m->maps, and those read through
 * the cache as the walk needs them into m->live: what can change or what no file holds, every
 * readable non-executable mapping except the kernel's own pages. */
static struct hs_error *read_maps(struct hs_memsrc *m, int pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT
		           ? hs_error_create(HS_ERROR_IO, "process %d exited during capture", pid)
		           : hs_error_errno(errno, path, "open");
	struct hs_error *err = NULL;
	char line[4096 + 256];
	while (!err && fgets(line, sizeof(line), f)) {
		uint64_t s, e, off;
		char perms[5] = {0}, *p;
		if (!parse_maps_line(line, &s, &e, perms, &off, &p))
			continue;
		err = add_mapping(m, s, e, off, p);
		if (!err && perms[0] == 'r' && perms[2] != 'x' && strcmp(p, "[vvar]") &&
		    strcmp(p, "[vsyscall]")) {
			err = push_seg(&m->live, &m->nlive, &m->live_cap, s, e, NULL);
			m->live_bytes += e - s;
		}
	}
	fclose(f);
	sort_segs(m->live, m->nlive);
	return err;
}

/* hs_memsrc_init_pid; spare: leave the threads that sleep in an EINTR call running (then, if
 * one of them ran while the others were stopped, hs_memsrc_resume says to walk again). */
static struct hs_error *init_pid(struct hs_memsrc *m, int pid, bool spare)
{
	memset(m, 0, sizeof(*m));
	m->pid = pid;
	if (pid <= 0)
		return hs_error_create(HS_ERROR_USAGE, "bad pid %d", pid);
	if (asprintf(&m->what, "process %d", pid) < 0) {
		m->what = NULL;
		return &hs_error_nomem;
	}
	struct hs_error *err = check_process(pid);
	if (err)
		return err;
	if (!(m->stopped = calloc(1, sizeof(*m->stopped))))
		return &hs_error_nomem;
	m->stopped->spare = spare;
	m->stop_start = now_seconds();
	m->stop_cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
	err = stop_all(pid, m->stopped);
	if (!err)
		err = read_maps(m, pid);
	if (!err && !(m->cache = cache_new()))
		err = &hs_error_nomem;
	if (!err)
		err = add_file_fallback(m);
	if (err) {
		bool again;
		hs_error_destroy(hs_memsrc_resume(m, &again));
	}
	return err;
}

struct hs_error *hs_memsrc_init_pid(struct hs_memsrc *m, int pid)
{
	return init_pid(m, pid, true);
}

struct hs_error *hs_memsrc_tick(struct hs_memsrc *m)
{
	if (!m->stopped || m->gone || m->read_seconds <= 0 || !m->bytes_read)
		return NULL;
	double rate = (double)m->bytes_read / m->read_seconds;
	uint64_t left = m->live_bytes > m->bytes_read ? m->live_bytes - m->bytes_read : 0;
	if ((double)left / rate > now_seconds() - m->stop_start)
		return NULL;
	for (size_t i = 0; i < m->nlive; i++)
		cache_fill(m, m->live[i].start,
		           (size_t)((m->live[i].end - m->live[i].start) / PAGE));
	m->copied = true;
	bool again;
	struct hs_error *err = hs_memsrc_resume(m, &again);
	m->raced = again;
	return err;
}

struct hs_error *hs_memsrc_resume(struct hs_memsrc *m, bool *again)
{
	struct hs_tracee *t = m->stopped;
	*again = m->raced;
	m->raced = false;
	if (!t)
		return NULL;
	*again = t->spare && !m->gone && !spared_slept(t);
	detach_all(t);
	free(t);
	m->stopped = NULL;
	m->pause_seconds += now_seconds() - m->stop_start;
	m->pause_cpu_seconds += clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - m->stop_cpu;
	if (!m->copied) {
		cache_free(m->cache);
		m->cache = NULL;
	}
	return m->gone ? hs_error_create(HS_ERROR_IO, "process %d exited during capture", m->pid)
	               : NULL;
}

struct hs_error *hs_memsrc_restop(struct hs_memsrc *m)
{
	double paused = m->pause_seconds, cpu = m->pause_cpu_seconds;
	uint64_t read = m->bytes_read;
	int pid = m->pid;
	hs_memsrc_deinit(m);
	struct hs_error *err = init_pid(m, pid, false);
	m->pause_seconds += paused;
	m->pause_cpu_seconds += cpu;
	m->bytes_read += read;
	return err;
}

/* ---------------------------------------------------------------------------------------------
 * ELF core
 */

/* Parses an NT_FILE note: count, page size, then (start, end, page offset) triples, then the
 * NUL-separated paths. */
static struct hs_error *parse_nt_file(struct hs_memsrc *m, const char *core, const uint8_t *d,
                                      size_t len, uint64_t note_off)
{
	if (len < 16)
		return hs_error_create(HS_ERROR_FORMAT, "%s: offset %llu: NT_FILE note too short",
		                       core, (unsigned long long)note_off);
	uint64_t count, pagesz;
	memcpy(&count, d, 8);
	memcpy(&pagesz, d + 8, 8);
	if (count > (len - 16) / 24)
		return hs_error_create(HS_ERROR_FORMAT,
		                       "%s: offset %llu: NT_FILE note claims %llu files", core,
		                       (unsigned long long)note_off, (unsigned long long)count);
	const char *names = (const char *)d + 16 + count * 24, *end = (const char *)d + len;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t v[3];
		memcpy(v, d + 16 + i * 24, 24);
		size_t nl = strnlen(names, (size_t)(end - names));
		if (names + nl >= end)
			return hs_error_create(
			    HS_ERROR_FORMAT, "%s: offset %llu: NT_FILE path %llu unterminated",
			    core, (unsigned long long)note_off, (unsigned long long)i);
		struct hs_error *err = add_mapping(m, v[0], v[1], v[2] * pagesz, names);
		if (err)
			return err;
		names += nl + 1;
	}
	return NULL;
}

struct hs_error *hs_memsrc_init_core(struct hs_memsrc *m, const char *core_path)
{
	memset(m, 0, sizeof(*m));
	elf_version(EV_CURRENT);
	if (!(m->what = strdup(core_path)))
		return &hs_error_nomem;
	int fd;
	struct stat st;
	struct hs_error *err = hs_open_regular(core_path, true, &fd, &st);
	if (err)
		return err;
	void *map =
	    st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	size_t nph = 0;
	if (map == MAP_FAILED || !e || !gelf_getehdr(e, &eh) || eh.e_type != ET_CORE ||
	    elf_getphdrnum(e, &nph) != 0) {
		err = hs_error_create(HS_ERROR_FORMAT, "%s: offset 0: not an ELF core file",
		                      core_path);
		goto out;
	}
	err = keep_region(m, map, (size_t)st.st_size);
	if (err)
		goto out;
	for (size_t i = 0; i < nph && !err; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			continue;
		if (ph.p_offset > (uint64_t)st.st_size ||
		    ph.p_filesz > (uint64_t)st.st_size - ph.p_offset) {
			err = hs_error_create(HS_ERROR_FORMAT,
			                      "%s: offset %llu: segment %zu runs past the end of "
			                      "the file (truncated core?)",
			                      core_path, (unsigned long long)ph.p_offset, i);
			break;
		}
		if (ph.p_type == PT_LOAD && ph.p_filesz)
			err = push_seg(&m->segs, &m->nsegs, &m->segs_cap, ph.p_vaddr,
			               ph.p_vaddr + ph.p_filesz, (uint8_t *)map + ph.p_offset);
		if (ph.p_type != PT_NOTE)
			continue;
		Elf_Data *nd =
		    elf_getdata_rawchunk(e, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		size_t off = 0, noff, doff;
		GElf_Nhdr nh;
		while (nd && !err && (off = gelf_getnote(nd, off, &nh, &noff, &doff)) > 0) {
			if (nh.n_type == NT_FILE)
				err = parse_nt_file(m, core_path, (uint8_t *)nd->d_buf + doff,
				                    nh.n_descsz, ph.p_offset + doff);
		}
	}
	if (!err) {
		sort_segs(m->segs, m->nsegs);
		err = add_file_fallback(m);
	}
out:
	if (e)
		elf_end(e);
	if (err && map != MAP_FAILED && !m->regions)
		munmap(map, (size_t)st.st_size);
	close(fd);
	return err;
}

/* ---------------------------------------------------------------------------------------------
 * Callback
 */

struct hs_error *hs_memsrc_init_callback(struct hs_memsrc *m, hs_memsrc_read_fn read, void *ctx,
                                         const struct hs_mapping *maps, size_t nmaps)
{
	memset(m, 0, sizeof(*m));
	if (!read)
		return hs_error_create(HS_ERROR_USAGE, "no read callback");
	if (!(m->what = strdup("the target")))
		return &hs_error_nomem;
	m->read = read;
	m->read_ctx = ctx;
	if (!(m->cache = cache_new()))
		return &hs_error_nomem;
	for (size_t i = 0; i < nmaps; i++) {
		struct hs_error *err =
		    add_mapping(m, maps[i].start, maps[i].end, maps[i].file_offset, maps[i].path);
		if (err)
			return err;
	}
	return NULL;
}

void hs_memsrc_deinit(struct hs_memsrc *m)
{
	bool again;
	hs_error_destroy(hs_memsrc_resume(m, &again));
	for (struct hs_region *r = m->regions, *next; r; r = next) {
		next = r->next;
		if (r->len)
			munmap(r->addr, r->len);
		else
			free(r->addr);
		free(r);
	}
	for (size_t i = 0; i < m->nmaps; i++)
		free((char *)m->maps[i].path);
	free(m->maps);
	free(m->what);
	free(m->segs);
	free(m->fsegs);
	cache_free(m->cache);
	free(m->live);
	memset(m, 0, sizeof(*m));
}
