/* The SFU's fast path: SRTP and SRTCP from a known meeting leg on a media port are
 * unprotected once with the leg's inbound context, then protected once per receiver with the
 * context made for that receiver and this source, and sent (media_tables.h says who owns
 * which context). RTCP goes where it names: sender reports to the source's receivers,
 * key-frame requests (PLI/FIR) and receiver reports to the sender of the SSRC they name, a
 * key-frame request at most once a second per sender and lcore. NACKs are ours: answered from
 * the sender's video kept for a second, and sent to senders for their uplink's losses
 * (sfu_rtx_*, sfu_nack_*). A sender that negotiated transport-cc gets our feedback on its
 * uplink (sfu_twcc_*). STUN, DTLS and
 * anything that is not RTP go to the control plane's socket (the media server). Legs are of
 * either family (issue 18): sfu_input for IPv4, sfu_input6 for IPv6, and each receiver's copy
 * gets its own family's headers (sfu_emit). No lock,
 * no heap but the mempool, no log: every drop is counted under its reason. */
#ifndef EDGE_SFU_H
#define EDGE_SFU_H

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_ring_elem.h>
#include <rte_udp.h>

#include "cksum.h"
#include "dp.h"
#include "edge_bytes.h"
#include "edge_rcu.h"
#include "media_tables.h"
#include "rtp_ext.h"

/* Every packet the SFU builds has its payload SFU_HDRS past the start of its data (the
 * IPv4 headers' room); an IPv6 receiver's headers take SFU_HDRS6_EXTRA more bytes, before
 * that, out of the mbuf's headroom (sfu_emit6), and an IPv6 packet reused in place is first
 * made to look like that (sfu_input6). */
#define SFU_HDRS (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
#define SFU_HDRS6 (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv6_hdr) + sizeof(struct rte_udp_hdr))
#define SFU_HDRS6_EXTRA (SFU_HDRS6 - SFU_HDRS)

static inline void sfu_drop(struct rte_mbuf *m, struct dp_if_stats *st, enum dp_drop_reason r)
{
	st->drops[r]++;
	rte_pktmbuf_free(m);
}

/* Whether (@ifi, @dst_ip, @dst_port) is a media port: cheap enough for every UDP packet. */
static inline bool sfu_is_media_port(const struct dp_l3 *l3, uint8_t ifi, uint32_t dst_ip,
	uint16_t dst_port)
{
	return l3->media_port[ifi] && l3->media_port[ifi] == dst_port &&
		l3->media_ip[ifi] == dst_ip;
}

/* Whether (@ifi, @dst_ip6, @dst_port) is a media port over IPv6: the media port on one of the
 * interface's global IPv6 addresses (where the media server's IPv6 sockets are). */
static inline bool sfu_is_media_port6(const struct dp_l3 *l3, uint8_t ifi, const uint8_t *dst_ip6,
	uint16_t dst_port)
{
	const struct dp_if *ifp = &l3->ifs[ifi];

	if (!l3->media_port[ifi] || l3->media_port[ifi] != dst_port)
		return false;
	for (unsigned int i = 0; i < ifp->n_addrs6 && i < EDGE_MAX_ADDRS; i++)
		if (edge_ip6_eq(ifp->addr6[i], dst_ip6))
			return true;
	return false;
}

static inline void sfu_queue(struct rte_mbuf *m, uint8_t ifi, struct dp_burst_out *out);

/* sfu_emit's IPv6 half: the payload at SFU_HDRS gets Ethernet, IPv6 and UDP headers (the
 * UDP checksum, mandatory over IPv6) starting SFU_HDRS6_EXTRA bytes into the headroom. */
static inline void sfu_emit6(const struct dp_l3 *l3, const struct media_leg *dst,
	struct rte_mbuf *m, uint16_t plen, struct dp_burst_out *out)
{
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	struct rte_udp_hdr *udp;

	if (unlikely(m->data_off < SFU_HDRS6_EXTRA)) { /* never from our pools' mbufs */
		out->flush_drops++;
		rte_pktmbuf_free(m);
		return;
	}
	m->data_off = (uint16_t)(m->data_off - SFU_HDRS6_EXTRA);
	m->data_len = m->pkt_len = (uint32_t)(SFU_HDRS6 + plen);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	udp = (struct rte_udp_hdr *)(ip + 1);
	memcpy(eth->dst_addr.addr_bytes, dst->mac, 6);
	eth->src_addr = l3->ifs[dst->ifi].mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = RTE_BE32(6u << 28);
	ip->payload_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + plen));
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, dst->local_ip6, 16);
	memcpy(ip->dst_addr, dst->remote_ip6, 16);
	*udp = (struct rte_udp_hdr){ .src_port = dst->local_port,
		.dst_port = dst->remote_port,
		.dgram_len = ip->payload_len };
	udp->dgram_cksum = rte_ipv6_udptcp_cksum(ip, udp); /* 0 comes out as 0xffff */
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	sfu_queue(m, dst->ifi, out);
}

/* Writes fresh Ethernet, IP and UDP headers for @plen bytes of payload that sit SFU_HDRS
 * bytes into @m, towards @dst (IPv4, or IPv6 for an IPv6 leg: sfu_emit6), and queues @m out of
 * @dst's interface. */
static inline void sfu_emit(const struct dp_l3 *l3, const struct media_leg *dst, struct rte_mbuf *m,
	uint16_t plen, struct dp_burst_out *out)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	if (unlikely(dst->v6))
		return sfu_emit6(l3, dst, m, plen, out);
	m->data_len = m->pkt_len = (uint32_t)(SFU_HDRS + plen);
	memcpy(eth->dst_addr.addr_bytes, dst->mac, 6);
	eth->src_addr = l3->ifs[dst->ifi].mac;
	eth->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45,
		.time_to_live = 64,
		.next_proto_id = IPPROTO_UDP,
		.src_addr = dst->local_ip,
		.dst_addr = dst->remote_ip,
		.total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*udp) + plen)) };
	ip->hdr_checksum = cksum_ipv4_20(ip);
	*udp = (struct rte_udp_hdr){ .src_port = dst->local_port,
		.dst_port = dst->remote_port,
		.dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*udp) + plen)) };
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	sfu_queue(m, dst->ifi, out);
}

/* Queues @m (its headers written) out of interface @ifi. */
static inline void sfu_queue(struct rte_mbuf *m, uint8_t ifi, struct dp_burst_out *out)
{
	/* a burst fans out to many times its size: a full queue leaves now (the worker's
	 * flush), or, where nobody can send it (tests), the copy is dropped and counted */
	if (unlikely(out->n_fwd[ifi] == EDGE_MAX_BURST)) {
		if (!out->flush) {
			out->flush_drops++;
			rte_pktmbuf_free(m);
			return;
		}
		out->flush(out->flush_ctx, ifi, out->fwd[ifi], out->n_fwd[ifi]);
		out->n_fwd[ifi] = 0;
	}
	out->fwd[ifi][out->n_fwd[ifi]++] = m;
	out->fwd_mask |= 1u << ifi;
}

/* A fresh mbuf holding @len bytes of @p after room for the headers, with room for the SRTP
 * trailer; NULL when the pool is empty. */
static inline struct rte_mbuf *sfu_copy(struct rte_mempool *mp, const uint8_t *p, uint16_t len)
{
	struct rte_mbuf *c = rte_pktmbuf_alloc(mp);

	if (unlikely(!c))
		return NULL;
	if (unlikely(rte_pktmbuf_tailroom(c) < SFU_HDRS + len + MEDIA_SRTP_TRAILER)) {
		rte_pktmbuf_free(c);
		return NULL;
	}
	memcpy(rte_pktmbuf_mtod_offset(c, uint8_t *, SFU_HDRS), p, len);
	return c;
}

/* Protects @len bytes of plaintext at @q (RTP when !@rtcp), right after the headers in @c, for
 * receiver @dst with @o (a source's context towards it) and sends @c; @again: a retransmission
 * of RTP sent before (media_srtp_protect_again). False: dropped, counted. */
