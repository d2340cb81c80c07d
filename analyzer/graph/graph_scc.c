/*
 * graph_scc.c — strongly connected components over the strong edges of every kind.
 *
 * Pearce's algorithm ("A space-efficient algorithm for finding strongly connected components",
 * 2016), written as a loop over an explicit stack.  One number per object, rindex, serves as
 * Tarjan's index and lowlink while the object is on a stack, and becomes its component number
 * when the component is complete: visit numbers count up from 1, component numbers count down
 * from n, and the two never meet, so an edge into a finished component never lowers a lowlink.
 * 0 means "not visited yet".  Everything else about an object on the DFS path (its next edge,
 * whether it still heads a component) lives in its stack entry, so the only scattered accesses
 * are rindex and edge_start of each edge's target (prefetched together as the DFS enters an
 * object) and the object's edges.
 *
 * The scratch is this phase's own (8 bytes and a bit per object, freed on return), so that the
 * components run in a second thread beside every other phase (graph_analyze.c): one array holds
 * both stacks, the DFS path growing up from its start and the visited objects whose component is
 * still open growing down from its end (an object is on one of them at most, so they never
 * meet), one holds each path entry's next edge (32 bits: hs_analyze checks the edge count), and
 * a bitset says which path entries still head a component.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

struct scc {
	const struct hs_snapshot *snap;
	uint32_t *rindex, *size; /* a->scc (as rindex until the end), a->scc_size */
	uint32_t *path;          /* the DFS path, from path[0] up */
	uint32_t *done;          /* its newest entry; the stack ends at path + n */
	uint32_t *cursor;        /* each path entry's next edge */
	uint64_t *head;          /* bit d: path entry d heads a component so far */
	uint32_t n, index, c;
};

static inline bool head_of(const uint64_t *head, uint32_t d)
{
	return head[d >> 6] >> (d & 63) & 1;
}

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

/* Pushes w, just reached, on the path at depth d. */
static inline void enter(struct scc *s, uint32_t d, uint32_t w)
{
	const struct hs_snapshot *snap = s->snap;
	s->rindex[w] = s->index++;
	uint64_t we = snap->edge_start[w];
	hs_graph_prefetch_descent(snap, s->rindex, sizeof(*s->rindex), we, snap->edge_start[w + 1]);
	s->path[d] = w;
	s->cursor[d] = (uint32_t)we;
	set_head(s->head, d, true);
}

/* The DFS from r, not visited yet: numbers every component it completes. */
static void visit(struct scc *s, uint32_t r)
{
	const uint64_t *edge_start = s->snap->edge_start;
	const uint32_t *edge_dst = s->snap->edge_dst;
	uint32_t *rindex = s->rindex;
	enter(s, 0, r);
	for (uint32_t npath = 1; npath;) {
		uint32_t top = npath - 1, v = s->path[top], rv = rindex[v];
		bool head = head_of(s->head, top);
		uint32_t e = s->cursor[top], end = (uint32_t)edge_start[v + 1], w = 0;
		for (; e < end; e++) {
			w = edge_dst[e];
			uint32_t rw = rindex[w];
			if (!rw)
				break;
			/* w is finished or on the path: it may lower v's lowlink. */
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
			enter(s, npath++, w);
			continue;
		}
		npath--;
		if (head) {
			close_component(s, v, rv);
		} else {
			assert(s->done > s->path + npath);
			*--s->done = v;
		}
	}
}

struct hs_error *hs_graph_scc(const struct hs_snapshot *snap, struct hs_analysis *a)
{
	uint32_t n = (uint32_t)snap->nobjects;
	/* a->phases is not read here: the other thread writes it meanwhile. */
	assert(a->nobjects == n && a->scc && a->scc_size && snap->nedges < UINT32_MAX);
	struct scc s = {snap, a->scc, a->scc_size, NULL, NULL, NULL, NULL, n, 1, n};
	s.path = hs_graph_alloc(((size_t)n + 1) * sizeof(*s.path));
	s.cursor = hs_graph_alloc(((size_t)n + 1) * sizeof(*s.cursor));
	s.head = hs_graph_alloc(((size_t)n / 64 + 1) * sizeof(*s.head));
	if (!s.path || !s.cursor || !s.head) {
		free(s.path);
		free(s.cursor);
		free(s.head);
		return &hs_error_nomem;
	}
	s.done = s.path + n;
	memset(s.rindex, 0, (size_t)n * sizeof(*s.rindex));
	for (uint32_t r = 0; r < n; r++) {
		if (!s.rindex[r])
			visit(&s, r);
	}
	for (uint32_t i = 0; i < n; i++)
		a->scc[i] = n - s.rindex[i];
	a->nsccs = n - s.c;
	free(s.path);
	free(s.cursor);
	free(s.head);
	return NULL;
}
