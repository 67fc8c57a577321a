/* The TURN relay's fast path (RFC 8656 sections 11-12), run over a burst:
 *   client -> peer: ChannelData (or a Send indication) on a TURN listen address becomes a UDP
 *                   datagram from the relay address to the channel's (the indication's) peer;
 *   peer -> client: a UDP datagram to a relay port becomes ChannelData to the client, or a
 *                   Data indication when no channel is bound to that peer.
 * Lookups go in stages over the whole burst (bulk hash lookup, then prefetch the slots,
 * then the allocations), so that a million allocations cost cache misses in parallel, not
 * one after another. Packets are rewritten in place (the payload never moves), the UDP
 * checksum is patched incrementally (RFC 1624). No lock, no heap, no log.
 * A client may be on IPv6 (issue 18): its allocation is keyed by turn_key6 and holds both
 * IPv6 addresses, checked per packet (an IPv6 header in, an IPv6 header out, checksum
 * mandatory). So may a peer, when the allocation has an IPv6 relayed address (relay6): its
 * permission and channels are found by its 16-byte address (turn_perm6_find,
 * turn_chan_by_peer6), its datagrams leave from relay_ip6 over IPv6, and what it sends the
 * client arrives on the relay address's IPv6 port table (turn_relay6_ports). Each of the four
 * combinations of families is compiled on its own (constant flags into always-inline
 * functions), so the IPv4 paths pay a branch or two, no more. */
#ifndef EDGE_RELAY_H
#define EDGE_RELAY_H

#include <errno.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>
#include <rte_udp.h>

#include "cksum.h"
#include "dp.h"
#include "edge_bytes.h"
#include "stun.h"
#include "turn_tables.h"

struct relay_cd_hdr {
	rte_be16_t number;
	rte_be16_t length;
};

/* A packet the IPv4 (or, from a client, the IPv6) stage found for the relay, with what it
 * parsed. */
struct relay_job {
	struct rte_mbuf *m;
	const struct rte_ipv4_hdr *ip;	/* NULL for an IPv6 client's */
	const struct rte_ipv6_hdr *ip6; /* an IPv6 client's (no extension headers); else NULL */
	const struct rte_udp_hdr *udp;
	uint16_t ihl, ulen, dlen;  /* ihl: the L3 header's length, 40 over IPv6 */
	uint16_t data_off;	   /* Send indication: DATA's value, from the UDP payload */
	uint16_t peer_port;	   /* Send indication: XOR-PEER-ADDRESS, network order */
	uint32_t peer_ip;	   /* ... 0 for ChannelData, RELAY_PEER6 for an IPv6 peer */
	struct turn_lcore_obj *lo; /* this lcore's line of the allocation (relay_run) */
	const uint32_t *ports;	   /* peer -> client: the relay address's port table */
	uint8_t peer_ip6[16];	   /* Send indication to an IPv6 peer: its address */
};

/* A Send indication's peer_ip when its XOR-PEER-ADDRESS is IPv6 (the address in peer_ip6):
 * 255.255.255.255, which no IPv4 peer can be (relay_parse_send refuses it). Over IPv6 (ip6
 * set), a peer -> client job is an IPv6 peer's; a client -> peer job an IPv6 client's. */
#define RELAY_PEER6 0xffffffffu

struct relay_batch {
	struct relay_job c2p[EDGE_MAX_BURST], p2c[EDGE_MAX_BURST];
	uint16_t n_c2p, n_p2c;
};

static inline void relay_write_l3(struct rte_mbuf *m, const struct rte_ether_addr *src_mac,
	const struct rte_ether_addr *dst_mac, uint32_t src, uint32_t dst, uint16_t l4_len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	rte_be16_t len = rte_cpu_to_be_16(sizeof(*ip) + l4_len);

	eth->dst_addr = *dst_mac;
	eth->src_addr = *src_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->type_of_service = 0;
	ip->total_length = len;
	ip->packet_id = 0;
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = cksum_ipv4_20_of(64, IPPROTO_UDP, len, src, dst);
}

/* The same for an IPv6 client: hop limit 64, traffic class and flow label 0. */
static inline void relay_write_l3_6(struct rte_mbuf *m, const struct rte_ether_addr *src_mac,
	const struct rte_ether_addr *dst_mac, const uint8_t src[16], const uint8_t dst[16],
	uint16_t l4_len)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv6_hdr *ip = (struct rte_ipv6_hdr *)(eth + 1);

	eth->dst_addr = *dst_mac;
	eth->src_addr = *src_mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16(l4_len);
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, src, 16);
	memcpy(ip->dst_addr, dst, 16);
}

/* Whether @ip's source and destination are @a's client and server IPv6 addresses: the key
 * holds only a hash of them (a collision or a spoof must not pass for the client). */
