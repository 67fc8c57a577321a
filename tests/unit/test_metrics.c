/* The counters registry: registration rules of the Prometheus data model, the text
 * exposition byte for byte (escaping, histograms), the JSON writer read back with jansson,
 * unregistering; and, where Debian's promtool is installed, its parser's verdict. */
#include "unit.h"
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

static char *text;

/* Runs @write over @r into `text` (freed by the next call). */
static const char *dump(struct metrics_registry *r,
	int (*write)(const struct metrics_registry *, FILE *))
{
	size_t len = 0;
	FILE *f;

	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	CU_ASSERT_EQUAL(write(r, f), 0);
	fclose(f);
	return text;
}

static const char *const no_labels[] = { NULL };
static const char *const if_labels[] = { "interface", "reason", NULL };

static void counter_collect(void *ctx, struct metrics_sink *sink)
{
	(void)ctx;
	metrics_sample_u64(sink, NULL, 42);
}

static void labelled_collect(void *ctx, struct metrics_sink *sink)
{
	const char *a[] = { "a", "FIREWALL" }, *b[] = { "q\"x\\y\nz", "IP_TTL" };

	(void)ctx;
	metrics_sample_u64(sink, a, 7);
	metrics_sample_u64(sink, b, 18446744073709551615ull);
}

static void gauge_collect(void *ctx, struct metrics_sink *sink)
{
	(void)ctx;
	metrics_sample(sink, NULL, 0.25);
	metrics_histogram(sink, NULL, NULL, NULL, 0, 0, 0); /* wrong type: ignored */
}

static const double bounds[] = { 0.001, 0.01, 0.1 };

static void hist_collect(void *ctx, struct metrics_sink *sink)
{
	static const uint64_t counts[] = { 2, 0, 3 }; /* per bucket: 5 of 6 under 0.1 */
	const char *v[] = { "udp" };

	(void)ctx;
	metrics_histogram(sink, v, bounds, counts, 3, 1.5, 6);
	metrics_sample_u64(sink, v, 1); /* wrong type: ignored */
}

static struct metrics_family fam(const char *name, enum metrics_type t, const char *const *labels)
{
	return (struct metrics_family){ name, "help", t, labels, counter_collect, NULL };
}

static void test_registration_rules(void)
{
	struct metrics_registry *r = metrics_registry_new();
	static const char *const bad_labels[][3] = {
		{ "__reserved", NULL },
		{ "1a", NULL },
		{ "a:b", NULL },
		{ "", NULL },
		{ "a-b", NULL },
		{ "dup", "dup", NULL },
	};
	static const char *const le[] = { "le", NULL }, *const ok_labels[] = { "_x", "A1", NULL };
	struct metrics_family f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	const char *bad_names[] = { "", "1abc", "a-b", "a b", "é", "a.b" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		f = fam(bad_names[i], METRICS_COUNTER, NULL);
		CU_ASSERT_EQUAL(metrics_register(r, &f), -EINVAL);
	}
	f = fam(NULL, METRICS_COUNTER, NULL);
	CU_ASSERT_EQUAL(metrics_register(r, &f), -EINVAL);
	for (size_t i = 0; i < sizeof(bad_labels) / sizeof(bad_labels[0]); i++) {
		f = fam("edge_x_total", METRICS_COUNTER, bad_labels[i]);
		CU_ASSERT_EQUAL(metrics_register(r, &f), -EINVAL);
	}
	f = fam("edge_h", METRICS_HISTOGRAM, le); /* "le" is the histogram's own */
	CU_ASSERT_EQUAL(metrics_register(r, &f), -EINVAL);
	f = fam("edge_x_total", METRICS_COUNTER, NULL);
	f.collect = NULL;
	CU_ASSERT_EQUAL(metrics_register(r, &f), -EINVAL);
	f = fam("edge_x_total", (enum metrics_type)7, NULL);
	CU_ASSERT_EQUAL(metrics_register(r, &f), -EINVAL);
	/* nothing of that was kept */
	CU_ASSERT_STRING_EQUAL(dump(r, metrics_write_prometheus), "");

	f = fam("edge:x_total", METRICS_COUNTER, ok_labels);
	CU_ASSERT_EQUAL(metrics_register(r, &f), 0);
	f = fam("_y", METRICS_COUNTER, no_labels);
	CU_ASSERT_EQUAL(metrics_register(r, &f), 0);
	f = fam("edge:x_total", METRICS_GAUGE, NULL);
	CU_ASSERT_EQUAL(metrics_register(r, &f), -EEXIST);
	f = fam("edge_c", METRICS_COUNTER, le); /* a counter may have an "le" label */
	CU_ASSERT_EQUAL(metrics_register(r, &f), 0);
	metrics_registry_free(r);
}

