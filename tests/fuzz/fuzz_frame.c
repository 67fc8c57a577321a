/* libFuzzer target for what arrives on an interface before any service sees it: the Ethernet
 * filter, ARP, IPv4 and ICMP, IPv6 with its extension headers, ICMPv6, Neighbour Discovery,
 * and the TURN relay's fast path (dataplane/l2l3.c and relay.h, through dp_port_input). Each
 * input is one frame, as it is, on an interface with an IPv4 and an IPv6 address (and its
 * link-local, and a tentative one) that takes TURN clients and relays from both addresses; two
 * allocations are published (an IPv4 client's and an IPv6 client's, each dual: IPv4 and IPv6
 * relayed addresses, a permission and a channel to an IPv4 and to an IPv6 peer), so mutated
 * ChannelData, Send indications and peers' datagrams reach every family pair. When the frame
 * is long enough its destination MAC is made ours (odd first byte: left as it is, so the
 * multicast and other-host filters run too). Nothing may crash, read out of bounds
 * (ASan+UBSan), leak an mbuf, or send a frame that is not well formed: every IPv4 one has a good
 * header checksum, every ICMPv6 reply a good checksum, a hop limit and a source of ours, every
 * relayed UDP datagram a good checksum (mandatory over IPv6) from an address of ours. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp.h"
#include "edge_rcu.h"
#include "media_tables.h"
#include "nbr.h"
#include "turn_tables.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAME 9000

static struct rte_mempool *mp;
static struct dp_l3 l3;
static const struct rte_ether_addr our_mac = { { 2, 0, 0, 0, 0x32, 1 } };
/* 2001:db8:32::1/64 and the link-local of our_mac, fe80::ff:fe00:3201 */
static const uint8_t our6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

/* The TURN side (seeds in corpus/frame/turn-*): clients 198.18.32.2:40000 and
 * [2001:db8:32::2]:40001 on the TURN port 3478, relay ports 50000 and 50001 on both our
 * addresses, peers 198.18.32.3:7000 (channel 0x4000) and [2001:db8:32::3]:7001 (0x4001). */
static const struct rte_ether_addr nh_mac = { { 2, 0, 0, 0, 0x32, 3 } };

