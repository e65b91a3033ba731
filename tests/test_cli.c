/* SPDX-License-Identifier: MIT */
/* tcpd-cli against the built tcpd: every mode, byte for byte. */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(cli, .init = tcpd_setup, .fini = tcpd_teardown, .timeout = 60);

static char out[1 << 16];
static char port[8];

static const char *
cli_bin(void)
{
	const char *bin = getenv("TCPD_CLI_BIN");

	cr_assert_not_null(bin, "TCPD_CLI_BIN must name tcpd-cli");
	return bin;
}

static const char *
port_of(int which)
{
	snprintf(port, sizeof(port), "%u", tcpd.port[which]);
	return port;
}

#define CLI(...) ((const char *const[]){ cli_bin(), __VA_ARGS__, NULL })

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --no-raw: what a terminal shows, into a pipe. */
Test(cli, one_command_per_reply_type)
{
	const char *p = port_of(P_COMMAND);

	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "ping"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "PONG\n");
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "ECHO", "a \"b\"\n\x01"), out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "\"a \\\"b\\\"\\n\\x01\"\n");
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "nope", "x"), out, sizeof(out)), 1);
	cr_assert_str_eq(out, "(error) ERR unknown command 'nope'\n");
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "time"), out, sizeof(out)), 0);
	cr_assert_eq(strncmp(out, "1) \"", 4), 0, "%s", out);
	cr_assert_not_null(strstr(out, "\n2) \""), "%s", out);
	/* INFO's CRLF lines are text, unquoted on a terminal too. */
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "info"), out, sizeof(out)), 0);
	cr_assert_eq(strncmp(out, "# Server\r\n", 10), 0, "%s", out);
	cr_assert_eq(run_capture(CLI("--no-raw", "-h", "::1", "-p", p, "help"), out,
	    sizeof(out)), 0);
	cr_assert_eq(strncmp(out, " 1) \"PING [message] - Ping the server\"\n"
	    " 2) \"ECHO", 48), 0, "%s", out);
	cr_assert_not_null(strstr(out, "\n 7) \"QUIT"), "%s", out);
}

/* Into a pipe, as redis-cli: the bytes, one element a line, an error as its text. */
Test(cli, replies_into_a_pipe_are_plain)
{
	const char *p = port_of(P_COMMAND);

	cr_assert_eq(run_capture(CLI("-p", p, "ECHO", "hello"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "hello\n");
	cr_assert_eq(run_capture(CLI("-p", p, "ECHO", "a \"b\"\n"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "a \"b\"\n\n");
	cr_assert_eq(run_capture(CLI("-p", p, "nope"), out, sizeof(out)), 1);
	cr_assert_str_eq(out, "ERR unknown command 'nope'\n\n");
	cr_assert_eq(run_capture(CLI("-p", p, "help"), out, sizeof(out)), 0);
	cr_assert_eq(strncmp(out, "PING [message] - Ping the server\nECHO", 37), 0,
	    "%s", out);
	/* --raw forces it; --no-raw then --raw: the last one wins. */
	cr_assert_eq(run_capture(CLI("--no-raw", "--raw", "-p", p, "ECHO", "x"), out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "x\n");
}

/* redis-server on the port written in p (tests/harness.h). */
static pid_t
redis_start_with(const char *p, const char *const *extra)
{
	return redis_server_start((uint16_t)atoi(p), extra);
}

static pid_t
redis_start(const char *p)
{
	return redis_server_start((uint16_t)atoi(p), NULL);
}

Test(cli, talks_to_redis_server_too)
{
	uint16_t rp;
	char p[8];
	pid_t pid;
	int status;

	free_ports(&rp, 1);
	snprintf(p, sizeof(p), "%u", rp);
	if ((pid = redis_start(p)) == 0)
		cr_skip_test("redis-server is not installed");
	cr_assert_eq(run_capture(CLI("-p", p, "set", "k", "hello world"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "OK\n");
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "get", "k"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "\"hello world\"\n");
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "get", "missing"), out, sizeof(out)),
	    0);
	cr_assert_str_eq(out, "(nil)\n");
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "rpush", "l", "a", "b", "c"), out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "(integer) 3\n");
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "lrange", "l", "0", "-1"), out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "1) \"a\"\n2) \"b\"\n3) \"c\"\n");
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "nope"), out, sizeof(out)), 1);
	cr_assert_str_eq(out, "(error) ERR unknown command 'nope', with args beginning with: \n");
	cr_assert_eq(run_capture_input(CLI("--no-raw", "-p", p), "incr n\nincr n\n", 14, out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "(integer) 1\n(integer) 2\n");
	cr_assert_eq(run_capture(CLI("bench", "-p", p, "-c", "4", "-P", "8", "-n", "5000"), out,
	    sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "errors: 0  mismatched replies: 0\n"), "%s", out);
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
}

/*
 * The same commands through redis-cli and tcpd-cli print the same bytes, into
 * a pipe and in the terminal format (--no-raw), against redis-server and
 * against tcpd. Only the exit status differs: tcpd-cli's is 1 after an error
 * reply, redis-cli's 0.
 */
#define REDIS_CLI "/usr/bin/redis-cli"	/* Debian's redis-tools */

static void
assert_same_as_redis_cli_with(const char *p, const char *opt, const char *const cmds[][5],
    size_t n)
{
	static char mine[8192], theirs[8192];
	size_t i, m;
	int k;

	for (i = 0; i < n; i++) {
		for (m = 0; m < 2; m++) {
			const char *argv[2][12];

			for (k = 0; k < 2; k++) {
				size_t a = 0, w;

				argv[k][a++] = k == 0 ? cli_bin() : REDIS_CLI;
				argv[k][a++] = "-p";
				argv[k][a++] = p;
				if (opt != NULL)
					argv[k][a++] = opt;
				if (m == 1)
					argv[k][a++] = "--no-raw";
				for (w = 0; w < 5 && cmds[i][w] != NULL; w++)
					argv[k][a++] = cmds[i][w];
				argv[k][a] = NULL;
			}
			run_capture(argv[0], mine, sizeof(mine));
			run_capture(argv[1], theirs, sizeof(theirs));
			cr_assert_str_eq(mine, theirs, "%s %s %s %s: tcpd-cli printed\n%s\n"
			    "redis-cli\n%s", m == 1 ? "--no-raw" : "(pipe)", cmds[i][0],
			    cmds[i][1] != NULL ? cmds[i][1] : "", cmds[i][1] != NULL &&
			    cmds[i][2] != NULL ? cmds[i][2] : "", mine, theirs);
		}
	}
}

static void
assert_same_as_redis_cli(const char *p, const char *const cmds[][5], size_t n)
{
	assert_same_as_redis_cli_with(p, NULL, cmds, n);
}

