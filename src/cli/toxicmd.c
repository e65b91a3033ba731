/* SPDX-License-Identifier: MIT */
/* tcpd-cli proxy|toxic: toxiproxy-cli's verbs, talking to tcpd's control API. */
#include <errno.h>
#include <float.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/toxi.h"
#include "cli/toxicmd.h"
#include "tcpd/num.h"

enum { TC_OK = 0, TC_REFUSED = 1, TC_CONNECTION = 2, TC_USAGE = 3 };

/* What the command line asked for. */
struct toxi_args {
	const char	*target;	/* the proxy's name */
	const char	*listen, *upstream;	/* proxy create */
	const char	*type, *name;	/* a toxic's */
	const char	*stream;	/* NULL: the API's default, downstream */
	double		 toxicity;	/* < 0: not given */
	json_t		*attributes;	/* NULL: none given */
};

struct verb {
	const char	*group, *name;
	const char	*shorts;	/* getopt's, after the name */
	const struct option *longs;
	int		(*run)(const struct toxi_server *, const struct toxi_args *);
	bool		 needs_target;
};

void
toxicmd_usage(FILE *out)
{
	fputs("       tcpd-cli [-h HOST] [-p PORT] proxy|toxic ...   (tcpd's control API,\n"
	    "                port 8474 unless -p; toxiproxy-cli's commands):\n"
	    "         proxy list | inspect NAME | toggle NAME | enable NAME | disable NAME\n"
	    "         proxy delete NAME\n"
	    "         proxy create NAME -l, --listen HOST:PORT -u, --upstream HOST:PORT\n"
	    "         toxic add PROXY -t, --type TYPE [-n, --name NAME]\n"
	    "             [-u, --upstream | -d, --downstream] [--tox, --toxicity P]\n"
	    "             [-a, --attribute KEY=VALUE]...\n"
	    "         toxic update PROXY -n NAME [--tox P] [-a KEY=VALUE]...\n"
	    "         toxic remove PROXY -n NAME\n", out);
}

/* What the API said, "ERR text (status)", from Toxiproxy's {"error":...,"status":N}. */
static void
say_refused(int status, json_t *reply)
{
	const char *text = json_string_value(json_object_get(reply, "error"));

	fprintf(stderr, "ERR %s (%d)\n", text != NULL ? text : "no error text", status);
}

/*
 * One call, body taken (NULL when with_body: it could not be made, as from
 * text that is not UTF-8); *reply kept when the API did it (2xx). Returns
 * TC_OK, TC_REFUSED, TC_CONNECTION or TC_USAGE, each failure said.
 */
static int
call(const struct toxi_server *s, const char *method, const char *path, json_t *body,
    bool with_body, json_t **reply)
{
	char err[512];
	int status;

	*reply = NULL;
	if (body == NULL && with_body) {
		fprintf(stderr, "tcpd-cli: names and values must be UTF-8 text\n");
		return TC_USAGE;
	}
	status = toxi_call(s, method, path, body, reply, err, sizeof(err));
	json_decref(body);
	if (status == -1) {
		fprintf(stderr, "tcpd-cli: %s%s\n", err, errno == ECONNREFUSED ?
		    " (no control listener there? see service = control in tcpd.conf(5))" : "");
		return TC_CONNECTION;
	}
	if (status / 100 != 2) {
		say_refused(status, *reply);
		json_decref(*reply);
		*reply = NULL;
		return TC_REFUSED;
	}
	return TC_OK;
}

/* The path of a proxy, its toxics (toxic "") or one toxic; -1 (said) when too long. */
static int
path_of(char *dst, size_t size, const char *proxy, const char *toxic)
{
	const char *segs[] = { "proxies", proxy, "toxics", toxic };
	size_t n = toxic == NULL ? 2 : toxic[0] == '\0' ? 3 : 4;

	if (toxi_path(dst, size, segs, n) == 0)
		return 0;
	fprintf(stderr, "tcpd-cli: the name is too long\n");
	return -1;
}

/* A field of the API's answer that must be there; NULL (said) when it is not. */
static json_t *
field(json_t *o, const char *key, int (*is)(const json_t *))
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || !is(v)) {
		fprintf(stderr, "tcpd-cli: the control API's answer has no valid \"%s\"\n", key);
		return NULL;
	}
	return v;
}

static int
is_string(const json_t *j) { return json_is_string(j); }
static int
is_boolean(const json_t *j) { return json_is_boolean(j); }
static int
is_array(const json_t *j) { return json_is_array(j); }
static int
is_number(const json_t *j) { return json_is_number(j); }
static int
is_object(const json_t *j) { return json_is_object(j); }

