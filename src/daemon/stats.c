/* SPDX-License-Identifier: MIT */
#include <sys/mman.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tcpd_build.h"
#include "daemon/config.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"

_Static_assert(STATS_NAME_MAX == CONFIG_NAME_MAX, "a listener's name fits the board");

static struct stats_slot own = { .worker = -1 };
struct stats_slot *stats_live = &own;
struct stats_slot *stats_board;
unsigned stats_board_size;
/* What this worker's predecessors in its slot had counted of log_dropped(). */
static uint64_t log_base;

const char *const stats_close_reasons[CLOSE_REASONS] = {
	[CLOSE_CLIENT] = "client",
	[CLOSE_RESET] = "reset",
	[CLOSE_IDLE_TIMEOUT] = "idle_timeout",
	[CLOSE_REQUEST_TIMEOUT] = "request_timeout",
	[CLOSE_OUTPUT_LIMIT] = "output_limit",
	[CLOSE_SERVER] = "server",
	[CLOSE_SHUTDOWN] = "shutdown",
	[CLOSE_ERROR] = "error",
};

const char *const stats_reject_reasons[REJECT_REASONS] = {
	[REJECT_MAX_CONNECTIONS] = "max_connections",
	[REJECT_PER_IP] = "per_ip",
	[REJECT_ACL] = "acl",
	[REJECT_DESCRIPTORS] = "descriptors",
	[REJECT_OUT_OF_MEMORY] = "out_of_memory",
	[REJECT_PROXY_UNTRUSTED] = "proxy_untrusted",
	[REJECT_PROXY_INVALID] = "proxy_invalid",
	[REJECT_PROXY_TIMEOUT] = "proxy_timeout",
};

const char *stats_fault_names[STATS_MAX_FAULTS];

static const char *const upstream_failures[] = {
	[UPSTREAM_REFUSED] = "refused",
	[UPSTREAM_TIMEOUT] = "timeout",
	[UPSTREAM_OTHER] = "other",
};
_Static_assert(sizeof(upstream_failures) / sizeof(upstream_failures[0]) ==
    sizeof(((struct stats_slot *)0)->upstream_connect_failures) / sizeof(uint64_t),
    "a name for each reason");

/* One uint64_t; an array of them, a series for each of its label's values. */
#define ONE(sec, flags, info, metric, type, field, help) \
	{ sec, flags, info, metric, type, offsetof(struct stats_slot, field), help, NULL, NULL, 1, \
	    NULL }
#define ARRAY(sec, info, metric, type, field, help, label, values) \
	{ sec, 0, info, metric, type, offsetof(struct stats_slot, field), help, label, values, \
	    sizeof(((struct stats_slot *)0)->field) / sizeof(uint64_t), NULL }
/* A listener profile's faults of one direction, by kind. */
#define APPLIED(dir, d) \
	{ INFO_FAULTS, 0, "fault_applied_" dir "_", "tcpd_faults_applied_total", STATS_COUNTER, \
	    offsetof(struct stats_slot, faults_applied[d]), \
	    "Faults listeners' profiles gave connections, by fault and direction.", "fault", \
	    pace_fault_names, PACE_FAULTS, "direction=\"" dir "\"" }

