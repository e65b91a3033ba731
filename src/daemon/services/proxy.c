/* SPDX-License-Identifier: MIT */
/* service = proxy: each client passed on to the listener's upstream, and back. */
#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/services/service.h"

static int
proxy_open(struct conn *c, void *state)
{
	const struct listener *l = conn_listener(c);

	(void)state;
	return conn_upstream_start(c, &l->upstream_addr, l->connect_timeout);
}

/* The client's bytes, after the listener's upstream_* faults. */
static size_t
proxy_input(struct conn *c, void *state, const char *data, size_t len)
{
	(void)state;
	/* On failure c is closed, and a closed connection takes no more input. */
	(void)conn_upstream_send(c, data, len);
	return len;
}

/* The server's bytes, through the listener's faults on the way out. */
static void
proxy_upstream_input(struct conn *c, void *state, const char *data, size_t len)
{
	(void)state;
	(void)conn_send(c, data, len);
}

const struct service service_proxy = {
	.name = "proxy",
	.flags = SERVICE_PASSES,
	.open = proxy_open,
	.input = proxy_input,
	.upstream_input = proxy_upstream_input,
};
