/* SPDX-License-Identifier: MIT */
/*
 * The malloc-failure walk: tcpd-faulty makes its Nth allocation fail, for
 * every N that start-up, a command exchange, a reload and a drain reach.
 * Whatever fails, tcpd keeps serving or exits with a clear message: never a
 * crash, a sanitizer report or a leak (LeakSanitizer fails the exit status
 * under ASan), and a client sees a reply or a closed connection, never a
 * wrong reply.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(allocfail, .timeout = 600);

/* The walk stops here at the latest: far more than the scenario allocates. */
#define WALK_MAX	2000

/* What a failure shows of the run's log: its end, where the failure is. */
#define TAIL_MAX	6000

/*
 * The last TAIL_MAX bytes of the run's log, with its path (a failed run's
 * directory is kept); a static buffer the next call reuses.
 */
static const char *
log_tail(void)
{
	static char out[TAIL_MAX + 200];
	char *log = tcpd_log_text();
	size_t len = strlen(log);

	snprintf(out, sizeof(out), "---- the end of %s\n%s", tcpd.log,
	    log + (len > TAIL_MAX ? len - TAIL_MAX : 0));
	free(log);
	return out;
}

/* A client of port for run n: a refusal fails the walk naming n, with the log. */
static int
connect_at(uint16_t port, int n)
{
	int fd = tcp_try_connect(port);

	cr_assert_geq(fd, 0, "allocation %d: connect 127.0.0.1:%u: %s\n%s", n, port,
	    strerror(errno), log_tail());
	return fd;
}

/*
 * tcpd_try_start() returns once the command port accepts, but tcpd listens
 * on each socket as it binds it: a start-up that fails on a later one (the
 * allocation of the next listener) had the command port open for a moment
 * and exits after. Started is the log's line that every listener is live
 * (ready): a process that exits first failed its start, with *status. What
 * fails (what, n) names the run in a failure.
 */
static bool
start(const char *bin, const char *global, const char *listener, const char *ready,
    const char *what, int n, int *status)
{
	int i;

	if (!tcpd_try_start(bin, global, listener, status))
		return false;
	for (i = 0; i < 500; i++) {
		if (tcpd_log_count(ready) > 0)
			return true;
		if (waitpid(tcpd.pid, status, WNOHANG) == tcpd.pid) {
			tcpd.pid = 0;
			return false;
		}
		usleep(10000);
	}
	cr_assert_fail("%s %d: '%s' not logged within 5 s of the first accept\n%s", what, n,
	    ready, log_tail());
	return false;
}

/* The lines start() waits for: one process's, a supervisor's (it binds, then forks). */
#define READY		" ready (config "
#define READY_WORKERS	"starting 2 workers"

/*
 * Sends req; the reply must be want, an out-of-memory error reply, or the
 * connection closed without one.
 */
static void
exchange(int fd, const char *req, const char *want, int n)
{
	char in[256];
	size_t got = 0;

	if (send(fd, req, strlen(req), MSG_NOSIGNAL) == -1)
		return;
	/* One byte at a time: an error reply is read to its end, a reply to want's length. */
	while (got < sizeof(in) - 1 && (got == 0 || (in[0] == '-' ? in[got - 1] != '\n' :
	    got < strlen(want)))) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 3000) != 1)
			cr_assert_fail("allocation %d: no reply to '%s' and no close\n%s", n,
			    req, log_tail());
		if (recv(fd, in + got, 1, 0) <= 0)
			break;
		got++;
	}
	in[got] = '\0';
	if (got == 0)
		return;
	if (in[0] == '-' && strstr(in, "out of memory") != NULL)
		return;
	cr_assert(got == strlen(want) && memcmp(in, want, got) == 0,
	    "allocation %d: '%s' got '%s'\n%s", n, req, in, log_tail());
}

/*
 * Whether a start failed on a port taken between its pick and tcpd's bind:
 * the walks run side by side (Criterion's jobs), each picking free ports
 * for every run. Such a run is tried again on new ports.
 */
static bool
port_taken(const char *log)
{
	return strstr(log, "Address already in use") != NULL ||
	    strstr(log, "is already bound by listener") != NULL;
}

#define RETRIES_MAX	20

/*
 * A listener of every kind: a fault profile (each connection's pacing made
 * as it opens), a PROXY header's phase, metrics, the agent, a proxy (its
 * upstream connection, and the PROXY header it sends the PROXY listener
 * behind it), the control API (a proxy made at run time); and a second
 * command listener, whose first client is the test's own (the harness's
 * probe is the first command port's): what fails as it is admitted fails
 * in front of a client that reads.
 */
