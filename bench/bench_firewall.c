/* Firewall micro-benchmark: ns, cycles and (under callgrind) instructions per packet for the
 * fast path a worker runs per received packet — fw_verdict() and fw_count() — with 0, 10 and
 * 1000 rules, over a mix of ports like an edge's (relay range, TURN, HTTPS, SSH, strays,
 * replies to our own DNS), and for the worst paths: every packet denied (so each one looks in
 * the flow table) and every packet decided by `from` rules; each for IPv4 (fw_verdict) and
 * IPv6 (fw_verdict6: the same rules and traffic, with IPv6 sources and `from` prefixes).
 *
 * Usage: bench_firewall [packets per case] [case]
 * Instructions: valgrind --tool=callgrind --toggle-collect=bench_run (IPv6: bench_run6) \
 *                   bench_firewall 100000 <case>
 * then divide the Ir that callgrind reports by 100000 + 4096 (the warm-up pass). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "fw.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define NPKT 4096 /* the traffic pattern, replayed */
#define ME IP(198, 18, 0, 1)
#define NOW 1000

struct pkt {
	uint32_t src;
	uint16_t sport, dport;
	uint8_t proto;
	uint16_t len;
};

/* The same packet from IPv6: kept apart so that the IPv4 cases touch what they always did. */
struct pkt6 {
	uint8_t src[16];
	uint16_t sport, dport;
	uint8_t proto;
	uint16_t len;
};

struct bench_case {
	const char *name;
	int n_rules; /* 0, 10 or 1000 */
	int traffic; /* 0 mixed, 1 all denied, 2 all under `from` rules */
	int v6;
};

static const struct bench_case cases[] = {
	{ "0 rules, mixed traffic", 0, 0, 0 },
	{ "10 rules, mixed traffic", 10, 0, 0 },
	{ "1000 rules, mixed traffic", 1000, 0, 0 },
	{ "10 rules, all denied (flow lookup)", 10, 1, 0 },
	{ "1000 rules, all denied (flow lookup)", 1000, 1, 0 },
	{ "1000 rules, all decided by from-rules", 1000, 2, 0 },
	{ "IPv6 0 rules, mixed traffic", 0, 0, 1 },
	{ "IPv6 10 rules, mixed traffic", 10, 0, 1 },
	{ "IPv6 1000 rules, mixed traffic", 1000, 0, 1 },
	{ "IPv6 10 rules, all denied (flow lookup)", 10, 1, 1 },
	{ "IPv6 1000 rules, all denied (flow lookup)", 1000, 1, 1 },
	{ "IPv6 1000 rules, from-rules", 1000, 2, 1 },
};

static const uint8_t me6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static struct pkt traffic[NPKT];
static struct pkt6 traffic6[NPKT];
static struct fw_counters counters;
static volatile uint64_t sink;
static uint32_t seed = 2463534242u;

static uint32_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 17;
	seed ^= seed << 5;
	return seed;
}

static void apply(struct fw_if_config *c, const char *line)
{
	char buf[128], err[256], *argv[8];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *w = strtok(buf, " "); w && argc < 8; w = strtok(NULL, " "))
		argv[argc++] = w;
	if (fw_cmd_apply(c, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "bench_firewall: %s\n", err);
		exit(1);
	}
}

/* The IPv6 twin of IPv4 address a.b.c.d: 2001:db8:b:c::a:d, so that 198.18.c.0/24 is
 * 2001:db8:12:c::/64 (and the lookups walk as many intervals). */
