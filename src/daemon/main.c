/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "tcpd_build.h"
#include "daemon/activation.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "tcpd/log.h"

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
	const char *path = TCPD_DEFAULT_CONFIG;
	struct activation act;
	struct config cfg;
	int ch, check_only = 0, n;

	/* Before the first write: a closed stderr must cost an EPIPE, not the process. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return 1;

	while ((ch = getopt_long(argc, argv, "c:tVh", options, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
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
	if (daemon_load_config(path, &cfg, false) == -1)
		return 1;
	if (check_only) {
		warn_unreadable(path);
		printf("%s: configuration ok\n", path);
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
	return daemon_run(path, &cfg, &act);
}
