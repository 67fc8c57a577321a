/* Simulcast for the SFU (dataplane/simulcast.h) without the data plane: layers learnt from the
 * rtp-stream-id extension in packets built here byte by byte; a receiver's layer switches
 * made only at key frames, with its sequence numbers and timestamps going on across the
 * switch as one stream (and across the 16-bit wrap, a jump, a new receiver in the slot); the
 * control plane's estimate from receiver reports and its layer choice. */
#include <stdlib.h>
#include <string.h>

#include "../../dataplane/simulcast.h"
#include "unit.h"

static struct sim_stream *s;
static const char rids[SIM_LAYERS][SIM_RID_LEN] = { "h", "m", "lo-1" };

/* An RTP header of @ssrc with the rid @rid under one-byte extension id 3 (none: NULL), and
 * an audio level under id 1 before it; the extension padded to a word. */
static unsigned int rtp_rid(uint8_t *b, uint32_t ssrc, const char *rid)
{
	unsigned int n = rid ? (unsigned int)strlen(rid) : 0, at = 16, words;

	memset(b, 0, 64);
	b[0] = rid ? 0x90 : 0x80, b[1] = 96;
	b[8] = (uint8_t)(ssrc >> 24), b[9] = (uint8_t)(ssrc >> 16), b[10] = (uint8_t)(ssrc >> 8);
	b[11] = (uint8_t)ssrc;
	if (!rid)
		return 12 + 20;
	b[12] = 0xbe, b[13] = 0xde;
	b[at++] = 0x10, b[at++] = 0x7f; /* id 1, one byte */
	b[at++] = (uint8_t)(3 << 4 | (n - 1));
	memcpy(b + at, rid, n);
	at += n;
	words = (at - 16 + 3) / 4;
	b[14] = 0, b[15] = (uint8_t)words;
	return 16 + 4 * words + 20;
}

static void test_learn(void)
{
	uint8_t b[128];
	unsigned int len;

	sim_reset(s);
	CU_ASSERT_TRUE(sim_room(s, 3));
	len = rtp_rid(b, 0x1111, "m");
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 3, b, len), 1);
	CU_ASSERT_EQUAL(s->ssrc[1], 0x1111);
	CU_ASSERT_EQUAL(sim_layer(s, 3, 0x1111), 1);
	CU_ASSERT_EQUAL(sim_layer(s, 3, 0x2222), -1);
	/* the same rid on another SSRC: not a layer (learnt once) */
	len = rtp_rid(b, 0x2222, "m");
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 3, b, len), -1);
	/* a prefix, an unknown rid, no extension, another id: none */
	len = rtp_rid(b, 0x2222, "lo");
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 3, b, len), -1);
	len = rtp_rid(b, 0x2222, "x");
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 3, b, len), -1);
	len = rtp_rid(b, 0x2222, NULL);
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 3, b, len), -1);
	len = rtp_rid(b, 0x2222, "h");
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 4, b, len), -1);
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 0, b, len), -1);
	/* a rid longer than the extension says: cut short, not read past it */
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 3, b, 19), -1);
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 3, b, len), 0);
	len = rtp_rid(b, 0x3333, "lo-1");
	/* only the first two layers offered: the third is none */
	CU_ASSERT_EQUAL(sim_learn(s, 2, rids, 3, b, len), -1);
	CU_ASSERT_EQUAL(sim_learn(s, 3, rids, 3, b, len), 2);
	CU_ASSERT_FALSE(sim_room(s, 3));
	CU_ASSERT_EQUAL(sim_layer(s, 3, 0x3333), 2);
}

struct pkt {
	unsigned int k;
	bool kf;
	uint16_t seq;
	uint32_t ts;
	uint32_t now;
};

/* sim_pick for @p: whether it is sent; *@o the numbers it is sent as; *@need the layers asked */
static bool pick(struct sim_rx *r, uint32_t serial, struct pkt p, uint16_t *oseq, uint32_t *ots,
	uint32_t *need)
{
	*need = 0;
	return sim_pick(r, serial, p.k, p.kf, false, p.seq, p.ts, p.now, 90, oseq, ots, need);
}

