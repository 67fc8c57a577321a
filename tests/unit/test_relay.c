/* The TURN fast path on crafted mbufs: ChannelData from a client leaves as UDP from the
 * relay address to the peer, UDP from a peer leaves as ChannelData to the client, with
 * valid checksums and the payload untouched; and every reason not to relay is a counted
 * drop. Also the tables' publish/replace/remove under RCU. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp.h"
#include "stun.h"
#include "turn_tables.h"
#include "unit.h"

static struct rte_mempool *mp;
static struct dp_l3 l3;
static struct dp_if_stats st;
static struct dp_burst_out out;
static const struct rte_ether_addr mac_b = { { 2, 0, 0, 0, 0, 0xb } },
				   mac_a = { { 2, 0, 0, 0, 0, 0xa } };
static const struct rte_ether_addr client_mac = { { 2, 0, 0, 0, 1, 1 } },
				   peer_nh = { { 2, 0, 0, 0, 2, 2 } };
#define IF_A 0 /* internal: relay side */
#define IF_B 1 /* public: clients */
#define SERVER "198.18.20.1"
#define CLIENT "198.18.20.2"
#define RELAY "198.18.10.1"
#define PEER "198.18.10.2"

static uint32_t far(void)
{
	return turn_ticks(rte_rdtsc() + rte_get_tsc_hz() * 600);
}

static struct turn_key client_key(void)
{
	return (struct turn_key){ inet_addr(CLIENT), inet_addr(SERVER), htons(40000), htons(3478) };
}

static int publish_alloc(uint32_t alloc_exp, uint32_t perm_exp, uint32_t chan_exp, bool resolved)
{
	struct turn_alloc *a = turn_alloc_new();

	a->key = client_key();
	a->client_mac = client_mac;
	a->client_if = IF_B;
	a->relay_if = IF_A;
	a->relay_ip = inet_addr(RELAY);
	a->relay_port = htons(50000);
	a->expires = alloc_exp;
	a->n_perms = 1;
	a->pc[0].perm = (struct turn_perm){ .peer_ip = inet_addr(PEER), .expires = perm_exp };
	if (resolved)
		a->pc[0].perm.nh_mac = peer_nh;
	a->n_chans = 1;
	a->pc[0].chan = (struct turn_chan){ .peer_ip = inet_addr(PEER),
		.peer_port = htons(7000),
		.number = 0x4001,
		.perm = 0,
		.expires = chan_exp };
	return turn_alloc_publish(a);
}

static struct rte_mbuf *udp_pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
	const struct rte_ether_addr *dmac, const uint8_t *payload, uint16_t len, bool cksum)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_ether_hdr *eth =
		(struct rte_ether_hdr *)rte_pktmbuf_append(m, 14 + 20 + 8 + len);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	memset(eth, 0, 42);
	eth->dst_addr = *dmac;
	eth->src_addr = (struct rte_ether_addr){ { 2, 9, 9, 9, 9, 9 } };
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = htons(20 + 8 + len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = inet_addr(src);
	ip->dst_addr = inet_addr(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u->src_port = htons(sport);
	u->dst_port = htons(dport);
	u->dgram_len = htons(8 + len);
	memcpy(u + 1, payload, len);
	u->dgram_cksum = cksum ? rte_ipv4_udptcp_cksum(ip, u) : 0;
	return m;
}

static struct rte_mbuf *channel_data(uint16_t number, const uint8_t *data, uint16_t dlen,
	bool cksum)
{
	uint8_t buf[2048];

	buf[0] = number >> 8;
	buf[1] = number & 0xff;
	buf[2] = dlen >> 8;
	buf[3] = dlen & 0xff;
	memcpy(buf + 4, data, dlen);
	return udp_pkt(CLIENT, 40000, SERVER, 3478, &mac_b, buf, 4 + dlen, cksum);
}

static void run1(uint8_t ifi, struct rte_mbuf *m)
{
	memset(&st, 0, sizeof(st));
	memset(&out, 0, sizeof(out));
	dp_port_input(&l3, ifi, &m, 1, &out, &st);
}

static void free_out(void)
{
	dp_burst_out_free(&out);
}

static struct rte_ipv4_hdr *ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
}

static void test_client_to_peer(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	/* every length from 0 to 200 (odd and even), then the big ones, with and without a checksum */
	for (int len = 0; len <= 1400; len += len < 200 ? 1 : 97) {
		for (int ck = 0; ck <= 1; ck++) {
			struct rte_mbuf *m;
			struct rte_ipv4_hdr *ip;
			struct rte_udp_hdr *u;
			struct rte_ether_hdr *eth;

			run1(IF_B, channel_data(0x4001, data, (uint16_t)len, ck));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_A], 1);
			CU_ASSERT_EQUAL(st.relay_c2p_pkts, 1);
			m = out.fwd[IF_A][0];
			eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			ip = ip_of(m);
			u = (struct rte_udp_hdr *)(ip + 1);
			CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &peer_nh));
			CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &mac_a));
			CU_ASSERT_EQUAL(ip->src_addr, inet_addr(RELAY));
			CU_ASSERT_EQUAL(ip->dst_addr, inet_addr(PEER));
			CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
			CU_ASSERT_EQUAL(ntohs(ip->total_length), 28 + len);
			CU_ASSERT_EQUAL(m->pkt_len, 42u + len);
			CU_ASSERT_EQUAL(ntohs(u->src_port), 50000);
			CU_ASSERT_EQUAL(ntohs(u->dst_port), 7000);
			CU_ASSERT_EQUAL(ntohs(u->dgram_len), 8 + len);
			CU_ASSERT_EQUAL(memcmp(u + 1, data, len), 0);
			if (ck)
				CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, u), 0)
			else
				CU_ASSERT_EQUAL(u->dgram_cksum, 0);
			free_out();
		}
	}
}

static void test_traffic_per_allocation(void)
{
	struct turn_key k = client_key();
	uint64_t pk[2], by[2], pk0[2], by0[2];
	uint8_t d[100] = { 0 };

	CU_ASSERT_EQUAL_FATAL(turn_alloc_traffic(&k, pk0, by0), 0);
	run1(IF_B, channel_data(0x4001, d, 100, true));
	free_out();
	run1(IF_A, udp_pkt(PEER, 7000, RELAY, 50000, &mac_a, d, 60, true));
	free_out();
	CU_ASSERT_EQUAL(turn_alloc_traffic(&k, pk, by), 0);
	CU_ASSERT_EQUAL(pk[0] - pk0[0], 1);
	CU_ASSERT_EQUAL(by[0] - by0[0], 100);
	CU_ASSERT_EQUAL(pk[1] - pk0[1], 1);
	CU_ASSERT_EQUAL(by[1] - by0[1], 60);
}

static void test_padded_channel_data(void)
{
	uint8_t buf[16] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0xAA, 0xBB, 0xCC };
	struct rte_mbuf *m = udp_pkt(CLIENT, 40000, SERVER, 3478, &mac_b, buf, 12, true);
	struct rte_udp_hdr *u;

	run1(IF_B, m);
	CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_A], 1);
	u = (struct rte_udp_hdr *)(ip_of(out.fwd[IF_A][0]) + 1);
	CU_ASSERT_EQUAL(ntohs(u->dgram_len), 13);
	CU_ASSERT_EQUAL(memcmp(u + 1, "hello", 5), 0);
	CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip_of(out.fwd[IF_A][0]), u), 0);
	free_out();
}

static void test_peer_to_client(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 1);
	for (int len = 0; len <= 1400; len += len < 200 ? 1 : 97) {
		for (int ck = 0; ck <= 1; ck++) {
			struct rte_mbuf *m;
			struct rte_ipv4_hdr *ip;
			struct rte_udp_hdr *u;
			struct relay_hdr {
				uint16_t n, l;
			} * cd;
			struct rte_ether_hdr *eth;

			run1(IF_A,
				udp_pkt(PEER, 7000, RELAY, 50000, &mac_a, data, (uint16_t)len, ck));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_B], 1);
			CU_ASSERT_EQUAL(st.relay_p2c_pkts, 1);
			m = out.fwd[IF_B][0];
			eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
			ip = ip_of(m);
			u = (struct rte_udp_hdr *)(ip + 1);
			cd = (void *)(u + 1);
			CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &client_mac));
			CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &mac_b));
			CU_ASSERT_EQUAL(ip->src_addr, inet_addr(SERVER));
			CU_ASSERT_EQUAL(ip->dst_addr, inet_addr(CLIENT));
			CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
			CU_ASSERT_EQUAL(ntohs(u->src_port), 3478);
			CU_ASSERT_EQUAL(ntohs(u->dst_port), 40000);
			CU_ASSERT_EQUAL(ntohs(u->dgram_len), 12 + len);
			CU_ASSERT_EQUAL(ntohs(cd->n), 0x4001);
			CU_ASSERT_EQUAL(ntohs(cd->l), len);
			CU_ASSERT_EQUAL(m->pkt_len, 46u + len);
			CU_ASSERT_EQUAL(memcmp(cd + 1, data, len), 0);
			if (ck)
				CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, u), 0)
			else
				CU_ASSERT_EQUAL(u->dgram_cksum, 0);
			free_out();
		}
	}
}

/* A Send indication from the client: XOR-PEER-ADDRESS, optional extras, DATA (+ padding). */
static struct rte_mbuf *send_indication(const char *peer, uint16_t port, const uint8_t *data,
	uint16_t dlen, bool with_software, bool cksum)
{
	uint8_t b[2048];
	uint16_t n = 20;
	uint32_t ip = inet_addr(peer) ^ htonl(0x2112a442);
	uint16_t xp = htons(port ^ 0x2112);

	memset(b, 0, sizeof(b));
	b[0] = 0x00, b[1] = 0x16;
	b[4] = 0x21, b[5] = 0x12, b[6] = 0xa4, b[7] = 0x42;
	for (int i = 8; i < 20; i++)
		b[i] = (uint8_t)(i * 3);
	if (with_software) { /* a comprehension-optional attribute before the others */
		b[n] = 0x80, b[n + 1] = 0x22, b[n + 3] = 5;
		memcpy(b + n + 4, "edge1", 5);
		n += 4 + 8;
	}
	b[n] = 0x00, b[n + 1] = 0x12, b[n + 3] = 8;
	b[n + 5] = 0x01;
	memcpy(b + n + 6, &xp, 2);
	memcpy(b + n + 8, &ip, 4);
	n += 12;
	b[n] = 0x00, b[n + 1] = 0x13, b[n + 2] = dlen >> 8, b[n + 3] = dlen & 0xff;
	memcpy(b + n + 4, data, dlen);
	for (int i = 0; i < ((4 - (dlen & 3)) & 3); i++)
		b[n + 4 + dlen + i] = 0xEE; /* padding need not be zero */
	n += 4 + ((dlen + 3) & ~3);
	b[2] = (n - 20) >> 8, b[3] = (n - 20) & 0xff;
	return udp_pkt(CLIENT, 40000, SERVER, 3478, &mac_b, b, n, cksum);
}

