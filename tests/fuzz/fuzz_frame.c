/* libFuzzer target for what arrives on an interface before any service sees it: the Ethernet
 * filter, ARP, IPv4 and ICMP, IPv6 with its extension headers, ICMPv6, Neighbour Discovery
 * (dataplane/l2l3.c, through dp_port_input). Each input is one frame, as it is, on an
 * interface with an IPv4 and an IPv6 address (and its link-local, and a tentative one); when
 * it is long enough its destination MAC is made ours (odd first byte: left as it is, so the
 * multicast and other-host filters run too). Nothing may crash, read out of bounds (ASan+UBSan), leak an
 * mbuf, or send a reply that is not well formed: every IPv4 reply has a good header checksum,
 * every ICMPv6 reply a good checksum, a hop limit and a source of ours. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "edge_rcu.h"
#include "media_tables.h"
#include "nbr.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAME 9000

static struct rte_mempool *mp;
static struct dp_l3 l3;
static const struct rte_ether_addr our_mac = { { 2, 0, 0, 0, 0x32, 1 } };
/* 2001:db8:32::1/64 and the link-local of our_mac, fe80::ff:fe00:3201 */
static const uint8_t our6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

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

/* A reply the data plane sent back out of the port: well formed for its family. */
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
		if (plen + 14 + 40 > m->data_len || ip->proto != 58 || !ip->hop_limits ||
			!ours6(ip->src_addr) || icmp6_sum(ip, (const uint8_t *)(ip + 1), plen) != 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_burst_out out;
	struct dp_if_stats st;
	struct rte_mbuf *m;
	uint8_t *p;

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
	dp_burst_out_free(&out);
	if (rte_mempool_in_use_count(mp) != 0)
		abort(); /* an mbuf the stages neither queued nor freed */
	return 0;
}
