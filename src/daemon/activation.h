/* SPDX-License-Identifier: MIT */
#ifndef TCPD_ACTIVATION_H
#define TCPD_ACTIVATION_H

#include <stddef.h>

/*
 * Sockets passed by systemd's socket activation (sd_listen_fds(3)): fds from
 * 3 on, as many as $LISTEN_FDS says, when $LISTEN_PID is this process, named
 * by the colon-separated $LISTEN_FDNAMES (FileDescriptorName= in the unit;
 * "unknown" when absent).
 */
#define ACTIVATION_FD_START	3
#define ACTIVATION_MAX		64
#define ACTIVATION_NAME_MAX	256
/*
 * A passed name is kept as log_escape() shows it, cut to this many
 * characters with "...": it reaches log lines, which a newline must not
 * split and whose reason a 1000-byte name must not push out. A name a
 * listener can have (1-31 letters, digits, '-', '_') is kept as it is.
 */
#define ACTIVATION_SHOWN_MAX	48

struct activation {
	int	fds[ACTIVATION_MAX];
	char	names[ACTIVATION_MAX][ACTIVATION_NAME_MAX];
	size_t	n;
};

/*
 * Takes the passed sockets: sets close-on-exec on each and unsets the three
 * variables so no child inherits them. Returns the count (0 when nothing was
 * passed), or a negative errno for malformed variables (-EINVAL) or more
 * than ACTIVATION_MAX sockets (-E2BIG).
 */
int	activation_take(struct activation *a);

#endif
