/* The data plane's per-packet stages on crafted mbufs: what each packet becomes (a reply on
 * the wire, a hand-off to the kernel or the control plane, or a drop under its reason).
 * DPDK runs without hugepages or devices; no root needed. */
#include "unit.h"
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp.h"
#include "edge_bytes.h"
#include "nbr.h"
#include "stun.h"

static struct rte_mempool *mp;
static struct dp_l3 l3;
static struct dp_if_stats st;
static struct dp_burst_out out;
static const struct rte_ether_addr our_mac = { { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr peer_mac = { { 0x02, 0, 0, 0, 0, 0x02 } };
#define OUR_IP "198.18.20.1"
#define PEER_IP "198.18.20.2"

static struct rte_mbuf *frame(uint16_t ethertype, const struct rte_ether_addr *dst, size_t l3len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_ether_hdr *eth =
		(struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eth) + l3len);

	memset(eth, 0, sizeof(*eth) + l3len);
	eth->dst_addr = *dst;
	eth->src_addr = peer_mac;
	eth->ether_type = htons(ethertype);
	m->port = 0;
	return m;
}

static struct rte_mbuf *arp(uint16_t op, const char *sip, const char *tip,
	const struct rte_ether_addr *dst)
{
	struct rte_mbuf *m = frame(RTE_ETHER_TYPE_ARP, dst, sizeof(struct rte_arp_hdr));
	struct rte_arp_hdr *a =
		rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));

	a->arp_hardware = htons(RTE_ARP_HRD_ETHER);
	a->arp_protocol = htons(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = 6;
	a->arp_plen = 4;
	a->arp_opcode = htons(op);
	a->arp_data.arp_sha = peer_mac;
	a->arp_data.arp_sip = inet_addr(sip);
	if (op == RTE_ARP_OP_REPLY)
		a->arp_data.arp_tha = our_mac;
	a->arp_data.arp_tip = inet_addr(tip);
	return m;
}

static struct rte_mbuf *ipv4(uint8_t proto, const char *src, const char *dst, size_t payload)
{
	struct rte_mbuf *m =
		frame(RTE_ETHER_TYPE_IPV4, &our_mac, sizeof(struct rte_ipv4_hdr) + payload);
	struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));

	ip->version_ihl = 0x45;
	ip->total_length = htons(sizeof(*ip) + payload);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = inet_addr(src);
	ip->dst_addr = inet_addr(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return m;
}

static struct rte_ipv4_hdr *ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
}

/* Recomputes the IPv4 header checksum after a test edited the header. */
static struct rte_mbuf *reseal(struct rte_mbuf *m)
{
	ip_of(m)->hdr_checksum = 0;
	ip_of(m)->hdr_checksum = rte_ipv4_cksum(ip_of(m));
	return m;
}

static struct rte_mbuf *echo_request(const char *src, const char *dst, size_t data)
{
	struct rte_mbuf *m = ipv4(IPPROTO_ICMP, src, dst, sizeof(struct rte_icmp_hdr) + data);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip_of(m) + 1);
	uint8_t *p = (uint8_t *)(ic + 1);

	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = htons(0x1234);
	ic->icmp_seq_nb = htons(7);
	for (size_t i = 0; i < data; i++)
		p[i] = (uint8_t)i;
	ic->icmp_cksum = ~rte_raw_cksum(ic, sizeof(*ic) + data);
	return m;
}

static void run1(struct rte_mbuf *m)
{
	memset(&st, 0, sizeof(st));
	memset(&out, 0, sizeof(out));
	dp_port_input(&l3, 0, &m, 1, &out, &st);
}

static uint64_t total_drops(void)
{
	uint64_t n = 0;

	for (int r = 0; r < DP_DROP_MAX; r++)
		n += st.drops[r];
	return n;
}

/* Exactly one drop, under @reason, and nothing sent anywhere. */
static void dropped_as(struct rte_mbuf *m, enum dp_drop_reason reason)
{
	run1(m);
	CU_ASSERT_EQUAL(st.drops[reason], 1);
	CU_ASSERT_EQUAL(total_drops(), 1);
	CU_ASSERT_EQUAL(out.n_tx + out.n_kernel + out.n_punt, 0);
	if (st.drops[reason] != 1)
		for (int r = 0; r < DP_DROP_MAX; r++)
			if (st.drops[r])
				fprintf(stderr, "\n   dropped as %s instead of %s", dp_drop_name(r),
					dp_drop_name(reason));
}

/* Nothing dropped (and if something was, why, for the log). */
static void no_drops(void)
{
	CU_ASSERT_EQUAL(total_drops(), 0);
	for (int r = 0; r < DP_DROP_MAX; r++)
		if (st.drops[r])
			fprintf(stderr, "\n   dropped as %s", dp_drop_name(r));
}

static void free_out(void)
{
	rte_pktmbuf_free_bulk(out.tx, out.n_tx);
	rte_pktmbuf_free_bulk(out.kernel, out.n_kernel);
	rte_pktmbuf_free_bulk(out.punt, out.n_punt);
}

static void test_arp_request_answered(void)
{
	struct rte_arp_hdr *a;
	struct rte_ether_hdr *eth;

	run1(arp(RTE_ARP_OP_REQUEST, PEER_IP, OUR_IP,
		&(struct rte_ether_addr){ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } }));
	CU_ASSERT_EQUAL_FATAL(out.n_tx, 1);
	CU_ASSERT_EQUAL(st.arp_replies, 1);
	eth = rte_pktmbuf_mtod(out.tx[0], struct rte_ether_hdr *);
	a = (struct rte_arp_hdr *)(eth + 1);
	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &peer_mac));
	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &our_mac));
	CU_ASSERT_EQUAL(ntohs(a->arp_opcode), RTE_ARP_OP_REPLY);
	CU_ASSERT(rte_is_same_ether_addr(&a->arp_data.arp_sha, &our_mac));
	CU_ASSERT(rte_is_same_ether_addr(&a->arp_data.arp_tha, &peer_mac));
	CU_ASSERT_EQUAL(a->arp_data.arp_sip, inet_addr(OUR_IP));
	CU_ASSERT_EQUAL(a->arp_data.arp_tip, inet_addr(PEER_IP));
	/* an unknown sender is also passed to the control plane to be learnt */
	CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_ARP_LEARN);
	free_out();
}

static void test_arp_known_sender_not_punted(void)
{
	edge_rcu_reader_start();
	CU_ASSERT_EQUAL(nbr_update(0, inet_addr(PEER_IP), peer_mac.addr_bytes, UINT64_MAX), 0);
	run1(arp(RTE_ARP_OP_REQUEST, PEER_IP, OUR_IP, &our_mac));
	CU_ASSERT_EQUAL(out.n_tx, 1);
	CU_ASSERT_EQUAL(out.n_punt, 0);
	free_out();
	nbr_delete(0, inet_addr(PEER_IP));
	edge_rcu_reader_stop();
}

static void test_arp_other(void)
{
	struct rte_ether_addr bc = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	struct rte_mbuf *m;

	dropped_as(arp(RTE_ARP_OP_REQUEST, PEER_IP, "198.18.20.77", &bc), DP_DROP_ARP_NOT_FOR_US);
	run1(arp(RTE_ARP_OP_REPLY, PEER_IP, OUR_IP, &our_mac));
	CU_ASSERT_EQUAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_ARP_REPLY);
	free_out();
	dropped_as(arp(RTE_ARP_OP_REPLY, PEER_IP, "198.18.20.77", &our_mac), DP_DROP_ARP_OTHER);
	m = arp(RTE_ARP_OP_REQUEST, PEER_IP, OUR_IP, &bc);
	rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, 14)->arp_plen = 16;
	dropped_as(m, DP_DROP_ARP_MALFORMED);
	m = arp(RTE_ARP_OP_REQUEST, PEER_IP, OUR_IP, &bc);
	rte_pktmbuf_trim(m, 10);
	dropped_as(m, DP_DROP_ARP_MALFORMED);
	m = arp(9, PEER_IP, OUR_IP, &bc);
	dropped_as(m, DP_DROP_ARP_MALFORMED);
}

/* ARP from a sender off the interface's subnets (or claiming our own or the broadcast
 * address) is never learnt: a request is still answered, a reply dropped, both counted. */
