/* SPDX-License-Identifier: MIT */
/*
 * Faults a client asks for on its own connection, so that the authors of
 * TCP clients can reproduce what breaks them: no proxy, no other client
 * touched. Gated per listener by faults = off | loopback | on. The timed
 * ones are the transport's pacing (pace.h): this file only parses and sets.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/config.h"
#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/pace.h"
#include "daemon/services/faults.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"
#include "tcpd/num.h"
#include "tcpd/resp.h"

/* The STREAM bytes made before the socket has taken them. */
#define STREAM_AHEAD	(16 * 1024)

/* A fault's work: false when its arguments are wrong (the caller says how to write it). */
typedef bool (*fault_fn)(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out);

static bool
is(const struct resp_arg *a, const char *word)
{
	return a->len == strlen(word) && strncasecmp(a->ptr, word, a->len) == 0;
}

static bool
arg_ms(const struct resp_arg *a, uint64_t *ms)
{
	return pace_parse_ms(a->ptr, a->len, PACE_MS_MAX, ms) == 0;
}

static bool
arg_count(const struct resp_arg *a, uint64_t max, uint64_t *v)
{
	int64_t n;

	if (num_parse(a->ptr, a->len, 0, (int64_t)max, &n) == -1)
		return false;
	*v = (uint64_t)n;
	return true;
}

/* The connection's pacing for a timed fault; NULL after answering the error. */
static struct pace *
pacing(struct conn *c, struct buf *out)
{
	struct pace *p = conn_pace(c, true);

	if (p == NULL)
		resp_add_error(out, "ERR out of memory for this fault");
	return p;
}

/* The position of the first byte still queued: what a fault set now finds waiting. */
static uint64_t
queued_from(struct conn *c)
{
	return conn_output_end(c) - buf_len(conn_output(c));
}

/* CLOSE or RESET AFTER bytes | duration: the OK now, the end later. */
static bool
end_after(struct conn *c, enum pace_end how, const struct resp_request *req, struct buf *out)
{
	uint64_t bytes, ms, now = conn_now(c);
	struct pace *p;

	if (!is(&req->argv[1], "after") ||
	    pace_parse_after(req->argv[2].ptr, req->argv[2].len, &bytes, &ms) == -1)
		return false;
	if ((p = pacing(c, out)) == NULL)
		return true;
	/* One end at a time: a second would silently replace the first. */
	if (p->end != PACE_END_NONE) {
		resp_add_error(out, "ERR %s AFTER is already set: FAULTS CLEAR first",
		    p->end == PACE_END_CLOSE ? "CLOSE" : "RESET");
		return true;
	}
	resp_add_simple(out, "OK");
	pace_set_end(p, how, bytes == PACE_NEVER ? PACE_NEVER : conn_output_end(c) + bytes,
	    ms == PACE_NEVER ? PACE_NEVER : now + ms);
	return true;
}

static bool
run_close(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	(void)f;
	if (req->argc == 3)
		return end_after(c, PACE_END_CLOSE, req, out);
	conn_finish(c, "CLOSE fault");	/* a FIN now, no reply */
	return true;
}

static bool
run_reset(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	(void)f;
	if (req->argc == 3)
		return end_after(c, PACE_END_RESET, req, out);
	conn_reset(c);
	return true;
}

static bool
run_halfclose(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	(void)f;
	(void)req;
	resp_add_simple(out, "OK");
	conn_half_close(c);
	return true;
}

static bool
run_truncate(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	(void)c;
	(void)req;
	f->truncate_next = true;
	resp_add_simple(out, "OK");
	return true;
}

static bool
run_error(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	(void)c;
	(void)f;
	resp_add_error(out, "%.*s", (int)req->argv[1].len, req->argv[1].ptr);
	return true;
}

/*
 * GARBAGE n: n bytes no RESP parser takes: the first a type byte no RESP
 * version has, the last two a CRLF, so a client that reads a line before it
 * looks (redis-py) gets the whole line and raises its protocol error
 * instead of waiting for the rest of a reply.
 */
