/* SPDX-License-Identifier: MIT */
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/activation.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/notify.h"
#include "daemon/server.h"
#include "daemon/stats.h"
#include "daemon/supervisor.h"
#include "tcpd/log.h"
#include "tcpd/loop.h"

/* A worker that dies sooner than this after its start counts toward the backoff. */
#define QUICK_DEATH_MS		10000
#define RESTART_FIRST_MS	100
#define RESTART_MAX_MS		10000
#define STATUS_EVERY_MS		5000

struct supervisor;

struct worker {
	struct supervisor	*sup;
	unsigned		 index;
	pid_t			 pid;		/* 0: not running */
	bool			 ready;		/* said READY=1 since it started */
	uint64_t		 started;	/* loop_now() */
	unsigned		 quick_deaths;	/* in a row: the backoff */
	struct loop_timer	 restart;
};

struct supervisor {
	const char		*path;
	struct config		 cfg;		/* the latest good one: restarts take it */
	struct activation	 act;		/* the sockets every worker serves */
	struct loop		*loop;
	int			 sigfd;
	int			 notifyfd;	/* the workers' $NOTIFY_SOCKET */
	char			 notify_name[64];
	struct worker		*workers;
	unsigned		 n;
	bool			 stopping;
	bool			 announced;	/* READY=1 sent to systemd */
	struct loop_timer	 status_timer;
	struct loop_timer	 watchdog_timer;
	uint64_t		 watchdog_ms;
};

unsigned
supervisor_workers(unsigned setting)
{
	cpu_set_t set;
	int n;

	if (setting != 0)
		return setting;
	if (sched_getaffinity(0, sizeof(set), &set) == -1 || (n = CPU_COUNT(&set)) < 1)
		return 1;
	return n > SUPERVISOR_MAX_WORKERS ? SUPERVISOR_MAX_WORKERS : (unsigned)n;
}

static unsigned
running(const struct supervisor *sup)
{
	unsigned i, n = 0;

	for (i = 0; i < sup->n; i++)
		n += sup->workers[i].pid != 0;
	return n;
}

static void
signal_workers(struct supervisor *sup, int sig)
{
	unsigned i;

	for (i = 0; i < sup->n; i++)
		if (sup->workers[i].pid != 0 && kill(sup->workers[i].pid, sig) == -1)
			log_warning("worker %u (pid %d): kill: %m", i, (int)sup->workers[i].pid);
}

/* In the new process: become worker w, serving the supervisor's sockets. */
static void __attribute__((noreturn))
become_worker(struct supervisor *sup, unsigned index, pid_t supervisor)
{
	int rc;

	/* A supervisor killed outright takes its workers with it (even before this line). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != supervisor)
		_exit(1);
	close(sup->sigfd);
	close(sup->notifyfd);
	loop_free(sup->loop);
	free(sup->workers);
	notify_reset();
	/* Its READY and STATUS go to the supervisor; the watchdog is the supervisor's. */
	if (setenv("NOTIFY_SOCKET", sup->notify_name, 1) == -1) {
		log_error("worker %u: setenv: %m", index);
		_exit(1);
	}
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	rc = daemon_run(sup->path, &sup->cfg, &sup->act, (int)index);
	exit(rc);
}

static void
start_worker(struct worker *w)
{
	struct supervisor *sup = w->sup;
	pid_t self = getpid(), pid;

	if ((pid = fork()) == -1) {
		log_error("worker %u: fork: %m; trying again in %d ms", w->index, RESTART_MAX_MS);
		loop_timer_start(sup->loop, &w->restart, RESTART_MAX_MS);
		return;
	}
	if (pid == 0)
		become_worker(sup, w->index, self);
	w->pid = pid;
	w->ready = false;
	w->started = loop_now(sup->loop);
	stats_board[w->index] = (struct stats_worker_slot){ .pid = pid };
	log_info("worker %u started (pid %d)", w->index, (int)pid);
}