enum { FLAKY, PROXIED, METRICS, AGENT, SECOND, PROXY, CONTROL, KINDS };
static uint16_t kind_port[KINDS];
/* The last control_call()'s answer. */
static char answer[2048];

/*
 * A control API call on a connection of its own: the answer must have
 * want's status line (or either of want and also), or be a 500 for the
 * memory, or be none (closed). Returns 1 for want's, -1 for none, 0 for a 500.
 */
static int
control_call(const char *method, const char *path, const char *body, const char *want,
    const char *also, int n)
{
	char req[512], *in = answer, *log;
	int fd = connect_at(kind_port[CONTROL], n);
	size_t got = 0;
	ssize_t r;

	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", method, path, strlen(body), body);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) == -1) {
		close(fd);
		return -1;
	}
	/* A connection dropped unmade is reset: no answer, as a close. */
	while (got < sizeof(answer) - 1 &&
	    (r = recv(fd, in + got, sizeof(answer) - 1 - got, 0)) > 0)
		got += (size_t)r;
	in[got] = '\0';
	close(fd);
	if (got == 0)
		return -1;
	if (strncmp(in, want, strlen(want)) == 0 ||
	    (also != NULL && strncmp(in, also, strlen(also)) == 0))
		return 1;
	log = tcpd_log_text();
	cr_assert(strncmp(in, "HTTP/1.1 500 ", 13) == 0 && strstr(in, "out of memory") != NULL,
	    "allocation %d: '%s %s' got '%s'\n%s", n, method, path, in, log);
	free(log);
	return 0;
}

static void
scenario(int n)
{
	int fd, echo, proxied, rc, i, live = -1;
	char *log, body[128], *at;
	int made;

	/* First, so that a wrong answer to its admission fails the walk early. */
	fd = connect_at(kind_port[SECOND], n);
	exchange(fd, "PING\r\n", "+PONG\r\n", n);
	close(fd);
	fd = connect_at(tcpd.port[P_COMMAND], n);
	exchange(fd, "PING\r\n", "+PONG\r\n", n);
	exchange(fd, "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n", "$5\r\nhello\r\n", n);
	/* A timed fault makes the connection's pacing; then replies go through it. */
	exchange(fd, "DELAY 1\r\n", "+OK\r\n", n);
	exchange(fd, "PING\r\n", "+PONG\r\n", n);
	exchange(fd, "INFO clients\r\n", "$", n);	/* the rest unread: last on fd */
	close(fd);
	echo = connect_at(tcpd.port[P_ECHO], n);
	exchange(echo, "abc", "abc", n);
	fd = connect_at(kind_port[FLAKY], n);
	exchange(fd, "abcd", "abcd", n);
	close(fd);
	/* One at a time per client: a failure after admission gives its count back. */
	for (i = 0; i < 2; i++) {
		fd = connect_at(kind_port[PROXIED], n);
		exchange(fd, "PROXY TCP4 10.0.0.1 10.0.0.2 1234 80\r\nPING\r\n", "+PONG\r\n",
		    n);
		close(fd);
		usleep(20000);
	}
	/* Its upstream counts as the PROXIED listener's one client from 127.0.0.1. */
	for (i = 0; i < 2; i++) {
		fd = connect_at(kind_port[PROXY], n);
		exchange(fd, "PING\r\n", "+PONG\r\n", n);
		exchange(fd, "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n", "$5\r\nhello\r\n", n);
		close(fd);
		usleep(20000);
	}
	fd = connect_at(kind_port[METRICS], n);
	exchange(fd, "GET /metrics HTTP/1.0\r\n\r\n", "HTTP/1.1 ", n);
	close(fd);
	fd = connect_at(kind_port[AGENT], n);
	exchange(fd, "", "up ", n);
	close(fd);
	/* A proxy made through the API, kept through the reload below and freed at the stop. */
	snprintf(body, sizeof(body), "{\"name\":\"api\",\"listen\":\"127.0.0.1:0\","
	    "\"upstream\":\"127.0.0.1:%u\"}", tcpd.port[P_ECHO]);
	made = control_call("POST", "/proxies", body, "HTTP/1.1 201 ", NULL, n);
	/* A connection open through it while toxics come and go: its filters remade. */
	if (made == 1 && (at = strstr(answer, "\"listen\":\"127.0.0.1:")) != NULL) {
		live = connect_at((uint16_t)atoi(at + 20), n);
		exchange(live, "abc", "abc", n);
	}
	/* Made, not made (a 500), or either when its answer was lost. */
	control_call("GET", "/proxies/api", "", made == 0 ? "HTTP/1.1 404 " : "HTTP/1.1 200 ",
	    made == -1 ? "HTTP/1.1 404 " : NULL, n);
	control_call("POST", "/proxies/api/toxics", "{\"type\":\"latency\",\"attributes\":"
	    "{\"latency\":1}}", made == 0 ? "HTTP/1.1 404 " : "HTTP/1.1 200 ",
	    made == -1 ? "HTTP/1.1 404 " : NULL, n);
	if (live != -1)
		exchange(live, "def", "def", n);
	control_call("POST", "/reset", "", "HTTP/1.1 204 ", NULL, n);
	if (live != -1) {
		exchange(live, "ghi", "ghi", n);
		close(live);
	}
	kill(tcpd.pid, SIGHUP);
	usleep(50000);
	fd = connect_at(tcpd.port[P_COMMAND], n);
	exchange(fd, "PING\r\n", "+PONG\r\n", n);
	/* Drain with clients connected: they get their replies, then tcpd exits. */
	send(fd, "PI", 2, MSG_NOSIGNAL);
	proxied = connect_at(kind_port[PROXY], n);
	send(proxied, "PING\r\n", 6, MSG_NOSIGNAL);
	rc = tcpd_stop();
	close(fd);
	close(proxied);
	close(echo);
	log = tcpd_log_text();
	cr_assert_null(strstr(log, "ERROR: AddressSanitizer"), "allocation %d:\n%s", n, log);
	cr_assert_null(strstr(log, "runtime error:"), "allocation %d:\n%s", n, log);
	cr_assert(rc == 0 || rc == 1, "allocation %d: exit status %d\n%s", n, rc, log);
	free(log);
}

