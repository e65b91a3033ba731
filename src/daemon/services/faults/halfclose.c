/* SPDX-License-Identifier: MIT */
/* HALFCLOSE: our FIN after the OK, while the connection goes on reading. */
#include "daemon/conn.h"
#include "daemon/services/faults/fault.h"
#include "tcpd/resp.h"

static bool
run_halfclose(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	(void)f;
	(void)req;
	resp_add_simple(out, "OK");
	conn_half_close(c);
	return true;
}

const struct fault fault_halfclose = { "halfclose", false, 1, 1, "HALFCLOSE", run_halfclose, NULL };
