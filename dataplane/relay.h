/* The TURN relay's fast path (RFC 8656 section 11-12), run inside the IPv4 stage:
 *   client -> peer: ChannelData on a TURN listen address becomes a UDP datagram from the
 *                   relay address to the channel's peer;
 *   peer -> client: a UDP datagram to a relay port becomes ChannelData to the client.
 * Both rewrite the packet in place (the payload never moves), patch the UDP checksum
 * incrementally (RFC 1624) and fill fresh Ethernet/IPv4 headers. No lock, no heap, no log. */
#ifndef EDGE_RELAY_H
#define EDGE_RELAY_H

#include <rte_ip.h>
#include <rte_udp.h>

#include "dp.h"
#include "turn_tables.h"

struct relay_cd_hdr {
	rte_be16_t number;
	rte_be16_t length;
};

static inline uint32_t csum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s;
}

/* One's complement sum of a 32-bit field's two 16-bit words, as they lie in memory. */
static inline uint32_t csum_w32(uint32_t v)
{
	return (v & 0xffff) + (v >> 16);
}

/* Sum of a UDP pseudo-header and UDP header (checksum field taken as 0), as in memory. */
static inline uint32_t csum_udp_hdrs(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	uint16_t len_be)
{
	return csum_w32(src) + csum_w32(dst) + RTE_BE16(IPPROTO_UDP) + 2u * len_be + sport + dport;
}

/* From an old UDP checksum, the sum of what it covered minus @removed (a partial sum). */
static inline uint32_t csum_remove(uint16_t old_ck, uint32_t removed)
{
	return csum_fold((uint16_t)~old_ck + (uint16_t)~csum_fold(removed));
}

static inline uint16_t csum_final(uint32_t sum)
{
	uint16_t ck = (uint16_t)~csum_fold(sum);

	return ck ? ck : 0xffff;	/* 0 would mean "no checksum" */
}

static inline void relay_write_l3(struct rte_mbuf *m, const struct rte_ether_addr *src_mac,
	const struct rte_ether_addr *dst_mac, uint32_t src, uint32_t dst, uint16_t l4_len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);

	eth->dst_addr = *dst_mac;
	eth->src_addr = *src_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + l4_len);
	ip->packet_id = 0;
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static inline void relay_emit(struct dp_burst_out *out, uint8_t ifi, struct rte_mbuf *m)
{
	out->fwd[ifi][out->n_fwd[ifi]++] = m;
	out->fwd_mask |= 1u << ifi;
}

/* Client -> peer. @udp points into @m; @ulen is the UDP length (already checked to fit). */
static inline void relay_channel_data(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	const struct rte_ipv4_hdr *ip, uint16_t ihl, const struct rte_udp_hdr *udp, uint16_t ulen,
	uint64_t now, struct dp_burst_out *out, struct dp_if_stats *st)
{
	const struct relay_cd_hdr *cd = (const struct relay_cd_hdr *)(udp + 1);
	struct turn_key key = { ip->src_addr, ip->dst_addr, udp->src_port, udp->dst_port };
	const struct turn_alloc *a;
	const struct turn_chan *ch;
	const struct turn_perm *pm;
	uint16_t number, dlen, old_ck;
	uint32_t data_sum = 0;
	struct rte_udp_hdr *nu;

	if (ulen < 8 + 4)
		goto malformed;
	number = rte_be_to_cpu_16(cd->number);
	dlen = rte_be_to_cpu_16(cd->length);
	if (number > 0x4fff || dlen > ulen - 12)
		goto malformed;
	a = turn_by_client(&key);
	if (unlikely(!a || a->client_if != ifi)) {	/* the same 5-tuple on another wire is not the client */
		st->drops[DP_DROP_TURN_NO_ALLOC]++;
		goto drop;
	}
	if (unlikely(a->expires <= now)) {
		st->drops[DP_DROP_TURN_EXPIRED]++;
		goto drop;
	}
	ch = turn_chan_by_number(a, number, now);
	if (unlikely(!ch)) {
		st->drops[DP_DROP_TURN_NO_CHANNEL]++;
		goto drop;
	}
	pm = &a->perms[ch->perm];
	if (unlikely(pm->expires <= now)) {
		st->drops[DP_DROP_TURN_NO_PERMISSION]++;
		goto drop;
	}
	if (unlikely(rte_is_zero_ether_addr(&pm->nh_mac))) {
		st->drops[DP_DROP_TURN_NH_UNRESOLVED]++;
		goto drop;
	}

	/* the payload's own sum, from the old checksum (padding, if any, summed out directly) */
	old_ck = udp->dgram_cksum;
	if (old_ck) {
		if (dlen == ulen - 12)
			data_sum = csum_remove(old_ck, csum_udp_hdrs(ip->src_addr, ip->dst_addr,
				udp->src_port, udp->dst_port, udp->dgram_len) + cd->number + cd->length);
		else	/* rare: padded ChannelData over UDP; sum the data itself */
			data_sum = rte_raw_cksum(cd + 1, dlen);
	}
	st->relay_c2p_pkts++;
	st->relay_c2p_bytes += dlen;

	/* drop the old headers and the ChannelData header, keep the payload where it is */
	rte_pktmbuf_adj(m, (uint16_t)(ihl - sizeof(struct rte_ipv4_hdr) + 4));
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (RTE_ETHER_HDR_LEN + 28 + dlen)));
	relay_write_l3(m, &l3->ifs[a->relay_if].mac, &pm->nh_mac, a->relay_ip, ch->peer_ip, 8 + dlen);
	nu = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, RTE_ETHER_HDR_LEN + 20);
	nu->src_port = a->relay_port;
	nu->dst_port = ch->peer_port;
	nu->dgram_len = rte_cpu_to_be_16(8 + dlen);
	nu->dgram_cksum = old_ck ? csum_final(data_sum + csum_udp_hdrs(a->relay_ip, ch->peer_ip,
		nu->src_port, nu->dst_port, nu->dgram_len)) : 0;
	relay_emit(out, a->relay_if, m);
	return;