static void test_arp_off_subnet(void)
{
	struct rte_ether_addr bc = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	const char *senders[] = { "198.19.9.9", "198.18.21.2", "198.18.10.2", OUR_IP,
		"198.18.20.255" };

	for (unsigned int k = 0; k < RTE_DIM(senders); k++) {
		run1(arp(RTE_ARP_OP_REQUEST, senders[k], OUR_IP, &bc));
		CU_ASSERT_EQUAL(out.n_tx, 1);
		CU_ASSERT_EQUAL(out.n_punt, 0);
		CU_ASSERT_EQUAL(st.arp_not_learned, 1);
		free_out();
		dropped_as(arp(RTE_ARP_OP_REPLY, senders[k], OUR_IP, &our_mac),
			DP_DROP_ARP_OFF_SUBNET);
		CU_ASSERT_EQUAL(st.arp_not_learned, 1);
	}
	/* on the subnet: learnt as before, nothing refused */
	run1(arp(RTE_ARP_OP_REQUEST, "198.18.20.200", OUR_IP, &bc));
	CU_ASSERT_EQUAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(st.arp_not_learned, 0);
	free_out();
}

static void test_icmp_echo(void)
{
	size_t sizes[] = { 0, 56, 1472 };

	for (unsigned int k = 0; k < RTE_DIM(sizes); k++) {
		struct rte_mbuf *m = echo_request(PEER_IP, OUR_IP, sizes[k]);
		struct rte_ipv4_hdr *ip;
		struct rte_icmp_hdr *ic;
		struct rte_ether_hdr *eth;

		run1(m);
		CU_ASSERT_EQUAL_FATAL(out.n_tx, 1);
		CU_ASSERT_EQUAL(st.icmp_echo_replies, 1);
		eth = rte_pktmbuf_mtod(out.tx[0], struct rte_ether_hdr *);
		ip = ip_of(out.tx[0]);
		ic = (struct rte_icmp_hdr *)(ip + 1);
		CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &peer_mac));
		CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &our_mac));
		CU_ASSERT_EQUAL(ip->src_addr, inet_addr(OUR_IP));
		CU_ASSERT_EQUAL(ip->dst_addr, inet_addr(PEER_IP));
		CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff); /* header checksum valid */
		CU_ASSERT_EQUAL(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
		CU_ASSERT_EQUAL(ntohs(ic->icmp_ident), 0x1234);
		CU_ASSERT_EQUAL(ntohs(ic->icmp_seq_nb), 7);
		CU_ASSERT_EQUAL(rte_raw_cksum(ic, sizeof(*ic) + sizes[k]),
			0xffff); /* ICMP checksum valid */
		CU_ASSERT_EQUAL(((uint8_t *)(ic + 1))[sizes[k] ? sizes[k] - 1 : 0],
			sizes[k] ? (uint8_t)(sizes[k] - 1) : 0);
		free_out();
	}
}

static void test_icmp_bad(void)
{
	struct rte_mbuf *m = echo_request(PEER_IP, OUR_IP, 56);

	((struct rte_icmp_hdr *)(ip_of(m) + 1))->icmp_cksum ^= 0x0100;
	dropped_as(m, DP_DROP_ICMP_MALFORMED);
	dropped_as(ipv4(IPPROTO_ICMP, PEER_IP, OUR_IP, 4), DP_DROP_ICMP_MALFORMED);
	/* replies to the control plane's own pings go to it */
	m = echo_request(PEER_IP, OUR_IP, 8);
	((struct rte_icmp_hdr *)(ip_of(m) + 1))->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	((struct rte_icmp_hdr *)(ip_of(m) + 1))->icmp_ident = htons(DP_PING_IDENT);
	run1(m);
	CU_ASSERT_EQUAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.n_punt ? out.punt[0]->hash.usr : 0, DP_PUNT_PING_REPLY);
	free_out();
	/* other ICMP (errors, replies to the kernel's own pings) belongs to the kernel */
	m = echo_request(PEER_IP, OUR_IP, 8);
	((struct rte_icmp_hdr *)(ip_of(m) + 1))->icmp_type = 3;
	run1(m);
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	free_out();
}

static void test_ipv4_validation(void)
{
	struct rte_mbuf *m;

	m = echo_request(PEER_IP, OUR_IP, 8);
	ip_of(m)->hdr_checksum ^= 1;
	dropped_as(m, DP_DROP_IP_CHECKSUM);

	m = echo_request(PEER_IP, OUR_IP, 8);
	ip_of(m)->version_ihl = 0x65;
	dropped_as(m, DP_DROP_IP_HEADER);
	m = echo_request(PEER_IP, OUR_IP, 8);
	ip_of(m)->version_ihl = 0x44;
	dropped_as(m, DP_DROP_IP_HEADER);
	m = echo_request(PEER_IP, OUR_IP, 8);
	ip_of(m)->version_ihl = 0x4f; /* 60-byte header in a 36-byte packet */
	dropped_as(m, DP_DROP_IP_HEADER);

	m = echo_request(PEER_IP, OUR_IP, 8);
	ip_of(m)->total_length = htons(2000);
	dropped_as(reseal(m), DP_DROP_IP_LENGTH);

	m = echo_request(PEER_IP, OUR_IP, 8);
	ip_of(m)->time_to_live = 0;
	dropped_as(reseal(m), DP_DROP_IP_TTL);

	m = echo_request(PEER_IP, OUR_IP, 8);
	ip_of(m)->fragment_offset = htons(RTE_IPV4_HDR_MF_FLAG);
	dropped_as(reseal(m), DP_DROP_IP_FRAGMENT);
	m = echo_request(PEER_IP, OUR_IP, 8);
	ip_of(m)->fragment_offset = htons(100);
	dropped_as(reseal(m), DP_DROP_IP_FRAGMENT);

	dropped_as(echo_request(PEER_IP, "198.18.20.9", 8), DP_DROP_IP_NOT_LOCAL);
	dropped_as(echo_request(PEER_IP, "198.18.10.1", 8),
		DP_DROP_IP_NOT_LOCAL); /* strong host: a's address on b */
	dropped_as(echo_request("127.0.0.1", OUR_IP, 8), DP_DROP_IP_SOURCE);
	dropped_as(echo_request("198.18.20.255", OUR_IP, 8), DP_DROP_IP_SOURCE);
	dropped_as(echo_request(OUR_IP, OUR_IP, 8), DP_DROP_IP_SOURCE);
	dropped_as(echo_request("224.0.0.1", OUR_IP, 8), DP_DROP_IP_SOURCE);

	m = echo_request(PEER_IP, OUR_IP, 8);
	rte_pktmbuf_trim(m, m->data_len - 20);
	dropped_as(m, DP_DROP_L2_SHORT);
	m = echo_request(PEER_IP, OUR_IP, 8);
	rte_pktmbuf_trim(m, m->data_len - 10);
	dropped_as(m, DP_DROP_L2_SHORT);
}

static void test_l2(void)
{
	struct rte_mbuf *m = echo_request(PEER_IP, OUR_IP, 8);

	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = peer_mac;
	dropped_as(m, DP_DROP_L2_OTHER_HOST);
	m = echo_request(PEER_IP, OUR_IP, 8);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = peer_mac;
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr = our_mac;
	dropped_as(m, DP_DROP_L2_OWN_FRAME);
	l3.ifs[0].v6 = false; /* IPv6 where the interface has none */
	m = frame(RTE_ETHER_TYPE_IPV6, &our_mac, 40);
	dropped_as(m, DP_DROP_L2_ETHERTYPE);
	l3.ifs[0].v6 = true;
	m = frame(RTE_ETHER_TYPE_VLAN, &our_mac, 40);
	dropped_as(m, DP_DROP_L2_ETHERTYPE);
	/* from a group or the broadcast address: never answered (the echo would go there) */
	m = echo_request(PEER_IP, OUR_IP, 8);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr =
		(struct rte_ether_addr){ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	dropped_as(m, DP_DROP_L2_SOURCE);
	m = arp(RTE_ARP_OP_REQUEST, PEER_IP, OUR_IP, &our_mac);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr =
		(struct rte_ether_addr){ { 0x01, 0x00, 0x5e, 0, 0, 1 } };
	dropped_as(m, DP_DROP_L2_SOURCE);
	/* an interface without addresses answers nothing */
	l3.ifs[0].up = false;
	dropped_as(echo_request(PEER_IP, OUR_IP, 8), DP_DROP_IF_DOWN);
	l3.ifs[0].up = true;
}

static void test_exception_path(void)
{
	struct rte_mbuf *m = ipv4(IPPROTO_TCP, PEER_IP, OUR_IP, sizeof(struct rte_tcp_hdr));

	/* Ethernet padding is not passed on */
	rte_pktmbuf_append(m, 6);
	run1(m);
	CU_ASSERT_EQUAL_FATAL(out.n_kernel, 1);
	CU_ASSERT_EQUAL(st.to_kernel, 1);
	CU_ASSERT_EQUAL(out.kernel[0]->pkt_len, 14 + 20 + 20);
	free_out();
	run1(ipv4(IPPROTO_UDP, PEER_IP, OUR_IP, 8 + 100));
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	free_out();
}

static struct rte_mbuf *udp_to(const char *src, const char *dst, uint16_t dport)
{
	struct rte_mbuf *m = ipv4(IPPROTO_UDP, src, dst, 8 + 20);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip_of(m) + 1);

	u->src_port = htons(53);
	u->dst_port = htons(dport);
	u->dgram_len = htons(8 + 20);
	return m;
}

