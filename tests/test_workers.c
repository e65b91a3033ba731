/* SPDX-License-Identifier: MIT */
/*
 * workers = N: a supervisor and N reactors sharing every listening socket.
 * Connections spread across the workers, INFO shows each and the sums, a
 * killed worker is restarted while the others serve (no connection
 * refused), a reload reaches every worker, and a bind change is refused.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

static void
setup(void)
{
	tcpd_start("workers = 2");
	/* The supervisor's socket takes connections at once; the workers come up after. */
	cr_assert_eq(tcpd_log_await("all 2 workers serving", 1), 1);
}

TestSuite(workers, .init = setup, .fini = tcpd_teardown, .timeout = 60);

/* The replies to request, then QUIT, on a new command connection. */
static const char *
ask(const char *request)
{
	static char text[1024];
	char both[256];

	snprintf(both, sizeof(both), "%sQUIT\r\n", request);
	return exchange_to_eof(tcpd.port[P_COMMAND], both, text, sizeof(text));
}

/* The worker a WHOAMI reply names. */
static int
worker_in(const char *reply)
{
	const char *w = strstr(reply, " worker=");

	cr_assert_not_null(w, "no worker= in WHOAMI: %s", reply);
	return atoi(w + 8);
}

/* Which worker answered WHOAMI on a new connection. */
static int
whoami_worker(void)
{
	return worker_in(ask("WHOAMI\r\n"));
}

/* Whether fd has something to read within ms. */
static bool
readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Worker k's pid, from the board INFO shows. */
static long
worker_pid(int k)
{
	char key[32];
	const char *at;

	snprintf(key, sizeof(key), "\r\nworker_%d:pid=", k);
	at = strstr(tcpd_info(), key);
	cr_assert_not_null(at, "%s", tcpd_info());
	return strtol(at + strlen(key), NULL, 10);
}

/*
 * The replies to request from worker k: the other is stopped while it is
 * asked, since which worker the kernel wakes for a connection is its choice.
 */
static const char *
ask_worker(int k, const char *request)
{
	pid_t other = (pid_t)worker_pid(!k);
	const char *reply;

	cr_assert_gt(other, 0);
	cr_assert_eq(kill(other, SIGSTOP), 0);
	reply = ask(request);
	cr_assert_eq(kill(other, SIGCONT), 0);
	return reply;
}

Test(workers, connections_spread_and_each_says_which_worker)
{
	int count[2] = { 0, 0 }, i, w;

	for (i = 0; i < 400; i++) {
		w = whoami_worker();
		cr_assert(w == 0 || w == 1, "worker=%d", w);
		count[w]++;
	}
	/*
	 * Both take their share (how even it is depends on the machine's load: the
	 * measured spread is scripts/worker_spread.py's, in BENCHMARKS.md).
	 */
	cr_assert(count[0] >= 40 && count[1] >= 40, "worker 0: %d, worker 1: %d", count[0],
	    count[1]);
}

Test(workers, info_shows_each_worker_and_the_sums)
{
	unsigned long long c[2], t[2], k[2], all[3];
	const char *info;
	char key[16];
	int i;

	cr_assert_gt(worker_pid(0), 0);
	cr_assert_gt(worker_pid(1), 0);
	cr_assert_neq(worker_pid(0), worker_pid(1));
	cr_assert_neq(worker_pid(0), tcpd.pid, "the supervisor serves nothing itself");
	info = strstr(tcpd_info(), "\r\n# Workers\r\nworkers:2\r\nworker_id:");
	cr_assert_not_null(info, "%s", tcpd_info());
	for (i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "\r\nworker_%d:", i);
		cr_assert_not_null(info = strstr(info, key));
		info += 2;
		cr_assert_eq(sscanf(info, "worker_%*d:pid=%*d,connected_clients=%llu,"
		    "total_connections_received=%llu,total_commands_processed=%llu", &c[i], &t[i],
		    &k[i]), 3, "%s", info);
	}
	cr_assert_eq(sscanf(strstr(info, "all_"), "all_connected_clients:%llu\r\n"
	    "all_total_connections_received:%llu\r\nall_total_commands_processed:%llu",
	    &all[0], &all[1], &all[2]), 3, "%s", info);
	cr_assert(all[0] == c[0] + c[1] && all[1] == t[0] + t[1] && all[2] == k[0] + k[1],
	    "%s", info);
	cr_assert_geq(all[2], 4, "the INFO commands so far: %s", info);
}

