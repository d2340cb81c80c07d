/*
 * graph_scc.c — strongly connected components over the strong edges of every kind.
 *
 * Pearce's algorithm ("A space-efficient algorithm for finding strongly connected components",
 * 2016), written as a loop over an explicit stack.  One number per object, rindex, serves as
 * Tarjan's index and lowlink while the object is on a stack, and becomes its component number
 * when the component is complete: visit numbers count up from 1, component numbers count down
 * from n, and the two never meet, so an edge into a finished component never lowers a lowlink.
 * 0 means "not visited yet".  Everything else about an object on the DFS path (its next edge,
 * whether it still heads a component) lives in its stack entry.
 *
 * The DFS is a chain of cache misses, each step waiting for the last, so it reads as little as it
 * can: whether a successor is visited comes from a bitset that stays in cache (rindex is read only
 * for the lowlink, which no branch of the walk waits for), and each object's first successor is
 * copied beforehand (in order) into first[], which lives in scc_size until the object's component
 * is numbered there: descending to a new first successor then waits for edge_start and first of
 * the object together instead of edge_start and then its edges.  Entering an object prefetches
 * rindex, edge_start and first of its successors; going back up prefetches what the entries a
 * few levels above will read.
 *
 * The scratch is this phase's own (8 bytes and 2 bits per object, freed on return), so that the
 * components run in a second thread beside every other phase (graph_analyze.c): one array holds
 * both stacks, the DFS path growing up from its start and the visited objects whose component is
 * still open growing down from its end (an object is on one of them at most, so they never
 * meet), one holds each path entry's next edge (32 bits: hs_analyze checks the edge count), a
 * bitset says which path entries still head a component, and one which objects are visited.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

/* How many levels above the top the DFS prefetches what it reads, going back up. */
#define PATH_AHEAD 4

struct scc {
	const struct hs_snapshot *snap;
	uint32_t *rindex, *size; /* a->scc (as rindex until the end), a->scc_size */
	uint32_t *path;          /* the DFS path, from path[0] up */
	uint32_t *done;          /* its newest entry; the stack ends at path + n */
	uint32_t *cursor;        /* each path entry's next edge */
	uint64_t *head;          /* bit d: path entry d heads a component so far */
	uint64_t *seen;          /* bit v: object v has been visited (rindex[v] != 0) */
	uint32_t *first;         /* v's first successor, HS_NONE for none (in size until v's
	                          * component is numbered) */
	uint32_t n, index, c;
};

static inline void set_head(uint64_t *head, uint32_t d, bool on)
{
	uint64_t bit = 1ull << (d & 63);
	head[d >> 6] = on ? head[d >> 6] | bit : head[d >> 6] & ~bit;
}

/* v, whose lowlink is its own visit number rv, heads a component: it and the objects above its
 * visit number on the done stack, which are its newest entries.  Numbers the component. */
static void close_component(struct scc *s, uint32_t v, uint32_t rv)
{
	uint32_t *first = s->done, *end = s->path + s->n;
	while (first < end && rv <= s->rindex[*first])
		first++;
	uint32_t size = (uint32_t)(first - s->done) + 1;
	for (uint32_t *p = s->done; p < first; p++) {
		s->rindex[*p] = s->c;
		s->size[*p] = size;
	}
	s->index -= size;
	s->rindex[v] = s->c--;
	s->size[v] = size;
	s->done = first;
}

/* Pushes w, just reached, on the path at depth d; then, as long as the new top's first successor
 * is new, that one too, without reading the top's edges (first[] gives it): a descent then waits
 * for edge_start and first of the object together instead of edge_start and then its edges.  The
 * top's cursor stays at its first edge, which lowers it once the DFS is back.  Returns the new
 * depth. */
static uint32_t enter(struct scc *s, uint32_t d, uint32_t w)
{
	const struct hs_snapshot *snap = s->snap;
	for (;;) {
		s->rindex[w] = s->index++;
		hs_graph_bit_set(s->seen, w);
		uint64_t we = snap->edge_start[w];
		uint32_t x = s->first[w];
		s->path[d] = w;
		s->cursor[d] = (uint32_t)we;
		set_head(s->head, d++, true);
		if (x == HS_NONE || hs_graph_bit(s->seen, x)) {
			hs_graph_prefetch_descent(snap, s->first, s->rindex, sizeof(*s->rindex), we,
			                          snap->edge_start[w + 1]);
			return d;
		}
		/* Its edges, for when the DFS comes back to it. */
		__builtin_prefetch(&snap->edge_dst[we]);
		w = x;
	}
}

