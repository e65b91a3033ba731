/* SPDX-License-Identifier: MIT */
#ifndef TCPD_CHANNEL_H
#define TCPD_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct config;

/*
 * The channel between the supervisor and one worker: a SOCK_SEQPACKET
 * socketpair made before the fork, one message per notification. The worker
 * sends its sd_notify lines (notify_set_fd()) and the outcome of each
 * configuration it is given (CHANNEL_APPLIED, or CHANNEL_FAILED and why);
 * the supervisor sends every configuration it has parsed and checked,
 * packed into a memfd that rides along (SCM_RIGHTS), so a worker never
 * reads the file: it runs what its supervisor checked. The packed form
 * holds the service by name and the included files' names as text, and is
 * read only by a process of the same build (a fork, no exec).
 */
#define CHANNEL_APPLIED	"TCPD_RELOAD=ok"
#define CHANNEL_FAILED	"TCPD_RELOAD=failed: "

/* The pair: [0] the supervisor's end, [1] the worker's; both non-blocking, close-on-exec. */
int	channel_pair(int fds[2]);

/* Sends cfg as one message. Returns 0, or -1 with errno. */
int	channel_send_config(int fd, const struct config *cfg);

/*
 * Takes one message: its text, NUL-ended, into text; a configuration
 * attached is unpacked into *cfg (the caller's then, to config_free()) with
 * *got_cfg set. Returns the text's length, 0 when the other end has closed,
 * or -1 with errno (EAGAIN: nothing waiting; EBADMSG: a malformed
 * configuration, dropped).
 */
ssize_t	channel_recv(int fd, char *text, size_t size, struct config *cfg, bool *got_cfg);

#endif
