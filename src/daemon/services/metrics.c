/* SPDX-License-Identifier: MIT */
/*
 * service = metrics: enough HTTP/1.1 for monitoring, never a web server.
 * GET or HEAD of /metrics (Prometheus), /health/live and /health/ready
 * (Kubernetes probes, HAProxy http checks); keep-alive; every other request
 * gets a status and a body that says why.
 */
#include <stdio.h>
#include <string.h>

#include "daemon/conn.h"
#include "daemon/expo.h"
#include "daemon/http.h"
#include "daemon/services/service.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"

/* The largest /metrics body: far above what the counters make. */
#define METRICS_BODY_MAX	(4u << 20)

static const char expo_type[] = "text/plain; version=0.0.4; charset=utf-8";
static const char text_type[] = "text/plain; charset=utf-8";

/* Queues one response; closes after it when the client or the status asks. */
static void
respond(struct conn *c, const struct http_request *req, int status, const char *type,
    const char *extra_headers, const char *body, size_t len, bool keep_alive)
{
	struct buf *out = conn_output(c);

	/* A drain ends keep-alive: the client reconnects elsewhere. */
	keep_alive = keep_alive && !stats.draining;
	buf_appendf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "%s%s\r\n", status, http_reason(status), type, len, extra_headers,
	    keep_alive ? "" : "Connection: close\r\n");
	if (req->method != HTTP_HEAD)
		buf_append(out, body, len);
	if (!keep_alive)
		conn_finish(c, "HTTP response sent");
}

static void
respond_text(struct conn *c, const struct http_request *req, int status, const char *text,
    bool keep_alive)
{
	respond(c, req, status, text_type, "", text, strlen(text), keep_alive);
}

/* A request that could not be parsed: its status, why in the body, then close. */
static void
respond_error(struct conn *c, int status, const char *why)
{
	struct http_request req = { .method = HTTP_GET };
	char body[160];
	int n = snprintf(body, sizeof(body), "%s\n", why);

	respond(c, &req, status, text_type, "", body, (size_t)n, false);
}

static void
serve(struct conn *c, const struct http_request *req)
{
	struct buf body;

	if (http_has_body(req)) {
		respond_text(c, req, 400, "request bodies are not accepted here\n", false);
	} else if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		static const char why[] = "only GET and HEAD are served here\n";

		respond(c, req, 405, text_type, "Allow: GET, HEAD\r\n", why, sizeof(why) - 1,
		    req->keep_alive);
	} else if (req->path_len == 8 && memcmp(req->path, "/metrics", 8) == 0) {
		buf_init(&body, METRICS_BODY_MAX);
		if (expo_format(&body) == 0)
			respond(c, req, 200, expo_type, "", buf_data(&body), buf_len(&body),
			    req->keep_alive);
		else
			respond_text(c, req, 503, "out of memory for the metrics\n", false);
		buf_free(&body);
	} else if (req->path_len == 12 && memcmp(req->path, "/health/live", 12) == 0) {
		respond_text(c, req, 200, "live\n", req->keep_alive);
	} else if (req->path_len == 13 && memcmp(req->path, "/health/ready", 13) == 0) {
		if (stats.ready)
			respond_text(c, req, 200, "ready\n", req->keep_alive);
		else
			respond_text(c, req, 503, stats.draining ? "draining\n" : "starting\n",
			    req->keep_alive);
	} else {
		respond_text(c, req, 404, "not found: try /metrics, /health/live or "
		    "/health/ready\n", req->keep_alive);
	}
}

static size_t
metrics_input(struct conn *c, void *state, const char *data, size_t len)
{
	struct http_state *st = state;
	struct http_request req;
	size_t used = 0;
	ssize_t n;

	while (used < len && !conn_finishing(c) && conn_output_room(c) > 0) {
		n = http_parse(st, data + used, len - used, conn_max_line(c), &req);
		if (n == HTTP_INCOMPLETE) {
			conn_request_partial(c);
			return used;
		}
		if (n == HTTP_ERROR) {
			req.method = HTTP_GET;	/* the error's body is shown */
			respond_error(c, req.status, req.why);
			return len;
		}
		used += (size_t)n;
		conn_request_complete(c);
		serve(c, &req);
	}
	return used;
}

static void
metrics_input_too_big(struct conn *c, void *state)
{
	(void)state;
	respond_error(c, 431, "the request head is longer than the limit (max_line)");
}

static void
metrics_request_timeout(struct conn *c, void *state)
{
	(void)state;
	respond_error(c, 408, "request timeout");
}

const struct service service_metrics = {
	.name = "metrics",
	.state_size = sizeof(struct http_state),
	.refusal = HTTP_REFUSAL,
	.input = metrics_input,
	.input_too_big = metrics_input_too_big,
	.request_timeout = metrics_request_timeout,
};
