/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/runtime.h"

static struct {
	runtime_applier		 fn;
	void			*arg;
	struct listener_config	*lcs;
	size_t			 n;
	struct listener_config	 defaults;
} rt;

void
runtime_set_applier(runtime_applier fn, void *arg, const struct listener_config *defaults)
{
	rt.fn = fn;
	rt.arg = arg;
	if (fn != NULL) {
		rt.defaults = *defaults;
	} else {
		free(rt.lcs);
		rt.lcs = NULL;
		rt.n = 0;
	}
}

const struct listener_config *
runtime_defaults(void)
{
	return rt.fn != NULL ? &rt.defaults : NULL;
}

const struct listener_config *
runtime_listeners(size_t *n)
{
	*n = rt.n;
	return rt.lcs;
}

int
runtime_replace(const struct listener_config *lcs, size_t n, char *err, size_t errlen)
{
	struct listener_config *copy = NULL;

	if (rt.fn == NULL) {
		snprintf(err, errlen, "no server to run listeners");
		return -1;
	}
	if (n > 0 && (copy = malloc(n * sizeof(*copy))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (n > 0)
		memcpy(copy, lcs, n * sizeof(*copy));
	if (rt.fn(rt.arg, copy, n, err, errlen) == -1) {
		free(copy);
		return -1;
	}
	free(rt.lcs);
	rt.lcs = copy;
	rt.n = n;
	return 0;
}
