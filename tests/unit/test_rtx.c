/* The SFU's retransmission bookkeeping (dataplane/rtx.h) and what it reads of RTP
 * (dataplane/rtp_ext.h), without the data plane: the cache's lookups (age, overwrite,
 * generation), the uplink's gaps across the 16-bit wrap, the NACKs built from them checked
 * field by field against RFC 4585 6.2.1, the RFC 6464 audio level and a VP8 key frame's
 * picture size in packets built here byte by byte. */
#include <stdlib.h>
#include <string.h>

#include "../../dataplane/rtcp_rr.h"
#include "../../dataplane/rtp_ext.h"
#include "../../dataplane/rtx.h"
#include "unit.h"

static struct rtx_stream *s;

static uint16_t rtp(uint8_t *b, uint16_t seq, uint16_t plen)
{
	memset(b, 0, 12);
	b[0] = 0x80, b[1] = 96;
	b[2] = (uint8_t)(seq >> 8), b[3] = (uint8_t)seq;
	for (uint16_t i = 0; i < plen; i++)
		b[12 + i] = (uint8_t)(seq + i);
	return (uint16_t)(12 + plen);
}

static void test_store_find(void)
{
	uint8_t b[1500];
	uint16_t len;

	rtx_reset(s);
	len = rtp(b, 65535, 1000);
	rtx_store(s, b, len, 100, 3);
	const struct rtx_pkt *k = rtx_find(s, 65535, 150, 1000, 3);

	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_EQUAL(k->len, len);
	CU_ASSERT_EQUAL(memcmp(k->data, b, len), 0);
	CU_ASSERT_PTR_NULL(rtx_find(s, 65535, 1101, 1000, 3)); /* older than 1000 ticks */
	CU_ASSERT_PTR_NULL(rtx_find(s, 65535, 150, 1000, 4));  /* another generation */
	CU_ASSERT_PTR_NULL(rtx_find(s, 65535 - RTX_SLOTS, 150, 1000, 3)); /* same slot */
	CU_ASSERT_PTR_NULL(rtx_find(s, 7, 150, 1000, 3));		  /* never sent */
	/* RTX_SLOTS later the slot holds another */
	len = rtp(b, (uint16_t)(65535 + RTX_SLOTS), 10);
	rtx_store(s, b, len, 120, 3);
	CU_ASSERT_PTR_NULL(rtx_find(s, 65535, 150, 1000, 3));
	CU_ASSERT_PTR_NOT_NULL(rtx_find(s, (uint16_t)(65535 + RTX_SLOTS), 150, 1000, 3));
	/* too big to keep: counted, the slot untouched */
	len = rtp(b, 40, RTX_MAX_PKT);
	rtx_store(s, b, len, 130, 3);
	CU_ASSERT_EQUAL(s->too_big, 1);
	CU_ASSERT_PTR_NULL(rtx_find(s, 40, 150, 1000, 3));
	/* a reset forgets everything */
	rtx_reset(s);
	CU_ASSERT_PTR_NULL(rtx_find(s, (uint16_t)(65535 + RTX_SLOTS), 150, 1000, 3));
	CU_ASSERT_EQUAL(s->stored, 0);
}

/* The sequence numbers a NACK's FCIs name, in order. */
static unsigned int fci_list(const uint32_t *fci, unsigned int n, uint16_t *out)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n; i++)
		k += rtx_fci_seqs(fci[i], out + k);
	return k;
}

