/* SPDX-License-Identifier: MIT */
#include <sys/signalfd.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcpd_build.h"
#include "daemon/activation.h"
#include "daemon/channel.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/listener.h"
#include "daemon/notify.h"
#include "daemon/server.h"
#include "daemon/services/cmd.h"
#include "daemon/services/faults/faults.h"
#include "daemon/services/service.h"
#include "daemon/stats.h"
#include "tcpd/log.h"
#include "tcpd/loop.h"
#include "tcpd/net.h"

/* Descriptors besides connections: listeners, epoll, signalfd, stdio, logs. */
#define FD_RESERVE		32
/* How often systemctl status gets a fresh STATUS= line. */
#define STATUS_EVERY_MS		5000

struct daemon {
	const char		*path;
	struct config		 cfg;
	struct loop		*loop;
	struct server		*srv;
	int			 sigfd;
	int			 channel;	/* a worker's, to its supervisor; or -1 */
	bool			 stopping;
	struct loop_timer	 status_timer;
	struct loop_timer	 watchdog_timer;
	struct loop_timer	 delay_timer;	/* shutdown_delay */
	uint64_t		 last_commands;
	struct log_rate		 notify_log;
};

int
daemon_load_config(const char *path, struct config *cfg, bool running)
{
	struct config_errors errs;
	char where[32];
	size_t i;

	/* Under systemd (ExecStartPre=tcpd --check-config) the journal takes "<3>" as err. */
	const char *err = log_stderr_is_journal() ? "<3>" : "";

	if (config_load_file(cfg, path, &errs) == 0)
		return 0;
	for (i = 0; i < errs.count && i < CONFIG_MAX_ERRORS; i++) {
		/* An error in an included file names that file. */
		const char *file = errs.err[i].file[0] != '\0' ? errs.err[i].file : path;

		where[0] = '\0';
		if (errs.err[i].line > 0)
			snprintf(where, sizeof(where), ":%u", errs.err[i].line);
		if (running)
			log_error("%s%s: %s", file, where, errs.err[i].msg);
		else
			fprintf(stderr, "%s%s%s: %s\n", err, file, where, errs.err[i].msg);
	}
	if (errs.count > CONFIG_MAX_ERRORS) {
		if (running)
			log_error("%s: %zu more errors not shown", path,
			    errs.count - CONFIG_MAX_ERRORS);
		else
			fprintf(stderr, "%s%s: %zu more errors not shown\n", err, path,
			    errs.count - CONFIG_MAX_ERRORS);
	}
	return -1;
}

/* A notification that fails under systemd is worth a (rate-limited) line. */
static void
notified(struct daemon *d, int rc)
{
	unsigned held;

	if (rc < 0 && log_rate_ok(&d->notify_log, loop_now(d->loop), &held))
		log_warning("sd_notify to %s failed: %s", d->channel != -1 ? "the supervisor" :
		    "$NOTIFY_SOCKET", strerror(-rc));
}