/* the same for padding only */
static bool pick_pad(struct sim_rx *r, uint32_t serial, struct pkt p, uint16_t *oseq, uint32_t *ots,
	uint32_t *need)
{
	*need = 0;
	return sim_pick(r, serial, p.k, p.kf, true, p.seq, p.ts, p.now, 90, oseq, ots, need);
}

static void test_switch_at_key_frames(void)
{
	struct sim_rx *r = &s->rx[7];
	uint32_t ots, need;
	uint16_t oseq;

	sim_reset(s);
	CU_ASSERT_EQUAL(r->want, SIM_NONE);
	/* nothing is sent before the control plane chooses */
	CU_ASSERT_FALSE(pick(r, 5, (struct pkt){ 0, true, 100, 9000, 1 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(need, 0);
	r->want = 0;
	/* layer 1 is not its layer; layer 0 only from a key frame (asked for) */
	CU_ASSERT_FALSE(pick(r, 5, (struct pkt){ 1, true, 7000, 500, 1 }, &oseq, &ots, &need));
	CU_ASSERT_FALSE(pick(r, 5, (struct pkt){ 0, false, 101, 9000, 1 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(need, 1u << 0);
	CU_ASSERT_TRUE(pick(r, 5, (struct pkt){ 0, true, 102, 12000, 2 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(oseq, 102); /* the first layer as it comes */
	CU_ASSERT_EQUAL(ots, 12000);
	CU_ASSERT_EQUAL(r->switches, 0);
	for (uint16_t i = 1; i <= 10; i++) {
		CU_ASSERT_TRUE(pick(r, 5,
			(struct pkt){ 0, false, (uint16_t)(102 + i), 12000 + i * 3000u,
				2 + i * 33 },
			&oseq, &ots, &need));
		CU_ASSERT_EQUAL(oseq, 102 + i);
	}
	/* the control plane wants layer 1: layer 0 still goes, layer 1's key frame is asked for */
	r->want = 1;
	CU_ASSERT_TRUE(pick(r, 5, (struct pkt){ 0, false, 113, 45000, 400 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(oseq, 113);
	CU_ASSERT_EQUAL(need, 1u << 1);
	CU_ASSERT_FALSE(pick(r, 5, (struct pkt){ 1, false, 65530, 7000, 401 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(need, 1u << 1);
	/* its key frame, 10 ticks after the last sent: numbered on from 113, 10 * 90 later */
	CU_ASSERT_TRUE(pick(r, 5, (struct pkt){ 1, true, 65531, 7000, 410 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(oseq, 114);
	CU_ASSERT_EQUAL(ots, 45000 + 900);
	CU_ASSERT_EQUAL(r->cur, 1);
	CU_ASSERT_EQUAL(r->switches, 1);
	/* layer 0 is no longer sent; layer 1 goes on across its own wrap */
	CU_ASSERT_FALSE(pick(r, 5, (struct pkt){ 0, true, 114, 48000, 411 }, &oseq, &ots, &need));
	for (uint16_t i = 1; i <= 10; i++) {
		CU_ASSERT_TRUE(pick(r, 5,
			(struct pkt){ 1, false, (uint16_t)(65531 + i), 7000 + i * 3000u, 411 },
			&oseq, &ots, &need));
		CU_ASSERT_EQUAL(oseq, 114 + i);
		CU_ASSERT_EQUAL(ots, 45900 + i * 3000u);
	}
	/* padding only, next in order: not sent, and the numbers after it close up */
	CU_ASSERT_FALSE(pick_pad(r, 5, (struct pkt){ 1, false, (uint16_t)(65531 + 11), 0, 411 },
		&oseq, &ots, &need));
	CU_ASSERT_TRUE(
		pick(r, 5, (struct pkt){ 1, false, (uint16_t)(65531 + 12), 7000 + 12 * 3000u, 411 },
			&oseq, &ots, &need));
	CU_ASSERT_EQUAL(oseq, 114 + 11);
	/* late (before the padding renumbered): not sent, its number is another's now */
	CU_ASSERT_FALSE(pick(r, 5, (struct pkt){ 1, false, (uint16_t)(65531 + 10), 0, 411 }, &oseq,
		&ots, &need));
	/* what it was sent as each number, for its NACKs: before the padding, after it, before
	 * the switch (layer 0), never (past its highest) */
	uint16_t in;
	uint32_t tso;

	CU_ASSERT_EQUAL(sim_map_find(r, 114 + 5, &in, &tso), 1);
	CU_ASSERT_EQUAL(in, (uint16_t)(65531 + 5));
	CU_ASSERT_EQUAL(tso, 38900);
	CU_ASSERT_EQUAL(sim_map_find(r, 114 + 11, &in, &tso), 1);
	CU_ASSERT_EQUAL(in, (uint16_t)(65531 + 12));
	CU_ASSERT_EQUAL(sim_map_find(r, 113, &in, &tso), 0);
	CU_ASSERT_EQUAL(in, 113);
	CU_ASSERT_EQUAL(tso, 0);
	CU_ASSERT_EQUAL(sim_map_find(r, 114 + 12, &in, &tso), -1);
	/* reordered within the numbering: sent as it maps, the highest stays */
	CU_ASSERT_TRUE(pick(r, 5, (struct pkt){ 1, false, (uint16_t)(65531 + 14), 0, 412 }, &oseq,
		&ots, &need));
	CU_ASSERT_EQUAL(oseq, 127);
	CU_ASSERT_TRUE(pick(r, 5, (struct pkt){ 1, false, (uint16_t)(65531 + 13), 0, 412 }, &oseq,
		&ots, &need));
	CU_ASSERT_EQUAL(oseq, 126);
	CU_ASSERT_EQUAL(r->last_seq, 127);
	/* a jump of 2^15 (the sender restarted the layer): not sent; a key frame resumes at 128 */
	CU_ASSERT_FALSE(pick(r, 5, (struct pkt){ 1, false, 32000, 0, 413 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(need, 1u << 1);
	CU_ASSERT_EQUAL(r->cur, SIM_NONE);
	CU_ASSERT_TRUE(pick(r, 5, (struct pkt){ 1, true, 32001, 777, 414 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(oseq, 128);
	/* another receiver in the slot (serial 6) starts afresh, from a key frame */
	CU_ASSERT_FALSE(pick(r, 6, (struct pkt){ 1, false, 32002, 900, 415 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(r->switches, 0);
	CU_ASSERT_TRUE(pick(r, 6, (struct pkt){ 1, true, 32003, 1000, 416 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(oseq, 32003);
	CU_ASSERT_EQUAL(ots, 1000);
}

static void test_estimate(void)
{
	struct sim_est e;

	sim_est_init(&e);
	CU_ASSERT_EQUAL(e.bps, SIM_EST_START);
	/* no loss: half as much again a second until the first cut */
	sim_estimate(&e, 0, 100000, 90, 0);
	CU_ASSERT_EQUAL(e.bps, SIM_EST_START * 3 / 2);
	e.bps = 2000000;
	/* 50% lost of 1 Mbit/s: 75% of it, no increase for 5 s */
	sim_estimate(&e, 128, 1000000, 100, 0);
	CU_ASSERT_EQUAL(e.bps, 750000);
	sim_estimate(&e, 0, 750000, 104, 0);
	CU_ASSERT_EQUAL(e.bps, 750000);
	sim_estimate(&e, 0, 750000, 105, 0);
	CU_ASSERT_EQUAL(e.bps, 750000 * 108 / 100 + 10000);
	/* 5% lost: as it was */
	uint32_t was = e.bps;

	sim_estimate(&e, 13, 800000, 106, 0);
	CU_ASSERT_EQUAL(e.bps, was);
	/* a cut within 60 s of the last: the hold doubles (10 s), then 20, 40, 60 */
	sim_estimate(&e, 200, 300000, 107, 0);
	CU_ASSERT_EQUAL(e.bps, 300000 * (512 - 200) / 512);
	CU_ASSERT_EQUAL(e.hold, 10);
	sim_estimate(&e, 200, 300000, 108, 0);
	CU_ASSERT_EQUAL(e.hold, 20);
	sim_estimate(&e, 200, 300000, 109, 0);
	CU_ASSERT_EQUAL(e.hold, 40);
	sim_estimate(&e, 200, 300000, 110, 0);
	CU_ASSERT_EQUAL(e.hold, 60);
	/* never below the floor, even sent nothing */
	sim_estimate(&e, 255, 0, 111, 0);
	CU_ASSERT_EQUAL(e.bps, SIM_EST_MIN);
	/* a cut long after: 5 s again; and a lossy cut above the estimate does not raise it */
	sim_estimate(&e, 200, 10000000, 300, 0);
	CU_ASSERT_EQUAL(e.bps, SIM_EST_MIN);
	CU_ASSERT_EQUAL(e.hold, 5);
	/* bounded above */
	e.bps = SIM_EST_MAX - 1;
	e.hold_until = 0;
	e.ceil_until = 0;
	sim_estimate(&e, 0, 0, 300, 0);
	CU_ASSERT_EQUAL(e.bps, SIM_EST_MAX);
}

static void test_estimate_queue(void)
{
	struct sim_est e;

	sim_est_init(&e);
	/* the least round trip learnt; no loss, no queue: up */
	sim_estimate(&e, 0, 500000, 10, 20);
	sim_estimate(&e, 0, 500000, 11, 25);
	CU_ASSERT_EQUAL(e.rtt_min, 21); /* 20, drifting up a ms */
	CU_ASSERT(e.bps > SIM_EST_START);
	uint32_t was = e.bps;

	/* 3% lost (no loss cut) but a round trip 150 ms above: a queue, 85% of what was sent */
	sim_estimate(&e, 8, 400000, 12, 171);
	CU_ASSERT_EQUAL(e.bps, 340000);
	CU_ASSERT_EQUAL(e.queue_cuts, 1);
	CU_ASSERT_EQUAL(e.hold, 5);
	CU_ASSERT(e.bps < was);
	/* the same round trip again (no new measurement): not a second cut */
	sim_estimate(&e, 8, 300000, 13, 171);
	CU_ASSERT_EQUAL(e.bps, 340000);
	CU_ASSERT_EQUAL(e.queue_cuts, 1);
	/* a new one, still high, and heavy loss: the lower of the two, the hold doubled */
	sim_estimate(&e, 128, 300000, 14, 180);
	CU_ASSERT_EQUAL(e.bps, 225000);
	CU_ASSERT_EQUAL(e.queue_cuts, 2);
	CU_ASSERT_EQUAL(e.hold, 10);
	/* within 100 ms of the least: no queue */
	sim_estimate(&e, 0, 225000, 30, 110);
	CU_ASSERT_EQUAL(e.queue_cuts, 2);
	CU_ASSERT(e.bps > 225000);
	/* a rate that was cut is not tried again for a minute: under 90% of it */
	CU_ASSERT_EQUAL(e.ceil, 300000); /* what it was sent at the last cut */
	e.bps = 260000;
	e.hold_until = 0;
	sim_estimate(&e, 0, 260000, 31, 0);
	CU_ASSERT_EQUAL(e.bps, 270000);
	sim_estimate(&e, 0, 270000, 31 + SIM_CEIL_S, 0);
	CU_ASSERT_EQUAL(e.bps, 270000 * 108 / 100 + 10000);
	/* holds double up to 60 s for cuts within 60 s of the last */
	for (uint32_t t = 31; t < 40; t++)
		sim_estimate(&e, 200, 300000, t, 0);
	CU_ASSERT_EQUAL(e.hold, 60);
}

static void test_choose(void)
{
	const uint32_t rate[3] = { 1200000, 400000, 120000 }; /* h, m, l as the browser sends */
	const uint32_t paused[3] = { 0, 400000, 120000 };
	const uint32_t none[3] = { 0, 0, 0 };
	const uint16_t hts[3] = { 0, 0, 0 }; /* no key frame seen yet: by bit rate */

	CU_ASSERT_EQUAL(sim_choose(rate, hts, 3, 3000000, SIM_NONE), 0);
	CU_ASSERT_EQUAL(sim_choose(rate, hts, 3, 1000000, SIM_NONE), 1);
	CU_ASSERT_EQUAL(sim_choose(rate, hts, 3, 300000, SIM_NONE), 2);
	/* below every layer: the slowest that arrives */
	CU_ASSERT_EQUAL(sim_choose(rate, hts, 3, 1000, SIM_NONE), 2);
	/* up from m only with 15% headroom: 1.2 Mbit/s needs 1.38 */
	CU_ASSERT_EQUAL(sim_choose(rate, hts, 3, 1300000, 1), 1);
	CU_ASSERT_EQUAL(sim_choose(rate, hts, 3, 1380000, 1), 0);
	/* down needs none: kept at exactly its rate */
	CU_ASSERT_EQUAL(sim_choose(rate, hts, 3, 1200000, 0), 0);
	/* a layer the browser paused is not chosen; nothing arriving: none */
	CU_ASSERT_EQUAL(sim_choose(paused, hts, 3, 3000000, 0), 1);
	CU_ASSERT_EQUAL(sim_choose(none, hts, 3, 3000000, 0), SIM_NONE);
	CU_ASSERT_EQUAL(sim_choose(rate, hts, 2, 3000000, SIM_NONE), 0);
	/* by rows once known: a small layer that costs more (the browser probes on it, say) is
	 * not the better one; the bigger picture that fits is */
	const uint16_t rows[2] = { 360, 180 };
	const uint32_t probed[2] = { 250000, 580000 };

	CU_ASSERT_EQUAL(sim_choose(probed, rows, 2, 1000000, SIM_NONE), 0);
	CU_ASSERT_EQUAL(sim_choose(probed, rows, 2, 240000, SIM_NONE), 0); /* the cheapest */
	CU_ASSERT_EQUAL(sim_choose(probed, rows, 2, 700000, 1), 0);
	/* up from 180 to 360 rows at 500k needs 575k */
	const uint32_t plain[2] = { 500000, 150000 };

	CU_ASSERT_EQUAL(sim_choose(plain, rows, 2, 560000, 1), 1);
	CU_ASSERT_EQUAL(sim_choose(plain, rows, 2, 575000, 1), 0);
	CU_ASSERT_EQUAL(sim_choose(plain, rows, 2, 500000, 0), 0);
	CU_ASSERT_EQUAL(sim_choose(rate, hts, 0, 3000000, SIM_NONE), SIM_NONE);
}

static void test_view_cap(void)
{
	const uint32_t rate[3] = { 1200000, 400000, 120000 };
	const uint32_t paused[3] = { 0, 400000, 120000 };
	uint32_t out[3];

	sim_reset(s);
	/* sizes not known yet: every layer */
	sim_view_cap(s, 3, rate, 100, out);
	CU_ASSERT_EQUAL(memcmp(out, rate, sizeof(out)), 0);
	s->height[0] = 720, s->height[1] = 360, s->height[2] = 180;
	/* a tile 300 high: up to the 360 layer */
	sim_view_cap(s, 3, rate, 300, out);
	CU_ASSERT_EQUAL(out[0], 0);
	CU_ASSERT_EQUAL(out[1], 400000);
	CU_ASSERT_EQUAL(out[2], 120000);
	CU_ASSERT_EQUAL(sim_choose(out, s->height, 3, 5000000, SIM_NONE), 1);
	/* exactly 360: the same; 361: the 720 layer too; not said: all; not shown: the smallest */
	sim_view_cap(s, 3, rate, 360, out);
	CU_ASSERT_EQUAL(out[0], 0);
	sim_view_cap(s, 3, rate, 361, out);
	CU_ASSERT_EQUAL(out[0], 1200000);
	sim_view_cap(s, 3, rate, -1, out);
	CU_ASSERT_EQUAL(memcmp(out, rate, sizeof(out)), 0);
	sim_view_cap(s, 3, rate, 0, out);
	CU_ASSERT_EQUAL(out[0] + out[1], 0);
	CU_ASSERT_EQUAL(out[2], 120000);
	/* taller than every layer: no cap; a paused layer does not count as high enough */
	sim_view_cap(s, 3, rate, 2000, out);
	CU_ASSERT_EQUAL(memcmp(out, rate, sizeof(out)), 0);
	sim_view_cap(s, 3, paused, 500, out);
	CU_ASSERT_EQUAL(memcmp(out, paused, sizeof(out)), 0);
}

static void test_allocate(void)
{
	const uint32_t r1[2] = { 260000, 140000 }, r2[2] = { 250000, 135000 };
	const uint16_t rows[2] = { 360, 180 };
	struct sim_alloc a[3];

	/* room for both at their best */
	a[0] = (struct sim_alloc){ .rate = r1, .height = rows, .n = 2, .cur = SIM_NONE, .prio = 1 };
	a[1] = (struct sim_alloc){ .rate = r2, .height = rows, .n = 2, .cur = SIM_NONE, .prio = 2 };
	sim_allocate(a, 2, 2000000);
	CU_ASSERT_EQUAL(a[0].want, 0);
	CU_ASSERT_EQUAL(a[1].want, 0);
	/* 400k: both at their cheapest (275k), then the first in priority (a[1]) up (+115k) */
	sim_allocate(a, 2, 400000);
	CU_ASSERT_EQUAL(a[1].want, 0);
	CU_ASSERT_EQUAL(a[0].want, 1);
	/* 200k: only the first in priority, at its cheapest; the other paused */
	sim_allocate(a, 2, 200000);
	CU_ASSERT_EQUAL(a[1].want, 1);
	CU_ASSERT_EQUAL(a[0].want, SIM_NONE);
	/* nothing at all: the first still gets its cheapest */
	sim_allocate(a, 2, 0);
	CU_ASSERT_EQUAL(a[1].want, 1);
	CU_ASSERT_EQUAL(a[0].want, SIM_NONE);
	/* equal priorities keep their order; a source with no layer arriving gets none */
	const uint32_t none[2] = { 0, 0 };

	a[0].prio = a[1].prio = 5;
	a[2] = (struct sim_alloc){ .rate = none, .height = rows, .n = 2, .cur = 0, .prio = 9 };
	sim_allocate(a, 3, 150000);
	CU_ASSERT_EQUAL(a[2].want, SIM_NONE);
	CU_ASSERT_EQUAL(a[0].want, 1);
	CU_ASSERT_EQUAL(a[1].want, SIM_NONE);
	/* up from the cheapest needs its headroom: 260k * 1.15 = 299k over the 140k it has */
	a[0].cur = 1;
	sim_allocate(a, 1, 298000);
	CU_ASSERT_EQUAL(a[0].want, 1);
	sim_allocate(a, 1, 300000);
	CU_ASSERT_EQUAL(a[0].want, 0);
}

static void test_pause(void)
{
	struct sim_rx *r = &s->rx[9];
	uint32_t ots, need;
	uint16_t oseq;

	sim_reset(s);
	r->want = 0;
	CU_ASSERT_TRUE(pick(r, 1, (struct pkt){ 0, true, 10, 1000, 1 }, &oseq, &ots, &need));
	CU_ASSERT_TRUE(pick(r, 1, (struct pkt){ 0, false, 11, 1000, 1 }, &oseq, &ots, &need));
	/* paused: nothing, no key frame asked for */
	r->want = SIM_NONE;
	CU_ASSERT_FALSE(pick(r, 1, (struct pkt){ 0, false, 12, 4000, 2 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(need, 0);
	CU_ASSERT_FALSE(pick(r, 1, (struct pkt){ 0, true, 500, 9000, 100 }, &oseq, &ots, &need));
	/* resumed: from a key frame only, numbered on, its time gap kept */
	r->want = 0;
	CU_ASSERT_FALSE(pick(r, 1, (struct pkt){ 0, false, 501, 9000, 101 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(need, 1);
	CU_ASSERT_TRUE(pick(r, 1, (struct pkt){ 0, true, 502, 12000, 102 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(oseq, 12);
	CU_ASSERT_EQUAL(ots, 1000 + 101 * 90);
}

static void test_padding_runs(void)
{
	struct sim_rx *r = &s->rx[11];
	uint32_t ots, need, tso;
	uint16_t oseq, in, seq = 1000;

	sim_reset(s);
	r->want = 0;
	CU_ASSERT_TRUE(pick(r, 3, (struct pkt){ 0, true, seq++, 0, 1 }, &oseq, &ots, &need));
	/* 40 runs of 20 padding packets between media: none takes a number */
	for (int run = 0; run < 40; run++) {
		for (int i = 0; i < 20; i++)
			CU_ASSERT_FALSE(pick_pad(r, 3, (struct pkt){ 0, false, seq++, 0, 2 }, &oseq,
				&ots, &need));
		CU_ASSERT_TRUE(
			pick(r, 3, (struct pkt){ 0, false, seq++, 0, 2 }, &oseq, &ots, &need));
		CU_ASSERT_EQUAL(oseq, 1001 + run);
	}
	/* every number is still found for NACKs */
	CU_ASSERT_EQUAL(sim_map_find(r, 1040, &in, &tso), 0);
	CU_ASSERT_EQUAL(in, seq - 1);
	CU_ASSERT_EQUAL(sim_map_find(r, 1040 - 14, &in, &tso), 0);
	CU_ASSERT_EQUAL(in, seq - 1 - 14 * 21);
	CU_ASSERT_EQUAL(sim_map_find(r, 1000, &in, &tso), 0); /* the key frame */
	CU_ASSERT_EQUAL(in, 1000);
	/* SIM_SENT numbers on, the oldest are forgotten */
	for (int i = 0; i < SIM_SENT; i++)
		CU_ASSERT_TRUE(
			pick(r, 3, (struct pkt){ 0, false, seq++, 0, 3 }, &oseq, &ots, &need));
	CU_ASSERT_EQUAL(sim_map_find(r, 1000, &in, &tso), -1);
	CU_ASSERT_EQUAL(sim_map_find(r, oseq, &in, &tso), 0);
	CU_ASSERT_EQUAL(in, seq - 1);
	/* a late packet older than that: not sent */
	CU_ASSERT_FALSE(pick(r, 3, (struct pkt){ 0, false, 1001, 0, 3 }, &oseq, &ots, &need));
}

static const struct unit_test tests[] = {
	{ "layers learnt from the rid extension; unknown, repeated, truncated rids", test_learn },
	{ "a receiver's layer switches at key frames; numbering goes on across switch, wrap, jump",
		test_switch_at_key_frames },
	{ "estimate from receiver reports: cuts, holds, increase, bounds", test_estimate },
	{ "estimate: a round trip 100 ms above its least is a queue: cut", test_estimate_queue },
	{ "layer choice: fits the budget, headroom up, paused layers", test_choose },
	{ "layer choice: no bigger than the receiver's tile", test_view_cap },
	{ "a receiver's estimate shared among sources: cheapest first, then up, else paused",
		test_allocate },
	{ "a paused receiver resumes at a key frame, numbered on", test_pause },
	{ "runs of padding: not sent, no number taken; NACKs mapped for SIM_SENT numbers",
		test_padding_runs },
	{ NULL, NULL },
};

int main(void)
{
	int failed;

	s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	if (!s)
		return 1;
	memset(s, 0, sizeof(*s)); /* no layer caches: sim_reset keeps what it finds there */
	failed = unit_run("simulcast", tests);
	free(s);
	return failed;
}