static void turn_setup(void)
{
	uint8_t client6[16], peer6[16];

	memcpy(client6, our6, 16);
	client6[15] = 2;
	memcpy(peer6, our6, 16);
	peer6[15] = 3;
	if (turn_tables_init(64, 0) < 0 || turn_tables_add_lcore(rte_lcore_id()) < 0)
		abort();
	l3.turn_port = RTE_BE16(3478);
	l3.turn_listen = 1;
	l3.relay_lo = 49152;
	l3.relay_hi = 65535;
	l3.relay_if = 0;
	l3.relay_ip = l3.ifs[0].addr[0];
	for (int v6 = 0; v6 < 2; v6++) {
		struct turn_alloc *a = turn_alloc_new();

		if (!a)
			abort();
		if (v6) {
			a->key = turn_key6(client6, our6, RTE_BE16(40001), RTE_BE16(3478));
			memcpy(a->client_ip6, client6, 16);
			memcpy(a->server_ip6, our6, 16);
		} else {
			a->key = (struct turn_key){ RTE_BE32(0xc6122002), l3.ifs[0].addr[0],
				RTE_BE16(40000), RTE_BE16(3478) };
		}
		a->client_mac = nh_mac;
		a->client_if = a->relay_if = 0;
		a->relay_ip = l3.ifs[0].addr[0];
		a->relay6 = true;
		memcpy(a->relay_ip6, our6, 16);
		a->relay_port = rte_cpu_to_be_16((uint16_t)(50000 + v6));
		a->expires = 0x7fffffff; /* turn ticks: live for the run */
		a->n_perms = 1;
		a->pc[0].perm = (struct turn_perm){ .peer_ip = RTE_BE32(0xc6122003),
			.nh_mac = nh_mac,
			.expires = 0x7fffffff };
		a->n_perms6 = 1;
		a->pc[TURN_PERM6_HEAD(0)].perm =
			(struct turn_perm){ .nh_mac = nh_mac, .expires = 0x7fffffff };
		memcpy(a->pc[TURN_PERM6_HEAD(0) - 1].peer_ip6, peer6, 16);
		a->n_chans = 2;
		a->pc[0].chan = (struct turn_chan){ .peer_ip = RTE_BE32(0xc6122003),
			.peer_port = RTE_BE16(7000),
			.number = 0x4000,
			.expires = 0x7fffffff };
		a->pc[1].chan = (struct turn_chan){ .peer_port = RTE_BE16(7001),
			.number = 0x4001,
			.perm = TURN_PERM6_HEAD(0),
			.expires = 0x7fffffff };
		if (turn_alloc_publish(a) < 0)
			abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz_frame", "-l", "0", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		"--log-level=lib.*:error", NULL };
	struct dp_if *d = &l3.ifs[0];

	(void)argc, (void)argv;
	if (rte_eal_init(9, eal) < 0 || media_tables_add_lcore(rte_lcore_id()) < 0 ||
		nbr_init(8) < 0)
		abort();
	mp = rte_pktmbuf_pool_create("fuzz", 63, 0, 0, RTE_PKTMBUF_HEADROOM + MAX_FRAME, 0);
	if (!mp)
		abort();
	edge_rcu_reader_start();
	l3.default_if = 0;
	l3.relay_if = -1;
	d->present = d->up = true;
	d->mac = our_mac;
	d->n_addrs = 1;
	d->addr[0] = RTE_BE32(0xc6122001); /* 198.18.32.1/24 */
	d->mask[0] = RTE_BE32(0xffffff00);
	d->gateway = RTE_BE32(0xc6122002);
	d->v6 = true;
	d->n_addrs6 = 1;
	memcpy(d->addr6[0], our6, 16);
	d->prefix6[0] = 64;
	/* fe80::/64 + modified EUI-64 of 02:00:00:00:32:01 */
	memset(d->ll6, 0, 16);
	d->ll6[0] = 0xfe;
	d->ll6[1] = 0x80;
	d->ll6[8] = 0x00; /* 0x02 with the U/L bit flipped */
	d->ll6[9] = 0x00;
	d->ll6[10] = 0x00;
	d->ll6[11] = 0xff;
	d->ll6[12] = 0xfe;
	d->ll6[13] = 0x00;
	d->ll6[14] = 0x32;
	d->ll6[15] = 0x01;
	/* an address whose duplicate address detection runs: 2001:db8:32::77 */
	memcpy(d->tent6[0], our6, 16);
	d->tent6[0][15] = 0x77;
	d->n_tent6 = 1;
	l3.n_own_macs = 1;
	l3.own_mac[0] = our_mac;
	l3.own_mac_ifi[0] = 0;
	turn_setup();
	return 0;
}

static bool ours6(const uint8_t *a)
{
	return !memcmp(a, our6, 16) || !memcmp(a, l3.ifs[0].ll6, 16);
}

/* The ICMPv6 checksum over the pseudo-header: 0 when it verifies. */
static uint16_t icmp6_sum(const struct rte_ipv6_hdr *ip, const uint8_t *l4, uint32_t len)
{
	uint32_t sum = 0;

	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)(ip->src_addr[i] << 8 | ip->src_addr[i + 1]) +
			(uint32_t)(ip->dst_addr[i] << 8 | ip->dst_addr[i + 1]);
	sum += len >> 16;
	sum += len & 0xffff;
	sum += 58;
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(l4[i] << 8 | l4[i + 1]);
	if (len & 1)
		sum += (uint32_t)l4[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Whether @f (@len bytes, an Ethernet frame) is a UDP datagram whose checksum verifies (or,
 * over IPv4, is absent), with no IPv4 options or IPv6 extension headers, and its UDP length
 * the IP payload's (DPDK's check sums the IP payload's length; the relay, as RFC 8200 8.1
 * says, the UDP one); or no UDP at all.
 * The relay patches a checksum rather than verify it (the receiver does), so what it sends
 * on from a datagram with a bad one is as bad. */
static bool udp_sound(const uint8_t *f, size_t len)
{
	const struct rte_ether_hdr *eth = (const void *)f;
	const struct rte_udp_hdr *udp;

	if (len < 14 + 40 + 8)
		return len < 14 + 20 + 8 || eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4) ||
			f[14 + 9] != IPPROTO_UDP;
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const void *)(eth + 1);

		if (ip->next_proto_id != IPPROTO_UDP)
			return true;
		udp = (const void *)(ip + 1);
		return ip->version_ihl == 0x45 &&
			14 + (size_t)rte_be_to_cpu_16(ip->total_length) <= len &&
			rte_be_to_cpu_16(ip->total_length) ==
			20 + rte_be_to_cpu_16(udp->dgram_len) &&
			(!udp->dgram_cksum || rte_ipv4_udptcp_cksum_verify(ip, udp) == 0);
	}
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip = (const void *)(eth + 1);

		if (ip->proto != IPPROTO_UDP)
			return true;
		udp = (const void *)(ip + 1);
		return 14 + 40 + (size_t)rte_be_to_cpu_16(ip->payload_len) <= len &&
			ip->payload_len == udp->dgram_len && udp->dgram_cksum &&
			rte_ipv6_udptcp_cksum_verify(ip, udp) == 0;
	}
	return true;
}

