/* SPDX-License-Identifier: MIT */
/*
 * Faults a client asks for on its own connection: byte for byte on the
 * wire, the gate, and real clients (Python's redis, redis-cli) raising
 * their own errors.
 */
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static char text[1 << 16];

static void
setup(void)
{
	tcpd_start_with(NULL, "faults = loopback", 0);
}

TestSuite(faults, .init = setup, .fini = tcpd_teardown, .timeout = 60);

/* Sends request on a new command connection; what came back until EOF. */
static const char *
exchange(const char *request)
{
	return exchange_to_eof(tcpd.port[P_COMMAND], request, text, sizeof(text));
}

Test(faults, replies_byte_for_byte)
{
	cr_assert_str_eq(exchange("ERROR \"WRONGTYPE made up\"\r\nQUIT\r\n"),
	    "-WRONGTYPE made up\r\n+OK\r\n");
	cr_assert_str_eq(exchange("GARBAGE 30\r\nQUIT\r\n"),
	    "@tcpd garbage, not RESP @tcp\r\n+OK\r\n");
	/* The next reply cut in half, then a close. */
	cr_assert_str_eq(exchange("TRUNCATE\r\nFAULTS\r\nECHO 0123456789\r\nPING\r\n"),
	    "+OK\r\n*1\r\n$23\r\nTRUNCATE the next reply\r\n$10\r\n012");
	cr_assert_str_eq(exchange("TRUNCATE\r\nFAULTS CLEAR\r\nFAULTS\r\nQUIT\r\n"),
	    "+OK\r\n+OK\r\n*0\r\n+OK\r\n");
	/* A FIN, no reply; what follows is not run. */
	cr_assert_str_eq(exchange("CLOSE\r\nPING\r\n"), "");
	cr_assert_str_eq(exchange("GARBAGE 0\r\nQUIT\r\n"),
	    "-ERR syntax: GARBAGE n (1 to 1048576)\r\n+OK\r\n");
}

Test(faults, reset_is_an_rst)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	char in[16];
	ssize_t n;

	send_all(fd, "FAULT RESET\r\n", 13);
	while ((n = recv(fd, in, sizeof(in), 0)) > 0)
		continue;
	cr_assert_eq(n, -1, "a FIN, not an RST");
	cr_assert_eq(errno, ECONNRESET, "%s", strerror(errno));
	close(fd);
}

/* HALFCLOSE: the client reads EOF while its writes still go through. */
Test(faults, halfclose_keeps_reading)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	char in[16];
	size_t n;

	send_all(fd, "HALFCLOSE\r\n", 11);
	n = recv_all(fd, in, sizeof(in));
	assert_bytes(in, n, "+OK\r\n", 5);	/* then EOF */
	poll(NULL, 0, 100);
	cr_assert_eq(send(fd, "PING\r\n", 6, MSG_NOSIGNAL), 6);
	poll(NULL, 0, 100);
	cr_assert_eq(send(fd, "PING\r\n", 6, MSG_NOSIGNAL), 6, "the write after EOF: %s",
	    strerror(errno));
	/* Past the 5 s a plain finish waits for the peer's FIN: still open for writes. */
	poll(NULL, 0, 5500);
	cr_assert_eq(send(fd, "PING\r\n", 6, MSG_NOSIGNAL), 6);
	poll(NULL, 0, 100);
	cr_assert_eq(send(fd, "PING\r\n", 6, MSG_NOSIGNAL), 6, "closed after the linger: %s",
	    strerror(errno));
	close(fd);
	ping_ok();
}

Test(faults, counted_in_info)
{
	const char *info;

	exchange("ERROR x\r\nGARBAGE 1\r\nQUIT\r\n");
	exchange("CLOSE\r\n");
	exchange("DELAY 1\r\nCLOSE AFTER 0\r\n");
	info = exchange("INFO faults\r\nQUIT\r\n");
	cr_assert_not_null(strstr(info, "fault_close:2\r\nfault_reset:0\r\nfault_halfclose:0\r\n"
	    "fault_truncate:0\r\nfault_error:1\r\nfault_garbage:1\r\nfault_delay:1\r\n"
	    "fault_sleep:0\r\nfault_rate:0\r\nfault_slice:0\r\nfault_stream:0\r\n"
	    "fault_stall:0\r\nfault_profile_connections:0\r\nfault_timed_ends:1\r\n"),
	    "%s", info);
}