/* In INFO's order; the per-worker ones in the order of INFO's worker_N lines. */
const struct stats_field stats_fields[] = {
	ONE(INFO_CLIENTS, STATS_PER_WORKER, "connected_clients", "tcpd_clients_connected",
	    STATS_GAUGE, connected, "Connections open now, over every listener."),
	ONE(INFO_STATS, STATS_PER_WORKER, "total_connections_received",
	    "tcpd_connections_received_total", STATS_COUNTER, connections_received,
	    "Connections accepted, whether served or refused."),
	ONE(INFO_STATS, 0, "rejected_connections", "tcpd_rejected_connections_total",
	    STATS_COUNTER, rejected_connections,
	    "Connections refused: over a limit, shed, or for their PROXY header."),
	ONE(INFO_STATS, 0, "denied_connections", "tcpd_denied_connections_total", STATS_COUNTER,
	    denied_connections, "Connections refused by allow/deny."),
	ONE(INFO_STATS, 0, "idle_timeouts", "tcpd_idle_timeouts_total", STATS_COUNTER,
	    idle_timeouts, "Connections closed after idle_timeout."),
	ONE(INFO_STATS, 0, "request_timeouts", "tcpd_request_timeouts_total", STATS_COUNTER,
	    request_timeouts, "Requests not whole within request_timeout."),
	ONE(INFO_STATS, 0, "output_limit_disconnections",
	    "tcpd_output_limit_disconnections_total", STATS_COUNTER,
	    output_limit_disconnections, "Connections closed over output_limit."),
	ONE(INFO_STATS, STATS_PER_WORKER, "total_commands_processed",
	    "tcpd_commands_processed_total", STATS_COUNTER, commands_processed,
	    "Commands answered, errors and unknown ones included."),
	ONE(INFO_STATS, 0, "instantaneous_ops_per_sec", "tcpd_commands_per_second", STATS_GAUGE,
	    ops_per_sec, "Commands a second, over the last 5 s sample."),
	ONE(INFO_STATS, 0, "total_net_input_bytes", "tcpd_net_input_bytes_total", STATS_COUNTER,
	    net_input_bytes, "Bytes read from clients, over every listener."),
	ONE(INFO_STATS, 0, "total_net_output_bytes", "tcpd_net_output_bytes_total",
	    STATS_COUNTER, net_output_bytes, "Bytes written to clients, over every listener."),
	ONE(INFO_STATS, 0, "total_error_replies", "tcpd_error_replies_total", STATS_COUNTER,
	    error_replies, "Error replies: unknown commands, wrong arity, failed commands."),
	ONE(INFO_STATS, 0, "log_lines_dropped", "tcpd_log_lines_dropped_total", STATS_COUNTER,
	    log_lines_dropped, "Log lines lost because the log did not take them at once."),
	ONE(INFO_STATS, 0, "unknown_commands", "tcpd_unknown_commands_total", STATS_COUNTER,
	    unknown_commands, "Requests naming no command tcpd knows."),
	ONE(INFO_STATS, 0, "acl_access_denied_auth", "tcpd_auth_failures_total", STATS_COUNTER,
	    auth_failures, "AUTH and HELLO AUTH refused: a wrong password or user."),
	ARRAY(INFO_FAULTS, "fault_", "tcpd_faults_total", STATS_COUNTER, faults,
	    "Faults clients asked for on their own connection, by kind.", "kind",
	    stats_fault_names),
	ONE(INFO_FAULTS, 0, "fault_profile_connections", "tcpd_fault_profile_connections_total",
	    STATS_COUNTER, fault_profile_connections,
	    "Connections given their listener's fault profile."),
	ONE(INFO_FAULTS, 0, "fault_timed_ends", "tcpd_fault_timed_ends_total", STATS_COUNTER,
	    fault_timed_ends, "Closes and resets at their fault's byte or moment."),
	APPLIED("downstream", 0),
	APPLIED("upstream", 1),
	ONE(INFO_STATS, 0, "upstream_connects", "tcpd_upstream_connects_total", STATS_COUNTER,
	    upstream_connects, "Connections a proxy made to its upstream."),
	ARRAY(INFO_STATS, "upstream_connect_failures_", "tcpd_upstream_connect_failures_total",
	    STATS_COUNTER, upstream_connect_failures,
	    "Connects to a proxy's upstream that failed, by reason.", "reason",
	    upstream_failures),
	ONE(INFO_STATS, 0, "total_upstream_output_bytes", "tcpd_upstream_output_bytes_total",
	    STATS_COUNTER, upstream_output_bytes, "Bytes a proxy wrote to its upstreams."),
	ONE(INFO_STATS, 0, "total_upstream_input_bytes", "tcpd_upstream_input_bytes_total",
	    STATS_COUNTER, upstream_input_bytes, "Bytes a proxy read from its upstreams."),
	ONE(INFO_STATS, STATS_SAME, "listeners_refusing", "tcpd_listeners_refusing", STATS_GAUGE,
	    listeners_refusing, "Listeners not listening now (refuse = on): connects are refused."),
	ONE(INFO_STATS, STATS_SAME, "listeners_blackholed", "tcpd_listeners_blackholed",
	    STATS_GAUGE, listeners_blackholed,
	    "Listeners accepting nothing now (blackhole = on): connects time out."),
};
const size_t stats_nfields = sizeof(stats_fields) / sizeof(stats_fields[0]);