static inline bool sfu_send(const struct dp_l3 *l3, const struct media_leg *dst,
	const struct media_out *o, struct rte_mbuf *c, uint8_t *q, uint16_t len, bool rtcp,
	bool again, struct dp_burst_out *out, struct dp_if_stats *st)
{
	int n = len;

	if (!rtcp)
		q[1] = (uint8_t)((q[1] & 0x80) | o->pt_map[q[1] & 0x7f]);
	if (unlikely((rtcp		   ? media_srtp_protect_rtcp(&o->tx, q, &n) :
				     again ? media_srtp_protect_again(&o->tx, q, &n) :
					     media_srtp_protect(&o->tx, q, &n)) != MEDIA_SRTP_OK)) {
		st->drops[DP_DROP_MEDIA_PROTECT]++;
		rte_pktmbuf_free(c);
		return false;
	}
	struct media_lcore_leg *dc = &media_lcore[rte_lcore_id()][dst->slot];
	dc->tx_pkts++;
	dc->tx_bytes += (uint32_t)n;
	st->sfu_tx_pkts++;
	sfu_emit(l3, dst, c, (uint16_t)n, out);
	return true;
}

/* What a simulcast receiver's copy of an RTP packet becomes (simulcast.h): its numbers. */
struct sfu_renumber {
	uint16_t seq;
	uint32_t ts, ssrc;
};

/* Protects @len bytes of plaintext at @p (RTP when !@rtcp) for receiver @o and sends it:
 * in @m itself when @in_place (the last receiver; @p then lies inside @m right after
 * its headers), else in a copy; renumbered first when @rn (the copy, or @p in place). */
static inline void sfu_forward_one(const struct dp_l3 *l3, const struct media_tab *t,
	const struct media_out *o, struct rte_mbuf *m, const uint8_t *p, uint16_t len, bool rtcp,
	bool in_place, const struct sfu_renumber *rn, struct dp_burst_out *out,
	struct dp_if_stats *st)
{
	const struct media_leg *dst = t->legs[o->dst];
	struct rte_mbuf *c;
	uint8_t *q;

	if (unlikely(!dst)) {
		if (in_place)
			rte_pktmbuf_free(m);
		return;
	}
	if (in_place) {
		c = m;
	} else {
		c = sfu_copy(m->pool, p, len);
		if (unlikely(!c)) {
			st->drops[DP_DROP_MEDIA_NOMBUF]++;
			return;
		}
	}
	q = in_place ? (uint8_t *)p : rte_pktmbuf_mtod_offset(c, uint8_t *, SFU_HDRS);
	if (rn) {
		edge_put_be16(q + 2, rn->seq);
		edge_put_be32(q + 4, rn->ts);
		edge_put_be32(q + 8, rn->ssrc);
	}
	sfu_send(l3, dst, o, c, q, len, rtcp, false, out, st);
}

/* Sends @len bytes of plaintext at @p to every receiver in @mask (bit i: leg->out[i]). */
static inline void sfu_fan_out(const struct dp_l3 *l3, const struct media_tab *t,
	const struct media_leg *leg, uint32_t mask, struct rte_mbuf *m, uint8_t *p, uint16_t len,
	bool rtcp, bool can_reuse, struct dp_burst_out *out, struct dp_if_stats *st)
{
	if (!mask) {
		rte_pktmbuf_free(m); /* nobody takes it now: consumed, not a drop */
		st->sfu_no_receiver++;
		return;
	}
	while (mask) {
		unsigned int i = __builtin_ctz(mask);

		mask &= mask - 1;
		sfu_forward_one(l3, t, &leg->out[i], m, p, len, rtcp, can_reuse && !mask, NULL, out,
			st);
	}
	if (!can_reuse)
		rte_pktmbuf_free(m);
}

/* Which of @leg's receivers own @ssrc (one of their own streams): a mask over leg->out. */
static inline uint32_t sfu_route_ssrc(const struct media_leg *leg, uint32_t ssrc)
{
	uint32_t mask = 0;

	if (!ssrc)
		return 0;
	for (unsigned int i = 0; i < leg->n_out; i++)
		if (leg->out[i].dst_audio_ssrc == ssrc || leg->out[i].dst_video_ssrc == ssrc)
			mask |= 1u << i;
	return mask;
}

/* What sfu_rtcp_targets() saw that is the SFU's: receivers' NACKs (RFC 4585 6.2.1), to answer
 * (sfu_nack_serve), taken out of their RTCP packet, at most SFU_NACK_FCI_MAX FCIs of one
 * packet served; and the report blocks' figures about what we send the leg, per medium. */
#define SFU_NACK_FCI_MAX 64
struct sfu_nacks {
	unsigned int n, over;	       /* FCIs kept; beyond SFU_NACK_FCI_MAX */
	unsigned int feedback;	       /* other feedback (PLI, FIR, RTPFB/PSFB): for someone */
	uint8_t out[SFU_NACK_FCI_MAX]; /* whose stream: an index into leg->out */
	uint32_t ssrc[SFU_NACK_FCI_MAX];
	uint32_t fci[SFU_NACK_FCI_MAX];
	unsigned int blocks; /* report blocks about our streams to the leg */
	uint8_t lost[2];     /* [0] audio, [1] video: the worst fraction lost */
	uint32_t jitter[2];  /* and jitter, of this packet's blocks */
	/* a block on a sender report we forwarded (LSR set): whose, and when, for the RTT */
	uint16_t lsr_src;
	uint8_t lsr_k;
	uint32_t lsr, dlsr;
	/* the leg's own sender report: which medium (-1: none) and its NTP's middle 32 bits */
	int8_t sr_k;
	uint32_t sr_ntp;
};

/* A report block at @b about one of the streams we send @leg: its figures into @nk. */
static inline void sfu_report_block(const struct media_leg *leg, const uint8_t *b,
	struct sfu_nacks *nk)
{
	uint32_t ssrc = edge_be32(b), jitter = edge_be32(b + 12);

	for (unsigned int i = 0; i < leg->n_out; i++) {
		int k = leg->out[i].dst_video_ssrc == ssrc ? 1 :
			leg->out[i].dst_audio_ssrc == ssrc ? 0 :
							     -1;

		if (k < 0)
			continue;
		nk->lost[k] = RTE_MAX(nk->lost[k], b[4]);
		nk->jitter[k] = RTE_MAX(nk->jitter[k], jitter);
		nk->blocks++;
		if (edge_be32(b + 16)) {
			nk->lsr_src = leg->out[i].dst;
			nk->lsr_k = (uint8_t)k;
			nk->lsr = edge_be32(b + 16);
			nk->dlsr = edge_be32(b + 20);
		}
		return;
	}
}

/* Where a compound RTCP packet from @leg (*@len bytes at @p) goes; -1 when it is malformed.
 * Its generic NACKs go to @nk and out of the packet (*@len shrinks). */
