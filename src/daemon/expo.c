/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>

#include "tcpd_build.h"
#include "daemon/expo.h"
#include "daemon/listener.h"
#include "daemon/services/service.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"

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

static int
listeners(struct buf *out)
{
	const struct listener *l;
	size_t r;
	int rc = 0;

	rc |= family(out, "tcpd_connections_accepted_total", "counter",
	    "Connections accepted and served, by listener and service.");
	for (l = listener_first(); l != NULL; l = l->all_next)
		if (l->serving)
			rc |= listener_sample(out, "tcpd_connections_accepted_total", l,
			    "service", l->service->name, l->accepted);
	rc |= family(out, "tcpd_connections_active", "gauge", "Connections open now.");
	for (l = listener_first(); l != NULL; l = l->all_next)
		if (l->serving)
			rc |= listener_sample(out, "tcpd_connections_active", l, NULL, NULL,
			    l->active);
	rc |= family(out, "tcpd_connections_rejected_total", "counter",
	    "Connections refused at accept, by reason.");
	for (l = listener_first(); l != NULL; l = l->all_next)
		for (r = 0; l->serving && r < REJECT_REASONS; r++)
			rc |= listener_sample(out, "tcpd_connections_rejected_total", l, "reason",
			    stats_reject_reasons[r], l->rejected[r]);
	rc |= family(out, "tcpd_connections_closed_total", "counter",
	    "Connections closed, by reason.");
	for (l = listener_first(); l != NULL; l = l->all_next)
		for (r = 0; l->serving && r < CLOSE_REASONS; r++)
			rc |= listener_sample(out, "tcpd_connections_closed_total", l, "reason",
			    stats_close_reasons[r], l->closed[r]);
	rc |= family(out, "tcpd_received_bytes_total", "counter", "Bytes read from clients.");
	for (l = listener_first(); l != NULL; l = l->all_next)
		if (l->serving)
			rc |= listener_sample(out, "tcpd_received_bytes_total", l, NULL, NULL,
			    l->bytes_in);
	rc |= family(out, "tcpd_sent_bytes_total", "counter", "Bytes written to clients.");
	for (l = listener_first(); l != NULL; l = l->all_next)
		if (l->serving)
			rc |= listener_sample(out, "tcpd_sent_bytes_total", l, NULL, NULL,
			    l->bytes_out);
	rc |= family(out, "tcpd_listen_queue_length", "gauge",
	    "Connections waiting in the accept queues now, as ss -lt shows.");
	for (l = listener_first(); l != NULL; l = l->all_next)
		if (l->serving)
			rc |= listener_sample(out, "tcpd_listen_queue_length", l, NULL, NULL,
			    listener_queue_length(l));
	return rc;
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
		if ((c = &stats.commands[i])->name != NULL)
			rc |= buf_appendf(out, "tcpd_commands_total{command=\"%s\"} %llu\n",
			    c->name, (unsigned long long)c->duration.count);
	rc |= family(out, "tcpd_command_errors_total", "counter",
	    "Commands answered with an error, refused or failed, by command.");
	for (i = 0; i < STATS_MAX_COMMANDS; i++)
		if ((c = &stats.commands[i])->name != NULL)
			rc |= buf_appendf(out, "tcpd_command_errors_total{command=\"%s\"} %llu\n",
			    c->name, (unsigned long long)(c->failed + c->rejected));
	rc |= family(out, "tcpd_command_duration_seconds", "histogram",
	    "Time spent running each command.");
	for (i = 0; i < STATS_MAX_COMMANDS; i++) {
		if ((c = &stats.commands[i])->name == NULL)
			continue;
		snprintf(labels, sizeof(labels), "command=\"%s\"", c->name);
		rc |= histogram(out, "tcpd_command_duration_seconds", labels, &c->duration,
		    stats_command_bounds);
	}
	return rc;
}

int
expo_format(struct buf *out)
{
	int rc = 0;

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
	rc |= listeners(out);
	rc |= commands(out);
	rc |= family(out, "tcpd_connection_duration_seconds", "histogram",
	    "How long connections lasted, from accept to close.");
	rc |= histogram(out, "tcpd_connection_duration_seconds", "",
	    &stats.connection_duration, stats_connection_bounds);
	rc |= family(out, "tcpd_log_lines_dropped_total", "counter",
	    "Log lines lost because the log did not take them at once.");
	rc |= buf_appendf(out, "tcpd_log_lines_dropped_total %llu\n",
	    (unsigned long long)log_dropped());
	return rc == 0 ? 0 : -1;
}
