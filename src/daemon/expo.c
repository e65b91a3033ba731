/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tcpd_build.h"
#include "daemon/expo.h"
#include "daemon/listener.h"
#include "daemon/service.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"

static int
family(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped, as the format asks. */
static int
label(struct buf *out, const char *value)
{
	int rc = 0;

	for (; *value != '\0' && rc == 0; value++) {
		if (*value == '\\' || *value == '"')
			rc = buf_appendf(out, "\\%c", *value);
		else if (*value == '\n')
			rc = buf_append(out, "\\n", 2);
		else
			rc = buf_append(out, value, 1);
	}
	return rc;
}

/* name{listener="..."[,extra]} value */
static int
listener_sample(struct buf *out, const char *name, const struct listener *l,
    const char *extra_key, const char *extra_value, uint64_t value)
{
	int rc = buf_appendf(out, "%s{listener=\"", name);

	rc |= label(out, l->name);
	if (extra_key != NULL) {
		rc |= buf_appendf(out, "\",%s=\"", extra_key);
		rc |= label(out, extra_value);
	}
	rc |= buf_appendf(out, "\"} %llu\n", (unsigned long long)value);
	return rc;
}

/* _bucket lines (cumulative, le in seconds), then _sum and _count. */
static int
histogram(struct buf *out, const char *name, const char *labels,
    const struct stats_histogram *h, const uint64_t bounds[STATS_BUCKETS])
{
	uint64_t cumulative = 0;
	size_t i;
	int rc = 0;

	for (i = 0; i < STATS_BUCKETS; i++) {
		cumulative += h->le[i];
		if (bounds[i] == UINT64_MAX)
			rc |= buf_appendf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels,
			    labels[0] != '\0' ? "," : "", (unsigned long long)cumulative);
		else
			rc |= buf_appendf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
			    labels[0] != '\0' ? "," : "", (double)bounds[i] / 1e9,
			    (unsigned long long)cumulative);
	}
	rc |= buf_appendf(out, "%s_sum%s%s%s %.9f\n", name, labels[0] != '\0' ? "{" : "",
	    labels, labels[0] != '\0' ? "}" : "", (double)h->sum_ns / 1e9);
	rc |= buf_appendf(out, "%s_count%s%s%s %llu\n", name, labels[0] != '\0' ? "{" : "",
	    labels, labels[0] != '\0' ? "}" : "", (unsigned long long)h->count);
	return rc;
}

/* l's counters summed over the workers, as every family here is; valid until the next call. */
static const struct stats_listener_counts *
totals(const struct listener *l)
{
	static struct stats_listener_counts t;

	listener_total(l, &t);
	return &t;
}

#define SERVING(l)	for ((l) = listener_first(); (l) != NULL; (l) = (l)->all_next) \
	if ((l)->serving)

static int
listeners(struct buf *out)
{
	const struct listener *l;
	size_t r;
	int rc = 0;

	rc |= family(out, "tcpd_connections_accepted_total", "counter",
	    "Connections accepted and served, by listener and service.");
	SERVING(l)
		rc |= listener_sample(out, "tcpd_connections_accepted_total", l, "service",
		    l->service->name, totals(l)->accepted);
	rc |= family(out, "tcpd_connections_active", "gauge", "Connections open now.");
	SERVING(l)
		rc |= listener_sample(out, "tcpd_connections_active", l, NULL, NULL,
		    totals(l)->active);
	rc |= family(out, "tcpd_connections_rejected_total", "counter",
	    "Connections refused at accept, by reason.");
	SERVING(l)
		for (r = 0; r < REJECT_REASONS; r++)
			rc |= listener_sample(out, "tcpd_connections_rejected_total", l, "reason",
			    stats_reject_reasons[r], totals(l)->rejected[r]);
	rc |= family(out, "tcpd_connections_closed_total", "counter",
	    "Connections closed, by reason.");
	SERVING(l)
		for (r = 0; r < CLOSE_REASONS; r++)
			rc |= listener_sample(out, "tcpd_connections_closed_total", l, "reason",
			    stats_close_reasons[r], totals(l)->closed[r]);
	rc |= family(out, "tcpd_received_bytes_total", "counter", "Bytes read from clients.");
	SERVING(l)
		rc |= listener_sample(out, "tcpd_received_bytes_total", l, NULL, NULL,
		    totals(l)->bytes_in);
	rc |= family(out, "tcpd_sent_bytes_total", "counter", "Bytes written to clients.");
	SERVING(l)
		rc |= listener_sample(out, "tcpd_sent_bytes_total", l, NULL, NULL,
		    totals(l)->bytes_out);
	/* The queue is the sockets', which every worker shares: not a sum. */
	rc |= family(out, "tcpd_listen_queue_length", "gauge",
	    "Connections waiting in the accept queues now, as ss -lt shows.");
	SERVING(l)
		rc |= listener_sample(out, "tcpd_listen_queue_length", l, NULL, NULL,
		    listener_queue_length(l));
	return rc;
}

