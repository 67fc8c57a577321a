/* srtp_fast: RFC 7714's AEAD_AES_128_GCM vectors (16.1, 17.1), byte-for-byte agreement and
 * round trips with libsrtp2 both ways (RTP and SRTCP, across ROC wraps), replay and tamper. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "../../dataplane/srtp_fast.h"
#include "unit.h"

/* RFC 7714 16.1 / 17.1: session key and salt given directly. */
static const uint8_t r_key[16] = {
	0x00,
	0x01,
	0x02,
	0x03,
	0x04,
	0x05,
	0x06,
	0x07,
	0x08,
	0x09,
	0x0a,
	0x0b,
	0x0c,
	0x0d,
	0x0e,
	0x0f,
};
static const uint8_t r_salt[12] = {
	0x51, 0x75, 0x69, 0x64, 0x20, 0x70, 0x72, 0x6f, 0x20, 0x71, 0x75, 0x6f, /* "Quid pro quo" */
};
static const uint8_t r_rtp_plain[50] = {
	0x80,
	0x40,
	0xf1,
	0x7b,
	0x80,
	0x41,
	0xf8,
	0xd3,
	0x55,
	0x01,
	0xa0,
	0xb2,
	0x47,
	0x61,
	0x6c,
	0x6c,
	0x69,
	0x61,
	0x20,
	0x65,
	0x73,
	0x74,
	0x20,
	0x6f,
	0x6d,
	0x6e,
	0x69,
	0x73,
	0x20,
	0x64,
	0x69,
	0x76,
	0x69,
	0x73,
	0x61,
	0x20,
	0x69,
	0x6e,
	0x20,
	0x70,
	0x61,
	0x72,
	0x74,
	0x65,
	0x73,
	0x20,
	0x74,
	0x72,
	0x65,
	0x73,
};
static const uint8_t r_rtp_protected[66] = {
	0x80,
	0x40,
	0xf1,
	0x7b,
	0x80,
	0x41,
	0xf8,
	0xd3,
	0x55,
	0x01,
	0xa0,
	0xb2,
	0xf2,
	0x4d,
	0xe3,
	0xa3,
	0xfb,
	0x34,
	0xde,
	0x6c,
	0xac,
	0xba,
	0x86,
	0x1c,
	0x9d,
	0x7e,
	0x4b,
	0xca,
	0xbe,
	0x63,
	0x3b,
	0xd5,
	0x0d,
	0x29,
	0x4e,
	0x6f,
	0x42,
	0xa5,
	0xf4,
	0x7a,
	0x51,
	0xc7,
	0xd1,
	0x9b,
	0x36,
	0xde,
	0x3a,
	0xdf,
	0x88,
	0x33,
	0x89,
	0x9d,
	0x7f,
	0x27,
	0xbe,
	0xb1,
	0x6a,
	0x91,
	0x52,
	0xcf,
	0x76,
	0x5e,
	0xe4,
	0x39,
	0x0c,
	0xce,
};
/* 17.1: an SR from SSRC 0x4d617273 ("Mars"), SRTCP index 0x5d4, E set */
static const uint8_t r_rtcp_plain[52] = {
	0x81,
	0xc8,
	0x00,
	0x0d,
	0x4d,
	0x61,
	0x72,
	0x73,
	0x4e,
	0x54,
	0x50,
	0x31,
	0x4e,
	0x54,
	0x50,
	0x32,
	0x52,
	0x54,
	0x50,
	0x20,
	0x00,
	0x00,
	0x04,
	0x2a,
	0x00,
	0x00,
	0xe9,
	0x30,
	0x4c,
	0x75,
	0x6e,
	0x61,
	0xde,
	0xad,
	0xbe,
	0xef,
	0xde,
	0xad,
	0xbe,
	0xef,
	0xde,
	0xad,
	0xbe,
	0xef,
	0xde,
	0xad,
	0xbe,
	0xef,
	0xde,
	0xad,
	0xbe,
	0xef,
};
static const uint8_t r_rtcp_protected[72] = {
	0x81,
	0xc8,
	0x00,
	0x0d,
	0x4d,
	0x61,
	0x72,
	0x73,
	0x63,
	0xe9,
	0x48,
	0x85,
	0xdc,
	0xda,
	0xb6,
	0x7c,
	0xa7,
	0x27,
	0xd7,
	0x66,
	0x2f,
	0x6b,
	0x7e,
	0x99,
	0x7f,
	0xf5,
	0xc0,
	0xf7,
	0x6c,
	0x06,
	0xf3,
	0x2d,
	0xc6,
	0x76,
	0xa5,
	0xf1,
	0x73,
	0x0d,
	0x6f,
	0xda,
	0x4c,
	0xe0,
	0x9b,
	0x46,
	0x86,
	0x30,
	0x3d,
	0xed,
	0x0b,
	0xb9,
	0x27,
	0x5b,
	0xc8,
	0x4a,
	0xa4,
	0x58,
	0x96,
	0xcf,
	0x4d,
	0x2f,
	0xc5,
	0xab,
	0xf8,
	0x72,
	0x45,
	0xd9,
	0xea,
	0xde,
	0x80,
	0x00,
	0x05,
	0xd4,
};