static void test_send_indication(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 5 + 9);
	for (int len = 0; len <= 1300; len += len < 40 ? 1 : 101) {
		for (int v = 0; v < 4; v++) {
			bool ck = v & 1, sw = v & 2;
			struct rte_ipv4_hdr *ip;
			struct rte_udp_hdr *u;

			run1(IF_B, send_indication(PEER, 7000, data, (uint16_t)len, sw, ck));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_A], 1);
			ip = ip_of(out.fwd[IF_A][0]);
			u = (struct rte_udp_hdr *)(ip + 1);
			CU_ASSERT_EQUAL(ip->src_addr, inet_addr(RELAY));
			CU_ASSERT_EQUAL(ip->dst_addr, inet_addr(PEER));
			CU_ASSERT_EQUAL(ntohs(u->src_port), 50000);
			CU_ASSERT_EQUAL(ntohs(u->dst_port), 7000);
			CU_ASSERT_EQUAL(ntohs(u->dgram_len), 8 + len);
			CU_ASSERT_EQUAL(out.fwd[IF_A][0]->pkt_len, 42u + len);
			CU_ASSERT_EQUAL(memcmp(u + 1, data, len), 0);
			if (ck)
				CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, u), 0)
			else
				CU_ASSERT_EQUAL(u->dgram_cksum, 0);
			free_out();
		}
	}
	/* any peer port with a permission will do: Send needs no channel */
	run1(IF_B, send_indication(PEER, 9999, data, 10, false, true));
	CU_ASSERT_EQUAL(out.n_fwd[IF_A], 1);
	free_out();
}

static void test_data_indication(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 11 + 4);
	for (int len = 0; len <= 1300; len += len < 40 ? 1 : 101) {
		for (int ck = 0; ck <= 1; ck++) {
			struct rte_ipv4_hdr *ip;
			struct rte_udp_hdr *u;
			uint8_t *b;
			uint16_t pad = (4 - (len & 3)) & 3, xport;
			uint32_t xaddr;

			/* port 7001 has a permission (same IP) but no channel */
			run1(IF_A,
				udp_pkt(PEER, 7001, RELAY, 50000, &mac_a, data, (uint16_t)len, ck));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_B], 1);
			ip = ip_of(out.fwd[IF_B][0]);
			u = (struct rte_udp_hdr *)(ip + 1);
			b = (uint8_t *)(u + 1);
			CU_ASSERT_EQUAL(ip->dst_addr, inet_addr(CLIENT));
			CU_ASSERT_EQUAL(ntohs(u->dst_port), 40000);
			CU_ASSERT_EQUAL(ntohs(u->dgram_len), 8 + 36 + len + pad);
			CU_ASSERT_EQUAL(out.fwd[IF_B][0]->pkt_len, 42u + 36 + len + pad);
			CU_ASSERT(b[0] == 0x00 && b[1] == 0x17); /* Data indication */
			{
				/* and the codec, written apart, reads it as one */
				struct stun_msg sm;
				struct stun_addr pa;

				CU_ASSERT_EQUAL_FATAL(stun_parse(b, 36 + len + pad, &sm), 0);
				CU_ASSERT(sm.method == STUN_DATA && sm.cls == STUN_INDICATION);
				CU_ASSERT_EQUAL(sm.alen[STUN_AI_DATA], len);
				CU_ASSERT_EQUAL(stun_get_peer(&sm, 0, &pa), 0);
				CU_ASSERT_EQUAL(ntohs(pa.port), 7001);
			}
			CU_ASSERT_EQUAL((b[2] << 8 | b[3]), 16 + len + pad); /* STUN length */
			CU_ASSERT(b[4] == 0x21 && b[5] == 0x12 && b[6] == 0xa4 && b[7] == 0x42);
			CU_ASSERT(b[20] == 0x00 && b[21] == 0x12 && b[23] == 8 && b[25] == 0x01);
			memcpy(&xport, b + 26, 2);
			memcpy(&xaddr, b + 28, 4);
			CU_ASSERT_EQUAL(ntohs(xport) ^ 0x2112, 7001);
			CU_ASSERT_EQUAL(xaddr ^ htonl(0x2112a442), inet_addr(PEER));
			CU_ASSERT(b[32] == 0x00 && b[33] == 0x13 && (b[34] << 8 | b[35]) == len);
			CU_ASSERT_EQUAL(memcmp(b + 36, data, len), 0);
			for (int i = 0; i < pad; i++)
				CU_ASSERT_EQUAL(b[36 + len + i], 0);
			if (ck)
				CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, u), 0)
			else
				CU_ASSERT_EQUAL(u->dgram_cksum, 0);
			free_out();
		}
	}
}

static void test_binding_on_the_data_plane(void)
{
	for (int fp = 0; fp <= 1; fp++) {
		uint8_t req[128], tid[12] = { 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7 };
		struct stun_builder b;
		struct stun_msg sm;
		struct stun_addr a;
		struct rte_ipv4_hdr *ip;
		struct rte_udp_hdr *u;

		stun_build(&b, req, sizeof(req), STUN_BINDING, STUN_REQUEST, tid);
		stun_add_str(&b, STUN_ATTR_SOFTWARE, "a client");
		if (fp)
			stun_add_fingerprint(&b);
		run1(IF_B,
			udp_pkt(CLIENT, 40123, SERVER, 3478, &mac_b, req,
				(uint16_t)stun_build_end(&b), true));
		CU_ASSERT_EQUAL_FATAL(out.n_tx, 1);
		CU_ASSERT_EQUAL(st.stun_binding_replies, 1);
		ip = ip_of(out.tx[0]);
		u = (struct rte_udp_hdr *)(ip + 1);
		CU_ASSERT_EQUAL(ip->src_addr, inet_addr(SERVER));
		CU_ASSERT_EQUAL(ip->dst_addr, inet_addr(CLIENT));
		CU_ASSERT_EQUAL(ntohs(u->src_port), 3478);
		CU_ASSERT_EQUAL(ntohs(u->dst_port), 40123);
		CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
		CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, u), 0);
		CU_ASSERT(
			rte_is_same_ether_addr(&rte_pktmbuf_mtod(out.tx[0], struct rte_ether_hdr *)
							->src_addr,
				&mac_b));
		/* the codec reads it as the answer, with the client's address in it */
		CU_ASSERT_EQUAL_FATAL(stun_parse((uint8_t *)(u + 1), ntohs(u->dgram_len) - 8, &sm),
			0);
		CU_ASSERT(sm.method == STUN_BINDING && sm.cls == STUN_SUCCESS);
		CU_ASSERT_EQUAL(memcmp(sm.tid, tid, 12), 0);
		CU_ASSERT_EQUAL(stun_get_xor_addr(&sm, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
		CU_ASSERT_EQUAL(ntohs(a.port), 40123);
		CU_ASSERT_EQUAL(memcmp(a.ip, "\xc6\x12\x14\x02", 4), 0);
		CU_ASSERT_EQUAL(stun_check_fingerprint(&sm), fp ? 0 : -ENOENT);
		free_out();
	}
	/* with MESSAGE-INTEGRITY (an authenticated Binding) it is the server's */
	{
		uint8_t req[128], tid[12] = { 1 };
		struct stun_builder b;
		struct stun_key k;

		stun_key_init(&k, STUN_MAC_SHA1, (const uint8_t *)"pw", 2);
		stun_build(&b, req, sizeof(req), STUN_BINDING, STUN_REQUEST, tid);
		stun_add_str(&b, STUN_ATTR_USERNAME, "u");
		stun_add_integrity(&b, &k);
		stun_key_free(&k);
		run1(IF_B,
			udp_pkt(CLIENT, 40123, SERVER, 3478, &mac_b, req,
				(uint16_t)stun_build_end(&b), true));
		CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
		CU_ASSERT_EQUAL(out.punt[0]->hash.usr, DP_PUNT_TURN);
		CU_ASSERT_EQUAL(out.punt[0]->hash.fdir.hi, IF_B);
		CU_ASSERT_EQUAL(out.n_kernel + out.n_tx, 0);
		free_out();
	}
}

static void dropped_as(uint8_t ifi, struct rte_mbuf *m, enum dp_drop_reason r)
{
	uint64_t total = 0;

	run1(ifi, m);
	for (int i = 0; i < DP_DROP_MAX; i++)
		total += st.drops[i];
	CU_ASSERT_EQUAL(st.drops[r], 1);
	CU_ASSERT_EQUAL(total, 1);
	CU_ASSERT_EQUAL(out.n_fwd[IF_A] + out.n_fwd[IF_B] + out.n_tx + out.n_kernel, 0);
	if (st.drops[r] != 1)
		for (int i = 0; i < DP_DROP_MAX; i++)
			if (st.drops[i])
				fprintf(stderr, "\n   dropped as %s, not %s", dp_drop_name(i),
					dp_drop_name(r));
}

