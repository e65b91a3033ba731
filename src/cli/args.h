/* SPDX-License-Identifier: MIT */
#ifndef TCPD_ARGS_H
#define TCPD_ARGS_H

#include <stdbool.h>
#include <stddef.h>

struct buf;
struct resp_arg;

/*
 * Splits a typed line into words as redis-cli does and appends them to out
 * as one RESP request (nothing for a line with no words). Words are split
 * on white space; "double quotes" take \n \r \t \b \a \xHH \" \\ escapes,
 * 'single quotes' only \'; a closing quote must end its word. Returns the
 * number of words, or -1 with *why set (an unbalanced quote, or out full:
 * then out may hold part of the request).
 */
long	args_encode(struct buf *out, const char *line, size_t len, const char **why);

/*
 * True for the commands whose bulk replies are text meant to be read as
 * lines (INFO, CLIENT LIST, MEMORY DOCTOR, ...): redis-cli prints those
 * unquoted even on a terminal, and so does tcpd-cli.
 */
bool	args_reply_is_text(size_t argc, const struct resp_arg *argv);

/* args_reply_is_text() of one encoded RESP request. */
bool	args_request_reply_is_text(const char *request, size_t len);

#endif
