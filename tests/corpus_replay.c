/* SPDX-License-Identifier: MIT */
/*
 * Replays a committed fuzzing corpus through a fuzz target's entry point,
 * without libFuzzer: every input found to crash once stays a regression test.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
replay_file(const char *path)
{
	uint8_t *data;
	long size;
	FILE *f = fopen(path, "rb");

	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	data = malloc((size_t)size + 1);
	cr_assert_eq(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)size);
	free(data);
	return 1;
}

Test(corpus, every_input_replays_cleanly)
{
	const char *dir = getenv("TCPD_CORPUS");
	struct dirent *e;
	char path[4096];
	size_t n = 0;
	DIR *d;

	cr_assert_not_null(dir, "TCPD_CORPUS must name a corpus directory");
	cr_assert_not_null(d = opendir(dir), "%s", dir);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n += replay_file(path);
	}
	closedir(d);
	cr_assert_gt(n, 0, "empty corpus %s", dir);
}
