/*
 * error.c — struct hs_error: one line of text a person can act on, and a code.
 *
 * Every fallible function in heapsnap returns one of these (NULL on success).  Out of memory is a
 * static error so that reporting it never allocates.  A message is one line whatever it quotes:
 * control characters (a newline in a file name, bytes read from a target) are escaped as \xNN.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsnap.h"

struct hs_error hs_error_nomem = {HS_ERROR_NOMEM, "out of memory"};

char *hs_escape_controls(const char *s)
{
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		n += *p < 0x20 || *p == 0x7f ? 4 : 1;
	char *out = malloc(n + 1), *q = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			q += sprintf(q, "\\x%02x", *p);
		else
			*q++ = (char)*p;
	}
	*q = 0;
	return out;
}

struct hs_error *hs_error_createv(enum hs_error_code code, const char *fmt, va_list ap)
{
	char *raw;
	if (vasprintf(&raw, fmt, ap) < 0)
		return &hs_error_nomem;
	struct hs_error *err = malloc(sizeof(*err));
	if (err)
		err->message = hs_escape_controls(raw);
	free(raw);
	if (!err || !err->message) {
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
