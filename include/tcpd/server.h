/* SPDX-License-Identifier: MIT */
#ifndef TCPD_SERVER_H
#define TCPD_SERVER_H

#include <stddef.h>

struct config;
struct loop;
struct server;

/*
 * Binds every address of every listener in cfg and starts accepting. cfg must
 * outlive the server. Returns NULL with a message in err when any address
 * cannot be bound; nothing stays bound then.
 */
struct server	*server_new(struct loop *loop, const struct config *cfg,
		    char *err, size_t errlen);

/* Closes the listeners and every connection, and frees the server. */
void		 server_free(struct server *srv);

#endif
