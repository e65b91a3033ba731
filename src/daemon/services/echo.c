/* SPDX-License-Identifier: MIT */
/* RFC 862: every byte back. */
#include "daemon/conn.h"
#include "daemon/services/service.h"

static size_t
echo_input(struct conn *c, void *state, const char *data, size_t len)
{
	(void)state;
	/* On failure c is closed, and a closed connection takes no more input. */
	(void)conn_send(c, data, len);
	return len;
}

const struct service service_echo = {
	.name = "echo",
	.input = echo_input,
};
