/* The SFU's own receiver reports to a sender (RFC 3550 6.4.2, A.3, A.8): what its uplink
 * delivered, per SSRC, as the worker that owns the leg saw it. The SFU ends the receivers'
 * reports instead of forwarding them (a receiver's downlink loss is not the sender's to
 * fix), so a sender learns of its uplink, and its round trip to us, from these. One
 * struct rr_source per leg and medium on the owning lcore; no allocation, no loop per packet. */
#ifndef EDGE_RTCP_RR_H
#define EDGE_RTCP_RR_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define RR_BLOCK_LEN 24
#define RR_LEN(nblocks) (8 + RR_BLOCK_LEN * (nblocks))

struct rr_source {
	bool started;
	uint16_t max_seq;
	uint32_t cycles; /* sequence number cycles, << 16 */
	uint32_t base_seq;
	uint32_t received;
	uint32_t expected_prior, received_prior; /* at the last report */
	int64_t transit;			 /* arrival - RTP timestamp, clock units */
	uint32_t jitter;			 /* RFC 3550 A.8, scaled by 16 */
	uint32_t lsr;				 /* the last SR's NTP middle 32 bits */
	uint32_t lsr_at;			 /* when it came, in the caller's ticks */
	uint32_t bad_seq; /* RFC 3550 A.1: the one after a jump, | 0x10000 (0: none) */
};

#define RR_MAX_DROPOUT 3000 /* RFC 3550 A.1 */
#define RR_MAX_MISORDER 100

/* A packet with sequence number @seq and RTP timestamp @ts arrived at @arrival (clock units):
 * RFC 3550 A.1's sequence bookkeeping, simplified (no probation: the SSRC was announced and the
 * packet authenticated) and A.8's jitter. */
static inline void rr_note(struct rr_source *s, uint16_t seq, uint32_t ts, int64_t arrival)
{
	int64_t transit = arrival - (int64_t)ts, d;

	if (__builtin_expect(!s->started, 0)) {
		uint32_t lsr = s->lsr, lsr_at = s->lsr_at; /* a sender report may come first */

		memset(s, 0, sizeof(*s));
		s->lsr = lsr;
		s->lsr_at = lsr_at;
		s->started = true;
		s->base_seq = seq;
		s->max_seq = seq;
		s->received = 1;
		s->transit = transit;
		return;
	}
	uint16_t delta = (uint16_t)(seq - s->max_seq);

	if (delta >= RR_MAX_DROPOUT && delta <= 65536 - RR_MAX_MISORDER) {
		/* a jump either way: the sender restarted if the next one follows it */
		if ((seq | 0x10000u) != s->bad_seq) {
			s->bad_seq = ((seq + 1u) & 0xffff) | 0x10000u; /* bit 16: set */
			return;
		}
		s->base_seq = seq; /* counted afresh (RFC 3550 A.1's init_seq) */
		s->max_seq = seq;
		s->cycles = 0;
		s->received = 1;
		s->expected_prior = s->received_prior = 0;
		s->bad_seq = 0;
		s->transit = transit;
		return;
	}
	s->received++;
	if (delta > 65536 - RR_MAX_MISORDER)
		return;	      /* reordered or a retransmission: counted, its delay is not jitter */
	if (seq < s->max_seq) /* in order, with a permissible gap, across the wrap */
		s->cycles += 1u << 16;
	s->max_seq = seq;
	d = transit - s->transit;
	s->transit = transit;
	if (d < 0)
		d = -d;
	if (d < (1 << 24)) /* a timestamp jump (a new talk spurt, a muted track) is not jitter */
		s->jitter += (uint32_t)d - ((s->jitter + 8) >> 4);
}

/* A sender report of this SSRC (its NTP's middle 32 bits) came at @at (ticks). */
static inline void rr_note_sr(struct rr_source *s, uint32_t ntp_mid, uint32_t at)
{
	s->lsr = ntp_mid;
	s->lsr_at = at;
}

/* The report block about @ssrc into @b (RR_BLOCK_LEN bytes) at @now, with @ticks_per_s ticks
 * a second for DLSR; the interval's counts move on. */