/* A proxy's fields as the list and inspect print them; -1 (said) when one is missing. */
struct proxy_view {
	const char	*name, *listen, *upstream;
	bool		 enabled;
	json_t		*toxics;
};

static int
view_proxy(json_t *p, struct proxy_view *v)
{
	json_t *name = field(p, "name", is_string), *listen, *upstream, *enabled;

	if (name == NULL || (listen = field(p, "listen", is_string)) == NULL ||
	    (upstream = field(p, "upstream", is_string)) == NULL ||
	    (enabled = field(p, "enabled", is_boolean)) == NULL ||
	    (v->toxics = field(p, "toxics", is_array)) == NULL)
		return -1;
	v->name = json_string_value(name);
	v->listen = json_string_value(listen);
	v->upstream = json_string_value(upstream);
	v->enabled = json_is_true(enabled);
	return 0;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
widest(int now, const char *s)
{
	int n = (int)strlen(s);

	return n > now ? n : now;
}

/* The proxies as a table sorted by name, toxiproxy-cli's columns. */
static int
proxy_list(const struct toxi_server *s, const struct toxi_args *a)
{
	int w[3] = { 4, 6, 8 }, rc;
	struct proxy_view *v = NULL;
	const char **names = NULL, *key;
	json_t *all, *p;
	size_t n = 0, i;

	(void)a;
	if ((rc = call(s, "GET", "/proxies", NULL, false, &all)) != TC_OK)
		return rc;
	rc = TC_CONNECTION;
	if (!json_is_object(all)) {
		fprintf(stderr, "tcpd-cli: the control API's answer is not an object of proxies\n");
		goto out;
	}
	if ((names = calloc(json_object_size(all) + 1, sizeof(*names))) == NULL ||
	    (v = calloc(json_object_size(all) + 1, sizeof(*v))) == NULL) {
		fprintf(stderr, "tcpd-cli: out of memory\n");
		goto out;
	}
	json_object_foreach(all, key, p)
		names[n++] = key;
	qsort(names, n, sizeof(*names), compare_names);
	for (i = 0; i < n; i++) {
		if (view_proxy(json_object_get(all, names[i]), &v[i]) == -1)
			goto out;
		w[0] = widest(w[0], v[i].name);
		w[1] = widest(w[1], v[i].listen);
		w[2] = widest(w[2], v[i].upstream);
	}
	if (n == 0) {
		printf("no proxies\n");
	} else {
		printf("%-*s  %-*s  %-*s  %-8s  %s\n", w[0], "NAME", w[1], "LISTEN", w[2],
		    "UPSTREAM", "ENABLED", "TOXICS");
		for (i = 0; i < n; i++)
			printf("%-*s  %-*s  %-*s  %-8s  %zu\n", w[0], v[i].name, w[1], v[i].listen,
			    w[2], v[i].upstream, v[i].enabled ? "enabled" : "disabled",
			    json_array_size(v[i].toxics));
	}
	rc = TC_OK;
out:
	free(names);
	free(v);
	json_decref(all);
	return rc;
}

/* A JSON number as typed: whole numbers without a point. */
static void
print_number(const json_t *n)
{
	if (json_is_integer(n))
		printf("%lld", (long long)json_integer_value(n));
	else
		printf("%g", json_real_value(n));
}

/* One toxic's line: name, type, toxicity, the attributes in the API's order. */
static int
print_toxic(json_t *t)
{
	json_t *name = field(t, "name", is_string), *type, *toxicity, *attrs, *value;
	const char *key, *sep = "";

	if (name == NULL || (type = field(t, "type", is_string)) == NULL ||
	    (toxicity = field(t, "toxicity", is_number)) == NULL ||
	    (attrs = field(t, "attributes", is_object)) == NULL)
		return -1;
	printf("  %s  type=%s  toxicity=", json_string_value(name), json_string_value(type));
	print_number(toxicity);
	printf("  attributes=[");
	json_object_foreach(attrs, key, value) {
		printf("%s%s=", sep, key);
		if (json_is_number(value))
			print_number(value);
		else if (json_is_string(value))
			printf("%s", json_string_value(value));
		else
			printf("?");
		sep = " ";
	}
	printf("]\n");
	return 0;
}

/* The toxics on one stream, under a heading; -1 (said) for a toxic not understood. */
static int
print_stream(json_t *toxics, const char *stream, const char *heading)
{
	const char *on;
	size_t i, n = 0;
	json_t *t;

	json_array_foreach(toxics, i, t)
		if ((on = json_string_value(json_object_get(t, "stream"))) != NULL &&
		    strcmp(on, stream) == 0)
			n++;
	printf("%s toxics:%s\n", heading, n == 0 ? " none" : "");
	json_array_foreach(toxics, i, t)
		if ((on = json_string_value(json_object_get(t, "stream"))) != NULL &&
		    strcmp(on, stream) == 0 && print_toxic(t) == -1)
			return -1;
	return 0;
}

static int
proxy_inspect(const struct toxi_server *s, const struct toxi_args *a)
{
	char path[512];
	struct proxy_view v;
	json_t *p;
	int rc;

	if (path_of(path, sizeof(path), a->target, NULL) == -1)
		return TC_USAGE;
	if ((rc = call(s, "GET", path, NULL, false, &p)) != TC_OK)
		return rc;
	rc = TC_CONNECTION;
	if (view_proxy(p, &v) == 0) {
		printf("Name: %s\nListen: %s\nUpstream: %s\nEnabled: %s\n", v.name, v.listen,
		    v.upstream, v.enabled ? "true" : "false");
		if (print_stream(v.toxics, "upstream", "Upstream") == 0 &&
		    print_stream(v.toxics, "downstream", "Downstream") == 0)
			rc = TC_OK;
	}
	json_decref(p);
	return rc;
}

static int
proxy_create(const struct toxi_server *s, const struct toxi_args *a)
{
	json_t *body = json_pack("{s:s, s:s, s:s}", "name", a->target, "listen", a->listen,
	    "upstream", a->upstream), *p;
	struct proxy_view v;
	int rc;

	if ((rc = call(s, "POST", "/proxies", body, true, &p)) != TC_OK)
		return rc;
	/* Port 0 takes a free one: the answer says which. */
	if ((rc = view_proxy(p, &v) == 0 ? TC_OK : TC_CONNECTION) == TC_OK)
		printf("Created new proxy %s on %s to %s\n", v.name, v.listen, v.upstream);
	json_decref(p);
	return rc;
}

/* Sets enabled (toggle: the opposite of what the API says it is now). */
static int
set_enabled(const struct toxi_server *s, const char *target, int enable)
{
	json_t *p, *enabled;
	char path[512];
	int rc;

	if (path_of(path, sizeof(path), target, NULL) == -1)
		return TC_USAGE;
	if (enable == -1) {
		if ((rc = call(s, "GET", path, NULL, false, &p)) != TC_OK)
			return rc;
		enabled = field(p, "enabled", is_boolean);
		enable = enabled != NULL && !json_is_true(enabled);
		json_decref(p);
		if (enabled == NULL)
			return TC_CONNECTION;
	}
	rc = call(s, "POST", path, json_pack("{s:b}", "enabled", enable), true, &p);
	if (rc != TC_OK)
		return rc;
	if ((enabled = field(p, "enabled", is_boolean)) == NULL)
		rc = TC_CONNECTION;
	else
		printf("Proxy %s is now %s\n", target, json_is_true(enabled) ? "enabled" :
		    "disabled");
	json_decref(p);
	return rc;
}

static int
proxy_toggle(const struct toxi_server *s, const struct toxi_args *a)
{
	return set_enabled(s, a->target, -1);
}

static int
proxy_enable(const struct toxi_server *s, const struct toxi_args *a)
{
	return set_enabled(s, a->target, 1);
}

static int
proxy_disable(const struct toxi_server *s, const struct toxi_args *a)
{
	return set_enabled(s, a->target, 0);
}

static int
proxy_delete(const struct toxi_server *s, const struct toxi_args *a)
{
	char path[512];
	json_t *none;
	int rc;

	if (path_of(path, sizeof(path), a->target, NULL) == -1)
		return TC_USAGE;
	if ((rc = call(s, "DELETE", path, NULL, false, &none)) == TC_OK)
		printf("Deleted proxy %s\n", a->target);
	json_decref(none);
	return rc;
}

/* A toxic's body: what was given of name, type, stream, toxicity, attributes. */
static json_t *
toxic_body(const struct toxi_args *a)
{
	json_t *body = json_object();

	if (body == NULL)
		return NULL;
	if ((a->name != NULL && json_object_set_new(body, "name", json_string(a->name)) == -1) ||
	    (a->type != NULL && json_object_set_new(body, "type", json_string(a->type)) == -1) ||
	    (a->stream != NULL &&
	    json_object_set_new(body, "stream", json_string(a->stream)) == -1) ||
	    (a->toxicity >= 0 &&
	    json_object_set_new(body, "toxicity", json_real(a->toxicity)) == -1) ||
	    (a->attributes != NULL && json_object_set(body, "attributes", a->attributes) == -1)) {
		json_decref(body);
		return NULL;
	}
	return body;
}

static int
toxic_add(const struct toxi_server *s, const struct toxi_args *a)
{
	json_t *t, *name, *type, *stream;
	char path[512];
	int rc;

	if (path_of(path, sizeof(path), a->target, "") == -1)
		return TC_USAGE;
	if ((rc = call(s, "POST", path, toxic_body(a), true, &t)) != TC_OK)
		return rc;
	if ((name = field(t, "name", is_string)) == NULL ||
	    (type = field(t, "type", is_string)) == NULL ||
	    (stream = field(t, "stream", is_string)) == NULL)
		rc = TC_CONNECTION;
	else
		printf("Added %s %s toxic '%s' on proxy '%s'\n", json_string_value(stream),
		    json_string_value(type), json_string_value(name), a->target);
	json_decref(t);
	return rc;
}

static int
toxic_update(const struct toxi_server *s, const struct toxi_args *a)
{
	struct toxi_args changes = { .toxicity = a->toxicity, .attributes = a->attributes };
	char path[512];
	json_t *t;
	int rc;

	if (path_of(path, sizeof(path), a->target, a->name) == -1)
		return TC_USAGE;
	if ((rc = call(s, "POST", path, toxic_body(&changes), true, &t)) == TC_OK)
		printf("Updated toxic '%s' on proxy '%s'\n", a->name, a->target);
	json_decref(t);
	return rc;
}

static int
toxic_remove(const struct toxi_server *s, const struct toxi_args *a)
{
	char path[512];
	json_t *none;
	int rc;

	if (path_of(path, sizeof(path), a->target, a->name) == -1)
		return TC_USAGE;
	if ((rc = call(s, "DELETE", path, NULL, false, &none)) == TC_OK)
		printf("Removed toxic '%s' on proxy '%s'\n", a->name, a->target);
	json_decref(none);
	return rc;
}

enum { OPT_TOXICITY = 256 };

static const struct option no_options[] = { { NULL, 0, NULL, 0 } };
static const struct option create_options[] = {
	{ "listen",	required_argument,	NULL, 'l' },
	{ "upstream",	required_argument,	NULL, 'u' },
	{ NULL,		0,			NULL, 0 },
};
static const struct option add_options[] = {
	{ "type",	required_argument,	NULL, 't' },
	{ "name",	required_argument,	NULL, 'n' },
	{ "upstream",	no_argument,		NULL, 'U' },
	{ "downstream",	no_argument,		NULL, 'd' },
	{ "tox",	required_argument,	NULL, OPT_TOXICITY },
	{ "toxicity",	required_argument,	NULL, OPT_TOXICITY },
	{ "attribute",	required_argument,	NULL, 'a' },
	{ NULL,		0,			NULL, 0 },
};
static const struct option update_options[] = {
	{ "name",	required_argument,	NULL, 'n' },
	{ "tox",	required_argument,	NULL, OPT_TOXICITY },
	{ "toxicity",	required_argument,	NULL, OPT_TOXICITY },
	{ "attribute",	required_argument,	NULL, 'a' },
	{ NULL,		0,			NULL, 0 },
};
static const struct option remove_options[] = {
	{ "name",	required_argument,	NULL, 'n' },
	{ NULL,		0,			NULL, 0 },
};

static const struct verb verbs[] = {
	{ "proxy", "list",	"",		no_options,	proxy_list,	false },
	{ "proxy", "inspect",	"",		no_options,	proxy_inspect,	true },
	{ "proxy", "create",	"l:u:",		create_options,	proxy_create,	true },
	{ "proxy", "toggle",	"",		no_options,	proxy_toggle,	true },
	{ "proxy", "enable",	"",		no_options,	proxy_enable,	true },
	{ "proxy", "disable",	"",		no_options,	proxy_disable,	true },
	{ "proxy", "delete",	"",		no_options,	proxy_delete,	true },
	{ "toxic", "add",	"t:n:uda:",	add_options,	toxic_add,	true },
	{ "toxic", "update",	"n:a:",		update_options,	toxic_update,	true },
	{ "toxic", "remove",	"n:",		remove_options,	toxic_remove,	true },
};

/* -a KEY=VALUE into a->attributes: a number as a JSON number, else a string. */
static int
add_attribute(struct toxi_args *a, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[256];
	int64_t whole;
	double real;
	json_t *v;

	if (eq == NULL || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		fprintf(stderr, "tcpd-cli: -a wants KEY=VALUE, as -a latency=100 (got '%s')\n", kv);
		return -1;
	}
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	if (num_parse_str(eq + 1, INT64_MIN, INT64_MAX, &whole) == 0)
		v = json_integer(whole);
	else if (num_parse_real(eq + 1, -DBL_MAX, DBL_MAX, &real) == 0)
		v = json_real(real);
	else
		v = json_string(eq + 1);
	if ((a->attributes == NULL && (a->attributes = json_object()) == NULL) ||
	    json_object_set_new(a->attributes, key, v) == -1) {
		fprintf(stderr, "tcpd-cli: -a '%s': keys and values must be UTF-8 text\n", kv);
		return -1;
	}
	return 0;
}

/* The verb's options and its one name; -1 (said) for a usage error. */
static int
parse_args(const struct verb *v, int argc, char *argv[], struct toxi_args *a)
{
	bool up = false, down = false;
	int ch;

	/* 0, not 1: getopt starts afresh on another argv (tcpd-cli's own options ran). */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, v->shorts, v->longs, NULL)) != -1) {
		switch (ch) {
		case 'l': a->listen = optarg; break;
		case 't': a->type = optarg; break;
		case 'n': a->name = optarg; break;
		case 'd': down = true; break;
		case 'U': up = true; break;
		/* -u is create's upstream address, or add's upstream stream. */
		case 'u':
			if (v->longs == create_options)
				a->upstream = optarg;
			else
				up = true;
			break;
		case 'a':
			if (add_attribute(a, optarg) == -1)
				return -1;
			break;
		case OPT_TOXICITY:
			if (num_parse_real(optarg, 0, 1, &a->toxicity) == -1) {
				fprintf(stderr, "tcpd-cli: --toxicity wants a number from 0 to 1 "
				    "(got '%s')\n", optarg);
				return -1;
			}
			break;
		default:
			fprintf(stderr, "tcpd-cli: %s %s: unknown option or missing value: %s\n",
			    v->group, v->name, argv[optind - 1]);
			return -1;
		}
	}
	if (v->needs_target && optind < argc)
		a->target = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "tcpd-cli: %s %s: %s (got '%s')\n", v->group, v->name,
		    v->needs_target ? "one name only" : "no name", argv[optind]);
		return -1;
	}
	if (v->needs_target && a->target == NULL) {
		fprintf(stderr, "tcpd-cli: %s %s needs a proxy's name\n", v->group, v->name);
		return -1;
	}
	if (v->run == proxy_create && (a->listen == NULL || a->upstream == NULL)) {
		fprintf(stderr, "tcpd-cli: proxy create: --listen HOST:PORT and --upstream "
		    "HOST:PORT are both needed\n");
		return -1;
	}
	if (v->run == toxic_add && a->type == NULL) {
		fprintf(stderr, "tcpd-cli: toxic add: -t TYPE is needed (latency, bandwidth, "
		    "slow_close, timeout, reset_peer, slicer, limit_data)\n");
		return -1;
	}
	if ((v->run == toxic_update || v->run == toxic_remove) && a->name == NULL) {
		fprintf(stderr, "tcpd-cli: toxic %s: -n NAME is needed\n", v->name);
		return -1;
	}
	if (up && down) {
		fprintf(stderr, "tcpd-cli: toxic add: a toxic is on one stream: -u or -d\n");
		return -1;
	}
	a->stream = up ? "upstream" : down ? "downstream" : NULL;
	return 0;
}

int
toxicmd_main(const struct toxi_server *s, int argc, char *argv[])
{
	struct toxi_args a = { .toxicity = -1 };
	const struct verb *v = NULL;
	size_t i;
	int rc;

	for (i = 0; argc > 1 && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[0], verbs[i].group) == 0 && strcmp(argv[1], verbs[i].name) == 0)
			v = &verbs[i];
	if (v == NULL) {
		fprintf(stderr, "tcpd-cli: %s: which command? (tcpd-cli --help)\n", argv[0]);
		toxicmd_usage(stderr);
		return TC_USAGE;
	}
	rc = parse_args(v, argc - 1, argv + 1, &a) == -1 ? TC_USAGE : v->run(s, &a);
	json_decref(a.attributes);
	return rc;
}