/* A datagram the relay sent on (to a peer or a client): from an address of ours, its UDP
 * checksum good (and present over IPv6) when the one it came with was (@sound). */
static void check_fwd(struct rte_mbuf *m, bool sound)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (m->data_len < 14 || m->pkt_len != m->data_len ||
		!rte_is_same_ether_addr(&eth->src_addr, &our_mac))
		abort();
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const void *)(eth + 1);
		const struct rte_udp_hdr *udp = (const void *)(ip + 1);

		if (m->data_len < 14 + 28 || rte_ipv4_cksum(ip) != 0 ||
			ip->src_addr != l3.ifs[0].addr[0] || ip->next_proto_id != IPPROTO_UDP ||
			14 + rte_be_to_cpu_16(ip->total_length) != m->data_len ||
			(sound && udp->dgram_cksum && rte_ipv4_udptcp_cksum_verify(ip, udp) != 0))
			abort();
	} else if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip = (const void *)(eth + 1);
		const struct rte_udp_hdr *udp = (const void *)(ip + 1);

		if (m->data_len < 14 + 48 || !ours6(ip->src_addr) || ip->proto != IPPROTO_UDP ||
			14 + 40 + rte_be_to_cpu_16(ip->payload_len) != m->data_len ||
			!udp->dgram_cksum || (sound && rte_ipv6_udptcp_cksum_verify(ip, udp) != 0))
			abort();
	} else {
		abort();
	}
}

/* A reply the data plane sent back out of the port: well formed for its family; over IPv6
 * ICMPv6 (echo, neighbour discovery) or a STUN Binding answer from the TURN port, whose UDP
 * length is the payload's and whose checksum verifies. */
static void check_tx(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);

	if (m->data_len < 14 || m->pkt_len != m->data_len ||
		!rte_is_same_ether_addr(&eth->src_addr, &our_mac))
		abort();
	if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4)) {
		const struct rte_ipv4_hdr *ip = (const void *)(eth + 1);

		if (m->data_len < 14 + 20 || rte_ipv4_cksum(ip) != 0)
			abort();
	} else if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
		const struct rte_ipv6_hdr *ip = (const void *)(eth + 1);
		uint32_t plen;

		if (m->data_len < 14 + 40 + 4)
			abort();
		plen = ntohs(ip->payload_len);
		if (plen + 14 + 40 > m->data_len || !ip->hop_limits || !ours6(ip->src_addr))
			abort();
		if (ip->proto == IPPROTO_UDP) {
			const struct rte_udp_hdr *udp = (const void *)(ip + 1);

			if (plen < 8 + 20 || ntohs(udp->dgram_len) != plen ||
				udp->src_port != htons(3478) || !udp->dgram_cksum ||
				rte_ipv6_udptcp_cksum_verify(ip, udp) != 0)
				abort();
		} else if (ip->proto != 58 || icmp6_sum(ip, (const uint8_t *)(ip + 1), plen) != 0) {
			abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_burst_out out;
	struct dp_if_stats st;
	struct rte_mbuf *m;
	uint8_t *p;
	bool sound = udp_sound(data, size);

	if (size > MAX_FRAME)
		return 0;
	m = rte_pktmbuf_alloc(mp);
	if (!m)
		abort(); /* the pool empties only if an earlier input leaked */
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)size);
	if (size && !p)
		abort();
	if (size)
		memcpy(p, data, size);
	if (size >= 6 && !(data[0] & 1))
		memcpy(p, &our_mac, 6);
	memset(&out, 0, sizeof(out));
	memset(&st, 0, sizeof(st));
	dp_port_input(&l3, 0, &m, 1, &out, &st);
	for (unsigned int i = 0; i < out.n_tx; i++)
		check_tx(out.tx[i]);
	for (unsigned int i = 0; i < out.n_fwd[0]; i++)
		check_fwd(out.fwd[0][i], sound);
	dp_burst_out_free(&out);
	if (rte_mempool_in_use_count(mp) != 0)
		abort(); /* an mbuf the stages neither queued nor freed */
	return 0;
}
