/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcpd/buf.h"
#include "tcpd/cmd.h"
#include "tcpd/conn.h"
#include "tcpd/inetd.h"
#include "tcpd/listener.h"
#include "tcpd/log.h"
#include "tcpd/loop.h"
#include "tcpd/net.h"
#include "tcpd/resp.h"
#include "tcpd/stats.h"

/* One read per readiness event, into a buffer shared by all connections. */
#define READ_CHUNK		(64 * 1024)
/*
 * How long a connection that is closing may take to deliver its last reply
 * and receive the peer's FIN after ours.
 */
#define LINGER_MS		5000
/* chargen keeps at most this much generated and unsent. */
#define CHARGEN_FILL		(16 * 1024)
/* A reply may overshoot output_limit by one reply: the largest is a bulk. */
#define REPLY_SLACK		4096
/* Fairness: one connection writes at most this much before others get a turn. */
#define WRITE_BUDGET		(256 * 1024)
/* Bytes of a bad request quoted in the log. */
#define LOG_SAMPLE		64

enum {
	CONN_RD_EOF		= 1 << 0,	/* the peer sent FIN */
	CONN_CLOSE_AFTER_FLUSH	= 1 << 1,	/* send what is owed, then close */
	CONN_LINGER		= 1 << 2,	/* our FIN sent; draining input */
	CONN_PENDING		= 1 << 3,	/* on the pending-write list */
	CONN_CLOSED		= 1 << 4,
};

struct conn {
	uint64_t		 c_id;
	int			 c_fd;
	unsigned		 c_flags;
	enum service		 c_service;
	struct conns		*c_conns;
	struct listener		*c_listener;
	struct buf		 c_in;		/* an incomplete request */
	struct buf		 c_out;
	struct resp_state	 c_resp;
	unsigned		 c_chargen_line;
	unsigned		 c_max_line;
	unsigned		 c_output_limit;
	uint64_t		 c_idle_ms;	/* 0 = never */
	uint64_t		 c_request_ms;	/* 0 = never */
	uint64_t		 c_request_since; /* first byte of an unfinished request, 0 = none */
	uint64_t		 c_opened;	/* loop_now() */
	uint64_t		 c_active;	/* last byte either way */
	uint64_t		 c_linger_since;	/* when CONN_CLOSE_AFTER_FLUSH was set */
	uint64_t		 c_bytes_in;
	uint64_t		 c_bytes_out;
	struct loop_timer	 c_timer;
	struct conn		*c_prev, *c_next;	/* conns->all */
	struct conn		*c_pending_next;
	struct conn		*c_dead_next;
	uint8_t			 c_key[16];	/* the peer, for per-IP counts */
	uint8_t			 c_host_off;	/* the bare address within c_peer */
	uint8_t			 c_host_len;
	char			 c_peer[NET_ADDRSTRLEN];
	char			 c_local[NET_ADDRSTRLEN];
};

static char read_chunk[READ_CHUNK];

/*
 * A line about c, prefixed "conn ID PEER:", with the journal fields that let
 * journalctl select it: TCPD_CONN_ID, TCPD_PEER (the address alone, as
 * TCPD_PEER=10.1.2.3 selects) and TCPD_LISTENER.
 */
static void conn_log(const struct conn *c, enum log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
conn_log(const struct conn *c, enum log_level level, const char *fmt, ...)
{
	char id[24], host[INET6_ADDRSTRLEN], text[1536];
	va_list ap;
	struct log_field fields[3] = {
		{ "TCPD_CONN_ID", id },
		{ "TCPD_PEER", host },
		{ "TCPD_LISTENER", c->c_listener->name },
	};

	if (!log_enabled(level))
		return;
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->c_id);
	snprintf(host, sizeof(host), "%.*s", c->c_host_len, c->c_peer + c->c_host_off);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_fields(level, fields, 3, "conn %s %s: %s", id, c->c_peer, text);
}

static void conn_on_event(struct loop *, int, void *, unsigned);
static void conn_on_timer(struct loop *, struct loop_timer *, void *);
static void conn_flush(struct conn *);

void
conns_init(struct conns *conns, struct loop *loop)
{
	*conns = (struct conns){ .loop = loop, .next_id = 1 };
}

