/* SPDX-License-Identifier: MIT */
/*
 * scripts/bench.sh --quick against the built tcpd and whichever peers are
 * installed (the test command installs them all): every table and row is
 * written, the hand-written part of BENCHMARKS.md is kept, and a failing run
 * fails the script without touching the docs.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int
run_bench_script(const char *cli)
{
	char script[512], tcpd_env[512], cli_env[512];
	const char *argv[] = { "/usr/bin/env", tcpd_env, cli_env, "/bin/bash", script,
	    "--quick", "--out", dir, NULL };

	snprintf(script, sizeof(script), "%s/scripts/bench.sh", source_root());
	snprintf(tcpd_env, sizeof(tcpd_env), "TCPD=%s", tcpd_bin());
	snprintf(cli_env, sizeof(cli_env), "TCPD_CLI=%s", cli);
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
	const char *const echo_peers[] = { "tcpd-echo", "xinetd", "socat" };
	const char *const resp_peers[] = { "tcpd", "redis-server" };
	const char *text, *runs, *p;
	char path[160];
	size_t i, j;

	cr_assert_eq(run_bench_script(getenv("TCPD_CLI_BIN")), 0, "%s", out);
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
		size_t n = resp ? 2 : 3;

		for (j = 0; j < n; j++)
			if (j == 0 || installed(peers[j]))
				assert_row(text, rows[i].workload, peers[j]);
			else
				cr_log_info("%s is not installed: no row for it", peers[j]);
	}
	if (installed("redis-server")) {
		cr_assert_not_null(strstr(text, "\n| PING, 50 connections: ≥ 1.2× redis-server | "),
		    "%s", text);
		cr_assert_not_null(strstr(text, "\n| redis-server | 200 | "), "%s", text);
		if (installed("redis-benchmark"))
			assert_row(text, "PING_MBULK -P 16", "redis-server");
	}
	cr_assert_not_null(strstr(text, "\n### Timed faults: accuracy, and the cost to others\n"),
	    "%s", text);
	cr_assert_not_null(strstr(text, "\n| DELAY 100 on 100 connections, "), "%s", text);
	cr_assert_not_null(strstr(text, "\n| rate = 1000000 over 1 s: bytes against rate × time | "),
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
	cr_assert_eq(run_bench_script("/bin/false"), 1, "%s", out);
	cr_assert_not_null(strstr(out, "bench: ping-1 against tcpd failed"), "%s", out);
	cr_assert_not_null(strstr(out, "bench: some runs failed; "), "%s", out);
	cr_assert_str_eq(slurp(doc), hand_written);
}
