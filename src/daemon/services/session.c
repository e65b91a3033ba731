/* SPDX-License-Identifier: MIT */
/*
 * What a client says about its own connection, as redis-server 7 answers
 * it: HELLO (the protocol, a name, a password at once), AUTH against the
 * listener's requirepass, RESET, and CLIENT: ID, SETNAME, GETNAME,
 * SETINFO, INFO, LIST, KILL, NO-EVICT, NO-TOUCH, REPLY, HELP.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/listener.h"
#include "daemon/services/cmd.h"
#include "daemon/services/session.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"
#include "tcpd_build.h"
#include "tcpd/num.h"
#include "tcpd/resp.h"

static bool
word(const struct resp_arg *a, const char *w)
{
	return a->len == strlen(w) && strncasecmp(a->ptr, w, a->len) == 0;
}

/* The listener's password, or NULL when it asks for none. */
static const char *
requirepass(const struct cmd_client *client)
{
	const char *pass = conn_listener(client->conn)->requirepass;

	return pass[0] != '\0' ? pass : NULL;
}

/*
 * Whether given is the password, in a time that depends on given's length
 * alone: a wrong guess learns nothing from how long the answer took.
 */
static bool
password_matches(const char *pass, const struct resp_arg *given)
{
	size_t n = strlen(pass), i;
	unsigned diff = n != given->len;

	for (i = 0; i < given->len; i++)
		diff |= (unsigned char)given->ptr[i] ^ (unsigned char)pass[i % n];
	return diff == 0;
}

/*
 * AUTH's check, for AUTH and HELLO AUTH: user NULL for AUTH password alone.
 * Answers the error itself and returns false on failure.
 */
static bool
authenticate(const struct cmd_client *client, const struct resp_arg *user,
    const struct resp_arg *pass, struct buf *out)
{
	static struct log_rate failures_log;
	const char *want = requirepass(client);
	unsigned suppressed;

	/* Without a password the default user takes any, as Redis's nopass user does. */
	if ((user == NULL || word(user, "default")) &&
	    (want == NULL || password_matches(want, pass))) {
		client->session->authed = true;
		return true;
	}
	stats.auth_failures++;
	if (log_rate_ok(&failures_log, conn_now(client->conn), &suppressed))
		conn_log(client->conn, LOG_LEVEL_WARNING, "AUTH failed: wrong password or "
		    "user (%u more since the last line)", suppressed);
	resp_add_error(out, "WRONGPASS invalid username-password pair or user is disabled.");
	return false;
}

enum cmd_result
session_auth(const struct cmd_client *client, const struct resp_request *req, struct buf *out)
{
	if (req->argc == 2 && requirepass(client) == NULL) {
		resp_add_error(out, "ERR AUTH <password> called without any password configured "
		    "for the default user. Are you sure your configuration is correct?");
		return CMD_CONTINUE;
	}
	if (authenticate(client, req->argc == 3 ? &req->argv[1] : NULL,
	    &req->argv[req->argc - 1], out))
		resp_add_simple(out, "OK");
	return CMD_CONTINUE;
}

/* Redis's rule for names and library fields: printable, no spaces. */
static bool
printable(const struct resp_arg *a)
{
	size_t i;

	for (i = 0; i < a->len; i++)
		if (a->ptr[i] <= ' ' || a->ptr[i] > '~')
			return false;
	return true;
}

/* Sets *field to a copy of a (NULL when empty); false: out of memory, answered. */
static bool
set_text(char **field, const struct resp_arg *a, struct buf *out)
{
	char *copy = NULL;

	if (a->len > 0 && (copy = strndup(a->ptr, a->len)) == NULL) {
		resp_add_error(out, "ERR out of memory");
		return false;
	}
	free(*field);
	*field = copy;
	return true;
}

static bool
set_name(const struct cmd_client *client, const struct resp_arg *name, struct buf *out)
{
	struct cmd_extras *x;

	if (!printable(name)) {
		resp_add_error(out, "ERR Client names cannot contain spaces, newlines or "
		    "special characters.");
		return false;
	}
	if (name->len == 0 && *client->extras == NULL)
		return true;
	if ((x = session_extras(client)) == NULL) {
		resp_add_error(out, "ERR out of memory");
		return false;
	}
	return set_text(&x->name, name, out);
}

static void
add_field(struct buf *out, const char *key, const char *value)
{
	resp_add_bulk(out, key, strlen(key));
	resp_add_bulk(out, value, strlen(value));
}