static inline int64_t sfu_rtcp_targets(const struct media_leg *leg, uint8_t *p, uint16_t *len,
	uint32_t *keyframe, struct sfu_nacks *nk, bool keep_sr)
{
	uint32_t mask = 0, w = 0;
	bool sr = false;

	*keyframe = 0;
	nk->n = nk->over = nk->blocks = nk->feedback = 0;
	nk->lost[0] = nk->lost[1] = 0;
	nk->jitter[0] = nk->jitter[1] = 0;
	nk->lsr = nk->dlsr = nk->sr_ntp = 0;
	nk->lsr_src = nk->lsr_k = 0;
	nk->sr_k = -1;
	for (uint32_t off = 0; off + 4 <= *len;) {
		uint8_t pt = p[off + 1], count = p[off] & 0x1f;
		uint32_t plen = ((uint32_t)edge_be16(p + off + 2) + 1) * 4;

		if ((p[off] >> 6) != 2 || off + plen > *len)
			return -1;
		switch (pt) {
		case 200: /* SR: report blocks after 28 bytes */
		case 201: /* RR: after 8 */
			if (plen < (pt == 200 ? 28u : 8u))
				return -1;
			if (pt == 200) {
				uint32_t ssrc = edge_be32(p + off + 4);

				sr = keep_sr;
				nk->sr_k = ssrc == leg->audio_ssrc ? 0 :
					ssrc == leg->video_ssrc	   ? 1 :
								     -1;
				nk->sr_ntp = edge_be32(p + off + 10);
			}
			for (uint32_t b = 0, at = off + (pt == 200 ? 28 : 8);
				b < count && at + 24 <= off + plen; b++, at += 24)
				sfu_report_block(leg, p + at, nk);
			/* the reports end here: a receiver's loss downstream is not its sender's
			 * (ours go to senders: sfu_rr_tick); an SR's sender info goes on (sync),
			 * an RR as an empty one, for the compound's sake (RFC 3550 6.1); a
			 * simulcast layer's SR not at all (!@keep_sr: its receivers know neither
			 * its SSRC nor its timestamps) */
			if (pt == 200 && !keep_sr) {
				off += plen;
				continue;
			}
			{
				uint32_t keep = pt == 200 ? 28 : 8;

				memmove(p + w, p + off, keep); /* w <= off: what is unread stays */
				p[w] = 0x80;		       /* no report blocks, no padding */
				p[w + 2] = 0;
				p[w + 3] = (uint8_t)(keep / 4 - 1);
				w += keep;
				off += plen;
				continue;
			}
		case 205:		  /* RTPFB: media source at 8 */
			if (count == 1) { /* generic NACK: ours, FCIs of 4 bytes from 12 */
				uint32_t ssrc = plen >= 12 ? edge_be32(p + off + 8) : 0;
				uint32_t r = sfu_route_ssrc(leg, ssrc);

				for (uint32_t at = off + 12; r && at + 4 <= off + plen; at += 4) {
					if (nk->n == SFU_NACK_FCI_MAX) {
						nk->over++;
						continue;
					}
					nk->out[nk->n] = (uint8_t)__builtin_ctz(r);
					nk->ssrc[nk->n] = ssrc;
					nk->fci[nk->n++] = edge_be32(p + at);
				}
				off += plen;
				continue; /* not forwarded */
			}
			nk->feedback++;
			if (plen >= 12)
				mask |= sfu_route_ssrc(leg, edge_be32(p + off + 8));
			break;
		case 206: /* PSFB */
			nk->feedback++;
			if (count == 4) { /* FIR: FCI entries of 8 bytes from 12 */
				for (uint32_t at = off + 12; at + 8 <= off + plen; at += 8)
					*keyframe |= sfu_route_ssrc(leg, edge_be32(p + at));
			} else if (plen >= 12) {
				uint32_t r = sfu_route_ssrc(leg, edge_be32(p + off + 8));

				if (count == 1) /* PLI */
					*keyframe |= r;
				else if (count != 15) /* REMB is ours to answer, later */
					mask |= r;
			}
			break;
		default: /* SDES, BYE, APP, XR ride along */
			break;
		}
		if (w != off)
			memmove(p + w, p + off, plen);
		w += plen;
		off += plen;
	}
	*len = (uint16_t)w;
	if (!w)
		return 0;
	if (sr) /* a sender report: to everyone who takes this source */
		for (unsigned int i = 0; i < leg->n_out; i++)
			if (leg->out[i].fwd_audio || leg->out[i].fwd_video)
				mask |= 1u << i;
	return mask | *keyframe;
}

/* A key-frame request reaches a sender at most once a second (per lcore): the rest of a
 * burst of requests (every receiver asks when it joins) is dropped here. */
static inline uint32_t sfu_keyframe_limit(const struct media_tab *t, const struct media_leg *leg,
	uint32_t keyframe, struct media_lcore_leg *lc, uint64_t now, uint64_t hz)
{
	uint32_t refused = 0;

	while (keyframe) {
		unsigned int i = __builtin_ctz(keyframe);
		const struct media_leg *dst = t->legs[leg->out[i].dst];

		keyframe &= keyframe - 1;
		if (!dst)
			continue;
		struct media_lcore_leg *dc = &lc[dst->slot];
		if (dc->last_pli && now - dc->last_pli < hz) {
			refused |= 1u << i;
			continue;
		}
		dc->last_pli = now;
		lc[leg->slot].keyframe_req++;
	}
	return refused;
}

/* Our own RTCP to a leg (transport-cc feedback, NACKs, receiver reports): an mbuf from @mp
 * with room for @room bytes after the headers, *@q where they go; NULL (counted) when none. */
static inline struct rte_mbuf *sfu_fb_alloc(struct rte_mempool *mp, unsigned int room, uint8_t **q,
	struct dp_if_stats *st)
{
	struct rte_mbuf *c = mp ? rte_pktmbuf_alloc(mp) : NULL;

	if (unlikely(!c || rte_pktmbuf_tailroom(c) < SFU_HDRS + room + MEDIA_SRTP_TRAILER)) {
		st->drops[DP_DROP_MEDIA_NOMBUF]++;
		rte_pktmbuf_free(c);
		return NULL;
	}
	*q = rte_pktmbuf_mtod_offset(c, uint8_t *, SFU_HDRS);
	return c;
}

/* ... and sent: @len bytes at @q protected with the leg's feedback context (its key, our
 * feedback SSRC). False: dropped, counted. */
static inline bool sfu_fb_send(const struct dp_l3 *l3, const struct media_leg *leg,
	struct rte_mbuf *c, uint8_t *q, int len, struct dp_burst_out *out, struct dp_if_stats *st)
{
	if (unlikely(media_srtp_protect_rtcp(&leg->twcc_tx, q, &len) != MEDIA_SRTP_OK)) {
		st->drops[DP_DROP_MEDIA_PROTECT]++;
		rte_pktmbuf_free(c);
		return false;
	}
	st->sfu_tx_pkts++;
	sfu_emit(l3, leg, c, (uint16_t)len, out);
	return true;
}

/* Transport-cc (twcc.h): arrival ticks are the TSC / 256 (a 32-bit tick lasts minutes, the
 * window's arrivals are reported within 50 ms); feedback goes every 1/SFU_TWCC_PER_SEC s. */
#define SFU_TWCC_TSC_SHIFT 8
#define SFU_TWCC_PER_SEC 20
#define SFU_TWCC_ROUNDS 4 /* feedbacks per leg and round at most (a delta beyond int16) */

/* Notes the transport-wide sequence number of RTP packet @p (authenticated, @len bytes) from
 * @leg, if it carries one: a few stores, on the lcore that owns the leg. */
static inline void sfu_twcc_note(const struct media_leg *leg, const struct rte_mbuf *m,
	const uint8_t *p, uint16_t len, uint64_t tsc)
{
	struct media_twcc_lcore *tl = media_twcc[rte_lcore_id()];
	uint16_t seq;

	if (unlikely(!tl) || twcc_rtp_seq(p, len, leg->twcc_ext, &seq) < 0)
		return;
	if (unlikely(!tl->mp))
		tl->mp = m->pool;
	twcc_record(&tl->w[leg->slot], seq, (uint32_t)(tsc >> SFU_TWCC_TSC_SHIFT));
	tl->pending[leg->slot >> 6] |= 1ull << (leg->slot & 63);
}

/* Reports @w's unreported arrivals to @leg: a transport-cc feedback (more when a delta does
 * not fit one), protected with the leg's feedback context and sent. False when some are
 * left for the next round (no mbuf). */