Test(cli, prints_what_redis_cli_prints)
{
	static const char *const against_redis[][5] = {
		{ "set", "k", "hello world" }, { "get", "k" }, { "get", "missing" },
		{ "lrange", "l", "0", "-1" },
		{ "lrange", "none", "0", "-1" }, { "strlen", "k" }, { "nope", "x" },
		{ "eval", "return {1,{2,'x'},{},'y'}", "0" },
		{ "eval", "return {1,redis.error_reply('boom'),3}", "0" },
		{ "echo", "a\r\nb\x01\xff\"\\" }, { "ping" }, { "info", "keyspace" },
	};
	static const char *const against_tcpd[][5] = {
		{ "ping" }, { "ping", "two words" }, { "echo", "a\r\nb\x01\xff\"\\" },
		{ "echo", "" }, { "nope" }, { "ping", "a", "b" },
	};
	uint16_t rp;
	char p[8];
	pid_t pid;

	if (access(REDIS_CLI, X_OK) != 0)
		cr_skip_test("redis-cli is not installed");
	assert_same_as_redis_cli(port_of(P_COMMAND), against_tcpd,
	    sizeof(against_tcpd) / sizeof(against_tcpd[0]));
	free_ports(&rp, 1);
	snprintf(p, sizeof(p), "%u", rp);
	if ((pid = redis_start(p)) == 0)
		cr_skip_test("redis-server is not installed");
	cr_assert_eq(run_capture(CLI("-p", p, "rpush", "l", "a", "b c", ""), out, sizeof(out)), 0);
	assert_same_as_redis_cli(p, against_redis, sizeof(against_redis) / sizeof(against_redis[0]));
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

Test(cli, connection_failures)
{
	uint16_t closed;
	char p[8], expect[128];

	free_ports(&closed, 1);
	snprintf(p, sizeof(p), "%u", closed);
	cr_assert_eq(run_capture(CLI("-p", p, "ping"), out, sizeof(out)), 2);
	snprintf(expect, sizeof(expect), "tcpd-cli: connect 127.0.0.1:%u: Connection "
	    "refused\n", closed);
	cr_assert_str_eq(out, expect);
	cr_assert_eq(run_capture(CLI("-h", "no.such.host.invalid", "ping"), out,
	    sizeof(out)), 2);
	cr_assert_eq(strncmp(out, "tcpd-cli: resolve no.such.host.invalid:7070: ", 45), 0,
	    "%s", out);
	/* discard never replies: --timeout says so. */
	cr_assert_eq(run_capture(CLI("-p", port_of(P_DISCARD), "--timeout", "200", "ping"),
	    out, sizeof(out)), 2);
	cr_assert_str_eq(out, "tcpd-cli: no reply within 200 ms\n");
}

Test(cli, connect_timeout)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int lfd, queued[3], i;
	uint16_t full;
	char p[8], expect[128];

	/* A listener whose queue is full drops SYNs: the connect hangs. */
	free_ports(&full, 1);
	sin.sin_port = htons(full);
	cr_assert_geq(lfd = socket(AF_INET, SOCK_STREAM, 0), 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(lfd, 0), 0);
	for (i = 0; i < 3; i++) {
		queued[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(queued[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	snprintf(p, sizeof(p), "%u", full);
	cr_assert_eq(run_capture(CLI("-p", p, "--connect-timeout", "300", "ping"), out,
	    sizeof(out)), 2);
	snprintf(expect, sizeof(expect), "tcpd-cli: connect 127.0.0.1:%u: timed out after "
	    "300 ms\n", full);
	cr_assert_str_eq(out, expect);
	for (i = 0; i < 3; i++)
		close(queued[i]);
	close(lfd);
}

Test(cli, stdin_lines_are_pipelined)
{
	static const char in[] = "PING\nECHO \"two\\x20words\"\n\nbogus\nPING 'last'\n";

	cr_assert_eq(run_capture_input(CLI("-p", port_of(P_COMMAND)), in, sizeof(in) - 1,
	    out, sizeof(out)), 1, "an error reply makes the exit status 1");
	cr_assert_str_eq(out, "PONG\ntwo words\nERR unknown command 'bogus'\n\nlast\n");
	cr_assert_eq(run_capture_input(CLI("--no-raw", "-p", port_of(P_COMMAND)), in,
	    sizeof(in) - 1, out, sizeof(out)), 1);
	cr_assert_str_eq(out, "PONG\n\"two words\"\n(error) ERR unknown command 'bogus'\n"
	    "\"last\"\n");
}

/* Each pipelined reply keeps its own request's format: INFO's text between quoted ones. */
Test(cli, pipelined_info_is_text_between_quoted_replies)
{
	static const char in[] = "ECHO a\nINFO\nECHO b\n";
	char *info;

	cr_assert_eq(run_capture_input(CLI("--no-raw", "-p", port_of(P_COMMAND)), in,
	    sizeof(in) - 1, out, sizeof(out)), 0);
	cr_assert_eq(strncmp(out, "\"a\"\n# Server\r\n", 14), 0, "%s", out);
	info = strstr(out, "\r\n\"b\"\n");
	cr_assert_not_null(info, "%s", out);
	cr_assert_eq(info[6], '\0', "%s", out);
}

Test(cli, an_unbalanced_quote_is_an_error_not_a_command)
{
	static const char in[] = "ECHO \"open\nPING\n";

	cr_assert_eq(run_capture_input(CLI("-p", port_of(P_COMMAND)), in, sizeof(in) - 1,
	    out, sizeof(out)), 1);
	cr_assert_str_eq(out, "tcpd-cli: invalid arguments: unbalanced quotes\nPONG\n");
}

Test(cli, a_long_script_streams_through)
{
	/* Over 1 MiB of requests, more than tcpd-cli reads ahead of the server. */
	enum { N = 20000 };
	static const char pad[] = "0123456789012345678901234567890123456789012345678";
	size_t in_len = 0, want_len = 0, i;
	char *in = malloc(N * 64), *want = malloc(N * 64), *got = malloc(N * 64);

	for (i = 0; i < N; i++) {
		in_len += (size_t)sprintf(in + in_len, "ECHO %05zu%s\n", i, pad);
		want_len += (size_t)sprintf(want + want_len, "%05zu%s\n", i, pad);
	}
	cr_assert_eq(run_capture_input(CLI("-p", port_of(P_COMMAND)), in, in_len, got,
	    N * 64), 0);
	cr_assert_str_eq(got, want);
	free(in);
	free(want);
	free(got);
}

Test(cli, a_line_too_long_is_skipped_whole)
{
	size_t n = 70000;
	char *in = malloc(n + 16);

	memset(in, 'a', n);
	memcpy(in + n, "\nPING\n", 7);
	cr_assert_eq(run_capture_input(CLI("-p", port_of(P_COMMAND)), in, n + 6, out,
	    sizeof(out)), 1);
	cr_assert_str_eq(out, "tcpd-cli: line longer than 65536 bytes, skipped\nPONG\n");
	free(in);
}

Test(cli, pipe_with_every_service)
{
	cr_assert_eq(run_capture_input(CLI("-p", port_of(P_ECHO), "pipe"), "abc\r\n\x01x", 7,
	    out, sizeof(out)), 0);
	cr_assert_str_eq(out, "abc\r\n\x01x");
	cr_assert_eq(run_capture_input(CLI("-p", port_of(P_DISCARD), "pipe"), "junk", 4,
	    out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(run_capture(CLI("-p", port_of(P_DAYTIME), "pipe"), out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "-UTC\r\n"), "%s", out);
	cr_assert_eq(run_capture(CLI("-p", port_of(P_TIME), "pipe"), out, sizeof(out)), 0);
	cr_assert_eq(strlen(out) <= 4, 1);
	cr_assert_eq(run_capture(CLI("-p", port_of(P_COMMAND), "pipe"), out, sizeof(out)), 0,
	    "command: our half-close, then the server's close");
	cr_assert_str_eq(out, "");
}

Test(cli, pipe_with_chargen_until_stopped)
{
	char got[740], expect[740];
	int fds[2], i, status;
	size_t n = 0;
	ssize_t r;
	pid_t pid;

	/* chargen never ends: read ten lines from tcpd-cli, then stop it. */
	cr_assert_eq(pipe(fds), 0);
	if ((pid = test_fork(SIGKILL)) == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		execl(cli_bin(), cli_bin(), "-p", port_of(P_CHARGEN), "pipe", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (n < sizeof(got) && (r = read(fds[0], got + n, sizeof(got) - n)) > 0)
		n += (size_t)r;
	kill(pid, SIGTERM);
	close(fds[0]);
	waitpid(pid, &status, 0);
	for (i = 0; i < 740; i++)
		expect[i] = i % 74 == 72 ? '\r' : i % 74 == 73 ? '\n' :
		    (char)(' ' + (i / 74 + i % 74) % 95);
	assert_bytes(got, n, expect, sizeof(expect));
}

/* What the terminal showed, and how far expect_on_terminal() has matched it. */
static char seen[1 << 14];
static size_t seen_len, seen_pos;

/* Starts args (tcpd-cli or redis-cli) on a new pseudo-terminal; its master side in *master. */
static pid_t
spawn_on_terminal(int *master, const char *const args[])
{
	char hist[4200];
	pid_t test = getpid(), pid;

	/* The prompt's history goes to the test's directory, never the user's. */
	snprintf(hist, sizeof(hist), "%s/history", tcpd.dir);
	setenv("TCPDCLI_HISTFILE", hist, 1);
	setenv("REDISCLI_HISTFILE", hist, 1);
	setenv("TERM", "xterm", 1);
	/* A size, as a terminal has: linenoise (redis-cli) asks the cursor otherwise. */
	pid = forkpty(master, NULL, NULL, &(struct winsize){ .ws_row = 24, .ws_col = 80 });

	if (pid == 0) {
		die_with_test(test, SIGKILL);
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	seen[0] = '\0';
	seen_len = seen_pos = 0;
	return pid;
}

/* Reads the terminal until want shows up after the last match (or 5 s pass). */
static void
expect_on_terminal(int master, const char *want)
{
	struct pollfd p = { .fd = master, .events = POLLIN };
	char *at;
	ssize_t r;

	while ((at = strstr(seen + seen_pos, want)) == NULL) {
		cr_assert_gt(poll(&p, 1, 5000), 0, "waiting for '%s' in '%s'", want, seen);
		r = read(master, seen + seen_len, sizeof(seen) - 1 - seen_len);
		cr_assert_gt(r, 0, "waiting for '%s' in '%s'", want, seen);
		seen_len += (size_t)r;
		seen[seen_len] = '\0';
	}
	seen_pos = (size_t)(at - seen) + strlen(want);
}

/* Types text at the terminal, as a user would. */
static void
type_on_terminal(int master, const char *text)
{
	size_t n = strlen(text);

	cr_assert_eq(write(master, text, n), (ssize_t)n);
}

/* Types a line, then waits for its answer and the next prompt. */
static void
answer_on_terminal(int master, const char *line, const char *answer, const char *prompt)
{
	type_on_terminal(master, line);
	expect_on_terminal(master, answer);
	expect_on_terminal(master, prompt);
}

/* The child's exit status within 5 s; a child still running is killed and fails the test. */
static void
assert_exit_status(pid_t pid, int want)
{
	int status, i;

	for (i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++)
		poll(NULL, 0, 10);
	if (i == 500) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		cr_assert_fail("still running 5 s after it was told to leave; the terminal "
		    "showed:\n%s", seen);
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == want, "status %d", status);
}

Test(cli, interactive_prompt_reconnects)
{
	char prompt[64];
	int master;
	pid_t pid = spawn_on_terminal(&master, CLI("-p", port_of(P_COMMAND)));

	snprintf(prompt, sizeof(prompt), "127.0.0.1:%u> ", tcpd.port[P_COMMAND]);
	expect_on_terminal(master, prompt);
	type_on_terminal(master, "PING\n");
	expect_on_terminal(master, "PONG");
	/* The server goes away and comes back on the same port: the next command
	 * reconnects by itself. */
	cr_assert_eq(tcpd_stop(), 0);
	tcpd_restart_same_ports();
	answer_on_terminal(master, "ECHO back\n", "\"back\"", prompt);
	type_on_terminal(master, "quit\n");
	assert_exit_status(pid, 0);
	close(master);
}

/* A reset is said once, and the command that met it is not sent again. */
Test(cli, a_reset_at_the_prompt_is_said_once, .init = NULL)
{
	char prompt[64];
	int master;
	pid_t pid;

	tcpd_start_with(NULL, "faults = loopback", 0);
	pid = spawn_on_terminal(&master, CLI("-p", port_of(P_COMMAND)));
	snprintf(prompt, sizeof(prompt), "127.0.0.1:%u> ", tcpd.port[P_COMMAND]);
	expect_on_terminal(master, prompt);
	type_on_terminal(master, "FAULT RESET\r");
	expect_on_terminal(master, "FAULT RESET\r\ntcpd-cli: recv: Connection reset by peer\r\n"
	    "not connected> ");
	answer_on_terminal(master, "PING\r", "PONG", prompt);
	cr_assert_eq(tcpd_log_count("reset by a RESET fault"), 1);
	type_on_terminal(master, "quit\r");
	assert_exit_status(pid, 0);
	close(master);
}

/* clear is the prompt's own, as in redis-cli: the screen is cleared, nothing sent. */
Test(cli, clear_at_the_prompt_clears_the_screen)
{
	char prompt[64];
	int master;
	pid_t pid = spawn_on_terminal(&master, CLI("-p", port_of(P_COMMAND)));

	snprintf(prompt, sizeof(prompt), "127.0.0.1:%u> ", tcpd.port[P_COMMAND]);
	expect_on_terminal(master, prompt);
	answer_on_terminal(master, " CLEAR \r", "\x1b[H\x1b[2J", prompt);
	/* With an argument it is a command like any other. */
	answer_on_terminal(master, "clear x\r", "(error) ERR unknown command 'clear'", prompt);
	type_on_terminal(master, "quit\r");
	assert_exit_status(pid, 0);
	close(master);
	cr_assert_null(strstr(seen, "'CLEAR'"), "%s", seen);
}

Test(cli, prompt_keeps_a_history_and_splits_quotes)
{
	char hist[4200], prompt[64];
	int master;
	pid_t pid;

	snprintf(hist, sizeof(hist), "%s/history", tcpd.dir);
	snprintf(prompt, sizeof(prompt), "127.0.0.1:%u> ", tcpd.port[P_COMMAND]);
	pid = spawn_on_terminal(&master, CLI("-p", port_of(P_COMMAND)));
	expect_on_terminal(master, prompt);
	answer_on_terminal(master, "ECHO \"a\\x41 'b'\"\r", "\"aA 'b'\"", prompt);
	answer_on_terminal(master, "ECHO \"open\r", "tcpd-cli: invalid arguments: unbalanced quotes", prompt);
	/* INFO prints its lines on a terminal, as redis-cli does. */
	answer_on_terminal(master, "INFO\r", "\n# Server\r", prompt);
	type_on_terminal(master, "quit\r");
	assert_exit_status(pid, 0);
	close(master);
	cr_assert_not_null(strstr(slurp(hist), "INFO"), "%s", slurp(hist));

	/* A new prompt remembers: up arrow twice, then Enter, runs the ECHO again. */
	pid = spawn_on_terminal(&master, CLI("-p", port_of(P_COMMAND)));
	expect_on_terminal(master, prompt);
	answer_on_terminal(master, "\x1b[A\x1b[A\x1b[A\r", "\"aA 'b'\"", prompt);
	type_on_terminal(master, "exit\r");
	assert_exit_status(pid, 0);
	close(master);
}

/*
 * redis-cli's prompt asks the server for COMMAND DOCS to show its hints;
 * tcpd has no COMMAND, and redis-cli takes that as it takes an old server:
 * its prompt works, with its own built-in help.
 */
Test(cli, redis_clis_prompt_works_without_command_docs)
{
	char prompt[64];
	int master;
	pid_t pid;

	if (access(REDIS_CLI, X_OK) != 0)
		cr_skip_test("redis-cli is not installed");
	pid = spawn_on_terminal(&master, (const char *const[]){ REDIS_CLI, "-p",
	    port_of(P_COMMAND), NULL });
	snprintf(prompt, sizeof(prompt), "127.0.0.1:%u> ", tcpd.port[P_COMMAND]);
	expect_on_terminal(master, prompt);
	answer_on_terminal(master, "PING\r", "PONG", prompt);
	type_on_terminal(master, "ECHO \"a b\"\r");
	/* The reply on a line of its own, not the echo of what was typed; then a
	 * fresh prompt, which linenoise prints once the terminal is raw again. */
	expect_on_terminal(master, "\n\"a b\"");
	expect_on_terminal(master, prompt);
	type_on_terminal(master, "quit\r");
	assert_exit_status(pid, 0);
	close(master);
}

Test(cli, bench_shows_progress_on_a_terminal)
{
	int master;
	pid_t pid = spawn_on_terminal(&master, CLI("bench", "-p", port_of(P_COMMAND), "-c", "2",
	    "-d", "1.2"));

	/* Every half second (twice in 1.2 s), one line rewritten in place. */
	expect_on_terminal(master, "\rping: ");
	expect_on_terminal(master, " requests, ");
	expect_on_terminal(master, "/s, 0 errors   \rping: ");
	expect_on_terminal(master, " requests, ");
	expect_on_terminal(master, "/s, 0 errors   ");
	expect_on_terminal(master, "ping: 2 connections, pipeline 1: ");
	expect_on_terminal(master, "errors: 0  mismatched replies: 0");
	assert_exit_status(pid, 0);
	close(master);
}

Test(cli, bench_checks_every_reply_and_reports)
{
	const char *p = port_of(P_COMMAND);
	char e[8];

	cr_assert_eq(run_capture(CLI("bench", "-p", p, "-n", "20000", "-c", "8", "-P", "4",
	    "--csv"), out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(strncmp(out, "workload,connections,pipeline,size,requests,", 44), 0);
	cr_assert_not_null(strstr(out, "\nping,8,4,64,20000,"), "%s", out);
	cr_assert_not_null(strstr(out, ",0,0\n"), "no errors, no mismatches: %s", out);
	cr_assert_eq(run_capture(CLI("bench", "-p", p, "--workload", "echo", "-s", "1000",
	    "-n", "2000", "--json"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "\"workload\":\"echo\""), "%s", out);
	cr_assert_not_null(strstr(out, "\"requests\":2000,"), "%s", out);
	cr_assert_not_null(strstr(out, "\"errors\":0,\"mismatches\":0}"), "%s", out);
	snprintf(e, sizeof(e), "%u", tcpd.port[P_ECHO]);
	cr_assert_eq(run_capture(CLI("bench", "-p", e, "--workload", "raw-echo", "-s",
	    "100000", "-c", "2", "-n", "200"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "MB/s each way"), "%s", out);
	cr_assert_eq(run_capture(CLI("bench", "-p", p, "--workload", "connect", "-c", "4",
	    "-n", "400"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "connect: 4 connections, pipeline 1: 400 requests"),
	    "%s", out);
	cr_assert_eq(run_capture(CLI("bench", "-p", e, "--workload", "raw-connect", "-c", "4",
	    "-s", "100", "-n", "400", "--reset"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "raw-connect: 4 connections, pipeline 1: 400 requests"),
	    "%s", out);
	cr_assert_eq(run_capture(CLI("bench", "-p", p, "-d", "0.3", "-c", "2"), out,
	    sizeof(out)), 0, "%s", out);
	/* -n and -d together: whichever comes first. */
	cr_assert_eq(run_capture(CLI("bench", "-p", p, "-n", "500", "-d", "60", "-c", "2"),
	    out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "ping: 2 connections, pipeline 1: 500 requests in 0."),
	    "%s", out);
	/* -3: HELLO 3 first, its map not counted as a reply; connect workloads refused. */
	cr_assert_eq(run_capture(CLI("bench", "-3", "-p", p, "-n", "2000", "-c", "4", "-P", "4",
	    "--csv"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "\nping,4,4,64,2000,"), "%s", out);
	cr_assert_not_null(strstr(out, ",0,0\n"), "no errors, no mismatches: %s", out);
	cr_assert_eq(run_capture(CLI("bench", "-3", "-p", p, "--workload", "connect"), out,
	    sizeof(out)), 3, "%s", out);
	cr_assert_str_eq(out, "tcpd-cli bench: -3 is for the workloads that keep their "
	    "connections (ping, echo)\n");
}

Test(cli, bench_idle_holds_every_connection)
{
	cr_assert_eq(run_capture(CLI("bench", "-p", port_of(P_COMMAND), "--workload", "idle",
	    "-c", "300", "-d", "0.5"), out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(strncmp(out, "holding 300 idle connections for 0.5 s\n"
	    "idle: 300 of 300 connections answered in ", 79), 0, "%s", out);
	cr_assert_not_null(strstr(out, " s, then held 0.5 s\nerrors: 0  mismatched replies: 0\n"),
	    "%s", out);
}

Test(cli, bench_idle_counts_connections_the_server_drops, .init = NULL)
{
	tcpd_start("idle_timeout = 1\n");
	cr_assert_eq(run_capture(CLI("bench", "-p", port_of(P_COMMAND), "--workload", "idle",
	    "-c", "20", "-d", "2.5"), out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "holding 20 idle connections for 2.5 s\n"), "%s", out);
	cr_assert_not_null(strstr(out, "errors: 20  mismatched replies: 0\n"), "%s", out);
}

Test(cli, bench_raises_its_open_file_limit)
{
	char script[512];
	const char *argv[] = { "/bin/sh", "-c", script, NULL };

	/* A soft limit below 300 connections is raised; a hard one is reported. */
	snprintf(script, sizeof(script), "ulimit -S -n 64 && exec '%s' bench -p %s -c 300 "
	    "-n 3000", cli_bin(), port_of(P_COMMAND));
	cr_assert_eq(run_capture(argv, out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "ping: 300 connections, pipeline 1: 3000 requests"),
	    "%s", out);
	snprintf(script, sizeof(script), "ulimit -n 64 && exec '%s' bench -p %s -c 300",
	    cli_bin(), port_of(P_COMMAND));
	cr_assert_eq(run_capture(argv, out, sizeof(out)), 1, "%s", out);
	cr_assert_str_eq(out, "tcpd-cli bench: 300 connections need more open files than the "
	    "limit (ulimit -n) allows\n");
}

/* The faults line of a bench report. */
static void
faults_of(const char *report, unsigned long long *resets, unsigned long long *closes,
    unsigned long long *late, unsigned long long *lost)
{
	const char *line = strstr(report, "faults: ");

	cr_assert_not_null(line, "%s", report);
	cr_assert_eq(sscanf(line, "faults: %llu resets, %llu closes, %llu late replies (over 20 "
	    "ms), %llu requests lost", resets, closes, late, lost), 4, "%s", report);
}

/* Against a flaky listener, resets, closes and late replies are counted, not failures. */
Test(cli, bench_expect_faults_counts_each_fault, .init = NULL)
{
	unsigned long long resets, closes, late, lost, done;

	tcpd_start_with(NULL, "delay = 30ms\nreset_probability = 20%\nseed = 3", 0);
	cr_assert_eq(run_capture(CLI("bench", "-p", port_of(P_ECHO), "--workload", "raw-connect",
	    "-s", "5", "-c", "8", "-n", "200", "--expect-faults=20"), out, sizeof(out)), 0,
	    "%s", out);
	cr_assert_not_null(strstr(out, "errors: 0  mismatched replies: 0\n"), "%s", out);
	faults_of(out, &resets, &closes, &late, &lost);
	cr_assert(sscanf(out, "raw-connect: 8 connections, pipeline 1: %llu requests", &done) == 1);
	cr_assert(resets >= 10 && resets <= 90 && closes == 0, "%s", out);
	cr_assert_eq(lost, resets, "one request lost with each reset: %s", out);
	cr_assert_eq(done + lost, 200, "%s", out);
	cr_assert_eq(late, done, "every reply 30 ms late: %s", out);
	/* Without the option the same run fails (1), or cannot even check the address (2). */
	cr_assert_neq(run_capture(CLI("bench", "-p", port_of(P_ECHO), "--workload", "raw-connect",
	    "-s", "5", "-c", "8", "-n", "200"), out, sizeof(out)), 0, "%s", out);
	cr_assert_not_null(strstr(out, "Connection reset by peer"), "%s", out);
	cr_assert_eq(tcpd_stop(), 0);
	/* A FIN after 15 bytes: three 5-byte echoes, then the fourth request is lost. */
	tcpd_start_with(NULL, "close_after = 15", 0);
	cr_assert_eq(run_capture(CLI("bench", "-p", port_of(P_ECHO), "--workload", "raw-echo",
	    "-s", "5", "-c", "2", "-n", "40", "--expect-faults=20"), out, sizeof(out)), 0,
	    "%s", out);
	faults_of(out, &resets, &closes, &late, &lost);
	cr_assert(sscanf(out, "raw-echo: 2 connections, pipeline 1: %llu requests", &done) == 1);
	/* Which connection reaches 40 first decides the last few. */
	cr_assert(resets == 0 && lost <= closes && closes <= lost + 2 && lost >= 8 && late == 0,
	    "%s", out);
	cr_assert_eq(done + lost, 40, "%s", out);
	cr_assert_geq(done, 3 * (closes - 1), "%s", out);
}

Test(cli, bench_counts_wrong_replies)
{
	/* ECHO expected, but the echo service returns the RESP request itself. */
	cr_assert_eq(run_capture(CLI("bench", "-p", port_of(P_ECHO), "--workload", "ping",
	    "-n", "100", "-c", "1"), out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, ": 100 requests in "), "%s", out);
	cr_assert_not_null(strstr(out, "mismatched replies: 100\n"), "one per request: %s",
	    out);
}


/*
 * A hostile server in a child process: on 127.0.0.1:*port it accepts one
 * client at a time, sends head, then reply (again and again when endless,
 * until the client goes), then holds the connection until the client closes it.
 */
static pid_t
fake_server(uint16_t *port_out, const char *head, const char *reply, size_t len,
    bool endless)
{
	int lfd, fd;
	pid_t pid;
	char sink[4096];

	lfd = tcp_listen_loopback(port_out, 4);
	if ((pid = test_fork(SIGKILL)) == 0) {
		signal(SIGPIPE, SIG_IGN);
		alarm(30);
		while ((fd = accept(lfd, NULL, NULL)) != -1) {
			if (send(fd, head, strlen(head), MSG_NOSIGNAL) != -1)
				while (send(fd, reply, len, MSG_NOSIGNAL) != -1 && endless)
					;
			while (recv(fd, sink, sizeof(sink), 0) > 0)
				;
			close(fd);
		}
		_exit(0);
	}
	close(lfd);
	cr_assert_gt(pid, 0);
	return pid;
}

static void
reap_fake_server(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

#define NOT_RESP "tcpd-cli: the server's reply is not RESP (for a raw service use " \
	"`tcpd-cli pipe`)\n"
#define BROKEN_RESP "tcpd-cli: protocol error: the server's reply is not RESP\n"

Test(cli, hostile_replies_end_with_a_message_not_a_hang)
{
	static const struct {
		const char *head;
		const char *reply;
		bool endless;
		const char *args[4];
		const char *expect;
	} cases[] = {
		{ "", "$99999999999999999999\r\n", false, { "ping" },
		    BROKEN_RESP },
		{ "", "*99999999999999999999\r\n", false, { "ping" },
		    BROKEN_RESP },
		{ "", "$18446744073709551615\r\n", false, { "ping" },
		    BROKEN_RESP },
		{ "", ":99999999999999999999\r\n", false, { "ping" },
		    BROKEN_RESP },
		/* A status line that never ends: refused at the size limit. */
		{ "+", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", true,
		    { "--max-reply", "1000000", "ping" },
		    "tcpd-cli: reply larger than 1000000 bytes (--max-reply)\n" },
		/* An array that never ends: the same. */
		{ "*2000000000\r\n", ":1\r\n:1\r\n:1\r\n:1\r\n", true,
		    { "--max-reply", "1000000", "ping" },
		    "tcpd-cli: reply larger than 1000000 bytes (--max-reply)\n" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t fake;
		char p[8];
		pid_t pid = fake_server(&fake, cases[i].head, cases[i].reply, strlen(cases[i].reply),
		    cases[i].endless);

		snprintf(p, sizeof(p), "%u", fake);
		cr_assert_eq(run_capture(CLI("-p", p, cases[i].args[0], cases[i].args[1],
		    cases[i].args[2]), out, sizeof(out)), 2, "case %zu: %s", i, out);
		cr_assert_str_eq(out, cases[i].expect, "case %zu", i);
		reap_fake_server(pid);
	}
}

/* Runs argv with output discarded; returns its CPU seconds and *status. */
static double
run_cpu_seconds(const char *const argv[], int *status)
{
	struct rusage ru;
	pid_t pid;
	int fd;

	if ((pid = test_fork(SIGKILL)) == 0) {
		fd = open("/dev/null", O_RDWR);
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(wait4(pid, status, 0, &ru), pid);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

Test(cli, a_large_reply_is_taken_in_linear_time)
{
	/*
	 * 24 MiB of one array, refused at 16 MiB: taking it in must not rescan
	 * it from the start on every read (that took a minute of CPU).
	 */
	enum { N = 6 << 20 };
	char *reply = malloc(16 + 4 * (size_t)N), p[8];
	size_t len = (size_t)sprintf(reply, "*%d\r\n", N), i;
	uint16_t fake;
	pid_t pid;
	double cpu;
	int status;

	for (i = 0; i < N; i++) {
		memcpy(reply + len, ":7\r\n", 4);
		len += 4;
	}
	pid = fake_server(&fake, "", reply, len, false);
	free(reply);
	snprintf(p, sizeof(p), "%u", fake);
	cpu = run_cpu_seconds(CLI("-p", p, "--max-reply", "16777216", "ping"), &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d", status);
	cr_assert_lt(cpu, 5.0, "%.2f s of CPU for 16 MiB", cpu);
	reap_fake_server(pid);
}

/*
 * Runs argv with stdout into a pipe read here; returns its wait status, with
 * the bytes and lines it printed and its peak resident memory (KiB).
 */
static int
run_counting(const char *const argv[], size_t *bytes, size_t *lines, long *peak_kib)
{
	static char chunk[1 << 16];
	struct rusage ru;
	const char *nl, *end;
	int fds[2], status;
	ssize_t r;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	if ((pid = test_fork(SIGKILL)) == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	close(fds[1]);
	*bytes = *lines = 0;
	while ((r = read(fds[0], chunk, sizeof(chunk))) > 0) {
		*bytes += (size_t)r;
		end = chunk + r;
		for (nl = chunk; (nl = memchr(nl, '\n', (size_t)(end - nl))) != NULL; nl++)
			(*lines)++;
	}
	close(fds[0]);
	cr_assert_eq(wait4(pid, &status, 0, &ru), pid);
	*peak_kib = ru.ru_maxrss;
	return status;
}

Test(cli, a_nested_reply_prints_in_bounded_memory)
{
	/*
	 * 3 MiB nested 32 deep, a million elements at the bottom: on a terminal
	 * each is a line indented past 31 numbers, 103 bytes of text for 3 of
	 * reply. The text is printed as it is made, never held: held, it was
	 * 100 MiB here and could be 14 GiB at the default --max-reply.
	 */
	enum { DEPTH = 31, N = 1 << 20, LINE = 3 * DEPTH + 7 + 2 + 1 };
	char *reply = malloc(4 * DEPTH + 16 + 3 * (size_t)N), p[8];
	size_t len = 0, bytes, lines, i;
	long big, small;
	uint16_t fake;
	int status;
	pid_t pid;

	for (i = 0; i < DEPTH; i++) {
		memcpy(reply + len, "*1\r\n", 4);
		len += 4;
	}
	len += (size_t)sprintf(reply + len, "*%d\r\n", N);
	for (i = 0; i < N; i++) {
		memcpy(reply + len, "+\r\n", 3);
		len += 3;
	}
	pid = fake_server(&fake, "", reply, len, false);
	free(reply);
	snprintf(p, sizeof(p), "%u", fake);
	status = run_counting(CLI("--no-raw", "-p", p, "ping"), &bytes, &lines, &big);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_eq(lines, N);
	cr_assert_eq(bytes, (size_t)N * LINE);
	reap_fake_server(pid);
	/* What tcpd-cli needs for a one-line reply, against what it needed for this one. */
	pid = fake_server(&fake, "", "+PONG\r\n", 7, false);
	snprintf(p, sizeof(p), "%u", fake);
	status = run_counting(CLI("--no-raw", "-p", p, "ping"), &bytes, &lines, &small);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	cr_assert_eq(bytes, 5);
	reap_fake_server(pid);
	cr_assert_lt(big - small, 32 * 1024, "%ld KiB more for a 3 MiB reply", big - small);
}

Test(cli, pipe_uses_no_cpu_once_stdin_ends)
{
	const char *raw[] = { cli_bin(), "-p", NULL, "pipe", NULL };
	struct rusage ru;
	int lfd, fd, status;
	uint16_t server;
	char p[8];
	pid_t cli;

	/* A server that holds the connection for a second whatever the client does. */
	lfd = tcp_listen_loopback(&server, 1);
	snprintf(p, sizeof(p), "%u", server);
	raw[2] = p;
	/* stdin a pipe at its end at once. */
	if ((cli = test_fork(SIGKILL)) == 0) {
		int null = open("/dev/null", O_RDWR), in[2];

		if (pipe(in) == 0) {
			close(in[1]);
			dup2(in[0], STDIN_FILENO);
		}
		dup2(null, STDOUT_FILENO);
		execv(raw[0], (char *const *)(uintptr_t)raw);
		_exit(127);
	}
	cr_assert_geq(fd = accept(lfd, NULL, NULL), 0);
	sleep(1);
	close(fd);
	close(lfd);
	cr_assert_eq(wait4(cli, &status, 0, &ru), cli);
	cr_assert_lt((double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, 0.3,
	    "it spun on the closed stdin");
}

Test(cli, pipe_moves_more_than_both_socket_buffers)
{
	/* 16 MiB through echo: the pipe must read while it writes, or both sides wait. */
	size_t n = 16 << 20, i;
	char *in = malloc(n), *big = malloc(n + 1);
	int rc;

	for (i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	rc = run_capture_input(CLI("pipe", "-p", port_of(P_ECHO)), in, n, big, n + 1);
	cr_assert_eq(rc, 0);
	cr_assert_eq(memcmp(big, in, n), 0);
	free(in);
	free(big);
}

Test(cli, a_script_gets_each_reply_as_its_line_arrives)
{
	const char *argv[] = { cli_bin(), "-p", port_of(P_COMMAND), NULL };
	int to_cli, from_cli;
	struct pollfd pf;
	char got[64];
	ssize_t n;
	pid_t pid;

	pid = run_piped(argv, &to_cli, &from_cli);
	cr_assert_eq(write(to_cli, "PING\n", 5), 5);
	/* The next line is still to come: PONG must not wait for it. */
	pf = (struct pollfd){ .fd = from_cli, .events = POLLIN };
	cr_assert_eq(poll(&pf, 1, 2000), 1, "no PONG while stdin stays open");
	n = read(from_cli, got, sizeof(got) - 1);
	cr_assert_gt(n, 0);
	got[n] = '\0';
	cr_assert_str_eq(got, "PONG\n");
	cr_assert_eq(write(to_cli, "ECHO x\n", 7), 7);
	close(to_cli);
	n = read(from_cli, got, sizeof(got) - 1);
	cr_assert_gt(n, 0);
	got[n] = '\0';
	cr_assert_str_eq(got, "x\n");
	close(from_cli);
	waitpid(pid, NULL, 0);
}

Test(cli, a_reply_within_max_reply_is_taken)
{
	cr_assert_eq(run_capture(CLI("-p", port_of(P_COMMAND), "--max-reply", "16", "ping"),
	    out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "PONG\n");
	cr_assert_eq(run_capture(CLI("-p", port_of(P_COMMAND), "--max-reply", "16", "echo",
	    "0123456789"), out, sizeof(out)), 2);
	cr_assert_str_eq(out, "tcpd-cli: reply larger than 16 bytes (--max-reply)\n");
}

Test(cli, numbers_out_of_range_are_usage_errors)
{
	cr_assert_eq(run_capture(CLI("-p", "70000", "ping"), out, sizeof(out)), 3);
	cr_assert_str_eq(out, "tcpd-cli: invalid port '70000': a number from 1 to 65535\n");
	cr_assert_eq(run_capture(CLI("-r", "-2", "ping"), out, sizeof(out)), 3);
	cr_assert_eq(run_capture(CLI("-i", "-1", "ping"), out, sizeof(out)), 3);
	cr_assert_eq(run_capture(CLI("-i", "x", "ping"), out, sizeof(out)), 3);
	cr_assert_eq(run_capture(CLI("bench", "-p", port_of(P_COMMAND), "-c", "4294967297"),
	    out, sizeof(out)), 3);
	cr_assert_not_null(strstr(out, "invalid -c '4294967297'"), "%s", out);
	cr_assert_eq(run_capture(CLI("bench", "-p", port_of(P_COMMAND), "-d", "nan"),
	    out, sizeof(out)), 3);
	cr_assert_not_null(strstr(out, "invalid -d 'nan'"), "%s", out);
	cr_assert_eq(run_capture(CLI("bench", "-p", port_of(P_COMMAND), "-d", "inf"),
	    out, sizeof(out)), 3);
	cr_assert_eq(run_capture(CLI("--timeout", "1e3", "ping"), out, sizeof(out)), 3);
}

Test(cli, bench_connect_counts_an_extra_reply)
{
	uint16_t fake;
	char p[8];
	pid_t pid = fake_server(&fake, "", "+PONG\r\n+PONG\r\n", 14, false);

	snprintf(p, sizeof(p), "%u", fake);
	cr_assert_eq(run_capture(CLI("bench", "-p", p, "--workload", "connect", "-n", "1",
	    "-c", "1"), out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "mismatched replies: 1\n"), "%s", out);
	reap_fake_server(pid);
}

Test(cli, version_help_and_a_bracketed_ipv6_host)
{
	cr_assert_eq(run_capture(CLI("-v"), out, sizeof(out)), 0);
	cr_assert_eq(strncmp(out, "tcpd-cli ", 9), 0, "%s", out);
	cr_assert_eq(run_capture(CLI("--version"), out, sizeof(out)), 0);
	cr_assert_eq(run_capture(CLI("--help"), out, sizeof(out)), 0);
	cr_assert_not_null(strstr(out, "3 usage error."), "%s", out);
	cr_assert_eq(run_capture(CLI("--no-such-option"), out, sizeof(out)), 3);
	cr_assert_eq(run_capture(CLI("-h", "[::1]", "-p", port_of(P_COMMAND), "ping"), out,
	    sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "PONG\n");
}

Test(cli, a_raw_service_names_the_way_out)
{
	cr_assert_eq(run_capture(CLI("-p", port_of(P_DAYTIME), "ping"), out, sizeof(out)), 2);
	cr_assert_str_eq(out, NOT_RESP);
}

/* Only a service that never spoke RESP is sent to `pipe`: the others are named. */
Test(cli, a_reply_that_is_not_resp_says_what_came, .init = NULL)
{
	char global[128], p[8];
	uint16_t metrics, fake;
	pid_t pid;

	/* The metrics listener answers a head that never ends at request_timeout: 408. */
	free_ports(&metrics, 1);
	snprintf(global, sizeof(global), "request_timeout = 1\n[listener.metrics]\n"
	    "bind = 127.0.0.1:%u\nservice = metrics", metrics);
	tcpd_start_with(global, "faults = loopback", 0);
	cr_assert_eq(run_capture(CLI("-p", port_of(P_COMMAND), "GARBAGE", "10"), out,
	    sizeof(out)), 2);
	cr_assert_str_eq(out, BROKEN_RESP);
	snprintf(p, sizeof(p), "%u", metrics);
	cr_assert_eq(run_capture(CLI("-p", p, "ping"), out, sizeof(out)), 2);
	cr_assert_str_eq(out, "tcpd-cli: the server speaks HTTP, not RESP\n");
	cr_assert_eq(run_capture(CLI("-p", port_of(P_DAYTIME), "ping"), out, sizeof(out)), 2);
	cr_assert_str_eq(out, NOT_RESP);
	/* Text after a RESP reply: a server that spoke RESP, then broke it. */
	pid = fake_server(&fake, "+OK\r\n", "hello\r\n", 7, false);
	snprintf(p, sizeof(p), "%u", fake);
	cr_assert_eq(run_capture(CLI("-p", p, "-r", "2", "ping"), out, sizeof(out)), 2);
	cr_assert_str_eq(out, "OK\n" BROKEN_RESP);
	reap_fake_server(pid);
}

Test(cli, pipe_takes_no_command_words)
{
	cr_assert_eq(run_capture(CLI("-p", port_of(P_ECHO), "pipe", "ping"), out, sizeof(out)),
	    3);
	cr_assert_str_eq(out, "tcpd-cli: pipe takes no command words (got 'ping'): it copies "
	    "stdin to the server\n");
	cr_assert_eq(run_capture(CLI("-r", "2", "pipe"), out, sizeof(out)), 3);
}

Test(cli, repeat_and_interval)
{
	double start = now_seconds();

	cr_assert_eq(run_capture(CLI("-p", port_of(P_COMMAND), "-r", "3", "-i", "0.1", "ECHO",
	    "x"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "x\nx\nx\n");
	cr_assert_geq(now_seconds() - start, 0.2, "two pauses of 0.1 s");
	cr_assert_eq(run_capture(CLI("-p", port_of(P_COMMAND), "-r", "0", "PING"), out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(run_capture(CLI("-p", port_of(P_COMMAND), "-r", "2", "nope"), out,
	    sizeof(out)), 1);
	cr_assert_str_eq(out, "ERR unknown command 'nope'\n\nERR unknown command 'nope'\n\n");
}

Test(cli, repeat_forever_until_stopped)
{
	const char *argv[] = { cli_bin(), "-p", port_of(P_COMMAND), "-r", "-1", "-i", "0.01",
	    "PING", NULL };
	int to_cli, from_cli, status;
	char got[64];
	size_t n = 0;
	ssize_t r;
	pid_t pid = run_piped(argv, &to_cli, &from_cli);

	while (n < 15 && (r = read(from_cli, got + n, 15 - n)) > 0)
		n += (size_t)r;
	assert_bytes(got, n, "PONG\nPONG\nPONG\n", 15);
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status), "still repeating when stopped");
	close(to_cli);
	close(from_cli);
}

Test(cli, stdin_as_the_last_argument)
{
	static const char in[] = "line one\nline \"two\"\n";

	/*
	 * --timeout: a request short of its last word would otherwise wait out
	 * tcpd's 30 s request_timeout.
	 */
	cr_assert_eq(run_capture_input(CLI("--no-raw", "--timeout", "5000", "-p", port_of(P_COMMAND),
	    "-x", "ECHO"), in, sizeof(in) - 1, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "\"line one\\nline \\\"two\\\"\\n\"\n");
	cr_assert_eq(run_capture_input(CLI("--timeout", "5000", "-p", port_of(P_COMMAND), "-x",
	    "ECHO"), "", 0, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "\n");
}

/* Waits up to 5 s for a child of this process to end; its wait status, or -1 (killed then). */
static int
reap_within_5s(pid_t pid)
{
	int status, i;

	for (i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		poll(NULL, 0, 10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/*
 * A test that dies takes what it started with it. A stand-in test starts
 * redis-server, a fake server and a script that started a process of its
 * own (as bench.sh starts servers), and is killed: each is gone after it,
 * the script's child stopped by the script's EXIT trap.
 */
Test(cli, a_test_that_dies_leaves_no_server_behind)
{
	static const char *const what[] = { "redis-server", "a fake server", "a script",
	    "the script's child" };
	const char *script[] = { "/bin/bash", "-c", "sleep 60 & pid=$!; "
	    "trap 'kill $pid' EXIT; echo $pid; wait", NULL };
	pid_t test, started[4];
	int fds[2], status[4];
	uint16_t rp;
	char p[8];
	size_t i;

	if (system("command -v redis-server >/dev/null") != 0)
		cr_skip_test("redis-server is not installed");
	/* What the stand-in leaves is reparented here, so its end can be seen. */
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	cr_assert_eq(pipe(fds), 0);
	free_ports(&rp, 1);
	snprintf(p, sizeof(p), "%u", rp);
	if ((test = test_fork(SIGKILL)) == 0) {
		uint16_t fake;
		int to, from;
		char line[32] = "";

		started[0] = redis_start(p);
		started[1] = fake_server(&fake, "", "+OK\r\n", 5, false);
		started[2] = run_piped(script, &to, &from);
		started[3] = read(from, line, sizeof(line) - 1) > 0 ? atoi(line) : 0;
		if (write(fds[1], started, sizeof(started)) != sizeof(started))
			_exit(1);
		pause();
		_exit(0);
	}
	cr_assert_eq(read(fds[0], started, sizeof(started)), sizeof(started));
	close(fds[0]);
	close(fds[1]);
	kill(test, SIGKILL);
	cr_assert_eq(waitpid(test, NULL, 0), test);
	/* Each is waited for (and killed if still there) before any verdict. */
	for (i = 0; i < 4; i++)
		status[i] = started[i] > 0 ? reap_within_5s(started[i]) : -1;
	for (i = 0; i < 4; i++)
		cr_assert_neq(status[i], -1, "%s (pid %d) outlived its test", what[i],
		    (int)started[i]);
}

/* A free port on 127.0.0.1 as text, in p (8 bytes). */
static const char *
free_port_text(char *p)
{
	uint16_t n;

	free_ports(&n, 1);
	snprintf(p, 8, "%u", n);
	return p;
}

static void
redis_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/*
 * tcpd-cli and redis-cli with the same arguments (args[0] is skipped) print
 * the same bytes, stdout and stderr together; tcpd-cli's output is in out.
 */
static void
assert_args_same_as_redis_cli(const char *const args[])
{
	static char theirs[8192];
	const char *argv[16];
	size_t i;

	for (i = 1; args[i] != NULL && i < 15; i++)
		argv[i] = args[i];
	argv[i] = NULL;
	argv[0] = cli_bin();
	run_capture(argv, out, sizeof(out));
	argv[0] = REDIS_CLI;
	run_capture(argv, theirs, sizeof(theirs));
	cr_assert_str_eq(out, theirs, "%s %s %s: tcpd-cli printed\n%s\nredis-cli\n%s", args[1],
	    args[2], args[3] != NULL ? args[3] : "", out, theirs);
}

#define SAME_AS_REDIS_CLI(...) assert_args_same_as_redis_cli(CLI(__VA_ARGS__))

/*
 * -3: every RESP3 type redis-server 7 sends (DEBUG PROTOCOL's, maps, sets,
 * doubles, nested maps from Lua) printed as redis-cli -3 prints it, on a
 * terminal and into a pipe; big numbers and attributes, which redis-cli 7.0
 * refuses, as redis-cli 7.2 prints them and as the RESP3 spec says to skip them.
 */
Test(cli, resp3_prints_what_redis_cli_prints)
{
	static const char *const extra[] = { "--enable-debug-command", "local", NULL };
	static const char *const cmds[][5] = {
		{ "debug", "protocol", "string" }, { "debug", "protocol", "integer" },
		{ "debug", "protocol", "double" }, { "debug", "protocol", "null" },
		{ "debug", "protocol", "array" }, { "debug", "protocol", "set" },
		{ "debug", "protocol", "map" }, { "debug", "protocol", "verbatim" },
		{ "debug", "protocol", "true" }, { "debug", "protocol", "false" },
		{ "debug", "protocol", "push" }, { "hgetall", "h" }, { "hgetall", "none" },
		{ "smembers", "none" }, { "smembers", "s" }, { "zrange", "z", "0", "-1",
		"withscores" }, { "zscore", "z", "m" }, { "info", "keyspace" },
		{ "eval", "return {map={a={1,2}, b={map={c=1,d={set={'x'}}}}}}", "0" },
		{ "eval", "return {1,{map={k={{1,2}}}},{double=2.5},{map={k={{map={x=1}}}}}}",
		  "0" },
		{ "eval", "return {{map={[1]=1,[2]=2,[3]=3,[4]=4,[5]=5,[6]=6,[7]=7,[8]=8,"
		  "[9]=9,[10]={set={[1]=1,[2]=2}}}}}", "0" },
		{ "nope" },
	};
	char p[8];
	pid_t pid;

	if (access(REDIS_CLI, X_OK) != 0)
		cr_skip_test("redis-cli is not installed");
	if ((pid = redis_start_with(free_port_text(p), extra)) == 0)
		cr_skip_test("redis-server is not installed");
	cr_assert_eq(run_capture(CLI("-p", p, "hset", "h", "a", "1", "b", "2"), out,
	    sizeof(out)), 0);
	cr_assert_eq(run_capture(CLI("-p", p, "sadd", "s", "x"), out, sizeof(out)), 0);
	cr_assert_eq(run_capture(CLI("-p", p, "zadd", "z", "1.5", "m"), out, sizeof(out)), 0);
	assert_same_as_redis_cli_with(p, "-3", cmds, sizeof(cmds) / sizeof(cmds[0]));
	/* The same, byte for byte, without redis-cli to lean on. */
	cr_assert_eq(run_capture(CLI("-3", "--no-raw", "-p", p, "hgetall", "h"), out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "1# \"a\" => \"1\"\n2# \"b\" => \"2\"\n");
	cr_assert_eq(run_capture(CLI("-3", "-p", p, "hgetall", "h"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "a 1\nb 2\n");
	cr_assert_eq(run_capture(CLI("-3", "--no-raw", "-p", p, "debug", "protocol", "map"),
	    out, sizeof(out)), 0);
	cr_assert_str_eq(out, "1# (integer) 0 => (false)\n2# (integer) 1 => (true)\n"
	    "3# (integer) 2 => (false)\n");
	cr_assert_eq(run_capture(CLI("-3", "--no-raw", "-p", p, "smembers", "s"), out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "1~ \"x\"\n");
	cr_assert_eq(run_capture(CLI("-3", "--no-raw", "-p", p, "debug", "protocol", "bignum"),
	    out, sizeof(out)), 0);
	cr_assert_str_eq(out, "(big number) 1234567999999999999999999999999999999\n");
	cr_assert_eq(run_capture(CLI("-3", "-p", p, "debug", "protocol", "bignum"), out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "1234567999999999999999999999999999999\n");
	cr_assert_eq(run_capture(CLI("-3", "--no-raw", "-p", p, "debug", "protocol", "attrib"),
	    out, sizeof(out)), 0);
	cr_assert_str_eq(out, "\"Some real reply following the attribute\"\n");
	/* A push is not shown into a pipe, in either format. */
	cr_assert_eq(run_capture(CLI("-3", "--no-raw", "-p", p, "debug", "protocol", "push"),
	    out, sizeof(out)), 0);
	cr_assert_str_eq(out, "\"Some real reply following the push reply\"\n");
	/* Without -3 the same server answers in RESP2. */
	cr_assert_eq(run_capture(CLI("--no-raw", "-p", p, "hgetall", "h"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "1) \"a\"\n2) \"1\"\n3) \"b\"\n4) \"2\"\n");
	redis_stop(pid);
}

/* A push message is shown on a terminal, in the output's format, before the reply. */
Test(cli, push_messages_show_on_a_terminal)
{
	static const char *const extra[] = { "--enable-debug-command", "local", NULL };
	char p[8];
	int master;
	pid_t pid, cli;

	if ((pid = redis_start_with(free_port_text(p), extra)) == 0)
		cr_skip_test("redis-server is not installed");
	cli = spawn_on_terminal(&master, CLI("-3", "-p", p, "debug", "protocol", "push"));
	expect_on_terminal(master, "1) \"server-cpu-usage\"\r\n2) (integer) 42\r\n"
	    "\"Some real reply following the push reply\"\r\n");
	assert_exit_status(cli, 0);
	close(master);
	cli = spawn_on_terminal(&master, CLI("--raw", "-3", "-p", p, "debug", "protocol", "push"));
	expect_on_terminal(master, "server-cpu-usage\r\n42\r\n"
	    "Some real reply following the push reply\r\n");
	assert_exit_status(cli, 0);
	close(master);
	cr_assert_eq(strncmp(seen, "server-cpu-usage", 16), 0, "%s", seen);
	redis_stop(pid);
}

#define AUTH_WARNING "Warning: Using a password with '-a' or '-u' option on the command " \
	"line interface may not be safe.\n"
#define WRONGPASS "AUTH failed: WRONGPASS invalid username-password pair or user is " \
	"disabled.\n"

/*
 * -a, --pass, --user, -u, REDISCLI_AUTH against redis-server with a
 * password and users: AUTH at connect, then SELECT, then HELLO 3, each
 * failure said as redis-cli says it and the command sent all the same.
 */
Test(cli, auth_as_redis_cli)
{
	static const char *const extra[] = { "--requirepass", "sekret", NULL };
	char p[8], uri[96];
	pid_t pid;

	if (access(REDIS_CLI, X_OK) != 0)
		cr_skip_test("redis-cli is not installed");
	if ((pid = redis_start_with(free_port_text(p), extra)) == 0)
		cr_skip_test("redis-server is not installed");
	unsetenv("REDISCLI_AUTH");
	cr_assert_eq(run_capture(CLI("-p", p, "--no-auth-warning", "-a", "sekret", "acl",
	    "setuser", "bob", "on", ">b:p@ss", "+@all", "~*"), out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(run_capture(CLI("-p", p, "--no-auth-warning", "-a", "sekret", "acl",
	    "setuser", "nosel", "on", ">x", "+ping", "+acl|whoami"), out, sizeof(out)), 0);
	cr_assert_eq(run_capture(CLI("-p", p, "-a", "sekret", "ping"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, AUTH_WARNING "PONG\n");
	cr_assert_eq(run_capture(CLI("-p", p, "-a", "wrong", "ping"), out, sizeof(out)), 1);
	cr_assert_str_eq(out, AUTH_WARNING WRONGPASS "NOAUTH Authentication required.\n\n");
	/* A failed AUTH ends the handshake: no HELLO 3 (its NOAUTH would show). */
	cr_assert_eq(run_capture(CLI("-3", "-p", p, "-a", "wrong", "ping"), out, sizeof(out)), 1);
	cr_assert_str_eq(out, AUTH_WARNING WRONGPASS "NOAUTH Authentication required.\n\n");
	cr_assert_eq(run_capture(CLI("-p", p, "--user", "bob", "--pass", "b:p@ss",
	    "--no-auth-warning", "acl", "whoami"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "bob\n");
	/* --user alone sends no AUTH. */
	cr_assert_eq(run_capture(CLI("-p", p, "--user", "bob", "ping"), out, sizeof(out)), 1);
	cr_assert_str_eq(out, "NOAUTH Authentication required.\n\n");
	/* AUTH, SELECT and HELLO 3 in turn: the connection is bob's, in db 3, RESP3. */
	snprintf(uri, sizeof(uri), "redis://bob:b%%3Ap%%40ss@127.0.0.1:%s/3", p);
	cr_assert_eq(run_capture(CLI("-3", "--no-auth-warning", "-u", uri, "client", "info"),
	    out, sizeof(out)), 0);
	cr_assert(strstr(out, " db=3 ") && strstr(out, " user=bob ") && strstr(out,
	    " resp=3\n"), "%s", out);
	/* /0 sends no SELECT: nosel may not run it, and is not told so. */
	snprintf(uri, sizeof(uri), "redis://nosel:x@127.0.0.1:%s/0", p);
	cr_assert_eq(run_capture(CLI("-u", uri, "ping"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, AUTH_WARNING "PONG\n");
	snprintf(uri, sizeof(uri), "redis://nosel:x@127.0.0.1:%s/2", p);
	cr_assert_eq(run_capture(CLI("-u", uri, "ping"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, AUTH_WARNING "SELECT 2 failed: NOPERM this user has no "
	    "permissions to run the 'select' command\nPONG\n");
	/* The same bytes from redis-cli 7. */
	SAME_AS_REDIS_CLI("-u", uri, "ping");
	snprintf(uri, sizeof(uri), "redis://bob:b%%3Ap%%40ss@127.0.0.1:%s/99", p);
	SAME_AS_REDIS_CLI("-u", uri, "ping");
	SAME_AS_REDIS_CLI("-p", p, "-a", "wrong", "-3", "ping");
	SAME_AS_REDIS_CLI("-p", p, "-a", "sekret", "-3", "--no-raw", "hello", "3", "auth",
	    "bob", "nope");
	/* REDISCLI_AUTH: no warning; -a wins over it. */
	setenv("REDISCLI_AUTH", "sekret", 1);
	cr_assert_eq(run_capture(CLI("-p", p, "ping"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "PONG\n");
	cr_assert_eq(run_capture(CLI("-p", p, "-a", "wrong", "--no-auth-warning", "ping"), out,
	    sizeof(out)), 1);
	cr_assert_str_eq(out, WRONGPASS "NOAUTH Authentication required.\n\n");
	SAME_AS_REDIS_CLI("-p", p, "ping");
	unsetenv("REDISCLI_AUTH");
	redis_stop(pid);
}

/* A server that refuses HELLO 3 (as tcpd before RESP3): said as redis-cli says it, then the command. */
Test(cli, hello_refused_is_said_and_the_command_goes_on)
{
	static const char replies[] = "-ERR unknown command 'HELLO'\r\n+PONG\r\n";
	uint16_t fake;
	char p[8];
	pid_t pid = fake_server(&fake, "", replies, sizeof(replies) - 1, false);

	snprintf(p, sizeof(p), "%u", fake);
	cr_assert_eq(run_capture(CLI("-3", "-p", p, "ping"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "HELLO 3 failed: ERR unknown command 'HELLO'\nPONG\n");
	if (access(REDIS_CLI, X_OK) == 0)
		SAME_AS_REDIS_CLI("-3", "-p", p, "ping");
	reap_fake_server(pid);
}

/* A server restarted under the prompt is dialled again with AUTH again. */
Test(cli, a_reconnect_authenticates_again)
{
	static const char *const extra[] = { "--requirepass", "sekret", NULL };
	char p[8], prompt[32];
	int master;
	pid_t pid, cli;

	if ((pid = redis_start_with(free_port_text(p), extra)) == 0)
		cr_skip_test("redis-server is not installed");
	cli = spawn_on_terminal(&master, CLI("-p", p, "-a", "sekret"));
	snprintf(prompt, sizeof(prompt), "127.0.0.1:%s> ", p);
	expect_on_terminal(master, "may not be safe.\r\n");
	expect_on_terminal(master, prompt);
	answer_on_terminal(master, "ping\r", "PONG\r\n", prompt);
	redis_stop(pid);
	pid = redis_start_with(p, extra);
	answer_on_terminal(master, "ping\r", "\r\nPONG\r\n", prompt);
	cr_assert_null(strstr(seen, "NOAUTH"), "%s", seen);
	type_on_terminal(master, "quit\r");
	assert_exit_status(cli, 0);
	close(master);
	redis_stop(pid);
}

Test(cli, a_uri_names_the_server)
{
	char uri[64];

	snprintf(uri, sizeof(uri), "redis://127.0.0.1:%u", tcpd.port[P_COMMAND]);
	cr_assert_eq(run_capture(CLI("-p", "1", "-u", uri, "ping"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "PONG\n");
	/* What comes after -u wins, as in redis-cli. */
	cr_assert_eq(run_capture(CLI("-u", "redis://127.0.0.1:1", "-p", port_of(P_COMMAND),
	    "ping"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "PONG\n");
	snprintf(uri, sizeof(uri), "redis://[::1]:%u/", tcpd.port[P_COMMAND]);
	cr_assert_eq(run_capture(CLI("-u", uri, "ping"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "PONG\n");
	cr_assert_eq(run_capture(CLI("-u", "rediss://127.0.0.1", "ping"), out, sizeof(out)), 3);
	cr_assert_str_eq(out, "tcpd-cli: -u: rediss:// is not supported: tcpd-cli speaks no "
	    "TLS\n");
	cr_assert_eq(run_capture(CLI("-u", "http://127.0.0.1", "ping"), out, sizeof(out)), 3);
	cr_assert_str_eq(out, "tcpd-cli: -u: Invalid URI scheme\n");
	cr_assert_eq(run_capture(CLI("-u", "redis://a%4@h", "ping"), out, sizeof(out)), 3);
	cr_assert_str_eq(out, "tcpd-cli: -u: Incomplete URI encoding\n");
	/* pipe, for raw services, sends no AUTH: daytime's line comes as it is. */
	cr_assert_eq(run_capture_input(CLI("-a", "x", "--no-auth-warning", "-3", "-p",
	    port_of(P_DAYTIME), "pipe"), "", 0, out, sizeof(out)), 0, "%s", out);
	cr_assert_eq(strlen(out), strcspn(out, "\n") + 1, "one line: %s", out);
	cr_assert_eq(strncmp(out + strlen(out) - 2, "\r\n", 2), 0, "%s", out);
}

/* A RESP server that answers each PING after delay_ms, killed with the test. */
static pid_t
slow_pong_server(uint16_t *port_out, int delay_ms)
{
	static const char ping[] = "*1\r\n$4\r\nPING\r\n";
	char got[4096];
	size_t have;
	ssize_t n;
	int lfd, fd;
	pid_t pid;

	lfd = tcp_listen_loopback(port_out, 4);
	if ((pid = test_fork(SIGKILL)) == 0) {
		signal(SIGPIPE, SIG_IGN);
		alarm(30);
		while ((fd = accept(lfd, NULL, NULL)) != -1) {
			have = 0;
			while ((n = recv(fd, got + have, sizeof(got) - have, 0)) > 0) {
				have += (size_t)n;
				while (have >= sizeof(ping) - 1) {
					poll(NULL, 0, delay_ms);
					send(fd, "+PONG\r\n", 7, MSG_NOSIGNAL);
					memmove(got, got + sizeof(ping) - 1, have - (sizeof(ping) - 1));
					have -= sizeof(ping) - 1;
				}
			}
			close(fd);
		}
		_exit(0);
	}
	close(lfd);
	cr_assert_gt(pid, 0);
	return pid;
}

/* One "min max avg count" line of --latency into a pipe, checked and reprinted as redis-cli prints it. */
static long long
assert_latency_line(const char *line, long long *min, long long *max)
{
	long long count;
	double avg;
	char again[128];
	int used = 0;

	cr_assert_eq(sscanf(line, "%lld %lld %lf %lld\n%n", min, max, &avg, &count, &used), 4,
	    "'%s'", line);
	snprintf(again, sizeof(again), "%lld %lld %.2f %lld\n", *min, *max, avg, count);
	cr_assert_eq(strncmp(line, again, strlen(again)), 0, "'%s' is not '%s'", line, again);
	cr_assert(*min <= avg + 0.005 && avg <= *max + 0.005 && count >= 1, "'%s'", line);
	return count;
}

/* --latency into a pipe: sampled for -i seconds (1 by default), then one line, then done. */
Test(cli, latency_into_a_pipe_is_one_line)
{
	long long min, max, count;
	double start = now_seconds(), took;
	uint16_t slow;
	char p[8];
	pid_t pid;

	cr_assert_eq(run_capture(CLI("-p", port_of(P_COMMAND), "--latency", "-i", "0.3"), out,
	    sizeof(out)), 0, "%s", out);
	took = now_seconds() - start;
	count = assert_latency_line(out, &min, &max);
	cr_assert_eq(strchr(out, '\n') + 1, out + strlen(out), "one line: '%s'", out);
	/* A PING every 10 ms, for 0.3 s. */
	cr_assert(count >= 3 && count <= 31, "%lld samples in %.2f s", count, took);
	cr_assert(took >= 0.3 && took < 3, "took %.2f s", took);
	start = now_seconds();
	cr_assert_eq(run_capture(CLI("-p", port_of(P_COMMAND), "--latency"), out, sizeof(out)),
	    0);
	took = now_seconds() - start;
	assert_latency_line(out, &min, &max);
	cr_assert(took >= 1 && took < 4, "took %.2f s without -i", took);
	/* Each PING timed: a server that answers after 30 ms shows it. */
	pid = slow_pong_server(&slow, 30);
	snprintf(p, sizeof(p), "%u", slow);
	cr_assert_eq(run_capture(CLI("-p", p, "--latency", "-i", "0.4"), out, sizeof(out)), 0);
	count = assert_latency_line(out, &min, &max);
	cr_assert(min >= 30 && count >= 2 && count <= 11, "%s", out);
	reap_fake_server(pid);
	cr_assert_eq(run_capture(CLI("-p", p, "--latency", "ping"), out, sizeof(out)), 3);
	cr_assert_str_eq(out, "tcpd-cli: --latency and --latency-history take no command\n");
}

static int
count_of(const char *text, const char *needle)
{
	int n = 0;

	while ((text = strstr(text, needle)) != NULL) {
		n++;
		text++;
	}
	return n;
}

/*
 * --latency-history into a pipe: a line per PING, counting from 1, and
 * every -i seconds " -- N.NN seconds range" and a new count; until SIGINT.
 */
Test(cli, latency_history_into_a_pipe)
{
	const char *argv[] = { cli_bin(), "-p", port_of(P_COMMAND), "--latency-history", "-i",
	    "0.2", NULL };
	static char got[1 << 16];
	long long min, max, count, want = 1;
	int to_cli, from_cli, status, ranges = 0;
	double start = now_seconds(), range;
	size_t n = 0;
	ssize_t r;
	char *line, *nl;
	pid_t pid = run_piped(argv, &to_cli, &from_cli);

	/* Lines come as they are made: three ranges within a few seconds. */
	while (now_seconds() - start < 10) {
		struct pollfd pf = { .fd = from_cli, .events = POLLIN };

		if (poll(&pf, 1, 1000) <= 0 || (r = read(from_cli, got + n,
		    sizeof(got) - 1 - n)) <= 0)
			break;
		n += (size_t)r;
		got[n] = '\0';
		if (count_of(got, " seconds range\n") >= 3)
			break;
	}
	kill(pid, SIGINT);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT, "status %d", status);
	close(to_cli);
	close(from_cli);
	for (line = got; (nl = strchr(line, '\n')) != NULL && ranges < 3; line = nl + 1) {
		if (sscanf(line, " -- %lf seconds range\n", &range) == 1) {
			char again[64];

			snprintf(again, sizeof(again), " -- %.2f seconds range\n", range);
			cr_assert_eq(strncmp(line, again, strlen(again)), 0, "'%s'", line);
			cr_assert(range >= 0.2 && range < 1.5 && want > 1, "%s", got);
			ranges++;
			want = 1;
			continue;
		}
		count = assert_latency_line(line, &min, &max);
		cr_assert_eq(count, want, "%s", got);
		want++;
	}
	cr_assert_eq(ranges, 3, "%s", got);
}

/* On a terminal: one line redrawn in place, and history's range lines kept. */
Test(cli, latency_on_a_terminal)
{
	long long min, max, count, want = 1;
	double avg, range;
	int master, used;
	char again[128], *at;
	pid_t cli = spawn_on_terminal(&master, CLI("-p", port_of(P_COMMAND), "--latency"));

	expect_on_terminal(master, "(5 samples)");
	kill(cli, SIGINT);
	waitpid(cli, NULL, 0);
	close(master);
	cr_assert_null(strchr(seen, '\n'), "%s", seen);
	for (at = seen; want <= 5; at += used, want++) {
		used = 0;
		cr_assert_eq(sscanf(at, "\x1b[0G\x1b[2Kmin: %lld, max: %lld, avg: %lf (%lld "
		    "samples)%n", &min, &max, &avg, &count, &used), 4, "%s", at);
		snprintf(again, sizeof(again), "\x1b[0G\x1b[2Kmin: %lld, max: %lld, avg: %.2f "
		    "(%lld samples)", min, max, avg, count);
		cr_assert_eq((size_t)used, strlen(again));
		cr_assert_eq(strncmp(at, again, strlen(again)), 0, "%s", at);
		cr_assert_eq(count, want);
	}
	cli = spawn_on_terminal(&master, CLI("-p", port_of(P_COMMAND), "--latency-history",
	    "-i", "0.2"));
	expect_on_terminal(master, " seconds range\r\n");
	expect_on_terminal(master, " seconds range\r\n");
	kill(cli, SIGINT);
	waitpid(cli, NULL, 0);
	close(master);
	at = strstr(seen, " -- ");
	cr_assert_not_null(at);
	cr_assert_eq(sscanf(at, " -- %lf seconds range\r\n", &range), 1, "%s", seen);
	snprintf(again, sizeof(again), " -- %.2f seconds range\r\n\x1b[0G\x1b[2Kmin: ", range);
	cr_assert_eq(strncmp(at, again, strlen(again)), 0, "%s", seen);
	cr_assert(range >= 0.2 && range < 1.5, "%s", seen);
	cr_assert_not_null(strstr(at, "(1 samples)"), "the count starts again: %s", seen);
}

/* Against tcpd itself: RESP3 with -3, a password with -a, as against redis-server. */
Test(cli, resp3_and_a_password_against_tcpd, .init = NULL)
{
	char extra[256], auth[8];
	uint16_t auth_port;

	free_ports(&auth_port, 1);
	snprintf(auth, sizeof(auth), "%u", auth_port);
	snprintf(extra, sizeof(extra), "[listener.auth]\nbind = 127.0.0.1:%u\n"
	    "service = command\nrequirepass = s3cret\n", auth_port);
	tcpd_start(extra);
	cr_assert_eq(run_capture(CLI("-3", "--no-raw", "-p", port_of(P_COMMAND), "CONFIG", "GET",
	    "appendonly"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "1# \"appendonly\" => \"no\"\n");
	cr_assert_eq(run_capture(CLI("-3", "-p", port_of(P_COMMAND), "CLIENT", "GETNAME"), out,
	    sizeof(out)), 0);
	cr_assert_str_eq(out, "\n");
	cr_assert_eq(run_capture(CLI("-a", "s3cret", "--no-auth-warning", "-p", auth, "PING"),
	    out, sizeof(out)), 0);
	cr_assert_str_eq(out, "PONG\n");
	cr_assert_eq(run_capture(CLI("-3", "-u", "redis://default:s3cret@127.0.0.1", "-p", auth,
	    "--no-auth-warning", "PING"), out, sizeof(out)), 0);
	cr_assert_str_eq(out, "PONG\n");
	cr_assert_eq(run_capture(CLI("-a", "wrong", "--no-auth-warning", "-p", auth, "PING"), out,
	    sizeof(out)), 1);
	cr_assert_str_eq(out, "AUTH failed: WRONGPASS invalid username-password pair or user "
	    "is disabled.\nNOAUTH Authentication required.\n\n");
}

/*
 * -d's span begins once every connection is made and has its HELLO
 * answered: a server that takes 600 ms over the handshake, then answers
 * each PING at once, gets 0.3 s of requests, where a span begun at the
 * first connect would have ended, empty, before the handshake did.
 */
Test(cli, bench_measures_from_the_end_of_the_handshakes, .init = NULL)
{
	static const char hello[] = "%1\r\n$7\r\nmodules\r\n*0\r\n";
	static const char ping[] = "*1\r\n$4\r\nPING\r\n";
	char p[8], in[4096], report[1024], *at;
	const char *argv[] = { cli_bin(), "bench", "-3", "-p", p, "-c", "1", "-d", "0.3",
	    NULL };
	size_t got = 0, answered = 0, len = 0;
	unsigned long long requests;
	int lfd, fd, to, from, status;
	uint16_t up;
	double secs;
	ssize_t n;
	pid_t pid;

	lfd = tcp_listen_loopback(&up, 16);
	snprintf(p, sizeof(p), "%u", up);
	pid = run_piped(argv, &to, &from);
	close(to);
	close(accept_peer(lfd));	/* bench's check of the address */
	fd = accept_peer(lfd);
	recv_exact(fd, in, 9);
	assert_reply(in, 9, "HELLO 3\r\n");
	usleep(600000);
	send_all(fd, hello, sizeof(hello) - 1);
	/* Until bench closes at its deadline: each whole PING gets its PONG. */
	while ((n = recv(fd, in, sizeof(in), 0)) > 0) {
		got += (size_t)n;
		for (; answered < got / (sizeof(ping) - 1); answered++)
			send_all(fd, "+PONG\r\n", 7);
	}
	close(fd);
	close(lfd);
	while (len < sizeof(report) - 1 &&
	    (n = read(from, report + len, sizeof(report) - 1 - len)) > 0)
		len += (size_t)n;
	report[len] = '\0';
	close(from);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d:\n%s", status,
	    report);
	cr_assert_not_null(at = strstr(report, "pipeline 1: "), "%s", report);
	cr_assert_eq(sscanf(at, "pipeline 1: %llu requests in %lf s", &requests, &secs), 2,
	    "%s", report);
	cr_assert(requests > 0 && requests <= answered, "%llu requests, %zu answered:\n%s",
	    requests, answered, report);
	cr_assert(secs >= 0.29 && secs < 0.6, "a span of %.2f s:\n%s", secs, report);
}
