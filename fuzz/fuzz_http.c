/* SPDX-License-Identifier: MIT */
/* HTTP request heads: cut anywhere, the parser must agree with itself whole. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_state st = { 0 };
	struct http_request whole_req, split_req;
	ssize_t whole, split;
	size_t len, cut, max;
	const char *buf;

	/* Two bytes pick the cut, one the head limit; the rest is the stream. */
	if (size < 4)
		return 0;
	buf = (const char *)data + 3;
	len = size - 3;
	cut = ((size_t)data[0] | (size_t)data[1] << 8) % (len + 1);
	max = 16 + (size_t)data[2] * 32;
	whole = http_parse(&st, buf, len, max, &whole_req);
	memset(&st, 0, sizeof(st));
	split = http_parse(&st, buf, cut, max, &split_req);
	if (split == HTTP_INCOMPLETE)
		split = http_parse(&st, buf, len, max, &split_req);
	if (split != whole || whole > (ssize_t)len || whole > (ssize_t)max)
		abort();
	if (whole > 0 && (whole_req.path == NULL || whole_req.path < buf ||
	    whole_req.path + whole_req.path_len > buf + whole))
		abort();
	if (whole == HTTP_ERROR && (whole_req.why == NULL || whole_req.status < 400))
		abort();
	return 0;
}
