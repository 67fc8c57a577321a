/* The transport-cc feedback encoder and window (dataplane/twcc.h): the draft's chunk
 * examples (draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1.3/3.1.4) checked
 * by hand, whole packets decoded here field by field, and the edges: the 16-bit sequence
 * wrapping, a gap wider than the window, reordering, deltas beyond int16. */
#include <errno.h>
#include <string.h>

#include "../../dataplane/twcc.h"
#include "unit.h"

#define L TWCC_LOST

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* The draft's example 1 of a run-length chunk: 221 packets not received is 0x00DD; the one
 * received after them (16 ms after the reference time) ends the list: a run of one. */
static void test_draft_run_length(void)
{
	int64_t at[222];
	uint8_t b[TWCC_FB_MAX(222)];
	unsigned int cov;
	int n;

	for (int i = 0; i < 221; i++)
		at[i] = L;
	at[221] = 64000 * 5 + 16000;
	n = twcc_build(b, sizeof(b), 0x11223344, 0x55667788, 1000, at, 222, 7, &cov);
	CU_ASSERT_EQUAL(cov, 222);
	/* 20 + 2 chunks + 1 delta = 25, padded to 28 */
	CU_ASSERT_EQUAL_FATAL(n, 28);
	CU_ASSERT_EQUAL(b[0], 0x80 | 0x20 | 15); /* V=2, P, FMT 15 */
	CU_ASSERT_EQUAL(b[1], 205);
	CU_ASSERT_EQUAL(be16(b + 2), 28 / 4 - 1);
	CU_ASSERT_EQUAL(be32(b + 4), 0x11223344);
	CU_ASSERT_EQUAL(be32(b + 8), 0x55667788);
	CU_ASSERT_EQUAL(be16(b + 12), 1000);
	CU_ASSERT_EQUAL(be16(b + 14), 222);
	CU_ASSERT_EQUAL(be32(b + 16), 5u << 8 | 7); /* reference time 5 x 64 ms, count 7 */
	CU_ASSERT_EQUAL(be16(b + 20), 0x00dd);	    /* |0|00|0000011011101| */
	CU_ASSERT_EQUAL(be16(b + 22), 0x2001);	    /* the last: a run of one, |0|01|0..01| */
	CU_ASSERT_EQUAL(b[24], 64);		    /* 16 ms / 250 us */
	CU_ASSERT_EQUAL(b[25], 0);
	CU_ASSERT_EQUAL(b[26], 0);
	CU_ASSERT_EQUAL(b[27], 3); /* RFC 3550: the padding's length */
}

/* The draft's example 1 of a status vector chunk, |1|0|0 1 1 1 1 1 0 0 0 1 1 1 0 0|: one not
 * received, five received, three not, three received, two not = 0x9F1C. Here the first
 * status is the base; the trailing two not received are padding the count leaves out. */
static void test_draft_status_vector(void)
{
	static const int rx[] = { 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1 };
	int64_t at[12];
	uint8_t b[TWCC_FB_MAX(12)];
	unsigned int cov;
	int n;

	for (int i = 0; i < 12; i++)
		at[i] = rx[i] ? 1000 * i : L; /* 1 ms apart: deltas of 4 */
	n = twcc_build(b, sizeof(b), 1, 2, 65530, at, 12, 0, &cov);
	CU_ASSERT_EQUAL(cov, 12);
	/* 20 + 1 chunk + 8 deltas = 30, padded to 32 */
	CU_ASSERT_EQUAL_FATAL(n, 32);
	CU_ASSERT_EQUAL(be16(b + 12), 65530);
	CU_ASSERT_EQUAL(be16(b + 14), 12);
	CU_ASSERT_EQUAL(be32(b + 16), 0); /* reference time 0 */
	CU_ASSERT_EQUAL(be16(b + 20), 0x9f1c);
	CU_ASSERT_EQUAL(b[22], 4); /* 1 ms after the reference time */
	for (int i = 23; i < 30; i++)
		CU_ASSERT_EQUAL(b[i], i == 27 ? 16 : 4); /* 4 ms across the gap of three */
	CU_ASSERT_EQUAL(b[31], 2);
}

/* A two-bit status vector (a large or negative delta among them), as in the draft's example
 * 2's layout: |1|1|00 10 01 01 01 00 00| is 0xC950. Reordering gives the negative delta. */
