/* SPDX-License-Identifier: MIT */
/*
 * service = proxy: tcpd in front of its own echo listener, a real
 * redis-server, or a server the test plays itself: the bytes byte for byte
 * both ways, half-close, resets passed on, a failed connect as an RST,
 * backpressure each way, and the listener's faults on either direction.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(proxy_service, .fini = tcpd_teardown, .timeout = 60);

static char out[1 << 16];

/* The proxy's port: tcpd started with [listener.p] in front of upstream, keys added. */
static uint16_t
start_proxy(const char *upstream, const char *keys)
{
	char extra[1024];
	uint16_t port;

	free_ports(&port, 1);
	snprintf(extra, sizeof(extra), "[listener.p]\nbind = 127.0.0.1:%u\nservice = proxy\n"
	    "upstream = %s\n%s", port, upstream, keys != NULL ? keys : "");
	tcpd_start(extra);
	return port;
}

/* tcpd with an echo listener of its own (port *echo) and a proxy in front of it. */
static uint16_t
start_echo_proxy(const char *keys, uint16_t *echo)
{
	char extra[1024];
	uint16_t ports[2];

	free_ports(ports, 2);
	snprintf(extra, sizeof(extra), "[listener.e]\nbind = 127.0.0.1:%u\nservice = echo\n"
	    "[listener.p]\nbind = 127.0.0.1:%u\nservice = proxy\nupstream = 127.0.0.1:%u\n%s",
	    ports[0], ports[1], ports[0], keys != NULL ? keys : "");
	tcpd_start(extra);
	if (echo != NULL)
		*echo = ports[0];
	return ports[1];
}

Test(proxy_service, echo_through_it_byte_for_byte)
{
	int fd = tcp_connect(start_echo_proxy(NULL, NULL));
	char in[64];

	send_all(fd, "hello, proxy\r\n", 14);
	recv_exact(fd, in, 14);
	assert_bytes(in, 14, "hello, proxy\r\n", 14);
	close(fd);
	cr_assert_not_null(strstr(tcpd_info(), "upstream_connects:1\r\n"), "%s", tcpd_info());
}

/*
 * 1 MiB up and 1 MiB back on one connection, the client's FIN after the last
 * byte: the echo still comes back whole, then the EOF the upstream sent.
 */
Test(proxy_service, a_mebibyte_each_way_then_half_close)
{
	size_t n = 1 << 20, got;
	char *data = random_bytes(n), *back = malloc(n + 1);
	int fd = tcp_connect(start_echo_proxy(NULL, NULL));
	const char *info;

	got = pump(fd, data, n, true, back, n + 1);
	cr_assert_eq(got, n, "got %zu of %zu bytes back", got, n);
	cr_assert(memcmp(data, back, n) == 0, "the bytes came back changed");
	close(fd);
	info = tcpd_info();
	cr_assert_not_null(strstr(info, "total_upstream_output_bytes:1048576\r\n"), "%s", info);
	cr_assert_not_null(strstr(info, "total_upstream_input_bytes:1048576\r\n"), "%s", info);
	free(data);
	free(back);
}

/* Bulk, which the proxy splices when no fault is on it, keeps to a delay, burst after burst. */
Test(proxy_service, delay_holds_each_burst_of_bulk)
{
	size_t n = 64 * 1024;
	char *data = random_bytes(n), *back = malloc(n);
	int fd = tcp_connect(start_echo_proxy("delay = 200ms\n", NULL)), i;
	double t0, took;

	for (i = 0; i < 2; i++) {
		t0 = now_ms();
		send_all(fd, data, n);
		recv_exact(fd, back, n);
		took = now_ms() - t0;
		cr_assert(memcmp(data, back, n) == 0, "burst %d came back changed", i);
		cr_assert(took >= 199 && took < 2000, "burst %d came back after %.0f ms", i, took);
	}
	close(fd);
	free(data);
	free(back);
}

