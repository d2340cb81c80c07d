/*
 * hs_lines.c — a test-only filter over capture/cpython/lines.c for lines_oracle.py, which compares
 * its answers with the lines CPython itself gives.  One request a line on stdin, one answer a
 * line out:
 *   MINOR FIRST HEX ADDR...  a code object of 3.MINOR with co_firstlineno FIRST and line table
 *                            HEX ("-": empty)  ->  hs_cp_addr2line of each byte offset ADDR,
 * space-separated
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

int main(void)
{
	static char line[1 << 22];
	static uint8_t table[1 << 21];
	while (fgets(line, sizeof(line), stdin)) {
		const char *minor = strtok(line, " \n"), *first = strtok(NULL, " \n");
		const char *hex = strtok(NULL, " \n"); /* "-" for an empty table */
		if (!minor || !first || !hex)
			return 1;
		size_t n = 0;
		while (hex[0] != '-' && hex[2 * n] && n < sizeof(table) &&
		       sscanf(hex + 2 * n, "%2hhx", &table[n]) == 1)
			n++;
		const char *sep = "";
		for (const char *a; (a = strtok(NULL, " \n")); sep = " ")
			printf("%s%d", sep,
			       hs_cp_addr2line((unsigned)atoi(minor), table, n, atoi(first),
			                       strtoll(a, NULL, 10)));
		putchar('\n');
	}
	return 0;
}