static inline void rr_block(struct rr_source *s, uint32_t ssrc, uint8_t *b, uint32_t now,
	uint32_t ticks_per_s)
{
	uint32_t ext_max = s->cycles + s->max_seq;
	uint32_t expected = ext_max - s->base_seq + 1;
	int64_t lost = (int64_t)expected - s->received;
	uint32_t exp_int = expected - s->expected_prior, rec_int = s->received - s->received_prior;
	int64_t lost_int = (int64_t)exp_int - rec_int;
	uint8_t fraction = exp_int && lost_int > 0 ? (uint8_t)((lost_int << 8) / exp_int) : 0;
	uint32_t dlsr = 0, w[6];

	s->expected_prior = expected;
	s->received_prior = s->received;
	if (lost > 0x7fffff) /* 24 bits, signed (more received than expected: duplicates) */
		lost = 0x7fffff;
	else if (lost < -0x800000)
		lost = -0x800000;
	if (s->lsr)
		dlsr = (uint32_t)((uint64_t)(now - s->lsr_at) * 65536 / ticks_per_s);
	w[0] = ssrc;
	w[1] = (uint32_t)fraction << 24 | ((uint32_t)lost & 0xffffff);
	w[2] = ext_max;
	w[3] = s->jitter >> 4;
	w[4] = s->lsr;
	w[5] = dlsr;
	for (int i = 0; i < 6; i++) {
		b[4 * i] = (uint8_t)(w[i] >> 24);
		b[4 * i + 1] = (uint8_t)(w[i] >> 16);
		b[4 * i + 2] = (uint8_t)(w[i] >> 8);
		b[4 * i + 3] = (uint8_t)w[i];
	}
}

/* The receiver report's header from @sender_ssrc for @nblocks blocks that follow it. */
static inline void rr_header(uint8_t *p, uint32_t sender_ssrc, unsigned int nblocks)
{
	unsigned int words = 1 + 6 * nblocks;

	p[0] = (uint8_t)(0x80 | nblocks);
	p[1] = 201;
	p[2] = (uint8_t)(words >> 8);
	p[3] = (uint8_t)words;
	p[4] = (uint8_t)(sender_ssrc >> 24);
	p[5] = (uint8_t)(sender_ssrc >> 16);
	p[6] = (uint8_t)(sender_ssrc >> 8);
	p[7] = (uint8_t)sender_ssrc;
}

/* REMB (draft-alvestrand-rmcat-remb-03 2.2): a receiver's estimate for a sender that has no
 * transport-cc, @bps bits/s for its @n SSRCs (at most 255), from @sender_ssrc. Its length. */
#define REMB_LEN(n) (20 + 4 * (n))
static inline unsigned int remb_build(uint8_t *p, uint32_t sender_ssrc, uint64_t bps,
	const uint32_t *ssrc, unsigned int n)
{
	unsigned int exp = 0, words = (unsigned int)REMB_LEN(n) / 4 - 1;

	while (bps > 0x3ffff) { /* an 18-bit mantissa and a 6-bit exponent */
		bps >>= 1;
		exp++;
	}
	p[0] = 0x8f; /* FMT 15: application layer feedback */
	p[1] = 206;
	p[2] = (uint8_t)(words >> 8);
	p[3] = (uint8_t)words;
	for (int k = 0; k < 4; k++) {
		p[4 + k] = (uint8_t)(sender_ssrc >> (24 - 8 * k));
		p[8 + k] = 0; /* media source: unused */
	}
	memcpy(p + 12, "REMB", 4);
	p[16] = (uint8_t)n;
	p[17] = (uint8_t)(exp << 2 | (unsigned int)(bps >> 16));
	p[18] = (uint8_t)(bps >> 8);
	p[19] = (uint8_t)bps;
	for (unsigned int i = 0; i < n; i++)
		for (int k = 0; k < 4; k++)
			p[20 + 4 * i + k] = (uint8_t)(ssrc[i] >> (24 - 8 * k));
	return (unsigned int)REMB_LEN(n);
}

#endif