/* The client's FIN reaches the server as EOF; the server's answer after it still arrives. */
Test(proxy_service, half_close_reaches_the_server)
{
	uint16_t up;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	char upstream[32], in[16];

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	fd = tcp_connect(start_proxy(upstream, NULL));
	sfd = accept_peer(lfd);
	send_all(fd, "ping", 4);
	shutdown(fd, SHUT_WR);
	recv_exact(sfd, in, 4);
	cr_assert(recv_eof(sfd), "the client's FIN did not reach the server");
	send_all(sfd, "pong after EOF", 14);
	close(sfd);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 14);
	assert_bytes(in, 14, "pong after EOF", 14);
	close(fd);
	close(lfd);
}

/*
 * The same with an answer larger than the buffers on the way, the client
 * late to read it: queued in tcpd after the client's FIN, it still arrives
 * whole before the EOF.
 */
Test(proxy_service, half_close_then_a_long_answer)
{
	size_t n = 32 << 20, got;
	char *data = random_bytes(n), *back = malloc(n + 1), upstream[32], in[4];
	uint16_t up;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	ssize_t w;
	pid_t pid;

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	fd = tcp_connect(start_proxy(upstream, NULL));
	sfd = accept_peer(lfd);
	send_all(fd, "get", 3);
	shutdown(fd, SHUT_WR);
	recv_exact(sfd, in, 3);
	cr_assert(recv_eof(sfd), "the client's FIN did not reach the server");
	if ((pid = test_fork(SIGKILL)) == 0) {
		/* No assertion here: a failure is the parent's to report. */
		for (got = 0; got < n; got += (size_t)w)
			if ((w = send(sfd, data + got, n - got, MSG_NOSIGNAL)) <= 0)
				_exit(1);
		close(sfd);
		_exit(0);
	}
	close(sfd);
	usleep(200 * 1000);	/* the answer backs up in tcpd meanwhile */
	got = recv_all(fd, back, n + 1);
	cr_assert_eq(got, n, "got %zu of %zu bytes", got, n);
	cr_assert(memcmp(data, back, n) == 0, "the answer came changed");
	waitpid(pid, NULL, 0);
	close(fd);
	close(lfd);
	free(data);
	free(back);
}

Test(proxy_service, an_upstream_reset_resets_the_client)
{
	uint16_t up;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	char upstream[32], in[4];

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	fd = tcp_connect(start_proxy(upstream, NULL));
	sfd = accept_peer(lfd);
	send_all(fd, "x", 1);
	recv_exact(sfd, in, 1);
	rst_close(sfd);
	assert_reset(fd);
	close(fd);
	cr_assert_gt(tcpd_log_count("reset by upstream"), 0);
	close(lfd);
}

Test(proxy_service, a_client_reset_resets_the_upstream)
{
	uint16_t up;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	char upstream[32], in[4];

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	fd = tcp_connect(start_proxy(upstream, NULL));
	sfd = accept_peer(lfd);
	send_all(fd, "x", 1);
	recv_exact(sfd, in, 1);
	rst_close(fd);
	assert_reset(sfd);
	close(sfd);
	close(lfd);
}