static bool
run_garbage(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	static const char junk[] = "@tcpd garbage, not RESP ";
	uint64_t n, line;
	char *dst;

	(void)c;
	(void)f;
	if (!arg_count(&req->argv[1], FAULTS_GARBAGE_MAX, &n) || n == 0)
		return false;
	if ((dst = buf_reserve(out, n)) == NULL)
		return true;	/* conn reports the queue's error */
	line = n >= 2 ? n - 2 : n;
	for (uint64_t i = 0; i < line; i += sizeof(junk) - 1)
		memcpy(dst + i, junk, line - i < sizeof(junk) - 1 ? line - i : sizeof(junk) - 1);
	if (n >= 2)
		memcpy(dst + line, "\r\n", 2);
	buf_commit(out, n);
	return true;
}

static bool
run_delay(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t ms, jitter = 0;
	struct pace *p;

	(void)f;
	if (!arg_ms(&req->argv[1], &ms) ||
	    (req->argc == 3 && (!arg_ms(&req->argv[2], &jitter) || jitter > ms)))
		return false;
	if ((p = pacing(c, out)) == NULL)
		return true;
	/* From the next request on: command_input() starts each one's wait. */
	pace_set_delay(p, ms, jitter);
	resp_add_simple(out, "OK");
	return true;
}

static bool
run_sleep(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t ms;
	struct pace *p;

	(void)f;
	if (!arg_ms(&req->argv[1], &ms))
		return false;
	if ((p = pacing(c, out)) == NULL)
		return true;
	pace_sleep_next(p, ms);
	resp_add_simple(out, "OK");
	return true;
}

static bool
run_rate(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t rate;
	struct pace *p;

	(void)f;
	if (!arg_count(&req->argv[1], PACE_RATE_MAX, &rate))
		return false;
	if ((p = pacing(c, out)) == NULL)
		return true;
	pace_set_rate(p, rate, conn_now(c), queued_from(c), conn_output_end(c));
	resp_add_simple(out, "OK");
	return true;
}

static bool
run_slice(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t bytes, gap = 0;
	struct pace *p;

	(void)f;
	if (!arg_count(&req->argv[1], 1u << 30, &bytes) ||
	    (req->argc == 3 && !arg_ms(&req->argv[2], &gap)))
		return false;
	if ((p = pacing(c, out)) == NULL)
		return true;
	/* Each write its own segment, or the kernel would join the slices again. */
	if (bytes != 0 && conn_set_nodelay(c) == -1)
		conn_log(c, LOG_LEVEL_DEBUG, "TCP_NODELAY: %m");
	pace_set_slice(p, bytes, gap, queued_from(c), conn_output_end(c));
	resp_add_simple(out, "OK");
	return true;
}

static bool
run_stall(struct conn *c, struct faults *f, const struct resp_request *req, struct buf *out)
{
	uint64_t ms = PACE_NEVER, now = conn_now(c);
	struct pace *p;

	(void)f;
	if (req->argc == 2 && !arg_ms(&req->argv[1], &ms))
		return false;
	if ((p = pacing(c, out)) == NULL)
		return true;
	/* The OK waits with everything else: it comes when the stall ends, as DEBUG SLEEP's. */
	resp_add_simple(out, "OK");
	pace_stall(p, now, ms == PACE_NEVER ? PACE_NEVER : now + ms);
	return true;
}

static bool
run_stream(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	uint64_t n, rate = 0, from = conn_output_end(c);
	struct pace *p = NULL;

	if (!arg_count(&req->argv[1], FAULTS_STREAM_MAX, &n) ||
	    (req->argc == 4 && (!is(&req->argv[2], "rate") ||
	    !arg_count(&req->argv[3], PACE_RATE_MAX, &rate) || rate == 0)) ||
	    req->argc == 3)
		return false;
	if (rate != 0 && (p = pacing(c, out)) == NULL)
		return true;
	buf_appendf(out, "$%llu\r\n", (unsigned long long)n);
	/* The rate is the stream's: the replies after it go as they would have. */
	if (p != NULL)
		pace_set_rate_span(p, rate, conn_now(c), from, conn_output_end(c) + n + 2);
	if (n == 0) {
		buf_append(out, "\r\n", 2);
		return true;
	}
	f->stream_left = n;
	f->stream_made = 0;
	faults_stream(c, f, out);
	return true;
}

