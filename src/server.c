/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcpd/config.h"
#include "tcpd/conn.h"
#include "tcpd/log.h"
#include "tcpd/loop.h"
#include "tcpd/net.h"
#include "tcpd/server.h"
#include "tcpd/stats.h"

/* Accepts per readiness event, so one busy listener cannot starve the rest. */
#define ACCEPTS_PER_EVENT	64
/* Out of descriptors: stop accepting this long instead of spinning. */
#define ACCEPT_PAUSE_MS		1000

struct listener {
	struct server		*l_srv;
	int			 l_fd;
	enum service		 l_service;
	struct net_addr		 l_addr;
	char			 l_text[NET_ADDRSTRLEN];
	char			 l_name[CONFIG_NAME_MAX];
	struct loop_timer	 l_resume;
};

struct server {
	struct loop		*loop;
	const struct config	*cfg;
	struct conns		 conns;
	struct listener		*listeners;
	size_t			 nlisteners;
};

static const char max_clients_error[] = "-ERR max number of clients reached\r\n";

static void
reject(struct listener *l, int fd, const char *peer)
{
	stats.rejected_connections++;
	log_debug("connection from %s to listener %s rejected: max_connections "
	    "(%u) reached", peer, l->l_name, l->l_srv->cfg->max_connections);
	/* Best effort on a fresh socket: its send buffer is empty, so this fits. */
	if (l->l_service == SERVICE_COMMAND &&
	    write(fd, max_clients_error, sizeof(max_clients_error) - 1) == -1)
		log_debug("listener %s: reject reply to %s: %m", l->l_name, peer);
	close(fd);
}

static void
resume_accept(struct loop *loop, struct loop_timer *timer, void *arg)
{
	struct listener *l = arg;

	(void)timer;
	if (loop_set_mask(loop, l->l_fd, LOOP_READABLE) == -1)
		log_error("listener %s %s: cannot resume accepting: %m",
		    l->l_name, l->l_text);
}

static void
pause_accept(struct listener *l)
{
	struct loop *loop = l->l_srv->loop;

	log_warning("listener %s %s: accept: %m; pausing for %d ms",
	    l->l_name, l->l_text, ACCEPT_PAUSE_MS);
	if (loop_set_mask(loop, l->l_fd, 0) == -1 ||
	    loop_timer_start(loop, &l->l_resume, ACCEPT_PAUSE_MS) == -1)
		log_error("listener %s %s: cannot pause accepting: %m",
		    l->l_name, l->l_text);
}

static void
on_accept(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct listener *l = arg;
	struct server *srv = l->l_srv;
	char peer_text[NET_ADDRSTRLEN];
	struct net_addr peer;
	int i, cfd;

	(void)loop;
	(void)fd;
	(void)events;
	for (i = 0; i < ACCEPTS_PER_EVENT; i++) {
		if ((cfd = net_accept(l->l_fd, &peer)) == -1) {
			switch (errno) {
			case EAGAIN:
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				pause_accept(l);
				return;
			default:
				log_error("listener %s %s: accept: %m", l->l_name,
				    l->l_text);
				return;
			}
		}
		stats.connections_received++;
		if (stats.connected >= srv->cfg->max_connections) {
			net_addr_format(&peer, peer_text, sizeof(peer_text));
			reject(l, cfd, peer_text);
			continue;
		}
		conn_new(&srv->conns, cfd, &peer, l->l_name, l->l_service);
	}
}

static void
before_sleep(struct loop *loop, void *arg)
{
	struct server *srv = arg;

	(void)loop;
	conns_before_sleep(&srv->conns);
}

static void
close_listeners(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nlisteners; i++) {
		struct listener *l = &srv->listeners[i];

		loop_timer_stop(srv->loop, &l->l_resume);
		loop_del_fd(srv->loop, l->l_fd);
		close(l->l_fd);
	}
	free(srv->listeners);
	srv->listeners = NULL;
	srv->nlisteners = 0;
}

static int
open_listener(struct server *srv, const struct listener_config *lc,
    const struct net_addr *addr, char *err, size_t errlen)
{
	struct listener *l = &srv->listeners[srv->nlisteners];

	memset(l, 0, sizeof(*l));
	l->l_srv = srv;
	l->l_service = lc->service;
	l->l_addr = *addr;
	snprintf(l->l_name, sizeof(l->l_name), "%s", lc->name);
	net_addr_format(addr, l->l_text, sizeof(l->l_text));
	loop_timer_init(&l->l_resume, resume_accept, l);
	if ((l->l_fd = net_listen(addr, (int)lc->backlog)) == -1) {
		snprintf(err, errlen, "listener %s: cannot listen on %s: %s",
		    lc->name, l->l_text, strerror(errno));
		return -1;
	}
	if (loop_add_fd(srv->loop, l->l_fd, LOOP_READABLE, on_accept, l) == -1) {
		snprintf(err, errlen, "listener %s: epoll_ctl: %s", lc->name,
		    strerror(errno));
		close(l->l_fd);
		return -1;
	}
	srv->nlisteners++;
	log_info("listener %s: serving %s on %s", lc->name,
	    service_name(lc->service), l->l_text);
	return 0;
}

struct server *
server_new(struct loop *loop, const struct config *cfg, char *err, size_t errlen)
{
	struct server *srv;
	size_t i, j, total = 0;

	for (i = 0; i < cfg->nlisteners; i++)
		total += cfg->listeners[i].nbinds;
	if ((srv = calloc(1, sizeof(*srv))) == NULL ||
	    (srv->listeners = calloc(total, sizeof(*srv->listeners))) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(srv);
		return NULL;
	}
	srv->loop = loop;
	srv->cfg = cfg;
	conns_init(&srv->conns, loop, cfg);
	stats.max_connections = cfg->max_connections;
	for (i = 0; i < cfg->nlisteners; i++) {
		for (j = 0; j < cfg->listeners[i].nbinds; j++) {
			if (open_listener(srv, &cfg->listeners[i],
			    &cfg->listeners[i].binds[j], err, errlen) == -1) {
				close_listeners(srv);
				free(srv);
				return NULL;
			}
		}
	}
	loop_set_before_sleep(loop, before_sleep, srv);
	return srv;
}

void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	close_listeners(srv);
	conns_close_all(&srv->conns, "server shutting down");
	loop_set_before_sleep(srv->loop, NULL, NULL);
	free(srv);
}