/* Nothing listens upstream: the client gets an RST at once, the log and INFO say why. */
Test(proxy_service, a_refused_upstream_is_an_rst)
{
	uint16_t ports[2];
	char upstream[32], why[96], keys[128];
	double t0;
	int fd;

	free_ports(ports, 2);
	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", ports[0]);
	/* A metrics listener beside it, for /metrics. */
	snprintf(keys, sizeof(keys), "[listener.m]\nbind = 127.0.0.1:%u\nservice = metrics\n",
	    ports[1]);
	fd = tcp_connect(start_proxy(upstream, keys));
	t0 = now_ms();
	assert_reset(fd);
	cr_assert_lt(now_ms() - t0, 1000, "the RST took %.0f ms", now_ms() - t0);
	close(fd);
	snprintf(why, sizeof(why), "upstream 127.0.0.1:%u: Connection refused", ports[0]);
	cr_assert_gt(tcpd_log_count(why), 0, "%s", tcpd_log_text());
	cr_assert_not_null(strstr(tcpd_info(), "upstream_connect_failures_refused:1\r\n"),
	    "%s", tcpd_info());
	exchange_to_eof(ports[1], "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    out, sizeof(out));
	cr_assert_not_null(strstr(out, "\ntcpd_upstream_connect_failures_total{reason=\"refused\"} 1\n"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "\ntcpd_upstream_connects_total 0\n"), "%s", out);
}

/* An upstream whose accept queue is full drops the SYN: connect_timeout ends the wait. */
Test(proxy_service, a_silent_upstream_times_out)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0), fill[4], fd, i;
	char upstream[32];
	double t0, took;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(lfd, 0), 0);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	/* Never accepted: the queue fills, and later SYNs go unanswered. */
	for (i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100 * 1000);
	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", ntohs(sin.sin_port));
	fd = tcp_connect(start_proxy(upstream, "connect_timeout = 300ms\n"));
	t0 = now_ms();
	assert_reset(fd);
	took = now_ms() - t0;
	cr_assert(took > 200 && took < 2000, "the RST came after %.0f ms", took);
	cr_assert_gt(tcpd_log_count("no connection within 300 ms"), 0, "%s", tcpd_log_text());
	cr_assert_not_null(strstr(tcpd_info(), "upstream_connect_failures_timeout:1\r\n"),
	    "%s", tcpd_info());
	close(fd);
	for (i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
}

/* A request sent on fd and its reply: how long the round trip took (ms). */
static double
round_trip(int fd, const char *req, const char *reply)
{
	size_t n = strlen(reply);
	double t0 = now_ms();
	char in[256];

	send_all(fd, req, strlen(req));
	recv_exact(fd, in, n);
	assert_bytes(in, n, reply, n);
	return now_ms() - t0;
}

