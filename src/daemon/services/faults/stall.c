/* SPDX-License-Identifier: MIT */
/* STALL: nothing read or sent, for a time or for good: a server that hangs. */
#include <stdio.h>

#include "daemon/conn.h"
#include "daemon/pace.h"
#include "daemon/services/faults/fault.h"
#include "tcpd/resp.h"

static bool
run_stall(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t ms = PACE_NEVER, now = conn_now(c);
	struct pace *p;

	(void)f;
	if (req->argc == 2 && !fault_arg_ms(&req->argv[1], &ms))
		return false;
	if ((p = fault_pacing(c, out)) == NULL)
		return true;
	/* The OK waits with everything else: it comes when the stall ends, as DEBUG SLEEP's. */
	resp_add_simple(out, "OK");
	pace_stall(p, now, ms == PACE_NEVER ? PACE_NEVER : now + ms);
	return true;
}

static bool
stall_armed(struct conn *c, const struct faults *f, char *line, size_t size)
{
	const struct pace *p = conn_pace(c, false);
	uint64_t now = conn_now(c);

	(void)f;
	if (p == NULL || p->stall_until <= now || p->stall_from == PACE_NEVER)
		return false;
	snprintf(line, size, p->stall_until == PACE_NEVER ? "STALL for good" :
	    "STALL %llu ms more", (unsigned long long)(p->stall_until - now));
	return true;
}

const struct fault fault_stall = { "stall", false, 1, 2, "STALL [ms]", run_stall, stall_armed };
