/* SPDX-License-Identifier: MIT */
/*
 * service = proxy under abuse: a server that dies in the middle of a reply
 * (with a FIN, then with an RST), and thousands of pairs closed at once.
 * Afterwards nothing is left open (tcpd's /proc/PID/fd), INFO counts no
 * client but the one asking, tcpd spins no CPU and its memory is back near
 * where it started. A client or server that never reads is in
 * test_proxy_service.c.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(proxy_hostile, .fini = tcpd_teardown, .timeout = 60);

/* tcpd with [listener.p], a proxy to the test's server at up; its port. */
static uint16_t
start_proxy(uint16_t up, unsigned nofile)
{
	char extra[512];
	uint16_t port;

	free_ports(&port, 1);
	snprintf(extra, sizeof(extra), "max_connections = 20000\n[listener.p]\n"
	    "bind = 127.0.0.1:%u\nservice = proxy\nupstream = 127.0.0.1:%u\n"
	    "backlog = 4096\nlog_connections = no\n", port, up);
	tcpd_start_with(extra, NULL, nofile);
	return port;
}

/* tcpd's sockets; not its splice pipe, made once for the process on the first bulk. */
static int
open_fds(void)
{
	char path[64], target[64];
	struct dirent *e;
	DIR *d;
	int n = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)tcpd.pid);
	cr_assert_not_null(d = opendir(path));
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.' &&
		    (len = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1)) > 0)
			n += strncmp(target, "socket:", 7) == 0;
	}
	closedir(d);
	return n;
}

/*
 * The count once tcpd has closed what the harness's start left it (its
 * readiness probe's socket): the same twice, 50 ms apart.
 */
static int
settled_fds(void)
{
	int before, now = open_fds(), i;

	for (i = 0; i < 40; i++) {
		usleep(50000);
		before = now;
		if ((now = open_fds()) == before)
			break;
	}
	return now;
}

/*
 * Everything let go: tcpd's descriptors back to fds0 within 3 s, INFO
 * counting only the client asking, and no CPU over a second of idle.
 */
static void
assert_all_closed(int fds0)
{
	double t0 = now_ms(), cpu0;
	const char *info;

	while (open_fds() != fds0 && now_ms() - t0 < 3000)
		usleep(10000);
	cr_assert_eq(open_fds(), fds0, "tcpd holds %d sockets, %d before",
	    open_fds(), fds0);
	info = tcpd_info();
	cr_assert_not_null(strstr(info, "\r\nconnected_clients:1\r\n"), "%s", info);
	cpu0 = tcpd_cpu_seconds();
	usleep(1000000);
	cr_assert_lt(tcpd_cpu_seconds() - cpu0, 0.05, "%.3f s of CPU in 1 s of idle",
	    tcpd_cpu_seconds() - cpu0);
}

/*
 * The server closes in the middle of its reply: the client gets every byte
 * it sent, then a FIN (what it would see without the proxy), and INFO counts
 * them.
 */
Test(proxy_hostile, an_upstream_that_closes_mid_reply_ends_the_client_with_a_fin)
{
	size_t n = 512 << 10;
	char *reply = random_bytes(n), *in = malloc(n + 1), want[64];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd, fds0;

	port = start_proxy(up, 0);
	fds0 = settled_fds();
	fd = tcp_connect(port);
	sfd = accept_peer(lfd);
	send_all(fd, "GET", 3);
	recv_exact(sfd, in, 3);
	/* A reply the client has not read yet, then the server is gone. */
	send_all(sfd, reply, n);
	close(sfd);
	cr_assert_eq(recv_all(fd, in, n + 1), n);
	cr_assert_arr_eq(in, reply, n);
	close(fd);
	assert_all_closed(fds0);
	snprintf(want, sizeof(want), "\r\ntotal_upstream_input_bytes:%zu\r\n", n);
	cr_assert_not_null(strstr(tcpd_info(), want), "%s", tcpd_info());
	cr_assert_not_null(strstr(tcpd_info(), "\r\ntotal_upstream_output_bytes:3\r\n"));
	close(lfd);
	free(reply);
	free(in);
}

/*
 * The server dies with an RST while the client has most of the reply still
 * to read: the client gets an RST at once, not the queued rest then a FIN.
 */