/* With TURN on, the relay range is the relay's on the relay address only: a datagram for
 * a port of the range on another address of ours (the reply to the kernel's own query) goes
 * to the kernel; on the relay address, one that matches no allocation is dropped, counted. */
static void test_relay_range_owner(void)
{
	struct rte_mbuf *m;

	l3.turn_port = htons(3478);
	l3.turn_listen = 1;
	l3.relay_lo = 49152;
	l3.relay_hi = 65535;
	l3.relay_if = 0;
	l3.relay_ip = inet_addr(OUR_IP);
	dropped_as(udp_to(PEER_IP, OUR_IP, 50000), DP_DROP_TURN_NO_ALLOC);
	/* below the range: the kernel's, as ever */
	run1(udp_to(PEER_IP, OUR_IP, 40000));
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	free_out();
	/* interface 1's address is no relay address: the whole range is the kernel's there */
	m = udp_to("198.18.10.2", "198.18.10.1", 50000);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = l3.ifs[1].mac;
	memset(&st, 0, sizeof(st));
	memset(&out, 0, sizeof(out));
	dp_port_input(&l3, 1, &m, 1, &out, &st);
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	CU_ASSERT_EQUAL(total_drops(), 0);
	free_out();
	l3.turn_port = 0;
	l3.turn_listen = 0;
	l3.relay_if = -1;
	l3.relay_ip = 0;
}

/* --- IPv6 (issue 18) --- */

#define OUR6 "2001:db8:20::10"
#define LL6 "fe80::ff:fe00:1" /* EUI-64 of our_mac */
#define PEER6 "2001:db8:20::2"
#define PEER_LL6 "fe80::2"
#define SOL6 "ff02::1:ff00:10"	 /* the solicited-node group of OUR6 */
#define LL_SOL6 "ff02::1:ff00:1" /* and of LL6 */
static const struct rte_ether_addr sol_mac = { { 0x33, 0x33, 0xff, 0, 0, 0x10 } };
static const struct rte_ether_addr ll_sol_mac = { { 0x33, 0x33, 0xff, 0, 0, 0x01 } };
static const struct rte_ether_addr all_nodes_mac = { { 0x33, 0x33, 0, 0, 0, 0x01 } };

static const uint8_t *in6(const char *s)
{
	static uint8_t a[4][16];
	static unsigned int k;
	uint8_t *p = a[k++ % 4];

	CU_ASSERT_FATAL(inet_pton(AF_INET6, s, p) == 1);
	return p;
}

static struct rte_ipv6_hdr *ip6_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, sizeof(struct rte_ether_hdr));
}

/* An IPv6 packet with @n_ext 8-byte extension headers of the kinds in @ext (PadN options,
 * a routing header with no segments left, a first fragment) before @l4len bytes of @proto,
 * whose start is returned in *@l4. */
static struct rte_mbuf *pkt6(const char *src, const char *dst, const struct rte_ether_addr *mac,
	const uint8_t *ext, unsigned int n_ext, uint8_t proto, size_t l4len, uint8_t **l4)
{
	struct rte_mbuf *m = frame(RTE_ETHER_TYPE_IPV6, mac, 40 + 8 * n_ext + l4len);
	struct rte_ipv6_hdr *ip = ip6_of(m);
	uint8_t *p = (uint8_t *)(ip + 1);

	ip->vtc_flow = htonl(6u << 28);
	ip->payload_len = htons(8 * n_ext + l4len);
	ip->proto = n_ext ? ext[0] : proto;
	ip->hop_limits = 57; /* from a few routers away; a reply goes out with 64 */
	memcpy(ip->src_addr, in6(src), 16);
	memcpy(ip->dst_addr, in6(dst), 16);
	for (unsigned int i = 0; i < n_ext; i++, p += 8) {
		p[0] = i + 1 < n_ext ? ext[i + 1] : proto;
		if (ext[i] == IPPROTO_HOPOPTS || ext[i] == IPPROTO_DSTOPTS) {
			p[2] = 1; /* PadN of 4 */
			p[3] = 4;
		} else if (ext[i] == IPPROTO_ROUTING) {
			p[2] = 4; /* segment routing, no segments left */
		} else if (ext[i] == IPPROTO_FRAGMENT) {
			p[3] = 1; /* offset 0, more fragments */
		}
	}
	*l4 = p;
	return m;
}

/* The ones' complement sum over the ICMPv6 message at @off and its pseudo-header, written
 * out here apart from the data plane's own helpers. */
static uint16_t icmp6_sum(struct rte_mbuf *m, unsigned int off)
{
	struct rte_ipv6_hdr *ip = ip6_of(m);
	uint32_t len = 40 + ntohs(ip->payload_len) - off;
	uint8_t ph[40] = { 0 };
	uint32_t s;

	memcpy(ph, ip->src_addr, 32);
	ph[32] = len >> 24;
	ph[33] = len >> 16;
	ph[34] = len >> 8;
	ph[35] = len;
	ph[39] = IPPROTO_ICMPV6;
	s = (uint32_t)rte_raw_cksum(ph, 40) + rte_raw_cksum((uint8_t *)ip + off, len);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)((s & 0xffff) + (s >> 16));
}

static struct rte_mbuf *seal6(struct rte_mbuf *m, unsigned int off)
{
	uint8_t *ic = (uint8_t *)ip6_of(m) + off;
	uint16_t ck;

	ic[2] = ic[3] = 0;
	ck = ~icmp6_sum(m, off);
	memcpy(ic + 2, &ck, 2);
	return m;
}

static struct rte_mbuf *echo6_ext(const char *src, const char *dst,
	const struct rte_ether_addr *mac, size_t data, const uint8_t *ext, unsigned int n_ext)
{
	uint8_t *ic;
	struct rte_mbuf *m = pkt6(src, dst, mac, ext, n_ext, IPPROTO_ICMPV6, 8 + data, &ic);

	ic[0] = 128;
	ic[4] = 0x12;
	ic[5] = 0x34; /* identifier */
	ic[7] = 7;    /* sequence */
	for (size_t i = 0; i < data; i++)
		ic[8 + i] = (uint8_t)i;
	return seal6(m, 40 + 8 * n_ext);
}

static struct rte_mbuf *echo6(const char *src, const char *dst, size_t data)
{
	return echo6_ext(src, dst, &our_mac, data, NULL, 0);
}

/* A neighbour solicitation for @target, with a source link-layer address option or not. */
static struct rte_mbuf *ns6(const char *src, const char *dst, const struct rte_ether_addr *mac,
	const char *target, bool sllao)
{
	uint8_t *ic;
	struct rte_mbuf *m = pkt6(src, dst, mac, NULL, 0, IPPROTO_ICMPV6, sllao ? 32 : 24, &ic);

	ip6_of(m)->hop_limits = 255;
	ic[0] = 135;
	memcpy(ic + 8, in6(target), 16);
	if (sllao) {
		ic[24] = 1;
		ic[25] = 1;
		memcpy(ic + 26, peer_mac.addr_bytes, 6);
	}
	return seal6(m, 40);
}

