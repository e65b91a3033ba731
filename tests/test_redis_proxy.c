/* SPDX-License-Identifier: MIT */
/*
 * redis-server behind service = proxy, with real clients: the same bytes as
 * straight from it for large replies (a 1 MiB value of every byte, a 1,000
 * element LRANGE), redis-benchmark's requests all carried with no fault and
 * held by a delay, and redis-py's answers the same as direct, its own
 * ConnectionError under reset_after. Half-close through the proxy is
 * tests/test_proxy_service.c's.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(redis_proxy, .fini = tcpd_teardown, .timeout = 60);

#define BIG	(1 << 20)

/* redis-server's port. */
static uint16_t rport;
static char out[1 << 16], direct[1 << 16];

/* redis-server on a free port, tcpd's proxy in front of it with keys: the proxy's port. */
static uint16_t
start(const char *keys)
{
	char extra[512];
	uint16_t ports[2];

	free_ports(ports, 2);
	rport = ports[0];
	if (redis_server_start(rport, NULL) == 0)
		cr_skip_test("redis-server is not installed");
	snprintf(extra, sizeof(extra), "[listener.p]\nbind = 127.0.0.1:%u\nservice = proxy\n"
	    "upstream = 127.0.0.1:%u\n%s", ports[1], rport, keys);
	tcpd_start(extra);
	return ports[1];
}

/* Sends len bytes of req to port, reads to EOF into dst (at most size): how many. */
static size_t
exchange(uint16_t port, const char *req, size_t len, char *dst, size_t size)
{
	int fd = tcp_connect(port);
	size_t n;

	send_all(fd, req, len);
	n = recv_all(fd, dst, size);
	close(fd);
	return n;
}

/*
 * SET of a 1 MiB value holding every byte value (CR, LF and NUL among
 * them), a 1,000-element RPUSH, then GET and LRANGE of both, in RESP,
 * sent whole to the proxy and then to redis-server itself: the replies the
 * same to the byte. The GET comes after the last large request, so nothing
 * waits on a reply while the test is still sending.
 */
