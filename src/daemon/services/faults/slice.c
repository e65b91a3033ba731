/* SPDX-License-Identifier: MIT */
/* SLICE: the replies from this one on in writes of so many bytes, a gap apart. */
#include <stdio.h>

#include "daemon/conn.h"
#include "daemon/pace.h"
#include "daemon/services/faults/fault.h"
#include "tcpd/log.h"
#include "tcpd/resp.h"

static bool
run_slice(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t bytes, gap = 0;
	struct pace *p;

	(void)f;
	if (!fault_arg_count(&req->argv[1], 1u << 30, &bytes) ||
	    (req->argc == 3 && !fault_arg_ms(&req->argv[2], &gap)))
		return false;
	if ((p = fault_pacing(c, out)) == NULL)
		return true;
	/* Each write its own segment, or the kernel would join the slices again. */
	if (bytes != 0 && conn_set_nodelay(c) == -1)
		conn_log(c, LOG_LEVEL_DEBUG, "TCP_NODELAY: %m");
	pace_set_slice(p, bytes, gap, fault_queued_from(c), conn_output_end(c));
	resp_add_simple(out, "OK");
	return true;
}

static bool
slice_armed(struct conn *c, const struct faults *f, char *line, size_t size)
{
	const struct pace *p = conn_pace(c, false);

	(void)f;
	if (p == NULL || p->slice == 0)
		return false;
	snprintf(line, size, "SLICE %llu every %llu ms", (unsigned long long)p->slice,
	    (unsigned long long)p->slice_gap_ms);
	return true;
}

const struct fault fault_slice = { "slice", false, 2, 3, "SLICE bytes [gap_ms] (0 = off)", run_slice,
	slice_armed };