static void test_refusals(void)
{
	uint8_t d[8] = "abcdefg", buf[12] = { 0x40, 0x01, 0x00, 0x08 };
	uint32_t past = turn_ticks(rte_rdtsc()) - 1;

	dropped_as(IF_B, channel_data(0x4002, d, 8, true), DP_DROP_TURN_NO_CHANNEL);
	dropped_as(IF_B,
		udp_pkt(CLIENT, 40001, SERVER, 3478, &mac_b, (uint8_t[]){ 0x40, 1, 0, 0 }, 4, true),
		DP_DROP_TURN_NO_ALLOC);
	dropped_as(IF_B, udp_pkt(CLIENT, 40000, SERVER, 3478, &mac_b, buf, 6, true),
		DP_DROP_TURN_MALFORMED);
	dropped_as(IF_B,
		udp_pkt(CLIENT, 40000, SERVER, 3478, &mac_b, (uint8_t[]){ 0x40, 1 }, 2, true),
		DP_DROP_TURN_MALFORMED);
	dropped_as(IF_A, udp_pkt("198.18.10.9", 7000, RELAY, 50000, &mac_a, d, 8, true),
		DP_DROP_TURN_NO_PERMISSION);
	/* Send indications that cannot be relayed are discarded silently, and counted */
	dropped_as(IF_B, send_indication("198.18.10.9", 7000, d, 8, false, true),
		DP_DROP_TURN_NO_PERMISSION);
	{
		struct rte_mbuf *m = send_indication(PEER, 7000, d, 8, false, true);
		uint8_t *b = rte_pktmbuf_mtod_offset(m, uint8_t *, 42);

		b[3] += 4; /* STUN length past the datagram */
		dropped_as(IF_B, m, DP_DROP_TURN_MALFORMED);
		m = send_indication(PEER, 7000, d, 8, false, true);
		b = rte_pktmbuf_mtod_offset(m, uint8_t *, 42);
		b[20 + 12 + 1] =
			0x33; /* DATA becomes an unknown comprehension-required attribute */
		dropped_as(IF_B, m, DP_DROP_TURN_MALFORMED);
		m = send_indication(PEER, 7000, d, 8, false, true);
		b = rte_pktmbuf_mtod_offset(m, uint8_t *, 42);
		b[20 + 5] = 0x02; /* an IPv6 peer */
		dropped_as(IF_B, m, DP_DROP_TURN_MALFORMED);
	}
	dropped_as(IF_A, udp_pkt(PEER, 7000, RELAY, 50001, &mac_a, d, 8, true),
		DP_DROP_TURN_NO_ALLOC);
	/* expiries, each checked inline */
	CU_ASSERT_EQUAL(publish_alloc(past, far(), far(), true), 0);
	dropped_as(IF_B, channel_data(0x4001, d, 8, true), DP_DROP_TURN_EXPIRED);
	dropped_as(IF_A, udp_pkt(PEER, 7000, RELAY, 50000, &mac_a, d, 8, true),
		DP_DROP_TURN_EXPIRED);
	CU_ASSERT_EQUAL(publish_alloc(far(), past, far(), true), 0);
	dropped_as(IF_B, channel_data(0x4001, d, 8, true), DP_DROP_TURN_NO_PERMISSION);
	dropped_as(IF_A, udp_pkt(PEER, 7000, RELAY, 50000, &mac_a, d, 8, true),
		DP_DROP_TURN_NO_PERMISSION);
	CU_ASSERT_EQUAL(publish_alloc(far(), far(), past, true), 0);
	dropped_as(IF_B, channel_data(0x4001, d, 8, true), DP_DROP_TURN_NO_CHANNEL);
	CU_ASSERT_EQUAL(publish_alloc(far(), far(), far(), false), 0);
	dropped_as(IF_B, channel_data(0x4001, d, 8, true), DP_DROP_TURN_NH_UNRESOLVED);
	CU_ASSERT_EQUAL(publish_alloc(far(), far(), far(), true), 0);
	/* the STUN side of the TURN port is not the fast path's: the TURN server gets it on the
	 * punt ring, malformed or not (it answers 400), never the kernel */
	run1(IF_B,
		udp_pkt(CLIENT, 40000, SERVER, 3478, &mac_b, (uint8_t[]){ 0x00, 0x01, 0, 0 }, 4,
			true));
	CU_ASSERT_EQUAL(out.n_punt, 1);
	CU_ASSERT_EQUAL(out.n_kernel, 0);
	free_out();
	/* what is neither STUN nor ChannelData (RTP, DTLS) is no TURN message: dropped, counted */
	dropped_as(IF_B,
		udp_pkt(CLIENT, 40000, SERVER, 3478, &mac_b, (uint8_t[]){ 0x80, 0, 0, 1 }, 4, true),
		DP_DROP_TURN_MALFORMED);
	dropped_as(IF_B,
		udp_pkt(CLIENT, 40000, SERVER, 3478, &mac_b, (uint8_t[]){ 22, 0xfe, 0xfd, 0 }, 4,
			true),
		DP_DROP_TURN_MALFORMED);
}

/* A guest's permission names its media target's port (turn_perm.port): a Send indication to
 * another port of the peer, and a datagram from another port, are dropped and counted;
 * ChannelData goes by its channel, whose port the control plane checked at ChannelBind. */
static void test_peer_port(void)
{
	struct turn_key k = client_key();
	struct turn_alloc *a = turn_alloc_copy(&k);
	uint8_t d[8] = "abcdefg";

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	a->pc[0].perm.port = htons(7000);
	CU_ASSERT_EQUAL_FATAL(turn_alloc_publish(a), 0);
	dropped_as(IF_B, send_indication(PEER, 443, d, 8, false, true), DP_DROP_TURN_PEER_PORT);
	dropped_as(IF_A, udp_pkt(PEER, 443, RELAY, 50000, &mac_a, d, 8, true),
		DP_DROP_TURN_PEER_PORT);
	run1(IF_B, send_indication(PEER, 7000, d, 8, false, true));
	CU_ASSERT_EQUAL(out.n_fwd[IF_A], 1);
	free_out();
	run1(IF_A, udp_pkt(PEER, 7000, RELAY, 50000, &mac_a, d, 8, true));
	CU_ASSERT_EQUAL(out.n_fwd[IF_B], 1);
	free_out();
	run1(IF_B, channel_data(0x4001, d, 8, true));
	CU_ASSERT_EQUAL(out.n_fwd[IF_A], 1);
	free_out();
	CU_ASSERT_EQUAL(publish_alloc(far(), far(), far(), true), 0); /* any port again */
	run1(IF_B, send_indication(PEER, 443, d, 8, false, true));
	CU_ASSERT_EQUAL(out.n_fwd[IF_A], 1);
	free_out();
}

static void test_bandwidth_cap(void)
{
	uint8_t d[1000] = { 0 };
	uint64_t passed = 0, limited = 0;

	/* 100 kB/s each way, 10 kB bucket */
	l3.turn_rate = (uint64_t)((100000.0 / rte_get_tsc_hz()) * 4294967296.0);
	l3.turn_burst = 10000;
	for (int i = 0; i < 30; i++) {
		run1(IF_B, channel_data(0x4001, d, sizeof(d), true));
		passed += out.n_fwd[IF_A];
		limited += st.drops[DP_DROP_TURN_RATE_LIMIT];
		free_out();
	}
	CU_ASSERT(passed >= 9 && passed <= 11); /* the bucket's depth, and no more */
	CU_ASSERT_EQUAL(passed + limited, 30);
	/* the other direction has its own bucket */
	run1(IF_A, udp_pkt(PEER, 7000, RELAY, 50000, &mac_a, d, sizeof(d), true));
	CU_ASSERT_EQUAL(out.n_fwd[IF_B], 1);
	free_out();
	/* a bucket holding exactly 5 kB lets 5 packets of 1 kB through (set directly, so the
	 * test does not depend on how long this machine takes between two lines) */
	{
		const struct turn_alloc *a = turn_by_client(&(struct turn_key){ inet_addr(CLIENT),
			inet_addr(SERVER), htons(40000), htons(3478) });
		struct turn_bucket *bk =
			&turn_tab.buckets[rte_lcore_id()][a - turn_tab.objs].bucket[0];

		bk->tokens = (uint64_t)5000 << 32;
		bk->last = rte_rdtsc();
	}
	passed = 0;
	for (int i = 0; i < 10; i++) {
		run1(IF_B, channel_data(0x4001, d, sizeof(d), true));
		passed += out.n_fwd[IF_A];
		free_out();
	}
	CU_ASSERT(passed >= 5 && passed <= 6); /* 6 only if this took over 10 ms */
	l3.turn_rate = 0;
	run1(IF_B, channel_data(0x4001, d, sizeof(d), true));
	CU_ASSERT_EQUAL(out.n_fwd[IF_A], 1); /* no cap, no limit */
	free_out();
}

static void test_remove(void)
{
	struct turn_key k = client_key();
	uint8_t d[4] = "abc";

	CU_ASSERT_EQUAL(turn_tab.n_allocs, 1);
	CU_ASSERT_EQUAL(turn_alloc_remove(&k), 0);
	CU_ASSERT_EQUAL(turn_alloc_remove(&k), -ENOENT);
	dropped_as(IF_B, channel_data(0x4001, d, 4, true), DP_DROP_TURN_NO_ALLOC);
	dropped_as(IF_A, udp_pkt(PEER, 7000, RELAY, 50000, &mac_a, d, 4, true),
		DP_DROP_TURN_NO_ALLOC);
	/* after the grace period the slot and the port come back */
	edge_rcu_offline();
	edge_rcu_barrier();
	edge_rcu_online();
	CU_ASSERT(turn_tables_reclaim() >= 1); /* the removed one, and the versions it replaced */
	CU_ASSERT_EQUAL(turn_tab.n_free, turn_tab.capacity);
	CU_ASSERT_EQUAL(turn_tab.n_free_objs, turn_tab.n_objs); /* no object leaked */
	CU_ASSERT_EQUAL(publish_alloc(far(), far(), far(), true), 0);
	run1(IF_B, channel_data(0x4001, d, 4, true));
	CU_ASSERT_EQUAL(out.n_fwd[IF_A], 1);
	free_out();
}

/* A client on TCP/TLS: peers' datagrams pass the permission check here, then go to the control
 * plane on their own ring (out.data), untouched; nothing of theirs leaves for the wire. */
static void test_stream_client(void)
{
	struct turn_alloc *a = turn_alloc_new();
	struct turn_key k = turn_stream_key(77);
	uint8_t d[5] = "abcd";
	struct rte_mbuf *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	a->key = k;
	a->client_if = TURN_CLIENT_STREAM;
	a->relay_if = IF_A;
	a->relay_ip = inet_addr(RELAY);
	a->relay_port = htons(50002);
	a->expires = far();
	a->n_perms = 1;
	a->pc[0].perm = (struct turn_perm){ .peer_ip = inet_addr(PEER),
		.nh_mac = peer_nh,
		.expires = far() };
	CU_ASSERT_EQUAL_FATAL(turn_alloc_publish(a), 0);
	edge_rcu_quiescent();
	run1(IF_A, udp_pkt(PEER, 7000, RELAY, 50002, &mac_a, d, 5, true));
	CU_ASSERT_EQUAL_FATAL(out.n_data, 1);
	CU_ASSERT_EQUAL(out.n_punt + out.n_fwd[IF_A] + out.n_fwd[IF_B], 0);
	m = out.data[0];
	CU_ASSERT_EQUAL(m->hash.usr, DP_PUNT_TURN_STREAM);
	CU_ASSERT_EQUAL(ip_of(m)->dst_addr,
		inet_addr(RELAY)); /* as it came, for the control plane */
	CU_ASSERT_EQUAL(st.relay_p2c_pkts, 1);
	free_out();
	/* a peer without a permission: dropped here, the control plane never sees it */
	dropped_as(IF_A, udp_pkt("198.18.10.9", 7000, RELAY, 50002, &mac_a, d, 5, true),
		DP_DROP_TURN_NO_PERMISSION);
	CU_ASSERT_EQUAL(out.n_data, 0);
	CU_ASSERT_EQUAL(turn_alloc_remove(&k), 0);
}

