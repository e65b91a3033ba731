/* SPDX-License-Identifier: MIT */
#ifndef TCPD_SESSION_H
#define TCPD_SESSION_H

/*
 * What a client says about its own connection, as redis-server 7 answers
 * it: HELLO, AUTH against the listener's requirepass, RESET, and CLIENT's
 * subcommands. The command table (cmd.c) runs them.
 */

#include "daemon/services/cmd.h"

enum cmd_result session_hello(const struct cmd_client *, const struct resp_request *,
	    struct buf *);
enum cmd_result session_auth(const struct cmd_client *, const struct resp_request *,
	    struct buf *);
enum cmd_result session_reset(const struct cmd_client *, const struct resp_request *,
	    struct buf *);
enum cmd_result session_client_id(const struct cmd_client *, const struct resp_request *,
	    struct buf *);
enum cmd_result session_client_setname(const struct cmd_client *,
	    const struct resp_request *, struct buf *);
enum cmd_result session_client_getname(const struct cmd_client *,
	    const struct resp_request *, struct buf *);
enum cmd_result session_client_setinfo(const struct cmd_client *,
	    const struct resp_request *, struct buf *);
enum cmd_result session_client_info(const struct cmd_client *, const struct resp_request *,
	    struct buf *);
enum cmd_result session_client_list(const struct cmd_client *, const struct resp_request *,
	    struct buf *);
enum cmd_result session_client_kill(const struct cmd_client *, const struct resp_request *,
	    struct buf *);
/* NO-EVICT and NO-TOUCH: tcpd evicts and touches nothing, so either is accepted. */
enum cmd_result session_client_on_off(const struct cmd_client *,
	    const struct resp_request *, struct buf *);
enum cmd_result session_client_reply(const struct cmd_client *, const struct resp_request *,
	    struct buf *);

/* The connection's extras, made when first needed; NULL: ENOMEM. */
struct cmd_extras *session_extras(const struct cmd_client *client);
void	session_extras_free(struct cmd_extras *x);

#endif
