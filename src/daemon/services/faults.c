/* SPDX-License-Identifier: MIT */
/*
 * Faults a client asks for on its own connection, so that the authors of
 * TCP clients can reproduce what breaks them: no proxy, no other client
 * touched. Gated per listener by faults = off | loopback | on.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "daemon/config.h"
#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/services/faults.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"
#include "tcpd/num.h"
#include "tcpd/resp.h"

static bool
is(const struct resp_arg *a, const char *word)
{
	return a->len == strlen(word) && strncasecmp(a->ptr, word, a->len) == 0;
}

static void
count(struct conn *c, enum fault_kind kind)
{
	stats.faults[kind]++;
	conn_log(c, LOG_LEVEL_DEBUG, "fault: %s", stats_fault_names[kind]);
}

/* Why this connection may not inject faults, or NULL when it may. */
static const char *
refused(struct conn *c)
{
	switch (conn_listener(c)->faults) {
	case FAULTS_ON:
		return NULL;
	case FAULTS_LOOPBACK:
		return conn_peer_loopback(c) ? NULL : "ERR fault commands are allowed only "
		    "from 127.0.0.0/8 and ::1 on this listener (faults = loopback)";
	default:
		return "ERR fault commands are off on this listener (faults = off)";
	}
}

/* GARBAGE n: n bytes no RESP parser takes, the first a type byte RESP2 lacks. */
static void
garbage(struct buf *out, size_t n)
{
	static const char junk[] = "!tcpd garbage, not RESP~";
	size_t i;

	for (i = 0; i < n; i++)
		buf_append(out, &junk[i % (sizeof(junk) - 1)], 1);
}

bool
faults_command(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	const struct resp_arg *name = &req->argv[0];
	const char *why;
	int64_t n;

	/* Every other command costs two compares: no fault's name is 4 letters or over 9. */
	if (name->len < 5 || name->len > 9)
		return false;
	if (!is(name, "close") && !is(name, "reset") && !is(name, "halfclose") &&
	    !is(name, "truncate") && !is(name, "error") && !is(name, "garbage") &&
	    !is(name, "faults"))
		return false;
	if ((why = refused(c)) != NULL) {
		resp_add_error(out, "%s", why);
		return true;
	}
	if (is(name, "close") && req->argc == 1) {
		count(c, FAULT_CLOSE);
		conn_finish(c);		/* a FIN now, no reply */
	} else if (is(name, "reset") && req->argc == 1) {
		count(c, FAULT_RESET);
		conn_reset(c);
	} else if (is(name, "halfclose") && req->argc == 1) {
		count(c, FAULT_HALFCLOSE);
		resp_add_simple(out, "OK");
		conn_half_close(c);
	} else if (is(name, "truncate") && req->argc == 1) {
		count(c, FAULT_TRUNCATE);
		f->truncate_next = true;
		resp_add_simple(out, "OK");
	} else if (is(name, "error") && req->argc == 2) {
		count(c, FAULT_ERROR);
		resp_add_error(out, "%.*s", (int)req->argv[1].len, req->argv[1].ptr);
	} else if (is(name, "garbage") && req->argc == 2 &&
	    num_parse(req->argv[1].ptr, req->argv[1].len, 1, FAULTS_GARBAGE_MAX, &n) == 0) {
		count(c, FAULT_GARBAGE);
		garbage(out, (size_t)n);
	} else if (is(name, "faults") && req->argc == 1) {
		resp_add_array(out, f->truncate_next ? 1 : 0);
		if (f->truncate_next)
			resp_add_bulk(out, "TRUNCATE the next reply", 23);
	} else if (is(name, "faults") && req->argc == 2 && is(&req->argv[1], "clear")) {
		f->truncate_next = false;
		resp_add_simple(out, "OK");
	} else {
		resp_add_error(out, "ERR syntax: CLOSE, RESET, HALFCLOSE, TRUNCATE, FAULTS "
		    "[CLEAR], ERROR text, GARBAGE n (1 to %u)", FAULTS_GARBAGE_MAX);
	}
	return true;
}

void
faults_after_reply(struct conn *c, struct faults *f, struct buf *out, size_t len)
{
	if (len == 0)
		return;
	f->truncate_next = false;
	buf_unappend(out, len - len / 2);
	conn_finish(c);
}