Test(proxy_hostile, an_upstream_killed_mid_reply_resets_the_client)
{
	size_t n = 4 << 20, got = 0;
	char *reply = random_bytes(n), in[65536];
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), fd, sfd, fds0;
	ssize_t r;

	port = start_proxy(up, 0);
	fds0 = settled_fds();
	fd = tcp_connect_small_window(port);
	sfd = accept_peer(lfd);
	cr_assert_gt(send_until_blocked(sfd, reply, n), 0);
	setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(sfd);
	usleep(100000);
	while ((r = recv(fd, in, sizeof(in), 0)) > 0)
		got += (size_t)r;
	cr_assert(r == -1 && errno == ECONNRESET, "after %zu bytes: %s", got,
	    r == 0 ? "a FIN, not an RST" : strerror(errno));
	cr_assert_lt(got, n);
	close(fd);
	cr_assert_gt(tcpd_log_count("reset by upstream"), 0, "%s", tcpd_log_text());
	assert_all_closed(fds0);
	close(lfd);
	free(reply);
}

/* The pairs many_pairs_closed_at_once asks for, if the hard descriptor limit allows. */
#define PAIRS_WANTED	10000
#define PAIRS_AT_LEAST	2000

/*
 * As many proxied pairs as the descriptor limit allows (each costs the test
 * two and tcpd two), the clients then all closed at once: every server gets
 * its FIN, and once the servers close too, tcpd is back where it started.
 */
Test(proxy_hostile, many_pairs_closed_at_once, .timeout = 30)
{
	struct rlimit rl;
	int *cfd, *sfd, lfd, fds0, n, i, accepted = 0;
	uint16_t up, port;
	long rss0;
	double t0;
	char c;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	rl.rlim_cur = rl.rlim_max;
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0, "%s", strerror(errno));
	n = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 2 * PAIRS_WANTED + 200 ?
	    PAIRS_WANTED : (int)(rl.rlim_max - 200) / 2;
	cr_assert_geq(n, PAIRS_AT_LEAST, "the hard descriptor limit %llu is too low",
	    (unsigned long long)rl.rlim_max);
	cr_assert_not_null(cfd = calloc((size_t)n, sizeof(int)));
	cr_assert_not_null(sfd = calloc((size_t)n, sizeof(int)));
	lfd = tcp_listen_loopback(&up, SOMAXCONN);
	/* Accepted in passing while clients connect: never waited for. */
	cr_assert_eq(fcntl(lfd, F_SETFL, O_NONBLOCK), 0);
	port = start_proxy(up, (unsigned)(2 * n + 200));
	fds0 = settled_fds();
	rss0 = tcpd_rss_kib();
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		cfd[i] = tcp_connect(port);
		/* The test's server keeps up, or its full backlog would drop tcpd's SYNs. */
		while (accepted < n && (sfd[accepted] = accept(lfd, NULL, NULL)) != -1)
			accepted++;
		cr_assert(accepted == n || errno == EAGAIN, "accept: %s", strerror(errno));
	}
	while (accepted < n)
		sfd[accepted++] = accept_peer(lfd);
	cr_assert_eq(open_fds(), fds0 + 2 * n, "tcpd holds %d descriptors for %d pairs",
	    open_fds() - fds0, n);
	for (i = 0; i < n; i++)
		close(cfd[i]);
	for (i = 0; i < n; i++) {
		struct pollfd p = { .fd = sfd[i], .events = POLLIN };

		cr_assert_eq(poll(&p, 1, 3000), 1, "server %d of %d got no FIN", i, n);
		cr_assert_eq(recv(sfd[i], &c, 1, 0), 0, "server %d of %d: no FIN", i, n);
	}
	for (i = 0; i < n; i++)
		close(sfd[i]);
	assert_all_closed(fds0);
	/* Freed memory may stay with malloc (about 1 MiB here), not 200 bytes a pair. */
	assert_rss_growth_below(rss0, 2 * 1024);
	cr_log_info("%d pairs in %.0f ms; tcpd's RSS %ld KiB before, %ld KiB after", n,
	    now_ms() - t0, rss0, tcpd_rss_kib());
	close(lfd);
	free(cfd);
	free(sfd);
}
