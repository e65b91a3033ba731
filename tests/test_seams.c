/* SPDX-License-Identifier: MIT */
/*
 * Where capabilities meet the transport: a peer that leaves while a fault
 * holds its output, a slicing client beside others, a drain under a
 * pipeline, replies larger than the output limit. Each case was a defect.
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>

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

TestSuite(seams, .fini = tcpd_teardown, .timeout = 120);

/* A value from INFO, e.g. "connected_clients". */
static long
info_value(const char *name)
{
	const char *info = tcpd_info(), *at;
	char key[64];

	snprintf(key, sizeof(key), "\r\n%s:", name);
	cr_assert_not_null(at = strstr(info, key), "no %s in INFO", name);
	return strtol(at + strlen(key), NULL, 10);
}

/* Waits up to 5 s for INFO's connected_clients to be want (the asking one included). */
static void
wait_connected(long want)
{
	long n = -1;
	int i;

	for (i = 0; i < 100 && (n = info_value("connected_clients")) != want; i++)
		poll(NULL, 0, 50);
	cr_assert_eq(n, want, "connected_clients %ld, not %ld", n, want);
}

/* CPU seconds tcpd spends in the next second. */
static double
cpu_in_a_second(void)
{
	double cpu0 = tcpd_cpu_seconds();

	poll(NULL, 0, 1000);
	return tcpd_cpu_seconds() - cpu0;
}

/*
 * A fault holds the reply; the peer half-closes, then resets. The error
 * event is reported whatever the connection watches: it must end the
 * connection, not spin until the fault lets the output go.
 */
Test(seams, a_peer_that_resets_while_a_fault_holds_output_is_closed_at_once)
{
	static const char *const faults[] = {
		"DELAY 86400000\r\n", "SLEEP 86400000\r\n", "SLICE 1 86400000\r\n",
	};
	int fds[3], i;
	char in[8];
	double cpu;

	tcpd_start_with(NULL, "faults = loopback", 0);
	for (i = 0; i < 3; i++) {
		fds[i] = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fds[i], faults[i], strlen(faults[i]));
		/* The fault's own +OK is read (SLICE's first byte: its gap holds the rest). */
		recv_exact(fds[i], in, 1);
		send_all(fds[i], "PING\r\n", 6);
		shutdown(fds[i], SHUT_WR);
	}
	poll(NULL, 0, 100);
	for (i = 0; i < 3; i++)
		rst_close(fds[i]);
	wait_connected(1);
	cr_assert_geq(tcpd_log_count("closed: reset by peer"), 3);
	cpu = cpu_in_a_second();
	cr_assert_lt(cpu, 0.2, "%.2f CPU-s in 1 s after the resets", cpu);
}

/* The same through a listener's profile, which no command gates. */
Test(seams, a_peer_that_resets_during_a_profile_delay_costs_no_cpu)
{
	enum { N = 20 };
	uint16_t ports[2];
	char global[256];
	int fds[N], i;
	double cpu;

	free_ports(ports, 2);
	snprintf(global, sizeof(global), "[listener.slow]\nbind = 127.0.0.1:%u\n"
	    "service = echo\ndelay = 60s\n[listener.gappy]\nbind = 127.0.0.1:%u\n"
	    "service = echo\nslice = 1\nslice_gap = 60s\n", ports[0], ports[1]);
	tcpd_start(global);
	for (i = 0; i < N; i++) {
		fds[i] = tcp_connect(ports[i % 2]);
		send_all(fds[i], "ab", 2);
		shutdown(fds[i], SHUT_WR);
	}
	poll(NULL, 0, 200);
	for (i = 0; i < N; i++)
		rst_close(fds[i]);
	wait_connected(1);
	cpu = cpu_in_a_second();
	cr_assert_lt(cpu, 0.2, "%.2f CPU-s in 1 s after the resets", cpu);
}