/*
 * HELLO [protover [AUTH username password] [SETNAME clientname]]: checked
 * whole before any of it takes effect, then the server's map in the
 * protocol asked for.
 */
enum cmd_result
session_hello(const struct cmd_client *client, const struct resp_request *req, struct buf *out)
{
	const struct resp_arg *user = NULL, *pass = NULL, *name = NULL;
	int64_t proto = client->session->proto;
	struct conn_info info;
	size_t i;

	if (req->argc >= 2) {
		if (num_parse(req->argv[1].ptr, req->argv[1].len, INT64_MIN, INT64_MAX,
		    &proto) == -1) {
			resp_add_error(out, "ERR Protocol version is not an integer or out of "
			    "range");
			return CMD_CONTINUE;
		}
		if (proto != RESP2 && proto != RESP3) {
			resp_add_error(out, "NOPROTO unsupported protocol version");
			return CMD_CONTINUE;
		}
	}
	for (i = 2; i < req->argc; i++) {
		if (word(&req->argv[i], "auth") && i + 2 < req->argc) {
			user = &req->argv[i + 1];
			pass = &req->argv[i + 2];
			i += 2;
		} else if (word(&req->argv[i], "setname") && i + 1 < req->argc) {
			name = &req->argv[++i];
		} else {
			resp_add_error(out, "ERR Syntax error in HELLO option '%.*s'",
			    (int)(req->argv[i].len < CMD_NAME_IN_ERROR_MAX ? req->argv[i].len :
			    CMD_NAME_IN_ERROR_MAX), req->argv[i].ptr);
			return CMD_CONTINUE;
		}
	}
	if (pass == NULL && !client->session->authed) {
		resp_add_error(out, "NOAUTH HELLO must be called with the client already "
		    "authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can "
		    "be used to authenticate the client and select the RESP protocol version "
		    "at the same time");
		return CMD_CONTINUE;
	}
	if (pass != NULL && !authenticate(client, user, pass, out))
		return CMD_CONTINUE;
	if (name != NULL && !set_name(client, name, out))
		return CMD_CONTINUE;
	client->session->proto = (uint8_t)proto;
	conn_get_info(client->conn, &info);
	resp_add_map(out, 7, client->session->proto);
	add_field(out, "server", "tcpd");
	add_field(out, "version", TCPD_VERSION);
	resp_add_bulk(out, "proto", 5);
	resp_add_int(out, proto);
	resp_add_bulk(out, "id", 2);
	resp_add_int(out, (int64_t)info.id);
	add_field(out, "mode", "standalone");
	add_field(out, "role", "master");
	resp_add_bulk(out, "modules", 7);
	resp_add_array(out, 0);
	return CMD_CONTINUE;
}

/* What CLIENT SETNAME and SETINFO gave; RESET and the close both drop it. */
static void
forget_names(struct cmd_extras *x)
{
	free(x->name);
	free(x->lib_name);
	free(x->lib_ver);
	x->name = x->lib_name = x->lib_ver = NULL;
}

/* RESET: the connection as it was accepted, but for the faults armed on it. */
enum cmd_result
session_reset(const struct cmd_client *client, const struct resp_request *req, struct buf *out)
{
	struct cmd_extras *x = *client->extras;

	(void)req;
	client->session->proto = RESP2;
	client->session->reply = CMD_REPLY_ON;
	client->session->authed = requirepass(client) == NULL;
	if (x != NULL)
		forget_names(x);
	resp_add_simple(out, "RESET");
	return CMD_CONTINUE;
}

enum cmd_result
session_client_id(const struct cmd_client *client, const struct resp_request *req, struct buf *out)
{
	struct conn_info info;

	(void)req;
	conn_get_info(client->conn, &info);
	resp_add_int(out, (int64_t)info.id);
	return CMD_CONTINUE;
}

enum cmd_result
session_client_setname(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	if (set_name(client, &req->argv[2], out))
		resp_add_simple(out, "OK");
	return CMD_CONTINUE;
}

enum cmd_result
session_client_getname(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	const struct cmd_extras *x = *client->extras;

	(void)req;
	if (x == NULL || x->name == NULL)
		resp_add_null(out, client->session->proto);
	else
		resp_add_bulk(out, x->name, strlen(x->name));
	return CMD_CONTINUE;
}