/* The one advertisement in out.tx: to @dst (IPv6 and Ethernet), for @target, flags @flags. */
static void check_na(const char *dst, const struct rte_ether_addr *dst_mac, const char *target,
	uint8_t flags)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *na;

	no_drops();
	CU_ASSERT_EQUAL(st.nd_replies, 1);
	CU_ASSERT_EQUAL(out.n_kernel + out.n_punt, 0);
	CU_ASSERT_EQUAL_FATAL(out.n_tx, 1);
	eth = rte_pktmbuf_mtod(out.tx[0], struct rte_ether_hdr *);
	ip = ip6_of(out.tx[0]);
	na = (uint8_t *)(ip + 1);
	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, dst_mac));
	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &our_mac));
	CU_ASSERT_EQUAL(ntohs(eth->ether_type), RTE_ETHER_TYPE_IPV6);
	CU_ASSERT_EQUAL(out.tx[0]->pkt_len, 14 + 40 + 32);
	CU_ASSERT_EQUAL(out.tx[0]->data_len, 14 + 40 + 32);
	CU_ASSERT_EQUAL(ntohl(ip->vtc_flow) >> 28, 6);
	CU_ASSERT_EQUAL(ntohs(ip->payload_len), 32);
	CU_ASSERT_EQUAL(ip->proto, IPPROTO_ICMPV6);
	CU_ASSERT_EQUAL(ip->hop_limits, 255);
	CU_ASSERT(memcmp(ip->src_addr, in6(target), 16) == 0);
	CU_ASSERT(memcmp(ip->dst_addr, in6(dst), 16) == 0);
	CU_ASSERT_EQUAL(na[0], 136);
	CU_ASSERT_EQUAL(na[1], 0);
	CU_ASSERT_EQUAL(icmp6_sum(out.tx[0], 40), 0xffff); /* the checksum verifies */
	CU_ASSERT_EQUAL(na[4], flags);
	CU_ASSERT(na[5] == 0 && na[6] == 0 && na[7] == 0);
	CU_ASSERT(memcmp(na + 8, in6(target), 16) == 0);
	CU_ASSERT_EQUAL(na[24], 2); /* target link-layer address, one unit, our MAC */
	CU_ASSERT_EQUAL(na[25], 1);
	CU_ASSERT(memcmp(na + 26, our_mac.addr_bytes, 6) == 0);
	free_out();
}

static void test_nd_solicit(void)
{
	struct rte_mbuf *m;
	uint8_t *ic;

	run1(ns6(PEER6, SOL6, &sol_mac, OUR6, true));
	check_na(PEER6, &peer_mac, OUR6, 0x60); /* solicited, override */
	/* for the link-local, from a link-local, to its group */
	run1(ns6(PEER_LL6, LL_SOL6, &ll_sol_mac, LL6, true));
	check_na(PEER_LL6, &peer_mac, LL6, 0x60);
	/* for the link-local, unicast (neighbour unreachability detection), no option */
	run1(ns6(PEER_LL6, LL6, &our_mac, LL6, false));
	check_na(PEER_LL6, &peer_mac, LL6, 0x60);
	/* Ethernet padding and a Hop-by-Hop header are not in the advertisement */
	m = pkt6(PEER6, SOL6, &sol_mac, (const uint8_t[]){ IPPROTO_HOPOPTS }, 1, IPPROTO_ICMPV6, 24,
		&ic);
	ip6_of(m)->hop_limits = 255;
	ic[0] = 135;
	memcpy(ic + 8, in6(OUR6), 16);
	seal6(m, 48);
	rte_pktmbuf_append(m, 10);
	run1(m);
	check_na(PEER6, &peer_mac, OUR6, 0x60);
}

static void test_nd_dad(void)
{
	struct rte_mbuf *m;

	/* someone else's duplicate address detection for our address: we defend it, to all
	 * nodes, not solicited */
	run1(ns6("::", SOL6, &sol_mac, OUR6, false));
	check_na("ff02::1", &all_nodes_mac, OUR6, 0x20);
	/* from :: a solicitation carries no link-layer address, and goes to a group */
	dropped_as(ns6("::", SOL6, &sol_mac, OUR6, true), DP_DROP_ICMP6_MALFORMED);
	dropped_as(ns6("::", OUR6, &our_mac, OUR6, false), DP_DROP_ICMP6_MALFORMED);
	/* nothing but a solicitation comes from :: */
	dropped_as(echo6("::", OUR6, 8), DP_DROP_IP6_SOURCE);
	m = ns6("::", SOL6, &sol_mac, OUR6, false);
	ip6_of(m)->payload_len = htons(0); /* nothing to read the type from */
	dropped_as(m, DP_DROP_IP6_LENGTH);
	/* a link-local not filled in (all zero) makes :: no address of ours */
	memset(l3.ifs[0].ll6, 0, 16);
	run1(ns6("::", SOL6, &sol_mac, OUR6, false));
	check_na("ff02::1", &all_nodes_mac, OUR6, 0x20);
	dropped_as(ns6(PEER6, SOL6, &sol_mac, "::", true), DP_DROP_ND_NOT_FOR_US);
	dropped_as(ns6(PEER6, "ff02::1:ff00:0", &sol_mac, OUR6, true), DP_DROP_IP6_NOT_LOCAL);
	inet_pton(AF_INET6, LL6, l3.ifs[0].ll6);
}

static void test_nd_refused(void)
{
	struct rte_mbuf *m;
	uint8_t *ic;

	dropped_as(ns6(PEER6, SOL6, &sol_mac, "2001:db8:20::9", true), DP_DROP_ND_NOT_FOR_US);
	dropped_as(ns6(PEER6, SOL6, &sol_mac, SOL6, true), DP_DROP_ND_NOT_FOR_US);
	m = ns6(PEER6, SOL6, &sol_mac, OUR6, true);
	ip6_of(m)->hop_limits = 64; /* not in the checksum */
	dropped_as(m, DP_DROP_ND_HOP_LIMIT);
	/* an option of length 0, one running past the message */
	m = ns6(PEER6, SOL6, &sol_mac, OUR6, true);
	ic = (uint8_t *)(ip6_of(m) + 1);
	ic[25] = 0;
	dropped_as(seal6(m, 40), DP_DROP_ICMP6_MALFORMED);
	m = ns6(PEER6, SOL6, &sol_mac, OUR6, true);
	ic = (uint8_t *)(ip6_of(m) + 1);
	ic[25] = 2;
	dropped_as(seal6(m, 40), DP_DROP_ICMP6_MALFORMED);
	/* code not 0; shorter than a solicitation */
	m = ns6(PEER6, SOL6, &sol_mac, OUR6, true);
	((uint8_t *)(ip6_of(m) + 1))[1] = 1;
	dropped_as(seal6(m, 40), DP_DROP_ICMP6_MALFORMED);
	m = ns6(PEER6, SOL6, &sol_mac, OUR6, false);
	ip6_of(m)->payload_len = htons(20);
	rte_pktmbuf_trim(m, 4);
	dropped_as(seal6(m, 40), DP_DROP_ICMP6_MALFORMED);
	/* router discovery and redirects are not taken: the appliance is configured */
	for (int t = 133; t <= 137; t += (t == 134 ? 3 : 1)) {
		m = ns6(PEER_LL6, "ff02::1", &all_nodes_mac, OUR6, false);
		((uint8_t *)(ip6_of(m) + 1))[0] = (uint8_t)t;
		dropped_as(seal6(m, 40), DP_DROP_ICMP6_OTHER);
	}
	/* another node's MLD report */
	m = ns6(PEER_LL6, "ff02::1", &all_nodes_mac, OUR6, false);
	((uint8_t *)(ip6_of(m) + 1))[0] = 143;
	dropped_as(seal6(m, 40), DP_DROP_ICMP6_OTHER);
}

/* A neighbour advertisement @target from @src to @dst with @flags and a target link-layer
 * address option. */
static struct rte_mbuf *na6(const char *src, const char *dst, const struct rte_ether_addr *mac,
	const char *target, uint8_t flags)
{
	struct rte_mbuf *m = ns6(src, dst, mac, target, true);
	uint8_t *ic = (uint8_t *)(ip6_of(m) + 1);

	ic[0] = 136;
	ic[4] = flags;
	ic[24] = 2;
	return seal6(m, 40);
}

/* Advertisements answer our resolutions and the kernel's, so the control plane learns them
 * and hands them on (test_nd_advert_learn); one for an address of ours goes to it as well
 * (another node has it), with where its message starts. */
