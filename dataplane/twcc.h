/* Transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01)
 * for a sender's uplink: the transport-wide sequence numbers its packets carry and when they
 * arrived, kept per leg by the worker that owns the leg (a window of the last TWCC_WINDOW
 * sequence numbers, written per packet in a few stores), and the RTCP transport-cc feedback
 * (RTPFB, FMT 15) that tells the sender, so that its send-side estimator can ramp up.
 * twcc_record() is the per-packet half; twcc_build() is a pure encoder. */
#ifndef EDGE_TWCC_H
#define EDGE_TWCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp_ext.h"

#define TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define TWCC_WINDOW 256 /* sequence numbers a leg's window holds: a power of two */
#define TWCC_LOST INT64_MIN
/* the largest feedback twcc_build() writes for @n statuses: header, a 2-bit status vector
 * chunk per 7, a 2-byte delta each, padding */
#define TWCC_FB_MAX(n) (20 + 2 * (((n) + 6) / 7) + 2 * (n) + 4)

/* One leg's arrivals on one worker. seq[] tags each slot with the sequence number it holds,
 * so a slot left over from a window that slid on never passes for a newer one, and nothing
 * is cleared per packet. */
struct twcc_window {
	uint16_t seq[TWCC_WINDOW];
	uint32_t at[TWCC_WINDOW]; /* arrival in the caller's ticks, low bit set; 0: none */
	uint16_t base;		  /* the first sequence number not reported yet */
	uint16_t next;		  /* one past the highest seen */
	bool active;		  /* base and next mean something */
	uint8_t fb_count;	  /* the next feedback's packet count */
	uint64_t fb_sent;	  /* feedback packets sent to the leg */
	uint64_t late;		  /* arrived after their feedback went (reported lost) */
};

/* Notes that sequence number @seq arrived at @at (ticks). No loop, no division. A packet
 * more than TWCC_WINDOW ahead of the unreported ones moves the window on (the older ones go
 * unreported: the sender counts them lost); one behind what was reported is late and
 * dropped, unless it is so far behind (1024) that the sender must have started again. */
static inline void twcc_record(struct twcc_window *w, uint16_t seq, uint32_t at)
{
	uint16_t d = (uint16_t)(seq - w->base);

	if (__builtin_expect(!w->active, 0)) {
		w->active = true;
		w->base = seq;
		w->next = (uint16_t)(seq + 1);
	} else if (__builtin_expect(d >= TWCC_WINDOW, 0)) {
		if ((int16_t)d < 0 && (int16_t)d > -1024) {
			w->late++;
			return;
		}
		if ((int16_t)d < 0)
			w->base = seq; /* a new start */
		else
			w->base = (uint16_t)(seq - (TWCC_WINDOW - 1));
		w->next = (uint16_t)(seq + 1);
	} else if (d >= (uint16_t)(w->next - w->base)) {
		w->next = (uint16_t)(seq + 1);
	}
	w->seq[seq & (TWCC_WINDOW - 1)] = seq;
	w->at[seq & (TWCC_WINDOW - 1)] = at | 1;
}

/* The transport-wide sequence number in RTP packet @p (@len bytes, header in the clear) under
 * one-byte header extension id @id (RFC 8285, profile 0xBEDE): 0 and *@seq set, or -1 when
 * the packet has none. */
static inline int twcc_rtp_seq(const uint8_t *p, unsigned int len, uint8_t id, uint16_t *seq)
{
	unsigned int n;
	int off = rtp_ext_find(p, len, id, &n);

	if (off < 0 || n != 2)
		return -1;
	*seq = (uint16_t)(p[off] << 8 | p[off + 1]);
	return 0;
}

/* A transport-cc feedback in @out (@cap bytes) from @sender_ssrc about @media_ssrc: the
 * statuses of sequence numbers @base .. @base + @n - 1, @arrival_us[i] being when base + i
 * arrived (microseconds on any clock that does not go back) or TWCC_LOST. Reference time:
 * the first arrival's, in 64 ms units; deltas in 250 us units from it, then each from the
 * previous arrival. A delta that fits no int16 ends the feedback before its packet, so
 * *@covered (how many statuses were written, from @base) may be less than @n: the rest go
 * in the next. The length in bytes (a multiple of 4), 0 when none of them arrived (then
 * *@covered = @n: nothing to report), or -ENOSPC / -EINVAL. */
int twcc_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, uint16_t base,
	const int64_t *arrival_us, unsigned int n, uint8_t fb_count, unsigned int *covered);

#endif
