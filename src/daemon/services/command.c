/* SPDX-License-Identifier: MIT */
/* Redis-protocol commands: RESP2 or inline requests in, RESP2 or RESP3 replies out. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/config.h"
#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/pace.h"
#include "daemon/services/cmd.h"
#include "daemon/services/faults/faults.h"
#include "daemon/services/session.h"
#include "daemon/services/service.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"
#include "tcpd/resp.h"

/* Bytes of a bad request quoted in the log. */
#define LOG_SAMPLE		64

static void
protocol_error(struct conn *c, const char *why, const char *data, size_t len)
{
	char sample[4 * LOG_SAMPLE + 4];

	if (log_enabled(LOG_LEVEL_DEBUG))
		conn_log(c, LOG_LEVEL_DEBUG, "protocol error: %s; input: \"%s\"",
		    why, log_escape(sample, sizeof(sample), data,
		    len < LOG_SAMPLE ? len : LOG_SAMPLE));
	resp_add_error(conn_output(c), "ERR Protocol error: %s", why);
	conn_finish(c, "protocol error");
}

/* The connection's fault state, or NULL while it has used no fault command. */
static struct faults *
faults_of(const struct cmd_state *st)
{
	return st->extras != NULL ? st->extras->faults : NULL;
}

/* A fault command, where the session may send one. */
static void
fault_command(struct conn *c, const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	struct cmd_extras *x;

	if (!client->session->authed)
		resp_add_error(out, "NOAUTH Authentication required.");
	else if ((x = session_extras(client)) == NULL)
		resp_add_error(out, "ERR out of memory for this fault");
	else
		faults_command(c, &x->faults, req, out);
}

/* Answers complete requests until input or output room runs out. */
static size_t
command_input(struct conn *c, void *state, const char *data, size_t len)
{
	struct cmd_state *st = state;
	struct buf *out = conn_output(c);
	const struct cmd_client client = { c, &st->session, &st->extras,
	    conn_listener(c)->faults == FAULTS_ON || (conn_listener(c)->faults ==
	    FAULTS_LOOPBACK && conn_peer_loopback(c)) };
	struct resp_request req;
	struct faults *f;
	struct pace *pace;
	enum cmd_reply mode;
	size_t used = 0, before;
	uint64_t since = 0;	/* read at the first complete request */
	ssize_t n;

	/* A STREAM reply in progress comes whole before the next request is read. */
	while (used < len && !conn_finishing(c) && conn_output_room(c) > 0 &&
	    ((f = faults_of(st)) == NULL || f->stream_left == 0)) {
		n = resp_parse(&st->resp, &req, data + used, len - used, conn_max_line(c));
		if (n == RESP_INCOMPLETE) {
			conn_request_partial(c);
			return used;
		}
		if (n == RESP_ERROR) {
			protocol_error(c, req.error, data + used, len - used);
			return len;
		}
		used += (size_t)n;
		conn_request_complete(c);
		if (req.argc == 0)
			continue;
		before = buf_len(out);
		mode = st->session.reply;
		if ((pace = conn_pace(c, false)) != NULL)
			pace_request(pace, conn_output_end(c), conn_now(c));
		if (faults_is_command(&req)) {
			fault_command(c, &client, &req, out);
			cmd_reply_filter(&st->session, mode, out, before);
			/* STALL: the requests behind it wait with the rest. */
			if (conn_reads_held(c))
				return used;
			continue;
		}
		if (since == 0)
			since = cmd_clock_ns();
		if (cmd_execute(&client, &req, out, &since) == CMD_CLOSE)
			conn_finish(c, "QUIT");
		cmd_reply_filter(&st->session, mode, out, before);
		if ((f = faults_of(st)) != NULL && f->truncate_next)
			faults_after_reply(c, f, out, buf_len(out) - before);
	}
	return used;
}

static int
command_open(struct conn *c, void *state)
{
	struct cmd_state *st = state;

	st->session.proto = RESP2;
	/* Until AUTH, where the listener asks for a password. */
	st->session.authed = conn_listener(c)->requirepass[0] == '\0';
	return 0;
}

static int
command_drained(struct conn *c, void *state)
{
	struct cmd_state *st = state;
	struct faults *f = faults_of(st);

	return f != NULL && f->stream_left > 0 ? faults_stream(c, f, conn_output(c)) : 0;
}

static void
command_release(struct conn *c, void *state)
{
	struct cmd_state *st = state;

	(void)c;
	session_extras_free(st->extras);
}

static void
command_input_too_big(struct conn *c, void *state)
{
	(void)state;
	protocol_error(c, "too big request", "", 0);
}

static void
command_request_timeout(struct conn *c, void *state)
{
	(void)state;
	resp_add_error(conn_output(c), "ERR Protocol error: request timeout");
}

const struct service service_command = {
	.name = "command",
	.state_size = sizeof(struct cmd_state),
	.flags = SERVICE_REQUESTS,
	.refusal = "-ERR max number of clients reached\r\n",
	.open = command_open,
	.input = command_input,
	.drained = command_drained,
	.release = command_release,
	.input_too_big = command_input_too_big,
	.request_timeout = command_request_timeout,
};
