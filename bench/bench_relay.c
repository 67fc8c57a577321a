/* TURN fast-path cost: ChannelData client -> peer and peer -> client through the data plane's
 * stages on a ring-backed port, at 1 000, 100 000 and 1 000 000 live allocations, beside the
 * framework floor (the same loop, no stages) in the same run. Each packet picks a random
 * allocation, so the big tables pay their cache misses. Memory per allocation is reported.
 * The IPv6-client cases (issue 18: the client on IPv6, relay address and peer IPv4) run on a
 * table refilled with as many IPv6 clients' allocations, each case on a table of one family;
 * the IPv6-peer cases (IPv6 client, IPv6 relayed address, IPv6 peer) on a third, whose
 * relayed addresses are IPv6 ones, 8 an interface as the IPv4 ones.
 * Each figure is the fastest of 5 timed parts of a case's packets (the machine is shared).
 * Usage: bench_relay [packets-per-case] [max-allocations] */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_random.h>
#include <rte_udp.h>

#include "dp.h"
#include "edge_bytes.h"
#include "turn_tables.h"

#define BURST EDGE_DEFAULT_BURST
#define PAYLOAD 172 /* a typical audio RTP packet */
#define IF_A 0	    /* relay side: 8 relay addresses */
#define IF_B 1	    /* clients */
#define IF_C 2	    /* relay side: 8 more */
#define NIDX (1 << 20)

static struct rte_mempool *mp;
static struct rte_ring *rxr, *txr;
static uint16_t port;
static struct dp_l3 l3;
static struct dp_if_stats st;
static uint32_t *idx; /* random allocation per packet */
static uint32_t n_allocs;

static uint32_t relay_ip(unsigned int k)
{
	return htonl(0xc6126401 + (k << 8)); /* 198.18.100.1, 198.18.101.1, ... */
}

/* The IPv6 relayed addresses: 2001:db8:100::1, 2001:db8:101::1, ...; and the IPv6 peer. */
static void relay_ip6(unsigned int k, uint8_t a[16])
{
	static const uint8_t base[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, [15] = 1 };

	memcpy(a, base, 16);
	a[5] = (uint8_t)k;
}

static const uint8_t peer6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x02, 0x00, [15] = 2 };

/* Allocation @i's client and relay (a pure function, so packets can be made for any i). */
static void alloc_of(uint32_t i, struct turn_key *key, unsigned int *k, uint16_t *rport)
{
	key->client_ip = htonl(0xc6120000 + 1 + i / 60000); /* 198.18.0.1 ... */
	key->client_port = htons(1024 + i % 60000);
	key->server_ip = htonl(0xc6121401); /* 198.18.20.1: a constant, not parsed per packet */
	key->server_port = htons(3478);
	*k = i % 16;
	*rport = htons(1024 + i / 16);
}

/* Allocation @i's client address when its client is on IPv6: 2001:db8:1::/64, one address
 * per 60 000 ports as over IPv4; and our address. */
static const uint8_t server6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [15] = 1 };

static void client6_of(uint32_t i, uint8_t a[16])
{
	static const uint8_t net[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };

	memcpy(a, net, 8);
	memset(a + 8, 0, 4);
	edge_put_be32(a + 12, 1 + i / 60000);
}

/* The allocations' tables: IPv4 clients (0), IPv6 clients with IPv4 relayed addresses and
 * peers (1), IPv6 clients with IPv6 relayed addresses and peers (2). */
enum btable { T_V4, T_V6, T_V66, N_TABLES };

