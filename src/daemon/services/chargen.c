/* SPDX-License-Identifier: MIT */
/* RFC 864: lines of characters, generated as the socket drains; input ignored. */
#include <stddef.h>

#include "daemon/conn.h"
#include "daemon/services/inetd.h"
#include "daemon/services/service.h"
#include "tcpd/buf.h"

/* At most this much generated and unsent. */
#define CHARGEN_FILL		(16 * 1024)

struct chargen {
	unsigned	line;		/* the next line of the ring */
};

static int
chargen_fill(struct conn *c, void *state)
{
	struct chargen *g = state;
	struct buf *out = conn_output(c);
	size_t have = buf_len(out), want = have + conn_output_room(c);
	char *dst;

	if (want > CHARGEN_FILL)
		want = CHARGEN_FILL;
	if (have + CHARGEN_LINE_LEN > want)
		return 0;
	if ((dst = buf_reserve(out, want - have)) == NULL)
		return -1;
	buf_commit(out, inetd_chargen(dst, want - have, &g->line));
	return 0;
}

const struct service service_chargen = {
	.name = "chargen",
	.state_size = sizeof(struct chargen),
	.flags = SERVICE_ENDLESS,
	.open = chargen_fill,
	.input = service_ignore_input,
	.drained = chargen_fill,
};