enum { MAXPKT = 1500, SLOT = MAXPKT + 64, SSRC = 0x5501a0b2 };

static uint8_t mkey[28]; /* master key || master salt, libsrtp's layout */

static void make_master(uint8_t seed)
{
	for (int i = 0; i < 28; i++)
		mkey[i] = (uint8_t)(seed * 29 + i * 11 + 3);
}

static srtp_t lib_session(bool inbound)
{
	srtp_policy_t p;
	srtp_t s = NULL;

	memset(&p, 0, sizeof(p));
	srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
	srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.key = mkey;
	p.window_size = 1024;
	p.allow_repeat_tx = 1;
	CU_ASSERT_FATAL(srtp_create(&s, &p) == srtp_err_status_ok);
	return s;
}

static void our_session(struct srtp_fast *s, bool inbound)
{
	CU_ASSERT_FATAL(srtp_fast_init(s, mkey, mkey + 16, inbound) == 0);
}

/* An RTP packet: @cc CSRCs, a one-byte-header extension of @ext words when @ext >= 0. */
static int make_rtp(uint8_t *p, uint16_t seq, uint32_t ssrc, int payload, int cc, int ext)
{
	int h = 12;

	p[0] = (uint8_t)(0x80 | (ext >= 0 ? 0x10 : 0) | cc);
	p[1] = 0x6f;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	p[4] = 0x12, p[5] = 0x34, p[6] = (uint8_t)(seq >> 8), p[7] = (uint8_t)seq;
	p[8] = (uint8_t)(ssrc >> 24), p[9] = (uint8_t)(ssrc >> 16);
	p[10] = (uint8_t)(ssrc >> 8), p[11] = (uint8_t)ssrc;
	for (int i = 0; i < cc * 4; i++)
		p[h++] = (uint8_t)(0xc0 + i);
	if (ext >= 0) {
		p[h++] = 0xbe, p[h++] = 0xde, p[h++] = 0, p[h++] = (uint8_t)ext;
		for (int i = 0; i < ext * 4; i++)
			p[h++] = (uint8_t)(0x10 + i);
	}
	for (int i = 0; i < payload; i++)
		p[h + i] = (uint8_t)(i * 7 + seq);
	return h + payload;
}

/* An RTCP compound start: an RR from @ssrc with @words more 32-bit words. */
static int make_rtcp(uint8_t *p, uint32_t ssrc, int words, uint8_t salt)
{
	p[0] = 0x81;
	p[1] = 201;
	p[2] = (uint8_t)((words + 1) >> 8);
	p[3] = (uint8_t)(words + 1);
	p[4] = (uint8_t)(ssrc >> 24), p[5] = (uint8_t)(ssrc >> 16);
	p[6] = (uint8_t)(ssrc >> 8), p[7] = (uint8_t)ssrc;
	for (int i = 0; i < words * 4; i++)
		p[8 + i] = (uint8_t)(i * 3 + salt);
	return 8 + words * 4;
}

