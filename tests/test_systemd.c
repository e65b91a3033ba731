/* SPDX-License-Identifier: MIT */
/* tcpd and the service manager's protocols, against the built binary. */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(systemd, .timeout = 60);

struct notes {
	char	msg[64][256];
	int	n;
};

/* Reads every datagram that arrives within ms. */
static void
collect(int fd, struct notes *notes, int ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct timeval tv = { 0, 20000 };
		char in[256];
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) /
		    1000000 >= ms)
			return;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if ((n = recv(fd, in, sizeof(in) - 1, 0)) <= 0)
			continue;
		in[n] = '\0';
		if (notes->n < 64)
			snprintf(notes->msg[notes->n++], sizeof(notes->msg[0]), "%s", in);
	}
}

/* Index of the first message at or after from starting with prefix, or -1. */
static int
find(const struct notes *notes, int from, const char *prefix)
{
	int i;

	for (i = from; i < notes->n; i++)
		if (strncmp(notes->msg[i], prefix, strlen(prefix)) == 0)
			return i;
	return -1;
}

static int
count(const struct notes *notes, const char *prefix)
{
	int i, n = 0;

	for (i = 0; i < notes->n; i++)
		n += strncmp(notes->msg[i], prefix, strlen(prefix)) == 0;
	return n;
}

Test(systemd, notify_ready_reloading_stopping_and_watchdog)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct notes notes = { .n = 0 };
	char path[64], text[8192];
	int fd, ready, reloading, ready2, stopping;

	snprintf(path, sizeof(path), "/tmp/tcpd-notify-it-%d", (int)getpid());
	unlink(path);
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	/* The daemon inherits these; this test process is its own worker. */
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "200000", 1);	/* pings every 100 ms */

	tcpd_start(NULL);
	collect(fd, &notes, 400);
	tcpd_config_text(text, sizeof(text), "max_line = 1000", NULL);
	cr_assert_eq(tcpd_reload(text), 0);
	collect(fd, &notes, 100);
	kill(tcpd.pid, SIGTERM);
	collect(fd, &notes, 300);
	cr_assert_eq(tcpd_stop(), 0, "exited 0 after STOPPING=1");

	ready = find(&notes, 0, "READY=1");
	reloading = find(&notes, 0, "RELOADING=1\nMONOTONIC_USEC=");
	ready2 = reloading < 0 ? -1 : find(&notes, reloading, "READY=1");
	stopping = find(&notes, 0, "STOPPING=1");
	cr_assert_eq(ready, 0, "READY=1 comes first, once listening (got '%s')",
	    notes.msg[0]);
	cr_assert(ready < reloading && reloading < ready2 && ready2 < stopping,
	    "order READY %d, RELOADING %d, READY %d, STOPPING %d", ready, reloading,
	    ready2, stopping);
	cr_assert_geq(count(&notes, "WATCHDOG=1"), 3, "%d watchdog pings in ~0.8 s",
	    count(&notes, "WATCHDOG=1"));
	cr_assert_geq(count(&notes, "STATUS="), 1);
	close(fd);
	unlink(path);
}

Test(systemd, failed_reload_still_answers_ready_and_says_why)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct notes notes = { .n = 0 };
	char path[64];
	int fd, reloading, ready;

	snprintf(path, sizeof(path), "/tmp/tcpd-notify-fail-%d", (int)getpid());
	unlink(path);
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	unsetenv("WATCHDOG_USEC");
	tcpd_start(NULL);
	cr_assert_eq(tcpd_reload("[tcpd]\nbogus = 1\n"), -1);
	collect(fd, &notes, 200);
	reloading = find(&notes, 0, "RELOADING=1");
	ready = find(&notes, reloading + 1, "READY=1\nSTATUS=reload failed");
	cr_assert(reloading >= 0 && ready > reloading, "RELOADING %d, READY %d",
	    reloading, ready);
	cr_assert_eq(tcpd_stop(), 0);
	close(fd);
	unlink(path);
}

static const char activate[] = "/usr/bin/systemd-socket-activate";

