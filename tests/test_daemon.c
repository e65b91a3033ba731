/* SPDX-License-Identifier: MIT */
/* The tcpd binary as a process: flags, config checking, start-up, limits. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"
#include "tcpd_build.h"

static char out[8192];

static int
run_tcpd(const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = { tcpd_bin(), a1, a2, a3, NULL };

	return run_capture(argv, out, sizeof(out));
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(daemon, version_and_help)
{
	cr_assert_eq(run_tcpd("--version", NULL, NULL), 0);
	cr_assert_eq(strncmp(out, "tcpd ", 5), 0, "%s", out);
	cr_assert_eq(run_tcpd("-h", NULL, NULL), 0);
	cr_assert_not_null(strstr(out, "--check-config"));
	cr_assert_eq(run_tcpd("--bogus", NULL, NULL), 2);
}

Test(daemon, check_config_accepts_the_shipped_file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/conf/tcpd.conf", source_root());
	cr_assert_eq(run_tcpd("--check-config", "--config", path), 0, "%s", out);
	cr_assert_not_null(strstr(out, "configuration ok"), "%s", out);
}

Test(daemon, check_config_lists_each_error_with_file_and_line)
{
	char path[] = "/tmp/tcpd-bad-XXXXXX", expect[2048];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	write_file(path,
	    "[tcpd]\n"
	    "max_conections = 5\n"
	    "idle_timeout = soon\n"
	    "[listener.a]\n"
	    "bind = 127.0.0.1:99999\n"
	    "service = echo\n"
	    "[listener.a]\n"
	    "[extra]\n");
	cr_assert_eq(run_tcpd("-t", "-c", path), 1);
	snprintf(expect, sizeof(expect),
	    "%1$s:2: unknown key 'max_conections' in [tcpd]\n"
	    "%1$s:3: invalid idle_timeout 'soon': expected seconds (30) or a duration (250ms, "
	    "1.5s, 5m, 1h), whole seconds from 0 to 31536000\n"
	    "%1$s:5: invalid bind address '127.0.0.1:99999': port must be a number from 0 to "
	    "65535 (0: any free port)\n"
	    "%1$s:7: duplicate listener 'a' (first defined at %1$s:4)\n"
	    "%1$s:8: unknown section [extra]: expected [tcpd] or [listener.NAME]\n",
	    path);
	cr_assert_str_eq(out, expect);
	unlink(path);
}

Test(daemon, missing_config_file)
{
	cr_assert_eq(run_tcpd("-t", "-c", "/nonexistent/tcpd.conf"), 1);
	cr_assert_str_eq(out, "/nonexistent/tcpd.conf: cannot open: No such file or directory\n");
}

/*
 * tcpd --check-config with stderr a file that JOURNAL_STREAM names, as
 * systemd sets it for ExecStartPre=: what it wrote there into out.
 */
