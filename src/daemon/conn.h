/* SPDX-License-Identifier: MIT */
#ifndef TCPD_CONN_H
#define TCPD_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpd/log.h"
#include "tcpd/net.h"

struct buf;
struct conn;
struct listener;
struct loop;

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
	uint64_t		 random;	/* seeds each connection's fault jitter */
	bool			 draining;	/* shutting down: close when done */
	int			 pipe[2];	/* splice's, made on first use; empty between calls */
};

void	conns_init(struct conns *conns, struct loop *loop);

/* Writes pending output and frees closed connections; the loop's hook. */
void	conns_before_sleep(struct conns *conns);

/*
 * Shutting down: from now on each connection closes as soon as it owes
 * nothing (output sent, no request half-received, nothing more to read).
 */
void	conns_drain(struct conns *conns);

/*
 * Each open connection of a listener whose faults changed at the last
 * configure (listener.h's refaulted) takes them, as Toxiproxy's toxics
 * reach the connections they find (pace_restart()).
 */
void	conns_refault(struct conns *conns);

/* Closes every connection at once and frees them. */
void	conns_close_all(struct conns *conns, const char *reason);

/*
 * Starts serving l's service (after the PROXY header, for a listener that
 * takes one) on the socket fd accepted from peer, who is already counted
 * in l's per-IP table under its cidr_key() when counted. All or nothing: on
 * success (0) the connection owns fd, one reference to l and the per-IP
 * count, and gives them back when it closes; on failure (-1, errno set, a
 * line logged) it has taken none of them, whatever the service's open did.
 */
int	conn_new(struct conns *conns, int fd, const struct net_addr *peer,
	    struct listener *l, bool counted);

/* For services: the calls a service makes on the connection it serves. */

/* What a service may know about its connection, the addresses in text. */
struct conn_info {
	uint64_t	 id;
	char		 peer[NET_ADDRSTRLEN];	/* "ip:port" */
	char		 local[NET_ADDRSTRLEN];
	const char	*listener;
	const char	*proxy;		/* the load balancer a PROXY header came from, or NULL */
	int		 fd;
	uint64_t	 age_ms;	/* since accept */
	uint64_t	 idle_ms;	/* since the last byte either way */
	size_t		 in_buffered;	/* input the service has not used */
	size_t		 out_buffered;	/* output not written yet */
};

void	conn_get_info(const struct conn *c, struct conn_info *info);

/*
 * For CLIENT LIST and KILL: the process's open connections of c's service
 * after prev (NULL: the first), each with its service's state; and a close
 * of one of them, which for c itself is a finish after its reply.
 */
struct conn *conn_next_peer(const struct conn *c, const struct conn *prev);
void	*conn_state(struct conn *c);
void	conn_kill(struct conn *c, struct conn *victim);

/* The output queue: bytes appended are sent in order, before sleeping. */
struct buf *conn_output(struct conn *c);

/* Bytes the output queue may take before the peer must read (backpressure). */
size_t	conn_output_room(const struct conn *c);

/* The longest line or request element the service should accept. */
size_t	conn_max_line(const struct conn *c);

/*
 * Sends n bytes after what is queued: written at once when nothing is, the
 * unwritten rest queued. Returns 0, or -1 when the connection was closed
 * (an error, or the output limit).
 */
int	conn_send(struct conn *c, const void *p, size_t n);

/*
 * Finish: read no more requests, send what is owed, then our FIN, and close
 * once the peer's FIN arrives (or a short linger passes). why, a string
 * that outlives the connection ("QUIT"), is the reason its close line gives.
 */
void	conn_finish(struct conn *c, const char *why);
bool	conn_finishing(const struct conn *c);

/*
 * The request timer: running from the first byte of a partial request
 * until the service says the request is complete.
 */
void	conn_request_partial(struct conn *c);
void	conn_request_complete(struct conn *c);

/* The connection's listener, and the loop's clock (ms). */
struct listener *conn_listener(const struct conn *c);
uint64_t conn_now(const struct conn *c);

/*
 * For fault injection: whether the peer is on loopback (127.0.0.0/8, ::1);
 * an RST now (what is unsent is dropped); a finish that keeps reading and
 * discarding after its FIN until the peer closes or idle_timeout passes.
 */
bool	conn_peer_loopback(const struct conn *c);
void	conn_reset(struct conn *c);
void	conn_half_close(struct conn *c);

/*
 * For timed faults: the connection's pacing (pace.h), which conn obeys from
 * then on, made when make is set (NULL: ENOMEM, or none made yet, as a
 * connection without faults has); the position just past the
 * queued output, where a hold or an end counted from now begins; and
 * TCP_NODELAY, so each paced write is a segment of its own (-1, errno).
 */
struct pace *conn_pace(struct conn *c, bool make);
/*
 * Whether a fault (a stall, accept_delay) stops the connection reading now:
 * a service leaves the rest of its input, offered again when it ends.
 */
bool	conn_reads_held(struct conn *c);
uint64_t conn_output_end(const struct conn *c);
int	conn_set_nodelay(struct conn *c);

/*
 * For a proxy: a second socket the connection owns, a TCP connection to
 * addr (or a Unix stream socket's) made in the loop, its bytes handed to
 * the service's upstream_input. addr is kept, not copied: it must outlive c,
 * as the listener's own does.
 * The transport serves it as it serves the client: its own output queue
 * (bounded by output_limit: while it is over, the client is not read; while
 * the client's output is over, the upstream is not read), the client's FIN
 * passed on once all before it is written (shutdown(SHUT_WR)), the
 * upstream's FIN finishing the client once everything is sent, a reset of
 * either side resetting the other (SO_LINGER 0), and a connect refused or
 * not done within timeout_ms resetting the client, logged and counted. The
 * connect begins delay_ms from now, the client's bytes queued meanwhile. It
 * is closed with the connection, never before it is freed. Returns 0, or
 * -1 with errno (ENOMEM, epoll or timer): the connection must not be made.
 */
int	conn_upstream_start(struct conn *c, const struct net_addr *addr,
	    unsigned timeout_ms, unsigned delay_ms);

/*
 * Queues n bytes for the upstream (written at once when connected). Returns
 * 0 (bytes for an upstream that is gone or has our FIN are dropped), or -1
 * when the connection was closed.
 */
int	conn_upstream_send(struct conn *c, const void *p, size_t n);

/* A log line "conn ID PEER: ..." with the connection's journal fields. */
void	conn_log(const struct conn *c, enum log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
