/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/acl.h"
#include "daemon/activation.h"
#include "daemon/config.h"
#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/runtime.h"
#include "daemon/server.h"
#include "daemon/services/service.h"
#include "daemon/sockets.h"
#include "daemon/stats.h"
#include "tcpd/log.h"
#include "tcpd/loop.h"
#include "tcpd/net.h"

/* Accepts per readiness event, so one busy listener cannot starve the rest. */
#define ACCEPTS_PER_EVENT	64
/* Out of descriptors: stop accepting this long instead of spinning. */
#define ACCEPT_PAUSE_MS		1000

/* What a listening socket does with new connections: refuse and blackhole. */
enum gate { GATE_OPEN, GATE_BLACKHOLE, GATE_REFUSE };

/* One bound address of a listener. */
struct listen_socket {
	struct server		*s_srv;
	struct listener		*s_listener;
	int			 s_fd;
	unsigned		 s_backlog;
	struct net_addr		 s_addr;
	char			 s_text[NET_ADDRSTRLEN];
	struct loop_timer	 s_resume;
	struct log_rate		 s_error_log;
	enum gate		 s_gate;	/* as applied; out of the loop unless open */
	/* Passed by systemd: kept by listener name, never bound or re-bound. */
	char			 s_passed_name[ACTIVATION_NAME_MAX];
	/* While a reload is planned: where the socket goes, if anywhere. */
	struct {
		bool		 claimed;	/* a running socket the new config keeps */
		bool		 fresh;		/* bound by this plan */
		size_t		 owner;		/* index of its listener in the plan */
	}			 s_plan;
};

struct server {
	struct loop		 *loop;
	struct conns		  conns;
	unsigned		  max_connections;
	unsigned		  shutdown_timeout;
	struct listener		**listeners;
	size_t			  nlisteners;
	struct listen_socket	**sockets;
	size_t			  nsockets;
	bool			  draining;
	/* A worker at max_connections: not watching its sockets, see watch_sockets(). */
	bool			  full;
	struct loop_timer	  shutdown_timer;
	/* Held for the moment descriptors run out: see shed_queue(). */
	int			  reserve_fd;
	struct log_rate		  shed_log;
	/*
	 * The configuration last applied, its listeners copied: what the
	 * runtime listeners (runtime.h) run beside when they change.
	 */
	struct config		  base;
};

/*
 * "listener NAME: WHAT PEER: WHY (N more since the last such line)", about a
 * peer that never became a connection, with journal fields to select it.
 */
static void
peer_log(enum log_level level, const struct listener *l,
    const struct net_addr *peer, const char *what, const char *why, unsigned held)
{
	char host[INET6_ADDRSTRLEN], text[NET_ADDRSTRLEN];
	struct log_field fields[2] = {
		{ "TCPD_PEER", host },
		{ "TCPD_LISTENER", l->name },
	};

	net_addr_host(peer, host, sizeof(host));
	net_addr_format(peer, text, sizeof(text));
	log_fields(level, fields, 2, "listener %s: %s %s: %s (%u more since the "
	    "last such line)", l->name, what, text, why, held);
}

/* Over a limit: accepted only to be closed, with a word for command clients. */
static void
reject(struct listen_socket *s, int fd, const struct net_addr *peer,
    enum reject_reason reason, const char *why)
{
	struct listener *l = s->s_listener;
	unsigned held;

	stats.rejected_connections++;
	l->rejected[reason]++;
	if (log_rate_ok(&l->reject_log, loop_now(s->s_srv->loop), &held))
		peer_log(LOG_LEVEL_WARNING, l, peer, "rejected", why, held);
	/*
	 * Best effort on a fresh socket: its send buffer is empty, so this fits.
	 * Only over a limit, as the refusal says: not to an untrusted would-be
	 * proxy (no client of ours), nor when memory ran out (just closed, as
	 * behind a PROXY header).
	 */
	if (l->service->refusal != NULL && (reason == REJECT_MAX_CONNECTIONS ||
	    reason == REJECT_PER_IP) &&
	    write(fd, l->service->refusal, strlen(l->service->refusal)) == -1)
		log_debug("listener %s: reject reply: %m", l->name);
	close(fd);
}

/* A refusal by the access lists is what an operator filters warnings for. */
static void
deny(struct listen_socket *s, int fd, const struct net_addr *peer,
    const struct cidr *rule)
{
	struct listener *l = s->s_listener;
	char why[CIDR_STRLEN + 16];
	unsigned held;

	stats.denied_connections++;
	l->rejected[REJECT_ACL]++;
	if (log_rate_ok(&l->deny_log, loop_now(s->s_srv->loop), &held)) {
		if (rule != NULL) {
			strcpy(why, "deny ");
			cidr_format(rule, why + 5, sizeof(why) - 5);
		} else {
			strcpy(why, "not in allow");
		}
		peer_log(LOG_LEVEL_WARNING, l, peer, "denied", why, held);
	}
	close(fd);
}

