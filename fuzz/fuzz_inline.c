/* SPDX-License-Identifier: MIT */
/* Inline requests: lines of words and quotes; a leading '*' is avoided. */
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

	if (size < 2)
		return 0;
	if ((buf = malloc(size - 1)) == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	if (buf[0] == '*')
		buf[0] = ' ';
	check_stream(buf, size - 1, data[0]);
	free(buf);
	return 0;
}