#define US	1000ull
#define MS	1000000ull
#define S	1000000000ull

const uint64_t stats_command_bounds[STATS_BUCKETS] = {
	10 * US, 25 * US, 50 * US, 100 * US, 250 * US, 500 * US, MS, 2500 * US,
	5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS, S, UINT64_MAX,
};

const uint64_t stats_connection_bounds[STATS_BUCKETS] = {
	MS, 10 * MS, 100 * MS, 500 * MS, S, 5 * S, 10 * S, 30 * S, 60 * S, 300 * S,
	600 * S, 1800 * S, 3600 * S, 7200 * S, 21600 * S, 86400 * S, UINT64_MAX,
};

void
stats_observe(struct stats_histogram *h, const uint64_t bounds[STATS_BUCKETS], uint64_t ns)
{
	size_t i = 0;

	while (ns > bounds[i])
		i++;		/* the last bound is UINT64_MAX: always found */
	h->le[i]++;
	h->count++;
	h->sum_ns += ns;
}

struct stats_command *
stats_command(size_t i, const char *name)
{
	if (i >= STATS_MAX_COMMANDS)
		return NULL;
	stats.commands[i].name = name;
	return &stats.commands[i];
}

void
stats_reset(time_t monotonic_now)
{
	memset(&stats, 0, sizeof(stats));
	stats.start_time = monotonic_now;
	stats.worker = -1;
}

struct stats_service *
stats_service(const char *name)
{
	size_t i;

	for (i = 0; i < STATS_MAX_SERVICES; i++) {
		if (stats.services[i].name == NULL)
			stats.services[i].name = name;
		if (strcmp(stats.services[i].name, name) == 0)
			return &stats.services[i];
	}
	return NULL;
}

/* Another process may be writing it: a whole value, never a torn one. */
static uint64_t
get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static const uint64_t *
at(const struct stats_slot *s, size_t offset)
{
	return (const uint64_t *)(const void *)((const char *)s + offset);
}

static const char *const error_prefixes[ERROR_PREFIXES] = {
	[ERROR_ERR] = "ERR", [ERROR_NOAUTH] = "NOAUTH", [ERROR_NOPROTO] = "NOPROTO",
	[ERROR_WRONGPASS] = "WRONGPASS",
};

enum error_prefix
stats_error_prefix(const char *text, size_t len)
{
	size_t word = 0, i;

	while (word < len && text[word] != ' ' && text[word] != '\r')
		word++;
	for (i = 0; i < ERROR_PREFIXES; i++)
		if (strlen(error_prefixes[i]) == word && memcmp(text, error_prefixes[i], word) == 0)
			return (enum error_prefix)i;
	return ERROR_ERR;
}

/* The uint64_t at offset in every slot, summed; this process's own without a board. */
static uint64_t
sum(size_t offset)
{
	uint64_t total = 0;
	unsigned i;

	if (stats_board == NULL)
		return *at(&stats, offset);
	for (i = 0; i < stats_board_size; i++)
		total += get(at(&stats_board[i], offset));
	return total;
}

uint64_t
stats_value(const struct stats_field *f, size_t k, const struct stats_slot *s)
{
	size_t offset = f->offset + k * sizeof(uint64_t);

	if (s != NULL)
		return get(at(s, offset));
	/* Every worker has the configuration: the one asked answers for all. */
	return f->flags & STATS_SAME ? *at(&stats, offset) : sum(offset);
}