/* Access rules and limits, before a byte of the peer's is read. */
static void
admit(struct listen_socket *s, int fd, const struct net_addr *peer)
{
	struct listener *l = s->s_listener;
	struct server *srv = s->s_srv;
	const struct cidr *rule;
	uint8_t key[16];

	cidr_key(peer, key);
	/* Behind a load balancer: only it may connect; the rules wait for the header. */
	if (l->proxy_versions != 0) {
		if (!acl_permits(l->proxy_trusted.v, l->proxy_trusted.n, NULL, 0, key, &rule)) {
			reject(s, fd, peer, REJECT_PROXY_UNTRUSTED, "not in proxy_trusted");
			return;
		}
		if (stats.connected >= srv->max_connections) {
			reject(s, fd, peer, REJECT_MAX_CONNECTIONS, "max_connections reached");
			return;
		}
		if (conn_new(&srv->conns, fd, peer, l, false) == -1)
			close(fd);
		return;
	}
	if (!acl_permits(l->allow.v, l->allow.n, l->deny.v, l->deny.n, key, &rule)) {
		deny(s, fd, peer, rule);
		return;
	}
	if (stats.connected >= srv->max_connections) {
		reject(s, fd, peer, REJECT_MAX_CONNECTIONS, "max_connections reached");
		return;
	}
	if (listener_count_peer(l, key) == -1) {
		if (errno == EUSERS)
			reject(s, fd, peer, REJECT_PER_IP, "max_connections_per_ip reached");
		else
			reject(s, fd, peer, REJECT_OUT_OF_MEMORY, "out of memory");
		return;
	}
	if (conn_new(&srv->conns, fd, peer, l, true) == -1) {
		listener_uncount_peer(l, key);
		close(fd);
	}
}

/* A worker shares its listening sockets: one worker wakes per connection, not all. */
static unsigned
accept_mask(void)
{
	return LOOP_READABLE | (stats.worker >= 0 ? LOOP_EXCLUSIVE : 0);
}

/* Watched unless paused for an accept error or, in a worker, full. */
static unsigned
socket_mask(const struct listen_socket *s)
{
	return s->s_srv->full || loop_timer_active(&s->s_resume) ? 0 : accept_mask();
}

static void
resume_accept(struct loop *loop, struct loop_timer *timer, void *arg)
{
	struct listen_socket *s = arg;

	(void)timer;
	if (loop_set_mask(loop, s->s_fd, socket_mask(s)) == -1)
		log_error("listener %s %s: cannot resume accepting: %m",
		    s->s_listener->name, s->s_text);
}

/*
 * A worker asleep in epoll_wait takes the wake of each connection that
 * arrives (EPOLLEXCLUSIVE: no other worker is woken for it). One that then
 * stops watching, full or out of descriptors, leaves those connections
 * queued with nobody woken for them: so it asks the other workers to look
 * again (server_rewatch()). Rare, and a few syscalls when it happens.
 */
static void
kick_workers(struct server *srv)
{
	struct pollfd pfd = { .events = POLLIN };
	size_t i;
	unsigned w;
	pid_t pid;

	/* One at a time: poll() refuses more fds than RLIMIT_NOFILE, as when out of them. */
	for (i = 0; i < srv->nsockets; i++) {
		pfd.fd = srv->sockets[i]->s_fd;
		if (poll(&pfd, 1, 0) == 1)
			break;
	}
	if (i == srv->nsockets)
		return;
	for (w = 0; w < stats_board_size; w++)
		if ((int)w != stats.worker &&
		    (pid = __atomic_load_n(&stats_board[w].pid, __ATOMIC_RELAXED)) > 0 &&
		    kill(pid, SERVER_REWATCH_SIGNAL) == -1 && errno != ESRCH)
			log_warning("worker %u (pid %d): kill: %m", w, (int)pid);
}

void
server_rewatch(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nsockets; i++)
		if (srv->sockets[i]->s_gate == GATE_OPEN &&
		    loop_rearm(srv->loop, srv->sockets[i]->s_fd) == -1)
			log_error("listener %s %s: epoll_ctl: %m",
			    srv->sockets[i]->s_listener->name, srv->sockets[i]->s_text);
}