static void test_two_bit_vector_reordering(void)
{
	/* base lost; base+1 arrives 100 ms late (large); three small; two lost */
	int64_t at[5] = { L, 100000, 80000, 81000, 82000 };
	uint8_t b[TWCC_FB_MAX(7)], b2[TWCC_FB_MAX(14)];
	unsigned int cov;
	int n;

	n = twcc_build(b, sizeof(b), 1, 2, 7, at, 5, 0, &cov);
	CU_ASSERT_EQUAL(cov, 5);
	/* ref = 100 ms / 64 = 1 (64 ms); deltas: 36 ms = 144 (small), -20 ms = -80 (large),
	 * 4, 4 */
	CU_ASSERT_EQUAL_FATAL(n, 28);
	CU_ASSERT_EQUAL(be32(b + 16), 1u << 8);
	CU_ASSERT_EQUAL(be16(b + 20),
		0x8000 | 0x4000 | 0 << 12 | 1 << 10 | 2 << 8 | 1 << 6 | 1 << 4);
	CU_ASSERT_EQUAL(b[22], 144);
	CU_ASSERT_EQUAL((int16_t)be16(b + 23), -80);
	CU_ASSERT_EQUAL(b[25], 4);
	CU_ASSERT_EQUAL(b[26], 4);
	CU_ASSERT_EQUAL(b[27], 1);
	/* the draft's pattern after a run of seven received: not received, large, three
	 * small, two not received */
	int64_t at2[14];

	for (int i = 0; i < 7; i++)
		at2[i] = 1000 * i;
	at2[7] = L;
	at2[8] = 106000; /* 100 ms after the previous: 400, large */
	at2[9] = at2[8] + 250;
	at2[10] = at2[8] + 500;
	at2[11] = at2[8] + 750;
	at2[12] = at2[13] = L;
	n = twcc_build(b2, sizeof(b2), 1, 2, 7, at2, 14, 0, &cov);
	CU_ASSERT_EQUAL(cov, 14);
	CU_ASSERT_EQUAL(be16(b2 + 20), 1 << 13 | 7); /* |0|01|0000000000111| */
	CU_ASSERT_EQUAL(be16(b2 + 22), 0xc950);
	/* 0, then 4 x6, then 400 (2 bytes), 1, 1, 1 */
	CU_ASSERT_EQUAL(b2[24], 0);
	CU_ASSERT_EQUAL(b2[30], 4);
	CU_ASSERT_EQUAL(be16(b2 + 31), 400);
	CU_ASSERT_EQUAL(b2[33], 1);
	CU_ASSERT_EQUAL(b2[35], 1);
	CU_ASSERT_EQUAL(n, 36); /* aligned: no padding */
	CU_ASSERT_EQUAL(b2[0], 0x80 | 15);
}

/* Long runs of received packets: run-length chunks of "small delta". */
static void test_long_run_received(void)
{
	int64_t at[100];
	uint8_t b[TWCC_FB_MAX(100)];
	unsigned int cov;
	int n;

	for (int i = 0; i < 100; i++)
		at[i] = 640000 + 500 * i;
	n = twcc_build(b, sizeof(b), 1, 2, 0, at, 100, 255, &cov);
	CU_ASSERT_EQUAL(cov, 100);
	CU_ASSERT_EQUAL(n, 20 + 2 + 100 + 2);
	CU_ASSERT_EQUAL(be16(b + 20), 1 << 13 | 100);
	CU_ASSERT_EQUAL(b[19], 255);
	CU_ASSERT_EQUAL(b[22], 0);
	CU_ASSERT_EQUAL(b[23], 2);
}

/* A delta that fits no int16 (8.2 s at 250 us) ends the feedback before its packet. */
static void test_delta_beyond_int16(void)
{
	int64_t at[4] = { 1000, 2000, 1000 + 9000000, 1000 + 9000250 };
	uint8_t b[TWCC_FB_MAX(4)];
	unsigned int cov;
	int n;

	n = twcc_build(b, sizeof(b), 1, 2, 100, at, 4, 0, &cov);
	CU_ASSERT_EQUAL(cov, 2);
	CU_ASSERT_EQUAL(be16(b + 14), 2);
	CU_ASSERT(n > 0);
	/* the rest: a feedback of its own, from sequence number 102 */
	n = twcc_build(b, sizeof(b), 1, 2, 102, at + 2, 2, 1, &cov);
	CU_ASSERT_EQUAL(cov, 2);
	CU_ASSERT_EQUAL(be16(b + 12), 102);
	CU_ASSERT_EQUAL(be32(b + 16), (9001000u / 64000) << 8 | 1);
	/* a large negative one, within int16, stays */
	int64_t back[2] = { 5000000, 5000000 - 8000000 + 64000 };

	n = twcc_build(b, sizeof(b), 1, 2, 0, back, 2, 0, &cov);
	CU_ASSERT_EQUAL(cov, 2);
}

