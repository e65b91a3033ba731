/* SPDX-License-Identifier: MIT */
/*
 * A listener's fault profile against the real tcpd: each fault's die cast
 * from the seed and the connection's number (the same connections every
 * run), Toxiproxy's faults (limit_data, slow_close, timeout, slices of
 * random size) on tcpd's own services and on a proxy in either direction,
 * the counters in INFO, /metrics and the close line, and the profile
 * logged at start and reload.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(fault_profile, .fini = tcpd_teardown, .timeout = 60);

static char out[1 << 16];

/* Whether fd has bytes, an EOF or an error to read within ms. */
static bool
readable_within(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

/* tcpd with [listener.x] serving service on a port of its own (returned), keys added. */
static uint16_t
start_listener(const char *service, const char *keys)
{
	char extra[1024];
	uint16_t port;

	free_ports(&port, 1);
	snprintf(extra, sizeof(extra), "[listener.x]\nbind = 127.0.0.1:%u\nservice = %s\n%s",
	    port, service, keys);
	tcpd_start(extra);
	return port;
}

/*
 * Which of n echo connections in a row the profile "limit_data = 2" with
 * its probability cut: '1' for "ab" then EOF, '0' for all of "abcd".
 */
static void
cut_pattern(uint16_t port, char *dst, size_t n)
{
	char in[8];
	size_t i, got;
	int fd;

	for (i = 0; i < n; i++) {
		fd = tcp_connect(port);
		send_all(fd, "abcd", 4);
		got = 0;
		while (got < 4) {
			ssize_t r = recv(fd, in + got, sizeof(in) - got, 0);

			cr_assert_geq(r, 0, "connection %zu: %s", i, strerror(errno));
			if (r == 0)
				break;
			got += (size_t)r;
		}
		cr_assert(got == 2 || got == 4, "connection %zu: %zu bytes", i, got);
		cr_assert_eq(memcmp(in, "abcd", got), 0);
		dst[i] = got == 2 ? '1' : '0';
		close(fd);
	}
	dst[n] = '\0';
}

static size_t
count_of(const char *s, char c)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == c;
	return n;
}

/*
 * With a seed, which of 200 connections get a 50 % fault is the same set
 * in two runs of the daemon, about half of them; another seed picks
 * another set. INFO and the close lines count each one given.
 */
Test(fault_profile, a_seeded_probability_picks_the_same_connections_every_run)
{
	static char first[201], second[201], other[201];
	char expect[64];
	uint16_t port;
	size_t cut;

	port = start_listener("echo", "limit_data = 2\nclose_probability = 50%\nseed = 7\n");
	cut_pattern(port, first, 200);
	cut = count_of(first, '1');
	cr_assert(cut >= 60 && cut <= 140, "about half of 200: %zu (%s)", cut, first);
	snprintf(expect, sizeof(expect), "fault_applied_downstream_close:%zu\r\n", cut);
	cr_assert_not_null(strstr(tcpd_info(), expect), "%s", tcpd_info());
	cr_assert_eq((size_t)tcpd_log_count(", faults close)"), cut, "%s", tcpd_log_text());
	cr_assert_eq(tcpd_stop(), 0);
	tcpd_restart_same_ports();
	cut_pattern(port, second, 200);
	cr_assert_str_eq(first, second, "the same seed, the same connections");
	cr_assert_eq(tcpd_stop(), 0);
	port = start_listener("echo", "limit_data = 2\nclose_probability = 50%\nseed = 8\n");
	cut_pattern(port, other, 200);
	cr_assert_str_neq(first, other, "another seed, other connections");
}

