/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon/activation.h"
#include "daemon/config.h"
#include "daemon/services/service.h"
#include "daemon/sockets.h"
#include "tcpd/log.h"
#include "tcpd/net.h"

/* Skippable bind errors: the host lacks this address or its address family. */
static bool
host_lacks_address(int err)
{
	return err == EADDRNOTAVAIL || err == EAFNOSUPPORT;
}

int
sockets_bind(const struct listener_config *lc, size_t i, bool *skipped, char *err,
    size_t errlen)
{
	char text[NET_ADDRSTRLEN];
	int fd;

	*skipped = false;
	if ((fd = net_listen(&lc->binds[i], (int)lc->backlog)) != -1)
		return fd;
	net_addr_format(&lc->binds[i], text, sizeof(text));
	if (lc->bind_optional[i] && host_lacks_address(errno)) {
		log_warning("listener %s: skipping optional address %s: %m", lc->name, text);
		*skipped = true;
	} else {
		snprintf(err, errlen, "listener %s: cannot listen on %s: %s%s", lc->name, text,
		    strerror(errno), host_lacks_address(errno) ? " (mark it optional with a "
		    "leading '-' to start without it)" : "");
	}
	return -1;
}

/*
 * Whether fd is a bound TCP socket over IPv4 or IPv6; made non-blocking if
 * so. Bound is enough, listening or not: a worker started while its
 * listener refuses (refuse = on) gets the supervisor's socket not
 * listening, and listens on it when refuse is turned off.
 */
static bool
servable(int fd, const char *name)
{
	int type = 0, flags;
	socklen_t len = sizeof(type);
	struct net_addr addr;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1 || type != SOCK_STREAM) {
		log_error("the socket systemd passed as '%s' is not a stream socket; closing it",
		    name);
		return false;
	}
	if (net_local_addr(fd, &addr) == -1 ||
	    /* systemd passes blocking sockets unless NonBlocking=yes. */
	    (flags = fcntl(fd, F_GETFL)) == -1 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1) {
		log_error("the socket systemd passed as '%s' cannot be used: %m; closing it", name);
		return false;
	}
	if (addr.u.sa.sa_family != AF_INET && addr.u.sa.sa_family != AF_INET6) {
		log_error("the socket systemd passed as '%s' is not TCP over IPv4 or IPv6; "
		    "closing it", name);
		return false;
	}
	if ((addr.u.sa.sa_family == AF_INET ? addr.u.in.sin_port : addr.u.in6.sin6_port) == 0) {
		log_error("the socket systemd passed as '%s' is not bound; closing it", name);
		return false;
	}
	return true;
}

void
sockets_take_passed(const struct activation *passed, struct activation *valid)
{
	size_t i;

	valid->n = 0;
	for (i = 0; i < passed->n; i++) {
		if (!servable(passed->fds[i], passed->names[i])) {
			close(passed->fds[i]);
			continue;
		}
		valid->fds[valid->n] = passed->fds[i];
		memcpy(valid->names[valid->n++], passed->names[i], sizeof(passed->names[i]));
	}
}

/* fd's address as text, "?" when it cannot be had. */
static void
local_text(int fd, char *dst, size_t size)
{
	struct net_addr addr;

	if (net_local_addr(fd, &addr) == 0)
		net_addr_format(&addr, dst, size);
	else
		snprintf(dst, size, "?");
}

bool
sockets_unmatched(const struct activation *valid, const struct config *cfg, char *err,
    size_t errlen)
{
	char names[256], text[NET_ADDRSTRLEN];
	size_t i, j, n;

	for (i = 0; i < valid->n; i++) {
		for (j = 0; j < cfg->nlisteners; j++)
			if (strcmp(valid->names[i], cfg->listeners[j].name) == 0)
				break;
		if (j < cfg->nlisteners)
			continue;
		for (j = 0, n = 0; j < cfg->nlisteners && n < sizeof(names); j++)
			n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s",
			    j > 0 ? ", " : "", cfg->listeners[j].name);
		local_text(valid->fds[i], text, sizeof(text));
		snprintf(err, errlen, "the socket systemd passed as '%s' (%s) matches no "
		    "listener: FileDescriptorName= in the .socket unit must be the NAME of "
		    "a [listener.NAME] (here: %s)", valid->names[i], text, names);
		return true;
	}
	return false;
}

bool
sockets_in_binds(const struct listener_config *lc, const struct net_addr *addr)
{
	size_t i;

	for (i = 0; i < lc->nbinds; i++)
		if (net_addr_equal(&lc->binds[i], addr))
			return true;
	return false;
}

/* fd, serving lc, into out (which has room): logged as a server logs it. */
static void
hand_out(struct activation *out, int fd, const struct listener_config *lc, bool passed)
{
	char text[NET_ADDRSTRLEN];
	struct net_addr addr;

	local_text(fd, text, sizeof(text));
	if (passed && net_local_addr(fd, &addr) == 0 && !sockets_in_binds(lc, &addr))
		log_error("listener %s: the socket systemd passed is bound to %s, which is not "
		    "in its bind list; serving it as systemd set it up", lc->name, text);
	log_info("listener %s: serving %s on %s%s", lc->name, lc->service->name, text,
	    passed ? " (socket passed by systemd)" : "");
	out->fds[out->n] = fd;
	snprintf(out->names[out->n++], ACTIVATION_NAME_MAX, "%s", lc->name);
}

int
sockets_open(const struct config *cfg, const struct activation *passed,
    struct activation *out, char *err, size_t errlen)
{
	struct activation valid;
	size_t i, j;
	bool skipped, adopted;
	int fd;

	out->n = 0;
	sockets_take_passed(passed, &valid);
	if (sockets_unmatched(&valid, cfg, err, errlen))
		goto bad;
	for (i = 0; i < cfg->nlisteners; i++) {
		const struct listener_config *lc = &cfg->listeners[i];

		/* Sockets systemd passed under this listener's name replace its binds. */
		adopted = false;
		for (j = 0; j < valid.n; j++) {
			if (valid.fds[j] == -1 || strcmp(valid.names[j], lc->name) != 0)
				continue;
			if (out->n == ACTIVATION_MAX)
				goto full;
			hand_out(out, valid.fds[j], lc, true);
			valid.fds[j] = -1;
			adopted = true;
		}
		for (j = 0; j < lc->nbinds && !adopted; j++) {
			if ((fd = sockets_bind(lc, j, &skipped, err, errlen)) == -1) {
				if (skipped)
					continue;
				goto bad;
			}
			if (out->n == ACTIVATION_MAX) {
				close(fd);
				goto full;
			}
			hand_out(out, fd, lc, false);
		}
	}
	return 0;
full:
	snprintf(err, errlen, "more than %d listening sockets: workers take at most that many",
	    ACTIVATION_MAX);
bad:
	for (j = 0; j < valid.n; j++)
		if (valid.fds[j] != -1)
			close(valid.fds[j]);
	while (out->n > 0)
		close(out->fds[--out->n]);
	return -1;
}
