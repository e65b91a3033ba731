/* SPDX-License-Identifier: MIT */
#ifndef TCPD_PREAMBLE_H
#define TCPD_PREAMBLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/acl.h"
#include "daemon/listener.h"
#include "daemon/proxy.h"
#include "tcpd/net.h"

/*
 * The phases before a PROXY listener's service (nginx's stream phases;
 * HAProxy reads the header below the stream): the header a load balancer
 * sends first, then the admission of the client it names, as if it had
 * connected itself. No socket and no connection: bytes in, an outcome out,
 * which the connection applies. Only a PROXY listener's connections carry
 * one, and only until it is done.
 */
struct preamble {
	struct proxy_parser	parser;
};

enum preamble_status {
	PREAMBLE_MORE,		/* all input used, the header is not whole yet */
	PREAMBLE_ADMITTED,	/* the client is admitted: the service takes over */
	PREAMBLE_REFUSED,	/* a bad header or the client's admission refused */
};

struct preamble_outcome {
	/* ADMITTED or REFUSED after a whole header: the client it names, or none (LOCAL). */
	bool			 named;
	struct net_addr		 client, local;
	/* ADMITTED: whom the listener's per-IP table counted, to give back at close. */
	uint8_t			 key[16];
	/* REFUSED: why, counted and logged as that. */
	enum reject_reason	 reason;
	char			 why[CIDR_STRLEN + 64];
	/* The header's extras, for a debug line (the authority escaped); 0: none. */
	unsigned		 version;
	size_t			 unique_id_len;
	const char		*authority;
};

void	preamble_init(struct preamble *p, const struct listener *l);

/*
 * Feeds len bytes from the socket whose peer (the load balancer) is
 * peer_key; *used tells how many it took. On ADMITTED the bytes after the
 * header are the service's.
 */
enum preamble_status preamble_feed(struct preamble *p, struct listener *l,
	    const uint8_t peer_key[16], const char *data, size_t len, size_t *used,
	    struct preamble_outcome *o);

/* No whole header within the listener's proxy_timeout: the refusal. */
void	preamble_timed_out(const struct listener *l, struct preamble_outcome *o);

#endif
