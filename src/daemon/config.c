/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "daemon/config.h"
#include "daemon/listener.h"
#include "daemon/services/service.h"
#include "tcpd/num.h"

enum key_type {
	KEY_LEVEL, KEY_TARGET, KEY_UINT, KEY_SECONDS, KEY_BYTES, KEY_BOOL, KEY_SERVICE,
	KEY_BINDS, KEY_CIDRS, KEY_INCLUDE, KEY_PROXY, KEY_FAULTS, KEY_MS, KEY_SIZE, KEY_AFTER,
	KEY_CHANCE, KEY_SEED, KEY_WORKERS, KEY_SECRET, KEY_SECRET_FILE, KEY_MILLIS, KEY_UPSTREAM,
	KEY_SEND_PROXY, KEY_TIMEOUT
};
enum section_kind { SECTION_NONE, SECTION_GLOBAL, SECTION_LISTENER, SECTION_BAD };

/* Every key, once: where it lives, how it parses, its default and range. */
struct key_desc {
	const char	*name;
	enum section_kind section;
	enum key_type	 type;
	size_t		 offset;	/* in struct config or listener_config */
	unsigned	 def, min, max;
	uint64_t	 max64;		/* KEY_MS and KEY_SIZE: the largest value */
};

#define G(name, type, def, min, max) \
	{ #name, SECTION_GLOBAL, type, offsetof(struct config, name), def, min, max, 0 }
#define L(name, type, def, min, max) \
	{ #name, SECTION_LISTENER, type, offsetof(struct listener_config, name), def, min, max, 0 }
/* A listener's fault profile (pace.h): a field of struct pace_profile. */
#define F(name, type, field, max) \
	{ #name, SECTION_LISTENER, type, offsetof(struct listener_config, profile.field), 0, 0, 0, max }
/* The same for the bytes on their way to the service, its name after "upstream_". */
#define U(name, type, field, max) \
	{ "upstream_" #name, SECTION_LISTENER, type, \
	    offsetof(struct listener_config, upstream.field), 0, 0, 0, max }
/*
 * An end or a stall, at a byte or a moment, of one direction's profile: def
 * is the end (PACE_END_NONE: a stall), min 1 takes bytes only (limit_data).
 */
#define FA(name, how, bytes_only) \
	{ #name, SECTION_LISTENER, KEY_AFTER, offsetof(struct listener_config, profile), how, \
	    bytes_only, 0, 0 }
#define UA(name, how, bytes_only) \
	{ "upstream_" #name, SECTION_LISTENER, KEY_AFTER, \
	    offsetof(struct listener_config, upstream), how, bytes_only, 0, 0 }
/* A fault's probability, named after it (enum pace_fault). */
#define FP(name, fault)		F(name, KEY_CHANCE, ppm[fault], 0)
#define UP(name, fault)		U(name, KEY_CHANCE, ppm[fault], 0)
/* The faults both directions have, written once: X a field's key, A an end's. */
#define FAULT_KEYS(X, A) \
	X(delay,		KEY_MS,		delay_ms,	PACE_MS_MAX), \
	X(jitter,		KEY_MS,		jitter_ms,	PACE_MS_MAX), \
	X(rate,			KEY_SIZE,	rate,		PACE_RATE_MAX), \
	X(slice,		KEY_SIZE,	slice,		1u << 30), \
	X(slice_gap,		KEY_MS,		slice_gap_ms,	PACE_MS_MAX), \
	X(slice_variation,	KEY_SIZE,	slice_variation, 1u << 30), \
	A(close_after,		PACE_END_CLOSE,	0), \
	A(limit_data,		PACE_END_CLOSE,	1),	/* Toxiproxy's name */ \
	A(reset_after,		PACE_END_RESET,	0), \
	A(stall_after,		PACE_END_NONE,	0), \
	X(slow_close,		KEY_MS,		slow_close_ms,	PACE_MS_MAX), \
	X(timeout,		KEY_TIMEOUT,	timeout_ms,	PACE_MS_MAX)
#define FAULT_CHANCES(P) \
	P(delay_probability,	PACE_DELAY), \
	P(rate_probability,	PACE_RATE), \
	P(slice_probability,	PACE_SLICE), \
	P(close_probability,	PACE_CLOSE), \
	P(reset_probability,	PACE_RESET), \
	P(stall_probability,	PACE_STALL), \
	P(slow_close_probability, PACE_SLOW_CLOSE), \
	P(timeout_probability,	PACE_TIMEOUT)

static const struct key_desc keys[] = {
	G(log_level,		KEY_LEVEL,	LOG_LEVEL_INFO,	0, 0),
	G(log_target,		KEY_TARGET,	LOG_TARGET_AUTO, 0, 0),
	G(max_connections,	KEY_UINT,	10000,		1, 1000000),
	G(idle_timeout,		KEY_SECONDS,	300,		0, 31536000),
	G(request_timeout,	KEY_SECONDS,	30,		0, 31536000),
	G(shutdown_timeout,	KEY_SECONDS,	10,		0, 3600),
	G(shutdown_delay,	KEY_SECONDS,	0,		0, 3600),
	G(max_line,		KEY_BYTES,	65536,		64, 1u << 30),
	G(output_limit,		KEY_BYTES,	1048576,	1024, 1u << 30),
	G(workers,		KEY_WORKERS,	1,		1, CONFIG_MAX_WORKERS),
	{ "include", SECTION_GLOBAL, KEY_INCLUDE, 0, 0, 0, 0, 0 },
	{ "bind", SECTION_LISTENER, KEY_BINDS, offsetof(struct listener_config, binds), 0, 0, 0, 0 },
	L(service,		KEY_SERVICE,	0,		0, 0),
	L(backlog,		KEY_UINT,	511,		1, 65535),
	L(max_connections_per_ip, KEY_UINT,	0,		0, 1000000),
	L(allow,		KEY_CIDRS,	0,		0, 0),
	L(deny,			KEY_CIDRS,	0,		0, 0),
	L(log_connections,	KEY_BOOL,	1,		0, 1),
	L(proxy_protocol,	KEY_PROXY,	0,		0, 0),
	L(proxy_trusted,	KEY_CIDRS,	0,		0, 0),
	/* At least 3 s: a lost segment's retransmit must fit, as the spec asks. */
	L(proxy_timeout,	KEY_SECONDS,	5,		3, 3600),
	L(faults,		KEY_FAULTS,	FAULTS_OFF,	0, 0),
	L(requirepass,		KEY_SECRET,	0,		0, 0),
	{ "requirepass_file", SECTION_LISTENER, KEY_SECRET_FILE,
	    offsetof(struct listener_config, requirepass), 0, 0, 0, 0 },
	{ "upstream", SECTION_LISTENER, KEY_UPSTREAM,
	    offsetof(struct listener_config, upstream_addr), 0, 0, 0, 0 },
	L(connect_timeout,	KEY_MILLIS,	5000,		1, 3600000),
	L(refuse,		KEY_BOOL,	0,		0, 1),
	L(blackhole,		KEY_BOOL,	0,		0, 1),
	L(upstream_proxy_protocol, KEY_SEND_PROXY, 0,		0, 0),
	L(upstream_connect_delay, KEY_MILLIS,	0,		0, 3600000),
	L(proxy_listen_allow,	KEY_CIDRS,	0,		0, 0),
	FAULT_KEYS(F, FA),
	F(accept_delay,		KEY_MS,		accept_delay_ms, PACE_MS_MAX),
	FAULT_CHANCES(FP),
	FP(accept_delay_probability, PACE_ACCEPT_DELAY),
	F(seed,			KEY_SEED,	seed,		0),
	FAULT_KEYS(U, UA),
	FAULT_CHANCES(UP),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

#undef G
#undef L
#undef F
#undef U
#undef FA
#undef UA
#undef FP
#undef UP
#undef FAULT_KEYS
#undef FAULT_CHANCES

/* A config file larger than this is refused: /dev/zero is not a config. */
#define CONFIG_MAX_BYTES	(1024 * 1024)

/* Mixed into the seed for the upstream direction: its draws are not the downstream's. */
#define UPSTREAM_SEED		0x75707374726561ull	/* "upstrea" */

/* The listeners' names: a hash table of listener index + 1, 0 for empty. */
struct name_index {
	size_t	*slot;
	size_t	 cap;		/* a power of two */
};

struct parser {
	struct config		*cfg;
	struct config_errors	*errs;
	FILE			*in;
	size_t			 bytes;		/* read so far */
	unsigned		 lineno;	/* of the line inih has now */
	bool			 indented;	/* that line starts with blanks */
	bool			 too_big;
	bool			 seen_global;
	const char		*dir;		/* of the file read, for relative includes */
	bool			 included;	/* this file came from include = */
	enum section_kind	 section;
	unsigned		 key_lines[NKEYS];	/* in the current section */
	const struct key_desc	*prev_key;	/* for continuation lines */
	const char		*main;		/* the main file's name; NULL for a text */
	struct name_index	*names;		/* every listener's, shared with includes */
};

static void add_error(struct config_errors *errs, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
add_error(struct config_errors *errs, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (errs->count < CONFIG_MAX_ERRORS) {
		/* A file's name is outside text too: a newline in it forges no line. */
		log_escape(errs->err[errs->count].file, CONFIG_FILE_MAX,
		    errs->current != NULL ? errs->current : "",
		    errs->current != NULL ? strlen(errs->current) : 0);
		errs->err[errs->count].line = line;
		va_start(ap, fmt);
		vsnprintf(errs->err[errs->count].msg, CONFIG_ERRLEN, fmt, ap);
		va_end(ap);
	}
	errs->count++;
}

/* Text from the file, escaped for a message: no control bytes reach a terminal. */
static const char *
shown(char *dst, size_t size, const char *s)
{
	return log_escape(dst, size, s, strlen(s));
}

/* A key whose field is an unsigned with a default. */
static bool
is_unsigned(const struct key_desc *k)
{
	return k->type == KEY_UINT || k->type == KEY_SECONDS || k->type == KEY_BYTES ||
	    k->type == KEY_MILLIS;
}

static struct listener_config *
current_listener(struct parser *p)
{
	return &p->cfg->listeners[p->cfg->nlisteners - 1];
}

/*
 * Where something is, for a message about something else: "line 3" in a
 * text, "FILE:3" in a file (main is the main file's name, or NULL for a
 * text), or the command-line option a listener came from (line 0).
 */
static const char *
where(char *dst, size_t size, const char *main, const char *file, unsigned line)
{
	char text[CONFIG_FILE_MAX];

	if (file == NULL)
		file = main;
	if (file == NULL)
		snprintf(dst, size, "line %u", line);
	else if (line == 0)
		snprintf(dst, size, "%s", shown(text, sizeof(text), file));
	else
		snprintf(dst, size, "%s:%u", shown(text, sizeof(text), file), line);
	return dst;
}

static uint64_t
hash_name(const char *s)
{
	uint64_t h = 14695981039346656037ull;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/*
 * Files the listeners' names, so a duplicate is found in constant time, not
 * by a scan that makes 17,000 listeners cost 2.5 s. Returns the listener
 * already named as listener i, i itself once filed, or -1 out of memory.
 */
static ssize_t
file_name(struct name_index *ix, const struct config *cfg, size_t i)
{
	const struct listener_config *ls = cfg->listeners;
	size_t j, h, *slot;

	if (2 * (i + 1) > ix->cap) {
		size_t cap = ix->cap != 0 ? 2 * ix->cap : 64;

		if ((slot = calloc(cap, sizeof(*slot))) == NULL)
			return -1;
		for (j = 0; j < ix->cap; j++) {
			if (ix->slot[j] == 0)
				continue;
			for (h = hash_name(ls[ix->slot[j] - 1].name); slot[h & (cap - 1)] != 0; h++)
				;
			slot[h & (cap - 1)] = ix->slot[j];
		}
		free(ix->slot);
		ix->slot = slot;
		ix->cap = cap;
	}
	for (h = hash_name(ls[i].name); ix->slot[h & (ix->cap - 1)] != 0; h++)
		if (strcmp(ls[ix->slot[h & (ix->cap - 1)] - 1].name, ls[i].name) == 0)
			return (ssize_t)ix->slot[h & (ix->cap - 1)] - 1;
	ix->slot[h & (ix->cap - 1)] = i + 1;
	return (ssize_t)i;
}

void
config_listener_defaults(struct listener_config *l)
{
	size_t i;

	pace_profile_init(&l->profile);
	pace_profile_init(&l->upstream);
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].section != SECTION_LISTENER)
			continue;
		if (is_unsigned(&keys[i]))
			*(unsigned *)(void *)((char *)l + keys[i].offset) = keys[i].def;
		else if (keys[i].type == KEY_BOOL)
			*(bool *)(void *)((char *)l + keys[i].offset) = keys[i].def != 0;
	}
}

static void
start_listener(struct parser *p, const char *name)
{
	struct config *cfg = p->cfg;
	struct listener_config *l;
	char text[96], first[CONFIG_FILE_MAX + 16];
	size_t n = cfg->nlisteners;
	ssize_t dup;

	if (!listener_name_valid(name, strlen(name))) {
		add_error(p->errs, p->lineno, "invalid listener name '%s': use "
		    "1-%d letters, digits, '-' or '_'", shown(text, sizeof(text), name),
		    CONFIG_NAME_MAX - 1);
		p->section = SECTION_BAD;
		return;
	}
	/* Doubling at each power of two: 17,000 listeners copy no 17,000 arrays. */
	if ((n & (n - 1)) == 0) {
		if ((l = realloc(cfg->listeners, (n != 0 ? 2 * n : 1) * sizeof(*l))) == NULL) {
			add_error(p->errs, p->lineno, "out of memory");
			p->section = SECTION_BAD;
			return;
		}
		cfg->listeners = l;
	}
	l = &cfg->listeners[n];
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->line = p->lineno;
	l->file = p->errs->current;
	if ((dup = file_name(p->names, cfg, n)) != (ssize_t)n) {
		if (dup == -1)
			add_error(p->errs, p->lineno, "out of memory");
		else
			add_error(p->errs, p->lineno, "duplicate listener '%s' (first "
			    "defined at %s)", name, where(first, sizeof(first), p->main,
			    cfg->listeners[dup].file, cfg->listeners[dup].line));
		p->section = SECTION_BAD;
		return;
	}
	cfg->nlisteners++;
	config_listener_defaults(l);
	p->section = SECTION_LISTENER;
}

static void check_section_end(struct parser *p);

/*
 * requirepass_file: the password is the file's first line. The file must
 * be readable by its owner alone (systemd's credentials are: see
 * tcpd.conf(5)), so the password never sits where anyone may read it.
 */
static void
read_secret(struct parser *p, const char *path, char secret[CONFIG_SECRET_MAX + 1])
{
	char text[96], line[CONFIG_SECRET_MAX + 2];
	struct stat st;
	size_t n;
	FILE *f;

	if (path[0] != '/') {
		add_error(p->errs, p->lineno, "requirepass_file '%s' is not an absolute path",
		    shown(text, sizeof(text), path));
		return;
	}
	if ((f = fopen(path, "re")) == NULL) {
		add_error(p->errs, p->lineno, "requirepass_file '%s': %s",
		    shown(text, sizeof(text), path), strerror(errno));
		return;
	}
	if (fstat(fileno(f), &st) == -1 || (st.st_mode & 077) != 0) {
		add_error(p->errs, p->lineno, "requirepass_file '%s' may be read by others "
		    "(mode %04o): chmod 600 it", shown(text, sizeof(text), path),
		    (unsigned)(st.st_mode & 07777));
		fclose(f);
		return;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	if (n > CONFIG_SECRET_MAX) {
		add_error(p->errs, p->lineno, "requirepass_file '%s': the password is longer "
		    "than %d bytes", shown(text, sizeof(text), path), CONFIG_SECRET_MAX);
		return;
	}
	if (n == 0) {
		add_error(p->errs, p->lineno, "requirepass_file '%s' holds no password",
		    shown(text, sizeof(text), path));
		return;
	}
	memcpy(secret, line, n);
	secret[n] = '\0';
	explicit_bzero(line, sizeof(line));
}

/* Called for each "[name]" header line, before inih sees it. */
static void
start_section(struct parser *p, const char *name)
{
	if (p->section == SECTION_LISTENER)
		check_section_end(p);
	memset(p->key_lines, 0, sizeof(p->key_lines));
	p->prev_key = NULL;
	if (strcmp(name, "tcpd") == 0) {
		if (p->included) {
			add_error(p->errs, p->lineno, "[tcpd] belongs in the main file; "
			    "an included file holds [listener.NAME] sections");
			p->section = SECTION_BAD;
			return;
		}
		if (p->seen_global) {
			add_error(p->errs, p->lineno, "duplicate section [tcpd]");
			p->section = SECTION_BAD;
			return;
		}
		p->seen_global = true;
		p->section = SECTION_GLOBAL;
	} else if (strncmp(name, "listener.", 9) == 0) {
		start_listener(p, name + 9);
	} else {
		char text[96];

		add_error(p->errs, p->lineno, "unknown section [%s]: expected "
		    "[tcpd] or [listener.NAME]", shown(text, sizeof(text), name));
		p->section = SECTION_BAD;
	}
}

/* A "[name]" header line: starts the section, refusing anything after ']'. */
static void
header_line(struct parser *p, char *s)
{
	char *close = strchr(s, ']'), *rest, text[96];

	if (close == NULL)
		return;		/* inih reports the syntax error */
	*close = '\0';
	for (rest = close + 1; *rest == ' ' || *rest == '\t'; rest++)
		;
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		add_error(p->errs, p->lineno, "unexpected '%s' after [%s]", shown(text,
		    sizeof(text), rest), shown(text + 48, sizeof(text) - 48, s + 1));
		p->section = SECTION_BAD;
		return;
	}
	start_section(p, s + 1);
}

/*
 * inih's reader: it hands inih one line at a time, so the line number and
 * indentation it keeps are those of the line whose keys inih reports next
 * (inih calls the handler for a line before it reads another). It also
 * sees section headers, empty sections included, and bounds the file.
 */
static char *
read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	size_t len = 0, max = (size_t)num - 2;
	bool nul = false, too_long = false;
	char *s;
	int ch;

	if (p->too_big)
		return NULL;
	/* By hand, not fgets(): a NUL byte must not hide the rest of a line. */
	while ((ch = getc(p->in)) != EOF && ch != '\n') {
		if (++p->bytes > CONFIG_MAX_BYTES) {
			add_error(p->errs, 0, "too long (at most %d bytes)", CONFIG_MAX_BYTES);
			p->too_big = true;
			return NULL;
		}
		nul |= ch == '\0';
		if (len < max)
			str[len++] = (char)ch;
		else
			too_long = true;
	}
	if (ch == EOF && len == 0 && !too_long)
		return NULL;
	p->bytes++;
	p->lineno++;
	str[len++] = '\n';
	str[len] = '\0';
	if (too_long || nul) {
		add_error(p->errs, p->lineno, too_long ? "line too long (at most %d "
		    "characters)" : "NUL byte in line", num - 2);
		snprintf(str, (size_t)num, "\n");
	}
	/* A UTF-8 byte order mark before the first line: inih skips it, so do we. */
	if (p->lineno == 1 && strncmp(str, "\xef\xbb\xbf", 3) == 0)
		memmove(str, str + 3, strlen(str + 3) + 1);
	p->indented = str[0] == ' ' || str[0] == '\t';
	for (s = str; *s == ' ' || *s == '\t'; s++)
		;
	/* inih reads an indented line after a key as that key's continuation. */
	if (*s == '[' && !(p->indented && p->prev_key != NULL)) {
		char line[CONFIG_ERRLEN];

		snprintf(line, sizeof(line), "%.*s", (int)strcspn(s, "\r\n"), s);
		header_line(p, line);
	}
	return str;
}

static int
parse_uint(const char *value, unsigned min, unsigned max, unsigned *out)
{
	int64_t v;

	if (num_parse_str(value, min, max, &v) == -1)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
parse_service(const char *value, const struct service **out)
{
	return (*out = service_find(value, strlen(value))) != NULL ? 0 : -1;
}

static void
add_one_bind(struct parser *p, struct listener_config *l, const char *s, size_t len,
    bool optional)
{
	const char *why;
	char text[96];

	if (l->nbinds == CONFIG_MAX_BINDS) {
		add_error(p->errs, p->lineno, "too many addresses for bind (at "
		    "most %d)", CONFIG_MAX_BINDS);
		return;
	}
	if (net_addr_parse(&l->binds[l->nbinds], s, len, &why) == -1) {
		/* A letter where the address goes: a host name, which tcpd does not look up. */
		if (len > 0 && isalpha((unsigned char)s[0]) && memchr(s, ':', len) != NULL)
			why = "a host name; write an IP address (tcpd resolves no names: a "
			    "reload must not wait on DNS), localhost or *";
		add_error(p->errs, p->lineno, "invalid bind address '%s': %s",
		    log_escape(text, sizeof(text), s, len), why);
		return;
	}
	/* tcpd's IPv6 sockets are IPv6 only: a mapped address could never be bound. */
	if (net_addr_is_v4mapped(&l->binds[l->nbinds])) {
		add_error(p->errs, p->lineno, "invalid bind address '%s': an IPv4-mapped "
		    "IPv6 address; write the IPv4 address itself",
		    log_escape(text, sizeof(text), s, len));
		return;
	}
	l->bind_optional[l->nbinds++] = optional;
}

/*
 * One item of a bind list. "localhost:PORT" means 127.0.0.1 and [::1], as
 * every Debian's /etc/hosts says, and "*:PORT" every address of both
 * families, 0.0.0.0 and [::]: both without a lookup.
 */
static void
add_bind(struct parser *p, struct listener_config *l, const char *s, size_t len)
{
	static const struct { const char *name, *v4, *v6; } aliases[] = {
		{ "localhost:", "127.0.0.1:", "[::1]:" },
		{ "*:", "0.0.0.0:", "[::]:" },
	};
	bool optional = len > 0 && s[0] == '-';
	char both[2][NET_ADDRSTRLEN], text[96];
	struct net_addr probe;
	size_t i, n, port_len;
	const char *why;

	if (optional) {
		s++;
		len--;
	}
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		n = strlen(aliases[i].name);
		if (len < n || strncasecmp(s, aliases[i].name, n) != 0)
			continue;
		port_len = len - n < 8 ? len - n : 8;	/* longer is no port anyway */
		snprintf(both[0], sizeof(both[0]), "%s%.*s", aliases[i].v4, (int)port_len, s + n);
		snprintf(both[1], sizeof(both[1]), "%s%.*s", aliases[i].v6, (int)port_len, s + n);
		/* A bad port is one error, about what was written. */
		if (len - n > port_len ||
		    net_addr_parse(&probe, both[0], strlen(both[0]), &why) == -1) {
			add_error(p->errs, p->lineno, "invalid bind address '%s': %s",
			    log_escape(text, sizeof(text), s, len), len - n > port_len ?
			    "port must be a number from 0 to 65535 (0: any free port)" : why);
			return;
		}
		add_one_bind(p, l, both[0], strlen(both[0]), optional);
		add_one_bind(p, l, both[1], strlen(both[1]), optional);
		return;
	}
	add_one_bind(p, l, s, len, optional);
}

static void
add_cidr(struct parser *p, const char *key, struct cidr_list *list,
    const char *s, size_t len)
{
	const char *why;
	char text[96];

	if (list->n == CONFIG_MAX_CIDRS) {
		add_error(p->errs, p->lineno, "too many address blocks for %s (at "
		    "most %d)", key, CONFIG_MAX_CIDRS);
		return;
	}
	if (cidr_parse(&list->v[list->n], s, len, &why) == -1) {
		add_error(p->errs, p->lineno, "invalid %s block '%s': %s", key,
		    log_escape(text, sizeof(text), s, len), why);
		return;
	}
	list->n++;
}

/*
 * A regular file for reading, or NULL with errno (EINVAL: a FIFO, a device
 * or a directory). Opened without blocking: a reload runs inside the event
 * loop, and a FIFO's open would wait for a writer.
 */
static FILE *
open_regular(const char *path)
{
	struct stat st;
	FILE *in;
	int saved, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((in = fdopen(fd, "r")) != NULL)
		return in;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

static char *read_line(char *str, int num, void *stream);
static int handle_key(void *user, const char *section, const char *name,
    const char *value);
static void parse_file(struct parser *p, FILE *in);

/*
 * include = PATTERN: each file the glob matches, in sorted order, read as if
 * its [listener.NAME] sections stood here. A pattern without wildcards must
 * match; one with them may match nothing (an empty conf.d). Relative
 * patterns are relative to the including file's directory.
 */
static void
include_files(struct parser *p, const char *pattern)
{
	char full[PATH_MAX], text[96];
	glob_t g;
	size_t i;
	int rc;

	if (p->dir == NULL) {
		add_error(p->errs, p->lineno, "include is read only from a configuration "
		    "file");
		return;
	}
	if (pattern[0] != '/')
		snprintf(full, sizeof(full), "%s/%s", p->dir, pattern);
	else
		snprintf(full, sizeof(full), "%s", pattern);
	/* A directory that is missing or unreadable matches nothing, like an empty one. */
	rc = glob(full, 0, NULL, &g);
	if (rc == GLOB_NOMATCH && strpbrk(pattern, "*?[") == NULL) {
		add_error(p->errs, p->lineno, "include '%s': no such file",
		    shown(text, sizeof(text), pattern));
		return;
	}
	if (rc != 0 && rc != GLOB_NOMATCH) {
		add_error(p->errs, p->lineno, "include '%s': out of memory",
		    shown(text, sizeof(text), pattern));
		globfree(&g);
		return;
	}
	for (i = 0; rc == 0 && i < g.gl_pathc; i++) {
		struct parser q = { .cfg = p->cfg, .errs = p->errs, .included = true,
		    .dir = NULL, .main = p->main, .names = p->names };
		char **files, *name;
		FILE *in;

		if (p->cfg->nfiles == CONFIG_MAX_INCLUDES) {
			add_error(p->errs, p->lineno, "include '%s': more than %d files in "
			    "all", shown(text, sizeof(text), pattern), CONFIG_MAX_INCLUDES);
			break;
		}
		if ((files = realloc(p->cfg->files, (p->cfg->nfiles + 1) * sizeof(*files))) ==
		    NULL || (name = strdup(g.gl_pathv[i])) == NULL) {
			if (files != NULL)
				p->cfg->files = files;
			add_error(p->errs, p->lineno, "out of memory");
			break;
		}
		p->cfg->files = files;
		p->cfg->files[p->cfg->nfiles++] = name;
		if ((in = open_regular(name)) == NULL) {
			add_error(p->errs, p->lineno, "include: cannot open %s: %s",
			    shown(text, sizeof(text), name), strerror(errno));
			continue;
		}
		/* Its errors carry its name; relative includes inside would be refused anyway. */
		p->errs->current = name;
		parse_file(&q, in);
		p->errs->current = NULL;
		fclose(in);
	}
	globfree(&g);
}

/* yes/no, as systemd and most daemons spell it, with its usual synonyms. */
static int
parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0 || strcasecmp(value, no[i]) == 0) {
			*out = strcasecmp(value, yes[i]) == 0;
			return 0;
		}
	}
	return -1;
}

