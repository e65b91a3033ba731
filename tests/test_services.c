/* SPDX-License-Identifier: MIT */
/* The classic services over real loopback sockets against the built tcpd. */
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

TestSuite(services, .init = tcpd_setup, .fini = tcpd_teardown, .timeout = 60);

static void
fill_pattern(unsigned char *p, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)((i * 31 + seed + (i >> 8)) & 0xff);
}

Test(services, echo_returns_every_byte_value)
{
	unsigned char out[1024], in[1024];
	int fd = tcp_connect(tcpd.port[P_ECHO]), i;

	for (i = 0; i < 1024; i++)
		out[i] = (unsigned char)i;
	send_all(fd, out, sizeof(out));
	recv_exact(fd, in, sizeof(in));
	assert_bytes(in, sizeof(in), out, sizeof(out));
	send_all(fd, "again\r\n", 7);
	recv_exact(fd, in, 7);
	assert_reply(in, 7, "again\r\n");
	close(fd);
}

Test(services, echo_over_ipv6)
{
	char in[16];
	int fd = tcp_connect6(tcpd.port[P_ECHO]);

	send_all(fd, "v6 hello", 8);
	recv_exact(fd, in, 8);
	assert_reply(in, 8, "v6 hello");
	close(fd);
}

/*
 * Sends n bytes and shuts the write side before reading a byte, through a
 * small window, so tcpd sees the FIN while echo is still owed; all of it
 * must come back before tcpd closes.
 */
static void
echo_after_half_close(size_t n)
{
	unsigned char *out = malloc(n), *in = malloc(n + 1);
	int fd = tcp_connect_small_window(tcpd.port[P_ECHO]);
	size_t got;

	fill_pattern(out, n, (unsigned)n);
	send_all(fd, out, n);
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	got = recv_all(fd, in, n + 1);
	cr_assert_eq(got, n, "got %zu of %zu bytes before EOF", got, n);
	cr_assert_eq(memcmp(in, out, n), 0, "echoed bytes differ");
	close(fd);
	free(out);
	free(in);
}

Test(services, echo_half_close_delivers_1_MiB_then_closes)
{
	echo_after_half_close(1 << 20);
}

Test(services, echo_half_close_flushes_what_tcpd_still_buffers)
{
	/*
	 * Socket buffers hold a few MiB on loopback, so 16 MiB with a 64 MiB
	 * output_limit leaves most of the echo in tcpd's own buffer at the FIN.
	 */
	tcpd_stop();
	tcpd_start("output_limit = 67108864");
	echo_after_half_close(16u << 20);
}

Test(services, echo_client_that_never_reads_is_throttled)
{
	/* A 64 KiB output_limit; the sender must block long before 256 MiB. */
	size_t limit = 256u << 20, sent, got;
	unsigned char *all, *in;
	long rss_before;
	int fd;

	tcpd_stop();
	tcpd_start("output_limit = 65536");
	rss_before = tcpd_rss_kib();
	fd = tcp_connect(tcpd.port[P_ECHO]);
	all = malloc(limit);
	fill_pattern(all, limit, 3);
	sent = send_until_blocked(fd, all, limit);
	cr_assert_lt(sent, 64u << 20, "%zu bytes accepted before backpressure", sent);
	assert_rss_growth_below(rss_before, 8 * 1024);

	ping_ok();	/* everyone else is still served at once */

	/* Nothing was lost: every byte comes back, in order. */
	in = malloc(sent + 1);
	shutdown(fd, SHUT_WR);
	got = recv_all(fd, in, sent + 1);
	cr_assert_eq(got, sent);
	cr_assert_eq(memcmp(in, all, sent), 0);
	close(fd);
	free(in);
	free(all);
}

Test(services, discard_reads_and_sends_nothing)
{
	char junk[100000], in[16];
	int fd = tcp_connect(tcpd.port[P_DISCARD]);

	memset(junk, 'j', sizeof(junk));
	send_all(fd, junk, sizeof(junk));
	shutdown(fd, SHUT_WR);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 0);
	close(fd);
}

