/* SPDX-License-Identifier: MIT */
#ifndef TCPD_EXPO_H
#define TCPD_EXPO_H

struct buf;

/*
 * Appends every metric in the Prometheus text exposition format 0.0.4:
 * "# HELP" and "# TYPE" once before each family's samples, counters ending
 * in _total, seconds and bytes as base units, label values escaped, no
 * client address as a label. Every series exists from the start, at zero.
 * Returns 0, or -1 with errno (out full).
 */
int	expo_format(struct buf *out);

#endif
