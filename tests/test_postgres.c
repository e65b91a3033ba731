/* SPDX-License-Identifier: MIT */
/*
 * PostgreSQL behind service = proxy: Debian's server, started once for the
 * suite in a temporary directory (as nobody when the tests run as root),
 * asked through tcpd by psql and by psycopg2 (Debian's /usr/bin/python3):
 * the same answers as straight from the server, then each fault seen as the
 * client reports it.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/hooks.h>

#include "harness.h"

/*
 * The server is the runner's child, started before any test: Criterion runs
 * each test in a fresh exec of this binary, so what the tests need of it
 * comes through the environment.
 */
#define PG_PORT_ENV	"TCPD_TEST_PG_PORT"
#define PG_ERROR_ENV	"TCPD_TEST_PG_ERROR"

static struct {
	char	dir[64];
	pid_t	pid;
	uid_t	uid;
	gid_t	gid;
} pg;

static char out[1 << 16];

/* The newest installed server's program name, in dst; false when none is. */
static bool
pg_program(const char *name, char *dst, size_t size)
{
	char pattern[64];
	glob_t g;
	bool found;

	snprintf(pattern, sizeof(pattern), "/usr/lib/postgresql/*/bin/%s", name);
	found = glob(pattern, 0, NULL, &g) == 0 && g.gl_pathc > 0;
	if (found)
		snprintf(dst, size, "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	return found;
}

/* argv as pg's user, its output into the file log; dies with the runner. */
static pid_t
pg_spawn(const char *const argv[], const char *log)
{
	pid_t runner = getpid(), pid = fork();
	int fd;

	if (pid != 0)
		return pid;
	if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    dup2(fd, STDOUT_FILENO) == -1 || dup2(fd, STDERR_FILENO) == -1)
		_exit(126);
	/* initdb and postgres refuse root; the death signal must follow setuid(), which clears it. */
	if (geteuid() == 0 && (setgroups(0, NULL) == -1 || setgid(pg.gid) == -1 ||
	    setuid(pg.uid) == -1))
		_exit(126);
	/* SIGQUIT: the server's immediate shutdown, which takes its backends too. */
	die_with_test(runner, SIGQUIT);
	execv(argv[0], (char *const *)(uintptr_t)argv);
	_exit(127);
}

static void
pg_failed(const char *fmt, const char *arg)
{
	char why[512];

	snprintf(why, sizeof(why), fmt, arg);
	setenv(PG_ERROR_ENV, why, 1);
}

