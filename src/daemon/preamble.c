/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "daemon/acl.h"
#include "daemon/preamble.h"

void
preamble_init(struct preamble *p, const struct listener *l)
{
	proxy_init(&p->parser, l->proxy_versions);
}

/* Whom to admit: the client the header names, or the socket's peer for LOCAL. */
static enum preamble_status
admit(struct listener *l, const struct proxy_header *h, const uint8_t peer_key[16],
    struct preamble_outcome *o)
{
	const struct cidr *rule;

	o->named = !h->local;
	if (o->named) {
		o->client = h->src;
		o->local = h->dst;
		cidr_key(&h->src, o->key);
	} else {
		memcpy(o->key, peer_key, sizeof(o->key));	/* the balancer's own check */
	}
	if ((o->reason = listener_admit(l, o->key, &rule)) == REJECT_REASONS)
		return PREAMBLE_ADMITTED;
	if (o->reason == REJECT_ACL && rule != NULL) {
		snprintf(o->why, sizeof(o->why), "deny ");
		cidr_format(rule, o->why + 5, sizeof(o->why) - 5);
	} else {
		snprintf(o->why, sizeof(o->why), "%s", o->reason == REJECT_ACL ? "not in allow" :
		    o->reason == REJECT_PER_IP ? "max_connections_per_ip reached" :
		    "out of memory");
	}
	return PREAMBLE_REFUSED;
}

enum preamble_status
preamble_feed(struct preamble *p, struct listener *l, const uint8_t peer_key[16],
    const char *data, size_t len, size_t *used, struct preamble_outcome *o)
{
	enum proxy_status status;
	const struct proxy_header *h = &p->parser.h;

	*o = (struct preamble_outcome){ .reason = REJECT_REASONS };
	*used = proxy_feed(&p->parser, (const uint8_t *)data, len, &status);
	if (status == PROXY_MORE)
		return PREAMBLE_MORE;
	if (status == PROXY_INVALID) {
		o->reason = REJECT_PROXY_INVALID;
		snprintf(o->why, sizeof(o->why), "invalid PROXY header: %s", p->parser.why);
		return PREAMBLE_REFUSED;
	}
	o->version = h->version;
	o->unique_id_len = h->unique_id_len;
	o->authority = h->authority;
	return admit(l, h, peer_key, o);
}

void
preamble_timed_out(const struct listener *l, struct preamble_outcome *o)
{
	*o = (struct preamble_outcome){ .reason = REJECT_PROXY_TIMEOUT };
	snprintf(o->why, sizeof(o->why), "no PROXY header within proxy_timeout (%u s)",
	    l->proxy_timeout);
}