/* SIGTERM now; the exit status once tcpd has exited (within 15 s). */
static int
stop_and_wait(void)
{
	int status = 0, i;

	kill(tcpd.pid, SIGTERM);
	for (i = 0; i < 1500 && waitpid(tcpd.pid, &status, WNOHANG) == 0; i++)
		poll(NULL, 0, 10);
	cr_assert_lt(i, 1500, "tcpd still draining after 15 s");
	tcpd.pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * A finishing connection that has read nothing (daytime paced at a byte a
 * second) while shutting down: it waits for its output, not in a loop of
 * 0 ms timers.
 */
Test(seams, a_drain_waiting_on_a_paced_reply_costs_no_cpu)
{
	uint16_t port;
	char global[160];
	double cpu;
	int fd;

	free_ports(&port, 1);
	snprintf(global, sizeof(global), "shutdown_timeout = 4\n[listener.slow]\n"
	    "bind = 127.0.0.1:%u\nservice = daytime\nrate = 1\n", port);
	tcpd_start(global);
	fd = tcp_connect(port);
	kill(tcpd.pid, SIGTERM);
	/* Past the second a just-accepted connection is given to send its request. */
	poll(NULL, 0, 1100);
	cpu = cpu_in_a_second();
	cr_assert_lt(cpu, 0.2, "%.2f CPU-s in 1 s of the drain", cpu);
	cr_assert_eq(stop_and_wait(), 0);
	close(fd);
}

/*
 * Clients pipelining PINGs without reading while tcpd shuts down, each in
 * bursts that tcpd answers faster than they come: each gets whole replies,
 * then our FIN, never an RST that would destroy the replies it has not read.
 */
Test(seams, a_drain_under_a_pipeline_ends_with_a_fin_not_a_reset)
{
	enum { N = 4, BURSTS = 300, PER_BURST = 100 };
	static char pings[PER_BURST * 6], in[1 << 16];
	size_t got, i, j;
	int fds[N], burst;
	ssize_t n;

	for (i = 0; i < PER_BURST; i++)
		memcpy(pings + 6 * i, "PING\r\n", 6);
	tcpd_start(NULL);
	for (i = 0; i < N; i++)
		fds[i] = tcp_connect(tcpd.port[P_COMMAND]);
	for (burst = 0; burst < BURSTS; burst++) {
		if (burst == BURSTS / 3)
			kill(tcpd.pid, SIGTERM);
		for (i = 0; i < N; i++) {
			n = send(fds[i], pings, sizeof(pings), MSG_NOSIGNAL);
			cr_assert_eq(n, (ssize_t)sizeof(pings), "client %zu, burst %d: %s", i,
			    burst, strerror(errno));
		}
		poll(NULL, 0, 2);
	}
	for (i = 0; i < N; i++) {
		got = 0;
		while ((n = recv(fds[i], in, sizeof(in), 0)) > 0) {
			for (j = 0; j < (size_t)n; j++)
				cr_assert_eq(in[j], "+PONG\r\n"[(got + j) % 7],
				    "client %zu: byte %zu", i, got + j);
			got += (size_t)n;
		}
		cr_assert_eq(n, 0, "client %zu: %s after %zu bytes", i, strerror(errno), got);
		cr_assert_eq(got % 7, 0, "client %zu: a reply cut short", i);
		cr_assert_gt(got, 0, "client %zu: no reply", i);
		close(fds[i]);
	}
	cr_assert_eq(stop_and_wait(), 0);
}

/* An idle client at a drain gets our FIN; tcpd waits for it no longer than a quiet spell. */
Test(seams, an_idle_client_at_a_drain_gets_a_fin_and_tcpd_exits_soon)
{
	struct timespec t0, t1;
	int fd;

	tcpd_start(NULL);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	assert_ping(fd);
	poll(NULL, 0, 600);	/* quiet for longer than the drain waits */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(stop_and_wait(), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_lt(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9, 2.0,
	    "the drain waited on a quiet peer that never closes");
	cr_assert(recv_eof(fd));
	close(fd);
}

/*
 * Clients that read a 1-byte-sliced stream as fast as it comes: each write
 * is one byte, so a turn counts writes as well as bytes, and a bystander's
 * PING is answered as if they were not there.
 */
Test(seams, one_byte_slices_do_not_starve_other_clients)
{
	enum { SLICERS = 4, PINGS = 20 };
	static const char req[] = "SLICE 1\r\nSTREAM 1099511627776\r\n";
	struct timespec t0, t1;
	double worst = 0, ms;
	pid_t reader;
	int fds[SLICERS], i, fd;

	tcpd_start_with(NULL, "faults = loopback", 0);
	for (i = 0; i < SLICERS; i++) {
		fds[i] = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fds[i], req, sizeof(req) - 1);
	}
	/* A child reads the slices as fast as they come, for 10 s at most. */
	if ((reader = fork()) == 0) {
		static char sink[1 << 16];
		struct pollfd p[SLICERS];
		int k;

		alarm(10);
		for (k = 0; k < SLICERS; k++)
			p[k] = (struct pollfd){ .fd = fds[k], .events = POLLIN };
		for (;;) {
			if (poll(p, SLICERS, 100) <= 0)
				continue;
			for (k = 0; k < SLICERS; k++)
				if (p[k].revents & POLLIN)
					(void)!recv(fds[k], sink, sizeof(sink), MSG_DONTWAIT);
		}
	}
	cr_assert_gt(reader, 0);
	poll(NULL, 0, 300);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	for (i = 0; i < PINGS; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_ping(fd);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		worst = ms > worst ? ms : worst;
		poll(NULL, 0, 20);
	}
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);
	close(fd);
	for (i = 0; i < SLICERS; i++)
		close(fds[i]);
	cr_assert_lt(worst, 250, "a PING took %.0f ms beside %d slicing clients", worst, SLICERS);
}