static void v6_of(uint32_t ip, uint8_t a[16])
{
	static const uint8_t pre[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	memset(a, 0, 16);
	memcpy(a, pre, 4);
	a[5] = (uint8_t)(ip >> 16);
	a[7] = (uint8_t)(ip >> 8);
	a[13] = (uint8_t)(ip >> 24);
	a[15] = (uint8_t)ip;
}

/* An edge's rules: TURN, the relay range, the web bridge, SSH from the admin network only,
 * DNS and NTP answers; then, for 1000, 990 more over other ports, one in ten `from`. With
 * @v6, the `from` prefixes are the IPv6 twins of the IPv4 ones. */
static void make_rules(struct fw_if_config *c, int n, int v6)
{
	static const char *const edge[] = {
		"allow 3478/udp",
		"allow 3478/tcp",
		"allow 443/tcp",
		"allow 445/tcp",
		"allow 447/tcp",
		"allow 32768-65535/udp",
		"allow 22/tcp from 198.18.20.0/24",
		"deny 22",
		"allow 5061/tcp from 198.18.30.0/24",
		"deny 1-1023/udp",
	};
	static const char *const edge6[] = {
		[6] = "allow 22/tcp from 2001:db8:12:14::/64",
		[8] = "allow 5061/tcp from 2001:db8:12:1e::/64",
	};
	char line[96];

	memset(c, 0, sizeof(*c));
	apply(c, n ? "default deny" : "default allow");
	for (int i = 0; i < n && i < 10; i++)
		apply(c, v6 && edge6[i] ? edge6[i] : edge[i]);
	for (int i = 10; i < n; i++) {
		int port = 1024 + (i - 10) * 31;

		if (i % 10 == 0 && v6)
			snprintf(line, sizeof(line), "allow %d-%d/udp from 2001:db8:12:%x::/64",
				port, port + 20, i % 250);
		else if (i % 10 == 0)
			snprintf(line, sizeof(line), "allow %d-%d/udp from 198.18.%d.0/24", port,
				port + 20, i % 250);
		else
			snprintf(line, sizeof(line), "%s %d%s", i % 3 ? "allow" : "deny", port,
				i % 2 ? "/tcp" : "");
		apply(c, line);
	}
}

static void make_traffic(int kind, struct fw_flowtab *ft)
{
	for (int i = 0; i < NPKT; i++) {
		struct pkt *p = &traffic[i];
		uint32_t r = rnd() % 100;

		p->src = IP(198, 19, 0, 0) | (rnd() & 0xffff);
		p->sport = (uint16_t)(1024 + rnd() % 60000);
		p->proto = 17;
		p->len = 200;
		if (kind == 1) { /* strays to closed ports: denied, looked up as replies */
			p->dport = (uint16_t)(1 + rnd() % 1023);
			p->proto = rnd() % 2 ? 6 : 17;
		} else if (kind == 2) { /* ports under `from` rules, half of them from inside */
			int k = 1 + (int)(rnd() % 99);

			p->dport = (uint16_t)(1024 + (k * 10 - 10) * 31 + rnd() % 21);
			p->src = IP(198, 18, (k * 10) % 250, rnd() % 256) ^ (rnd() % 2 ? 0 : 0x100);
		} else if (r < 60) { /* peers to relay ports */
			p->dport = (uint16_t)(32768 + rnd() % 32768);
		} else if (r < 75) { /* TURN */
			p->dport = 3478;
		} else if (r < 85) { /* web */
			p->dport = 443;
			p->proto = 6;
			p->len = 60;
		} else if (r < 90) { /* SSH, some from the admin network */
			p->dport = 22;
			p->proto = 6;
			p->len = 60;
			if (r % 2)
				p->src = IP(198, 18, 20, rnd() % 256);
		} else if (r < 95) { /* strays */
			p->dport = (uint16_t)rnd();
			p->proto = rnd() % 2 ? 6 : 17;
		} else { /* answers to our DNS questions */
			p->src = IP(198, 18, 5, 5);
			p->sport = 53;
			p->dport = (uint16_t)(20000 + i);
			fw_flow_note_outbound(ft, 17, ME, p->dport, p->src, 53, 0, NOW);
		}
		v6_of(p->src, traffic6[i].src);
		traffic6[i].sport = p->sport;
		traffic6[i].dport = p->dport;
		traffic6[i].proto = p->proto;
		traffic6[i].len = (uint16_t)(p->len + 20);
		if (p->sport == 53 && p->src == IP(198, 18, 5, 5))
			fw_flow_note_outbound6(ft, 17, me6, p->dport, traffic6[i].src, 53, 0, NOW);
	}
}

/* What a worker does per packet; a function of its own so that callgrind can count it. */
__attribute__((noinline)) void bench_run(const struct fw_ruleset *rs, const struct fw_flowtab *ft,
	uint64_t n);

__attribute__((noinline)) void bench_run(const struct fw_ruleset *rs, const struct fw_flowtab *ft,
	uint64_t n)
{
	uint64_t allowed = 0;

	for (uint64_t i = 0; i < n; i++) {
		const struct pkt *p = &traffic[i & (NPKT - 1)];
		fw_verdict_t v = fw_verdict(rs, ft, p->proto, p->src, ME, p->sport, p->dport, NOW);

		fw_count(&counters, v, p->len);
		allowed += fw_allowed(v);
	}
	sink += allowed;
}

__attribute__((noinline)) void bench_run6(const struct fw_ruleset *rs, const struct fw_flowtab *ft,
	uint64_t n);

__attribute__((noinline)) void bench_run6(const struct fw_ruleset *rs, const struct fw_flowtab *ft,
	uint64_t n)
{
	uint64_t allowed = 0;

	for (uint64_t i = 0; i < n; i++) {
		const struct pkt6 *p = &traffic6[i & (NPKT - 1)];
		fw_verdict_t v =
			fw_verdict6(rs, ft, p->proto, p->src, me6, p->sport, p->dport, NOW);

		fw_count(&counters, v, p->len);
		allowed += fw_allowed(v);
	}
	sink += allowed;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000;
	int only = argc > 2 ? atoi(argv[2]) : -1;
	struct fw_if_config *cfg = calloc(1, sizeof(*cfg));
	struct fw_flowtab *ft = fw_flowtab_create(1 << 16);

	if (!cfg || !ft || !n)
		return 1;
	printf("%-42s %9s %9s %10s %10s %13s\n", "case (fw_verdict[6] + fw_count)", "compile",
		"ns/pkt", "cycles/pkt", "allowed", "pkts/s/core");
	for (int c = 0; c < (int)(sizeof(cases) / sizeof(cases[0])); c++) {
		void (*run)(const struct fw_ruleset *, const struct fw_flowtab *, uint64_t);
		struct fw_ruleset *rs;
		double t0, t1, tc;
		uint64_t c0, c1, before;

		if (only >= 0 && c != only)
			continue;
		run = cases[c].v6 ? bench_run6 : bench_run;

		make_rules(cfg, cases[c].n_rules, cases[c].v6);
		make_traffic(cases[c].traffic, ft);
		t0 = now_ns();
		rs = fw_compile(cfg);
		tc = now_ns() - t0;
		if (!rs) {
			perror("fw_compile");
			return 1;
		}
		run(rs, ft, NPKT); /* warm the caches */
		before = sink;
		t0 = now_ns();
		c0 = __rdtsc();
		run(rs, ft, n);
		c1 = __rdtsc();
		t1 = now_ns();
		printf("%-42s %7.1fms %9.2f %10.1f %9.0f%% %13.0f\n", cases[c].name, tc / 1e6,
			(t1 - t0) / (double)n, (double)(c1 - c0) / (double)n,
			100.0 * (double)(sink - before) / (double)n, (double)n * 1e9 / (t1 - t0));
		fw_ruleset_free(rs);
	}
	fw_flowtab_free(ft);
	free(cfg);
	return 0;
}