static void test_exposition_escaping(void)
{
	struct metrics_registry *r = metrics_registry_new();
	struct metrics_family a = { "edge_requests_total",
		"Requests, with a \\ and a\nnewline \"as is\".", METRICS_COUNTER, NULL,
		counter_collect, NULL };
	struct metrics_family b = { "edge_interface_drops_total", "Drops by reason.",
		METRICS_COUNTER, if_labels, labelled_collect, NULL };
	struct metrics_family c = { "edge_load", "A gauge.", METRICS_GAUGE, NULL, gauge_collect,
		NULL };

	CU_ASSERT_EQUAL(metrics_register(r, &a), 0);
	CU_ASSERT_EQUAL(metrics_register(r, &b), 0);
	CU_ASSERT_EQUAL(metrics_register(r, &c), 0);
	CU_ASSERT_STRING_EQUAL(dump(r, metrics_write_prometheus),
		"# HELP edge_requests_total Requests, with a \\\\ and a\\nnewline \"as is\".\n"
		"# TYPE edge_requests_total counter\n"
		"edge_requests_total 42\n"
		"# HELP edge_interface_drops_total Drops by reason.\n"
		"# TYPE edge_interface_drops_total counter\n"
		"edge_interface_drops_total{interface=\"a\",reason=\"FIREWALL\"} 7\n"
		"edge_interface_drops_total{interface=\"q\\\"x\\\\y\\nz\",reason=\"IP_TTL\"} "
		"18446744073709551615\n"
		"# HELP edge_load A gauge.\n"
		"# TYPE edge_load gauge\n"
		"edge_load 0.25\n");
	metrics_registry_free(r);
}

static const char *const tr_labels[] = { "transport", NULL };

static void test_histogram(void)
{
	struct metrics_registry *r = metrics_registry_new();
	struct metrics_family h = { "edge_turn_allocate_seconds", "Allocate latency.",
		METRICS_HISTOGRAM, tr_labels, hist_collect, NULL };

	CU_ASSERT_EQUAL(metrics_register(r, &h), 0);
	CU_ASSERT_STRING_EQUAL(dump(r, metrics_write_prometheus),
		"# HELP edge_turn_allocate_seconds Allocate latency.\n"
		"# TYPE edge_turn_allocate_seconds histogram\n"
		"edge_turn_allocate_seconds_bucket{transport=\"udp\",le=\"0.001\"} 2\n"
		"edge_turn_allocate_seconds_bucket{transport=\"udp\",le=\"0.01\"} 2\n"
		"edge_turn_allocate_seconds_bucket{transport=\"udp\",le=\"0.1\"} 5\n"
		"edge_turn_allocate_seconds_bucket{transport=\"udp\",le=\"+Inf\"} 6\n"
		"edge_turn_allocate_seconds_sum{transport=\"udp\"} 1.5\n"
		"edge_turn_allocate_seconds_count{transport=\"udp\"} 6\n");
	metrics_registry_free(r);
}

static json_t *family(json_t *root, const char *name)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(root, "families"), i,
		f) if (!strcmp(json_string_value(json_object_get(f, "name")), name)) return f;
	return NULL;
}

static void test_json(void)
{
	struct metrics_registry *r = metrics_registry_new();
	struct metrics_family a = { "edge_requests_total", "Requests\n\"quoted\"", METRICS_COUNTER,
		NULL, counter_collect, NULL };
	struct metrics_family b = { "edge_interface_drops_total", "Drops by reason.",
		METRICS_COUNTER, if_labels, labelled_collect, NULL };
	struct metrics_family c = { "edge_load", "A gauge.", METRICS_GAUGE, NULL, gauge_collect,
		NULL };
	struct metrics_family h = { "edge_turn_allocate_seconds", "Allocate latency.",
		METRICS_HISTOGRAM, tr_labels, hist_collect, NULL };
	json_error_t jerr;
	json_t *root, *f, *s, *bk;

	CU_ASSERT_EQUAL(metrics_register(r, &a), 0);
	CU_ASSERT_EQUAL(metrics_register(r, &b), 0);
	CU_ASSERT_EQUAL(metrics_register(r, &c), 0);
	CU_ASSERT_EQUAL(metrics_register(r, &h), 0);
	root = json_loads(dump(r, metrics_write_json), 0, &jerr);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(root, "families")), 4);

	f = family(root, "edge_requests_total");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "help")),
		"Requests\n\"quoted\"");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "type")), "counter");
	s = json_array_get(json_object_get(f, "samples"), 0);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "value")), 42);
	CU_ASSERT_EQUAL(json_object_size(json_object_get(s, "labels")), 0);

	f = family(root, "edge_interface_drops_total");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(f, "samples")), 2);
	s = json_array_get(json_object_get(f, "samples"), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(
				       json_object_get(json_object_get(s, "labels"), "reason")),
		"FIREWALL");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "value")), 7);
	s = json_array_get(json_object_get(f, "samples"), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(
				       json_object_get(json_object_get(s, "labels"), "interface")),
		"q\"x\\y\nz");
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(s, "value")),
		18446744073709551615.0, 1e4);

	f = family(root, "edge_load");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "type")), "gauge");
	s = json_array_get(json_object_get(f, "samples"), 0);
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(s, "value")), 0.25, 1e-12);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(f, "samples")), 1);

	f = family(root, "edge_turn_allocate_seconds");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(f, "type")), "histogram");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(f, "samples")), 1);
	s = json_array_get(json_object_get(f, "samples"), 0);
	bk = json_object_get(s, "buckets");
	CU_ASSERT_EQUAL(json_array_size(bk), 4);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(bk, 2), "le")),
		"0.1");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(bk, 2), "count")), 5);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(bk, 3), "le")),
		"+Inf");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(bk, 3), "count")), 6);
	CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(s, "sum")), 1.5, 1e-12);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(s, "count")), 6);
	json_decref(root);
	metrics_registry_free(r);
}