/*
 * Replies are whole or not at all: requests stop being taken once output
 * reaches output_limit, and the reply that crosses it still goes out whole.
 */
Test(seams, replies_larger_than_the_output_limit_come_whole)
{
	static char in[(1 << 20) + 200000];
	size_t n;
	int fd;

	tcpd_start_with(NULL, "faults = loopback", 0);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "GARBAGE 100000\r\nGARBAGE 1048576\r\nQUIT\r\n", 39);
	n = recv_all(fd, in, sizeof(in));
	close(fd);
	cr_assert_eq(n, 100000 + 1048576 + 5, "%zu bytes", n);
	assert_bytes(in + 99998, 2, "\r\n", 2);
	assert_bytes(in + 100000, 24, "@tcpd garbage, not RESP ", 24);
	assert_bytes(in + n - 7, 7, "\r\n+OK\r\n", 7);
}

Test(seams, metrics_come_whole_under_a_small_output_limit)
{
	static char out[1 << 17];
	const char *body;
	char global[200];
	uint16_t port;

	free_ports(&port, 1);
	snprintf(global, sizeof(global), "output_limit = 8192\nmax_line = 4096\n"
	    "[listener.metrics]\nbind = 127.0.0.1:%u\nservice = metrics\n", port);
	tcpd_start(global);
	exchange_to_eof(port, "GET /metrics HTTP/1.0\r\n\r\n", out, sizeof(out));
	cr_assert(strncmp(out, "HTTP/1.1 200 ", 13) == 0, "%.80s", out);
	cr_assert_not_null(body = strstr(out, "\r\n\r\n"));
	cr_assert_gt(strlen(body + 4), 8192, "a body of %zu bytes", strlen(body + 4));
	cr_assert_eq(strtoul(strstr(out, "Content-Length: ") + 16, NULL, 10), strlen(body + 4));
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * A fault set by a request starts at its own reply: a reply queued before it
 * goes as it would have, a STREAM's rate ends with the stream, and a second
 * end does not silently replace the first.
 */
Test(seams, faults_start_and_end_at_their_own_replies)
{
	char in[128];
	struct timespec t0;
	double ms;
	size_t n;
	int fd;

	tcpd_start_with(NULL, "faults = loopback", 0);
	/* The ECHO before SLICE comes at once, in one piece; SLICE's +OK a byte a 200 ms. */
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_all(fd, "ECHO 0123456789abcdefghij\r\nSLICE 1 200\r\n", 40);
	recv_exact(fd, in, 28);
	assert_reply(in, 28, "$20\r\n0123456789abcdefghij\r\n+");
	ms = ms_since(&t0);
	cr_assert_lt(ms, 150, "the earlier reply took %.0f ms", ms);
	close(fd);

	/* STREAM 10 RATE 20: 17 bytes in about 850 ms; the PING after it is not paced. */
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "STREAM 10 RATE 20\r\nPING\r\n", 25);
	recv_exact(fd, in, 17);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	recv_exact(fd, in, 7);
	assert_reply(in, 7, "+PONG\r\n");
	ms = ms_since(&t0);
	cr_assert_lt(ms, 150, "the reply after the stream took %.0f ms more", ms);
	close(fd);

	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "CLOSE AFTER 1000\r\nFAULT RESET AFTER 10\r\nQUIT\r\n", 46);
	n = recv_all(fd, in, sizeof(in));
	assert_reply(in, n, "+OK\r\n-ERR CLOSE AFTER is already set: FAULTS CLEAR first\r\n"
	    "+OK\r\n");
	close(fd);
}

