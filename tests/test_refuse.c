/* SPDX-License-Identifier: MIT */
/*
 * The connection-setup faults of any listener, refuse and blackhole, set at
 * start or by a reload (with and without workers): what a client's
 * connect() gets, connections already open going on, the port kept, and
 * INFO, /metrics and the log saying so.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(refuse, .fini = tcpd_teardown, .timeout = 60);

/* The listener under test (x, an echo) and a metrics listener (m). */
static uint16_t port[2];
static char text[8192], out[1 << 16];

/* The [tcpd] extras: workers when asked, x with its keys, m. */
static const char *
extra(unsigned workers, const char *keys)
{
	static char e[1024];

	snprintf(e, sizeof(e), "%s[listener.x]\nbind = 127.0.0.1:%u\nservice = echo\n%s\n"
	    "[listener.m]\nbind = 127.0.0.1:%u\nservice = metrics\n",
	    workers > 1 ? "workers = 2\n" : "", port[0], keys, port[1]);
	return e;
}

static void
start(unsigned workers, const char *keys)
{
	free_ports(port, 2);
	tcpd_start(extra(workers, keys));
}

/* With workers, done when the supervisor says all have it, not at the first one's word. */
static void
reload(unsigned workers, const char *keys)
{
	int done = tcpd_log_count("reloaded in all"), i;

	tcpd_config_text(text, sizeof(text), extra(workers, keys), NULL);
	cr_assert_eq(tcpd_reload(text), 0, "%s", tcpd_log_text());
	for (i = 0; workers > 1 && i < 500 && tcpd_log_count("reloaded in all") == done; i++)
		usleep(10 * 1000);
	cr_assert_lt(i, 500, "%s", tcpd_log_text());
}

/*
 * A non-blocking connect to 127.0.0.1:p, waited for up to ms: 0 when it
 * connected, else its errno (ETIMEDOUT: no answer in time). The socket in
 * *fd (closed by the caller), or closed when fd is NULL.
 */
static int
connect_within(uint16_t p, int ms, int *fd)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(p),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), err = 0;
	struct pollfd pfd = { .fd = s, .events = POLLOUT };
	socklen_t len = sizeof(err);

	cr_assert_neq(s, -1);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		cr_assert_eq(errno, EINPROGRESS, "connect: %s", strerror(errno));
		if (poll(&pfd, 1, ms) == 0)
			err = ETIMEDOUT;
		else
			getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
	}
	if (fd != NULL && err == 0) {
		struct timeval tv = { .tv_sec = 10 };

		/* Blocking from here, as the harness's helpers expect. */
		cr_assert_eq(fcntl(s, F_SETFL, 0), 0);
		setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (fd != NULL)
		*fd = s;
	else
		close(s);
	return err;
}

static void
assert_echo_at(int fd, int line)
{
	char in[8];
	size_t n;

	send_all(fd, "still\n", 6);
	n = recv_all(fd, in, 6);
	if (n != 6)
		fprintf(stderr, "line %d: %zu bytes\n%s", line, n, tcpd_log_text());
	cr_assert_eq(n, 6);
	assert_bytes(in, 6, "still\n", 6);
}

#define assert_echo(fd) assert_echo_at(fd, __LINE__)

static const char *
metrics(void)
{
	return exchange_to_eof(port[1], "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    out, sizeof(out));
}

static void
assert_counts(unsigned refusing, unsigned blackholed)
{
	char line[2][64];

	snprintf(line[0], sizeof(line[0]), "listeners_refusing:%u\r\n", refusing);
	snprintf(line[1], sizeof(line[1]), "listeners_blackholed:%u\r\n", blackholed);
	cr_assert_not_null(strstr(tcpd_info(), line[0]), "%s", tcpd_info());
	cr_assert_not_null(strstr(tcpd_info(), line[1]), "%s", tcpd_info());
	snprintf(line[0], sizeof(line[0]), "\ntcpd_listeners_refusing %u\n", refusing);
	snprintf(line[1], sizeof(line[1]), "\ntcpd_listeners_blackholed %u\n", blackholed);
	cr_assert_not_null(strstr(metrics(), line[0]), "%s", out);
	cr_assert_not_null(strstr(out, line[1]), "%s", out);
}

/* The port stays tcpd's while it refuses: a bind there fails. */
static void
assert_port_held(uint16_t p)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(p),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_eq(bind(s, (struct sockaddr *)&sin, sizeof(sin)), -1);
	cr_assert_eq(errno, EADDRINUSE, "%s", strerror(errno));
	close(s);
}

