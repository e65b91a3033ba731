/* SPDX-License-Identifier: MIT */
#ifndef TCPD_SERVICES_TOXICS_H
#define TCPD_SERVICES_TOXICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "daemon/pace.h"

/*
 * Toxiproxy's toxics as tcpd's fault profile: each type is one fault of a
 * direction's struct pace_profile (downstream: the listener's profile,
 * toward the client; upstream: its upstream profile, toward the server),
 * so a proxy holds at most one toxic of each type per stream. Pure: JSON
 * in, profile fields out, and back.
 */

/*
 * Toxiproxy's types, then tcpd's own where Toxiproxy has no word for the
 * fault: a stall (the peer hangs, neither reading nor writing) and
 * accept_delay (a server slow to accept; downstream only, new connections).
 */
enum toxic_type {
	TOXIC_LATENCY, TOXIC_BANDWIDTH, TOXIC_SLOW_CLOSE, TOXIC_TIMEOUT, TOXIC_RESET_PEER,
	TOXIC_SLICER, TOXIC_LIMIT_DATA, TOXIC_STALL, TOXIC_ACCEPT_DELAY, TOXIC_TYPES
};

/* A toxic's name with its NUL: letters, digits, '-', '_' and '.'. */
#define TOXIC_NAME_MAX	64
/* The most attributes a type has (slicer's three). */
#define TOXIC_ATTRS	3

enum toxic_stream { TOXIC_DOWNSTREAM, TOXIC_UPSTREAM, TOXIC_STREAMS };

struct toxic {
	char		 name[TOXIC_NAME_MAX];
	enum toxic_type	 type;
	enum toxic_stream stream;
	uint32_t	 ppm;		/* toxicity, per million connections */
	uint64_t	 attr[TOXIC_ATTRS];	/* in the type's order, Toxiproxy's units */
};

/* "latency", ...; and "downstream" or "upstream". */
const char *toxic_type_name(enum toxic_type type);
const char *toxic_stream_name(enum toxic_stream stream);

/* Whether s (len bytes) may name a toxic. */
bool	toxic_name_valid(const char *s, size_t len);

/*
 * A toxic's JSON (len bytes: name, type, stream, toxicity, attributes)
 * onto t. Creating (old NULL): type is required, stream defaults to
 * downstream, toxicity to 1, name to TYPE_STREAM, attributes to 0. Updating
 * (old the toxic as it is): only toxicity and attributes change; the
 * attributes not given keep old's values. Returns 0; or 400 with why set
 * to a static explanation (malformed, an unknown type, stream or
 * attribute, a value out of range).
 */
int	toxic_parse(const char *body, size_t len, const struct toxic *old, struct toxic *t,
	    const char **why);

/* Sets t's fault in pp, its direction's profile; clears type's from pp. */
void	toxic_apply(const struct toxic *t, struct pace_profile *pp);
void	toxic_clear(enum toxic_type type, struct pace_profile *pp);

/*
 * Whether t may join pp (its direction's profile, holding no toxic of t's
 * type): a connection ends once, so reset_peer, limit_data and timeout
 * exclude one another. NULL when it may, else why not (static).
 */
const char *toxic_conflict(const struct toxic *t, const struct pace_profile *pp);

/* The toxic of type in pp (named name), read back: its attributes and toxicity. */
void	toxic_read(enum toxic_type type, enum toxic_stream stream, const char *name,
	    const struct pace_profile *pp, struct toxic *t);

/* t as Toxiproxy's JSON object (a new reference), or NULL (out of memory). */
json_t	*toxic_json(const struct toxic *t);

#endif