Test(systemd, socket_activation_adopts_named_sockets)
{
	char listen_echo[64], fdnames[] = "--fdname=echo";
	int fd;
	char in[8];

	if (access(activate, X_OK) != 0)
		cr_skip_test("%s is not installed (Debian's systemd package)", activate);
	free_ports(tcpd.port, NPORTS);
	snprintf(listen_echo, sizeof(listen_echo), "--listen=127.0.0.1:%u",
	    tcpd.port[P_ECHO]);
	{
		const char *wrapper[] = { activate, listen_echo, fdnames, NULL };

		tcpd_start_activated(wrapper, tcpd.port[P_ECHO]);
	}
	fd = tcp_connect(tcpd.port[P_ECHO]);
	send_all(fd, "hi", 2);
	recv_exact(fd, in, 2);
	assert_reply(in, 2, "hi");
	close(fd);
	ping_ok();	/* bound by tcpd itself */
	cr_assert_eq(tcpd_log_count("listener echo: serving echo on 127.0.0.1:"), 1);
	cr_assert_eq(tcpd_log_count("(socket passed by systemd)"), 1);
	cr_assert_eq(tcpd_stop(), 0);
}

/*
 * FileDescriptorName= naming no listener fails the start with that as the
 * reason, before the listener meant to adopt the socket could try to bind
 * its address itself and fail with a misleading EADDRINUSE.
 */
Test(systemd, a_passed_socket_no_listener_names_fails_the_start_saying_so)
{
	char listen_cmd[64], fdnames[] = "--fdname=cmd";
	uint16_t passed;
	int status;

	if (access(activate, X_OK) != 0)
		cr_skip_test("%s is not installed (Debian's systemd package)", activate);
	free_ports(tcpd.port, NPORTS);
	free_ports(&passed, 1);
	snprintf(listen_cmd, sizeof(listen_cmd), "--listen=127.0.0.1:%u", passed);
	{
		const char *wrapper[] = { activate, listen_cmd, fdnames, NULL };

		cr_assert_not(tcpd_try_start_activated(wrapper, passed, &status));
	}
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
	cr_assert_eq(tcpd_log_count("error: the socket systemd passed as 'cmd' (127.0.0.1:"), 1);
	cr_assert_eq(tcpd_log_count(") matches no listener: FileDescriptorName= in the .socket "
	    "unit must be the NAME of a [listener.NAME] (here: echo, discard, chargen, daytime, "
	    "time, command)"), 1);
	cr_assert_eq(tcpd_log_count("Address already in use"), 0);
}

Test(systemd, passed_socket_on_another_address_is_an_error)
{
	char listen_other[64], fdnames[] = "--fdname=echo";
	uint16_t other;
	int fd;
	char in[8];

	if (access(activate, X_OK) != 0)
		cr_skip_test("%s is not installed (Debian's systemd package)", activate);
	free_ports(tcpd.port, NPORTS);
	free_ports(&other, 1);
	snprintf(listen_other, sizeof(listen_other), "--listen=127.0.0.1:%u", other);
	{
		const char *wrapper[] = { activate, listen_other, fdnames, NULL };

		tcpd_start_activated(wrapper, other);
	}
	fd = tcp_connect(other);
	send_all(fd, "ok", 2);
	recv_exact(fd, in, 2);
	close(fd);
	cr_assert_eq(tcpd_log_count("error: listener echo: the socket systemd passed "
	    "is bound to 127.0.0.1:"), 1);
	cr_assert_eq(tcpd_log_count("which is not in its bind list"), 1);
	cr_assert_eq(tcpd_stop(), 0);
}

Test(systemd, journal_target_without_a_journal_falls_back_to_stderr)
{
	if (access("/run/systemd/journal/socket", F_OK) == 0)
		cr_skip_test("a journald runs here; the container test covers it");
	tcpd_start("log_target = journal\nlog_level = info");
	ping_ok();
	cr_assert_eq(tcpd_stop(), 0);
	cr_assert_eq(tcpd_log_count("warning: cannot use the journal's socket "
	    "/run/systemd/journal/socket: No such file or directory; logging to stderr"), 1);
	cr_assert_eq(tcpd_log_count("ready (config"), 1, "lines still reach stderr");
}