enum cmd_result
session_client_setinfo(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	const struct resp_arg *attr = &req->argv[2], *value = &req->argv[3];
	bool name = word(attr, "lib-name");
	struct cmd_extras *x;

	if (!name && !word(attr, "lib-ver")) {
		resp_add_error(out, "ERR Unrecognized option '%.*s'",
		    (int)(attr->len < CMD_NAME_IN_ERROR_MAX ? attr->len : CMD_NAME_IN_ERROR_MAX),
		    attr->ptr);
		return CMD_CONTINUE;
	}
	if (!printable(value)) {
		resp_add_error(out, "ERR %s cannot contain spaces, newlines or special "
		    "characters.", name ? "lib-name" : "lib-ver");
		return CMD_CONTINUE;
	}
	if ((x = session_extras(client)) == NULL) {
		resp_add_error(out, "ERR out of memory");
		return CMD_CONTINUE;
	}
	if (set_text(name ? &x->lib_name : &x->lib_ver, value, out))
		resp_add_simple(out, "OK");
	return CMD_CONTINUE;
}

/* A session's last command as CLIENT LIST shows it: its counters carry its name. */
static const char *
command_name(uint8_t last)
{
	return last != 0 && last < STATS_MAX_COMMANDS && stats.commands[last].name != NULL ?
	    stats.commands[last].name : "NULL";
}

/* A connection's line in CLIENT LIST and CLIENT INFO, in Redis's field order. */
static void
client_line(struct conn *c, struct buf *text)
{
	const struct cmd_state *st = conn_state(c);
	const struct cmd_extras *x = st->extras;
	struct conn_info info;

	conn_get_info(c, &info);
	buf_appendf(text, "id=%llu addr=%s laddr=%s fd=%d name=%s age=%llu idle=%llu "
	    "flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=%zu qbuf-free=0 argv-mem=0 "
	    "multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=%zu tot-mem=0 events=r%s cmd=%s "
	    "user=default redir=-1 resp=%u lib-name=%s lib-ver=%s listener=%s%s%s\n",
	    (unsigned long long)info.id, info.peer, info.local, info.fd,
	    x != NULL && x->name != NULL ? x->name : "",
	    (unsigned long long)(info.age_ms / 1000), (unsigned long long)(info.idle_ms / 1000),
	    info.in_buffered, info.out_buffered, info.out_buffered > 0 ? "w" : "",
	    command_name(st->session.last), (unsigned)st->session.proto,
	    x != NULL && x->lib_name != NULL ? x->lib_name : "",
	    x != NULL && x->lib_ver != NULL ? x->lib_ver : "", info.listener,
	    info.proxy != NULL ? " proxy=" : "", info.proxy != NULL ? info.proxy : "");
}

enum cmd_result
session_client_info(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	struct buf text;

	(void)req;
	buf_init(&text, 4096);
	client_line(client->conn, &text);
	if (text.error != 0)
		resp_add_error(out, "ERR out of memory");
	else
		resp_add_verbatim(out, buf_data(&text), buf_len(&text), client->session->proto);
	buf_free(&text);
	return CMD_CONTINUE;
}

/* The filters of CLIENT LIST and KILL: who is meant. */
struct client_filter {
	bool		 none;		/* TYPE master, replica or pubsub: nobody here */
	bool		 skipme;
	uint64_t	 ids[RESP_MAX_ARGS];
	size_t		 nids;
	const struct resp_arg *addr, *laddr;
};

static bool
filter_matches(const struct client_filter *f, const struct cmd_client *client, struct conn *c)
{
	struct conn_info info;
	size_t i;
	bool id = f->nids == 0;

	if (f->none || (f->skipme && c == client->conn))
		return false;
	conn_get_info(c, &info);
	for (i = 0; i < f->nids; i++)
		id |= f->ids[i] == info.id;
	return id && (f->addr == NULL || (f->addr->len == strlen(info.peer) &&
	    memcmp(f->addr->ptr, info.peer, f->addr->len) == 0)) &&
	    (f->laddr == NULL || (f->laddr->len == strlen(info.local) &&
	    memcmp(f->laddr->ptr, info.local, f->laddr->len) == 0));
}

/*
 * Options from argv[first] on (no more than RESP_MAX_ARGS: the table's
 * arity), as pairs (KILL: ID, ADDR, LADDR, TYPE, USER, SKIPME) or, for
 * LIST, TYPE t and ID id [id ...]. False: a syntax error.
 */