static int fill(uint32_t n, enum btable tb)
{
	bool v6 = tb != T_V4;

	uint32_t far = turn_ticks(rte_rdtsc() + rte_get_tsc_hz() * 3600);

	for (uint32_t i = 0; i < n; i++) {
		struct turn_alloc *a = turn_alloc_new();
		unsigned int k;

		if (!a) {
			fprintf(stderr, "bench_relay: allocation pool empty at %u\n", i);
			return -1;
		}
		alloc_of(i, &a->key, &k, &a->relay_port);
		if (v6) {
			client6_of(i, a->client_ip6);
			memcpy(a->server_ip6, server6, 16);
			a->key = turn_key6(a->client_ip6, server6, a->key.client_port,
				a->key.server_port);
		}
		a->client_mac = (struct rte_ether_addr){ { 2, 0, 0, 0, 1, 1 } };
		a->client_if = IF_B;
		a->relay_if = k < 8 ? IF_A : IF_C;
		a->relay_ip = relay_ip(k);
		a->expires = far;
		a->n_perms = 1;
		a->pc[0].perm = (struct turn_perm){ .peer_ip = inet_addr("198.18.200.2"),
			.nh_mac = { { 2, 0, 0, 0, 2, 2 } },
			.expires = far };
		a->n_chans = 1;
		a->pc[0].chan = (struct turn_chan){ .peer_ip = inet_addr("198.18.200.2"),
			.peer_port = htons(7000),
			.number = 0x4000 + (uint16_t)(i & 0xfff),
			.expires = far };
		if (tb == T_V66) { /* its IPv6 peer in the top places, the channel to it */
			unsigned int h = TURN_PERM6_HEAD(0);

			a->relay_ip = 0;
			a->relay6 = true;
			relay_ip6(k, a->relay_ip6);
			a->n_perms = 0;
			a->n_perms6 = 1;
			a->pc[h].perm = (struct turn_perm){ .nh_mac = { { 2, 0, 0, 0, 2, 2 } },
				.expires = far };
			memcpy(a->pc[h - 1].peer_ip6, peer6, 16);
			a->pc[0].chan.peer_ip = 0;
			a->pc[0].chan.perm = (uint8_t)h;
		}
		if (turn_alloc_publish(a) < 0) {
			fprintf(stderr, "bench_relay: allocation %u not published\n", i);
			return -1;
		}
	}
	return 0;
}

enum bcase { CD_C2P, CD_P2C, SEND, DATA, CD6_C2P, CD6_P2C, CD66_C2P, CD66_P2C, N_CASES };
static const char *case_name[N_CASES] = { "ChannelData client -> peer",
	"ChannelData peer -> client", "Send indication client -> peer",
	"Data indication peer -> client", "ChannelData IPv6 client -> peer",
	"ChannelData peer -> IPv6 client", "ChannelData IPv6 client -> IPv6 peer",
	"ChannelData IPv6 peer -> IPv6 client" };

static enum btable case_table(enum bcase bc)
{
	return bc == CD6_C2P || bc == CD6_P2C ? T_V6 : bc >= CD66_C2P ? T_V66 : T_V4;
}

static bool case_c2p(enum bcase bc)
{
	return bc == CD_C2P || bc == SEND || bc == CD6_C2P || bc == CD66_C2P;
}

/* An IPv6 peer's datagram to allocation @i's IPv6 relayed address (its checksum any non-zero
 * value: the relay patches it incrementally). */
static inline void make66_p2c(struct rte_mbuf *m, uint32_t i)
{
	uint16_t l4 = 8 + PAYLOAD;
	struct turn_key key;
	unsigned int k;
	uint16_t rport;
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	struct rte_udp_hdr *u;

	m->data_off = RTE_PKTMBUF_HEADROOM + 4;
	m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + 40 + l4;
	alloc_of(i, &key, &k, &rport);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	u = (struct rte_udp_hdr *)(ip + 1);
	eth->dst_addr = l3.ifs[k < 8 ? IF_A : IF_C].mac;
	eth->src_addr = (struct rte_ether_addr){ { 2, 0, 0, 0, 2, 2 } };
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(l4);
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, peer6, 16);
	relay_ip6(k, ip->dst_addr);
	u->src_port = htons(7000);
	u->dst_port = rport;
	u->dgram_len = rte_cpu_to_be_16(l4);
	u->dgram_cksum = 0x1234;
}

/* An IPv6 client's ChannelData: Ethernet, IPv6, UDP, ChannelData header (the payload stays
 * in place between passes). */
