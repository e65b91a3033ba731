/* SPDX-License-Identifier: MIT */
#ifndef TCPD_NOTIFY_H
#define TCPD_NOTIFY_H

#include <stdint.h>

/*
 * The sd_notify(3) protocol without libsystemd: newline-separated KEY=VALUE
 * lines in one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET, a
 * path or, with a leading '@', an abstract name.
 *
 * notify_send() returns 1 when sent, 0 when $NOTIFY_SOCKET is unset (not run
 * by systemd: nothing to do), or a negative errno. It never blocks.
 */
int	notify_send(const char *state);

/*
 * RELOADING=1 with MONOTONIC_USEC (which Type=notify-reload needs to match
 * the reload to its READY=1), as notify_send() returns.
 */
int	notify_reloading(void);

/*
 * A worker's notifications go to fd (its end of the channel to its
 * supervisor, one message each) instead of $NOTIFY_SOCKET; -1 undoes it.
 */
void	notify_set_fd(int fd);

/*
 * The watchdog interval systemd asked for, from $WATCHDOG_USEC (and
 * $WATCHDOG_PID, when set, naming this process); 0 when there is none.
 */
uint64_t notify_watchdog_usec(void);

/* Closes the cached socket and forgets notify_set_fd()'s (tests; a reload of $NOTIFY_SOCKET). */
void	notify_reset(void);

#endif