/*
 * A worker at max_connections leaves the shared queue to the others instead
 * of accepting only to refuse (nginx's ngx_accept_disabled): out of every
 * socket's line of waiters until one of its connections closes. With every
 * worker full, new clients wait in the backlog, as for one full process
 * that could not accept.
 */
static void
watch_sockets(struct server *srv)
{
	bool full = srv->conns.count >= srv->max_connections;
	size_t i;

	if (stats.worker < 0 || full == srv->full)
		return;
	srv->full = full;
	for (i = 0; i < srv->nsockets; i++)
		if (srv->sockets[i]->s_gate == GATE_OPEN && loop_set_mask(srv->loop,
		    srv->sockets[i]->s_fd, socket_mask(srv->sockets[i])) == -1)
			log_error("listener %s %s: cannot %s accepting: %m",
			    srv->sockets[i]->s_listener->name, srv->sockets[i]->s_text,
			    full ? "stop" : "resume");
	if (full)
		kick_workers(srv);
}

static void
pause_accept(struct listen_socket *s)
{
	struct loop *loop = s->s_srv->loop;
	int saved = errno;
	unsigned held;

	if (log_rate_ok(&s->s_error_log, loop_now(loop), &held)) {
		errno = saved;
		log_warning("listener %s %s: accept: %m; not accepting for %d ms%s",
		    s->s_listener->name, s->s_text, ACCEPT_PAUSE_MS,
		    held ? " (again)" : "");
	}
	if (loop_set_mask(loop, s->s_fd, 0) == -1 ||
	    loop_timer_start(loop, &s->s_resume, ACCEPT_PAUSE_MS) == -1)
		log_error("listener %s %s: cannot pause accepting: %m",
		    s->s_listener->name, s->s_text);
	if (stats.worker >= 0)
		kick_workers(s->s_srv);
}

/*
 * Out of descriptors with connections queued: give up the reserve
 * descriptor, accept and close everything queued (each client sees its
 * connection closed instead of hanging in the backlog), and take the
 * reserve back, as libuv and nginx do. Without it each pause would take only
 * as many as there are free descriptors. Returns false when no reserve
 * descriptor is held, and the caller pauses instead.
 */
static bool
shed_queue(struct listen_socket *s)
{
	struct server *srv = s->s_srv;
	struct net_addr peer;
	unsigned shed = 0, held;
	int fd;

	if (srv->reserve_fd == -1)
		return false;
	close(srv->reserve_fd);
	while ((fd = net_accept(s->s_fd, &peer)) != -1 || errno == EINTR ||
	    errno == ECONNABORTED) {
		if (fd != -1) {
			close(fd);
			shed++;
		}
	}
	srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	stats.connections_received += shed;
	stats.rejected_connections += shed;
	s->s_listener->rejected[REJECT_DESCRIPTORS] += shed;
	if (log_rate_ok(&srv->shed_log, loop_now(srv->loop), &held))
		log_warning("listener %s %s: out of file descriptors: closed %u queued "
		    "connections%s", s->s_listener->name, s->s_text, shed,
		    held ? " (again)" : "");
	return true;
}

static void
on_accept(struct loop *loop, int fd, void *arg, unsigned events)
{
	struct listen_socket *s = arg;
	struct net_addr peer;
	unsigned held;
	int i, cfd;

	(void)events;
	/* Woken in the pass that filled it: the next pass leaves the line. */
	if (stats.worker >= 0 && s->s_srv->conns.count >= s->s_srv->max_connections)
		return;
	/* A worker: the next connection should wake another one. */
	if (stats.worker >= 0 && loop_rearm(loop, fd) == -1 &&
	    log_rate_ok(&s->s_error_log, loop_now(loop), &held))
		log_error("listener %s %s: epoll_ctl: %m", s->s_listener->name, s->s_text);
	for (i = 0; i < (stats.worker >= 0 ? 1 : ACCEPTS_PER_EVENT); i++) {
		if ((cfd = net_accept(s->s_fd, &peer)) == -1) {
			switch (errno) {
			case EAGAIN:
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
				continue;
			case EMFILE:
			case ENFILE:
				/* Not a queue other workers may have room for. */
				if (stats.worker < 0 && shed_queue(s))
					return;
				pause_accept(s);
				return;
			case ENOBUFS:
			case ENOMEM:
				pause_accept(s);
				return;
			default:
				if (log_rate_ok(&s->s_error_log, loop_now(loop), &held))
					log_error("listener %s %s: accept: %m",
					    s->s_listener->name, s->s_text);
				return;
			}
		}
		stats.connections_received++;
		admit(s, cfd, &peer);
	}
}

