/* SPDX-License-Identifier: MIT */
/*
 * scripts/bench.sh --quick against the built tcpd, the built epoll-min and
 * whichever peers are installed (the test command installs them all): every
 * table and row is written, the hand-written part of BENCHMARKS.md is kept, and
 * a failing run, or a baseline that is no commit, fails the script without
 * touching the docs.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <ctype.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static char dir[64], doc[128], out[1 << 16];

static const char hand_written[] =
    "# Benchmarks\n\nWritten by hand, above.\n\n<!-- bench:begin -->\nthe last run\n"
    "<!-- bench:end -->\n\nWritten by hand, below.\n";

static void
setup(void)
{
	FILE *f;

	temp_dir_make(dir, sizeof(dir), "tcpd-bench");
	snprintf(doc, sizeof(doc), "%s/BENCHMARKS.md", dir);
	cr_assert_not_null(f = fopen(doc, "w"));
	fputs(hand_written, f);
	fclose(f);
}

static void
teardown(void)
{
	temp_dir_remove(dir);
}

TestSuite(bench_script, .init = setup, .fini = teardown, .timeout = 300);

/* With baseline NULL, no --baseline. */
static int
run_bench_script(const char *cli, const char *baseline)
{
	char script[512], tcpd_env[512], cli_env[512], peer_env[512];
	const char *argv[] = { "/usr/bin/env", tcpd_env, cli_env, peer_env, "/bin/bash", script,
	    "--quick", "--out", dir, baseline != NULL ? "--baseline" : NULL, baseline, NULL };

	snprintf(script, sizeof(script), "%s/scripts/bench.sh", source_root());
	snprintf(tcpd_env, sizeof(tcpd_env), "TCPD=%s", tcpd_bin());
	snprintf(cli_env, sizeof(cli_env), "TCPD_CLI=%s", cli);
	snprintf(peer_env, sizeof(peer_env), "EPOLL_MIN=%s", getenv("EPOLL_MIN_BIN"));
	return run_capture(argv, out, sizeof(out));
}

static bool
installed(const char *program)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null", program);
	return system(cmd) == 0;
}

static void
assert_row(const char *text, const char *workload, const char *server)
{
	char row[256];

	snprintf(row, sizeof(row), "\n| %s | %s | ", workload, server);
	cr_assert_not_null(strstr(text, row), "no row '%s' in:\n%s", row, text);
}