/* Probability 0 gives the fault to no connection, 1 to every one; unseeded too. */
Test(fault_profile, probability_zero_never_one_always)
{
	char pattern[41];
	uint16_t port;

	port = start_listener("echo", "limit_data = 2\nclose_probability = 0\n");
	cut_pattern(port, pattern, 40);
	cr_assert_eq(count_of(pattern, '1'), 0, "%s", pattern);
	cr_assert_not_null(strstr(tcpd_info(), "fault_applied_downstream_close:0\r\n"));
	cr_assert_eq(tcpd_stop(), 0);
	port = start_listener("echo", "limit_data = 2\nclose_probability = 100%\n");
	cut_pattern(port, pattern, 40);
	cr_assert_eq(count_of(pattern, '1'), 40, "%s", pattern);
}

/* timeout: what the client is sent is dropped, then a close; never: dropped for good. */
Test(fault_profile, a_timeout_drops_the_bytes_then_closes)
{
	char in[16];
	double t0, took;
	uint16_t port;
	int fd;

	port = start_listener("echo", "timeout = 300ms\n");
	fd = tcp_connect(port);
	t0 = now_ms();
	send_all(fd, "abcd", 4);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 0, "echoed through a timeout");
	took = now_ms() - t0;
	cr_assert(took >= 290 && took < 2000, "closed after %.0f ms", took);
	close(fd);
	cr_assert_eq(tcpd_stop(), 0);
	port = start_listener("echo", "timeout = never\n");
	fd = tcp_connect(port);
	send_all(fd, "abcd", 4);
	cr_assert_not(readable_within(fd, 500), "a byte or a close through timeout = never");
	/* Still read, so the client is never stopped: 1 MiB goes in. */
	memset(out, 'x', sizeof(out));
	for (int i = 0; i < 16; i++)
		send_all(fd, out, sizeof(out));
	cr_assert_not(readable_within(fd, 100));
	close(fd);
	cr_assert_not_null(strstr(tcpd_info(), "fault_applied_downstream_timeout:1\r\n"));
}

/* slow_close: daytime's line at once, its FIN 300 ms later. */
Test(fault_profile, slow_close_holds_the_fin_not_the_data)
{
	char in[64];
	double t0, took;
	ssize_t n;
	int fd;

	fd = tcp_connect(start_listener("daytime", "slow_close = 300ms\n"));
	t0 = now_ms();
	n = recv(fd, in, sizeof(in), 0);
	cr_assert_gt(n, 10);
	cr_assert_eq(in[n - 1], '\n');
	cr_assert_lt(now_ms() - t0, 200, "the line was held");
	cr_assert(recv_eof(fd));
	took = now_ms() - t0;
	cr_assert(took >= 290 && took < 2000, "the FIN after %.0f ms", took);
	close(fd);
}

/* Slices of random size: every write in [slice - v, slice + v], not all the same. */
Test(fault_profile, slices_vary_in_size_around_their_average)
{
	bool seen[8] = { false };
	size_t got = 0, kinds = 0, i;
	char in[64];
	ssize_t n;
	int fd;

	fd = tcp_connect(start_listener("echo", "slice = 4\nslice_variation = 3\n"
	    "slice_gap = 20ms\nseed = 1\n"));
	for (i = 0; i < 200; i++)
		out[i] = (char)('a' + i % 26);
	send_all(fd, out, 200);
	while (got < 200) {
		/* 20 ms apart, each write its own segment: one recv each. */
		n = recv(fd, in, sizeof(in), 0);
		cr_assert(n >= 1 && n <= 7, "a write of %zd bytes", n);
		cr_assert_eq(memcmp(in, out + got, (size_t)n), 0);
		seen[n] = true;
		got += (size_t)n;
	}
	for (i = 1; i < 8; i++)
		kinds += seen[i];
	cr_assert_geq(kinds, 4, "slices of %zu sizes only", kinds);
	close(fd);
}

/* A proxy in front of the test's server: the client's socket, the server's in *sfd. */
static int
proxied(const char *keys, int *sfd, int *lfd)
{
	char extra[512];
	uint16_t up;
	int fd;

	*lfd = tcp_listen_loopback(&up, 16);
	snprintf(extra, sizeof(extra), "upstream = 127.0.0.1:%u\n%s", up, keys);
	fd = tcp_connect(start_listener("proxy", extra));
	*sfd = accept_peer(*lfd);
	return fd;
}