static void test_table_limits(void)
{
	struct turn_alloc *a = turn_alloc_new();

	/* a second allocation may not take a relay port in use */
	a->key = client_key();
	a->key.client_port = htons(40009);
	a->relay_if = IF_A;
	a->relay_ip = inet_addr(RELAY);
	a->relay_port = htons(50000);
	CU_ASSERT_EQUAL(turn_alloc_publish(a), -EADDRINUSE);
	a->relay_port = htons(50002);
	a->n_perms = TURN_MAX_PERMS + 1;
	CU_ASSERT_EQUAL(turn_alloc_publish(a), -EINVAL);
	turn_alloc_discard(a);
	CU_ASSERT_EQUAL(rte_mempool_in_use_count(mp), 0); /* nothing leaked by the fast path */
}

/* --- an IPv6 client (issue 18): its allocation is keyed by turn_key6 and holds both IPv6
 * addresses; the relay address and the peer stay IPv4 --- */
#define SERVER6 "2001:db8:20::1"
#define CLIENT6 "2001:db8:20::2"
#define OTHER6 "2001:db8:20::3"

static const uint8_t *in6(const char *s)
{
	static uint8_t a[4][16];
	static unsigned int n;
	uint8_t *p = a[n++ & 3];

	if (inet_pton(AF_INET6, s, p) != 1)
		abort(); /* also called from main, before any test */
	return p;
}

static struct turn_key client_key6(void)
{
	return turn_key6(in6(CLIENT6), in6(SERVER6), htons(40006), htons(3478));
}

/* The IPv6 client's allocation: relay port 50006, a permission for PEER and channel 0x4006
 * to PEER:7006; @client6 is the address it holds for its client (CLIENT6, or another one to
 * forge a key collision). */
static int publish_alloc6(const char *client6)
{
	struct turn_alloc *a = turn_alloc_new();

	a->key = client_key6();
	memcpy(a->client_ip6, in6(client6), 16);
	memcpy(a->server_ip6, in6(SERVER6), 16);
	a->client_mac = client_mac;
	a->client_if = IF_B;
	a->relay_if = IF_A;
	a->relay_ip = inet_addr(RELAY);
	a->relay_port = htons(50006);
	a->expires = far();
	a->n_perms = 1;
	a->pc[0].perm = (struct turn_perm){ .peer_ip = inet_addr(PEER),
		.nh_mac = peer_nh,
		.expires = far() };
	a->n_chans = 1;
	a->pc[0].chan = (struct turn_chan){ .peer_ip = inet_addr(PEER),
		.peer_port = htons(7006),
		.number = 0x4006,
		.perm = 0,
		.expires = far() };
	return turn_alloc_publish(a);
}

static struct rte_mbuf *udp6_pkt(const char *src, uint16_t sport, const char *dst, uint16_t dport,
	const uint8_t *payload, uint16_t len, bool cksum)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *f = (uint8_t *)rte_pktmbuf_append(m, 14 + 40 + 8 + len);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(f + 14);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(f + 14 + 40);

	if (!m || !f)
		abort();
	memset(f, 0, 14 + 40 + 8);
	eth->dst_addr = mac_b;
	eth->src_addr = (struct rte_ether_addr){ { 2, 9, 9, 9, 9, 9 } };
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = htonl(6u << 28 | 0x12345); /* a flow label: not carried over */
	ip->payload_len = htons(8 + len);
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 57;
	memcpy(ip->src_addr, in6(src), 16);
	memcpy(ip->dst_addr, in6(dst), 16);
	u->src_port = htons(sport);
	u->dst_port = htons(dport);
	u->dgram_len = htons(8 + len);
	memcpy(u + 1, payload, len);
	u->dgram_cksum = cksum ? rte_ipv6_udptcp_cksum(ip, u) : 0;
	return m;
}

/* ChannelData from @src6:40006, @pad bytes of padding (0xEE) after the data. */
static struct rte_mbuf *channel_data6(const char *src6, uint16_t number, const uint8_t *data,
	uint16_t dlen, uint16_t pad)
{
	uint8_t buf[2048];

	buf[0] = number >> 8;
	buf[1] = number & 0xff;
	buf[2] = dlen >> 8;
	buf[3] = dlen & 0xff;
	memcpy(buf + 4, data, dlen);
	memset(buf + 4 + dlen, 0xEE, pad);
	return udp6_pkt(src6, 40006, SERVER6, 3478, buf, 4 + dlen + pad, true);
}

static struct rte_ipv6_hdr *ip6_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14);
}

/* What reaches the peer from the IPv6 client: IPv4 UDP from the relay address to PEER:@port,
 * with the payload @data and a checksum that verifies. */
static void check_to_peer(struct rte_mbuf *m, uint16_t port, const uint8_t *data, int len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	CU_ASSERT_EQUAL(eth->ether_type, htons(RTE_ETHER_TYPE_IPV4));
	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &peer_nh));
	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &mac_a));
	CU_ASSERT_EQUAL(ip->version_ihl, 0x45);
	CU_ASSERT_EQUAL(ip->src_addr, inet_addr(RELAY));
	CU_ASSERT_EQUAL(ip->dst_addr, inet_addr(PEER));
	CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
	CU_ASSERT_EQUAL(ntohs(ip->total_length), 28 + len);
	CU_ASSERT_EQUAL(m->pkt_len, 42u + len);
	CU_ASSERT_EQUAL(ntohs(u->src_port), 50006);
	CU_ASSERT_EQUAL(ntohs(u->dst_port), port);
	CU_ASSERT_EQUAL(ntohs(u->dgram_len), 8 + len);
	CU_ASSERT_EQUAL(memcmp(u + 1, data, len), 0);
	CU_ASSERT_NOT_EQUAL(u->dgram_cksum, 0);
	CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, u), 0);
}

/* What reaches the IPv6 client: IPv6 UDP from SERVER6:3478 to CLIENT6:40006 with @ulen bytes
 * of UDP, its checksum present and valid; returns the UDP payload. */
static uint8_t *check_to_client6(struct rte_mbuf *m, uint16_t ulen)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = ip6_of(m);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	CU_ASSERT_EQUAL(eth->ether_type, htons(RTE_ETHER_TYPE_IPV6));
	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &client_mac));
	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &mac_b));
	CU_ASSERT_EQUAL(ip->vtc_flow, htonl(6u << 28));
	CU_ASSERT_EQUAL(ip->proto, IPPROTO_UDP);
	CU_ASSERT_EQUAL(ip->hop_limits, 64);
	CU_ASSERT_EQUAL(memcmp(ip->src_addr, in6(SERVER6), 16), 0);
	CU_ASSERT_EQUAL(memcmp(ip->dst_addr, in6(CLIENT6), 16), 0);
	CU_ASSERT_EQUAL(ntohs(ip->payload_len), ulen);
	CU_ASSERT_EQUAL(m->pkt_len, 14u + 40 + ulen);
	CU_ASSERT_EQUAL(ntohs(u->src_port), 3478);
	CU_ASSERT_EQUAL(ntohs(u->dst_port), 40006);
	CU_ASSERT_EQUAL(ntohs(u->dgram_len), ulen);
	CU_ASSERT_NOT_EQUAL(u->dgram_cksum, 0);
	CU_ASSERT_EQUAL(rte_ipv6_udptcp_cksum_verify(ip, u), 0);
	return (uint8_t *)(u + 1);
}

static void test_client6_to_peer(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 5);
	for (int len = 0; len <= 1400; len += len < 200 ? 1 : 97) {
		for (uint16_t pad = 0; pad <= 3; pad += 3) { /* padded: the data summed itself */
			run1(IF_B, channel_data6(CLIENT6, 0x4006, data, (uint16_t)len, pad));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_A], 1);
			CU_ASSERT_EQUAL(st.relay_c2p_pkts, 1);
			check_to_peer(out.fwd[IF_A][0], 7006, data, len);
			free_out();
		}
	}
	/* one burst, both families: each found under its own key */
	{
		struct rte_mbuf *m[4] = { channel_data(0x4001, data, 100, true),
			channel_data6(CLIENT6, 0x4006, data, 101, 0),
			channel_data(0x4001, data, 102, true),
			channel_data6(CLIENT6, 0x4006, data, 103, 0) };

		memset(&st, 0, sizeof(st));
		memset(&out, 0, sizeof(out));
		dp_port_input(&l3, IF_B, m, 4, &out, &st);
		CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_A], 4);
		for (int i = 0; i < 4; i++) {
			struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip_of(out.fwd[IF_A][i]) + 1);

			CU_ASSERT_EQUAL(ntohs(u->dst_port), i & 1 ? 7006 : 7000);
			CU_ASSERT_EQUAL(ntohs(u->dgram_len), 8 + 100 + i);
			CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip_of(out.fwd[IF_A][i]), u),
				0);
		}
		free_out();
	}
}

/* A Send indication from the IPv6 client (send_indication's message, over IPv6). */
static struct rte_mbuf *send_indication6(const char *src6, uint16_t port, const uint8_t *data,
	uint16_t dlen, bool with_software)
{
	struct rte_mbuf *m4 = send_indication(PEER, port, data, dlen, with_software, false);
	struct rte_udp_hdr *u4 = (struct rte_udp_hdr *)(ip_of(m4) + 1);
	struct rte_mbuf *m = udp6_pkt(src6, 40006, SERVER6, 3478, (const uint8_t *)(u4 + 1),
		ntohs(u4->dgram_len) - 8, true);

	rte_pktmbuf_free(m4);
	return m;
}

static void test_send6(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 5 + 2);
	for (int len = 0; len <= 1300; len += len < 40 ? 1 : 101) {
		for (int sw = 0; sw <= 1; sw++) {
			run1(IF_B, send_indication6(CLIENT6, 7011, data, (uint16_t)len, sw));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_A], 1);
			CU_ASSERT_EQUAL(st.relay_c2p_pkts, 1);
			check_to_peer(out.fwd[IF_A][0], 7011, data, len);
			free_out();
		}
	}
}

static void test_peer_to_client6(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 7);
	for (int len = 0; len <= 1400; len += len < 200 ? 1 : 97) {
		for (int ck = 0; ck <= 1; ck++) { /* the peer's checksum 0: summed here */
			uint8_t *b;

			run1(IF_A,
				udp_pkt(PEER, 7006, RELAY, 50006, &mac_a, data, (uint16_t)len, ck));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_B], 1);
			CU_ASSERT_EQUAL(st.relay_p2c_pkts, 1);
			b = check_to_client6(out.fwd[IF_B][0], (uint16_t)(12 + len));
			CU_ASSERT_EQUAL((b[0] << 8 | b[1]), 0x4006);
			CU_ASSERT_EQUAL((b[2] << 8 | b[3]), len);
			CU_ASSERT_EQUAL(memcmp(b + 4, data, len), 0);
			free_out();
		}
	}
}