static void test_unregister(void)
{
	struct metrics_registry *r = metrics_registry_new();
	struct metrics_family a = fam("edge_a_total", METRICS_COUNTER, NULL);
	struct metrics_family b = fam("edge_b_total", METRICS_COUNTER, NULL);
	struct metrics_family c = fam("edge_c_total", METRICS_COUNTER, NULL);

	CU_ASSERT_EQUAL(metrics_register(r, &a), 0);
	CU_ASSERT_EQUAL(metrics_register(r, &b), 0);
	CU_ASSERT_EQUAL(metrics_unregister(r, "edge_b_total"), 0); /* the last one */
	CU_ASSERT_EQUAL(metrics_unregister(r, "edge_b_total"), -ENOENT);
	CU_ASSERT_EQUAL(metrics_register(r, &c), 0); /* appended after a, not lost */
	CU_ASSERT_STRING_EQUAL(dump(r, metrics_write_prometheus),
		"# HELP edge_a_total help\n# TYPE edge_a_total counter\nedge_a_total 42\n"
		"# HELP edge_c_total help\n# TYPE edge_c_total counter\nedge_c_total 42\n");
	CU_ASSERT_EQUAL(metrics_unregister(r, "edge_a_total"), 0); /* the first one */
	CU_ASSERT_EQUAL(metrics_register(r, &b), 0);		   /* its name is free again */
	CU_ASSERT_STRING_EQUAL(dump(r, metrics_write_prometheus),
		"# HELP edge_c_total help\n# TYPE edge_c_total counter\nedge_c_total 42\n"
		"# HELP edge_b_total help\n# TYPE edge_b_total counter\nedge_b_total 42\n");
	CU_ASSERT_EQUAL(metrics_unregister(r, "edge_c_total"), 0);
	CU_ASSERT_EQUAL(metrics_unregister(r, "edge_b_total"), 0);
	CU_ASSERT_STRING_EQUAL(dump(r, metrics_write_prometheus), "");
	CU_ASSERT_STRING_EQUAL(dump(r, metrics_write_json), "{\"families\":[]}\n");
	metrics_registry_free(r);
}

/* Debian's promtool (package prometheus) parses the exposition as a scraper would. */
static void test_promtool(void)
{
	struct metrics_registry *r = metrics_registry_new();
	struct metrics_family a = { "edge_requests_total", "Requests, with a \\ and a\nnewline.",
		METRICS_COUNTER, NULL, counter_collect, NULL };
	struct metrics_family b = { "edge_interface_drops_total", "Drops by reason.",
		METRICS_COUNTER, if_labels, labelled_collect, NULL };
	struct metrics_family c = { "edge_load", "A gauge.", METRICS_GAUGE, NULL, gauge_collect,
		NULL };
	struct metrics_family h = { "edge_turn_allocate_seconds", "Allocate latency.",
		METRICS_HISTOGRAM, tr_labels, hist_collect, NULL };
	FILE *p;

	if (system("command -v promtool >/dev/null 2>&1")) {
		printf("\n  (promtool not installed: `apt-get install prometheus`; not checked) ");
		metrics_registry_free(r);
		return;
	}
	CU_ASSERT_EQUAL(metrics_register(r, &a), 0);
	CU_ASSERT_EQUAL(metrics_register(r, &b), 0);
	CU_ASSERT_EQUAL(metrics_register(r, &c), 0);
	CU_ASSERT_EQUAL(metrics_register(r, &h), 0);
	p = popen("promtool check metrics >/dev/null", "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	fputs(dump(r, metrics_write_prometheus), p);
	CU_ASSERT_EQUAL(pclose(p), 0);
	metrics_registry_free(r);
}

static const struct unit_test tests[] = {
	{ "registration: names, label names, duplicates", test_registration_rules },
	{ "exposition: HELP and label values escaped, byte for byte", test_exposition_escaping },
	{ "exposition: histogram buckets cumulative, +Inf, _sum, _count", test_histogram },
	{ "json: parses back with the same values", test_json },
	{ "unregister: first, last, and the name free again", test_unregister },
	{ "promtool check metrics accepts the exposition", test_promtool },
	{ NULL, NULL },
};

int main(void)
{
	int ret = unit_run("metrics", tests);

	free(text);
	return ret;
}