/* upstream_limit_data: the server gets exactly N bytes; the client is closed. */
Test(fault_profile, upstream_limit_data_cuts_the_bytes_toward_the_server)
{
	char in[64];
	double t0;
	int fd, sfd, lfd;

	fd = proxied("upstream_limit_data = 10\n", &sfd, &lfd);
	send_all(fd, "0123456789abcdefghij", 20);
	cr_assert(recv_eof(fd), "the client not closed");
	/* Both sides closed by the fault, not the server's only once the client goes. */
	t0 = now_ms();
	cr_assert_eq(recv_all(sfd, in, sizeof(in)), 10);
	assert_bytes(in, 10, "0123456789", 10);
	cr_assert_lt(now_ms() - t0, 1000, "the server's EOF after %.0f ms", now_ms() - t0);
	close(fd);
	close(sfd);
	close(lfd);
	cr_assert_not_null(strstr(tcpd_info(), "fault_applied_upstream_close:1\r\n"));
	cr_assert_gt(tcpd_log_count("(listener x, in 20, out 0 bytes"), 0, "%s", tcpd_log_text());
	cr_assert_gt(tcpd_log_count(", faults upstream_close)"), 0, "%s", tcpd_log_text());
}

/* limit_data toward the client, on a proxy: the client gets N of the server's bytes. */
Test(fault_profile, limit_data_cuts_the_bytes_toward_the_client)
{
	char in[64];
	int fd, sfd, lfd;

	fd = proxied("limit_data = 10\n", &sfd, &lfd);
	send_all(sfd, "0123456789abcdefghij", 20);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 10);
	assert_bytes(in, 10, "0123456789", 10);
	close(fd);
	close(sfd);
	close(lfd);
}

/* upstream_reset_after: N bytes reach the server, then an RST, to both. */
Test(fault_profile, upstream_reset_after_resets_after_its_bytes)
{
	char in[64];
	size_t got = 0;
	ssize_t n;
	int fd, sfd, lfd;

	fd = proxied("upstream_reset_after = 5\n", &sfd, &lfd);
	send_all(fd, "0123456789", 10);
	while ((n = recv(sfd, in + got, sizeof(in) - got, 0)) > 0)
		got += (size_t)n;
	cr_assert(n == -1 && errno == ECONNRESET, "the server saw no RST: %zd %s", n,
	    strerror(errno));
	assert_bytes(in, got, "01234", 5);
	n = recv(fd, in, sizeof(in), 0);
	cr_assert(n == -1 && errno == ECONNRESET, "the client saw no RST: %zd", n);
	close(fd);
	close(sfd);
	close(lfd);
}

/* upstream_stall_after: N bytes reach the server, then nothing, while the other way flows. */
Test(fault_profile, upstream_stall_after_stops_the_bytes_toward_the_server)
{
	char in[64];
	int fd, sfd, lfd;

	fd = proxied("upstream_stall_after = 4\n", &sfd, &lfd);
	send_all(fd, "01234567", 8);
	recv_exact(sfd, in, 4);
	assert_bytes(in, 4, "0123", 4);
	cr_assert_not(readable_within(sfd, 300), "a byte past the stall");
	close(fd);
	close(sfd);
	close(lfd);
}

/* upstream_slow_close: the server gets the bytes at once, the client's FIN 300 ms late. */
Test(fault_profile, upstream_slow_close_holds_the_clients_fin)
{
	char in[16];
	double t0, took;
	int fd, sfd, lfd;

	fd = proxied("upstream_slow_close = 300ms\n", &sfd, &lfd);
	t0 = now_ms();
	send_all(fd, "abc", 3);
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	recv_exact(sfd, in, 3);
	cr_assert_lt(now_ms() - t0, 200, "the bytes were held");
	cr_assert(recv_eof(sfd));
	took = now_ms() - t0;
	cr_assert(took >= 290 && took < 2000, "the FIN after %.0f ms", took);
	/* The answer still reaches the half-closed client. */
	send_all(sfd, "xyz", 3);
	close(sfd);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 3);
	assert_bytes(in, 3, "xyz", 3);
	close(fd);
	close(lfd);
}