/*
 * The one server a proxy listener connects to: a literal address,
 * localhost:PORT for 127.0.0.1 (no lookup, as for bind), or unix:PATH.
 * Port 0 is no server.
 */
static void
set_upstream(struct parser *p, struct net_addr *addr, const char *value)
{
	char text[96], alias[NET_ADDRSTRLEN];
	const char *s = value, *why;
	size_t len = strlen(value);

	if (strncmp(value, "unix:", 5) == 0) {
		if (net_addr_unix(addr, value + 5, &why) == 0)
			return;
		goto bad;
	}
	if (len > 10 && len < 10 + 8 && strncasecmp(value, "localhost:", 10) == 0) {
		snprintf(alias, sizeof(alias), "127.0.0.1:%s", value + 10);
		s = alias;
		len = strlen(alias);
	}
	if (net_addr_parse(addr, s, len, &why) == -1) {
		if (len > 0 && isalpha((unsigned char)s[0]) && memchr(s, ':', len) != NULL)
			why = "a host name; write an IP address, localhost or unix:PATH "
			    "(tcpd resolves no names)";
	} else if (net_addr_port(addr) == 0) {
		why = "port 0 names no server: write a port from 1 to 65535";
	} else if (net_addr_is_v4mapped(addr)) {
		why = "an IPv4-mapped IPv6 address; write the IPv4 address itself";
	} else {
		return;
	}
bad:
	add_error(p->errs, p->lineno, "invalid upstream '%s': %s",
	    shown(text, sizeof(text), value), why);
}

