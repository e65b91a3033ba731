/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "daemon/listener.h"
#include "daemon/services/toxics.h"

/* Each type: its name, the fault it is (its toxicity that fault's die), its attributes. */
static const struct {
	const char	*name;
	enum pace_fault	 fault;
	const char	*attrs[TOXIC_ATTRS];
	uint64_t	 least[TOXIC_ATTRS];
	uint64_t	 most[TOXIC_ATTRS];
} types[TOXIC_TYPES] = {
	[TOXIC_LATENCY] = { "latency", PACE_DELAY, { "latency", "jitter" }, { 0, 0 },
	    { PACE_MS_MAX, PACE_MS_MAX } },
	/* KB/s, a thousand bytes: tcpd's rate 0 would be none, not a stop. */
	[TOXIC_BANDWIDTH] = { "bandwidth", PACE_RATE, { "rate" }, { 1 },
	    { PACE_RATE_MAX / 1000 } },
	[TOXIC_SLOW_CLOSE] = { "slow_close", PACE_SLOW_CLOSE, { "delay" }, { 0 },
	    { PACE_MS_MAX } },
	/* 0: the bytes dropped for good, never closed, as Toxiproxy's. */
	[TOXIC_TIMEOUT] = { "timeout", PACE_TIMEOUT, { "timeout" }, { 0 }, { PACE_MS_MAX } },
	[TOXIC_RESET_PEER] = { "reset_peer", PACE_RESET, { "timeout" }, { 0 },
	    { PACE_MS_MAX } },
	/* delay in µs, as Toxiproxy's; tcpd keeps whole ms. */
	[TOXIC_SLICER] = { "slicer", PACE_SLICE, { "average_size", "size_variation", "delay" },
	    { 1, 0, 0 }, { 1u << 30, 1u << 30, PACE_MS_MAX * 1000ull } },
	[TOXIC_LIMIT_DATA] = { "limit_data", PACE_CLOSE, { "bytes" }, { 0 }, { PACE_BYTES_MAX } },
	/* tcpd's: a hang from timeout ms on; a slow accept, delay ms long. */
	[TOXIC_STALL] = { "stall", PACE_STALL, { "timeout" }, { 0 }, { PACE_MS_MAX } },
	[TOXIC_ACCEPT_DELAY] = { "accept_delay", PACE_ACCEPT_DELAY, { "delay" }, { 1 },
	    { PACE_MS_MAX } },
};

static const char *const streams[TOXIC_STREAMS] = { "downstream", "upstream" };

const char *
toxic_type_name(enum toxic_type type)
{
	return types[type].name;
}

const char *
toxic_stream_name(enum toxic_stream stream)
{
	return streams[stream];
}

bool
toxic_name_valid(const char *s, size_t len)
{
	return name_valid(s, len, TOXIC_NAME_MAX, ".");
}

/* The index of s among n names, or -1. */
static int
lookup(const char *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

/* attributes onto t->attr, each known to t's type and in its range. */
static int
parse_attributes(json_t *attrs, struct toxic *t, const char **why)
{
	const char *key;
	json_t *v;
	int i;

	if (attrs == NULL)
		return 0;
	*why = "attributes must be an object";
	if (!json_is_object(attrs))
		return 400;
	json_object_foreach(attrs, key, v) {
		if ((i = lookup(key, types[t->type].attrs, TOXIC_ATTRS)) == -1) {
			*why = "unknown attribute for this toxic type";
			return 400;
		}
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    (uint64_t)json_integer_value(v) < types[t->type].least[i] ||
		    (uint64_t)json_integer_value(v) > types[t->type].most[i]) {
			*why = "an attribute is not an integer in its range";
			return 400;
		}
		t->attr[i] = (uint64_t)json_integer_value(v);
	}
	return 0;
}

/* The values together: a reply cannot come before its request. */
static int
check(struct toxic *t, const char **why)
{
	size_t i;

	for (i = 0; i < TOXIC_ATTRS; i++)
		if (types[t->type].attrs[i] != NULL && t->attr[i] < types[t->type].least[i]) {
			*why = "an attribute is not an integer in its range";
			return 400;
		}
	if (t->type == TOXIC_LATENCY && t->attr[1] > t->attr[0]) {
		*why = "jitter is more than latency";
		return 400;
	}
	/* The accept is the client's side: nothing toward the server waits on it. */
	if (t->type == TOXIC_ACCEPT_DELAY && t->stream != TOXIC_DOWNSTREAM) {
		*why = "accept_delay is downstream only";
		return 400;
	}
	return 0;
}

