/* SPDX-License-Identifier: MIT */
#ifndef TCPD_CONN_H
#define TCPD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpd/config.h"

struct conn;
struct listener;
struct loop;
struct net_addr;

/* Per-connection limits, fixed for a connection when it is accepted. */
struct conn_limits {
	unsigned	max_line;
	unsigned	output_limit;
	unsigned	idle_timeout;		/* seconds, 0 = never */
	unsigned	request_timeout;	/* seconds, 0 = never */
};

/*
 * Every connection of the daemon. Replies are not written when produced:
 * the connection joins a pending list and conns_before_sleep() writes them
 * all, arming EPOLLOUT only for a socket that would block. Closed connections
 * are freed there too, so no callback ever sees a freed connection.
 */
struct conns {
	struct loop		*loop;
	struct conn_limits	 limits;	/* for new connections */
	struct conn		*all;		/* doubly linked */
	struct conn		*pending;	/* output to write before sleeping */
	struct conn		*dead;		/* closed, to free before sleeping */
	size_t			 count;		/* open connections */
	uint64_t		 next_id;
	bool			 draining;	/* shutting down: close when done */
};

void	conns_init(struct conns *conns, struct loop *loop);

/* Writes pending output and frees closed connections; the loop's hook. */
void	conns_before_sleep(struct conns *conns);

/*
 * Shutting down: from now on each connection closes as soon as it owes
 * nothing (output sent, no request half-received, nothing more to read).
 */
void	conns_drain(struct conns *conns);

/* Closes every connection at once and frees them. */
void	conns_close_all(struct conns *conns, const char *reason);

/*
 * Takes ownership of the socket fd accepted on the address bound, and starts
 * serving l's service on it. The connection holds a reference to l, given
 * back through listener_conn_closed(l, key) when it closes; key is the peer's
 * cidr_key(). Returns the connection, or NULL (fd closed, reference not taken).
 */
struct conn *conn_new(struct conns *conns, int fd, const struct net_addr *peer,
	    const struct net_addr *bound, struct listener *l, const uint8_t key[16]);

#endif
