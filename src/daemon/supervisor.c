/* SPDX-License-Identifier: MIT */
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/activation.h"
#include "daemon/channel.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/notify.h"
#include "daemon/server.h"
#include "daemon/sockets.h"
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
	int			 chan;		/* our end of its channel, or -1 */
	bool			 ready;		/* said READY=1 since it started */
	unsigned		 reloads;	/* configurations sent, not yet answered */
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
	struct worker		*workers;
	unsigned		 n;
	unsigned		 reload_waiting;	/* answers due from the workers */
	unsigned		 reload_failed;		/* workers that could not apply it */
	bool			 stopping;
	bool			 announced;	/* READY=1 sent to systemd */
	struct loop_timer	 status_timer;
	struct loop_timer	 watchdog_timer;
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
	return n > CONFIG_MAX_WORKERS ? CONFIG_MAX_WORKERS : (unsigned)n;
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

static void on_channel(struct loop *loop, int fd, void *arg, unsigned events);
static void reload_answered(struct supervisor *sup, struct worker *w, unsigned n,
    const char *why);
static void send_status(struct supervisor *sup);

/* In the new process: become worker index, serving the supervisor's sockets. */
static void __attribute__((noreturn))
become_worker(struct supervisor *sup, unsigned index, pid_t supervisor, int chan)
{
	unsigned i;
	int rc;

	/* A supervisor killed outright takes its workers with it (even before this line). */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != supervisor)
		_exit(1);
	close(sup->sigfd);
	for (i = 0; i < sup->n; i++)
		if (sup->workers[i].chan != -1)
			close(sup->workers[i].chan);
	loop_free(sup->loop);
	free(sup->workers);
	notify_reset();
	/* Its notifications go to the supervisor; the watchdog is the supervisor's. */
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	rc = daemon_run_worker(sup->path, &sup->cfg, &sup->act, index, chan);
	exit(rc);
}

static void
start_worker(struct worker *w)
{
	struct supervisor *sup = w->sup;
	pid_t self = getpid(), pid;
	int chan[2];

	if (channel_pair(chan) == -1) {
		log_error("worker %u: socketpair: %m; trying again in %d ms", w->index,
		    RESTART_MAX_MS);
		loop_timer_start(sup->loop, &w->restart, RESTART_MAX_MS);
		return;
	}
	if ((pid = fork()) == -1) {
		log_error("worker %u: fork: %m; trying again in %d ms", w->index, RESTART_MAX_MS);
		close(chan[0]);
		close(chan[1]);
		loop_timer_start(sup->loop, &w->restart, RESTART_MAX_MS);
		return;
	}
	if (pid == 0) {
		close(chan[0]);
		become_worker(sup, w->index, self, chan[1]);
	}
	close(chan[1]);
	w->chan = chan[0];
	if (loop_add_fd(sup->loop, w->chan, LOOP_READABLE, on_channel, w) == -1)
		log_error("worker %u: cannot watch its channel: %m", w->index);
	w->pid = pid;
	w->ready = false;
	w->started = loop_now(sup->loop);
	stats_worker_started(w->index, pid);
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
		loop_del_fd(sup->loop, w->chan);
		close(w->chan);
		w->chan = -1;
		/* It starts again on the configuration it was sent, if it is not stopping. */
		if (w->reloads > 0)
			reload_answered(sup, w, w->reloads, NULL);
		stats_worker_ended(w->index);
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

/* Every worker has answered the configuration sent: systemd hears how it went. */
static void
reload_done(struct supervisor *sup)
{
	char state[256];

	if (sup->stopping)
		return;
	if (sup->reload_failed > 0) {
		snprintf(state, sizeof(state), "READY=1\nSTATUS=reload failed in %u of %u "
		    "workers (see the log); restarting them on the new configuration",
		    sup->reload_failed, sup->n);
		(void)notify_send(state);
	} else {
		log_notice("configuration reloaded in all %u workers", sup->n);
		(void)notify_send("READY=1");
		send_status(sup);
	}
	sup->reload_failed = 0;
}

/*
 * n of the configurations sent to w are settled: applied (why NULL), or not,
 * and then w is stopped to be started again on it, so that every worker runs
 * the configuration a restarted one would.
 */
static void
reload_answered(struct supervisor *sup, struct worker *w, unsigned n, const char *why)
{
	if (n > w->reloads)
		return;
	w->reloads -= n;
	if (why != NULL) {
		sup->reload_failed++;
		log_error("reload failed in worker %u: %s; restarting it on the new "
		    "configuration", w->index, why);
		if (w->pid != 0 && kill(w->pid, SIGTERM) == -1)
			log_warning("worker %u (pid %d): kill: %m", w->index, (int)w->pid);
	}
	sup->reload_waiting -= n;
	if (sup->reload_waiting == 0)
		reload_done(sup);
}

/*
 * SIGHUP, from systemctl reload or anyone: the supervisor alone reads the
 * file, and a configuration that loads and keeps the sockets goes to every
 * worker as parsed (workers never read it, so a file changed meanwhile
 * cannot split them); a restarted worker starts on the same.
 */
static void
reload(struct supervisor *sup)
{
	struct config next;
	struct worker *w;
	char state[256];
	unsigned i;

	(void)notify_reloading();
	log_notice("SIGHUP received: reloading %s for the workers", sup->path);
	if (daemon_load_config(sup->path, &next, true) == -1) {
		log_error("reload failed: keeping the running configuration");
		snprintf(state, sizeof(state), "READY=1\nSTATUS=reload failed (errors in %s, "
		    "see the log); running the previous configuration", sup->path);
		(void)notify_send(state);
		return;
	}
	if (!same_sockets(&sup->cfg, &next)) {
		log_error("reload failed: with workers, the listeners and their binds stay as "
		    "they started until a restart; keeping the running configuration");
		(void)notify_send("READY=1\nSTATUS=reload failed (listeners or binds changed: "
		    "with workers, a restart is needed); running the previous configuration");
		config_free(&next);
		return;
	}
	if (supervisor_workers(next.workers) != sup->n)
		log_warning("workers stays %u until a restart", sup->n);
	config_free(&sup->cfg);
	sup->cfg = next;
	for (i = 0; i < sup->n; i++) {
		w = &sup->workers[i];
		if (w->pid == 0)
			continue;
		w->reloads++;
		sup->reload_waiting++;
		if (channel_send_config(w->chan, &sup->cfg) == -1) {
			snprintf(state, sizeof(state), "cannot send it the configuration: %s",
			    strerror(errno));
			reload_answered(sup, w, 1, state);
		}
	}
	if (sup->reload_waiting == 0)
		reload_done(sup);
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
		commands += __atomic_load_n(&stats_board[i].commands_processed, __ATOMIC_RELAXED);
		if (n < sizeof(per))
			n += (size_t)snprintf(per + n, sizeof(per) - n, "%s%llu", i > 0 ? "/" : "",
			    c);
	}
	snprintf(state, sizeof(state), "STATUS=%u of %u workers serving: %llu connections "
	    "(%s), %llu commands", running(sup), sup->n, conns, per, commands);
	(void)notify_send(state);
}