/* What a worker's death ends: its connections, its rate, its readiness. */
static void
clear_gauges(struct stats_slot *s)
{
	size_t i;

	__atomic_store_n(&s->connected, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->ops_per_sec, 0, __ATOMIC_RELAXED);
	s->ready = false;
	s->draining = false;
	for (i = 0; i < STATS_MAX_SERVICES; i++)
		__atomic_store_n(&s->services[i].connected, 0, __ATOMIC_RELAXED);
	for (i = 0; i < STATS_MAX_LISTENERS; i++) {
		__atomic_store_n(&s->listeners[i].now.active, 0, __ATOMIC_RELAXED);
		s->listeners[i].base = s->listeners[i].now;
	}
}

void
stats_start(time_t monotonic_now, int worker)
{
	if (stats_board == NULL || worker < 0 || (unsigned)worker >= stats_board_size) {
		stats_live = &own;
		stats_reset(monotonic_now);
		stats.worker = worker;
		return;
	}
	/* The counters go on from a predecessor's: only its gauges and clock start anew. */
	stats_live = &stats_board[worker];
	clear_gauges(stats_live);
	log_base = stats.log_lines_dropped;
	stats.start_time = monotonic_now;
	stats.worker = worker;
}

int
stats_board_open(unsigned n)
{
	void *p = mmap(NULL, n * sizeof(*stats_board), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -1;
	stats_board = p;
	stats_board_size = n;
	return 0;
}

void
stats_board_close(void)
{
	if (stats_board != NULL)
		munmap(stats_board, stats_board_size * sizeof(*stats_board));
	stats_board = NULL;
	stats_board_size = 0;
}

void
stats_worker_started(unsigned index, pid_t pid)
{
	__atomic_store_n(&stats_board[index].pid, (int32_t)pid, __ATOMIC_RELAXED);
}

void
stats_worker_ended(unsigned index)
{
	__atomic_store_n(&stats_board[index].pid, 0, __ATOMIC_RELAXED);
	clear_gauges(&stats_board[index]);
}

struct stats_published *
stats_published(struct stats_slot *s, const char *name, bool make)
{
	size_t i;

	for (i = 0; i < STATS_MAX_LISTENERS; i++) {
		if (s->listeners[i].name[0] == '\0') {
			if (!make)
				return NULL;
			snprintf(s->listeners[i].name, sizeof(s->listeners[i].name), "%s", name);
		}
		if (strcmp(s->listeners[i].name, name) == 0)
			return &s->listeners[i];
	}
	return NULL;
}

static void (*publisher)(void);

void
stats_set_publisher(void (*fn)(void))
{
	publisher = fn;
}

void
stats_publish_now(void)
{
	stats.log_lines_dropped = log_base + log_dropped();
	if (stats_board != NULL && publisher != NULL)
		publisher();
}

void
stats_publish(void)
{
	static uint64_t received, connected;
	static unsigned passes;

	if (stats_board == NULL)
		return;
	/* A connection opened or closed shows at once; bytes alone, every so many passes. */
	if (stats.connections_received != received || stats.connected != connected ||
	    ++passes % STATS_PUBLISH_EVERY == 0) {
		received = stats.connections_received;
		connected = stats.connected;
		stats_publish_now();
	}
}

static void
add_histogram(struct stats_histogram *dst, const struct stats_histogram *src)
{
	size_t i;

	dst->count += get(&src->count);
	dst->sum_ns += get(&src->sum_ns);
	for (i = 0; i < STATS_BUCKETS; i++)
		dst->le[i] += get(&src->le[i]);
}

void
stats_command_total(size_t i, struct stats_command *total)
{
	const struct stats_command *c;
	unsigned w;
	size_t b;
	uint64_t max;

	if (stats_board == NULL) {
		*total = stats.commands[i];
		return;
	}
	memset(total, 0, sizeof(*total));
	total->name = stats.commands[i].name;
	for (w = 0; w < stats_board_size; w++) {
		c = &stats_board[w].commands[i];
		total->failed += get(&c->failed);
		total->rejected += get(&c->rejected);
		add_histogram(&total->duration, &c->duration);
		total->latency.count += get(&c->latency.count);
		total->latency.sum += get(&c->latency.sum);
		if ((max = get(&c->latency.max)) > total->latency.max)
			total->latency.max = max;
		for (b = 0; b < HIST_BUCKETS; b++)
			total->latency.n[b] += get(&c->latency.n[b]);
	}
}

void
stats_duration_total(struct stats_histogram *total)
{
	unsigned w;

	if (stats_board == NULL) {
		*total = stats.connection_duration;
		return;
	}
	memset(total, 0, sizeof(*total));
	for (w = 0; w < stats_board_size; w++)
		add_histogram(total, &stats_board[w].connection_duration);
}

/* INFO's "# Workers": each worker, then the sums (skew shows at a glance). */
static int
workers_section(struct buf *out)
{
	const struct stats_field *f;
	int rc = 0;
	unsigned i;

	rc |= buf_appendf(out, "workers:%u\r\nworker_id:%d\r\n", stats_board_size,
	    stats.worker);
	for (i = 0; i < stats_board_size; i++) {
		rc |= buf_appendf(out, "worker_%u:pid=%d", i,
		    (int)__atomic_load_n(&stats_board[i].pid, __ATOMIC_RELAXED));
		for (f = stats_fields; f < stats_fields + stats_nfields; f++)
			if (f->flags & STATS_PER_WORKER)
				rc |= buf_appendf(out, ",%s=%llu", f->info,
				    (unsigned long long)stats_value(f, 0, &stats_board[i]));
		rc |= buf_append(out, "\r\n", 2);
	}
	for (f = stats_fields; f < stats_fields + stats_nfields; f++)
		if (f->flags & STATS_PER_WORKER)
			rc |= buf_appendf(out, "all_%s:%llu\r\n", f->info,
			    (unsigned long long)stats_value(f, 0, NULL));
	return rc;
}

unsigned
stats_info_section(const char *name, size_t len)
{
	static const struct { const char *name; unsigned flags; } sections[] = {
		{ "server", INFO_SERVER }, { "clients", INFO_CLIENTS }, { "stats", INFO_STATS },
		{ "commandstats", INFO_COMMANDSTATS }, { "latencystats", INFO_LATENCYSTATS },
		{ "errorstats", INFO_ERRORSTATS }, { "faults", INFO_FAULTS },
		{ "workers", INFO_WORKERS }, { "proxies", INFO_PROXIES },
		{ "default", INFO_DEFAULT },
		{ "all", INFO_ALL }, { "everything", INFO_ALL },
	};
	size_t i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strlen(sections[i].name) == len && strncasecmp(sections[i].name, name, len) == 0)
			return sections[i].flags;
	return 0;
}

