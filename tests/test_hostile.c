/* SPDX-License-Identifier: MIT */
/*
 * Hostile clients and faults against the built tcpd. Each test checks that
 * the daemon still serves everyone else afterwards and, where a client could
 * make it hoard memory, that its resident size stayed bounded.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/tcp.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
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

TestSuite(hostile, .timeout = 120);

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* Sends what the peer takes, ignoring its closing early. Returns bytes sent. */
static size_t
send_some(int fd, const void *p, size_t n)
{
	size_t sent = 0;
	ssize_t w;

	while (sent < n) {
		w = send(fd, (const char *)p + sent, n - sent, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		sent += (size_t)w;
	}
	return sent;
}

/* Reads until EOF or reset; returns the bytes read. */
static size_t
read_to_end(int fd, char *dst, size_t max)
{
	size_t got = 0;
	ssize_t r;

	while (got < max && (r = recv(fd, dst + got, max - got, 0)) > 0)
		got += (size_t)r;
	return got;
}

/* Feeds junk on a command connection: one error reply, then tcpd closes it. */
static void
assert_too_big_inline(const char *junk, size_t n)
{
	char in[256];
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	send_some(fd, junk, n);
	assert_reply(in, read_to_end(fd, in, sizeof(in)),
	    "-ERR Protocol error: too big inline request\r\n");
	close(fd);
}

Test(hostile, ten_MiB_line_without_newline)
{
	size_t n = 10u << 20;
	char *junk = malloc(n);
	long rss0;

	tcpd_start(NULL);
	rss0 = tcpd_rss_kib();
	memset(junk, 'A', n);
	assert_too_big_inline(junk, n);
	ping_ok();
	assert_rss_growth_below(rss0, 4 * 1024);
	free(junk);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, cr_without_lf_is_one_long_line)
{
	size_t n = 200000, i;
	char *junk = malloc(n);

	tcpd_start(NULL);
	for (i = 0; i < n; i += 5)
		memcpy(junk + i, "PING\r", 5);
	assert_too_big_inline(junk, n);
	ping_ok();
	free(junk);
	cr_assert_eq(tcpd_stop(), 0);
}

/* Every reply a junk-fed connection gets is a complete RESP error line. */
Test(hostile, binary_junk_and_nul_bytes)
{
	enum { N = 256 * 1024 };
	static char junk[N], in[1 << 20];
	unsigned seed = 42;
	size_t got, i, off;
	int fd, round;

	tcpd_start(NULL);
	for (round = 0; round < 8; round++) {
		for (i = 0; i < N; i++) {
			seed = seed * 1103515245 + 12345;
			junk[i] = (char)(seed >> 16);
		}
		/* Half the rounds look like RESP at first, to reach that parser too. */
		if (round % 2)
			memcpy(junk, "*3\r\n$4\r\nECHO\r\n", 14);
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		send_some(fd, junk, N);
		shutdown(fd, SHUT_WR);
		got = read_to_end(fd, in, sizeof(in));
		for (off = 0; off < got;) {
			char *nl = memchr(in + off, '\n', got - off);

			cr_assert_not_null(nl, "round %d: reply without an end", round);
			cr_assert_eq(in[off], '-', "round %d: reply '%.40s'", round, in + off);
			cr_assert_eq(nl[-1], '\r');
			off = (size_t)(nl - in) + 1;
		}
		cr_assert_gt(got, 0, "round %d: no error reply at all", round);
		close(fd);
	}
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, malformed_resp_lengths)
{
	static const char *const reqs[] = {
		"*1\r\n$1099511627776\r\n",	/* 2^40 */
		"*1\r\n$-2\r\n",
		"*1\r\n$12abc\r\n",
		"*-5x\r\n",
		"*1000000000\r\n",
		"*2\r\n*2\r\n*2\r\n",
		"*1\r\n$99999999999999999999999999999\r\n",
	};
	char in[256];
	size_t i, n;
	long rss0;
	int fd;

	tcpd_start(NULL);
	rss0 = tcpd_rss_kib();
	for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fd, reqs[i], strlen(reqs[i]));
		n = read_to_end(fd, in, sizeof(in) - 1);
		in[n] = '\0';
		cr_assert_eq(strncmp(in, "-ERR Protocol error: ", 21), 0, "%s -> %s",
		    reqs[i], in);
		close(fd);
	}
	ping_ok();
	assert_rss_growth_below(rss0, 2 * 1024);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, ten_thousand_pings_in_one_write)
{
	enum { N = 10000 };
	static char req[6 * N], in[7 * N + 1];
	int fd, i;

	tcpd_start(NULL);
	for (i = 0; i < N; i++)
		memcpy(req + 6 * i, "PING\r\n", 6);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, req, sizeof(req));
	shutdown(fd, SHUT_WR);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 7 * (size_t)N);
	for (i = 0; i < N; i++)
		cr_assert_eq(memcmp(in + 7 * i, "+PONG\r\n", 7), 0, "reply %d", i);
	close(fd);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, echo_64_MiB_to_a_slow_reader)
{
	size_t n = 64u << 20, sent = 0, got = 0;
	unsigned char *out = malloc(n), *in = malloc(n);
	long rss0;
	size_t i;
	int fd;

	tcpd_start("output_limit = 262144");
	rss0 = tcpd_rss_kib();
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 12));
	fd = tcp_connect(tcpd.port[P_ECHO]);
	/* Read at most 256 KiB per millisecond: well below what the writer offers. */
	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < n ? POLLOUT : 0) };
		ssize_t r;

		cr_assert_geq(poll(&p, 1, 10000), 1, "stalled at %zu/%zu", got, n);
		if ((p.revents & POLLOUT) && sent < n) {
			r = send(fd, out + sent, n - sent > 1 << 20 ? 1 << 20 : n - sent,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r > 0)
				sent += (size_t)r;
		}
		if (p.revents & POLLIN) {
			r = recv(fd, in + got, n - got > 262144 ? 262144 : n - got, MSG_DONTWAIT);
			cr_assert_neq(r, 0, "EOF after %zu bytes", got);
			if (r > 0)
				got += (size_t)r;
			sleep_s(0.001);
		}
		if ((got & ((8u << 20) - 1)) < 262144)
			assert_rss_growth_below(rss0, 8 * 1024);
	}
	cr_assert_eq(memcmp(in, out, n), 0, "echo differs");
	close(fd);
	ping_ok();
	free(out);
	free(in);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, reset_in_the_middle_of_a_large_reply)
{
	struct linger hard = { .l_onoff = 1, .l_linger = 0 };
	char *req = malloc(2 << 20), in[1024];
	int fd, i;

	tcpd_start(NULL);
	for (i = 0; i < 10; i++) {
		/* INFO replies pile up unread, then the client resets. */
		int k;

		fd = tcp_connect_small_window(tcpd.port[P_COMMAND]);
		for (k = 0; k < 2000; k++)
			memcpy(req + 6 * k, "INFO\r\n", 6);
		send_some(fd, req, 6 * 2000);
		recv_exact(fd, in, 100);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
		close(fd);
	}
	ping_ok();
	free(req);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, five_thousand_concurrent_connections)
{
	enum { N = 5000 };
	struct rlimit rl = { N + 200, N + 200 };
	static int fds[N + 1];
	char in[64];
	size_t n;
	int i;

	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0, "raise the test's fd limit: %s",
	    strerror(errno));
	tcpd_start_with("max_connections = 5000\nlog_level = info",
	    "backlog = 4096", 0);
	for (i = 0; i < N; i++)
		fds[i] = tcp_connect(tcpd.port[P_COMMAND]);
	for (i = 0; i < N; i++)
		send_all(fds[i], "PING\r\n", 6);
	for (i = 0; i < N; i++) {
		recv_exact(fds[i], in, 7);
		assert_reply(in, 7, "+PONG\r\n");
	}
	/* Exactly at the limit: one more is turned away, with the reason. */
	fds[N] = tcp_connect(tcpd.port[P_COMMAND]);
	n = recv_all(fds[N], in, sizeof(in));
	assert_reply(in, n, "-ERR max number of clients reached\r\n");
	close(fds[N]);
	close(fds[0]);
	send_all(fds[1], "PING\r\n", 6);	/* by the reply, fds[0] is gone */
	recv_exact(fds[1], in, 7);
	fds[0] = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fds[0], "PING\r\n", 6);
	recv_exact(fds[0], in, 7);
	assert_reply(in, 7, "+PONG\r\n");
	for (i = 0; i < N; i++)
		close(fds[i]);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, max_connections_per_ip)
{
	int fds[3], other, extra, i;
	char in[64];
	size_t n;

	tcpd_start_with(NULL, "max_connections_per_ip = 3", 0);
	for (i = 0; i < 3; i++) {
		fds[i] = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fds[i], "PING\r\n", 6);
		recv_exact(fds[i], in, 7);
	}
	extra = tcp_connect(tcpd.port[P_COMMAND]);
	n = recv_all(extra, in, sizeof(in));
	assert_reply(in, n, "-ERR max number of clients reached\r\n");
	close(extra);
	/* Another address, and another listener, still get in. */
	other = tcp_connect_from("127.0.0.2", tcpd.port[P_COMMAND]);
	send_all(other, "PING\r\n", 6);
	recv_exact(other, in, 7);
	assert_reply(in, 7, "+PONG\r\n");
	close(other);
	other = tcp_connect(tcpd.port[P_ECHO]);
	send_all(other, "x", 1);
	recv_exact(other, in, 1);
	close(other);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, rejections_are_logged_at_most_once_a_second)
{
	int held, i, lines;

	struct timeval brief = { 1, 0 };

	tcpd_start("max_connections = 1\nlog_level = info");
	held = tcp_connect_admitted(tcpd.port[P_COMMAND]);
	for (i = 0; i < 200; i++) {
		int fd = tcp_connect(tcpd.port[P_ECHO]);

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &brief, sizeof(brief));
		cr_assert(recv_eof(fd), "connection %d was not rejected", i);
		close(fd);
	}
	close(held);
	cr_assert_eq(tcpd_stop(), 0);
	lines = tcpd_log_count(": rejected ");
	cr_assert(lines >= 1 && lines <= 3, "%d reject lines for 200 rejections", lines);
}