int
toxic_parse(const char *body, size_t len, const struct toxic *old, struct toxic *t,
    const char **why)
{
	json_t *root, *name, *type, *stream, *toxicity;
	json_error_t error;
	int i, status = 400;
	double chance;

	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &error)) == NULL) {
		*why = "the body is not valid JSON";
		return 400;
	}
	*why = "the body must be a JSON object";
	if (!json_is_object(root))
		goto done;
	name = json_object_get(root, "name");
	type = json_object_get(root, "type");
	stream = json_object_get(root, "stream");
	toxicity = json_object_get(root, "toxicity");
	*why = "name, type and stream must be strings, toxicity a number";
	if ((name != NULL && !json_is_string(name)) || (type != NULL && !json_is_string(type)) ||
	    (stream != NULL && !json_is_string(stream)) ||
	    (toxicity != NULL && !json_is_number(toxicity)))
		goto done;
	if (old != NULL) {
		*t = *old;
		*why = "an update changes toxicity and attributes only";
		if ((name != NULL && strcmp(json_string_value(name), old->name) != 0) ||
		    (type != NULL && strcmp(json_string_value(type), types[old->type].name) != 0) ||
		    (stream != NULL && strcmp(json_string_value(stream), streams[old->stream]) != 0))
			goto done;
	} else {
		memset(t, 0, sizeof(*t));
		t->ppm = PACE_CERTAIN;
		*why = "missing required field: type";
		if (type == NULL)
			goto done;
		*why = "invalid toxic type";
		for (i = 0; i < TOXIC_TYPES && strcmp(json_string_value(type), types[i].name) != 0;
		    i++)
			continue;
		if (i == TOXIC_TYPES)
			goto done;
		t->type = (enum toxic_type)i;
		*why = "stream was invalid, can be either upstream or downstream";
		if (stream != NULL && (i = lookup(json_string_value(stream), streams,
		    TOXIC_STREAMS)) == -1)
			goto done;
		t->stream = stream != NULL ? (enum toxic_stream)i : TOXIC_DOWNSTREAM;
		*why = "name: 1-63 letters, digits, '-', '_' or '.'";
		if (name != NULL && !toxic_name_valid(json_string_value(name),
		    json_string_length(name)))
			goto done;
		if (name != NULL)
			snprintf(t->name, sizeof(t->name), "%s", json_string_value(name));
		else
			snprintf(t->name, sizeof(t->name), "%s_%s", types[t->type].name,
			    streams[t->stream]);
	}
	if (toxicity != NULL) {
		chance = json_number_value(toxicity);
		*why = "toxicity must be from 0 to 1";
		if (!(chance >= 0 && chance <= 1))
			goto done;
		t->ppm = (uint32_t)(chance * PACE_CERTAIN + 0.5);
	}
	if ((status = parse_attributes(json_object_get(root, "attributes"), t, why)) == 0)
		status = check(t, why);
done:
	json_decref(root);
	return status;
}

void
toxic_clear(enum toxic_type type, struct pace_profile *pp)
{
	struct pace_profile none;

	pace_profile_init(&none);
	switch (type) {
	case TOXIC_LATENCY:
		pp->delay_ms = none.delay_ms;
		pp->jitter_ms = none.jitter_ms;
		break;
	case TOXIC_BANDWIDTH:
		pp->rate = none.rate;
		break;
	case TOXIC_SLOW_CLOSE:
		pp->slow_close_ms = none.slow_close_ms;
		break;
	case TOXIC_TIMEOUT:
		pp->timeout_ms = none.timeout_ms;
		break;
	case TOXIC_SLICER:
		pp->slice = none.slice;
		pp->slice_variation = none.slice_variation;
		pp->slice_gap_ms = none.slice_gap_ms;
		break;
	case TOXIC_STALL:
		pp->stall_bytes = none.stall_bytes;
		pp->stall_ms = none.stall_ms;
		break;
	case TOXIC_ACCEPT_DELAY:
		pp->accept_delay_ms = none.accept_delay_ms;
		break;
	default:	/* TOXIC_RESET_PEER, TOXIC_LIMIT_DATA: the end */
		pp->end = none.end;
		pp->end_bytes = none.end_bytes;
		pp->end_ms = none.end_ms;
		break;
	}
	pp->ppm[types[type].fault] = PACE_CERTAIN;
}

