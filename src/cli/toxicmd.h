/* SPDX-License-Identifier: MIT */
#ifndef TCPD_TOXICMD_H
#define TCPD_TOXICMD_H

#include <stdio.h>

struct toxi_server;

/*
 * tcpd-cli proxy ... and tcpd-cli toxic ...: toxiproxy-cli's commands over
 * tcpd's control API at s. argv[0] is "proxy" or "toxic", argv[1] the verb;
 * the options may come before or after the name. Prints what was done on
 * stdout, an error the API answered as "ERR text (status)" on stderr.
 * Returns the exit status: 0 done, 1 the API refused, 2 the API not reached
 * or its answer not understood, 3 a usage error.
 */
int	toxicmd_main(const struct toxi_server *s, int argc, char *argv[]);

/* The proxy and toxic lines of tcpd-cli --help. */
void	toxicmd_usage(FILE *out);

#endif