Test(services, daytime_one_line_then_close)
{
	static const char *const days[] = { "Sunday", "Monday", "Tuesday",
	    "Wednesday", "Thursday", "Friday", "Saturday" };
	char in[128], expect[128];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;
	int fd = tcp_connect(tcpd.port[P_DAYTIME]);

	n = recv_all(fd, in, sizeof(in) - 1);
	in[n] = '\0';
	close(fd);
	gmtime_r(&now, &tm);
	/* Compare up to the minute; the seconds may have ticked. */
	snprintf(expect, sizeof(expect), "%s, ", days[tm.tm_wday]);
	cr_assert_eq(strncmp(in, expect, strlen(expect)), 0, "got '%s'", in);
	strftime(expect, sizeof(expect), "%B %d, %Y %H:", &tm);
	cr_assert_not_null(strstr(in, expect), "got '%s', expected '%s'", in, expect);
	cr_assert_eq(strcmp(in + n - 6, "-UTC\r\n"), 0, "got '%s'", in);
}

Test(services, time_four_bytes_then_close)
{
	unsigned char in[8];
	unsigned long long t;
	size_t n;
	int fd = tcp_connect(tcpd.port[P_TIME]);

	n = recv_all(fd, in, sizeof(in));
	close(fd);
	cr_assert_eq(n, 4);
	t = (unsigned long long)in[0] << 24 | (unsigned long long)in[1] << 16 |
	    (unsigned long long)in[2] << 8 | in[3];
	cr_assert_leq(llabs((long long)t - (long long)(((unsigned long long)time(NULL) +
	    2208988800ULL) & 0xffffffffULL)), 2);
}

Test(services, time_ignores_input)
{
	unsigned char in[8];
	int fd = tcp_connect(tcpd.port[P_TIME]);

	send_all(fd, "hello\r\n", 7);
	cr_assert_eq(recv_all(fd, in, sizeof(in)), 4);
	close(fd);
}

Test(services, chargen_rfc864_pattern)
{
	enum { LINES = 300 };
	static char in[LINES * 74], expect[LINES * 74];
	int fd = tcp_connect(tcpd.port[P_CHARGEN]), line, i;

	for (line = 0; line < LINES; line++) {
		for (i = 0; i < 72; i++)
			expect[line * 74 + i] = (char)(' ' + (line + i) % 95);
		expect[line * 74 + 72] = '\r';
		expect[line * 74 + 73] = '\n';
	}
	send_all(fd, "input is ignored\r\n", 18);
	recv_exact(fd, in, sizeof(in));
	assert_bytes(in, sizeof(in), expect, sizeof(expect));
	close(fd);
}

Test(services, chargen_client_that_never_reads_costs_bounded_memory)
{
	long rss_before = tcpd_rss_kib();
	int fds[20], i;
	struct timespec ts = { 0, 500 * 1000000 };

	for (i = 0; i < 20; i++)
		fds[i] = tcp_connect(tcpd.port[P_CHARGEN]);
	nanosleep(&ts, NULL);
	assert_rss_growth_below(rss_before, 4 * 1024);
	ping_ok();
	for (i = 0; i < 20; i++)
		close(fds[i]);
}

Test(services, peer_reset_mid_stream_costs_nothing_else)
{
	struct linger hard = { .l_onoff = 1, .l_linger = 0 };
	char in[4096];
	int fd, i;

	/* SIGPIPE or a mishandled ECONNRESET would end the daemon here. */
	for (i = 0; i < 20; i++) {
		fd = tcp_connect(tcpd.port[i % 2 ? P_CHARGEN : P_ECHO]);
		if (i % 2 == 0)
			send_all(fd, in, sizeof(in));
		recv_exact(fd, in, 100);
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
		close(fd);
	}
	ping_ok();
}
