/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "daemon/services/faults/fault.h"
#include "tcpd/buf.h"
#include "tcpd/resp.h"

/*
 * GARBAGE n: n bytes no RESP parser takes: the first a type byte no RESP
 * version has, the last two a CRLF, so a client that reads a line before it
 * looks (redis-py) gets the whole line and raises its protocol error
 * instead of waiting for the rest of a reply.
 */
static bool
run_garbage(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	static const char junk[] = "@tcpd garbage, not RESP ";
	uint64_t n, line;
	char *dst;

	(void)c;
	(void)f;
	if (!fault_arg_count(&req->argv[1], FAULTS_GARBAGE_MAX, &n) || n == 0)
		return false;
	if ((dst = buf_reserve(out, n)) == NULL)
		return true;	/* conn reports the queue's error */
	line = n >= 2 ? n - 2 : n;
	for (uint64_t i = 0; i < line; i += sizeof(junk) - 1)
		memcpy(dst + i, junk, line - i < sizeof(junk) - 1 ? line - i : sizeof(junk) - 1);
	if (n >= 2)
		memcpy(dst + line, "\r\n", 2);
	buf_commit(out, n);
	return true;
}

const struct fault fault_garbage = { "garbage", false, 2, 2, "GARBAGE n (1 to 1048576)", run_garbage,
	NULL };
