/* SPDX-License-Identifier: MIT */
/*
 * tcpd-cli's reader of the control API's responses: what it takes lies
 * within the input (head within its limit, body within the limit given,
 * status 100 to 599), every shorter prefix of it waits for more, and a
 * refusal says why. The first byte picks the body limit.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli/toxi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1, *why = NULL;
	struct toxi_response r;
	size_t max, cut;
	ssize_t n;

	if (size < 1)
		return 0;
	max = (size_t)data[0] * 64;
	n = toxi_response_parse(text, size - 1, max, &r, &why);
	if (n == TOXI_ERROR && why == NULL)
		abort();
	if (n < 0)
		return 0;
	if ((size_t)n > size - 1 || r.head_len + r.body_len != (size_t)n ||
	    r.head_len > TOXI_HEAD_MAX || r.body_len > max || r.status < 100 || r.status > 599)
		abort();
	for (cut = (size_t)n > 64 ? (size_t)n - 64 : 0; cut < (size_t)n; cut++)
		if (toxi_response_parse(text, cut, max, &r, &why) != TOXI_INCOMPLETE)
			abort();
	return 0;
}