static void test_rfc7714_16_1_rtp(void)
{
	struct srtp_fast tx, rx;
	uint8_t buf[128];
	int n = sizeof(r_rtp_plain);

	CU_ASSERT_FATAL(srtp_fast_init_session(&tx, r_key, r_salt, r_key, r_salt, false) == 0);
	CU_ASSERT_FATAL(srtp_fast_init_session(&rx, r_key, r_salt, r_key, r_salt, true) == 0);
	memcpy(buf, r_rtp_plain, n);
	CU_ASSERT_EQUAL(srtp_fast_protect(&tx, buf, &n), 0);
	CU_ASSERT_EQUAL(n, (int)sizeof(r_rtp_protected));
	CU_ASSERT(memcmp(buf, r_rtp_protected, sizeof(r_rtp_protected)) == 0);
	CU_ASSERT_EQUAL(srtp_fast_unprotect(&rx, buf, &n), 0);
	CU_ASSERT_EQUAL(n, (int)sizeof(r_rtp_plain));
	CU_ASSERT(memcmp(buf, r_rtp_plain, sizeof(r_rtp_plain)) == 0);
	srtp_fast_free(&tx);
	srtp_fast_free(&rx);
}

/* The SRTCP index is the sender's count, so the vector's 0x5d4 is reached by sending. */
static void test_rfc7714_17_1_rtcp(void)
{
	struct srtp_fast tx, rx;
	uint8_t buf[128];
	int n;

	CU_ASSERT_FATAL(srtp_fast_init_session(&tx, r_key, r_salt, r_key, r_salt, false) == 0);
	CU_ASSERT_FATAL(srtp_fast_init_session(&rx, r_key, r_salt, r_key, r_salt, true) == 0);
	for (int i = 0; i <= 0x5d4; i++) {
		n = sizeof(r_rtcp_plain);
		memcpy(buf, r_rtcp_plain, n);
		CU_ASSERT_FATAL(srtp_fast_protect_rtcp(&tx, buf, &n) == 0);
	}
	CU_ASSERT_EQUAL(n, (int)sizeof(r_rtcp_protected));
	CU_ASSERT(memcmp(buf, r_rtcp_protected, sizeof(r_rtcp_protected)) == 0);
	CU_ASSERT_EQUAL(srtp_fast_unprotect_rtcp(&rx, buf, &n), 0);
	CU_ASSERT_EQUAL(n, (int)sizeof(r_rtcp_plain));
	CU_ASSERT(memcmp(buf, r_rtcp_plain, sizeof(r_rtcp_plain)) == 0);
	/* the vector itself, received fresh */
	srtp_fast_free(&rx);
	CU_ASSERT_FATAL(srtp_fast_init_session(&rx, r_key, r_salt, r_key, r_salt, true) == 0);
	n = sizeof(r_rtcp_protected);
	memcpy(buf, r_rtcp_protected, n);
	CU_ASSERT_EQUAL(srtp_fast_unprotect_rtcp(&rx, buf, &n), 0);
	CU_ASSERT(n == (int)sizeof(r_rtcp_plain) && memcmp(buf, r_rtcp_plain, n) == 0);
	srtp_fast_free(&tx);
	srtp_fast_free(&rx);
}

/* One RTP packet both ways: our protect and libsrtp's give the same bytes, and each side's
 * receiver takes the other's. */
static void rtp_both_ways(struct srtp_fast *otx, struct srtp_fast *orx, srtp_t ltx, srtp_t lrx,
	const uint8_t *plain, int len)
{
	static uint8_t a[SLOT], b[SLOT];
	int na = len, nb = len;

	memcpy(a, plain, len);
	memcpy(b, plain, len);
	CU_ASSERT_FATAL(srtp_fast_protect(otx, a, &na) == 0);
	CU_ASSERT_FATAL(srtp_protect(ltx, b, &nb) == srtp_err_status_ok);
	CU_ASSERT_FATAL(na == nb && na == len + SRTP_FAST_TAG_LEN);
	CU_ASSERT_FATAL(memcmp(a, b, na) == 0);
	CU_ASSERT_FATAL(srtp_unprotect(lrx, a, &na) == srtp_err_status_ok); /* ours -> lib */
	CU_ASSERT_FATAL(srtp_fast_unprotect(orx, b, &nb) == 0);		    /* lib -> ours */
	CU_ASSERT_FATAL(na == len && nb == len);
	CU_ASSERT_FATAL(memcmp(a, plain, len) == 0 && memcmp(b, plain, len) == 0);
}