/* Command i's counters summed over the workers; NULL: a free slot. Valid until the next call. */
static const struct stats_command *
command(size_t i)
{
	static struct stats_command c;

	if (stats.commands[i].name == NULL)
		return NULL;
	stats_command_total(i, &c);
	return &c;
}

static int
commands(struct buf *out)
{
	const struct stats_command *c;
	char labels[64];
	size_t i;
	int rc = 0;

	rc |= family(out, "tcpd_commands_total", "counter", "Commands run, by command.");
	for (i = 0; i < STATS_MAX_COMMANDS; i++)
		if ((c = command(i)) != NULL)
			rc |= buf_appendf(out, "tcpd_commands_total{command=\"%s\"} %llu\n",
			    c->name, (unsigned long long)c->duration.count);
	rc |= family(out, "tcpd_command_errors_total", "counter",
	    "Commands answered with an error, refused or failed, by command.");
	for (i = 0; i < STATS_MAX_COMMANDS; i++)
		if ((c = command(i)) != NULL)
			rc |= buf_appendf(out, "tcpd_command_errors_total{command=\"%s\"} %llu\n",
			    c->name, (unsigned long long)(c->failed + c->rejected));
	rc |= family(out, "tcpd_command_duration_seconds", "histogram",
	    "Time spent running each command.");
	for (i = 0; i < STATS_MAX_COMMANDS; i++) {
		if ((c = command(i)) == NULL)
			continue;
		snprintf(labels, sizeof(labels), "command=\"%s\"", c->name);
		rc |= histogram(out, "tcpd_command_duration_seconds", labels, &c->duration,
		    stats_command_bounds);
	}
	return rc;
}

static const char *
type_name(const struct stats_field *f)
{
	return f->type == STATS_COUNTER ? "counter" : "gauge";
}

/* The metrics table: each field's family, then each worker's where it has one. */
static int
fields(struct buf *out)
{
	const struct stats_field *f;
	char name[96];
	size_t k;
	unsigned w;
	int rc = 0;

	for (f = stats_fields; f < stats_fields + stats_nfields; f++) {
		/* Rows with a fixed label share their family: one HELP and TYPE for all. */
		if (f == stats_fields || f->fixed == NULL || strcmp(f[-1].metric, f->metric) != 0)
			rc |= family(out, f->metric, type_name(f), f->help);
		/* An array's named values end at the first NULL. */
		for (k = 0; k < f->n && (f->label == NULL || f->values[k] != NULL); k++) {
			if (f->label != NULL)
				rc |= buf_appendf(out, "%s{%s=\"%s\"%s%s}", f->metric, f->label,
				    f->values[k], f->fixed != NULL ? "," : "",
				    f->fixed != NULL ? f->fixed : "");
			else
				rc |= buf_appendf(out, "%s", f->metric);
			rc |= buf_appendf(out, " %llu\n",
			    (unsigned long long)stats_value(f, k, NULL));
		}
	}
	for (f = stats_fields; stats_board != NULL && f < stats_fields + stats_nfields; f++) {
		if (!(f->flags & STATS_PER_WORKER))
			continue;
		/* tcpd_X as tcpd_worker_X: a family of its own, so sum() never counts twice. */
		snprintf(name, sizeof(name), "tcpd_worker_%s", f->metric + 5);
		rc |= family(out, name, type_name(f), f->help);
		for (w = 0; w < stats_board_size; w++)
			rc |= buf_appendf(out, "%s{worker=\"%u\"} %llu\n", name, w,
			    (unsigned long long)stats_value(f, 0, &stats_board[w]));
	}
	return rc;
}

int
expo_format(struct buf *out)
{
	struct stats_histogram durations;
	int rc = 0;

	stats_publish_now();
	rc |= family(out, "tcpd_build_info", "gauge", "tcpd's version, as a label; always 1.");
	rc |= buf_append(out, "tcpd_build_info{version=\"", 25);
	rc |= label(out, TCPD_VERSION);
	rc |= buf_append(out, "\"} 1\n", 5);
	rc |= family(out, "tcpd_start_time_seconds", "gauge",
	    "When tcpd started, in seconds since the Unix epoch.");
	rc |= buf_appendf(out, "tcpd_start_time_seconds %lld\n", (long long)stats.start_realtime);
	rc |= family(out, "tcpd_ready", "gauge", "1 while tcpd serves; 0 while it drains.");
	rc |= buf_appendf(out, "tcpd_ready %d\n", stats.ready ? 1 : 0);
	rc |= family(out, "tcpd_draining", "gauge", "1 once a stop has begun.");
	rc |= buf_appendf(out, "tcpd_draining %d\n", stats.draining ? 1 : 0);
	rc |= fields(out);
	rc |= listeners(out);
	rc |= commands(out);
	rc |= family(out, "tcpd_connection_duration_seconds", "histogram",
	    "How long connections lasted, from accept to close.");
	stats_duration_total(&durations);
	rc |= histogram(out, "tcpd_connection_duration_seconds", "", &durations,
	    stats_connection_bounds);
	return rc == 0 ? 0 : -1;
}