static inline bool relay_is_client6(const struct rte_ipv6_hdr *ip, const struct turn_alloc *a)
{
	uint64_t p[4], q[4];

	memcpy(p, ip->src_addr, 16);
	memcpy(p + 2, ip->dst_addr, 16);
	memcpy(q, a->client_ip6, 16);
	memcpy(q + 2, a->server_ip6, 16);
	return !((p[0] ^ q[0]) | (p[1] ^ q[1]) | (p[2] ^ q[2]) | (p[3] ^ q[3]));
}

/* Sum of an IPv6 UDP datagram's pseudo-header and UDP header (checksum field taken as 0), as
 * in memory, from its addresses' sum @addrs (cksum_ip6x2): cksum_udp_hdrs' counterpart (the
 * pseudo-header's 32-bit length and next header sum as the 16-bit ones do). */
static inline uint32_t relay_udp_hdrs6_of(uint32_t addrs, uint16_t sport, uint16_t dport,
	uint16_t len_be)
{
	return addrs + RTE_BE16(IPPROTO_UDP) + 2u * len_be + sport + dport;
}

static inline uint32_t relay_udp_hdrs6(const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
	uint16_t dport, uint16_t len_be)
{
	return relay_udp_hdrs6_of(cksum_ip6x2(src, dst), sport, dport, len_be);
}

/* The sum of the old headers a client's datagram arrived with (pseudo-header and UDP); an
 * IPv6 client's addresses are @a's (relay_is_client6 checked them), summed at publication. */
static inline uint32_t relay_in_hdrs(const struct relay_job *j, const struct turn_alloc *a)
{
	if (j->ip6)
		return relay_udp_hdrs6_of(a->client6_sum, j->udp->src_port, j->udp->dst_port,
			j->udp->dgram_len);
	return cksum_udp_hdrs(j->ip->src_addr, j->ip->dst_addr, j->udp->src_port, j->udp->dst_port,
		j->udp->dgram_len);
}

/* The allocation's traffic, in this lcore's own line (found and prefetched by relay_run). */
static inline void relay_count(struct turn_lcore_obj *lo, int dir, uint32_t bytes)
{
	lo->pkts[dir]++;
	lo->bytes[dir] += bytes;
}

/* What every job carries, field by field: a compound literal would zero the whole job first
 * (a rep stos, 4 ns a packet); each kind sets the rest it reads. */
static inline void relay_job_set(struct relay_job *j, struct rte_mbuf *m,
	const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *udp, uint16_t ihl, uint16_t ulen)
{
	j->m = m;
	j->ip = ip;
	j->ip6 = NULL;
	j->udp = udp;
	j->ihl = ihl;
	j->ulen = ulen;
}

/* The same for an IPv6 client's packet (@udp right after @ip6). */
static inline void relay_job_set6(struct relay_job *j, struct rte_mbuf *m,
	const struct rte_ipv6_hdr *ip6, const struct rte_udp_hdr *udp, uint16_t ulen)
{
	j->m = m;
	j->ip = NULL;
	j->ip6 = ip6;
	j->udp = udp;
	j->ihl = sizeof(*ip6);
	j->ulen = ulen;
}

static inline void relay_emit(struct dp_burst_out *out, uint8_t ifi, struct rte_mbuf *m)
{
	out->fwd[ifi][out->n_fwd[ifi]++] = m;
	out->fwd_mask |= 1u << ifi;
}

static inline void relay_drop(struct rte_mbuf *m, struct dp_if_stats *st, enum dp_drop_reason r)
{
	st->drops[r]++;
	rte_pktmbuf_free(m);
}

/* Queues ChannelData from a client, once its header is known to be sound: over IPv4 (@ip,
 * @ihl) or over IPv6 (@ip6, @ip NULL). */
static inline bool relay_queue_cd(struct relay_batch *rb, struct rte_mbuf *m,
	const struct rte_ipv4_hdr *ip, const struct rte_ipv6_hdr *ip6, uint16_t ihl,
	const struct rte_udp_hdr *udp, uint16_t ulen, struct dp_if_stats *st)
{
	const struct relay_cd_hdr *cd = (const struct relay_cd_hdr *)(udp + 1);
	struct relay_job *j;
	uint16_t dlen;

	if (ulen < sizeof(*udp) + sizeof(*cd) || rte_be_to_cpu_16(cd->number) > TURN_CHANNEL_MAX ||
		(dlen = rte_be_to_cpu_16(cd->length)) > ulen - sizeof(*udp) - sizeof(*cd)) {
		relay_drop(m, st, DP_DROP_TURN_MALFORMED);
		return true;
	}
	j = &rb->c2p[rb->n_c2p++];
	if (ip6)
		relay_job_set6(j, m, ip6, udp, ulen);
	else
		relay_job_set(j, m, ip, udp, ihl, ulen);
	j->dlen = dlen;
	j->peer_ip = 0; /* ChannelData */
	return true;
}

static inline bool relay_queue_c2p(struct relay_batch *rb, struct rte_mbuf *m,
	const struct rte_ipv4_hdr *ip, uint16_t ihl, const struct rte_udp_hdr *udp, uint16_t ulen,
	struct dp_if_stats *st)
{
	return relay_queue_cd(rb, m, ip, NULL, ihl, udp, ulen, st);
}

