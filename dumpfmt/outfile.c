/*
 * outfile.c — how heapsnap creates every file it writes (snapshots, databases, reports, exports,
 * the layout cache).
 *
 * A file is written to a fresh temporary in the destination's own directory, named PATH.tmp-XXXXXX
 * (random, created by mkostemp: O_CREAT|O_EXCL, so a symlink or file planted at that name makes the
 * creation fail instead of being followed or truncated), mode 0600 whatever the umask (the files
 * hold the heap's secrets).  hs_out_commit fsyncs it and renames it over PATH: a symlink planted at
 * PATH is replaced, never written through, and a reader never sees a half-written file.
 * hs_out_abort removes the temporary.  hs_out_not_input refuses an output that is the input.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hsnap.h"

/* The temporary being written, for hs_out_signal_cleanup (a signal handler cannot take locks or
 * allocate; the last one opened is the one a command is writing). */
static char pending[4096 + 32];
static volatile sig_atomic_t pending_set;

struct hs_error *hs_out_open(const char *path, struct hs_out *ret)
{
	ret->fd = -1;
	ret->path = strdup(path);
	if (!ret->path || asprintf(&ret->tmp, "%s.tmp-XXXXXX", path) < 0) {
		free(ret->path);
		ret->path = ret->tmp = NULL;
		return &hs_error_nomem;
	}
	/* The signals whose handlers call hs_out_signal_cleanup wait until pending names the file:
	 * one arriving between its creation and then would leave it behind. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	ret->fd = mkostemp(ret->tmp, O_CLOEXEC);
	if (ret->fd >= 0 && strlen(ret->tmp) < sizeof(pending)) {
		pending_set = 0;
		strcpy(pending, ret->tmp);
		pending_set = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret->fd < 0) {
		struct hs_error *err =
		    hs_error_errno(errno, path, "create a temporary file next to");
		free(ret->tmp);
		free(ret->path);
		ret->path = ret->tmp = NULL;
		return err;
	}
	/* mkostemp creates 0600 already; be explicit, the mode is the point. */
	if (fchmod(ret->fd, 0600) != 0) {
		struct hs_error *err = hs_error_errno(errno, ret->tmp, "chmod");
		hs_out_abort(ret);
		return err;
	}
	return NULL;
}

struct hs_error *hs_out_commit(struct hs_out *o)
{
	struct hs_error *err = NULL;
	if (o->fd >= 0 && fsync(o->fd) != 0)
		err = hs_error_errno(errno, o->tmp, "fsync");
	if (o->fd >= 0 && close(o->fd) != 0 && !err)
		err = hs_error_errno(errno, o->tmp, "close");
	o->fd = -1;
	if (!err && rename(o->tmp, o->path) != 0)
		err = hs_error_errno(errno, o->path, "rename into place");
	if (err) {
		hs_out_abort(o);
		return err;
	}
	pending_set = 0;
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
	return NULL;
}

void hs_out_abort(struct hs_out *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp)
		unlink(o->tmp);
	pending_set = 0;
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
}

void hs_out_signal_cleanup(void)
{
	if (pending_set)
		unlink(pending);
}

struct hs_error *hs_out_not_input(const char *out, const char *in)
{
	struct stat so, si;
	if (!out || !in || stat(out, &so) != 0 || stat(in, &si) != 0)
		return NULL;
	if (so.st_dev == si.st_dev && so.st_ino == si.st_ino)
		return hs_error_create(HS_ERROR_IO,
		                       "%s: the output is the input %s (it would destroy it); "
		                       "choose another output",
		                       out, in);
	return NULL;
}