Test(hostile, health_checks_are_not_logged_at_info)
{
	char *log;
	int i;

	tcpd_start("log_level = info");
	for (i = 0; i < 50; i++)
		close(tcp_connect(tcpd.port[i % 2 ? P_COMMAND : P_ECHO]));
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
	log = tcpd_log_text();
	/* The one connection at info is ping_ok()'s, which said something. */
	cr_assert_eq(tcpd_log_count("info: conn "), 1, "%s", log);
	cr_assert_eq(tcpd_log_count(": closed: closed by peer (listener command, in 6, out 7 "
	    "bytes, "), 1, "%s", log);
	cr_assert_null(strstr(log, "warning"), "%s", log);
	cr_assert_null(strstr(log, "error"), "%s", log);
	free(log);
}

Test(hostile, slowloris_is_cut_off_by_request_timeout)
{
	enum { N = 50 };
	int fds[N], i, k;
	char in[128];
	const char *info;
	double t0, worst = 0;
	size_t n;

	tcpd_start("request_timeout = 1\nidle_timeout = 60");
	for (i = 0; i < N; i++) {
		fds[i] = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fds[i], "*2\r\n$4\r\nECHO\r\n$100\r\n", 20);
	}
	/* One byte every 400 ms: never idle, never finishing a request. */
	for (k = 0; k < 6; k++) {
		double t = now_s();

		for (i = 0; i < N; i++)
			send_some(fds[i], "x", 1);
		ping_ok();
		worst = now_s() - t > worst ? now_s() - t : worst;
		sleep_s(0.4);
	}
	t0 = now_s();
	for (i = 0; i < N; i++) {
		n = read_to_end(fds[i], in, sizeof(in));
		assert_reply(in, n, "-ERR Protocol error: request timeout\r\n");
		close(fds[i]);
	}
	cr_assert_lt(now_s() - t0, 2.0, "the slow clients were not all cut off");
	cr_assert_lt(worst, 0.9, "a normal client waited %.3f s", worst);
	info = tcpd_info();
	cr_assert_not_null(strstr(info, "request_timeouts:50\r\n"), "%s", info);
	cr_assert_not_null(strstr(info, "idle_timeouts:0\r\n"), "%s", info);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, denied_addresses_are_closed_before_reading)
{
	const char *info;
	char in[512];
	int fd;

	tcpd_start_with(NULL, "deny = 127.0.0.2 ::1", 0);
	fd = tcp_connect_from("127.0.0.2", tcpd.port[P_COMMAND]);
	send_some(fd, "PING\r\n", 6);
	cr_assert_eq(read_to_end(fd, in, sizeof(in)), 0, "a denied client got bytes");
	close(fd);
	fd = tcp_connect6(tcpd.port[P_ECHO]);
	send_some(fd, "x", 1);
	cr_assert_eq(read_to_end(fd, in, sizeof(in)), 0);
	close(fd);

	info = tcpd_info();
	cr_assert_not_null(strstr(info, "denied_connections:2\r\n"), "%s", info);
	/* The INFO request's 6 bytes are all tcpd ever read. */
	cr_assert_not_null(strstr(info, "total_net_input_bytes:6\r\n"), "%s", info);
	cr_assert_eq(tcpd_stop(), 0);
	/* At warning, with the rule that refused it. */
	cr_assert_eq(tcpd_log_count("warning: listener command: denied 127.0.0.2:"), 1);
	cr_assert_eq(tcpd_log_count(": deny 127.0.0.2/32 (0 more since the last such line)"), 1);
	cr_assert_eq(tcpd_log_count("warning: listener echo: denied [::1]:"), 1);
	cr_assert_eq(tcpd_log_count(": deny ::1/128 (0 more"), 1);
}

