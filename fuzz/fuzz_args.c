/* SPDX-License-Identifier: MIT */
/* tcpd-cli's word splitter: whatever it accepts must encode one valid request. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli/args.h"
#include "tcpd/buf.h"
#include "tcpd/resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp_state st = { 0 };
	struct resp_request req;
	struct buf out;
	const char *why;
	long words;

	buf_init(&out, SIZE_MAX);
	words = args_encode(&out, (const char *)data, size, &why);
	if (words > 0) {
		/* No word is longer than the line, so size bounds every bulk. */
		if (resp_parse(&st, &req, buf_data(&out), buf_len(&out), size + 1) !=
		    (ssize_t)buf_len(&out) || req.argc != (size_t)words)
			abort();
		args_request_reply_is_text(buf_data(&out), buf_len(&out));
	} else if (words == 0 ? buf_len(&out) != 0 : why == NULL) {
		abort();
	}
	buf_free(&out);
	return 0;
}
