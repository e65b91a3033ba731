/* SPDX-License-Identifier: MIT */
/*
 * Replies, RESP2 and RESP3, as tcpd-cli reads them from any server: the
 * resumable parser fed in two pieces must agree with it fed whole, and a
 * complete reply formats in every style; its text (an error's, for the
 * handshake's messages) lies inside it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/reply.h"
#include "tcpd/resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_state st = { 0 };
	const char *buf = (const char *)data + 2;
	size_t len, cut;
	ssize_t whole, split;
	static FILE *out;

	if (size < 2)
		return 0;
	len = size - 2;
	cut = ((size_t)data[0] | (size_t)data[1] << 8) % (len + 1);
	whole = reply_length(buf, len);
	split = reply_parse(&st, buf, cut);
	if (split == RESP_INCOMPLETE)
		split = reply_parse(&st, buf, len);
	if (split != whole)
		abort();
	if (whole > 0) {
		const char *text;
		size_t tlen;

		if ((size_t)whole > len)
			abort();
		tlen = reply_text(buf, (size_t)whole, &text);
		if (text < buf || text + tlen > buf + whole)
			abort();
		/* The style is a byte of the input, so every style sees every reply. */
		if (out == NULL && (out = fopen("/dev/null", "w")) == NULL)
			abort();
		if (reply_print(out, buf, (size_t)whole, (enum reply_style)(data[0] % 3)) != 0)
			abort();
	}
	return 0;
}