static void test_data_indication6(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 11 + 9);
	for (int len = 0; len <= 1300; len += len < 40 ? 1 : 101) {
		for (int ck = 0; ck <= 1; ck++) {
			uint16_t pad = (4 - (len & 3)) & 3;
			struct stun_msg sm;
			struct stun_addr pa;
			uint8_t *b;

			/* port 7001: a permission for PEER, no channel */
			run1(IF_A,
				udp_pkt(PEER, 7001, RELAY, 50006, &mac_a, data, (uint16_t)len, ck));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_B], 1);
			b = check_to_client6(out.fwd[IF_B][0], (uint16_t)(8 + 36 + len + pad));
			CU_ASSERT_EQUAL_FATAL(stun_parse(b, 36 + len + pad, &sm), 0);
			CU_ASSERT(sm.method == STUN_DATA && sm.cls == STUN_INDICATION);
			CU_ASSERT_EQUAL(sm.alen[STUN_AI_DATA], len);
			CU_ASSERT_EQUAL_FATAL(stun_get_peer(&sm, 0, &pa), 0);
			CU_ASSERT_EQUAL(pa.family, 4);
			CU_ASSERT_EQUAL(ntohs(pa.port), 7001);
			CU_ASSERT_EQUAL(memcmp(pa.ip, "\xc6\x12\x0a\x02", 4), 0); /* PEER */
			CU_ASSERT_EQUAL(memcmp(b + 36, data, len), 0);
			for (int i = 0; i < pad; i++)
				CU_ASSERT_EQUAL(b[36 + len + i], 0);
			free_out();
		}
	}
}

/* The key holds a hash of the client's addresses: another source with the same ports is no
 * client (no allocation under its key), and neither is a packet whose key meets an
 * allocation made for other addresses (a collision, forged here). */
static void test_refusals6(void)
{
	uint8_t d[8] = "abcdefg";

	dropped_as(IF_B, channel_data6(OTHER6, 0x4006, d, 8, 0), DP_DROP_TURN_NO_ALLOC);
	dropped_as(IF_B, send_indication6(OTHER6, 7006, d, 8, false), DP_DROP_TURN_NO_ALLOC);
	CU_ASSERT_EQUAL_FATAL(publish_alloc6(OTHER6), 0); /* CLIENT6's key, OTHER6's address */
	dropped_as(IF_B, channel_data6(CLIENT6, 0x4006, d, 8, 0), DP_DROP_TURN_NO_ALLOC);
	dropped_as(IF_B, send_indication6(CLIENT6, 7006, d, 8, false), DP_DROP_TURN_NO_ALLOC);
	CU_ASSERT_EQUAL_FATAL(publish_alloc6(CLIENT6), 0);
	{ /* our other address is no server address of this allocation */
		struct turn_key k = client_key6();
		struct turn_alloc *a = turn_alloc_copy(&k);

		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		a->server_ip6[15] ^= 1;
		CU_ASSERT_EQUAL_FATAL(turn_alloc_publish(a), 0);
		dropped_as(IF_B, channel_data6(CLIENT6, 0x4006, d, 8, 0), DP_DROP_TURN_NO_ALLOC);
		CU_ASSERT_EQUAL_FATAL(publish_alloc6(CLIENT6), 0);
	}
	run1(IF_B, channel_data6(CLIENT6, 0x4006, d, 8, 0));
	CU_ASSERT_EQUAL(out.n_fwd[IF_A], 1);
	free_out();
	/* no checksum is no IPv6 UDP (RFC 8200 8.1); RTP on the TURN port no TURN message */
	{
		struct rte_mbuf *m = channel_data6(CLIENT6, 0x4006, d, 8, 0);

		((struct rte_udp_hdr *)(ip6_of(m) + 1))->dgram_cksum = 0;
		dropped_as(IF_B, m, DP_DROP_TURN_MALFORMED);
	}
	dropped_as(IF_B,
		udp6_pkt(CLIENT6, 40006, SERVER6, 3478, (uint8_t[]){ 0x80, 0, 0, 1 }, 4, true),
		DP_DROP_TURN_MALFORMED);
	dropped_as(IF_B,
		udp6_pkt(CLIENT6, 40006, SERVER6, 3478, (uint8_t[]){ 0x40, 6, 0, 9, 1 }, 5, true),
		DP_DROP_TURN_MALFORMED); /* ChannelData longer than its datagram */
	dropped_as(IF_B, channel_data6(CLIENT6, 0x4007, d, 8, 0), DP_DROP_TURN_NO_CHANNEL);
	/* a relay port over IPv6 is not relayed (no IPv6 relay address): the kernel's */
	run1(IF_B, udp6_pkt(CLIENT6, 7006, SERVER6, 50006, d, 8, true));
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	CU_ASSERT_EQUAL(out.n_fwd[IF_A] + out.n_fwd[IF_B], 0);
	free_out();
}

/* Requests over IPv6 go to the TURN server on the punt ring (it tells IPv6 by the
 * ethertype), a plain Binding is answered in place. */
static void test_requests6(void)
{
	uint8_t req[128], tid[12] = { 6 };
	struct stun_builder b;
	struct rte_mbuf *m;
	struct turn_key k = client_key6();

	stun_build(&b, req, sizeof(req), STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_add_str(&b, STUN_ATTR_USERNAME, "u");
	run1(IF_B,
		udp6_pkt(CLIENT6, 40006, SERVER6, 3478, req, (uint16_t)stun_build_end(&b), true));
	CU_ASSERT_EQUAL_FATAL(out.n_punt, 1);
	m = out.punt[0];
	CU_ASSERT_EQUAL(m->hash.usr, DP_PUNT_TURN);
	CU_ASSERT_EQUAL(m->hash.fdir.hi, IF_B);
	CU_ASSERT_EQUAL(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type,
		htons(RTE_ETHER_TYPE_IPV6));
	CU_ASSERT_EQUAL(out.n_kernel + out.n_tx + out.n_fwd[IF_A], 0);
	free_out();
	stun_build(&b, req, sizeof(req), STUN_BINDING, STUN_REQUEST, tid);
	run1(IF_B,
		udp6_pkt(CLIENT6, 40006, SERVER6, 3478, req, (uint16_t)stun_build_end(&b), true));
	CU_ASSERT_EQUAL(out.n_tx, 1);
	CU_ASSERT_EQUAL(out.n_punt + out.n_kernel, 0);
	free_out();
	/* the IPv6 client's allocation goes: the tests after this one count one allocation */
	CU_ASSERT_EQUAL(turn_alloc_remove(&k), 0);
	dropped_as(IF_B, channel_data6(CLIENT6, 0x4006, (uint8_t *)"abcd", 4, 0),
		DP_DROP_TURN_NO_ALLOC);
}

/* --- IPv6 peers (issue 18): allocations with an IPv6 relayed address, RELAY6 on IF_A. */
#define RELAY6 "2001:db8:10::1"
#define PEER6 "2001:db8:10::2"
#define PEER6B "2001:db8:10::3" /* no permission */
#define CLIENT4B "198.18.20.5"	/* the IPv4 client of an allocation with IPv6 peers */
#define P6_CLIENT_PORT4 40010
#define P6_CLIENT_PORT6 40016
#define P6_RELAY_PORT4 50010 /* the IPv4 client's relay port, IPv4 and IPv6 */
#define P6_RELAY_PORT6 50016 /* the IPv6 client's: an IPv6 relayed address only */

static struct turn_key p6_key(bool v6client)
{
	if (v6client)
		return turn_key6(in6(CLIENT6), in6(SERVER6), htons(P6_CLIENT_PORT6), htons(3478));
	return (struct turn_key){ inet_addr(CLIENT4B), inet_addr(SERVER), htons(P6_CLIENT_PORT4),
		htons(3478) };
}

/* An allocation with IPv6 peers: for the IPv4 client, relayed addresses RELAY and RELAY6
 * (port 50010), an IPv4 permission for PEER (channel 0x4011 to PEER:7011) when @with4, and
 * an IPv6 one for PEER6 (channel 0x4010 to PEER6:7010); for the IPv6 client (@v6client),
 * RELAY6 alone (port 50016), PEER6 and channel 0x4016 to PEER6:7016. The IPv6 permission
 * expires at @perm_exp, allows port @perm_port (0: any), its next hop @resolved or not. */
static int publish_p6(bool v6client, bool with4, uint32_t perm_exp, uint16_t perm_port,
	bool resolved)
{
	struct turn_alloc *a = turn_alloc_new();
	unsigned int h = TURN_PERM6_HEAD(0);

	if (!a)
		return -ENOMEM;
	a->key = p6_key(v6client);
	if (v6client) {
		memcpy(a->client_ip6, in6(CLIENT6), 16);
		memcpy(a->server_ip6, in6(SERVER6), 16);
	}
	a->client_mac = client_mac;
	a->client_if = IF_B;
	a->relay_if = IF_A;
	a->relay_ip = v6client ? 0 : inet_addr(RELAY);
	a->relay6 = true;
	memcpy(a->relay_ip6, in6(RELAY6), 16);
	a->relay_port = htons(v6client ? P6_RELAY_PORT6 : P6_RELAY_PORT4);
	a->expires = far();
	a->n_perms6 = 1;
	a->pc[h].perm = (struct turn_perm){ .port = htons(perm_port), .expires = perm_exp };
	if (resolved)
		a->pc[h].perm.nh_mac = peer_nh;
	memcpy(a->pc[h - 1].peer_ip6, in6(PEER6), 16);
	a->pc[0].chan = (struct turn_chan){ .peer_port = htons(v6client ? 7016 : 7010),
		.number = v6client ? 0x4016 : 0x4010,
		.perm = (uint8_t)h,
		.expires = far() };
	a->n_chans = 1;
	if (with4 && !v6client) {
		a->n_perms = 1;
		a->pc[0].perm = (struct turn_perm){ .peer_ip = inet_addr(PEER),
			.nh_mac = peer_nh,
			.expires = far() };
		a->pc[1].chan = (struct turn_chan){ .peer_ip = inet_addr(PEER),
			.peer_port = htons(7011),
			.number = 0x4011,
			.perm = 0,
			.expires = far() };
		a->n_chans = 2;
	}
	return turn_alloc_publish(a);
}

static void p6_remove(bool v6client)
{
	struct turn_key k = p6_key(v6client);

	CU_ASSERT_EQUAL(turn_alloc_remove(&k), 0);
}

/* An IPv6 UDP frame to @dmac (udp6_pkt's, which goes to the client side). */
static struct rte_mbuf *udp6_frame(const struct rte_ether_addr *dmac, const char *src,
	uint16_t sport, const char *dst, uint16_t dport, const uint8_t *payload, uint16_t len,
	bool cksum)
{
	struct rte_mbuf *m = udp6_pkt(src, sport, dst, dport, payload, len, cksum);

	rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->dst_addr = *dmac;
	return m;
}

/* What a peer sends the relay: UDP over IPv6 from @src6:@sport to RELAY6:@rport. */
static struct rte_mbuf *from_peer6(const char *src6, uint16_t sport, uint16_t rport,
	const uint8_t *data, uint16_t len, bool cksum)
{
	return udp6_frame(&mac_a, src6, sport, RELAY6, rport, data, len, cksum);
}

/* ChannelData @number from the IPv4 or the IPv6 client of publish_p6 (the checksum @ck or
 * none, over IPv4). */
static struct rte_mbuf *p6_channel_data(bool v6client, uint16_t number, const uint8_t *data,
	uint16_t dlen, bool ck)
{
	uint8_t buf[2048];

	buf[0] = number >> 8;
	buf[1] = number & 0xff;
	buf[2] = dlen >> 8;
	buf[3] = dlen & 0xff;
	memcpy(buf + 4, data, dlen);
	if (v6client)
		return udp6_pkt(CLIENT6, P6_CLIENT_PORT6, SERVER6, 3478, buf, 4 + dlen, true);
	return udp_pkt(CLIENT4B, P6_CLIENT_PORT4, SERVER, 3478, &mac_b, buf, 4 + dlen, ck);
}

/* A Send indication to IPv6 peer @peer6:@port (XOR-PEER-ADDRESS family 2, 20 bytes: the
 * address XORed with the magic cookie and the transaction ID), from either client. */
static struct rte_mbuf *p6_send(bool v6client, const char *peer6, uint16_t port,
	const uint8_t *data, uint16_t dlen, bool ck)
{
	const uint8_t *ip = in6(peer6);
	uint8_t b[2048];
	uint16_t n = 20;

	memset(b, 0, sizeof(b));
	b[0] = 0x00, b[1] = 0x16;
	b[4] = 0x21, b[5] = 0x12, b[6] = 0xa4, b[7] = 0x42;
	for (int i = 8; i < 20; i++)
		b[i] = (uint8_t)(i * 7 + 1);
	b[n] = 0x00, b[n + 1] = 0x12, b[n + 3] = 20;
	b[n + 5] = 0x02;
	b[n + 6] = (port >> 8) ^ 0x21;
	b[n + 7] = (port & 0xff) ^ 0x12;
	for (int i = 0; i < 16; i++)
		b[n + 8 + i] = ip[i] ^ b[4 + i]; /* cookie, then transaction ID */
	n += 24;
	b[n] = 0x00, b[n + 1] = 0x13, b[n + 2] = dlen >> 8, b[n + 3] = dlen & 0xff;
	memcpy(b + n + 4, data, dlen);
	for (int i = 0; i < ((4 - (dlen & 3)) & 3); i++)
		b[n + 4 + dlen + i] = 0xEE;
	n += 4 + ((dlen + 3) & ~3);
	b[2] = (n - 20) >> 8, b[3] = (n - 20) & 0xff;
	if (v6client)
		return udp6_pkt(CLIENT6, P6_CLIENT_PORT6, SERVER6, 3478, b, n, true);
	return udp_pkt(CLIENT4B, P6_CLIENT_PORT4, SERVER, 3478, &mac_b, b, n, ck);
}

/* What reaches an IPv6 peer: IPv6 UDP from RELAY6:@sport to PEER6:@dport, the payload @data,
 * hop limit 64, its checksum present and valid (recomputed). */
static void check_to_peer6(struct rte_mbuf *m, uint16_t sport, uint16_t dport, const uint8_t *data,
	int len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = ip6_of(m);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	CU_ASSERT_EQUAL(eth->ether_type, htons(RTE_ETHER_TYPE_IPV6));
	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &peer_nh));
	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &mac_a));
	CU_ASSERT_EQUAL(ip->vtc_flow, htonl(6u << 28));
	CU_ASSERT_EQUAL(ip->proto, IPPROTO_UDP);
	CU_ASSERT_EQUAL(ip->hop_limits, 64);
	CU_ASSERT_EQUAL(memcmp(ip->src_addr, in6(RELAY6), 16), 0);
	CU_ASSERT_EQUAL(memcmp(ip->dst_addr, in6(PEER6), 16), 0);
	CU_ASSERT_EQUAL(ntohs(ip->payload_len), 8 + len);
	CU_ASSERT_EQUAL(m->pkt_len, 14u + 40 + 8 + len);
	CU_ASSERT_EQUAL(m->data_len, m->pkt_len);
	CU_ASSERT_EQUAL(ntohs(u->src_port), sport);
	CU_ASSERT_EQUAL(ntohs(u->dst_port), dport);
	CU_ASSERT_EQUAL(ntohs(u->dgram_len), 8 + len);
	CU_ASSERT_EQUAL(memcmp(u + 1, data, len), 0);
	CU_ASSERT_NOT_EQUAL(u->dgram_cksum, 0);
	CU_ASSERT_EQUAL(rte_ipv6_udptcp_cksum_verify(ip, u), 0);
}

