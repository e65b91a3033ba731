/* SPDX-License-Identifier: MIT */
/*
 * The fuzzing oracle for the request parser: parsing a stream of pipelined
 * requests whole must give exactly what parsing it fed in two pieces gives,
 * at a cut chosen by the input, and every argument must lie inside it.
 */
#ifndef TCPD_FUZZ_PARSE_CHECK_H
#define TCPD_FUZZ_PARSE_CHECK_H

#include <stdlib.h>
#include <string.h>

#include "tcpd/resp.h"

#define FUZZ_MAX_LINE 512

struct outcome {
	ssize_t		rc;
	size_t		used;
	size_t		argc;
	size_t		lens[RESP_MAX_ARGS];
	size_t		offs[RESP_MAX_ARGS];
};

static void
check_args(const struct resp_request *req, const char *buf, size_t used,
    struct outcome *o)
{
	size_t i;

	o->argc = req->argc;
	for (i = 0; i < req->argc && i < RESP_MAX_ARGS; i++) {
		const char *p = req->argv[i].ptr;

		if (p < buf || p + req->argv[i].len > buf + used)
			abort();
		if (req->argv[i].len > FUZZ_MAX_LINE)
			abort();
		o->offs[i] = (size_t)(p - buf);
		o->lens[i] = req->argv[i].len;
	}
}

/* One request from the start of buf, seen at `cut` bytes first (cut <= len). */
static struct outcome
parse_one(const char *buf, size_t len, size_t cut)
{
	struct resp_state st = { 0 };
	struct resp_request req;
	struct outcome o = { 0 };

	if (cut < len) {
		o.rc = resp_parse(&st, &req, buf, cut, FUZZ_MAX_LINE);
		if (o.rc != RESP_INCOMPLETE) {
			o.used = o.rc > 0 ? (size_t)o.rc : 0;
			if (o.rc > 0)
				check_args(&req, buf, o.used, &o);
			return o;
		}
	}
	o.rc = resp_parse(&st, &req, buf, len, FUZZ_MAX_LINE);
	if (o.rc > 0) {
		o.used = (size_t)o.rc;
		if (o.used > len)
			abort();
		check_args(&req, buf, o.used, &o);
	}
	return o;
}

static void
check_stream(const char *buf, size_t len, size_t cut_seed)
{
	size_t off = 0;

	while (off < len) {
		size_t rest = len - off, cut = rest ? cut_seed % (rest + 1) : 0;
		struct outcome whole = parse_one(buf + off, rest, rest);
		struct outcome split = parse_one(buf + off, rest, cut);

		/* A request complete within the first piece ends the same way. */
		if (whole.rc != split.rc || whole.used != split.used ||
		    whole.argc != split.argc ||
		    memcmp(whole.lens, split.lens, sizeof(whole.lens)) != 0 ||
		    memcmp(whole.offs, split.offs, sizeof(whole.offs)) != 0)
			abort();
		if (whole.rc <= 0)
			break;
		off += whole.used;
	}
}

#endif
