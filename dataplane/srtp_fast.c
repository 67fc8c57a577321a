/* AEAD_AES_128_GCM SRTP/SRTCP (RFC 7714) without libsrtp's per-packet cipher set-up: AES-NI
 * round keys made once, OpenSSL's GCM128 GHASH (PCLMUL/AVX) bound to them, per packet only
 * the IV. -DSRTP_FAST_EVP builds the EVP variant it was measured against, -DSRTP_FAST_NO_AESNI
 * the fallback for CPUs without AES-NI (both for tests and benchmarks). */
#define OPENSSL_SUPPRESS_DEPRECATED /* AES_set_encrypt_key: the fallback without AES-NI */

#include "srtp_fast.h"
#include "../include/edge_bytes.h" /* built alone too (tests, benches): no include path */

#include <string.h>

#include <openssl/aes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/modes.h>

#if defined(__x86_64__) && !defined(SRTP_FAST_EVP) && !defined(SRTP_FAST_NO_AESNI)
#include <immintrin.h>
#define SRTP_FAST_AESNI 1
#endif

enum { RTP_HDR = 12, RTCP_HDR = 8, TAG = SRTP_FAST_TAG_LEN, SEQ_MEDIAN = 1 << 15 };

/* --- AES-128 with AES-NI: the key schedule once, blocks and CTR for OpenSSL's GCM128 --- */
#ifdef SRTP_FAST_AESNI
#define AESNI __attribute__((target("aes,sse4.1")))

static AESNI __m128i aesni_expand(__m128i k, __m128i t)
{
	__m128i s = _mm_slli_si128(k, 4);

	t = _mm_shuffle_epi32(t, 0xff);
	k = _mm_xor_si128(k, s);
	s = _mm_slli_si128(s, 4);
	k = _mm_xor_si128(k, s);
	s = _mm_slli_si128(s, 4);
	k = _mm_xor_si128(k, s);
	return _mm_xor_si128(k, t);
}

static AESNI void aesni_key(const uint8_t key[16], __m128i rk[11])
{
	rk[0] = _mm_loadu_si128((const __m128i *)key);
#define AESNI_STEP(i, rcon)                                                                        \
	rk[i] = aesni_expand(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))
	AESNI_STEP(1, 0x01);
	AESNI_STEP(2, 0x02);
	AESNI_STEP(3, 0x04);
	AESNI_STEP(4, 0x08);
	AESNI_STEP(5, 0x10);
	AESNI_STEP(6, 0x20);
	AESNI_STEP(7, 0x40);
	AESNI_STEP(8, 0x80);
	AESNI_STEP(9, 0x1b);
	AESNI_STEP(10, 0x36);
#undef AESNI_STEP
}

static AESNI inline __m128i aesni_enc(__m128i b, const __m128i *rk)
{
	b = _mm_xor_si128(b, rk[0]);
#pragma GCC unroll 10
	for (int r = 1; r < 10; r++)
		b = _mm_aesenc_si128(b, rk[r]);
	return _mm_aesenclast_si128(b, rk[10]);
}

static AESNI void aesni_block(const unsigned char in[16], unsigned char out[16], const void *key)
{
	__m128i b = aesni_enc(_mm_loadu_si128((const __m128i *)in), key);

	_mm_storeu_si128((__m128i *)out, b);
}

/* OpenSSL's ctr128_f: @blocks blocks of counter mode, the last 32 bits of @ivec counting
 * (mod 2^32, which is GCM's inc32). Eight blocks in flight hide aesenc's latency; the loops
 * are unrolled so that the blocks live in registers, not on the stack. */
