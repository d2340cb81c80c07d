/*
 * json.c — JSON string literals for any bytes: hs_json_string for the CLI's --format json
 * (valid UTF-8 is copied as is; invalid bytes become U+FFFD, so the output is always valid
 * Unicode) and hs_json_string_exact for the JSON-lines export, which must come back byte for
 * byte through convert (invalid bytes become \udc80..\udcff, PEP 383's surrogateescape).
 */
#include "hsnap.h"

static void json_string(FILE *out, const char *s, size_t len, bool exact)
{
	fputc('"', out);
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	while (p < end) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc((int)c, out);
			p++;
		} else if (c < 0x20) {
			static const char esc[] = "btn\0fr";
			if (c >= 8 && c <= 13 && c != 11)
				fprintf(out, "\\%c", esc[c - 8]);
			else
				fprintf(out, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			fputc((int)c, out);
			p++;
		} else {
			/* Copy a valid UTF-8 sequence as is; anything else becomes U+FFFD. */
			size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
			if (c >= 0xf5)
				n = 0;
			bool ok = n && (size_t)(end - p) >= n;
			for (size_t i = 1; ok && i < n; i++)
				ok = (p[i] & 0xc0) == 0x80;
			if (ok && n == 3)
				ok = !(c == 0xe0 && p[1] < 0xa0) && !(c == 0xed && p[1] >= 0xa0);
			if (ok && n == 4)
				ok = !(c == 0xf0 && p[1] < 0x90) && !(c == 0xf4 && p[1] >= 0x90);
			if (ok) {
				fwrite(p, 1, n, out);
				p += n;
			} else {
				if (exact)
					fprintf(out, "\\u%04x", 0xdc00 + c);
				else
					fputs("\xef\xbf\xbd", out);
				p++;
			}
		}
	}
	fputc('"', out);
}

void hs_json_string(FILE *out, const char *s, size_t len)
{
	json_string(out, s, len, false);
}

void hs_json_string_exact(FILE *out, const char *s, size_t len)
{
	json_string(out, s, len, true);
}
