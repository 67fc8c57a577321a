/* Simulcast for the SFU (RFC 8853 with RFC 8851's rid): a sender's browser encodes its video
 * up to SIM_LAYERS times at different sizes, each layer on an SSRC of its own that the offer
 * does not name; the packets carry the layer's rid in the rtp-stream-id header extension. The
 * fast path learns each layer's SSRC from that extension (after authentication), and sends
 * each receiver ONE layer, the one the control plane wants for it, as one continuous stream:
 * under the SSRC the receiver's answer names (the callbridge's own, media_leg.video_ssrc) and
 * with sequence numbers and timestamps rewritten so that a layer switch, made only at a key
 * frame of the new layer, looks like nothing but a key frame to the receiver. A receiver that
 * waits for a key frame makes the owner lcore send the sender a PLI for that layer.
 *
 * The per-receiver estimate and the layer choice (sim_estimate, sim_choose) are the control
 * plane's, from the receivers' own receiver reports: pure functions here so that the unit
 * tests see exactly what runs.
 *
 * One struct sim_stream per simulcast leg slot (media_sim[slot]), written by the lcore that
 * owns the leg (its contexts are that lcore's too), but for rx[].want (the control plane's
 * choice, relaxed stores) and kf_want (any lcore asks for a key frame: atomic or). Nothing
 * here allocates, logs or loops beyond its bounds. */
#ifndef EDGE_SIMULCAST_H
#define EDGE_SIMULCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rtp_ext.h"
#include "rtx.h"

#define SIM_LAYERS 3
#define SIM_RID_LEN 16	   /* a rid and its NUL */
#define SIM_NONE 0xff	   /* no layer */
#define SIM_RECEIVERS 1024 /* rx[] by receiver slot: MEDIA_MAX_LEGS */
/* a jump of more than this many sequence numbers in what a receiver would be sent (a long
 * mute, a sender that restarted its layer) is not sent: the receiver waits for a key frame
 * and the stream goes on from its last number (a jump of 2^15 would put the receiver's SRTP
 * rollover estimate off, RFC 3711 3.3.1) */
#define SIM_MAX_JUMP 3000
#define SIM_MAPS 4   /* a receiver's layer switches remembered for its NACKs */
#define SIM_SENT 256 /* its numbers remembered (what each carried): a power of two */

/* One receiver of a simulcast source. */
struct sim_rx {
	uint32_t serial; /* the receiver leg this is about (media_out.sim_serial): another one
			   * in this slot starts afresh */
	uint8_t want;	 /* the layer the control plane chose (relaxed store); SIM_NONE: none */
	uint8_t cur;	 /* the layer it is sent; SIM_NONE: waiting for a key frame of want */
	bool started;	 /* it was sent something: a new layer continues its numbering */
	uint8_t pad;
	uint16_t seq_off;  /* out = in + off, modulo 2^16 */
	uint16_t last_seq; /* the highest sequence number it was sent */
	uint32_t ts_off, last_ts;
	uint32_t last_tick; /* when last_ts was sent (the caller's ticks) */
	uint32_t switches;  /* layer changes made (at key frames) */
	/* what its sequence numbers carried, for its NACKs (sim_map_find) and so that no number
	 * ever goes to two packets: sent[q % SIM_SENT] for number q, the layer and the layer's
	 * sequence number; the timestamp offset of each switch (map[head] the newest, from the
	 * first number it applies to) */
	struct sim_sent {
		uint16_t out, in;
		uint8_t layer; /* SIM_NONE: nothing */
		uint8_t pad;
	} sent[SIM_SENT];
	uint8_t head;
	struct sim_map {
		uint16_t from;
		uint8_t layer; /* SIM_NONE: unused */
		uint32_t ts_off;
	} map[SIM_MAPS];
};

