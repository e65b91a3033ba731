/* SPDX-License-Identifier: MIT */
/*
 * tcpd-cli proxy|toxic against the real tcpd's control listener: the exact
 * lines and exit statuses, and that each command did what it says to a
 * server the test plays (bytes pass, a disabled proxy refuses, a latency
 * toxic delays a new connection, a removed one no longer does).
 */
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(cli_toxi, .fini = tcpd_teardown, .timeout = 60);

static char out[1 << 16], ctl_port[8];
static uint16_t ctl;

static const char *
cli_bin(void)
{
	const char *bin = getenv("TCPD_CLI_BIN");

	cr_assert_not_null(bin, "TCPD_CLI_BIN must name tcpd-cli");
	return bin;
}

/* tcpd-cli -p CONTROL-PORT ARGS... */
#define CTL(...) ((const char *const[]){ cli_bin(), "-p", ctl_port, __VA_ARGS__, NULL })

static void
start(void)
{
	char extra[256];

	free_ports(&ctl, 1);
	snprintf(ctl_port, sizeof(ctl_port), "%u", ctl);
	snprintf(extra, sizeof(extra), "[listener.ctl]\nbind = 127.0.0.1:%u\nservice = control\n",
	    ctl);
	tcpd_start(extra);
}

/* Runs argv; asserts its exit status and everything it printed. */
static void
assert_run_at(const char *const argv[], int status, const char *expect, int line)
{
	int got = run_capture(argv, out, sizeof(out));

	cr_assert_str_eq(out, expect, "line %d", line);
	cr_assert_eq(got, status, "line %d: exit %d: %s", line, got, out);
}

#define assert_run(argv, status, expect) assert_run_at(argv, status, expect, __LINE__)

/* The time from a request through the proxy on port to the test's server's answer, in ms. */
static double
round_trip_ms(uint16_t port, int lfd)
{
	int c = tcp_connect(port), s = accept_peer(lfd);
	double ms = pair_round_trip_ms(c, s);

	close(c);
	close(s);
	return ms;
}

