/* SPDX-License-Identifier: MIT */
/* Toxiproxy's toxics onto tcpd's fault profile and back, without sockets. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "daemon/services/toxics.h"

#define S(lit) lit, sizeof(lit) - 1

static struct pace_profile pp;
static struct toxic t;
static const char *why;

static void
setup(void)
{
	pace_profile_init(&pp);
	why = NULL;
}

TestSuite(toxics, .init = setup);

static void
assert_json(const struct toxic *x, const char *want)
{
	json_t *j = toxic_json(x);
	char *text = json_dumps(j, JSON_COMPACT);

	cr_assert_str_eq(text, want);
	free(text);
	json_decref(j);
}

Test(toxics, latency_with_the_defaults)
{
	cr_assert_eq(toxic_parse(S("{\"type\":\"latency\",\"attributes\":{\"latency\":300}}"),
	    NULL, &t, &why), 0, "%s", why);
	cr_assert_str_eq(t.name, "latency_downstream");
	cr_assert_eq(t.stream, TOXIC_DOWNSTREAM);
	cr_assert_eq(t.ppm, PACE_CERTAIN);
	toxic_apply(&t, &pp);
	cr_assert_eq(pp.delay_ms, 300);
	cr_assert_eq(pp.jitter_ms, 0);
	cr_assert_eq(pp.ppm[PACE_DELAY], PACE_CERTAIN);
	assert_json(&t, "{\"name\":\"latency_downstream\",\"type\":\"latency\",\"stream\":"
	    "\"downstream\",\"toxicity\":1.0,\"attributes\":{\"latency\":300,\"jitter\":0}}");
	toxic_clear(TOXIC_LATENCY, &pp);
	cr_assert(pace_profile_empty(&pp));
}

Test(toxics, stream_toxicity_and_name)
{
	cr_assert_eq(toxic_parse(S("{\"name\":\"slow.up\",\"type\":\"latency\",\"stream\":"
	    "\"upstream\",\"toxicity\":0.25,\"attributes\":{\"latency\":50,\"jitter\":10}}"),
	    NULL, &t, &why), 0, "%s", why);
	cr_assert_str_eq(t.name, "slow.up");
	cr_assert_eq(t.stream, TOXIC_UPSTREAM);
	cr_assert_eq(t.ppm, 250000);
	toxic_apply(&t, &pp);
	cr_assert_eq(pp.ppm[PACE_DELAY], 250000);
	cr_assert_eq(pp.jitter_ms, 10);
	cr_assert_eq(toxic_parse(S("{\"type\":\"latency\",\"stream\":\"upstream\"}"), NULL, &t,
	    &why), 0);
	cr_assert_str_eq(t.name, "latency_upstream");
}

Test(toxics, every_type_onto_the_profile_and_back)
{
	static const struct { const char *json; const char *back; } all[] = {
		{ "{\"type\":\"bandwidth\",\"attributes\":{\"rate\":64}}",
		    "{\"rate\":64}" },
		{ "{\"type\":\"slow_close\",\"attributes\":{\"delay\":200}}",
		    "{\"delay\":200}" },
		{ "{\"type\":\"timeout\",\"attributes\":{\"timeout\":0}}",
		    "{\"timeout\":0}" },
		{ "{\"type\":\"reset_peer\",\"attributes\":{\"timeout\":500}}",
		    "{\"timeout\":500}" },
		{ "{\"type\":\"slicer\",\"attributes\":{\"average_size\":10,\"size_variation\":"
		    "4,\"delay\":2000}}",
		    "{\"average_size\":10,\"size_variation\":4,\"delay\":2000}" },
		{ "{\"type\":\"limit_data\",\"attributes\":{\"bytes\":1000}}",
		    "{\"bytes\":1000}" },
		{ "{\"type\":\"stall\",\"attributes\":{\"timeout\":0}}",
		    "{\"timeout\":0}" },
		{ "{\"type\":\"accept_delay\",\"attributes\":{\"delay\":250}}",
		    "{\"delay\":250}" },
	};
	struct toxic back;
	json_t *j;
	char *text;
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		setup();
		cr_assert_eq(toxic_parse(all[i].json, strlen(all[i].json), NULL, &t, &why), 0,
		    "%s: %s", all[i].json, why);
		toxic_apply(&t, &pp);
		cr_assert_not(pace_profile_empty(&pp), "%s", all[i].json);
		toxic_read(t.type, t.stream, t.name, &pp, &back);
		j = toxic_json(&back);
		text = json_dumps(json_object_get(j, "attributes"), JSON_COMPACT);
		cr_assert_str_eq(text, all[i].back);
		free(text);
		json_decref(j);
		toxic_clear(t.type, &pp);
		cr_assert(pace_profile_empty(&pp), "%s", all[i].json);
	}
	/* The profile's units: bytes per second, a slice gap in ms. */
	cr_assert_eq(toxic_parse(S("{\"type\":\"bandwidth\",\"attributes\":{\"rate\":64}}"), NULL,
	    &t, &why), 0);
	toxic_apply(&t, &pp);
	cr_assert_eq(pp.rate, 64000);
	cr_assert_eq(toxic_parse(S("{\"type\":\"limit_data\",\"attributes\":{\"bytes\":9}}"), NULL,
	    &t, &why), 0);
	toxic_apply(&t, &pp);
	cr_assert_eq(pp.end, PACE_END_CLOSE);
	cr_assert_eq(pp.end_bytes, 9);
	cr_assert_eq(pp.ppm[PACE_CLOSE], PACE_CERTAIN);
	/* tcpd's own: a stall by time only, an accept held. */
	cr_assert_eq(toxic_parse(S("{\"type\":\"stall\",\"toxicity\":0.25,\"attributes\":"
	    "{\"timeout\":40}}"), NULL, &t, &why), 0);
	toxic_apply(&t, &pp);
	cr_assert_eq(pp.stall_ms, 40);
	cr_assert_eq(pp.stall_bytes, PACE_NEVER);
	cr_assert_eq(pp.ppm[PACE_STALL], 250000);
	cr_assert_eq(toxic_parse(S("{\"type\":\"accept_delay\",\"attributes\":{\"delay\":7}}"),
	    NULL, &t, &why), 0);
	toxic_apply(&t, &pp);
	cr_assert_eq(pp.accept_delay_ms, 7);
}

