/* SPDX-License-Identifier: MIT */
/*
 * The stage before a PROXY-protocol listener's service: it reads the header
 * a load balancer sends first, admits the client it names (allow/deny,
 * per-IP limits) as if it had connected itself, then hands the connection,
 * and the bytes after the header, to the listener's service. Nothing is
 * sent and no service runs before a whole valid header: daytime, time and
 * chargen included.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/acl.h"
#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/proxy.h"
#include "daemon/services/service.h"
#include "daemon/stats.h"
#include "tcpd/log.h"

/* A refused connection: counted by reason, logged at most once a second, closed. */
static void
refuse(struct conn *c, enum reject_reason reason, const char *why)
{
	struct listener *l = conn_listener(c);
	unsigned held;

	l->rejected[reason]++;
	if (reason == REJECT_ACL)
		stats.denied_connections++;
	else
		stats.rejected_connections++;
	if (log_rate_ok(&l->reject_log, conn_now(c), &held))
		conn_log(c, LOG_LEVEL_WARNING, "refused: %s (%u more since the last such line)",
		    why, held);
	conn_finish(c);
}

static int
stage_open(struct conn *c, void *state)
{
	struct listener *l = conn_listener(c);

	proxy_init(state, l->proxy_versions);
	/* From accept: a peer that sends nothing must not hold the connection. */
	conn_set_request_deadline(c, l->proxy_timeout);
	return 0;
}

/* Whom to admit: the client the header names, or the socket's peer for LOCAL. */
static void
admit(struct conn *c, const struct proxy_header *h)
{
	struct listener *l = conn_listener(c);
	const struct cidr *rule;
	enum reject_reason why;
	char text[CIDR_STRLEN + 16];
	uint8_t key[16];

	if (h->local)
		conn_peer_key(c, key);	/* LOCAL: the load balancer's own check, as itself */
	else
		cidr_key(&h->src, key);
	why = listener_admit(l, key, &rule);
	if (!h->local)
		conn_set_client(c, &h->src, &h->dst);
	if (why != REJECT_REASONS) {
		if (why == REJECT_ACL && rule != NULL) {
			snprintf(text, sizeof(text), "deny ");
			cidr_format(rule, text + 5, sizeof(text) - 5);
		} else {
			snprintf(text, sizeof(text), "%s", why == REJECT_ACL ? "not in allow" :
			    why == REJECT_PER_IP ? "max_connections_per_ip reached" :
			    "out of memory");
		}
		if (why == REJECT_PER_IP && l->service->refusal != NULL)
			conn_send(c, l->service->refusal, strlen(l->service->refusal));
		refuse(c, why, text);
		return;
	}
	conn_count(c, key);
	conn_begin(c, l->service);
}

static size_t
stage_input(struct conn *c, void *state, const char *data, size_t len)
{
	struct proxy_parser *p = state;
	struct proxy_header h;
	enum proxy_status status;
	size_t used = proxy_feed(p, (const uint8_t *)data, len, &status);
	char why[96];

	if (status == PROXY_MORE)
		return used;
	if (status == PROXY_INVALID) {
		snprintf(why, sizeof(why), "invalid PROXY header: %s", p->why);
		refuse(c, REJECT_PROXY_INVALID, why);
		return len;
	}
	h = p->h;	/* the state is the service's from here */
	if (h.unique_id_len > 0 || h.authority[0] != '\0')
		conn_log(c, LOG_LEVEL_DEBUG, "PROXY v%u header: unique_id %zu bytes, "
		    "authority '%s'", h.version, h.unique_id_len, h.authority);
	admit(c, &h);
	return used;
}

static void
stage_request_timeout(struct conn *c, void *state)
{
	struct listener *l = conn_listener(c);
	char why[64];

	(void)state;
	snprintf(why, sizeof(why), "no PROXY header within proxy_timeout (%u s)",
	    l->proxy_timeout);
	refuse(c, REJECT_PROXY_TIMEOUT, why);
}

/* Not in the registry: no listener names it; a PROXY listener runs it first. */
const struct service service_proxy_stage = {
	.name = "proxy-header",
	.state_size = sizeof(struct proxy_parser),
	.open = stage_open,
	.input = stage_input,
	.request_timeout = stage_request_timeout,
};
