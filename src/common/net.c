/* SPDX-License-Identifier: MIT */
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tcpd/net.h"
#include "tcpd/num.h"

static int
parse_port(const char *s, size_t len, in_port_t *port)
{
	int64_t v;

	if (num_parse(s, len, 0, 65535, &v) == -1)
		return -1;
	*port = htons((in_port_t)v);
	return 0;
}

int
net_addr_parse(struct net_addr *addr, const char *s, size_t len,
    const char **why)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *port;
	size_t hostlen;
	in_port_t nport;

	memset(addr, 0, sizeof(*addr));
	if (len > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', len);

		if (close == NULL) {
			*why = "missing ']' after IPv6 address";
			return -1;
		}
		hostlen = (size_t)(close - s - 1);
		if (close + 1 == s + len || close[1] != ':') {
			*why = "missing ':PORT' after address";
			return -1;
		}
		if (hostlen >= sizeof(host)) {
			*why = "invalid IPv6 address";
			return -1;
		}
		memcpy(host, s + 1, hostlen);
		host[hostlen] = '\0';
		port = close + 2;
		if (inet_pton(AF_INET6, host, &addr->u.in6.sin6_addr) != 1) {
			*why = "invalid IPv6 address";
			return -1;
		}
		addr->u.in6.sin6_family = AF_INET6;
		addr->len = sizeof(addr->u.in6);
	} else {
		colon = memchr(s, ':', len);
		if (colon == NULL) {
			*why = "missing ':PORT' after address";
			return -1;
		}
		if (memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)) != NULL) {
			*why = "IPv6 addresses must be written in brackets, as [::1]:PORT";
			return -1;
		}
		hostlen = (size_t)(colon - s);
		if (hostlen >= sizeof(host)) {
			*why = "invalid IPv4 address";
			return -1;
		}
		memcpy(host, s, hostlen);
		host[hostlen] = '\0';
		port = colon + 1;
		if (inet_pton(AF_INET, host, &addr->u.in.sin_addr) != 1) {
			*why = "invalid IPv4 address";
			return -1;
		}
		addr->u.in.sin_family = AF_INET;
		addr->len = sizeof(addr->u.in);
	}
	if (parse_port(port, len - (size_t)(port - s), &nport) == -1) {
		*why = "port must be a number from 0 to 65535 (0: any free port)";
		return -1;
	}
	if (addr->u.sa.sa_family == AF_INET6)
		addr->u.in6.sin6_port = nport;
	else
		addr->u.in.sin_port = nport;
	return 0;
}

void
net_addr_host(const struct net_addr *addr, char *dst, size_t size)
{
	const void *raw = addr->u.sa.sa_family == AF_INET ?
	    (const void *)&addr->u.in.sin_addr : (const void *)&addr->u.in6.sin6_addr;

	if ((addr->u.sa.sa_family != AF_INET && addr->u.sa.sa_family != AF_INET6) ||
	    inet_ntop(addr->u.sa.sa_family, raw, dst, (socklen_t)size) == NULL)
		snprintf(dst, size, "unknown");
}

void
net_addr_format(const struct net_addr *addr, char *dst, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	net_addr_host(addr, host, sizeof(host));
	if (addr->u.sa.sa_family == AF_INET6)
		snprintf(dst, size, "[%s]:%u", host, ntohs(addr->u.in6.sin6_port));
	else if (addr->u.sa.sa_family == AF_INET)
		snprintf(dst, size, "%s:%u", host, ntohs(addr->u.in.sin_port));
	else if (addr->u.sa.sa_family == AF_UNIX)
		snprintf(dst, size, "unix:%s", addr->u.un.sun_path);
	else
		snprintf(dst, size, "unknown");
}

