/* The data plane's per-packet stages on crafted mbufs: what each packet becomes (a reply on
 * the wire, a hand-off to the kernel or the control plane, or a drop under its reason).
 * DPDK runs without hugepages or devices; no root needed. */
#include "unit.h"
#include <arpa/inet.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_eal.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp.h"
#include "nbr.h"

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
	const char *senders[] = { "10.9.9.9", "198.18.21.2", "198.18.10.2", OUR_IP,
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
	m = frame(RTE_ETHER_TYPE_IPV6, &our_mac, 40);
	dropped_as(m, DP_DROP_L2_ETHERTYPE);
	m = frame(RTE_ETHER_TYPE_VLAN, &our_mac, 40);
	dropped_as(m, DP_DROP_L2_ETHERTYPE);
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
		.mask = { htonl(0xffffff00) } };
	l3.ifs[1] = (struct dp_if){ .present = true,
		.up = true,
		.n_addrs = 1,
		.addr = { inet_addr("198.18.10.1") },
		.mask = { htonl(0xffffff00) } };
	l3.default_if = -1;

	int failed = unit_run("l2l3", tests);

	edge_rcu_barrier();
	nbr_fini();
	rte_eal_cleanup();
	return failed ? 1 : 0;
}
