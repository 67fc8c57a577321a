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

/* True if @m was a Binding request and now is its answer (in out->tx). */
static inline bool stun_binding_answer(const struct dp_if *ifp, struct rte_mbuf *m,
	struct rte_ipv4_hdr *ip, uint16_t ihl, struct rte_udp_hdr *udp, uint16_t ulen,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	uint8_t *p = (uint8_t *)(udp + 1);
	uint16_t plen = ulen - sizeof(*udp), mlen, off, rlen;
	bool fingerprint = false;
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ether_addr mac;
	uint32_t a;
	uint16_t port;

	if (plen < 20 || rte_be_to_cpu_16(rd16(p)) != STUN_BINDING_REQUEST ||
		rte_be_to_cpu_32(rd32(p + 4)) != STUN_MAGIC || ihl != sizeof(*ip))
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
			fingerprint = true;
		else if (at < 0x8000)
			return false; /* USERNAME, MESSAGE-INTEGRITY, unknown required: the server's */
		off += 4 + ((al + 3) & ~3);
	}
	if (m->buf_len < m->data_off + RTE_ETHER_HDR_LEN + 28 + 20 + 12 + 8)
		return false;

	/* the answer: header, XOR-MAPPED-ADDRESS, maybe FINGERPRINT; nothing else kept */
	rlen = 12 + (fingerprint ? 8 : 0);
	wr16(p, RTE_BE16(STUN_BINDING_SUCCESS));
	wr16(p + 2, rte_cpu_to_be_16(rlen));
	wr16(p + 20, RTE_BE16(STUN_ATTR_XOR_MAPPED_ADDRESS));
	wr16(p + 22, RTE_BE16(8));
	wr16(p + 24, RTE_BE16(0x0001));
	wr16(p + 26, udp->src_port ^ RTE_BE16(STUN_MAGIC >> 16));
	wr32(p + 28, ip->src_addr ^ RTE_BE32(STUN_MAGIC));
	if (fingerprint) {
		uint32_t crc = stun_crc32(0, p, 32) ^ STUN_FINGERPRINT_XOR;

		wr16(p + 32, RTE_BE16(STUN_ATTR_FINGERPRINT));
		wr16(p + 34, RTE_BE16(4));
		wr32(p + 36, rte_cpu_to_be_32(crc));
	}
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

#endif
