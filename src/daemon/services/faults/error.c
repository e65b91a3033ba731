/* SPDX-License-Identifier: MIT */
/* ERROR text: an error reply of the client's choosing. */
#include "daemon/services/faults/fault.h"
#include "tcpd/resp.h"

static bool
run_error(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	(void)c;
	(void)f;
	resp_add_error(out, "%.*s", (int)req->argv[1].len, req->argv[1].ptr);
	return true;
}

const struct fault fault_error = { "error", false, 2, 2, "ERROR text", run_error, NULL };
