/* SPDX-License-Identifier: MIT */
/* TRUNCATE: the next reply cut in half, then our FIN. */
#include <stdio.h>

#include "daemon/conn.h"
#include "daemon/services/faults/fault.h"
#include "tcpd/buf.h"
#include "tcpd/resp.h"

static bool
run_truncate(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	(void)c;
	(void)req;
	f->truncate_next = true;
	resp_add_simple(out, "OK");
	return true;
}

static bool
truncate_armed(struct conn *c, const struct faults *f, char *line, size_t size)
{
	(void)c;
	if (!f->truncate_next)
		return false;
	snprintf(line, size, "TRUNCATE the next reply");
	return true;
}

void
faults_after_reply(struct conn *c, struct faults *f, struct buf *out, size_t len)
{
	if (len == 0)
		return;
	f->truncate_next = false;
	buf_unappend(out, len - len / 2);
	conn_finish(c, "TRUNCATE fault");
}

const struct fault fault_truncate = { "truncate", false, 1, 1, "TRUNCATE", run_truncate,
	truncate_armed };