static void notify(struct daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
notify(struct daemon *d, const char *fmt, ...)
{
	char state[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(state, sizeof(state), fmt, ap);
	va_end(ap);
	notified(d, notify_send(state));
}

static void
send_status(struct daemon *d)
{
	notify(d, "STATUS=%llu connections, %llu commands/s, %llu rejected",
	    (unsigned long long)stats.connected, (unsigned long long)stats.ops_per_sec,
	    (unsigned long long)stats.rejected_connections);
}

/*
 * INFO's instantaneous_ops_per_sec: the commands of one whole period. Only
 * the timer samples, so a STATUS= sent between (a reload's) cuts none short.
 */
static void
sample_ops(struct daemon *d)
{
	uint64_t commands = stats.commands_processed;

	stats.ops_per_sec = (commands - d->last_commands) * 1000 / STATUS_EVERY_MS;
	d->last_commands = commands;
}

static void
on_status_timer(struct loop *loop, struct loop_timer *timer, void *arg)
{
	sample_ops(arg);
	/* An idle worker's listener counters reach the others' /metrics. */
	stats_publish_now();
	send_status(arg);
	loop_timer_start(loop, timer, STATUS_EVERY_MS);
}

static uint64_t watchdog_ms;
static struct log_rate watchdog_log;

static void
feed_watchdog(struct loop *loop)
{
	unsigned held;
	int rc;

	if ((rc = notify_send("WATCHDOG=1")) < 0 &&
	    log_rate_ok(&watchdog_log, loop_now(loop), &held))
		log_warning("sd_notify WATCHDOG=1 failed: %s", strerror(-rc));
}

static void
on_watchdog_timer(struct loop *loop, struct loop_timer *timer, void *arg)
{
	(void)arg;
	feed_watchdog(loop);
	loop_timer_start(loop, timer, watchdog_ms);
}

void
daemon_watchdog_start(struct loop *loop, struct loop_timer *timer)
{
	if ((watchdog_ms = notify_watchdog_usec() / 2000) == 0)
		return;
	loop_timer_init(timer, on_watchdog_timer, NULL);
	loop_timer_start(loop, timer, watchdog_ms);
	feed_watchdog(loop);
}

int
daemon_watch_signals(struct loop *loop, const sigset_t *set, loop_fd_fn fn, void *arg)
{
	int fd;

	if (sigprocmask(SIG_BLOCK, set, NULL) == -1 ||
	    (fd = signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -1;
	if (loop_add_fd(loop, fd, LOOP_READABLE, fn, arg) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Raises the soft descriptor limit as far as max_connections needs; if the
 * hard limit cannot hold it, lowers max_connections and says so.
 */
static void
fit_fd_limit(struct config *cfg)
{
	uint64_t limit, need = FD_RESERVE;
	size_t i;

	for (i = 0; i < cfg->nlisteners; i++)
		need += cfg->listeners[i].nbinds;
	if ((limit = net_raise_fd_limit(cfg->max_connections + need)) == 0) {
		log_warning("getrlimit(RLIMIT_NOFILE): %m");
		return;
	}
	if (limit < cfg->max_connections + need) {
		unsigned clamped = limit > need + 1 ? (unsigned)(limit - need) : 1;

		log_warning("max_connections lowered from %u to %u: the open file "
		    "limit is %llu (raise LimitNOFILE= or ulimit -n)",
		    cfg->max_connections, clamped, (unsigned long long)limit);
		cfg->max_connections = clamped;
	}
}

/* Makes next the running configuration (taking it), or says why not in err. */
static int
apply(struct daemon *d, struct config *next, char *err, size_t errlen)
{
	fit_fd_limit(next);
	if (server_reconfigure(d->srv, next, err, errlen) == -1) {
		log_error("reload failed: %s; keeping the running configuration", err);
		config_free(next);
		return -1;
	}
	if (next->log_target != d->cfg.log_target)
		log_set_target(next->log_target);
	config_free(&d->cfg);
	d->cfg = *next;
	log_set_level(d->cfg.log_level);
	log_notice("configuration reloaded");
	return 0;
}

/* SIGHUP: a config that fails to load or apply changes nothing. */
static void
reload(struct daemon *d)
{
	struct config next;
	char err[256];

	if (d->stopping)
		return;
	if (d->channel != -1) {
		/* pkill -HUP tcpd reaches the supervisor too, which hands the file on. */
		log_info("SIGHUP ignored: a worker takes its configuration from the supervisor");
		return;
	}
	if (d->path == NULL) {
		log_warning("SIGHUP received: tcpd runs on --listen/--service, with no "
		    "configuration file to re-read; nothing changed");
		return;
	}
	notified(d, notify_reloading());
	log_notice("SIGHUP received: reloading %s", d->path);
	if (daemon_load_config(d->path, &next, true) == -1) {
		log_error("reload failed: keeping the running configuration");
		notify(d, "READY=1\nSTATUS=reload failed (errors in %s, see the log); "
		    "running the previous configuration", d->path);
		return;
	}
	if (apply(d, &next, err, sizeof(err)) == -1) {
		notify(d, "READY=1\nSTATUS=reload failed (%s); running the previous "
		    "configuration", err);
		return;
	}
	notify(d, "READY=1");
	send_status(d);
}

/* A configuration from the supervisor: applied, and the outcome said back. */
static void
on_channel(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct daemon *d = arg;
	struct config next;
	char text[64], err[256];
	bool got;
	ssize_t n;

	(void)events;
	while ((n = channel_recv(fd, text, sizeof(text), &next, &got)) != 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n == -1) {
			log_error("reload failed: the configuration from the supervisor: %m");
			notify(d, CHANNEL_FAILED "cannot take the configuration: %s",
			    strerror(errno));
			if (errno == EBADMSG || errno == ENOMEM)
				continue;
			break;
		}
		if (!got)
			continue;
		if (apply(d, &next, err, sizeof(err)) == -1)
			notify(d, CHANNEL_FAILED "%s", err);
		else
			notify(d, CHANNEL_APPLIED);
	}
	/* The supervisor is gone: its death signal (SIGTERM) stops this worker. */
	loop_del_fd(loop, fd);
}

/* Stops accepting and lets every connection finish what it owes. */
static void
begin_drain(struct daemon *d)
{
	server_shutdown(d->srv);
	/* After the close: whoever reads this line may count on a refused connect. */
	log_notice("closing the listeners, finishing open connections (at most %u s)",
	    d->cfg.shutdown_timeout);
	notify(d, "STATUS=stopping: finishing %llu connections",
	    (unsigned long long)stats.connected);
}

static void
on_shutdown_delay(struct loop *loop, struct loop_timer *timer, void *arg)
{
	(void)loop;
	(void)timer;
	begin_drain(arg);
}

static void
on_signal(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;
	ssize_t n;

	(void)events;
	while ((n = read(fd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			if (d->stopping) {
				log_notice("%s received again: exiting now",
				    strsignal((int)si.ssi_signo));
				loop_stop(loop);
				break;
			}
			d->stopping = true;
			stats.ready = false;
			stats.draining = true;
			loop_timer_stop(loop, &d->status_timer);
			if (d->cfg.shutdown_delay > 0) {
				/*
				 * Load balancers and Kubernetes take an endpoint out
				 * while they send SIGTERM: keep accepting, not ready,
				 * until they have noticed.
				 */
				log_notice("%s received: not ready; still accepting for "
				    "shutdown_delay (%u s)", strsignal((int)si.ssi_signo),
				    d->cfg.shutdown_delay);
				notify(d, "STOPPING=1\nSTATUS=stopping: not ready, still "
				    "accepting for %u s", d->cfg.shutdown_delay);
				loop_timer_init(&d->delay_timer, on_shutdown_delay, d);
				loop_timer_start(loop, &d->delay_timer,
				    (uint64_t)d->cfg.shutdown_delay * 1000);
				break;
			}
			notify(d, "STOPPING=1");
			begin_drain(d);
			break;
		case SIGHUP:
			reload(d);
			break;
		case SERVER_REWATCH_SIGNAL:
			server_rewatch(d->srv);
			break;
		}
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_error("signalfd read: %m");
}

static int
setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (stats.worker >= 0)
		sigaddset(&set, SERVER_REWATCH_SIGNAL);
	return (d->sigfd = daemon_watch_signals(d->loop, &set, on_signal, d)) == -1 ? -1 : 0;
}

static int
run(const char *path, struct config *cfg, const struct activation *act, int worker,
    int channel)
{
	struct daemon d = { .path = path, .cfg = *cfg, .sigfd = -1, .channel = channel };
	struct timespec now;
	char err[256];
	int rc = 1;
	size_t i;

	*cfg = (struct config){ 0 };
	log_set_level(d.cfg.log_level);
	log_set_target(d.cfg.log_target);
	fit_fd_limit(&d.cfg);
	clock_gettime(CLOCK_MONOTONIC, &now);
	stats_start(now.tv_sec, worker);
	stats_set_publisher(listener_publish);
	/* A restarted worker's count goes on from its predecessor's. */
	d.last_commands = stats.commands_processed;
	log_set_worker(worker);
	/* INFO lists every service from the start, in the registry's order. */
	for (i = 0; service_at(i) != NULL; i++)
		(void)stats_service(service_at(i)->name);
	cmd_register_stats();
	faults_register_stats();
	stats.start_realtime = time(NULL);
	if ((d.loop = loop_new()) == NULL) {
		log_error("cannot create event loop: %m");
		goto out;
	}
	if (setup_signals(&d) == -1) {
		log_error("cannot set up signal handling: %m");
		goto out;
	}
	if (channel != -1) {
		notify_set_fd(channel);
		if (loop_add_fd(d.loop, channel, LOOP_READABLE, on_channel, &d) == -1) {
			log_error("cannot watch the channel to the supervisor: %m");
			goto out;
		}
	}
	/* The loop's first timer makes its heap: a start that cannot is no start. */
	loop_timer_init(&d.status_timer, on_status_timer, &d);
	if (loop_timer_start(d.loop, &d.status_timer, STATUS_EVERY_MS) == -1) {
		log_error("cannot start the status timer: %m");
		goto out;
	}
	if ((d.srv = server_new(d.loop, &d.cfg, act, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	log_notice("tcpd %s ready (config %s)", TCPD_VERSION,
	    path != NULL ? path : "from the command line");
	/* Started from a script with port 0: it learns the ports from stdout. */
	if (path == NULL)
		server_announce(d.srv, stdout);
	/* Only now: every listener is live, so dependents can connect at once. */
	stats.ready = true;
	notify(&d, "READY=1");
	send_status(&d);
	daemon_watchdog_start(d.loop, &d.watchdog_timer);
	if (loop_run(d.loop) == -1) {
		log_error("event loop: %m");
		goto out;
	}
	rc = 0;
out:
	server_free(d.srv);
	if (d.sigfd != -1)
		close(d.sigfd);
	if (channel != -1)
		close(channel);
	loop_free(d.loop);
	config_free(&d.cfg);
	notify_reset();
	return rc;
}

int
daemon_run(const char *path, struct config *cfg, const struct activation *act, int worker)
{
	return run(path, cfg, act, worker, -1);
}

int
daemon_run_worker(const char *path, struct config *cfg, const struct activation *act,
    unsigned index, int channel)
{
	return run(path, cfg, act, (int)index, channel);
}
