/* SRTP and SRTCP with AEAD_AES_128_GCM (RFC 7714) for the SFU's fast path: keys scheduled once
 * per context, per packet only the IV changes, no heap and no lock. Interoperates with libsrtp2.
 *
 * One context per direction of a leg (or per receiver and source, as libsrtp contexts are used):
 * a context is written by exactly one lcore, the one that owns the leg; nothing in it is shared.
 * The struct must not move after srtp_fast_init (OpenSSL's GCM state points into it). */
#ifndef EDGE_SRTP_FAST_H
#define EDGE_SRTP_FAST_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SRTP_FAST_KEY_LEN 16
#define SRTP_FAST_SALT_LEN 12
#define SRTP_FAST_TAG_LEN 16
/* room a caller must leave after the packet for protect: the tag, plus SRTCP's E|index word */
#define SRTP_FAST_RTP_TRAILER SRTP_FAST_TAG_LEN
#define SRTP_FAST_RTCP_TRAILER (SRTP_FAST_TAG_LEN + 4)
/* SSRCs per context. The SFU checks a packet's SSRC against the leg's announced audio and video
 * SSRCs before it unprotects (sfu.h), so an inbound context (per leg) and an outbound one (per
 * receiver and source) each see at most those two at a time; the rest is room for SSRCs that
 * change on renegotiation. A context never frees a stream: a new SSRC past this is refused. */
#define SRTP_FAST_MAX_STREAMS 8
/* libwebrtc's inbound window: video retransmissions arrive up to ~1000 packets late */
#define SRTP_FAST_RTP_WINDOW 1024
#define SRTP_FAST_RTCP_WINDOW 128 /* libsrtp's */

/* Errors beside -EINVAL (malformed, too short): what the data plane counts separately. */
#define SRTP_FAST_E_AUTH (-EBADMSG)    /* the tag does not verify: wrong key or tampered */
#define SRTP_FAST_E_REPLAY (-EALREADY) /* this index was already accepted */
#define SRTP_FAST_E_OLD (-ESTALE)      /* behind the replay window */
#define SRTP_FAST_E_STREAMS (-ENOSPC)  /* a new SSRC, and the context has SRTP_FAST_MAX_STREAMS */
#define SRTP_FAST_E_INDEX (-EOVERFLOW) /* SRTCP index exhausted (2^31): rekey */

static inline bool srtp_fast_is_replay(int rc)
{
	return rc == SRTP_FAST_E_REPLAY || rc == SRTP_FAST_E_OLD;
}

/* One session key: AES round keys and OpenSSL's GHASH state bound to them. */
struct srtp_fast_key {
	_Alignas(16) uint8_t rk[256]; /* AES-NI round keys, or OpenSSL's AES_KEY without AES-NI */
	void *gcm;		      /* GCM128_CONTEXT */
	/* OpenSSL's ctr128_f: our AES-NI CTR, NULL without AES-NI */
	void (*ctr)(const unsigned char *in, unsigned char *out, size_t blocks, const void *key,
		const unsigned char ivec[16]);
	uint8_t salt[SRTP_FAST_SALT_LEN];
};

/* Per SSRC. The replay windows are rings: bit (index % W) says whether index was seen, for
 * indexes in (top - W, top]; moving top by one clears one bit, not a shift of W bits. */
struct srtp_fast_stream {
	uint64_t rtp_top;  /* highest RTP index accepted or sent: ROC << 16 | SEQ */
	uint32_t rtcp_top; /* inbound: highest SRTCP index accepted; outbound: next to send */
	bool rtp_seen, rtcp_seen;
	uint64_t rtp_win[SRTP_FAST_RTP_WINDOW / 64];
	uint64_t rtcp_win[SRTP_FAST_RTCP_WINDOW / 64];
};

struct srtp_fast {
	struct srtp_fast_key rtp, rtcp;
	bool inbound;
	unsigned int n_streams;
	uint32_t ssrc[SRTP_FAST_MAX_STREAMS]; /* host order; linear search, hot in one line */
	struct srtp_fast_stream st[SRTP_FAST_MAX_STREAMS];
};

/* From the DTLS-SRTP master key and salt: session keys by RFC 3711's AES-CM KDF (rate 0).
 * @inbound: the context unprotects (and keeps replay windows); else it protects. */
int srtp_fast_init(struct srtp_fast *s, const uint8_t master_key[SRTP_FAST_KEY_LEN],
	const uint8_t master_salt[SRTP_FAST_SALT_LEN], bool inbound);
/* With session keys given directly (RFC 7714's test vectors are stated this way). */
int srtp_fast_init_session(struct srtp_fast *s, const uint8_t rtp_key[SRTP_FAST_KEY_LEN],
	const uint8_t rtp_salt[SRTP_FAST_SALT_LEN], const uint8_t rtcp_key[SRTP_FAST_KEY_LEN],
	const uint8_t rtcp_salt[SRTP_FAST_SALT_LEN], bool inbound);
void srtp_fast_free(struct srtp_fast *s);

/* In place. Protect appends the trailer (the caller leaves SRTP_FAST_*_TRAILER bytes of room)
 * and grows *len; unprotect checks, decrypts, strips it and shrinks *len. Protect refuses an
 * RTP index it protected before (one nonce, one packet) and one behind the window;
 * protect_again accepts the first kind: only for the very same packet again, byte for byte
 * (a retransmission from the SFU's cache, as libsrtp's allow_repeat_tx), which gives the very
 * same bytes. On any error on unprotect the packet's payload may be overwritten: drop it. */
int srtp_fast_protect(struct srtp_fast *s, uint8_t *pkt, int *len);
int srtp_fast_protect_again(struct srtp_fast *s, uint8_t *pkt, int *len);
/* RFC 3711 Appendix A's index estimate for @seq in a stream whose highest index so far is
 * @top (@seen false: none yet), in libsrtp's exact form: until the stream passes index 2^15
 * the ROC is taken as 0 (a first packet at 0xfff0 must not look like ROC -1), and the tie at
 * distance 2^15 breaks as libsrtp breaks it, so both ends pick the same ROC. */
static inline uint64_t srtp_fast_index(uint64_t top, bool seen, uint16_t seq)
{
	uint16_t u = (uint16_t)(seq - (uint16_t)top);
	bool low_half = (top & 0xffff) < (1u << 15);
	int64_t d;

	if (!seen || top <= (1u << 15))
		return seq;
	if (u < (1u << 15))
		d = u;
	else if (u > (1u << 15))
		d = (int64_t)u - 65536;
	else /* the tie: ahead when the last SEQ is in the lower half */
		d = low_half ? u : (int64_t)u - 65536;
	return (uint64_t)((int64_t)top + d);
}
int srtp_fast_unprotect(struct srtp_fast *s, uint8_t *pkt, int *len);
int srtp_fast_protect_rtcp(struct srtp_fast *s, uint8_t *pkt, int *len);
int srtp_fast_unprotect_rtcp(struct srtp_fast *s, uint8_t *pkt, int *len);

#endif