static inline bool sfu_twcc_send(const struct dp_l3 *l3, const struct media_leg *leg,
	struct media_twcc_lcore *tl, struct twcc_window *w, uint64_t now, uint64_t hz,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	int64_t at[TWCC_WINDOW];
	uint64_t now_t = now >> SFU_TWCC_TSC_SHIFT;
	double us_per_tick = 1e6 * (double)(1u << SFU_TWCC_TSC_SHIFT) / (double)hz;
	/* one the browser sends: Chromium takes feedback only for an SSRC of its own (a simulcast
	 * leg's video_ssrc is ours, its layers' are learnt) */
	uint32_t media_ssrc = leg->sim ? leg->audio_ssrc : leg->video_ssrc;

	for (unsigned int k = 0; !media_ssrc && leg->sim && k < leg->n_layers; k++)
		media_ssrc = leg->sim->ssrc[k];
	if (!media_ssrc)
		media_ssrc = leg->audio_ssrc;

	for (unsigned int round = 0; round < SFU_TWCC_ROUNDS && w->base != w->next; round++) {
		unsigned int n = (uint16_t)(w->next - w->base), cov;
		struct rte_mbuf *c;
		uint8_t *q;
		int len;

		for (unsigned int i = 0; i < n; i++) {
			uint16_t seq = (uint16_t)(w->base + i), k = seq & (TWCC_WINDOW - 1);

			/* ticks back to a 64-bit time: every arrival precedes @now */
			at[i] = w->seq[k] == seq && w->at[k] ?
				(int64_t)((double)(now_t - (uint32_t)((uint32_t)now_t - w->at[k])) *
					us_per_tick) :
				TWCC_LOST;
		}
		if (!(c = sfu_fb_alloc(tl->mp, TWCC_FB_MAX(TWCC_WINDOW), &q, st)))
			return false;
		len = twcc_build(q, TWCC_FB_MAX(TWCC_WINDOW), leg->twcc_ssrc, media_ssrc, w->base,
			at, n, w->fb_count, &cov);
		for (unsigned int i = 0; i < cov; i++)
			w->at[(w->base + i) & (TWCC_WINDOW - 1)] = 0;
		w->base = (uint16_t)(w->base + cov);
		if (len <= 0) {
			rte_pktmbuf_free(c);
			continue;
		}
		if (!sfu_fb_send(l3, leg, c, q, len, out, st))
			continue;
		w->fb_count++;
		w->fb_sent++;
	}
	return w->base == w->next;
}

/* The worker's periodic hook: at most every 1/SFU_TWCC_PER_SEC s, a feedback to each leg of
 * this lcore with arrivals not reported yet, into @out (@ifs: the worker's per-interface
 * stats). How many legs got one. */
static inline unsigned int sfu_twcc_tick(const struct dp_l3 *l3, uint64_t now, uint64_t hz,
	struct dp_burst_out *out, struct dp_if_stats *ifs)
{
	struct media_twcc_lcore *tl = media_twcc[rte_lcore_id()];
	const struct media_tab *t;
	unsigned int sent = 0;

	if (likely(!tl || now < tl->next_tsc))
		return 0;
	tl->next_tsc = now + hz / SFU_TWCC_PER_SEC;
	t = edge_rcu_read(media_tab_current);
	for (unsigned int wd = 0; wd < MEDIA_MAX_LEGS / 64; wd++) {
		uint64_t bits = tl->pending[wd];

		tl->pending[wd] = 0;
		while (bits) {
			unsigned int slot = wd * 64 + (unsigned int)__builtin_ctzll(bits);
			const struct media_leg *leg = t ? t->legs[slot] : NULL;

			bits &= bits - 1;
			if (!leg || !leg->twcc_ext) /* gone: its window waits for a reset */
				continue;
			if (!sfu_twcc_send(l3, leg, tl, &tl->w[slot], now, hz, out, &ifs[leg->ifi]))
				tl->pending[wd] |= 1ull << (slot & 63);
			sent++;
		}
	}
	return sent;
}

/* What @leg's RTP packet @p (@len bytes, authenticated, in the clear) says that the control
 * plane shows: its audio level (the active speaker), a video frame's end, a VP8 key frame's
 * picture size. A few loads and stores per packet, on @c (the leg's, this lcore's). */
static inline void sfu_media_notes(const struct media_leg *leg, struct media_lcore_leg *c,
	const uint8_t *p, uint16_t len, bool audio)
{
	if (audio) {
		int v = leg->level_ext ? rtp_audio_level(p, len, leg->level_ext) : -1;

		if (v >= 0) {
			c->level_sum += 127u - (unsigned int)(v & 0x7f);
			c->level_pkts++;
			c->voice_pkts += (unsigned int)v >> 7;
		}
		return;
	}
	c->video_frames += p[1] >> 7;
	if (leg->vp8_pt && (p[1] & 0x7f) == leg->vp8_pt) {
		uint16_t w, h;

		if (unlikely(rtp_vp8_keyframe_size(p, len, &w, &h) == 0)) {
			c->width = w;
			c->height = h;
		}
	}
}

/* NACKs (rtx.h). Ticks are the TSC / 2^20 (about a millisecond; 32 bits last weeks). */
#define SFU_RTX_TSC_SHIFT 20
#define SFU_RTX_PER_SEC 1000   /* retransmissions to one receiver per lcore and second ... */
#define SFU_RTX_BURST 250      /* ... and at once: a receiver that NACKs everything costs this */
#define SFU_NACK_PER_SEC 100   /* rounds of NACKs to senders for their uplink losses */
#define SFU_NACK_DELAY_DIV 200 /* a gap is NACKed 5 ms after it is seen (reordering) ... */
#define SFU_NACK_RETRY_DIV 20  /* ... and again every 50 ms, RTX_TRIES times, within 1 s */

/* Keeps video packet @p (@len bytes, authenticated, in the clear; 0: padding, not kept) of
 * @leg in @s for its receivers' NACKs and notes its sequence number for the uplink's: on the
 * lcore that owns the leg, whose id + 1 goes to *@owner. */
static inline void sfu_rtx_keep(const struct media_leg *leg, struct rtx_stream *s,
	unsigned int *owner, const struct rte_mbuf *m, const uint8_t *p, uint16_t len, uint64_t tsc)
{
	unsigned int me = rte_lcore_id();
	struct media_rtx_lcore *rl = media_rtx_lcore[me];
	uint32_t now = (uint32_t)(tsc >> SFU_RTX_TSC_SHIFT);

	if (unlikely(!rl))
		return;
	if (unlikely(*owner != me + 1))
		__atomic_store_n(owner, me + 1, __ATOMIC_RELAXED);
	if (unlikely(!rl->mp))
		rl->mp = m->pool;
	if (len)
		rtx_store(s, p, len, now, leg->rtx_gen);
	if (rtx_uplink_seen(s, edge_be16(p + 2), now,
		    (uint32_t)((rte_get_tsc_hz() >> SFU_RTX_TSC_SHIFT) / SFU_NACK_DELAY_DIV)) ==
			RTX_IN_ORDER &&
		unlikely(s->n_miss))
		rl->pending[leg->slot >> 6] |= 1ull << (leg->slot & 63);
}

/* Answers FCI @fci of receiver @dst's NACK about source @src's SSRC @ssrc from @src's cache:
 * on the lcore that owns @src (its contexts and cache are that lcore's). Retransmissions come
 * from @mp, within the receiver's budget; every sequence number is counted somewhere. */
