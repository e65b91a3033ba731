/* SPDX-License-Identifier: MIT */
#ifndef TCPD_PROXY_H
#define TCPD_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpd/net.h"

/*
 * The PROXY protocol header a load balancer sends first (HAProxy's
 * proxy-protocol.txt), v1 (text) and v2 (binary): a parser fed bytes as
 * they arrive, keeping only what it reports, so a v2 header of 16 + 65535
 * bytes costs a fixed few hundred bytes of state. It knows no socket.
 */

enum proxy_versions { PROXY_V1 = 1, PROXY_V2 = 2, PROXY_ANY = 3 };

enum proxy_status { PROXY_MORE, PROXY_DONE, PROXY_INVALID };

#define PROXY_V1_MAX		107	/* bytes, CRLF included */
#define PROXY_UNIQUE_ID_MAX	128
#define PROXY_AUTHORITY_MAX	255

struct proxy_header {
	bool		local;		/* LOCAL, UNKNOWN or an unknown family: the socket's own addresses */
	unsigned	version;
	struct net_addr	src, dst;	/* when not local */
	char		unique_id[PROXY_UNIQUE_ID_MAX + 1];	/* v2 TLV 0x05, NUL-ended */
	size_t		unique_id_len;
	/* v2 TLV 0x02, escaped as log_escape() does, cut with "..." to fit */
	char		authority[PROXY_AUTHORITY_MAX + 1];
};

struct proxy_parser {
	unsigned	versions;	/* which the listener accepts */
	int		phase;
	uint8_t		fixed[16 + 216];	/* v2: signature, header, address block */
	size_t		have;
	char		line[PROXY_V1_MAX + 1];	/* v1 */
	size_t		line_len;
	uint32_t	left;		/* v2: bytes of the header still to come */
	uint32_t	crc;		/* CRC32C of what was read, the CRC field as zeros */
	uint32_t	crc_sent;
	bool		crc_present;
	uint8_t		tlv[3];		/* the TLV being read: type, length */
	size_t		tlv_have;	/* of its 3 header bytes */
	uint32_t	tlv_left;	/* of its value */
	uint32_t	tlv_pos;
	struct proxy_header h;
	const char	*why;		/* on PROXY_INVALID */
};

/* A parser for a listener that accepts versions (PROXY_V1, PROXY_V2 or both). */
void	proxy_init(struct proxy_parser *p, unsigned versions);

/*
 * Feeds bytes. Returns how many it used: on PROXY_DONE (in *status) exactly
 * the header's, the rest being the application's; on PROXY_MORE all of
 * them; on PROXY_INVALID some, with p->why set.
 */
size_t	proxy_feed(struct proxy_parser *p, const uint8_t *buf, size_t len,
	    enum proxy_status *status);

/* The most bytes proxy_format() writes: a v1 line at its limit. */
#define PROXY_FORMAT_MAX	PROXY_V1_MAX

/*
 * The header a proxy sends its server first, in version (PROXY_V1 or
 * PROXY_V2): src is the client, dst the address it reached; NULL for
 * either when unknown, which is v1's "PROXY UNKNOWN" and v2's LOCAL (the
 * server uses the socket's own). An IPv4 address beside an IPv6 one is
 * written IPv4-mapped, as one header has one family. Writes into out, at
 * least PROXY_FORMAT_MAX bytes; returns the length, no NUL.
 */
size_t	proxy_format(uint8_t *out, unsigned version, const struct net_addr *src,
	    const struct net_addr *dst);

/* CRC32C (Castagnoli) of n bytes, continuing from crc (start with 0). */
uint32_t proxy_crc32c(uint32_t crc, const uint8_t *p, size_t n);

#endif
