/* SPDX-License-Identifier: MIT */
/*
 * Faults a client asks for on its own connection: byte for byte on the
 * wire, the gate, and real clients (Python's redis, redis-cli) raising
 * their own errors.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	    "!tcpd garbage, not RESP~!tcpd +OK\r\n");
	/* The next reply cut in half, then a close. */
	cr_assert_str_eq(exchange("TRUNCATE\r\nFAULTS\r\nECHO 0123456789\r\nPING\r\n"),
	    "+OK\r\n*1\r\n$23\r\nTRUNCATE the next reply\r\n$10\r\n012");
	cr_assert_str_eq(exchange("TRUNCATE\r\nFAULTS CLEAR\r\nFAULTS\r\nQUIT\r\n"),
	    "+OK\r\n+OK\r\n*0\r\n+OK\r\n");
	/* A FIN, no reply; what follows is not run. */
	cr_assert_str_eq(exchange("CLOSE\r\nPING\r\n"), "");
	cr_assert_str_eq(exchange("GARBAGE 0\r\nQUIT\r\n"), "-ERR syntax: CLOSE, RESET, "
	    "HALFCLOSE, TRUNCATE, FAULTS [CLEAR], ERROR text, GARBAGE n (1 to 1048576)\r\n+OK\r\n");
}

Test(faults, reset_is_an_rst)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);
	char in[16];
	ssize_t n;

	send_all(fd, "RESET\r\n", 7);
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
	info = exchange("INFO faults\r\nQUIT\r\n");
	cr_assert_not_null(strstr(info, "fault_close:1\r\nfault_reset:0\r\nfault_halfclose:0\r\n"
	    "fault_truncate:0\r\nfault_error:1\r\nfault_garbage:1\r\n"), "%s", info);
}

/* faults = off refuses, naming the setting; loopback refuses any other peer. */
Test(faults, the_gate_names_its_setting, .init = NULL)
{
	tcpd_start(NULL);
	cr_assert_str_eq(exchange("RESET\r\nQUIT\r\n"),
	    "-ERR fault commands are off on this listener (faults = off)\r\n+OK\r\n");
	cr_assert_eq(tcpd_stop(), 0);
	/* Behind a load balancer the client is who the header names. */
	tcpd_start_with(NULL, "faults = loopback\nproxy_protocol = v1\nproxy_trusted = 127.0.0.1",
	    0);
	cr_assert_str_eq(exchange("PROXY TCP4 192.0.2.7 127.0.0.1 4242 7070\r\nRESET\r\nQUIT\r\n"),
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
	cr_assert_str_eq(text, "Error: Protocol error, got \"!\" as reply type byte\n");
}