static void
list_line(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
list_line(struct buf *out, const char *fmt, ...)
{
	char line[96];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	resp_add_bulk(out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

/* FAULTS: what is armed, one line each; FAULTS CLEAR: nothing any more. */
static bool
run_faults(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	struct pace *p = conn_pace(c, false);
	uint64_t now = conn_now(c), pos = conn_output_end(c);
	size_t n = 0;

	if (req->argc == 2) {
		if (!is(&req->argv[1], "clear"))
			return false;
		f->truncate_next = false;
		if (p != NULL)
			pace_init(p, p->random);
		resp_add_simple(out, "OK");
		return true;
	}
	if (p != NULL) {
		n += p->delay_ms != 0;
		n += p->sleep_ms != 0;
		n += p->rate != 0;
		n += p->slice != 0;
		n += p->stall_until > now && p->stall_from != PACE_NEVER;
		n += p->end != PACE_END_NONE;
	}
	n += f->truncate_next;
	n += f->stream_left != 0;
	resp_add_array(out, n);
	if (p != NULL && p->delay_ms != 0)
		list_line(out, "DELAY %llu %llu", (unsigned long long)p->delay_ms,
		    (unsigned long long)p->jitter_ms);
	if (p != NULL && p->sleep_ms != 0)
		list_line(out, "SLEEP %llu the next reply", (unsigned long long)p->sleep_ms);
	if (p != NULL && p->rate != 0)
		list_line(out, "RATE %llu bytes/s", (unsigned long long)p->rate);
	if (p != NULL && p->slice != 0)
		list_line(out, "SLICE %llu every %llu ms", (unsigned long long)p->slice,
		    (unsigned long long)p->slice_gap_ms);
	if (p != NULL && p->stall_until > now && p->stall_from != PACE_NEVER)
		list_line(out, p->stall_until == PACE_NEVER ? "STALL for good" :
		    "STALL %llu ms more", (unsigned long long)(p->stall_until - now));
	if (p != NULL && p->end != PACE_END_NONE) {
		if (p->end_pos != PACE_NEVER)
			list_line(out, "%s AFTER %llu bytes more", p->end == PACE_END_CLOSE ?
			    "CLOSE" : "RESET", (unsigned long long)(p->end_pos > pos ?
			    p->end_pos - pos : 0));
		else
			list_line(out, "%s AFTER %llu ms more", p->end == PACE_END_CLOSE ?
			    "CLOSE" : "RESET", (unsigned long long)(p->end_at > now ?
			    p->end_at - now : 0));
	}
	if (f->stream_left != 0)
		list_line(out, "STREAM %llu bytes left", (unsigned long long)f->stream_left);
	if (f->truncate_next)
		list_line(out, "TRUNCATE the next reply");
	return true;
}

static const struct fault_cmd {
	const char	*name;
	enum fault_kind	 kind;		/* FAULT_KINDS: not a fault, not counted */
	unsigned	 min_argc, max_argc;
	fault_fn	 run;
	const char	*usage;
} fault_cmds[] = {
	{ "delay", FAULT_DELAY, 2, 3, run_delay, "DELAY ms [jitter_ms], jitter at most ms" },
	{ "sleep", FAULT_SLEEP, 2, 2, run_sleep, "SLEEP ms" },
	{ "rate", FAULT_RATE, 2, 2, run_rate, "RATE bytes_per_s (0 = off)" },
	{ "slice", FAULT_SLICE, 2, 3, run_slice, "SLICE bytes [gap_ms] (0 = off)" },
	{ "stream", FAULT_STREAM, 2, 4, run_stream, "STREAM bytes [RATE bytes_per_s], "
	    "at most 1099511627776 bytes" },
	{ "stall", FAULT_STALL, 1, 2, run_stall, "STALL [ms]" },
	{ "close", FAULT_CLOSE, 1, 3, run_close, "CLOSE [AFTER bytes|250ms|2s]" },
	{ "reset", FAULT_RESET, 1, 3, run_reset, "RESET [AFTER bytes|250ms|2s]" },
	{ "halfclose", FAULT_HALFCLOSE, 1, 1, run_halfclose, "HALFCLOSE" },
	{ "truncate", FAULT_TRUNCATE, 1, 1, run_truncate, "TRUNCATE" },
	{ "error", FAULT_ERROR, 2, 2, run_error, "ERROR text" },
	{ "garbage", FAULT_GARBAGE, 2, 2, run_garbage, "GARBAGE n (1 to 1048576)" },
	{ "faults", FAULT_KINDS, 1, 2, run_faults, "FAULTS [CLEAR]" },
};

/* The first letters of the fault commands: one test turns every other command away. */
#define FIRST_LETTERS	(1u << ('c' - 'a') | 1u << ('d' - 'a') | 1u << ('e' - 'a') | \
	1u << ('f' - 'a') | 1u << ('g' - 'a') | 1u << ('h' - 'a') | 1u << ('r' - 'a') | \
	1u << ('s' - 'a') | 1u << ('t' - 'a'))

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

bool
faults_command(struct conn *c, struct faults **fp, const struct resp_request *req,
    struct buf *out)
{
	const struct resp_arg *name = &req->argv[0];
	const struct fault_cmd *fc = NULL;
	unsigned letter = (unsigned)(tolower((unsigned char)name->ptr[0]) - 'a');
	const char *why;
	size_t i;

	if (letter >= 26 || !(FIRST_LETTERS & (1u << letter)))
		return false;
	for (i = 0; i < sizeof(fault_cmds) / sizeof(fault_cmds[0]) && fc == NULL; i++)
		if (is(name, fault_cmds[i].name))
			fc = &fault_cmds[i];
	if (fc == NULL)
		return false;
	if ((why = refused(c)) != NULL) {
		resp_add_error(out, "%s", why);
		return true;
	}
	if (*fp == NULL && (*fp = calloc(1, sizeof(**fp))) == NULL) {
		resp_add_error(out, "ERR out of memory for this fault");
		return true;
	}
	if (req->argc < fc->min_argc || req->argc > fc->max_argc || !fc->run(c, *fp, req, out)) {
		resp_add_error(out, "ERR syntax: %s", fc->usage);
		return true;
	}
	if (fc->kind != FAULT_KINDS) {
		stats.faults[fc->kind]++;
		conn_log(c, LOG_LEVEL_DEBUG, "fault: %s", stats_fault_names[fc->kind]);
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
	conn_finish(c, "TRUNCATE fault");
}

int
faults_stream(struct conn *c, struct faults *f, struct buf *out)
{
	/* 94 times 44 bytes: the pattern restarts at every offset of the block. */
	static char block[94 * 44];
	size_t room = conn_output_room(c), n, off;
	char *dst;

	/* Made just ahead of the socket: a paced stream holds one block, not output_limit. */
	if (room > STREAM_AHEAD)
		room = buf_len(out) < STREAM_AHEAD ? STREAM_AHEAD - buf_len(out) : 0;

	if (block[0] == '\0')
		for (off = 0; off < sizeof(block); off++)
			block[off] = faults_stream_byte(off);
	while (f->stream_left > 0 && room > 0) {
		off = (size_t)(f->stream_made % 94);
		n = sizeof(block) - off;
		if (n > room)
			n = room;
		if (n > f->stream_left)
			n = (size_t)f->stream_left;
		if ((dst = buf_reserve(out, n)) == NULL)
			return -1;
		memcpy(dst, block + off, n);
		buf_commit(out, n);
		f->stream_made += n;
		f->stream_left -= n;
		room -= n;
	}
	return f->stream_left == 0 ? buf_append(out, "\r\n", 2) : 0;
}
