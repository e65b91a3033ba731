/* SPDX-License-Identifier: MIT */
/* What the faults' files share: their arguments, and the connection's pacing. */
#include <string.h>
#include <strings.h>

#include "daemon/conn.h"
#include "daemon/pace.h"
#include "daemon/services/faults/fault.h"
#include "tcpd/buf.h"
#include "tcpd/num.h"
#include "tcpd/resp.h"

bool
fault_word(const struct resp_arg *a, const char *word)
{
	return a->len == strlen(word) && strncasecmp(a->ptr, word, a->len) == 0;
}

bool
fault_arg_ms(const struct resp_arg *a, uint64_t *ms)
{
	return pace_parse_ms(a->ptr, a->len, PACE_MS_MAX, ms) == 0;
}

bool
fault_arg_count(const struct resp_arg *a, uint64_t max, uint64_t *v)
{
	int64_t n;

	if (num_parse(a->ptr, a->len, 0, (int64_t)max, &n) == -1)
		return false;
	*v = (uint64_t)n;
	return true;
}

struct pace *
fault_pacing(struct conn *c, struct buf *out)
{
	struct pace *p = conn_pace(c, true);

	if (p == NULL)
		resp_add_error(out, "ERR out of memory for this fault");
	return p;
}

uint64_t
fault_queued_from(struct conn *c)
{
	return conn_output_end(c) - buf_len(conn_output(c));
}