static void test_nd_advert(void)
{
	struct rte_mbuf *m;

	run1(na6(PEER6, OUR6, &our_mac, PEER6, 0x60));
	no_drops();
	CU_ASSERT_EQUAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.n_kernel + out.n_tx, 0);
	CU_ASSERT_EQUAL(st.to_kernel, 0);
	free_out();
	run1(na6(PEER_LL6, "ff02::1", &all_nodes_mac, PEER_LL6, 0x20)); /* unsolicited */
	CU_ASSERT_EQUAL(out.n_punt, 1);
	free_out();
	/* ours: the assigned one, the link-local */
	run1(na6(PEER_LL6, "ff02::1", &all_nodes_mac, OUR6, 0x20));
	no_drops();
	CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.n_kernel, 0);
	CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_ND_DAD);
	CU_ASSERT_EQUAL(out.punt[0]->hash.fdir.hi, 40);
	free_out();
	run1(na6(PEER_LL6, "ff02::1", &all_nodes_mac, LL6, 0x20));
	CU_ASSERT_EQUAL(out.n_punt, 1);
	free_out();
	/* behind a Hop-by-Hop header: the offset says where the message is */
	{
		uint8_t *ic;

		m = pkt6(PEER6, OUR6, &our_mac, (const uint8_t[]){ IPPROTO_HOPOPTS }, 1,
			IPPROTO_ICMPV6, 32, &ic);
		ip6_of(m)->hop_limits = 255;
		ic[0] = 136;
		memcpy(ic + 8, in6(OUR6), 16);
		ic[24] = 2;
		ic[25] = 1;
		seal6(m, 48);
	}
	run1(m);
	CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.punt[0]->hash.fdir.hi, 48);
	free_out();
	/* malformed: hop limit, solicited to a group, multicast target, code */
	m = na6(PEER6, OUR6, &our_mac, PEER6, 0x60);
	ip6_of(m)->hop_limits = 254;
	dropped_as(m, DP_DROP_ND_HOP_LIMIT);
	dropped_as(na6(PEER6, "ff02::1", &all_nodes_mac, PEER6, 0x60), DP_DROP_ICMP6_MALFORMED);
	dropped_as(na6(PEER6, OUR6, &our_mac, "ff02::1", 0x20), DP_DROP_ICMP6_MALFORMED);
	m = na6(PEER6, OUR6, &our_mac, PEER6, 0x60);
	((uint8_t *)(ip6_of(m) + 1))[1] = 1;
	dropped_as(seal6(m, 40), DP_DROP_ICMP6_MALFORMED);
}

/* Every advertisement for another node's address goes to the control plane, which learns the
 * target (it resolves IPv6 next hops itself) and hands the frame on to the kernel: solicited
 * or not, with the target's link-layer address or without, the message's offset given; the
 * frame as it came. One for an address of ours is still duplicate address detection's. */
static void test_nd_advert_learn(void)
{
	static const struct {
		const char *src, *dst, *target;
		const struct rte_ether_addr *mac;
		uint8_t flags;
	} cases[] = {
		{ PEER6, OUR6, PEER6, &our_mac, 0x60 },		      /* solicited, override */
		{ PEER_LL6, LL6, PEER_LL6, &our_mac, 0x40 },	      /* solicited, link-local */
		{ PEER_LL6, "ff02::1", PEER6, &all_nodes_mac, 0x20 }, /* unsolicited */
		{ PEER6, OUR6, "2001:db8:99::5", &our_mac, 0xe0 },    /* off link: judged later */
	};
	struct rte_mbuf *m;
	uint8_t *ic;

	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		m = na6(cases[i].src, cases[i].dst, cases[i].mac, cases[i].target, cases[i].flags);
		run1(m);
		no_drops();
		CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
		CU_ASSERT_EQUAL(out.n_kernel + out.n_tx, 0);
		CU_ASSERT_EQUAL(st.to_kernel, 0);
		CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_ND_ADVERT);
		CU_ASSERT_EQUAL(out.punt[0]->hash.fdir.hi, 40);
		/* untouched: the target and its link-layer address option where they were */
		CU_ASSERT_EQUAL(out.punt[0]->pkt_len, 14 + 40 + 32);
		ic = (uint8_t *)(ip6_of(out.punt[0]) + 1);
		CU_ASSERT_EQUAL(ic[0], 136);
		CU_ASSERT_EQUAL(ic[4], cases[i].flags);
		CU_ASSERT(memcmp(ic + 8, in6(cases[i].target), 16) == 0);
		CU_ASSERT(ic[24] == 2 && ic[25] == 1);
		CU_ASSERT(memcmp(ic + 26, peer_mac.addr_bytes, 6) == 0);
		free_out();
	}
	/* no option: the kernel needs it all the same (a unicast solicitation's answer) */
	m = ns6(PEER6, OUR6, &our_mac, PEER6, false);
	ic = (uint8_t *)(ip6_of(m) + 1);
	ic[0] = 136;
	ic[4] = 0x40;
	run1(seal6(m, 40));
	no_drops();
	CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_ND_ADVERT);
	free_out();
	/* behind a Destination Options header: the offset says where the message is */
	m = pkt6(PEER6, OUR6, &our_mac, (const uint8_t[]){ IPPROTO_DSTOPTS }, 1, IPPROTO_ICMPV6, 32,
		&ic);
	ip6_of(m)->hop_limits = 255;
	ic[0] = 136;
	ic[4] = 0x60;
	memcpy(ic + 8, in6(PEER6), 16);
	ic[24] = 2;
	ic[25] = 1;
	memcpy(ic + 26, peer_mac.addr_bytes, 6);
	run1(seal6(m, 48));
	CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_ND_ADVERT);
	CU_ASSERT_EQUAL(out.punt[0]->hash.fdir.hi, 48);
	free_out();
	/* ours stays duplicate address detection's; the malformed are dropped as before */
	run1(na6(PEER6, OUR6, &our_mac, OUR6, 0x60));
	CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_ND_DAD);
	free_out();
	m = na6(PEER6, OUR6, &our_mac, PEER6, 0x60);
	ip6_of(m)->hop_limits = 64;
	dropped_as(m, DP_DROP_ND_HOP_LIMIT);
	m = na6(PEER6, OUR6, &our_mac, PEER6, 0x60);
	((uint8_t *)(ip6_of(m) + 1))[25] = 0; /* an option of no length */
	dropped_as(seal6(m, 40), DP_DROP_ICMP6_MALFORMED);
}

/* While its detection runs, an address is not ours (nothing answered, nothing taken), but
 * its group is joined and another node's detection or advertisement of it is punted. */
static void test_nd_tentative(void)
{
	struct dp_if *ifp = &l3.ifs[0];
	const uint8_t *tent = in6("2001:db8:20::77");

	memcpy(ifp->tent6[0], tent, 16);
	ifp->n_tent6 = 1;
	dropped_as(echo6(PEER6, "2001:db8:20::77", 8), DP_DROP_IP6_NOT_LOCAL);
	dropped_as(ns6(PEER6, "ff02::1:ff00:77", &sol_mac, "2001:db8:20::77", true),
		DP_DROP_ND_NOT_FOR_US);
	run1(ns6("::", "ff02::1:ff00:77", &sol_mac, "2001:db8:20::77", false));
	no_drops();
	CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.n_tx, 0);
	CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_ND_DAD);
	free_out();
	run1(na6(PEER6, "ff02::1", &all_nodes_mac, "2001:db8:20::77", 0x20));
	CU_ASSERT_EQUAL(out.n_punt, 1);
	free_out();
	ifp->n_tent6 = 0;
	dropped_as(ns6("::", "ff02::1:ff00:77", &sol_mac, "2001:db8:20::77", false),
		DP_DROP_IP6_NOT_LOCAL);
}

/* Kernel -> wire: the kernel mirror's IPv6 leaves from our addresses (the link-local among
 * them) and the unspecified one only; a tentative address's, a duplicate's (which the kernel
 * still holds) and anything truncated stay in; other families pass. */
static void test_kernel_source6(void)
{
	struct dp_if *ifp = &l3.ifs[0];
	static const struct {
		const char *src;
		bool may;
	} cases[] = {
		{ OUR6, true },
		{ LL6, true },
		{ "::", true },
		{ "2001:db8:20::77", false }, /* tentative */
		{ "2001:db8:20::7", false },  /* a duplicate: configured, never ours */
		{ PEER6, false },
	};
	struct rte_mbuf *m;
	uint8_t *l4;

	memcpy(ifp->tent6[0], in6("2001:db8:20::77"), 16);
	ifp->n_tent6 = 1;
	for (unsigned int i = 0; i < RTE_DIM(cases); i++) {
		m = pkt6(cases[i].src, PEER6, &peer_mac, NULL, 0, IPPROTO_UDP, 8, &l4);
		CU_ASSERT_EQUAL(dp_kernel_may_send(ifp, m), cases[i].may);
		rte_pktmbuf_free(m);
	}
	ifp->n_tent6 = 0;
	m = pkt6(OUR6, PEER6, &peer_mac, NULL, 0, IPPROTO_UDP, 8, &l4);
	rte_pktmbuf_trim(m, 30); /* the IPv6 header cut short */
	CU_ASSERT_FALSE(dp_kernel_may_send(ifp, m));
	rte_pktmbuf_free(m);
	m = frame(RTE_ETHER_TYPE_IPV4, &peer_mac, 20);
	CU_ASSERT_TRUE(dp_kernel_may_send(ifp, m));
	rte_pktmbuf_free(m);
}