Test(hostile, a_peer_outside_allow_is_denied_as_such)
{
	int fd;
	char in[16];

	tcpd_start_with(NULL, "allow = 127.0.0.1", 0);
	fd = tcp_connect_from("127.0.0.2", tcpd.port[P_COMMAND]);
	cr_assert_eq(read_to_end(fd, in, sizeof(in)), 0);
	close(fd);
	cr_assert_eq(tcpd_stop(), 0);
	cr_assert_eq(tcpd_log_count(": not in allow (0 more since the last such line)"), 1);
}

Test(hostile, allow_list_admits_only_its_blocks)
{
	char in[16];
	int fd;

	tcpd_start_with(NULL, "allow = 127.0.0.1/32", 0);
	fd = tcp_connect_from("127.0.0.3", tcpd.port[P_ECHO]);
	send_some(fd, "x", 1);
	cr_assert_eq(read_to_end(fd, in, sizeof(in)), 0);
	close(fd);
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
}

/* Each of 100 clients gets back every byte it sent before SIGTERM. */
Test(hostile, graceful_shutdown_mid_echo)
{
	enum { N = 100, SIZE = 48 * 1024 };
	static unsigned char out[N][SIZE], in[SIZE];
	int fds[N], i, late;
	size_t j;

	tcpd_start(NULL);
	for (i = 0; i < N; i++) {
		for (j = 0; j < SIZE; j++)
			out[i][j] = (unsigned char)(i + j * 13);
		fds[i] = tcp_connect(tcpd.port[P_ECHO]);
		send_all(fds[i], out[i], SIZE);
	}
	recv_exact(fds[0], in, 1);	/* the echo is under way */
	kill(tcpd.pid, SIGTERM);
	sleep_s(0.2);
	late = socket(AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in sin = { .sin_family = AF_INET,
		    .sin_port = htons(tcpd.port[P_ECHO]),
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		cr_assert_eq(connect(late, (struct sockaddr *)&sin, sizeof(sin)), -1,
		    "the listener is closed at once");
		cr_assert_eq(errno, ECONNREFUSED);
	}
	close(late);
	for (i = 0; i < N; i++) {
		size_t skip = i == 0 ? 1 : 0;

		recv_exact(fds[i], in, SIZE - skip);
		cr_assert_eq(memcmp(in, out[i] + skip, SIZE - skip), 0, "client %d", i);
		cr_assert(recv_eof(fds[i]), "client %d: closed once it was owed nothing", i);
		close(fds[i]);
	}
	cr_assert_eq(tcpd_await_exit(), 0);
}

Test(hostile, shutdown_timeout_and_second_signal)
{
	int fd, status;
	double t0;

	/* A half-received request keeps the drain from finishing by itself. */
	tcpd_start("shutdown_timeout = 1");
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "PIN", 3);
	sleep_s(0.1);
	t0 = now_s();
	kill(tcpd.pid, SIGTERM);
	cr_assert_eq(tcpd_await_exit(), 0);
	cr_assert(now_s() - t0 > 0.8 && now_s() - t0 < 3, "%.2f s", now_s() - t0);
	close(fd);

	tcpd_start("shutdown_timeout = 60");
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "PIN", 3);
	sleep_s(0.1);
	t0 = now_s();
	kill(tcpd.pid, SIGTERM);
	sleep_s(0.3);
	cr_assert_eq(waitpid(tcpd.pid, &status, WNOHANG), 0, "still draining");
	kill(tcpd.pid, SIGTERM);
	cr_assert_eq(tcpd_await_exit(), 0);
	cr_assert_lt(now_s() - t0, 2.0, "the second SIGTERM exits at once");
	close(fd);
}

