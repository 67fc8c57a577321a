/* edgeload's pieces that need no network: the pacer on a fake clock, the latency histogram,
 * the JSON report and the command line's refusals (bench/edgeload, issue 14). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "unit.h"
#include "../../bench/edgeload/el_args.h"
#include "../../bench/edgeload/el_report.h"
#include "../../bench/edgeload/el_stats.h"

#define NS 1000000000ull

/* 1000 pps for 10 simulated seconds in 1 ms steps: rate * t, +-1, at every step. */
static void test_pacer_exact(void)
{
	struct el_pacer p;
	uint64_t t;

	el_pacer_init(&p, 1000, 0, 10000000);
	for (t = 0; t <= 10 * NS; t += 1000000) {
		el_pacer_sent(&p, el_pacer_due(&p, t, 1000000));
		CU_ASSERT(llabs((long long)p.done - (long long)(t / 1000000)) <= 1);
	}
	CU_ASSERT_EQUAL(p.done, 10000);
	CU_ASSERT_EQUAL(p.skipped, 0);
	/* an odd rate with odd steps */
	el_pacer_init(&p, 333.3, 5, 10000000);
	for (t = 5; t <= 3 * NS + 5; t += 777777)
		el_pacer_sent(&p, el_pacer_due(&p, t, 1000000));
	CU_ASSERT(llabs((long long)p.done - (long long)el_pacer_target(3 * NS, 333.3)) <= 1);
}

/* A 2 s stall at 100 000 pps: at most 10 ms of packets at once, the rest counted skipped. */
static void test_pacer_stall(void)
{
	struct el_pacer p;
	uint64_t due;

	el_pacer_init(&p, 100000, 0, 10000000);
	el_pacer_sent(&p, el_pacer_due(&p, NS, UINT64_MAX));
	CU_ASSERT_EQUAL(p.done, 1000); /* the first second was a stall too */
	due = el_pacer_due(&p, 3 * NS, UINT64_MAX);
	CU_ASSERT_EQUAL(due, 1000);
	el_pacer_sent(&p, due);
	CU_ASSERT_EQUAL(p.done + p.skipped, el_pacer_target(3 * NS, 100000));
	CU_ASSERT_EQUAL(el_pacer_due(&p, 3 * NS, UINT64_MAX), 0);
	/* the batch bound: never more than asked */
	CU_ASSERT_EQUAL(el_pacer_due(&p, 3 * NS + 5000000, 256), 256);
	/* unpaced: always the batch */
	el_pacer_init(&p, 0, 0, 10000000);
	CU_ASSERT_EQUAL(el_pacer_due(&p, 123, 256), 256);
}

static bool within(double got, double want, double rel)
{
	return fabs(got - want) <= want * rel;
}

/* Uniform 1..1000 us, each value once. */
static void fill_uniform(struct el_hist *h)
{
	el_hist_reset(h);
	for (uint64_t v = 1; v <= 1000; v++)
		el_hist_record(h, v * 1000);
}

static void test_hist_percentiles(void)
{
	static struct el_hist h;

	fill_uniform(&h);
	CU_ASSERT_EQUAL(h.count, 1000);
	CU_ASSERT(within((double)el_hist_quantile(&h, 0.5), 500000, 0.015));
	CU_ASSERT(within((double)el_hist_quantile(&h, 0.99), 990000, 0.015));
	CU_ASSERT(within((double)el_hist_quantile(&h, 0.999), 999000, 0.015));
	CU_ASSERT_EQUAL(el_hist_quantile(&h, 1.0), 1000000);
	CU_ASSERT_EQUAL(h.max, 1000000);
	CU_ASSERT_EQUAL(h.min, 1000);
	/* small values are exact, huge ones bounded */
	CU_ASSERT_EQUAL(el_hist_index(100), 100);
	CU_ASSERT_EQUAL(el_hist_index(60 * NS) < EL_HIST_BUCKETS, true);
	CU_ASSERT_EQUAL(el_hist_index(UINT64_MAX), EL_HIST_BUCKETS - 1);
	/* every bucket's bounds map back to it */
	for (unsigned int i = 0; i + 1 < EL_HIST_BUCKETS; i++) {
		CU_ASSERT_EQUAL(el_hist_index(el_hist_bucket_lo(i)), i);
		CU_ASSERT_EQUAL(el_hist_index(el_hist_bucket_hi(i)), i);
	}
}

