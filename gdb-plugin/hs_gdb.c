/*
 * hs_gdb.c — the C side of the gdb plugin (hs_gdb.h), linked with the CLI's sources into
 * libheapsnap.so.  main.c is compiled there with -Dmain=hs_cli_main, so hs_cli_run runs exactly
 * the code the `heapsnap` binary runs, only with its output sent to descriptors the plugin reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "hs_gdb.h"

int hs_cli_main(int argc, char **argv);

int hs_cli_run(int argc, char **argv, int out_fd, int err_fd)
{
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
	if (saved_out < 0 || saved_err < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(err_fd, STDERR_FILENO) < 0) {
		int e = errno;
		if (saved_out >= 0)
			dup2(saved_out, STDOUT_FILENO), close(saved_out);
		if (saved_err >= 0)
			dup2(saved_err, STDERR_FILENO), close(saved_err);
		errno = e;
		return -1;
	}
	/* Commands that parse with getopt_long without resetting it must start afresh, as in a
	 * new process. */
	optind = 0;
	int rc = hs_cli_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	clearerr(stdout);
	clearerr(stderr);
	dup2(saved_out, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved_out);
	close(saved_err);
	return rc;
}

/* hs_memsrc_read_fn over an open /proc/PID/mem (ctx points to its descriptor). */
static int procmem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	int fd = *(const int *)ctx;
	size_t done = 0;
	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(addr + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

struct hs_error *hs_gdb_capture_procmem(int pid, const struct hs_mapping *maps, size_t nmaps,
                                        const char *out_path, struct hs_capture_stats *stats)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hs_error_errno(errno, path, "open");
	struct hs_error *err =
	    hs_capture_callback(procmem_read, &fd, maps, nmaps, out_path, NULL, stats);
	close(fd);
	return err;
}
