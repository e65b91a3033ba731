/* SPDX-License-Identifier: MIT */
/* RFC 863: every byte dropped. */
#include "daemon/conn.h"
#include "daemon/services/service.h"

const struct service service_discard = {
	.name = "discard",
	.input = service_ignore_input,
};