static void test_hist_merge(void)
{
	static struct el_hist a, b;

	el_hist_reset(&a);
	el_hist_reset(&b);
	for (uint64_t v = 1; v <= 500; v++)
		el_hist_record(&a, v * 1000);
	for (uint64_t v = 501; v <= 1000; v++)
		el_hist_record(&b, v * 1000);
	el_hist_merge(&a, &b);
	CU_ASSERT_EQUAL(a.count, 1000);
	CU_ASSERT_EQUAL(a.min, 1000);
	CU_ASSERT_EQUAL(a.max, 1000000);
	CU_ASSERT(within((double)el_hist_quantile(&a, 0.5), 500000, 0.015));
	CU_ASSERT(within((double)el_hist_quantile(&a, 0.99), 990000, 0.015));
	el_hist_reset(&a);
	CU_ASSERT_EQUAL(a.count, 0);
	CU_ASSERT_EQUAL(el_hist_quantile(&a, 0.5), 0);
}

static void test_series_ring(void)
{
	static struct el_series s;
	struct el_second x = { 0 };

	el_series_reset(&s);
	for (uint32_t i = 0; i < EL_SERIES_MAX + 10; i++) {
		x.tx_pps = i;
		el_series_push(&s, &x);
	}
	CU_ASSERT_EQUAL(s.n, EL_SERIES_MAX);
	CU_ASSERT_EQUAL(s.dropped, 10);
	CU_ASSERT_EQUAL(el_series_at(&s, 0)->tx_pps, 10);
	CU_ASSERT_EQUAL(el_series_at(&s, EL_SERIES_MAX - 1)->tx_pps, EL_SERIES_MAX + 9);
}

/* Parses "edgeload ARGS..." (a space-separated string); returns el_args_parse's answer. */
static int parse(const char *line, struct el_cfg *cfg, char *err, size_t errlen)
{
	static char buf[1024];
	char *argv[64], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "edgeload %s", line);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	err[0] = '\0';
	return el_args_parse(argc, argv, cfg, err, errlen);
}

static void refused(const char *line, const char *words)
{
	struct el_cfg cfg;
	char err[256];

	CU_ASSERT_EQUAL(parse(line, &cfg, err, sizeof(err)), -EINVAL);
	if (!strstr(err, words))
		printf("\n  '%s' said '%s', not '%s'\n", line, err, words);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, words));
}

#define OK_BASE "--server 198.18.20.1:3478 --password pw "

static void test_args(void)
{
	struct el_cfg cfg;
	char err[256];

	CU_ASSERT_EQUAL(parse(OK_BASE "--allocations 1000 --pattern video --peer sink", &cfg, err,
				sizeof(err)),
		0);
	CU_ASSERT_EQUAL(cfg.net.n_clients, 1000);
	CU_ASSERT_EQUAL(cfg.pattern, EL_PAT_VIDEO);
	CU_ASSERT_EQUAL(cfg.size, 1200);
	CU_ASSERT_EQUAL(cfg.peer_mode, EL_PEER_SINK);
	CU_ASSERT_EQUAL(cfg.net.server_port, 3478);
	CU_ASSERT_EQUAL(parse(OK_BASE "--pps 100 --size 172 --client-ip 198.18.20.2/4", &cfg, err,
				sizeof(err)),
		0);
	CU_ASSERT_EQUAL(cfg.pattern, EL_PAT_CUSTOM);
	CU_ASSERT_EQUAL(cfg.net.n_client_ips, 4);
	CU_ASSERT_EQUAL(parse("--help", &cfg, err, sizeof(err)), 1);
	refused(OK_BASE "--allocations 0", "--allocations: 0 is not 1..1000000");
	refused(OK_BASE "--size 10", "--size 10: smaller than the 24-byte timestamp header");
	refused(OK_BASE "--duration 0", "--duration");
	refused(OK_BASE "--pattern loud", "--pattern: 'loud'");
	/* fewer packets a second than allocations: the pacer's round robin gives each a turn */
	CU_ASSERT_EQUAL(parse(OK_BASE "--allocations 1000 --pps 1 --rate 10 --warmup 1.5", &cfg,
				err, sizeof(err)),
		0);
	CU_ASSERT_EQUAL(cfg.rate, 10);
	CU_ASSERT_DOUBLE_EQUAL(cfg.warmup_s, 1.5, 1e-9);
	refused(OK_BASE "--warmup -1", "--warmup");
	refused(OK_BASE "--pattern max --pps 10", "--pps");
	refused(OK_BASE "--window x", "--window: 'x' is not a number");
	refused(OK_BASE "--peer mirror", "--peer");
	refused("--password pw", "--server");
	refused("--server 198.18.20.1 --password pw", "--server");
	refused("--server 198.18.20.1:3478", "--password or --secret");
	refused(OK_BASE "--secret s", "--password or --secret");
	refused(OK_BASE "--backend dpdk", "--backend dpdk");
	refused(OK_BASE "--client-port 65000 --allocations 1000", "--client-port 65000");
	refused(OK_BASE "--bogus", "--bogus");
}