static void test_none_received_and_errors(void)
{
	int64_t at[3] = { L, L, L };
	uint8_t b[64];
	unsigned int cov;

	CU_ASSERT_EQUAL(twcc_build(b, sizeof(b), 1, 2, 0, at, 3, 0, &cov), 0);
	CU_ASSERT_EQUAL(cov, 3);
	at[1] = 0;
	CU_ASSERT_EQUAL(twcc_build(b, 10, 1, 2, 0, at, 3, 0, &cov), -ENOSPC);
	CU_ASSERT_EQUAL(twcc_build(b, sizeof(b), 1, 2, 0, at, 0, 0, &cov), -EINVAL);
	CU_ASSERT_EQUAL(twcc_build(b, sizeof(b), 1, 2, 0, at, TWCC_WINDOW + 1, 0, &cov), -EINVAL);
}

/* The window: in order, reordered, late, across the 16-bit wrap, and a gap wider than it. */
static void test_window(void)
{
	struct twcc_window w;

	memset(&w, 0, sizeof(w));
	twcc_record(&w, 65534, 10);
	twcc_record(&w, 1, 40); /* wraps; 65535 and 0 missing so far */
	CU_ASSERT_EQUAL(w.base, 65534);
	CU_ASSERT_EQUAL(w.next, 2);
	twcc_record(&w, 0, 30); /* reordered */
	CU_ASSERT_EQUAL(w.next, 2);
	CU_ASSERT_EQUAL(w.seq[0], 0);
	CU_ASSERT_EQUAL(w.at[0], 31); /* the low bit marks it */
	CU_ASSERT_EQUAL(w.seq[65534 & (TWCC_WINDOW - 1)], 65534);
	/* reported up to 1: 65535 comes late */
	w.base = 2;
	twcc_record(&w, 65535, 50);
	CU_ASSERT_EQUAL(w.late, 1);
	CU_ASSERT_EQUAL(w.base, 2);
	CU_ASSERT_EQUAL(w.next, 2);
	/* a gap wider than the window: the window moves on, the older are given up */
	twcc_record(&w, 2 + 1000, 60);
	CU_ASSERT_EQUAL(w.base, (uint16_t)(1002 - (TWCC_WINDOW - 1)));
	CU_ASSERT_EQUAL(w.next, 1003);
	/* a slot left from before names its own sequence number, not the new one's */
	CU_ASSERT_NOT_EQUAL(w.seq[(1002 - 256) & (TWCC_WINDOW - 1)], 1002 - 256);
	/* far behind (a restart): the window starts again there */
	twcc_record(&w, 30000, 70);
	CU_ASSERT_EQUAL(w.base, (uint16_t)(30000 - (TWCC_WINDOW - 1)));
	twcc_record(&w, 5, 80);
	CU_ASSERT_EQUAL(w.base, 5);
	CU_ASSERT_EQUAL(w.next, 6);
}

static void test_rtp_seq(void)
{
	/* RTP with one CSRC, then 0xBEDE: audio level (id 1, 1 byte), padding, TWCC (id 3) */
	uint8_t p[40] = { 0x91, 111, 0, 1, 0, 0, 0, 1, 0xa, 0xb, 0xc, 0xd, 1, 2, 3, 4, 0xbe, 0xde,
		0, 2, 0x10, 0x55, 0x00, 0x31, 0x12, 0x34, 0, 0 };
	uint16_t seq = 0;

	CU_ASSERT_EQUAL(twcc_rtp_seq(p, 28, 3, &seq), 0);
	CU_ASSERT_EQUAL(seq, 0x1234);
	CU_ASSERT_EQUAL(twcc_rtp_seq(p, 28, 5, &seq), -1); /* not there */
	CU_ASSERT_EQUAL(twcc_rtp_seq(p, 27, 3, &seq), -1); /* past the end */
	p[0] = 0x81;
	CU_ASSERT_EQUAL(twcc_rtp_seq(p, 28, 3, &seq), -1); /* no X bit */
	p[0] = 0x91;
	p[17] = 0xdd;
	CU_ASSERT_EQUAL(twcc_rtp_seq(p, 28, 3, &seq), -1); /* two-byte profile: not ours */
}

static const struct unit_test tests[] = {
	{ "draft: run-length chunk of 221 not received", test_draft_run_length },
	{ "draft: 1-bit status vector 0x9F1C, base across the wrap", test_draft_status_vector },
	{ "2-bit status vector, reordering (negative delta)", test_two_bit_vector_reordering },
	{ "long runs of received: run-length chunks", test_long_run_received },
	{ "a delta beyond int16 starts a new feedback", test_delta_beyond_int16 },
	{ "none received, no room, bad counts", test_none_received_and_errors },
	{ "window: wrap, reordering, late, gap wider than it", test_window },
	{ "the transport-wide sequence number in the one-byte header", test_rtp_seq },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("twcc", tests);
}