/* faults = off refuses, naming the setting; loopback refuses any other peer. */
Test(faults, the_gate_names_its_setting, .init = NULL)
{
	tcpd_start(NULL);
	cr_assert_str_eq(exchange("FAULT RESET\r\nQUIT\r\n"),
	    "-ERR fault commands are off on this listener (faults = off)\r\n+OK\r\n");
	cr_assert_eq(tcpd_stop(), 0);
	/* Behind a load balancer the client is who the header names. */
	tcpd_start_with(NULL, "faults = loopback\nproxy_protocol = v1\nproxy_trusted = 127.0.0.1",
	    0);
	cr_assert_str_eq(exchange("PROXY TCP4 192.0.2.7 127.0.0.1 4242 7070\r\nFAULT RESET\r\nQUIT\r\n"),
	    "-ERR fault commands are allowed only from 127.0.0.0/8 and ::1 on this listener "
	    "(faults = loopback)\r\n+OK\r\n");
	cr_assert_str_eq(exchange("PROXY TCP4 127.0.0.9 127.0.0.1 4242 7070\r\nERROR E\r\n"
	    "QUIT\r\n"), "-E\r\n+OK\r\n");
}

Test(faults, pythons_redis_client_raises_its_own_errors)
{
	char script[512], port[8];
	const char *argv[] = { "/usr/bin/python3", script, port, NULL };
	int rc;

	if (system("/usr/bin/python3 -c 'import redis' 2>/dev/null") != 0)
		cr_skip_test("python3-redis is not installed");
	snprintf(script, sizeof(script), "%s/tests/clients/redis_py_faults.py", source_root());
	snprintf(port, sizeof(port), "%u", tcpd.port[P_COMMAND]);
	rc = run_capture(argv, text, sizeof(text));
	cr_assert_eq(rc, 0, "%s", text);
	cr_assert_str_eq(text, "reset: redis.exceptions.ConnectionError\n"
	    "close: redis.exceptions.ConnectionError\n"
	    "truncate: redis.exceptions.ConnectionError\n"
	    "error: redis.exceptions.ResponseError\n"
	    "garbage: redis.exceptions.InvalidResponse\n"
	    "delay: redis.exceptions.TimeoutError\n"
	    "stall: redis.exceptions.TimeoutError\n"
	    "recovered: PING on a new connection\n");
}

Test(faults, redis_cli_against_garbage)
{
	const char *argv[] = { "/usr/bin/redis-cli", "-p", NULL, "GARBAGE", "12", NULL };
	char port[8];

	if (access(argv[0], X_OK) != 0)
		cr_skip_test("redis-cli is not installed");
	snprintf(port, sizeof(port), "%u", tcpd.port[P_COMMAND]);
	argv[2] = port;
	cr_assert_eq(run_capture(argv, text, sizeof(text)), 1, "%s", text);
	cr_assert_str_eq(text, "Error: Protocol error, got \"@\" as reply type byte\n");
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Whether fd has bytes (or EOF) to read within ms. */
static bool
readable_within(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1;
}

/* Sends request; asserts the reply arrives in full no sooner than min_ms. */
static void
assert_late(int fd, const char *request, const char *reply, uint64_t min_ms)
{
	uint64_t start = ms_now(), took;
	char in[256];

	send_all(fd, request, strlen(request));
	recv_exact(fd, in, strlen(reply));
	took = ms_now() - start;
	assert_bytes(in, strlen(reply), reply, strlen(reply));
	cr_assert_geq(took, min_ms, "%s came after %llu ms", reply, (unsigned long long)took);
}

Test(faults, delay_holds_every_following_reply_in_order)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	assert_late(fd, "DELAY 200\r\n", "+OK\r\n", 0);
	assert_late(fd, "PING\r\nECHO a\r\nPING\r\n", "+PONG\r\n$1\r\na\r\n+PONG\r\n", 195);
	assert_late(fd, "PING\r\n", "+PONG\r\n", 195);
	assert_late(fd, "DELAY 0\r\n", "+OK\r\n", 195);
	assert_late(fd, "PING\r\n", "+PONG\r\n", 0);
	close(fd);
	/* Another client is never delayed by this one. */
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	assert_late(fd, "DELAY 5s\r\nPING\r\n", "+OK\r\n", 0);
	ping_ok();
	close(fd);
}