struct pair {
	struct srtp_fast otx, orx;
	srtp_t ltx, lrx;
};

static void pair_make(struct pair *p, uint8_t seed)
{
	make_master(seed);
	our_session(&p->otx, false);
	our_session(&p->orx, true);
	p->ltx = lib_session(false);
	p->lrx = lib_session(true);
}

static void pair_free(struct pair *p)
{
	srtp_fast_free(&p->otx);
	srtp_fast_free(&p->orx);
	srtp_dealloc(p->ltx);
	srtp_dealloc(p->lrx);
}

static const int sizes[] = { 0, 1, 15, 16, 17, 31, 32, 33, 127, 128, 129, 160, 255, 1200, 1460 };

static void test_rtp_libsrtp_sizes(void)
{
	static uint8_t pkt[SLOT];
	struct pair p;
	uint16_t seq = 0xfff0;

	pair_make(&p, 1);
	for (int round = 0; round < 4; round++) /* crosses the ROC wrap */
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			rtp_both_ways(&p.otx, &p.orx, p.ltx, p.lrx, pkt,
				make_rtp(pkt, seq++, SSRC, sizes[i], 0, -1));
	pair_free(&p);
}

/* Two SSRCs interleaved for 2 x 65536 + packets: ROC 0 -> 2 on both, with some reordering. */
static void test_rtp_libsrtp_roc_wraps(void)
{
	static uint8_t pkt[SLOT];
	struct pair p;
	uint16_t seq = 0xfff0;

	pair_make(&p, 2);
	for (int k = 0; k < 2 * 65536 + 100; k += 2, seq += 2)
		for (int j = 0; j < 2; j++) {
			/* every 100th pair arrives swapped */
			uint16_t s = (uint16_t)(seq + ((k % 100 == 14) ? 1 - j : j));

			rtp_both_ways(&p.otx, &p.orx, p.ltx, p.lrx, pkt,
				make_rtp(pkt, s, SSRC, 20, 0, -1));
			rtp_both_ways(&p.otx, &p.orx, p.ltx, p.lrx, pkt,
				make_rtp(pkt, s, 0x1234, 20, 0, -1));
		}
	pair_free(&p);
}

/* A packet exactly 2^15 from the last: ahead when the last SEQ is in the lower half, behind
 * (and too old to send) when in the upper, on both implementations. */
static void test_rtp_index_tie(void)
{
	static uint8_t pkt[SLOT];
	struct pair p;
	int n;

	pair_make(&p, 11);
	for (uint32_t i = 0; i <= 65536 + 100; i++) /* to ROC 1, SEQ 100 */
		rtp_both_ways(&p.otx, &p.orx, p.ltx, p.lrx, pkt,
			make_rtp(pkt, (uint16_t)i, SSRC, 4, 0, -1));
	rtp_both_ways(&p.otx, &p.orx, p.ltx, p.lrx, pkt,
		make_rtp(pkt, 100 + 32768, SSRC, 4, 0, -1)); /* ahead */
	n = make_rtp(pkt, 100, SSRC, 4, 0, -1);		     /* now 2^15 behind, upper half */
	CU_ASSERT_EQUAL(srtp_fast_protect(&p.otx, pkt, &n), SRTP_FAST_E_OLD);
	n = make_rtp(pkt, 100, SSRC, 4, 0, -1);
	CU_ASSERT_EQUAL(srtp_protect(p.ltx, pkt, &n), srtp_err_status_replay_old);
	pair_free(&p);
}

static void test_rtp_csrc_and_extension(void)
{
	static uint8_t pkt[SLOT];
	struct pair p;
	uint16_t seq = 100;

	pair_make(&p, 3);
	for (int cc = 0; cc <= 15; cc += 5)
		for (int ext = -1; ext <= 3; ext++)
			for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i += 4)
				rtp_both_ways(&p.otx, &p.orx, p.ltx, p.lrx, pkt,
					make_rtp(pkt, seq++, SSRC, sizes[i], cc, ext));
	pair_free(&p);
}

