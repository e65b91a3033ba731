/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tcpd_build.h"
#include "daemon/activation.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "daemon/supervisor.h"
#include "daemon/services/service.h"
#include "tcpd/log.h"

static void
usage(FILE *out)
{
	char services[128];

	services_list(services, sizeof(services));
	fprintf(out,
	    "usage: tcpd [-c FILE] [-t] [-V] [-h]\n"
	    "       tcpd --listen [ADDR:]PORT --service NAME [--set KEY=VALUE ...]\n"
	    "            [--listen ...] [-t]\n"
	    "       tcpd --control [ADDR:]PORT [--set KEY=VALUE ...] [--listen ...]\n"
	    "  -c, --config FILE     configuration file (default %s)\n"
	    "  -t, --check-config    validate the configuration and exit\n"
	    "      --listen [ADDR:]PORT  serve on ADDR (default 127.0.0.1) and PORT, 0 for\n"
	    "                        any free port; without a configuration file\n"
	    "      --service NAME    what the --listen before it serves: %s\n"
	    "      --set KEY=VALUE   any listener key of tcpd.conf(5), for the --listen\n"
	    "                        before it\n"
	    "      --control [ADDR:]PORT  --listen [ADDR:]PORT --service control: Toxiproxy's\n"
	    "                        API, in place of toxiproxy-server (127.0.0.1:8474)\n"
	    "      --fault K=V[,K=V...]  fault keys (delay, jitter, rate, ...) the same way\n"
	    "      --upstream ADDR:PORT|unix:PATH  --set upstream=ADDR:PORT\n"
	    "      --seed N          --set seed=N\n"
	    "  -V, --version         print the version and exit\n"
	    "  -h, --help            print this help and exit\n"
	    "With --listen, tcpd prints 'listener cliN: serving NAME on ADDR:PORT' on\n"
	    "stdout for each address once it is bound.\n",
	    TCPD_DEFAULT_CONFIG, services);
}

/*
 * The shipped unit runs tcpd as a DynamicUser, which reads the file as
 * "others": a check run as root would pass while the service cannot start.
 * (LoadCredential= would hand the service a copy instead, but only at start:
 * systemctl reload would then read the stale copy.)
 */
static void
warn_unreadable(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && !(st.st_mode & S_IROTH))
		fprintf(stderr, "%s%s: warning: not readable by others (mode %04o): the "
		    "systemd unit's DynamicUser cannot read it; chmod o+r %s\n",
		    log_stderr_is_journal() ? "<4>" : "", path,
		    (unsigned)(st.st_mode & 07777), path);
}

/* At most this many options that build a configuration (--listen, --set, ...). */
#define ADHOC_MAX	256

/* The configuration the command line describes; errors name their option. */
static int
adhoc_config(struct config *cfg, const struct config_option *opts, size_t n)
{
	struct config_errors errs;
	size_t i;

	if (config_load_options(cfg, opts, n, &errs) == 0)
		return 0;
	for (i = 0; i < errs.count && i < CONFIG_MAX_ERRORS; i++)
		fprintf(stderr, "tcpd: %s%s%s\n", errs.err[i].file,
		    errs.err[i].file[0] != '\0' ? ": " : "", errs.err[i].msg);
	if (errs.count > CONFIG_MAX_ERRORS)
		fprintf(stderr, "tcpd: %zu more errors not shown\n",
		    errs.count - CONFIG_MAX_ERRORS);
	return -1;
}

int
main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "config",		required_argument,	NULL, 'c' },
		{ "check-config",	no_argument,		NULL, 't' },
		{ "version",		no_argument,		NULL, 'V' },
		{ "help",		no_argument,		NULL, 'h' },
		{ "listen",		required_argument,	NULL, 'l' },
		{ "control",		required_argument,	NULL, 'C' },
		{ "service",		required_argument,	NULL, 's' },
		{ "set",		required_argument,	NULL, 'S' },
		{ "fault",		required_argument,	NULL, 'F' },
		{ "upstream",		required_argument,	NULL, 'U' },
		{ "seed",		required_argument,	NULL, 'E' },
		{ NULL,			0,			NULL, 0 },
	};
	const char *path = TCPD_DEFAULT_CONFIG;
	struct config_option adhoc[ADHOC_MAX];
	size_t nadhoc = 0;
	int which;
	bool path_given = false;
	struct activation act;
	struct config cfg;
	int ch, check_only = 0, n;

	/* Before the first write: a closed stderr must cost an EPIPE, not the process. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return 1;

	while ((ch = getopt_long(argc, argv, "c:tVh", options, &which)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			path_given = true;
			break;
		case 'l':
		case 'C':
		case 's':
		case 'S':
		case 'F':
		case 'U':
		case 'E':
			if (nadhoc == ADHOC_MAX) {
				fprintf(stderr, "tcpd: at most %d --listen, --control, --service, "
				    "--set, --fault, --upstream and --seed\n", ADHOC_MAX);
				return 2;
			}
			adhoc[nadhoc++] = (struct config_option){ options[which].name,
			    optarg };
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

	if (path_given && nadhoc > 0) {
		fprintf(stderr, "tcpd: --listen (or --control) and --config are exclusive\n");
		usage(stderr);
		return 2;
	}

	log_init();
	if (nadhoc > 0) {
		if (adhoc_config(&cfg, adhoc, nadhoc) == -1)
			return 1;
		path = NULL;	/* no file: SIGHUP has nothing to re-read */
	} else if (daemon_load_config(path, &cfg, false) == -1) {
		return 1;
	}
	if (check_only) {
		if (path != NULL)
			warn_unreadable(path);
		printf("%s: configuration ok\n", path != NULL ? path : "command line");
		config_free(&cfg);
		return 0;
	}
	/* Before anything else can take descriptor 3 and up from systemd. */
	if ((n = activation_take(&act)) < 0) {
		log_error("socket activation: bad LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES: %s",
		    strerror(-n));
		config_free(&cfg);
		return 1;
	}
	/* --listen has no file, so no workers key: one process. */
	if (path != NULL && (n = (int)supervisor_workers(cfg.workers)) > 1)
		return supervisor_run(path, &cfg, &act, (unsigned)n);
	return daemon_run(path, &cfg, &act, -1);
}
