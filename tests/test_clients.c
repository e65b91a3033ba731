/* SPDX-License-Identifier: MIT */
/*
 * The Redis client libraries people use, each in its default settings,
 * against tcpd: node-redis and ioredis (npm, pinned in
 * tests/clients/package-lock.json, installed by scripts/deps.sh test) and
 * Debian's python3-redis. Each script prints one line per step, the reply or
 * the library's own error type, and the test asserts every line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static char text[1 << 14];
static uint16_t auth_port;	/* a second command listener, requirepass = s3cret */

static void
setup(void)
{
	char extra[256];

	free_ports(&auth_port, 1);
	snprintf(extra, sizeof(extra), "[listener.auth]\nbind = 127.0.0.1:%u\n"
	    "service = command\nfaults = loopback\nrequirepass = s3cret\n", auth_port);
	tcpd_start_with(extra, "faults = loopback", 0);
}

TestSuite(clients, .init = setup, .fini = tcpd_teardown, .timeout = 90);

/*
 * The npm packages as the lock pins them: deps.sh copies the lock it
 * installed to node_modules/.tcpd-lock. A test that cannot run them fails
 * (CI installs them), it does not skip.
 */
static void
require_npm_packages(void)
{
	char lock[512], stamp[512], cmd[1200];

	snprintf(lock, sizeof(lock), "%s/tests/clients/package-lock.json", source_root());
	snprintf(stamp, sizeof(stamp), "%s/tests/clients/node_modules/.tcpd-lock",
	    source_root());
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", lock, stamp);
	cr_assert_eq(system(cmd), 0, "the npm packages of tests/clients are not installed "
	    "from its package-lock.json: run scripts/deps.sh test (npm ci there)");
}

/* Runs a script of tests/clients/ under interp, bounded, with both ports; its output. */
static const char *
run_script(const char *interp, const char *name)
{
	char script[512], port[8], aport[8];
	/* The script's own deadline is 20 s; this one kills it if that fails (timeout
	 * looks interp up in PATH). */
	const char *argv[] = { "/usr/bin/timeout", "-k", "5", "40", interp, script, port, aport, NULL };
	int rc;

	snprintf(script, sizeof(script), "%s/tests/clients/%s", source_root(), name);
	snprintf(port, sizeof(port), "%u", tcpd.port[P_COMMAND]);
	snprintf(aport, sizeof(aport), "%u", auth_port);
	rc = run_capture(argv, text, sizeof(text));
	cr_assert_eq(rc, 0, "%s exited %d:\n%s", name, rc, text);
	return text;
}

/* The INFO text's count of name, e.g. "fault_reset". */
static long
info_count(const char *name)
{
	const char *info = tcpd_info(), *p;
	char key[64];

	snprintf(key, sizeof(key), "\r\n%s:", name);
	p = strstr(info, key);
	cr_assert_not_null(p, "%s not in INFO", name);
	return strtol(p + strlen(key), NULL, 10);
}

Test(clients, node_redis_defaults)
{
	require_npm_packages();
	cr_assert_str_eq(run_script("node", "node_redis.js"),
	    "connect: resp=3 lib-name=node-redis\n"
	    "hello: proto 3\n"
	    "ping: PONG\n"
	    "echo: hello tcpd\n"
	    "time: seconds and microseconds, this clock's\n"
	    "info: multiplexing_api:epoll\n"
	    "clientSetName: OK renamed\n"
	    "select 0: resolved\n"
	    "select 1: SimpleError (ErrorReply) ERR DB index is out of range\n"
	    "name option, /0 in the url: app-node\n"
	    "RESP 2: resp=2 lib-name=node-redis app-resp2 PONG\n"
	    "password: PONG\n"
	    "password, RESP 2: PONG\n"
	    "wrong password: SimpleError (ErrorReply) WRONGPASS invalid username-password "
	    "pair or user is disabled.\n"
	    "FAULT DELAY 200: OK\n"
	    "ping after it: PONG at least 200 ms late\n"
	    "FAULT CLOSE: SocketClosedUnexpectedlyError\n"
	    "ping after the reconnect: PONG\n"
	    "FAULT RESET: Error ECONNRESET\n"
	    "after it: PONG (queued while reconnecting), 1 reset in INFO\n");
	cr_assert_eq(tcpd_log_count("reset by a RESET fault"), 1);
}

Test(clients, ioredis_defaults)
{
	const char *out;

	require_npm_packages();
	out = run_script("node", "ioredis.js");
	cr_assert_str_eq(out,
	    "connect: resp=3 lib-name=ioredis\n"
	    "hello: proto 3\n"
	    "ping: PONG\n"
	    "echo: hello tcpd\n"
	    "time: seconds and microseconds, this clock's\n"
	    "info: multiplexing_api:epoll\n"
	    "client setname: OK renamed\n"
	    "select 0: OK\n"
	    "connectionName option, db 0: app-io\n"
	    "password: PONG\n"
	    "wrong password: SimpleError (ReplyError) WRONGPASS invalid username-password "
	    "pair or user is disabled.\n"
	    "FAULT DELAY 200: OK\n"
	    "ping after it: PONG at least 200 ms late\n"
	    "FAULT RESET, defaults: still pending after 1.5 s, sent again after each "
	    "reconnect (3 resets or more)\n"
	    "FAULT RESET, autoResendUnfulfilledCommands: false: AbortError, 1 reset\n"
	    "FAULT RESET, maxRetriesPerRequest: 0: MaxRetriesPerRequestError, 1 reset\n"
	    "FAULT RESET, retryStrategy: () => null: Error, 1 reset\n");
	/* The defaults' loop, seen from tcpd: one FAULT RESET run per reconnect. */
	cr_assert_geq(info_count("fault_reset"), 6);
	cr_assert_eq(tcpd_log_count("reset by a RESET fault"), info_count("fault_reset"));
}

Test(clients, redis_py_defaults)
{
	if (system("/usr/bin/python3 -c 'import redis' 2>/dev/null") != 0)
		cr_assert_fail("python3-redis is not installed: run scripts/deps.sh test");
	cr_assert_str_eq(run_script("/usr/bin/python3", "redis_py_defaults.py"),
	    "ping: True\n"
	    "echo: b'hello tcpd'\n"
	    "time: seconds and microseconds, this clock's\n"
	    "info: multiplexing_api=epoll\n"
	    "client_setname: True 'renamed'\n"
	    "hello 2: proto 2\n"
	    "client_name=, db=0: 'app-py'\n"
	    "select 0: True\n"
	    "db=1: redis.exceptions.ResponseError: DB index is out of range\n"
	    "password=: True\n"
	    "no password: redis.exceptions.AuthenticationError: Authentication required.\n"
	    "wrong password: redis.exceptions.ResponseError: WRONGPASS invalid "
	    "username-password pair or user is disabled.\n"
	    "FAULT DELAY 200: b'OK'\n"
	    "ping after it: True at least 200 ms late\n"
	    "FAULT CLOSE: redis.exceptions.ConnectionError: Connection closed by server.\n"
	    "FAULT RESET: redis.exceptions.ConnectionError: Error while reading from "
	    "127.0.0.1:PORT : (104, 'Connection reset by peer')\n"
	    "after it: True on a new connection, 1 reset in INFO\n");
}
