/* SPDX-License-Identifier: MIT */
/*
 * service = control: Toxiproxy's HTTP API, so its client libraries drive
 * tcpd's fault proxy unchanged. Each proxy is a runtime listener of
 * service proxy in this process (runtime.h), gone on restart. JSON through
 * jansson; the request head through http.c; head and body within max_line.
 */
#include <netinet/in.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/acl.h"
#include "daemon/conn.h"
#include "daemon/http.h"
#include "daemon/listener.h"
#include "daemon/runtime.h"
#include "daemon/services/control.h"
#include "daemon/services/service.h"
#include "daemon/services/toxics.h"
#include "tcpd/buf.h"
#include "tcpd/net.h"
#include "tcpd_build.h"

extern const struct service service_proxy;

/* Proxies one process keeps: each change copies them all. */
#define CONTROL_MAX_PROXIES	256

/*
 * The names of each proxy's toxics, by stream and type ("" for none), in
 * the order of the runtime listeners (change() keeps them so): the values
 * live in the listeners' profiles, the names only here.
 */
static char toxic_names[CONTROL_MAX_PROXIES][TOXIC_STREAMS][TOXIC_TYPES][TOXIC_NAME_MAX];

struct control_state {
	struct http_state	 http;
	/* A head parsed whose body is still coming: not parsed again per read. */
	size_t			 head;
	size_t			 path_off;
	struct http_request	 req;
};

enum control_target
control_route(const char *path, size_t len, char name[CONFIG_NAME_MAX],
    char toxic[TOXIC_NAME_MAX])
{
	const char *end = path + len, *p, *slash;

	if (len == 8 && memcmp(path, "/version", 8) == 0)
		return CONTROL_VERSION;
	if (len == 6 && memcmp(path, "/reset", 6) == 0)
		return CONTROL_RESET;
	if (len == 8 && memcmp(path, "/proxies", 8) == 0)
		return CONTROL_PROXIES;
	if (len == 9 && memcmp(path, "/populate", 9) == 0)
		return CONTROL_POPULATE;
	if (len <= 9 || memcmp(path, "/proxies/", 9) != 0)
		return CONTROL_NONE;
	p = path + 9;
	if ((slash = memchr(p, '/', (size_t)(end - p))) == NULL)
		slash = end;
	if (!listener_name_valid(p, (size_t)(slash - p)))
		return CONTROL_NONE;
	memcpy(name, p, (size_t)(slash - p));
	name[slash - p] = '\0';
	if (slash == end)
		return CONTROL_PROXY;
	p = slash;
	if (end - p == 7 && memcmp(p, "/toxics", 7) == 0)
		return CONTROL_TOXICS;
	if (end - p <= 8 || memcmp(p, "/toxics/", 8) != 0 ||
	    !toxic_name_valid(p + 8, (size_t)(end - p - 8)))
		return CONTROL_NONE;
	memcpy(toxic, p + 8, (size_t)(end - p - 8));
	toxic[end - p - 8] = '\0';
	return CONTROL_TOXIC;
}

