/*
 * fuzz_driver.c — the main of a fuzz target when libFuzzer is not used (-Dfuzzers=false), so that
 * `meson test` still runs every target under whatever sanitizer the build has.
 *
 * usage: fuzz_TARGET [-n MUTATIONS] FILE|DIR...
 * Replays each file (each regular file of each DIR), then MUTATIONS deterministic mutations of
 * it (default 2000, or $HS_FUZZ_MUTATIONS): bit flips, byte overwrites with boundary values,
 * truncations, deletions, duplications and insertions, one to four at a time, from a generator
 * seeded by the file's name (without its directory) and the mutation number, so a failure is
 * reproducible and every clone of the tree runs the same mutations.  A finding
 * aborts (the target calls fuzz_fail or a sanitizer stops it); the last input is then saved as
 * ./fuzz-crash-NAME-N for turning into a fixture.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

/* Applies one mutation to buf (len bytes used, capacity cap); returns the new length. */
static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
	static const uint8_t boundary[] = {0x00, 0x01, 0x7f, 0x80, 0xff,
	                                   0xfe, '"',  '\\', '{',  '\n'};
	size_t at = below(len), n;
	switch (below(7)) {
	case 0: /* flip a bit */
		if (len)
			buf[at] ^= (uint8_t)(1u << below(8));
		return len;
	case 1: /* a boundary value */
		if (len)
			buf[at] = boundary[below(sizeof(boundary))];
		return len;
	case 2: /* a random byte */
		if (len)
			buf[at] = (uint8_t)rng();
		return len;
	case 3: /* truncate */
		return below(len + 1);
	case 4: /* delete a range */
		n = below(len - at + 1) % 64;
		memmove(buf + at, buf + at + n, len - at - n);
		return len - n;
	case 5: /* duplicate a range in place after itself */
		n = below(len - at + 1) % 64;
		if (len + n > cap)
			return len;
		memmove(buf + at + 2 * n, buf + at + n, len - at - n);
		memcpy(buf + at + n, buf + at, n);
		return len + n;
	default: /* insert random bytes */
		n = 1 + below(8);
		if (len + n > cap)
			return len;
		memmove(buf + at + n, buf + at, len - at);
		for (size_t i = 0; i < n; i++)
			buf[at + i] = (uint8_t)rng();
		return len + n;
	}
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h | 1;
}

static const char *current_name;
static long current_mutation;
static uint8_t *current;
static size_t current_len;

/* Saves the input being run when a finding aborts the process. */
/* A path's name without its directory: what seeds the mutations, so that every clone of the
 * tree runs the same ones. */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

static void save_current(int sig)
{
	(void)sig;
	char name[256];
	snprintf(name, sizeof(name), "fuzz-crash-%s-%ld", base_name(current_name),
	         current_mutation);
	FILE *f = fopen(name, "wb");
	if (f) {
		fwrite(current, 1, current_len, f);
		fclose(f);
		fprintf(stderr, "fuzz: input saved as %s\n", name);
	}
}

static int replay_file(const char *path, long mutations)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz: cannot open %s\n", path);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	size_t len = (size_t)ftell(f), cap = 2 * len + 1024;
	fseek(f, 0, SEEK_SET);
	uint8_t *seed = malloc(len + 1);
	current = malloc(cap);
	if (!seed || !current || fread(seed, 1, len, f) != len) {
		fprintf(stderr, "fuzz: cannot read %s\n", path);
		fclose(f);
		return 1;
	}
	fclose(f);
	current_name = path;
	for (long m = -1; m < mutations; m++) {
		current_mutation = m;
		memcpy(current, seed, len);
		current_len = len;
		if (m >= 0) {
			rng_state =
			    hash_name(base_name(path)) ^ (uint64_t)(m + 1) * 0x9e3779b97f4a7c15ull;
			for (size_t k = 1 + below(4); k > 0; k--)
				current_len = mutate(current, current_len, cap);
		}
		LLVMFuzzerTestOneInput(current, current_len);
	}
	free(seed);
	free(current);
	current = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	long mutations = getenv("HS_FUZZ_MUTATIONS") ? atol(getenv("HS_FUZZ_MUTATIONS")) : 2000;
	int i = 1, status = 0, nfiles = 0;
	if (argc > 2 && strcmp(argv[1], "-n") == 0) {
		mutations = atol(argv[2]);
		i = 3;
	}
	signal(SIGABRT, save_current);
	for (; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz: %s: no such file or directory\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			status |= replay_file(argv[i], mutations);
			nfiles++;
			continue;
		}
		/* A directory: its regular files in name order (so runs are reproducible). */
		struct dirent **names;
		int n = scandir(argv[i], &names, NULL, alphasort);
		for (int k = 0; k < n; k++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], names[k]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			    names[k]->d_name[0] != '.') {
				status |= replay_file(path, mutations);
				nfiles++;
			}
			free(names[k]);
		}
		free(names);
	}
	printf("fuzz: %d files, %ld mutations each: %s\n", nfiles, mutations,
	       status ? "errors" : "no findings");
	return status || nfiles == 0;
}
