/* SPDX-License-Identifier: MIT */
/* RFC 867: the date as text, then close. */
#include <time.h>

#include "daemon/conn.h"
#include "daemon/services/inetd.h"
#include "daemon/services/service.h"

static int
daytime_open(struct conn *c, void *state)
{
	char line[DAYTIME_MAX];

	(void)state;
	/* Written at once, nothing being queued: a peer already gone fails it here. */
	if (conn_send(c, line, inetd_daytime(line, time(NULL))) == -1)
		return -1;
	conn_finish(c, "daytime sent");
	return 0;
}

const struct service service_daytime = {
	.name = "daytime",
	.open = daytime_open,
	.input = service_ignore_input,
};