/* redis-server behind the proxy: the same bytes as straight from it. */
Test(proxy_service, redis_server_behind_it_byte_for_byte)
{
	static const char req[] = "SET k \"hello world\"\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
	    "GET missing\r\nINCR n\r\nRPUSH l a b c\r\nLRANGE l 0 -1\r\nBADCMD\r\nQUIT\r\n";
	char direct[4096], upstream[32], p[8];
	const char *const cli[] = { getenv("TCPD_CLI_BIN"), "-p", p, "--no-raw", "lrange", "l",
	    "0", "-1", NULL };
	uint16_t rp, port;

	free_ports(&rp, 1);
	if (redis_server_start(rp, NULL) == 0)
		cr_skip_test("redis-server is not installed");
	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", rp);
	port = start_proxy(upstream, NULL);
	exchange_to_eof(port, req, out, sizeof(out));
	/* The same again, straight to redis-server (INCR and RPUSH move on by one). */
	exchange_to_eof(rp, "DEL n l\r\nQUIT\r\n", direct, sizeof(direct));
	exchange_to_eof(rp, req, direct, sizeof(direct));
	cr_assert_str_eq(out, direct);
	cr_assert_not_null(strstr(out, "$11\r\nhello world\r\n"), "%s", out);
	snprintf(p, sizeof(p), "%u", port);
	cr_assert_eq(run_capture(cli, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "1) \"a\"\n2) \"b\"\n3) \"c\"\n");
}

/* delay = 100ms on a proxy listener holds each of redis-server's replies. */
Test(proxy_service, delay_holds_each_reply_from_redis)
{
	char upstream[32];
	uint16_t rp;
	double rtt;
	int fd, i;

	free_ports(&rp, 1);
	if (redis_server_start(rp, NULL) == 0)
		cr_skip_test("redis-server is not installed");
	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", rp);
	fd = tcp_connect(start_proxy(upstream, "delay = 100ms\n"));
	for (i = 0; i < 3; i++) {
		rtt = round_trip(fd, "PING\r\n", "+PONG\r\n");
		cr_assert_geq(rtt, 99, "PING %d answered in %.1f ms", i, rtt);
		cr_assert_lt(rtt, 1000, "PING %d answered in %.1f ms", i, rtt);
	}
	close(fd);
	fd = tcp_connect(rp);
	cr_assert_lt(round_trip(fd, "PING\r\n", "+PONG\r\n"), 50, "redis-server itself is slow");
	close(fd);
}

/* upstream_delay = 100ms holds the client's bytes on their way to the server. */
Test(proxy_service, upstream_delay_holds_bytes_toward_the_server)
{
	uint16_t up;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	char upstream[32], in[4];
	double t0, took;

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	fd = tcp_connect(start_proxy(upstream, "upstream_delay = 100ms\n"));
	sfd = accept_peer(lfd);
	t0 = now_ms();
	send_all(fd, "abcd", 4);
	recv_exact(sfd, in, 4);
	took = now_ms() - t0;
	cr_assert(took >= 99 && took < 1000, "the bytes reached the server after %.1f ms", took);
	/* The other direction is not held. */
	t0 = now_ms();
	send_all(sfd, "back", 4);
	recv_exact(fd, in, 4);
	cr_assert_lt(now_ms() - t0, 50);
	close(fd);
	close(sfd);
	close(lfd);
}

/*
 * upstream_connect_delay: the client is accepted and sends at once, the
 * server sees the connect (and the bytes) only after the delay; a reload
 * to 0 makes the next client's connect immediate.
 */
Test(proxy_service, a_connect_delay_holds_the_upstream_connect)
{
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	char keys[160], text[2048], in[4];
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	double t0, took;

	free_ports(&port, 1);
	snprintf(keys, sizeof(keys), "[listener.p]\nbind = 127.0.0.1:%u\nservice = proxy\n"
	    "upstream = 127.0.0.1:%u\nupstream_connect_delay = 300ms\n", port, up);
	tcpd_start(keys);
	t0 = now_ms();
	fd = tcp_connect(port);
	send_all(fd, "abcd", 4);
	cr_assert_eq(poll(&p, 1, 200), 0, "the proxy connected before its delay");
	sfd = accept_peer(lfd);
	took = now_ms() - t0;
	recv_exact(sfd, in, 4);
	cr_assert_arr_eq(in, "abcd", 4);
	cr_assert(took >= 299 && took < 1000, "the server saw the connect after %.1f ms", took);
	send_all(sfd, "back", 4);
	recv_exact(fd, in, 4);
	cr_assert_arr_eq(in, "back", 4);
	close(fd);
	close(sfd);
	*strstr(keys, "upstream_connect_delay") = '\0';
	tcpd_config_text(text, sizeof(text), keys, NULL);
	cr_assert_eq(tcpd_reload(text), 0);
	t0 = now_ms();
	fd = tcp_connect(port);
	sfd = accept_peer(lfd);
	took = now_ms() - t0;
	cr_assert_lt(took, 150, "after the reload the connect still waited %.1f ms", took);
	close(fd);
	close(sfd);
	close(lfd);
}

/*
 * SIGTERM while the connect waits out its delay: the connect, the request
 * and its reply still happen, then both sides get a FIN.
 */
Test(proxy_service, a_stop_during_the_connect_delay_still_serves_the_request)
{
	uint16_t up;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	char upstream[32], in[4], c;

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	fd = tcp_connect(start_proxy(upstream, "upstream_connect_delay = 300ms\n"));
	send_all(fd, "GET\n", 4);
	usleep(50000);
	kill(tcpd.pid, SIGTERM);
	sfd = accept_peer(lfd);
	recv_exact(sfd, in, 4);
	cr_assert_arr_eq(in, "GET\n", 4);
	send_all(sfd, "OK\r\n", 4);
	recv_exact(fd, in, 4);
	cr_assert_arr_eq(in, "OK\r\n", 4);
	cr_assert(recv_eof(fd), "no FIN after the reply");
	close(fd);
	cr_assert_eq(recv(sfd, &c, 1, 0), 0, "the server got no FIN: %s", strerror(errno));
	cr_assert_eq(tcpd_await_exit(), 0);
	close(sfd);
	close(lfd);
}

/*
 * Sends without blocking for ms milliseconds or until all n bytes are out;
 * returns the bytes sent. (A peer that reads nothing still takes a trickle:
 * the kernel reopens a full window a little at a time.)
 */
static size_t
send_for(int fd, const char *p, size_t n, double ms)
{
	double end = now_ms() + ms;
	size_t sent = 0;
	ssize_t w;

	while (sent < n && now_ms() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		w = send(fd, p + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w == -1 && errno == EAGAIN) {
			poll(&pfd, 1, 50);
			continue;
		}
		cr_assert_gt(w, 0, "send: %s", strerror(errno));
		sent += (size_t)w;
	}
	return sent;
}

/* tcpd's, as these tests run it: its queue toward a peer (output_limit's default), one read. */
#define OUTPUT_LIMIT	(1u << 20)
#define READ_CHUNK	(64u << 10)
/* What a socket may hold past its size: the kernel lets one segment of up to 64 KiB over. */
#define SEGMENT_MAX	(64u << 10)

static uint16_t
port_of(int fd, bool peer)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	cr_assert_eq(peer ? getpeername(fd, (struct sockaddr *)&a, &len) :
	    getsockname(fd, (struct sockaddr *)&a, &len), 0, "%s", strerror(errno));
	return ntohs(a.sin_port);
}