Test(allocfail, every_allocation_fails_once_without_harm)
{
	const char *bin = getenv("TCPD_FAULTY_BIN");
	char num[16], global[1024], *log;
	int n, status, failed_at_start = 0, served = 0, retries = 0;
	bool reached;

	cr_assert_not_null(bin, "TCPD_FAULTY_BIN must name tcpd-faulty");
	for (n = 1; n <= WALK_MAX; n++) {
		/*
		 * Picked anew each run, as the harness picks its own (see
		 * port_taken(), which also retries a port picked twice: the
		 * harness picks at most NPORTS at once).
		 */
		free_ports(kind_port, CONTROL);
		free_ports(kind_port + CONTROL, KINDS - CONTROL);
		snprintf(global, sizeof(global), "shutdown_timeout = 1\n[listener.flaky]\n"
		    "bind = 127.0.0.1:%u\nservice = echo\nslice = 2\n[listener.proxied]\n"
		    "bind = 127.0.0.1:%u\nservice = command\nproxy_protocol = v1\n"
		    "proxy_trusted = 127.0.0.1\nmax_connections_per_ip = 1\n"
		    "[listener.metrics]\nbind = 127.0.0.1:%u\nservice = metrics\n"
		    "[listener.agent]\nbind = 127.0.0.1:%u\nservice = agent\n"
		    "[listener.second]\nbind = 127.0.0.1:%u\nservice = command\n"
		    "[listener.proxy]\nbind = 127.0.0.1:%u\nservice = proxy\n"
		    "upstream = 127.0.0.1:%u\nupstream_proxy_protocol = v1\n"
		    "[listener.control]\nbind = 127.0.0.1:%u\nservice = control\n",
		    kind_port[FLAKY], kind_port[PROXIED], kind_port[METRICS], kind_port[AGENT],
		    kind_port[SECOND], kind_port[PROXY], kind_port[PROXIED], kind_port[CONTROL]);
		snprintf(num, sizeof(num), "%d", n);
		setenv("TCPD_FAIL_ALLOC", num, 1);
		/* A drain that waits for a half-sent request ends after 1 s. */
		if (!start(bin, global, "faults = loopback", READY, "allocation", n,
		    &status)) {
			/* Start-up may give up, but only with an exit status and a reason. */
			log = tcpd_log_text();
			if (port_taken(log) && retries++ < RETRIES_MAX) {
				free(log);
				temp_dir_remove(tcpd.dir);
				n--;
				continue;
			}
			cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1,
			    "allocation %d: start-up ended with status %d\n%s", n, status, log);
			cr_assert(strstr(log, "out of memory") != NULL ||
			    strstr(log, "Cannot allocate memory") != NULL,
			    "allocation %d: no reason given\n%s", n, log);
			free(log);
			temp_dir_remove(tcpd.dir);
			failed_at_start++;
			continue;
		}
		scenario(n);
		served++;
		log = tcpd_log_text();
		reached = strstr(log, "alloc-fail: allocation ") != NULL;
		free(log);
		/* Only a failed run's directory is kept, for its log. */
		temp_dir_remove(tcpd.dir);
		/* A run in which no allocation failed: every N has been walked. */
		if (!reached)
			break;
	}
	unsetenv("TCPD_FAIL_ALLOC");
	cr_assert_leq(n, WALK_MAX, "the walk did not end");
	cr_assert_gt(served, 10, "too few runs reached serving");
	cr_log_info("walked %d allocations: %d ended start-up, %d served", n - 1,
	    failed_at_start, served);
}

