/* Retransmission for the SFU (RFC 4585 generic NACK; resent on the original SSRC, RFC 4588's
 * RTX not negotiated): a sender's video is kept for about a second, in the clear, by the worker
 * that owns its leg, so that a receiver's NACK is answered from here and never reaches the
 * sender (whose retransmission our replay window would refuse: we got the packet); and the
 * sequence numbers missing on the sender's uplink are awaited, NACKed to the sender on a
 * timer and forwarded to everybody when they come. One struct rtx_stream per leg slot, written
 * by one lcore; nothing here allocates, logs or loops beyond its bounds. */
#ifndef EDGE_RTX_H
#define EDGE_RTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RTX_SLOTS 512	 /* packets kept: 1 s at 4 Mbit/s of 1 KB packets; a power of two */
#define RTX_MAX_PKT 1240 /* the largest plaintext RTP packet kept (browsers send <= 1200) */
#define RTX_MISS_MAX 64	 /* uplink sequence numbers awaited at once */
#define RTX_TRIES 5	 /* NACKs for one of them before we give up (the receivers' PLI then) */
#define RTX_FCI_SEQS 17	 /* sequence numbers one FCI names: PID and 16 BLP bits */
#define RTX_NACK_MAX(nfci) (12 + 4 * (nfci)) /* a NACK packet with @nfci FCIs */

struct rtx_pkt {
	uint16_t seq;
	uint16_t len; /* 0: empty */
	uint32_t at;  /* stored, in the caller's ticks */
	uint32_t gen; /* the caller's generation when stored (media_leg.rtx_gen) */
	uint8_t data[RTX_MAX_PKT];
};

struct rtx_miss {
	uint16_t seq;
	uint8_t tries;	  /* NACKs sent for it */
	uint32_t first;	  /* when it was found missing */
	uint32_t next_at; /* when to NACK it (again) */
};

/* One sender's video on its owner lcore. The header is zeroed on reset; pkt[].len too. */
struct rtx_stream {
	unsigned int owner; /* the writing lcore + 1 (atomic: others read it to route NACKs) */
	bool started;
	uint16_t highest; /* the highest uplink sequence number seen */
	uint16_t n_miss;
	struct rtx_miss miss[RTX_MISS_MAX];
	/* counters, written by the owner */
	uint64_t stored, too_big;		    /* kept; too large to keep */
	uint64_t lost, recovered, gave_up, dropped; /* uplink: found missing, came after all,
						       * NACKed RTX_TRIES times in vain, beyond
						       * RTX_MISS_MAX */
	uint64_t nack_pkts,
		nack_seqs; /* NACK packets sent to the sender, sequence numbers in them */
	struct rtx_pkt pkt[RTX_SLOTS];
};

/* Back to empty: nothing kept, nothing awaited, counters zero. */
static inline void rtx_reset(struct rtx_stream *s)
{
	memset(s, 0, offsetof(struct rtx_stream, pkt));
	for (unsigned int i = 0; i < RTX_SLOTS; i++)
		s->pkt[i].len = 0;
}

/* Keeps RTP packet @p (@len bytes, in the clear) for retransmission, stored at @at under
 * generation @gen. */
static inline void rtx_store(struct rtx_stream *s, const uint8_t *p, uint16_t len, uint32_t at,
	uint32_t gen)
{
	uint16_t seq = (uint16_t)(p[2] << 8 | p[3]);
	struct rtx_pkt *k = &s->pkt[seq & (RTX_SLOTS - 1)];

	if (__builtin_expect(len > RTX_MAX_PKT, 0)) {
		s->too_big++;
		return;
	}
	k->seq = seq;
	k->len = len;
	k->at = at;
	k->gen = gen;
	memcpy(k->data, p, len);
	s->stored++;
}

/* The kept packet with sequence number @seq, if stored under generation @gen no more than
 * @max_age ticks before @now; NULL for one never stored, overwritten, too old or of another
 * generation. */
static inline const struct rtx_pkt *rtx_find(const struct rtx_stream *s, uint16_t seq, uint32_t now,
	uint32_t max_age, uint32_t gen)
{
	const struct rtx_pkt *k = &s->pkt[seq & (RTX_SLOTS - 1)];

	if (k->seq != seq || !k->len || now - k->at > max_age || k->gen != gen)
		return NULL;
	return k;
}

enum rtx_seen {
	RTX_IN_ORDER,  /* the next one, or ahead (the ones skipped are now awaited) */
	RTX_RECOVERED, /* one we were waiting for */
	RTX_LATE,      /* behind the highest, not awaited (reordered, or given up on) */
};

/* The uplink's bookkeeping for sequence number @seq arriving at @at: gaps become awaited
 * sequence numbers, NACKed first @delay ticks later (reordering is usually shorter). A jump
 * beyond RTX_MISS_MAX awaits the latest RTX_MISS_MAX; one of more than 2^15 back or ahead
 * starts again (a sender that restarted). */