static inline bool relay_queue_c2p6(struct relay_batch *rb, struct rte_mbuf *m,
	const struct rte_ipv6_hdr *ip6, const struct rte_udp_hdr *udp, uint16_t ulen,
	struct dp_if_stats *st)
{
	return relay_queue_cd(rb, m, NULL, ip6, sizeof(*ip6), udp, ulen, st);
}

/* The allocation's token bucket for this lcore and direction (0 = client -> peer): true if
 * @bytes may pass. Per-lcore state, so no atomics; a fresh bucket starts full. */
static inline bool relay_within_cap(const struct dp_l3 *l3, struct turn_lcore_obj *lo, int dir,
	uint32_t bytes, uint64_t tsc)
{
	if (likely(!l3->turn_rate))
		return true;
	return turn_bucket_take(&lo->bucket[dir], l3->turn_rate, l3->turn_burst, bytes, tsc,
		rte_get_tsc_hz());
}

/* Client -> peer, the common end: the payload (@dlen bytes, already where it stays, @delta
 * bytes more in front of it than the new headers take: negative when they need room) becomes
 * a UDP datagram from the relay address to the peer: IPv4 @peer_ip, or with @peer_ip6 (a
 * constant NULL or not at each call) over IPv6 from relay_ip6, whose checksum is mandatory
 * (@old_ck 0: the client sent none, the payload is summed here). @peer_ip6 must not point
 * into the frame. */
static __rte_always_inline void relay_to_peer(const struct dp_l3 *l3, const struct turn_alloc *a,
	struct turn_lcore_obj *lo, const struct turn_perm *pm, struct rte_mbuf *m, int delta,
	uint32_t peer_ip, const uint8_t *peer_ip6, uint16_t peer_port, uint16_t dlen,
	uint16_t old_ck, uint32_t data_sum, struct dp_burst_out *out, struct dp_if_stats *st)
{
	uint16_t l3len = peer_ip6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	struct rte_udp_hdr *nu;

	if (peer_ip6 && delta < 0) {
		if (unlikely(!rte_pktmbuf_prepend(m, (uint16_t)-delta)))
			return relay_drop(m, st, DP_DROP_TURN_MALFORMED);
	} else {
		rte_pktmbuf_adj(m, (uint16_t)delta);
	}
	st->relay_c2p_pkts++;
	st->relay_c2p_bytes += dlen;
	relay_count(lo, 0, dlen);
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (RTE_ETHER_HDR_LEN + l3len + 8 + dlen)));
	if (peer_ip6) {
		relay_write_l3_6(m, &l3->ifs[a->relay_if].mac, &pm->nh_mac, a->relay_ip6, peer_ip6,
			8 + dlen);
		nu = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *,
			RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr));
		nu->src_port = a->relay_port;
		nu->dst_port = peer_port;
		nu->dgram_len = rte_cpu_to_be_16(8 + dlen);
		if (!old_ck)
			data_sum = rte_raw_cksum(nu + 1, dlen);
		/* the relayed address's sum was taken at publication */
		nu->dgram_cksum = cksum_final(data_sum +
			relay_udp_hdrs6_of(a->relay6_sum + cksum_ip6(peer_ip6), nu->src_port,
				nu->dst_port, nu->dgram_len));
		return relay_emit(out, a->relay_if, m);
	}
	relay_write_l3(m, &l3->ifs[a->relay_if].mac, &pm->nh_mac, a->relay_ip, peer_ip, 8 + dlen);
	nu = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, RTE_ETHER_HDR_LEN + 20);
	nu->src_port = a->relay_port;
	nu->dst_port = peer_port;
	nu->dgram_len = rte_cpu_to_be_16(8 + dlen);
	nu->dgram_cksum = old_ck ? cksum_final(data_sum +
					   cksum_udp_hdrs(a->relay_ip, peer_ip, nu->src_port,
						   nu->dst_port, nu->dgram_len)) :
				   0;
	relay_emit(out, a->relay_if, m);
}

/* A Send indication (RFC 8656 11.2), read by the codec's fast path: 1 and @j filled if the
 * fast path can relay it, 0 if it is not a Send indication (a request: Binding is ours, the
 * rest the TURN server's), -1 to discard it silently (an indication gets no error response):
 * malformed, no XOR-PEER-ADDRESS or DATA, an unspecified or broadcast peer, integrity or
 * unknown comprehension-required attributes. An IPv6 peer's address goes to j->peer_ip6,
 * with j->peer_ip RELAY_PEER6. */