/* "# Name" after an empty line when another section came before. */
static int
section(struct buf *out, bool *any, const char *name)
{
	int rc = buf_appendf(out, "%s# %s\r\n", *any ? "\r\n" : "", name);

	*any = true;
	return rc;
}

/* The table's lines for one section: "key:value", an array's as "prefixLABEL:value". */
static int
fields(struct buf *out, unsigned section)
{
	const struct stats_field *f;
	size_t k;
	int rc = 0;

	for (f = stats_fields; f < stats_fields + stats_nfields; f++)
		for (k = 0; f->section == section && k < f->n &&
		    (f->label == NULL || f->values[k] != NULL); k++)
			rc |= buf_appendf(out, "%s%s:%llu\r\n", f->info,
			    f->label != NULL ? f->values[k] : "",
			    (unsigned long long)stats_value(f, k, NULL));
	return rc;
}

static int
format_commands(struct buf *out, unsigned sections, bool *any)
{
	struct stats_command c;
	uint64_t errors;
	size_t i;
	int rc = 0;

	if (sections & INFO_COMMANDSTATS) {
		rc |= section(out, any, "Commandstats");
		for (i = 0; i < STATS_MAX_COMMANDS; i++) {
			uint64_t calls, usec;

			if (stats.commands[i].name == NULL)
				continue;
			stats_command_total(i, &c);
			if (c.duration.count + c.rejected == 0)
				continue;
			calls = c.duration.count;
			usec = c.duration.sum_ns / 1000;
			rc |= buf_appendf(out, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,"
			    "rejected_calls=%llu,failed_calls=%llu\r\n", c.name,
			    (unsigned long long)calls, (unsigned long long)usec,
			    calls > 0 ? (double)usec / (double)calls : 0.0,
			    (unsigned long long)c.rejected, (unsigned long long)c.failed);
		}
	}
	if (sections & INFO_LATENCYSTATS) {
		rc |= section(out, any, "Latencystats");
		for (i = 0; i < STATS_MAX_COMMANDS; i++) {
			if (stats.commands[i].name == NULL)
				continue;
			stats_command_total(i, &c);
			if (c.latency.count == 0)
				continue;
			rc |= buf_appendf(out, "latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,"
			    "p99.9=%.3f\r\n", c.name,
			    (double)hist_quantile(&c.latency, 0.5) / 1e3,
			    (double)hist_quantile(&c.latency, 0.99) / 1e3,
			    (double)hist_quantile(&c.latency, 0.999) / 1e3);
		}
	}
	if (sections & INFO_FAULTS) {
		rc |= section(out, any, "Faults");
		rc |= fields(out, INFO_FAULTS);
	}
	if ((sections & INFO_WORKERS) && stats_board != NULL) {
		rc |= section(out, any, "Workers");
		rc |= workers_section(out);
	}
	if (sections & INFO_ERRORSTATS) {
		rc |= section(out, any, "Errorstats");
		for (i = 0; i < ERROR_PREFIXES; i++)
			if ((errors = sum(offsetof(struct stats_slot, errorstats) +
			    i * sizeof(uint64_t))) > 0)
				rc |= buf_appendf(out, "errorstat_%s:count=%llu\r\n",
				    error_prefixes[i], (unsigned long long)errors);
	}
	return rc;
}