Test(bench_script, quick_run_writes_every_table)
{
	static const struct { const char *workload, *kind; } rows[] = {
		{ "PING, 1 connection", "resp" },
		{ "PING, 50 connections", "resp" },
		{ "PING, 1 connection, pipeline 16", "resp" },
		{ "PING, 50 connections, pipeline 16", "resp" },
		{ "echo 64 B, 1 connection", "echo" },
		{ "echo 64 B, 50 connections", "echo" },
		{ "bulk echo 16 MiB, 1 connection", "echo" },
		{ "connect, PING, reset; 8 at a time", "resp" },
		{ "connect, 64 B echo, reset; 8 at a time", "echo" },
	};
	/* The built ones first: they always have their rows. */
	const char *const echo_peers[] = { "tcpd-echo", "epoll-min-echo", "xinetd", "socat" };
	const char *const resp_peers[] = { "tcpd", "epoll-min", "redis-server" };
	static const char *const epoll_min_targets[] = {
		"PING, 50 connections: ≥ 0.97× epoll-min",
		"PING, 50 connections, pipeline 16: ≥ 0.97× epoll-min",
		"echo 64 B, 50 connections: ≥ 0.97× epoll-min",
	};
	/* The titles of the proxy workloads; bulk's peers are its own listeners. */
	static const char *const proxy_rows[] = {
		"PING, 1 connection", "PING, 50 connections", "PING, 50 connections, pipeline 16",
		"bulk echo, 16 MiB each way, 1 connection", "connect, PING, reset; 8 at a time",
	};
	const char *const proxy_peers[] = { "redis-direct", "tcpd-proxy", "haproxy", "socat-proxy" };
	const char *const bulk_peers[] = { "echo-direct", "tcpd-proxy-bulk", "haproxy-bulk",
	    "socat-proxy-bulk" };
	static const char *const proxy_targets[] = {
		"delay = 50 on proxied connections: p99 over 50 ms < 2 ms",
		"RSS per idle proxied pair at 200: < 2048 bytes",
		"PING, 50 connections, a fault profile on another listener: ≥ 0.97× without",
	};
	char row[128];
	const char *text, *runs, *p;
	char path[160];
	size_t i, j;

	cr_assert_eq(run_bench_script(getenv("TCPD_CLI_BIN"), NULL), 0, "%s", out);
	text = slurp(doc);
	p = "# Benchmarks\n\nWritten by hand, above.\n\n<!-- bench:begin -->\nMeasured ";
	cr_assert_eq(strncmp(text, p, strlen(p)), 0, "%s", text);
	cr_assert_null(strstr(text, "the last run"), "%s", text);
	p = strstr(text, "<!-- bench:end -->\n");
	cr_assert_not_null(p);
	cr_assert_str_eq(p, "<!-- bench:end -->\n\nWritten by hand, below.\n");
	cr_assert_not_null(strstr(text, "\n| RSS per idle connection at 200: < 2048 bytes | "),
	    "%s", text);
	cr_assert_not_null(strstr(text, "\n| tcpd | 200 | "), "%s", text);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bool resp = strcmp(rows[i].kind, "resp") == 0;
		const char *const *peers = resp ? resp_peers : echo_peers;
		size_t n = resp ? 3 : 4;

		for (j = 0; j < n; j++)
			if (j < 2 || installed(peers[j]))
				assert_row(text, rows[i].workload, peers[j]);
			else
				cr_log_info("%s is not installed: no row for it", peers[j]);
	}
	/* Measured, so a ratio and a verdict, not "not measured". */
	for (i = 0; i < sizeof(epoll_min_targets) / sizeof(epoll_min_targets[0]); i++) {
		snprintf(row, sizeof(row), "\n| %s | ", epoll_min_targets[i]);
		cr_assert_not_null(p = strstr(text, row), "no row '%s' in:\n%s", row, text);
		/* A figure (the delay over what was asked has its sign), not "not measured". */
		p += strlen(row);
		cr_assert(isdigit((unsigned char)p[*p == '+' || *p == '-']), "%s", text);
	}
	if (installed("redis-server")) {
		cr_assert_not_null(strstr(text, "\n| PING, 50 connections: ≥ 1.2× redis-server | "),
		    "%s", text);
		cr_assert_not_null(strstr(text, "\n| redis-server | 200 | "), "%s", text);
		if (installed("redis-benchmark"))
			assert_row(text, "PING_MBULK -P 16", "redis-server");
	}
	/* The proxy rows: every path to the same servers, and the targets measured. */
	for (i = 0; i < sizeof(proxy_rows) / sizeof(proxy_rows[0]); i++) {
		bool bulk = strstr(proxy_rows[i], "bulk") != NULL;
		const char *const *peers = bulk ? bulk_peers : proxy_peers;

		for (j = 0; j < 4; j++)
			if ((bulk || installed("redis-server")) &&
			    (j < 2 || installed(j == 2 ? "haproxy" : "socat")))
				assert_row(text, proxy_rows[i], peers[j]);
	}
	for (i = 0; i < sizeof(proxy_targets) / sizeof(proxy_targets[0]); i++) {
		/* All but the fault accuracy run go through redis-server. */
		if (i > 0 && !installed("redis-server"))
			continue;
		snprintf(row, sizeof(row), "\n| %s | ", proxy_targets[i]);
		cr_assert_not_null(p = strstr(text, row), "no row '%s' in:\n%s", row, text);
		/* A figure (the delay over what was asked has its sign), not "not measured". */
		p += strlen(row);
		cr_assert(isdigit((unsigned char)p[*p == '+' || *p == '-']), "%s", text);
	}
	if (installed("redis-server"))
		assert_row(text, "PING, 50 connections", "tcpd-proxy-faults");
	if (installed("haproxy")) {
		assert_row(text, "bulk echo, 16 MiB each way, 1 connection", "haproxy-splice-bulk");
		cr_assert_not_null(p = strstr(text, "\n| bulk echo, 1 connection: tcpd ≥ 1× HAProxy "
		    "splicing | "), "%s", text);
		cr_assert(isdigit((unsigned char)p[strlen("\n| bulk echo, 1 connection: tcpd ≥ 1× "
		    "HAProxy splicing | ")]), "%s", text);
	}
	cr_assert_not_null(strstr(text, "\n### Timed faults: accuracy, and the cost to others\n"),
	    "%s", text);
	cr_assert_not_null(strstr(text, "\n| DELAY 100 on 100 connections, "), "%s", text);
	cr_assert_not_null(strstr(text, "\n| rate = 1000000 over 0.3 s: bytes against rate × time | "),
	    "%s", text);
	cr_assert_not_null(strstr(text, "\n| tcpd's CPU while 300 connections wait on DELAY 60000 | "),
	    "%s", text);
	cr_assert_not_null(strstr(text, "\n| PING p99 of one client while 300 connections are delayed "
	    "or stalled (half each), ÷ the same server idle | "), "%s", text);
	if (installed("gnuplot"))
		cr_assert_not_null(strstr(text, "\n![Throughput of each server relative to tcpd]"
		    "(bench.png)\n"), "%s", text);
	/*
	 * Every run checked every reply: none counted an error or a mismatch.
	 * (slurp() reuses its buffer: text is gone from here on.)
	 */
	snprintf(path, sizeof(path), "%s/bench-runs.csv", dir);
	runs = slurp(path);
	cr_assert_eq(strncmp(runs, "workload,peer,round,requests_per_sec,", 37), 0, "%s", runs);
	for (p = strchr(runs, '\n') + 1; *p != '\0'; p = strchr(p, '\n') + 1)
		cr_assert_eq(strncmp(strchr(p, '\n') - 4, ",0,0\n", 5), 0, "%s", runs);
	if (installed("gnuplot")) {
		snprintf(path, sizeof(path), "%s/bench.png", dir);
		cr_assert_eq(memcmp(slurp(path), "\x89PNG\r\n", 6), 0);
	}
}