static void
before_sleep(struct loop *loop, void *arg)
{
	struct server *srv = arg;

	conns_before_sleep(&srv->conns);
	watch_sockets(srv);
	stats_publish();
	if (srv->draining && srv->conns.all == NULL) {
		log_notice("every connection finished; exiting");
		loop_stop(loop);
	}
}

static void
close_socket(struct listen_socket *s)
{
	struct loop *loop = s->s_srv->loop;

	loop_timer_stop(loop, &s->s_resume);
	loop_del_fd(loop, s->s_fd);
	close(s->s_fd);
	if (s->s_listener != NULL) {
		listener_detach_fd(s->s_listener, s->s_fd);
		listener_release(s->s_listener);
	}
	free(s);
}

static void
close_sockets(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nsockets; i++)
		close_socket(srv->sockets[i]);
	free(srv->sockets);
	srv->sockets = NULL;
	srv->nsockets = 0;
}

static void
release_listeners(struct server *srv)
{
	size_t i;

	for (i = 0; i < srv->nlisteners; i++) {
		srv->listeners[i]->serving = false;
		listener_release(srv->listeners[i]);
	}
	free(srv->listeners);
	srv->listeners = NULL;
	srv->nlisteners = 0;
}

/*
 * A new bound socket for addr, not yet owned by a listener. Returns it, NULL
 * with *skipped set for an optional address the host lacks, or NULL with err.
 */
static struct listen_socket *
bind_socket(struct server *srv, const struct listener_config *lc, size_t i,
    bool *skipped, char *err, size_t errlen)
{
	struct listen_socket *s;

	*skipped = false;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->s_srv = srv;
	s->s_addr = lc->binds[i];
	s->s_backlog = lc->backlog;
	net_addr_format(&s->s_addr, s->s_text, sizeof(s->s_text));
	loop_timer_init(&s->s_resume, resume_accept, s);
	if ((s->s_fd = sockets_bind(lc, i, skipped, err, errlen)) == -1) {
		free(s);
		return NULL;
	}
	/*
	 * Port 0: the text shows the port the kernel chose, while s_addr keeps
	 * port 0, so a reload finds this socket again by its configured address.
	 */
	if (net_addr_port(&s->s_addr) == 0) {
		struct net_addr got;

		if (net_local_addr(s->s_fd, &got) == 0)
			net_addr_format(&got, s->s_text, sizeof(s->s_text));
	}
	if (loop_add_fd(srv->loop, s->s_fd, accept_mask(), on_accept, s) == -1) {
		snprintf(err, errlen, "listener %s: epoll_ctl: %s", lc->name,
		    strerror(errno));
		close(s->s_fd);
		free(s);
		return NULL;
	}
	return s;
}

static struct listener *
find_listener(struct server *srv, const struct listener_config *lc)
{
	size_t i;

	for (i = 0; i < srv->nlisteners; i++)
		if (strcmp(srv->listeners[i]->name, lc->name) == 0 &&
		    srv->listeners[i]->service == lc->service)
			return srv->listeners[i];
	return NULL;
}

/*
 * A socket of the running server bound to addr, not yet claimed, not
 * passed: l's own first, so that of two listeners on port 0 the one kept
 * keeps its port when the other goes.
 */
static struct listen_socket *
find_socket(struct server *srv, const struct net_addr *addr, const struct listener *l)
{
	size_t i, pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < srv->nsockets; i++) {
			struct listen_socket *s = srv->sockets[i];

			if (!s->s_plan.claimed && s->s_passed_name[0] == '\0' &&
			    (pass == 1 || s->s_listener == l) &&
			    net_addr_equal(&s->s_addr, addr)) {
				s->s_plan.claimed = true;
				return s;
			}
		}
	return NULL;
}

/*
 * A running socket that holds addr's port in the other form (0.0.0.0 vs a
 * specific address of the same family): the new bind would fail with
 * EADDRINUSE while it lives, so a reload cannot make that move.
 */
static const struct listen_socket *
port_held_otherwise(const struct server *srv, const struct net_addr *addr)
{
	size_t i;

	for (i = 0; i < srv->nsockets; i++) {
		const struct net_addr *old = &srv->sockets[i]->s_addr;

		if (old->u.sa.sa_family == addr->u.sa.sa_family &&
		    net_addr_port(addr) != 0 && net_addr_port(old) == net_addr_port(addr) &&
		    net_addr_is_wildcard(old) != net_addr_is_wildcard(addr))
			return srv->sockets[i];
	}
	return NULL;
}

