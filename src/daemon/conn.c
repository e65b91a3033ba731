/* SPDX-License-Identifier: MIT */
#include <sys/random.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/acl.h"
#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/pace.h"
#include "daemon/preamble.h"
#include "daemon/service.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"
#include "tcpd/loop.h"
#include "tcpd/net.h"

/* One read per readiness event, into a buffer shared by all connections. */
#define READ_CHUNK		(64 * 1024)
/*
 * A read this big or bigger is bulk, and the next on that side splices: below
 * it two splices and the pipe cost more than the copies they save (PING,
 * pipelined 16 deep, took 10% more CPU spliced; 64 KiB echo 20% less).
 */
#define SPLICE_MIN		(16 * 1024)
/*
 * How long a connection that has sent everything and its FIN may wait for
 * the peer's FIN.
 */
#define LINGER_MS		5000
/*
 * Requests are taken while the output queue is under output_limit, so it
 * may overshoot by one reply, which must go whole: the largest is GARBAGE's
 * 1 MiB (INFO and /metrics are tens of KiB, a bulk max_line).
 */
#define REPLY_MAX		(1024 * 1024 + 64 * 1024)
/*
 * Shutting down, a connection accepted this recently that has sent nothing
 * yet is waited for: its request is most likely on its way (a restart under
 * load must not close connections the clients just made).
 */
#define DRAIN_GRACE_MS		1000
/*
 * Shutting down, a connection whose FIN we sent closes once its peer has
 * been quiet this long: a client still pipelining requests gets our FIN,
 * not an RST that would destroy the replies it has yet to read.
 */
#define DRAIN_QUIET_MS		500
/*
 * Fairness: one connection writes at most this much before others get a
 * turn, each write costing at least WRITE_COST_MIN of it: a fault's 1-byte
 * slices make every write a syscall for one byte.
 */
#define WRITE_BUDGET		(256 * 1024)
#define WRITE_COST_MIN		(16 * 1024)

enum {
	CONN_RD_EOF		= 1 << 0,	/* the peer sent FIN */
	CONN_FINISH		= 1 << 1,	/* send what is owed, then close */
	CONN_COUNTED		= 1 << 7,	/* c_key holds a per-IP count to give back */
	CONN_HALF		= 1 << 8,	/* a finish that keeps reading: no linger limit */
	CONN_LINGER		= 1 << 2,	/* our FIN sent; draining input */
	CONN_PENDING		= 1 << 3,	/* on the pending-write list */
	CONN_CLOSED		= 1 << 4,
	/*
	 * conn_new is still making it: a close asked for meanwhile (a service's
	 * open that failed to arm a timer, a greeting whose write failed) only
	 * sets CONN_DOOMED, and conn_new undoes what it did and fails.
	 */
	CONN_BUILDING		= 1 << 5,
	CONN_DOOMED		= 1 << 6,
	/* The peer's FIN came while a fault held reading: read it when the hold ends. */
	CONN_FIN_HELD		= 1 << 9,
	CONN_PEER_V6		= 1 << 10,	/* c_key is an IPv6 peer's, not a v4-mapped one */
	CONN_FILTER_IN		= 1 << 11,	/* c_filters has an input filter */
	CONN_RST		= 1 << 12,	/* closed with an RST: its upstream gets one too */
};

enum {
	UP_CONNECTING		= 1 << 0,
	UP_FAILED		= 1 << 1,	/* the connect failed at once: the timer says so */
	UP_RD_EOF		= 1 << 2,	/* the upstream's FIN came */
	UP_WR_SHUT		= 1 << 3,	/* the client's FIN passed on */
	UP_PARKED		= 1 << 4,	/* out of epoll: hung up while not read */
	UP_DELAYED		= 1 << 5,	/* with UP_CONNECTING: no socket yet, the timer starts it */
	UP_BULK_IN		= 1 << 6,	/* the client's last read was bulk: splice the next */
	UP_BULK_OUT		= 1 << 7,	/* the upstream's last read was bulk: splice the next */
};

/*
 * A proxy's connection to its server: a second socket of the connection,
 * closed by its close (or once both FINs have passed) and freed with it.
 */
struct upstream {
	int			 u_fd;		/* -1 once closed */
	unsigned		 u_flags;
	int			 u_error;	/* UP_FAILED's errno */
	struct buf		 u_out;		/* the client's bytes not written yet */
	struct loop_timer	 u_timer;	/* the connect delay, then connect_timeout */
	unsigned		 u_timeout_ms;
	uint64_t		 u_sent;	/* loop_now() of the last byte written to it */
	uint64_t		 u_heard;	/* and of the last byte read from it */
	const struct net_addr	*u_addr;	/* the listener's: 112 bytes a pair need not copy */
};

/*
 * A connection's timed faults, each a filter on one direction of its byte
 * stream (pace.h): its output's, whose positions count the bytes written,
 * and, when its listener has upstream faults, its input's, whose positions
 * count the bytes read: bytes read wait at the end of c_in until the input
 * filter shows them to the service. A connection without an input filter
 * is allocated only up to in.
 */
struct filters {
	struct pace	out;
	struct pace	in;
	uint64_t	in_held;	/* bytes at the end of c_in not shown yet */
};
#define FILTERS_OUT_ONLY	offsetof(struct filters, in)

/* Only a connection a PROXY header names another client for pays for these. */
struct proxied {
	char	balancer[NET_ADDRSTRLEN];	/* the socket's peer */
	char	local[NET_ADDRSTRLEN];		/* the address the client reached */
};

struct conn {
	uint64_t		 c_id;
	int			 c_fd;
	unsigned		 c_flags;
	const struct service	*c_service;
	struct conns		*c_conns;
	struct listener		*c_listener;
	struct buf		 c_in;		/* input the service has not used yet */
	struct buf		 c_out;
	unsigned		 c_max_line;
	unsigned		 c_output_limit;
	uint32_t		 c_idle_s;	/* 0 = never */
	uint32_t		 c_request_s;	/* 0 = never */
	enum close_reason	 c_end;		/* why tcpd finished it; CLOSE_REASONS: it has not */
	uint16_t		 c_port;	/* the peer's, with c_key its address */
	/* Never both: no request is partial once a finish has begun. */
	union {
		uint64_t	 c_request_since; /* first byte of an unfinished request, 0 = none */
		uint64_t	 c_linger_since;	/* when our FIN went out */
	};
	uint64_t		 c_opened;	/* loop_now() */
	uint64_t		 c_active;	/* last byte either way */
	uint64_t		 c_bytes_in;
	uint64_t		 c_bytes_out;
	const char		*c_finish_why;	/* why tcpd finished it, said in the close's log line */
	struct loop_timer	 c_timer;
	struct filters		*c_filters;	/* timed faults, or NULL */
	struct preamble		*c_preamble;	/* a PROXY header still to read, or NULL */
	struct conn		*c_prev, *c_next;	/* conns->all */
	struct conn		*c_pending_next;
	struct conn		*c_dead_next;
	/* The peer's address (v4-mapped for IPv4), for per-IP counts and the log. */
	uint8_t			 c_key[16];
	struct proxied		*c_proxied;	/* behind a load balancer, or NULL */
	struct upstream		*c_up;		/* a proxy's server, or NULL */
	/* The service's state follows, state_size bytes. */
	max_align_t		 c_state[];
};

static char read_chunk[READ_CHUNK];

/*
 * The peer's address, kept as its key and port: an idle connection holds
 * no text, which only a log line or WHOAMI needs.
 */
static void
peer_addr(const struct conn *c, struct net_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (c->c_flags & CONN_PEER_V6) {
		a->u.in6.sin6_family = AF_INET6;
		a->u.in6.sin6_port = htons(c->c_port);
		memcpy(&a->u.in6.sin6_addr, c->c_key, 16);
		a->len = sizeof(a->u.in6);
	} else {
		a->u.in.sin_family = AF_INET;
		a->u.in.sin_port = htons(c->c_port);
		memcpy(&a->u.in.sin_addr, c->c_key + 12, 4);
		a->len = sizeof(a->u.in);
	}
}

static void
set_peer(struct conn *c, const struct net_addr *peer)
{
	cidr_key(peer, c->c_key);
	c->c_port = net_addr_port(peer);
	if (peer->u.sa.sa_family == AF_INET6)
		c->c_flags |= CONN_PEER_V6;
	else
		c->c_flags &= ~CONN_PEER_V6;
}

/*
 * A line about c, prefixed "conn ID PEER:", with the journal fields that let
 * journalctl select it: TCPD_CONN_ID, TCPD_PEER (the address alone, as
 * TCPD_PEER=10.1.2.3 selects) and TCPD_LISTENER.
 */
void
conn_log(const struct conn *c, enum log_level level, const char *fmt, ...)
{
	char id[24], host[INET6_ADDRSTRLEN], peer[NET_ADDRSTRLEN], text[1536];
	struct net_addr addr;
	va_list ap;
	struct log_field fields[4] = {
		{ "TCPD_CONN_ID", id },
		{ "TCPD_PEER", host },
		{ "TCPD_LISTENER", c->c_listener->name },
		/* behind a load balancer: its address */
		{ "TCPD_PROXY", c->c_proxied != NULL ? c->c_proxied->balancer : NULL },
	};

	if (!log_enabled(level))
		return;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->c_id);
	peer_addr(c, &addr);
	net_addr_host(&addr, host, sizeof(host));
	net_addr_format(&addr, peer, sizeof(peer));
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_fields(level, fields, c->c_proxied != NULL ? 4 : 3, "conn %s %s: %s", id, peer,
	    text);
}