static int
check_config_as_systemd_runs_it(const char *path)
{
	char errpath[] = "/tmp/tcpd-stderr-XXXXXX", stream[64];
	int fd = mkstemp(errpath), status;
	struct stat st;
	ssize_t n;
	pid_t pid;

	cr_assert_geq(fd, 0);
	cr_assert_eq(fstat(fd, &st), 0);
	snprintf(stream, sizeof(stream), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	if ((pid = fork()) == 0) {
		dup2(fd, STDERR_FILENO);
		setenv("JOURNAL_STREAM", stream, 1);
		execl(tcpd_bin(), tcpd_bin(), "--check-config", "--config", path, (char *)NULL);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	n = pread(fd, out, sizeof(out) - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(errpath);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* journald reads "<3>" as priority err: journalctl -u tcpd -p err shows why a start failed. */
Test(daemon, check_config_errors_are_err_in_the_journal)
{
	char path[] = "/tmp/tcpd-bad-XXXXXX", expect[512];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	write_file(path, "[tcpd]\nmax_conections = 5\n");
	cr_assert_eq(check_config_as_systemd_runs_it(path), 1);
	snprintf(expect, sizeof(expect), "<3>%1$s:2: unknown key 'max_conections' in [tcpd]\n"
	    "<3>%1$s: no [listener.NAME] section: nothing to serve\n", path);
	cr_assert_str_eq(out, expect);
	unlink(path);
}

Test(daemon, check_config_warns_when_others_cannot_read_the_file)
{
	char path[] = "/tmp/tcpd-conf-XXXXXX", shipped[512], expect[512];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(shipped, sizeof(shipped), "%s/conf/tcpd.conf", source_root());
	write_file(path, slurp(shipped));
	cr_assert_eq(chmod(path, 0640), 0);
	cr_assert_eq(check_config_as_systemd_runs_it(path), 0);
	snprintf(expect, sizeof(expect), "<4>%1$s: warning: not readable by others (mode "
	    "0640): the systemd unit's DynamicUser cannot read it; chmod o+r %1$s\n", path);
	cr_assert_str_eq(out, expect);
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_eq(check_config_as_systemd_runs_it(path), 0);
	cr_assert_str_eq(out, "");
	unlink(path);
}

static int
listen_on(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(fd, 1), 0);
	return fd;
}

static bool
port_is_closed(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
	    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool closed = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1;

	close(fd);
	return closed;
}

Test(daemon, bad_config_at_start_binds_nothing)
{
	char path[] = "/tmp/tcpd-bad-XXXXXX", text[256];
	int fd = mkstemp(path);
	uint16_t port;

	cr_assert_geq(fd, 0);
	close(fd);
	free_ports(&port, 1);
	snprintf(text, sizeof(text), "[listener.a]\nbind = 127.0.0.1:%u\n"
	    "service = echo\nbacklog = many\n", port);
	write_file(path, text);
	cr_assert_eq(run_tcpd("-c", path, NULL), 1);
	cr_assert_not_null(strstr(out, ":4: invalid backlog 'many'"), "%s", out);
	cr_assert(port_is_closed(port));
	unlink(path);
}

Test(daemon, address_in_use_fails_the_start_and_releases_the_others)
{
	char path[] = "/tmp/tcpd-busy-XXXXXX", text[512], expect[256];
	int fd = mkstemp(path), busy;
	uint16_t ports[2];

	cr_assert_geq(fd, 0);
	close(fd);
	free_ports(ports, 2);
	busy = listen_on(ports[1]);
	snprintf(text, sizeof(text), "[listener.first]\nbind = 127.0.0.1:%u\n"
	    "service = echo\n[listener.taken]\nbind = 127.0.0.1:%u\n"
	    "service = echo\n", ports[0], ports[1]);
	write_file(path, text);
	cr_assert_eq(run_tcpd("-c", path, NULL), 1);
	snprintf(expect, sizeof(expect), "listener taken: cannot listen on "
	    "127.0.0.1:%u: Address already in use", ports[1]);
	cr_assert_not_null(strstr(out, expect), "%s", out);
	cr_assert(port_is_closed(ports[0]), "the first listener was released");
	close(busy);
	unlink(path);
}

Test(daemon, max_connections_rejects_the_excess)
{
	const char *info;
	char in[4096];
	int a, b, c, d;
	size_t n;

	tcpd_start("max_connections = 2");
	a = tcp_connect_admitted(tcpd.port[P_COMMAND]);
	b = tcp_connect_admitted(tcpd.port[P_COMMAND]);
	c = tcp_connect(tcpd.port[P_COMMAND]);
	n = recv_all(c, in, sizeof(in));
	assert_reply(in, n, "-ERR max number of clients reached\r\n");
	d = tcp_connect(tcpd.port[P_ECHO]);
	cr_assert(recv_eof(d), "a rejected echo client is closed without a word");
	close(a);
	assert_ping(b);	/* by now the server has seen a go */
	info = tcpd_info();
	/* At least c and d; admission retries at start may add some. */
	cr_assert_not_null(strstr(info, "rejected_connections:"), "%s", info);
	cr_assert_geq(atoi(strstr(info, "rejected_connections:") + 21), 2, "%s", info);
	close(b);
	close(c);
	close(d);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(daemon, idle_timeout_closes_silent_connections_only)
{
	struct timespec t0, t1, half = { 0, 400 * 1000000 };
	int idle, busy, i;
	double secs;

	tcpd_start("idle_timeout = 1");
	busy = tcp_connect(tcpd.port[P_COMMAND]);
	idle = tcp_connect(tcpd.port[P_COMMAND]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 6; i++) {
		assert_ping(busy);
		nanosleep(&half, NULL);
	}
	cr_assert(recv_eof(idle));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_geq(secs, 0.9, "closed after %.2f s", secs);
	assert_ping(busy);	/* 2.4 s old, never idle for 1 s: still open */
	close(idle);
	close(busy);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(daemon, sigterm_with_clients_connected_exits_cleanly)
{
	static const int services[] = { P_ECHO, P_DISCARD, P_CHARGEN, P_COMMAND };
	int fds[12], i;

	tcpd_start(NULL);
	for (i = 0; i < 12; i++)
		fds[i] = tcp_connect(tcpd.port[services[i % 4]]);
	assert_ping(fds[3]);
	cr_assert_eq(tcpd_stop(), 0);
	for (i = 0; i < 10; i++)
		close(fds[i]);
}

/*
 * A stop right after a connection was accepted, its request not there yet:
 * the request is served (a restart under load must not close it unanswered);
 * a connection that sent and is idle is closed at once.
 */
Test(daemon, a_stop_serves_a_connection_just_accepted)
{
	int fresh, idle;

	tcpd_start(NULL);
	idle = tcp_connect(tcpd.port[P_COMMAND]);
	assert_ping(idle);
	fresh = tcp_connect(tcpd.port[P_COMMAND]);
	ping_ok();	/* by its reply, both are accepted */
	kill(tcpd.pid, SIGTERM);
	poll(NULL, 0, 200);
	cr_assert(recv_eof(idle), "an idle connection stays open through a stop");
	assert_ping(fresh);
	cr_assert_eq(tcpd_stop(), 0);
	close(fresh);
	close(idle);
}

Test(daemon, connection_log_lines_carry_the_connection_id)
{
	struct sockaddr_in me;
	socklen_t len = sizeof(me);
	char pattern[128], *log;
	int fd;

	tcpd_start(NULL);
	fd = tcp_connect(tcpd.port[P_COMMAND]);
	getsockname(fd, (struct sockaddr *)&me, &len);
	send_all(fd, "*1\r\n$x\r\n", 8);
	recv_all(fd, pattern, sizeof(pattern));
	close(fd);
	cr_assert_eq(tcpd_stop(), 0);

	log = tcpd_log_text();
	/* Connection 1 was the harness's readiness probe. */
	snprintf(pattern, sizeof(pattern), "debug: conn 2 127.0.0.1:%u: open on "
	    "127.0.0.1:%u (listener command, command)", ntohs(me.sin_port),
	    tcpd.port[P_COMMAND]);
	cr_assert_not_null(strstr(log, pattern), "no '%s' in:\n%s", pattern, log);
	snprintf(pattern, sizeof(pattern), "debug: conn 2 127.0.0.1:%u: protocol "
	    "error: invalid bulk length; input: \"*1\\r\\n$x\\r\\n\"", ntohs(me.sin_port));
	cr_assert_not_null(strstr(log, pattern), "no '%s' in:\n%s", pattern, log);
	/* The close is the access-log line, at info: who, where, how long, how much, why. */
	snprintf(pattern, sizeof(pattern), "info: conn 2 127.0.0.1:%u: closed: protocol "
	    "error (listener command, in 8, out 42 bytes, ", ntohs(me.sin_port));
	cr_assert_not_null(strstr(log, pattern), "no '%s' in:\n%s", pattern, log);
	free(log);
}

Test(daemon, log_connections_no_keeps_closes_at_debug)
{
	char *log;

	tcpd_start_with("log_level = info", "log_connections = no", 0);
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
	log = tcpd_log_text();
	cr_assert_null(strstr(log, ": closed: "), "%s", log);
	free(log);

	tcpd_start("log_level = info");
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
	log = tcpd_log_text();
	cr_assert_not_null(strstr(log, "info: conn 2 127.0.0.1:"), "%s", log);
	cr_assert_not_null(strstr(log, ": closed: closed by peer (listener command, in 6, "
	    "out 7 bytes, "), "%s", log);
	free(log);
}

Test(daemon, a_start_up_warning_to_a_closed_stderr_does_not_kill_it)
{
	/* 64 descriptors cannot hold max_connections: a warning at start. */
	tcpd_start_stderr_broken(64);
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
}

/* Reads from fd until needle has arrived (5 s at most); what came, in buf. */
static const char *
read_until(int fd, char *buf, size_t size, size_t *len, const char *needle)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	const char *at;
	ssize_t n;

	while ((at = strstr(buf, needle)) == NULL) {
		cr_assert_gt(poll(&p, 1, 5000), 0, "no '%s' in:\n%s", needle, buf);
		n = read(fd, buf + *len, size - 1 - *len);
		cr_assert_gt(n, 0, "no '%s' in:\n%s", needle, buf);
		*len += (size_t)n;
		buf[*len] = '\0';
	}
	return at;
}

/* tcpd the way socat is used: no file, port 0, the ports on stdout for a script. */
Test(daemon, runs_from_the_command_line_on_free_ports)
{
	const char *argv[] = { tcpd_bin(), "--listen", "0", "--service", "echo",
	    "--listen", "[::1]:0", "--service", "command", NULL };
	static char text[8192];
	unsigned echo_port, cmd_port;
	int to, from, fd, status;
	size_t len = 0;
	char in[8];
	pid_t pid = run_piped(argv, &to, &from);

	text[0] = '\0';
	read_until(from, text, sizeof(text), &len, "\nlistener cli1: serving command on [::1]:");
	/* Lines of their own on stdout, not log lines with a timestamp before them. */
	cr_assert_eq(sscanf(strstr(text, "\nlistener cli0: ") + 1,
	    "listener cli0: serving echo on 127.0.0.1:%u\n", &echo_port), 1, "%s", text);
	read_until(from, text, sizeof(text), &len, "\n");
	cr_assert_eq(sscanf(strstr(text, "\nlistener cli1: ") + 1,
	    "listener cli1: serving command on [::1]:%u\n", &cmd_port), 1, "%s", text);
	cr_assert(echo_port > 0 && cmd_port > 0);
	fd = tcp_connect((uint16_t)echo_port);
	send_all(fd, "hi", 2);
	recv_exact(fd, in, 2);
	assert_bytes(in, 2, "hi", 2);
	close(fd);
	/* SIGHUP has no file to re-read: it says so and changes nothing. */
	kill(pid, SIGHUP);
	read_until(from, text, sizeof(text), &len, "no configuration file to re-read");
	assert_ping(fd = tcp_connect6((uint16_t)cmd_port));
	close(fd);
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	close(to);
	close(from);
}

/* toxiproxy-server's stand-in: one option, Toxiproxy's API on the port it names. */
Test(daemon, control_from_the_command_line)
{
	const char *argv[] = { tcpd_bin(), "--control", "0", NULL };
	const char *twice[] = { tcpd_bin(), "--control", "0", "--service", "echo", "-t", NULL };
	static const char req[] = "GET /version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	static char text[8192];
	char reply[512], expect[512];
	unsigned port;
	int to, from, status;
	size_t len = 0;
	pid_t pid = run_piped(argv, &to, &from);

	text[0] = '\0';
	read_until(from, text, sizeof(text), &len, "listener cli0: serving control on 127.0.0.1:");
	read_until(from, text, sizeof(text), &len, "\n");
	cr_assert_eq(sscanf(strstr(text, "listener cli0: "),
	    "listener cli0: serving control on 127.0.0.1:%u\n", &port), 1, "%s", text);
	exchange_to_eof((uint16_t)port, req, reply, sizeof(reply));
	snprintf(expect, sizeof(expect), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n{\"version\":\"%s\"}",
	    strlen(TCPD_VERSION) + 14, TCPD_VERSION);
	cr_assert_str_eq(reply, expect);
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	close(to);
	close(from);
	cr_assert_eq(run_capture(twice, out, sizeof(out)), 1, "%s", out);
	cr_assert_str_eq(out, "tcpd: --service echo: service is set twice for this listener\n");
}

Test(daemon, command_line_listeners_are_checked_like_a_file)
{
	const char *check[] = { tcpd_bin(), "--listen", "localhost:0", "--service", "echo",
	    "--check-config", NULL };
	const char *bad[] = { tcpd_bin(), "--listen", "7", "--service", "bogus", NULL };
	const char *unpaired[] = { tcpd_bin(), "--listen", "7", NULL };
	const char *faults_on[] = { tcpd_bin(), "--listen", "0", "--service",
	    "command\nfaults = on", "-t", NULL };
	const char *extra_listener[] = { tcpd_bin(), "--listen",
	    "127.0.0.1:0\n[listener.x]\nbind = 127.0.0.1:0\nservice = echo", "--service",
	    "echo", "-t", NULL };
	const char *bad_port[] = { tcpd_bin(), "--listen", "127.0.0.1:99999", "--service",
	    "echo", "-t", NULL };
	const char *twice[] = { tcpd_bin(), "--listen", "127.0.0.1:7", "--service", "echo",
	    "--listen", "127.0.0.1:7", "--service", "echo", "-t", NULL };
	const char *both[] = { tcpd_bin(), "-c", "x", "--listen", "7", "--service", "echo",
	    NULL };

	cr_assert_eq(run_capture(check, out, sizeof(out)), 0, "%s", out);
	cr_assert_str_eq(out, "command line: configuration ok\n");
	cr_assert_eq(run_capture(bad, out, sizeof(out)), 1);
	cr_assert_str_eq(out, "tcpd: --service bogus: invalid service 'bogus': "
	    "expected echo, discard, chargen, daytime, time, command, metrics, agent, proxy or control\n");
	/* Option text is never pasted into a config: a newline adds no key, no listener. */
	cr_assert_eq(run_capture(faults_on, out, sizeof(out)), 1, "%s", out);
	cr_assert_eq(strncmp(out, "tcpd: --service command\\nfaults = on: invalid service "
	    "'command\\nfaults = on': expected echo, ", 73), 0, "%s", out);
	cr_assert_eq(run_capture(extra_listener, out, sizeof(out)), 1, "%s", out);
	cr_assert_str_eq(out, "tcpd: --listen 127.0.0.1:0\\n[listener.x]\\nbind = "
	    "127.0.0.1:0\\nservice = echo: invalid bind address '127.0.0.1:0\\n[listener.x]"
	    "\\nbind = 127.0.0.1:0\\nservice = echo': IPv6 addresses must be written in "
	    "brackets, as [::1]:PORT\n");
	/* An error names the option it is about, not a line of a text nobody wrote. */
	cr_assert_eq(run_capture(bad_port, out, sizeof(out)), 1, "%s", out);
	cr_assert_str_eq(out, "tcpd: --listen 127.0.0.1:99999: invalid bind address "
	    "'127.0.0.1:99999': port must be a number from 0 to 65535 (0: any free port)\n");
	cr_assert_eq(run_capture(twice, out, sizeof(out)), 1, "%s", out);
	cr_assert_str_eq(out, "tcpd: --listen 127.0.0.1:7: address 127.0.0.1:7 is already "
	    "bound by listener 'cli0' (--listen 127.0.0.1:7)\n");
	cr_assert_eq(run_capture(unpaired, out, sizeof(out)), 1);
	cr_assert_str_eq(out, "tcpd: --listen 7: needs a --service after it\n");
	cr_assert_eq(run_capture(both, out, sizeof(out)), 2);
	cr_assert_eq(strncmp(out, "tcpd: --listen (or --control) and --config are exclusive\n", 57), 0, "%s",
	    out);
}

/* The command line a test needs: a proxy with a fault profile and a seed, no file. */
Test(daemon, a_proxy_with_faults_from_the_command_line)
{
	char upstream[32];
	const char *argv[] = { tcpd_bin(), "--listen", "127.0.0.1:0", "--service", "proxy",
	    "--upstream", upstream, "--fault", "delay=100ms,jitter=10ms", "--seed", "7",
	    "--set", "log_connections=no", NULL };
	const char *bad[] = { tcpd_bin(), "--listen", "0", "--service", "proxy", "--upstream",
	    "127.0.0.1:5432", "--fault", "delay=1s,nosuch=2", "-t", NULL };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	static char text[8192];
	struct timespec t0, t1;
	unsigned port;
	size_t len = 0;
	int server, peer, fd, to, from, status;
	char in[2];
	pid_t pid;

	cr_assert_eq(run_capture(bad, out, sizeof(out)), 1, "%s", out);
	cr_assert_str_eq(out, "tcpd: --fault delay=1s,nosuch=2: unknown listener key 'nosuch'\n");
	cr_assert_geq(server = socket(AF_INET, SOCK_STREAM, 0), 0);
	cr_assert_eq(bind(server, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(server, 1), 0);
	cr_assert_eq(getsockname(server, (struct sockaddr *)&a, &alen), 0);
	snprintf(upstream, sizeof(upstream), "127.0.0.1:%u", ntohs(a.sin_port));
	pid = run_piped(argv, &to, &from);
	text[0] = '\0';
	read_until(from, text, sizeof(text), &len, "listener cli0: serving proxy on 127.0.0.1:");
	read_until(from, text, sizeof(text), &len, "\n");
	/* The profile --fault and --seed made, logged before the listener serves. */
	cr_assert_not_null(strstr(text, "listener cli0: faults downstream delay=100ms jitter=10ms; "
	    "seed 7\n"), "%s", text);
	cr_assert_eq(sscanf(strstr(text, "listener cli0: serving"), "listener cli0: serving proxy "
	    "on 127.0.0.1:%u\n", &port), 1, "%s", text);
	fd = tcp_connect((uint16_t)port);
	cr_assert_geq(peer = accept(server, NULL, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	send_all(fd, "hi", 2);
	recv_exact(peer, in, 2);
	assert_bytes(in, 2, "hi", 2);
	send_all(peer, "ok", 2);
	recv_exact(fd, in, 2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_bytes(in, 2, "ok", 2);
	/* The reply held: delay 100 ms, less at most 10 ms of jitter. */
	cr_assert_geq((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000, 90);
	close(fd);
	close(peer);
	close(server);
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
	close(to);
	close(from);
}

/* A port 0 in a file: a free port at start, kept by a reload (the same socket). */
Test(daemon, a_port_zero_bind_keeps_its_port_across_a_reload)
{
	char path[] = "/tmp/tcpd-conf-XXXXXX";
	const char *argv[] = { tcpd_bin(), "-c", path, NULL };
	static char text[16384];
	unsigned port;
	size_t len = 0;
	int fd = mkstemp(path), to, from, status;
	pid_t pid;

	cr_assert_geq(fd, 0);
	close(fd);
	write_file(path, "[listener.c]\nbind = 127.0.0.1:0\nservice = command\n");
	pid = run_piped(argv, &to, &from);
	text[0] = '\0';
	read_until(from, text, sizeof(text), &len, " ready ");
	cr_assert_eq(sscanf(strstr(text, "serving command on 127.0.0.1:"),
	    "serving command on 127.0.0.1:%u", &port), 1, "%s", text);
	kill(pid, SIGHUP);
	read_until(from, text, sizeof(text), &len, "configuration reloaded");
	cr_assert_null(strstr(strstr(text, "SIGHUP"), "serving"), "re-bound: %s", text);
	assert_ping(fd = tcp_connect((uint16_t)port));
	close(fd);
	/* Another port 0, on the wildcard: no clash with the first (no port is shared). */
	write_file(path, "[listener.c]\nbind = 127.0.0.1:0\nservice = command\n"
	    "[listener.d]\nbind = 0.0.0.0:0\nservice = discard\n");
	kill(pid, SIGHUP);
	read_until(from, text, sizeof(text), &len, "listener d: serving discard on 0.0.0.0:");
	cr_assert_null(strstr(text, "reload failed"), "%s", text);
	kill(pid, SIGTERM);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	close(to);
	close(from);
	unlink(path);
}

Test(daemon, check_config_names_the_included_file_with_the_error)
{
	char dir[] = "/tmp/tcpd-inc-XXXXXX", path[512], inc[512], expect[1024];

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tcpd.conf", dir);
	snprintf(inc, sizeof(inc), "%s/extra.conf", dir);
	write_file(path, "[tcpd]\ninclude = extra.conf\n[listener.a]\nbind = 127.0.0.1:7\n"
	    "service = echo\n");
	write_file(inc, "[listener.b]\nbind = 127.0.0.1:9\nservice = discard\nbacklog = 0\n");
	cr_assert_eq(run_tcpd("-t", "-c", path), 1);
	snprintf(expect, sizeof(expect), "%s:4: invalid backlog '0': expected an integer from 1 "
	    "to 65535\n", inc);
	cr_assert_str_eq(out, expect);
	unlink(inc);
	unlink(path);
	rmdir(dir);
}