/* A client that sends and half-closes during accept_delay (nc -N) gets its echo, then EOF. */
Test(seams, a_half_close_during_accept_delay_gets_its_echo)
{
	char global[128], in[16];
	uint16_t port;
	int fd;

	free_ports(&port, 1);
	snprintf(global, sizeof(global), "[listener.late]\nbind = 127.0.0.1:%u\n"
	    "service = echo\naccept_delay = 300ms\n", port);
	tcpd_start(global);
	fd = tcp_connect(port);
	send_all(fd, "hello", 5);
	shutdown(fd, SHUT_WR);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 5, "%s", strerror(errno));
	assert_reply(in, 5, "hello");
	close(fd);
}

/*
 * The PROXY header and the admission of the client it names are phases of
 * the connection: the per-IP count taken for that client is given back at
 * its close, so the same client comes back again and again.
 */
Test(seams, a_proxied_client_gives_back_its_per_ip_count)
{
	static const char req[] = "PROXY TCP4 10.0.0.9 10.0.0.2 1234 80\r\nPING\r\n";
	char global[256], in[8];
	uint16_t port;
	int fd, i;

	free_ports(&port, 1);
	snprintf(global, sizeof(global), "[listener.proxied]\nbind = 127.0.0.1:%u\n"
	    "service = command\nproxy_protocol = v1\nproxy_trusted = 127.0.0.1\n"
	    "max_connections_per_ip = 1\n", port);
	tcpd_start(global);
	for (i = 0; i < 3; i++) {
		fd = tcp_connect(port);
		send_all(fd, req, sizeof(req) - 1);
		recv_exact(fd, in, 7);
		assert_reply(in, 7, "+PONG\r\n");
		close(fd);
		wait_connected(1);
	}
}

/*
 * Clients that reset before tcpd accepts them: daytime's open writes the
 * date at once and the write fails inside conn_new, which must then drop
 * the connection whole (a close asked for while it is built only dooms it)
 * while a client connected before the storm is served on.
 */
Test(seams, a_peer_gone_before_its_greeting_is_dropped_whole)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd, keep, i;

	tcpd_start(NULL);
	keep = tcp_connect(tcpd.port[P_COMMAND]);
	assert_ping(keep);
	sin.sin_port = htons(tcpd.port[P_DAYTIME]);
	/* Stop tcpd's loop for a moment, so the resets land before the accepts. */
	kill(tcpd.pid, SIGSTOP);
	for (i = 0; i < 100; i++) {
		cr_assert_geq(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		close(fd);
	}
	kill(tcpd.pid, SIGCONT);
	assert_ping(keep);
	wait_connected(2);
	close(keep);
	wait_connected(1);
}