Test(workers, a_killed_worker_is_restarted_and_nothing_is_refused)
{
	long victim = worker_pid(0), now;
	char needle[128];
	int i, fd;

	cr_assert_eq(kill((pid_t)victim, SIGKILL), 0);
	/* The socket is the supervisor's: every connection meanwhile is answered. */
	for (i = 0; i < 300; i++) {
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		assert_ping(fd);
		close(fd);
	}
	snprintf(needle, sizeof(needle), "worker 0 (pid %ld) was killed by signal 9 (Killed); "
	    "restarting it in 100 ms", victim);
	cr_assert_eq(tcpd_log_await(needle, 1), 1, "%s", tcpd_log_text());
	for (i = 0; i < 200 && ((now = worker_pid(0)) == 0 || now == victim); i++)
		usleep(10000);
	cr_assert(now != 0 && now != victim, "worker 0 not restarted: pid %ld", now);
	cr_assert_eq(tcpd_log_await("worker 0: tcpd 0.1.0 ready", 2), 2, "%s",
	    tcpd_log_text());
}

Test(workers, a_reload_reaches_every_worker_and_binds_stay)
{
	char text[4096];
	int k;
	const char *reply;

	tcpd_config_text(text, sizeof(text), "workers = 2\nmax_connections = 777", NULL);
	cr_assert_eq(tcpd_reload(text), 0);
	cr_assert_eq(tcpd_log_await("configuration reloaded in all 2 workers", 1), 1);
	cr_assert_eq(tcpd_log_count("worker 0: configuration reloaded"), 1);
	cr_assert_eq(tcpd_log_count("worker 1: configuration reloaded"), 1);
	/* Both workers answer with the new limit. */
	for (k = 0; k < 2; k++) {
		reply = ask_worker(k, "CONFIG GET maxclients\r\nWHOAMI\r\n");
		cr_assert_not_null(strstr(reply, "$3\r\n777\r\n"), "%s", reply);
		cr_assert_eq(worker_in(reply), k, "%s", reply);
	}
	/* Another bind would need a socket the workers do not have. */
	cr_assert_eq(tcpd_reload("[tcpd]\nworkers = 2\n[listener.x]\nbind = 127.0.0.1:1\n"
	    "service = echo\n"), -1);
	cr_assert_eq(tcpd_log_count("reload failed: with workers, the listeners and their binds "
	    "stay as they started until a restart; keeping the running configuration"), 1);
	cr_assert_eq(tcpd_log_count("configuration reloaded"), 3);
	ping_ok();
}

Test(workers, sigterm_drains_every_worker)
{
	int fd = tcp_connect(tcpd.port[P_COMMAND]);

	assert_ping(fd);
	cr_assert_eq(tcpd_stop(), 0);
	cr_assert_eq(tcpd_log_count("every worker has finished; exiting"), 1);
	cr_assert_eq(tcpd_log_count(": closing the listeners, finishing open connections"), 2);
	cr_assert_eq(tcpd_log_count("LeakSanitizer"), 0);
	close(fd);
	tcpd_restart_same_ports();	/* for the suite's own stop */
}

/*
 * SIGHUP to every process, as pkill -HUP tcpd sends it, with a file that
 * drops a listener: the supervisor refuses it, and the workers, which take
 * their configuration only from it, keep serving that listener.
 */