static AESNI void aesni_ctr32(const unsigned char *in, unsigned char *out, size_t blocks,
	const void *key, const unsigned char ivec[16])
{
	const __m128i *rk = key;
	__m128i iv = _mm_loadu_si128((const __m128i *)ivec);
	uint32_t c = edge_be32(ivec + 12);

	while (blocks >= 8) {
		__m128i b[8];

#pragma GCC unroll 10
		for (int i = 0; i < 8; i++)
			b[i] = _mm_xor_si128(_mm_insert_epi32(iv, (int)__builtin_bswap32(c + i), 3),
				rk[0]);
#pragma GCC unroll 10
		for (int r = 1; r < 10; r++)
#pragma GCC unroll 10
			for (int i = 0; i < 8; i++)
				b[i] = _mm_aesenc_si128(b[i], rk[r]);
#pragma GCC unroll 10
		for (int i = 0; i < 8; i++) {
			b[i] = _mm_aesenclast_si128(b[i], rk[10]);
			b[i] = _mm_xor_si128(b[i], _mm_loadu_si128((const __m128i *)in + i));
			_mm_storeu_si128((__m128i *)out + i, b[i]);
		}
		c += 8;
		blocks -= 8;
		in += 128;
		out += 128;
	}
	while (blocks >= 2) {
		__m128i b0 =
			_mm_xor_si128(_mm_insert_epi32(iv, (int)__builtin_bswap32(c), 3), rk[0]);
		__m128i b1 = _mm_xor_si128(_mm_insert_epi32(iv, (int)__builtin_bswap32(c + 1), 3),
			rk[0]);

#pragma GCC unroll 10
		for (int r = 1; r < 10; r++) {
			b0 = _mm_aesenc_si128(b0, rk[r]);
			b1 = _mm_aesenc_si128(b1, rk[r]);
		}
		b0 = _mm_xor_si128(_mm_aesenclast_si128(b0, rk[10]),
			_mm_loadu_si128((const __m128i *)in));
		b1 = _mm_xor_si128(_mm_aesenclast_si128(b1, rk[10]),
			_mm_loadu_si128((const __m128i *)in + 1));
		_mm_storeu_si128((__m128i *)out, b0);
		_mm_storeu_si128((__m128i *)out + 1, b1);
		c += 2;
		blocks -= 2;
		in += 32;
		out += 32;
	}
	if (blocks) {
		__m128i b = aesni_enc(_mm_insert_epi32(iv, (int)__builtin_bswap32(c), 3), rk);

		b = _mm_xor_si128(b, _mm_loadu_si128((const __m128i *)in));
		_mm_storeu_si128((__m128i *)out, b);
	}
}
#endif

/* --- one session key: set up once, then seal/open per packet --- */

#ifndef SRTP_FAST_EVP
/* OpenSSL's table AES, for a CPU without AES-NI: slower, and not constant-time */
static void aes_block(const unsigned char in[16], unsigned char out[16], const void *key)
{
	AES_encrypt(in, out, key);
}
#endif

static int key_init(struct srtp_fast_key *k, const uint8_t key[16], const uint8_t salt[12],
	bool inbound)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->salt, salt, SRTP_FAST_SALT_LEN);
#ifdef SRTP_FAST_EVP
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	/* the IV length is the default (12): no ctrl needed, per packet or here */
	if (!c || !EVP_CipherInit_ex(c, EVP_aes_128_gcm(), NULL, key, NULL, inbound ? 0 : 1)) {
		EVP_CIPHER_CTX_free(c);
		return -ENOMEM;
	}
	k->gcm = c;
	return 0;
#else
	block128_f block = aes_block;
	bool aesni = false;

	(void)inbound;
#ifdef SRTP_FAST_AESNI
	aesni = __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
	if (aesni) {
		aesni_key(key, (__m128i *)k->rk);
		block = aesni_block;
		k->ctr = aesni_ctr32;
	}
#endif
	if (!aesni && AES_set_encrypt_key(key, 128, (AES_KEY *)k->rk) != 0)
		return -EINVAL;
	k->gcm = CRYPTO_gcm128_new(k->rk, block);
	return k->gcm ? 0 : -ENOMEM;
#endif
}

static void key_free(struct srtp_fast_key *k)
{
#ifdef SRTP_FAST_EVP
	EVP_CIPHER_CTX_free(k->gcm);
#else
	if (k->gcm)
		CRYPTO_gcm128_release(k->gcm); /* cleanses its copy of H */
#endif
	OPENSSL_cleanse(k, sizeof(*k));
}