static void conn_on_event(struct loop *, int, void *, unsigned);
static void conn_on_timer(struct loop *, struct loop_timer *, void *);
static void close_if_drained(struct conn *c);
static void schedule_flush(struct conn *c);
static void update_mask(struct conn *c);
static void refuse_timed_out(struct conn *c);
static void offer_buffered(struct conn *c);
static bool upstream_open(const struct conn *c);
static void upstream_close(struct conn *c, bool rst);
static void upstream_pass_fin(struct conn *c);
static void upstream_update_mask(struct conn *c);
static uint64_t upstream_done_at(const struct conn *c);
static void upstream_wrote(struct conn *c, size_t n);

void
conns_init(struct conns *conns, struct loop *loop)
{
	*conns = (struct conns){ .loop = loop, .next_id = 1, .pipe = { -1, -1 } };
	/* Only the faults' jitter and choices use it: a poor seed costs nothing worse. */
	if (getrandom(&conns->random, sizeof(conns->random), GRND_NONBLOCK) == -1)
		conns->random = (uint64_t)getpid() << 32 ^ loop_now(loop);
}

/*
 * The faults its profile gave c, for its close line: ", faults delay
 * upstream_close", the upstream direction's prefixed as its keys are; "" for
 * none.
 */
static void
applied_faults(const struct conn *c, char *dst, size_t size)
{
	unsigned applied[2] = { 0, 0 }, d, f;
	size_t len = 0;

	dst[0] = '\0';
	if (c->c_filters == NULL)
		return;
	applied[0] = c->c_filters->out.applied;
	if (c->c_flags & CONN_FILTER_IN)
		applied[1] = c->c_filters->in.applied;
	for (d = 0; d < 2; d++)
		for (f = 0; f < PACE_FAULTS; f++)
			if ((applied[d] & 1u << f) && len < size)
				len += (size_t)snprintf(dst + len, size - len, "%s%s%s",
				    len == 0 ? ", faults " : " ", d == 1 ? "upstream_" : "",
				    pace_fault_names[f]);
}

/*
 * Every connection leaves through here, once, with the reason logged and
 * counted. Once tcpd has finished a connection, the peer's close that
 * follows is counted under why tcpd finished it.
 */
static void
conn_close(struct conn *c, enum close_reason why, const char *reason)
{
	struct conns *conns = c->c_conns;
	uint64_t lived_ms = loop_now(conns->loop) - c->c_opened;
	char faults[256];

	if (c->c_flags & CONN_CLOSED)
		return;
	if (c->c_flags & CONN_BUILDING) {
		c->c_flags |= CONN_DOOMED;
		return;
	}
	if (c->c_end != CLOSE_REASONS && (why == CLOSE_CLIENT || why == CLOSE_SERVER)) {
		/* The peer's close after tcpd's FIN: tcpd's reason is the one to tell. */
		if (why == CLOSE_CLIENT)
			reason = c->c_finish_why;
		why = c->c_end;
	}
	c->c_listener->closed[why]++;
	c->c_listener->active--;
	stats_observe(&stats.connection_duration, stats_connection_bounds,
	    lived_ms * 1000000u);
	/*
	 * One line per connection at info, like nginx's stream access log; but
	 * not for a connect-and-close with no byte either way, as load balancers'
	 * TCP health checks do every few seconds: that stays at debug.
	 */
	applied_faults(c, faults, sizeof(faults));
	conn_log(c, c->c_listener->log_connections && c->c_bytes_in + c->c_bytes_out > 0 ?
	    LOG_LEVEL_INFO : LOG_LEVEL_DEBUG,
	    "closed: %s (listener %s, in %llu, out %llu bytes, %llu ms%s)", reason,
	    c->c_listener->name, (unsigned long long)c->c_bytes_in,
	    (unsigned long long)c->c_bytes_out, (unsigned long long)lived_ms, faults);
	/* A reset either side of a proxy resets the other. */
	if (c->c_up != NULL)
		upstream_close(c, why == CLOSE_RESET || (c->c_flags & CONN_RST));
	loop_del_fd(conns->loop, c->c_fd);
	close(c->c_fd);
	c->c_fd = -1;
	loop_timer_stop(conns->loop, &c->c_timer);
	if (c->c_service->release != NULL)
		c->c_service->release(c, c->c_state);
	buf_free(&c->c_in);
	buf_free(&c->c_out);
	free(c->c_filters);
	c->c_filters = NULL;
	free(c->c_preamble);
	c->c_preamble = NULL;
	free(c->c_proxied);
	c->c_proxied = NULL;
	c->c_flags |= CONN_CLOSED;

	if (c->c_prev != NULL)
		c->c_prev->c_next = c->c_next;
	else
		conns->all = c->c_next;
	if (c->c_next != NULL)
		c->c_next->c_prev = c->c_prev;
	c->c_dead_next = conns->dead;
	conns->dead = c;
	conns->count--;

	stats.connected--;
	if (c->c_listener->counters != NULL)
		c->c_listener->counters->connected--;
	if (c->c_flags & CONN_COUNTED)
		listener_uncount_peer(c->c_listener, c->c_key);
	listener_release(c->c_listener);
}

static void
close_errno(struct conn *c, const char *what)
{
	char reason[96];

	snprintf(reason, sizeof(reason), "%s: %s", what, strerror(errno));
	conn_close(c, CLOSE_ERROR, reason);
}

/* Bytes read that an input filter has not shown the service yet. */
static uint64_t
input_unshown(const struct conn *c)
{
	return (c->c_flags & CONN_FILTER_IN) ? c->c_filters->in_held : 0;
}

/*
 * Lets through what the input filter allows now. Returns whether the
 * service has more to see.
 */
static bool
show_input(struct conn *c)
{
	struct filters *f = c->c_filters;
	uint64_t now = loop_now(c->c_conns->loop), pos, n;

	if (input_unshown(c) == 0)
		return false;
	pos = c->c_bytes_in - f->in_held;
	n = pace_allow(&f->in, pos, now);
	if (n > f->in_held)
		n = f->in_held;
	if (n == 0)
		return false;
	f->in_held -= n;
	pace_wrote(&f->in, pos + n, n, now);
	return true;
}

/* After a failed append to the output queue. */
static void
close_output_failed(struct conn *c)
{
	if (errno == ENOBUFS) {
		stats.output_limit_disconnections++;
		conn_close(c, CLOSE_OUTPUT_LIMIT, "output limit");
	} else {
		close_errno(c, "output buffer");
	}
}

/* The queue reading c feeds: its upstream's for a proxy, else its own output. */
static size_t
fed_len(const struct conn *c)
{
	return c->c_up != NULL ? buf_len(&c->c_up->u_out) : buf_len(&c->c_out);
}

static bool
wants_read(struct conn *c)
{
	if (c->c_flags & (CONN_RD_EOF | CONN_CLOSED))
		return false;
	if (c->c_flags & CONN_LINGER)
		return true;
	if (c->c_flags & CONN_FINISH)
		return false;
	if (c->c_filters != NULL && !pace_reads(&c->c_filters->out, loop_now(c->c_conns->loop)))
		return false;
	/* Input an input filter holds waits in c_in, which reading must not overfill. */
	if ((c->c_flags & CONN_FILTER_IN) && (buf_len(&c->c_in) >= c->c_in.max ||
	    !pace_reads(&c->c_filters->in, loop_now(c->c_conns->loop))))
		return false;
	/* Backpressure: a peer that does not read stops being read (a proxy's: its upstream). */
	return fed_len(c) < c->c_output_limit;
}

/* Whether a fault (a stall, accept_delay) stops c reading: the peer could wait forever. */
bool
conn_reads_held(struct conn *c)
{
	return c->c_filters != NULL && !(c->c_flags & (CONN_RD_EOF | CONN_FINISH | CONN_CLOSED)) &&
	    !pace_reads(&c->c_filters->out, loop_now(c->c_conns->loop));
}

/* The bytes c may write now, at most want: a fault may hold them back (pace.h). */
static size_t
paced(struct conn *c, size_t want)
{
	uint64_t allow;

	if (c->c_filters == NULL)
		return want;
	allow = pace_allow(&c->c_filters->out, c->c_bytes_out, loop_now(c->c_conns->loop));
	return allow < want ? (size_t)allow : want;
}

/*
 * The interest mask follows what the connection can do now: reading only
 * while it wants input (a level-triggered EOF would otherwise fire forever),
 * EPOLLOUT only while output waits, may go now (else the timer wakes it) and
 * the pending list is not about to try.
 */
static void
update_mask(struct conn *c)
{
	unsigned mask = 0;

	if (c->c_flags & CONN_CLOSED)
		return;
	if (wants_read(c))
		mask |= LOOP_READABLE;
	else if (conn_reads_held(c) && !((c->c_flags & CONN_FIN_HELD) &&
	    pace_accept_delayed(&c->c_filters->out, loop_now(c->c_conns->loop))))
		mask |= LOOP_HANGUP;	/* a peer that gives up still frees the connection */
	if (buf_len(&c->c_out) > 0 && !(c->c_flags & CONN_PENDING) && paced(c, 1) > 0)
		mask |= LOOP_WRITABLE;
	if (loop_set_mask(c->c_conns->loop, c->c_fd, mask) == -1)
		close_errno(c, "epoll_ctl");
	if (c->c_up != NULL)
		upstream_update_mask(c);
}