/* 127.0.0.0/8 and ::1, also as a v4-mapped address. */
static bool
is_loopback(const struct net_addr *a)
{
	const uint8_t *v6 = a->u.in6.sin6_addr.s6_addr;

	if (a->u.sa.sa_family == AF_INET)
		return (ntohl(a->u.in.sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&a->u.in6.sin6_addr) ||
	    (net_addr_is_v4mapped(a) && v6[12] == 127);
}

/* "HOST:PORT" with "localhost" as 127.0.0.1, the name Toxiproxy's users write. */
static int
parse_addr(struct net_addr *addr, const char *s)
{
	char text[NET_ADDRSTRLEN + 16];
	const char *why;

	if (strncmp(s, "localhost:", 10) == 0 &&
	    snprintf(text, sizeof(text), "127.0.0.1:%s", s + 10) < (int)sizeof(text))
		s = text;
	return net_addr_parse(addr, s, strlen(s), &why);
}

/* Loopback, or a block of the control listener's proxy_listen_allow. */
static bool
may_listen_on(const struct net_addr *a, const struct cidr_list *allowed)
{
	uint8_t key[16];
	size_t i;

	if (is_loopback(a))
		return true;
	cidr_key(a, key);
	for (i = 0; allowed != NULL && i < allowed->n; i++)
		if (cidr_match(&allowed->v[i], key))
			return true;
	return false;
}

/* A proxy's JSON object onto lc, as control_proxy_parse() says. */
static int
proxy_from_json(json_t *root, bool create, struct listener_config *lc,
    const struct cidr_list *may_listen, const char **why)
{
	json_t *name, *listen, *upstream, *enabled, *blackhole, *seed;

	if (!json_is_object(root)) {
		*why = "the body must be a JSON object";
		return 400;
	}
	name = json_object_get(root, "name");
	listen = json_object_get(root, "listen");
	upstream = json_object_get(root, "upstream");
	enabled = json_object_get(root, "enabled");
	blackhole = json_object_get(root, "blackhole");
	seed = json_object_get(root, "seed");
	*why = "name and upstream are required";
	if (create && (name == NULL || upstream == NULL))
		return 400;
	*why = "name, listen and upstream must be strings, enabled a boolean";
	if ((name != NULL && !json_is_string(name)) ||
	    (listen != NULL && !json_is_string(listen)) ||
	    (upstream != NULL && !json_is_string(upstream)) ||
	    (enabled != NULL && !json_is_boolean(enabled)))
		return 400;
	*why = "name: 1-31 letters, digits, '-' or '_'";
	if (name != NULL && !listener_name_valid(json_string_value(name), json_string_length(name)))
		return 400;
	/* An update cannot rename: the name is the proxy's key. */
	if (name != NULL && !create && strcmp(json_string_value(name), lc->name) != 0)
		return 400;
	if (name != NULL)
		snprintf(lc->name, sizeof(lc->name), "%s", json_string_value(name));
	/* Toxiproxy's listen may be left out: any free port, here on loopback. */
	if (create && listen == NULL)
		(void)parse_addr(&lc->binds[0], "127.0.0.1:0");
	*why = "listen: expected HOST:PORT with a numeric host (or localhost)";
	if (listen != NULL && parse_addr(&lc->binds[0], json_string_value(listen)) == -1)
		return 400;
	if (listen != NULL && !may_listen_on(&lc->binds[0], may_listen)) {
		*why = "listen: only loopback addresses (127.0.0.0/8, ::1) and those of "
		    "proxy_listen_allow are served";
		return 403;
	}
	lc->nbinds = 1;
	*why = "upstream: expected HOST:PORT with a numeric host (or localhost)";
	if (upstream != NULL && parse_addr(&lc->upstream_addr, json_string_value(upstream)) == -1)
		return 400;
	if (enabled != NULL)
		lc->refuse = !json_is_true(enabled);
	/* tcpd's own: connects queued and never accepted; each connection's faults replayed. */
	*why = "blackhole must be a boolean, seed an integer from 0 or null";
	if ((blackhole != NULL && !json_is_boolean(blackhole)) || (seed != NULL &&
	    !json_is_null(seed) && (!json_is_integer(seed) || json_integer_value(seed) < 0)))
		return 400;
	if (blackhole != NULL)
		lc->blackhole = json_is_true(blackhole);
	if (seed != NULL)
		pace_profiles_seed(&lc->profile, &lc->upstream, !json_is_null(seed),
		    json_is_null(seed) ? 0 : (uint64_t)json_integer_value(seed));
	return 0;
}

int
control_proxy_parse(const char *body, size_t len, bool create, struct listener_config *lc,
    const struct cidr_list *may_listen, const char **why)
{
	json_error_t error;
	json_t *root;
	int status;

	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error)) == NULL) {
		*why = "the body is not valid JSON";
		return 400;
	}
	status = proxy_from_json(root, create, lc, may_listen, why);
	json_decref(root);
	return status;
}