Test(workers, a_sighup_to_every_process_changes_nothing_the_supervisor_refused)
{
	long w0 = worker_pid(0), w1 = worker_pid(1);
	char text[4096], in[8], *echo, *next;
	FILE *f;
	int i, fd;

	tcpd_config_text(text, sizeof(text), "workers = 2", NULL);
	cr_assert_not_null(echo = strstr(text, "[listener.echo]"));
	cr_assert_not_null(next = strstr(echo, "[listener.discard]"));
	memmove(echo, next, strlen(next) + 1);
	cr_assert_not_null(f = fopen(tcpd.conf, "w"));
	fputs(text, f);
	fclose(f);
	cr_assert_eq(kill((pid_t)w0, SIGHUP), 0);
	cr_assert_eq(kill((pid_t)w1, SIGHUP), 0);
	cr_assert_eq(kill(tcpd.pid, SIGHUP), 0);
	for (i = 0; i < 300 && (tcpd_log_count("reload failed: with workers, the listeners") < 1 ||
	    tcpd_log_count("SIGHUP ignored: a worker takes its configuration from the "
	    "supervisor") < 2); i++)
		usleep(10000);
	cr_assert_eq(tcpd_log_count("reload failed: with workers, the listeners"), 1);
	cr_assert_eq(tcpd_log_count("SIGHUP ignored: a worker takes its configuration from the "
	    "supervisor"), 2, "%s", tcpd_log_text());
	for (i = 0; i < 20; i++) {
		fd = tcp_connect(tcpd.port[P_ECHO]);
		send_all(fd, "ping\n", 5);
		cr_assert(readable_within(fd, 2000), "echo connection %d left unserved", i);
		recv_exact(fd, in, 5);
		assert_bytes(in, 5, "ping\n", 5);
		close(fd);
	}
	cr_assert_eq(tcpd_log_count("configuration reloaded"), 0);
}

/*
 * A stop refuses new clients at once, as one process does: the supervisor
 * keeps no copy of the sockets the draining workers have closed.
 */
Test(workers, a_stop_refuses_new_clients_at_once)
{
	int held = tcp_connect(tcpd.port[P_COMMAND]), fd;

	/* Half a request: the drain waits for the rest, so the workers live on. */
	send_all(held, "PIN", 3);
	usleep(100000);
	cr_assert_eq(kill(tcpd.pid, SIGTERM), 0);
	tcpd_log_await(": closing the listeners, finishing open "
	    "connections", 2);
	cr_assert_eq(tcpd_log_count(": closing the listeners, finishing open connections"), 2);
	fd = tcp_try_connect(tcpd.port[P_COMMAND]);
	cr_assert_eq(fd, -1, "a new client was accepted into a dead backlog");
	cr_assert_eq(errno, ECONNREFUSED, "%s", strerror(errno));
	cr_assert_eq(tcpd_log_count("every worker has finished; exiting"), 0, "the drain "
	    "ended before the check");
	close(held);
	cr_assert_eq(tcpd_stop(), 0);
	tcpd_restart_same_ports();	/* for the suite's own stop */
}

/*
 * A worker killed with SIGKILL under a storm of new connections: the socket
 * stays with the supervisor, so only what that worker had in hand is lost,
 * at most one connection per client (4); the queue is served by the other.
 */
Test(workers, a_worker_killed_under_load_loses_only_its_own)
{
	char log[128], port[8];
	const char *argv[] = { getenv("TCPD_CLI_BIN"), "bench", "-p", port, "--workload",
	    "connect", "--reset", "-c", "4", "-d", "2", NULL }, *text, *at;
	unsigned long long done = 0, errors = 99;
	pid_t bench;
	int st;

	cr_assert_not_null(argv[0], "TCPD_CLI_BIN must name tcpd-cli");
	snprintf(port, sizeof(port), "%u", tcpd.port[P_COMMAND]);
	snprintf(log, sizeof(log), "%s/bench.out", tcpd.dir);
	bench = spawn_logged(argv, log);
	usleep(700000);
	cr_assert_eq(kill((pid_t)worker_pid(1), SIGKILL), 0);
	cr_assert_eq(waitpid(bench, &st, 0), bench);
	text = slurp(log);
	at = strstr(text, "connect: 4 connections, pipeline 1: ");
	cr_assert_not_null(at, "%s", text);
	cr_assert_eq(sscanf(at, "connect: 4 connections, pipeline 1: %llu requests", &done), 1);
	cr_assert_not_null(at = strstr(text, "errors: "), "%s", text);
	cr_assert_eq(sscanf(at, "errors: %llu", &errors), 1);
	cr_log_info("%llu connections, %llu lost with the killed worker", done, errors);
	cr_assert_geq(done, 2000, "under 1,000 connections a second: %s", text);
	cr_assert_leq(errors, 4, "%s", text);
}