/* Going back up to depth d: prefetches what the DFS reads on arriving PATH_AHEAD levels above (the
 * object's number and edge range, and its next edge). */
static inline void prefetch_return(const struct scc *s, uint32_t d)
{
	if (d > PATH_AHEAD) {
		uint32_t k = d - PATH_AHEAD, v = s->path[k];
		__builtin_prefetch(&s->rindex[v]);
		__builtin_prefetch(&s->snap->edge_start[v + 1]);
		__builtin_prefetch(&s->snap->edge_dst[s->cursor[k]]);
	}
}

/* The DFS from r, not visited yet: numbers every component it completes. */
static void visit(struct scc *s, uint32_t r)
{
	const uint64_t *edge_start = s->snap->edge_start;
	const uint32_t *edge_dst = s->snap->edge_dst;
	uint32_t *rindex = s->rindex;
	for (uint32_t npath = enter(s, 0, r); npath;) {
		uint32_t top = npath - 1, v = s->path[top], rv = rindex[v];
		bool head = hs_graph_bit(s->head, top);
		uint32_t e = s->cursor[top], end = (uint32_t)edge_start[v + 1], w = 0;
		for (; e < end; e++) {
			w = edge_dst[e];
			if (!hs_graph_bit(s->seen, w))
				break;
			/* w is finished or on the path: it may lower v's lowlink. */
			uint32_t rw = rindex[w];
			if (rw < rv) {
				rv = rw;
				head = false;
			}
		}
		rindex[v] = rv;
		if (e < end) {
			/* Descend; back here, edge e is looked at again and lowers v. */
			s->cursor[top] = e;
			set_head(s->head, top, head);
			npath = enter(s, npath, w);
			continue;
		}
		npath--;
		prefetch_return(s, npath);
		if (head) {
			close_component(s, v, rv);
		} else {
			assert(s->done > s->path + npath);
			*--s->done = v;
		}
	}
}

static void scc_free(struct scc *s)
{
	free(s->path);
	free(s->cursor);
	free(s->head);
	free(s->seen);
}

struct hs_error *hs_graph_scc(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	uint32_t n = (uint32_t)snap->nobjects;
	/* a->phases is not read here: the other thread writes it meanwhile. */
	assert(a->nobjects == n && a->scc && a->scc_size && snap->nedges < UINT32_MAX);
	struct scc s = {snap, a->scc, a->scc_size, NULL, NULL, NULL,
	                NULL, NULL,   a->scc_size, n,    1,    n};
	size_t words = (size_t)n / 64 + 1;
	s.path = hs_graph_alloc(((size_t)n + 1) * sizeof(*s.path));
	s.cursor = hs_graph_alloc(((size_t)n + 1) * sizeof(*s.cursor));
	s.head = hs_graph_alloc(words * sizeof(*s.head));
	s.seen = hs_graph_alloc(words * sizeof(*s.seen));
	if (!s.path || !s.cursor || !s.head || !s.seen) {
		scc_free(&s);
		return &hs_error_nomem;
	}
	s.done = s.path + n;
	memset(s.rindex, 0, (size_t)n * sizeof(*s.rindex));
	memset(s.seen, 0, words * sizeof(*s.seen));
	for (uint32_t i = 0; i < n; i++) {
		uint64_t e = snap->edge_start[i];
		s.first[i] = e < snap->edge_start[i + 1] ? snap->edge_dst[e] : HS_NONE;
	}
	for (uint32_t r = 0; r < n; r++) {
		if (!hs_graph_bit(s.seen, r))
			visit(&s, r);
	}
	for (uint32_t i = 0; i < n; i++)
		a->scc[i] = n - s.rindex[i];
	a->nsccs = n - s.c;
	scc_free(&s);
	return NULL;
}