/* A list value: items separated by blanks or commas. */
static void
parse_list(struct parser *p, const struct key_desc *k, void *field,
    const char *value)
{
	const char *s = value;
	size_t len;

	for (;;) {
		s += strspn(s, " \t,");
		if (*s == '\0')
			break;
		len = strcspn(s, " \t,");
		if (k->type == KEY_BINDS)
			add_bind(p, current_listener(p), s, len);
		else
			add_cidr(p, k->name, field, s, len);
		s += len;
	}
}

static bool
is_list(const struct key_desc *k)
{
	return k->type == KEY_BINDS || k->type == KEY_CIDRS;
}

/* The one syntax of every duration and size key (num.h), as messages show it. */
#define DURATIONS	"duration (250ms, 1.5s, 5m, 1h)"
#define SIZES		"size (64k, 1M, 1G: powers of 1024)"

/* A fault profile key; how they combine is checked at the section's end. */
static void
set_fault(struct parser *p, const struct key_desc *k, const char *value)
{
	struct pace_profile *pp;
	uint64_t *field = (uint64_t *)(void *)((char *)current_listener(p) + k->offset);
	uint64_t bytes, ms;
	size_t len = strlen(value);
	double chance;
	int64_t v;
	char text[96];

	switch (k->type) {
	case KEY_MS:
		if (pace_parse_ms(value, len, k->max64, field) == 0)
			return;
		add_error(p->errs, p->lineno, "invalid %s '%s': expected milliseconds "
		    "(250) or a " DURATIONS ", at most %llu ms", k->name,
		    shown(text, sizeof(text), value), (unsigned long long)k->max64);
		return;
	case KEY_TIMEOUT:
		/* Toxiproxy's timeout 0: the bytes dropped for good, never closed. */
		if (strcmp(value, "never") == 0) {
			*field = 0;
			return;
		}
		if (pace_parse_ms(value, len, k->max64, field) == 0)
			return;
		add_error(p->errs, p->lineno, "invalid %s '%s': expected never, milliseconds "
		    "(250) or a " DURATIONS ", at most %llu ms", k->name,
		    shown(text, sizeof(text), value), (unsigned long long)k->max64);
		return;
	case KEY_SIZE:
		if (num_parse_size(value, len, 1, k->max64, field) == 0)
			return;
		add_error(p->errs, p->lineno, "invalid %s '%s': expected bytes (1000) or a "
		    SIZES " from 1 to %llu", k->name, shown(text, sizeof(text), value),
		    (unsigned long long)k->max64);
		return;
	case KEY_AFTER:
		pp = (struct pace_profile *)(void *)field;
		if (k->min != 0) {
			if (num_parse_size(value, len, 0, PACE_BYTES_MAX, &bytes) == 0) {
				pp->end = PACE_END_CLOSE;
				pp->end_bytes = bytes;
				pp->end_ms = PACE_NEVER;
				return;
			}
			add_error(p->errs, p->lineno, "invalid %s '%s': expected bytes "
			    "(1000) or a " SIZES " up to %llu", k->name,
			    shown(text, sizeof(text), value), (unsigned long long)PACE_BYTES_MAX);
		} else if (pace_parse_after(value, len, &bytes, &ms) == -1) {
			add_error(p->errs, p->lineno, "invalid %s '%s': expected bytes "
			    "(1000), a " SIZES " or a " DURATIONS "; for 10 minutes "
			    "write 10min, for 10 MiB 10M", k->name,
			    shown(text, sizeof(text), value));
		} else if (k->def == PACE_END_NONE) {
			pp->stall_bytes = bytes;
			pp->stall_ms = ms;
		} else {
			pp->end = k->def;
			pp->end_bytes = bytes;
			pp->end_ms = ms;
		}
		return;
	case KEY_CHANCE:
		/* "0.01" or "1%" */
		if (len > 1 && value[len - 1] == '%') {
			snprintf(text, sizeof(text), "%.*s", (int)len - 1, value);
			if (num_parse_real(text, 0, 100, &chance) == 0) {
				*(uint32_t *)(void *)field = (uint32_t)(chance * 10000 + 0.5);
				return;
			}
		} else if (num_parse_real(value, 0, 1, &chance) == 0) {
			*(uint32_t *)(void *)field = (uint32_t)(chance * PACE_CERTAIN + 0.5);
			return;
		}
		add_error(p->errs, p->lineno, "invalid %s '%s': expected a "
		    "fraction from 0 to 1 (0.01) or a percentage (1%%)", k->name,
		    shown(text, sizeof(text), value));
		return;
	default:	/* KEY_SEED */
		pp = &current_listener(p)->profile;
		if (num_parse(value, len, 0, INT64_MAX, &v) == 0) {
			pp->seeded = true;
			pp->seed = (uint64_t)v;
			return;
		}
		add_error(p->errs, p->lineno, "invalid seed '%s': expected an integer from "
		    "0 to %lld", shown(text, sizeof(text), value), (long long)INT64_MAX);
		return;
	}
}