static inline void sfu_nack_serve(const struct dp_l3 *l3, const struct media_leg *src,
	const struct media_leg *dst, uint32_t ssrc, uint32_t fci, struct rte_mempool *mp,
	uint64_t tsc, struct dp_burst_out *out, struct dp_if_stats *st)
{
	struct media_lcore_leg *dc = &media_lcore[rte_lcore_id()][dst->slot];
	uint64_t tps = rte_get_tsc_hz() >> SFU_RTX_TSC_SHIFT;
	uint32_t now = (uint32_t)(tsc >> SFU_RTX_TSC_SHIFT), elapsed = now - dc->rtx_refill;
	const struct media_out *o = NULL;
	uint16_t seq[RTX_FCI_SEQS];
	unsigned int n = rtx_fci_seqs(fci, seq);

	for (unsigned int j = 0; j < src->n_out; j++)
		if (src->out[j].dst == dst->slot && src->out[j].takes)
			o = &src->out[j];
	/* libsrtp2's contexts (AES-CM receivers) do not protect an index twice: none resent */
	if (unlikely(!o || !o->tx.fast || !(src->rtx || src->sim) || ssrc != src->video_ssrc ||
		    !mp)) {
		dc->rtx_miss += n;
		return;
	}
	if (elapsed >= tps / SFU_RTX_PER_SEC + 1) { /* refill the budget */
		uint64_t add = (uint64_t)elapsed * SFU_RTX_PER_SEC / tps;

		dc->rtx_tokens = (uint32_t)RTE_MIN((uint64_t)SFU_RTX_BURST, dc->rtx_tokens + add);
		dc->rtx_refill = now;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct rtx_pkt *k = NULL;
		struct sim_rx *r = src->sim ? &src->sim->rx[dst->slot] : NULL;
		uint16_t in = seq[i];
		uint32_t ts_off = 0;
		struct rte_mbuf *c;
		int layer = 0;

		/* simulcast: the layer packet it was sent as seq[i], from the receiver's numbering
		 * then (the very bytes again: media_srtp_protect_again) */
		if (r && r->serial == o->sim_serial)
			layer = sim_map_find(r, seq[i], &in, &ts_off);
		if (!r || (layer >= 0 && r->serial == o->sim_serial && src->sim->rtx[layer]))
			k = rtx_find(r ? src->sim->rtx[layer] : src->rtx, in, now, (uint32_t)tps,
				src->rtx_gen);
		if (!k) {
			dc->rtx_miss++;
			continue;
		}
		if (!dc->rtx_tokens) {
			dc->rtx_refused++;
			continue;
		}
		if (unlikely(!(c = sfu_copy(mp, k->data, k->len)))) {
			st->drops[DP_DROP_MEDIA_NOMBUF]++;
			continue;
		}
		dc->rtx_tokens--;
		if (r) {
			uint8_t *q = rte_pktmbuf_mtod_offset(c, uint8_t *, SFU_HDRS);

			edge_put_be16(q + 2, seq[i]);
			edge_put_be32(q + 4, edge_be32(q + 4) + ts_off);
			edge_put_be32(q + 8, src->video_ssrc);
		}
		if (sfu_send(l3, dst, o, c, rte_pktmbuf_mtod_offset(c, uint8_t *, SFU_HDRS), k->len,
			    false, true, out, st)) {
			dc->rtx_pkts++;
			st->sfu_rtx_pkts++;
		}
	}
}

/* Receiver @leg's NACKs (sfu_rtcp_targets): served here when this lcore owns the source's
 * stream, else passed to the one that does. */
static inline void sfu_nacks_input(const struct dp_l3 *l3, const struct media_tab *t,
	const struct media_leg *leg, const struct sfu_nacks *nk, struct rte_mempool *mp,
	uint64_t tsc, struct dp_burst_out *out, struct dp_if_stats *st)
{
	unsigned int me = rte_lcore_id();
	struct media_lcore_leg *lc = &media_lcore[me][leg->slot];

	lc->rtx_refused += nk->over; /* not even looked at */
	for (unsigned int i = 0; i < nk->n; i++) {
		const struct media_leg *src = t->legs[leg->out[nk->out[i]].dst];
		unsigned int owner = !src ? 0 :
			src->sim	  ? __atomic_load_n(&src->sim->owner, __ATOMIC_RELAXED) :
			src->rtx	  ? __atomic_load_n(&src->rtx->owner, __ATOMIC_RELAXED) :
					    0;
		uint16_t seq[RTX_FCI_SEQS];
		unsigned int n = rtx_fci_seqs(nk->fci[i], seq);

		lc->nack_seqs += n;
		if (owner == me + 1) {
			sfu_nack_serve(l3, src, leg, nk->ssrc[i], nk->fci[i], mp, tsc, out, st);
		} else if (!owner || !media_rtx_lcore[owner - 1]) {
			lc->rtx_miss += n; /* nothing of it kept yet */
		} else {
			struct media_nack_req r = { .src = src->slot,
				.dst = leg->slot,
				.ssrc = nk->ssrc[i],
				.fci = nk->fci[i] };

			if (rte_ring_mp_enqueue_elem(media_rtx_lcore[owner - 1]->ring, &r,
				    sizeof(r)) < 0)
				media_rtx_lcore[me]->ring_full++;
		}
	}
}

/* The NACKs other lcores passed this one (at most a burst of them a pass). How many. */
static inline unsigned int sfu_nack_drain(const struct dp_l3 *l3, uint64_t tsc,
	struct dp_burst_out *out, struct dp_if_stats *ifs)
{
	struct media_rtx_lcore *rl = media_rtx_lcore[rte_lcore_id()];
	struct media_nack_req r[EDGE_MAX_BURST];
	const struct media_tab *t;
	unsigned int n;

	if (likely(!rl) || rte_ring_empty(rl->ring))
		return 0;
	n = rte_ring_sc_dequeue_burst_elem(rl->ring, r, sizeof(r[0]), EDGE_MAX_BURST, NULL);
	t = edge_rcu_read(media_tab_current);
	for (unsigned int i = 0; i < n; i++) {
		const struct media_leg *src = t ? t->legs[r[i].src] : NULL;
		const struct media_leg *dst = t ? t->legs[r[i].dst] : NULL;

		if (!src || !dst) { /* gone meanwhile */
			rl->ring_stale++;
			continue;
		}
		sfu_nack_serve(l3, src, dst, r[i].ssrc, r[i].fci, rl->mp, tsc, out, &ifs[dst->ifi]);
	}
	return n;
}

/* A NACK to sender @leg for what stream @s (its SSRC @ssrc) is due to ask again, if anything;
 * its pending bit set again while it awaits some. How many were sent (0 or 1). */
static inline unsigned int sfu_nack_stream(const struct dp_l3 *l3, const struct media_leg *leg,
	struct rtx_stream *s, uint32_t ssrc, struct media_rtx_lcore *rl, uint32_t now_t,
	uint32_t tps, struct dp_burst_out *out, struct dp_if_stats *st)
{
	uint32_t fci[RTX_MISS_MAX];
	unsigned int nfci = rtx_nack_due(s, now_t, tps / SFU_NACK_RETRY_DIV, tps, fci);
	struct rte_mbuf *c;
	uint8_t *q;
	int len;

	if (s->n_miss)
		rl->pending[leg->slot >> 6] |= 1ull << (leg->slot & 63);
	if (!nfci || !(c = sfu_fb_alloc(rl->mp, RTX_NACK_MAX(RTX_MISS_MAX), &q, st)))
		return 0;
	len = (int)rtx_nack_build(q, leg->twcc_ssrc, ssrc, fci, nfci);
	if (!sfu_fb_send(l3, leg, c, q, len, out, st))
		return 0;
	s->nack_pkts++;
	st->sfu_nack_pkts++;
	return 1;
}

/* The worker's periodic hook: at most every 1/SFU_NACK_PER_SEC s, a NACK to each sender of
 * this lcore whose uplink lost packets due for one (each simulcast layer's its own), into
 * @out. How many were sent. */
static inline unsigned int sfu_nack_tick(const struct dp_l3 *l3, uint64_t now, uint64_t hz,
	struct dp_burst_out *out, struct dp_if_stats *ifs)
{
	struct media_rtx_lcore *rl = media_rtx_lcore[rte_lcore_id()];
	uint32_t tps = (uint32_t)(hz >> SFU_RTX_TSC_SHIFT),
		 now_t = (uint32_t)(now >> SFU_RTX_TSC_SHIFT);
	const struct media_tab *t;
	unsigned int sent = 0;