static size_t
sockopt_size(int fd, int opt)
{
	socklen_t len = sizeof(int);
	int size;

	cr_assert_eq(getsockopt(fd, SOL_SOCKET, opt, &size, &len), 0, "%s", strerror(errno));
	return (size_t)size + SEGMENT_MAX;
}

/*
 * What the way from the test's socket from, through tcpd, to the test's
 * socket to (-1 while tcpd has not connected it) can hold when nobody
 * reads at its end: from's send buffer, the receive buffer of tcpd's end
 * of from's connection, tcpd's queue (output_limit, a read past it at
 * most), the send buffer of tcpd's end of to's connection and to's receive
 * buffer. Each is taken as it is now: the kernel grows a buffer as a flow
 * goes, up to tcp_rmem's and tcp_wmem's maxima, so a bound fixed in advance
 * fails on a host (or a load) on which they grow further.
 */
static size_t
way_capacity(int from, int to)
{
	int rcv, snd;
	size_t total = sockopt_size(from, SO_SNDBUF) + OUTPUT_LIMIT + READ_CHUNK;

	tcp_buffers(port_of(from, true), port_of(from, false), &rcv, &snd);
	total += (size_t)rcv + SEGMENT_MAX;
	if (to == -1)
		return total;
	tcp_buffers(port_of(to, true), port_of(to, false), &rcv, &snd);
	return total + (size_t)snd + SEGMENT_MAX + sockopt_size(to, SO_RCVBUF);
}

/*
 * A client that never reads while the server floods: tcpd stops reading the
 * server (its send blocks), holds at most about output_limit, spins no CPU.
 */
Test(proxy_service, a_client_that_never_reads_stops_the_upstream)
{
	size_t n = 64 << 20, sent, cap;
	char *data = calloc(1, n), upstream[32];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	long rss0;
	double cpu0, cpu;

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	port = start_proxy(upstream, NULL);
	rss0 = tcpd_rss_kib();
	fd = tcp_connect_small_window(port);
	sfd = accept_peer(lfd);
	cpu0 = tcpd_cpu_seconds();
	sent = send_for(sfd, data, n, 1500);
	cap = way_capacity(sfd, fd);
	cr_assert(sent < n && sent <= cap, "the server wrote %zu bytes to a client that reads "
	    "none; the buffers on the way hold %zu", sent, cap);
	cr_log_info("%zu bytes sent; the buffers on the way hold %zu", sent, cap);
	cpu = tcpd_cpu_seconds() - cpu0;
	cr_assert_lt(cpu, 0.5, "%.2f s of CPU in 1.5 s for one stuck pair", cpu);
	assert_rss_growth_below(rss0, 4 * 1024);
	/* Once the client reads, everything flows. */
	close(sfd);
	cr_assert_eq(recv_all(fd, data, n), sent);
	close(fd);
	close(lfd);
	free(data);
}

