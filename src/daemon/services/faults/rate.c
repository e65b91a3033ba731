/* SPDX-License-Identifier: MIT */
/* RATE: the replies from this one on paced to so many bytes a second. */
#include <stdio.h>

#include "daemon/conn.h"
#include "daemon/pace.h"
#include "daemon/services/faults/fault.h"
#include "tcpd/resp.h"

static bool
run_rate(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t rate;
	struct pace *p;

	(void)f;
	if (!fault_arg_count(&req->argv[1], PACE_RATE_MAX, &rate))
		return false;
	if ((p = fault_pacing(c, out)) == NULL)
		return true;
	pace_set_rate(p, rate, conn_now(c), fault_queued_from(c), conn_output_end(c));
	resp_add_simple(out, "OK");
	return true;
}

static bool
rate_armed(struct conn *c, const struct faults *f, char *line, size_t size)
{
	const struct pace *p = conn_pace(c, false);

	(void)f;
	if (p == NULL || p->rate == 0)
		return false;
	snprintf(line, size, "RATE %llu bytes/s", (unsigned long long)p->rate);
	return true;
}

const struct fault fault_rate = { "rate", false, 2, 2, "RATE bytes_per_s (0 = off)", run_rate,
	rate_armed };