malformed:
	st->drops[DP_DROP_TURN_MALFORMED]++;
drop:
	rte_pktmbuf_free(m);
}

/* Peer -> client, for a datagram to relay port @udp->dst_port of interface @ifi. */
static inline void relay_from_peer(const struct dp_l3 *l3, uint8_t ifi, struct rte_mbuf *m,
	const struct rte_ipv4_hdr *ip, uint16_t ihl, const struct rte_udp_hdr *udp, uint16_t ulen,
	uint64_t now, struct dp_burst_out *out, struct dp_if_stats *st)
{
	const struct turn_alloc *a = turn_by_relay(ifi, ip->dst_addr, udp->dst_port);
	const struct turn_chan *ch;
	uint32_t peer_ip = ip->src_addr, data_sum = 0;
	uint16_t peer_port = udp->src_port, dlen = ulen - 8, old_ck = udp->dgram_cksum;
	struct rte_udp_hdr *nu;
	struct relay_cd_hdr *cd;
	int delta = 4 - (int)(ihl - sizeof(struct rte_ipv4_hdr));

	if (unlikely(!a)) {
		st->drops[DP_DROP_TURN_NO_ALLOC]++;
		goto drop;
	}
	if (unlikely(a->expires <= now)) {
		st->drops[DP_DROP_TURN_EXPIRED]++;
		goto drop;
	}
	if (unlikely(!turn_perm_find(a, peer_ip, now))) {
		st->drops[DP_DROP_TURN_NO_PERMISSION]++;
		goto drop;
	}
	ch = turn_chan_by_peer(a, peer_ip, peer_port, now);
	if (unlikely(!ch)) {
		/* no channel: a Data indication is needed (built with the STUN codec) */
		st->drops[DP_DROP_TURN_NO_CHANNEL]++;
		goto drop;
	}
	if (old_ck)
		data_sum = csum_remove(old_ck, csum_udp_hdrs(peer_ip, ip->dst_addr, peer_port,
			udp->dst_port, udp->dgram_len));
	st->relay_p2c_pkts++;
	st->relay_p2c_bytes += dlen;

	/* room for the ChannelData header in front of the payload, which stays put */
	if (delta > 0 ? !rte_pktmbuf_prepend(m, (uint16_t)delta) : rte_pktmbuf_adj(m, (uint16_t)-delta) == NULL) {
		st->drops[DP_DROP_TURN_MALFORMED]++;
		goto drop;
	}
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (RTE_ETHER_HDR_LEN + 32 + dlen)));
	relay_write_l3(m, &l3->ifs[a->client_if].mac, &a->client_mac, a->key.server_ip,
		a->key.client_ip, 12 + dlen);
	nu = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, RTE_ETHER_HDR_LEN + 20);
	cd = (struct relay_cd_hdr *)(nu + 1);
	nu->src_port = a->key.server_port;
	nu->dst_port = a->key.client_port;
	nu->dgram_len = rte_cpu_to_be_16(12 + dlen);
	cd->number = rte_cpu_to_be_16(ch->number);
	cd->length = rte_cpu_to_be_16(dlen);
	nu->dgram_cksum = old_ck ? csum_final(data_sum + cd->number + cd->length +
		csum_udp_hdrs(a->key.server_ip, a->key.client_ip, nu->src_port, nu->dst_port,
			nu->dgram_len)) : 0;
	relay_emit(out, a->client_if, m);
	return;
drop:
	rte_pktmbuf_free(m);
}

#endif
