/* SPDX-License-Identifier: MIT */
/* The INI config parser: anything parses or fails with errors, never crashes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_errors errs;
	struct config cfg;
	char *text;
	size_t i;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (config_load_string(&cfg, text, &errs) == 0) {
		/* A config that loads is complete and consistent. */
		if (cfg.nlisteners == 0 || errs.count != 0)
			abort();
		for (i = 0; i < cfg.nlisteners; i++)
			if (cfg.listeners[i].nbinds == 0 ||
			    cfg.listeners[i].service == NULL)
				abort();
	} else if (errs.count == 0) {
		abort();
	}
	config_free(&cfg);
	free(text);
	return 0;
}
