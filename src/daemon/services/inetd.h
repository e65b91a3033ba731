/* SPDX-License-Identifier: MIT */
#ifndef TCPD_INETD_H
#define TCPD_INETD_H

#include <stddef.h>
#include <time.h>

/* The classic small services' output, as pure functions (RFC 864, 867, 868). */

/* RFC 864: 72 characters, then CRLF. */
#define CHARGEN_LINE_LEN	74
/* The ring of printable ASCII, space through tilde. */
#define CHARGEN_RING		95

/*
 * Writes as many whole chargen lines as fit in size bytes, starting with
 * line *line (0..94), and advances *line. Returns the bytes written.
 */
size_t	inetd_chargen(char *dst, size_t size, unsigned *line);

/* "Tuesday, February 22, 1982 17:37:43-UTC\r\n" for now, in UTC; returns length. */
#define DAYTIME_MAX		64
size_t	inetd_daytime(char dst[DAYTIME_MAX], time_t now);

/* RFC 868: seconds since 1900-01-01 UTC, big-endian, modulo 2^32. */
void	inetd_time(unsigned char dst[4], time_t now);

#endif
