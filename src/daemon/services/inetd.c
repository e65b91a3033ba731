/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <time.h>

#include "daemon/services/inetd.h"

/* Seconds from 1900-01-01 to 1970-01-01. */
#define RFC868_EPOCH_OFFSET	2208988800ULL

size_t
inetd_chargen(char *dst, size_t size, unsigned *line)
{
	/* The ring twice over, so every line is one contiguous copy. */
	static char ring[2 * CHARGEN_RING];
	size_t n = 0;
	int i;

	if (ring[0] == '\0')
		for (i = 0; i < 2 * CHARGEN_RING; i++)
			ring[i] = (char)(' ' + i % CHARGEN_RING);
	while (size - n >= CHARGEN_LINE_LEN) {
		memcpy(dst + n, ring + *line, CHARGEN_LINE_LEN - 2);
		memcpy(dst + n + CHARGEN_LINE_LEN - 2, "\r\n", 2);
		n += CHARGEN_LINE_LEN;
		*line = (*line + 1) % CHARGEN_RING;
	}
	return n;
}

size_t
inetd_daytime(char dst[DAYTIME_MAX], time_t now)
{
	struct tm tm;
	size_t n;

	gmtime_r(&now, &tm);
	/* strftime's %A and %B follow LC_TIME; tcpd never calls setlocale(). */
	n = strftime(dst, DAYTIME_MAX, "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &tm);
	return n;
}

void
inetd_time(unsigned char dst[4], time_t now)
{
	unsigned long long t = ((unsigned long long)now + RFC868_EPOCH_OFFSET) &
	    0xffffffffULL;

	dst[0] = (unsigned char)(t >> 24);
	dst[1] = (unsigned char)(t >> 16);
	dst[2] = (unsigned char)(t >> 8);
	dst[3] = (unsigned char)t;
}