/* Every connection leaves through here, once, with the reason logged. */
static void
conn_close(struct conn *c, const char *reason)
{
	struct conns *conns = c->c_conns;

	if (c->c_flags & CONN_CLOSED)
		return;
	conn_log(c, LOG_LEVEL_DEBUG, "closed: %s (in %llu, out %llu bytes, %llu ms)",
	    reason, (unsigned long long)c->c_bytes_in,
	    (unsigned long long)c->c_bytes_out,
	    (unsigned long long)(loop_now(conns->loop) - c->c_opened));
	loop_del_fd(conns->loop, c->c_fd);
	close(c->c_fd);
	c->c_fd = -1;
	loop_timer_stop(conns->loop, &c->c_timer);
	buf_free(&c->c_in);
	buf_free(&c->c_out);
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
	stats.service_connected[c->c_service]--;
	listener_conn_closed(c->c_listener, c->c_key);
}

static void
close_errno(struct conn *c, const char *what)
{
	char reason[96];

	snprintf(reason, sizeof(reason), "%s: %s", what, strerror(errno));
	conn_close(c, reason);
}

static bool
wants_read(const struct conn *c)
{
	if (c->c_flags & (CONN_RD_EOF | CONN_CLOSED))
		return false;
	if (c->c_flags & CONN_LINGER)
		return true;
	if (c->c_flags & CONN_CLOSE_AFTER_FLUSH)
		return false;
	/* Backpressure: a peer that does not read stops being read. */
	return buf_len(&c->c_out) < c->c_output_limit;
}

/* EPOLLOUT only while output waits and the pending list is not about to try. */
static void
update_mask(struct conn *c)
{
	unsigned mask = 0;

	if (c->c_flags & CONN_CLOSED)
		return;
	if (wants_read(c))
		mask |= LOOP_READABLE;
	if (buf_len(&c->c_out) > 0 && !(c->c_flags & CONN_PENDING))
		mask |= LOOP_WRITABLE;
	if (loop_set_mask(c->c_conns->loop, c->c_fd, mask) == -1)
		close_errno(c, "epoll_ctl");
}

static void
schedule_flush(struct conn *c)
{
	struct conns *conns = c->c_conns;

	if (c->c_flags & (CONN_PENDING | CONN_CLOSED) || buf_len(&c->c_out) == 0)
		return;
	c->c_flags |= CONN_PENDING;
	c->c_pending_next = conns->pending;
	conns->pending = c;
}

enum deadline_kind { DEADLINE_NONE, DEADLINE_CLOSING, DEADLINE_IDLE, DEADLINE_REQUEST };

/* The earliest deadline that applies to c now, in *when. */
static enum deadline_kind
deadline(const struct conn *c, uint64_t *when)
{
	enum deadline_kind kind = DEADLINE_NONE;

	if (c->c_flags & CONN_CLOSE_AFTER_FLUSH) {
		*when = c->c_linger_since + LINGER_MS;
		return DEADLINE_CLOSING;
	}
	if (c->c_idle_ms != 0) {
		*when = c->c_active + c->c_idle_ms;
		kind = DEADLINE_IDLE;
	}
	if (c->c_request_since != 0 && c->c_request_ms != 0 &&
	    (kind == DEADLINE_NONE || c->c_request_since + c->c_request_ms < *when)) {
		*when = c->c_request_since + c->c_request_ms;
		kind = DEADLINE_REQUEST;
	}
	return kind;
}

static void
arm_timer(struct conn *c)
{
	uint64_t now = loop_now(c->c_conns->loop), when;

	if (deadline(c, &when) == DEADLINE_NONE) {
		loop_timer_stop(c->c_conns->loop, &c->c_timer);
		return;
	}
	if (loop_timer_start(c->c_conns->loop, &c->c_timer,
	    when > now ? when - now : 0) == -1)
		close_errno(c, "timer");
}

static void close_after_flush(struct conn *);

/*
 * Activity only stamps c_active; the timer fires at the old deadline and
 * moves itself, so busy connections cost no heap work per byte.
 */
static void
conn_on_timer(struct loop *loop, struct loop_timer *timer, void *arg)
{
	struct conn *c = arg;
	uint64_t when;
	enum deadline_kind kind = deadline(c, &when);

	(void)timer;
	if (kind == DEADLINE_NONE || loop_now(loop) < when) {
		arm_timer(c);
		return;
	}
	switch (kind) {
	case DEADLINE_CLOSING:
		conn_close(c, "peer did not take the last reply and close");
		break;
	case DEADLINE_IDLE:
		stats.idle_timeouts++;
		conn_close(c, "idle timeout");
		break;
	case DEADLINE_REQUEST:
		/* Say why on the wire, then close within LINGER_MS whatever the peer does. */
		stats.request_timeouts++;
		conn_log(c, LOG_LEVEL_DEBUG, "request timeout");
		c->c_request_since = 0;
		resp_add_error(&c->c_out, "ERR Protocol error: request timeout");
		close_after_flush(c);
		schedule_flush(c);
		update_mask(c);
		break;
	case DEADLINE_NONE:
		break;
	}
}