Test(bench_script, a_failing_run_fails_the_script_and_leaves_the_docs)
{
	cr_assert_eq(run_bench_script("/bin/false", NULL), 1, "%s", out);
	cr_assert_not_null(strstr(out, "bench: ping-1 against tcpd failed"), "%s", out);
	cr_assert_not_null(strstr(out, "bench: some runs failed; "), "%s", out);
	cr_assert_str_eq(slurp(doc), hand_written);
}

Test(bench_script, a_baseline_that_is_no_commit_fails_before_measuring)
{
	cr_assert_eq(run_bench_script(getenv("TCPD_CLI_BIN"), "no-such-commit"), 2, "%s", out);
	cr_assert_not_null(strstr(out, "bench: --baseline no-such-commit: no such commit\n"),
	    "%s", out);
	cr_assert_null(strstr(out, "ping-1"), "%s", out);
	cr_assert_str_eq(slurp(doc), hand_written);
}

/* epoll-min itself: started on port 0, the port read from its first line. */
static pid_t
epoll_min_start(const char *mode, uint16_t *port)
{
	const char *argv[] = { getenv("EPOLL_MIN_BIN"), mode, "0", NULL };
	char line[32] = "";
	int to, from;
	size_t n = 0;
	pid_t pid;

	cr_assert_not_null(argv[0], "EPOLL_MIN_BIN is not set");
	pid = run_piped(argv, &to, &from);
	while (n < sizeof(line) - 1 && read(from, line + n, 1) == 1 && line[n] != '\n')
		n++;
	cr_assert_eq(sscanf(line, "port %hu", port), 1, "epoll-min said '%s'", line);
	close(to);
	close(from);
	return pid;
}

static void
epoll_min_stop(pid_t pid)
{
	int status;

	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
}

Test(epoll_min, pong_counts_requests_across_reads, .timeout = 30)
{
	const struct timespec pause = { 0, 100 * 1000 * 1000 };
	static const char first[] = "*1\r\n$4\r\nPI", rest[] = "NG\r\n*1\r\n$4\r\nPING\r\n";
	char in[64];
	uint16_t port;
	pid_t pid = epoll_min_start("pong", &port);
	int fd = tcp_connect(port);

	/* Two newlines of three in the first read: no reply until the third. */
	send_all(fd, first, sizeof(first) - 1);
	nanosleep(&pause, NULL);
	send_all(fd, rest, sizeof(rest) - 1);
	shutdown(fd, SHUT_WR);
	assert_reply(in, recv_all(fd, in, sizeof(in)), "+PONG\r\n+PONG\r\n");
	close(fd);
	epoll_min_stop(pid);
}

Test(epoll_min, echo_keeps_what_a_full_socket_did_not_take, .timeout = 90)
{
	/* Twice what loopback's send buffer grows to (tcp_wmem's 4 MiB). */
	static char sent[8 << 20], got[sizeof(sent)];
	uint16_t port;
	pid_t pid = epoll_min_start("echo", &port);
	int fd = tcp_connect_small_window(port);
	size_t i, n;

	for (i = 0; i < sizeof(sent); i++)
		sent[i] = (char)(i * 7 + i / 251);
	/*
	 * Not reading yet: epoll-min's send buffer fills, its writes are cut
	 * short and it must keep the rest.
	 */
	n = send_until_blocked(fd, sent, sizeof(sent));
	/* Until all of it is back: with nothing left to send, pump would not shut down. */
	cr_assert_eq(pump(fd, sent + n, sizeof(sent) - n, false, got, sizeof(got)), sizeof(sent));
	cr_assert_eq(memcmp(got, sent, sizeof(sent)), 0);
	close(fd);
	epoll_min_stop(pid);
}
