/* SPDX-License-Identifier: MIT */
/* The command protocol over real loopback sockets against the built tcpd. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(command, .init = tcpd_setup, .fini = tcpd_teardown, .timeout = 60);

/* Sends a request and checks the exact reply; the connection stays open. */
static void
exchange(int fd, const char *req, size_t reqlen, const char *reply, size_t len)
{
	char in[4096];

	send_all(fd, req, reqlen);
	recv_exact(fd, in, len);
	assert_bytes(in, len, reply, len);
}

#define EXCHANGE(fd, req, reply) exchange(fd, req, sizeof(req) - 1, reply, sizeof(reply) - 1)

/* Sends a request and checks the exact reply, followed by the server closing. */
static void
final_exchange(const char *req, size_t reqlen, const char *reply, size_t len)
{
	char in[4096];
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	size_t n;

	send_all(fd, req, reqlen);
	n = recv_all(fd, in, sizeof(in));
	assert_bytes(in, n, reply, len);
	close(fd);
}

#define FINAL(req, reply) final_exchange(req, sizeof(req) - 1, reply, sizeof(reply) - 1)

Test(command, ping_echo_inline_and_resp)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	EXCHANGE(fd, "PING\r\n", "+PONG\r\n");
	EXCHANGE(fd, "ping\n", "+PONG\r\n");
	EXCHANGE(fd, "PING \"hi there\"\r\n", "$8\r\nhi there\r\n");
	EXCHANGE(fd, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
	EXCHANGE(fd, "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n", "$5\r\nhello\r\n");
	EXCHANGE(fd, "EcHo\tword\r\n", "$4\r\nword\r\n");
	EXCHANGE(fd, "*2\r\n$4\r\nECHO\r\n$4\r\n\0\r\n\xff\r\n", "$4\r\n\0\r\n\xff\r\n");
	close(fd);
}

Test(command, pipelined_in_one_segment)
{
	static const char req[] = "PING\r\n*2\r\n$4\r\nECHO\r\n$1\r\nA\r\nECHO B\n"
	    "NOPE\r\n\r\n*1\r\n$4\r\nPING\r\nPING C\r\n";
	static const char reply[] = "+PONG\r\n$1\r\nA\r\n$1\r\nB\r\n"
	    "-ERR unknown command 'NOPE'\r\n+PONG\r\n$1\r\nC\r\n";
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	EXCHANGE(fd, req, reply);
	close(fd);
}

Test(command, request_split_byte_by_byte)
{
	static const char req[] = "*2\r\n$4\r\nECHO\r\n$5\r\nsplit\r\n";
	char in[32];
	int fd = tcp_connect(tcpd.port[P_COMMAND]), one = 1;
	size_t i;
	struct timespec ts = { 0, 2000000 };

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (i = 0; i < sizeof(req) - 1; i++) {
		send_all(fd, req + i, 1);
		nanosleep(&ts, NULL);
	}
	recv_exact(fd, in, 11);
	assert_reply(in, 11, "$5\r\nsplit\r\n");
	close(fd);
}

Test(command, quit_replies_then_closes)
{
	FINAL("PING\r\nQUIT\r\nPING\r\n", "+PONG\r\n+OK\r\n");
}

Test(command, unknown_and_arity_errors_keep_the_connection)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	EXCHANGE(fd, "GET key\r\n", "-ERR unknown command 'GET'\r\n");
	EXCHANGE(fd, "ECHO\r\n", "-ERR wrong number of arguments for 'echo' command\r\n");
	EXCHANGE(fd, "ECHO a b\r\n", "-ERR wrong number of arguments for 'echo' command\r\n");
	EXCHANGE(fd, "TIME now\r\n", "-ERR wrong number of arguments for 'time' command\r\n");
	EXCHANGE(fd, "WHOAMI x\r\n", "-ERR wrong number of arguments for 'whoami' command\r\n");
	EXCHANGE(fd, "HELP x\r\n", "-ERR wrong number of arguments for 'help' command\r\n");
	EXCHANGE(fd, "INFO server nosuch\r\n", "-ERR unknown INFO section 'nosuch'\r\n");
	EXCHANGE(fd, "CONFIG GET\r\n", "-ERR wrong number of arguments for 'config' command\r\n");
	EXCHANGE(fd, "PING\r\n", "+PONG\r\n");
	close(fd);
}