/* upstream_timeout: nothing reaches the server; the client is closed after the time. */
Test(fault_profile, upstream_timeout_drops_the_clients_bytes_then_closes)
{
	char in[16];
	double t0, took;
	int fd, sfd, lfd;

	fd = proxied("upstream_timeout = 300ms\n", &sfd, &lfd);
	t0 = now_ms();
	send_all(fd, "abcd", 4);
	cr_assert_not(readable_within(sfd, 150), "a byte through the timeout");
	/* The other way still flows until the close. */
	send_all(sfd, "xy", 2);
	recv_exact(fd, in, 2);
	assert_bytes(in, 2, "xy", 2);
	cr_assert(recv_eof(fd));
	took = now_ms() - t0;
	cr_assert(took >= 290 && took < 2000, "closed after %.0f ms", took);
	close(fd);
	cr_assert_eq(recv_all(sfd, in, sizeof(in)), 0, "the server got a byte");
	close(sfd);
	close(lfd);
}

/*
 * The effective profile, one line per listener with faults, at start and
 * after a reload; /metrics counts the faults given by kind and direction.
 */
Test(fault_profile, the_profile_is_logged_and_counted)
{
	char extra[512], text[8192];
	uint16_t ports[2];
	int fd, i;

	free_ports(ports, 2);
	snprintf(extra, sizeof(extra), "[listener.x]\nbind = 127.0.0.1:%u\nservice = echo\n"
	    "delay = 100ms\njitter = 10ms\nupstream_limit_data = 1000\nseed = 7\n"
	    "[listener.m]\nbind = 127.0.0.1:%u\nservice = metrics\n", ports[0], ports[1]);
	tcpd_start(extra);
	cr_assert_eq(tcpd_log_await("listener x: faults downstream delay=100ms jitter=10ms; "
	    "upstream limit_data=1000; seed 7\n", 1), 1, "%s", tcpd_log_text());
	cr_assert_eq(tcpd_log_count(": faults "), 1, "a line for a listener without faults");
	for (i = 0; i < 3; i++) {
		fd = tcp_connect(ports[0]);
		close(fd);
	}
	exchange_to_eof(ports[1], "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	    out, sizeof(out));
	cr_assert_not_null(strstr(out, "\ntcpd_faults_applied_total{fault=\"delay\","
	    "direction=\"downstream\"} 3\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\ntcpd_faults_applied_total{fault=\"close\","
	    "direction=\"upstream\"} 3\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\ntcpd_faults_applied_total{fault=\"delay\","
	    "direction=\"upstream\"} 0\n"), "%s", out);
	cr_assert_not_null(strstr(out, "# TYPE tcpd_faults_applied_total counter\n"));
	cr_assert_null(strstr(strstr(out, "# TYPE tcpd_faults_applied_total counter\n") + 1,
	    "# TYPE tcpd_faults_applied_total"), "one family");
	snprintf(extra, sizeof(extra), "[listener.x]\nbind = 127.0.0.1:%u\nservice = echo\n"
	    "upstream_slow_close = 50ms\n"
	    "[listener.m]\nbind = 127.0.0.1:%u\nservice = metrics\n", ports[0], ports[1]);
	tcpd_config_text(text, sizeof(text), extra, NULL);
	cr_assert_eq(tcpd_reload(text), 0);
	cr_assert_eq(tcpd_log_count("listener x: faults upstream slow_close=50ms\n"), 1, "%s",
	    tcpd_log_text());
}