/* What reaches publish_p6's client from a peer: @ulen bytes of UDP from our TURN port, over
 * IPv4 (its checksum valid, or 0 when @ck is false) or IPv6 (present and valid). Returns the
 * UDP payload. */
static uint8_t *check_p6_to_client(struct rte_mbuf *m, bool v6client, uint16_t ulen, bool ck)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_udp_hdr *u;

	CU_ASSERT(rte_is_same_ether_addr(&eth->dst_addr, &client_mac));
	CU_ASSERT(rte_is_same_ether_addr(&eth->src_addr, &mac_b));
	CU_ASSERT_EQUAL(m->data_len, m->pkt_len);
	if (v6client) {
		struct rte_ipv6_hdr *ip = ip6_of(m);

		u = (struct rte_udp_hdr *)(ip + 1);
		CU_ASSERT_EQUAL(eth->ether_type, htons(RTE_ETHER_TYPE_IPV6));
		CU_ASSERT_EQUAL(ip->vtc_flow, htonl(6u << 28));
		CU_ASSERT_EQUAL(ip->hop_limits, 64);
		CU_ASSERT_EQUAL(memcmp(ip->src_addr, in6(SERVER6), 16), 0);
		CU_ASSERT_EQUAL(memcmp(ip->dst_addr, in6(CLIENT6), 16), 0);
		CU_ASSERT_EQUAL(ntohs(ip->payload_len), ulen);
		CU_ASSERT_EQUAL(m->pkt_len, 14u + 40 + ulen);
		CU_ASSERT_EQUAL(ntohs(u->dst_port), P6_CLIENT_PORT6);
		CU_ASSERT_NOT_EQUAL(u->dgram_cksum, 0);
		CU_ASSERT_EQUAL(rte_ipv6_udptcp_cksum_verify(ip, u), 0);
	} else {
		struct rte_ipv4_hdr *ip = ip_of(m);

		u = (struct rte_udp_hdr *)(ip + 1);
		CU_ASSERT_EQUAL(eth->ether_type, htons(RTE_ETHER_TYPE_IPV4));
		CU_ASSERT_EQUAL(ip->src_addr, inet_addr(SERVER));
		CU_ASSERT_EQUAL(ip->dst_addr, inet_addr(CLIENT4B));
		CU_ASSERT_EQUAL(rte_raw_cksum(ip, 20), 0xffff);
		CU_ASSERT_EQUAL(ntohs(ip->total_length), 20 + ulen);
		CU_ASSERT_EQUAL(m->pkt_len, 14u + 20 + ulen);
		CU_ASSERT_EQUAL(ntohs(u->dst_port), P6_CLIENT_PORT4);
		if (ck)
			CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, u), 0)
		else
			CU_ASSERT_EQUAL(u->dgram_cksum, 0);
	}
	CU_ASSERT_EQUAL(ntohs(u->src_port), 3478);
	CU_ASSERT_EQUAL(ntohs(u->dgram_len), ulen);
	return (uint8_t *)(u + 1);
}

/* ChannelData from either client to an IPv6 peer leaves over IPv6 from RELAY6, every length,
 * the checksum made even from none (an IPv4 client's datagram without one). */
static void test_peer6_channel_c2p(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	CU_ASSERT_EQUAL_FATAL(publish_p6(false, true, far(), 0, true), 0);
	CU_ASSERT_EQUAL_FATAL(publish_p6(true, false, far(), 0, true), 0);
	for (int len = 0; len <= 1400; len += len < 200 ? 1 : 97) {
		for (int v = 0; v < 3; v++) { /* IPv4 client with, without checksum; IPv6 */
			bool v6 = v == 2;

			run1(IF_B,
				p6_channel_data(v6, v6 ? 0x4016 : 0x4010, data, (uint16_t)len,
					v == 0));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_A], 1);
			CU_ASSERT_EQUAL(st.relay_c2p_pkts, 1);
			CU_ASSERT_EQUAL(st.relay_c2p_bytes, (uint64_t)len);
			check_to_peer6(out.fwd[IF_A][0], v6 ? P6_RELAY_PORT6 : P6_RELAY_PORT4,
				v6 ? 7016 : 7010, data, len);
			free_out();
		}
	}
	/* the IPv4 client's IPv4 channel still leaves over IPv4 from RELAY */
	run1(IF_B, p6_channel_data(false, 0x4011, data, 33, true));
	CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_A], 1);
	{
		struct rte_ipv4_hdr *ip = ip_of(out.fwd[IF_A][0]);
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

		CU_ASSERT_EQUAL(ip->src_addr, inet_addr(RELAY));
		CU_ASSERT_EQUAL(ip->dst_addr, inet_addr(PEER));
		CU_ASSERT_EQUAL(ntohs(u->dst_port), 7011);
		CU_ASSERT_EQUAL(rte_ipv4_udptcp_cksum_verify(ip, u), 0);
	}
	free_out();
	p6_remove(false);
	p6_remove(true);
}

/* A Send indication with an IPv6 XOR-PEER-ADDRESS from either client: the DATA value leaves
 * over IPv6 to the decoded address and port, any port of the permitted peer. */