/* Our own multicast comes back on an af_packet port: never taken as another node's. */
static void test_own_frames(void)
{
	struct rte_mbuf *m = na6(OUR6, "ff02::1", &all_nodes_mac, OUR6, 0x20);

	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr = our_mac;
	dropped_as(m, DP_DROP_L2_OWN_FRAME);
	m = arp(RTE_ARP_OP_REQUEST, OUR_IP, PEER_IP,
		&(struct rte_ether_addr){ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } });
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr = our_mac;
	dropped_as(m, DP_DROP_L2_OWN_FRAME);
	/* a hairpin carries our MAC on purpose */
	out.hairpin = true;
	run1(echo_request(PEER_IP, OUR_IP, 8));
	out.hairpin = false;
	CU_ASSERT_EQUAL(out.n_tx, 1);
	free_out();
}

static void check_echo6_reply(size_t data, const char *from, const char *to)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	uint8_t *ic;

	no_drops();
	CU_ASSERT_EQUAL(st.icmp_echo_replies, 1);
	CU_ASSERT_EQUAL_FATAL(out.n_tx, 1);
	eth = rte_pktmbuf_mtod(out.tx[0], struct rte_ether_hdr *);
	ip = ip6_of(out.tx[0]);
	ic = (uint8_t *)(ip + 1);
	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &peer_mac));
	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &our_mac));
	CU_ASSERT_EQUAL(out.tx[0]->pkt_len, 14 + 40 + 8 + data);
	CU_ASSERT_EQUAL(ntohs(ip->payload_len), 8 + data);
	CU_ASSERT_EQUAL(ip->proto, IPPROTO_ICMPV6);
	CU_ASSERT_EQUAL(ip->hop_limits, 64);
	CU_ASSERT(memcmp(ip->src_addr, in6(from), 16) == 0);
	CU_ASSERT(memcmp(ip->dst_addr, in6(to), 16) == 0);
	CU_ASSERT_EQUAL(ic[0], 129);
	CU_ASSERT_EQUAL(ic[1], 0);
	CU_ASSERT(ic[4] == 0x12 && ic[5] == 0x34 && ic[6] == 0 && ic[7] == 7);
	CU_ASSERT_EQUAL(icmp6_sum(out.tx[0], 40), 0xffff);
	if (data)
		CU_ASSERT_EQUAL(ic[8 + data - 1], (uint8_t)(data - 1));
	free_out();
}

static void test_icmp6_echo(void)
{
	size_t sizes[] = { 0, 56, 1200, 1233 };
	const uint8_t four[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_ROUTING,
		IPPROTO_DSTOPTS };
	struct rte_mbuf *m;

	for (unsigned int k = 0; k < RTE_DIM(sizes); k++) {
		run1(echo6(PEER6, OUR6, sizes[k]));
		check_echo6_reply(sizes[k], OUR6, PEER6);
		run1(echo6(PEER_LL6, LL6, sizes[k]));
		check_echo6_reply(sizes[k], LL6, PEER_LL6);
	}
	/* Ethernet padding is not echoed */
	m = echo6(PEER6, OUR6, 8);
	rte_pktmbuf_append(m, 6);
	run1(m);
	check_echo6_reply(8, OUR6, PEER6);
	/* four extension headers are walked, and the reply carries none of them */
	run1(echo6_ext(PEER6, OUR6, &our_mac, 56, four, 4));
	check_echo6_reply(56, OUR6, PEER6);
	/* to a group: never answered */
	dropped_as(echo6_ext(PEER6, "ff02::1", &all_nodes_mac, 56, NULL, 0),
		DP_DROP_ICMP6_ECHO_MCAST);
	dropped_as(echo6_ext(PEER6, SOL6, &sol_mac, 56, NULL, 0), DP_DROP_ICMP6_ECHO_MCAST);
	/* our unicast address in a frame to the broadcast or a group MAC: not answered (the
	 * reply would have taken that MAC as its source; found by fuzz_frame) */
	dropped_as(echo6_ext(PEER6, OUR6,
			   &(struct rte_ether_addr){ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } }, 56,
			   NULL, 0),
		DP_DROP_IP6_NOT_LOCAL);
	dropped_as(echo6_ext(PEER6, OUR6, &all_nodes_mac, 56, NULL, 0), DP_DROP_IP6_NOT_LOCAL);
	/* from a group MAC: dropped before IPv6 is looked at */
	m = echo6(PEER6, OUR6, 8);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->src_addr =
		(struct rte_ether_addr){ { 0x33, 0x33, 0, 0, 0, 1 } };
	dropped_as(m, DP_DROP_L2_SOURCE);
}

static void test_ipv6_validation(void)
{
	const uint8_t five[] = { IPPROTO_HOPOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS, IPPROTO_DSTOPTS,
		IPPROTO_DSTOPTS };
	struct rte_mbuf *m;
	uint8_t *p;

	m = echo6(PEER6, OUR6, 0);
	rte_pktmbuf_trim(m, 10); /* 38 bytes of IPv6 header */
	dropped_as(m, DP_DROP_IP6_HEADER);
	m = echo6(PEER6, OUR6, 8);
	ip6_of(m)->vtc_flow = htonl(4u << 28);
	dropped_as(m, DP_DROP_IP6_HEADER);

	m = echo6(PEER6, OUR6, 8);
	ip6_of(m)->payload_len = htons(17);
	dropped_as(m, DP_DROP_IP6_LENGTH);
	/* a Jumbo payload: length 0 and the Hop-by-Hop option; the option alone too */
	m = echo6_ext(PEER6, OUR6, &our_mac, 8, (const uint8_t[]){ IPPROTO_HOPOPTS }, 1);
	p = (uint8_t *)(ip6_of(m) + 1);
	p[2] = 0xc2;
	p[3] = 4;
	ip6_of(m)->payload_len = 0;
	dropped_as(m, DP_DROP_IP6_LENGTH);
	m = echo6_ext(PEER6, OUR6, &our_mac, 8, (const uint8_t[]){ IPPROTO_HOPOPTS }, 1);
	p = (uint8_t *)(ip6_of(m) + 1);
	p[2] = 0xc2;
	p[3] = 4;
	dropped_as(m, DP_DROP_IP6_LENGTH);

	dropped_as(echo6_ext(PEER6, OUR6, &our_mac, 8, five, 5), DP_DROP_IP6_EXT_HEADER);
	dropped_as(echo6_ext(PEER6, OUR6, &our_mac, 8,
			   (const uint8_t[]){ IPPROTO_DSTOPTS, IPPROTO_HOPOPTS }, 2),
		DP_DROP_IP6_EXT_HEADER); /* Hop-by-Hop only first */
	m = echo6_ext(PEER6, OUR6, &our_mac, 8, (const uint8_t[]){ IPPROTO_ROUTING }, 1);
	((uint8_t *)(ip6_of(m) + 1))[3] = 1; /* segments left */
	dropped_as(m, DP_DROP_IP6_EXT_HEADER);
	m = echo6_ext(PEER6, OUR6, &our_mac, 8, (const uint8_t[]){ IPPROTO_DSTOPTS }, 1);
	((uint8_t *)(ip6_of(m) + 1))[1] = 3; /* 32 bytes, past the packet */
	dropped_as(m, DP_DROP_IP6_EXT_HEADER);
	m = echo6_ext(PEER6, OUR6, &our_mac, 8, (const uint8_t[]){ IPPROTO_DSTOPTS }, 1);
	((uint8_t *)(ip6_of(m) + 1))[2] = 0x80; /* unknown option: discard */
	dropped_as(m, DP_DROP_IP6_EXT_HEADER);
	dropped_as(echo6_ext(PEER6, OUR6, &our_mac, 8, (const uint8_t[]){ IPPROTO_FRAGMENT }, 1),
		DP_DROP_IP6_FRAGMENT);
	dropped_as(pkt6(PEER6, OUR6, &our_mac, NULL, 0, 99, 8, &p), DP_DROP_IP6_EXT_HEADER);
	dropped_as(pkt6(PEER6, OUR6, &our_mac, NULL, 0, IPPROTO_NONE, 8, &p),
		DP_DROP_IP6_EXT_HEADER);

	m = echo6(PEER6, OUR6, 8);
	((uint8_t *)(ip6_of(m) + 1))[9] ^= 1;
	dropped_as(m, DP_DROP_ICMP6_MALFORMED);
	dropped_as(pkt6(PEER6, OUR6, &our_mac, NULL, 0, IPPROTO_ICMPV6, 3, &p),
		DP_DROP_ICMP6_MALFORMED);

	dropped_as(echo6("ff02::2", OUR6, 8), DP_DROP_IP6_SOURCE);
	dropped_as(echo6("::1", OUR6, 8), DP_DROP_IP6_SOURCE);
	dropped_as(echo6(OUR6, OUR6, 8), DP_DROP_IP6_SOURCE);
	dropped_as(echo6(LL6, OUR6, 8), DP_DROP_IP6_SOURCE);
	dropped_as(echo6(PEER6, "2001:db8:20::9", 8), DP_DROP_IP6_NOT_LOCAL);
	dropped_as(echo6(PEER6, "ff02::fb", 8), DP_DROP_IP6_NOT_LOCAL);
	dropped_as(echo6(PEER6, "ff02::1:ff00:9", 8), DP_DROP_IP6_NOT_LOCAL);
	dropped_as(echo6(PEER6, "2001:db8:10::1", 8), DP_DROP_IP6_NOT_LOCAL); /* if 1's */

	/* TCP and UDP: the exception path (the firewall is off here) */
	for (int t = 0; t < 2; t++) {
		run1(pkt6(PEER6, OUR6, &our_mac, NULL, 0, t ? IPPROTO_TCP : IPPROTO_UDP, 20, &p));
		no_drops();
		CU_ASSERT_EQUAL(out.n_kernel, 1);
		CU_ASSERT_EQUAL(st.to_kernel, 1);
		free_out();
	}
	/* the kernel's: echo replies, errors, MLD queries; not its others */
	for (int t = 0; t < 4; t++) {
		static const uint8_t types[] = { 129, 1, 3, 130 };

		m = pkt6(PEER6, OUR6, &our_mac, NULL, 0, IPPROTO_ICMPV6, 8 + 48, &p);
		p[0] = types[t];
		run1(seal6(m, 40));
		no_drops();
		CU_ASSERT_EQUAL(out.n_kernel, 1);
		free_out();
	}
	m = pkt6(PEER6, OUR6, &our_mac, NULL, 0, IPPROTO_ICMPV6, 8, &p);
	p[0] = 200; /* private experimentation */
	dropped_as(seal6(m, 40), DP_DROP_ICMP6_OTHER);
}

