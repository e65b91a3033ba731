/* SPDX-License-Identifier: MIT */
/* RFC 868: seconds since 1900 as 32 bits, then close. */
#include <time.h>

#include "daemon/conn.h"
#include "daemon/services/inetd.h"
#include "daemon/services/service.h"

static int
time_open(struct conn *c, void *state)
{
	unsigned char t[4];

	(void)state;
	inetd_time(t, time(NULL));
	/* Written at once, nothing being queued: a peer already gone fails it here. */
	if (conn_send(c, t, sizeof(t)) == -1)
		return -1;
	conn_finish(c, "time sent");
	return 0;
}

const struct service service_time = {
	.name = "time",
	.open = time_open,
	.input = service_ignore_input,
};
