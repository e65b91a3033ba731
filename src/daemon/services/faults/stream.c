/* SPDX-License-Identifier: MIT */
/*
 * STREAM n [RATE r]: a bulk reply of n pattern bytes, made as the socket
 * drains, so memory stays bounded whatever n is.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/conn.h"
#include "daemon/pace.h"
#include "daemon/services/faults/fault.h"
#include "tcpd/buf.h"
#include "tcpd/resp.h"

/* The STREAM bytes made before the socket has taken them. */
#define STREAM_AHEAD	(16 * 1024)

static bool
run_stream(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	uint64_t n, rate = 0, from = conn_output_end(c);
	struct pace *p = NULL;

	if (!fault_arg_count(&req->argv[1], FAULTS_STREAM_MAX, &n) ||
	    (req->argc == 4 && (!fault_word(&req->argv[2], "rate") ||
	    !fault_arg_count(&req->argv[3], PACE_RATE_MAX, &rate) || rate == 0)) ||
	    req->argc == 3)
		return false;
	if (rate != 0 && (p = fault_pacing(c, out)) == NULL)
		return true;
	buf_appendf(out, "$%llu\r\n", (unsigned long long)n);
	/* The rate is the stream's: the replies after it go as they would have. */
	if (p != NULL)
		pace_set_rate_span(p, rate, conn_now(c), from, conn_output_end(c) + n + 2);
	if (n == 0) {
		buf_append(out, "\r\n", 2);
		return true;
	}
	f->stream_left = n;
	f->stream_made = 0;
	faults_stream(c, f, out);
	return true;
}

static bool
stream_armed(struct conn *c, const struct faults *f, char *line, size_t size)
{
	(void)c;
	if (f->stream_left == 0)
		return false;
	snprintf(line, size, "STREAM %llu bytes left", (unsigned long long)f->stream_left);
	return true;
}

int
faults_stream(struct conn *c, struct faults *f, struct buf *out)
{
	/* 94 times 44 bytes: the pattern restarts at every offset of the block. */
	static char block[94 * 44];
	size_t room = conn_output_room(c), n, off;
	char *dst;

	/* Made just ahead of the socket: a paced stream holds one block, not output_limit. */
	if (room > STREAM_AHEAD)
		room = buf_len(out) < STREAM_AHEAD ? STREAM_AHEAD - buf_len(out) : 0;

	if (block[0] == '\0')
		for (off = 0; off < sizeof(block); off++)
			block[off] = faults_stream_byte(off);
	while (f->stream_left > 0 && room > 0) {
		off = (size_t)(f->stream_made % 94);
		n = sizeof(block) - off;
		if (n > room)
			n = room;
		if (n > f->stream_left)
			n = (size_t)f->stream_left;
		if ((dst = buf_reserve(out, n)) == NULL)
			return -1;
		memcpy(dst, block + off, n);
		buf_commit(out, n);
		f->stream_made += n;
		f->stream_left -= n;
		room -= n;
	}
	return f->stream_left == 0 ? buf_append(out, "\r\n", 2) : 0;
}

const struct fault fault_stream = { "stream", false, 2, 4,
	"STREAM bytes [RATE bytes_per_s], at most 1099511627776 bytes", run_stream,
	stream_armed };
