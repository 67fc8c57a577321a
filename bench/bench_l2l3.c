/* ICMP echo path cost: mbufs go round a ring-backed port (net_ring: rx burst, stages, tx
 * burst), measured beside the framework floor — the same loop with no stages — in one run,
 * for IPv4 and for ICMPv6 (issue 18: IPv6 within 10% of IPv4 per packet). Prints ns and
 * cycles per packet and Mpps per core. Usage: bench_l2l3 [packets] [4|6] (one family alone,
 * for callgrind; both by default) */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "dp.h"
#include "nbr.h"

#define BURST EDGE_DEFAULT_BURST
#define POOL 4096

static struct rte_mempool *mp;
static struct rte_ring *rxr, *txr;
static uint16_t port;
static uint8_t tmpl[256]; /* room for rte_memcpy's 16-byte strides */
static size_t tmpl_len;
static struct dp_l3 l3;
static struct dp_if_stats st;

static void build_template(void)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)tmpl;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);

	eth->dst_addr = l3.ifs[0].mac;
	eth->src_addr = (struct rte_ether_addr){ { 2, 0, 0, 0, 0, 2 } };
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = htons(20 + 8 + 56);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = inet_addr("198.18.20.2");
	ip->dst_addr = inet_addr("198.18.20.1");
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = htons(1);
	for (int i = 0; i < 56; i++)
		((uint8_t *)(ic + 1))[i] = (uint8_t)i;
	ic->icmp_cksum = ~rte_raw_cksum(ic, 8 + 56);
	tmpl_len = 14 + 20 + 8 + 56;
}

/* The same echo request over IPv6: 2001:db8:20::2 to 2001:db8:20::1, 56 bytes of data. */
static void build_template6(void)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)tmpl;
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);
	uint8_t *ic = (uint8_t *)(ip + 1);
	uint16_t ck;

	memset(tmpl, 0, sizeof(tmpl));
	eth->dst_addr = l3.ifs[0].mac;
	eth->src_addr = (struct rte_ether_addr){ { 2, 0, 0, 0, 0, 2 } };
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = htonl(6u << 28);
	ip->payload_len = htons(8 + 56);
	ip->proto = IPPROTO_ICMPV6;
	ip->hop_limits = 64;
	inet_pton(AF_INET6, "2001:db8:20::2", ip->src_addr);
	inet_pton(AF_INET6, "2001:db8:20::1", ip->dst_addr);
	ic[0] = 128;
	ic[5] = 1;
	for (int i = 0; i < 56; i++)
		ic[8 + i] = (uint8_t)i;
	ck = rte_ipv6_udptcp_cksum(ip, ic); /* the pseudo-header sum, whatever the protocol */
	memcpy(ic + 2, &ck, 2);
	tmpl_len = 14 + 40 + 8 + 56;
}

/* One pass: BURST fresh echo requests in, through the port, out; with or without stages. */
static inline void pass(bool stages)
{
	struct rte_mbuf *pkts[BURST], *done[BURST];
	struct dp_burst_out out = { .fwd_mask = 0 };
	uint16_t n;

	n = rte_ring_dequeue_burst(txr, (void **)done, BURST, NULL); /* last pass's output */
	if (n < BURST)
		n += rte_pktmbuf_alloc_bulk(mp, done + n, BURST - n) == 0 ? BURST - n : 0;
	for (uint16_t i = 0; i < n; i++) {
		rte_memcpy(rte_pktmbuf_mtod(done[i], void *), tmpl, tmpl_len);
		done[i]->data_len = done[i]->pkt_len = (uint16_t)tmpl_len;
	}
	rte_ring_enqueue_burst(rxr, (void **)done, n, NULL); /* the "wire" delivers them */

	n = rte_eth_rx_burst(port, 0, pkts, BURST);
	if (stages) {
		out.n_tx = out.n_kernel = out.n_punt = out.n_data = 0;
		dp_port_input(&l3, 0, pkts, n, &out, &st);
		rte_eth_tx_burst(port, 0, out.tx, out.n_tx);
	} else {
		rte_eth_tx_burst(port, 0, pkts, n);
	}
}

static double run(bool stages, unsigned long packets, double *cycles)
{
	uint64_t t0, t1;
	unsigned long passes = packets / BURST;

	for (int i = 0; i < 1000; i++) /* warm caches and the pool */
		pass(stages);
	t0 = rte_rdtsc_precise();
	for (unsigned long i = 0; i < passes; i++)
		pass(stages);
	t1 = rte_rdtsc_precise();
	*cycles = (double)(t1 - t0) / (passes * BURST);
	return *cycles * 1e9 / rte_get_tsc_hz();
}