	if (likely(!rl || now < rl->next_tsc))
		return 0;
	rl->next_tsc = now + hz / SFU_NACK_PER_SEC;
	t = edge_rcu_read(media_tab_current);
	for (unsigned int wd = 0; wd < MEDIA_MAX_LEGS / 64; wd++) {
		uint64_t bits = rl->pending[wd];

		rl->pending[wd] = 0;
		while (bits) {
			unsigned int slot = wd * 64 + (unsigned int)__builtin_ctzll(bits);
			const struct media_leg *leg = t ? t->legs[slot] : NULL;

			bits &= bits - 1;
			if (!leg || !leg->twcc_ssrc) /* gone, or we send it no RTCP */
				continue;
			if (leg->rtx)
				sent += sfu_nack_stream(l3, leg, leg->rtx, leg->video_ssrc, rl,
					now_t, tps, out, &ifs[leg->ifi]);
			for (unsigned int k = 0; leg->sim && k < leg->n_layers; k++)
				if (leg->sim->rtx[k] && leg->sim->ssrc[k])
					sent += sfu_nack_stream(l3, leg, leg->sim->rtx[k],
						leg->sim->ssrc[k], rl, now_t, tps, out,
						&ifs[leg->ifi]);
		}
	}
	return sent;
}

/* What @leg's RTCP packet of TSC @tsc reported (sfu_rtcp_targets): its report blocks' loss
 * and jitter on @c; the round trip, from a block on a sender report we forwarded (RFC 3550
 * 6.4.1: now - LSR - DLSR, with LSR's time ours: when that report passed us); and its own
 * sender report's time, for its receivers' blocks. */
static inline void sfu_reports(const struct media_leg *leg, struct media_lcore_leg *c,
	const struct sfu_nacks *nk, uint64_t tsc)
{
	uint64_t tps = rte_get_tsc_hz() >> SFU_RTX_TSC_SHIFT;
	uint32_t now = (uint32_t)(tsc >> SFU_RTX_TSC_SHIFT);

	if (nk->sr_k >= 0) {
		__atomic_store_n(&media_sr_seen[leg->slot][nk->sr_k],
			(uint64_t)nk->sr_ntp << 32 | now, __ATOMIC_RELAXED);
		if (likely(media_rr[rte_lcore_id()] != NULL))
			rr_note_sr(&media_rr[rte_lcore_id()]->s[leg->slot][nk->sr_k], nk->sr_ntp,
				now);
	}
	if (!nk->blocks)
		return;
	c->rr_blocks += nk->blocks;
	for (int k = 0; k < 2; k++) {
		c->rr_lost[k] = nk->lost[k];
		c->rr_jitter[k] = nk->jitter[k];
	}
	if (nk->lsr) {
		uint64_t v =
			__atomic_load_n(&media_sr_seen[nk->lsr_src][nk->lsr_k], __ATOMIC_RELAXED);
		uint32_t held = (uint32_t)((uint64_t)nk->dlsr * tps >> 16); /* 1/65536 s */
		uint32_t rtt = now - (uint32_t)v - held;

		if ((uint32_t)(v >> 32) == nk->lsr && (int32_t)rtt >= 0 && rtt < 10 * tps)
			c->rtt_ms = (uint32_t)RTE_MAX(1u, rtt * 1000 / tps);
	}
}

/* Our receiver reports to senders (rtcp_rr.h): SFU_RR_PER_SEC rounds a second. */
#define SFU_RR_PER_SEC 1

/* @leg's RTP packet @p (authenticated) arrived at TSC @tsc: for our report to it. */
static inline void sfu_rr_note(const struct media_leg *leg, const uint8_t *p, bool audio,
	uint64_t tsc)
{
	struct media_rr_lcore *r = media_rr[rte_lcore_id()];
	int k = !audio;

	if (unlikely(!r))
		return;
	rr_note(&r->s[leg->slot][k], edge_be16(p + 2), edge_be32(p + 4),
		(int64_t)(((unsigned __int128)tsc * r->clock_mul[k]) >> 32));
}

/* The worker's periodic hook: once a second, a receiver report to each sender of this lcore
 * about the streams it sent us, from our feedback SSRC under its key. How many were sent. */
static inline unsigned int sfu_rr_tick(const struct dp_l3 *l3, uint64_t now, uint64_t hz,
	struct dp_burst_out *out, struct dp_if_stats *ifs)
{
	struct media_rr_lcore *r = media_rr[rte_lcore_id()];
	struct media_rtx_lcore *rl = media_rtx_lcore[rte_lcore_id()];
	uint32_t tps = (uint32_t)(hz >> SFU_RTX_TSC_SHIFT),
		 now_t = (uint32_t)(now >> SFU_RTX_TSC_SHIFT);
	const struct media_tab *t;
	unsigned int sent = 0;

	if (likely(!r || !rl || now < r->next_tsc))
		return 0;
	r->next_tsc = now + hz / SFU_RR_PER_SEC;
	t = edge_rcu_read(media_tab_current);
	for (unsigned int slot = 0; t && slot < MEDIA_MAX_LEGS; slot++) {
		const struct media_leg *leg = t->legs[slot];
		struct rr_source *src = r->s[slot];
		uint32_t ssrc[2];
		struct rte_mbuf *c;
		unsigned int nb = 0;
		uint8_t *q;

		if (!leg || !leg->twcc_ssrc || !(src[0].started || src[1].started))
			continue; /* not ours (another lcore's, or nothing came), or no feedback */
		ssrc[0] = leg->audio_ssrc;
		ssrc[1] = leg->video_ssrc;
		if ((!src[0].started || !ssrc[0]) && (!src[1].started || !ssrc[1]))
			continue;
		if (!(c = sfu_fb_alloc(rl->mp, RR_LEN(2) + REMB_LEN(1 + SIM_LAYERS), &q,
			      &ifs[leg->ifi])))
			continue;
		for (int k = 0; k < 2; k++)
			if (src[k].started && ssrc[k])
				rr_block(&src[k], ssrc[k], q + RR_LEN(nb++), now_t, tps);
		rr_header(q, leg->twcc_ssrc, nb);
		unsigned int len = RR_LEN(nb);
		uint32_t remb =
			leg->remb ? __atomic_load_n(&media_remb_bps[slot], __ATOMIC_RELAXED) : 0;

		if (remb) { /* our estimate of its uplink, for its SSRCs (what it sends) */
			uint32_t mine[1 + SIM_LAYERS];
			unsigned int n = 0;

			if (leg->audio_ssrc)
				mine[n++] = leg->audio_ssrc;
			if (leg->video_ssrc && !leg->sim)
				mine[n++] = leg->video_ssrc;
			for (unsigned int k = 0; leg->sim && k < leg->n_layers; k++)
				if (leg->sim->ssrc[k])
					mine[n++] = leg->sim->ssrc[k];
			len += remb_build(q + len, leg->twcc_ssrc, remb, mine, n);
			r->remb++;
		}
		if (!sfu_fb_send(l3, leg, c, q, (int)len, out, &ifs[leg->ifi]))
			continue;
		r->sent++;
		sent++;
	}
	return sent;
}

/* Simulcast (simulcast.h). Our PLIs to a sender for a layer a receiver waits a key frame of:
 * at most one per layer every 1/SFU_SIM_PLI_DIV s. */
#define SFU_SIM_PLI_DIV 4

/* Asks simulcast sender @leg for a key frame of each layer in @need (bits): PLIs from our
 * feedback SSRC under its key (RFC 4585 6.3.1), on the lcore that owns it. */
static inline void sfu_sim_pli(const struct dp_l3 *l3, const struct media_leg *leg, uint32_t need,
	struct rte_mempool *mp, uint32_t now, struct dp_burst_out *out, struct dp_if_stats *st)
{
	struct sim_stream *s = leg->sim;
	uint32_t gap = (uint32_t)((rte_get_tsc_hz() >> SFU_RTX_TSC_SHIFT) / SFU_SIM_PLI_DIV);