/* The line of key name in the current section, or 0. */
static unsigned
key_line(const struct parser *p, const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (keys[i].section == p->section && strcmp(keys[i].name, name) == 0)
			return p->key_lines[i];
	return 0;
}

/* The line of key prefix+name in the current section, or 0. */
static unsigned
prefixed_line(const struct parser *p, const char *prefix, const char *name)
{
	char key[64];

	snprintf(key, sizeof(key), "%s%s", prefix, name);
	return key_line(p, key);
}

/*
 * One direction's new fault keys (prefix "" or "upstream_"), the same rules
 * for both: a probability needs its fault, slice_variation its slice, and
 * a connection ends once.
 */
static void
check_direction(struct parser *p, struct pace_profile *pp, const char *prefix)
{
	char key[64];
	unsigned line, f;

	/* Alone, a probability resets the chosen connections at once; an end alone is certain. */
	if (prefixed_line(p, prefix, "reset_probability") != 0 &&
	    prefixed_line(p, prefix, "reset_after") == 0 &&
	    prefixed_line(p, prefix, "close_after") == 0 &&
	    prefixed_line(p, prefix, "limit_data") == 0) {
		pp->end = PACE_END_RESET;
		pp->end_bytes = 0;
	}
	for (f = 0; f < PACE_FAULTS; f++) {
		snprintf(key, sizeof(key), "%s_probability", pace_fault_names[f]);
		if ((line = prefixed_line(p, prefix, key)) == 0 || pace_profile_has(pp, f))
			continue;
		if (f == PACE_RESET)	/* the end is a close */
			add_error(p->errs, line, "%sreset_probability chooses the connections "
			    "%sreset_after resets; it does not go with %sclose_after", prefix,
			    prefix, prefix);
		else
			add_error(p->errs, line, "%s%s without a %s fault to choose "
			    "connections for", prefix, key, pace_fault_names[f]);
	}
	if ((line = prefixed_line(p, prefix, "slice_variation")) != 0 &&
	    prefixed_line(p, prefix, "slice") == 0)
		add_error(p->errs, line, "%sslice_variation needs %sslice: the average "
		    "bytes per write", prefix, prefix);
	if ((line = prefixed_line(p, prefix, "limit_data")) != 0 &&
	    (prefixed_line(p, prefix, "close_after") != 0 ||
	    prefixed_line(p, prefix, "reset_after") != 0))
		add_error(p->errs, line, "%slimit_data is Toxiproxy's name for %sclose_after "
		    "and excludes %sreset_after: a connection ends once", prefix, prefix,
		    prefix);
	if ((line = prefixed_line(p, prefix, "timeout")) != 0 &&
	    pp->end != PACE_END_NONE)
		add_error(p->errs, line, "%stimeout ends the connection itself: not with "
		    "%sclose_after, %slimit_data or %sreset_after", prefix, prefix, prefix,
		    prefix);
}

