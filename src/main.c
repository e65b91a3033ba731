/* SPDX-License-Identifier: MIT */
#include <sys/resource.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "tcpd/config.h"
#include "tcpd/log.h"
#include "tcpd/loop.h"
#include "tcpd/server.h"
#include "tcpd/stats.h"

struct daemon {
	const char	*config_path;
	struct config	 cfg;
	struct loop	*loop;
	struct server	*srv;
	int		 sigfd;
	bool		 stopping;
};

/* Descriptors besides connections: listeners, epoll, signalfd, stdio, logs. */
#define FD_RESERVE	32

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: tcpd [-c FILE] [-t] [-V] [-h]\n"
	    "  -c, --config FILE   configuration file (default %s)\n"
	    "  -t, --check-config  validate the configuration and exit\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          print this help and exit\n",
	    TCPD_DEFAULT_CONFIG);
}

/*
 * Loads path into cfg. Errors go to stderr as "FILE:LINE: message" before
 * the daemon runs, and to the log at error priority once it does (reload).
 */
static int
load_config(const char *path, struct config *cfg, bool running)
{
	struct config_errors errs;
	char where[32];
	size_t i;

	if (config_load_file(cfg, path, &errs) == 0)
		return 0;
	for (i = 0; i < errs.count && i < CONFIG_MAX_ERRORS; i++) {
		where[0] = '\0';
		if (errs.err[i].line > 0)
			snprintf(where, sizeof(where), ":%u", errs.err[i].line);
		if (running)
			log_error("%s%s: %s", path, where, errs.err[i].msg);
		else
			fprintf(stderr, "%s%s: %s\n", path, where, errs.err[i].msg);
	}
	if (errs.count > CONFIG_MAX_ERRORS) {
		if (running)
			log_error("%s: %zu more errors not shown", path,
			    errs.count - CONFIG_MAX_ERRORS);
		else
			fprintf(stderr, "%s: %zu more errors not shown\n", path,
			    errs.count - CONFIG_MAX_ERRORS);
	}
	return -1;
}

static void fit_fd_limit(struct config *);

/* SIGHUP: a config that fails to load or apply changes nothing. */
static void
reload(struct daemon *d)
{
	struct config next;
	char err[256];

	if (d->stopping)
		return;
	log_notice("SIGHUP received: reloading %s", d->config_path);
	if (load_config(d->config_path, &next, true) == -1) {
		log_error("reload failed: keeping the running configuration");
		return;
	}
	fit_fd_limit(&next);
	if (server_reconfigure(d->srv, &next, err, sizeof(err)) == -1) {
		log_error("reload failed: %s; keeping the running configuration", err);
		config_free(&next);
		return;
	}
	config_free(&d->cfg);
	d->cfg = next;
	log_set_level(d->cfg.log_level);
	log_notice("configuration reloaded");
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
			log_notice("%s received: closing the listeners, finishing "
			    "open connections (at most %u s)",
			    strsignal((int)si.ssi_signo), d->cfg.shutdown_timeout);
			server_shutdown(d->srv);
			break;
		case SIGHUP:
			reload(d);
			break;
		}
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_error("signalfd read: %m");
}

/*
 * Raises the soft descriptor limit to the hard one; if that still cannot
 * hold max_connections, lowers max_connections and says so.
 */
static void
fit_fd_limit(struct config *cfg)
{
	struct rlimit rl;
	size_t i, need = FD_RESERVE;

	for (i = 0; i < cfg->nlisteners; i++)
		need += cfg->listeners[i].nbinds;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warning("getrlimit(RLIMIT_NOFILE): %m");
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;

		if (want != RLIM_INFINITY && want > cfg->max_connections + need)
			want = cfg->max_connections + need;
		if (want > rl.rlim_cur) {
			rl.rlim_cur = want;
			if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
				log_warning("setrlimit(RLIMIT_NOFILE, %llu): %m",
				    (unsigned long long)want);
			getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < cfg->max_connections + need) {
		unsigned clamped = rl.rlim_cur > need + 1 ? (unsigned)(rl.rlim_cur - need) : 1;

		log_warning("max_connections lowered from %u to %u: the open file "
		    "limit is %llu (raise LimitNOFILE= or ulimit -n)",
		    cfg->max_connections, clamped, (unsigned long long)rl.rlim_cur);
		cfg->max_connections = clamped;
	}
}

static int
setup_signals(struct daemon *d)
{
	sigset_t set;

	/* A peer closing mid-write must cost an EPIPE, not the process. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	if ((d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		return -1;
	return loop_add_fd(d->loop, d->sigfd, LOOP_READABLE, on_signal, d);
}

static int
run(struct daemon *d)
{
	struct timespec now;
	char err[256];
	int rc = 1;

	log_set_level(d->cfg.log_level);
	fit_fd_limit(&d->cfg);
	clock_gettime(CLOCK_MONOTONIC, &now);
	stats_reset(now.tv_sec);
	if ((d->loop = loop_new()) == NULL) {
		log_error("cannot create event loop: %m");
		return 1;
	}
	if (setup_signals(d) == -1) {
		log_error("cannot set up signal handling: %m");
		goto out;
	}
	if ((d->srv = server_new(d->loop, &d->cfg, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		goto out;
	}
	log_notice("tcpd %s ready (config %s)", TCPD_VERSION, d->config_path);
	if (loop_run(d->loop) == -1) {
		log_error("event loop: %m");
		goto out;
	}
	rc = 0;
out:
	server_free(d->srv);
	if (d->sigfd != -1)
		close(d->sigfd);
	loop_free(d->loop);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "config",		required_argument,	NULL, 'c' },
		{ "check-config",	no_argument,		NULL, 't' },
		{ "version",		no_argument,		NULL, 'V' },
		{ "help",		no_argument,		NULL, 'h' },
		{ NULL,			0,			NULL, 0 },
	};
	struct daemon d = { .config_path = TCPD_DEFAULT_CONFIG, .sigfd = -1 };
	int ch, check_only = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:tVh", options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.config_path = optarg;
			break;
		case 't':
			check_only = 1;
			break;
		case 'V':
			printf("tcpd %s\n", TCPD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcpd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	log_init();
	if (load_config(d.config_path, &d.cfg, false) == -1)
		return 1;
	if (check_only) {
		printf("%s: configuration ok\n", d.config_path);
		config_free(&d.cfg);
		return 0;
	}
	rc = run(&d);
	config_free(&d.cfg);
	return rc;
}