	for (unsigned int k = 0; k < leg->n_layers && k < SIM_LAYERS; k++) {
		struct rte_mbuf *c;
		uint8_t *q;

		if (!(need >> k & 1) || !s->ssrc[k] || !leg->twcc_ssrc ||
			(s->kf_at[k] && now - s->kf_at[k] < gap))
			continue;
		if (!(c = sfu_fb_alloc(mp, 12, &q, st)))
			return;
		s->kf_at[k] = now ? now : 1;
		q[0] = 0x81; /* V=2, FMT 1: PLI */
		q[1] = 206;  /* PSFB */
		edge_put_be16(q + 2, 2);
		edge_put_be32(q + 4, leg->twcc_ssrc);
		edge_put_be32(q + 8, s->ssrc[k]);
		if (sfu_fb_send(l3, leg, c, q, 12, out, st))
			s->plis++;
	}
}

/* Receiver @leg's key-frame requests (bits of @keyframe over leg->out) for simulcast sources:
 * a request for the layer it is sent (or waits for), which the source's lcore turns into our
 * PLI for that layer's SSRC (the browser knows nothing of the SSRC the receiver names). The
 * bits it took. */
static inline uint32_t sfu_sim_keyframe(const struct media_tab *t, const struct media_leg *leg,
	uint32_t keyframe)
{
	uint32_t taken = 0;

	while (keyframe) {
		unsigned int i = __builtin_ctz(keyframe);
		const struct media_leg *src = t->legs[leg->out[i].dst];

		keyframe &= keyframe - 1;
		if (!src || !src->sim)
			continue;
		const struct sim_rx *r = &src->sim->rx[leg->slot];
		uint8_t k = r->cur != SIM_NONE ? r->cur :
						 __atomic_load_n(&r->want, __ATOMIC_RELAXED);

		if (k < SIM_LAYERS)
			__atomic_fetch_or(&src->sim->kf_want, 1u << k, __ATOMIC_RELAXED);
		taken |= 1u << i;
	}
	return taken;
}

/* Simulcast sender @leg's video packet @p (@len bytes, authenticated, in the clear) of layer
 * @k: to each receiver that is to get this layer now (sim_pick), as the SSRC its answer names
 * (leg->video_ssrc) with its own sequence numbers and timestamps; the last one in @m itself
 * when @can_reuse. */
static inline void sfu_sim_fan_out(const struct dp_l3 *l3, const struct media_tab *t,
	const struct media_leg *leg, unsigned int k, struct rte_mbuf *m, uint8_t *p, uint16_t len,
	bool can_reuse, uint64_t tsc, struct dp_burst_out *out, struct dp_if_stats *st)
{
	struct sim_stream *s = leg->sim;
	uint32_t now = (uint32_t)(tsc >> SFU_RTX_TSC_SHIFT), need = 0, mask = 0;
	/* 90 kHz units per tick, from the lcore's TSC -> 90 kHz factor (no division a packet) */
	const struct media_rr_lcore *rr = media_rr[rte_lcore_id()];
	uint32_t tpt = rr ? (uint32_t)(rr->clock_mul[1] >> (32 - SFU_RTX_TSC_SHIFT)) :
			    (uint32_t)((90000ull << SFU_RTX_TSC_SHIFT) / rte_get_tsc_hz());
	uint16_t seq = edge_be16(p + 2), oseq[MEDIA_MAX_OUT], w, h;
	uint32_t ts = edge_be32(p + 4), ots[MEDIA_MAX_OUT];
	uint8_t pt = p[1] & 0x7f;
	bool kf = leg->vp8_pt && pt == leg->vp8_pt && rtp_vp8_keyframe_size(p, len, &w, &h) == 0;
	bool pad = sim_padding_only(p, len);

	s->pkts[k]++;
	s->bytes[k] += pad ? 0 : len; /* a layer's rate is its media's */
	s->padding += pad;
	s->frames[k] += p[1] >> 7;
	if (likely(s->rtx[k] != NULL))
		sfu_rtx_keep(leg, s->rtx[k], &s->owner, m, p, pad ? 0 : len, tsc);
	if (kf) {
		s->width[k] = w;
		s->height[k] = h;
	}
	for (unsigned int i = 0; i < leg->n_out; i++) {
		const struct media_out *o = &leg->out[i];

		if (o->fwd_video && o->pt_map[pt] != 0xff &&
			sim_pick(&s->rx[o->dst], o->sim_serial, k, kf, pad, seq, ts, now,
				tpt ? tpt : 1, &oseq[i], &ots[i], &need))
			mask |= 1u << i;
	}
	if (unlikely(__atomic_load_n(&s->kf_want, __ATOMIC_RELAXED)))
		need |= __atomic_exchange_n(&s->kf_want, 0, __ATOMIC_RELAXED);
	if (need)
		sfu_sim_pli(l3, leg, need, m->pool, now, out, st);
	if (!mask) {
		rte_pktmbuf_free(m); /* nobody takes this layer now: consumed, not a drop */
		st->sfu_no_receiver++;
		return;
	}
	while (mask) {
		unsigned int i = __builtin_ctz(mask);
		struct sfu_renumber rn = { .seq = oseq[i], .ts = ots[i], .ssrc = leg->video_ssrc };

		mask &= mask - 1;
		sfu_forward_one(l3, t, &leg->out[i], m, p, len, false, can_reuse && !mask, &rn, out,
			st);
	}
	if (!can_reuse)
		rte_pktmbuf_free(m);
}

/* The SRTP/SRTCP packet @p (@len bytes, RTP's first bits checked) in @m from @leg (NULL: no
 * leg's 5-tuple) of table @t: unprotected, and forwarded to its receivers. @hdr_ok: the
 * headers before @p are exactly SFU_HDRS bytes of Ethernet, IPv4 (or IPv6 made to look so)
 * and UDP, so the last receiver may reuse @m. Consumes @m. */
static inline void sfu_leg_input(const struct dp_l3 *l3, struct rte_mbuf *m,
	const struct media_tab *t, const struct media_leg *leg, struct media_lcore_leg *lc,
	uint8_t *p, uint16_t len, bool hdr_ok, uint64_t tsc, struct dp_burst_out *out,
	struct dp_if_stats *st)
{
	enum media_srtp_rc e;
	uint32_t ssrc;
	bool rtcp, audio;
	int n = len, layer = -1;

