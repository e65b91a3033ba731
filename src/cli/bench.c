/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/bench.h"
#include "tcpd/hist.h"
#include "tcpd/buf.h"
#include "tcpd/loop.h"
#include "tcpd/net.h"
#include "tcpd/num.h"
#include "tcpd/resp.h"

enum exchange { X_PING, X_ECHO, X_RAW };

enum pace {
	P_KEEP,		/* one connection for every request */
	P_RECONNECT,	/* connect, one exchange, close: connections per second */
	P_IDLE,		/* one exchange, then hold the connection open, idle */
};

struct workload {
	const char	*name;
	enum exchange	 exchange;
	enum pace	 pace;
};

static const struct workload workloads[] = {
	{ "ping", X_PING, P_KEEP },
	{ "echo", X_ECHO, P_KEEP },
	{ "raw-echo", X_RAW, P_KEEP },
	{ "connect", X_PING, P_RECONNECT },
	{ "raw-connect", X_RAW, P_RECONNECT },
	{ "idle", X_PING, P_IDLE },
};

struct bench_opts {
	const char	*host;
	const char	*port;
	unsigned	 conns;
	unsigned	 pipeline;
	unsigned long long requests;	/* 0 = no limit */
	double		 seconds;	/* 0 = no limit; the first limit reached ends it */
	const struct workload *workload;
	size_t		 size;
	bool		 csv;
	bool		 json;
	bool		 reset;		/* close with RST: no TIME_WAIT */
	int		 connect_timeout_ms;
	bool		 expect_faults;	/* count resets, closes and late replies: not errors */
	unsigned	 late_ms;	/* a reply slower than this is late */
	bool		 resp3;		/* HELLO 3 on each connection before its requests */
};

/*
 * -3: each connection sends HELLO 3 first and waits for the end of its map,
 * whose last entry is the same on tcpd and redis-server: no module. The
 * map's other bytes (the connection's id) differ, so they are not compared.
 */
#define HELLO		"HELLO 3\r\n"
#define HELLO_END	"$7\r\nmodules\r\n*0\r\n"

struct bconn {
	struct bench	*b;
	int		 fd;
	bool		 connecting;
	unsigned	 outstanding;
	size_t		 to_send;	/* bytes of queued requests not yet written */
	uint64_t	 sent_total;
	size_t		 reply_off;	/* into the expected reply */
	unsigned	 hello_seen;	/* -3: bytes of HELLO_END matched, sizeof when done */
	bool		 ready;		/* made, and with -3 its HELLO answered */
	uint64_t	*sent_at;	/* ring of pipeline send times, ns */
	unsigned	 head;
};

struct bench {
	struct bench_opts o;
	struct loop	*loop;
	struct net_addr	 addr;
	char		*reqs;		/* pipeline + 1 copies of the request */
	size_t		 req_len;
	char		*expect;	/* one expected reply */
	size_t		 expect_len;
	unsigned long long issued, completed, errors, mismatches;
	unsigned long long lost;	/* requests whose connection died unanswered */
	unsigned long long resets, closes, late;	/* --expect-faults */
	unsigned	 dead_idle;	/* idle pace: connections lost before holding */
	bool		 holding;	/* idle pace: every connection answered */
	unsigned	 nready;	/* connections ready (see struct bconn) */
	bool		 started;	/* the measured span has begun */
	uint64_t	 start_ns, end_ns;	/* the measured span, wall clock */
	uint64_t	 start_cpu_ns, end_cpu_ns;	/* and this process's CPU time */
	bool		 tty;
	struct hist	 hist;
	struct bconn	*conns;
	struct loop_timer progress, deadline, warmup;
};