/*
 * Stops fd listening while it keeps its address: a connect to AF_UNSPEC
 * (connect(2)'s way to dissolve an association) takes a listening socket
 * out of Linux's listening table and resets what was queued, so a connect
 * gets ECONNREFUSED, and a later listen() on it listens again; done again
 * by another worker on the same socket, it changes nothing. Not
 * shutdown(SHUT_RD): called again there, it fails with ENOTCONN and leaves
 * the socket shut for reading, and a plain socket so stopped twice hands
 * out connections that read EOF at once once it listens again. A port the
 * kernel chose (port 0) goes with the listening, so it is bound again
 * (EINVAL: it kept its port).
 */
static int
stop_listening(int fd)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	struct net_addr addr;

	if (net_local_addr(fd, &addr) == -1 || connect(fd, &unspec, sizeof(unspec)) == -1 ||
	    (bind(fd, &addr.u.sa, addr.len) == -1 && errno != EINVAL))
		return -1;
	return 0;
}

/*
 * The socket as lc asks: open (accepting, with its backlog); blackhole
 * (accepting nothing, the queue cut to the least with listen(fd, 0), so
 * the kernel completes one more handshake and then drops SYNs: connects
 * time out); or refuse (stop_listening()). A gated socket is out of the
 * loop (a refusing one reports EPOLLHUP for good); open connections go on.
 */
static void
gate_socket(struct listen_socket *s, const struct listener_config *lc)
{
	static const char *const said[] = {
		[GATE_OPEN] = "accepting connections again",
		[GATE_BLACKHOLE] = "black-holing connections (blackhole = on)",
		[GATE_REFUSE] = "refusing connections (refuse = on)",
	};
	enum gate want = lc->refuse ? GATE_REFUSE : lc->blackhole ? GATE_BLACKHOLE : GATE_OPEN;
	bool new_backlog = want == GATE_OPEN && s->s_backlog != lc->backlog;
	struct loop *loop = s->s_srv->loop;
	int rc;

	s->s_backlog = lc->backlog;
	if (want == s->s_gate && !new_backlog)
		return;
	if (s->s_gate == GATE_OPEN && want != GATE_OPEN) {
		loop_timer_stop(loop, &s->s_resume);
		loop_del_fd(loop, s->s_fd);
	}
	/* listen() on a listening socket only sets a new backlog. */
	rc = want == GATE_REFUSE ? stop_listening(s->s_fd) :
	    listen(s->s_fd, want == GATE_OPEN ? (int)lc->backlog : 0);
	if (rc == -1)
		log_warning("listener %s %s: %s: %m", lc->name, s->s_text,
		    want == GATE_REFUSE ? "refuse" : "listen");
	if (s->s_gate != GATE_OPEN && want == GATE_OPEN &&
	    (loop_add_fd(loop, s->s_fd, accept_mask(), on_accept, s) == -1 ||
	    loop_set_mask(loop, s->s_fd, socket_mask(s)) == -1))
		log_error("listener %s %s: cannot accept again: %m", lc->name, s->s_text);
	if (want != s->s_gate)
		log_notice("listener %s %s: %s", lc->name, s->s_text, said[want]);
	s->s_gate = want;
}

/* INFO's and /metrics' count of the listeners set to refuse or blackhole. */
static void
count_gates(const struct config *cfg)
{
	size_t i;

	stats.listeners_refusing = 0;
	stats.listeners_blackholed = 0;
	for (i = 0; i < cfg->nlisteners; i++) {
		if (cfg->listeners[i].refuse)
			stats.listeners_refusing++;
		else if (cfg->listeners[i].blackhole)
			stats.listeners_blackholed++;
	}
}

/*
 * What a new configuration needs, gathered before anything changes: the
 * listeners (kept or new) and the sockets (kept or newly bound), each
 * socket carrying its part of the plan in s_plan.
 */
struct plan {
	struct listener		**listeners;
	struct listen_socket	**sockets;
	size_t			  nsockets;
};

static void
plan_free(struct plan *p)
{
	free(p->listeners);
	free(p->sockets);
}

/* The socket s goes to the plan's listener owner. */
static void
plan_add(struct plan *p, struct listen_socket *s, size_t owner)
{
	s->s_plan.owner = owner;
	p->sockets[p->nsockets++] = s;
}

/* Undoes what a plan created: fresh sockets and new listeners. */
static void
plan_abandon(struct server *srv, struct plan *p, size_t nlisteners)
{
	size_t i;

	for (i = 0; i < p->nsockets; i++) {
		if (!p->sockets[i]->s_plan.fresh)
			continue;
		loop_del_fd(srv->loop, p->sockets[i]->s_fd);
		close(p->sockets[i]->s_fd);
		free(p->sockets[i]);
	}
	for (i = 0; i < nlisteners; i++)
		if (p->listeners[i]->refs == 0)
			listener_discard(p->listeners[i]);
	plan_free(p);
}