Test(faults, sleep_holds_only_the_next_reply)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	uint64_t start = ms_now();

	assert_late(fd, "SLEEP 300\r\nPING\r\n", "+OK\r\n+PONG\r\n", 295);
	start = ms_now();
	assert_late(fd, "PING\r\n", "+PONG\r\n", 0);
	cr_assert_lt(ms_now() - start, 250, "the second reply was slept too");
	close(fd);
}

/*
 * STALL 300, then RESET: in the same write (gap_ms 0), or gap_ms later. Nothing
 * is read in a stall: the RESET runs only once it ends, after the OK.
 */
static void
assert_reset_waits_for_the_stall(int gap_ms)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	uint64_t start = ms_now();
	char in[16];
	ssize_t n;

	if (gap_ms == 0) {
		send_all(fd, "STALL 300\r\nFAULT RESET\r\n", 24);	/* one segment */
	} else {
		send_all(fd, "STALL 300\r\n", 11);
		poll(NULL, 0, gap_ms);
		send_all(fd, "FAULT RESET\r\n", 13);
	}
	cr_assert_eq(recv(fd, in, sizeof(in), 0), 5, "the OK, once the stall is over");
	n = recv(fd, in, sizeof(in), 0);
	cr_assert(n == -1 && errno == ECONNRESET, "%zd %s", n, strerror(errno));
	cr_assert_geq(ms_now() - start, 295);
	close(fd);
}

Test(faults, stall_stops_reading_and_answering)
{
	static char junk[8 << 20];
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	size_t sent;

	assert_late(fd, "STALL 300\r\nPING\r\n", "+OK\r\n+PONG\r\n", 295);
	close(fd);
	assert_reset_waits_for_the_stall(0);
	assert_reset_waits_for_the_stall(50);
	/* For good: nothing comes back and, once both windows are full, writes block. */
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "STALL\r\n", 7);
	cr_assert_not(readable_within(fd, 300), "a reply during the stall");
	memset(junk, 'x', sizeof(junk));
	sent = send_until_blocked(fd, junk, sizeof(junk));
	cr_assert_lt(sent, sizeof(junk), "8 MiB went into a connection that reads nothing");
	close(fd);
	ping_ok();
}

Test(faults, rate_paces_a_stream_of_the_pattern)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	static char in[20100], expect[20100];
	uint64_t start, took;
	size_t i, n;

	n = (size_t)snprintf(expect, sizeof(expect), "+OK\r\n$20000\r\n");
	for (i = 0; i < 20000; i++)
		expect[n++] = (char)('!' + i % 94);
	n += (size_t)snprintf(expect + n, sizeof(expect) - n, "\r\n+OK\r\n");
	start = ms_now();
	send_all(fd, "RATE 40000\r\nSTREAM 20000\r\nQUIT\r\n", 32);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), n);
	took = ms_now() - start;
	assert_bytes(in, n, expect, n);
	/* 20,030 bytes at 40,000 a second: half a second, less one 10 ms burst. */
	cr_assert_geq(took, 480, "%llu ms", (unsigned long long)took);
	close(fd);
}

Test(faults, stream_larger_than_the_output_limit_comes_whole)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	static char in[1 << 16];
	uint64_t total = 0, want = 8u << 20;
	char head[16];
	size_t i;
	ssize_t r;

	send_all(fd, "STREAM 8388608\r\nQUIT\r\n", 22);
	recv_exact(fd, head, 11);
	assert_bytes(head, 11, "$8388608\r\n!", 11);
	total = 1;
	while ((r = recv(fd, in, sizeof(in), 0)) > 0) {
		for (i = 0; i < (size_t)r && total < want; i++, total++)
			cr_assert_eq(in[i], '!' + total % 94, "byte %llu", (unsigned long long)total);
		if (i < (size_t)r) {
			assert_bytes(in + i, (size_t)r - i, "\r\n+OK\r\n", (size_t)r - i);
			total += (uint64_t)r - i;
		}
	}
	cr_assert_eq(total, want + 7);
	close(fd);
}