static inline void make6(struct rte_mbuf *m, uint32_t i)
{
	uint16_t l4 = 8 + 4 + PAYLOAD;
	struct turn_key key;
	unsigned int k;
	uint16_t rport;
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	struct rte_udp_hdr *u;
	uint8_t *cd;

	m->data_off = RTE_PKTMBUF_HEADROOM;
	m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + 40 + l4;
	alloc_of(i, &key, &k, &rport);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	u = (struct rte_udp_hdr *)(ip + 1);
	eth->dst_addr = l3.ifs[IF_B].mac;
	eth->src_addr = (struct rte_ether_addr){ { 2, 0, 0, 0, 1, 1 } };
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(l4);
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 64;
	client6_of(i, ip->src_addr);
	memcpy(ip->dst_addr, server6, 16);
	u->src_port = key.client_port;
	u->dst_port = key.server_port;
	u->dgram_len = rte_cpu_to_be_16(l4);
	u->dgram_cksum = 0x1234; /* any non-zero value: the relay patches it incrementally */
	cd = (uint8_t *)(u + 1);
	edge_put_be16(cd, (uint16_t)(0x4000 + (i & 0xfff)));
	edge_put_be16(cd + 2, PAYLOAD);
}

/* Writes the headers of packet for allocation @i (payload stays in place between passes). */
static inline void make(struct rte_mbuf *m, uint32_t i, enum bcase bc)
{
	struct turn_key key;
	unsigned int k;
	uint16_t rport;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;
	bool c2p = bc == CD_C2P || bc == SEND;
	uint16_t l4;

	if (bc == CD6_C2P || bc == CD66_C2P) { /* the same datagram, another table */
		make6(m, i);
		return;
	}
	if (bc == CD66_P2C) {
		make66_p2c(m, i);
		return;
	}
	if (bc == CD6_P2C) /* the peer's side is IPv4: the same datagram */
		bc = CD_P2C;
	l4 = bc == CD_C2P ? 8 + 4 + PAYLOAD : bc == SEND ? 8 + 36 + PAYLOAD : 8 + PAYLOAD;

	m->data_off = RTE_PKTMBUF_HEADROOM + (bc == CD_C2P || bc == SEND ? 0 : 4);
	m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + 20 + l4;
	alloc_of(i, &key, &k, &rport);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	u = (struct rte_udp_hdr *)(ip + 1);
	eth->dst_addr = l3.ifs[c2p ? IF_B : (k < 8 ? IF_A : IF_C)].mac;
	/* the client's or the peer's next hop: a recycled mbuf holds the source MAC it left
	 * with, ours, and would be dropped as our own frame coming back */
	eth->src_addr = (struct rte_ether_addr){ { 2, 0, 0, 0, c2p ? 1 : 2, c2p ? 1 : 2 } };
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(20 + l4);
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = c2p ? key.client_ip : htonl(0xc612c802); /* 198.18.200.2 */
	ip->dst_addr = c2p ? key.server_ip : relay_ip(k);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u->src_port = c2p ? key.client_port :
			    htons(bc == DATA ? 7001 : 7000); /* 7001: no channel */
	u->dst_port = c2p ? key.server_port : rport;
	u->dgram_len = rte_cpu_to_be_16(l4);
	u->dgram_cksum = 0x1234; /* any non-zero value: the relay patches it incrementally */
	if (bc == CD_C2P) {
		uint8_t *cd = (uint8_t *)(u + 1);

		edge_put_be16(cd, (uint16_t)(0x4000 + (i & 0xfff)));
		edge_put_be16(cd + 2, PAYLOAD);
	} else if (bc == SEND) {
		static const uint8_t hdr[36] = { 0x00, 0x16, 0x00, 16 + PAYLOAD, 0x21, 0x12, 0xa4,
			0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x00, 0x12, 0x00, 0x08, 0x00,
			0x01, (7000 ^ 0x2112) >> 8, (7000 ^ 0x2112) & 0xff, 198 ^ 0x21, 18 ^ 0x12,
			200 ^ 0xa4, 2 ^ 0x42, 0x00, 0x13, 0x00, PAYLOAD };
		memcpy(u + 1, hdr, sizeof(hdr));
	}
}

static unsigned long pos;