int
net_addr_unix(struct net_addr *addr, const char *path, const char **why)
{
	size_t len = strlen(path);

	if (path[0] != '/') {
		*why = "the path must be absolute";
		return -1;
	}
	if (len >= sizeof(addr->u.un.sun_path)) {
		*why = "the path is longer than a Unix socket's 107 bytes";
		return -1;
	}
	memset(addr, 0, sizeof(*addr));
	addr->u.un.sun_family = AF_UNIX;
	memcpy(addr->u.un.sun_path, path, len + 1);
	addr->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

uint16_t
net_addr_port(const struct net_addr *addr)
{
	return ntohs(addr->u.sa.sa_family == AF_INET6 ? addr->u.in6.sin6_port :
	    addr->u.in.sin_port);
}

bool
net_addr_is_v4mapped(const struct net_addr *addr)
{
	return addr->u.sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&addr->u.in6.sin6_addr);
}

bool
net_addr_is_wildcard(const struct net_addr *addr)
{
	if (addr->u.sa.sa_family == AF_INET)
		return addr->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
	return addr->u.sa.sa_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&addr->u.in6.sin6_addr);
}

bool
net_addr_equal(const struct net_addr *a, const struct net_addr *b)
{
	if (a->u.sa.sa_family != b->u.sa.sa_family)
		return false;
	if (a->u.sa.sa_family == AF_INET)
		return a->u.in.sin_port == b->u.in.sin_port &&
		    a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
	if (a->u.sa.sa_family == AF_INET6)
		return a->u.in6.sin6_port == b->u.in6.sin6_port &&
		    memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr,
		    sizeof(a->u.in6.sin6_addr)) == 0;
	return false;
}

int
net_listen(const struct net_addr *addr, int backlog)
{
	int fd, on = 1, saved;

	fd = socket(addr->u.sa.sa_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto bad;
	if (addr->u.sa.sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto bad;
	if (bind(fd, &addr->u.sa, addr->len) == -1)
		goto bad;
	if (listen(fd, backlog) == -1)
		goto bad;
	return fd;
bad:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
net_accept(int listen_fd, struct net_addr *peer)
{
	int fd;

	peer->len = sizeof(peer->u);
	fd = accept4(listen_fd, &peer->u.sa, &peer->len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	return fd;
}

int
net_local_addr(int fd, struct net_addr *addr)
{
	addr->len = sizeof(addr->u);
	return getsockname(fd, &addr->u.sa, &addr->len);
}

int
net_connect_start(const struct net_addr *addr)
{
	int fd, saved;

	fd = socket(addr->u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, &addr->u.sa, addr->len) == -1 && errno != EINPROGRESS) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* Waits for a non-blocking connect; 0, or -1 with errno (ETIMEDOUT). */
static int
finish_connect(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int rc, err = 0;

	do
		rc = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
	while (rc == -1 && errno == EINTR);
	if (rc == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (rc == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

int
net_dial(const char *host, const char *port, int timeout_ms, struct net_addr *used,
    char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res, *ai;
	char text[NET_ADDRSTRLEN];
	int rc, fd = -1;
	int64_t portnum;

	/* getaddrinfo() would take 70000 as 4464. */
	if (num_parse_str(port, 1, 65535, &portnum) == -1) {
		snprintf(err, errlen, "invalid port '%s': a number from 1 to 65535", port);
		return -1;
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "resolve %s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	snprintf(err, errlen, "connect %s:%s: no address", host, port);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(used->u))
			continue;
		memcpy(&used->u, ai->ai_addr, ai->ai_addrlen);
		used->len = ai->ai_addrlen;
		net_addr_format(used, text, sizeof(text));
		if ((fd = net_connect_start(used)) != -1 &&
		    finish_connect(fd, timeout_ms) == 0)
			break;
		if (errno == ETIMEDOUT)
			snprintf(err, errlen, "connect %s: timed out after %d ms", text,
			    timeout_ms);
		else
			snprintf(err, errlen, "connect %s: %s", text, strerror(errno));
		if (fd != -1)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

uint64_t
net_raise_fd_limit(uint64_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 0;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ?
		    rl.rlim_max : (rlim_t)want;
		/* On failure the old limit stands, and is what we report. */
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			return 0;
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
}
