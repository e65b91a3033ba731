/* SPDX-License-Identifier: MIT */
#ifndef TCPD_FAULT_H
#define TCPD_FAULT_H

/*
 * One fault a client may ask for: its own file, and a line in faults.c's
 * table, which gives it its command, its counter (INFO's fault_NAME,
 * /metrics' tcpd_faults_total{kind="NAME"}) and its line in FAULTS.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/services/faults/faults.h"

struct buf;
struct conn;
struct pace;
struct resp_arg;
struct resp_request;

struct fault {
	const char	*name;		/* the command, and the counter's label */
	/*
	 * A Redis command has this name (RESET): only FAULT NAME reaches the
	 * fault; the bare word is Redis's.
	 */
	bool		 shadows;
	unsigned	 min_argc, max_argc;
	const char	*usage;		/* the syntax error's text */
	/* Arms or does it, its reply to out; false when the arguments are wrong. */
	bool		(*run)(struct conn *c, struct faults *f, const struct resp_request *req,
			    struct buf *out);
	/*
	 * FAULTS' line for it while it is armed, in line (size bytes); false
	 * when it is not. NULL for a fault that acts at once.
	 */
	bool		(*armed)(struct conn *c, const struct faults *f, char *line, size_t size);
};

extern const struct fault fault_close, fault_reset, fault_halfclose, fault_truncate,
	fault_error, fault_garbage, fault_delay, fault_sleep, fault_rate, fault_slice,
	fault_stream, fault_stall;

/* The fault at place i of the table, NULL past its end: for HELP. */
const struct fault *faults_entry(size_t i);

/* For the faults' files: their arguments, and the transport's pacing. */
bool	fault_word(const struct resp_arg *a, const char *word);
bool	fault_arg_ms(const struct resp_arg *a, uint64_t *ms);
bool	fault_arg_count(const struct resp_arg *a, uint64_t max, uint64_t *v);
/* The connection's pacing for a timed fault; NULL after answering the error. */
struct pace *fault_pacing(struct conn *c, struct buf *out);
/* The position of the first byte still queued: what a fault set now finds waiting. */
uint64_t fault_queued_from(struct conn *c);

#endif