/* AEAD over @buf (@len bytes, in place) with AAD @aad then the 4 bytes @aad2 (SRTCP's E|index
 * word, which does not follow the header in the packet), or none when NULL. Seal writes the
 * tag to @tag; open compares it in constant time. */
static int key_aead(struct srtp_fast_key *k, bool seal, const uint8_t iv[12], const uint8_t *aad,
	size_t aad_len, const uint8_t *aad2, uint8_t *buf, size_t len, uint8_t *tag)
{
#ifdef SRTP_FAST_EVP
	EVP_CIPHER_CTX *c = k->gcm;
	int n = 0;

	if (!EVP_CipherInit_ex(c, NULL, NULL, NULL, iv, -1) ||
		!EVP_CipherUpdate(c, NULL, &n, aad, (int)aad_len) ||
		(aad2 && !EVP_CipherUpdate(c, NULL, &n, aad2, 4)) ||
		(len && !EVP_CipherUpdate(c, buf, &n, buf, (int)len)))
		return -EIO;
	if (seal)
		return EVP_CipherFinal_ex(c, buf + len, &n) &&
				EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG, tag) ?
			0 :
			-EIO;
	if (!EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG, tag))
		return -EIO;
	return EVP_CipherFinal_ex(c, buf + len, &n) ? 0 : SRTP_FAST_E_AUTH;
#else
	GCM128_CONTEXT *g = k->gcm;
	ctr128_f ctr = k->ctr;
	int rc;

	CRYPTO_gcm128_setiv(g, iv, 12);
	if (CRYPTO_gcm128_aad(g, aad, aad_len) || (aad2 && CRYPTO_gcm128_aad(g, aad2, 4)))
		return -EIO;
	if (seal)
		rc = ctr ? CRYPTO_gcm128_encrypt_ctr32(g, buf, buf, len, ctr) :
			   CRYPTO_gcm128_encrypt(g, buf, buf, len);
	else
		rc = ctr ? CRYPTO_gcm128_decrypt_ctr32(g, buf, buf, len, ctr) :
			   CRYPTO_gcm128_decrypt(g, buf, buf, len);
	if (rc)
		return -EIO;
	if (seal) {
		CRYPTO_gcm128_tag(g, tag, TAG);
		return 0;
	}
	return CRYPTO_gcm128_finish(g, tag, TAG) ? SRTP_FAST_E_AUTH : 0;
#endif
}

/* --- key derivation: RFC 3711 4.3.1 with kdr 0, GCM's 12-byte salt zero-padded to 14
 * (RFC 7714 section 11, as libsrtp does) --- */

static int kdf(const uint8_t mkey[16], const uint8_t msalt[12], uint8_t label, uint8_t *out,
	int len)
{
	static const uint8_t zeros[32];
	uint8_t iv[16] = { 0 };
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	memcpy(iv, msalt, SRTP_FAST_SALT_LEN);
	iv[7] ^= label; /* label << 48 within the 112-bit x, which sits at IV bits 16..127 */
	ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, mkey, iv) &&
		EVP_EncryptUpdate(c, out, &n, zeros, len) && n == len;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -EIO;
}

int srtp_fast_init_session(struct srtp_fast *s, const uint8_t rtp_key[SRTP_FAST_KEY_LEN],
	const uint8_t rtp_salt[SRTP_FAST_SALT_LEN], const uint8_t rtcp_key[SRTP_FAST_KEY_LEN],
	const uint8_t rtcp_salt[SRTP_FAST_SALT_LEN], bool inbound)
{
	int rc;

	memset(s, 0, sizeof(*s));
	s->inbound = inbound;
	if ((rc = key_init(&s->rtp, rtp_key, rtp_salt, inbound)) ||
		(rc = key_init(&s->rtcp, rtcp_key, rtcp_salt, inbound))) {
		srtp_fast_free(s);
		return rc;
	}
	return 0;
}