/* A listener's fault keys, once all are read: what they mean together. */
static void
check_profile(struct parser *p)
{
	struct pace_profile *pp = &current_listener(p)->profile;
	struct pace_profile *up = &current_listener(p)->upstream;
	unsigned line;

	if ((line = key_line(p, "jitter")) != 0 && pp->jitter_ms > pp->delay_ms)
		add_error(p->errs, line, "jitter %llu ms is more than delay %llu ms: "
		    "a reply cannot come before its request",
		    (unsigned long long)pp->jitter_ms, (unsigned long long)pp->delay_ms);
	if ((line = key_line(p, "upstream_jitter")) != 0 && up->jitter_ms > up->delay_ms)
		add_error(p->errs, line, "upstream_jitter %llu ms is more than "
		    "upstream_delay %llu ms: bytes cannot arrive before they are sent",
		    (unsigned long long)up->jitter_ms, (unsigned long long)up->delay_ms);
	if ((line = key_line(p, "slice_gap")) != 0 && key_line(p, "slice") == 0)
		add_error(p->errs, line, "slice_gap needs slice: the bytes per write");
	if ((line = key_line(p, "upstream_slice_gap")) != 0 && key_line(p, "upstream_slice") == 0)
		add_error(p->errs, line, "upstream_slice_gap needs upstream_slice: the bytes "
		    "the service is shown at a time");
	if (key_line(p, "close_after") != 0 && (line = key_line(p, "reset_after")) != 0)
		add_error(p->errs, line, "reset_after and close_after exclude each other: "
		    "a connection ends once");
	check_direction(p, pp, "");
	check_direction(p, up, "upstream_");
	if (pp->seeded && pace_profile_empty(pp) && pace_profile_empty(up) &&
	    (line = key_line(p, "seed")) != 0)
		add_error(p->errs, line, "seed without a fault to replay: set delay, rate, "
		    "slice, close_after, reset_after, reset_probability, stall_after, "
		    "accept_delay or an upstream_ key");
	config_seed(current_listener(p), pp->seeded, pp->seed);
}

void
config_seed(struct listener_config *lc, bool seeded, uint64_t seed)
{
	lc->profile.seeded = seeded;
	lc->profile.seed = seed;
	/* The other direction replays from the same seed, on a sequence of its own. */
	lc->upstream.seeded = seeded;
	lc->upstream.seed = seed ^ UPSTREAM_SEED;
}

/* Where key k's field is: in the downstream profile, the upstream one, or neither. */
static const struct pace_profile *
key_profile(const struct listener_config *lc, const struct key_desc *k)
{
	size_t down = offsetof(struct listener_config, profile);
	size_t up = offsetof(struct listener_config, upstream);

	if (k->section != SECTION_LISTENER || k->type == KEY_SEED)
		return NULL;
	if (k->offset >= down && k->offset < down + sizeof(struct pace_profile))
		return &lc->profile;
	if (k->offset >= up && k->offset < up + sizeof(struct pace_profile))
		return &lc->upstream;
	return NULL;
}

/* Key k's value in pp as the config would take it, or "" when k sets nothing there. */
static void
format_fault(const struct key_desc *k, const struct pace_profile *pp, const void *field,
    char *dst, size_t size)
{
	/* A chance is a uint32_t: only the other kinds may be read as 64 bits. */
	uint64_t v = k->type == KEY_CHANCE ? 0 : *(const uint64_t *)field, bytes, ms;

	dst[0] = '\0';
	switch (k->type) {
	case KEY_MS:
		if (v != 0)
			snprintf(dst, size, "%llums", (unsigned long long)v);
		break;
	case KEY_SIZE:
		if (v != 0)
			snprintf(dst, size, "%llu", (unsigned long long)v);
		break;
	case KEY_TIMEOUT:
		if (v == 0)
			snprintf(dst, size, "never");
		else if (v != PACE_NEVER)
			snprintf(dst, size, "%llums", (unsigned long long)v);
		break;
	case KEY_CHANCE:
		if (*(const uint32_t *)field != PACE_CERTAIN)
			snprintf(dst, size, "%g%%", *(const uint32_t *)field / 10000.0);
		break;
	default:	/* KEY_AFTER */
		bytes = k->def == PACE_END_NONE ? pp->stall_bytes : pp->end_bytes;
		ms = k->def == PACE_END_NONE ? pp->stall_ms : pp->end_ms;
		/* A close at a byte is shown as limit_data, at a moment as close_after. */
		if (k->def != PACE_END_NONE && (pp->end != (enum pace_end)k->def ||
		    (k->def == PACE_END_CLOSE && (bytes != PACE_NEVER) != (k->min != 0))))
			break;
		if (bytes != PACE_NEVER)
			snprintf(dst, size, "%llu", (unsigned long long)bytes);
		else if (ms != PACE_NEVER)
			snprintf(dst, size, "%llums", (unsigned long long)ms);
		break;
	}
}

size_t
config_format_faults(const struct listener_config *lc, char *buf, size_t size)
{
	const struct pace_profile *dirs[2] = { &lc->profile, &lc->upstream }, *pp;
	static const char *const names[2] = { "downstream", "upstream" };
	const struct key_desc *k;
	size_t len = 0, prefix;
	char value[32];
	int d;

	buf[0] = '\0';
	for (d = 0; d < 2; d++) {
		if (pace_profile_empty(dirs[d]))
			continue;
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
		    len > 0 ? "; " : "", names[d]);
		for (k = keys; k < keys + NKEYS; k++) {
			if ((pp = key_profile(lc, k)) != dirs[d])
				continue;
			format_fault(k, pp, (const char *)lc + k->offset, value, sizeof(value));
			prefix = d == 1 ? strlen("upstream_") : 0;
			if (value[0] != '\0')
				len += (size_t)snprintf(buf + len, len < size ? size - len : 0,
				    " %s=%s", k->name + prefix, value);
		}
	}
	if (len > 0 && lc->profile.seeded)
		len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "; seed %llu",
		    (unsigned long long)lc->profile.seed);
	return len < size ? len : size - 1;
}