/* Connections held open at once: every table grows past its first resize. */
#define MANY	300

/*
 * Each realloc() fails once in turn (the tables: descriptors, timers) while
 * 300 clients connect to a PROXY listener, whose header stage arms a timer
 * as each connection is made: a connection that fails half-made is dropped
 * whole, and every other one still gets its reply.
 */
Test(allocfail, every_table_growth_fails_once_under_many_connections)
{
	const char *bin = getenv("TCPD_FAULTY_BIN");
	static const char req[] = "PROXY TCP4 10.0.0.1 10.0.0.2 1234 80\r\nPING\r\n";
	char global[256], num[16], in[8], *log;
	int fds[MANY], k, i, rc, status, answered;
	uint16_t port;
	bool reached = true;

	cr_assert_not_null(bin, "TCPD_FAULTY_BIN must name tcpd-faulty");
	for (k = 1; reached && k <= 100; k++) {
		free_ports(&port, 1);
		snprintf(global, sizeof(global), "shutdown_timeout = 1\n[listener.proxied]\n"
		    "bind = 127.0.0.1:%u\nservice = command\nproxy_protocol = v1\n"
		    "proxy_trusted = 127.0.0.1\n", port);
		snprintf(num, sizeof(num), "%d", k);
		setenv("TCPD_FAIL_REALLOC", num, 1);
		if (!start(bin, global, NULL, READY, "realloc", k, &status)) {
			log = tcpd_log_text();
			cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1,
			    "realloc %d: start-up ended with status %d\n%s", k, status, log);
			free(log);
			temp_dir_remove(tcpd.dir);
			continue;
		}
		for (i = 0; i < MANY; i++) {
			struct timeval tv = { .tv_sec = 2 };

			fds[i] = connect_at(port, k);
			setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		}
		answered = 0;
		for (i = 0; i < MANY; i++) {
			ssize_t n;

			if (send(fds[i], req, sizeof(req) - 1, MSG_NOSIGNAL) == -1)
				continue;
			/* The reply, or the close of a connection dropped unmade. */
			n = recv(fds[i], in, 7, MSG_WAITALL);
			if (n == 7 && memcmp(in, "+PONG\r\n", 7) == 0)
				answered++;
			else
				cr_assert(n == 0 || (n == -1 && errno == ECONNRESET),
				    "realloc %d: connection %d got %zd bytes (%s)\n%s", k, i, n,
				    n == -1 ? strerror(errno) : "", log = tcpd_log_text());
		}
		cr_assert_geq(answered, MANY - 1, "realloc %d: %d of %d answered", k,
		    answered, MANY);
		rc = tcpd_stop();
		for (i = 0; i < MANY; i++)
			close(fds[i]);
		log = tcpd_log_text();
		cr_assert_null(strstr(log, "ERROR: AddressSanitizer"), "realloc %d:\n%s", k, log);
		cr_assert_null(strstr(log, "runtime error:"), "realloc %d:\n%s", k, log);
		cr_assert_null(strstr(log, "Bad file descriptor"), "realloc %d:\n%s", k, log);
		cr_assert(rc == 0 || rc == 1, "realloc %d: exit status %d\n%s", k, rc, log);
		reached = strstr(log, "alloc-fail: realloc ") != NULL;
		free(log);
		temp_dir_remove(tcpd.dir);
	}
	unsetenv("TCPD_FAIL_REALLOC");
	cr_assert(!reached, "the walk did not end");
	cr_log_info("walked %d reallocs", k - 2);
}