Test(faults, slice_cuts_replies_into_segments)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	char in[64];
	size_t got = 0, reads = 0;
	ssize_t r;

	send_all(fd, "SLICE 3 40\r\n", 12);
	recv_exact(fd, in, 5);
	send_all(fd, "ECHO abcdefghij\r\n", 17);	/* $10 abcdefghij: 17 bytes */
	while (got < 17 && (r = recv(fd, in + got, sizeof(in) - got, 0)) > 0) {
		cr_assert_leq(r, 3, "a read of %zd bytes", r);
		got += (size_t)r;
		reads++;
	}
	assert_bytes(in, got, "$10\r\nabcdefghij\r\n", 17);
	cr_assert_geq(reads, 6);
	close(fd);
}

Test(faults, close_and_reset_after_bytes_or_time)
{
	int fd;
	uint64_t start;
	char in[16];
	ssize_t n;

	/* FIN right after the 7th byte that follows the OK; the rest is dropped. */
	cr_assert_str_eq(exchange("CLOSE AFTER 7\r\nECHO 0123456789\r\nPING\r\n"),
	    "+OK\r\n$10\r\n01");
	cr_assert_str_eq(exchange("CLOSE AFTER 0\r\nPING\r\n"), "+OK\r\n");
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	start = ms_now();
	send_all(fd, "FAULT RESET AFTER 200ms\r\nPING\r\n", 31);
	recv_exact(fd, in, 12);
	assert_bytes(in, 12, "+OK\r\n+PONG\r\n", 12);
	n = recv(fd, in, sizeof(in), 0);
	cr_assert(n == -1 && errno == ECONNRESET, "%zd %s", n, strerror(errno));
	cr_assert_geq(ms_now() - start, 195);
	close(fd);
}

Test(faults, listed_cleared_and_refused_with_their_syntax)
{
	cr_assert_str_eq(exchange("DELAY 100 10\r\nRATE 5000\r\nSLICE 2\r\nCLOSE AFTER 9s\r\n"
	    "TRUNCATE\r\nFAULTS\r\nFAULTS CLEAR\r\nFAULTS\r\nQUIT\r\n"),
	    "+OK\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n*5\r\n$24\r\nCLOSE AFTER 9000 ms more\r\n"
	    "$23\r\nTRUNCATE the next reply\r\n$12\r\nDELAY 100 10\r\n"
	    "$17\r\nRATE 5000 bytes/s\r\n$18\r\nSLICE 2 every 0 ms\r\n+OK\r\n*0\r\n+OK\r\n");
	cr_assert_str_eq(exchange("DELAY 10 20\r\nSTALL 1x\r\nFAULT RESET AFTER 10m\r\n"
	    "STREAM 1099511627777\r\nSTREAM 5 RATE 0\r\nQUIT\r\n"),
	    "-ERR syntax: DELAY ms [jitter_ms], jitter at most ms\r\n"
	    "-ERR syntax: STALL [ms]\r\n"
	    "-ERR syntax: FAULT RESET [AFTER bytes|250ms|2s]\r\n"
	    "-ERR syntax: STREAM bytes [RATE bytes_per_s], at most 1099511627776 bytes\r\n"
	    "-ERR syntax: STREAM bytes [RATE bytes_per_s], at most 1099511627776 bytes\r\n"
	    "+OK\r\n");
}