void
toxic_apply(const struct toxic *t, struct pace_profile *pp)
{
	const uint64_t *a = t->attr;

	toxic_clear(t->type, pp);
	switch (t->type) {
	case TOXIC_LATENCY:
		pp->delay_ms = a[0];
		pp->jitter_ms = a[1];
		break;
	case TOXIC_BANDWIDTH:
		pp->rate = a[0] * 1000;
		break;
	case TOXIC_SLOW_CLOSE:
		pp->slow_close_ms = a[0];
		break;
	case TOXIC_TIMEOUT:
		pp->timeout_ms = a[0];
		break;
	case TOXIC_RESET_PEER:
		pp->end = PACE_END_RESET;
		pp->end_ms = a[0];
		break;
	case TOXIC_SLICER:
		pp->slice = a[0];
		pp->slice_variation = a[1];
		pp->slice_gap_ms = a[2] / 1000;
		break;
	case TOXIC_STALL:
		pp->stall_ms = a[0];
		break;
	case TOXIC_ACCEPT_DELAY:
		pp->accept_delay_ms = a[0];
		break;
	default:	/* TOXIC_LIMIT_DATA */
		pp->end = PACE_END_CLOSE;
		pp->end_bytes = a[0];
		break;
	}
	pp->ppm[types[t->type].fault] = t->ppm;
}

const char *
toxic_conflict(const struct toxic *t, const struct pace_profile *pp)
{
	bool ends = t->type == TOXIC_RESET_PEER || t->type == TOXIC_LIMIT_DATA ||
	    t->type == TOXIC_TIMEOUT;

	if (ends && (pp->end != PACE_END_NONE || pp->timeout_ms != PACE_NEVER))
		return "a connection ends once: reset_peer, limit_data and timeout exclude "
		    "one another on a stream";
	return NULL;
}

void
toxic_read(enum toxic_type type, enum toxic_stream stream, const char *name,
    const struct pace_profile *pp, struct toxic *t)
{
	uint64_t *a = t->attr;

	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->type = type;
	t->stream = stream;
	t->ppm = pp->ppm[types[type].fault];
	switch (type) {
	case TOXIC_LATENCY:
		a[0] = pp->delay_ms;
		a[1] = pp->jitter_ms;
		break;
	case TOXIC_BANDWIDTH:
		a[0] = pp->rate / 1000;
		break;
	case TOXIC_SLOW_CLOSE:
		a[0] = pp->slow_close_ms;
		break;
	case TOXIC_TIMEOUT:
		a[0] = pp->timeout_ms;
		break;
	case TOXIC_RESET_PEER:
		a[0] = pp->end_ms;
		break;
	case TOXIC_SLICER:
		a[0] = pp->slice;
		a[1] = pp->slice_variation;
		a[2] = pp->slice_gap_ms * 1000;
		break;
	case TOXIC_STALL:
		a[0] = pp->stall_ms;
		break;
	case TOXIC_ACCEPT_DELAY:
		a[0] = pp->accept_delay_ms;
		break;
	default:	/* TOXIC_LIMIT_DATA */
		a[0] = pp->end_bytes;
		break;
	}
}

json_t *
toxic_json(const struct toxic *t)
{
	json_t *attrs = json_object(), *j;
	size_t i;

	for (i = 0; i < TOXIC_ATTRS && attrs != NULL && types[t->type].attrs[i] != NULL; i++)
		if (json_object_set_new(attrs, types[t->type].attrs[i],
		    json_integer((json_int_t)t->attr[i])) == -1) {
			json_decref(attrs);
			attrs = NULL;
		}
	if (attrs == NULL)
		return NULL;
	j = json_pack("{s:s, s:s, s:s, s:f, s:o}", "name", t->name, "type",
	    types[t->type].name, "stream", streams[t->stream], "toxicity",
	    (double)t->ppm / PACE_CERTAIN, "attributes", attrs);
	return j;
}
