/* SPDX-License-Identifier: MIT */
#ifndef TCPD_NET_H
#define TCPD_NET_H

#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 socket address; or, only where said, a Unix stream socket's path. */
struct net_addr {
	union {
		struct sockaddr		sa;
		struct sockaddr_in	in;
		struct sockaddr_in6	in6;
		struct sockaddr_un	un;
	} u;
	socklen_t	len;
};

/* Longest "[v6]:port" text, with the NUL. */
#define NET_ADDRSTRLEN	(INET6_ADDRSTRLEN + 8)

/*
 * Parses "A.B.C.D:PORT" or "[V6]:PORT" (len bytes of s, no NUL needed) with a
 * port of 0-65535 (0: the kernel picks a free one at bind). Returns 0, or -1 with *why set to a static explanation.
 */
int	net_addr_parse(struct net_addr *addr, const char *s, size_t len,
	    const char **why);

/*
 * A Unix stream socket's address: an absolute path (a relative one would
 * depend on the daemon's directory) that fits sun_path. Returns 0, or -1
 * with *why set to a static explanation.
 */
int	net_addr_unix(struct net_addr *addr, const char *path, const char **why);
/*
 * Writes "A.B.C.D:PORT", "[V6]:PORT" or "unix:PATH" into dst (NET_ADDRSTRLEN
 * bytes, which a long path is cut to).
 */
void	net_addr_format(const struct net_addr *addr, char *dst, size_t size);

/* Writes the address alone, "A.B.C.D" or "V6" (INET6_ADDRSTRLEN bytes). */
void	net_addr_host(const struct net_addr *addr, char *dst, size_t size);

bool	net_addr_equal(const struct net_addr *a, const struct net_addr *b);

/*
 * A non-blocking, close-on-exec listening TCP socket bound to addr, with
 * SO_REUSEADDR, and IPV6_V6ONLY on IPv6 so that 0.0.0.0:P and [::]:P can
 * coexist. Returns the fd, or -1 with errno.
 */
int	net_listen(const struct net_addr *addr, int backlog);

/*
 * Accepts one connection as a non-blocking, close-on-exec socket and stores
 * the peer's address. Returns the fd, or -1 with errno (EAGAIN when none).
 */
int	net_accept(int listen_fd, struct net_addr *peer);

/*
 * Starts a non-blocking connect to addr: returns the fd (connected, or with
 * the connection in progress: EPOLLOUT then SO_ERROR tell), or -1 with errno.
 */
int	net_connect_start(const struct net_addr *addr);

/*
 * For clients, not the daemon (it blocks): resolves host and port (names or
 * numbers, IPv4 or IPv6) and connects to each address in turn, waiting at
 * most timeout_ms for each (0 = the system's own timeout). Returns a connected
 * non-blocking fd with the address in *used, or -1 with a message like
 * "connect 127.0.0.1:7070: Connection refused" in err.
 */
int	net_dial(const char *host, const char *port, int timeout_ms,
	    struct net_addr *used, char *err, size_t errlen);

/* Whether addr is 0.0.0.0 or ::, which stands for every local address. */
bool	net_addr_is_wildcard(const struct net_addr *addr);

/* The port, in host order. */
uint16_t net_addr_port(const struct net_addr *addr);

/* Whether addr is an IPv4 address written as IPv6 (::ffff:a.b.c.d). */
bool	net_addr_is_v4mapped(const struct net_addr *addr);

/* The local address of a socket; 0 or -1 with errno. */
int	net_local_addr(int fd, struct net_addr *addr);

/*
 * Every socket is a file descriptor: raises the soft RLIMIT_NOFILE toward
 * want, as far as the hard limit allows. Returns the soft limit now in force
 * (UINT64_MAX for none), or 0 with errno when it cannot be read.
 */
uint64_t net_raise_fd_limit(uint64_t want);

#endif
