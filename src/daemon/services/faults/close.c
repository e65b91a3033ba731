/* SPDX-License-Identifier: MIT */
/* CLOSE and RESET: a FIN or an RST now, or at a byte or moment to come. */
#include <stdio.h>

#include "daemon/conn.h"
#include "daemon/pace.h"
#include "daemon/services/faults/fault.h"
#include "tcpd/resp.h"

/* CLOSE or RESET AFTER bytes | duration: the OK now, the end later. */
static bool
end_after(struct conn *c, enum pace_end how, const struct resp_request *req, struct buf *out)
{
	uint64_t bytes, ms, now = conn_now(c);
	struct pace *p;

	if (!fault_word(&req->argv[1], "after") ||
	    pace_parse_after(req->argv[2].ptr, req->argv[2].len, &bytes, &ms) == -1)
		return false;
	if ((p = fault_pacing(c, out)) == NULL)
		return true;
	/* One end at a time: a second would silently replace the first. */
	if (p->end != PACE_END_NONE) {
		resp_add_error(out, "ERR %s AFTER is already set: FAULTS CLEAR first",
		    p->end == PACE_END_CLOSE ? "CLOSE" : "RESET");
		return true;
	}
	resp_add_simple(out, "OK");
	pace_set_end(p, how, bytes == PACE_NEVER ? PACE_NEVER : conn_output_end(c) + bytes,
	    ms == PACE_NEVER ? PACE_NEVER : now + ms);
	return true;
}

static bool
end_armed(struct conn *c, enum pace_end how, char *line, size_t size)
{
	const struct pace *p = conn_pace(c, false);
	uint64_t now = conn_now(c), pos = conn_output_end(c);
	const char *name = how == PACE_END_CLOSE ? "CLOSE" : "RESET";

	if (p == NULL || p->end != how)
		return false;
	if (p->end_pos != PACE_NEVER)
		snprintf(line, size, "%s AFTER %llu bytes more", name,
		    (unsigned long long)(p->end_pos > pos ? p->end_pos - pos : 0));
	else
		snprintf(line, size, "%s AFTER %llu ms more", name,
		    (unsigned long long)(p->end_at > now ? p->end_at - now : 0));
	return true;
}

static bool
run_close(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	(void)f;
	if (req->argc == 3)
		return end_after(c, PACE_END_CLOSE, req, out);
	conn_finish(c, "CLOSE fault");	/* a FIN now, no reply */
	return true;
}

static bool
close_armed(struct conn *c, const struct faults *f, char *line, size_t size)
{
	(void)f;
	return end_armed(c, PACE_END_CLOSE, line, size);
}

static bool
run_reset(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	(void)f;
	if (req->argc == 3)
		return end_after(c, PACE_END_RESET, req, out);
	conn_reset(c);
	return true;
}

static bool
reset_armed(struct conn *c, const struct faults *f, char *line, size_t size)
{
	(void)f;
	return end_armed(c, PACE_END_RESET, line, size);
}

const struct fault fault_close = { "close", false, 1, 3, "CLOSE [AFTER bytes|250ms|2s]",
	run_close, close_armed };
const struct fault fault_reset = { "reset", true, 1, 3, "RESET [AFTER bytes|250ms|2s]",
	run_reset, reset_armed };