Test(toxics, an_update_keeps_what_it_does_not_name)
{
	struct toxic old;

	cr_assert_eq(toxic_parse(S("{\"type\":\"latency\",\"attributes\":{\"latency\":300,"
	    "\"jitter\":20}}"), NULL, &old, &why), 0);
	cr_assert_eq(toxic_parse(S("{\"toxicity\":0.5,\"attributes\":{\"latency\":100}}"), &old, &t,
	    &why), 0, "%s", why);
	cr_assert_eq(t.attr[0], 100);
	cr_assert_eq(t.attr[1], 20);
	cr_assert_eq(t.ppm, 500000);
	cr_assert_str_eq(t.name, "latency_downstream");
	cr_assert_eq(toxic_parse(S("{\"stream\":\"upstream\"}"), &old, &t, &why), 400);
	cr_assert_str_eq(why, "an update changes toxicity and attributes only");
}

Test(toxics, every_bad_toxic_and_why)
{
	static const struct { const char *json; const char *why; } bad[] = {
		{ "", "the body is not valid JSON" },
		{ "[]", "the body must be a JSON object" },
		{ "{}", "missing required field: type" },
		{ "{\"type\":\"lag\"}", "invalid toxic type" },
		{ "{\"type\":\"latency\",\"stream\":\"sideways\"}",
		    "stream was invalid, can be either upstream or downstream" },
		{ "{\"type\":\"latency\",\"toxicity\":1.5}", "toxicity must be from 0 to 1" },
		{ "{\"type\":\"latency\",\"toxicity\":\"1\"}",
		    "name, type and stream must be strings, toxicity a number" },
		{ "{\"type\":\"latency\",\"name\":\"a/b\"}",
		    "name: 1-63 letters, digits, '-', '_' or '.'" },
		{ "{\"type\":\"latency\",\"attributes\":{\"rate\":1}}",
		    "unknown attribute for this toxic type" },
		{ "{\"type\":\"latency\",\"attributes\":[]}", "attributes must be an object" },
		{ "{\"type\":\"latency\",\"attributes\":{\"latency\":-1}}",
		    "an attribute is not an integer in its range" },
		{ "{\"type\":\"latency\",\"attributes\":{\"latency\":1.5}}",
		    "an attribute is not an integer in its range" },
		{ "{\"type\":\"latency\",\"attributes\":{\"latency\":86400001}}",
		    "an attribute is not an integer in its range" },
		{ "{\"type\":\"latency\",\"attributes\":{\"latency\":10,\"jitter\":11}}",
		    "jitter is more than latency" },
		{ "{\"type\":\"bandwidth\"}", "an attribute is not an integer in its range" },
		{ "{\"type\":\"slicer\",\"attributes\":{\"average_size\":0}}",
		    "an attribute is not an integer in its range" },
		{ "{\"type\":\"accept_delay\",\"attributes\":{\"delay\":0}}",
		    "an attribute is not an integer in its range" },
		{ "{\"type\":\"accept_delay\",\"stream\":\"upstream\",\"attributes\":"
		    "{\"delay\":5}}", "accept_delay is downstream only" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(toxic_parse(bad[i].json, strlen(bad[i].json), NULL, &t, &why), 400,
		    "%s", bad[i].json);
		cr_assert_str_eq(why, bad[i].why, "%s", bad[i].json);
	}
}

Test(toxics, a_connection_ends_once)
{
	cr_assert_eq(toxic_parse(S("{\"type\":\"limit_data\",\"attributes\":{\"bytes\":9}}"),
	    NULL, &t, &why), 0);
	cr_assert_null(toxic_conflict(&t, &pp));
	toxic_apply(&t, &pp);
	cr_assert_eq(toxic_parse(S("{\"type\":\"reset_peer\"}"), NULL, &t, &why), 0);
	cr_assert_not_null(toxic_conflict(&t, &pp));
	cr_assert_eq(toxic_parse(S("{\"type\":\"timeout\"}"), NULL, &t, &why), 0);
	cr_assert_not_null(toxic_conflict(&t, &pp));
	cr_assert_eq(toxic_parse(S("{\"type\":\"latency\"}"), NULL, &t, &why), 0);
	cr_assert_null(toxic_conflict(&t, &pp));
}