/* The processes still alive (not zombies) whose command line names conf, into pids. */
static int
tree_alive(const char *conf, pid_t *pids, int max)
{
	char path[64], args[1024], state[256];
	struct dirent *e;
	ssize_t len, off;
	int n = 0, fd, pid;
	DIR *d;

	cr_assert_not_null(d = opendir("/proc"));
	while ((e = readdir(d)) != NULL && n < max) {
		if ((pid = atoi(e->d_name)) <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		len = read(fd, args, sizeof(args) - 1);
		close(fd);
		for (off = 0; len > 0 && off < len; off += (ssize_t)strlen(args + off) + 1) {
			args[len] = '\0';
			if (strcmp(args + off, conf) != 0)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/stat", pid);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
				break;
			len = read(fd, state, sizeof(state) - 1);
			close(fd);
			state[len > 0 ? len : 0] = '\0';
			/* "pid (comm) S ...": a zombie has ended, its parent reaps it. */
			if (strrchr(state, ')') == NULL || strrchr(state, ')')[2] != 'Z')
				pids[n++] = (pid_t)pid;
			break;
		}
	}
	closedir(d);
	return n;
}

/* Every worker's exit, as its supervisor logged it: status 0 or 1, never a signal. */
static void
assert_workers_ended_cleanly(const char *log, int n)
{
	const char *at = log;

	cr_assert_null(strstr(log, "was killed by signal"), "allocation %d:\n%s", n, log);
	while ((at = strstr(at, "exited with status ")) != NULL) {
		at += strlen("exited with status ");
		cr_assert(*at == '0' || *at == '1', "allocation %d: a worker %.20s\n%s", n,
		    at - strlen("exited with status "), log);
	}
}

/* Where pid's "alloc-fail: ..." line is in log, or NULL. */
static const char *
failed_at(const char *log, pid_t pid)
{
	char tag[32];

	snprintf(tag, sizeof(tag), "fails (pid %d)\n", (int)pid);
	return strstr(log, tag);
}

/* Where the supervisor said worker k (pid) ended, or NULL. */
static const char *
ended_at(const char *log, int k, int pid)
{
	char tag[48];

	snprintf(tag, sizeof(tag), "worker %d (pid %d) ", k, pid);
	return strstr(log, tag);
}

/*
 * Start-up is whole or nothing in every process: one whose allocation
 * failed before it said it was up (the supervisor "starting N workers", a
 * worker "tcpd ... ready") does not then say it, having gone on without
 * what it could not make; it exits with the reason instead. A worker's
 * lines name its index, not its pid: its ready line is the one of its
 * index between its predecessor's end and its own, as the supervisor logs
 * them (it forks a worker's successor only once it has reaped it).
 */
static void
assert_startup_whole(const char *log, pid_t supervisor, int n)
{
	const char *fail, *at, *from, *to, *ready;
	int k, pid, last[2] = { 0, 0 };
	char tag[48];

	if ((fail = failed_at(log, supervisor)) != NULL) {
		at = strstr(log, "starting 2 workers");
		cr_assert(at == NULL || at < fail, "allocation %d: the supervisor failed one "
		    "and went on starting\n%s", n, log);
	}
	for (at = log; (at = strstr(at, " started (pid ")) != NULL; at++) {
		for (from = at; from > log && from[-1] != ':'; from--)
			continue;
		if (sscanf(from, " worker %d", &k) != 1 || k < 0 || k > 1)
			continue;
		pid = atoi(at + strlen(" started (pid "));
		from = last[k] != 0 ? ended_at(log, k, last[k]) : log;
		last[k] = pid;
		if ((fail = failed_at(log, pid)) == NULL || from == NULL)
			continue;
		to = ended_at(log, k, pid);
		snprintf(tag, sizeof(tag), "worker %d: tcpd ", k);
		ready = strstr(from, tag);
		cr_assert(ready == NULL || (to != NULL && ready > to) || ready < fail,
		    "allocation %d: worker %d (pid %d) failed one at start-up and went on\n%s",
		    n, k, pid, log);
	}
}

/* Until the log says how the reload went, at most 3 s; whether it did. */
static bool
await_reload_outcome(void)
{
	int i;

	for (i = 0; i < 300; i++) {
		if (tcpd_log_count("configuration reloaded in all ") > 0 ||
		    tcpd_log_count("reload failed") > 0)
			return true;
		usleep(10000);
	}
	return false;
}

/*
 * workers = 2: the supervisor parses the configuration, binds, forks two
 * workers and hands each a reload's configuration over its channel; a
 * worker that dies is restarted. "Every allocation" of that tree is every
 * N of the count alloc_fail.c keeps per process and carries across fork():
 * one run fails the supervisor's Nth allocation and each worker's (its
 * supervisor's before the fork plus its own), and a worker forked after a
 * failure (a restart) fails nothing. N walks until a run in which no
 * process reached N. Each run: start, a PING on two connections (one per
 * worker, most likely), a reload that reaches both workers, a PING, a stop.
 * Whatever failed: each client gets its reply, an out-of-memory error or a
 * close, never a hang; the reload's outcome is said; the supervisor exits
 * with 0 or 1 within the harness's 10 s, every worker with 0 or 1 (none
 * killed by a signal, none with a sanitizer's status), no sanitizer report
 * from any process, and no worker outlives its supervisor by more than
 * its drain.
 */
Test(allocfail, every_allocation_of_the_supervisor_and_its_workers_fails_once)
{
	const char *bin = getenv("TCPD_FAULTY_BIN");
	char num[16], conf[sizeof(tcpd.conf)], *log;
	int n, i, fd, fd2, rc, status, failed_at_start = 0, served = 0, alive = 0, retries = 0;
	struct timespec t0, t1;
	pid_t pids[8], supervisor;
	bool reached = true;

	cr_assert_not_null(bin, "TCPD_FAULTY_BIN must name tcpd-faulty");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (n = 1; reached && n <= WALK_MAX; n++) {
		snprintf(num, sizeof(num), "%d", n);
		setenv("TCPD_FAIL_ALLOC", num, 1);
		if (!start(bin, "workers = 2\nshutdown_timeout = 1", NULL, READY_WORKERS,
		    "allocation", n, &status)) {
			log = tcpd_log_text();
			if (port_taken(log) && retries++ < RETRIES_MAX) {
				free(log);
				temp_dir_remove(tcpd.dir);
				n--;
				continue;
			}
			cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1,
			    "allocation %d: start-up ended with status %d\n%s", n, status, log);
			cr_assert(strstr(log, "out of memory") != NULL ||
			    strstr(log, "Cannot allocate memory") != NULL,
			    "allocation %d: no reason given\n%s", n, log);
			failed_at_start++;
		} else {
			fd = connect_at(tcpd.port[P_COMMAND], n);
			fd2 = connect_at(tcpd.port[P_COMMAND], n);
			exchange(fd, "PING\r\n", "+PONG\r\n", n);
			exchange(fd2, "PING\r\n", "+PONG\r\n", n);
			close(fd2);
			kill(tcpd.pid, SIGHUP);
			cr_assert(await_reload_outcome(), "allocation %d: a reload never ended\n%s",
			    n, log = tcpd_log_text());
			exchange(fd, "PING\r\n", "+PONG\r\n", n);
			close(fd);
			snprintf(conf, sizeof(conf), "%s", tcpd.conf);
			supervisor = tcpd.pid;
			rc = tcpd_stop();
			log = tcpd_log_text();
			assert_startup_whole(log, supervisor, n);
			cr_assert(rc == 0 || rc == 1, "allocation %d: exit status %d\n%s", n, rc,
			    log);
			/* A supervisor that gave up left its workers their drain (1 s). */
			for (i = 0; i < 300 && (alive = tree_alive(conf, pids, 8)) > 0; i++)
				usleep(10000);
			cr_assert_eq(alive, 0, "allocation %d: pid %d outlived its supervisor\n%s",
			    n, (int)pids[0], log);
			served++;
		}
		cr_assert_null(strstr(log, "Sanitizer"), "allocation %d:\n%s", n, log);
		cr_assert_null(strstr(log, "runtime error:"), "allocation %d:\n%s", n, log);
		assert_workers_ended_cleanly(log, n);
		/* A run in which no allocation failed: every N has been walked. */
		reached = strstr(log, "alloc-fail: allocation ") != NULL;
		free(log);
		temp_dir_remove(tcpd.dir);
	}
	unsetenv("TCPD_FAIL_ALLOC");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_not(reached, "the walk did not end");
	cr_assert_gt(served, 10, "too few runs reached serving");
	cr_log_info("workers: walked %d allocations in %.1f s: %d ended start-up, %d served",
	    n - 2, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	    failed_at_start, served);
}