static void
schedule_flush(struct conn *c)
{
	struct conns *conns = c->c_conns;

	/* Nothing to write may still be a FIN to send: a finish that owes no reply. */
	if ((c->c_flags & (CONN_PENDING | CONN_CLOSED)) || (buf_len(&c->c_out) == 0 &&
	    (c->c_flags & (CONN_FINISH | CONN_LINGER)) != CONN_FINISH))
		return;
	c->c_flags |= CONN_PENDING;
	c->c_pending_next = conns->pending;
	conns->pending = c;
}

/* Nothing owed, nothing half-received, no finish under way, no reply to pass on. */
static bool
owes_nothing(const struct conn *c)
{
	return buf_len(&c->c_out) == 0 && buf_len(&c->c_in) == 0 &&
	    !(c->c_flags & (CONN_FINISH | CONN_LINGER)) &&
	    upstream_done_at(c) <= loop_now(c->c_conns->loop);
}

/*
 * When the input filter shows more without a read. pace_wake() tells only
 * of waits: slices with no gap between them may go at once, on the loop's
 * next turn, as the output's go on the next EPOLLOUT.
 */
static uint64_t
input_wake(struct conn *c)
{
	struct filters *f = c->c_filters;
	uint64_t now = loop_now(c->c_conns->loop), pos = c->c_bytes_in - f->in_held;

	if (f->in_held > 0 && pace_allow(&f->in, pos, now) > 0)
		return now;
	return pace_wake(&f->in, pos, f->in_held > 0, now);
}

enum deadline_kind {
	DEADLINE_NONE, DEADLINE_LINGER, DEADLINE_IDLE, DEADLINE_REQUEST, DEADLINE_PACE,
	DEADLINE_DRAIN
};

/* The earliest deadline that applies to c now, in *when. */
static enum deadline_kind
deadline(struct conn *c, uint64_t *when)
{
	enum deadline_kind kind = DEADLINE_NONE;
	uint64_t wake, quiet;

	/* A HALFCLOSE keeps reading for good, but not through a stop. */
	if ((c->c_flags & CONN_LINGER) && (!(c->c_flags & CONN_HALF) || c->c_conns->draining)) {
		*when = c->c_linger_since + LINGER_MS;
		/* Quiet since our FIN too: a request crossing it would meet an RST. */
		quiet = c->c_active > c->c_linger_since ? c->c_active : c->c_linger_since;
		if (c->c_conns->draining && quiet + DRAIN_QUIET_MS < *when)
			*when = quiet + DRAIN_QUIET_MS;
		return DEADLINE_LINGER;
	}
	/* Until everything owed is written, only idleness ends a finishing connection. */
	if (c->c_idle_s != 0) {
		*when = c->c_active + (uint64_t)c->c_idle_s * 1000;
		kind = DEADLINE_IDLE;
	}
	if (!(c->c_flags & CONN_FINISH) && c->c_request_since != 0 && c->c_request_s != 0 &&
	    (kind == DEADLINE_NONE ||
	    c->c_request_since + (uint64_t)c->c_request_s * 1000 < *when)) {
		*when = c->c_request_since + (uint64_t)c->c_request_s * 1000;
		kind = DEADLINE_REQUEST;
	}
	if (c->c_conns->draining && owes_nothing(c) && c->c_bytes_in == 0 &&
	    (kind == DEADLINE_NONE || c->c_opened + DRAIN_GRACE_MS < *when)) {
		*when = c->c_opened + DRAIN_GRACE_MS;
		kind = DEADLINE_DRAIN;
	}
	if (c->c_conns->draining && (wake = upstream_done_at(c)) != 0 && wake != UINT64_MAX &&
	    (kind == DEADLINE_NONE || wake < *when)) {
		*when = wake;
		kind = DEADLINE_DRAIN;
	}
	if (c->c_filters != NULL && (wake = pace_wake(&c->c_filters->out, c->c_bytes_out,
	    buf_len(&c->c_out) > 0, loop_now(c->c_conns->loop))) != PACE_NEVER &&
	    (kind == DEADLINE_NONE || wake < *when)) {
		*when = wake;
		kind = DEADLINE_PACE;
	}
	if ((c->c_flags & CONN_FILTER_IN) && (wake = input_wake(c)) != PACE_NEVER &&
	    (kind == DEADLINE_NONE || wake < *when)) {
		*when = wake;
		kind = DEADLINE_PACE;
	}
	return kind;
}

static int
start_timer(struct conn *c)
{
	uint64_t now = loop_now(c->c_conns->loop), when;

	/* A closed connection's timer is stopped for good: never armed again. */
	if (c->c_flags & CONN_CLOSED)
		return 0;
	if (deadline(c, &when) == DEADLINE_NONE) {
		loop_timer_stop(c->c_conns->loop, &c->c_timer);
		return 0;
	}
	/* At the deadline's own ms, not now's ms plus the difference: no later. */
	return when > now ? loop_timer_start_at(c->c_conns->loop, &c->c_timer, when) :
	    loop_timer_start(c->c_conns->loop, &c->c_timer, 0);
}

static void
arm_timer(struct conn *c)
{
	if (start_timer(c) == -1)
		close_errno(c, "timer");
}

static void
reset(struct conn *c, const char *reason)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/* A zero linger makes close() send an RST and drop what is unsent. */
	if (setsockopt(c->c_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
		conn_log(c, LOG_LEVEL_DEBUG, "SO_LINGER: %m");
	c->c_flags |= CONN_FINISH | CONN_RST;	/* the service reads no further request */
	conn_close(c, CLOSE_SERVER, reason);
}

/*
 * Whether our FIN may go to the client now: slow_close holds it, and the
 * timer brings the connection back when it may.
 */
static bool
fin_may_go(struct conn *c)
{
	if (c->c_filters == NULL || pace_fin_may_go(&c->c_filters->out,
	    loop_now(c->c_conns->loop)))
		return true;
	arm_timer(c);
	return false;
}

/*
 * The filter of a direction whose fault ends the connection now (its close
 * or reset at a byte of that direction or a moment), or NULL.
 */
static struct pace *
ending_filter(struct conn *c, enum pace_end *end)
{
	struct filters *f = c->c_filters;
	uint64_t now = loop_now(c->c_conns->loop);

	if ((*end = pace_ending(&f->out, c->c_bytes_out, now)) != PACE_END_NONE)
		return &f->out;
	if ((c->c_flags & CONN_FILTER_IN) && (*end = pace_ending(&f->in,
	    c->c_bytes_in - f->in_held, now)) != PACE_END_NONE)
		return &f->in;
	return NULL;
}

/*
 * A close or reset a fault of either direction set for this byte or moment:
 * the close drops what is still queued for the client and sends our FIN.
 * Returns true when c is closed or finishing for it.
 */
static bool
end_if_due(struct conn *c)
{
	enum pace_end end;
	struct pace *p;

	if (c->c_filters == NULL || (p = ending_filter(c, &end)) == NULL)
		return false;
	pace_set_end(p, PACE_END_NONE, PACE_NEVER, PACE_NEVER);
	stats.fault_timed_ends++;
	if (end == PACE_END_RESET) {
		reset(c, "reset by a fault");
		return true;
	}
	conn_log(c, LOG_LEVEL_DEBUG, "closing for a fault, %zu bytes unsent",
	    buf_len(&c->c_out));
	buf_consume(&c->c_out, buf_len(&c->c_out));
	/* The fault ends the connection, not one side: a proxy's server sees our FIN too. */
	if (c->c_up != NULL)
		upstream_close(c, false);
	conn_finish(c, "CLOSE AFTER fault");
	arm_timer(c);
	schedule_flush(c);
	update_mask(c);
	return true;
}

/*
 * Activity only stamps c_active; the timer fires at the old deadline and
 * moves itself, so busy connections cost no heap work per byte.
 */
static void
conn_on_timer(struct loop *loop, struct loop_timer *timer, void *arg)
{
	struct conn *c = arg;
	uint64_t when;
	enum deadline_kind kind;
	bool shown;

	(void)timer;
	/* A fault's moment: output or input released, reading resumed, or the end due. */
	if (c->c_filters != NULL) {
		if (end_if_due(c))
			return;
		shown = show_input(c);
		if (shown)
			offer_buffered(c);
		if (c->c_flags & CONN_CLOSED)
			return;
		/* A proxy's client FIN waited behind the input or slow_close: pass it on. */
		if (c->c_up != NULL)
			upstream_pass_fin(c);
		if (c->c_flags & CONN_CLOSED)
			return;
		/* The peer's FIN waited behind the input, or ours behind slow_close: done. */
		if ((c->c_flags & CONN_RD_EOF) && input_unshown(c) == 0 &&
		    buf_len(&c->c_out) == 0 && !upstream_open(c) && fin_may_go(c)) {
			conn_close(c, CLOSE_CLIENT, "closed by peer");
			return;
		}
		/* Stopping: what was held may have been all it was to send. */
		if (shown)
			close_if_drained(c);
		schedule_flush(c);
		update_mask(c);
	}
	kind = deadline(c, &when);
	if (kind == DEADLINE_NONE || loop_now(loop) < when) {
		arm_timer(c);
		return;
	}
	switch (kind) {
	case DEADLINE_LINGER:
		conn_close(c, CLOSE_SERVER, c->c_end == CLOSE_SHUTDOWN ? c->c_finish_why :
		    "peer did not close after our FIN");
		break;
	case DEADLINE_IDLE:
		stats.idle_timeouts++;
		conn_close(c, CLOSE_IDLE_TIMEOUT, "idle timeout");
		break;
	case DEADLINE_REQUEST:
		stats.request_timeouts++;
		conn_log(c, LOG_LEVEL_DEBUG, "request timeout");
		c->c_end = CLOSE_REQUEST_TIMEOUT;
		if (c->c_preamble != NULL)
			refuse_timed_out(c);
		else if (c->c_service->request_timeout != NULL)
			c->c_service->request_timeout(c, c->c_state);
		conn_finish(c, "request timeout");
		arm_timer(c);
		schedule_flush(c);
		update_mask(c);
		break;
	case DEADLINE_PACE:
		arm_timer(c);
		break;
	case DEADLINE_DRAIN:
		close_if_drained(c);
		if (!(c->c_flags & CONN_CLOSED))
			arm_timer(c);
		break;
	case DEADLINE_NONE:
		break;
	}
}

void
conn_finish(struct conn *c, const char *why)
{
	if (c->c_flags & CONN_FINISH)
		return;
	/* No timer work: the linger only starts once everything owed is out. */
	c->c_flags |= CONN_FINISH;
	if (c->c_end == CLOSE_REASONS)
		c->c_end = CLOSE_SERVER;
	c->c_finish_why = why;
	c->c_request_since = 0;	/* no more requests: none is partial */
}

bool
conn_finishing(const struct conn *c)
{
	return (c->c_flags & CONN_FINISH) != 0;
}

void
conn_request_partial(struct conn *c)
{
	/* The slowloris clock starts with the first byte of a request. */
	if (c->c_request_since != 0)
		return;
	c->c_request_since = loop_now(c->c_conns->loop);
	arm_timer(c);
}

void
conn_request_complete(struct conn *c)
{
	c->c_request_since = 0;
}

void
conn_get_info(const struct conn *c, struct conn_info *info)
{
	struct net_addr addr;

	uint64_t now = loop_now(c->c_conns->loop);

	*info = (struct conn_info){ .id = c->c_id, .listener = c->c_listener->name,
	    .fd = c->c_fd, .age_ms = now - c->c_opened, .idle_ms = now - c->c_active,
	    .in_buffered = buf_len(&c->c_in), .out_buffered = buf_len(&c->c_out) };
	peer_addr(c, &addr);
	net_addr_format(&addr, info->peer, sizeof(info->peer));
	if (c->c_proxied != NULL) {
		info->proxy = c->c_proxied->balancer;
		memcpy(info->local, c->c_proxied->local, sizeof(info->local));
	} else if (net_local_addr(c->c_fd, &addr) == 0) {
		/* Asked of the kernel: a wildcard bind leaves only it to know. */
		net_addr_format(&addr, info->local, sizeof(info->local));
	} else {
		snprintf(info->local, sizeof(info->local), "unknown");
	}
}

struct conn *
conn_next_peer(const struct conn *c, const struct conn *prev)
{
	struct conn *next = prev != NULL ? prev->c_next : c->c_conns->all;

	while (next != NULL && next->c_service != c->c_service)
		next = next->c_next;
	return next;
}

void *
conn_state(struct conn *c)
{
	return c->c_state;
}

void
conn_kill(struct conn *c, struct conn *victim)
{
	if (victim == c) {
		conn_finish(c, "CLIENT KILL");
		return;
	}
	/* Not on the stack of this pass's callbacks: only c is. */
	conn_close(victim, CLOSE_SERVER, "killed by CLIENT KILL");
}

struct listener *
conn_listener(const struct conn *c)
{
	return c->c_listener;
}

uint64_t
conn_now(const struct conn *c)
{
	return loop_now(c->c_conns->loop);
}

bool
conn_peer_loopback(const struct conn *c)
{
	static const uint8_t v4_loopback[13] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127 };
	static const uint8_t v6_loopback[16] = { [15] = 1 };

	return memcmp(c->c_key, v4_loopback, sizeof(v4_loopback)) == 0 ||
	    memcmp(c->c_key, v6_loopback, sizeof(v6_loopback)) == 0;
}