Test(hostile, low_descriptor_limit_lowers_max_connections)
{
	char *log;

	tcpd_start_with("max_connections = 1000", NULL, 64);
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
	log = tcpd_log_text();
	/* 64 - 32 reserved - 12 listening sockets. */
	cr_assert_not_null(strstr(log, "max_connections lowered from 1000 to 20: the "
	    "open file limit is 64"), "%s", log);
	free(log);
}

Test(hostile, optional_address_the_host_lacks_is_skipped)
{
	char *log;

	/* 192.0.2.1 (TEST-NET-1) is on no interface here: bind fails, nothing is sent. */
	tcpd_start_with(NULL, "  -192.0.2.1:%u", 0);
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
	log = tcpd_log_text();
	cr_assert_not_null(strstr(log, "skipping optional address 192.0.2.1:"),
	    "%s", log);
	cr_assert_not_null(strstr(log, "Cannot assign requested address"), "%s", log);
	free(log);
}

Test(hostile, out_of_descriptors_sheds_the_queue_without_spinning)
{
	enum { N = 60 };
	struct rlimit old, low;
	int fds[N], i, lines;
	double cpu0, cpu;

	tcpd_start("log_level = info");
	/* After start-up, so max_connections is not lowered to fit. */
	cr_assert_eq(prlimit(tcpd.pid, RLIMIT_NOFILE, NULL, &old), 0);
	low = (struct rlimit){ 40, old.rlim_max };
	cr_assert_eq(prlimit(tcpd.pid, RLIMIT_NOFILE, &low, NULL), 0, "%s",
	    strerror(errno));
	cpu0 = tcpd_cpu_seconds();
	for (i = 0; i < N; i++) {
		/* Connects complete in the backlog even when tcpd cannot accept. */
		fds[i] = tcp_connect(tcpd.port[P_ECHO]);
	}
	sleep_s(2.5);
	cpu = tcpd_cpu_seconds() - cpu0;
	cr_assert_lt(cpu, 0.5, "tcpd used %.2f s of CPU while out of descriptors", cpu);
	for (i = 0; i < N; i++)
		close(fds[i]);
	cr_assert_eq(prlimit(tcpd.pid, RLIMIT_NOFILE, &old, NULL), 0);
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
	lines = tcpd_log_count("out of file descriptors: closed ");
	cr_assert(lines >= 1 && lines <= 4, "%d EMFILE lines in 2.5 s", lines);
}

