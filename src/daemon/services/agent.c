/* SPDX-License-Identifier: MIT */
/*
 * service = agent: HAProxy's agent-check. On each connection one line that
 * sets the server's state in HAProxy, then close: "up ready N%" while
 * serving, N the weight from how full tcpd is (fewer new connections to a
 * busier server), and "drain" from SIGTERM on, so HAProxy sends no new
 * connection during shutdown_delay.
 */
#include <stdio.h>

#include "daemon/conn.h"
#include "daemon/services/service.h"
#include "daemon/stats.h"

/* The line for the current state; its length. */
size_t
agent_line(char *dst, size_t size)
{
	unsigned weight;
	int n;

	if (!stats.ready)
		n = snprintf(dst, size, "drain\n");
	else {
		/* 100% idle, 1% full: never 0, which HAProxy would read as drain. */
		weight = stats.max_connections > 0 ? (unsigned)(100 - stats.connected * 100 /
		    stats.max_connections) : 100;
		n = snprintf(dst, size, "up ready %u%%\n", weight > 0 ? weight : 1);
	}
	return n > 0 ? (size_t)n : 0;
}

static int
agent_open(struct conn *c, void *state)
{
	char line[32];

	(void)state;
	/* Written at once, nothing being queued: a peer already gone fails it here. */
	if (conn_send(c, line, agent_line(line, sizeof(line))) == -1)
		return -1;
	conn_finish(c, "agent line sent");
	return 0;
}

const struct service service_agent = {
	.name = "agent",
	.open = agent_open,
	.input = service_ignore_input,
};