/* Whether the server answers on port (pg_isready, as the packages' scripts ask). */
static bool
pg_ready(const char *port)
{
	char bin[128];
	const char *argv[] = { bin, "-q", "-h", "127.0.0.1", "-p", port, "-U", "postgres", NULL };
	int status;
	pid_t pid;

	if (!pg_program("pg_isready", bin, sizeof(bin)) || (pid = fork()) == -1)
		return false;
	if (pid == 0) {
		execv(bin, (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/*
 * initdb (no fsync: a throw-away cluster) and the server on a free port,
 * loopback only, its socket in the directory; about 1.5 s. A failure is
 * left in the environment for every test to report.
 */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	char initdb[128], postgres[128], data[96], log[96], port[8];
	const char *init_argv[] = { initdb, "-D", data, "-U", "postgres", "-A", "trust",
	    "--no-sync", "--no-instructions", "-E", "UTF8", "--locale=C", NULL };
	const char *pg_argv[] = { postgres, "-D", data, "-k", pg.dir, "-p", port,
	    "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off",
	    "-c", "synchronous_commit=off", NULL };
	struct passwd *pw;
	uint16_t p;
	int status, i;
	pid_t pid;

	(void)set;
	if (!pg_program("initdb", initdb, sizeof(initdb)) ||
	    !pg_program("postgres", postgres, sizeof(postgres))) {
		pg_failed("PostgreSQL is not installed%s: run scripts/deps.sh test", "");
		return;
	}
	pg.uid = geteuid();
	pg.gid = getegid();
	if (pg.uid == 0) {
		if ((pw = getpwnam("nobody")) == NULL) {
			pg_failed("no user %s to run PostgreSQL as", "nobody");
			return;
		}
		pg.uid = pw->pw_uid;
		pg.gid = pw->pw_gid;
	}
	snprintf(pg.dir, sizeof(pg.dir), "/tmp/tcpd-pg.XXXXXX");
	if (mkdtemp(pg.dir) == NULL || chown(pg.dir, pg.uid, pg.gid) == -1) {
		pg_failed("a directory for PostgreSQL: %s", strerror(errno));
		return;
	}
	snprintf(data, sizeof(data), "%s/data", pg.dir);
	snprintf(log, sizeof(log), "%s/initdb.log", pg.dir);
	if ((pid = pg_spawn(init_argv, log)) == -1 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		pg_failed("initdb failed: see %s", log);
		return;
	}
	free_ports(&p, 1);
	snprintf(port, sizeof(port), "%u", p);
	snprintf(log, sizeof(log), "%s/postgres.log", pg.dir);
	if ((pg.pid = pg_spawn(pg_argv, log)) == -1) {
		pg_failed("fork: %s", strerror(errno));
		return;
	}
	for (i = 0; i < 200 && !pg_ready(port); i++)
		usleep(50 * 1000);
	if (i == 200) {
		pg_failed("PostgreSQL did not answer within 10 s: see %s", log);
		return;
	}
	setenv(PG_PORT_ENV, port, 1);
}

/* The fast shutdown, then the directory; SIGKILL if it takes over 5 s. */
ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char cmd[96];
	int i;

	(void)stats;
	if (pg.pid > 0) {
		kill(pg.pid, SIGINT);
		for (i = 0; i < 500 && waitpid(pg.pid, NULL, WNOHANG) == 0; i++)
			usleep(10 * 1000);
		if (i == 500) {
			kill(pg.pid, SIGKILL);
			waitpid(pg.pid, NULL, 0);
		}
	}
	if (pg.dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pg.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", pg.dir);
	}
}

static void
require_postgres(void)
{
	const char *why = getenv(PG_ERROR_ENV);

	cr_assert_null(why, "%s", why);
	cr_assert_not_null(getenv(PG_PORT_ENV));
	if (system("/usr/bin/python3 -c 'import psycopg2' 2>/dev/null") != 0)
		cr_assert_fail("python3-psycopg2 is not installed: run scripts/deps.sh test");
}

TestSuite(postgres, .init = require_postgres, .fini = tcpd_teardown, .timeout = 60);

static uint16_t
pg_port(void)
{
	return (uint16_t)atoi(getenv(PG_PORT_ENV));
}

/*
 * tcpd with proxy listeners in front of the server, the keys of each in
 * keys[] (n of them), their ports in port[].
 */
static void
start_proxies(const char *const *keys, size_t n, uint16_t *port)
{
	char extra[2048];
	size_t i, len = 0;

	free_ports(port, n);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(extra + len, sizeof(extra) - len, "[listener.pg%zu]\n"
		    "bind = 127.0.0.1:%u\nservice = proxy\nupstream = 127.0.0.1:%u\n%s\n", i,
		    port[i], pg_port(), keys[i]);
	cr_assert_lt(len, sizeof(extra));
	tcpd_start(extra);
}

static uint16_t
start_proxy(const char *keys)
{
	uint16_t port;

	start_proxies(&keys, 1, &port);
	return port;
}

/* psql -c sql on port (-X: no ~/.psqlrc; -At: values only); its exit status, output in dst. */
static int
psql(uint16_t port, const char *sql, char *dst, size_t size)
{
	char p[8];
	const char *argv[] = { "/usr/bin/psql", "-X", "-At", "-h", "127.0.0.1", "-p", p,
	    "-U", "postgres", "-d", "postgres", "-c", sql, NULL };

	snprintf(p, sizeof(p), "%u", port);
	return run_capture(argv, dst, size);
}

/* tests/clients/pg_psycopg2.py PORT MODE [ARG]; its output, in dst. */
static const char *
psycopg2(uint16_t port, const char *mode, const char *arg, char *dst, size_t size)
{
	char script[512], p[8];
	const char *argv[] = { "/usr/bin/python3", script, p, mode, arg, NULL };
	int rc;

	snprintf(script, sizeof(script), "%s/tests/clients/pg_psycopg2.py", source_root());
	snprintf(p, sizeof(p), "%u", port);
	rc = run_capture(argv, dst, size);
	cr_assert_eq(rc, 0, "pg_psycopg2.py %s: %s", mode, dst);
	return dst;
}

#define PSQL_QUERIES "SELECT 6 * 7, 'hello'; " \
	"SELECT md5(string_agg(i::text, ',')) FROM generate_series(1, 100000) AS i; " \
	"SELECT length(repeat('x', 1000000))"

Test(postgres, the_same_answers_through_the_proxy)
{
	static char direct[4096];
	uint16_t port = start_proxy("");

	cr_assert_eq(psql(pg_port(), PSQL_QUERIES, direct, sizeof(direct)), 0, "%s", direct);
	cr_assert_str_eq(direct, "42|hello\n63ce0dadc39034dfd82b3b5979b82fbb\n1000000\n");
	cr_assert_eq(psql(port, PSQL_QUERIES, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, direct);

	psycopg2(pg_port(), "query", NULL, direct, sizeof(direct));
	cr_assert_str_eq(direct, "row: (42, 'hello postgres', [1, 2, 3], None)\n"
	    "aggregate: (5000050000, 100000, '63ce0dadc39034dfd82b3b5979b82fbb')\n"
	    "1 MB value: 1000000\n"
	    "psycopg2.errors.DivisionByZero: division by zero\n");
	cr_assert_str_eq(psycopg2(port, "query", NULL, out, sizeof(out)), direct);
	cr_assert_not_null(strstr(tcpd_info(), "upstream_connects:2\r\n"), "%s", tcpd_info());
}

/*
 * upstream_delay = 100ms holds each request on its way to the server: a
 * transaction of three round trips (BEGIN, SELECT, COMMIT) takes 300 ms
 * longer than through a proxy without it; at least 200 ms is asked.
 */
Test(postgres, upstream_delay_lengthens_a_transaction)
{
	const char *keys[] = { "", "upstream_delay = 100ms" };
	uint16_t port[2];
	double plain, delayed;

	start_proxies(keys, 2, port);
	plain = atof(psycopg2(port[0], "transaction", NULL, out, sizeof(out)));
	delayed = atof(psycopg2(port[1], "transaction", NULL, out, sizeof(out)));
	cr_assert_geq(delayed - plain, 200, "the transaction took %.0f ms through the delay, "
	    "%.0f ms without", delayed, plain);
	cr_assert_lt(delayed, 2000, "the transaction took %.0f ms", delayed);
}

#define CLOSED_UNEXPECTEDLY "server closed the connection unexpectedly"
/* What psql says of it (the rows it had are not shown: -At waits for the whole result). */
#define PSQL_LOST CLOSED_UNEXPECTEDLY "\n\tThis probably means the server terminated " \
	"abnormally\n\tbefore or while processing the request.\nconnection to server was lost\n"

/*
 * The fault reset_after (Toxiproxy's reset_peer) cuts a result 64 KiB into
 * its bytes toward the client with an RST: each client's own message.
 */
Test(postgres, reset_after_is_the_server_closing_unexpectedly)
{
	uint16_t port = start_proxy("reset_after = 64K");

	cr_assert_str_eq(psycopg2(port, "rows", "200000", out, sizeof(out)),
	    "psycopg2.OperationalError: " CLOSED_UNEXPECTEDLY "\n");
	cr_assert_eq(psql(port, "SELECT generate_series(1, 200000)", out, sizeof(out)), 2,
	    "%s", out);
	cr_assert_str_eq(out, PSQL_LOST);
	cr_assert_eq(tcpd_log_count("reset by a fault"), 2, "%s", tcpd_log_text());
	/* Under the limit, a query is answered as ever. */
	cr_assert_str_eq(psycopg2(port, "rows", "1000", out, sizeof(out)), "rows: 1000\n");
}

/* limit_data (close_after in bytes): the result cut by a FIN, the same message. */
Test(postgres, limit_data_cuts_a_large_result)
{
	uint16_t port = start_proxy("limit_data = 64K");

	cr_assert_str_eq(psycopg2(port, "rows", "200000", out, sizeof(out)),
	    "psycopg2.OperationalError: " CLOSED_UNEXPECTEDLY "\n");
	cr_assert_eq(psql(port, "SELECT generate_series(1, 200000)", out, sizeof(out)), 2,
	    "%s", out);
	cr_assert_str_eq(out, PSQL_LOST);
	cr_assert_eq(tcpd_log_count("reset by a fault"), 0, "%s", tcpd_log_text());
	cr_assert_str_eq(psycopg2(port, "rows", "1000", out, sizeof(out)), "rows: 1000\n");
}

/* refuse = on: each client's own "Connection refused", as if no server were there. */
Test(postgres, refuse_is_connection_refused)
{
	uint16_t port = start_proxy("refuse = on");
	char expect[160];

	cr_assert_gt(tcpd_log_await("refusing connections", 1), 0, "%s", tcpd_log_text());
	snprintf(expect, sizeof(expect), "psycopg2.OperationalError: connection to server at "
	    "\"127.0.0.1\", port %u failed: Connection refused\n", port);
	cr_assert_str_eq(psycopg2(port, "connect", "1", out, sizeof(out)), expect);
	cr_assert_eq(psql(port, "SELECT 1", out, sizeof(out)), 2, "%s", out);
	snprintf(expect, sizeof(expect), "psql: error: connection to server at \"127.0.0.1\", "
	    "port %u failed: Connection refused\n", port);
	cr_assert_eq(strncmp(out, expect, strlen(expect)), 0, "%s", out);
	cr_assert_not_null(strstr(tcpd_info(), "upstream_connects:0\r\n"), "%s", tcpd_info());
}

/*
 * blackhole = on: psycopg2's connect_timeout = 1 fires. The test fills the
 * listener's one queue slot first (listen(fd, 0) still completes one
 * handshake), so the driver's SYN goes unanswered as a black hole's would.
 */
Test(postgres, blackhole_makes_the_connect_timeout_fire)
{
	uint16_t port = start_proxy("blackhole = on");
	char expect[160];
	double t0, took;
	int fill;

	cr_assert_gt(tcpd_log_await("black-holing connections", 1), 0, "%s", tcpd_log_text());
	fill = tcp_connect(port);
	usleep(50 * 1000);	/* its ACK taken: the queue is full */
	snprintf(expect, sizeof(expect), "psycopg2.OperationalError: connection to server at "
	    "\"127.0.0.1\", port %u failed: timeout expired\n", port);
	t0 = now_ms();
	cr_assert_str_eq(psycopg2(port, "connect", "1", out, sizeof(out)), expect);
	took = now_ms() - t0;
	cr_assert(took >= 900 && took < 5000, "the driver gave up after %.0f ms", took);
	close(fill);
	cr_assert_not_null(strstr(tcpd_info(), "upstream_connects:0\r\n"), "%s", tcpd_info());
}