int main(int argc, char **argv)
{
	char *eal[] = { "bench_l2l3", "-l", "0", "--no-huge", "-m", "128", "--no-pci",
		"--no-shconf", "--log-level=lib.*:error", NULL };
	unsigned long packets = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000000;
	int family = argc > 2 ? atoi(argv[2]) : 0;
	double c_floor, c_icmp, ns_floor, ns_icmp, c_floor6, c_icmp6, ns_floor6, ns_icmp6;
	uint64_t replies4;

	if (rte_eal_init(9, eal) < 0)
		return 1;
	mp = rte_pktmbuf_pool_create("bench", POOL - 1, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	rxr = rte_ring_create("rx", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	txr = rte_ring_create("tx", 1024, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (!mp || !rxr || !txr || nbr_init(6) < 0)
		return 1;
	port = (uint16_t)rte_eth_from_rings("ring0", &rxr, 1, &txr, 1, 0);
	struct rte_eth_conf conf = { 0 };
	if (rte_eth_dev_configure(port, 1, 1, &conf) < 0 ||
		rte_eth_rx_queue_setup(port, 0, 1024, 0, NULL, mp) < 0 ||
		rte_eth_tx_queue_setup(port, 0, 1024, 0, NULL) < 0 || rte_eth_dev_start(port) < 0)
		return 1;
	l3.ifs[0] = (struct dp_if){ .present = true,
		.up = true,
		.port_id = port,
		.n_addrs = 1,
		.mac = { { 2, 0, 0, 0, 0, 1 } },
		.addr = { inet_addr("198.18.20.1") },
		.mask = { htonl(0xffffff00) },
		.v6 = true,
		.n_addrs6 = 1,
		.prefix6 = { 64 } };
	inet_pton(AF_INET6, "2001:db8:20::1", l3.ifs[0].addr6[0]);
	build_template();
	edge_rcu_reader_start();

	if (family == 4 || family == 6) { /* one family's stages alone, for callgrind */
		if (family == 6)
			build_template6();
		run(true, packets, &c_icmp);
		edge_rcu_reader_stop();
		return st.icmp_echo_replies ? 0 : 1;
	}
	ns_floor = run(false, packets, &c_floor);
	ns_icmp = run(true, packets, &c_icmp);
	replies4 = st.icmp_echo_replies;
	build_template6();
	ns_floor6 = run(false, packets, &c_floor6);
	ns_icmp6 = run(true, packets, &c_icmp6);
	if (replies4 == 0 || st.icmp_echo_replies == replies4) {
		fprintf(stderr,
			"bench_l2l3: no echo reply was produced (IPv4 %lu, IPv6 %lu): the benchmark "
			"is broken\n",
			(unsigned long)replies4, (unsigned long)(st.icmp_echo_replies - replies4));
		return 1;
	}
	printf("%-42s %10s %10s %10s\n", "path (98-byte echo requests, burst " RTE_STR(BURST) ")",
		"ns/pkt", "cycles", "Mpps/core");
	printf("%-42s %10.1f %10.1f %10.2f\n", "floor: net_ring rx -> tx, no stages", ns_floor,
		c_floor, 1e3 / ns_floor);
	printf("%-42s %10.1f %10.1f %10.2f\n", "ICMP echo: rx -> stages -> tx", ns_icmp, c_icmp,
		1e3 / ns_icmp);
	printf("%-42s %10.1f %10.1f\n", "stages alone (difference)", ns_icmp - ns_floor,
		c_icmp - c_floor);
	printf("%-42s %10.1f %10.1f %10.2f\n", "floor, 118-byte frames", ns_floor6, c_floor6,
		1e3 / ns_floor6);
	printf("%-42s %10.1f %10.1f %10.2f\n", "ICMPv6 echo: rx -> stages -> tx", ns_icmp6, c_icmp6,
		1e3 / ns_icmp6);
	printf("%-42s %10.1f %10.1f\n", "IPv6 stages alone (difference)", ns_icmp6 - ns_floor6,
		c_icmp6 - c_floor6);
	printf("ratio echo/floor: %.2f (IPv4), %.2f (IPv6); IPv6/IPv4 stages: %.2f   TSC %.2f GHz   "
	       "%lu packets per path\n",
		ns_icmp / ns_floor, ns_icmp6 / ns_floor6,
		(ns_icmp6 - ns_floor6) / (ns_icmp - ns_floor), rte_get_tsc_hz() / 1e9, packets);
	edge_rcu_reader_stop();
	return 0;
}
