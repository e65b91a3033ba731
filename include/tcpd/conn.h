/* SPDX-License-Identifier: MIT */
#ifndef TCPD_CONN_H
#define TCPD_CONN_H

#include <stdint.h>

#include "tcpd/config.h"

struct conn;
struct loop;
struct net_addr;

/*
 * Every connection of the daemon. Replies are not written when produced:
 * the connection joins a pending list and conns_before_sleep() writes them
 * all, arming EPOLLOUT only for a socket that would block. Closed connections
 * are freed there too, so no callback ever sees a freed connection.
 */
struct conns {
	struct loop		*loop;
	const struct config	*cfg;		/* limits for new connections */
	struct conn		*all;		/* doubly linked */
	struct conn		*pending;	/* output to write before sleeping */
	struct conn		*dead;		/* closed, to free before sleeping */
	uint64_t		 next_id;
};

void	conns_init(struct conns *conns, struct loop *loop, const struct config *cfg);

/* Writes pending output and frees closed connections; the loop's hook. */
void	conns_before_sleep(struct conns *conns);

/* Closes every connection at once (shutdown) and frees them. */
void	conns_close_all(struct conns *conns, const char *reason);

/*
 * Takes ownership of the accepted socket fd and starts serving service on
 * it. Returns the connection, or NULL (fd closed, reason logged).
 */
struct conn *conn_new(struct conns *conns, int fd, const struct net_addr *peer,
	    const char *listener, enum service service);

#endif