static inline int relay_parse_send(const struct rte_udp_hdr *udp, uint16_t ulen,
	struct relay_job *j)
{
	struct stun_fast_ind fi;
	int r = stun_fast_indication((const uint8_t *)(udp + 1), ulen - sizeof(*udp),
		STUN_SEND_INDICATION, &fi);

	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return -1;
	j->data_off = fi.data_off;
	j->dlen = fi.data_len;
	j->peer_port = fi.peer.port;
	if (unlikely(fi.peer.family == 6)) {
		uint64_t w[2];

		memcpy(w, fi.peer.ip, 16);
		memcpy(j->peer_ip6, fi.peer.ip, 16);
		j->peer_ip = RELAY_PEER6;
		return w[0] | w[1] ? 1 : -1;
	}
	j->peer_ip = rd32(fi.peer.ip);
	return j->peer_ip && j->peer_ip != RELAY_PEER6 ? 1 : -1;
}

/* Client -> peer, a Send indication: the DATA value becomes the UDP payload, in place; to an
 * IPv6 peer (@peer6, a constant at each call) when peer_ip is RELAY_PEER6. */
static __rte_always_inline void relay_send_one(const struct dp_l3 *l3, const struct relay_job *j,
	const struct turn_alloc *a, bool peer6, uint32_t now, uint64_t tsc,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	const uint8_t *p = (const uint8_t *)(j->udp + 1);
	uint16_t plen = j->ulen - 8, dlen = j->dlen, old_ck = j->udp->dgram_cksum;
	struct rte_mbuf *m = j->m;
	const struct turn_perm *pm;
	uint32_t data_sum = 0;
	unsigned int head;

	if (unlikely(!turn_live(a->expires, now)))
		return relay_drop(m, st, DP_DROP_TURN_EXPIRED);
	if (peer6) /* no IPv6 relayed address, no IPv6 peer */
		pm = a->relay6 ? turn_perm6_find(a, j->peer_ip6, now, &head) : NULL;
	else
		pm = turn_perm_find(a, j->peer_ip, now);
	if (unlikely(!pm))
		return relay_drop(m, st, DP_DROP_TURN_NO_PERMISSION);
	if (unlikely(pm->port && pm->port != j->peer_port)) /* the line turn_perm_find read */
		return relay_drop(m, st, DP_DROP_TURN_PEER_PORT);
	if (unlikely(rte_is_zero_ether_addr(&pm->nh_mac)))
		return relay_drop(m, st, DP_DROP_TURN_NH_UNRESOLVED);
	if (unlikely(!relay_within_cap(l3, j->lo, 0, dlen, tsc)))
		return relay_drop(m, st, DP_DROP_TURN_RATE_LIMIT);
	if (old_ck) {
		/* everything but the DATA value leaves: sum it out of the old checksum */
		uint32_t removed = relay_in_hdrs(j, a) + rte_raw_cksum(p, j->data_off);
		uint16_t tail = j->data_off + dlen;

		if (tail < plen)
			removed += dlen & 1 ? cksum_odd(p + tail, plen - tail) :
					      rte_raw_cksum(p + tail, plen - tail);
		data_sum = cksum_remove(old_ck, removed);
	}
	/* the DATA value stays where it is; everything before it goes (an IPv6 peer's
	 * XOR-PEER-ADDRESS is longer than the 20 bytes its IPv6 header adds: never a negative
	 * delta) */
	if (peer6)
		relay_to_peer(l3, a, j->lo, pm, m,
			j->ihl + j->data_off - (int)sizeof(struct rte_ipv6_hdr), 0, j->peer_ip6,
			j->peer_port, dlen, old_ck, data_sum, out, st);
	else
		relay_to_peer(l3, a, j->lo, pm, m, j->ihl + 8 + j->data_off - 28, j->peer_ip, NULL,
			j->peer_port, dlen, old_ck, data_sum, out, st);
}

/* A transaction ID for Data indications: per-lcore xorshift, seeded from the TSC. The ID
 * of an indication only has to differ between messages (RFC 8489 6). */
static inline void relay_tid(uint8_t tid[12])
{
	static __thread uint64_t x;
	uint64_t a, b;

	if (unlikely(!x))
		x = rte_rdtsc() | 1;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	a = x;
	x ^= x << 13, x ^= x >> 7, x ^= x << 17;
	b = x;
	memcpy(tid, &a, 8);
	memcpy(tid + 8, &b, 4);
}