static void test_uplink_gaps_across_wrap(void)
{
	uint32_t fci[RTX_MISS_MAX];
	uint16_t seqs[RTX_MISS_MAX * RTX_FCI_SEQS];
	unsigned int n;

	rtx_reset(s);
	CU_ASSERT_EQUAL(rtx_uplink_seen(s, 65530, 0, 5), RTX_IN_ORDER);
	CU_ASSERT_EQUAL(rtx_uplink_seen(s, 65531, 1, 5), RTX_IN_ORDER);
	/* 65532..65535, 0, 1 and 3 lost: 7 awaited */
	CU_ASSERT_EQUAL(rtx_uplink_seen(s, 2, 2, 5), RTX_IN_ORDER);
	CU_ASSERT_EQUAL(rtx_uplink_seen(s, 4, 3, 5), RTX_IN_ORDER);
	CU_ASSERT_EQUAL(s->lost, 7);
	CU_ASSERT_EQUAL(s->n_miss, 7);
	/* not due before 5 ticks */
	CU_ASSERT_EQUAL(rtx_nack_due(s, 4, 50, 1000, fci), 0);
	n = rtx_nack_due(s, 9, 50, 1000, fci);
	/* one FCI: PID 65532, BLP bits for 65533, 65534, 65535, 0, 1 and 3 */
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(fci[0] >> 16, 65532);
	CU_ASSERT_EQUAL(fci[0] & 0xffff, 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x40);
	CU_ASSERT_EQUAL(fci_list(fci, n, seqs), 7);
	CU_ASSERT_EQUAL(seqs[4], 0);
	CU_ASSERT_EQUAL(seqs[6], 3);
	/* 0 comes (our NACK answered), 65500 is just late */
	CU_ASSERT_EQUAL(rtx_uplink_seen(s, 0, 10, 5), RTX_RECOVERED);
	CU_ASSERT_EQUAL(rtx_uplink_seen(s, 65500, 10, 5), RTX_LATE);
	CU_ASSERT_EQUAL(s->recovered, 1);
	/* due again 50 ticks on: the six left */
	CU_ASSERT_EQUAL(rtx_nack_due(s, 58, 50, 1000, fci), 0);
	n = rtx_nack_due(s, 59, 50, 1000, fci);
	CU_ASSERT_EQUAL(fci_list(fci, n, seqs), 6);
	/* RTX_TRIES in all, then given up */
	for (int t = 2; t < RTX_TRIES; t++)
		CU_ASSERT_EQUAL(rtx_nack_due(s, (uint32_t)(59 + 50 * (t - 1)), 50, 1000, fci), 1);
	CU_ASSERT_EQUAL(rtx_nack_due(s, 59 + 50 * RTX_TRIES, 50, 1000, fci), 0);
	CU_ASSERT_EQUAL(s->n_miss, 0);
	CU_ASSERT_EQUAL(s->gave_up, 6);
	CU_ASSERT_EQUAL(s->nack_seqs, 7 + 6 * (RTX_TRIES - 1));
}

static void test_uplink_big_jump_and_age(void)
{
	uint32_t fci[RTX_MISS_MAX];
	uint16_t seqs[RTX_MISS_MAX * RTX_FCI_SEQS];
	unsigned int n;

	rtx_reset(s);
	rtx_uplink_seen(s, 100, 0, 0);
	/* 1000 missing at once: the newest RTX_MISS_MAX awaited, the rest counted */
	rtx_uplink_seen(s, 1101, 0, 0);
	CU_ASSERT_EQUAL(s->n_miss, RTX_MISS_MAX);
	CU_ASSERT_EQUAL(s->dropped, 1000 - RTX_MISS_MAX);
	CU_ASSERT_EQUAL(s->miss[0].seq, 1101 - RTX_MISS_MAX);
	n = rtx_nack_due(s, 1, 50, 1000, fci);
	CU_ASSERT_EQUAL(n, (RTX_MISS_MAX + RTX_FCI_SEQS - 1) / RTX_FCI_SEQS);
	CU_ASSERT_EQUAL(fci_list(fci, n, seqs), RTX_MISS_MAX);
	CU_ASSERT_EQUAL(seqs[RTX_MISS_MAX - 1], 1100);
	/* a further gap pushes out the oldest awaited */
	rtx_uplink_seen(s, 1103, 2, 0);
	CU_ASSERT_EQUAL(s->n_miss, RTX_MISS_MAX);
	CU_ASSERT_EQUAL(s->miss[RTX_MISS_MAX - 1].seq, 1102);
	CU_ASSERT_EQUAL(s->dropped, 1000 - RTX_MISS_MAX + 1);
	/* awaited longer than max_age: given up whatever the tries */
	CU_ASSERT_EQUAL(rtx_nack_due(s, 2000, 50, 1000, fci), 0);
	CU_ASSERT_EQUAL(s->n_miss, 0);
}

