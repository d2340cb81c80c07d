/*
 * error.c — struct hs_error: one line of text a person can act on, and a code.
 *
 * Every fallible function in heapsnap returns one of these (NULL on success).  Out of memory is a
 * static error so that reporting it never allocates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsnap.h"

struct hs_error hs_error_nomem = {HS_ERROR_NOMEM, "out of memory"};

struct hs_error *hs_error_createv(enum hs_error_code code, const char *fmt, va_list ap)
{
	struct hs_error *err = malloc(sizeof(*err));
	if (!err)
		return &hs_error_nomem;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return &hs_error_nomem;
	}
	err->code = code;
	return err;
}

struct hs_error *hs_error_create(enum hs_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct hs_error *err = hs_error_createv(code, fmt, ap);
	va_end(ap);
	return err;
}

struct hs_error *hs_error_errno(int errnum, const char *path, const char *what)
{
	if (errnum == ENOMEM)
		return &hs_error_nomem;
	return hs_error_create(HS_ERROR_IO, "%s: %s: %s", path, what, strerror(errnum));
}

void hs_error_destroy(struct hs_error *err)
{
	if (!err || err == &hs_error_nomem)
		return;
	free(err->message);
	free(err);
}