/* Client -> peer, for one job whose allocation lookup gave @a. */
static __rte_always_inline void relay_c2p_one(const struct dp_l3 *l3, uint8_t ifi,
	const struct relay_job *j, const struct turn_alloc *a, uint32_t now, uint64_t tsc,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	const struct relay_cd_hdr *cd = (const struct relay_cd_hdr *)(j->udp + 1);
	struct rte_mbuf *m = j->m;
	const struct turn_chan *ch;
	const struct turn_perm *pm;
	uint16_t dlen = j->dlen, old_ck = j->udp->dgram_cksum;
	uint32_t data_sum = 0;

	if (unlikely(!a ||
		    a->client_if != ifi)) /* the same 5-tuple on another wire is not the client */
		return relay_drop(m, st, DP_DROP_TURN_NO_ALLOC);
	/* an IPv6 client's key is a hash of its addresses: they must be the allocation's (an
	 * IPv4 key never names an IPv6 allocation: its server address is one of ours, which
	 * ipv4_input checked, never the mark) */
	if (j->ip6 && unlikely(!turn_key_is6(&a->key) || !relay_is_client6(j->ip6, a)))
		return relay_drop(m, st, DP_DROP_TURN_NO_ALLOC);
	if (j->peer_ip) {
		if (unlikely(j->peer_ip == RELAY_PEER6))
			return relay_send_one(l3, j, a, true, now, tsc, out, st);
		return relay_send_one(l3, j, a, false, now, tsc, out, st);
	}
	if (unlikely(!turn_live(a->expires, now)))
		return relay_drop(m, st, DP_DROP_TURN_EXPIRED);
	ch = turn_chan_by_number(a, rte_be_to_cpu_16(cd->number), now);
	if (unlikely(!ch))
		return relay_drop(m, st, DP_DROP_TURN_NO_CHANNEL);
	/* no port check: ChannelBind checked the channel's; an IPv6 peer's channel names its
	 * permission's head, whose peer_ip is 0 as the channel's */
	pm = &a->pc[ch->perm].perm;
	if (unlikely(pm->peer_ip != ch->peer_ip || !turn_live(pm->expires, now)))
		return relay_drop(m, st, DP_DROP_TURN_NO_PERMISSION);
	if (unlikely(turn_chan_is6(ch)) && (!a->relay6 || ch->perm == 0))
		return relay_drop(m, st, DP_DROP_TURN_NO_PERMISSION);
	if (unlikely(rte_is_zero_ether_addr(&pm->nh_mac)))
		return relay_drop(m, st, DP_DROP_TURN_NH_UNRESOLVED);
	if (unlikely(!relay_within_cap(l3, j->lo, 0, dlen, tsc)))
		return relay_drop(m, st, DP_DROP_TURN_RATE_LIMIT);

	/* the payload's own sum, from the old checksum (padding, if any: sum the data itself) */
	if (old_ck) {
		if (dlen == j->ulen - 12)
			data_sum =
				cksum_remove(old_ck, relay_in_hdrs(j, a) + cd->number + cd->length);
		else
			data_sum = rte_raw_cksum(cd + 1, dlen);
	}
	/* the old headers and the ChannelData header go, the payload stays where it is */
	if (unlikely(turn_chan_is6(ch)))
		relay_to_peer(l3, a, j->lo, pm, m, j->ihl + 4 - (int)sizeof(struct rte_ipv6_hdr), 0,
			turn_perm6_addr(a, ch->perm), ch->peer_port, dlen, old_ck, data_sum, out,
			st);
	else
		relay_to_peer(l3, a, j->lo, pm, m, j->ihl - (int)sizeof(struct rte_ipv4_hdr) + 4,
			ch->peer_ip, NULL, ch->peer_port, dlen, old_ck, data_sum, out, st);
}

/* Peer -> client, the common end: the Ethernet, IP and UDP headers in front of the @l4_len
 * bytes of UDP payload already in place (@data_sum their sum, the peer's payload's part
 * included), towards @a's client over IPv4 or, for an IPv6 client (@v6), over IPv6, whose
 * UDP checksum is mandatory (@old_ck == 0: the peer sent none, IPv4 keeps none). */
static __rte_always_inline void relay_to_client(const struct dp_l3 *l3, const struct turn_alloc *a,
	bool v6, struct rte_mbuf *m, uint16_t l4_len, uint16_t old_ck, uint32_t data_sum,
	struct dp_burst_out *out)
{
	rte_be16_t ulen = rte_cpu_to_be_16(8 + l4_len);
	struct rte_udp_hdr *nu;

	if (v6) {
		relay_write_l3_6(m, &l3->ifs[a->client_if].mac, &a->client_mac, a->server_ip6,
			a->client_ip6, 8 + l4_len);
		nu = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *,
			RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr));
		nu->src_port = a->key.server_port;
		nu->dst_port = a->key.client_port;
		nu->dgram_len = ulen;
		/* the addresses' sum was taken at publication, in their line */
		nu->dgram_cksum = cksum_final(data_sum +
			relay_udp_hdrs6_of(a->client6_sum, nu->src_port, nu->dst_port, ulen));
	} else {
		relay_write_l3(m, &l3->ifs[a->client_if].mac, &a->client_mac, a->key.server_ip,
			a->key.client_ip, 8 + l4_len);
		nu = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, RTE_ETHER_HDR_LEN + 20);
		nu->src_port = a->key.server_port;
		nu->dst_port = a->key.client_port;
		nu->dgram_len = ulen;
		nu->dgram_cksum = old_ck ?
			cksum_final(data_sum +
				cksum_udp_hdrs(a->key.server_ip, a->key.client_ip, nu->src_port,
					nu->dst_port, ulen)) :
			0;
	}
	relay_emit(out, a->client_if, m);
}