void
conn_reset(struct conn *c)
{
	reset(c, "reset by a RESET fault");
}

struct pace *
conn_pace(struct conn *c, bool make)
{
	if (make && c->c_filters == NULL &&
	    (c->c_filters = malloc(FILTERS_OUT_ONLY)) != NULL)
		pace_init(&c->c_filters->out, pace_next_random(&c->c_conns->random));
	return c->c_filters != NULL ? &c->c_filters->out : NULL;
}

uint64_t
conn_output_end(const struct conn *c)
{
	return c->c_bytes_out + buf_len(&c->c_out);
}

int
conn_set_nodelay(struct conn *c)
{
	int on = 1;

	return setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

void
conn_half_close(struct conn *c)
{
	conn_finish(c, "HALFCLOSE fault");
	c->c_flags |= CONN_HALF;
}

struct buf *
conn_output(struct conn *c)
{
	return &c->c_out;
}

size_t
conn_output_room(const struct conn *c)
{
	return buf_len(&c->c_out) < c->c_output_limit ?
	    c->c_output_limit - buf_len(&c->c_out) : 0;
}

size_t
conn_max_line(const struct conn *c)
{
	return c->c_max_line;
}

/* n bytes went to the peer. */
static void
wrote(struct conn *c, size_t n)
{
	c->c_bytes_out += n;
	c->c_listener->bytes_out += n;
	stats.net_output_bytes += n;
	c->c_active = loop_now(c->c_conns->loop);	/* a peer that only downloads is not idle */
}

/* One write(); returns bytes written (0: would block), or -1: c closed. */
static ssize_t
write_some(struct conn *c, const void *p, size_t n)
{
	ssize_t w;

	do
		w = write(c->c_fd, p, n);
	while (w == -1 && errno == EINTR);
	if (w == -1) {
		if (errno == EAGAIN)
			return 0;
		if (errno == EPIPE || errno == ECONNRESET)
			conn_close(c, CLOSE_RESET, "reset by peer");
		else
			close_errno(c, "write");
		return -1;
	}
	wrote(c, (size_t)w);
	return w;
}

int
conn_send(struct conn *c, const void *p, size_t n)
{
	ssize_t w = 0;

	if (c->c_flags & CONN_CLOSED)
		return -1;
	/* Nothing queued and nothing held: straight from the caller's bytes, no copy. */
	if (buf_len(&c->c_out) == 0 && c->c_filters == NULL && (w = write_some(c, p, n)) == -1)
		return -1;
	if (buf_append(&c->c_out, (const char *)p + w, n - (size_t)w) == -1) {
		close_output_failed(c);
		return -1;
	}
	return 0;
}

/* A PROXY header or its client refused: counted, logged at most once a second, finished. */
static void
refuse(struct conn *c, const struct preamble_outcome *o)
{
	struct listener *l = c->c_listener;
	unsigned held;

	l->rejected[o->reason]++;
	if (o->reason == REJECT_ACL)
		stats.denied_connections++;
	else
		stats.rejected_connections++;
	if (log_rate_ok(&l->reject_log, loop_now(c->c_conns->loop), &held))
		conn_log(c, LOG_LEVEL_WARNING, "refused: %s (%u more since the last such line)",
		    o->why, held);
	if (o->reason == REJECT_PER_IP && l->service->refusal != NULL)
		conn_send(c, l->service->refusal, strlen(l->service->refusal));
	free(c->c_preamble);
	c->c_preamble = NULL;
	conn_finish(c, "refused");
}

static void
refuse_timed_out(struct conn *c)
{
	struct preamble_outcome o;

	preamble_timed_out(c->c_listener, &o);
	refuse(c, &o);
}

/* The listener's service starts, with a zeroed state and its own request timer. */
static void
begin_service(struct conn *c)
{
	const struct service *svc = c->c_service;

	c->c_request_s = c->c_conns->limits.request_timeout;
	c->c_request_since = 0;
	if (svc->open != NULL && svc->open(c, c->c_state) == -1)
		close_errno(c, "open");
}

/*
 * The phases before the service: the PROXY header, then the admission of
 * the client it names, who from then on is the connection's peer (the
 * socket's peer, the load balancer, is kept as its proxy). Returns the
 * bytes the header took.
 */
static size_t
run_preamble(struct conn *c, const char *data, size_t len)
{
	struct preamble_outcome o;
	enum preamble_status status;
	struct net_addr balancer;
	size_t used;

	status = preamble_feed(c->c_preamble, c->c_listener, c->c_key, data, len, &used, &o);
	if (status == PREAMBLE_MORE)
		return used;
	/* From now on the peer is the client the header names, its key the one counted. */
	if (o.named) {
		peer_addr(c, &balancer);
		set_peer(c, &o.client);
	}
	/* Counted by the admission: given back at the close, whatever fails next. */
	if (status == PREAMBLE_ADMITTED)
		c->c_flags |= CONN_COUNTED;
	if (o.named) {
		/* Only a proxied connection pays for the balancer's address. */
		if ((c->c_proxied = malloc(sizeof(*c->c_proxied))) == NULL) {
			close_errno(c, "PROXY header");
			return len;
		}
		net_addr_format(&balancer, c->c_proxied->balancer,
		    sizeof(c->c_proxied->balancer));
		net_addr_format(&o.local, c->c_proxied->local, sizeof(c->c_proxied->local));
	}
	if (o.unique_id_len > 0 || (o.authority != NULL && o.authority[0] != '\0'))
		conn_log(c, LOG_LEVEL_DEBUG, "PROXY v%u header: unique_id %zu bytes, "
		    "authority '%s'", o.version, o.unique_id_len, o.authority);
	if (status == PREAMBLE_REFUSED) {
		refuse(c, &o);
		return len;
	}
	free(c->c_preamble);
	c->c_preamble = NULL;
	begin_service(c);
	if (c->c_flags & CONN_CLOSED)
		return len;
	arm_timer(c);
	return used;
}

/*
 * Offers data to the phases before the service, then to the service;
 * returns how much they used. A reply the service could not queue whole
 * closes the connection: a client must never wait for an answer that was
 * lost.
 */
static size_t
offer(struct conn *c, const char *data, size_t len)
{
	size_t used = 0;

	/* Finishing, nothing more is taken: a header's rest included (a stop began). */
	if (c->c_flags & (CONN_LINGER | CONN_FINISH | CONN_CLOSED))
		return len;
	if (c->c_preamble != NULL && (used = run_preamble(c, data, len)) == len)
		return len;
	if (c->c_flags & (CONN_LINGER | CONN_FINISH | CONN_CLOSED))
		return len;
	used += c->c_service->input(c, c->c_state, data + used, len - used);
	if (c->c_out.error != 0 && !(c->c_flags & CONN_CLOSED)) {
		errno = c->c_out.error;
		close_output_failed(c);
	}
	return used;
}

static void
input_too_big(struct conn *c)
{
	conn_log(c, LOG_LEVEL_DEBUG, "input over %zu bytes unused: closing",
	    c->c_in.max);
	buf_free(&c->c_in);
	if (c->c_flags & CONN_FILTER_IN)
		c->c_filters->in_held = 0;
	if (c->c_service->input_too_big != NULL)
		c->c_service->input_too_big(c, c->c_state);
	conn_finish(c, "request too big");
}

/* Offers what waits in the input buffer again; an emptied buffer is released. */
static void
offer_buffered(struct conn *c)
{
	size_t shown = buf_len(&c->c_in) - (size_t)input_unshown(c), used;

	if (shown == 0)
		return;
	used = offer(c, buf_data(&c->c_in), shown);
	if (c->c_flags & CONN_CLOSED)
		return;
	buf_consume(&c->c_in, used);
	buf_shrink(&c->c_in);
	/* A service that has seen a full buffer and waits for more waits for too much. */
	if ((c->c_flags & CONN_FILTER_IN) && buf_len(&c->c_in) >= c->c_in.max &&
	    input_unshown(c) == 0)
		input_too_big(c);
}

/* Newly read bytes: straight to the service, or after what it left unused. */
static void
input(struct conn *c, const char *data, size_t len)
{
	bool buffered = buf_len(&c->c_in) > 0 || (c->c_flags & CONN_FILTER_IN);
	size_t used;

	if (!buffered) {
		used = offer(c, data, len);
		if (c->c_flags & CONN_CLOSED)
			return;
		data += used;
		len -= used;
	}
	if (len == 0 || (c->c_flags & (CONN_FINISH | CONN_LINGER)))
		return;
	if (buf_append(&c->c_in, data, len) == -1) {
		if (errno == ENOBUFS)
			input_too_big(c);
		else
			close_errno(c, "input buffer");
		return;
	}
	if (c->c_flags & CONN_FILTER_IN)
		c->c_filters->in_held += len;
	if (buffered) {
		show_input(c);
		offer_buffered(c);
	}
}

static void
on_eof(struct conn *c)
{
	c->c_flags |= CONN_RD_EOF;
	/* A proxy's client half-closed: its FIN goes on, the upstream's reply still comes. */
	if (upstream_open(c)) {
		upstream_pass_fin(c);
		if (!(c->c_flags & CONN_CLOSED))
			update_mask(c);
		return;
	}
	/* Half-close: what the peer is owed still goes out, then we close. */
	if ((buf_len(&c->c_out) == 0 && input_unshown(c) == 0 && fin_may_go(c)) ||
	    (c->c_service->flags & SERVICE_ENDLESS) || (c->c_flags & CONN_LINGER))
		conn_close(c, CLOSE_CLIENT, "closed by peer");
	else if (!(c->c_flags & CONN_CLOSED))
		update_mask(c);	/* no more reading: a level-triggered EOF fires on every wait */
}

/*
 * While shutting down, a connection that owes nothing and was not just
 * accepted (its first bytes may still be on their way) is finished: our FIN,
 * then a close once the peer closes or goes quiet, as QUIT does.
 */
static void
close_if_drained(struct conn *c)
{
	if (!c->c_conns->draining || !owes_nothing(c) || (c->c_bytes_in == 0 &&
	    loop_now(c->c_conns->loop) < c->c_opened + DRAIN_GRACE_MS))
		return;
	c->c_end = CLOSE_SHUTDOWN;
	conn_finish(c, "server shutting down");
	schedule_flush(c);
	update_mask(c);
}

static void
close_pipe(struct conns *conns)
{
	if (conns->pipe[0] == -1)
		return;
	close(conns->pipe[0]);
	close(conns->pipe[1]);
	conns->pipe[0] = conns->pipe[1] = -1;
}

/*
 * Whether c's bytes may be spliced past its service: it passes them on
 * unchanged and no fault is on c.
 */
static bool
splices(const struct conn *c)
{
	return (c->c_service->flags & SERVICE_PASSES) && c->c_filters == NULL &&
	    c->c_preamble == NULL && c->c_up != NULL;
}

/*
 * As read() from one socket then write() to another, through the pipe, the
 * bytes never copied through user space. Returns what read() would; *left of
 * them, those the writer did not take (its buffer full, or an error its next
 * write reports again), are read back into read_chunk for the queues, so the
 * pipe is empty again and one serves every connection.
 */
static ssize_t
splice_pass(struct conns *conns, int from, int to, size_t room, size_t *left)
{
	ssize_t n, w;

	*left = 0;
	if (conns->pipe[0] == -1 && pipe2(conns->pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		/* No descriptor for it: read() it is. */
		if ((n = read(from, read_chunk, room)) > 0)
			*left = (size_t)n;
		return n;
	}
	if ((n = splice(from, NULL, conns->pipe[1], NULL, room,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK)) <= 0)
		return n;
	do
		w = splice(conns->pipe[0], NULL, to, NULL, (size_t)n,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (w == -1 && errno == EINTR);
	*left = (size_t)(n - (w > 0 ? w : 0));
	/* What a pipe holds comes out in one read(); should it not, no other connection gets it. */
	if (*left > 0 && read(conns->pipe[0], read_chunk, *left) != (ssize_t)*left) {
		close_pipe(conns);
		errno = EIO;
		return -1;
	}
	return n;
}

/* Whether a side in bulk (flag) stays so after this read of n bytes. */
static void
note_bulk(struct upstream *u, unsigned flag, ssize_t n)
{
	if (n >= SPLICE_MIN)
		u->u_flags |= flag;
	else
		u->u_flags &= ~flag;
}

/* The upstream takes c's bytes now, nothing queued before them. */
static bool
upstream_takes(const struct conn *c)
{
	const struct upstream *u = c->c_up;

	return u->u_fd != -1 && !(u->u_flags & (UP_CONNECTING | UP_WR_SHUT)) &&
	    buf_len(&u->u_out) == 0;
}

static void
conn_read(struct conn *c)
{
	size_t room = READ_CHUNK, left = 0;
	bool pass;
	ssize_t n;

	if (!wants_read(c))
		return;
	/* Never read more than the queue fed may take: echo's reply is the input. */
	if (fed_len(c) >= c->c_output_limit)
		room = 0;
	else if (c->c_output_limit - fed_len(c) < room)
		room = c->c_output_limit - fed_len(c);
	if ((c->c_flags & CONN_FILTER_IN) && c->c_in.max - buf_len(&c->c_in) < room)
		room = c->c_in.max - buf_len(&c->c_in);
	pass = splices(c) && (c->c_up->u_flags & UP_BULK_IN) && buf_len(&c->c_in) == 0 &&
	    !(c->c_flags & (CONN_FINISH | CONN_LINGER)) && upstream_takes(c);
	do
		n = pass ? splice_pass(c->c_conns, c->c_fd, c->c_up->u_fd, room, &left) :
		    read(c->c_fd, read_chunk, room);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN) {
			close_if_drained(c);
			return;
		}
		if (errno == ECONNRESET)
			conn_close(c, CLOSE_RESET, "reset by peer");
		else
			close_errno(c, "read");
		return;
	}
	if (n == 0) {
		on_eof(c);
		return;
	}
	c->c_bytes_in += (uint64_t)n;
	c->c_listener->bytes_in += (uint64_t)n;
	stats.net_input_bytes += (uint64_t)n;
	c->c_active = loop_now(c->c_conns->loop);
	if (c->c_filters != NULL && !(c->c_service->flags & SERVICE_REQUESTS))
		pace_request(&c->c_filters->out, conn_output_end(c), c->c_active);
	/* The bytes just read wait out the upstream delay before the service sees them. */
	if (c->c_flags & CONN_FILTER_IN)
		pace_request(&c->c_filters->in, c->c_bytes_in - (uint64_t)n, c->c_active);
	if (c->c_up != NULL)
		note_bulk(c->c_up, UP_BULK_IN, n);
	/* Spliced: the service sees only what the upstream did not take. */
	if (pass) {
		upstream_wrote(c, (size_t)n - left);
		n = (ssize_t)left;
	}
	/* A timeout toward the service: read, so nothing stalls, and dropped. */
	if (n > 0 && (!(c->c_flags & CONN_FILTER_IN) || !pace_drops(&c->c_filters->in) ||
	    c->c_preamble != NULL))
		input(c, read_chunk, (size_t)n);
	if (c->c_flags & CONN_CLOSED)
		return;
	if (c->c_filters != NULL)
		arm_timer(c);
	schedule_flush(c);
	update_mask(c);
}

/* Output has drained: finish a close, or let the service make more. */
static void
after_write(struct conn *c)
{
	if (buf_len(&c->c_out) == 0) {
		/* Finishing, bytes still held will never be shown: nothing to wait for. */
		if ((c->c_flags & CONN_RD_EOF) && !upstream_open(c) &&
		    (input_unshown(c) == 0 || (c->c_flags & CONN_FINISH))) {
			if (fin_may_go(c))
				conn_close(c, CLOSE_CLIENT, "closed by peer");
			return;
		}
		if ((c->c_flags & (CONN_FINISH | CONN_LINGER)) == CONN_FINISH) {
			if (!fin_may_go(c))
				return;
			/* Our FIN now; reading until theirs avoids an RST that could destroy the reply. */
			if (shutdown(c->c_fd, SHUT_WR) == -1) {
				if (errno == ENOTCONN)
					conn_close(c, CLOSE_CLIENT, "closed by peer");
				else
					close_errno(c, "shutdown");
				return;
			}
			/* The linger counts from here: everything owed is out. */
			c->c_flags |= CONN_LINGER;
			c->c_linger_since = loop_now(c->c_conns->loop);
			arm_timer(c);
			return;
		}
	}
	if (c->c_service->drained != NULL && !(c->c_flags & CONN_FINISH) &&
	    c->c_service->drained(c, c->c_state) == -1) {
		close_output_failed(c);
		return;
	}
	if (buf_len(&c->c_in) > 0 && conn_output_room(c) > 0)
		offer_buffered(c);
}

static void
conn_flush(struct conn *c)
{
	size_t budget = WRITE_BUDGET, want, cost;
	ssize_t n;

	/* A timeout toward the client: what it is sent is dropped, and no more asked for. */
	if (c->c_filters != NULL && pace_drops(&c->c_filters->out))
		buf_consume(&c->c_out, buf_len(&c->c_out));
	while (buf_len(&c->c_out) > 0 && budget > 0) {
		want = paced(c, buf_len(&c->c_out) < budget ? buf_len(&c->c_out) : budget);
		if (want == 0)
			break;
		if ((n = write_some(c, buf_data(&c->c_out), want)) == -1)
			return;
		if (n == 0)
			break;
		buf_consume(&c->c_out, (size_t)n);
		if (c->c_filters != NULL) {
			pace_wrote(&c->c_filters->out, c->c_bytes_out, (uint64_t)n,
			    loop_now(c->c_conns->loop));
			if (end_if_due(c))
				return;
		}
		cost = (size_t)n > WRITE_COST_MIN ? (size_t)n : WRITE_COST_MIN;
		budget = cost < budget ? budget - cost : 0;
		/* Resumed input may add replies; they go out on this same pass. */
		after_write(c);
		if (c->c_flags & CONN_CLOSED)
			return;
		/* A short write means the socket buffer is full: wait for EPOLLOUT. */
		if ((size_t)n < want)
			break;
	}
	/* A finish that owed nothing (a refused PROXY header): its FIN goes now. */
	if (buf_len(&c->c_out) == 0 && (c->c_flags & (CONN_FINISH | CONN_LINGER)) == CONN_FINISH) {
		after_write(c);
		if (c->c_flags & CONN_CLOSED)
			return;
	}
	buf_shrink(&c->c_out);
	if (c->c_filters != NULL)
		arm_timer(c);
	/* Draining: once all is sent, see whether anything else has arrived. */
	if (c->c_conns->draining && buf_len(&c->c_out) == 0 && wants_read(c)) {
		conn_read(c);
		if (c->c_flags & CONN_CLOSED)
			return;
	}
	update_mask(c);
}

/* The socket reported an error: the connection ends with it. */
static void
close_socket_error(struct conn *c, int err)
{
	errno = err;
	if (err == ECONNRESET || err == EPIPE)
		conn_close(c, CLOSE_RESET, "reset by peer");
	else
		close_errno(c, "socket");
}

static void
conn_on_event(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct conn *c = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	/*
	 * An error (the peer's RST) is reported whatever the mask and for as
	 * long as it lasts: a connection that neither reads nor writes now (a
	 * fault holds its output, its peer's EOF seen) would spin on it. A
	 * hang-up without one is our FIN and theirs: the read sees the EOF.
	 */
	if ((events & LOOP_ERROR) &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) {
		close_socket_error(c, err);
		return;
	}
	/*
	 * The peer's FIN while a fault holds reading: accept_delay reads the
	 * request and EOF when it ends, as a slow server's accept queue keeps
	 * them (nc -N still reads its echo); a stalled one is given up on.
	 */
	if ((events & LOOP_HANGUP) && conn_reads_held(c)) {
		if (!pace_accept_delayed(&c->c_filters->out, loop_now(loop))) {
			conn_close(c, CLOSE_CLIENT,
			    "closed by peer while a fault held the connection");
			return;
		}
		c->c_flags |= CONN_FIN_HELD;
		update_mask(c);
		return;
	}
	if (events & LOOP_READABLE)
		conn_read(c);
	if ((events & LOOP_WRITABLE) && !(c->c_flags & (CONN_CLOSED | CONN_PENDING)))
		conn_flush(c);
}

/* The faults a connection's dice gave one direction (1 << enum pace_fault), counted. */
static void
count_applied(unsigned applied, uint64_t counts[PACE_FAULTS])
{
	unsigned f;

	for (f = 0; f < PACE_FAULTS; f++)
		if (applied & 1u << f)
			counts[f]++;
}

/* The filters of c with room for an input filter when in; NULL when out of memory. */
static struct filters *
filters_of(struct conn *c, bool in)
{
	struct filters *f;

	if (c->c_filters != NULL && (!in || (c->c_flags & CONN_FILTER_IN)))
		return c->c_filters;
	if ((f = realloc(c->c_filters, in ? sizeof(*f) : FILTERS_OUT_ONLY)) == NULL)
		return NULL;
	if (c->c_filters == NULL)
		pace_init(&f->out, 0);
	if (in) {
		pace_init(&f->in, 0);
		f->in_held = 0;
		c->c_flags |= CONN_FILTER_IN;
	}
	return c->c_filters = f;
}

/* The listener's fault profile, for its next connection. */
static int
start_profile(struct conn *c)
{
	struct listener *l = c->c_listener;
	bool in = !pace_profile_empty(&l->upstream);

	if (filters_of(c, in) == NULL)
		return -1;
	pace_start(&c->c_filters->out, &l->profile, l->accepted, c->c_opened,
	    pace_next_random(&c->c_conns->random));
	if (in)
		pace_start(&c->c_filters->in, &l->upstream, l->accepted, c->c_opened,
		    pace_next_random(&c->c_conns->random));
	if (l->profile.slice != 0 && conn_set_nodelay(c) == -1)
		conn_log(c, LOG_LEVEL_DEBUG, "TCP_NODELAY: %m");
	stats.fault_profile_connections++;
	count_applied(c->c_filters->out.applied, stats.faults_applied[0]);
	if (in)
		count_applied(c->c_filters->in.applied, stats.faults_applied[1]);
	return 0;
}

/*
 * An open connection given its listener's profile as it is now, each
 * direction counting from its next byte. Its number among the listener's
 * is gone, so a seeded profile draws with its id. Out of memory, it keeps
 * the faults it had, which the log says.
 */
static void
restart_profile(struct conn *c)
{
	struct listener *l = c->c_listener;
	uint64_t now = loop_now(c->c_conns->loop);
	bool in = !pace_profile_empty(&l->upstream) || (c->c_flags & CONN_FILTER_IN);
	struct filters *f;

	if (c->c_filters == NULL && !l->paced)
		return;
	if ((f = filters_of(c, in)) == NULL) {
		conn_log(c, LOG_LEVEL_WARNING, "its listener's new faults are not applied: %m");
		return;
	}
	count_applied(pace_restart(&f->out, &l->profile, c->c_id, c->c_bytes_out, now,
	    pace_next_random(&c->c_conns->random)), stats.faults_applied[0]);
	if (in)
		count_applied(pace_restart(&f->in, &l->upstream, c->c_id,
		    c->c_bytes_in - f->in_held, now, pace_next_random(&c->c_conns->random)),
		    stats.faults_applied[1]);
	if (l->profile.slice != 0 && conn_set_nodelay(c) == -1)
		conn_log(c, LOG_LEVEL_DEBUG, "TCP_NODELAY: %m");
	/*
	 * A fault taken off may free what it held, one put on may end it now:
	 * the timer, due at once then, does it in the connection's own turn.
	 */
	arm_timer(c);
	schedule_flush(c);
	update_mask(c);
}

void
conns_refault(struct conns *conns)
{
	struct conn *c, *next;

	for (c = conns->all; c != NULL; c = next) {
		next = c->c_next;
		if (c->c_listener->refaulted)
			restart_profile(c);
	}
}

/* A PROXY listener's connection reads the header first: nothing runs until then. */
static int
start_preamble(struct conn *c)
{
	const struct listener *l = c->c_listener;

	if ((c->c_preamble = malloc(sizeof(*c->c_preamble))) == NULL)
		return -1;
	preamble_init(c->c_preamble, l);
	/* From accept: a peer that sends nothing must not hold the connection. */
	c->c_request_s = l->proxy_timeout;
	c->c_request_since = c->c_opened;
	return 0;
}

int
conn_new(struct conns *conns, int fd, const struct net_addr *peer, struct listener *l,
    bool counted)
{
	const struct conn_limits *lim = &conns->limits;
	const struct service *svc = l->service;
	struct conn_info info;
	struct conn *c;
	int saved;

	if ((c = calloc(1, sizeof(*c) + svc->state_size)) == NULL)
		return -1;
	c->c_id = conns->next_id;
	c->c_fd = fd;
	c->c_conns = conns;
	c->c_listener = l;
	c->c_service = svc;
	c->c_end = CLOSE_REASONS;
	set_peer(c, peer);
	if (counted)
		c->c_flags |= CONN_COUNTED;
	c->c_max_line = lim->max_line;
	c->c_output_limit = lim->output_limit;
	c->c_idle_s = lim->idle_timeout;
	c->c_request_s = lim->request_timeout;
	c->c_opened = c->c_active = loop_now(conns->loop);
	buf_init(&c->c_in, (size_t)lim->max_line + 2 * READ_CHUNK);
	buf_init(&c->c_out, (size_t)lim->output_limit + lim->max_line + REPLY_MAX);
	loop_timer_init(&c->c_timer, conn_on_timer, c);

	/*
	 * Every step that can fail comes before the connection is linked
	 * anywhere; a close asked for inside one of them only dooms it.
	 */
	c->c_flags |= CONN_BUILDING;
	errno = 0;
	if ((l->paced && start_profile(c) == -1) ||
	    (l->proxy_versions != 0 ? start_preamble(c) == -1 :
	    svc->open != NULL && svc->open(c, c->c_state) == -1) ||
	    (c->c_flags & CONN_DOOMED) || start_timer(c) == -1 ||
	    loop_add_fd(conns->loop, fd, LOOP_READABLE, conn_on_event, c) == -1) {
		saved = errno != 0 ? errno : EIO;	/* doomed by a step that gave no errno */
		/* A peer gone before it was served is no news; anything else is. */
		conn_log(c, saved == ECONNRESET || saved == EPIPE ? LOG_LEVEL_DEBUG :
		    LOG_LEVEL_WARNING, "dropped: %s", strerror(saved));
		loop_timer_stop(conns->loop, &c->c_timer);
		if (svc->release != NULL)
			svc->release(c, c->c_state);
		buf_free(&c->c_in);
		buf_free(&c->c_out);
		free(c->c_filters);
		free(c->c_preamble);
		if (c->c_up != NULL)
			upstream_close(c, false);
		free(c->c_up);
		free(c);
		errno = saved;
		return -1;
	}
	c->c_flags &= ~CONN_BUILDING;

	conns->next_id++;
	c->c_next = conns->all;
	if (conns->all != NULL)
		conns->all->c_prev = c;
	conns->all = c;
	conns->count++;
	listener_hold(l);
	l->accepted++;
	l->active++;
	stats.connected++;
	if (l->counters != NULL) {
		l->counters->connected++;
		l->counters->total++;
	}
	if (log_enabled(LOG_LEVEL_DEBUG)) {
		conn_get_info(c, &info);
		conn_log(c, LOG_LEVEL_DEBUG, "open on %s (listener %s, %s)", info.local,
		    l->name, svc->name);
	}
	schedule_flush(c);
	return 0;
}

static void
reap(struct conns *conns)
{
	struct conn *c;

	while ((c = conns->dead) != NULL) {
		conns->dead = c->c_dead_next;
		free(c->c_up);
		free(c);
	}
}

void
conns_before_sleep(struct conns *conns)
{
	struct conn *c;

	/* Flushing can resume input and queue a connection again: take turns. */
	while ((c = conns->pending) != NULL) {
		conns->pending = c->c_pending_next;
		if (c->c_flags & CONN_CLOSED)
			continue;
		c->c_flags &= ~CONN_PENDING;
		conn_flush(c);
	}
	reap(conns);
}

void
conns_drain(struct conns *conns)
{
	struct conn *c, *next;

	conns->draining = true;
	for (c = conns->all; c != NULL; c = next) {
		next = c->c_next;
		/*
		 * Endless output owes nothing; a stalled one would deliver only
		 * after shutdown_timeout. A lingering close now ends when its peer
		 * goes quiet: its timer says when.
		 */
		if ((c->c_service->flags & SERVICE_ENDLESS) || conn_reads_held(c)) {
			conn_close(c, CLOSE_SHUTDOWN, "server shutting down");
			continue;
		}
		if (wants_read(c))
			conn_read(c);
		else
			close_if_drained(c);
		/* One just accepted waits for its request: its timer now says how long. */
		if (!(c->c_flags & CONN_CLOSED))
			arm_timer(c);
	}
}

void
conns_close_all(struct conns *conns, const char *reason)
{
	while (conns->all != NULL)
		conn_close(conns->all, CLOSE_SHUTDOWN, reason);
	conns->pending = NULL;
	reap(conns);
	close_pipe(conns);
}

/* A proxy's upstream: the bytes from its server may still come. */
static bool
upstream_open(const struct conn *c)
{
	return c->c_up != NULL && (c->c_up->u_fd != -1 || (c->c_up->u_flags & UP_DELAYED)) &&
	    !(c->c_up->u_flags & UP_RD_EOF);
}

/*
 * While stopping, when a proxy's server has answered: its last bytes came
 * after the client's last ones, and DRAIN_QUIET_MS ago, since a reply may
 * come in several writes. 0 when there is no server to wait for, UINT64_MAX
 * while the client's bytes wait for an answer.
 */
static uint64_t
upstream_done_at(const struct conn *c)
{
	const struct upstream *u = c->c_up;

	if (!upstream_open(c))
		return 0;
	if ((u->u_flags & UP_CONNECTING) || buf_len(&u->u_out) > 0 || u->u_sent > u->u_heard)
		return UINT64_MAX;
	return u->u_heard + DRAIN_QUIET_MS;
}

/* Its socket goes (the struct stays until the connection is freed); rst: with an RST. */
static void
upstream_close(struct conn *c, bool rst)
{
	struct upstream *u = c->c_up;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	loop_timer_stop(c->c_conns->loop, &u->u_timer);
	buf_free(&u->u_out);
	u->u_flags &= ~UP_DELAYED;
	if (u->u_fd == -1)
		return;
	if (rst && setsockopt(u->u_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
		conn_log(c, LOG_LEVEL_DEBUG, "upstream SO_LINGER: %m");
	if (!(u->u_flags & UP_PARKED))
		loop_del_fd(c->c_conns->loop, u->u_fd);
	close(u->u_fd);
	u->u_fd = -1;
}

/* The upstream is gone under the client (its reset, an error): the client is reset. */
static void
upstream_lost(struct conn *c, int err, const char *what)
{
	char reason[128];

	if (err == ECONNRESET || err == EPIPE)
		snprintf(reason, sizeof(reason), "reset by upstream");
	else
		snprintf(reason, sizeof(reason), "upstream %s: %s", what, strerror(err));
	upstream_close(c, false);
	reset(c, reason);
}

/* The connect failed or timed out: the client sees what it would without tcpd, an RST. */
static void
connect_failed(struct conn *c, int err)
{
	struct upstream *u = c->c_up;
	struct listener *l = c->c_listener;
	char addr[NET_ADDRSTRLEN], reason[160];
	unsigned held;

	stats.upstream_connect_failures[err == ECONNREFUSED ? UPSTREAM_REFUSED :
	    err == ETIMEDOUT ? UPSTREAM_TIMEOUT : UPSTREAM_OTHER]++;
	net_addr_format(u->u_addr, addr, sizeof(addr));
	if (err == ETIMEDOUT)
		snprintf(reason, sizeof(reason), "upstream %s: no connection within %u ms",
		    addr, u->u_timeout_ms);
	else
		snprintf(reason, sizeof(reason), "upstream %s: %s", addr, strerror(err));
	if (log_rate_ok(&l->upstream_log, loop_now(c->c_conns->loop), &held))
		conn_log(c, LOG_LEVEL_WARNING, "%s (%u more since the last such line)", reason,
		    held);
	upstream_close(c, false);
	reset(c, reason);
}

static int upstream_connect(struct conn *c);

/*
 * The connect delay's end, the connect timeout, or a connect that failed at
 * once, reported from the loop.
 */
static void
upstream_on_timer(struct loop *loop, struct loop_timer *timer, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	(void)timer;
	if (!(c->c_up->u_flags & UP_DELAYED)) {
		connect_failed(c, (c->c_up->u_flags & UP_FAILED) ? c->c_up->u_error : ETIMEDOUT);
		return;
	}
	c->c_up->u_flags &= ~UP_DELAYED;
	if (upstream_connect(c) == -1)
		close_errno(c, "upstream connect");
}

/*
 * The client's FIN goes on once all it sent before is written: the upstream
 * sees the EOF and still answers.
 */
static void
upstream_pass_fin(struct conn *c)
{
	struct upstream *u = c->c_up;

	if (!(c->c_flags & CONN_RD_EOF) || input_unshown(c) != 0 || u->u_fd == -1 ||
	    (u->u_flags & (UP_CONNECTING | UP_WR_SHUT)) || buf_len(&u->u_out) > 0)
		return;
	/* slow_close toward the server: its timer comes back here. */
	if ((c->c_flags & CONN_FILTER_IN) &&
	    !pace_fin_may_go(&c->c_filters->in, loop_now(c->c_conns->loop))) {
		arm_timer(c);
		return;
	}
	if (shutdown(u->u_fd, SHUT_WR) == -1) {
		upstream_lost(c, errno, "shutdown");
		return;
	}
	u->u_flags |= UP_WR_SHUT;
	/* Both FINs passed: nothing more on this socket. */
	if (u->u_flags & UP_RD_EOF)
		upstream_close(c, false);
}

/* n bytes went to the upstream. */
static void
upstream_wrote(struct conn *c, size_t n)
{
	stats.upstream_output_bytes += n;
	c->c_active = loop_now(c->c_conns->loop);
	/* A PROXY header alone asks for no answer: a stop need not wait for one. */
	if (c->c_bytes_in > 0)
		c->c_up->u_sent = c->c_active;
}

/* One write() to the upstream; returns bytes written (0: would block), or -1: c closed. */
static ssize_t
upstream_write(struct conn *c, const void *p, size_t n)
{
	ssize_t w;

	do
		w = write(c->c_up->u_fd, p, n);
	while (w == -1 && errno == EINTR);
	if (w == -1) {
		if (errno == EAGAIN)
			return 0;
		upstream_lost(c, errno, "write");
		return -1;
	}
	upstream_wrote(c, (size_t)w);
	return w;
}

/* Writes what waits for the upstream, then passes on a FIN that waited for it. */
static void
upstream_flush(struct conn *c)
{
	struct upstream *u = c->c_up;
	ssize_t n;

	while (buf_len(&u->u_out) > 0) {
		if ((n = upstream_write(c, buf_data(&u->u_out), buf_len(&u->u_out))) == -1)
			return;
		if (n == 0)
			break;
		buf_consume(&u->u_out, (size_t)n);
	}
	buf_shrink(&u->u_out);
	upstream_pass_fin(c);
}

/* The upstream may be read while the client's output has room. */
static bool
upstream_wants_read(const struct conn *c)
{
	const struct upstream *u = c->c_up;

	return u->u_fd != -1 && !(u->u_flags & (UP_CONNECTING | UP_RD_EOF)) &&
	    !(c->c_flags & (CONN_FINISH | CONN_CLOSED)) &&
	    buf_len(&c->c_out) < c->c_output_limit;
}

static void upstream_on_event(struct loop *, int, void *, unsigned);

/* As update_mask() for the client: the mask follows what the upstream can do now. */
static void
upstream_update_mask(struct conn *c)
{
	struct upstream *u = c->c_up;
	unsigned mask = 0;

	if (u->u_fd == -1 || (c->c_flags & CONN_CLOSED))
		return;
	if (u->u_flags & UP_CONNECTING)
		mask = LOOP_WRITABLE;
	else {
		if (upstream_wants_read(c))
			mask |= LOOP_READABLE;
		if (buf_len(&u->u_out) > 0)
			mask |= LOOP_WRITABLE;
	}
	/* A hung-up socket stays out of epoll until it is read again. */
	if (u->u_flags & UP_PARKED) {
		if (!(mask & LOOP_READABLE))
			return;
		u->u_flags &= ~UP_PARKED;
		if (loop_add_fd(c->c_conns->loop, u->u_fd, mask, upstream_on_event, c) == -1)
			close_errno(c, "epoll_ctl");
		return;
	}
	if (loop_set_mask(c->c_conns->loop, u->u_fd, mask) == -1)
		close_errno(c, "epoll_ctl");
}

/* Bytes from the upstream to the service, at most what the client's output may take. */
static void
upstream_read(struct conn *c)
{
	struct upstream *u = c->c_up;
	size_t room = conn_output_room(c) < READ_CHUNK ? conn_output_room(c) : READ_CHUNK, left = 0;
	bool pass = splices(c) && (u->u_flags & UP_BULK_OUT) && buf_len(&c->c_out) == 0;
	ssize_t n;

	if (!upstream_wants_read(c))
		return;
	do
		n = pass ? splice_pass(c->c_conns, u->u_fd, c->c_fd, room, &left) :
		    read(u->u_fd, read_chunk, room);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno != EAGAIN)
			upstream_lost(c, errno, "read");
		return;
	}
	if (n == 0) {
		/* The server is done: the client gets everything, then our FIN. */
		u->u_flags |= UP_RD_EOF;
		if (u->u_flags & UP_WR_SHUT)
			upstream_close(c, false);
		conn_finish(c, "closed by upstream");
		schedule_flush(c);
		return;
	}
	stats.upstream_input_bytes += (uint64_t)n;
	c->c_active = u->u_heard = loop_now(c->c_conns->loop);
	note_bulk(u, UP_BULK_OUT, n);
	/* Spliced: the service sees only what the client did not take. */
	if (pass) {
		wrote(c, (size_t)n - left);
		n = (ssize_t)left;
	}
	if (n > 0)
		c->c_service->upstream_input(c, c->c_state, read_chunk, (size_t)n);
	if (c->c_out.error != 0 && !(c->c_flags & CONN_CLOSED)) {
		errno = c->c_out.error;
		close_output_failed(c);
	}
	if (c->c_flags & CONN_CLOSED)
		return;
	/* Stopping: the pair ends once the server has been quiet a while. */
	if (c->c_filters != NULL || c->c_conns->draining)
		arm_timer(c);
	schedule_flush(c);
}

static void
upstream_on_event(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct conn *c = arg;
	struct upstream *u = c->c_up;
	socklen_t len = sizeof(int);
	int err = 0;

	/* A connect's failure, as any error, comes with EPOLLERR: no syscall otherwise. */
	if ((events & LOOP_ERROR) && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (u->u_flags & UP_CONNECTING) {
		if (err != 0) {
			connect_failed(c, err);
			return;
		}
		u->u_flags &= ~UP_CONNECTING;
		loop_timer_stop(loop, &u->u_timer);
		stats.upstream_connects++;
		upstream_flush(c);
		if (!(c->c_flags & CONN_CLOSED))
			update_mask(c);
		return;
	}
	if (err != 0) {
		upstream_lost(c, err, "socket");
		return;
	}
	if (events & LOOP_READABLE) {
		upstream_read(c);
		if ((c->c_flags & CONN_CLOSED) || u->u_fd == -1)
			return;
	}
	if ((events & LOOP_WRITABLE) && buf_len(&u->u_out) > 0) {
		upstream_flush(c);
		if ((c->c_flags & CONN_CLOSED) || u->u_fd == -1)
			return;
	}
	/* A hang-up while the client is not read from would return from every wait. */
	if ((events & LOOP_ERROR) && !upstream_wants_read(c)) {
		loop_del_fd(loop, fd);
		u->u_flags |= UP_PARKED;
	}
	update_mask(c);
}

/* The connect begins: its socket in the loop, its timeout armed (or its failure due). */
static int
upstream_connect(struct conn *c)
{
	struct loop *loop = c->c_conns->loop;
	struct upstream *u = c->c_up;

	if ((u->u_fd = net_connect_start(u->u_addr)) == -1) {
		/* Refused at once (loopback does): told from the loop, as any failure. */
		u->u_error = errno;
		u->u_flags |= UP_FAILED;
		return loop_timer_start(loop, &u->u_timer, 0);
	}
	u->u_flags |= UP_CONNECTING;
	if (loop_add_fd(loop, u->u_fd, LOOP_WRITABLE, upstream_on_event, c) == -1)
		return -1;
	return loop_timer_start(loop, &u->u_timer, u->u_timeout_ms);
}

int
conn_upstream_start(struct conn *c, const struct net_addr *addr, unsigned timeout_ms,
    unsigned delay_ms)
{
	struct upstream *u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return -1;
	u->u_fd = -1;
	u->u_addr = addr;
	u->u_timeout_ms = timeout_ms;
	buf_init(&u->u_out, (size_t)c->c_output_limit + c->c_max_line + 2 * READ_CHUNK);
	loop_timer_init(&u->u_timer, upstream_on_timer, c);
	c->c_up = u;
	if (delay_ms == 0)
		return upstream_connect(c);
	/* The client's bytes wait in u_out meanwhile, which backpressure bounds. */
	u->u_flags |= UP_CONNECTING | UP_DELAYED;
	return loop_timer_start(c->c_conns->loop, &u->u_timer, delay_ms);
}

int
conn_upstream_send(struct conn *c, const void *p, size_t n)
{
	struct upstream *u = c->c_up;
	ssize_t w = 0;

	if (c->c_flags & CONN_CLOSED)
		return -1;
	/* Nowhere to go: a failed connect resets the client anyway. */
	if (u == NULL || (u->u_fd == -1 && !(u->u_flags & UP_DELAYED)) ||
	    (u->u_flags & UP_WR_SHUT))
		return 0;
	/* Nothing queued: straight from the caller's bytes, no copy (as conn_send). */
	if (buf_len(&u->u_out) == 0 && !(u->u_flags & UP_CONNECTING) &&
	    (w = upstream_write(c, p, n)) == -1)
		return -1;
	if (buf_append(&u->u_out, (const char *)p + w, n - (size_t)w) == -1) {
		close_output_failed(c);
		return -1;
	}
	if (!(u->u_flags & UP_CONNECTING))
		upstream_flush(c);
	return (c->c_flags & CONN_CLOSED) ? -1 : 0;
}