static void test_nack_build(void)
{
	uint32_t fci[2] = { 0x12340005u, 0xfffe8000u };
	uint8_t b[RTX_NACK_MAX(2)];
	uint16_t seqs[2 * RTX_FCI_SEQS];

	CU_ASSERT_EQUAL_FATAL(rtx_nack_build(b, 0x7c5f0001, 0xa0a0a002, fci, 2), 20);
	CU_ASSERT_EQUAL(b[0], 0x81); /* V=2, P=0, FMT=1 */
	CU_ASSERT_EQUAL(b[1], 205);  /* RTPFB */
	CU_ASSERT_EQUAL(b[2] << 8 | b[3], 4);
	CU_ASSERT_EQUAL(b[4], 0x7c);
	CU_ASSERT_EQUAL(b[11], 0x02);
	CU_ASSERT_EQUAL(b[12] << 8 | b[13], 0x1234);
	CU_ASSERT_EQUAL(b[14] << 8 | b[15], 0x0005);
	CU_ASSERT_EQUAL(b[16] << 8 | b[17], 0xfffe);
	/* 0x1234 and BLP bits 0 and 2; 0xfffe and bit 15 (0xfffe + 16 = 0x000e) */
	CU_ASSERT_EQUAL(fci_list(fci, 2, seqs), 5);
	CU_ASSERT_EQUAL(seqs[1], 0x1235);
	CU_ASSERT_EQUAL(seqs[2], 0x1237);
	CU_ASSERT_EQUAL(seqs[4], 0x000e);
}

/* RTP with a one-byte extension block holding @ext (@n bytes, padded to a word). */
static uint16_t rtp_ext(uint8_t *b, const uint8_t *ext, unsigned int n, uint16_t plen)
{
	unsigned int words = (n + 3) / 4;

	rtp(b, 1, 0);
	b[0] |= 0x10;
	b[12] = 0xbe, b[13] = 0xde, b[14] = 0, b[15] = (uint8_t)words;
	memset(b + 16, 0, 4 * words);
	memcpy(b + 16, ext, n);
	memset(b + 16 + 4 * words, 0xaa, plen);
	return (uint16_t)(16 + 4 * words + plen);
}

static void test_audio_level(void)
{
	uint8_t b[64];
	/* padding, a 2-byte element id 3 (transport-cc), the level under id 1: voice, -30 dBov */
	static const uint8_t e1[] = { 0x00, 0x31, 0x01, 0x02, 0x10, 0x80 | 30 };
	static const uint8_t e2[] = { 0x31, 0x01, 0x02 };
	uint16_t len = rtp_ext(b, e1, sizeof(e1), 20);
	unsigned int el = 0;
	int off;

	CU_ASSERT_EQUAL(rtp_audio_level(b, len, 1), 0x80 | 30);
	off = rtp_ext_find(b, len, 3, &el); /* the element before it */
	CU_ASSERT_EQUAL_FATAL(off, 17 + 1);
	CU_ASSERT_EQUAL(el, 2);
	CU_ASSERT_EQUAL(b[off] << 8 | b[off + 1], 0x0102);
	CU_ASSERT_EQUAL(rtp_audio_level(b, len, 2), -1); /* no such id */
	len = rtp_ext(b, e2, sizeof(e2), 20);
	CU_ASSERT_EQUAL(rtp_audio_level(b, len, 1), -1);
	/* the element runs past the block: malformed, not read */
	b[16] = 0x1f;
	CU_ASSERT_EQUAL(rtp_audio_level(b, len, 1), -1);
	/* the two-byte profile (0x1000): not ours */
	len = rtp_ext(b, e1, sizeof(e1), 20);
	b[12] = 0x10, b[13] = 0x00;
	CU_ASSERT_EQUAL(rtp_audio_level(b, len, 1), -1);
	/* the block's length past the packet */
	len = rtp_ext(b, e1, sizeof(e1), 0);
	CU_ASSERT_EQUAL(rtp_audio_level(b, (unsigned int)len - 1, 1), -1);
	/* no extension at all */
	len = rtp(b, 5, 20);
	CU_ASSERT_EQUAL(rtp_audio_level(b, len, 1), -1);
}