/* A HALFCLOSE keeps reading for good, but a stop ends it once the peer is quiet. */
Test(seams, a_halfclosed_connection_does_not_hold_up_a_stop)
{
	struct timespec t0;
	char in[8];
	int fd;

	tcpd_start_with(NULL, "faults = loopback", 0);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "HALFCLOSE\r\n", 11);
	recv_exact(fd, in, 5);
	cr_assert(recv_eof(fd));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(stop_and_wait(), 0);
	cr_assert_lt(ms_since(&t0), 2000, "the stop waited %.0f ms", ms_since(&t0));
	close(fd);
}

/*
 * A client that sends a STALL and closes during accept_delay: its FIN is
 * kept for the delay only; once the stall holds reading, the peer's close
 * frees the connection as for any stall.
 */
Test(seams, a_fin_kept_through_accept_delay_still_frees_a_stalled_connection)
{
	char global[160];
	uint16_t port;
	int fd;

	free_ports(&port, 1);
	snprintf(global, sizeof(global), "idle_timeout = 0\n[listener.late]\n"
	    "bind = 127.0.0.1:%u\nservice = command\nfaults = loopback\n"
	    "accept_delay = 300ms\n", port);
	tcpd_start(global);
	fd = tcp_connect(port);
	send_all(fd, "STALL\r\n", 7);
	close(fd);
	wait_connected(1);
}

/* The rest of a PROXY header that comes after a stop began starts no service. */
Test(seams, a_header_finished_after_a_stop_began_starts_nothing)
{
	static const char header[] = "PROXY TCP4 10.0.0.9 10.0.0.2 1234 13\r\n";
	char global[256], in[64];
	uint16_t port;
	int fd;

	free_ports(&port, 1);
	snprintf(global, sizeof(global), "[listener.proxied]\nbind = 127.0.0.1:%u\n"
	    "service = daytime\nproxy_protocol = v1\nproxy_trusted = 127.0.0.1\n", port);
	tcpd_start(global);
	fd = tcp_connect(port);
	send_all(fd, header, 10);
	poll(NULL, 0, 100);
	kill(tcpd.pid, SIGTERM);
	poll(NULL, 0, 100);
	send_all(fd, header + 10, sizeof(header) - 11);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 0, "the service ran after the stop began");
	close(fd);
	cr_assert_eq(stop_and_wait(), 0);
	cr_assert_eq(tcpd_log_count("reset by peer"), 0);
}

/* A RATE pipelined behind queued output leaves that output its own rate. */
Test(seams, output_queued_under_a_rate_keeps_it)
{
	static char in[8192];
	struct timespec t0;
	int fd;

	tcpd_start_with(NULL, "faults = loopback", 0);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_all(fd, "RATE 4000\r\nGARBAGE 4000\r\nRATE 0\r\nPING\r\n", 40);
	recv_exact(fd, in, 5 + 4000 + 5 + 7);
	cr_assert_gt(ms_since(&t0), 700, "4 KB at 4000 bytes/s came in %.0f ms", ms_since(&t0));
	assert_bytes(in + 4010, 7, "+PONG\r\n", 7);
	close(fd);
}

/*
 * A service's state is given back when its connection goes (the release
 * hook): the fault state a command connection makes at its first fault.
 */
Test(seams, a_connections_fault_state_is_given_back_when_it_goes)
{
	enum { N = 40000 };
	char in[8];
	long rss0;
	int i, fd;

	tcpd_start_with(NULL, "faults = loopback", 0);
	for (i = 0; i < 2000; i++) {	/* the allocator's pools, warmed */
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fd, "DELAY 0\r\n", 9);
		recv_exact(fd, in, 5);
		close(fd);
	}
	rss0 = tcpd_rss_kib();
	for (i = 0; i < N; i++) {
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fd, "DELAY 0\r\n", 9);
		recv_exact(fd, in, 5);
		close(fd);
	}
	wait_connected(1);
	/* Kept, 40,000 of them would be 1.25 MiB. */
	assert_rss_growth_below(rss0, 512);
}