static inline enum rtx_seen rtx_uplink_seen(struct rtx_stream *s, uint16_t seq, uint32_t at,
	uint32_t delay)
{
	int16_t d = (int16_t)(seq - s->highest);

	if (__builtin_expect(!s->started, 0)) {
		s->started = true;
		s->highest = seq;
		return RTX_IN_ORDER;
	}
	if (d > 0) {
		unsigned int gap = (unsigned int)d - 1, from = 0;

		if (gap > RTX_MISS_MAX) {
			s->dropped += gap - RTX_MISS_MAX;
			from = gap - RTX_MISS_MAX;
		}
		for (unsigned int i = from; i < gap; i++) {
			if (s->n_miss == RTX_MISS_MAX) { /* the oldest give way */
				memmove(&s->miss[0], &s->miss[1],
					(RTX_MISS_MAX - 1) * sizeof(s->miss[0]));
				s->n_miss--;
				s->dropped++;
			}
			s->miss[s->n_miss++] =
				(struct rtx_miss){ .seq = (uint16_t)(s->highest + 1 + i),
					.first = at,
					.next_at = at + delay };
			s->lost++;
		}
		s->highest = seq;
		return RTX_IN_ORDER;
	}
	for (unsigned int i = 0; i < s->n_miss; i++)
		if (s->miss[i].seq == seq) {
			memmove(&s->miss[i], &s->miss[i + 1],
				(s->n_miss - i - 1) * sizeof(s->miss[0]));
			s->n_miss--;
			s->recovered++;
			return RTX_RECOVERED;
		}
	return RTX_LATE;
}

/* The FCIs (PID, BLP) of a NACK for the awaited sequence numbers due at @now, into @fci (room
 * for RTX_MISS_MAX); each is then due again @retry ticks later. Those NACKed RTX_TRIES times,
 * or awaited longer than @max_age, are given up. How many FCIs. */
static inline unsigned int rtx_nack_due(struct rtx_stream *s, uint32_t now, uint32_t retry,
	uint32_t max_age, uint32_t *fci)
{
	unsigned int n = 0, k = 0, seqs = 0;

	for (unsigned int i = 0; i < s->n_miss; i++) {
		struct rtx_miss *m = &s->miss[i];

		if (m->tries >= RTX_TRIES || now - m->first > max_age) {
			s->gave_up++;
			continue;
		}
		s->miss[k++] = *m;
		if ((int32_t)(now - m->next_at) < 0)
			continue;
		m = &s->miss[k - 1];
		m->tries++;
		m->next_at = now + retry;
		seqs++;
		/* the list is in sequence order: one FCI covers PID and the 16 after it */
		if (n && (uint16_t)(m->seq - (uint16_t)(fci[n - 1] >> 16)) <= 16 &&
			m->seq != (uint16_t)(fci[n - 1] >> 16))
			fci[n - 1] |= 1u << ((uint16_t)(m->seq - (uint16_t)(fci[n - 1] >> 16)) - 1);
		else
			fci[n++] = (uint32_t)m->seq << 16;
	}
	s->n_miss = (uint16_t)k;
	s->nack_seqs += seqs;
	return n;
}

/* A generic NACK (RTPFB, FMT 1) from @sender_ssrc about @media_ssrc with @nfci FCIs into @out
 * (room for RTX_NACK_MAX(@nfci)). Its length. */
static inline unsigned int rtx_nack_build(uint8_t *out, uint32_t sender_ssrc, uint32_t media_ssrc,
	const uint32_t *fci, unsigned int nfci)
{
	unsigned int words = 2 + nfci;
	uint32_t v[2] = { sender_ssrc, media_ssrc };

	out[0] = 0x81; /* V=2, FMT=1 */
	out[1] = 205;
	out[2] = (uint8_t)(words >> 8);
	out[3] = (uint8_t)words;
	for (unsigned int i = 0; i < 2 + nfci; i++) {
		uint32_t x = i < 2 ? v[i] : fci[i - 2];

		out[4 + 4 * i] = (uint8_t)(x >> 24);
		out[5 + 4 * i] = (uint8_t)(x >> 16);
		out[6 + 4 * i] = (uint8_t)(x >> 8);
		out[7 + 4 * i] = (uint8_t)x;
	}
	return 12 + 4 * nfci;
}

/* The sequence numbers FCI @fci (PID << 16 | BLP) names, into @seq (RTX_FCI_SEQS): how many. */
static inline unsigned int rtx_fci_seqs(uint32_t fci, uint16_t *seq)
{
	uint16_t pid = (uint16_t)(fci >> 16), blp = (uint16_t)fci;
	unsigned int n = 0;

	seq[n++] = pid;
	for (unsigned int b = 0; b < 16; b++)
		if (blp & (1u << b))
			seq[n++] = (uint16_t)(pid + b + 1);
	return n;
}

#endif