static void
on_restart(struct loop *loop, struct loop_timer *timer, void *arg)
{
	struct worker *w = arg;

	(void)loop;
	(void)timer;
	if (!w->sup->stopping && w->pid == 0)
		start_worker(w);
}

static void
describe_status(int status, char *dst, size_t size)
{
	if (WIFEXITED(status))
		snprintf(dst, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(dst, size, "was killed by signal %d (%s)", WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(dst, size, "ended with wait status %d", status);
}

/* SIGCHLD: each worker that ended is restarted, sooner or later, unless stopping. */
static void
reap_workers(struct supervisor *sup)
{
	uint64_t now = loop_now(sup->loop), delay;
	char how[96];
	struct worker *w;
	int status;
	pid_t pid;
	unsigned i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0, w = NULL; i < sup->n && w == NULL; i++)
			if (sup->workers[i].pid == pid)
				w = &sup->workers[i];
		if (w == NULL)
			continue;
		w->pid = 0;
		w->ready = false;
		stats_board[w->index] = (struct stats_worker_slot){ 0 };
		describe_status(status, how, sizeof(how));
		if (sup->stopping) {
			log_info("worker %u (pid %d) %s", w->index, (int)pid, how);
			continue;
		}
		/* The first death waits the least; each quick one after it, twice as long. */
		delay = RESTART_FIRST_MS << (w->quick_deaths < 7 ? w->quick_deaths : 7);
		w->quick_deaths = now - w->started < QUICK_DEATH_MS ? w->quick_deaths + 1 : 0;
		if (delay > RESTART_MAX_MS)
			delay = RESTART_MAX_MS;
		log_warning("worker %u (pid %d) %s; restarting it in %llu ms", w->index, (int)pid,
		    how, (unsigned long long)delay);
		loop_timer_start(sup->loop, &w->restart, delay);
	}
	if (sup->stopping && running(sup) == 0) {
		log_notice("every worker has finished; exiting");
		loop_stop(sup->loop);
	}
}

/* Whether two configurations bind the same sockets for the same listeners. */
static bool
same_sockets(const struct config *a, const struct config *b)
{
	size_t i, j;

	if (a->nlisteners != b->nlisteners)
		return false;
	for (i = 0; i < a->nlisteners; i++) {
		const struct listener_config *x = &a->listeners[i], *y = &b->listeners[i];

		if (strcmp(x->name, y->name) != 0 || x->nbinds != y->nbinds)
			return false;
		for (j = 0; j < x->nbinds; j++)
			if (!net_addr_equal(&x->binds[j], &y->binds[j]))
				return false;
	}
	return true;
}

/* SIGHUP: a configuration that loads and keeps the sockets goes to every worker. */
static void
reload(struct supervisor *sup)
{
	struct config next;

	log_notice("SIGHUP received: checking %s for the workers", sup->path);
	if (daemon_load_config(sup->path, &next, true) == -1) {
		log_error("reload failed: keeping the running configuration");
		return;
	}
	if (!same_sockets(&sup->cfg, &next)) {
		log_error("reload failed: with workers, the listeners and their binds stay as "
		    "they started until a restart; keeping the running configuration");
		config_free(&next);
		return;
	}
	if (supervisor_workers(next.workers) != sup->n)
		log_warning("workers stays %u until a restart", sup->n);
	config_free(&sup->cfg);
	sup->cfg = next;
	signal_workers(sup, SIGHUP);
}

static void
close_sockets(struct supervisor *sup)
{
	size_t i;

	for (i = 0; i < sup->act.n; i++)
		close(sup->act.fds[i]);
	sup->act.n = 0;
}

static void
stop(struct supervisor *sup, const char *signame)
{
	unsigned i;

	if (sup->stopping) {
		log_notice("%s received again: the workers exit now", signame);
		signal_workers(sup, SIGTERM);
		return;
	}
	sup->stopping = true;
	log_notice("%s received: stopping %u workers", signame, running(sup));
	/*
	 * No worker will be started again: the sockets live on only in the
	 * workers, which close them as they drain, and new clients are then
	 * refused at once instead of queued where nobody will accept.
	 */
	close_sockets(sup);
	(void)notify_send("STOPPING=1");
	for (i = 0; i < sup->n; i++)
		loop_timer_stop(sup->loop, &sup->workers[i].restart);
	signal_workers(sup, SIGTERM);
	if (running(sup) == 0)
		loop_stop(sup->loop);
}