struct sim_stream {
	uint32_t ssrc[SIM_LAYERS];  /* learnt (0: not yet); the owner stores, others read */
	uint32_t kf_want;	    /* bit k: a receiver waits for a key frame of layer k */
	uint32_t kf_at[SIM_LAYERS]; /* our last PLI for layer k (ticks) */
	uint64_t pkts[SIM_LAYERS], bytes[SIM_LAYERS];	/* received, per layer */
	uint64_t frames[SIM_LAYERS];			/* marker bits, per layer */
	uint16_t width[SIM_LAYERS], height[SIM_LAYERS]; /* from key frames (VP8) */
	uint64_t plis;					/* PLIs we sent the sender */
	uint64_t padding; /* padding-only packets (its probes): not sent on */
	uint64_t unknown; /* packets on an SSRC whose rid names no layer */
	/* each layer kept for receivers' NACKs and its uplink's losses awaited (rtx.h), as a
	 * one-stream leg's media_rtx: allocated with the stream (media_sim_get), owned by the
	 * lcore that owns the leg, whose id + 1 is in owner (others route NACKs by it) */
	struct rtx_stream *rtx[SIM_LAYERS];
	unsigned int owner;
	struct sim_rx rx[SIM_RECEIVERS];
};

/* Back to empty, every receiver's want included. */
static inline void sim_rx_reset(struct sim_rx *r)
{
	uint8_t want = r->want;

	_Static_assert(SIM_NONE == 0xff, "unused entries are all ones");
	memset(r, 0, offsetof(struct sim_rx, sent));
	memset(r->sent, 0xff, sizeof(r->sent)); /* layer SIM_NONE: nothing */
	memset(r->map, 0xff, sizeof(r->map));
	r->head = 0;
	r->want = want;
	r->cur = SIM_NONE;
}

/* Back to empty, every receiver's want included (the layers' caches emptied, kept). */
static inline void sim_reset(struct sim_stream *s)
{
	struct rtx_stream *rtx[SIM_LAYERS];

	memcpy(rtx, s->rtx, sizeof(rtx));
	memset(s, 0, offsetof(struct sim_stream, rx));
	for (unsigned int k = 0; k < SIM_LAYERS; k++)
		if ((s->rtx[k] = rtx[k]))
			rtx_reset(rtx[k]);
	for (unsigned int i = 0; i < SIM_RECEIVERS; i++) {
		s->rx[i].want = SIM_NONE;
		sim_rx_reset(&s->rx[i]);
	}
}

/* A switch of @r: from out sequence number @from on, its current layer and timestamp offset. */
static inline void sim_map_push(struct sim_rx *r, uint16_t from)
{
	r->head = (uint8_t)((r->head + 1) % SIM_MAPS);
	r->map[r->head] = (struct sim_map){ .from = from, .layer = r->cur, .ts_off = r->ts_off };
}

/* What @r was sent as sequence number @q: the layer (-1: nothing we remember), that layer's
 * sequence number and the timestamp offset it was sent with. */
static inline int sim_map_find(const struct sim_rx *r, uint16_t q, uint16_t *in, uint32_t *ts_off)
{
	const struct sim_sent *e = &r->sent[q % SIM_SENT];

	if (!r->started || e->layer == SIM_NONE || e->out != q)
		return -1;
	for (unsigned int i = 0; i < SIM_MAPS; i++) {
		const struct sim_map *m = &r->map[(r->head + SIM_MAPS - i) % SIM_MAPS];

		if (m->layer == SIM_NONE)
			return -1;
		if ((int16_t)(q - m->from) >= 0) {
			if (m->layer != e->layer)
				return -1;
			*in = e->in;
			*ts_off = m->ts_off;
			return e->layer;
		}
	}
	return -1;
}

/* Which of @n layers SSRC @ssrc is, or -1. */
static inline int sim_layer(const struct sim_stream *s, unsigned int n, uint32_t ssrc)
{
	for (unsigned int k = 0; k < n; k++)
		if (s->ssrc[k] == ssrc)
			return (int)k;
	return -1;
}

/* Whether one of @n layers has no SSRC yet. */
static inline bool sim_room(const struct sim_stream *s, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++)
		if (!s->ssrc[k])
			return true;
	return false;
}

/* RTP packet @p (@len bytes, authenticated) on a new SSRC: the layer its rtp-stream-id (one-byte
 * extension @ext) names among @n @rids, learnt for its SSRC; -1 when it names none (no rid, an
 * unknown one, or a layer already learnt under another SSRC). */