static int
plan_make(struct server *srv, const struct config *cfg, struct plan *p,
    char *err, size_t errlen)
{
	size_t i, j, passed, total = srv->nsockets;
	const struct listen_socket *held;
	char text[NET_ADDRSTRLEN];
	bool skipped, adopted;

	for (i = 0; i < cfg->nlisteners; i++)
		total += cfg->listeners[i].nbinds;
	*p = (struct plan){
		.listeners = calloc(cfg->nlisteners, sizeof(*p->listeners)),
		.sockets = calloc(total, sizeof(*p->sockets)),
	};
	if (p->listeners == NULL || p->sockets == NULL) {
		snprintf(err, errlen, "out of memory");
		plan_free(p);
		return -1;
	}
	for (j = 0; j < srv->nsockets; j++)
		srv->sockets[j]->s_plan.claimed = false;
	for (i = 0; i < cfg->nlisteners; i++) {
		const struct listener_config *lc = &cfg->listeners[i];

		if ((p->listeners[i] = find_listener(srv, lc)) == NULL &&
		    (p->listeners[i] = listener_new()) == NULL) {
			snprintf(err, errlen, "out of memory");
			plan_abandon(srv, p, i);
			return -1;
		}
		/* Sockets systemd passed under this listener's name replace its binds. */
		passed = p->nsockets;
		for (j = 0; j < srv->nsockets; j++) {
			struct listen_socket *s = srv->sockets[j];

			if (s->s_plan.claimed || strcmp(s->s_passed_name, lc->name) != 0)
				continue;
			s->s_plan.claimed = true;
			if (!sockets_in_binds(lc, &s->s_addr))
				log_error("listener %s: the socket systemd passed is bound "
				    "to %s, which is not in its bind list; serving it as "
				    "systemd set it up", lc->name, s->s_text);
			plan_add(p, s, i);
		}
		adopted = p->nsockets > passed;
		for (j = 0; j < lc->nbinds && !adopted; j++) {
			struct listen_socket *s = find_socket(srv, &lc->binds[j], p->listeners[i]);

			if (s == NULL && (held = port_held_otherwise(srv, &lc->binds[j])) != NULL) {
				net_addr_format(&lc->binds[j], text, sizeof(text));
				snprintf(err, errlen, "listener %s: %s cannot be bound while "
				    "%s is (a reload cannot move a port between a wildcard "
				    "and a specific address): restart tcpd for this change",
				    lc->name, text, held->s_text);
				plan_abandon(srv, p, i + 1);
				return -1;
			}
			if (s == NULL) {
				s = bind_socket(srv, lc, j, &skipped, err, errlen);
				if (s == NULL && skipped)
					continue;
				if (s == NULL) {
					plan_abandon(srv, p, i + 1);
					return -1;
				}
				s->s_plan.fresh = true;
			}
			plan_add(p, s, i);
		}
	}
	return 0;
}

/* A listener's effective fault profile, at start and after each reload: what a run replays. */
static void
log_faults(const struct listener_config *lc)
{
	char text[1024];

	if (config_format_faults(lc, text, sizeof(text)) > 0)
		log_info("listener %s: faults %s", lc->name, text);
}

