/* SPDX-License-Identifier: MIT */
#ifndef TCPD_DAEMON_H
#define TCPD_DAEMON_H

#include <stdbool.h>

struct activation;
struct config;

/*
 * Loads path into cfg. Errors are reported as "FILE:LINE: message": on
 * stderr before the daemon runs, in the log at error priority once it does.
 * Returns 0, or -1 with cfg empty.
 */
int	daemon_load_config(const char *path, struct config *cfg, bool running);

/*
 * Runs tcpd in the foreground on cfg (loaded from path, which SIGHUP
 * re-reads) and the sockets systemd passed in act, until SIGTERM or SIGINT.
 * A NULL path is a configuration from the command line (--listen): there is
 * nothing to re-read, and the bound addresses are announced on stdout.
 * The caller has set SIGPIPE to be ignored before its first write.
 * worker is this process's number under a supervisor, or -1 (no workers).
 * Takes cfg over. Returns the process exit status.
 */
int	daemon_run(const char *path, struct config *cfg, const struct activation *act,
	    int worker);

/*
 * The same, as worker index under a supervisor, with channel its end of
 * the channel to it (channel.h): notifications go there, and so does the
 * outcome of each configuration the supervisor sends, the only way a worker
 * reloads (it never reads path, shown in its log only; it ignores SIGHUP).
 * Closes channel before returning.
 */
int	daemon_run_worker(const char *path, struct config *cfg, const struct activation *act,
	    unsigned index, int channel);

#endif
