/* SPDX-License-Identifier: MIT */
#ifndef TCPD_DAEMON_H
#define TCPD_DAEMON_H

#include <signal.h>
#include <stdbool.h>

#include "tcpd/loop.h"

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

/* Shared by a daemon and a supervisor, each one process with one loop. */

/*
 * Blocks the signals in set and has loop call fn when one arrives (read
 * them from the fd it is given, a signalfd). Returns that fd, or -1 with
 * errno and nothing watched.
 */
int	daemon_watch_signals(struct loop *loop, const sigset_t *set, loop_fd_fn fn, void *arg);

/*
 * When systemd asked for a watchdog ($WATCHDOG_USEC, for this process):
 * WATCHDOG=1 now and every half interval, on timer, while loop runs; a
 * failed send is logged (rate-limited).
 */
void	daemon_watchdog_start(struct loop *loop, struct loop_timer *timer);

#endif
