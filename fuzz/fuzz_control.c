/* SPDX-License-Identifier: MIT */
/*
 * The control service's untrusted input past jansson: a path, a proxy's JSON,
 * a populate's array and a toxic's JSON. A toxic taken must go onto its profile and read back as
 * itself (its toxicity and type), and a refusal always says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/services/control.h"
#include "daemon/services/toxics.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
route(const char *path, size_t len)
{
	char name[CONFIG_NAME_MAX], toxic[TOXIC_NAME_MAX];
	enum control_target target = control_route(path, len, name, toxic);

	if ((target == CONTROL_PROXY || target == CONTROL_TOXICS || target == CONTROL_TOXIC) &&
	    (memchr(name, '\0', sizeof(name)) == NULL || name[0] == '\0'))
		abort();
	if (target == CONTROL_TOXIC && (memchr(toxic, '\0', sizeof(toxic)) == NULL ||
	    !toxic_name_valid(toxic, strlen(toxic))))
		abort();
}

static void
proxy(const char *body, size_t len, bool create)
{
	static struct listener_config lc;
	const char *why = NULL;
	int status;

	memset(&lc, 0, sizeof(lc));
	config_listener_defaults(&lc);
	status = control_proxy_parse(body, len, create, &lc, NULL, &why);
	if (status != 0 && ((status != 400 && status != 403) || why == NULL))
		abort();
}

/* Each proxy taken is named, on loopback; no two share a name. */
static void
populate(const char *body, size_t len)
{
	static struct listener_config d, lcs[4];
	char why[256] = "";
	size_t i, j, n = 0;
	int status;

	memset(&d, 0, sizeof(d));
	config_listener_defaults(&d);
	status = control_populate_parse(body, len, &d, NULL, lcs, 4, &n, why, sizeof(why));
	if (status != 0) {
		if ((status != 400 && status != 403) || why[0] == '\0')
			abort();
		return;
	}
	for (i = 0; i < n; i++) {
		if (lcs[i].name[0] == '\0' || lcs[i].nbinds != 1)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(lcs[i].name, lcs[j].name) == 0)
				abort();
	}
}

static void
toxic(const char *body, size_t len, bool update)
{
	struct toxic old = { .name = "latency_downstream", .type = TOXIC_LATENCY,
	    .stream = TOXIC_DOWNSTREAM, .ppm = 1000000, .attr = { 100, 10 } };
	struct toxic t, back;
	struct pace_profile pp;
	const char *why = NULL;
	json_t *j;

	if (toxic_parse(body, len, update ? &old : NULL, &t, &why) != 0) {
		if (why == NULL)
			abort();
		return;
	}
	if (!toxic_name_valid(t.name, strlen(t.name)) || t.ppm > 1000000)
		abort();
	pace_profile_init(&pp);
	if (toxic_conflict(&t, &pp) != NULL)
		abort();
	toxic_apply(&t, &pp);
	toxic_read(t.type, t.stream, t.name, &pp, &back);
	if (back.type != t.type || back.stream != t.stream || back.ppm != t.ppm)
		abort();
	if ((j = toxic_json(&t)) != NULL)
		json_decref(j);
	toxic_clear(t.type, &pp);
	if (!pace_profile_empty(&pp))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *rest = (const char *)data + 1;

	/* The first byte picks the input's kind; the rest is the input. */
	if (size < 1)
		return 0;
	switch (data[0] % 6) {
	case 0: route(rest, size - 1); break;
	case 1: proxy(rest, size - 1, true); break;
	case 2: proxy(rest, size - 1, false); break;
	case 3: toxic(rest, size - 1, false); break;
	case 5: populate(rest, size - 1); break;
	default: toxic(rest, size - 1, true); break;
	}
	return 0;
}