/* A STUN Binding request over UDP/IPv6 from PEER6 port 40000 to @dport, with USERNAME when
 * @user, and FINGERPRINT; its UDP checksum made. */
static struct rte_mbuf *binding6(uint16_t dport, bool user)
{
	uint8_t *u;
	uint16_t mlen = 8 + (user ? 8 : 0), ulen = 8 + 20 + mlen;
	struct rte_mbuf *m = pkt6(PEER6, OUR6, &our_mac, NULL, 0, IPPROTO_UDP, ulen, &u);
	uint8_t *p = u + 8;
	uint32_t crc;

	ip6_of(m)->hop_limits = 64;
	wr16(u, htons(40000));
	wr16(u + 2, htons(dport));
	wr16(u + 4, htons(ulen));
	wr16(p, htons(STUN_BINDING_REQUEST));
	wr16(p + 2, htons(mlen));
	wr32(p + 4, htonl(STUN_MAGIC));
	for (int i = 8; i < 20; i++)
		p[i] = (uint8_t)(i * 7);
	if (user) {
		wr16(p + 20, htons(STUN_ATTR_USERNAME));
		wr16(p + 22, htons(4));
		memcpy(p + 24, "anon", 4);
	}
	crc = stun_crc32(0, p, 20 + mlen - 8) ^ STUN_FINGERPRINT_XOR;
	wr16(p + 20 + mlen - 8, htons(STUN_ATTR_FINGERPRINT));
	wr16(p + 20 + mlen - 6, htons(4));
	wr32(p + 20 + mlen - 4, htonl(crc));
	wr16(u + 6, 0);
	wr16(u + 6, rte_ipv6_udptcp_cksum(ip6_of(m), u));
	return m;
}

/* A STUN Binding to the TURN port over IPv6 is answered in place: XOR-MAPPED-ADDRESS is the
 * client's IPv6 address and port, FINGERPRINT and the UDP checksum verify; what is not a
 * plain Binding (or has a bad checksum, or reaches an interface not listening) goes on. */
static void test_stun_binding6(void)
{
	struct stun_addr mapped;
	struct rte_ipv6_hdr *ip;
	struct rte_udp_hdr *udp;
	struct stun_msg sm;
	struct rte_mbuf *m;

	l3.turn_port = htons(3478);
	l3.turn_listen = 1;
	run1(binding6(3478, false));
	no_drops();
	CU_ASSERT_EQUAL(st.stun_binding_replies, 1);
	CU_ASSERT_EQUAL_FATAL(out.n_tx, 1);
	ip = ip6_of(out.tx[0]);
	udp = (struct rte_udp_hdr *)(ip + 1);
	CU_ASSERT(memcmp(ip->src_addr, in6(OUR6), 16) == 0);
	CU_ASSERT(memcmp(ip->dst_addr, in6(PEER6), 16) == 0);
	CU_ASSERT_EQUAL(ntohs(udp->src_port), 3478);
	CU_ASSERT_EQUAL(ntohs(udp->dst_port), 40000);
	CU_ASSERT_EQUAL(ntohs(ip->payload_len), ntohs(udp->dgram_len));
	CU_ASSERT_EQUAL(out.tx[0]->pkt_len, 14 + 40 + ntohs(udp->dgram_len));
	CU_ASSERT_EQUAL(rte_ipv6_udptcp_cksum_verify(ip, udp), 0);
	CU_ASSERT_FATAL(stun_parse((uint8_t *)(udp + 1), ntohs(udp->dgram_len) - 8, &sm) == 0);
	CU_ASSERT_EQUAL(sm.method, STUN_BINDING);
	CU_ASSERT_EQUAL(sm.cls, STUN_SUCCESS);
	CU_ASSERT(stun_has(&sm, STUN_AI_FINGERPRINT));
	CU_ASSERT_FATAL(stun_get_xor_addr(&sm, STUN_AI_XOR_MAPPED_ADDRESS, &mapped) == 0);
	CU_ASSERT_EQUAL(mapped.family, 6);
	CU_ASSERT(memcmp(mapped.ip, in6(PEER6), 16) == 0);
	CU_ASSERT_EQUAL(ntohs(mapped.port), 40000);
	free_out();
	/* the browser port too */
	l3.turn_port2 = htons(443);
	run1(binding6(443, false));
	CU_ASSERT_EQUAL(out.n_tx, 1);
	free_out();
	l3.turn_port2 = 0;
	/* for the TURN server (credentials): on the punt ring, as over IPv4 (it tells IPv6 by
	 * the ethertype) */
	run1(binding6(3478, true));
	CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_TURN);
	CU_ASSERT_EQUAL(out.n_kernel + out.n_tx, 0);
	CU_ASSERT_EQUAL(st.stun_binding_replies, 0);
	free_out();
	/* a bad checksum is not answered here: the TURN server checks it, as over IPv4 */
	m = binding6(3478, false);
	((uint8_t *)(ip6_of(m) + 1))[8 + 10] ^= 1; /* the checksum no longer holds */
	run1(m);
	CU_ASSERT_EQUAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.n_kernel + out.n_tx, 0);
	free_out();
	/* bytes past the datagram (its UDP length short of the IPv6 payload): the checksum is
	 * over the UDP length (RFC 8200 8.1), and the answer carries no trailer */
	for (int over_payload = 0; over_payload < 2; over_payload++) {
		m = binding6(3478, false);
		ip = ip6_of(m);
		udp = (struct rte_udp_hdr *)(ip + 1);
		CU_ASSERT_FATAL(rte_pktmbuf_append(m, 6) != NULL);
		memset(rte_pktmbuf_mtod_offset(m, uint8_t *, m->data_len - 6), 0xaa, 6);
		ip->payload_len = htons(ntohs(udp->dgram_len) + 6);
		if (over_payload) { /* summed over the payload, trailer and all: wrong */
			udp->dgram_cksum = 0;
			udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
		}
		run1(m);
		if (!over_payload) {
			CU_ASSERT_EQUAL_FATAL(out.n_tx, 1);
			ip = ip6_of(out.tx[0]);
			udp = (struct rte_udp_hdr *)(ip + 1);
			CU_ASSERT_EQUAL(ntohs(ip->payload_len), ntohs(udp->dgram_len));
			CU_ASSERT_EQUAL(out.tx[0]->pkt_len, 14 + 40 + ntohs(udp->dgram_len));
			CU_ASSERT_EQUAL(rte_ipv6_udptcp_cksum_verify(ip, udp), 0);
		} else {
			CU_ASSERT_EQUAL(out.n_tx, 0);
			CU_ASSERT_EQUAL(out.n_punt, 1);
		}
		free_out();
	}
	run1(binding6(3479, false));
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	free_out();
	l3.turn_listen = 0;
	run1(binding6(3478, false));
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	free_out();
	l3.turn_port = 0;
}