int srtp_fast_init(struct srtp_fast *s, const uint8_t master_key[SRTP_FAST_KEY_LEN],
	const uint8_t master_salt[SRTP_FAST_SALT_LEN], bool inbound)
{
	uint8_t k[2][SRTP_FAST_KEY_LEN], salt[2][SRTP_FAST_SALT_LEN];
	int rc;

	if ((rc = kdf(master_key, master_salt, 0x00, k[0], sizeof(k[0]))) ||
		(rc = kdf(master_key, master_salt, 0x02, salt[0], sizeof(salt[0]))) ||
		(rc = kdf(master_key, master_salt, 0x03, k[1], sizeof(k[1]))) ||
		(rc = kdf(master_key, master_salt, 0x05, salt[1], sizeof(salt[1]))))
		memset(s, 0, sizeof(*s));
	else
		rc = srtp_fast_init_session(s, k[0], salt[0], k[1], salt[1], inbound);
	OPENSSL_cleanse(k, sizeof(k));
	OPENSSL_cleanse(salt, sizeof(salt));
	return rc;
}

void srtp_fast_free(struct srtp_fast *s)
{
	key_free(&s->rtp);
	key_free(&s->rtcp);
	memset(s, 0, sizeof(*s));
}

/* --- streams and replay windows --- */

static inline int stream_find(const struct srtp_fast *s, uint32_t ssrc)
{
	for (unsigned int i = 0; i < s->n_streams; i++)
		if (s->ssrc[i] == ssrc)
			return (int)i;
	return -1;
}

/* A stream is added only once a packet for it has authenticated: forged SSRCs fill nothing. */
static struct srtp_fast_stream *stream_add(struct srtp_fast *s, uint32_t ssrc)
{
	struct srtp_fast_stream *st = &s->st[s->n_streams];

	memset(st, 0, sizeof(*st));
	s->ssrc[s->n_streams++] = ssrc;
	return st;
}

static inline bool win_bit(const uint64_t *w, unsigned int bits, uint64_t i)
{
	i %= bits;
	return w[i / 64] >> (i % 64) & 1;
}

/* 0 when @idx may be accepted given the window ending at @top (nothing seen: anything may). */
static inline int win_check(const uint64_t *w, unsigned int bits, bool seen, uint64_t top,
	uint64_t idx)
{
	if (!seen || idx > top)
		return 0;
	if (top - idx >= bits)
		return SRTP_FAST_E_OLD;
	return win_bit(w, bits, idx) ? SRTP_FAST_E_REPLAY : 0;
}

/* Marks @idx seen, moving the window when it is ahead: the ring's bits for the indexes
 * skipped over belonged to indexes now behind the window, so they are cleared. */
static inline void win_add(uint64_t *w, unsigned int bits, bool *seen, uint64_t *top, uint64_t idx)
{
	if (!*seen) {
		memset(w, 0, bits / 8);
		*top = idx;
		*seen = true;
	} else if (idx > *top) {
		if (idx - *top >= bits)
			memset(w, 0, bits / 8);
		else
			for (uint64_t i = *top + 1; i < idx; i++)
				w[(i % bits) / 64] &= ~(1ull << (i % 64));
		*top = idx;
	}
	idx %= bits;
	w[idx / 64] |= 1ull << (idx % 64);
}

static inline uint64_t rtp_index(const struct srtp_fast_stream *st, uint16_t seq)
{
	return srtp_fast_index(st->rtp_top, st->rtp_seen, seq);
}

/* --- RTP --- */

/* Header length with CSRCs and extension, or -EINVAL if it does not fit @len before a tag. */
static inline int rtp_hdr_len(const uint8_t *p, int len, int tag)
{
	int h = RTP_HDR + 4 * (p[0] & 0x0f);

	if (len < RTP_HDR + tag || (p[0] & 0xc0) != 0x80)
		return -EINVAL;
	if (p[0] & 0x10) {
		if (h + 4 > len - tag)
			return -EINVAL;
		h += 4 + 4 * edge_be16(p + h + 2);
	}
	return h <= len - tag ? h : -EINVAL;
}

/* RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt. */
static inline void rtp_iv(uint8_t iv[12], const uint8_t salt[12], uint32_t ssrc, uint64_t idx)
{
	iv[0] = salt[0];
	iv[1] = salt[1];
	edge_put_be32(iv + 2, edge_be32(salt + 2) ^ ssrc);
	edge_put_be32(iv + 6, edge_be32(salt + 6) ^ (uint32_t)(idx >> 16));
	iv[10] = salt[10] ^ (uint8_t)(idx >> 8);
	iv[11] = salt[11] ^ (uint8_t)idx;
}

static inline int protect_rtp(struct srtp_fast *s, uint8_t *pkt, int *len, bool again);

int srtp_fast_protect(struct srtp_fast *s, uint8_t *pkt, int *len)
{
	return protect_rtp(s, pkt, len, false);
}

int srtp_fast_protect_again(struct srtp_fast *s, uint8_t *pkt, int *len)
{
	return protect_rtp(s, pkt, len, true);
}

static inline int protect_rtp(struct srtp_fast *s, uint8_t *pkt, int *len, bool again)
{
	int h = rtp_hdr_len(pkt, *len, 0), i, rc;
	uint32_t ssrc;
	struct srtp_fast_stream *st;
	uint64_t idx;
	uint8_t iv[12];

	if (h < 0)
		return h;
	ssrc = edge_be32(pkt + 8);
	if ((i = stream_find(s, ssrc)) >= 0)
		st = &s->st[i];
	else if (s->n_streams < SRTP_FAST_MAX_STREAMS)
		st = stream_add(s, ssrc);
	else
		return SRTP_FAST_E_STREAMS;
	idx = rtp_index(st, edge_be16(pkt + 2));
	/* the window holds what was sent: an index once, never twice (one nonce, one packet);
	 * a repeat or what is too old to place is refused, but for a retransmission of the
	 * very same packet (@again: the same nonce over the same bytes gives the same bytes) */
	rc = win_check(st->rtp_win, SRTP_FAST_RTP_WINDOW, st->rtp_seen, st->rtp_top, idx);
	if (rc && !(again && rc == SRTP_FAST_E_REPLAY))
		return rc;
	rtp_iv(iv, s->rtp.salt, ssrc, idx);
	rc = key_aead(&s->rtp, true, iv, pkt, (size_t)h, NULL, pkt + h, (size_t)(*len - h),
		pkt + *len);
	if (rc)
		return rc;
	win_add(st->rtp_win, SRTP_FAST_RTP_WINDOW, &st->rtp_seen, &st->rtp_top, idx);
	*len += TAG;
	return 0;
}

int srtp_fast_unprotect(struct srtp_fast *s, uint8_t *pkt, int *len)
{
	int h = rtp_hdr_len(pkt, *len, TAG), i, rc;
	struct srtp_fast_stream fresh, *st;
	uint32_t ssrc;
	uint64_t idx;
	uint8_t iv[12];

	if (h < 0)
		return h;
	ssrc = edge_be32(pkt + 8);
	if ((i = stream_find(s, ssrc)) >= 0) {
		st = &s->st[i];
	} else {
		if (s->n_streams >= SRTP_FAST_MAX_STREAMS)
			return SRTP_FAST_E_STREAMS;
		st = &fresh;
		st->rtp_top = 0;
		st->rtp_seen = false;
	}
	idx = rtp_index(st, edge_be16(pkt + 2));
	if ((rc = win_check(st->rtp_win, SRTP_FAST_RTP_WINDOW, st->rtp_seen, st->rtp_top, idx)))
		return rc;
	rtp_iv(iv, s->rtp.salt, ssrc, idx);
	rc = key_aead(&s->rtp, false, iv, pkt, (size_t)h, NULL, pkt + h, (size_t)(*len - h - TAG),
		pkt + *len - TAG);
	if (rc)
		return rc;
	if (st == &fresh)
		st = stream_add(s, ssrc);
	win_add(st->rtp_win, SRTP_FAST_RTP_WINDOW, &st->rtp_seen, &st->rtp_top, idx);
	*len -= TAG;
	return 0;
}