/* Sends what is owed, then our FIN, then closes; all within LINGER_MS. */
static void
close_after_flush(struct conn *c)
{
	c->c_flags |= CONN_CLOSE_AFTER_FLUSH;
	c->c_linger_since = loop_now(c->c_conns->loop);
	arm_timer(c);
}

static void
fail_output(struct conn *c)
{
	if (errno == ENOBUFS) {
		stats.output_limit_disconnections++;
		conn_close(c, "output limit");
	} else {
		close_errno(c, "output buffer");
	}
}

static void
protocol_error(struct conn *c, const struct resp_request *req, const char *data,
    size_t len)
{
	char sample[4 * LOG_SAMPLE + 4];

	if (log_enabled(LOG_LEVEL_DEBUG))
		conn_log(c, LOG_LEVEL_DEBUG, "protocol error: %s; input: \"%s\"",
		    req->error, log_escape(sample, sizeof(sample), data,
		    len < LOG_SAMPLE ? len : LOG_SAMPLE));
	resp_add_error(&c->c_out, "ERR Protocol error: %s", req->error);
	close_after_flush(c);
}

/* Answers complete requests until input or output room runs out. */
static size_t
process_commands(struct conn *c, const char *data, size_t len)
{
	struct cmd_client client = { c->c_id, c->c_peer, c->c_local,
	    c->c_listener->name };
	struct resp_request req;
	size_t used = 0;
	ssize_t n;

	while (used < len && !(c->c_flags & CONN_CLOSE_AFTER_FLUSH) &&
	    buf_len(&c->c_out) < c->c_output_limit) {
		n = resp_parse(&c->c_resp, &req, data + used, len - used,
		    c->c_max_line);
		if (n == RESP_INCOMPLETE) {
			/* The slowloris clock starts with the first byte of a request. */
			if (c->c_request_since == 0) {
				c->c_request_since = loop_now(c->c_conns->loop);
				arm_timer(c);
			}
			return used;
		}
		if (n == RESP_ERROR) {
			protocol_error(c, &req, data + used, len - used);
			return len;
		}
		used += (size_t)n;
		c->c_request_since = 0;
		if (req.argc > 0 && cmd_execute(&client, &req, &c->c_out) == CMD_CLOSE)
			close_after_flush(c);
	}
	return used;
}

/* Answers what waits in the input buffer; an emptied buffer is released. */
static void
process_buffered(struct conn *c)
{
	buf_consume(&c->c_in, process_commands(c, buf_data(&c->c_in),
	    buf_len(&c->c_in)));
	buf_shrink(&c->c_in);
}

/* Feeds newly read bytes to the command parser, keeping what is incomplete. */
static void
input_commands(struct conn *c, const char *data, size_t len)
{
	bool buffered = buf_len(&c->c_in) > 0;
	struct resp_request req;
	size_t used;

	/* The common case parses straight from the shared read buffer. */
	if (!buffered) {
		used = process_commands(c, data, len);
		data += used;
		len -= used;
	}
	if (len == 0 || (c->c_flags & CONN_CLOSE_AFTER_FLUSH))
		return;
	if (buf_append(&c->c_in, data, len) == -1) {
		if (errno != ENOBUFS) {
			close_errno(c, "input buffer");
			return;
		}
		snprintf(req.error, sizeof(req.error), "too big request");
		protocol_error(c, &req, buf_data(&c->c_in), buf_len(&c->c_in));
		buf_free(&c->c_in);
		return;
	}
	if (buffered)
		process_buffered(c);
}

static void
input(struct conn *c, const char *data, size_t len)
{
	if (c->c_flags & (CONN_LINGER | CONN_CLOSE_AFTER_FLUSH))
		return;
	switch (c->c_service) {
	case SERVICE_ECHO:
		if (buf_append(&c->c_out, data, len) == -1)
			fail_output(c);
		break;
	case SERVICE_COMMAND:
		input_commands(c, data, len);
		break;
	case SERVICE_DISCARD:
	case SERVICE_CHARGEN:
	case SERVICE_DAYTIME:
	case SERVICE_TIME:
	case SERVICE_COUNT:
		break;
	}
}

static void
on_eof(struct conn *c)
{
	c->c_flags |= CONN_RD_EOF;
	/* Half-close: what the peer is owed still goes out, then we close. */
	if (buf_len(&c->c_out) == 0 || c->c_service == SERVICE_CHARGEN ||
	    (c->c_flags & CONN_LINGER))
		conn_close(c, "closed by peer");
}

