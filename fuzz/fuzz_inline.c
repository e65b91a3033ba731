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

	/* Two bytes pick the cut (up to 65535: past any line limit); the rest is the stream. */
	if (size < 3)
		return 0;
	if ((buf = malloc(size - 2)) == NULL)
		return 0;
	memcpy(buf, data + 2, size - 2);
	if (buf[0] == '*')
		buf[0] = ' ';
	check_stream(buf, size - 2, (size_t)data[0] | (size_t)data[1] << 8);
	free(buf);
	return 0;
}