/* --- RTCP (RFC 7714 9, 17): [header 8][payload][tag 16][E | index 31] --- */

/* RFC 7714 9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt. */
static inline void rtcp_iv(uint8_t iv[12], const uint8_t salt[12], uint32_t ssrc, uint32_t idx)
{
	iv[0] = salt[0];
	iv[1] = salt[1];
	edge_put_be32(iv + 2, edge_be32(salt + 2) ^ ssrc);
	iv[6] = salt[6];
	iv[7] = salt[7];
	edge_put_be32(iv + 8, edge_be32(salt + 8) ^ idx);
}

int srtp_fast_protect_rtcp(struct srtp_fast *s, uint8_t *pkt, int *len)
{
	struct srtp_fast_stream *st;
	uint32_t ssrc, idx;
	uint8_t iv[12], word[4];
	int i, rc;

	if (*len < RTCP_HDR || (pkt[0] & 0xc0) != 0x80)
		return -EINVAL;
	ssrc = edge_be32(pkt + 4);
	if ((i = stream_find(s, ssrc)) >= 0)
		st = &s->st[i];
	else if (s->n_streams < SRTP_FAST_MAX_STREAMS)
		st = stream_add(s, ssrc);
	else
		return SRTP_FAST_E_STREAMS;
	idx = st->rtcp_top; /* RFC 3711 3.4: the first is 0 */
	if (idx > 0x7fffffff)
		return SRTP_FAST_E_INDEX;
	edge_put_be32(word, 0x80000000u | idx); /* E: always encrypted */
	rtcp_iv(iv, s->rtcp.salt, ssrc, idx);
	rc = key_aead(&s->rtcp, true, iv, pkt, RTCP_HDR, word, pkt + RTCP_HDR,
		(size_t)(*len - RTCP_HDR), pkt + *len);
	if (rc)
		return rc;
	memcpy(pkt + *len + TAG, word, 4);
	st->rtcp_top = idx + 1;
	*len += TAG + 4;
	return 0;
}

int srtp_fast_unprotect_rtcp(struct srtp_fast *s, uint8_t *pkt, int *len)
{
	struct srtp_fast_stream fresh, *st;
	uint32_t ssrc, word, idx;
	int i, rc, body;
	uint8_t iv[12];
	uint64_t top;

	if (*len < RTCP_HDR + TAG + 4 || (pkt[0] & 0xc0) != 0x80)
		return -EINVAL;
	ssrc = edge_be32(pkt + 4);
	word = edge_be32(pkt + *len - 4);
	idx = word & 0x7fffffff;
	body = *len - 4 - TAG; /* header and payload */
	if ((i = stream_find(s, ssrc)) >= 0) {
		st = &s->st[i];
	} else {
		if (s->n_streams >= SRTP_FAST_MAX_STREAMS)
			return SRTP_FAST_E_STREAMS;
		st = &fresh;
		st->rtcp_seen = false;
		st->rtcp_top = 0;
	}
	if ((rc = win_check(st->rtcp_win, SRTP_FAST_RTCP_WINDOW, st->rtcp_seen, st->rtcp_top, idx)))
		return rc;
	rtcp_iv(iv, s->rtcp.salt, ssrc, idx);
	if (word & 0x80000000u) /* encrypted: AAD is the header and the E|index word */
		rc = key_aead(&s->rtcp, false, iv, pkt, RTCP_HDR, pkt + *len - 4, pkt + RTCP_HDR,
			(size_t)(body - RTCP_HDR), pkt + body);
	else /* authenticated only: AAD is the whole packet and the word */
		rc = key_aead(&s->rtcp, false, iv, pkt, (size_t)body, pkt + *len - 4, pkt, 0,
			pkt + body);
	if (rc)
		return rc;
	if (st == &fresh)
		st = stream_add(s, ssrc);
	top = st->rtcp_top;
	win_add(st->rtcp_win, SRTP_FAST_RTCP_WINDOW, &st->rtcp_seen, &top, idx);
	st->rtcp_top = (uint32_t)top;
	*len = body;
	return 0;
}