int
control_populate_parse(const char *body, size_t len, const struct listener_config *defaults,
    const struct cidr_list *may_listen, struct listener_config *lcs, size_t max, size_t *n,
    char *why, size_t whylen)
{
	json_error_t error;
	const char *what;
	json_t *root, *v;
	size_t i, j;
	int status = 400;

	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error)) == NULL) {
		snprintf(why, whylen, "the body is not valid JSON");
		return 400;
	}
	if (!json_is_array(root)) {
		snprintf(why, whylen, "the body must be a JSON array of proxies");
		goto bad;
	}
	if (json_array_size(root) > max) {
		snprintf(why, whylen, "too many proxies (%zu)", max);
		goto bad;
	}
	json_array_foreach(root, i, v) {
		lcs[i] = *defaults;
		/* Numbered from 1, as Toxiproxy's "name at proxy 1". */
		if ((status = proxy_from_json(v, true, &lcs[i], may_listen, &what)) != 0) {
			snprintf(why, whylen, "proxy %zu: %s", i + 1, what);
			goto bad;
		}
		for (j = 0; j < i; j++)
			if (strcmp(lcs[j].name, lcs[i].name) == 0) {
				snprintf(why, whylen, "proxy %zu: %s is named twice", i + 1,
				    lcs[i].name);
				status = 400;
				goto bad;
			}
	}
	*n = json_array_size(root);
	json_decref(root);
	return 0;
bad:
	json_decref(root);
	return status;
}

/* addr with its port set to port. */
static struct net_addr
with_port(const struct net_addr *addr, uint16_t port)
{
	struct net_addr a = *addr;

	if (a.u.sa.sa_family == AF_INET6)
		a.u.in6.sin6_port = htons(port);
	else
		a.u.in.sin_port = htons(port);
	return a;
}

bool
control_listen_matches(const struct net_addr *bound, const struct net_addr *want)
{
	struct net_addr any;

	if (net_addr_port(want) != 0)
		return net_addr_equal(bound, want);
	any = with_port(want, net_addr_port(bound));
	return net_addr_equal(bound, &any);
}

/* Queues one response; closes after it when the client asks or close is set. */
static void
respond(struct conn *c, int status, const char *body, bool keep_alive)
{
	struct buf *out = conn_output(c);
	size_t len = body != NULL ? strlen(body) : 0;

	buf_appendf(out, "HTTP/1.1 %d %s\r\n%sContent-Length: %zu\r\n%s\r\n", status,
	    http_reason(status), body != NULL ? "Content-Type: application/json\r\n" : "",
	    len, keep_alive ? "" : "Connection: close\r\n");
	buf_append(out, body, len);
	if (!keep_alive)
		conn_finish(c, "HTTP response sent");
}

/* Sends j (taken) as the body, or a bare 500 when it could not be made. */
static void
respond_json(struct conn *c, int status, json_t *j, bool keep_alive)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	if (text == NULL)
		respond(c, 500, NULL, false);
	else
		respond(c, status, text, keep_alive);
	free(text);
	json_decref(j);
}

/* Toxiproxy's error shape: {"error":"...","status":N}. */
static void
respond_error(struct conn *c, int status, const char *why, bool keep_alive)
{
	respond_json(c, status, json_pack("{s:s, s:i}", "error", why, "status", status),
	    keep_alive);
}

static void
format_listen(const struct listener_config *lc, char *dst, size_t size)
{
	struct net_addr a = runtime_bound(lc);

	net_addr_format(&a, dst, size);
}

/*
 * The profile of a proxy's stream: downstream toward the client, upstream
 * toward the server; const when lc is.
 */
#define stream_profile(lc, stream) \
	((stream) == TOXIC_UPSTREAM ? &(lc)->upstream : &(lc)->profile)

/* Proxy at's toxics, as Toxiproxy lists them; NULL when out of memory. */
static json_t *
toxics_json(const struct listener_config *lc, size_t at)
{
	json_t *all = json_array();
	struct toxic t;
	int s, k;

	for (s = 0; s < TOXIC_STREAMS && all != NULL; s++)
		for (k = 0; k < TOXIC_TYPES && all != NULL; k++) {
			if (toxic_names[at][s][k][0] == '\0')
				continue;
			toxic_read((enum toxic_type)k, (enum toxic_stream)s, toxic_names[at][s][k],
			    stream_profile(lc, s), &t);
			if (json_array_append_new(all, toxic_json(&t)) == -1) {
				json_decref(all);
				all = NULL;
			}
		}
	return all;
}

