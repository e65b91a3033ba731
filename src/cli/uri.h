/* SPDX-License-Identifier: MIT */
#ifndef TCPD_URI_H
#define TCPD_URI_H

#include <stdbool.h>
#include <stdint.h>

#define URI_PART_MAX	1024	/* a decoded user name or password, NUL included */

/* What -u redis://[[user:]password@][host][:port][/db] names. */
struct uri {
	char	host[256];		/* "" when the URI names none; [v6] unbracketed */
	char	port[6];		/* "" when none */
	bool	has_user, has_pass;
	char	user[URI_PART_MAX];
	char	pass[URI_PART_MAX];
	int64_t	db;			/* -1 when none */
};

/*
 * Parses uri as redis-cli 7 does: the scheme in any case, user and password
 * percent-decoded (%40 is @), the user only when a ':' comes before the '@'
 * (redis://secret@host is a password alone), db a decimal number. Stricter
 * where redis-cli reads nonsense as 0: a port is 1 to 65535 and a database
 * a number, or the URI is refused. Returns 0, or -1 with *why set
 * (redis-cli's own text where it has one; rediss:// is refused: no TLS).
 * Touches nothing but *u.
 */
int	uri_parse(const char *uri, struct uri *u, const char **why);

#endif