/* Peer -> client with no channel for that peer: a Data indication (RFC 8656 11.4) with
 * XOR-PEER-ADDRESS and DATA built in front of the payload, which stays put; an IPv6 peer's
 * (@peer6) address XORed with the magic cookie and the transaction ID (RFC 8489 14.2). */
static __rte_always_inline void relay_data_indication(const struct dp_l3 *l3,
	const struct relay_job *j, const struct turn_alloc *a, bool v6, bool peer6,
	uint32_t data_sum, struct dp_burst_out *out, struct dp_if_stats *st)
{
	struct rte_mbuf *m = j->m;
	uint16_t dlen = j->ulen - 8, pad = (4 - (dlen & 3)) & 3, old_ck = j->udp->dgram_cksum;
	uint16_t l3len = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	/* STUN header, XOR-PEER-ADDRESS, DATA's header */
	const uint16_t hl = peer6 ? 20 + 24 + 4 : 20 + 12 + 4;
	uint32_t peer_ip = 0, p6[4];
	uint16_t peer_port = j->udp->src_port;
	int delta = hl + l3len - (int)j->ihl;
	uint8_t *stun;

	if (peer6) /* read before the new headers overwrite the old */
		memcpy(p6, j->ip6->src_addr, 16);
	else
		peer_ip = j->ip->src_addr;

	if (delta > 0 ? !rte_pktmbuf_prepend(m, (uint16_t)delta) :
			!rte_pktmbuf_adj(m, (uint16_t)-delta))
		return relay_drop(m, st, DP_DROP_TURN_MALFORMED);
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (RTE_ETHER_HDR_LEN + l3len + 8 + hl + dlen)));
	if (pad) {
		uint8_t *z = (uint8_t *)rte_pktmbuf_append(m, pad);

		if (!z)
			return relay_drop(m, st, DP_DROP_TURN_MALFORMED);
		memset(z, 0, pad);
	}
	st->relay_p2c_pkts++;
	st->relay_p2c_bytes += dlen;
	relay_count(j->lo, 1, dlen);
	stun = rte_pktmbuf_mtod_offset(m, uint8_t *, RTE_ETHER_HDR_LEN + l3len + 8);
	wr16(stun, RTE_BE16(STUN_DATA_INDICATION));
	wr16(stun + 2, rte_cpu_to_be_16(hl - 20 + dlen + pad));
	wr32(stun + 4, RTE_BE32(STUN_MAGIC));
	relay_tid(stun + 8);
	wr16(stun + 20, RTE_BE16(STUN_ATTR_XOR_PEER_ADDRESS));
	wr16(stun + 26, peer_port ^ RTE_BE16(STUN_MAGIC >> 16));
	if (peer6) {
		wr16(stun + 22, RTE_BE16(20));
		wr16(stun + 24, RTE_BE16(0x0002)); /* reserved 0, family IPv6 */
		wr32(stun + 28, p6[0] ^ RTE_BE32(STUN_MAGIC));
		for (int i = 0; i < 3; i++)
			wr32(stun + 32 + 4 * i, p6[1 + i] ^ rd32(stun + 8 + 4 * i));
	} else {
		wr16(stun + 22, RTE_BE16(8));
		wr16(stun + 24, RTE_BE16(0x0001)); /* reserved 0, family IPv4 */
		wr32(stun + 28, peer_ip ^ RTE_BE32(STUN_MAGIC));
	}
	wr16(stun + hl - 4, RTE_BE16(STUN_ATTR_DATA));
	wr16(stun + hl - 2, rte_cpu_to_be_16(dlen));
	relay_to_client(l3, a, v6, m, hl + dlen + pad, old_ck, data_sum + rte_raw_cksum(stun, hl),
		out);
}

/* Peer -> client, the rest once the permission passed: @v6 (the client's family) and @peer6
 * (the peer's) constants at each call, so that each combination is compiled on its own. */