static json_t *
proxy_json(const struct listener_config *lc, size_t at)
{
	char listen[NET_ADDRSTRLEN], upstream[NET_ADDRSTRLEN];
	json_t *toxics = toxics_json(lc, at);

	if (toxics == NULL)
		return NULL;
	json_t *j;

	format_listen(lc, listen, sizeof(listen));
	net_addr_format(&lc->upstream_addr, upstream, sizeof(upstream));
	j = json_pack("{s:s, s:s, s:s, s:b, s:o}", "name", lc->name, "listen", listen,
	    "upstream", upstream, "enabled", !lc->refuse, "toxics", toxics);
	/* tcpd's fields only when set: a proxy made as Toxiproxy's reads back as one. */
	if (j != NULL && ((lc->blackhole && json_object_set_new(j, "blackhole",
	    json_true()) == -1) || (lc->profile.seeded && json_object_set_new(j, "seed",
	    json_integer((json_int_t)lc->profile.seed)) == -1))) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

static ssize_t
find_proxy(const struct listener_config *lcs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(lcs[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Whether a listener of the configuration (not the API's) has this name. */
static bool
configured_name(const char *name)
{
	const struct listener_config *lcs;
	size_t n;

	lcs = runtime_listeners(&n);
	return listener_serving(name) != NULL && find_proxy(lcs, n, name) == -1;
}

/*
 * The runtime listeners with lcs[at] replaced by lc (at == n: added; lc
 * NULL: removed), applied. Returns 0, or -1 with a message in err.
 */
static int
change(size_t at, const struct listener_config *lc, char *err, size_t errlen)
{
	const struct listener_config *old;
	struct listener_config *next;
	size_t n, m;
	int rc;

	old = runtime_listeners(&n);
	m = lc == NULL ? n - 1 : at == n ? n + 1 : n;
	if ((next = calloc(m != 0 ? m : 1, sizeof(*next))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (n > 0)
		memcpy(next, old, at * sizeof(*next));
	if (lc != NULL)
		next[at] = *lc;
	if (at < n)
		memcpy(next + at + (lc != NULL), old + at + 1, (n - at - 1) * sizeof(*next));
	rc = runtime_replace(next, m, err, errlen);
	free(next);
	if (rc == 0 && lc == NULL)
		memmove(toxic_names[at], toxic_names[at + 1], (n - at - 1) * sizeof(toxic_names[0]));
	else if (rc == 0 && at == n)
		memset(toxic_names[at], 0, sizeof(toxic_names[0]));
	return rc;
}

/* A change at notice, by whom; listen as it was (a proxy deleted has none now), or NULL. */
static void
log_change(struct conn *c, const char *what, const struct listener_config *lc,
    const char *was)
{
	char listen[NET_ADDRSTRLEN], upstream[NET_ADDRSTRLEN];

	if (was != NULL)
		snprintf(listen, sizeof(listen), "%s", was);
	else
		format_listen(lc, listen, sizeof(listen));
	net_addr_format(&lc->upstream_addr, upstream, sizeof(upstream));
	conn_log(c, LOG_LEVEL_NOTICE, "control: %s proxy %s listen %s upstream %s %s", what,
	    lc->name, listen, upstream, lc->refuse ? "disabled" : "enabled");
}

static void
create_proxy(struct conn *c, const char *body, size_t len, bool keep_alive)
{
	const struct listener_config *defaults = runtime_defaults(), *lcs;
	struct listener_config lc;
	char err[256];
	const char *why;
	size_t n;
	int status;

	if (defaults == NULL) {
		respond_error(c, 503, "not serving", false);
		return;
	}
	lc = *defaults;
	lc.service = &service_proxy;
	if ((status = control_proxy_parse(body, len, true, &lc,
	    &conn_listener(c)->proxy_listen_allow, &why)) != 0) {
		respond_error(c, status, why, keep_alive);
		return;
	}
	lcs = runtime_listeners(&n);
	if (find_proxy(lcs, n, lc.name) != -1 || configured_name(lc.name)) {
		respond_error(c, 409, "proxy already exists", keep_alive);
		return;
	}
	if (n >= CONTROL_MAX_PROXIES) {
		respond_error(c, 400, "too many proxies (256)", keep_alive);
		return;
	}
	if (change(n, &lc, err, sizeof(err)) == -1) {
		respond_error(c, 500, err, keep_alive);
		return;
	}
	log_change(c, "created", &lc, NULL);
	respond_json(c, 201, proxy_json(&lc, n), keep_alive);
}

/* The stream and type of proxy at's toxic named name; false when it has none. */
static bool
find_toxic(size_t at, const char *name, enum toxic_stream *stream, enum toxic_type *type)
{
	int s, k;

	for (s = 0; s < TOXIC_STREAMS; s++)
		for (k = 0; k < TOXIC_TYPES; k++)
			if (strcmp(toxic_names[at][s][k], name) == 0) {
				*stream = (enum toxic_stream)s;
				*type = (enum toxic_type)k;
				return true;
			}
	return false;
}

/*
 * Proxy at (lc) with toxic t set (or, del, its type taken off t's stream),
 * applied, and the change logged. Returns 0, or -1 with the error sent.
 */
static int
change_toxic(struct conn *c, size_t at, struct listener_config *lc, const struct toxic *t,
    bool del, bool keep_alive)
{
	struct pace_profile *pp = stream_profile(lc, t->stream);
	char err[256];

	if (del)
		toxic_clear(t->type, pp);
	else
		toxic_apply(t, pp);
	if (change(at, lc, err, sizeof(err)) == -1) {
		respond_error(c, 500, err, keep_alive);
		return -1;
	}
	snprintf(toxic_names[at][t->stream][t->type], TOXIC_NAME_MAX, "%s", del ? "" : t->name);
	conn_log(c, LOG_LEVEL_NOTICE, "control: proxy %s: %s toxic %s (%s %s)", lc->name,
	    del ? "removed" : "set", t->name, toxic_type_name(t->type),
	    toxic_stream_name(t->stream));
	return 0;
}

/* POST /proxies/{p}/toxics: a new toxic, one of its type per stream. */
static void
create_toxic(struct conn *c, size_t at, struct listener_config *lc, const char *body,
    size_t len, bool keep_alive)
{
	enum toxic_stream stream;
	enum toxic_type type;
	const char *why;
	struct toxic t;
	int status;

	if ((status = toxic_parse(body, len, NULL, &t, &why)) != 0) {
		respond_error(c, status, why, keep_alive);
		return;
	}
	if (find_toxic(at, t.name, &stream, &type) || toxic_names[at][t.stream][t.type][0] != '\0') {
		respond_error(c, 409, "toxic already exists", keep_alive);
		return;
	}
	/* Its slot is free, so whatever ends the stream now is another toxic. */
	if ((why = toxic_conflict(&t, stream_profile(lc, t.stream))) != NULL) {
		respond_error(c, 400, why, keep_alive);
		return;
	}
	if (change_toxic(c, at, lc, &t, false, keep_alive) == 0)
		respond_json(c, 200, toxic_json(&t), keep_alive);
}

/* /proxies/{p}/toxics and /proxies/{p}/toxics/{t}. */
static void
serve_toxics(struct conn *c, const struct http_request *req, size_t at,
    struct listener_config *lc, const char *toxic, const char *body, size_t len)
{
	enum toxic_stream stream;
	enum toxic_type type;
	struct toxic old, t;
	const char *why;
	json_t *all;
	int status;

	if (toxic == NULL && req->method == HTTP_GET) {
		all = toxics_json(lc, at);
		respond_json(c, 200, all, req->keep_alive);
		return;
	}
	if (toxic == NULL && req->method == HTTP_POST) {
		create_toxic(c, at, lc, body, len, req->keep_alive);
		return;
	}
	if (toxic == NULL) {
		respond_error(c, 405, "method not allowed", req->keep_alive);
		return;
	}
	if (!find_toxic(at, toxic, &stream, &type)) {
		respond_error(c, 404, "toxic not found", req->keep_alive);
		return;
	}
	toxic_read(type, stream, toxic, stream_profile(lc, stream), &old);
	switch (req->method) {
	case HTTP_GET:
		respond_json(c, 200, toxic_json(&old), req->keep_alive);
		return;
	case HTTP_POST:
	case HTTP_PATCH:
		if ((status = toxic_parse(body, len, &old, &t, &why)) != 0)
			respond_error(c, status, why, req->keep_alive);
		else if (change_toxic(c, at, lc, &t, false, req->keep_alive) == 0)
			respond_json(c, 200, toxic_json(&t), req->keep_alive);
		return;
	case HTTP_DELETE:
		if (change_toxic(c, at, lc, &old, true, req->keep_alive) == 0)
			respond(c, 204, NULL, req->keep_alive);
		return;
	default:
		respond_error(c, 405, "method not allowed", req->keep_alive);
	}
}

/* /proxies/{name}, and its toxics when target says so (toxic: the one named, or NULL). */
static void
serve_proxy(struct conn *c, const struct http_request *req, enum control_target target,
    const char *name, const char *toxic, const char *body, size_t len)
{
	const struct listener_config *lcs;
	struct listener_config lc;
	char err[256], listen[NET_ADDRSTRLEN];
	const char *why;
	ssize_t at;
	size_t n;
	int status;

	lcs = runtime_listeners(&n);
	if ((at = find_proxy(lcs, n, name)) == -1) {
		respond_error(c, 404, "proxy not found", req->keep_alive);
		return;
	}
	lc = lcs[at];
	if (target != CONTROL_PROXY) {
		serve_toxics(c, req, (size_t)at, &lc, target == CONTROL_TOXIC ? toxic : NULL, body,
		    len);
		return;
	}
	switch (req->method) {
	case HTTP_GET:
		respond_json(c, 200, proxy_json(&lc, (size_t)at), req->keep_alive);
		return;
	case HTTP_POST:
	case HTTP_PATCH:
		if ((status = control_proxy_parse(body, len, false, &lc,
		    &conn_listener(c)->proxy_listen_allow, &why)) != 0) {
			respond_error(c, status, why, req->keep_alive);
			return;
		}
		if (change((size_t)at, &lc, err, sizeof(err)) == -1) {
			respond_error(c, 500, err, req->keep_alive);
			return;
		}
		log_change(c, "updated", &lc, NULL);
		respond_json(c, 200, proxy_json(&lc, (size_t)at), req->keep_alive);
		return;
	case HTTP_DELETE:
		format_listen(&lc, listen, sizeof(listen));
		if (change((size_t)at, NULL, err, sizeof(err)) == -1) {
			respond_error(c, 500, err, req->keep_alive);
			return;
		}
		log_change(c, "deleted", &lc, listen);
		respond(c, 204, NULL, req->keep_alive);
		return;
	default:
		respond_error(c, 405, "method not allowed", req->keep_alive);
	}
}

/*
 * Whether want, an entry of a populate, asks more than lc (a proxy now,
 * listening on bound) gives: Toxiproxy's "differs", with enabled counted
 * too, so a populate also undoes a disable.
 */
static bool
differs(const struct listener_config *lc, const struct net_addr *bound,
    const struct listener_config *want)
{
	return !control_listen_matches(bound, &want->binds[0]) ||
	    !net_addr_equal(&lc->upstream_addr, &want->upstream_addr) ||
	    lc->refuse != want->refuse;
}

/*
 * POST /populate, Toxiproxy's: each proxy of the array made when missing,
 * made anew (its toxics gone, as Toxiproxy replaces it) when it differs,
 * kept as it is otherwise; all applied at once or, on any bad entry or a
 * failed bind, nothing. 201 with the proxies in the request's order.
 */
static void
populate(struct conn *c, const char *body, size_t len, bool keep_alive)
{
	const struct listener_config *defaults = runtime_defaults(), *lcs;
	struct listener_config *want = NULL, *next = NULL, d;
	size_t i, n, m, nwant = 0, where[CONTROL_MAX_PROXIES];
	bool fresh[CONTROL_MAX_PROXIES] = { false };
	char why[256];
	struct net_addr bound;
	ssize_t at;
	json_t *all;
	int status = 0;

	if (defaults == NULL) {
		respond_error(c, 503, "not serving", false);
		return;
	}
	d = *defaults;
	d.service = &service_proxy;
	lcs = runtime_listeners(&n);
	if ((want = calloc(CONTROL_MAX_PROXIES, sizeof(*want))) == NULL ||
	    (next = calloc(n + CONTROL_MAX_PROXIES, sizeof(*next))) == NULL) {
		status = 500;
		snprintf(why, sizeof(why), "out of memory");
		goto bad;
	}
	status = control_populate_parse(body, len, &d, &conn_listener(c)->proxy_listen_allow, want,
	    CONTROL_MAX_PROXIES, &nwant, why, sizeof(why));
	if (n > 0)
		memcpy(next, lcs, n * sizeof(*next));
	for (i = 0, m = n; i < nwant && status == 0; i++) {
		if (configured_name(want[i].name)) {
			snprintf(why, sizeof(why), "proxy %zu: %s is a listener of the "
			    "configuration", i + 1, want[i].name);
			status = 409;
		} else if ((at = find_proxy(lcs, n, want[i].name)) == -1 &&
		    m == CONTROL_MAX_PROXIES) {
			snprintf(why, sizeof(why), "too many proxies (%d)", CONTROL_MAX_PROXIES);
			status = 400;
		} else if (at == -1) {
			where[i] = m;
			fresh[i] = true;
			next[m++] = want[i];
		} else {
			where[i] = (size_t)at;
			bound = runtime_bound(&lcs[at]);
			if (!differs(&lcs[at], &bound, &want[i]))
				continue;
			/* The same address keeps its socket: a new bind would collide. */
			if (control_listen_matches(&bound, &want[i].binds[0]))
				want[i].binds[0] = lcs[at].binds[0];
			fresh[i] = true;
			next[at] = want[i];
		}
	}
	if (status == 0 && runtime_replace(next, m, why, sizeof(why)) == -1)
		status = 500;
	if (status != 0)
		goto bad;
	for (i = 0; i < nwant; i++)
		if (fresh[i]) {
			memset(toxic_names[where[i]], 0, sizeof(toxic_names[0]));
			log_change(c, where[i] >= n ? "created" : "replaced", &next[where[i]], NULL);
		}
	all = json_array();
	for (i = 0; i < nwant && all != NULL; i++)
		if (json_array_append_new(all, proxy_json(&next[where[i]], where[i])) == -1) {
			json_decref(all);
			all = NULL;
		}
	respond_json(c, 201, all != NULL ? json_pack("{s:o}", "proxies", all) : NULL, keep_alive);
	free(want);
	free(next);
	return;
bad:
	/* Toxiproxy's populate adds "proxies":null to its error shape. */
	respond_json(c, status, json_pack("{s:s, s:i, s:n}", "error", why, "status", status,
	    "proxies"), keep_alive);
	free(want);
	free(next);
}

static void
list_proxies(struct conn *c, bool keep_alive)
{
	const struct listener_config *lcs;
	json_t *all = json_object();
	size_t i, n;

	lcs = runtime_listeners(&n);
	for (i = 0; i < n && all != NULL; i++)
		if (json_object_set_new(all, lcs[i].name, proxy_json(&lcs[i], i)) == -1) {
			json_decref(all);
			all = NULL;
		}
	respond_json(c, 200, all, keep_alive);
}

/* Every proxy enabled and without faults, as Toxiproxy's reset. */
static void
reset(struct conn *c, bool keep_alive)
{
	const struct listener_config *lcs;
	struct listener_config *next;
	char err[256];
	size_t i, n;

	lcs = runtime_listeners(&n);
	if ((next = calloc(n != 0 ? n : 1, sizeof(*next))) == NULL) {
		respond_error(c, 500, "out of memory", false);
		return;
	}
	for (i = 0; i < n; i++) {
		next[i] = lcs[i];
		next[i].refuse = false;
		next[i].blackhole = false;
		pace_profile_init(&next[i].profile);
		pace_profile_init(&next[i].upstream);
		/* A proxy's seed is no fault: it stays, as its name does. */
		pace_profiles_seed(&next[i].profile, &next[i].upstream, lcs[i].profile.seeded,
		    lcs[i].profile.seed);
	}
	if (runtime_replace(next, n, err, sizeof(err)) == -1) {
		respond_error(c, 500, err, keep_alive);
	} else {
		memset(toxic_names, 0, sizeof(toxic_names));
		conn_log(c, LOG_LEVEL_NOTICE, "control: reset %zu proxies", n);
		respond(c, 204, NULL, keep_alive);
	}
	free(next);
}

static void
serve(struct conn *c, const struct http_request *req, const char *body, size_t len)
{
	char name[CONFIG_NAME_MAX], toxic[TOXIC_NAME_MAX];
	bool keep = req->keep_alive;
	enum control_target target;
	json_t *j;

	switch (target = control_route(req->path, req->path_len, name, toxic)) {
	case CONTROL_VERSION:
		if (req->method != HTTP_GET)
			break;
		j = json_pack("{s:s}", "version", TCPD_VERSION);
		respond_json(c, 200, j, keep);
		return;
	case CONTROL_PROXIES:
		if (req->method == HTTP_GET)
			list_proxies(c, keep);
		else if (req->method == HTTP_POST)
			create_proxy(c, body, len, keep);
		else
			break;
		return;
	case CONTROL_PROXY:
	case CONTROL_TOXICS:
	case CONTROL_TOXIC:
		serve_proxy(c, req, target, name, toxic, body, len);
		return;
	case CONTROL_POPULATE:
		if (req->method != HTTP_POST)
			break;
		populate(c, body, len, keep);
		return;
	case CONTROL_RESET:
		if (req->method != HTTP_POST)
			break;
		reset(c, keep);
		return;
	case CONTROL_NONE:
		respond_error(c, 404, "not found", keep);
		return;
	}
	respond_error(c, 405, "method not allowed", keep);
}

/* Only loopback clients, unless the listener's allow names others. */
static int
control_open(struct conn *c, void *state)
{
	(void)state;
	if (conn_listener(c)->allow.n == 0 && !conn_peer_loopback(c))
		respond_error(c, 403, "the control API serves loopback clients only "
		    "(set allow to admit others)", false);
	return 0;
}

static size_t
control_input(struct conn *c, void *state, const char *data, size_t len)
{
	struct control_state *st = state;
	size_t used = 0, n, max = conn_max_line(c);
	const char *p;
	ssize_t h;

	while (used < len && !conn_finishing(c) && conn_output_room(c) > 0) {
		p = data + used;
		n = len - used;
		if (st->head == 0) {
			h = http_parse(&st->http, p, n, max, &st->req);
			if (h == HTTP_INCOMPLETE) {
				conn_request_partial(c);
				return used;
			}
			if (h == HTTP_ERROR) {
				respond_error(c, st->req.status, st->req.why, false);
				return len;
			}
			if (st->req.chunked) {
				respond_error(c, 411, "a body needs Content-Length", false);
				return len;
			}
			/* The body waits in conn's input buffer, which keeps max_line. */
			if (st->req.content_length > max - (size_t)h) {
				respond_error(c, 413, "the request is longer than the limit "
				    "(max_line)", false);
				return len;
			}
			st->head = (size_t)h;
			st->path_off = (size_t)(st->req.path - p);
		}
		if (n - st->head < st->req.content_length) {
			conn_request_partial(c);
			return used;
		}
		st->req.path = p + st->path_off;
		conn_request_complete(c);
		serve(c, &st->req, p + st->head, (size_t)st->req.content_length);
		used += st->head + (size_t)st->req.content_length;
		st->head = 0;
	}
	return used;
}

static void
control_input_too_big(struct conn *c, void *state)
{
	(void)state;
	respond_error(c, 431, "the request head is longer than the limit (max_line)", false);
}

static void
control_request_timeout(struct conn *c, void *state)
{
	(void)state;
	respond_error(c, 408, "request timeout", false);
}

const struct service service_control = {
	.name = "control",
	.state_size = sizeof(struct control_state),
	.refusal = HTTP_REFUSAL,
	.open = control_open,
	.input = control_input,
	.input_too_big = control_input_too_big,
	.request_timeout = control_request_timeout,
};
