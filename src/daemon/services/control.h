/* SPDX-License-Identifier: MIT */
#ifndef TCPD_SERVICES_CONTROL_H
#define TCPD_SERVICES_CONTROL_H

#include <stddef.h>

#include "daemon/config.h"
#include "daemon/services/toxics.h"

struct net_addr;

/*
 * service = control: Toxiproxy's HTTP API (version 2) over the runtime
 * listeners (runtime.h). The pure parts, apart from any connection, for
 * the tests: where a path leads, and a proxy's JSON onto a listener.
 */

enum control_target {
	CONTROL_NONE,		/* no such path: 404 */
	CONTROL_VERSION,	/* /version */
	CONTROL_PROXIES,	/* /proxies */
	CONTROL_POPULATE,	/* /populate */
	CONTROL_PROXY,		/* /proxies/{name} */
	CONTROL_RESET,		/* /reset */
	CONTROL_TOXICS,		/* /proxies/{name}/toxics */
	CONTROL_TOXIC,		/* /proxies/{name}/toxics/{toxic} */
};

/*
 * The target of path (len bytes, up to any '?'), with the proxy's name
 * into name (CONTROL_PROXY, CONTROL_TOXICS, CONTROL_TOXIC) and the toxic's
 * into toxic (CONTROL_TOXIC). A name that is no listener name (1-31
 * letters, digits, '-' or '_') or no toxic name (toxic_name_valid()) leads
 * nowhere.
 */
enum control_target control_route(const char *path, size_t len, char name[CONFIG_NAME_MAX],
	    char toxic[TOXIC_NAME_MAX]);

/*
 * A proxy's JSON (len bytes: an object with name, listen, upstream,
 * enabled) onto lc, which holds the proxy as it is (or the defaults for a
 * new one): the fields present replace lc's. create asks for a name and an
 * upstream; its listen defaults to 127.0.0.1:0. A listen address is on
 * loopback or in may_listen (the control listener's proxy_listen_allow;
 * NULL: none). Returns 0; or an HTTP status (400 malformed or invalid, 403
 * a listen address not allowed) with why set to a static explanation.
 */
int	control_proxy_parse(const char *body, size_t len, bool create,
	    struct listener_config *lc, const struct cidr_list *may_listen, const char **why);

/*
 * A populate's body (len bytes: a JSON array of proxies' objects, at most
 * max) into lcs, *n of them, each from defaults as control_proxy_parse()
 * makes a new one with may_listen; no two with one name. Returns 0; or an
 * HTTP status (400, 403) with why ("proxy N: ...", N counted from 1)
 * written into why.
 */
int	control_populate_parse(const char *body, size_t len,
	    const struct listener_config *defaults, const struct cidr_list *may_listen,
	    struct listener_config *lcs, size_t max, size_t *n, char *why, size_t whylen);

/*
 * Whether a proxy listening on bound serves a populate's want: the same
 * address, or want's host with port 0 (any port).
 */
bool	control_listen_matches(const struct net_addr *bound, const struct net_addr *want);

#endif
