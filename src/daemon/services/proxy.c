/* SPDX-License-Identifier: MIT */
/* service = proxy: each client passed on to the listener's upstream, and back. */
#include <string.h>

#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/proxy.h"
#include "daemon/services/service.h"

/*
 * upstream_proxy_protocol: the server's first bytes name the client and the
 * address it reached (those of a PROXY header the listener read, if any).
 */
static int
send_proxy_header(struct conn *c, unsigned version)
{
	struct conn_info info;
	struct net_addr src, dst;
	uint8_t header[PROXY_FORMAT_MAX];
	const char *why;
	bool known;

	conn_get_info(c, &info);
	known = net_addr_parse(&src, info.peer, strlen(info.peer), &why) == 0 &&
	    net_addr_parse(&dst, info.local, strlen(info.local), &why) == 0;
	return conn_upstream_send(c, header, proxy_format(header, version,
	    known ? &src : NULL, known ? &dst : NULL));
}

static int
proxy_open(struct conn *c, void *state)
{
	const struct listener *l = conn_listener(c);

	(void)state;
	if (conn_upstream_start(c, &l->upstream_addr, l->connect_timeout,
	    l->upstream_connect_delay) == -1)
		return -1;
	return l->upstream_proxy_protocol != 0 ?
	    send_proxy_header(c, l->upstream_proxy_protocol) : 0;
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
