/* SPDX-License-Identifier: MIT */
#ifndef TCPD_SUPERVISOR_H
#define TCPD_SUPERVISOR_H

struct activation;
struct config;

/* workers = N, or 0 (auto): the CPUs this process may run on. */
unsigned supervisor_workers(unsigned setting);

/*
 * Runs tcpd as n worker processes, each today's single-threaded reactor,
 * under a supervisor that owns the configuration and every listening
 * socket: it binds (or takes from systemd) each socket once, and every
 * worker serves all of them, woken one at a time (EPOLLEXCLUSIVE). A socket
 * outlives any worker, so a worker's death loses no queued connection; the
 * supervisor restarts it with a backoff. On SIGHUP the supervisor alone
 * reads the file, and hands what it parsed and checked to every worker
 * over its channel (channel.h); systemd hears RELOADING, then READY once
 * every worker has answered. SIGTERM closes the supervisor's sockets and
 * drains every worker; systemd hears READY once all serve.
 * Takes cfg over, as daemon_run(). Returns the process exit status.
 */
int	supervisor_run(const char *path, struct config *cfg, const struct activation *act,
	    unsigned n);

#endif