/* The lowest descriptor number pid has free: its next accept takes it. */
static int
lowest_free_fd(long pid)
{
	char path[64], used[1024] = { 0 };
	struct dirent *e;
	DIR *d;
	long n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	cr_assert_not_null(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		if ((n = strtol(e->d_name, NULL, 10)) >= 0 && n < (long)sizeof(used) &&
		    e->d_name[0] != '.')
			used[n] = 1;
	closedir(d);
	for (fd = 0; fd < (int)sizeof(used) && used[fd]; fd++)
		continue;
	return fd;
}

/*
 * Worker 0 out of descriptors: it backs off without closing the queue it
 * shares, and the connection that woke it goes to worker 1 at once.
 */
Test(workers, out_of_descriptors_a_worker_leaves_the_queue_to_the_other)
{
	long w0 = worker_pid(0);
	struct rlimit old, none;
	char in[8];
	int i, fd;

	cr_assert_eq(prlimit((pid_t)w0, RLIMIT_NOFILE, NULL, &old), 0);
	/* Once worker 0 has closed the INFO connection, if it was its. */
	usleep(100000);
	none = (struct rlimit){ (rlim_t)lowest_free_fd(w0), old.rlim_max };
	cr_assert_eq(prlimit((pid_t)w0, RLIMIT_NOFILE, &none, NULL), 0, "%s", strerror(errno));
	/* Over 1.5 s: worker 0 is woken again after each 1 s pause. */
	for (i = 0; i < 60; i++) {
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fd, "PING\r\n", 6);
		cr_assert(readable_within(fd, 2000), "client %d left in the queue: %s", i,
		    tcpd_log_text());
		recv_exact(fd, in, 7);
		assert_bytes(in, 7, "+PONG\r\n", 7);
		close(fd);
		usleep(25000);
	}
	cr_assert_eq(prlimit((pid_t)w0, RLIMIT_NOFILE, &old, NULL), 0);
	cr_assert_geq(tcpd_log_count("worker 0: listener command "), 1,
	    "worker 0 was never woken: %s", tcpd_log_text());
	cr_assert_geq(tcpd_log_count(": accept: Too many open files; not accepting for "
	    "1000 ms"), 1);
	cr_assert_eq(tcpd_log_count("out of file descriptors"), 0);
}

/* workers = 2 with max_connections = 10: room for 20 in all. */
static void
setup_small(void)
{
	tcpd_start("workers = 2\nmax_connections = 10");
	cr_assert_eq(tcpd_log_await("all 2 workers serving", 1), 1);
}

TestSuite(workers_full, .init = setup_small, .fini = tcpd_teardown, .timeout = 60);

/* WHOAMI on fd, kept open: the worker that answered, or -1 (reply in *reply). */
static int
held_worker(int fd, const char **reply)
{
	static char in[512];
	size_t n = 0;
	ssize_t r;
	const char *w;

	send_all(fd, "WHOAMI\r\n", 8);
	while (n < sizeof(in) - 1 && (r = recv(fd, in + n, sizeof(in) - 1 - n, 0)) > 0) {
		n += (size_t)r;
		in[n] = '\0';
		/* "$LEN\r\nTEXT\r\n", or one error line. */
		if ((in[0] == '$' && strstr(strstr(in, "\r\n") + 2, "\r\n") != NULL) ||
		    (in[0] == '-' && strstr(in, "\r\n") != NULL))
			break;
	}
	in[n] = '\0';
	*reply = in;
	return (w = strstr(in, " worker=")) != NULL ? atoi(w + 8) : -1;
}

Test(workers_full, a_full_worker_leaves_the_queue_to_the_other)
{
	int held[2][10], n[2] = { 0, 0 }, i, fd, w, waiting;
	const char *reply;
	char in[8];

	/* Fill worker 0: keep what it serves, close what worker 1 does. */
	for (i = 0; i < 400 && n[0] < 10; i++) {
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		w = held_worker(fd, &reply);
		cr_assert(w == 0 || w == 1, "connection %d: %s", i, reply);
		if (w == 0)
			held[0][n[0]++] = fd;
		else
			close(fd);
	}
	cr_assert_eq(n[0], 10);
	/* Worker 0 is full: the next ten are worker 1's, none refused. */
	for (i = 0; i < 10; i++) {
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		cr_assert_eq(held_worker(fd, &reply), 1, "connection %d: %s", i, reply);
		held[1][n[1]++] = fd;
	}
	/* Both full: the next client waits in the backlog, neither refused nor served... */
	waiting = tcp_connect(tcpd.port[P_COMMAND]);
	send_all(waiting, "PING\r\n", 6);
	cr_assert_not(readable_within(waiting, 300), "a full tcpd answered");
	/* ...until a connection closes and its worker takes the queue again. */
	close(held[0][0]);
	recv_exact(waiting, in, 7);
	assert_bytes(in, 7, "+PONG\r\n", 7);
	cr_assert_eq(tcpd_log_count("max_connections reached"), 0, "%s", tcpd_log_text());
	close(waiting);
	for (i = 1; i < 10; i++)
		close(held[0][i]);
	for (i = 0; i < 10; i++)
		close(held[1][i]);
}