/* Which of n echo connections in a row the listener resets, as '0' and '1'. */
static void
reset_pattern(char *dst, size_t n)
{
	char in[8];
	size_t i;
	ssize_t r;
	int fd;

	for (i = 0; i < n; i++) {
		fd = tcp_connect(tcpd.port[P_ECHO]);
		/* A send that meets the RST takes its error: the read then sees EOF. */
		send(fd, "hi\n", 3, MSG_NOSIGNAL);
		r = recv(fd, in, sizeof(in), 0);
		cr_assert(r == 3 || r == 0 || (r == -1 && errno == ECONNRESET), "%zd %s", r,
		    strerror(errno));
		dst[i] = r == 3 ? '0' : '1';
		close(fd);
	}
	dst[n] = '\0';
}

Test(faults, a_seeded_profile_replays_the_same_connections, .init = NULL)
{
	char first[41], second[41], other[41];

	tcpd_start_with(NULL, "reset_probability = 30%\nseed = 7", 0);
	reset_pattern(first, 40);
	cr_assert_eq(tcpd_stop(), 0);
	tcpd_restart_same_ports();
	reset_pattern(second, 40);
	cr_assert_str_eq(first, second);
	cr_assert(strchr(first, '1') != NULL && strchr(first, '0') != NULL, "%s", first);
	cr_assert_eq(tcpd_stop(), 0);
	tcpd_start_with(NULL, "reset_probability = 30%\nseed = 8", 0);
	reset_pattern(other, 40);
	cr_assert_str_neq(first, other);
}

Test(faults, a_profile_delays_and_closes_raw_services, .init = NULL)
{
	int fd;
	char in[16];

	tcpd_start_with(NULL, "delay = 150ms\nclose_after = 4", 0);
	fd = tcp_connect(tcpd.port[P_ECHO]);
	assert_late(fd, "abcdef", "abcd", 145);
	cr_assert(recv_eof(fd));
	close(fd);
	/* daytime's greeting is output too: cut at 4 bytes. */
	fd = tcp_connect(tcpd.port[P_DAYTIME]);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 4);
	close(fd);
}

/*
 * The upstream direction: the client's bytes wait, are paced and sliced on
 * their way to the service, while what the service sends goes at once.
 */
Test(faults, an_upstream_profile_holds_only_the_bytes_toward_the_service, .init = NULL)
{
	static char big[2048], back[sizeof(big)];
	uint64_t start;
	int fd;
	char in[64];

	tcpd_start_with(NULL, "upstream_delay = 150ms\nupstream_rate = 4k", 0);
	fd = tcp_connect(tcpd.port[P_ECHO]);
	assert_late(fd, "abcdef", "abcdef", 145);
	/* 2 KiB held 150 ms, then shown at 4 KiB/s: half a second more. */
	memset(big, 'x', sizeof(big));
	start = ms_now();
	send_all(fd, big, sizeof(big));
	recv_exact(fd, back, sizeof(back));
	cr_assert_geq(ms_now() - start, 600);
	/* A FIN waits behind the bytes held before it: nc -N still gets its echo. */
	send_all(fd, "bye", 3);
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	recv_exact(fd, in, 3);
	assert_bytes(in, 3, "bye", 3);
	cr_assert(recv_eof(fd));
	close(fd);
	/* A service that answers nothing: the close follows the held bytes it swallows. */
	fd = tcp_connect(tcpd.port[P_DISCARD]);
	send_all(fd, "abc", 3);
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	cr_assert(recv_eof(fd));
	close(fd);
	/* Nothing toward the client waits: daytime's line comes at once. */
	start = ms_now();
	fd = tcp_connect(tcpd.port[P_DAYTIME]);
	cr_assert_gt(recv_all(fd, in, sizeof(in)), 0);
	cr_assert_lt(ms_now() - start, 140);
	close(fd);
}

/* Slices toward the service: a request shown a byte at a time, 20 ms apart. */
Test(faults, upstream_slices_show_a_request_piece_by_piece, .init = NULL)
{
	int fd;

	tcpd_start_with(NULL, "upstream_slice = 1\nupstream_slice_gap = 20ms", 0);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	assert_late(fd, "PING\r\n", "+PONG\r\n", 98);
	close(fd);
}

/*
 * Slices with no gap between them: each is shown on the loop's next turn,
 * not only when the client sends more.
 */
