/* SPDX-License-Identifier: MIT */
#ifndef TCPD_SERVER_H
#define TCPD_SERVER_H

#include <signal.h>
#include <stddef.h>
#include <stdio.h>

struct activation;
struct config;
struct loop;
struct server;

/*
 * Starts accepting on every listener in cfg. A listener named by sockets in
 * act (systemd socket activation) serves those and binds nothing itself;
 * passed sockets that match no listener are closed with an error logged;
 * one that cannot be watched (out of memory) fails the start.
 * Other listeners bind their addresses. The server copies what it needs:
 * cfg may be freed afterwards. An address marked optional ("-ADDR:PORT")
 * that the host lacks is skipped with a warning; any other failure returns
 * NULL with a message in err, and nothing stays bound.
 */
struct server	*server_new(struct loop *loop, const struct config *cfg,
		    const struct activation *act, char *err, size_t errlen);

/*
 * Moves a running server to cfg: listeners are matched by name, bound
 * sockets by address (an address kept keeps its socket, so no queued
 * connection is lost), new addresses are bound, dropped ones closed. Limits
 * apply to connections accepted from now on; open connections go on as they
 * are. The listeners made at run time (runtime.h) go on beside cfg's, which
 * the server keeps a copy of to run them beside when they change; it is
 * their applier from server_new() to server_free(). Returns 0, or -1 with a
 * message in err and the server unchanged.
 */
int		 server_reconfigure(struct server *srv, const struct config *cfg,
		    char *err, size_t errlen);

/*
 * Under a supervisor, a worker that stops watching the shared listening
 * sockets (full at max_connections, or out of descriptors) while
 * connections are queued sends SERVER_REWATCH_SIGNAL to the other workers:
 * their server_rewatch() re-adds each socket they watch, which reports one
 * with connections queued, since no new arrival will wake them for those.
 */
#define SERVER_REWATCH_SIGNAL	SIGUSR1
void		 server_rewatch(struct server *srv);

/*
 * Graceful stop: closes the listening sockets at once, lets each connection
 * finish what it owes, closes it when it has nothing left, and stops the
 * loop when none remain or after shutdown_timeout seconds.
 */
void		 server_shutdown(struct server *srv);

/*
 * Writes "listener NAME: serving SERVICE on ADDR:PORT" for each bound
 * socket, with the port the kernel chose for a port 0, and flushes out.
 */
void		 server_announce(const struct server *srv, FILE *out);

/* Closes the listeners and every connection at once, and frees the server. */
void		 server_free(struct server *srv);

#endif
