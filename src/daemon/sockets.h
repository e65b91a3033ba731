/* SPDX-License-Identifier: MIT */
#ifndef TCPD_SOCKETS_H
#define TCPD_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>

struct activation;
struct config;
struct listener_config;
struct net_addr;

/*
 * Listening sockets apart from any server or loop: bound from a listener's
 * configuration, or taken from systemd's socket activation, and handed to
 * workers in the form socket activation has (struct activation). A server
 * builds on these; a supervisor needs nothing else.
 */

/*
 * A listening socket on lc's i-th address (net_listen(): non-blocking,
 * close-on-exec). Returns the fd; -1 with *skipped set and a warning logged
 * for an optional address ("-ADDR:PORT") the host lacks; -1 with a message
 * in err for any other failure.
 */
int	sockets_bind(const struct listener_config *lc, size_t i, bool *skipped, char *err,
	    size_t errlen);

/*
 * The sockets systemd passed that tcpd can serve, into valid (names kept):
 * bound TCP over IPv4 or IPv6 (listening or not), made non-blocking. Each other one is
 * closed with the reason logged.
 */
void	sockets_take_passed(const struct activation *passed, struct activation *valid);

/*
 * Whether a socket in valid is named after no listener of cfg: said in err,
 * since the listener meant to adopt it would otherwise bind the address
 * itself and fail with a misleading EADDRINUSE.
 */
bool	sockets_unmatched(const struct activation *valid, const struct config *cfg, char *err,
	    size_t errlen);

/* Whether addr is one of lc's binds. */
bool	sockets_in_binds(const struct listener_config *lc, const struct net_addr *addr);

/*
 * Every socket cfg's listeners serve, each taken once: those systemd passed
 * under a listener's name, or else the listener's addresses, bound. Into
 * out, named by listener, as workers adopt them. Returns 0, or -1 with a
 * message in err and nothing left open (passed sockets included).
 */
int	sockets_open(const struct config *cfg, const struct activation *passed,
	    struct activation *out, char *err, size_t errlen);

#endif