static inline void pass(bool stages, enum bcase bc)
{
	bool c2p = case_c2p(bc);
	struct rte_mbuf *pkts[BURST], *done[BURST];
	static struct dp_burst_out out;
	uint16_t n = rte_ring_dequeue_burst(txr, (void **)done, BURST, NULL);

	if (n < BURST && rte_pktmbuf_alloc_bulk(mp, done + n, BURST - n) == 0)
		n = BURST;
	for (uint16_t j = 0; j < n; j++) {
		uint32_t i = idx[pos++ & (NIDX - 1)] % n_allocs;

		make(done[j], c2p ? i : (i & ~15u) | (i & 7u), bc); /* p2c: relays on a */
	}
	rte_ring_enqueue_burst(rxr, (void **)done, n, NULL);
	n = rte_eth_rx_burst(port, 0, pkts, BURST);
	if (!stages) {
		rte_eth_tx_burst(port, 0, pkts, n);
		return;
	}
	out.n_tx = out.n_kernel = out.n_punt = out.n_data = 0;
	out.fwd_mask = 0;
	dp_port_input(&l3, c2p ? IF_B : IF_A, pkts, n, &out, &st);
	while (out.fwd_mask) {
		unsigned int o = __builtin_ctz(out.fwd_mask);
		out.fwd_mask &= out.fwd_mask - 1;
		rte_eth_tx_burst(port, 0, out.fwd[o], out.n_fwd[o]);
		out.n_fwd[o] = 0;
	}
}

/* The packets in RUN_PARTS timed parts; the fastest part counts: this machine is shared, and
 * another tenant's burst slows a part, never speeds one up. */
#define RUN_PARTS 5

static double run(bool stages, enum bcase bc, unsigned long packets, double *cyc)
{
	unsigned long passes = packets / BURST / RUN_PARTS;
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 2000; i++)
		pass(stages, bc);
	for (int p = 0; p < RUN_PARTS; p++) {
		uint64_t t0 = rte_rdtsc_precise(), t1;

		for (unsigned long i = 0; i < passes; i++)
			pass(stages, bc);
		t1 = rte_rdtsc_precise();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	*cyc = (double)best / (passes * BURST);
	return *cyc * 1e9 / rte_get_tsc_hz();
}