static void test_peer6_send(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 3 + 11);
	CU_ASSERT_EQUAL_FATAL(publish_p6(false, true, far(), 0, true), 0);
	CU_ASSERT_EQUAL_FATAL(publish_p6(true, false, far(), 0, true), 0);
	for (int len = 0; len <= 1300; len += len < 40 ? 1 : 101) {
		for (int v = 0; v < 3; v++) {
			bool v6 = v == 2;

			run1(IF_B, p6_send(v6, PEER6, 7020 + v, data, (uint16_t)len, v == 0));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_A], 1);
			CU_ASSERT_EQUAL(st.relay_c2p_pkts, 1);
			check_to_peer6(out.fwd[IF_A][0], v6 ? P6_RELAY_PORT6 : P6_RELAY_PORT4,
				(uint16_t)(7020 + v), data, len);
			free_out();
		}
	}
	p6_remove(false);
	p6_remove(true);
}

/* From an IPv6 peer to either client: ChannelData when a channel is bound to that peer and
 * port, else a Data indication whose XOR-PEER-ADDRESS is the peer's IPv6 address. */
static void test_peer6_p2c(void)
{
	uint8_t data[1500];

	for (int i = 0; i < (int)sizeof(data); i++)
		data[i] = (uint8_t)(i * 9 + 5);
	CU_ASSERT_EQUAL_FATAL(publish_p6(false, true, far(), 0, true), 0);
	CU_ASSERT_EQUAL_FATAL(publish_p6(true, false, far(), 0, true), 0);
	for (int len = 0; len <= 1400; len += len < 200 ? 1 : 97) {
		for (int v6 = 0; v6 <= 1; v6++) {
			uint16_t rport = v6 ? P6_RELAY_PORT6 : P6_RELAY_PORT4;
			uint8_t *b;

			run1(IF_A,
				from_peer6(PEER6, v6 ? 7016 : 7010, rport, data, (uint16_t)len,
					true));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_B], 1);
			CU_ASSERT_EQUAL(st.relay_p2c_pkts, 1);
			CU_ASSERT_EQUAL(st.relay_p2c_bytes, (uint64_t)len);
			b = check_p6_to_client(out.fwd[IF_B][0], v6, (uint16_t)(12 + len), true);
			CU_ASSERT_EQUAL((b[0] << 8 | b[1]), v6 ? 0x4016 : 0x4010);
			CU_ASSERT_EQUAL((b[2] << 8 | b[3]), len);
			CU_ASSERT_EQUAL(memcmp(b + 4, data, len), 0);
			free_out();
		}
	}
	for (int len = 0; len <= 1300; len += len < 40 ? 1 : 101) {
		for (int v6 = 0; v6 <= 1; v6++) {
			uint16_t pad = (4 - (len & 3)) & 3,
				 rport = v6 ? P6_RELAY_PORT6 : P6_RELAY_PORT4;
			struct stun_msg sm;
			struct stun_addr pa;
			uint8_t *b;

			uint8_t p[16]; /* in6's buffers are a ring of four: a copy */

			memcpy(p, in6(PEER6), 16);
			/* port 7099: the peer is permitted, no channel */
			run1(IF_A, from_peer6(PEER6, 7099, rport, data, (uint16_t)len, true));
			CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_B], 1);
			b = check_p6_to_client(out.fwd[IF_B][0], v6, (uint16_t)(8 + 48 + len + pad),
				true);
			CU_ASSERT(b[0] == 0x00 && b[1] == 0x17);
			CU_ASSERT_EQUAL((b[2] << 8 | b[3]), 28 + len + pad);
			CU_ASSERT(b[4] == 0x21 && b[5] == 0x12 && b[6] == 0xa4 && b[7] == 0x42);
			/* XOR-PEER-ADDRESS: family 2, 20 bytes, decoded by hand (RFC 8489 14.2) */
			CU_ASSERT(b[20] == 0x00 && b[21] == 0x12 && b[22] == 0 && b[23] == 20);
			CU_ASSERT(b[24] == 0x00 && b[25] == 0x02);
			CU_ASSERT_EQUAL(((b[26] ^ 0x21) << 8 | (b[27] ^ 0x12)), 7099);
			for (int i = 0; i < 16; i++)
				CU_ASSERT_EQUAL(b[28 + i] ^ b[4 + i], p[i]);
			CU_ASSERT(b[44] == 0x00 && b[45] == 0x13 && (b[46] << 8 | b[47]) == len);
			CU_ASSERT_EQUAL(memcmp(b + 48, data, len), 0);
			for (int i = 0; i < pad; i++)
				CU_ASSERT_EQUAL(b[48 + len + i], 0);
			/* and by the codec, written apart */
			CU_ASSERT_EQUAL_FATAL(stun_parse(b, 48 + len + pad, &sm), 0);
			CU_ASSERT(sm.method == STUN_DATA && sm.cls == STUN_INDICATION);
			CU_ASSERT_EQUAL(sm.alen[STUN_AI_DATA], len);
			CU_ASSERT_EQUAL_FATAL(stun_get_peer(&sm, 0, &pa), 0);
			CU_ASSERT_EQUAL(pa.family, 6);
			CU_ASSERT_EQUAL(ntohs(pa.port), 7099);
			CU_ASSERT_EQUAL(memcmp(pa.ip, p, 16), 0);
			free_out();
		}
	}
	/* one burst of both families' peers, IPv4 and IPv6 */
	{
		struct rte_mbuf *m[4] = { from_peer6(PEER6, 7010, P6_RELAY_PORT4, data, 100, true),
			udp_pkt(PEER, 7011, RELAY, P6_RELAY_PORT4, &mac_a, data, 101, true),
			from_peer6(PEER6, 7016, P6_RELAY_PORT6, data, 102, true),
			udp_pkt(PEER, 7000, RELAY, 50000, &mac_a, data, 103, true) };

		memset(&st, 0, sizeof(st));
		memset(&out, 0, sizeof(out));
		dp_port_input(&l3, IF_A, m, 4, &out, &st);
		CU_ASSERT_EQUAL_FATAL(out.n_fwd[IF_B], 4);
		{
			uint8_t *b = check_p6_to_client(out.fwd[IF_B][0], false, 112, true);

			CU_ASSERT_EQUAL((b[0] << 8 | b[1]), 0x4010);
			b = check_p6_to_client(out.fwd[IF_B][1], false, 113, true);
			CU_ASSERT_EQUAL((b[0] << 8 | b[1]), 0x4011);
			b = check_p6_to_client(out.fwd[IF_B][2], true, 114, true);
			CU_ASSERT_EQUAL((b[0] << 8 | b[1]), 0x4016);
			CU_ASSERT_EQUAL(ip_of(out.fwd[IF_B][3])->dst_addr, inet_addr(CLIENT));
		}
		free_out();
	}
	p6_remove(false);
	p6_remove(true);
}

/* Every reason not to relay to or from an IPv6 peer is a counted drop; and an IPv4 peer never
 * passes for an IPv6 one, nor the other way round. */