Test(systemd, a_passed_unix_socket_is_refused_with_the_reason)
{
	char listen_echo[64], listen_unix[96], fdnames[] = "--fdname=echo:local";
	char *log;
	int fd;

	if (access(activate, X_OK) != 0)
		cr_skip_test("%s is not installed (Debian's systemd package)", activate);
	free_ports(tcpd.port, NPORTS);
	snprintf(listen_echo, sizeof(listen_echo), "--listen=127.0.0.1:%u",
	    tcpd.port[P_ECHO]);
	snprintf(listen_unix, sizeof(listen_unix), "--listen=/tmp/tcpd-test-%d.sock",
	    (int)getpid());
	{
		const char *wrapper[] = { activate, listen_echo, listen_unix, fdnames, NULL };

		tcpd_start_activated(wrapper, tcpd.port[P_ECHO]);
	}
	fd = tcp_connect(tcpd.port[P_ECHO]);
	close(fd);
	cr_assert_eq(tcpd_log_count("error: the socket systemd passed as 'local' is "
	    "not TCP over IPv4 or IPv6; closing it"), 1);
	log = tcpd_log_text();
	cr_assert_null(strstr(log, "Success"), "a stale errno: %s", log);
	free(log);
	cr_assert_eq(tcpd_stop(), 0);
	unlink(listen_unix + strlen("--listen="));
}

/*
 * tcpd run as systemd runs it, with one listening socket at descriptor 3
 * passed under name (systemd-socket-activate refuses the names this tests):
 * its exit status, and what it wrote to stderr in out.
 */
static int
run_passed(const char *name, char *out, size_t size)
{
	char errpath[] = "/tmp/tcpd-passed-XXXXXX";
	int efd = mkstemp(errpath), status = -1, i;
	pid_t pid;
	ssize_t n;

	cr_assert_geq(efd, 0);
	if ((pid = fork()) == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET,
		    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char pidtext[16];

		if (fd == -1 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    listen(fd, 8) == -1 || dup2(fd, 3) != 3 || dup2(efd, 2) != 2)
			_exit(99);
		snprintf(pidtext, sizeof(pidtext), "%d", (int)getpid());
		setenv("LISTEN_PID", pidtext, 1);
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_FDNAMES", name, 1);
		unsetenv("JOURNAL_STREAM");
		execl(tcpd_bin(), tcpd_bin(), "--listen", "127.0.0.1:0", "--service", "echo",
		    (char *)NULL);
		_exit(98);
	}
	cr_assert_gt(pid, 0);
	/* It fails at once; bounded all the same. */
	for (i = 0; i < 500 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(10000);
	if (i == 500) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	n = pread(efd, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(efd);
	unlink(errpath);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * A passed socket's name is outside text: a newline in it cannot forge a
 * log line, and a 1000-character one is cut, keeping the reason in view.
 */
Test(systemd, a_passed_name_is_logged_escaped_and_cut)
{
	static char name[1001], out[8192];
	const char *line;

	cr_assert_eq(run_passed("cmd\n2026 error forged\x1b[2J", out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(strstr(out, "error: the socket systemd passed as "
	    "'cmd\\n2026 error forged\\x1b[2J' (127.0.0.1:"), "%s", out);
	cr_assert_null(strstr(out, "\n2026 error forged"), "%s", out);
	memset(name, 'x', 1000);
	cr_assert_eq(run_passed(name, out, sizeof(out)), 1, "%s", out);
	cr_assert_not_null(line = strstr(out, "error: the socket systemd passed as 'xxx"),
	    "%s", out);
	cr_assert_not_null(strstr(line, "xxx...' (127.0.0.1:"), "%s", out);
	cr_assert_not_null(strstr(line, ") matches no listener: FileDescriptorName= in the "
	    ".socket unit must be the NAME of a [listener.NAME] (here: cli0)\n"), "%s", out);
}
