/* STUN Binding on the TURN port, answered by the data plane itself (RFC 8489 3): it needs
 * no state and no credentials, so the reply is built in place from the request — swapped
 * addresses, XOR-MAPPED-ADDRESS, FINGERPRINT when the request had one. Requests with
 * MESSAGE-INTEGRITY or attributes we must understand go on to the TURN server. */
#ifndef EDGE_STUN_BINDING_H
#define EDGE_STUN_BINDING_H

#include <rte_ip.h>
#include <rte_udp.h>

#include "cksum.h"
#include "dp.h"
#include "relay.h"
#include "stun.h"

/* Whether the @plen bytes at @p are a Binding request the data plane answers: sound, with
 * no attribute it must understand (USERNAME, MESSAGE-INTEGRITY, ...: the TURN server's);
 * *@fingerprint when it carries a FINGERPRINT (the answer then does too). */
static inline bool stun_binding_plain(const uint8_t *p, uint16_t plen, bool *fingerprint)
{
	uint16_t mlen, off;

	*fingerprint = false;
	if (plen < 20 || rte_be_to_cpu_16(rd16(p)) != STUN_BINDING_REQUEST ||
		rte_be_to_cpu_32(rd32(p + 4)) != STUN_MAGIC)
		return false;
	mlen = rte_be_to_cpu_16(rd16(p + 2));
	if ((mlen & 3) || mlen != plen - 20)
		return false; /* the server answers malformed requests (400) */
	for (off = 20; off + 4 <= 20 + mlen;) {
		uint16_t at = rte_be_to_cpu_16(rd16(p + off)),
			 al = rte_be_to_cpu_16(rd16(p + off + 2));

		if (al > 20 + mlen - off - 4)
			return false;
		if (at == STUN_ATTR_FINGERPRINT)
			*fingerprint = true;
		else if (at < 0x8000)
			return false; /* USERNAME, MESSAGE-INTEGRITY, unknown required: the server's */
		off += 4 + ((al + 3) & ~3);
	}
	return true;
}

/* The answer after the header at @p, whose XOR-MAPPED-ADDRESS (@alen address bytes already
 * written at p + 28) is in place: its type, length, family and port, then FINGERPRINT when
 * asked. Returns the answer's length (header included). */
static inline uint16_t stun_binding_finish(uint8_t *p, uint16_t alen, uint16_t port,
	bool fingerprint)
{
	uint16_t xlen = 4 + 4 + alen, rlen = xlen + (fingerprint ? 8 : 0);

	wr16(p, RTE_BE16(STUN_BINDING_SUCCESS));
	wr16(p + 2, rte_cpu_to_be_16(rlen));
	wr16(p + 20, RTE_BE16(STUN_ATTR_XOR_MAPPED_ADDRESS));
	wr16(p + 22, rte_cpu_to_be_16(4 + alen));
	wr16(p + 24, alen == 4 ? RTE_BE16(0x0001) : RTE_BE16(0x0002));
	wr16(p + 26, port ^ RTE_BE16(STUN_MAGIC >> 16));
	if (fingerprint) {
		uint32_t crc = stun_crc32(0, p, 20 + xlen) ^ STUN_FINGERPRINT_XOR;

		wr16(p + 20 + xlen, RTE_BE16(STUN_ATTR_FINGERPRINT));
		wr16(p + 22 + xlen, RTE_BE16(4));
		wr32(p + 24 + xlen, rte_cpu_to_be_32(crc));
	}
	return 20 + rlen;
}

/* True if @m was a Binding request and now is its answer (in out->tx). */
static inline bool stun_binding_answer(const struct dp_if *ifp, struct rte_mbuf *m,
	struct rte_ipv4_hdr *ip, uint16_t ihl, struct rte_udp_hdr *udp, uint16_t ulen,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	uint8_t *p = (uint8_t *)(udp + 1);
	uint16_t rlen;
	bool fingerprint;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ether_addr mac;
	uint32_t a;
	uint16_t port;

	if (ihl != sizeof(*ip) || !stun_binding_plain(p, ulen - sizeof(*udp), &fingerprint) ||
		m->buf_len < m->data_off + RTE_ETHER_HDR_LEN + 28 + 20 + 12 + 8)
		return false;

	/* the answer: header, XOR-MAPPED-ADDRESS, maybe FINGERPRINT; nothing else kept */
	wr32(p + 28, ip->src_addr ^ RTE_BE32(STUN_MAGIC));
	rlen = stun_binding_finish(p, 4, udp->src_port, fingerprint) - 20;
	m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + 28 + 20 + rlen;

	mac = eth->src_addr;
	eth->src_addr = ifp->mac;
	eth->dst_addr = mac;
	a = ip->src_addr;
	ip->src_addr = ip->dst_addr;
	ip->dst_addr = a;
	ip->total_length = rte_cpu_to_be_16(28 + 20 + rlen);
	ip->time_to_live = 64;
	ip->fragment_offset = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_ipv4_20(ip);
	port = udp->src_port;
	udp->src_port = udp->dst_port;
	udp->dst_port = port;
	udp->dgram_len = rte_cpu_to_be_16(8 + 20 + rlen);
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	st->stun_binding_replies++;
	out->tx[out->n_tx++] = m;
	return true;
}

/* The same over IPv6 (no extension headers: @udp right after @ip), the mapped address the
 * request's source XORed with the magic cookie and the transaction ID (RFC 8489 14.2). A
 * request whose UDP checksum is wrong is not answered (the caller passes it on). Out of line:
 * a Binding is rare beside relayed packets, and this function's checksum loop inlined made
 * the relay's IPv4 paths in dp_port_input 8 instructions longer (callgrind p2c 718 -> 726). */
static __rte_noinline bool stun_binding_answer6(const struct dp_if *ifp, struct rte_mbuf *m,
	struct rte_ipv6_hdr *ip, struct rte_udp_hdr *udp, uint16_t ulen, struct dp_burst_out *out,
	struct dp_if_stats *st)
{
	uint8_t *p = (uint8_t *)(udp + 1), a[16];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ether_addr mac;
	uint16_t port, len;
	bool fingerprint;

	if (ulen < sizeof(*udp) || !stun_binding_plain(p, ulen - sizeof(*udp), &fingerprint) ||
		m->buf_len < m->data_off + RTE_ETHER_HDR_LEN + 48 + 20 + 24 + 8 ||
		!cksum_ipv6_l4_ok(ip->src_addr, udp, ulen, IPPROTO_UDP))
		return false;
	for (int i = 0; i < 16; i++) /* cookie, then the transaction ID */
		p[28 + i] = ip->src_addr[i] ^ p[4 + i];
	len = stun_binding_finish(p, 16, udp->src_port, fingerprint);
	m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN + 48 + len;

	mac = eth->src_addr;
	eth->src_addr = ifp->mac;
	eth->dst_addr = mac;
	memcpy(a, ip->src_addr, 16);
	memcpy(ip->src_addr, ip->dst_addr, 16);
	memcpy(ip->dst_addr, a, 16);
	ip->payload_len = rte_cpu_to_be_16(8 + len);
	ip->hop_limits = 64;
	port = udp->src_port;
	udp->src_port = udp->dst_port;
	udp->dst_port = port;
	udp->dgram_len = rte_cpu_to_be_16(8 + len);
	udp->dgram_cksum = 0;
	udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp);
	st->stun_binding_replies++;
	out->tx[out->n_tx++] = m;
	return true;
}

#endif