Test(cli_toxi, proxy_commands_drive_a_real_proxy)
{
	char listen[32], alisten[32], upstream[32], expect[1024];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16), w;

	start();
	assert_run(CTL("proxy", "list"), 0, "no proxies\n");
	free_ports(&port, 1);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	snprintf(expect, sizeof(expect), "Created new proxy redis on %s to %s\n", listen, upstream);
	assert_run(CTL("proxy", "create", "redis", "--listen", listen, "--upstream", upstream), 0,
	    expect);
	assert_proxies(port, lfd);
	/* toxiproxy-cli's short options, the name after them; port 0 names the port taken. */
	cr_assert_eq(run_capture(CTL("proxy", "create", "-l", "127.0.0.1:0", "-u", upstream,
	    "a-db"), out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(strncmp(out, "Created new proxy a-db on 127.0.0.1:", 36), 0, "%s", out);
	snprintf(alisten, sizeof(alisten), "%.*s", (int)strcspn(out + 26, " "), out + 26);
	w = strlen(listen) > strlen(alisten) ? (int)strlen(listen) : (int)strlen(alisten);
	snprintf(expect, sizeof(expect),
	    "NAME   %-*s  %-*s  ENABLED   TOXICS\n"
	    "a-db   %-*s  %s  enabled   0\n"
	    "redis  %-*s  %s  enabled   0\n",
	    w, "LISTEN", (int)strlen(upstream), "UPSTREAM", w, alisten, upstream, w, listen,
	    upstream);
	assert_run(CTL("proxy", "list"), 0, expect);

	snprintf(expect, sizeof(expect), "Name: redis\nListen: %s\nUpstream: %s\nEnabled: true\n"
	    "Upstream toxics: none\nDownstream toxics: none\n", listen, upstream);
	assert_run(CTL("proxy", "inspect", "redis"), 0, expect);

	/* Disabled: refused, the port kept; toggled twice; enabled: served. */
	assert_run(CTL("proxy", "disable", "redis"), 0, "Proxy redis is now disabled\n");
	cr_assert_eq(connect_errno(port), ECONNREFUSED);
	assert_run(CTL("proxy", "toggle", "redis"), 0, "Proxy redis is now enabled\n");
	assert_proxies(port, lfd);
	assert_run(CTL("proxy", "toggle", "redis"), 0, "Proxy redis is now disabled\n");
	cr_assert_eq(connect_errno(port), ECONNREFUSED);
	snprintf(expect, sizeof(expect), "Name: redis\nListen: %s\nUpstream: %s\nEnabled: false\n"
	    "Upstream toxics: none\nDownstream toxics: none\n", listen, upstream);
	assert_run(CTL("proxy", "inspect", "redis"), 0, expect);
	assert_run(CTL("proxy", "enable", "redis"), 0, "Proxy redis is now enabled\n");
	assert_proxies(port, lfd);

	assert_run(CTL("proxy", "delete", "redis"), 0, "Deleted proxy redis\n");
	cr_assert_eq(connect_errno(port), ECONNREFUSED);
	assert_run(CTL("proxy", "delete", "a-db"), 0, "Deleted proxy a-db\n");
	assert_run(CTL("proxy", "list"), 0, "no proxies\n");
	/* What the API refuses: its error text and status, exit 1. */
	assert_run(CTL("proxy", "delete", "redis"), 1, "ERR proxy not found (404)\n");
	assert_run(CTL("proxy", "inspect", "redis"), 1, "ERR proxy not found (404)\n");
	assert_run(CTL("proxy", "toggle", "redis"), 1, "ERR proxy not found (404)\n");
	snprintf(expect, sizeof(expect), "ERR listen: only loopback addresses (127.0.0.0/8, ::1) "
	    "and those of proxy_listen_allow are served (403)\n");
	assert_run(CTL("proxy", "create", "x", "-l", "10.1.2.3:0", "-u", upstream), 1, expect);
	close(lfd);
}

Test(cli_toxi, toxic_commands_delay_new_connections_until_removed)
{
	char listen[32], upstream[32], expect[1024];
	uint16_t up, port;
	int lfd = tcp_listen_loopback(&up, 16);
	double ms;

	start();
	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", up);
	cr_assert_eq(run_capture(CTL("proxy", "create", "db", "-l", "127.0.0.1:0", "-u", upstream),
	    out, sizeof(out)), 0, "%s", out);
	/* Port 0: the line printed names the port taken. */
	cr_assert_eq(strncmp(out, "Created new proxy db on 127.0.0.1:", 34), 0, "%s", out);
	port = (uint16_t)atoi(out + 34);
	cr_assert_gt(port, 0);
	ms = round_trip_ms(port, lfd);
	cr_assert_lt(ms, 100, "%.1f ms", ms);

	assert_run(CTL("toxic", "add", "db", "-t", "latency", "-a", "latency=300"), 0,
	    "Added downstream latency toxic 'latency_downstream' on proxy 'db'\n");
	ms = round_trip_ms(port, lfd);
	cr_assert_geq(ms, 300, "%.1f ms", ms);
	/* An upstream toxic of the toxiproxy-cli's flags, the options before the proxy. */
	assert_run(CTL("toxic", "add", "-u", "-n", "cut", "--tox", "0.5", "-t", "limit_data", "-a",
	    "bytes=1000", "db"), 0, "Added upstream limit_data toxic 'cut' on proxy 'db'\n");
	snprintf(expect, sizeof(expect), "Name: db\nListen: 127.0.0.1:%u\nUpstream: %s\n"
	    "Enabled: true\nUpstream toxics:\n"
	    "  cut  type=limit_data  toxicity=0.5  attributes=[bytes=1000]\n"
	    "Downstream toxics:\n"
	    "  latency_downstream  type=latency  toxicity=1  attributes=[latency=300 jitter=0]\n",
	    port, upstream);
	assert_run(CTL("proxy", "inspect", "db"), 0, expect);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(expect, sizeof(expect), "NAME  %-*s  %-*s  ENABLED   TOXICS\n"
	    "db    %s  %s  enabled   2\n", (int)strlen(listen), "LISTEN",
	    (int)strlen(upstream), "UPSTREAM", listen, upstream);
	assert_run(CTL("proxy", "list"), 0, expect);

	assert_run(CTL("toxic", "update", "db", "-n", "latency_downstream", "--toxicity", "1",
	    "-a", "jitter=100"), 0, "Updated toxic 'latency_downstream' on proxy 'db'\n");
	assert_run(CTL("toxic", "update", "db", "-n", "cut", "--tox", "0"), 0,
	    "Updated toxic 'cut' on proxy 'db'\n");
	snprintf(expect, sizeof(expect), "Name: db\nListen: 127.0.0.1:%u\nUpstream: %s\n"
	    "Enabled: true\nUpstream toxics:\n"
	    "  cut  type=limit_data  toxicity=0  attributes=[bytes=1000]\n"
	    "Downstream toxics:\n"
	    "  latency_downstream  type=latency  toxicity=1  attributes=[latency=300 jitter=100]\n",
	    port, upstream);
	assert_run(CTL("proxy", "inspect", "db"), 0, expect);
	ms = round_trip_ms(port, lfd);
	cr_assert_geq(ms, 200, "%.1f ms", ms);

	assert_run(CTL("toxic", "remove", "db", "-n", "latency_downstream"), 0,
	    "Removed toxic 'latency_downstream' on proxy 'db'\n");
	ms = round_trip_ms(port, lfd);
	cr_assert_lt(ms, 100, "%.1f ms", ms);
	assert_run(CTL("toxic", "remove", "db", "--name", "cut"), 0,
	    "Removed toxic 'cut' on proxy 'db'\n");
	snprintf(expect, sizeof(expect), "Name: db\nListen: 127.0.0.1:%u\nUpstream: %s\n"
	    "Enabled: true\nUpstream toxics: none\nDownstream toxics: none\n", port, upstream);
	assert_run(CTL("proxy", "inspect", "db"), 0, expect);

	/* What the API refuses, on stderr alone. */
	assert_run(CTL("toxic", "remove", "db", "-n", "cut"), 1, "ERR toxic not found (404)\n");
	assert_run(CTL("toxic", "add", "db", "-t", "lag"), 1, "ERR invalid toxic type (400)\n");
	assert_run(CTL("toxic", "add", "db", "-t", "latency", "-a", "lag=1"), 1,
	    "ERR unknown attribute for this toxic type (400)\n");
	assert_run(CTL("toxic", "add", "nope", "-t", "latency"), 1,
	    "ERR proxy not found (404)\n");
	assert_run(((const char *const[]){ "/bin/sh", "-c", "\"$0\" -p $1 toxic add db -t lag "
	    "2>/dev/null", cli_bin(), ctl_port, NULL }), 1, "");
	close(lfd);
}

Test(cli_toxi, what_is_not_the_control_api_is_said)
{
	char closed_port[8], expect[256];
	uint16_t closed;

	start();
	free_ports(&closed, 1);
	snprintf(closed_port, sizeof(closed_port), "%u", closed);
	snprintf(expect, sizeof(expect), "tcpd-cli: connect 127.0.0.1:%u: Connection refused "
	    "(no control listener there? see service = control in tcpd.conf(5))\n", closed);
	assert_run(((const char *const[]){ cli_bin(), "-p", closed_port, "proxy", "list", NULL }),
	    2, expect);
	/* Without -p: Toxiproxy's port. */
	if (connect_errno(8474) == ECONNREFUSED)
		assert_run(((const char *const[]){ cli_bin(), "proxy", "list", NULL }), 2,
		    "tcpd-cli: connect 127.0.0.1:8474: Connection refused (no control listener "
		    "there? see service = control in tcpd.conf(5))\n");
	/* tcpd's RESP listener answers GET with an error reply. */
	snprintf(closed_port, sizeof(closed_port), "%u", tcpd.port[P_COMMAND]);
	assert_run(((const char *const[]){ cli_bin(), "-p", closed_port, "proxy", "list", NULL }),
	    2, "tcpd-cli: the answer is not HTTP/1.x\n");
}

Test(cli_toxi, usage_errors)
{
	start();
	assert_run(CTL("proxy", "create", "x"), 3, "tcpd-cli: proxy create: --listen HOST:PORT "
	    "and --upstream HOST:PORT are both needed\n");
	assert_run(CTL("proxy", "inspect"), 3, "tcpd-cli: proxy inspect needs a proxy's name\n");
	assert_run(CTL("proxy", "list", "x"), 3, "tcpd-cli: proxy list: no name (got 'x')\n");
	assert_run(CTL("proxy", "delete", "x", "y"), 3,
	    "tcpd-cli: proxy delete: one name only (got 'y')\n");
	assert_run(CTL("toxic", "add", "db"), 3, "tcpd-cli: toxic add: -t TYPE is needed "
	    "(latency, bandwidth, slow_close, timeout, reset_peer, slicer, limit_data)\n");
	assert_run(CTL("toxic", "add", "db", "-t", "latency", "-u", "-d"), 3,
	    "tcpd-cli: toxic add: a toxic is on one stream: -u or -d\n");
	assert_run(CTL("toxic", "add", "db", "-t", "latency", "-a", "latency"), 3,
	    "tcpd-cli: -a wants KEY=VALUE, as -a latency=100 (got 'latency')\n");
	assert_run(CTL("toxic", "add", "db", "-t", "latency", "--tox", "1.5"), 3,
	    "tcpd-cli: --toxicity wants a number from 0 to 1 (got '1.5')\n");
	assert_run(CTL("toxic", "update", "db", "-a", "latency=1"), 3,
	    "tcpd-cli: toxic update: -n NAME is needed\n");
	assert_run(CTL("toxic", "update", "db", "-n", "x", "-t", "latency"), 3,
	    "tcpd-cli: toxic update: unknown option or missing value: -t\n");
	assert_run(CTL("toxic", "remove", "db", "-n", "x", "-a", "latency=1"), 3,
	    "tcpd-cli: toxic remove: unknown option or missing value: -a\n");
	assert_run(((const char *const[]){ cli_bin(), "-r", "2", "proxy", "list", NULL }), 3,
	    "tcpd-cli: proxy and toxic take -h, -p, --connect-timeout and --timeout only\n");
	cr_assert_eq(run_capture(CTL("toxic", "delete"), out, sizeof(out)), 3);
	cr_assert_eq(strncmp(out, "tcpd-cli: toxic: which command? (tcpd-cli --help)\n", 50), 0,
	    "%s", out);
}

/*
 * A control port that answers wrong: on 127.0.0.1:*port, for each client,
 * reads the request's head, sends answer and closes.
 */
static pid_t
fake_control(uint16_t *port, const char *answer)
{
	int lfd = tcp_listen_loopback(port, 4), fd;
	char head[4096];
	size_t n;
	ssize_t r;
	pid_t pid;

	if ((pid = test_fork(SIGKILL)) == 0) {
		signal(SIGPIPE, SIG_IGN);
		alarm(30);
		while ((fd = accept(lfd, NULL, NULL)) != -1) {
			for (n = 0; n < sizeof(head) - 1 &&
			    (r = recv(fd, head + n, sizeof(head) - 1 - n, 0)) > 0; n += (size_t)r) {
				head[n + (size_t)r] = '\0';
				if (strstr(head, "\r\n\r\n") != NULL)
					break;
			}
			send(fd, answer, strlen(answer), MSG_NOSIGNAL);
			close(fd);
		}
		_exit(0);
	}
	close(lfd);
	cr_assert_gt(pid, 0);
	return pid;
}

Test(cli_toxi, a_wrong_answer_is_said_not_taken)
{
	static const struct {
		const char *answer, *said;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		  "tcpd-cli: the control API's answer is not JSON: '[' or '{' expected near 'hello'\n" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 8388609\r\n\r\n{",
		  "tcpd-cli: the answer's body is larger than the limit\n" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
		  "tcpd-cli: the control API closed the connection before its answer was "
		  "complete\n" },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n[]",
		  "tcpd-cli: the control API's answer is not an object of proxies\n" },
		{ "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
		  "ERR no error text (503)\n" },
	};
	char p[8];
	uint16_t port;
	size_t i;
	pid_t pid;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pid = fake_control(&port, cases[i].answer);
		snprintf(p, sizeof(p), "%u", port);
		assert_run(((const char *const[]){ cli_bin(), "-p", p, "proxy", "list", NULL }),
		    cases[i].said[0] == 'E' ? 1 : 2, cases[i].said);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}