/* While shutting down: nothing owed, nothing half-received, nothing to read. */
static void
close_if_drained(struct conn *c)
{
	if (c->c_conns->draining && buf_len(&c->c_out) == 0 &&
	    buf_len(&c->c_in) == 0 && !(c->c_flags & CONN_CLOSE_AFTER_FLUSH))
		conn_close(c, "server shutting down");
}

static void
conn_read(struct conn *c)
{
	size_t room = READ_CHUNK;
	ssize_t n;

	if (!wants_read(c))
		return;
	/* echo never holds more than output_limit, whatever one read brings. */
	if (c->c_service == SERVICE_ECHO &&
	    c->c_output_limit - buf_len(&c->c_out) < room)
		room = c->c_output_limit - buf_len(&c->c_out);
	do
		n = read(c->c_fd, read_chunk, room);
	while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN) {
			close_if_drained(c);
			return;
		}
		if (errno == ECONNRESET)
			conn_close(c, "reset by peer");
		else
			close_errno(c, "read");
		return;
	}
	if (n == 0) {
		on_eof(c);
		return;
	}
	c->c_bytes_in += (uint64_t)n;
	stats.net_input_bytes += (uint64_t)n;
	c->c_active = loop_now(c->c_conns->loop);
	input(c, read_chunk, (size_t)n);
	if (c->c_flags & CONN_CLOSED)
		return;
	schedule_flush(c);
	update_mask(c);
}

static void
refill_chargen(struct conn *c)
{
	size_t want = c->c_output_limit < CHARGEN_FILL ? c->c_output_limit : CHARGEN_FILL;
	size_t have = buf_len(&c->c_out), n;
	char *dst;

	if (have + CHARGEN_LINE_LEN > want)
		return;
	if ((dst = buf_reserve(&c->c_out, want - have)) == NULL) {
		fail_output(c);
		return;
	}
	n = inetd_chargen(dst, want - have, &c->c_chargen_line);
	buf_commit(&c->c_out, n);
}

/* Output has drained: finish a close, resume paused input, or make more. */
static void
after_write(struct conn *c)
{
	if (buf_len(&c->c_out) == 0) {
		if (c->c_flags & CONN_RD_EOF) {
			conn_close(c, "closed by peer");
			return;
		}
		if ((c->c_flags & (CONN_CLOSE_AFTER_FLUSH | CONN_LINGER)) ==
		    CONN_CLOSE_AFTER_FLUSH) {
			/* Our FIN now; reading until theirs avoids an RST that could destroy the reply. */
			if (shutdown(c->c_fd, SHUT_WR) == -1) {
				if (errno == ENOTCONN)
					conn_close(c, "closed by peer");
				else
					close_errno(c, "shutdown");
				return;
			}
			c->c_flags |= CONN_LINGER;
		}
	}
	if (c->c_service == SERVICE_CHARGEN)
		refill_chargen(c);
	else if (c->c_service == SERVICE_COMMAND && buf_len(&c->c_in) > 0 &&
	    buf_len(&c->c_out) < c->c_output_limit)
		process_buffered(c);
}

static void
conn_flush(struct conn *c)
{
	size_t budget = WRITE_BUDGET, want;
	ssize_t n;

	while (buf_len(&c->c_out) > 0 && budget > 0) {
		want = buf_len(&c->c_out) < budget ? buf_len(&c->c_out) : budget;
		n = write(c->c_fd, buf_data(&c->c_out), want);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno == EPIPE || errno == ECONNRESET)
				conn_close(c, "reset by peer");
			else
				close_errno(c, "write");
			return;
		}
		c->c_bytes_out += (uint64_t)n;
		stats.net_output_bytes += (uint64_t)n;
		c->c_active = loop_now(c->c_conns->loop);
		buf_consume(&c->c_out, (size_t)n);
		budget = (size_t)n < budget ? budget - (size_t)n : 0;
		/* Resumed input may add replies; they go out on this same pass. */
		after_write(c);
		if (c->c_flags & CONN_CLOSED)
			return;
		/* A short write means the socket buffer is full: wait for EPOLLOUT. */
		if ((size_t)n < want)
			break;
	}
	buf_shrink(&c->c_out);
	/* Draining: once all is sent, see whether anything else has arrived. */
	if (c->c_conns->draining && buf_len(&c->c_out) == 0 && wants_read(c)) {
		conn_read(c);
		if (c->c_flags & CONN_CLOSED)
			return;
	}
	update_mask(c);
}

