/* SPDX-License-Identifier: MIT */
/*
 * The Redis client libraries people use, each in its default settings,
 * against tcpd: node-redis and ioredis (npm, pinned in
 * tests/clients/package-lock.json, installed by scripts/deps.sh test) and
 * Debian's python3-redis. Each script prints one line per step, the reply or
 * the library's own error type, and the test asserts every line.
 */
#include <stddef.h>
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

/* Runs a script of tests/clients/ under interp, bounded, with both ports and
 * mode (NULL: none); its output. */
static const char *
run_script_mode(const char *interp, const char *name, const char *mode)
{
	char script[512], port[8], aport[8];
	/* The script's own deadline is 20 s; this one kills it if that fails (timeout
	 * looks interp up in PATH). */
	const char *argv[] = { "/usr/bin/timeout", "-k", "5", "40", interp, script, port, aport,
	    mode, NULL };
	int rc;

	snprintf(script, sizeof(script), "%s/tests/clients/%s", source_root(), name);
	snprintf(port, sizeof(port), "%u", tcpd.port[P_COMMAND]);
	snprintf(aport, sizeof(aport), "%u", auth_port);
	rc = run_capture(argv, text, sizeof(text));
	cr_assert_eq(rc, 0, "%s exited %d:\n%s", name, rc, text);
	return text;
}

static const char *
run_script(const char *interp, const char *name)
{
	return run_script_mode(interp, name, NULL);
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

/*
 * The fault matrix: each library, with a 300 ms timeout set by its own option
 * and otherwise its defaults, against each fault; one line each, "library |
 * fault | what it raised | retried: yes/no" (the scripts say how). The table
 * made from them is written to the build directory and must be the one in
 * docs/TESTING-CLIENTS.md (scripts/client-matrix.sh copies it there).
 */
static const char *const matrix_libs[] = { "node-redis", "ioredis", "redis-py" };
static const char *const matrix_faults[] = { "DELAY", "STALL", "CLOSE", "RESET", "TRUNCATE",
	"GARBAGE", "ERROR" };
#define NLIBS	(sizeof(matrix_libs) / sizeof(matrix_libs[0]))
#define NFAULTS	(sizeof(matrix_faults) / sizeof(matrix_faults[0]))
#define MATRIX_BEGIN "<!-- client-fault-matrix: begin (made by scripts/client-matrix.sh) -->\n"
#define MATRIX_END "<!-- client-fault-matrix: end -->\n"

Test(clients, fault_matrix, .timeout = 150)
{
	static char out[3][4096], cell[NLIBS][NFAULTS][256], table[8192], doc[1 << 16];
	char path[512], *line, *save, *p;
	const char *b, *e;
	size_t i, j, n, len;
	FILE *f;

	require_npm_packages();
	snprintf(out[0], sizeof(out[0]), "%s", run_script_mode("node", "node_redis.js", "matrix"));
	snprintf(out[1], sizeof(out[1]), "%s", run_script_mode("node", "ioredis.js", "matrix"));
	snprintf(out[2], sizeof(out[2]), "%s", run_script_mode("/usr/bin/python3",
	    "redis_py_defaults.py", "matrix"));
	for (i = 0; i < NLIBS; i++) {
		j = 0;
		for (line = strtok_r(out[i], "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save), j++) {
			char prefix[64];
			int yes;

			cr_assert_lt(j, NFAULTS, "%s: more lines than faults: %s", matrix_libs[i], line);
			snprintf(prefix, sizeof(prefix), "%s | %s | ", matrix_libs[i], matrix_faults[j]);
			cr_assert_eq(strncmp(line, prefix, strlen(prefix)), 0,
			    "expected \"%s...\", got \"%s\"", prefix, line);
			p = line + strlen(prefix);
			len = strlen(p);
			yes = len > 15 && strcmp(p + len - 15, " | retried: yes") == 0;
			cr_assert(yes || (len > 14 && strcmp(p + len - 14, " | retried: no") == 0),
			    "no \"| retried: yes/no\" at the end of \"%s\"", line);
			p[len - (yes ? 15 : 14)] = '\0';
			cr_assert(*p != '\0' && strchr(p, '|') == NULL && strchr(p, '`') == NULL,
			    "a bad outcome in \"%s\"", line);
			snprintf(cell[i][j], sizeof(cell[i][j]), "`%s`%s", p, yes ? ", sent again" : "");
		}
		cr_assert_eq(j, NFAULTS, "%s: %zu lines, not one per fault", matrix_libs[i], j);
	}

	n = (size_t)snprintf(table, sizeof(table), "| fault | node-redis | ioredis | redis-py |\n"
	    "|---|---|---|---|\n");
	for (j = 0; j < NFAULTS; j++)
		n += (size_t)snprintf(table + n, sizeof(table) - n, "| %s | %s | %s | %s |\n",
		    matrix_faults[j], cell[0][j], cell[1][j], cell[2][j]);
	cr_assert_lt(n, sizeof(table));

	snprintf(path, sizeof(path), "%s/client-fault-matrix.md", getenv("TCPD_BUILD_ROOT"));
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(table, f);
	cr_assert_eq(fclose(f), 0);

	snprintf(path, sizeof(path), "%s/docs/TESTING-CLIENTS.md", source_root());
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	len = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[len] = '\0';
	b = strstr(doc, MATRIX_BEGIN);
	cr_assert_not_null(b, "docs/TESTING-CLIENTS.md has no line %s", MATRIX_BEGIN);
	b += strlen(MATRIX_BEGIN);
	e = strstr(b, MATRIX_END);
	cr_assert_not_null(e, "docs/TESTING-CLIENTS.md has no line %s", MATRIX_END);
	cr_assert(e - b == (ptrdiff_t)n && memcmp(b, table, n) == 0,
	    "the table in docs/TESTING-CLIENTS.md is not this run's: run "
	    "scripts/client-matrix.sh. This run's:\n%s", table);
}