	if (!leg) {
		sfu_drop(m, st, DP_DROP_MEDIA_NO_LEG);
		return;
	}
	if (unlikely(!rte_pktmbuf_is_contiguous(m))) {
		sfu_drop(m, st, DP_DROP_MEDIA_MALFORMED);
		return;
	}
	rtcp = p[1] >= 192 && p[1] <= 223; /* RFC 5761 section 4 */
	/* Only SSRCs the leg announced, checked on the clear header before any crypto: RTCP's
	 * sender too, since each receiver's contexts number a sender's SRTCP on their own, so two
	 * legs sending as one SSRC would reuse a receiver's keystream (and a nonce, with GCM).
	 * Checked first, a context never holds a stream for anything else (srtp_fast has room for
	 * SRTP_FAST_MAX_STREAMS SSRCs; a browser sends RTX, FEC and per-transceiver RTCP SSRCs
	 * that would otherwise take it, and a forged SSRC costs no decryption). */
	ssrc = edge_be32(p + (rtcp ? 4 : 8));
	audio = ssrc == leg->audio_ssrc;
	if (unlikely(leg->sim != NULL) && !audio) {
		/* a simulcast leg's video: its layers' SSRCs as learnt, and while one is not
		 * yet, RTP on a new SSRC whose rid may name it (never ours, video_ssrc) */
		layer = sim_layer(leg->sim, leg->n_layers, ssrc);
		if (layer < 0 &&
			(rtcp || !ssrc || ssrc == leg->video_ssrc ||
				!sim_room(leg->sim, leg->n_layers))) {
			sfu_drop(m, st, DP_DROP_MEDIA_SSRC);
			return;
		}
	} else if (unlikely(!ssrc || (!audio && ssrc != leg->video_ssrc))) {
		sfu_drop(m, st, DP_DROP_MEDIA_SSRC);
		return;
	}
	e = rtcp ? media_srtp_unprotect_rtcp(&leg->rx, p, &n) :
		   media_srtp_unprotect(&leg->rx, p, &n);
	if (unlikely(e != MEDIA_SRTP_OK)) {
		if (e == MEDIA_SRTP_REPLAY) {
			lc[leg->slot].replay++;
			sfu_drop(m, st, DP_DROP_MEDIA_REPLAY);
		} else if (e == MEDIA_SRTP_AUTH) {
			lc[leg->slot].auth_fail++;
			sfu_drop(m, st, DP_DROP_MEDIA_AUTH);
		} else { /* too short for its tag, header past the end */
			sfu_drop(m, st, DP_DROP_MEDIA_MALFORMED);
		}
		return;
	}
	if (unlikely(layer < 0 && leg->sim != NULL && !audio)) {
		/* authenticated: it is the browser's; a layer only if its rid says so */
		layer = sim_learn(leg->sim, leg->n_layers, leg->rid, leg->rid_ext, p,
			(unsigned int)n);
		if (layer < 0) {
			leg->sim->unknown++;
			sfu_drop(m, st, DP_DROP_MEDIA_SSRC);
			return;
		}
	}
	lc[leg->slot].rx_pkts++;
	lc[leg->slot].rx_bytes += len;
	if (leg->twcc_ext && !rtcp)
		sfu_twcc_note(leg, m, p, (uint16_t)n, tsc);
	if (!rtcp && layer < 0) {
		sfu_media_notes(leg, &lc[leg->slot], p, (uint16_t)n, audio);
		sfu_rr_note(leg, p, audio, tsc);
		if (!audio && leg->rtx)
			sfu_rtx_keep(leg, leg->rtx, &leg->rtx->owner, m, p, (uint16_t)n, tsc);
	}
	lc[leg->slot].rx_audio_pkts += audio;
	lc[leg->slot].rx_audio_bytes += audio ? len : 0;
	/* the last receiver reuses this mbuf when the headers before @p are exactly ours */
	bool reuse = hdr_ok && rte_pktmbuf_tailroom(m) >= MEDIA_SRTP_TRAILER + 16 &&
		p == rte_pktmbuf_mtod_offset(m, uint8_t *, SFU_HDRS);
	uint32_t mask = 0;

	if (rtcp) {
		uint32_t keyframe;
		uint16_t rlen = (uint16_t)n;
		struct sfu_nacks nk;
		int64_t r = sfu_rtcp_targets(leg, p, &rlen, &keyframe, &nk, layer < 0);

		if (r < 0) {
			sfu_drop(m, st, DP_DROP_MEDIA_MALFORMED);
			return;
		}
		if (nk.n || nk.over)
			sfu_nacks_input(l3, t, leg, &nk, m->pool, tsc, out, st);
		if (nk.blocks || nk.sr_k >= 0)
			sfu_reports(leg, &lc[leg->slot], &nk, tsc);
		if (!rlen) { /* NACKs only: answered */
			rte_pktmbuf_free(m);
			return;
		}
		n = rlen;
		mask = (uint32_t)r;
		if (!mask && !nk.feedback) { /* reports (they end here), SDES: consumed */
			rte_pktmbuf_free(m);
			return;
		}
		if (keyframe) {
			uint32_t sim = sfu_sim_keyframe(t, leg, keyframe);

			mask &= ~sim;
			keyframe &= ~sim;
			mask &= ~sfu_keyframe_limit(t, leg, keyframe, lc, tsc, rte_get_tsc_hz());
			if (sim &&
				!mask) { /* key-frame requests for simulcast sources only: ours */
				rte_pktmbuf_free(m);
				return;
			}
		}
	} else if (layer >= 0) {
		sfu_sim_fan_out(l3, t, leg, (unsigned int)layer, m, p, (uint16_t)n, reuse, tsc, out,
			st);
		return;
	} else {
		uint8_t pt = p[1] & 0x7f;
		/* a muted stream still reaches its receivers once every 2^14 packets: each
		 * receiver's context (and the browser behind it) numbers the stream by what it
		 * sees, and a gap of 2^15 would put both a rollover behind (RFC 3711 A) */
		bool keepalive = (edge_be16(p + 2) & 0x3fff) == 0;

		for (unsigned int i = 0; i < leg->n_out; i++)
			if ((audio ? leg->out[i].fwd_audio : leg->out[i].fwd_video) ||
				(keepalive && leg->out[i].takes))
				mask |= leg->out[i].pt_map[pt] != 0xff ? 1u << i : 0;
	}
	sfu_fan_out(l3, t, leg, mask, m, p, (uint16_t)n, rtcp, reuse, out, st);
}

/* A datagram for a media port over IPv4, of a burst that arrived at TSC @tsc. False: not ours
 * to forward (STUN, DTLS, anything not RTP): the caller hands it to the kernel, where the
 * media server's socket takes it. */
static inline bool sfu_input(const struct dp_l3 *l3, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
	uint16_t ihl, struct rte_udp_hdr *udp, uint16_t ulen, uint64_t tsc,
	struct dp_burst_out *out, struct dp_if_stats *st)
{
	uint8_t *p = (uint8_t *)(udp + 1);
	uint16_t len = (uint16_t)(ulen - sizeof(*udp));
	const struct media_tab *t;
	struct media_lcore_leg *lc;

	if (len < 12 || (p[0] & 0xc0) != 0x80)
		return false; /* RFC 7983: not RTP/RTCP */
	st->sfu_rx_pkts++;
	t = edge_rcu_read(media_tab_current);
	lc = media_lcore[rte_lcore_id()];
	sfu_leg_input(l3, m, t,
		t && lc ?
			media_lookup(t, ip->src_addr, udp->src_port, ip->dst_addr, udp->dst_port) :
			NULL,
		lc, p, len, ihl == sizeof(*ip), tsc, out, st);
	return true;
}

/* sfu_input over IPv6: a datagram for a media port (sfu_is_media_port6) with @udp right
 * after @ip (no extension headers) and @ulen checked against the payload length. False: not
 * ours (not RTP/RTCP; or no UDP checksum, which IPv6 requires: RFC 8200 8.1): the kernel's.
 * A packet some leg may reuse in place loses SFU_HDRS6_EXTRA bytes at its start first, so
 * that its payload sits SFU_HDRS into it, as the SFU's own packets' do. */
static inline bool sfu_input6(const struct dp_l3 *l3, struct rte_mbuf *m, struct rte_ipv6_hdr *ip,
	struct rte_udp_hdr *udp, uint16_t ulen, uint64_t tsc, struct dp_burst_out *out,
	struct dp_if_stats *st)
{
	uint8_t *p = (uint8_t *)(udp + 1);
	uint16_t len = (uint16_t)(ulen - sizeof(*udp));
	const struct media_tab *t;
	const struct media_leg *leg;
	struct media_lcore_leg *lc;
	bool hdr_ok;

	if (len < 12 || (p[0] & 0xc0) != 0x80 || !udp->dgram_cksum)
		return false;
	st->sfu_rx_pkts++;
	t = edge_rcu_read(media_tab_current);
	lc = media_lcore[rte_lcore_id()];
	leg = t && lc ? media_lookup6(t, ip->src_addr, udp->src_port, ip->dst_addr, udp->dst_port) :
			NULL;
	hdr_ok = leg && p == rte_pktmbuf_mtod_offset(m, uint8_t *, SFU_HDRS6) &&
		m->data_len >= SFU_HDRS6;
	if (hdr_ok) {
		m->data_off = (uint16_t)(m->data_off + SFU_HDRS6_EXTRA);
		m->data_len = (uint16_t)(m->data_len - SFU_HDRS6_EXTRA);
		m->pkt_len -= SFU_HDRS6_EXTRA;
	}
	sfu_leg_input(l3, m, t, leg, lc, p, len, hdr_ok, tsc, out, st);
	return true;
}

#endif