static void
conn_on_event(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct conn *c = arg;

	(void)loop;
	(void)fd;
	if (events & LOOP_READABLE)
		conn_read(c);
	if ((events & LOOP_WRITABLE) && !(c->c_flags & (CONN_CLOSED | CONN_PENDING)))
		conn_flush(c);
}

static void
start_service(struct conn *c)
{
	unsigned char t[4];
	char line[DAYTIME_MAX];
	time_t now = time(NULL);
	int rc = 0;

	switch (c->c_service) {
	case SERVICE_DAYTIME:
		rc = buf_append(&c->c_out, line, inetd_daytime(line, now));
		close_after_flush(c);
		break;
	case SERVICE_TIME:
		inetd_time(t, now);
		rc = buf_append(&c->c_out, t, sizeof(t));
		close_after_flush(c);
		break;
	case SERVICE_CHARGEN:
		refill_chargen(c);
		break;
	case SERVICE_ECHO:
	case SERVICE_DISCARD:
	case SERVICE_COMMAND:
	case SERVICE_COUNT:
		break;
	}
	if (rc == -1)
		fail_output(c);
}

struct conn *
conn_new(struct conns *conns, int fd, const struct net_addr *peer,
    const struct net_addr *bound, struct listener *l, const uint8_t key[16])
{
	const struct conn_limits *lim = &conns->limits;
	struct net_addr local;
	size_t host_off, host_len;
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warning("connection from listener %s dropped: out of memory",
		    l->name);
		close(fd);
		return NULL;
	}
	c->c_id = conns->next_id++;
	c->c_fd = fd;
	c->c_conns = conns;
	c->c_listener = l;
	c->c_service = l->service;
	memcpy(c->c_key, key, sizeof(c->c_key));
	c->c_max_line = lim->max_line;
	c->c_output_limit = lim->output_limit;
	c->c_idle_ms = (uint64_t)lim->idle_timeout * 1000;
	c->c_request_ms = (uint64_t)lim->request_timeout * 1000;
	c->c_opened = c->c_active = loop_now(conns->loop);
	buf_init(&c->c_in, (size_t)lim->max_line + 2 * READ_CHUNK);
	buf_init(&c->c_out, (size_t)lim->output_limit + lim->max_line + REPLY_SLACK);
	loop_timer_init(&c->c_timer, conn_on_timer, c);
	net_addr_format(peer, c->c_peer, sizeof(c->c_peer));
	net_addr_host_span(c->c_peer, &host_off, &host_len);
	c->c_host_off = (uint8_t)host_off;
	c->c_host_len = (uint8_t)host_len;
	/* Only a wildcard bind leaves the kernel to tell which address was reached. */
	if (!net_addr_is_wildcard(bound))
		net_addr_format(bound, c->c_local, sizeof(c->c_local));
	else if (net_local_addr(fd, &local) == 0)
		net_addr_format(&local, c->c_local, sizeof(c->c_local));
	else
		snprintf(c->c_local, sizeof(c->c_local), "unknown");

	if (loop_add_fd(conns->loop, fd, LOOP_READABLE, conn_on_event, c) == -1) {
		conn_log(c, LOG_LEVEL_WARNING, "dropped: epoll_ctl: %s", strerror(errno));
		close(fd);
		free(c);
		return NULL;
	}
	c->c_next = conns->all;
	if (conns->all != NULL)
		conns->all->c_prev = c;
	conns->all = c;
	conns->count++;
	stats.connected++;
	stats.service_connected[c->c_service]++;
	stats.service_total[c->c_service]++;
	conn_log(c, LOG_LEVEL_DEBUG, "open on %s (listener %s, %s)", c->c_local,
	    l->name, service_name(c->c_service));

	arm_timer(c);
	start_service(c);
	if (c->c_flags & CONN_CLOSED)
		return NULL;
	schedule_flush(c);
	update_mask(c);
	return c;
}

static void
reap(struct conns *conns)
{
	struct conn *c;

	while ((c = conns->dead) != NULL) {
		conns->dead = c->c_dead_next;
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
		/* chargen owes nothing; a lingering close has delivered its reply. */
		if (c->c_service == SERVICE_CHARGEN || (c->c_flags & CONN_LINGER)) {
			conn_close(c, "server shutting down");
			continue;
		}
		if (wants_read(c))
			conn_read(c);
		else
			close_if_drained(c);
	}
}

void
conns_close_all(struct conns *conns, const char *reason)
{
	while (conns->all != NULL)
		conn_close(conns->all, reason);
	conns->pending = NULL;
	reap(conns);
}