static __rte_always_inline void relay_p2c_end(const struct dp_l3 *l3, const struct relay_job *j,
	const struct turn_alloc *a, const struct turn_chan *ch, bool v6, bool peer6,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	struct rte_mbuf *m = j->m;
	uint16_t dlen = j->ulen - 8, old_ck = j->udp->dgram_cksum;
	uint16_t l3len = v6 ? sizeof(struct rte_ipv6_hdr) : sizeof(struct rte_ipv4_hdr);
	int delta = 4 + l3len - (int)j->ihl;
	uint32_t data_sum = 0;
	struct relay_cd_hdr *cd;

	if (old_ck) /* an IPv6 peer's always (udp_relay6) */
		data_sum = cksum_remove(old_ck,
			peer6 ? relay_udp_hdrs6(j->ip6->src_addr, j->ip6->dst_addr,
					j->udp->src_port, j->udp->dst_port, j->udp->dgram_len) :
				cksum_udp_hdrs(j->ip->src_addr, j->ip->dst_addr, j->udp->src_port,
					j->udp->dst_port, j->udp->dgram_len));
	else if (v6) /* over IPv6 the checksum is mandatory: the payload's sum, read */
		data_sum = rte_raw_cksum(j->udp + 1, dlen);
	if (!ch)
		return relay_data_indication(l3, j, a, v6, peer6, data_sum, out, st);

	/* room for the ChannelData header in front of the payload, which stays put */
	if (delta > 0 ? !rte_pktmbuf_prepend(m, (uint16_t)delta) :
			!rte_pktmbuf_adj(m, (uint16_t)-delta))
		return relay_drop(m, st, DP_DROP_TURN_MALFORMED);
	st->relay_p2c_pkts++;
	st->relay_p2c_bytes += dlen;
	relay_count(j->lo, 1, dlen);
	rte_pktmbuf_trim(m, (uint16_t)(m->pkt_len - (RTE_ETHER_HDR_LEN + l3len + 12 + dlen)));
	cd = rte_pktmbuf_mtod_offset(m, struct relay_cd_hdr *, RTE_ETHER_HDR_LEN + l3len + 8);
	cd->number = rte_cpu_to_be_16(ch->number);
	cd->length = rte_cpu_to_be_16(dlen);
	relay_to_client(l3, a, v6, m, 4 + dlen, old_ck, data_sum + cd->number + cd->length, out);
}

/* Peer -> client, what follows the permission lookup (@pm, NULL: none) for either family:
 * the port it opens, the cap, and a stream client's datagram handed to the control plane,
 * which frames it into that stream (reading the IP header itself). False when @j's packet is
 * gone (dropped or handed over). */
static __rte_always_inline bool relay_p2c_admit(const struct dp_l3 *l3, const struct relay_job *j,
	const struct turn_alloc *a, const struct turn_perm *pm, uint64_t tsc,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	uint16_t dlen = j->ulen - 8;

	if (unlikely(!pm))
		return relay_drop(j->m, st, DP_DROP_TURN_NO_PERMISSION), false;
	if (unlikely(pm->port && pm->port != j->udp->src_port))
		return relay_drop(j->m, st, DP_DROP_TURN_PEER_PORT), false;
	if (unlikely(!relay_within_cap(l3, j->lo, 1, dlen, tsc)))
		return relay_drop(j->m, st, DP_DROP_TURN_RATE_LIMIT), false;
	if (unlikely(a->client_if == TURN_CLIENT_STREAM)) {
		st->relay_p2c_pkts++;
		st->relay_p2c_bytes += dlen;
		relay_count(j->lo, 1, dlen);
		j->m->hash.usr = DP_PUNT_TURN_STREAM;
		out->data[out->n_data++] = j->m;
		return false;
	}
	return true;
}

/* Peer -> client, for one job whose relay-port lookup gave @a. */
static __rte_always_inline void relay_p2c_one(const struct dp_l3 *l3, const struct relay_job *j,
	const struct turn_alloc *a, uint32_t now, uint64_t tsc, struct dp_burst_out *out,
	struct dp_if_stats *st)
{
	struct rte_mbuf *m = j->m;
	const struct turn_chan *ch;
	const struct turn_perm *pm;
	uint32_t peer_ip = j->ip->src_addr;
	uint16_t peer_port = j->udp->src_port;

	if (unlikely(!a))
		return relay_drop(m, st, DP_DROP_TURN_NO_ALLOC);
	if (unlikely(!turn_live(a->expires, now)))
		return relay_drop(m, st, DP_DROP_TURN_EXPIRED);
	pm = turn_perm_find(a, peer_ip, now);
	if (!relay_p2c_admit(l3, j, a, pm, tsc, out, st))
		return;
	ch = turn_chan_by_peer(a, peer_ip, peer_port, now);
	if (turn_key_is6(&a->key))
		relay_p2c_end(l3, j, a, ch, true, false, out, st);
	else
		relay_p2c_end(l3, j, a, ch, false, false, out, st);
}

/* Peer -> client from an IPv6 peer (to the IPv6 relayed address @a holds, as its port table
 * said): relay_p2c_one's counterpart, the peer found by its address. */
static __rte_always_inline void relay_p2c6_one(const struct dp_l3 *l3, const struct relay_job *j,
	const struct turn_alloc *a, uint32_t now, uint64_t tsc, struct dp_burst_out *out,
	struct dp_if_stats *st)
{
	struct rte_mbuf *m = j->m;
	const struct turn_chan *ch;
	const struct turn_perm *pm;
	uint16_t peer_port = j->udp->src_port;
	unsigned int head;