/* After a READY=1: systemd hears READY=1 once every worker has said it. */
static void
check_ready(struct supervisor *sup)
{
	unsigned i, ready = 0;

	for (i = 0; i < sup->n; i++)
		ready += sup->workers[i].ready;
	if (!sup->announced && ready == sup->n) {
		sup->announced = true;
		log_notice("all %u workers serving", sup->n);
		(void)notify_send("READY=1");
		send_status(sup);
	}
}

/* One message of a worker's: its sd_notify lines, or its answer to a configuration. */
static void
take_message(struct supervisor *sup, struct worker *w, char *text)
{
	char *line, *next;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* Only READY and the answers matter: the counters are on the board. */
		if (strcmp(line, "READY=1") == 0) {
			w->ready = true;
			check_ready(sup);
		} else if (strcmp(line, CHANNEL_APPLIED) == 0) {
			reload_answered(sup, w, 1, NULL);
		} else if (strncmp(line, CHANNEL_FAILED, strlen(CHANNEL_FAILED)) == 0) {
			reload_answered(sup, w, 1, line + strlen(CHANNEL_FAILED));
		}
	}
}

static void
on_channel(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct worker *w = arg;
	struct config none;
	char text[1024];
	bool got;
	ssize_t n;

	(void)events;
	while ((n = channel_recv(fd, text, sizeof(text), &none, &got)) > 0) {
		if (got)	/* a worker sends none */
			config_free(&none);
		else
			take_message(w->sup, w, text);
	}
	/* Closed: the worker is ending; SIGCHLD closes our end. */
	if (n == 0 || (errno != EAGAIN && errno != EINTR))
		loop_del_fd(loop, fd);
}

static void
on_status_timer(struct loop *loop, struct loop_timer *timer, void *arg)
{
	send_status(arg);
	loop_timer_start(loop, timer, STATUS_EVERY_MS);
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
	return (sup->sigfd = daemon_watch_signals(sup->loop, &set, on_signal, sup)) == -1 ?
	    -1 : 0;
}

int
supervisor_run(const char *path, struct config *cfg, const struct activation *act,
    unsigned n)
{
	struct supervisor sup = { .path = path, .cfg = *cfg, .sigfd = -1, .n = n };
	char err[256];
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
	for (i = 0; i < n; i++)
		sup.workers[i] = (struct worker){ .sup = &sup, .index = i, .chan = -1 };
	/* Shared with every worker: forked after this, they all see the same pages. */
	if (stats_board_open(n) == -1) {
		log_error("cannot map the workers' board: %m");
		goto out;
	}
	if (setup_signals(&sup) == -1) {
		log_error("cannot set up the supervisor: %m");
		goto out;
	}
	/* Bound (or taken from systemd) once, for every worker: no server here. */
	if (sockets_open(&sup.cfg, act, &sup.act, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	for (i = 0; i < n; i++)
		loop_timer_init(&sup.workers[i].restart, on_restart, &sup.workers[i]);
	/* The loop's first timer makes its heap: a start that cannot is no start. */
	loop_timer_init(&sup.status_timer, on_status_timer, &sup);
	if (loop_timer_start(sup.loop, &sup.status_timer, STATUS_EVERY_MS) == -1) {
		log_error("cannot start the status timer: %m");
		goto out;
	}
	log_notice("starting %u workers", n);
	for (i = 0; i < n; i++)
		start_worker(&sup.workers[i]);
	daemon_watchdog_start(sup.loop, &sup.watchdog_timer);
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
	for (i = 0; sup.workers != NULL && i < n; i++)
		if (sup.workers[i].chan != -1)
			close(sup.workers[i].chan);
	free(sup.workers);
	loop_free(sup.loop);
	config_free(&sup.cfg);
	notify_reset();
	stats_board_close();
	return rc;
}