Test(hostile, peer_that_vanishes_without_fin_is_reaped_by_idle_timeout)
{
	const char *info;
	int fd, on = 1;

	tcpd_start("idle_timeout = 1");
	fd = tcp_connect(tcpd.port[P_ECHO]);
	/* In repair mode close() sends neither FIN nor RST: the peer just goes. */
	if (setsockopt(fd, IPPROTO_TCP, 19 /* TCP_REPAIR */, &on, sizeof(on)) == -1) {
		close(fd);
		cr_assert_eq(tcpd_stop(), 0);
		cr_skip_test("TCP_REPAIR needs CAP_NET_ADMIN: %s", strerror(errno));
	}
	close(fd);
	sleep_s(2.2);
	info = tcpd_info();
	cr_assert_not_null(strstr(info, "service_echo:connected=0,total=1\r\n"), "%s", info);
	cr_assert_not_null(strstr(info, "idle_timeouts:1\r\n"), "%s", info);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, a_half_closed_peer_that_stops_reading_costs_no_cpu)
{
	enum { N = 8 << 20 };
	static char out[N], in[N];
	double cpu0, cpu;
	size_t got;
	int fd;

	/* More than the socket buffers hold, less than output_limit: tcpd reads
	 * it all, our FIN too, and still owes most of it. */
	tcpd_start("output_limit = 16777216");
	memset(out, 'e', sizeof(out));
	fd = tcp_connect_small_window(tcpd.port[P_ECHO]);
	send_all(fd, out, sizeof(out));
	shutdown(fd, SHUT_WR);
	sleep_s(0.5);
	cpu0 = tcpd_cpu_seconds();
	sleep_s(1.5);
	cpu = tcpd_cpu_seconds() - cpu0;
	cr_assert_lt(cpu, 0.6, "%.2f s of CPU in 1.5 s for one waiting peer", cpu);
	got = read_to_end(fd, in, sizeof(in));
	cr_assert_eq(got, sizeof(in), "every owed byte, then our FIN");
	close(fd);
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, quit_after_a_long_pipeline_delivers_everything_to_a_slow_reader)
{
	enum { N = 200, SIZE = 60000 };
	static char req[N * (SIZE + 64) + 16], in[N * (SIZE + 16) + 16];
	size_t len = 0, want = 0, sent = 0, got = 0, i;
	ssize_t r;
	int fd;

	/*
	 * A large output_limit: tcpd reads the QUIT as soon as it arrives, while
	 * megabytes of replies still wait in its own buffer, beyond what the
	 * socket buffers can hold.
	 */
	tcpd_start("idle_timeout = 60\noutput_limit = 16777216");
	for (i = 0; i < N; i++) {
		len += (size_t)sprintf(req + len, "*2\r\n$4\r\nECHO\r\n$%d\r\n", SIZE);
		memset(req + len, 'a' + (int)(i % 26), SIZE);
		memcpy(req + len + SIZE, "\r\n", 2);
		len += SIZE + 2;
		want += (size_t)snprintf(NULL, 0, "$%d\r\n", SIZE) + SIZE + 2;
	}
	len += (size_t)sprintf(req + len, "QUIT\r\n");
	want += 5;
	fd = tcp_connect_small_window(tcpd.port[P_COMMAND]);
	/* Send it all, reading as we go, until 6 MB are still owed. */
	while (sent < len || got + 6000000 < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0) };

		cr_assert_gt(poll(&p, 1, 10000), 0, "stuck at %zu sent, %zu read", sent, got);
		if ((p.revents & POLLOUT) && sent < len &&
		    (r = send(fd, req + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
			sent += (size_t)r;
		if ((p.revents & POLLIN) && (r = recv(fd, in + got, sizeof(in) - got,
		    MSG_DONTWAIT)) > 0)
			got += (size_t)r;
	}
	/* Longer than the old 5 s linger, which counted from the QUIT. */
	sleep_s(6);
	got += read_to_end(fd, in + got, sizeof(in) - got);
	cr_assert_eq(got, want, "%zu of %zu bytes owed arrived", got, want);
	cr_assert_eq(memcmp(in + got - 5, "+OK\r\n", 5), 0);
	close(fd);
	cr_assert_eq(tcpd_stop(), 0);
}

static int
open_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	cr_assert_not_null(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(hostile, out_of_descriptors_the_queue_is_shed_at_once)
{
	enum { HELD = 8, DEAD = 200 };
	int held[HELD], dead, i, fd;
	size_t got;
	struct rlimit rl;
	double t0;
	char in[8];

	tcpd_start(NULL);
	/* Leave tcpd room for a few more connections than HELD (the start-up probe's included). */
	sleep_s(0.2);
	rl.rlim_cur = rl.rlim_max = (rlim_t)open_fds(tcpd.pid) + HELD + 4;
	cr_assert_eq(prlimit(tcpd.pid, RLIMIT_NOFILE, &rl, NULL), 0);
	for (i = 0; i < HELD; i++) {
		held[i] = tcp_connect(tcpd.port[P_COMMAND]);
		assert_ping(held[i]);
	}
	for (i = 0; i < DEAD; i++) {
		dead = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(dead, "PING\r\n", 6);
		close(dead);
	}
	for (i = 0; i < HELD; i++)
		close(held[i]);
	/*
	 * A client that arrives while the queue is shed is closed too, as a
	 * client of any server that runs out of descriptors is: it tries again.
	 */
	t0 = now_s();
	do {
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		send_some(fd, "PING\r\n", 6);
		got = read_to_end(fd, in, 7);
		close(fd);
	} while (got != 7 && now_s() - t0 < 3.0);
	assert_reply(in, got, "+PONG\r\n");
	cr_assert_lt(now_s() - t0, 3.0, "a new client waited %.1f s", now_s() - t0);
	cr_assert_geq(tcpd_log_count("out of file descriptors: closed "), 1);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, the_request_timer_restarts_with_each_complete_request)
{
	char in[8];
	int fd, i;

	tcpd_start("request_timeout = 1\nidle_timeout = 60");
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	/* Once split, then whole requests for twice the timeout: none is cut off. */
	send_all(fd, "PI", 2);
	sleep_s(0.2);
	send_all(fd, "NG\r\n", 4);
	recv_exact(fd, in, 7);
	assert_reply(in, 7, "+PONG\r\n");
	for (i = 0; i < 8; i++) {
		sleep_s(0.3);
		assert_ping(fd);
	}
	close(fd);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, a_closed_connection_gives_back_its_per_ip_count)
{
	int fd, i;

	tcpd_start_with(NULL, "max_connections_per_ip = 1", 0);
	for (i = 0; i < 5; i++) {
		/* tcpd notices each close (the start-up probe's too) before the next. */
		sleep_s(0.1);
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		assert_ping(fd);
		close(fd);
	}
	cr_assert_eq(tcpd_stop(), 0);
}

Test(hostile, a_client_that_only_downloads_is_not_idle)
{
	static char in[64 * 1024];
	const char *info;
	double t0 = now_s();
	size_t total = 0;
	ssize_t r;
	int fd;

	tcpd_start("idle_timeout = 1");
	fd = tcp_connect(tcpd.port[P_CHARGEN]);
	/* Downloading for three idle timeouts, sending nothing: every write is activity. */
	while (now_s() - t0 < 3.0) {
		r = recv(fd, in, sizeof(in), 0);
		cr_assert_gt(r, 0, "chargen closed after %.1f s", now_s() - t0);
		total += (size_t)r;
	}
	cr_assert_gt(total, 0);
	/* What tcpd already sent would still arrive after a close: ask it. */
	info = tcpd_info();
	cr_assert_not_null(strstr(info, "idle_timeouts:0\r\n"), "%s", info);
	close(fd);
	cr_assert_eq(tcpd_stop(), 0);
}

/*
 * A chargen client with room for 256 MiB that reads as fast as it can
 * for 2 s, and the worst PING another client waits meanwhile: without a
 * write budget per turn, tcpd would fill that room in one go (hundreds of
 * ms) while every other client waits.
 */
static double
worst_ping_behind_a_bulk_reader(void)
{
	int big = 256 << 20, fd, cmd;
	double t0, t, worst = 0;
	pid_t reader;

	if ((reader = fork()) == 0) {
		static char chunk[1 << 20];
		struct sockaddr_in sin = { .sin_family = AF_INET,
		    .sin_port = htons(tcpd.port[P_CHARGEN]),
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		double start;

		fd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
			_exit(1);
		for (start = now_s(); now_s() - start < 2.0;)
			if (recv(fd, chunk, sizeof(chunk), 0) <= 0)
				_exit(1);
		_exit(0);
	}
	cr_assert_gt(reader, 0);
	sleep_s(0.3);
	cmd = tcp_connect(tcpd.port[P_COMMAND]);
	for (t0 = now_s(); now_s() - t0 < 1.0;) {
		t = now_s();
		assert_ping(cmd);
		if (now_s() - t > worst)
			worst = now_s() - t;
	}
	close(cmd);
	cr_assert_eq(waitpid(reader, NULL, 0), reader);
	return worst;
}

/* Three rounds: a starving turn shows in one of them however the reader keeps up. */
Test(hostile, a_bulk_reader_does_not_starve_a_ping_client)
{
	int big = 256 << 20, fd, round;
	double worst;

	tcpd_start(NULL);
	cr_assert_geq(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) == -1)
		cr_skip_test("SO_RCVBUFFORCE needs CAP_NET_ADMIN: %s", strerror(errno));
	close(fd);
	for (round = 0; round < 3; round++) {
		worst = worst_ping_behind_a_bulk_reader();
		cr_assert_lt(worst, 0.15, "round %d: a PING waited %.0f ms behind a bulk reader",
		    round, worst * 1000);
	}
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
}
