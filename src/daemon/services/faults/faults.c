/* SPDX-License-Identifier: MIT */
/*
 * Faults a client asks for on its own connection, so that the authors of
 * TCP clients can reproduce what breaks them: no proxy, no other client
 * touched. Gated per listener by faults = off | loopback | on. Each fault
 * is a file of its own (fault.h) and a line in the table below; the timed
 * ones are the transport's pacing (pace.h), which they only set.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/conn.h"
#include "daemon/listener.h"
#include "daemon/pace.h"
#include "daemon/services/faults/fault.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"
#include "tcpd/resp.h"

/* Every fault; its place here is its counter's. */
static const struct fault *const table[] = {
	&fault_close, &fault_reset, &fault_halfclose, &fault_truncate, &fault_error,
	&fault_garbage, &fault_delay, &fault_sleep, &fault_rate, &fault_slice, &fault_stream,
	&fault_stall,
};
#define NFAULTS		(sizeof(table) / sizeof(table[0]))
_Static_assert(NFAULTS <= STATS_MAX_FAULTS, "each fault needs a counter");

/* The longest line FAULTS gives a fault. */
#define LIST_LINE	96

void
faults_register_stats(void)
{
	size_t i;

	for (i = 0; i < NFAULTS; i++)
		stats_fault_names[i] = table[i]->name;
}

/* FAULTS: what is armed, one line each; FAULTS CLEAR: nothing any more. */
static bool
run_faults(struct conn *c, struct faults *f, const struct resp_request *req,
    struct buf *out)
{
	struct pace *p = conn_pace(c, false);
	char lines[NFAULTS][LIST_LINE];
	size_t i, n = 0;

	if (req->argc == 2) {
		if (!fault_word(&req->argv[1], "clear"))
			return false;
		f->truncate_next = false;
		if (p != NULL)
			pace_init(p, p->random);
		resp_add_simple(out, "OK");
		return true;
	}
	for (i = 0; i < NFAULTS; i++)
		if (table[i]->armed != NULL && table[i]->armed(c, f, lines[n], LIST_LINE))
			n++;
	resp_add_array(out, n);
	for (i = 0; i < n; i++)
		resp_add_bulk(out, lines[i], strlen(lines[i]));
	return true;
}

static const struct fault faults_itself = { "faults", 1, 2, "FAULTS [CLEAR]", run_faults, NULL };

/* The first letters of the fault commands: one test turns every other command away. */
static unsigned
first_letters(void)
{
	static unsigned mask;
	size_t i;

	if (mask == 0) {
		mask = 1u << (faults_itself.name[0] - 'a');
		for (i = 0; i < NFAULTS; i++)
			mask |= 1u << (table[i]->name[0] - 'a');
	}
	return mask;
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

bool
faults_command(struct conn *c, struct faults **fp, const struct resp_request *req,
    struct buf *out)
{
	const struct resp_arg *name = &req->argv[0];
	const struct fault *fault = NULL;
	unsigned letter = (unsigned)(tolower((unsigned char)name->ptr[0]) - 'a');
	const char *why;
	size_t i, kind = NFAULTS;

	if (letter >= 26 || !(first_letters() & (1u << letter)))
		return false;
	for (i = 0; i < NFAULTS && fault == NULL; i++)
		if (fault_word(name, table[i]->name)) {
			fault = table[i];
			kind = i;
		}
	if (fault == NULL && fault_word(name, faults_itself.name))
		fault = &faults_itself;
	if (fault == NULL)
		return false;
	if ((why = refused(c)) != NULL) {
		resp_add_error(out, "%s", why);
		return true;
	}
	if (*fp == NULL && (*fp = calloc(1, sizeof(**fp))) == NULL) {
		resp_add_error(out, "ERR out of memory for this fault");
		return true;
	}
	if (req->argc < fault->min_argc || req->argc > fault->max_argc ||
	    !fault->run(c, *fp, req, out)) {
		resp_add_error(out, "ERR syntax: %s", fault->usage);
		return true;
	}
	if (kind != NFAULTS) {
		stats.faults[kind]++;
		conn_log(c, LOG_LEVEL_DEBUG, "fault: %s", fault->name);
	}
	return true;
}
