/* SPDX-License-Identifier: MIT */
#ifndef TCPD_DAEMON_SERVICE_H
#define TCPD_DAEMON_SERVICE_H

#include <stddef.h>

struct conn;

/*
 * The interface a connection serves, beside the transport that serves it
 * (HAProxy's applets): conn.c calls these and knows nothing of any service;
 * the services and their registry live in services/.
 */

/* The service's output never ends (chargen): nothing is owed at EOF or drain. */
#define SERVICE_ENDLESS		0x1u
/*
 * The service starts each request's delay itself (pace_request() as it
 * parses one), so a fault's delay counts per request, not per read.
 */
#define SERVICE_REQUESTS	0x2u
/*
 * The service passes each side's bytes to the other unchanged (proxy): with
 * no fault on the connection, conn may splice them past it, no copy.
 */
#define SERVICE_PASSES		0x4u

/*
 * What runs over a connection. conn.c moves bytes and keeps time; a service
 * only turns input into output through the conn_* calls in conn.h. Every
 * callback is optional except input; state is the service's zeroed
 * per-connection area of state_size bytes.
 */
struct service {
	const char	*name;		/* as in "service = NAME" */
	size_t		 state_size;
	unsigned	 flags;
	/* Sent, best effort, to a client refused over a limit before it is closed. */
	const char	*refusal;

	/*
	 * The connection is being made: queue a greeting or ask to finish.
	 * Returns 0, or -1 with errno: the connection is dropped unmade.
	 */
	int	(*open)(struct conn *c, void *state);
	/*
	 * Bytes from the peer. Returns how many it used; conn keeps the rest
	 * (at most max_line and two reads) and offers it again, with what
	 * follows, when more arrives or output room frees up.
	 */
	size_t	(*input)(struct conn *c, void *state, const char *data, size_t len);
	/* Unused input outgrew what conn keeps: say why; conn then finishes. */
	void	(*input_too_big)(struct conn *c, void *state);
	/*
	 * Output was written: room to produce more. Returns 0, or -1 with
	 * errno (ENOBUFS: over the output limit) and conn closes.
	 */
	int	(*drained)(struct conn *c, void *state);
	/* A request stayed partial for request_timeout: say why; conn then finishes. */
	void	(*request_timeout)(struct conn *c, void *state);
	/*
	 * Bytes from the connection's upstream (conn_upstream_start(), a
	 * proxy's server), all to be used: passed on with conn_send().
	 */
	void	(*upstream_input)(struct conn *c, void *state, const char *data, size_t len);
	/*
	 * The connection goes: give back what the state holds. Called once for
	 * every connection, made or dropped unmade, whether or not the service
	 * began (its state is zeroed until then).
	 */
	void	(*release)(struct conn *c, void *state);
};

#endif