/* A VP8 packet: descriptor (@x: with the X byte and a 15-bit picture id), then @frame. */
static uint16_t vp8(uint8_t *b, bool x, bool start, const uint8_t *frame, unsigned int n)
{
	unsigned int off = 12;

	rtp(b, 9, 0);
	b[off++] = (uint8_t)((x ? 0x80 : 0) | (start ? 0x10 : 0));
	if (x) {
		b[off++] = 0x80; /* I */
		b[off++] = 0x80 | 0x12;
		b[off++] = 0x34;
	}
	memcpy(b + off, frame, n);
	return (uint16_t)(off + n);
}

static void test_vp8_keyframe_size(void)
{
	/* frame tag (key frame: P = 0, show_frame), start code, 1280 x 720 with scale bits */
	static const uint8_t key[] = { 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x45, 0xd0, 0x82,
		0x11, 0x22 };
	static const uint8_t inter[] = { 0x11, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02,
		0x11, 0x22 };
	uint8_t b[64];
	uint16_t w = 0, h = 0, len;

	len = vp8(b, true, true, key, sizeof(key));
	CU_ASSERT_EQUAL_FATAL(rtp_vp8_keyframe_size(b, len, &w, &h), 0);
	CU_ASSERT_EQUAL(w, 1280);
	CU_ASSERT_EQUAL(h, 720);
	len = vp8(b, false, true, key, sizeof(key));
	CU_ASSERT_EQUAL(rtp_vp8_keyframe_size(b, len, &w, &h), 0);
	len = vp8(b, true, false, key, sizeof(key)); /* not a partition's start */
	CU_ASSERT_EQUAL(rtp_vp8_keyframe_size(b, len, &w, &h), -1);
	len = vp8(b, true, true, inter, sizeof(inter));
	CU_ASSERT_EQUAL(rtp_vp8_keyframe_size(b, len, &w, &h), -1);
	len = vp8(b, true, true, key, 8); /* cut short */
	CU_ASSERT_EQUAL(rtp_vp8_keyframe_size(b, len, &w, &h), -1);
}

static uint32_t be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* RFC 3550 A.3 and A.8 by hand: 10 packets across the sequence wrap with 2 lost, one
 * reordered and one retransmitted late (counted, no jitter), arrivals 1/50 s apart against
 * timestamps 960 apart at 48 kHz but one 480 late (jitter 480/16 = 30, then decaying). */
static void test_receiver_report(void)
{
	struct rr_source r = { .started = false };
	uint8_t b[RR_BLOCK_LEN], h[8];
	static const uint16_t seqs[] = { 65533, 65534, 0, 1, 65535, 3, 5, 6, 7 };
	int64_t at = 1000000;

	for (unsigned int i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		uint16_t q = seqs[i];
		uint32_t ts = (uint32_t)(q - 65533) * 960u;

		if (i == 4) { /* 65535, late: no jitter from it */
			rr_note(&r, q, ts, at);
			continue;
		}
		rr_note(&r, q, ts, (int64_t)(uint16_t)(q - 65533) * 960 + (q == 3 ? 480 : 0) + at);
	}
	/* expected 65533 .. 7 = 11, received 9: 2 lost (2 and 4); jitter: 480 at 3, 480 again
	 * back at 5, then decays: J += (|D| - J) / 16 */
	rr_note_sr(&r, 0x11223344, 500);
	rr_block(&r, 0xabcdef01, b, 500 + 2000, 1000);
	CU_ASSERT_EQUAL(be32(b), 0xabcdef01);
	CU_ASSERT_EQUAL(b[4], (2 << 8) / 11);
	CU_ASSERT_EQUAL(be32(b + 4) & 0xffffff, 2);
	CU_ASSERT_EQUAL(be32(b + 8), 0x10000u + 7);
	CU_ASSERT(be32(b + 12) >= 40 && be32(b + 12) <= 60);
	CU_ASSERT_EQUAL(be32(b + 16), 0x11223344);
	CU_ASSERT_EQUAL(be32(b + 20), 2 * 65536); /* 2 s held */
	/* the next interval: 3 more, none lost: fraction 0, cumulative still 2 */
	for (uint16_t q = 8; q < 11; q++)
		rr_note(&r, q, (uint32_t)(uint16_t)(q - 65533) * 960u,
			(int64_t)(uint16_t)(q - 65533) * 960 + at);
	rr_block(&r, 1, b, 3000, 1000);
	CU_ASSERT_EQUAL(b[4], 0);
	CU_ASSERT_EQUAL(be32(b + 4) & 0xffffff, 2);
	/* a sender that starts again elsewhere: the first is not believed, the second confirms */
	rr_note(&r, 20000, 0, at);
	CU_ASSERT_EQUAL(r.max_seq, 10);
	rr_note(&r, 20001, 960, at + 960);
	rr_block(&r, 1, b, 3000, 1000);
	CU_ASSERT_EQUAL(be32(b + 4) & 0xffffff, 0);
	CU_ASSERT_EQUAL(be32(b + 8), 20001);
	rr_header(h, 0x7c5f0001, 2);
	CU_ASSERT_EQUAL(h[0], 0x82);
	CU_ASSERT_EQUAL(h[1], 201);
	CU_ASSERT_EQUAL(h[2] << 8 | h[3], 13); /* (8 + 48) / 4 - 1 */
	CU_ASSERT_EQUAL(be32(h + 4), 0x7c5f0001);
}