static bool
parse_filter(const struct resp_request *req, size_t first, bool list, struct client_filter *f)
{
	const struct resp_arg *opt, *v;
	int64_t id;
	size_t i = first;

	*f = (struct client_filter){ .skipme = !list };
	while (i < req->argc) {
		opt = &req->argv[i++];
		if (i == req->argc)
			return false;
		if (word(opt, "id")) {
			/* LIST's ID takes every id after it; KILL's one. */
			do {
				v = &req->argv[i++];
				if (num_parse(v->ptr, v->len, 1, INT64_MAX, &id) == -1)
					return false;
				f->ids[f->nids++] = (uint64_t)id;
			} while (list && i < req->argc);
			continue;
		}
		v = &req->argv[i++];
		if (word(opt, "type")) {
			if (!word(v, "normal") && !word(v, "master") && !word(v, "replica") &&
			    !word(v, "pubsub") && !word(v, "slave"))
				return false;
			f->none = !word(v, "normal");
		} else if (!list && word(opt, "addr")) {
			f->addr = v;
		} else if (!list && word(opt, "laddr")) {
			f->laddr = v;
		} else if (!list && word(opt, "user")) {
			f->none |= !word(v, "default");
		} else if (!list && word(opt, "skipme")) {
			if (!word(v, "yes") && !word(v, "no"))
				return false;
			f->skipme = word(v, "yes");
		} else {
			return false;
		}
	}
	return true;
}

/* CLIENT LIST [TYPE t] [ID id ...]: this process's command connections. */
enum cmd_result
session_client_list(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	struct client_filter f;
	struct conn *c = NULL;
	struct buf text;

	if (!parse_filter(req, 2, true, &f)) {
		resp_add_error(out, "ERR syntax error");
		return CMD_CONTINUE;
	}
	buf_init(&text, conn_output_room(client->conn));
	while ((c = conn_next_peer(client->conn, c)) != NULL)
		if (filter_matches(&f, client, c))
			client_line(c, &text);
	if (text.error != 0)
		resp_add_error(out, "ERR the list is larger than this connection's output_limit");
	else
		resp_add_verbatim(out, buf_data(&text), buf_len(&text), client->session->proto);
	buf_free(&text);
	return CMD_CONTINUE;
}

/*
 * CLIENT KILL ip:port (OK, or an error when nobody matched), or CLIENT KILL
 * with filters (how many were closed). One of them may be the sender
 * itself (SKIPME no): it gets its reply first.
 */
enum cmd_result
session_client_kill(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	struct client_filter f;
	struct conn *c, *next, *self = NULL;
	int64_t killed = 0;

	if (req->argc == 3) {
		f = (struct client_filter){ .addr = &req->argv[2] };
	} else if (!parse_filter(req, 2, false, &f)) {
		resp_add_error(out, "ERR syntax error");
		return CMD_CONTINUE;
	}
	for (c = conn_next_peer(client->conn, NULL); c != NULL; c = next) {
		next = conn_next_peer(client->conn, c);
		if (!filter_matches(&f, client, c))
			continue;
		killed++;
		if (c == client->conn)
			self = c;
		else
			conn_kill(client->conn, c);
	}
	if (req->argc != 3)
		resp_add_int(out, killed);
	else if (killed == 0)
		resp_add_error(out, "ERR No such client");
	else
		resp_add_simple(out, "OK");
	if (self != NULL)
		conn_kill(client->conn, self);
	return CMD_CONTINUE;
}

/* NO-EVICT and NO-TOUCH: tcpd evicts and touches nothing, so either is accepted. */
enum cmd_result
session_client_on_off(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	(void)client;
	if (word(&req->argv[2], "on") || word(&req->argv[2], "off"))
		resp_add_simple(out, "OK");
	else
		resp_add_error(out, "ERR syntax error");
	return CMD_CONTINUE;
}

enum cmd_result
session_client_reply(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	const struct resp_arg *mode = &req->argv[2];

	if (word(mode, "on")) {
		client->session->reply = CMD_REPLY_ON;
		resp_add_simple(out, "OK");
	} else if (word(mode, "off")) {
		client->session->reply = CMD_REPLY_OFF;
	} else if (word(mode, "skip")) {
		if (client->session->reply != CMD_REPLY_OFF)
			client->session->reply = CMD_REPLY_SKIP_NEXT;
	} else {
		resp_add_error(out, "ERR syntax error");
	}
	return CMD_CONTINUE;
}

struct cmd_extras *
session_extras(const struct cmd_client *client)
{
	if (*client->extras == NULL)
		*client->extras = calloc(1, sizeof(**client->extras));
	return *client->extras;
}

void
session_extras_free(struct cmd_extras *x)
{
	if (x == NULL)
		return;
	forget_names(x);
	free(x->faults);
	free(x);
}