/* The case: 20 clients at once, room for 20 across the workers, a few times. */
Test(workers_full, twenty_at_once_are_all_served)
{
	int fd[20], round, i, wait;
	char in[8];

	for (round = 0; round < 10; round++) {
		for (i = 0; i < 20; i++) {
			fd[i] = tcp_connect(tcpd.port[P_COMMAND]);
			send_all(fd[i], "PING\r\n", 6);
		}
		for (i = 0; i < 20; i++) {
			cr_assert(readable_within(fd[i], 3000), "round %d: connection %d "
			    "never answered", round, i);
			recv_exact(fd[i], in, 7);
			assert_bytes(in, 7, "+PONG\r\n", 7);
		}
		for (i = 0; i < 20; i++)
			close(fd[i]);
		/* Until both workers have seen them go. */
		for (wait = 0; wait < 200 && strstr(tcpd_info(), "all_connected_clients:1\r\n") ==
		    NULL; wait++)
			usleep(5000);
	}
}

/* Whether sig waits, sent to the process pid, per /proc/PID/status (ShdPnd). */
static bool
signal_pending(long pid, int sig)
{
	char path[64];
	const char *at;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	at = strstr(slurp(path), "\nShdPnd:");
	cr_assert_not_null(at);
	return (strtoull(at + strlen("\nShdPnd:"), NULL, 16) >> (sig - 1) & 1) != 0;
}

/*
 * The kick: worker 0 takes the connection that fills it while two more are
 * queued, and leaves the line; no arrival will wake worker 1 for those two,
 * so worker 0 sends it SIGUSR1 (SERVER_REWATCH_SIGNAL) to look again.
 * Worker 1 is stopped meanwhile, so the signal waits where the test can
 * see it, and nobody but worker 0 takes anything until then.
 */
Test(workers_full, a_worker_that_fills_with_clients_queued_kicks_the_others)
{
	long w0 = worker_pid(0), w1 = worker_pid(1);
	int held[9], queued[3], i, w;
	const char *reply;
	bool kicked = false;
	char in[7];

	/* Once the worker that answered INFO has closed it. */
	usleep(100000);
	cr_assert_eq(kill((pid_t)w1, SIGSTOP), 0);
	for (i = 0; i < 9; i++) {
		held[i] = tcp_connect(tcpd.port[P_COMMAND]);
		w = held_worker(held[i], &reply);
		cr_assert_eq(w, 0, "connection %d: %s", i, reply);
	}
	/* Three arrive while neither runs: worker 0 then finds them all queued. */
	cr_assert_eq(kill((pid_t)w0, SIGSTOP), 0);
	for (i = 0; i < 3; i++) {
		queued[i] = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(queued[i], "PING\r\n", 6);
	}
	cr_assert_eq(kill((pid_t)w0, SIGCONT), 0);
	for (i = 0; i < 200 && !(kicked = signal_pending(w1, SIGUSR1)); i++)
		usleep(10000);
	kill((pid_t)w1, SIGCONT);
	cr_assert(kicked, "worker 0 filled up with clients queued and did not kick worker 1: %s",
	    tcpd_log_text());
	/* Worker 0 answers the first; worker 1, woken, the other two. */
	for (i = 0; i < 3; i++) {
		cr_assert(readable_within(queued[i], 3000), "queued client %d never answered", i);
		recv_exact(queued[i], in, 7);
		assert_bytes(in, 7, "+PONG\r\n", 7);
		close(queued[i]);
	}
	cr_assert_eq(tcpd_log_count("max_connections reached"), 0, "%s", tcpd_log_text());
	for (i = 0; i < 9; i++)
		close(held[i]);
}