/* Makes the plan the running state; nothing in here can fail. */
static void
plan_commit(struct server *srv, const struct config *cfg, struct plan *p)
{
	struct listener *any;
	size_t i;

	/* Only this commit's changes: a listener gone keeps none from an older one. */
	for (any = listener_first(); any != NULL; any = any->all_next)
		any->refaulted = false;
	for (i = 0; i < cfg->nlisteners; i++) {
		listener_configure(p->listeners[i], &cfg->listeners[i]);
		listener_hold(p->listeners[i]);	/* the server's own reference */
		log_faults(&cfg->listeners[i]);
	}
	for (i = 0; i < p->nsockets; i++) {
		struct listen_socket *s = p->sockets[i];
		const struct listener_config *lc = &cfg->listeners[s->s_plan.owner];
		struct listener *l = p->listeners[s->s_plan.owner];
		bool first = s->s_listener == NULL;

		s->s_plan.fresh = false;
		listener_hold(l);
		if (s->s_listener != NULL) {
			listener_detach_fd(s->s_listener, s->s_fd);
			listener_release(s->s_listener);
		}
		s->s_listener = l;
		listener_attach_fd(l, s->s_fd);
		gate_socket(s, lc);
		if (first)
			log_info("listener %s: serving %s on %s%s", lc->name,
			    lc->service->name, s->s_text,
			    s->s_passed_name[0] != '\0' ? " (socket passed by systemd)" : "");
	}
	for (i = 0; i < srv->nsockets; i++) {
		struct listen_socket *s = srv->sockets[i];

		if (s->s_plan.claimed)
			continue;
		if (s->s_passed_name[0] != '\0')
			log_error("the socket systemd passed as '%s' (%s) matches no "
			    "listener; closing it (FileDescriptorName= must name a "
			    "[listener.NAME])", s->s_passed_name, s->s_text);
		else
			log_info("listener %s: no longer serving %s",
			    s->s_listener->name, s->s_text);
		close_socket(s);
	}
	free(srv->sockets);
	release_listeners(srv);
	srv->sockets = p->sockets;
	srv->nsockets = p->nsockets;
	srv->listeners = p->listeners;
	srv->nlisteners = cfg->nlisteners;
	for (i = 0; i < srv->nlisteners; i++)
		srv->listeners[i]->serving = true;
	p->sockets = NULL;
	p->listeners = NULL;
	plan_free(p);

	srv->max_connections = cfg->max_connections;
	srv->shutdown_timeout = cfg->shutdown_timeout;
	srv->conns.limits = (struct conn_limits){
		.max_line = cfg->max_line,
		.output_limit = cfg->output_limit,
		.idle_timeout = cfg->idle_timeout,
		.request_timeout = cfg->request_timeout,
	};
	stats.max_connections = cfg->max_connections;
	count_gates(cfg);
}

/*
 * Runs cfg's listeners and the runtime ones (lcs, n) as one configuration;
 * a runtime listener named as one of cfg's is left out, the file wins.
 */