static void
on_signal(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct supervisor *sup = arg;
	struct signalfd_siginfo si;

	(void)loop;
	(void)events;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap_workers(sup);
			break;
		case SIGHUP:
			if (!sup->stopping)
				reload(sup);
			break;
		default:
			stop(sup, strsignal((int)si.ssi_signo));
			break;
		}
	}
}

/* systemctl status: the workers' connections, summed and each (skew shows). */
static void
send_status(struct supervisor *sup)
{
	unsigned long long conns = 0, commands = 0, c;
	char state[256], per[160];
	size_t i, n = 0;

	per[0] = '\0';
	for (i = 0; i < sup->n; i++) {
		c = __atomic_load_n(&stats_board[i].connected, __ATOMIC_RELAXED);
		conns += c;
		commands += __atomic_load_n(&stats_board[i].commands, __ATOMIC_RELAXED);
		if (n < sizeof(per))
			n += (size_t)snprintf(per + n, sizeof(per) - n, "%s%llu", i > 0 ? "/" : "",
			    c);
	}
	snprintf(state, sizeof(state), "STATUS=%u of %u workers serving: %llu connections "
	    "(%s), %llu commands", running(sup), sup->n, conns, per, commands);
	(void)notify_send(state);
}

/* One worker's sd_notify datagram: who sent it, from the kernel's credentials. */
static void
take_notification(struct supervisor *sup)
{
	char text[1024], control[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { text, sizeof(text) - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
	    .msg_controllen = sizeof(control) };
	struct cmsghdr *cm;
	struct ucred cred;
	struct worker *w;
	const char *line;
	unsigned i, ready = 0;
	ssize_t n;

	/* The kernel shortens msg_controllen to what it filled: reset it each time. */
	while ((msg.msg_controllen = sizeof(control),
	    n = recvmsg(sup->notifyfd, &msg, MSG_DONTWAIT)) >= 0) {
		text[n] = '\0';
		cm = CMSG_FIRSTHDR(&msg);
		if (cm == NULL || cm->cmsg_type != SCM_CREDENTIALS)
			continue;
		memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
		for (i = 0, w = NULL; i < sup->n && w == NULL; i++)
			if (sup->workers[i].pid == cred.pid)
				w = &sup->workers[i];
		if (w == NULL)
			continue;
		/* Only READY matters: the counters are on the board. */
		for (line = text; line != NULL && *line != '\0'; line = strchr(line, '\n'),
		    line = line != NULL ? line + 1 : NULL)
			if (strncmp(line, "READY=1", 7) == 0)
				w->ready = true;
	}
	for (i = 0; i < sup->n; i++)
		ready += sup->workers[i].ready;
	if (!sup->announced && ready == sup->n) {
		sup->announced = true;
		log_notice("all %u workers serving", sup->n);
		(void)notify_send("READY=1");
		send_status(sup);
	}
}

static void
on_notify(struct loop *loop, int fd, void *arg, unsigned events)
{
	(void)loop;
	(void)fd;
	(void)events;
	take_notification(arg);
}

static void
on_status_timer(struct loop *loop, struct loop_timer *timer, void *arg)
{
	send_status(arg);
	loop_timer_start(loop, timer, STATUS_EVERY_MS);
}

static void
on_watchdog_timer(struct loop *loop, struct loop_timer *timer, void *arg)
{
	struct supervisor *sup = arg;

	(void)notify_send("WATCHDOG=1");
	loop_timer_start(loop, timer, sup->watchdog_ms);
}

/* The abstract socket the workers' sd_notify reaches, with their pids attached. */
static int
open_notify_socket(struct supervisor *sup)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int on = 1;
	size_t len;

	snprintf(sup->notify_name, sizeof(sup->notify_name), "@tcpd-%d-workers", (int)getpid());
	len = strlen(sup->notify_name);
	memcpy(sun.sun_path + 1, sup->notify_name + 1, len - 1);
	if ((sup->notifyfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (setsockopt(sup->notifyfd, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == -1 ||
	    bind(sup->notifyfd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1)
		return -1;
	return loop_add_fd(sup->loop, sup->notifyfd, LOOP_READABLE, on_notify, sup);
}

static int
setup_signals(struct supervisor *sup)
{
	sigset_t set;

	/*
	 * Blocked before any fork, so that a worker kicked by another before
	 * its signalfd exists keeps the signal pending instead of dying of it.
	 */
	sigemptyset(&set);
	sigaddset(&set, SERVER_REWATCH_SIGNAL);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1 ||
	    (sup->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -1;
	return loop_add_fd(sup->loop, sup->sigfd, LOOP_READABLE, on_signal, sup);
}

/* Binds (or takes from systemd) every listener's sockets once, for all workers. */
static int
open_sockets(struct supervisor *sup, const struct activation *passed)
{
	struct server *srv;
	char err[256];
	int rc;

	if ((srv = server_new(sup->loop, &sup->cfg, passed, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		return -1;
	}
	if ((rc = server_export(srv, &sup->act)) == -1)
		log_error("cannot hand the listening sockets to the workers: %m");
	server_free(srv);
	return rc;
}

int
supervisor_run(const char *path, struct config *cfg, const struct activation *act,
    unsigned n)
{
	struct supervisor sup = { .path = path, .cfg = *cfg, .sigfd = -1, .notifyfd = -1,
	    .n = n };
	int rc = 1;
	unsigned i;

	*cfg = (struct config){ 0 };
	log_set_level(sup.cfg.log_level);
	log_set_target(sup.cfg.log_target);
	if ((sup.loop = loop_new()) == NULL ||
	    (sup.workers = calloc(n, sizeof(*sup.workers))) == NULL) {
		log_error("out of memory");
		goto out;
	}
	/* Shared with every worker: forked after this, they all see the same pages. */
	stats_board = mmap(NULL, n * sizeof(*stats_board), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats_board == MAP_FAILED) {
		stats_board = NULL;
		log_error("cannot map the workers' board: %m");
		goto out;
	}
	stats_board_size = n;
	if (setup_signals(&sup) == -1 || open_notify_socket(&sup) == -1) {
		log_error("cannot set up the supervisor: %m");
		goto out;
	}
	if (open_sockets(&sup, act) == -1)
		goto out;
	for (i = 0; i < n; i++) {
		sup.workers[i] = (struct worker){ .sup = &sup, .index = i };
		loop_timer_init(&sup.workers[i].restart, on_restart, &sup.workers[i]);
	}
	log_notice("starting %u workers", n);
	for (i = 0; i < n; i++)
		start_worker(&sup.workers[i]);
	loop_timer_init(&sup.status_timer, on_status_timer, &sup);
	loop_timer_start(sup.loop, &sup.status_timer, STATUS_EVERY_MS);
	if ((sup.watchdog_ms = notify_watchdog_usec() / 2000) > 0) {
		loop_timer_init(&sup.watchdog_timer, on_watchdog_timer, &sup);
		loop_timer_start(sup.loop, &sup.watchdog_timer, sup.watchdog_ms);
	}
	if (loop_run(sup.loop) == -1) {
		log_error("event loop: %m");
		signal_workers(&sup, SIGKILL);
		goto out;
	}
	rc = 0;
out:
	close_sockets(&sup);
	if (sup.sigfd != -1)
		close(sup.sigfd);
	if (sup.notifyfd != -1)
		close(sup.notifyfd);
	free(sup.workers);
	loop_free(sup.loop);
	config_free(&sup.cfg);
	notify_reset();
	if (stats_board != NULL)
		munmap(stats_board, stats_board_size * sizeof(*stats_board));
	stats_board = NULL;
	return rc;
}