	if (unlikely(!a))
		return relay_drop(m, st, DP_DROP_TURN_NO_ALLOC);
	if (unlikely(!turn_live(a->expires, now)))
		return relay_drop(m, st, DP_DROP_TURN_EXPIRED);
	/* (its relayed address's port table led here: no need to read relay6, in a cold line) */
	pm = turn_perm6_find(a, j->ip6->src_addr, now, &head);
	if (!relay_p2c_admit(l3, j, a, pm, tsc, out, st))
		return;
	ch = turn_chan_by_peer6(a, head, peer_port, now);
	if (turn_key_is6(&a->key))
		relay_p2c_end(l3, j, a, ch, true, true, out, st);
	else
		relay_p2c_end(l3, j, a, ch, false, true, out, st);
}

/* Runs the batch: lookups in stages with prefetches, then each packet. */
static inline void relay_run(const struct dp_l3 *l3, uint8_t ifi, struct relay_batch *rb,
	uint64_t tsc, struct dp_burst_out *out, struct dp_if_stats *st)
{
	const struct turn_alloc *a[EDGE_MAX_BURST];
	struct turn_lcore_obj *lc = turn_tab.buckets[rte_lcore_id()];
	uint32_t now = turn_ticks(tsc);
	unsigned int n;

	if ((n = rb->n_c2p)) {
		const struct turn_ctab *t = edge_rcu_read(turn_tab.by_client);
		struct turn_key keys[EDGE_MAX_BURST];
		uint32_t h[EDGE_MAX_BURST];

		for (unsigned int i = 0; i < n; i++) {
			const struct relay_job *j = &rb->c2p[i];
			/* hashed from registers, not from keys[i] (turn_ctab_hash) */
			struct turn_key k = j->ip6 ?
				turn_key6(j->ip6->src_addr, j->ip6->dst_addr, j->udp->src_port,
					j->udp->dst_port) :
				(struct turn_key){ j->ip->src_addr, j->ip->dst_addr,
					j->udp->src_port, j->udp->dst_port };

			keys[i] = k;
			h[i] = turn_ctab_hash(t, &k);
			rte_prefetch0(&t->b[h[i] & t->mask]);
		}
		for (unsigned int i = 0; i < n; i++) {
			a[i] = turn_ctab_find(t, &keys[i], h[i]);
			if (a[i]) {
				rb->c2p[i].lo = &lc[a[i] - turn_tab.objs];
				rte_prefetch0(a[i]);
				rte_prefetch0(rb->c2p[i].lo);
				if (rb->c2p[i].ip6) {
					/* its addresses, checked, and their sum: line 5; the
					 * IPv6 relayed address with the first IPv6 peer's head:
					 * line 4; that peer's address: line 3 */
					rte_prefetch0(a[i]->client_ip6);
					rte_prefetch0(a[i]->relay_ip6);
					rte_prefetch0(turn_perm6_addr(a[i], TURN_PERM6_HEAD(0)));
				}
			}
		}
		for (unsigned int i = 0; i < n; i++)
			relay_c2p_one(l3, ifi, &rb->c2p[i], a[i], now, tsc, out, st);
	}
	if ((n = rb->n_p2c)) {
		const uint32_t *slot[EDGE_MAX_BURST];

		for (unsigned int i = 0; i < n; i++) {
			const struct relay_job *j = &rb->p2c[i];

			/* udp_relay looked the port table up already */
			slot[i] = j->ports ? &j->ports[rte_be_to_cpu_16(j->udp->dst_port)] : NULL;
			if (slot[i])
				rte_prefetch0(slot[i]);
		}
		for (unsigned int i = 0; i < n; i++) {
			uint32_t s = slot[i] ? __atomic_load_n(slot[i], __ATOMIC_RELAXED) : 0;

			slot[i] = s ? (const uint32_t *)&turn_tab.slots[s - 1] : NULL;
			if (slot[i])
				rte_prefetch0(slot[i]);
		}
		for (unsigned int i = 0; i < n; i++) {
			a[i] = slot[i] ? edge_rcu_read(*(struct turn_alloc *const *)slot[i]) : NULL;
			if (a[i]) {
				rb->p2c[i].lo = &lc[a[i] - turn_tab.objs];
				rte_prefetch0(a[i]);
				rte_prefetch0(rb->p2c[i].lo);
				if (rb->p2c[i].ip6) { /* an IPv6 peer's: the first one's address
						       * and permission, from the top */
					rte_prefetch0(&a[i]->pc[TURN_PERM6_HEAD(0) - 1]);
					rte_prefetch0(&a[i]->pc[TURN_PERM6_HEAD(0)]);
				}
			}
		}
		/* an IPv6 client's addresses and their sum are in line 5, and only line 0 tells:
		 * a stage of its own, the first lines being on their way */
		for (unsigned int i = 0; i < n; i++)
			if (a[i] && turn_key_is6(&a[i]->key))
				rte_prefetch0(a[i]->client_ip6);
		for (unsigned int i = 0; i < n; i++) {
			if (unlikely(rb->p2c[i].ip6))
				relay_p2c6_one(l3, &rb->p2c[i], a[i], now, tsc, out, st);
			else
				relay_p2c_one(l3, &rb->p2c[i], a[i], now, tsc, out, st);
		}
	}
}

#endif