/* The interface's firewall over IPv6 (`deny 22`, the guide's, and an IPv6 `from`): what it
 * refuses is dropped as FIREWALL before the kernel sees it; what it lets through goes on;
 * echo is answered, and Neighbour Discovery never meets the firewall, as ARP does not. */
static void test_firewall6(void)
{
	static struct fw_if_config cfg; /* 40 KB: not on the stack */
	char err[160], *deny22[] = { "deny", "22" },
		       *allow_peer[] = { "allow", "22", "from", "2001:db8:20::2/128" };
	struct fw_counters *ctr = calloc(EDGE_MAX_IFACES, sizeof(*ctr));
	struct rte_mbuf *m;
	uint8_t *p;

	dp_fw_flows = fw_flowtab_create(1024);
	CU_ASSERT_FATAL(ctr && dp_fw_flows);
	dp_fw_counters[rte_lcore_id()] = ctr;
	memset(&cfg, 0, sizeof(cfg));
	CU_ASSERT_FATAL(fw_cmd_apply(&cfg, 2, deny22, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL((l3.fw[0] = fw_compile(&cfg)) != NULL);

	m = pkt6(PEER6, OUR6, &our_mac, NULL, 0, IPPROTO_TCP, 20, &p);
	wr16(p, htons(40000));
	wr16(p + 2, htons(22));
	dropped_as(m, DP_DROP_FIREWALL);
	m = pkt6(PEER6, OUR6, &our_mac, NULL, 0, IPPROTO_TCP, 20, &p);
	wr16(p + 2, htons(445));
	run1(m);
	no_drops();
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	free_out();
	run1(echo6(PEER6, OUR6, 8));
	CU_ASSERT_EQUAL(out.n_tx, 1);
	free_out();
	run1(ns6(PEER6, SOL6, &sol_mac, OUR6, true));
	CU_ASSERT_EQUAL(st.nd_replies, 1);
	free_out();
	/* an IPv6 `from` ahead of the deny lets that host alone in */
	fw_ruleset_free(l3.fw[0]);
	memset(&cfg, 0, sizeof(cfg));
	CU_ASSERT_FATAL(fw_cmd_apply(&cfg, 4, allow_peer, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL(fw_cmd_apply(&cfg, 2, deny22, err, sizeof(err)) == 0);
	CU_ASSERT_FATAL((l3.fw[0] = fw_compile(&cfg)) != NULL);
	m = pkt6(PEER6, OUR6, &our_mac, NULL, 0, IPPROTO_TCP, 20, &p);
	wr16(p + 2, htons(22));
	run1(m);
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	free_out();
	m = pkt6("2001:db8:20::3", OUR6, &our_mac, NULL, 0, IPPROTO_TCP, 20, &p);
	wr16(p + 2, htons(22));
	dropped_as(m, DP_DROP_FIREWALL);
	fw_ruleset_free(l3.fw[0]);
	l3.fw[0] = NULL;
	dp_fw_counters[rte_lcore_id()] = NULL;
	free(ctr);
	fw_flowtab_free(dp_fw_flows);
	dp_fw_flows = NULL;
}

/* IPv6 multicast MACs are taken only where the interface has IPv6; IPv4 never rides them. */
static void test_l2_ipv6(void)
{
	struct rte_mbuf *m;

	l3.ifs[0].v6 = false;
	dropped_as(ns6(PEER6, SOL6, &sol_mac, OUR6, true), DP_DROP_L2_OTHER_HOST);
	dropped_as(echo6(PEER6, OUR6, 8), DP_DROP_L2_ETHERTYPE);
	l3.ifs[0].v6 = true;
	m = echo_request(PEER_IP, OUR_IP, 8);
	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = sol_mac;
	dropped_as(m, DP_DROP_IP_NOT_LOCAL);
}

static void test_burst_counters(void)
{
	struct rte_mbuf *pkts[40];

	for (int i = 0; i < 40; i++)
		pkts[i] = i % 2 ? echo_request(PEER_IP, OUR_IP, 56) :
				  echo_request(PEER_IP, "198.18.20.99", 56);
	memset(&st, 0, sizeof(st));
	memset(&out, 0, sizeof(out));
	dp_port_input(&l3, 0, pkts, 40, &out, &st);
	CU_ASSERT_EQUAL(st.rx_pkts, 40);
	CU_ASSERT_EQUAL(st.rx_bytes, 40 * (14 + 20 + 8 + 56));
	CU_ASSERT_EQUAL(out.n_tx, 20);
	CU_ASSERT_EQUAL(st.drops[DP_DROP_IP_NOT_LOCAL], 20);
	free_out();
	/* every mbuf is back in the pool: nothing leaked by any test so far */
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0);
}

static const struct unit_test tests[] = {
	{ "ARP request for our address is answered in place", test_arp_request_answered },
	{ "a known ARP sender is not punted again", test_arp_known_sender_not_punted },
	{ "other ARP: not for us, replies, malformed", test_arp_other },
	{ "ARP from off the interface's subnets is not learnt, and counted", test_arp_off_subnet },
	{ "ICMP echo request becomes a valid reply", test_icmp_echo },
	{ "bad ICMP is dropped, other ICMP goes to the kernel", test_icmp_bad },
	{ "IPv4 header validation, each under its reason", test_ipv4_validation },
	{ "Ethernet: not ours, own frame, other ethertypes, interface down", test_l2 },
	{ "TCP and UDP go to the kernel mirror", test_exception_path },
	{ "the relay range is the relay's on its address only", test_relay_range_owner },
	{ "IPv6: a neighbour solicitation is answered with an advertisement", test_nd_solicit },
	{ "IPv6: duplicate address detection for our address is answered to all nodes",
		test_nd_dad },
	{ "IPv6: solicitations not ours, off link or malformed; RA, redirect, MLD reports",
		test_nd_refused },
	{ "IPv6: advertisements to the control plane, ours as detection's", test_nd_advert },
	{ "IPv6: another node's advertisement goes to the control plane to learn",
		test_nd_advert_learn },
	{ "IPv6: a tentative address is not ours; its detection is watched", test_nd_tentative },
	{ "IPv6: the kernel sends only from addresses that are ours", test_kernel_source6 },
	{ "L2: our own frames come back: dropped, save a hairpin", test_own_frames },
	{ "IPv6: a STUN Binding to the TURN port is answered in place", test_stun_binding6 },
	{ "IPv6: the firewall's deny 22 and an IPv6 from, before the kernel", test_firewall6 },
	{ "IPv6: echo requests to our addresses answered, to groups not", test_icmp6_echo },
	{ "IPv6 validation, each under its reason", test_ipv6_validation },
	{ "Ethernet: 33:33 multicast only where the interface has IPv6", test_l2_ipv6 },
	{ "a mixed burst is counted and nothing leaks", test_burst_counters },
	{ NULL, NULL },
};

int main(void)
{
	char *eal[] = { "test_l2l3", "-l", "0", "--no-huge", "-m", "64", "--no-pci", "--no-shconf",
		"--log-level=lib.*:error", NULL };
	if (rte_eal_init(9, eal) < 0)
		return 1;
	mp = rte_pktmbuf_pool_create("test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (!mp || nbr_init(6) < 0)
		return 1;
	l3.ifs[0] = (struct dp_if){ .present = true,
		.up = true,
		.mac = our_mac,
		.n_addrs = 1,
		.addr = { inet_addr(OUR_IP) },
		.mask = { htonl(0xffffff00) },
		.v6 = true,
		.n_addrs6 = 1,
		.prefix6 = { 64 } };
	inet_pton(AF_INET6, OUR6, l3.ifs[0].addr6[0]);
	inet_pton(AF_INET6, LL6, l3.ifs[0].ll6);
	l3.ifs[1] = (struct dp_if){ .present = true,
		.up = true,
		.n_addrs = 1,
		.addr = { inet_addr("198.18.10.1") },
		.mask = { htonl(0xffffff00) },
		.v6 = true,
		.n_addrs6 = 1,
		.prefix6 = { 64 } };
	inet_pton(AF_INET6, "2001:db8:10::1", l3.ifs[1].addr6[0]);
	inet_pton(AF_INET6, "fe80::1", l3.ifs[1].ll6);
	l3.default_if = -1;

	int failed = unit_run("l2l3", tests);

	edge_rcu_barrier();
	nbr_fini();
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