/* REMB (draft-alvestrand-rmcat-remb-03 2.2): 1.5 Mbit/s is mantissa 187500, exponent 3 */
static void test_remb(void)
{
	uint8_t b[64];
	const uint32_t ssrc[2] = { 0x11223344, 0x55667788 };
	unsigned int len = remb_build(b, 0x7c5f0001, 1500000, ssrc, 2);
	uint32_t mant;

	CU_ASSERT_EQUAL(len, 28);
	CU_ASSERT_EQUAL(b[0], 0x8f);
	CU_ASSERT_EQUAL(b[1], 206);
	CU_ASSERT_EQUAL(b[2] << 8 | b[3], 28 / 4 - 1);
	CU_ASSERT_EQUAL(b[4] << 24 | b[5] << 16 | b[6] << 8 | b[7], 0x7c5f0001);
	CU_ASSERT_EQUAL(b[8] | b[9] | b[10] | b[11], 0);
	CU_ASSERT_EQUAL(memcmp(b + 12, "REMB", 4), 0);
	CU_ASSERT_EQUAL(b[16], 2);
	mant = (uint32_t)(b[17] & 3) << 16 | (uint32_t)b[18] << 8 | b[19];
	CU_ASSERT_EQUAL(b[17] >> 2, 3);
	CU_ASSERT_EQUAL(mant, 187500);
	CU_ASSERT_EQUAL((uint64_t)mant << (b[17] >> 2), 1500000);
	CU_ASSERT_EQUAL(memcmp(b + 20, "\x11\x22\x33\x44\x55\x66\x77\x88", 8), 0);
	/* what fits the mantissa needs no exponent; the largest is kept to 18 significant bits */
	remb_build(b, 1, 262143, ssrc, 1);
	CU_ASSERT_EQUAL(b[17] >> 2, 0);
	CU_ASSERT_EQUAL((uint32_t)(b[17] & 3) << 16 | (uint32_t)b[18] << 8 | b[19], 262143);
	remb_build(b, 1, UINT32_MAX, ssrc, 1);
	CU_ASSERT_EQUAL(b[17] >> 2, 14);
}

static const struct unit_test tests[] = {
	{ "cache: found, too old, overwritten, another generation, reset", test_store_find },
	{ "uplink: gaps across the 16-bit wrap, NACKed, recovered, given up",
		test_uplink_gaps_across_wrap },
	{ "uplink: a jump beyond what is awaited, too old", test_uplink_big_jump_and_age },
	{ "NACK: RFC 4585 generic NACK bytes, FCIs to sequence numbers", test_nack_build },
	{ "RFC 6464 audio level in the one-byte extension; malformed ones", test_audio_level },
	{ "VP8 key frame picture size; inter frames and fragments", test_vp8_keyframe_size },
	{ "receiver report: RFC 3550 loss, highest, jitter, LSR/DLSR", test_receiver_report },
	{ "REMB: bytes, mantissa and exponent", test_remb },
	{ NULL, NULL },
};

int main(void)
{
	int failed;

	s = aligned_alloc(64, (sizeof(*s) + 63) & ~(size_t)63);
	if (!s)
		return 1;
	failed = unit_run("rtx", tests);
	free(s);
	return failed;
}