static void test_target_guard(void)
{
	struct el_cfg cfg;
	char err[256];

	CU_ASSERT_FALSE(el_target_ok(inet_addr("8.8.8.8"), false));
	CU_ASSERT_FALSE(el_target_ok(inet_addr("198.20.0.1"), false));
	CU_ASSERT_FALSE(el_target_ok(inet_addr("203.0.113.7"), false)); /* TEST-NET-3 */
	CU_ASSERT_TRUE(el_target_ok(inet_addr("198.18.20.1"), false));
	CU_ASSERT_TRUE(el_target_ok(inet_addr("198.19.255.254"), false));
	CU_ASSERT_TRUE(el_target_ok(inet_addr("127.0.0.1"), false));
	CU_ASSERT_TRUE(el_target_ok(inet_addr("8.8.8.8"), true));
	refused("--server 8.8.8.8:3478 --password pw", "--server 8.8.8.8: not loopback");
	CU_ASSERT_EQUAL(parse("--server 8.8.8.8:3478 --password pw --i-own-this-target", &cfg, err,
				sizeof(err)),
		0);
	CU_ASSERT_EQUAL(parse("--server 127.0.0.1:3478 --password pw", &cfg, err, sizeof(err)), 0);
}

static double num(json_t *root, const char *path)
{
	char buf[128], *save = NULL;
	json_t *o = root;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = json_object_get(o, k);
	CU_ASSERT_PTR_NOT_NULL(o);
	return o ? json_number_value(o) : -1;
}

/* A synthetic result written as JSON and read back: the figures where they belong. */
static void test_report_json(void)
{
	static struct el_result r;
	struct el_second s = { .t = 1, .phase = EL_PH_TRAFFIC, .tx_pps = 5000, .rx_pps = 4990 };
	char path[] = "/tmp/test_edgeload-XXXXXX", err[256];
	struct el_cfg cfg;
	json_error_t jerr;
	json_t *root, *hist;
	int fd;

	CU_ASSERT_EQUAL_FATAL(parse(OK_BASE "--allocations 100", &cfg, err, sizeof(err)), 0);
	memset(&r, 0, sizeof(r));
	el_hist_reset(&r.alloc.lat);
	el_hist_reset(&r.bind.lat);
	el_hist_reset(&r.release.lat);
	fill_uniform(&r.lat);
	r.n_allocs = 100;
	r.alloc.ok = 98;
	r.alloc.failed = 2;
	r.alloc.seconds = 0.5;
	r.alloc.n_err = 1;
	r.alloc.err[0].code = 486;
	r.alloc.err[0].n = 2;
	r.sent = 10000;
	r.rx_peer = 9990;
	r.rx_client = 9980;
	r.lost = 20;
	r.traffic_s = 2;
	r.active = 98;
	el_series_reset(&r.series);
	el_series_push(&r.series, &s);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL(el_report_json(path, &cfg, &r, err, sizeof(err)), 0);
	root = json_load_file(path, 0, &jerr);
	unlink(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_EQUAL(num(root, "allocate.ok"), 98);
	CU_ASSERT_EQUAL(num(root, "allocate.per_second"), 196);
	CU_ASSERT_EQUAL(num(root, "allocate.errors.486"), 2);
	CU_ASSERT_EQUAL(num(root, "traffic.sent"), 10000);
	CU_ASSERT_EQUAL(num(root, "traffic.c2p_pps"), 4995);
	CU_ASSERT_EQUAL(num(root, "traffic.p2c_pps"), 4990);
	CU_ASSERT(within(num(root, "traffic.loss_pct"), 0.2, 1e-9));
	CU_ASSERT(within(num(root, "traffic.latency.p50_us"), 500, 0.015));
	CU_ASSERT(within(num(root, "traffic.latency.p99_us"), 990, 0.015));
	CU_ASSERT_EQUAL(num(root, "traffic.latency.max_us"), 1000);
	CU_ASSERT_EQUAL(num(root, "config.allocations"), 100);
	hist = json_object_get(json_object_get(root, "traffic"), "histogram");
	CU_ASSERT(json_array_size(hist) > 100);
	CU_ASSERT_EQUAL(json_array_size(json_object_get(root, "series")), 1);
	CU_ASSERT_EQUAL(json_integer_value(
				json_object_get(json_array_get(json_object_get(root, "series"), 0),
					"tx_pps")),
		5000);
	json_decref(root);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "pacer sends rate * t", test_pacer_exact },
		{ "pacer does not burst after a stall", test_pacer_stall },
		{ "histogram percentiles", test_hist_percentiles },
		{ "histogram merge and reset", test_hist_merge },
		{ "per-second series ring", test_series_ring },
		{ "arguments refused with the option named", test_args },
		{ "target guard", test_target_guard },
		{ "JSON report", test_report_json },
		{ NULL, NULL },
	};

	return unit_run("edgeload", tests);
}