static void test_peer6_refusals(void)
{
	uint8_t d[8] = "abcdefg";
	uint32_t past = turn_ticks(rte_rdtsc()) - 1;

	CU_ASSERT_EQUAL_FATAL(publish_p6(false, false, far(), 0, true), 0);
	CU_ASSERT_EQUAL_FATAL(publish_p6(true, false, far(), 0, true), 0);
	/* no permission for that IPv6 peer */
	dropped_as(IF_A, from_peer6(PEER6B, 7010, P6_RELAY_PORT4, d, 8, true),
		DP_DROP_TURN_NO_PERMISSION);
	dropped_as(IF_A, from_peer6(PEER6B, 7016, P6_RELAY_PORT6, d, 8, true),
		DP_DROP_TURN_NO_PERMISSION);
	dropped_as(IF_B, p6_send(false, PEER6B, 7010, d, 8, true), DP_DROP_TURN_NO_PERMISSION);
	dropped_as(IF_B, p6_send(true, PEER6B, 7016, d, 8, true), DP_DROP_TURN_NO_PERMISSION);
	/* families never cross: no IPv4 permission here, so PEER over IPv4 is refused though
	 * PEER6 is permitted; the IPv4-mapped PEER over IPv6 is no permitted IPv6 peer */
	dropped_as(IF_A, udp_pkt(PEER, 7010, RELAY, P6_RELAY_PORT4, &mac_a, d, 8, true),
		DP_DROP_TURN_NO_PERMISSION);
	{
		/* the IPv4 client's Send to an IPv4 peer with its IPv6 permission only */
		uint8_t b[64] = { 0x00, 0x16, 0, 24, 0x21, 0x12, 0xa4, 0x42, [20] = 0x00, 0x12, 0,
			8, 0, 1 };
		uint32_t x = inet_addr(PEER) ^ htonl(0x2112a442);

		b[26] = (7010 >> 8) ^ 0x21, b[27] = (7010 & 0xff) ^ 0x12;
		memcpy(b + 28, &x, 4);
		b[32] = 0x00, b[33] = 0x13, b[35] = 8;
		memcpy(b + 36, d, 8);
		dropped_as(IF_B,
			udp_pkt(CLIENT4B, P6_CLIENT_PORT4, SERVER, 3478, &mac_b, b, 44, true),
			DP_DROP_TURN_NO_PERMISSION);
	}
	dropped_as(IF_B, p6_send(false, "::ffff:198.18.10.2", 7010, d, 8, true),
		DP_DROP_TURN_NO_PERMISSION);
	/* the other way: the original IPv4 client's permission for PEER is no IPv6 one; an
	 * address whose first four bytes are PEER's is no IPv4 peer */
	p6_remove(false);
	CU_ASSERT_EQUAL_FATAL(publish_p6(false, true, far(), 0, true), 0);
	dropped_as(IF_A, from_peer6("c612:a02::", 7011, P6_RELAY_PORT4, d, 8, true),
		DP_DROP_TURN_NO_PERMISSION);
	dropped_as(IF_B, p6_send(false, "c612:a02::", 7011, d, 8, true),
		DP_DROP_TURN_NO_PERMISSION);
	run1(IF_A, udp_pkt(PEER, 7011, RELAY, P6_RELAY_PORT4, &mac_a, d, 8, true));
	CU_ASSERT_EQUAL(out.n_fwd[IF_B], 1); /* while PEER over IPv4 passes */
	free_out();
	/* a port table with no allocation on that port; no checksum over IPv6 */
	dropped_as(IF_A, from_peer6(PEER6, 7010, P6_RELAY_PORT4 + 1, d, 8, true),
		DP_DROP_TURN_NO_ALLOC);
	dropped_as(IF_A, from_peer6(PEER6, 7010, P6_RELAY_PORT4, d, 8, false),
		DP_DROP_TURN_MALFORMED);
	/* UDP to a relay port of an IPv6 address with no table is the kernel's */
	run1(IF_B, udp6_pkt(CLIENT6, 7010, SERVER6, P6_RELAY_PORT4, d, 8, true));
	CU_ASSERT_EQUAL(out.n_kernel, 1);
	CU_ASSERT_EQUAL(out.n_fwd[IF_A] + out.n_fwd[IF_B], 0);
	free_out();
	/* a Send to the unspecified address is malformed */
	dropped_as(IF_B, p6_send(false, "::", 7010, d, 8, true), DP_DROP_TURN_MALFORMED);
	p6_remove(false);
	p6_remove(true);

	/* a permission with a port: another port dropped both ways (Send; data from the peer) */
	for (int v6 = 0; v6 <= 1; v6++) {
		uint16_t cport = v6 ? 7016 : 7010, rport = v6 ? P6_RELAY_PORT6 : P6_RELAY_PORT4;

		CU_ASSERT_EQUAL_FATAL(publish_p6(v6, false, far(), cport, true), 0);
		dropped_as(IF_A, from_peer6(PEER6, 443, rport, d, 8, true), DP_DROP_TURN_PEER_PORT);
		dropped_as(IF_B, p6_send(v6, PEER6, 443, d, 8, true), DP_DROP_TURN_PEER_PORT);
		run1(IF_A, from_peer6(PEER6, cport, rport, d, 8, true));
		CU_ASSERT_EQUAL(out.n_fwd[IF_B], 1);
		free_out();
		run1(IF_B, p6_send(v6, PEER6, cport, d, 8, true));
		CU_ASSERT_EQUAL(out.n_fwd[IF_A], 1);
		free_out();
		p6_remove(v6);

		/* an unresolved next hop: nothing leaves towards the peer */
		CU_ASSERT_EQUAL_FATAL(publish_p6(v6, false, far(), 0, false), 0);
		dropped_as(IF_B, p6_channel_data(v6, v6 ? 0x4016 : 0x4010, d, 8, true),
			DP_DROP_TURN_NH_UNRESOLVED);
		dropped_as(IF_B, p6_send(v6, PEER6, cport, d, 8, true), DP_DROP_TURN_NH_UNRESOLVED);
		p6_remove(v6);

		/* an expired permission: nothing either way */
		CU_ASSERT_EQUAL_FATAL(publish_p6(v6, false, past, 0, true), 0);
		dropped_as(IF_A, from_peer6(PEER6, cport, rport, d, 8, true),
			DP_DROP_TURN_NO_PERMISSION);
		dropped_as(IF_B, p6_channel_data(v6, v6 ? 0x4016 : 0x4010, d, 8, true),
			DP_DROP_TURN_NO_PERMISSION);
		dropped_as(IF_B, p6_send(v6, PEER6, cport, d, 8, true), DP_DROP_TURN_NO_PERMISSION);
		p6_remove(v6);
	}
	/* an IPv6 peer of an allocation with no IPv6 relayed address: no permission */
	{
		struct turn_alloc *a;
		struct turn_key k = p6_key(false);

		CU_ASSERT_EQUAL_FATAL(publish_p6(false, false, far(), 0, true), 0);
		p6_remove(false);
		a = turn_alloc_new();
		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		a->key = k;
		a->client_mac = client_mac;
		a->client_if = IF_B;
		a->relay_if = IF_A;
		a->relay_ip = inet_addr(RELAY);
		a->relay_port = htons(P6_RELAY_PORT4);
		a->expires = far();
		a->n_perms6 = 1; /* inconsistent: the control plane never does this */
		a->pc[7].perm = (struct turn_perm){ .nh_mac = peer_nh, .expires = far() };
		memcpy(a->pc[6].peer_ip6, in6(PEER6), 16);
		a->pc[0].chan = (struct turn_chan){ .peer_port = htons(7010),
			.number = 0x4010,
			.perm = 7,
			.expires = far() };
		a->n_chans = 1;
		CU_ASSERT_EQUAL_FATAL(turn_alloc_publish(a), 0);
		dropped_as(IF_B, p6_channel_data(false, 0x4010, d, 8, true),
			DP_DROP_TURN_NO_PERMISSION);
		dropped_as(IF_B, p6_send(false, PEER6, 7010, d, 8, true),
			DP_DROP_TURN_NO_PERMISSION);
		p6_remove(false);
	}
	/* gone: the IPv6 port table holds nothing for it any more */
	dropped_as(IF_A, from_peer6(PEER6, 7016, P6_RELAY_PORT6, d, 8, true),
		DP_DROP_TURN_NO_ALLOC);
}

/* A client on TCP/TLS with an IPv6 peer: the peer's datagram, permitted, goes to the control
 * plane's data ring as it came (IPv6 header and all). */
static void test_peer6_stream(void)
{
	struct turn_alloc *a = turn_alloc_new();
	struct turn_key k = turn_stream_key(78);
	uint8_t d[5] = "abcd";
	struct rte_mbuf *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	a->key = k;
	a->client_if = TURN_CLIENT_STREAM;
	a->relay_if = IF_A;
	a->relay6 = true;
	memcpy(a->relay_ip6, in6(RELAY6), 16);
	a->relay_port = htons(50020);
	a->expires = far();
	a->n_perms6 = 1;
	a->pc[7].perm = (struct turn_perm){ .nh_mac = peer_nh, .expires = far() };
	memcpy(a->pc[6].peer_ip6, in6(PEER6), 16);
	CU_ASSERT_EQUAL_FATAL(turn_alloc_publish(a), 0);
	run1(IF_A, from_peer6(PEER6, 7000, 50020, d, 5, true));
	CU_ASSERT_EQUAL_FATAL(out.n_data, 1);
	CU_ASSERT_EQUAL(out.n_punt + out.n_fwd[IF_A] + out.n_fwd[IF_B], 0);
	m = out.data[0];
	CU_ASSERT_EQUAL(m->hash.usr, DP_PUNT_TURN_STREAM);
	CU_ASSERT_EQUAL(rte_pktmbuf_mtod(m, struct rte_ether_hdr *)->ether_type,
		htons(RTE_ETHER_TYPE_IPV6));
	CU_ASSERT_EQUAL(memcmp(ip6_of(m)->src_addr, in6(PEER6), 16), 0);
	CU_ASSERT_EQUAL(st.relay_p2c_pkts, 1);
	free_out();
	dropped_as(IF_A, from_peer6(PEER6B, 7000, 50020, d, 5, true), DP_DROP_TURN_NO_PERMISSION);
	CU_ASSERT_EQUAL(out.n_data, 0);
	CU_ASSERT_EQUAL(turn_alloc_remove(&k), 0);
}

static const struct unit_test tests[] = {
	{ "client -> peer: ChannelData becomes UDP, every length, checksums valid",
		test_client_to_peer },
	{ "client -> peer: padded ChannelData", test_padded_channel_data },
	{ "traffic counted per allocation, each way", test_traffic_per_allocation },
	{ "peer -> client: UDP becomes ChannelData, every length, checksums valid",
		test_peer_to_client },
	{ "client -> peer: Send indication becomes UDP, every length, checksums valid",
		test_send_indication },
	{ "peer -> client: no channel, a Data indication, every length, checksums valid",
		test_data_indication },
	{ "every reason not to relay is a counted drop", test_refusals },
	{ "a permission with a port: Send to and data from another port dropped", test_peer_port },
	{ "STUN Binding answered by the data plane; authenticated ones go on",
		test_binding_on_the_data_plane },
	{ "bandwidth cap: a token bucket per allocation and direction", test_bandwidth_cap },
	{ "a client on TCP/TLS: permitted peers' datagrams go to the control plane's data ring",
		test_stream_client },
	{ "IPv6 client -> peer: ChannelData becomes IPv4 UDP, every length; a mixed burst",
		test_client6_to_peer },
	{ "IPv6 client -> peer: Send indication becomes IPv4 UDP, every length", test_send6 },
	{ "peer -> IPv6 client: ChannelData over IPv6, checksum made even from none",
		test_peer_to_client6 },
	{ "peer -> IPv6 client: no channel, a Data indication over IPv6", test_data_indication6 },
	{ "IPv6 client: another source, a key collision, no checksum: counted drops",
		test_refusals6 },
	{ "IPv6 client: requests punted to the TURN server, Binding answered", test_requests6 },
	{ "IPv6 peer: ChannelData from either client leaves over IPv6 from the IPv6 relayed address",
		test_peer6_channel_c2p },
	{ "IPv6 peer: Send indication with an IPv6 XOR-PEER-ADDRESS, either client",
		test_peer6_send },
	{ "IPv6 peer -> either client: ChannelData, Data indication with its IPv6 address",
		test_peer6_p2c },
	{ "IPv6 peer: no permission, port, next hop, expiry, families crossed: counted drops",
		test_peer6_refusals },
	{ "IPv6 peer of a client on TCP/TLS: to the control plane's data ring", test_peer6_stream },
	{ "remove, grace period, reuse", test_remove },
	{ "relay port in use, too many permissions", test_table_limits },
	{ NULL, NULL },
};

int main(void)
{
	char *eal[] = { "test_relay", "-l", "0", "--no-huge", "-m", "128", "--no-pci",
		"--no-shconf", "--log-level=lib.*:error", NULL };
	int failed;

	if (rte_eal_init(9, eal) < 0)
		return 1;
	mp = rte_pktmbuf_pool_create("test", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (!mp || turn_tables_init(64, 0) < 0 || turn_tables_add_lcore(rte_lcore_id()) < 0)
		return 1;
	l3.ifs[IF_A] = (struct dp_if){ .present = true,
		.up = true,
		.mac = mac_a,
		.n_addrs = 1,
		.addr = { inet_addr(RELAY) },
		.mask = { htonl(0xffffff00) } };
	l3.ifs[IF_B] = (struct dp_if){ .present = true,
		.up = true,
		.mac = mac_b,
		.n_addrs = 1,
		.addr = { inet_addr(SERVER) },
		.mask = { htonl(0xffffff00) },
		.v6 = true,
		.n_addrs6 = 1 };
	inet_pton(AF_INET6, SERVER6, l3.ifs[IF_B].addr6[0]);
	l3.ifs[IF_A].v6 = true; /* the IPv6 relayed address */
	l3.ifs[IF_A].n_addrs6 = 1;
	inet_pton(AF_INET6, RELAY6, l3.ifs[IF_A].addr6[0]);
	l3.default_if = IF_B;
	l3.turn_port = htons(3478);
	l3.relay_lo = 49152;
	l3.relay_hi = 65535;
	l3.turn_listen = 1u << IF_B | 1u << IF_A;
	edge_rcu_reader_start();
	if (publish_alloc(far(), far(), far(), true) < 0 || publish_alloc6(CLIENT6) < 0)
		return 1;
	failed = unit_run("relay", tests);
	edge_rcu_reader_stop();
	edge_rcu_barrier();
	turn_tables_fini();
	rte_eal_cleanup();
	return failed;
}