/* Where the i-th service's member sits in a slot. */
#define SERVICE_AT(i, member)	(offsetof(struct stats_slot, services) + \
	(i) * sizeof(struct stats_service) + offsetof(struct stats_service, member))

int
stats_format_info(struct buf *out, unsigned sections, time_t monotonic_now)
{
	bool any = false;
	size_t i;
	int rc = 0;

	stats_publish_now();
	if (sections & INFO_SERVER) {
		rc |= section(out, &any, "Server");
		rc |= buf_appendf(out,
		    "tcpd_version:%s\r\n"
		    "process_id:%ld\r\n"
		    "multiplexing_api:epoll\r\n"
		    "uptime_in_seconds:%lld\r\n",
		    TCPD_VERSION, (long)getpid(),
		    (long long)(monotonic_now - stats.start_time));
	}
	if (sections & INFO_CLIENTS) {
		/* maxclients is what Redis's own tools read; max_connections is tcpd's name. */
		rc |= section(out, &any, "Clients");
		rc |= fields(out, INFO_CLIENTS);
		rc |= buf_appendf(out, "maxclients:%u\r\nmax_connections:%u\r\n",
		    stats.max_connections, stats.max_connections);
	}
	if (sections & INFO_STATS) {
		rc |= section(out, &any, "Stats");
		rc |= fields(out, INFO_STATS);
		for (i = 0; i < STATS_MAX_SERVICES && stats.services[i].name != NULL; i++)
			rc |= buf_appendf(out, "service_%s:connected=%llu,total=%llu\r\n",
			    stats.services[i].name,
			    (unsigned long long)sum(SERVICE_AT(i, connected)),
			    (unsigned long long)sum(SERVICE_AT(i, total)));
	}
	rc |= format_commands(out, sections, &any);
	return rc == 0 ? 0 : -1;
}
