/*
 * store_identity.c — which snapshot a database was built from.  A database records its
 * snapshot's identity in meta('snapshot_identity'): the file's size and a hash of its last 4 KiB,
 * which hold the INDEX and the trailer and so every section's checksum (dumpfmt/FORMAT.md).  A
 * snapshot replaced by another (`cp -p old.hsnap app.hsnap` keeps the old mtime) has another
 * identity, and its database is rebuilt; a file that meta('snapshot') names is opened only when it
 * is a regular file with the recorded identity.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

enum { TAIL = 4096 };

struct hs_error *hs_store_identity(const char *path, bool follow, char ret[HS_STORE_IDENTITY_LEN])
{
	/* Non-blocking: a FIFO or device named by a database must not hang the open. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return hs_error_errno(errno, path,
		                      errno == ELOOP ? "open (a symbolic link is not followed)"
		                                     : "open");
	struct stat st;
	struct hs_error *err = NULL;
	if (fstat(fd, &st) != 0)
		err = hs_error_errno(errno, path, "stat");
	else if (!S_ISREG(st.st_mode))
		err = hs_error_create(HS_ERROR_IO, "%s: not a regular file", path);
	uint8_t tail[TAIL];
	size_t n = !err && st.st_size < TAIL ? (size_t)st.st_size : TAIL;
	off_t at = err ? 0 : st.st_size - (off_t)n;
	if (!err && pread(fd, tail, n, at) != (ssize_t)n)
		err = hs_error_errno(errno ? errno : EIO, path, "read");
	close(fd);
	if (err)
		return err;
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */
	for (size_t i = 0; i < n; i++)
		h = (h ^ tail[i]) * 0x100000001b3ull;
	snprintf(ret, HS_STORE_IDENTITY_LEN, "%llu:%016llx", (unsigned long long)st.st_size,
	         (unsigned long long)h);
	return NULL;
}