/* A password is for a command listener, given once. */
static void
check_auth(struct parser *p)
{
	const struct listener_config *lc = current_listener(p);
	unsigned line;

	if (key_line(p, "requirepass") != 0 && (line = key_line(p, "requirepass_file")) != 0)
		add_error(p->errs, line, "requirepass and requirepass_file exclude each other");
	if (((line = key_line(p, "requirepass")) != 0 ||
	    (line = key_line(p, "requirepass_file")) != 0) &&
	    lc->service != NULL && strcmp(lc->service->name, "command") != 0)
		add_error(p->errs, line, "a password is for a command listener (this one "
		    "serves %s)", lc->service->name);
}

/* A control listener's proxies are the only ones that listen where it lets them. */
static void
check_control(struct parser *p)
{
	const struct listener_config *lc = current_listener(p);
	unsigned line = key_line(p, "proxy_listen_allow");

	if (line != 0 && lc->service != NULL && strcmp(lc->service->name, "control") != 0)
		add_error(p->errs, line, "proxy_listen_allow is for a control listener (this "
		    "one serves %s)", lc->service->name);
}

/* A listener section's keys, once all are read: what they mean together. */
static void
check_section_end(struct parser *p)
{
	check_profile(p);
	check_auth(p);
	check_control(p);
}

static void
set_value(struct parser *p, const struct key_desc *k, const char *value)
{
	void *base = k->section == SECTION_GLOBAL ? (void *)p->cfg :
	    (void *)current_listener(p);
	void *field = (char *)base + k->offset;
	char text[96];
	uint64_t n;

	switch (k->type) {
	case KEY_LEVEL:
		if (log_level_parse(value, field) == -1)
			add_error(p->errs, p->lineno, "invalid %s '%s': expected "
			    "debug, info, notice, warning or error", k->name,
			    shown(text, sizeof(text), value));
		break;
	case KEY_TARGET:
		if (log_target_parse(value, field) == -1)
			add_error(p->errs, p->lineno, "invalid %s '%s': expected "
			    "auto, journal or stderr", k->name,
			    shown(text, sizeof(text), value));
		break;
	case KEY_UINT:
		if (parse_uint(value, k->min, k->max, field) == -1)
			add_error(p->errs, p->lineno, "invalid %s '%s': expected "
			    "an integer from %u to %u", k->name,
			    shown(text, sizeof(text), value), k->min, k->max);
		break;
	case KEY_SECONDS:
		/* Kept in whole seconds: "1.5s" here would be silently cut. */
		if (num_parse_duration(value, strlen(value), 1000, (uint64_t)k->max * 1000,
		    &n) == -1 || n % 1000 != 0 || n / 1000 < k->min)
			add_error(p->errs, p->lineno, "invalid %s '%s': expected seconds "
			    "(30) or a " DURATIONS ", whole seconds from %u to %u", k->name,
			    shown(text, sizeof(text), value), k->min, k->max);
		else
			*(unsigned *)field = (unsigned)(n / 1000);
		break;
	case KEY_MILLIS:
		if (num_parse_duration(value, strlen(value), 1, k->max, &n) == -1 ||
		    n < k->min)
			add_error(p->errs, p->lineno, "invalid %s '%s': expected milliseconds "
			    "(500) or a " DURATIONS ", from %u ms to %u ms", k->name,
			    shown(text, sizeof(text), value), k->min, k->max);
		else
			*(unsigned *)field = (unsigned)n;
		break;
	case KEY_UPSTREAM:
		current_listener(p)->upstream_line = p->lineno;
		set_upstream(p, field, value);
		break;
	case KEY_BYTES:
		if (num_parse_size(value, strlen(value), k->min, k->max, &n) == -1)
			add_error(p->errs, p->lineno, "invalid %s '%s': expected bytes "
			    "(%u) or a " SIZES " from %u to %u", k->name,
			    shown(text, sizeof(text), value), k->def, k->min, k->max);
		else
			*(unsigned *)field = (unsigned)n;
		break;
	case KEY_INCLUDE:
		include_files(p, value);
		break;
	case KEY_WORKERS:
		if (strcmp(value, "auto") == 0)
			*(unsigned *)field = 0;
		else if (parse_uint(value, k->min, k->max, field) == -1)
			add_error(p->errs, p->lineno, "invalid workers '%s': expected auto "
			    "(one per CPU) or an integer from %u to %u",
			    shown(text, sizeof(text), value), k->min, k->max);
		break;
	case KEY_PROXY:
		current_listener(p)->proxy_line = p->lineno;
		if (strcmp(value, "off") == 0 || strcmp(value, "v1") == 0 ||
		    strcmp(value, "v2") == 0 || strcmp(value, "any") == 0)
			*(unsigned *)field = value[0] == 'o' ? 0 : value[0] == 'a' ? 3 :
			    (unsigned)(value[1] - '0');
		else
			add_error(p->errs, p->lineno, "invalid proxy_protocol '%s': expected "
			    "off, v1, v2 or any", shown(text, sizeof(text), value));
		break;
	case KEY_SEND_PROXY:
		/* What the server reads: one version, never "any". */
		if (strcmp(value, "off") == 0 || strcmp(value, "v1") == 0 ||
		    strcmp(value, "v2") == 0)
			*(unsigned *)field = value[0] == 'o' ? 0 : (unsigned)(value[1] - '0');
		else
			add_error(p->errs, p->lineno, "invalid upstream_proxy_protocol '%s': "
			    "expected off, v1 or v2", shown(text, sizeof(text), value));
		break;
	case KEY_FAULTS:
		if (strcmp(value, "off") == 0 || strcmp(value, "loopback") == 0 ||
		    strcmp(value, "on") == 0)
			*(unsigned *)field = value[0] == 'l' ? FAULTS_LOOPBACK :
			    value[1] == 'n' ? FAULTS_ON : FAULTS_OFF;
		else
			add_error(p->errs, p->lineno, "invalid faults '%s': expected off, "
			    "loopback or on", shown(text, sizeof(text), value));
		break;
	case KEY_MS:
	case KEY_TIMEOUT:
	case KEY_SIZE:
	case KEY_AFTER:
	case KEY_CHANCE:
	case KEY_SEED:
		set_fault(p, k, value);
		break;
	case KEY_SECRET:
		if (strlen(value) > CONFIG_SECRET_MAX)
			add_error(p->errs, p->lineno, "requirepass is longer than %d bytes",
			    CONFIG_SECRET_MAX);
		else
			strcpy(field, value);
		break;
	case KEY_SECRET_FILE:
		read_secret(p, value, field);
		break;
	case KEY_BOOL:
		if (parse_bool(value, field) == -1)
			add_error(p->errs, p->lineno, "invalid %s '%s': expected yes or no",
			    k->name, shown(text, sizeof(text), value));
		break;
	case KEY_SERVICE:
		current_listener(p)->service_line = p->lineno;
		if (parse_service(value, field) == -1) {
			char names[128];

			services_list(names, sizeof(names));
			add_error(p->errs, p->lineno, "invalid service '%s': expected "
			    "%s", shown(text, sizeof(text), value), names);
		}
		break;
	case KEY_BINDS:
		current_listener(p)->bind_line = p->lineno;
		if (*value == '\0')
			add_error(p->errs, p->lineno, "bind needs at least one "
			    "ADDR:PORT");
		else
			parse_list(p, k, field, value);
		break;
	case KEY_CIDRS:
		if (*value == '\0')
			add_error(p->errs, p->lineno, "%s needs at least one "
			    "ADDRESS[/PREFIX]; leave it out %s", k->name,
			    k->offset == offsetof(struct listener_config, proxy_listen_allow) ?
			    "for loopback only" : "to allow everyone");
		else
			parse_list(p, k, field, value);
		break;
	}
}

/*
 * Where a key may go, for a message: "[tcpd]" or "[listener.NAME]", and
 * include only in the main file's [tcpd]; "" for a key tcpd does not know
 * (which is "[tcpd] or [listener.NAME]" outside any section).
 */
static const char *
home_of(const struct parser *p, const char *name)
{
	size_t i;

	if (strcmp(name, "include") == 0)
		return p->included ? "the main file's [tcpd]: an included file "
		    "includes nothing" : "[tcpd] (include is read there only)";
	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			return keys[i].section == SECTION_GLOBAL ? "[tcpd]" : "[listener.NAME]";
	return p->section == SECTION_NONE ? "[tcpd] or [listener.NAME]" : "";
}