static void test_rtcp_libsrtp_both_ways(void)
{
	static uint8_t plain[SLOT], a[SLOT];
	struct pair p;

	pair_make(&p, 4);
	for (int i = 0; i < 300; i++) {
		int len = make_rtcp(plain, (i & 1) ? SSRC : 0x1, i % 70, (uint8_t)i), n = len;

		memcpy(a, plain, len); /* ours -> lib */
		CU_ASSERT_FATAL(srtp_fast_protect_rtcp(&p.otx, a, &n) == 0);
		CU_ASSERT_FATAL(n == len + SRTP_FAST_RTCP_TRAILER);
		CU_ASSERT_FATAL(srtp_unprotect_rtcp(p.lrx, a, &n) == srtp_err_status_ok);
		CU_ASSERT_FATAL(n == len && memcmp(a, plain, len) == 0);
		memcpy(a, plain, len); /* lib -> ours */
		CU_ASSERT_FATAL(srtp_protect_rtcp(p.ltx, a, &n) == srtp_err_status_ok);
		CU_ASSERT_FATAL(srtp_fast_unprotect_rtcp(&p.orx, a, &n) == 0);
		CU_ASSERT_FATAL(n == len && memcmp(a, plain, len) == 0);
	}
	pair_free(&p);
}

/* Unprotects a copy of @p (unprotect works in place), so @p can be tried again. */
static int try_copy(struct srtp_fast *rx, const uint8_t *p, int len)
{
	static uint8_t t[SLOT];

	memcpy(t, p, len);
	return srtp_fast_unprotect(rx, t, &len);
}

static void test_rtp_replay(void)
{
	static uint8_t pkt[SLOT], early[SLOT], late[SLOT];
	struct srtp_fast tx, rx;
	int n, en = 0, ln = 0;

	make_master(5);
	our_session(&tx, false);
	our_session(&rx, true);
	for (int s = 0; s < 2000; s++) { /* from 0xff00: the ROC wraps on the way */
		n = make_rtp(pkt, (uint16_t)(0xff00 + s), SSRC, 40, 0, -1);
		CU_ASSERT_FATAL(srtp_fast_protect(&tx, pkt, &n) == 0);
		if (s == 10) { /* held back: arrives late but inside the window */
			memcpy(late, pkt, ln = n);
			continue;
		}
		if (s == 5)
			memcpy(early, pkt, en = n);
		CU_ASSERT_FATAL(srtp_fast_unprotect(&rx, pkt, &n) == 0);
		if (s == 6)
			CU_ASSERT_EQUAL(try_copy(&rx, early, en), SRTP_FAST_E_REPLAY);
		if (s == 500) {
			CU_ASSERT_EQUAL(try_copy(&rx, late, ln), 0);
			CU_ASSERT_EQUAL(try_copy(&rx, late, ln), SRTP_FAST_E_REPLAY);
		}
	}
	/* 1994 packets later: behind the 1024 window */
	CU_ASSERT_EQUAL(try_copy(&rx, early, en), SRTP_FAST_E_OLD);
	CU_ASSERT(srtp_fast_is_replay(SRTP_FAST_E_OLD) && srtp_fast_is_replay(SRTP_FAST_E_REPLAY));
	CU_ASSERT(!srtp_fast_is_replay(SRTP_FAST_E_AUTH));
	srtp_fast_free(&tx);
	srtp_fast_free(&rx);
}

/* A jump ahead of more than the window forgets everything older; a repeat on protect is
 * refused: one index is never protected twice under one key (a nonce used once). */