static uint64_t
clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* Ends the measured span, once. */
static void
stop_clock(struct bench *b)
{
	if (b->end_ns != 0)
		return;
	b->end_ns = now_ns();
	b->end_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

static void conn_start(struct bconn *c);
static void on_deadline(struct loop *loop, struct loop_timer *t, void *arg);
static void queue_requests(struct bconn *c);
static void update_interest(struct bconn *c);
static void write_requests(struct bconn *c);

static bool
budget_left(const struct bench *b)
{
	return b->o.requests == 0 || b->issued < b->o.requests;
}

static void
finish(struct bench *b)
{
	stop_clock(b);
	loop_stop(b->loop);
}

/*
 * The idle pace holds once every connection has answered or died: it says so
 * on stdout, so a script can measure the server now, and holds for -d seconds.
 */
static void
idle_settle(struct bench *b)
{
	if (b->holding || b->completed + b->dead_idle < b->o.conns)
		return;
	b->holding = true;
	stop_clock(b);
	printf("holding %llu idle connections for %g s\n", b->completed, b->o.seconds);
	fflush(stdout);
	loop_timer_init(&b->deadline, on_deadline, b);
	loop_timer_start(b->loop, &b->deadline, (uint64_t)(b->o.seconds * 1000));
}

static void
conn_close(struct bconn *c)
{
	if (c->fd == -1)
		return;
	loop_del_fd(c->b->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	if (c->ready)
		c->b->nready--;
	c->ready = false;
}

/*
 * The measured span, and -d's, begin. The workloads that keep their
 * connections begin once every connection is made and, with -3, has its
 * HELLO answered (or at the warm-up's end), as redis-benchmark starts its
 * clock with its clients connected: how fast a server takes connections and
 * handshakes is not its request rate, and a slow start must not eat a short
 * -d. The connections ready start their requests now.
 */
static void
start_measuring(struct bench *b)
{
	unsigned i;

	b->started = true;
	loop_timer_stop(b->loop, &b->warmup);
	b->start_ns = now_ns();
	b->start_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	if (b->o.seconds > 0 && b->o.workload->pace != P_IDLE) {
		loop_timer_init(&b->deadline, on_deadline, b);
		loop_timer_start(b->loop, &b->deadline, (uint64_t)(b->o.seconds * 1000));
	}
	for (i = 0; i < b->o.conns && b->end_ns == 0; i++)
		if (b->conns[i].ready) {
			queue_requests(&b->conns[i]);
			write_requests(&b->conns[i]);
		}
}

/* The warm-up's limit: the connections still being made start when they are. */
static void
on_warmup_over(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct bench *b = arg;

	(void)loop;
	(void)t;
	fprintf(stderr, "%stcpd-cli bench: %u of %u connections ready after %d ms; "
	    "measuring from now\n", b->tty ? "\n" : "", b->nready, b->o.conns,
	    b->o.connect_timeout_ms);
	start_measuring(b);
}

/*
 * c is made, and with -3 speaks RESP3. Returns whether it goes on to its
 * requests now: not while others are still being made, nor when it was the
 * last of them (start_measuring() started every one).
 */
static bool
conn_ready(struct bconn *c)
{
	struct bench *b = c->b;

	c->ready = true;
	b->nready++;
	if (b->started)
		return true;
	if (b->nready == b->o.conns)
		start_measuring(b);
	else
		update_interest(c);
	return false;
}

/* A connection that died is replaced (the idle pace counts it instead). */
static void
conn_replace(struct bconn *c)
{
	struct bench *b = c->b;

	conn_close(c);
	c->outstanding = 0;
	c->to_send = 0;
	c->reply_off = 0;
	if (b->o.workload->pace == P_IDLE) {
		if (!b->holding) {
			b->dead_idle++;
			idle_settle(b);
		}
	} else if (b->o.requests != 0 && b->completed + b->lost >= b->o.requests) {
		finish(b);	/* the last requests were lost: none is left to answer */
	} else if (budget_left(b)) {
		conn_start(c);
	}
}

static void
conn_fail(struct bconn *c, const char *what, int err)
{
	struct bench *b = c->b;

	b->errors++;
	if (b->errors <= 3)
		fprintf(stderr, "%stcpd-cli bench: %s: %s\n", b->tty ? "\n" : "", what,
		    strerror(err));
	/* Lost requests are errors. */
	b->errors += c->outstanding;
	b->lost += c->outstanding;
	if (b->errors > 1000) {
		conn_close(c);
		fprintf(stderr, "tcpd-cli bench: too many errors, stopping\n");
		finish(b);
		return;
	}
	conn_replace(c);
}

/*
 * The server reset or closed the connection: with --expect-faults a fault
 * to count (its unanswered requests lost), otherwise an error.
 */
static void
conn_ended(struct bconn *c, const char *what, int err)
{
	struct bench *b = c->b;

	if (!b->o.expect_faults) {
		conn_fail(c, what, err);
		return;
	}
	if (err == 0)
		b->closes++;
	else
		b->resets++;
	b->lost += c->outstanding;
	conn_replace(c);
}

static void
update_interest(struct bconn *c)
{
	unsigned mask = LOOP_READABLE | (c->to_send > 0 || c->connecting ? LOOP_WRITABLE : 0);

	if (loop_set_mask(c->b->loop, c->fd, mask) == -1)
		conn_fail(c, "epoll_ctl", errno);
}

/* Queues requests until the pipeline is full or the budget is spent. */
static void
queue_requests(struct bconn *c)
{
	struct bench *b = c->b;
	unsigned depth = b->o.pipeline;

	while (c->outstanding < depth && budget_left(b)) {
		c->sent_at[(c->head + c->outstanding) % depth] = now_ns();
		c->outstanding++;
		c->to_send += b->req_len;
		b->issued++;
	}
}

static void
write_requests(struct bconn *c)
{
	struct bench *b = c->b;
	ssize_t n;

	while (c->to_send > 0) {
		size_t pos = (size_t)(c->sent_total % b->req_len);

		n = send(c->fd, b->reqs + pos, c->to_send, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			break;
		if (n == -1 && (errno == ECONNRESET || errno == EPIPE)) {
			conn_ended(c, "send", errno);
			return;
		}
		if (n == -1) {
			conn_fail(c, "send", errno);
			return;
		}
		c->to_send -= (size_t)n;
		c->sent_total += (uint64_t)n;
	}
	update_interest(c);
}

/*
 * After a connection's replies are counted: the idle pace settles, and -n
 * may be reached. True when this connection has nothing more to do now.
 */
static bool
run_over(struct bench *b)
{
	if (b->o.workload->pace == P_IDLE) {
		idle_settle(b);
		return true;
	}
	if (b->o.requests != 0 && b->completed + b->lost >= b->o.requests) {
		finish(b);
		return true;
	}
	return false;
}

/*
 * The replies are out of step with the requests (wrong bytes, or bytes
 * nobody asked for): every request owed on this connection counts as
 * answered wrongly, once, and a new connection starts afresh.
 */
static void
out_of_step(struct bconn *c)
{
	struct bench *b = c->b;

	b->mismatches += c->outstanding > 0 ? c->outstanding : 1;
	b->completed += c->outstanding;
	c->outstanding = 0;
	c->to_send = 0;
	c->reply_off = 0;
	conn_close(c);
	if (!run_over(b) && budget_left(b))
		conn_start(c);
}

/* Checks received bytes against the expected reply stream, byte for byte. */
static void
take_reply_bytes(struct bconn *c, const char *p, size_t n)
{
	struct bench *b = c->b;
	unsigned depth = b->o.pipeline;
	uint64_t took;

	while (n > 0 && c->fd != -1) {
		size_t k = b->expect_len - c->reply_off;

		if (k > n)
			k = n;
		if (c->outstanding == 0 || memcmp(b->expect + c->reply_off, p, k) != 0) {
			out_of_step(c);
			return;
		}
		c->reply_off += k;
		p += k;
		n -= k;
		if (c->reply_off < b->expect_len)
			break;
		took = now_ns() - c->sent_at[c->head];
		hist_add(&b->hist, took);
		b->late += took > (uint64_t)b->o.late_ms * 1000000u;
		c->head = (c->head + 1) % depth;
		c->outstanding--;
		c->reply_off = 0;
		b->completed++;
		/* One request, one reply: anything after it is a reply nobody asked for. */
		if (b->o.workload->pace == P_RECONNECT && n > 0)
			b->mismatches++;
		if (run_over(b))
			return;
		if (b->o.workload->pace == P_RECONNECT) {
			if (b->o.reset)
				(void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER,
				    &(struct linger){ .l_onoff = 1, .l_linger = 0 },
				    sizeof(struct linger));
			conn_close(c);
			if (budget_left(b))
				conn_start(c);
			return;
		}
	}
}

/*
 * -3: the HELLO reply's bytes, up to the end of its map; returns how many
 * it took (the rest are replies to the workload's requests).
 */
static size_t
take_hello_bytes(struct bconn *c, const char *p, size_t n)
{
	static const char end[] = HELLO_END;
	size_t i;

	for (i = 0; i < n && c->hello_seen < sizeof(end) - 1; i++) {
		if (p[i] == end[c->hello_seen])
			c->hello_seen++;
		else
			c->hello_seen = p[i] == end[0];
	}
	return i;
}

static void
on_conn(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct bconn *c = arg;
	char chunk[64 * 1024];
	socklen_t len = sizeof(int);
	int err = 0;
	ssize_t n;

	(void)loop;
	(void)fd;
	if (c->connecting) {
		if (!(events & LOOP_WRITABLE))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			if (err == ECONNRESET)	/* reset right after accept */
				conn_ended(c, "connect", err);
			else
				conn_fail(c, "connect", err ? err : errno);
			return;
		}
		c->connecting = false;
		/* Eight bytes on a new socket: they fit its buffer. */
		if (c->b->o.resp3 && send(c->fd, HELLO, sizeof(HELLO) - 1, MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(HELLO) - 1) {
			conn_fail(c, "send", errno);
			return;
		}
	}
	if (events & LOOP_READABLE) {
		n = recv(c->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n == 0) {
			conn_ended(c, "the server closed the connection", 0);
			return;
		}
		if (n == -1 && errno == ECONNRESET) {
			conn_ended(c, "recv", errno);
			return;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			conn_fail(c, "recv", errno);
			return;
		}
		if (n > 0) {
			size_t used = c->b->o.resp3 ? take_hello_bytes(c, chunk, (size_t)n) : 0;

			take_reply_bytes(c, chunk + used, (size_t)n - used);
		}
		if (c->fd == -1)
			return;
	}
	/* -3: no request before the protocol is RESP3. */
	if (c->b->o.resp3 && c->hello_seen < sizeof(HELLO_END) - 1) {
		update_interest(c);
		return;
	}
	if (!c->ready && !conn_ready(c))
		return;
	queue_requests(c);
	write_requests(c);
}

static void
conn_start(struct bconn *c)
{
	struct bench *b = c->b;

	c->head = 0;
	c->reply_off = 0;
	c->sent_total = 0;
	c->hello_seen = 0;
	if ((c->fd = net_connect_start(&b->addr)) == -1) {
		conn_fail(c, "connect", errno);
		return;
	}
	c->connecting = true;
	if (loop_add_fd(b->loop, c->fd, LOOP_WRITABLE, on_conn, c) == -1) {
		conn_fail(c, "epoll_ctl", errno);
		return;
	}
	/* The connect workload times from here: connect, request, reply. */
	if (b->o.workload->pace != P_KEEP)
		queue_requests(c);
}

static void
on_progress(struct loop *loop, struct loop_timer *t, void *arg)
{
	struct bench *b = arg;
	double secs = (double)(now_ns() - b->start_ns) / 1e9;

	fprintf(stderr, "\r%s: %llu requests, %.0f/s, %llu errors   ",
	    b->o.workload->name, b->completed,
	    secs > 0 ? (double)b->completed / secs : 0, b->errors + b->mismatches);
	loop_timer_start(loop, t, 500);
}

static void
on_deadline(struct loop *loop, struct loop_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	finish(arg);
}

static int
build_workload(struct bench *b)
{
	struct buf req, exp;
	char *payload = malloc(b->o.size + 1);
	size_t i;
	unsigned k;

	if (payload == NULL)
		return -1;
	for (i = 0; i < b->o.size; i++)
		payload[i] = (char)('a' + i % 26);
	buf_init(&req, SIZE_MAX);
	buf_init(&exp, SIZE_MAX);
	switch (b->o.workload->exchange) {
	case X_PING:
		resp_add_array(&req, 1);
		resp_add_bulk(&req, "PING", 4);
		resp_add_simple(&exp, "PONG");
		break;
	case X_ECHO:
		resp_add_array(&req, 2);
		resp_add_bulk(&req, "ECHO", 4);
		resp_add_bulk(&req, payload, b->o.size);
		resp_add_bulk(&exp, payload, b->o.size);
		break;
	case X_RAW:
		buf_append(&req, payload, b->o.size);
		buf_append(&exp, payload, b->o.size);
		break;
	}
	free(payload);
	b->req_len = buf_len(&req);
	b->expect_len = buf_len(&exp);
	b->reqs = malloc(b->req_len * (b->o.pipeline + 1));
	b->expect = malloc(b->expect_len);
	if (b->reqs != NULL && b->expect != NULL) {
		for (k = 0; k <= b->o.pipeline; k++)
			memcpy(b->reqs + k * b->req_len, buf_data(&req), b->req_len);
		memcpy(b->expect, buf_data(&exp), b->expect_len);
	}
	buf_free(&req);
	buf_free(&exp);
	return b->reqs != NULL && b->expect != NULL ? 0 : -1;
}

static void
report(const struct bench *b)
{
	double secs = (double)(b->end_ns - b->start_ns) / 1e9;
	double rps = secs > 0 ? (double)b->completed / secs : 0;
	double mbps = b->o.workload->exchange == X_PING ? 0 : rps * (double)b->o.size / 1e6;
	double us[5] = {
		(double)hist_quantile(&b->hist, 0.50) / 1e3,
		(double)hist_quantile(&b->hist, 0.90) / 1e3,
		(double)hist_quantile(&b->hist, 0.99) / 1e3,
		(double)hist_quantile(&b->hist, 0.999) / 1e3,
		(double)b->hist.max / 1e3,
	};
	/* Whether the client, not the server, may have been the bottleneck. */
	double cpu = secs > 0 ? (double)(b->end_cpu_ns - b->start_cpu_ns) / 1e7 / secs : 0;
	const char *w = b->o.workload->name;

	if (b->o.csv) {
		printf("workload,connections,pipeline,size,requests,seconds,requests_per_sec,"
		    "mb_per_sec,p50_us,p90_us,p99_us,p999_us,max_us,client_cpu_pct,errors,"
		    "mismatches\n");
		printf("%s,%u,%u,%zu,%llu,%.3f,%.0f,%.1f,%.1f,%.1f,%.1f,%.1f,%.1f,%.0f,%llu,%llu\n",
		    w, b->o.conns, b->o.pipeline, b->o.size, b->completed, secs, rps, mbps,
		    us[0], us[1], us[2], us[3], us[4], cpu, b->errors, b->mismatches);
	} else if (b->o.json) {
		printf("{\"workload\":\"%s\",\"connections\":%u,\"pipeline\":%u,\"size\":%zu,"
		    "\"requests\":%llu,\"seconds\":%.3f,\"requests_per_sec\":%.0f,"
		    "\"mb_per_sec\":%.1f,\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,"
		    "\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f},\"client_cpu_pct\":%.0f,"
		    "\"errors\":%llu,\"mismatches\":%llu}\n", w, b->o.conns, b->o.pipeline,
		    b->o.size, b->completed, secs, rps, mbps, us[0], us[1], us[2], us[3], us[4],
		    cpu, b->errors, b->mismatches);
	} else if (b->o.workload->pace == P_IDLE) {
		printf("idle: %llu of %u connections answered in %.2f s, then held %g s\n",
		    b->completed, b->o.conns, secs, b->o.seconds);
		printf("errors: %llu  mismatched replies: %llu\n", b->errors, b->mismatches);
	} else {
		printf("%s: %u connections, pipeline %u: %llu requests in %.2f s\n", w,
		    b->o.conns, b->o.pipeline, b->completed, secs);
		printf("requests/s: %.0f", rps);
		if (mbps > 0)
			printf("  (%.1f MB/s each way)", mbps);
		printf("  client CPU %.0f%%", cpu);
		printf("\nlatency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
		    us[0], us[1], us[2], us[3], us[4]);
		printf("errors: %llu  mismatched replies: %llu\n", b->errors, b->mismatches);
	}
	if (b->o.expect_faults && !b->o.csv && !b->o.json)
		printf("faults: %llu resets, %llu closes, %llu late replies (over %u ms), "
		    "%llu requests lost\n", b->resets, b->closes, b->late, b->o.late_ms,
		    b->lost);
}

static void
bench_usage(FILE *out)
{
	fprintf(out,
	    "usage: tcpd-cli bench [-h HOST] [-p PORT] [-c CONNS] [-P PIPELINE]\n"
	    "                      [-n REQUESTS] [-d SECONDS] [--workload W] [-s SIZE]\n"
	    "                      [-3] [--reset] [--expect-faults[=MS]] [--csv | --json]\n"
	    "  -c CONNS        connections (default 50)\n"
	    "  -P PIPELINE     requests in flight per connection (default 1)\n"
	    "  -n REQUESTS     stop after this many replies\n"
	    "  -d SECONDS      stop after this long; with -n, whichever comes first\n"
	    "                  (neither: -n 100000); timed from when every connection is\n"
	    "                  made (-3: and its HELLO answered; 5 s at most of that)\n"
	    "  --workload W    ping: RESP PING, expects +PONG (default)\n"
	    "                  echo: RESP ECHO of SIZE bytes, expects them back\n"
	    "                  raw-echo: SIZE raw bytes to an echo service, expects them back\n"
	    "                  connect: connect, PING, close, again (connections/s)\n"
	    "                  raw-connect: the same with SIZE raw bytes to an echo service\n"
	    "                  idle: one PING on each connection, then hold them all\n"
	    "                  open for -d seconds (default 10)\n"
	    "  -s SIZE         payload bytes for echo workloads (default 64)\n"	    "  -3              ping and echo over RESP3: HELLO 3 on each connection first\n"
	    "  --reset         connect workloads: close with a reset, not a FIN, so that\n"
	    "                  the client's ports do not pile up in TIME_WAIT\n"
	    "  --expect-faults[=MS]  against faults (a flaky listener): count resets,\n"
	    "                  closes and replies later than MS (default 100) instead of\n"
	    "                  failing, and report each; wrong replies still fail\n"
	    "  --csv, --json   machine-readable result\n");
}

static int
parse_opts(struct bench_opts *o, int argc, char *argv[])
{
	enum { OPT_WORKLOAD = 256, OPT_CSV, OPT_JSON, OPT_RESET, OPT_FAULTS, OPT_HELP };
	static const struct option options[] = {
		{ "host", required_argument, NULL, 'h' },
		{ "port", required_argument, NULL, 'p' },
		{ "workload", required_argument, NULL, OPT_WORKLOAD },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "reset", no_argument, NULL, OPT_RESET },
		{ "expect-faults", optional_argument, NULL, OPT_FAULTS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int64_t v = 0;
	int ch, i, rc;

	while ((ch = getopt_long(argc, argv, "3h:p:c:P:n:d:s:", options, NULL)) != -1) {
		rc = 0;
		switch (ch) {
		case '3': o->resp3 = true; break;
		case 'h': o->host = optarg; break;
		case 'p': o->port = optarg; break;
		case 'c':
			rc = num_parse_str(optarg, 1, 100000, &v);
			o->conns = (unsigned)v;
			break;
		case 'P':
			rc = num_parse_str(optarg, 1, 10000, &v);
			o->pipeline = (unsigned)v;
			break;
		case 'n':
			rc = num_parse_str(optarg, 0, INT64_MAX, &v);
			o->requests = (unsigned long long)v;
			break;
		case 'd': rc = num_parse_real(optarg, 0, 86400 * 365, &o->seconds); break;
		case 's':
			rc = num_parse_str(optarg, 1, 64 << 20, &v);
			o->size = (size_t)v;
			break;
		case OPT_WORKLOAD:
			for (i = 0; i < (int)(sizeof(workloads) / sizeof(workloads[0])); i++)
				if (strcmp(optarg, workloads[i].name) == 0)
					o->workload = &workloads[i];
			if (strcmp(optarg, o->workload->name) != 0) {
				fprintf(stderr, "tcpd-cli bench: unknown workload '%s'\n", optarg);
				return -1;
			}
			break;
		case OPT_CSV: o->csv = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_RESET: o->reset = true; break;
		case OPT_FAULTS:
			o->expect_faults = true;
			if (optarg != NULL) {
				rc = num_parse_str(optarg, 0, 86400000, &v);
				o->late_ms = (unsigned)v;
			}
			break;
		case OPT_HELP: bench_usage(stdout); exit(0);
		default: bench_usage(stderr); return -1;
		}
		if (rc == -1) {
			if (ch == OPT_FAULTS)
				fprintf(stderr, "tcpd-cli bench: invalid --expect-faults '%s': "
				    "need 0-86400000 ms\n", optarg);
			else
				fprintf(stderr, "tcpd-cli bench: invalid -%c '%s': need -c "
				    "1-100000, -P 1-10000, -n >= 0, -d 0-31536000 seconds, "
				    "-s 1-67108864\n", ch, optarg);
			return -1;
		}
	}
	if (o->resp3 && o->workload->pace != P_KEEP) {
		fprintf(stderr, "tcpd-cli bench: -3 is for the workloads that keep their "
		    "connections (ping, echo)\n");
		return -1;
	}
	if (o->requests == 0 && o->seconds == 0)
		o->requests = 100000;
	if (o->workload->pace != P_KEEP)
		o->pipeline = 1;
	if (o->workload->pace == P_IDLE) {
		o->requests = o->conns;
		if (o->seconds <= 0)
			o->seconds = 10;
	}
	return 0;
}

static void
bench_free(struct bench *b)
{
	unsigned i;

	for (i = 0; b->conns != NULL && i < b->o.conns; i++) {
		conn_close(&b->conns[i]);
		free(b->conns[i].sent_at);
	}
	if (b->loop != NULL)
		loop_free(b->loop);
	free(b->conns);
	free(b->reqs);
	free(b->expect);
	free(b);
}

/* Everything a run needs, allocated before the first connection starts. */
static int
bench_alloc(struct bench *b)
{
	unsigned i;

	if (build_workload(b) == -1 || (b->loop = loop_new()) == NULL ||
	    (b->conns = calloc(b->o.conns, sizeof(*b->conns))) == NULL)
		return -1;
	for (i = 0; i < b->o.conns; i++) {
		b->conns[i] = (struct bconn){ .b = b, .fd = -1 };
		if ((b->conns[i].sent_at = calloc(b->o.pipeline, sizeof(uint64_t))) == NULL)
			return -1;
	}
	return 0;
}

int
bench_main(int argc, char *argv[])
{
	struct bench *b = calloc(1, sizeof(*b));
	char err[256];
	unsigned i;
	int fd, rc;

	if (b == NULL)
		return 1;
	b->o = (struct bench_opts){ .host = "127.0.0.1", .port = "7070", .conns = 50,
	    .pipeline = 1, .workload = &workloads[0], .size = 64,
	    .connect_timeout_ms = 5000, .late_ms = 100 };
	if (parse_opts(&b->o, argc, argv) == -1) {
		rc = 3;
		goto out;
	}
	/*
	 * Resolve and check once, then every connection goes to that address;
	 * a listener with faults may reset the check too: try it a few times.
	 */
	for (i = 0; (fd = net_dial(b->o.host, b->o.port, b->o.connect_timeout_ms, &b->addr,
	    err, sizeof(err))) == -1 && b->o.expect_faults && errno == ECONNRESET && i < 9; i++)
		;
	if (fd == -1) {
		fprintf(stderr, "tcpd-cli bench: %s\n", err);
		rc = 2;
		goto out;
	}
	close(fd);
	rc = 1;
	if (net_raise_fd_limit(b->o.conns + 16u) < b->o.conns + 16u) {
		fprintf(stderr, "tcpd-cli bench: %u connections need more open files than "
		    "the limit (ulimit -n) allows\n", b->o.conns);
		goto out;
	}
	if (bench_alloc(b) == -1) {
		fprintf(stderr, "tcpd-cli bench: out of memory\n");
		goto out;
	}
	b->tty = isatty(STDERR_FILENO);
	/* A run that ends before it measures reports the time it took. */
	b->start_ns = now_ns();
	b->start_cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	loop_timer_init(&b->warmup, on_warmup_over, b);
	if (b->o.workload->pace != P_KEEP ||
	    loop_timer_start(b->loop, &b->warmup, (uint64_t)b->o.connect_timeout_ms) == -1)
		start_measuring(b);
	for (i = 0; i < b->o.conns; i++)
		conn_start(&b->conns[i]);
	if (b->tty) {
		loop_timer_init(&b->progress, on_progress, b);
		loop_timer_start(b->loop, &b->progress, 500);
	}
	if (b->end_ns == 0 && loop_run(b->loop) == -1)
		fprintf(stderr, "tcpd-cli bench: event loop: %s\n", strerror(errno));
	stop_clock(b);
	if (b->tty)
		fprintf(stderr, "\r%60s\r", "");
	report(b);
	rc = b->errors == 0 && b->mismatches == 0 && b->completed > 0 ? 0 : 1;
out:
	bench_free(b);
	return rc;
}