static int
handle_key(void *user, const char *section, const char *name, const char *value)
{
	struct parser *p = user;
	const struct key_desc *k = NULL;
	char text[96];
	size_t i;

	(void)section;	/* tracked by read_line(), which also sees empty sections */
	if (p->section == SECTION_BAD)
		return 1;
	if (p->section == SECTION_NONE) {
		add_error(p->errs, p->lineno, "'%s' is outside any section; put it under "
		    "%s", shown(text, sizeof(text), name), home_of(p, name));
		return 1;
	}
	if (p->indented && p->prev_key != NULL && strcmp(name, p->prev_key->name) == 0) {
		if (strchr(value, '=') != NULL)
			add_error(p->errs, p->lineno, "indented line continues the value "
			    "of '%s' above it: start each key at the beginning of its "
			    "line", name);
		else if (is_list(p->prev_key))
			parse_list(p, p->prev_key, (char *)current_listener(p) +
			    p->prev_key->offset, value);
		else
			add_error(p->errs, p->lineno, "unexpected indented line: "
			    "only bind, allow and deny take lists that continue on "
			    "indented lines");
		return 1;
	}
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].section == p->section && strcmp(keys[i].name, name) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (k == NULL) {
		const char *home = home_of(p, name);

		add_error(p->errs, p->lineno, "unknown key '%s' in %s%s%s",
		    shown(text, sizeof(text), name),
		    p->section == SECTION_GLOBAL ? "[tcpd]" : "a listener section",
		    home[0] != '\0' ? "; it belongs under " : "", home);
		return 1;
	}
	if (p->key_lines[i] != 0 && k->type != KEY_INCLUDE) {
		add_error(p->errs, p->lineno, "duplicate key '%s' (first set at "
		    "line %u)", name, p->key_lines[i]);
		return 1;
	}
	p->key_lines[i] = p->lineno;
	p->prev_key = k;
	set_value(p, k, value);
	return 1;
}

/* One bind of one listener, for finding the addresses bound twice. */
struct bind_ref {
	const struct net_addr	*addr;
	size_t			 listener;
	size_t			 order;		/* among all binds, as written */
};

/* Orders addresses as net_addr_equal() tells them apart: family, host, port. */
static int
compare_addrs(const struct net_addr *x, const struct net_addr *y)
{
	int c;

	if (x->u.sa.sa_family != y->u.sa.sa_family)
		return x->u.sa.sa_family < y->u.sa.sa_family ? -1 : 1;
	if (x->u.sa.sa_family == AF_INET)
		c = memcmp(&x->u.in.sin_addr, &y->u.in.sin_addr, 4);
	else
		c = memcmp(&x->u.in6.sin6_addr, &y->u.in6.sin6_addr, 16);
	return c != 0 ? c : (int)net_addr_port(x) - (int)net_addr_port(y);
}

/* Equal addresses in the order written: the first one written is "first". */
static int
compare_binds(const void *pa, const void *pb)
{
	const struct bind_ref *a = pa, *b = pb;
	int c = compare_addrs(a->addr, b->addr);

	return c != 0 ? c : a->order < b->order ? -1 : a->order > b->order;
}

/*
 * Addresses bound by two listeners, or twice by one: sorted, so equal ones
 * sit together (n log n, not a comparison of every pair). Reported at the
 * later bind, in the order written, naming where the first one is.
 */
static void
check_binds(struct config *cfg, const char *main, struct config_errors *errs)
{
	struct bind_ref *refs, **first_of;
	char text[NET_ADDRSTRLEN], first[CONFIG_FILE_MAX + 16];
	size_t i, a, n = 0, k;

	for (i = 0; i < cfg->nlisteners; i++)
		n += cfg->listeners[i].nbinds;
	refs = calloc(n != 0 ? n : 1, sizeof(*refs));
	first_of = calloc(n != 0 ? n : 1, sizeof(*first_of));
	if (refs == NULL || first_of == NULL) {
		add_error(errs, 0, "out of memory");
		goto done;
	}
	for (i = 0, k = 0; i < cfg->nlisteners; i++)
		for (a = 0; a < cfg->listeners[i].nbinds; a++, k++)
			refs[k] = (struct bind_ref){ &cfg->listeners[i].binds[a], i, k };
	qsort(refs, n, sizeof(*refs), compare_binds);
	/* first_of[order]: the first bind of that address, when it is a repeat. */
	for (i = 0, k = 0; i < n; i++) {
		if (compare_addrs(refs[i].addr, refs[k].addr) != 0)
			k = i;
		else if (i != k && net_addr_port(refs[i].addr) != 0)	/* port 0: fresh each */
			first_of[refs[i].order] = &refs[k];
	}
	for (i = 0, k = 0; i < cfg->nlisteners; i++) {
		struct listener_config *l = &cfg->listeners[i];

		for (a = 0; a < l->nbinds; a++, k++) {
			const struct listener_config *o;

			if (first_of[k] == NULL)
				continue;
			o = &cfg->listeners[first_of[k]->listener];
			net_addr_format(&l->binds[a], text, sizeof(text));
			errs->current = l->file;
			add_error(errs, l->bind_line, "address %s is already bound by "
			    "listener '%s' (%s)", text, o->name, where(first, sizeof(first),
			    main, o->file, o->bind_line));
		}
	}
	errs->current = NULL;
done:
	free(refs);
	free(first_of);
}

static void
check_listeners(struct config *cfg, const char *main, struct config_errors *errs)
{
	size_t i;

	if (cfg->nlisteners == 0)
		add_error(errs, 0, "no [listener.NAME] section: nothing to serve");
	for (i = 0; i < cfg->nlisteners; i++) {
		struct listener_config *l = &cfg->listeners[i];

		errs->current = l->file;
		/* A --listen listener (line 0) always has both. */
		if (l->bind_line == 0 && l->line != 0)
			add_error(errs, l->line, "listener '%s' has no bind", l->name);
		if (l->service_line == 0 && l->line != 0)
			add_error(errs, l->line, "listener '%s' has no service",
			    l->name);
		/* A proxy is for one server; any other service has none. */
		if (l->service != NULL && strcmp(l->service->name, "proxy") == 0 &&
		    l->upstream_line == 0)
			add_error(errs, l->service_line, "service proxy needs upstream: "
			    "the ADDR:PORT of the server to pass each client to");
		if (l->service != NULL && strcmp(l->service->name, "proxy") != 0 &&
		    l->upstream_line != 0)
			add_error(errs, l->upstream_line, "upstream is for a proxy listener "
			    "(this one serves %s)", l->service->name);
		/*
		 * The proxies a control listener makes live in its process only:
		 * with workers, each would see a different set.
		 */
		if (l->service != NULL && strcmp(l->service->name, "control") == 0 &&
		    cfg->workers != 1)
			add_error(errs, l->service_line, "service control needs workers = 1: "
			    "the proxies it makes live in one process");
		/* Otherwise anyone could claim any address. */
		if (l->proxy_protocol != 0 && l->proxy_trusted.n == 0)
			add_error(errs, l->proxy_line, "proxy_protocol needs proxy_trusted: "
			    "the addresses of the load balancers that may send the header");
	}
	errs->current = NULL;
	check_binds(cfg, main, errs);
}

static void
set_defaults(struct config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].section != SECTION_GLOBAL)
			continue;
		if (keys[i].type == KEY_LEVEL)
			cfg->log_level = (enum log_level)keys[i].def;
		else if (keys[i].type == KEY_TARGET)
			cfg->log_target = (enum log_target)keys[i].def;
		else if (is_unsigned(&keys[i]) || keys[i].type == KEY_WORKERS)
			*(unsigned *)(void *)((char *)cfg + keys[i].offset) = keys[i].def;
	}
}

/* One file, the main one or an included one, through inih. */
static void
parse_file(struct parser *p, FILE *in)
{
	int rc;

	p->in = in;
	rc = ini_parse_stream(read_line, p, handle_key, p);
	if (p->section == SECTION_LISTENER)
		check_section_end(p);
	if (rc == -2)
		add_error(p->errs, 0, "out of memory");
	else if (rc > 0)
		add_error(p->errs, (unsigned)rc, "syntax error: expected "
		    "'key = value', '[section]' or a comment");
	else if (ferror(in))
		add_error(p->errs, 0, "read error: %s", strerror(errno));
}

/* The end of every load: 0, or -1 with *cfg freed. */
static int
finish(struct config *cfg, struct name_index *names, struct config_errors *errs)
{
	free(names->slot);
	if (errs->count == 0)
		return 0;
	config_free(cfg);
	return -1;
}

static int
load_stream(struct config *cfg, FILE *in, const char *path, const char *dir,
    struct config_errors *errs)
{
	struct name_index names = { NULL, 0 };
	struct parser p = { .cfg = cfg, .errs = errs, .dir = dir, .main = path,
	    .names = &names };