/*
 * A client flooding during a long connect delay: tcpd queues about
 * output_limit of it and stops reading; once connected, the server gets
 * every byte.
 */
Test(proxy_service, a_connect_delay_queues_a_bounded_amount)
{
	size_t n = 64 << 20, sent, cap;
	char *data = calloc(1, n), upstream[32];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	long rss0;

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	port = start_proxy(upstream, "upstream_connect_delay = 1500ms\n");
	rss0 = tcpd_rss_kib();
	fd = tcp_connect(port);
	sent = send_for(fd, data, n, 1000);
	cap = way_capacity(fd, -1);
	cr_assert(sent < n && sent <= cap, "the client queued %zu bytes before the connect; "
	    "the buffers on the way hold %zu", sent, cap);
	assert_rss_growth_below(rss0, 4 * 1024);
	shutdown(fd, SHUT_WR);
	sfd = accept_peer(lfd);
	cr_assert_eq(recv_all(sfd, data, n), sent);
	close(fd);
	close(sfd);
	close(lfd);
	free(data);
}

/* A server that never reads while the client floods: tcpd stops reading the client. */
Test(proxy_service, an_upstream_that_never_reads_stops_the_client)
{
	size_t n = 64 << 20, sent, cap;
	char *data = calloc(1, n), upstream[32];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	long rss0;
	double cpu0, cpu;

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	port = start_proxy(upstream, NULL);
	rss0 = tcpd_rss_kib();
	fd = tcp_connect(port);
	sfd = accept_peer(lfd);
	cpu0 = tcpd_cpu_seconds();
	sent = send_for(fd, data, n, 1500);
	cap = way_capacity(fd, sfd);
	cr_assert(sent < n && sent <= cap, "the client wrote %zu bytes to a server that reads "
	    "none; the buffers on the way hold %zu", sent, cap);
	cr_log_info("%zu bytes sent; the buffers on the way hold %zu", sent, cap);
	cpu = tcpd_cpu_seconds() - cpu0;
	cr_assert_lt(cpu, 0.5, "%.2f s of CPU in 1.5 s for one stuck pair", cpu);
	assert_rss_growth_below(rss0, 4 * 1024);
	shutdown(fd, SHUT_WR);
	cr_assert_eq(recv_all(sfd, data, n), sent);
	close(fd);
	close(sfd);
	close(lfd);
	free(data);
}

/*
 * SIGTERM while a proxied request waits for its reply: the reply, due 300 ms
 * after the request, still comes whole; then the client and the server each
 * get a FIN, and tcpd exits 0.
 */
Test(proxy_service, a_stop_waits_for_the_servers_reply)
{
	size_t n = 256 << 10;
	char *reply = random_bytes(n), *in = malloc(n), upstream[32], req[4], c;
	uint16_t up;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	struct timespec pause = { .tv_nsec = 50 * 1000000 };
	double t0;

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	fd = tcp_connect(start_proxy(upstream, NULL));
	sfd = accept_peer(lfd);
	send_all(fd, "GET\n", 4);
	recv_exact(sfd, req, 4);
	nanosleep(&pause, NULL);
	kill(tcpd.pid, SIGTERM);
	pause.tv_nsec = 250 * 1000000;
	nanosleep(&pause, NULL);
	send_all(sfd, reply, n);
	t0 = now_ms();
	cr_assert_eq(recv_all(fd, in, n), n);
	assert_bytes(in, n, reply, n);
	cr_assert(recv_eof(fd), "no FIN after the reply");
	/* 500 ms of quiet after the reply, not shutdown_timeout. */
	cr_assert_lt(now_ms() - t0, 1500);
	close(fd);
	cr_assert_eq(recv(sfd, &c, 1, 0), 0, "the server got no FIN: %s", strerror(errno));
	cr_assert_eq(tcpd_await_exit(), 0);
	close(sfd);
	close(lfd);
	free(reply);
	free(in);
}

