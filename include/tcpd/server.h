/* SPDX-License-Identifier: MIT */
#ifndef TCPD_SERVER_H
#define TCPD_SERVER_H

#include <stddef.h>

struct config;
struct loop;
struct server;

/*
 * Binds every address of every listener in cfg and starts accepting. cfg must
 * outlive the server. An address marked optional ("-ADDR:PORT") that the host
 * does not have is skipped with a warning; any other failure returns NULL with
 * a message in err, and nothing stays bound.
 */
struct server	*server_new(struct loop *loop, const struct config *cfg,
		    char *err, size_t errlen);

/*
 * Graceful stop: closes the listening sockets at once, lets each connection
 * finish what it owes, closes it when it has nothing left, and stops the
 * loop when none remain or after cfg->shutdown_timeout seconds.
 */
void		 server_shutdown(struct server *srv);

/* Closes the listeners and every connection at once, and frees the server. */
void		 server_free(struct server *srv);

#endif
