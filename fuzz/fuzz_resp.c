/* SPDX-License-Identifier: MIT */
/* RESP arrays: the input is read as requests starting with '*'. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	if (size < 1)
		return 0;
	/* The first byte picks the cut; the rest is the stream, forced to RESP. */
	if ((buf = malloc(size)) == NULL)
		return 0;
	buf[0] = '*';
	memcpy(buf + 1, data + 1, size - 1);
	check_stream(buf, size, data[0]);
	free(buf);
	return 0;
}