/* WHOAMI through proxy port p, its request after any header of the client's own. */
static const char *
whoami_through(uint16_t port, const char *header, unsigned *client_port)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	int fd = tcp_connect(port);
	size_t n;

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&me, &len), 0);
	*client_port = ntohs(me.sin_port);
	send_all(fd, header, strlen(header));
	send_all(fd, "WHOAMI\r\nQUIT\r\n", 14);
	n = recv_all(fd, out, sizeof(out) - 1);
	out[n] = '\0';
	close(fd);
	return out;
}

/*
 * upstream_proxy_protocol = v1 and v2: a command listener behind the proxy,
 * reading PROXY headers, sees the client's own address and port and the
 * address it reached; behind a balancer, the client the balancer named.
 */
Test(proxy_service, the_server_sees_the_real_client_through_a_proxy_header)
{
	char extra[1024], expect[256];
	uint16_t ports[4];
	unsigned v, client;
	const char *r;

	free_ports(ports, 4);
	snprintf(extra, sizeof(extra),
	    "[listener.c1]\nbind = 127.0.0.1:%u\nservice = command\nproxy_protocol = v1\n"
	    "proxy_trusted = 127.0.0.1\n"
	    "[listener.c2]\nbind = 127.0.0.1:%u\nservice = command\nproxy_protocol = v2\n"
	    "proxy_trusted = 127.0.0.1\n"
	    "[listener.p1]\nbind = 127.0.0.1:%u\nservice = proxy\nupstream = 127.0.0.1:%u\n"
	    "upstream_proxy_protocol = v1\n"
	    "[listener.p2]\nbind = 127.0.0.1:%u\nservice = proxy\nupstream = 127.0.0.1:%u\n"
	    "upstream_proxy_protocol = v2\nproxy_protocol = v1\nproxy_trusted = 127.0.0.1\n",
	    ports[0], ports[1], ports[2], ports[0], ports[3], ports[1]);
	tcpd_start(extra);
	r = whoami_through(ports[2], "", &client);
	snprintf(expect, sizeof(expect), " addr=127.0.0.1:%u laddr=127.0.0.1:%u listener=c1 "
	    "proxy=127.0.0.1:", client, ports[2]);
	cr_assert_not_null(strstr(r, expect), "%s\nnot in\n%s", expect, r);
	cr_assert_not_null(strstr(r, "\r\n+OK\r\n"), "%s", r);
	/* p2 is itself behind a balancer: its server sees the client the balancer named. */
	r = whoami_through(ports[3], "PROXY TCP4 192.0.2.7 198.51.100.1 4242 7070\r\n", &v);
	cr_assert_not_null(strstr(r, " addr=192.0.2.7:4242 laddr=198.51.100.1:7070 "
	    "listener=c2 proxy=127.0.0.1:"), "%s", r);
	cr_assert_not_null(strstr(r, "\r\n+OK\r\n"), "%s", r);
}

/*
 * The PROXY header a server gets, byte for byte; and it is no request: a stop
 * does not wait for an answer to it.
 */
Test(proxy_service, a_stop_does_not_wait_for_an_answer_to_the_header)
{
	char upstream[64], expect[128], in[128], c;
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd;
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	double t0;

	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	port = start_proxy(upstream, "upstream_proxy_protocol = v1\n");
	fd = tcp_connect(port);
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&me, &len), 0);
	sfd = accept_peer(lfd);
	snprintf(expect, sizeof(expect), "PROXY TCP4 127.0.0.1 127.0.0.1 %u %u\r\n",
	    ntohs(me.sin_port), port);
	recv_exact(sfd, in, strlen(expect));
	assert_bytes(in, strlen(expect), expect, strlen(expect));
	kill(tcpd.pid, SIGTERM);
	t0 = now_ms();
	cr_assert(recv_eof(fd));
	/* The drain's 1 s grace for a client that sent nothing, not shutdown_timeout's 10. */
	cr_assert_lt(now_ms() - t0, 2500);
	cr_assert_eq(recv(sfd, &c, 1, 0), 0, "the server got no FIN: %s", strerror(errno));
	cr_assert_eq(tcpd_await_exit(), 0);
	close(fd);
	close(sfd);
	close(lfd);
}