Test(faults, upstream_slices_without_a_gap_show_the_whole_request, .init = NULL)
{
	char in[16];
	int fd;

	tcpd_start_with(NULL, "upstream_slice = 2", 0);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "PING\r\n", 6);
	cr_assert(readable_within(fd, 2000), "PING shown 2 bytes at a time went unanswered");
	recv_exact(fd, in, 7);
	assert_bytes(in, 7, "+PONG\r\n", 7);
	close(fd);
	fd = tcp_connect(tcpd.port[P_ECHO]);
	send_all(fd, "hello", 5);
	recv_exact(fd, in, 2);
	cr_assert(readable_within(fd, 2000), "echo stopped after the first slice");
	recv_exact(fd, in + 2, 3);
	assert_bytes(in, 5, "hello", 5);
	close(fd);
}

/*
 * The client's FIN came while bytes were held, then the service finished
 * (HALFCLOSE, QUIT): both FINs are out, so the connection closes, neither
 * lingering with EPOLLHUP firing on every wait nor waiting for a FIN it has.
 */
Test(faults, a_finish_after_the_peers_held_fin_closes_at_once, .init = NULL)
{
	static const char *const requests[] = { "HALFCLOSE\r\n", "QUIT\r\n" };
	double cpu0, cpu;
	char in[8];
	size_t i, n;
	int fd;

	tcpd_start_with("idle_timeout = 0", "upstream_delay = 200ms\nfaults = loopback", 0);
	for (i = 0; i < 2; i++) {
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fd, requests[i], strlen(requests[i]));
		poll(NULL, 0, 50);
		send_all(fd, "PING\r\n", 6);	/* held 50 ms longer than the finish */
		cr_assert_eq(shutdown(fd, SHUT_WR), 0);
		n = recv_all(fd, in, sizeof(in));
		assert_bytes(in, n, "+OK\r\n", 5);	/* then EOF */
		cpu0 = tcpd_cpu_seconds();
		poll(NULL, 0, 500);
		cpu = tcpd_cpu_seconds() - cpu0;
		cr_assert_lt(cpu, 0.2, "%s: %.2f s of CPU in 0.5 s after both FINs", requests[i],
		    cpu);
		cr_assert_eq(tcpd_log_count(i == 0 ? "closed: HALFCLOSE fault" : "closed: QUIT"), 1,
		    "%s: still open 0.5 s after both FINs", requests[i]);
		close(fd);
	}
}

/*
 * A stop waits for held bytes, then finishes the connection once the
 * service has used them, as it does one whose bytes came unheld.
 */
Test(faults, a_stop_finishes_a_connection_once_its_held_bytes_are_used, .init = NULL)
{
	uint64_t start;
	int fd;

	tcpd_start_with(NULL, "upstream_delay = 300ms", 0);
	fd = tcp_connect(tcpd.port[P_DISCARD]);
	send_all(fd, "abc", 3);
	poll(NULL, 0, 50);
	start = ms_now();
	cr_assert_eq(tcpd_stop(), 0);
	cr_assert_lt(ms_now() - start, 2000, "the stop took %llu ms",
	    (unsigned long long)(ms_now() - start));
	cr_assert(recv_eof(fd));
	close(fd);
}

Test(faults, python_socket_against_accept_delay, .init = NULL)
{
	char script[512], port[8];
	const char *argv[] = { "/usr/bin/python3", script, port, NULL };
	const char *info;

	tcpd_start_with(NULL, "accept_delay = 500ms", 0);
	snprintf(script, sizeof(script), "%s/tests/clients/accept_delay.py", source_root());
	snprintf(port, sizeof(port), "%u", tcpd.port[P_ECHO]);
	cr_assert_eq(run_capture(argv, text, sizeof(text)), 0, "%s", text);
	cr_assert_str_eq(text, "connected\nimpatient: builtins.TimeoutError\n"
	    "patient: b'ping\\n' after at least 450 ms\n");
	/* Each got the listener's profile: both of Python's, INFO's own too. */
	info = strstr(tcpd_info(), "\r\nfault_profile_connections:");
	cr_assert_not_null(info);
	cr_assert_geq(strtol(info + 28, NULL, 10), 3, "%.40s", info);
}

