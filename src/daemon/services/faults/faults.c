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

const struct fault *
faults_entry(size_t i)
{
	return i < NFAULTS ? table[i] : NULL;
}

/* FAULTS (FAULT LIST): what is armed, one line each; FAULTS CLEAR: nothing any more. */
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

static const struct fault faults_list = { "faults", false, 1, 2, "FAULTS [CLEAR]", run_faults,
	NULL };

/*
 * The fault req names, with *kind its counter (NFAULTS for none): "FAULT
 * NAME ..." for any, FAULT LIST and FAULT CLEAR, or the bare "NAME ..." of
 * one that shadows no Redis command. NULL: not a fault command.
 */
static const struct fault *
find(const struct resp_request *req, bool prefixed, size_t *kind)
{
	const struct resp_arg *name = &req->argv[prefixed ? 1 : 0];
	size_t i;

	*kind = NFAULTS;
	for (i = 0; i < NFAULTS; i++)
		if ((prefixed || !table[i]->shadows) && fault_word(name, table[i]->name)) {
			*kind = i;
			return table[i];
		}
	if (prefixed ? fault_word(name, "list") || fault_word(name, "clear") :
	    fault_word(name, faults_list.name))
		return &faults_list;
	return NULL;
}

/* The first letters of the bare fault commands: one test turns most others away. */
static unsigned
first_letters(void)
{
	static unsigned mask;
	size_t i;

	if (mask == 0) {
		mask = 1u << (faults_list.name[0] - 'a');
		for (i = 0; i < NFAULTS; i++)
			if (!table[i]->shadows)
				mask |= 1u << (table[i]->name[0] - 'a');
	}
	return mask;
}

bool
faults_is_command(const struct resp_request *req)
{
	const struct resp_arg *name = &req->argv[0];
	unsigned letter = (unsigned)(tolower((unsigned char)name->ptr[0]) - 'a');
	size_t kind;

	if (letter >= 26 || !(first_letters() & (1u << letter)))
		return false;
	return fault_word(name, "fault") || find(req, false, &kind) != NULL;
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

void
faults_command(struct conn *c, struct faults **fp, const struct resp_request *req,
    struct buf *out)
{
	bool prefixed = fault_word(&req->argv[0], "fault");
	struct resp_request shifted;
	const struct fault *fault;
	const char *why;
	size_t kind;

	if ((why = refused(c)) != NULL) {
		resp_add_error(out, "%s", why);
		return;
	}
	if (prefixed && req->argc < 2) {
		resp_add_error(out, "ERR wrong number of arguments for 'fault' command");
		return;
	}
	if ((fault = find(req, prefixed, &kind)) == NULL) {
		resp_add_error(out, "ERR unknown fault '%.*s'. Try HELP.",
		    (int)(req->argv[1].len < 128 ? req->argv[1].len : 128), req->argv[1].ptr);
		return;
	}
	/*
	 * FAULT NAME args runs as NAME args, FAULT LIST as FAULTS; FAULT CLEAR
	 * is already FAULTS CLEAR's shape.
	 */
	if (prefixed && !(fault == &faults_list && fault_word(&req->argv[1], "clear"))) {
		shifted = *req;
		shifted.argc = req->argc - 1;
		memmove(shifted.argv, shifted.argv + 1, (RESP_MAX_ARGS - 1) * sizeof(*shifted.argv));
		req = &shifted;
	}
	if (*fp == NULL && (*fp = calloc(1, sizeof(**fp))) == NULL) {
		resp_add_error(out, "ERR out of memory for this fault");
		return;
	}
	if (req->argc < fault->min_argc || req->argc > fault->max_argc ||
	    !fault->run(c, *fp, req, out)) {
		resp_add_error(out, "ERR syntax: %s%s", prefixed ? "FAULT " : "",
		    prefixed && fault == &faults_list ? "LIST | FAULT CLEAR" : fault->usage);
		return;
	}
	if (kind != NFAULTS) {
		stats.faults[kind]++;
		conn_log(c, LOG_LEVEL_DEBUG, "fault: %s", fault->name);
	}
}