	set_defaults(cfg);
	parse_file(&p, in);
	if (!p.too_big)
		check_listeners(cfg, path, errs);
	return finish(cfg, &names, errs);
}

int
config_load_file(struct config *cfg, const char *path, struct config_errors *errs)
{
	char dir[PATH_MAX];
	FILE *in;
	int rc;

	memset(errs, 0, sizeof(*errs));
	memset(cfg, 0, sizeof(*cfg));
	if ((in = open_regular(path)) == NULL) {
		if (errno == EINVAL)
			add_error(errs, 0, "cannot open: not a regular file");
		else if (errno == EACCES)
			add_error(errs, 0, "cannot open: %s (the systemd unit runs tcpd as "
			    "its own DynamicUser: the file must be readable by others, as "
			    "chmod 644 does)", strerror(errno));
		else
			add_error(errs, 0, "cannot open: %s", strerror(errno));
		return -1;
	}
	/* Relative includes are relative to this file's directory. */
	snprintf(dir, sizeof(dir), "%s", path);
	if (strrchr(dir, '/') != NULL)
		*strrchr(dir, '/') = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	rc = load_stream(cfg, in, path, dir[0] != '\0' ? dir : "/", errs);
	fclose(in);
	return rc;
}

int
config_load_string(struct config *cfg, const char *text, struct config_errors *errs)
{
	FILE *in;
	int rc;

	memset(errs, 0, sizeof(*errs));
	memset(cfg, 0, sizeof(*cfg));
	/* fmemopen refuses a zero-length buffer; an empty text is an empty file. */
	if ((in = fmemopen((void *)(uintptr_t)(text[0] ? text : "\n"),
	    text[0] ? strlen(text) : 1, "r")) == NULL) {
		add_error(errs, 0, "out of memory");
		return -1;
	}
	rc = load_stream(cfg, in, NULL, NULL, errs);
	fclose(in);
	return rc;
}

/* Keeps a copy of text in cfg->files (freed with it); NULL out of memory. */
static const char *
keep_text(struct config *cfg, const char *text)
{
	char **files, *copy;

	if ((files = realloc(cfg->files, (cfg->nfiles + 1) * sizeof(*files))) == NULL)
		return NULL;
	cfg->files = files;
	if ((copy = strdup(text)) == NULL)
		return NULL;
	return cfg->files[cfg->nfiles++] = copy;
}

/* A key of a listener's fault profile, in either direction. */
static bool
is_fault_key(const struct key_desc *k)
{
	size_t down = offsetof(struct listener_config, profile);
	size_t up = offsetof(struct listener_config, upstream);

	return k->section == SECTION_LISTENER && ((k->offset >= down &&
	    k->offset < down + sizeof(struct pace_profile)) || (k->offset >= up &&
	    k->offset < up + sizeof(struct pace_profile)));
}

/* The longest KEY=VALUE one item of --fault takes. */
#define OPTION_ITEM_MAX	256

/*
 * KEY=VALUE (len bytes of item) from --set or --fault, set as the line
 * "KEY = VALUE" of the listener's section would be: the same parser and
 * checks, a key given twice refused.
 */
static void
set_option(struct parser *p, const char *item, size_t len, bool fault)
{
	const char *eq = memchr(item, '=', len);
	char text[OPTION_ITEM_MAX], shownkey[96];
	size_t i, klen;

	if (len >= sizeof(text)) {
		add_error(p->errs, p->lineno, "longer than %d bytes", OPTION_ITEM_MAX - 1);
		return;
	}
	memcpy(text, item, len);
	text[len] = '\0';
	if (eq == NULL) {
		add_error(p->errs, p->lineno, "'%s' is not KEY=VALUE",
		    shown(shownkey, sizeof(shownkey), text));
		return;
	}
	klen = (size_t)(eq - item);
	text[klen] = '\0';
	for (i = 0; i < NKEYS; i++)
		if (keys[i].section == SECTION_LISTENER && strcmp(keys[i].name, text) == 0)
			break;
	if (i == NKEYS)
		add_error(p->errs, p->lineno, "unknown listener key '%s'",
		    shown(shownkey, sizeof(shownkey), text));
	else if (fault && !is_fault_key(&keys[i]))
		add_error(p->errs, p->lineno, "%s is not a fault key: set it with "
		    "--set %s=VALUE", keys[i].name, keys[i].name);
	else if (p->key_lines[i] != 0)
		add_error(p->errs, p->lineno, "%s is set twice for this listener",
		    keys[i].name);
	else {
		p->key_lines[i] = p->lineno;
		set_value(p, &keys[i], text + klen + 1);
	}
}

/* A --listen listener's options are all read: what they mean together. */
static void
end_option_listener(struct parser *p)
{
	const char *option = p->errs->current;

	p->errs->current = current_listener(p)->file;
	if (current_listener(p)->service_line == 0)
		add_error(p->errs, p->lineno, "needs a --service after it");
	check_section_end(p);
	p->errs->current = option;
}

/* One option after its --listen: the key or keys it sets. */
static void
apply_option(struct parser *p, const struct config_option *o)
{
	const char *s = o->value;
	size_t len;

	if (strcmp(o->name, "set") == 0) {
		set_option(p, s, strlen(s), false);
	} else if (strcmp(o->name, "fault") == 0) {
		do {
			len = strcspn(s, ",");
			set_option(p, s, len, true);
			s += len;
		} while (*s++ != '\0');
	} else {	/* service, upstream, seed: --set NAME=VALUE */
		char item[OPTION_ITEM_MAX];
		int n = snprintf(item, sizeof(item), "%s=%s", o->name, s);

		set_option(p, item, n < 0 ? 0 : (size_t)n, false);
	}
}

/*
 * An option after its --listen, as a key of that listener: its line,
 * nonzero as in a file, lets the checks between keys see it.
 */
static void
listener_option(struct parser *p, const struct config_option *o)
{
	p->lineno = 1;
	apply_option(p, o);
	p->lineno = 0;
}

int
config_load_options(struct config *cfg, const struct config_option *opts, size_t n,
    struct config_errors *errs)
{
	struct name_index names = { NULL, 0 };
	struct parser p = { .cfg = cfg, .errs = errs, .names = &names };
	char name[CONFIG_NAME_MAX], label[CONFIG_FILE_MAX];
	char addr[NET_ADDRSTRLEN];
	size_t i, nlisten = 0;

	memset(errs, 0, sizeof(*errs));
	set_defaults(cfg);
	for (i = 0; i < n; i++) {
		const char *l = opts[i].value;

		/* Each error names its option; that option is the error's "file". */
		snprintf(label, sizeof(label), "--%s %s", opts[i].name, l);
		if ((errs->current = keep_text(cfg, label)) == NULL) {
			add_error(errs, 0, "out of memory");
			break;
		}
		if (strcmp(opts[i].name, "listen") != 0 && strcmp(opts[i].name, "control") != 0) {
			if (p.section != SECTION_LISTENER) {
				add_error(errs, 0, "comes before any --listen: put it after the "
				    "--listen of the listener it is for");
				continue;
			}
			listener_option(&p, &opts[i]);
			continue;
		}
		if (p.section == SECTION_LISTENER)
			end_option_listener(&p);
		memset(p.key_lines, 0, sizeof(p.key_lines));
		p.section = SECTION_NONE;
		snprintf(name, sizeof(name), "cli%zu", nlisten++);
		start_listener(&p, name);
		if (p.section != SECTION_LISTENER)
			break;
		/* A bare port is on loopback: what a test suite or a quick try wants. */
		if (l[strspn(l, "0123456789")] == '\0' &&
		    snprintf(addr, sizeof(addr), "127.0.0.1:%s", l) < (int)sizeof(addr))
			l = addr;
		/* One address, never a list: the option is one ADDR:PORT. */
		add_bind(&p, current_listener(&p), l, strlen(l));
		/* --control ADDR: --listen ADDR --service control, toxiproxy-server's stand-in. */
		if (strcmp(opts[i].name, "control") == 0)
			listener_option(&p, &(const struct config_option){ "service", "control" });
	}
	if (p.section == SECTION_LISTENER)
		end_option_listener(&p);
	errs->current = NULL;
	check_listeners(cfg, NULL, errs);
	/* An option has no line: the keys' lines above only told set from unset. */
	for (i = 0; i < errs->count && i < CONFIG_MAX_ERRORS; i++)
		errs->err[i].line = 0;
	return finish(cfg, &names, errs);
}

void
config_free(struct config *cfg)
{
	size_t i;

	free(cfg->listeners);
	cfg->listeners = NULL;
	cfg->nlisteners = 0;
	for (i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	cfg->files = NULL;
	cfg->nfiles = 0;
}
