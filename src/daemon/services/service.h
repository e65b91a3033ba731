/* SPDX-License-Identifier: MIT */
#ifndef TCPD_SERVICES_SERVICE_H
#define TCPD_SERVICES_SERVICE_H

#include <stddef.h>

#include "daemon/service.h"

struct conn;

/* The service named name[0..len), or NULL. */
const struct service *service_find(const char *name, size_t len);

/* An input callback for services that ignore what the peer sends. */
size_t	service_ignore_input(struct conn *c, void *state, const char *data, size_t len);

/* The i-th service (0, 1, ...), or NULL past the last: for listings. */
const struct service *service_at(size_t i);

/* The agent-check line for tcpd's state now ("up ready 87%\n", "drain\n"); its length. */
size_t	agent_line(char *dst, size_t size);

/* "a, b or c": the names of every service, for messages. */
void	services_list(char *dst, size_t size);

#endif