Test(redis_proxy, large_replies_byte_for_byte)
{
	size_t cap = BIG + (1 << 16), n = 0, got, want, i;
	char *req = malloc(cap), *via = malloc(2 * BIG), *straight = malloc(2 * BIG), el[32];
	uint16_t port = start("");
	static const char head[] = "+OK\r\n:1000\r\n$1048576\r\n";

	cr_assert(req != NULL && via != NULL && straight != NULL);
	n += (size_t)sprintf(req + n, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%d\r\n", BIG);
	for (i = 0; i < BIG; i++)
		req[n++] = (char)i;
	n += (size_t)sprintf(req + n, "\r\n*1002\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n");
	for (i = 0; i < 1000; i++) {
		int len = snprintf(el, sizeof(el), "element-%zu", i * 7919);

		n += (size_t)sprintf(req + n, "$%d\r\n%s\r\n", len, el);
	}
	n += (size_t)sprintf(req + n, "*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n"
	    "*4\r\n$6\r\nLRANGE\r\n$1\r\nl\r\n$1\r\n0\r\n$2\r\n-1\r\n"
	    "*2\r\n$3\r\nDEL\r\n$1\r\nl\r\n*1\r\n$4\r\nQUIT\r\n");
	got = exchange(port, req, n, via, 2 * BIG);
	want = exchange(rport, req, n, straight, 2 * BIG);
	/* Each run ends with DEL l: the next starts as this one did. */
	cr_assert(want > BIG + strlen(head), "redis-server answered %zu bytes", want);
	cr_assert_eq(got, want, "%zu bytes through the proxy, %zu straight", got, want);
	cr_assert(memcmp(via, straight, got) == 0, "the replies differ");
	assert_bytes(straight, strlen(head), head, strlen(head));
	for (i = 0; i < BIG; i++)
		cr_assert_eq((unsigned char)straight[strlen(head) + i], i & 0xff, "byte %zu", i);
	assert_bytes(straight + want - 9, 9, ":1\r\n+OK\r\n", 9);
	free(req);
	free(via);
	free(straight);
}

/* cmdstat_NAME:calls=N from redis-server's INFO commandstats. */
static unsigned long
calls(const char *name)
{
	char needle[64];
	const char *at;

	snprintf(needle, sizeof(needle), "cmdstat_%s:calls=", name);
	exchange_to_eof(rport, "INFO commandstats\r\nQUIT\r\n", direct, sizeof(direct));
	cr_assert_not_null(at = strstr(direct, needle), "%s", direct);
	return strtoul(at + strlen(needle), NULL, 10);
}

/*
 * redis-benchmark -n n -c clients -t tests through port, --csv: its output in
 * out, and the requests per second it measured for test (a CSV row's name).
 */
static double
benchmark(uint16_t port, const char *n, const char *clients, const char *tests,
    const char *test)
{
	char p[8], row[64];
	const char *argv[] = { "/usr/bin/timeout", "30", "/usr/bin/redis-benchmark", "-h", "127.0.0.1", "-p", p,
	    "-n", n, "-c", clients, "-t", tests, "--csv", NULL };
	const char *at;
	double rps;

	snprintf(p, sizeof(p), "%u", port);
	cr_assert_eq(run_capture(argv, out, sizeof(out)), 0, "redis-benchmark: %s", out);
	snprintf(row, sizeof(row), "\n\"%s\",\"", test);
	cr_assert_not_null(at = strstr(out, row), "%s", out);
	rps = strtod(at + strlen(row), NULL);
	cr_assert_gt(rps, 0, "%s", out);
	return rps;
}

/*
 * redis-benchmark through the proxy with no fault: every request of each
 * test reaches redis-server (its own count of calls), answered fast.
 */
Test(redis_proxy, redis_benchmark_through_it)
{
	uint16_t port = start("");
	double rps;

	rps = benchmark(port, "2000", "10", "set,get,lrange_100", "GET");
	cr_assert_eq(calls("set"), 2000, "%s", out);
	cr_assert_eq(calls("get"), 2000, "%s", out);
	cr_assert_eq(calls("lpush"), 2000, "%s", out);
	cr_assert_eq(calls("lrange"), 2000, "%s", out);
	cr_assert_not_null(strstr(out, "\n\"LRANGE_100 (first 100 elements)\",\""), "%s", out);
	/* Unpaced, 10 clients on loopback: well above what the delayed run below can reach. */
	cr_assert_gt(rps, 1000, "%s", out);
}

/*
 * With delay = 20ms each reply is held 20 ms: 5 clients, one request in
 * flight each, can do no more than 250 a second, and 100 GETs take at
 * least 400 ms; every one of them still answered.
 */
Test(redis_proxy, redis_benchmark_held_by_a_delay)
{
	uint16_t port = start("delay = 20ms\n");
	double t0 = now_ms(), rps, took;

	rps = benchmark(port, "100", "5", "get", "GET");
	took = now_ms() - t0;
	cr_assert_leq(rps, 250, "%s", out);
	cr_assert_geq(took, 400, "100 GETs in %.0f ms", took);
	cr_assert_eq(calls("get"), 100, "%s", out);
}

/* tests/clients/redis_py_proxy.py PORT MODE under Debian's python3: its output in dst. */
static const char *
redis_py(uint16_t port, const char *mode, char *dst, size_t size)
{
	char script[512], p[8];
	const char *argv[] = { "/usr/bin/python3", script, p, mode, NULL };

	snprintf(script, sizeof(script), "%s/tests/clients/redis_py_proxy.py", source_root());
	snprintf(p, sizeof(p), "%u", port);
	cr_assert_eq(run_capture(argv, dst, size), 0, "redis_py_proxy.py %s: %s", mode, dst);
	return dst;
}

/* redis-py gets through the proxy what it gets straight from redis-server. */
Test(redis_proxy, redis_py_the_same_through_it)
{
	uint16_t port = start("");

	redis_py(rport, "values", direct, sizeof(direct));
	cr_assert_str_eq(direct, "set: True\n"
	    "get: 1048576 fbbab289f7f94b25736c58be46a994c441fd02552cc6022352e3d86d2fab7c83 True\n"
	    "rpush: 1000\n"
	    "lrange: 1000 b'element-0' b'element-999element-999element-999element-999"
	    "element-999element-999'\n"
	    "hset: 2 {b'a': b'1', b'b': b'\\r\\n\\x00'}\n"
	    "pipeline: 100\n"
	    "error reply: unknown command 'NOSUCHCOMMAND', with args beginning with: \n");
	cr_assert_str_eq(redis_py(port, "values", out, sizeof(out)), direct);
}

/* reset_after cuts the 1 MiB GET: redis-py's own ConnectionError, reset by peer. */
Test(redis_proxy, redis_py_sees_reset_after_as_a_reset)
{
	uint16_t port = start("reset_after = 65536\n");
	char expect[160];

	redis_py(rport, "values", direct, sizeof(direct));
	snprintf(expect, sizeof(expect), "redis.exceptions.ConnectionError: Error while reading "
	    "from 127.0.0.1:%u : (104, 'Connection reset by peer')\n", port);
	cr_assert_str_eq(redis_py(port, "big", out, sizeof(out)), expect);
	cr_assert_str_eq(redis_py(rport, "big", out, sizeof(out)), "no exception\n");
}