/* A datagram socket standing in for systemd's, as $NOTIFY_SOCKET for what starts next. */
static int
notify_listen(char *path, size_t size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(path, size, "/tmp/tcpd-notify-workers-%d", (int)getpid());
	unlink(path);
	memcpy(sun.sun_path, path, strlen(path));
	cr_assert_geq(fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0, "%s", strerror(errno));
	setenv("NOTIFY_SOCKET", path, 1);
	unsetenv("WATCHDOG_USEC");
	return fd;
}

/*
 * The next notification that starts with prefix (others skipped), within 5 s
 * in all: the watchdog's pings every 100 ms must not keep a wait for a note
 * that never comes going until the suite's timeout.
 */
static const char *
await_note(int fd, const char *prefix)
{
	static char note[512];
	long long end = now_ms() + 5000, left;
	ssize_t n;

	while ((left = end - now_ms()) > 0 && readable_within(fd, (int)left)) {
		cr_assert_gt(n = recv(fd, note, sizeof(note) - 1, 0), 0);
		note[n] = '\0';
		if (strncmp(note, prefix, strlen(prefix)) == 0)
			return note;
	}
	cr_assert_fail("no notification starting '%s'", prefix);
	return NULL;
}

TestSuite(workers_systemd, .fini = tcpd_teardown, .timeout = 60);

/*
 * The supervisor feeds systemd's watchdog, and tells it of each reload
 * (RELOADING=1, then READY=1) once every worker has answered; a worker that
 * could not apply it (here: stopping, told so by someone else) is reported
 * and started again on it.
 */
Test(workers_systemd, a_reload_is_reported_once_every_worker_has_answered)
{
	char path[64], text[4096];
	const char *reply;
	int nfd, held = -1, i, fd, k;
	FILE *f;

	nfd = notify_listen(path, sizeof(path));
	setenv("WATCHDOG_USEC", "200000", 1);	/* the supervisor's: pings every 100 ms */
	tcpd_start("workers = 2");
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	await_note(nfd, "READY=1");
	await_note(nfd, "WATCHDOG=1");
	tcpd_config_text(text, sizeof(text), "workers = 2\nmax_line = 1000", NULL);
	cr_assert_eq(tcpd_reload(text), 0);
	await_note(nfd, "RELOADING=1\nMONOTONIC_USEC=");
	cr_assert_str_eq(await_note(nfd, "READY=1"), "READY=1");
	cr_assert_eq(tcpd_log_count("configuration reloaded in all 2 workers"), 1);

	/* Worker 0 draining, kept at it by half a request. */
	for (i = 0; i < 400 && held == -1; i++) {
		fd = tcp_connect(tcpd.port[P_COMMAND]);
		if (held_worker(fd, &reply) == 0)
			held = fd;
		else
			close(fd);
	}
	cr_assert_neq(held, -1);
	send_all(held, "PIN", 3);
	cr_assert_eq(kill((pid_t)worker_pid(0), SIGTERM), 0);
	tcpd_log_await("worker 0: closing the listeners", 1);
	tcpd_config_text(text, sizeof(text), "workers = 2\nmax_connections = 777", NULL);
	cr_assert_not_null(f = fopen(tcpd.conf, "w"));
	fputs(text, f);
	fclose(f);
	cr_assert_eq(kill(tcpd.pid, SIGHUP), 0);
	await_note(nfd, "RELOADING=1\nMONOTONIC_USEC=");
	cr_assert_str_eq(await_note(nfd, "READY=1"), "READY=1\nSTATUS=reload failed in 1 of 2 "
	    "workers (see the log); restarting them on the new configuration");
	cr_assert_eq(tcpd_log_count("reload failed in worker 0: shutting down; restarting it on "
	    "the new configuration"), 1, "%s", tcpd_log_text());
	cr_assert_eq(tcpd_log_await("worker 0: tcpd 0.1.0 ready", 2), 2, "not restarted: %s",
	    tcpd_log_text());
	/* Restarted, it runs what the other applied. */
	for (k = 0; k < 2; k++) {
		reply = ask_worker(k, "CONFIG GET maxclients\r\nWHOAMI\r\n");
		cr_assert_not_null(strstr(reply, "$3\r\n777\r\n"), "%s", reply);
		cr_assert_eq(worker_in(reply), k, "%s", reply);
	}
	close(held);
	close(nfd);
	unlink(path);
}