/* A Unix stream socket the test serves as the upstream: its path in path. */
static int
listen_unix(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	cr_assert_neq(fd, -1);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "%s", strerror(errno));
	cr_assert_eq(listen(fd, 16), 0);
	return fd;
}

/*
 * upstream = unix:/path: the bytes both ways, the client's FIN passed on
 * while the server's answer still comes whole, the server's close with
 * unread bytes (a Unix socket's reset) resetting the client; a missing
 * socket an RST, logged and counted.
 */
Test(proxy_service, a_unix_socket_upstream)
{
	size_t n = 1 << 20;
	char dir[64], path[96], keys[256], upstream[128], in[8];
	char *data = random_bytes(n), *got = malloc(n);
	uint16_t ports[2];
	int lfd, fd, sfd;

	temp_dir_make(dir, sizeof(dir), "tcpd-unix");
	snprintf(path, sizeof(path), "%s/up.sock", dir);
	lfd = listen_unix(path);
	free_ports(ports, 2);
	snprintf(upstream, sizeof(upstream), "unix:%s", path);
	snprintf(keys, sizeof(keys), "[listener.gone]\nbind = 127.0.0.1:%u\nservice = proxy\n"
	    "upstream = unix:%s/gone.sock\n", ports[1], dir);
	fd = tcp_connect(ports[0] = start_proxy(upstream, keys));
	sfd = accept_peer(lfd);
	send_all(fd, "hello", 5);
	recv_exact(sfd, in, 5);
	assert_bytes(in, 5, "hello", 5);
	shutdown(fd, SHUT_WR);
	cr_assert(recv_eof(sfd), "the client's FIN did not reach the server");
	send_all(sfd, data, n);
	close(sfd);
	cr_assert_eq(recv_all(fd, got, n), n);
	assert_bytes(got, n, data, n);
	close(fd);

	fd = tcp_connect(ports[0]);
	sfd = accept_peer(lfd);
	send_all(fd, "unread", 6);
	recv_exact(sfd, in, 1);		/* the bytes arrived; five stay unread */
	close(sfd);
	assert_reset(fd);
	close(fd);

	fd = tcp_connect(ports[1]);
	assert_reset(fd);
	close(fd);
	snprintf(keys, sizeof(keys), "upstream unix:%s/gone.sock: No such file or directory", dir);
	cr_assert_gt(tcpd_log_count(keys), 0, "%s", tcpd_log_text());
	cr_assert_not_null(strstr(tcpd_info(), "upstream_connect_failures_other:1\r\n"),
	    "%s", tcpd_info());
	close(lfd);
	temp_dir_remove(dir);
	free(data);
	free(got);
}

/* redis-server on a Unix socket behind the proxy: its replies, byte for byte. */
Test(proxy_service, redis_server_on_a_unix_socket)
{
	char dir[64], path[96], upstream[128];
	const char *extra[] = { "--unixsocket", path, NULL };
	uint16_t rp;
	int fd;

	temp_dir_make(dir, sizeof(dir), "tcpd-unix");
	snprintf(path, sizeof(path), "%s/redis.sock", dir);
	free_ports(&rp, 1);
	if (redis_server_start(rp, extra) == 0)
		cr_skip_test("redis-server is not installed");
	snprintf(upstream, sizeof(upstream), "unix:%s", path);
	fd = tcp_connect(start_proxy(upstream, NULL));
	send_all(fd, "PING\r\nECHO unix\r\nQUIT\r\n", 23);
	cr_assert_eq(recv_all(fd, out, sizeof(out)), 22);
	assert_bytes(out, 22, "+PONG\r\n$4\r\nunix\r\n+OK\r\n", 22);
	close(fd);
	temp_dir_remove(dir);
}