int main(int argc, char **argv)
{
	/* hugepages when there are enough (BENCH_HUGE=1), else 4 KB pages and their TLB misses */
	bool huge = getenv("BENCH_HUGE") && atoi(getenv("BENCH_HUGE"));
	char *eal[] = { "bench_relay", "-l", "0", huge ? "--in-memory" : "--no-huge", "-m", "1600",
		"--no-pci", huge ? "--no-telemetry" : "--no-shconf", "--log-level=lib.*:error",
		NULL };
	unsigned long packets = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000000;
	uint32_t max = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1000000;
	uint32_t sizes[] = { 1000, 100000, 1000000 };
	double base[N_CASES] = { 0 };
	struct rte_eth_conf conf = { 0 };

	if (rte_eal_init(9, eal) < 0)
		return 1;
	mp = rte_pktmbuf_pool_create("bench", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	rxr = rte_ring_create("rx", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr = rte_ring_create("tx", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	idx = malloc(NIDX * sizeof(*idx));
	if (!mp || !rxr || !txr || !idx)
		return 1;
	port = (uint16_t)rte_eth_from_rings("ring0", &rxr, 1, &txr, 1, 0);
	if (rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
		rte_eth_rx_queue_setup(port, 0, 1024, 0, NULL, mp) < 0 ||
		rte_eth_tx_queue_setup(port, 0, 1024, 0, NULL) < 0 || rte_eth_dev_start(port) < 0)
		return 1;
	srand(1);
	rte_srand(1); /* the tables' hash seeds too: callgrind counts repeat exactly */
	for (uint32_t i = 0; i < NIDX; i++)
		idx[i] = (uint32_t)rand();
	for (int i = 0; i < 3; i++) {
		l3.ifs[i] = (struct dp_if){ .present = true,
			.up = true,
			.port_id = port,
			.mac = { { 2, 0, 0, 0, 0, (uint8_t)(0xa + i) } },
			.mask = { htonl(0xffffff00) } };
	}
	for (unsigned int k = 0; k < 16; k++) { /* the IPv6 relayed addresses */
		struct dp_if *d = &l3.ifs[k < 8 ? IF_A : IF_C];

		d->v6 = true;
		relay_ip6(k, d->addr6[d->n_addrs6++]);
	}
	l3.ifs[IF_B].n_addrs = 1;
	l3.ifs[IF_B].addr[0] = inet_addr("198.18.20.1");
	l3.ifs[IF_B].v6 = true;
	l3.ifs[IF_B].n_addrs6 = 1;
	memcpy(l3.ifs[IF_B].addr6[0], server6, 16);
	for (unsigned int k = 0; k < 16; k++) {
		struct dp_if *d = &l3.ifs[k < 8 ? IF_A : IF_C];
		d->addr[d->n_addrs] = relay_ip(k);
		d->mask[d->n_addrs++] = htonl(0xffffff00);
	}
	l3.turn_port = htons(3478);
	l3.relay_lo = 1024;
	l3.relay_hi = 65535;
	l3.turn_listen = 1u << IF_B;
	edge_rcu_reader_start();

	printf("memory: %s\n", huge ? "2 MB hugepages" : "4 KB pages (--no-huge)");
	printf("%-34s %9s %9s %9s %9s %8s %9s\n",
		"case (172-byte payload, burst " RTE_STR(BURST) ")", "allocs", "ns/pkt", "cycles",
		"Mpps/core", "vs 1K", "ns-floor");
	for (unsigned int s = 0; s < RTE_DIM(sizes) && sizes[s] <= max; s++) {
		double floor_ns[2] = { 0, 0 }; /* IPv4 packets', IPv6 packets' */
		/* one case by name (for callgrind) */
		const char *only = getenv("BENCH_CASE");
		static const char *short_name[N_CASES] = { "c2p", "p2c", "send", "data", "c2p6",
			"p2c6", "c2p66", "p2c66" };

		for (int v6 = 0; v6 < N_TABLES; v6++) { /* IPv4 clients, IPv6 ones, IPv6 peers */
			struct rte_malloc_socket_stats m0, m1;
			double c, ns, fl_c, per_alloc;
			bool any = false;

			for (int bc = 0; bc < N_CASES; bc++)
				any |= case_table(bc) == (enum btable)v6 &&
					(!only || !strcmp(only, short_name[bc]));
			if (!any)
				continue;
			rte_malloc_get_socket_stats(0, &m0);
			if (turn_tables_init(sizes[s], 0) < 0 ||
				turn_tables_add_lcore(rte_lcore_id()) < 0 || fill(sizes[s], v6) < 0)
				return 1;
			rte_malloc_get_socket_stats(0, &m1);
			n_allocs = sizes[s];
			per_alloc = (double)(m1.heap_allocsz_bytes - m0.heap_allocsz_bytes +
					    turn_tables_memory()) /
				sizes[s];
			if (v6 != T_V66) { /* each family's packets have a floor: IPv4's are
					    * made with a header checksum, IPv6's without */
				double fl = run(false, v6 ? CD6_C2P : CD_C2P, packets, &fl_c);

				floor_ns[v6 ? 1 : 0] = fl;
				printf("%-34s %9u %9.1f %9.1f %9.2f\n",
					v6 ? "floor: IPv6 packets, no stages" :
					     "floor: ring rx -> tx, no stages",
					sizes[s], fl, fl_c, 1e3 / fl);
			}
			for (int bc = 0; bc < N_CASES; bc++) {
				if (case_table(bc) != (enum btable)v6 ||
					(only && strcmp(only, short_name[bc])))
					continue;
				memset(&st, 0, sizeof(st));
				ns = run(true, bc, packets, &c);
				if (s == 0)
					base[bc] = ns;
				/* the stages' own cost: less the floor of the family of the
				 * packets the case makes */
				double f = floor_ns[bc == CD6_C2P || bc >= CD66_C2P];

				printf("%-34s %9u %9.1f %9.1f %9.2f %8.2f %9.1f\n", case_name[bc],
					sizes[s], ns, c, 1e3 / ns, ns / base[bc],
					f > 0 ? ns - f : 0.0);
				if (st.relay_c2p_pkts + st.relay_p2c_pkts == 0) {
					fprintf(stderr, "bench_relay: %s relayed nothing: broken\n",
						case_name[bc]);
					return 1;
				}
				for (int r = 0; r < DP_DROP_MAX; r++)
					if (st.drops[r]) {
						fprintf(stderr,
							"bench_relay: %s: %lu dropped as %s\n",
							case_name[bc], (unsigned long)st.drops[r],
							dp_drop_name(r));
						return 1;
					}
			}
			if (!v6)
				printf("%-34s %9u %9.0f bytes (table memory / allocations)\n",
					"memory per allocation", sizes[s], per_alloc);
			edge_rcu_offline();
			edge_rcu_barrier();
			edge_rcu_online();
			turn_tables_fini();
		}
	}
	edge_rcu_reader_stop();
	return 0;
}