static void test_rtp_window_jump_and_repeat_tx(void)
{
	static uint8_t pkt[SLOT], old[SLOT];
	struct srtp_fast tx, rx;
	int n, on;

	make_master(6);
	our_session(&tx, false);
	our_session(&rx, true);
	on = make_rtp(old, 1000, SSRC, 10, 0, -1);
	CU_ASSERT_FATAL(srtp_fast_protect(&tx, old, &on) == 0);
	n = make_rtp(pkt, 1000, SSRC, 10, 0, -1);
	CU_ASSERT_EQUAL(srtp_fast_protect(&tx, pkt, &n), SRTP_FAST_E_REPLAY); /* repeat: refused */
	/* ... but for the very same packet again (a retransmission): the very same bytes */
	static uint8_t again[SLOT];
	int an = make_rtp(again, 1000, SSRC, 10, 0, -1);

	CU_ASSERT_FATAL(srtp_fast_protect_again(&tx, again, &an) == 0);
	CU_ASSERT_EQUAL(an, on);
	CU_ASSERT(memcmp(again, old, (size_t)on) == 0);
	n = on;
	memcpy(pkt, old, (size_t)n);
	CU_ASSERT_EQUAL(srtp_fast_unprotect(&rx, pkt, &n), 0);
	n = make_rtp(pkt, 1000 + 3000, SSRC, 10, 0, -1);
	CU_ASSERT_FATAL(srtp_fast_protect(&tx, pkt, &n) == 0);
	CU_ASSERT_EQUAL(srtp_fast_unprotect(&rx, pkt, &n), 0);
	n = on;
	CU_ASSERT_EQUAL(srtp_fast_unprotect(&rx, old, &n), SRTP_FAST_E_OLD);
	n = make_rtp(pkt, 1000 + 3000 - 1023, SSRC, 10, 0, -1); /* inside, never seen */
	CU_ASSERT_FATAL(srtp_fast_protect(&tx, pkt, &n) == 0);
	CU_ASSERT_EQUAL(srtp_fast_unprotect(&rx, pkt, &n), 0);
	n = make_rtp(pkt, 1000 + 3000 - 1024, SSRC, 10, 0, -1); /* the sender refuses it too */
	CU_ASSERT_EQUAL(srtp_fast_protect(&tx, pkt, &n), SRTP_FAST_E_OLD);
	n = make_rtp(pkt, 1000 + 3000 - 1024, SSRC, 10, 0, -1); /* even as a retransmission */
	CU_ASSERT_EQUAL(srtp_fast_protect_again(&tx, pkt, &n), SRTP_FAST_E_OLD);
	srtp_fast_free(&tx);
	srtp_fast_free(&rx);
}

static void test_rtp_tamper(void)
{
	static uint8_t pkt[SLOT], prot[SLOT], t[SLOT];
	struct srtp_fast tx, rx;
	int len, n;

	make_master(7);
	our_session(&tx, false);
	our_session(&rx, true);
	len = make_rtp(prot, 77, SSRC, 160, 2, 1); /* header: 12 + 8 CSRC + 8 extension */
	CU_ASSERT_FATAL(srtp_fast_protect(&tx, prot, &len) == 0);
	/* each byte of header, payload and tag; a flip in CC or the extension's length may make
	 * the header run past the packet instead */
	for (int i = 0; i < len; i++) {
		int rc;

		memcpy(t, prot, len);
		t[i] ^= 0x04;
		n = len;
		rc = srtp_fast_unprotect(&rx, t, &n);
		if (rc != SRTP_FAST_E_AUTH && !(rc == -EINVAL && i < 24)) {
			printf("byte %d: %d\n", i, rc);
			CU_FAIL("a tampered packet was not refused");
		}
	}
	/* nothing was learnt from the failures: no stream, the real packet still passes */
	CU_ASSERT_EQUAL(rx.n_streams, 0);
	n = len;
	memcpy(pkt, prot, len);
	CU_ASSERT_EQUAL(srtp_fast_unprotect(&rx, pkt, &n), 0);
	/* a different key */
	make_master(8);
	srtp_fast_free(&rx);
	our_session(&rx, true);
	n = len;
	memcpy(pkt, prot, len);
	CU_ASSERT_EQUAL(srtp_fast_unprotect(&rx, pkt, &n), SRTP_FAST_E_AUTH);
	srtp_fast_free(&tx);
	srtp_fast_free(&rx);
}