static int
apply(struct server *srv, const struct config *cfg, const struct listener_config *lcs,
    size_t n, char *err, size_t errlen)
{
	struct config all = *cfg;
	struct plan p;
	size_t i, j;
	int rc = -1;

	if (srv->draining) {
		snprintf(err, errlen, "shutting down");
		return -1;
	}
	if ((all.listeners = calloc(cfg->nlisteners + n, sizeof(*all.listeners))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(all.listeners, cfg->listeners, cfg->nlisteners * sizeof(*all.listeners));
	for (i = 0; i < n; i++) {
		for (j = 0; j < cfg->nlisteners; j++)
			if (strcmp(cfg->listeners[j].name, lcs[i].name) == 0)
				break;
		if (j < cfg->nlisteners)
			log_warning("listener %s: the configuration has one of that name; "
			    "the one made at run time is left out", lcs[i].name);
		else
			all.listeners[all.nlisteners++] = lcs[i];
	}
	if (plan_make(srv, &all, &p, err, errlen) == 0) {
		plan_commit(srv, &all, &p);
		rc = 0;
	}
	free(all.listeners);
	return rc;
}

static int
apply_runtime(void *arg, const struct listener_config *lcs, size_t n, char *err,
    size_t errlen)
{
	struct server *srv = arg;

	if (apply(srv, &srv->base, lcs, n, err, errlen) == -1)
		return -1;
	/*
	 * Toxiproxy's toxics reach the connections open when they come and
	 * go, and its clients' tests count on it; a reload of the file's
	 * faults, as documented, reaches new connections only.
	 */
	conns_refault(&srv->conns);
	return 0;
}

int
server_reconfigure(struct server *srv, const struct config *cfg, char *err,
    size_t errlen)
{
	struct listener_config *copy;
	const struct listener_config *extra;
	size_t n;

	if ((copy = calloc(cfg->nlisteners, sizeof(*copy))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	extra = runtime_listeners(&n);
	if (apply(srv, cfg, extra, n, err, errlen) == -1) {
		free(copy);
		return -1;
	}
	memcpy(copy, cfg->listeners, cfg->nlisteners * sizeof(*copy));
	free(srv->base.listeners);
	srv->base = *cfg;
	srv->base.listeners = copy;
	/* Not ours: the daemon keeps the file names. */
	srv->base.files = NULL;
	srv->base.nfiles = 0;
	return 0;
}

/*
 * Turns a socket systemd or the supervisor passed (checked by
 * sockets_take_passed()) into an unowned listen socket; the first
 * reconfigure gives it to the listener of its name. Returns 0, or -1 with
 * a message in err and fd closed: the caller fails whole, since a listener
 * that lost one of its passed sockets would serve the others and bind
 * nothing in its place. One passed not listening (another worker refuses
 * on it) is watched too: the first reconfigure, before the loop runs,
 * takes it out or listens on it (gate_socket()).
 */
static int
adopt_socket(struct server *srv, int fd, const char *name, char *err, size_t errlen)
{
	struct listen_socket *s;

	if ((s = calloc(1, sizeof(*s))) == NULL || net_local_addr(fd, &s->s_addr) == -1) {
		snprintf(err, errlen, "the socket passed as '%s' cannot be used: %s", name,
		    strerror(errno));
		goto bad;
	}
	if (loop_add_fd(srv->loop, fd, accept_mask(), on_accept, s) == -1) {
		snprintf(err, errlen, "the socket passed as '%s': epoll_ctl: %s", name,
		    strerror(errno));
		goto bad;
	}
	s->s_srv = srv;
	s->s_fd = fd;
	snprintf(s->s_passed_name, sizeof(s->s_passed_name), "%s", name);
	net_addr_format(&s->s_addr, s->s_text, sizeof(s->s_text));
	loop_timer_init(&s->s_resume, resume_accept, s);
	srv->sockets[srv->nsockets++] = s;
	return 0;
bad:
	free(s);
	close(fd);
	return -1;
}

void
server_announce(const struct server *srv, FILE *out)
{
	size_t i;

	for (i = 0; i < srv->nsockets; i++)
		fprintf(out, "listener %s: serving %s on %s\n", srv->sockets[i]->s_listener->name,
		    srv->sockets[i]->s_listener->service->name, srv->sockets[i]->s_text);
	fflush(out);
}

struct server *
server_new(struct loop *loop, const struct config *cfg,
    const struct activation *act, char *err, size_t errlen)
{
	struct listener_config defaults = { .name = "" };
	struct activation valid;
	struct server *srv = NULL;
	size_t i;

	sockets_take_passed(act, &valid);
	if (sockets_unmatched(&valid, cfg, err, errlen))
		goto bad;
	if ((srv = calloc(1, sizeof(*srv))) == NULL || (valid.n > 0 &&
	    (srv->sockets = calloc(valid.n, sizeof(*srv->sockets))) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto bad;
	}
	srv->loop = loop;
	srv->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	conns_init(&srv->conns, loop);
	loop_timer_init(&srv->shutdown_timer, NULL, srv);
	/* Without the reserve, running out of descriptors pauses accepting instead. */
	if (srv->reserve_fd == -1)
		log_warning("cannot open /dev/null for a reserve descriptor: %m");
	for (i = 0; i < valid.n; i++)
		if (adopt_socket(srv, valid.fds[i], valid.names[i], err, errlen) == -1) {
			while (++i < valid.n)
				close(valid.fds[i]);
			goto fail;
		}
	if (server_reconfigure(srv, cfg, err, errlen) == -1)
		goto fail;
	loop_set_before_sleep(loop, before_sleep, srv);
	config_listener_defaults(&defaults);
	runtime_set_applier(apply_runtime, srv, &defaults);
	return srv;
fail:
	if (srv->reserve_fd != -1)
		close(srv->reserve_fd);
	close_sockets(srv);
	free(srv);
	return NULL;
bad:
	for (i = 0; i < valid.n; i++)
		close(valid.fds[i]);
	free(srv);
	return NULL;
}

static void
on_shutdown_timeout(struct loop *loop, struct loop_timer *timer, void *arg)
{
	struct server *srv = arg;

	(void)timer;
	log_warning("shutdown_timeout (%u s) reached: closing %zu connections",
	    srv->shutdown_timeout, srv->conns.count);
	conns_close_all(&srv->conns, "shutdown timeout");
	loop_stop(loop);
}

void
server_shutdown(struct server *srv)
{
	if (srv->draining)
		return;
	srv->draining = true;
	/* New clients get a refusal now instead of hanging in a dead backlog. */
	close_sockets(srv);
	loop_timer_init(&srv->shutdown_timer, on_shutdown_timeout, srv);
	if (loop_timer_start(srv->loop, &srv->shutdown_timer,
	    (uint64_t)srv->shutdown_timeout * 1000) == -1)
		log_error("cannot arm the shutdown timer: %m");
	conns_drain(&srv->conns);
}

void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	close_sockets(srv);
	loop_timer_stop(srv->loop, &srv->shutdown_timer);
	conns_close_all(&srv->conns, "server exiting");
	release_listeners(srv);
	loop_set_before_sleep(srv->loop, NULL, NULL);
	runtime_set_applier(NULL, NULL, NULL);
	if (srv->reserve_fd != -1)
		close(srv->reserve_fd);
	free(srv->base.listeners);
	free(srv);
}
