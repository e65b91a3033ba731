/* SPDX-License-Identifier: MIT */
/* DELAY: every following reply waits; SLEEP: only the next one. */
#include <stdio.h>

#include "daemon/conn.h"
#include "daemon/pace.h"
#include "daemon/services/faults/fault.h"
#include "tcpd/resp.h"

static bool
run_delay(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t ms, jitter = 0;
	struct pace *p;

	(void)f;
	if (!fault_arg_ms(&req->argv[1], &ms) ||
	    (req->argc == 3 && (!fault_arg_ms(&req->argv[2], &jitter) || jitter > ms)))
		return false;
	if ((p = fault_pacing(c, out)) == NULL)
		return true;
	/* From the next request on: command_input() starts each one's wait. */
	pace_set_delay(p, ms, jitter);
	resp_add_simple(out, "OK");
	return true;
}

static bool
delay_armed(struct conn *c, const struct faults *f, char *line, size_t size)
{
	const struct pace *p = conn_pace(c, false);

	(void)f;
	if (p == NULL || p->delay_ms == 0)
		return false;
	snprintf(line, size, "DELAY %llu %llu", (unsigned long long)p->delay_ms,
	    (unsigned long long)p->jitter_ms);
	return true;
}

static bool
run_sleep(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t ms;
	struct pace *p;

	(void)f;
	if (!fault_arg_ms(&req->argv[1], &ms))
		return false;
	if ((p = fault_pacing(c, out)) == NULL)
		return true;
	pace_sleep_next(p, ms);
	resp_add_simple(out, "OK");
	return true;
}

static bool
sleep_armed(struct conn *c, const struct faults *f, char *line, size_t size)
{
	const struct pace *p = conn_pace(c, false);

	(void)f;
	if (p == NULL || p->sleep_ms == 0)
		return false;
	snprintf(line, size, "SLEEP %llu the next reply", (unsigned long long)p->sleep_ms);
	return true;
}

const struct fault fault_delay = { "delay", false, 2, 3, "DELAY ms [jitter_ms], jitter at most ms",
	run_delay, delay_armed };
const struct fault fault_sleep = { "sleep", false, 2, 2, "SLEEP ms", run_sleep, sleep_armed };