/* A connection waiting on a fault costs no CPU: the timer wakes it, not EPOLLOUT. */
Test(faults, waiting_replies_cost_no_cpu)
{
	enum { N = 50 };
	int fds[N], i;
	double cpu0, cpu;

	for (i = 0; i < N; i++) {
		fds[i] = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fds[i], i % 2 ? "DELAY 5000\r\nPING\r\n" : "RATE 1\r\nPING\r\n", i % 2 ? 18 : 14);
	}
	ping_ok();
	cpu0 = tcpd_cpu_seconds();
	poll(NULL, 0, 1000);
	cpu = tcpd_cpu_seconds() - cpu0;
	cr_assert_lt(cpu, 0.2, "%.2f s of CPU in 1 s for %d waiting connections", cpu, N);
	for (i = 0; i < N; i++)
		close(fds[i]);
}

/*
 * connected_clients from INFO, waiting up to 20 s for it to be want, but
 * no more than 5 s once it stops moving.
 */
static void
wait_connected(long want)
{
	const char *info, *at;
	long n = -1, last = -1;
	int i, still = 0;

	for (i = 0; i < 200 && still < 50; i++) {
		info = tcpd_info();
		at = strstr(info, "connected_clients:");
		cr_assert_not_null(at);
		n = strtol(at + 18, NULL, 10);
		if (n == want)
			return;
		still = n == last ? still + 1 : 0;
		last = n;
		poll(NULL, 0, 100);
	}
	cr_assert_fail("connected_clients %ld, not %ld", n, want);
}

/*
 * 10,000 connections, each with a fault armed and a reply waiting on it,
 * then all closed at once: memory stays bounded, CPU near zero, another
 * client is served, each connection is freed (LeakSanitizer at exit) and no
 * timer is left behind (no CPU once they are gone).
 */
Test(faults, ten_thousand_faulted_connections_then_all_close_at_once, .init = NULL,
    .timeout = 240)
{
	enum { N = 10000 };
	static const char *const kinds[] = {
		"DELAY 60000\r\nPING\r\n", "DELAY 30000 20000\r\nPING\r\n",
		"SLEEP 60000\r\nPING\r\n", "STALL\r\nPING\r\n", "STALL 60000\r\nPING\r\n",
		"RATE 1\r\nECHO 0123456789\r\n", "SLICE 1 60000\r\nPING\r\n",
		"CLOSE AFTER 60s\r\nPING\r\n", "FAULT RESET AFTER 1000000\r\nPING\r\n",
		"STREAM 1000000 RATE 2\r\n",
	};
	struct rlimit rl = { N + 200, N + 200 };
	static int fds[N];
	double cpu0, cpu;
	long rss0;
	int i;

	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0, "raise the test's fd limit: %s",
	    strerror(errno));
	/* shutdown_timeout: a failed assertion leaves all of them to the teardown's stop. */
	tcpd_start_with("max_connections = 20000\nlog_level = info\nshutdown_timeout = 1",
	    "faults = loopback\nbacklog = 4096", N + 200);
	rss0 = tcpd_rss_kib();
	for (i = 0; i < N; i++) {
		fds[i] = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fds[i], kinds[i % 10], strlen(kinds[i % 10]));
	}
	wait_connected(N + 1);
	ping_ok();
	cpu0 = tcpd_cpu_seconds();
	poll(NULL, 0, 1000);
	cpu = tcpd_cpu_seconds() - cpu0;
	cr_assert_lt(cpu, 0.3, "%.2f s of CPU in 1 s while 10,000 connections wait", cpu);
	/* A STREAM is made 16 KiB ahead of its socket at most: 1,000 of them. */
	assert_rss_growth_below(rss0, 64 * 1024);
	for (i = 0; i < N; i++)
		close(fds[i]);
	wait_connected(1);
	cpu0 = tcpd_cpu_seconds();
	poll(NULL, 0, 1000);
	cpu = tcpd_cpu_seconds() - cpu0;
	cr_assert_lt(cpu, 0.05, "%.2f s of CPU in 1 s with no connection left", cpu);
}