/* refuse = on from the start: ECONNREFUSED at once, as if nothing listened there. */
Test(refuse, at_start_a_connect_is_refused_at_once)
{
	double t0;
	int fd;

	start(1, "refuse = on");
	/* The harness saw the command port up: the listeners after it may be a moment behind. */
	cr_assert_eq(tcpd_log_await("refusing connections (refuse = on)", 1), 1, "%s",
	    tcpd_log_text());
	t0 = now_ms();
	cr_assert_eq(connect_within(port[0], 2000, NULL), ECONNREFUSED);
	cr_assert_lt(now_ms() - t0, 100, "refused after %.0f ms", now_ms() - t0);
	assert_counts(1, 0);
	assert_port_held(port[0]);
	reload(1, "");
	cr_assert_eq(connect_within(port[0], 2000, &fd), 0);
	assert_echo(fd);
	close(fd);
	assert_counts(0, 0);
	cr_assert_eq(tcpd_log_count("accepting connections again"), 1, "%s", tcpd_log_text());
}

/* By a reload and back: the connection already open goes on throughout. */
static void
refuse_by_reload(unsigned workers)
{
	int open_fd, fd;
	double cpu0, cpu;

	start(workers, "");
	open_fd = tcp_connect(port[0]);
	assert_echo(open_fd);
	reload(workers, "refuse = yes");
	cpu0 = tcpd_cpu_seconds();
	cr_assert_eq(connect_within(port[0], 2000, NULL), ECONNREFUSED);
	assert_echo(open_fd);
	assert_counts(1, 0);
	/* Not listening, the socket is readable for good (EPOLLHUP): out of the loop, no spin. */
	usleep(300 * 1000);
	cpu = tcpd_cpu_seconds() - cpu0;
	cr_assert_lt(cpu, 0.1, "%.2f s of CPU in 0.3 s while refusing", cpu);
	reload(workers, "refuse = off");
	cr_assert_eq(connect_within(port[0], 2000, &fd), 0);
	/* Accepted before a byte arrives: served from its first read, not taken for an EOF. */
	usleep(100 * 1000);
	assert_echo(fd);
	assert_echo(open_fd);
	close(fd);
	close(open_fd);
	assert_counts(0, 0);
}

Test(refuse, by_reload_and_back)
{
	refuse_by_reload(1);
}

Test(refuse, by_reload_and_back_with_workers)
{
	refuse_by_reload(2);
}

/*
 * A worker started while its listener refuses gets the supervisor's socket
 * not listening: it takes it over as it is (not closed, no socket of its
 * own bound in its place) and listens on it when refuse is turned off.
 */
Test(refuse, a_worker_restarted_while_refusing_takes_the_socket_over)
{
	const char *log, *at;
	int pid, fd, i;

	start(2, "");
	reload(2, "refuse = on");
	log = tcpd_log_text();
	cr_assert_not_null(at = strstr(log, "worker 0 started (pid "), "%s", log);
	cr_assert_eq(sscanf(at + strlen("worker 0 started (pid "), "%d", &pid), 1);
	free((void *)log);
	cr_assert_eq(kill(pid, SIGKILL), 0);
	for (i = 0; i < 500 && tcpd_log_count("worker 0: tcpd ") < 2; i++)
		usleep(10 * 1000);
	cr_assert_eq(tcpd_log_count("worker 0: tcpd "), 2, "%s", tcpd_log_text());
	cr_assert_eq(tcpd_log_count("closing it"), 0, "%s", tcpd_log_text());
	cr_assert_eq(connect_within(port[0], 2000, NULL), ECONNREFUSED);
	reload(2, "refuse = off");
	/* Accepted by either worker: on the one shared socket, both listening again. */
	for (i = 0; i < 8; i++) {
		cr_assert_eq(connect_within(port[0], 2000, &fd), 0);
		assert_echo(fd);
		close(fd);
	}
	assert_counts(0, 0);
}