static inline int sim_learn(struct sim_stream *s, unsigned int n, const char (*rids)[SIM_RID_LEN],
	uint8_t ext, const uint8_t *p, unsigned int len)
{
	unsigned int elen;
	int off = ext ? rtp_ext_find(p, len, ext, &elen) : -1;

	if (off < 0)
		return -1;
	for (unsigned int k = 0; k < n; k++) {
		if (strnlen(rids[k], SIM_RID_LEN) != elen || memcmp(rids[k], p + off, elen))
			continue;
		if (s->ssrc[k])
			return -1;
		__atomic_store_n(&s->ssrc[k],
			(uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 | (uint32_t)p[10] << 8 | p[11],
			__ATOMIC_RELAXED);
		return (int)k;
	}
	return -1;
}

/* Whether RTP packet @p (@len bytes, in the clear) is padding only (RFC 3550 5.1: P set, and
 * its last byte counts everything after the header): a browser's probe of its uplink, which a
 * receiver has no use for. */
static inline bool sim_padding_only(const uint8_t *p, unsigned int len)
{
	int off;

	if (!(p[0] & 0x20) || (off = rtp_payload_off(p, len)) < 0)
		return false;
	return (unsigned int)off + p[len - 1] == len;
}

/* Whether receiver @r (of serial @serial) is sent this packet of layer @k (sequence number
 * @seq, timestamp @ts, the first packet of a key frame when @kf), and if so as *@oseq, *@ots.
 * @now is in the caller's ticks, @ts_per_tick the RTP clock's units per tick (for the
 * timestamp gap at a switch). Layers a receiver waits a key frame of go into *@kf_need.
 * Padding only (@pad) of its layer, next in order, is not sent and takes no number (the
 * numbers after it close up, so the receiver sees no loss). A late packet goes only to a
 * number nothing was sent as (within the last SIM_SENT). */
static inline bool sim_pick(struct sim_rx *r, uint32_t serial, unsigned int k, bool kf, bool pad,
	uint16_t seq, uint32_t ts, uint32_t now, uint32_t ts_per_tick, uint16_t *oseq,
	uint32_t *ots, uint32_t *kf_need)
{
	uint8_t want = __atomic_load_n(&r->want, __ATOMIC_RELAXED);

	if (r->serial != serial) { /* a new receiver in this slot */
		sim_rx_reset(r);
		r->serial = serial;
	}
	if (want == SIM_NONE) { /* paused: from a key frame again, numbered on */
		r->cur = SIM_NONE;
		return false;
	}
	if (k != r->cur) {
		if (k != want)
			return false;
		if (!kf) {
			*kf_need |= 1u << k;
			return false;
		}
		if (r->started) { /* go on from the last packet it was sent */
			uint32_t gap = (now - r->last_tick) * ts_per_tick;

			r->seq_off = (uint16_t)(r->last_seq + 1 - seq);
			r->ts_off = r->last_ts + (gap ? gap : 1) - ts;
		} else {
			r->seq_off = 0;
			r->ts_off = 0;
		}
		r->cur = (uint8_t)k;
		r->switches += r->started;
		sim_map_push(r, (uint16_t)(seq + r->seq_off));
	} else if (want != k) {
		*kf_need |= 1u << want; /* sent the old layer until the new one's key frame */
	}
	uint16_t o = (uint16_t)(seq + r->seq_off);
	int16_t d = (int16_t)(o - r->last_seq);

	if (pad && r->started && d == 1) {
		r->seq_off--;
		return false;
	}
	if (r->started && (d > SIM_MAX_JUMP || d < -SIM_MAX_JUMP)) {
		r->cur = SIM_NONE; /* resume at a key frame, numbered on from here */
		*kf_need |= 1u << want;
		return false;
	}
	/* late: only to a number it was never sent (it may have gone to another packet since
	 * the numbering closed up over padding: a nonce used twice), and not too old to tell */
	struct sim_sent *e = &r->sent[o % SIM_SENT];

	if (r->started && d <= 0 && (d <= -SIM_SENT || (e->layer != SIM_NONE && e->out == o)))
		return false;
	*e = (struct sim_sent){ .out = o, .in = seq, .layer = (uint8_t)k };
	*oseq = o;
	*ots = ts + r->ts_off;
	if (!r->started || d > 0) {
		r->last_seq = o;
		r->last_ts = *ots;
		r->last_tick = now;
	}
	r->started = true;
	return true;
}

/* The control plane's estimate of what a receiver can take (bits/s), once a second from its
 * latest receiver report on the video we send it and the round trip to it. Loss (GCC's
 * loss-based rule): above 10% lost, what it was sent less half the loss. Delay: a round trip
 * SIM_QUEUE_MS above the least seen is a queue building on its link (a loss-based rule alone
 * lets a deep queue fill and stay full, below 10% loss), so 85% of what it was sent. Either
 * is a cut, after which no increase for a hold, doubled at each cut within 60 s of the last
 * (5 s to 60 s), and none above 90% of the rate that was cut for SIM_CEIL_S (a failed try
 * for a bigger layer is not tried again for a minute). Otherwise, below 2% lost and past the
 * hold, half as much again a second until the first cut (from SIM_EST_START), then 8% more a
 * second plus 10 kbit/s (at most SIM_EST_MAX); between, as it was. The least round trip drifts up by 1 ms a new
 * measurement, so that a longer route is learnt in minutes. */
#define SIM_EST_START 300000u /* before any report (GCC's start) */
#define SIM_CEIL_S 60	      /* a rate that failed is not tried again for this long */
#define SIM_EST_MAX 20000000u
#define SIM_EST_MIN 50000u
#define SIM_QUEUE_MS 100

struct sim_est {
	uint32_t bps;	     /* the estimate */
	uint32_t hold_until; /* seconds: no increase before */
	uint32_t hold;	     /* seconds, the last hold */
	uint32_t last_cut;   /* seconds */
	uint32_t cuts, queue_cuts;
	uint32_t ceil, ceil_until; /* the rate of the last cut (bits/s) and until when (s) the
				    * estimate stays under 90% of it; 0: none */
	uint32_t rtt_min;	   /* ms; 0: none yet */
	uint32_t rtt_last;	   /* the round trip last reported */
};

static inline void sim_est_init(struct sim_est *e)
{
	*e = (struct sim_est){ .bps = SIM_EST_START };
}

/* A report at second @now: @lost of 256 lost, while it was sent @sent_bps of video; the round
 * trip to it @rtt_ms (0: not known). */
static inline void sim_estimate(struct sim_est *e, unsigned int lost, uint32_t sent_bps,
	uint32_t now, uint32_t rtt_ms)
{
	uint64_t b = UINT64_MAX;

	if (rtt_ms == e->rtt_last)
		rtt_ms = 0; /* not measured again since (they come with sender reports) */
	else
		e->rtt_last = rtt_ms;
	if (rtt_ms && (!e->rtt_min || rtt_ms < e->rtt_min))
		e->rtt_min = rtt_ms;
	else if (rtt_ms)
		e->rtt_min++;
	if (lost > 256 / 10)
		b = (uint64_t)sent_bps * (512 - lost) / 512;
	if (rtt_ms && rtt_ms > e->rtt_min + SIM_QUEUE_MS) {
		uint64_t q = (uint64_t)sent_bps * 85 / 100;

		if (q < b)
			b = q;
		e->queue_cuts++;
	}
	if (b != UINT64_MAX) {
		e->ceil = sent_bps; /* what it was sent did not fit */
		e->ceil_until = now + SIM_CEIL_S;
		if (b < e->bps)
			e->bps = b < SIM_EST_MIN ? SIM_EST_MIN : (uint32_t)b;
		e->hold = e->cuts && now - e->last_cut < 60 ?
			(e->hold * 2 > 60 ? 60 : e->hold * 2) :
			5;
		e->hold_until = now + e->hold;
		e->last_cut = now;
		e->cuts++;
	} else if (lost < 256 / 50 && (int32_t)(now - e->hold_until) >= 0) {
		/* half as much again a second until the first cut (a start, as GCC's probes),
		 * then 8% */
		b = e->cuts ? (uint64_t)e->bps * 108 / 100 + 10000 : (uint64_t)e->bps * 3 / 2;
		if (e->ceil && (int32_t)(now - e->ceil_until) < 0 && b > (uint64_t)e->ceil * 9 / 10)
			b = (uint64_t)e->ceil * 9 / 10 > e->bps ? (uint64_t)e->ceil * 9 / 10 :
								  e->bps;
		e->bps = b > SIM_EST_MAX ? SIM_EST_MAX : (uint32_t)b;
	}
}

/* Whether layer @a is a better picture than @b: more rows (from its key frames), or as many
 * (not known yet: 0) and more bits. */
static inline bool sim_better(const uint32_t *rate, const uint16_t *height, unsigned int a,
	unsigned int b)
{
	return height[a] != height[b] ? height[a] > height[b] : rate[a] > rate[b];
}

/* The layer for a receiver whose share of its estimate is @budget bits/s, of @n layers whose
 * bit rates now are @rate (0: not arriving) and picture heights @height (0: not known): the
 * best (sim_better) whose rate fits, with 15% headroom when it is better than the layer it
 * has (@cur, SIM_NONE: none); else the cheapest that arrives; SIM_NONE when none arrives. */
static inline uint8_t sim_choose(const uint32_t *rate, const uint16_t *height, unsigned int n,
	uint32_t budget, uint8_t cur)
{
	uint8_t best = SIM_NONE, low = SIM_NONE;

	for (unsigned int k = 0; k < n; k++) {
		uint64_t need = rate[k];

		if (!rate[k])
			continue;
		if (low == SIM_NONE || rate[k] < rate[low])
			low = (uint8_t)k;
		if (cur < n && k != cur && sim_better(rate, height, k, cur))
			need = need * 115 / 100;
		if (need <= budget && (best == SIM_NONE || sim_better(rate, height, k, best)))
			best = (uint8_t)k;
	}
	return best != SIM_NONE ? best : low;
}

/* The layers a receiver that shows the video @view pixels high (-1: unknown) is worth sending,
 * into @out: @rate (of @n layers, their sizes in @s) with every layer above the smallest one
 * at least @view high set to 0 (not chosen); all of them when the sizes are not known yet. */
static inline void sim_view_cap(const struct sim_stream *s, unsigned int n, const uint32_t *rate,
	int view, uint32_t *out)
{
	unsigned int enough = 0; /* the height of the smallest layer as high as the view */

	for (unsigned int k = 0; k < n; k++) {
		unsigned int h = s->height[k];

		out[k] = rate[k];
		if (view >= 0 && rate[k] && h && h >= (unsigned int)view && (!enough || h < enough))
			enough = h;
	}
	for (unsigned int k = 0; enough && k < n; k++)
		if (s->height[k] > enough)
			out[k] = 0;
}

/* One simulcast source as a receiver's share of its estimate sees it (sim_allocate). */
#define SIM_ALLOC_MAX 32
struct sim_alloc {
	const uint32_t *rate;	/* its layers' bit rates (capped by the view: sim_view_cap) */
	const uint16_t *height; /* their rows */
	unsigned int n;		/* layers */
	uint8_t cur;		/* the layer the receiver has */
	uint64_t prio;		/* higher first */
	uint8_t want;		/* out: the layer it is to get; SIM_NONE: paused (no room) */
};

/* Shares @budget bits/s among @n (at most SIM_ALLOC_MAX) sources: in priority order each gets
 * its cheapest layer while the budget has room for it (the first one always: a receiver below
 * every layer still sees somebody); the others are paused, since a video that does not fit
 * freezes every other one with it. Then, in priority order, each moves up to the best layer
 * the rest of the budget allows (sim_choose, with its headroom). */
static inline void sim_allocate(struct sim_alloc *a, unsigned int n, uint32_t budget)
{
	unsigned int order[SIM_ALLOC_MAX], m = 0;
	uint64_t left = budget;

	for (unsigned int i = 0; i < n && i < SIM_ALLOC_MAX; i++) { /* by priority, stable */
		unsigned int j = m++;

		while (j && a[order[j - 1]].prio < a[i].prio) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (unsigned int o = 0; o < m; o++) {
		struct sim_alloc *x = &a[order[o]];
		uint8_t low = sim_choose(x->rate, x->height, x->n, 0, SIM_NONE);

		x->want = SIM_NONE;
		if (low == SIM_NONE || (o && x->rate[low] > left))
			continue;
		x->want = low;
		left -= x->rate[low] < left ? x->rate[low] : left;
	}
	for (unsigned int o = 0; o < m; o++) {
		struct sim_alloc *x = &a[order[o]];
		uint64_t give;

		if (x->want == SIM_NONE)
			continue;
		give = left + x->rate[x->want];
		x->want = sim_choose(x->rate, x->height, x->n,
			(uint32_t)(give < UINT32_MAX ? give : UINT32_MAX), x->cur);
		left = give - (x->rate[x->want] < give ? x->rate[x->want] : give);
	}
}

#endif
