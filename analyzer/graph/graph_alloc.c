/*
 * graph_alloc.c — memory for the graph analyses: the large per-object arrays on transparent huge
 * pages (hs_graph_alloc), and the snapshot's edge arrays moved onto them (hs_graph_collapse).
 * Every phase (graph_*.c) allocates through here; hs_analyze (graph_analyze.c) collapses the
 * edge arrays once before the phases run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "graph_internal.h"

#define HS_HUGE_PAGE (2 << 20) /* a transparent huge page */
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25 /* Linux 6.1; older kernels refuse it, which is harmless */
#endif

void *hs_graph_alloc(size_t bytes)
{
	if (bytes < HS_HUGE_PAGE)
		return malloc(bytes ? bytes : 1);
	void *p;
	if (posix_memalign(&p, HS_HUGE_PAGE, bytes))
		return NULL;
	/* The phases read these arrays at random: with 4 KiB pages nearly every read of a large
	 * heap's array also misses the TLB.  Advice only; failure changes nothing. */
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

/* Asks the kernel to back the whole huge pages of [p, p + bytes) by huge pages now
 * (MADV_COLLAPSE copies them; it leaves the contents as they are).  Advice only: where the kernel
 * cannot, the pages stay as they were. */
void hs_graph_collapse(const void *p, size_t bytes)
{
	uintptr_t lo = ((uintptr_t)p + HS_HUGE_PAGE - 1) & ~(uintptr_t)(HS_HUGE_PAGE - 1);
	uintptr_t hi = ((uintptr_t)p + bytes) & ~(uintptr_t)(HS_HUGE_PAGE - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_COLLAPSE);
}