/*
 * blackhole: nothing accepted, the queue cut to the least. Linux still
 * completes one handshake on a full-to-zero backlog (listen(fd, 0) queues
 * one connection), so the test fills that slot first; every connect after
 * it gets no SYN-ACK and times out. Back open, the queued one is served.
 */
#define QUEUED_ONE "\ntcpd_listen_queue_length{listener=\"x\"} 1\n"

static void
blackhole_by_reload(unsigned workers)
{
	int open_fd, queued, fd, err, i;

	start(workers, "");
	open_fd = tcp_connect(port[0]);
	assert_echo(open_fd);
	reload(workers, "blackhole = on");
	err = connect_within(port[0], 1000, &queued);
	cr_assert_eq(err, 0, "the queue's one slot: %s", strerror(err));
	/*
	 * Queued once the server side had the client's ACK: on loopback that
	 * may be a moment after connect() returned, and a SYN meanwhile would
	 * still find the queue open.
	 */
	for (i = 0; i < 100 && strstr(metrics(), QUEUED_ONE) == NULL; i++)
		usleep(10 * 1000);
	cr_assert_not_null(strstr(out, QUEUED_ONE), "%s", out);
	err = connect_within(port[0], 500, NULL);
	cr_assert_eq(err, ETIMEDOUT, "a connect past the queue: %s", strerror(err));
	assert_echo(open_fd);
	assert_counts(0, 1);
	reload(workers, "blackhole = off");
	assert_echo(queued);
	cr_assert_eq(connect_within(port[0], 2000, &fd), 0);
	assert_echo(fd);
	close(fd);
	close(queued);
	close(open_fd);
	assert_counts(0, 0);
}

Test(refuse, blackhole_by_reload_and_back)
{
	blackhole_by_reload(1);
}

Test(refuse, blackhole_by_reload_and_back_with_workers)
{
	blackhole_by_reload(2);
}

/* refuse wins over blackhole; from blackhole to refuse the queued connection is reset. */
Test(refuse, from_blackhole_to_refuse)
{
	char c;
	int queued;

	start(1, "blackhole = on");
	cr_assert_eq(tcpd_log_await("black-holing connections (blackhole = on)", 1), 1, "%s",
	    tcpd_log_text());
	cr_assert_eq(connect_within(port[0], 1000, &queued), 0);
	reload(1, "blackhole = on\nrefuse = on");
	cr_assert_eq(connect_within(port[0], 2000, NULL), ECONNREFUSED);
	cr_assert_eq(recv(queued, &c, 1, 0), -1);
	cr_assert_eq(errno, ECONNRESET, "%s", strerror(errno));
	close(queued);
	assert_counts(1, 0);
}

/*
 * A port the kernel chose (bind = 127.0.0.1:0) is given back when the socket
 * stops listening: tcpd binds it again, so refuse keeps it and refuse = off
 * listens there again.
 */
Test(refuse, keeps_a_port_the_kernel_chose)
{
	const char *log, *at;
	unsigned p;
	int fd;

	start(1, "[listener.z]\nbind = 127.0.0.1:0\nservice = echo");
	log = tcpd_log_text();
	cr_assert_not_null(at = strstr(log, "listener z: serving echo on 127.0.0.1:"), "%s", log);
	cr_assert_eq(sscanf(at + strlen("listener z: serving echo on 127.0.0.1:"), "%u", &p), 1);
	free((void *)log);
	reload(1, "[listener.z]\nbind = 127.0.0.1:0\nservice = echo\nrefuse = on");
	cr_assert_eq(connect_within((uint16_t)p, 2000, NULL), ECONNREFUSED);
	assert_port_held((uint16_t)p);
	reload(1, "[listener.z]\nbind = 127.0.0.1:0\nservice = echo\nrefuse = off");
	cr_assert_eq(connect_within((uint16_t)p, 2000, &fd), 0);
	assert_echo(fd);
	close(fd);
}