Test(command, protocol_errors_reply_then_close)
{
	FINAL("*1\r\n$x\r\n", "-ERR Protocol error: invalid bulk length\r\n");
	FINAL("*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n");
	FINAL("*1\r\n$1099511627776\r\n", "-ERR Protocol error: invalid bulk length\r\n");
	FINAL("*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
	FINAL("*1000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
	FINAL("*2\r\n*1\r\n", "-ERR Protocol error: expected '$', got '*'\r\n");
	FINAL("*1\r\n$4\r\nPINGPONG\r\n",
	    "-ERR Protocol error: bulk string not followed by CRLF\r\n");
	FINAL("ECHO \"open\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
	FINAL("PING\r\n*1\r\n$x\r\nPING\r\n",
	    "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
}

Test(command, line_over_max_line_is_refused_before_its_newline)
{
	char *big = malloc(2048), in[256];
	int fd, i;
	size_t n;

	tcpd_stop();
	tcpd_start("max_line = 1024");
	memset(big, 'a', 2048);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, big, 1500);	/* no newline at all */
	n = recv_all(fd, in, sizeof(in));
	assert_reply(in, n, "-ERR Protocol error: too big inline request\r\n");
	close(fd);

	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "*2\r\n$4\r\nECHO\r\n$1025\r\n", 21);
	n = recv_all(fd, in, sizeof(in));
	assert_reply(in, n, "-ERR Protocol error: invalid bulk length\r\n");
	close(fd);

	/* Small bulks, but more than max_line + 128 KiB in one request. */
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "*100000\r\n", 9);
	for (i = 0; i < 30000; i++)
		send_all(fd, "$1\r\nx\r\n", 7);
	n = recv_all(fd, in, sizeof(in));
	assert_reply(in, n, "-ERR Protocol error: too big request\r\n");
	close(fd);

	fd = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(fd, "*2\r\n$4\r\nECHO\r\n$1024\r\n", 21);
	send_all(fd, big, 1024);
	send_all(fd, "\r\n", 2);
	recv_exact(fd, in, 8);
	assert_reply(in, 8, "$1024\r\na");
	close(fd);
	free(big);
}

Test(command, whoami_names_the_connection)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char in[256], expect[256];
	unsigned long long id;
	int fd = tcp_connect(tcpd.port[P_COMMAND]), n, hdr;

	getsockname(fd, (struct sockaddr *)&me, &len);
	send_all(fd, "WHOAMI\r\n", 8);
	n = (int)recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	cr_assert_eq(sscanf(in, "$%d\r\nid=%llu ", &hdr, &id), 2, "got '%s'", in);
	snprintf(expect, sizeof(expect), "id=%llu addr=127.0.0.1:%u laddr=127.0.0.1:%u "
	    "listener=command", id, ntohs(me.sin_port), tcpd.port[P_COMMAND]);
	cr_assert_eq(hdr, (int)strlen(expect));
	cr_assert_str_eq(strchr(in, '\n') + 1, strcat(expect, "\r\n"));
	close(fd);
}

Test(command, whoami_on_a_wildcard_bind_names_the_address_reached, .init = NULL)
{
	char extra[160], in[256], want[64];
	uint16_t any;
	int fd, n;

	/* Only loopback is let in, though the socket listens on every address. */
	free_ports(&any, 1);
	snprintf(extra, sizeof(extra), "[listener.any]\nbind = 0.0.0.0:%u\nservice = command\n"
	    "allow = 127.0.0.0/8\n", any);
	tcpd_start(extra);
	fd = tcp_connect(any);
	send_all(fd, "WHOAMI\r\n", 8);
	n = (int)recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	snprintf(want, sizeof(want), " laddr=127.0.0.1:%u listener=any\r\n", any);
	cr_assert_not_null(strstr(in, want), "got '%s'", in);
	close(fd);
}

Test(command, over_ipv6)
{
	char in[256];
	int fd = tcp_connect6(tcpd.port[P_COMMAND]), n;

	EXCHANGE(fd, "PING\r\n", "+PONG\r\n");
	send_all(fd, "WHOAMI\r\n", 8);
	n = (int)recv(fd, in, sizeof(in) - 1, 0);
	cr_assert_gt(n, 0);
	in[n] = '\0';
	cr_assert_not_null(strstr(in, " addr=[::1]:"), "got '%s'", in);
	cr_assert_not_null(strstr(in, " laddr=[::1]:"), "got '%s'", in);
	close(fd);
}

Test(command, info_counts_connections_and_commands)
{
	char x;
	int e = tcp_connect(tcpd.port[P_ECHO]), fd;
	const char *in;

	send_all(e, "x", 1);
	recv_exact(e, &x, 1);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	EXCHANGE(fd, "PING\r\n", "+PONG\r\n");
	close(fd);
	in = tcpd_info();
	/* The harness's probe and the PING connection came before this one. */
	cr_assert_not_null(strstr(in, "total_connections_received:4\r\n"), "%s", in);
	cr_assert_not_null(strstr(in, "total_commands_processed:2\r\n"), "%s", in);
	cr_assert_not_null(strstr(in, "service_echo:connected=1,total=1\r\n"), "%s", in);
	cr_assert_not_null(strstr(in, "service_command:connected=1,total=3\r\n"), "%s", in);
	close(e);
}

Test(command, pipelining_client_that_reads_late_gets_every_reply)
{
	/*
	 * Two million PINGs (12 MB) with a 64 KiB output_limit: the client
	 * writes until tcpd stops reading, only then reads. tcpd must pause
	 * instead of buffering, then answer every request in order.
	 */
	enum { N = 2000000 };
	size_t len = 6 * (size_t)N, sent, got, i;
	char *req = malloc(len), *in = malloc(7 * (size_t)N + 1);
	int fd;

	tcpd_stop();
	tcpd_start("output_limit = 65536");
	for (i = 0; i < N; i++)
		memcpy(req + 6 * i, "PING\r\n", 6);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	sent = send_until_blocked(fd, req, len);
	cr_assert_lt(sent, len, "tcpd read all %zu bytes without the client "
	    "reading a reply", len);
	got = pump(fd, req + sent, len - sent, true, in, 7 * (size_t)N + 1);
	cr_assert_eq(got, 7 * (size_t)N, "%zu replies", got / 7);
	for (i = 0; i < N; i++)
		cr_assert_eq(memcmp(in + 7 * i, "+PONG\r\n", 7), 0, "reply %zu", i);
	close(fd);
	free(req);
	free(in);
}

Test(command, redis_cli_talks_to_tcpd)
{
	char out[256], port[8];
	const char *argv[] = { "/usr/bin/redis-cli", "-p", port, "ECHO", "hi there", NULL };

	if (access(argv[0], X_OK) != 0)
		cr_skip_test("redis-cli is not installed");
	snprintf(port, sizeof(port), "%u", tcpd.port[P_COMMAND]);
	cr_assert_eq(run_capture(argv, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "hi there\n");
}