static void test_rtcp_replay_and_tamper(void)
{
	static uint8_t pkt[SLOT], keep[SLOT], t[SLOT];
	struct srtp_fast tx, rx;
	int n, kn = 0;

	make_master(9);
	our_session(&tx, false);
	our_session(&rx, true);
	for (int i = 0; i < 300; i++) {
		n = make_rtcp(pkt, SSRC, 6, (uint8_t)i);
		CU_ASSERT_FATAL(srtp_fast_protect_rtcp(&tx, pkt, &n) == 0);
		if (i == 3)
			memcpy(keep, pkt, kn = n);
		if (i == 20)
			for (int j = 0; j < n; j++) {
				int m = n;

				memcpy(t, pkt, n);
				t[j] ^= 0x20;
				CU_ASSERT_EQUAL(srtp_fast_unprotect_rtcp(&rx, t, &m),
					SRTP_FAST_E_AUTH);
			}
		CU_ASSERT_FATAL(srtp_fast_unprotect_rtcp(&rx, pkt, &n) == 0);
		if (i == 4) {
			n = kn;
			memcpy(t, keep, kn);
			CU_ASSERT_EQUAL(srtp_fast_unprotect_rtcp(&rx, t, &n), SRTP_FAST_E_REPLAY);
		}
	}
	n = kn;
	CU_ASSERT_EQUAL(srtp_fast_unprotect_rtcp(&rx, keep, &n), SRTP_FAST_E_OLD);
	srtp_fast_free(&tx);
	srtp_fast_free(&rx);
}

static void test_malformed_and_streams(void)
{
	static uint8_t pkt[SLOT];
	struct srtp_fast tx, rx;
	int n;

	make_master(10);
	our_session(&tx, false);
	our_session(&rx, true);
	n = 11;
	CU_ASSERT_EQUAL(srtp_fast_protect(&tx, pkt, &n), -EINVAL);
	n = make_rtp(pkt, 1, SSRC, 0, 0, 2); /* extension longer than the packet */
	pkt[15] = 9;
	CU_ASSERT_EQUAL(srtp_fast_protect(&tx, pkt, &n), -EINVAL);
	n = make_rtp(pkt, 1, SSRC, 3, 0, -1);
	CU_ASSERT_EQUAL(srtp_fast_unprotect(&rx, pkt, &n), -EINVAL); /* shorter than a tag */
	make_rtp(pkt, 1, SSRC, 10, 15, -1); /* 15 CSRCs, and no room left for the tag */
	n = 12 + 60 + 8;
	CU_ASSERT_EQUAL(srtp_fast_unprotect(&rx, pkt, &n), -EINVAL);
	n = 8 + 16 + 3;
	CU_ASSERT_EQUAL(srtp_fast_unprotect_rtcp(&rx, pkt, &n), -EINVAL);
	for (uint32_t i = 0; i < SRTP_FAST_MAX_STREAMS; i++) {
		n = make_rtp(pkt, 1, 100 + i, 10, 0, -1);
		CU_ASSERT_FATAL(srtp_fast_protect(&tx, pkt, &n) == 0);
		CU_ASSERT_FATAL(srtp_fast_unprotect(&rx, pkt, &n) == 0);
	}
	n = make_rtp(pkt, 1, 999, 10, 0, -1);
	CU_ASSERT_EQUAL(srtp_fast_protect(&tx, pkt, &n), SRTP_FAST_E_STREAMS);
	srtp_fast_free(&tx);
	srtp_fast_free(&rx);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "RFC 7714 16.1 RTP vector", test_rfc7714_16_1_rtp },
		{ "RFC 7714 17.1 SRTCP vector", test_rfc7714_17_1_rtcp },
		{ "RTP = libsrtp, both ways, sizes", test_rtp_libsrtp_sizes },
		{ "RTP = libsrtp, both ways, ROC 0..2", test_rtp_libsrtp_roc_wraps },
		{ "RTP = libsrtp, index at the 2^15 tie", test_rtp_index_tie },
		{ "RTP = libsrtp, CSRCs and extensions", test_rtp_csrc_and_extension },
		{ "SRTCP libsrtp both ways", test_rtcp_libsrtp_both_ways },
		{ "RTP replay window", test_rtp_replay },
		{ "RTP window jump, repeat on protect", test_rtp_window_jump_and_repeat_tx },
		{ "RTP tampered bytes, wrong key", test_rtp_tamper },
		{ "SRTCP replay and tamper", test_rtcp_replay_and_tamper },
		{ "malformed packets, stream limit", test_malformed_and_streams },
		{ NULL, NULL },
	};
	int rc;

	if (srtp_init() != srtp_err_status_ok)
		return 1;
	rc = unit_run("srtp_fast", tests);
	srtp_shutdown();
	return rc;
}
