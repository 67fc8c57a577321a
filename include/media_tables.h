/* The SFU's tables: which 5-tuple is which meeting leg, its SRTP contexts, and whom its
 * media goes to. The data plane forwards a leg's SRTP/SRTCP with nothing else.
 *
 * media_tab_current: written by the control plane only (the media server, on the control
 * loop's thread), published whole with edge_rcu_publish() whenever a leg is connected,
 * renegotiated, muted or ended; read lock-free by workers. A published media_tab and its
 * legs are immutable. The SRTP contexts they point to are not: a context is owned by ONE
 * worker, the one RSS gives the source leg's 5-tuple to (a leg's packets always arrive on
 * one queue), which is the only lcore that ever calls media_srtp_(un)protect* on it:
 *   - leg->rx          the leg's inbound context: unprotects what the leg sends;
 *   - leg->out[i].tx   an outbound context keyed with the RECEIVER's key, made for this
 *                      source only: protects what this leg's packets become for out[i].
 * So two senders never share a context even when they reach the same receiver, and a
 * context keeps its replay window and rollover counter across table versions (the control
 * plane copies the pointer, never the context). The control plane frees a context only
 * after a grace period following the table that last named it.
 *
 * A context (struct media_srtp) is ours for AEAD_AES_128_GCM (dataplane/srtp_fast.c, about
 * a quarter of libsrtp2's cost per packet: bench/results/srtp.md) and libsrtp2's for
 * AES128_CM_SHA1_80; a table holds it by value (a tag and a pointer), the control plane
 * holds the allocation (media_srtp_new) and frees it (media_srtp_free) after the grace period.
 * The srtp_fast state is heap-allocated once and never moves (OpenSSL's GCM state points
 * into it). An srtp_fast context holds SRTP_FAST_MAX_STREAMS SSRCs: the fast path checks a
 * packet's SSRC against the leg's announced ones BEFORE unprotecting it (sfu.h), so a
 * context only ever sees a source's announced audio and video SSRCs.
 *
 * Per-leg counters live in per-lcore arrays indexed by the leg's slot (media_lcore),
 * summed on read. */
#ifndef EDGE_MEDIA_TABLES_H
#define EDGE_MEDIA_TABLES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_config.h>
#include <srtp2/srtp.h>

#include "edge_bytes.h"
#include "edge_limits.h"
#include "../dataplane/srtp_fast.h"
#include "../dataplane/rtcp_rr.h"
#include "../dataplane/rtx.h"
#include "../dataplane/simulcast.h"
#include "../dataplane/twcc.h"

#define MEDIA_MAX_LEGS 1024		      /* legs the data plane knows at once */
#define MEDIA_MAX_OUT 24		      /* receivers of one source (a meeting of 25) */
#define MEDIA_MAX_PORTS 8		      /* media ports (one per media interface) */
#define MEDIA_INDEX_SIZE (4 * MEDIA_MAX_LEGS) /* open addressing, power of two */
_Static_assert(SIM_RECEIVERS == MEDIA_MAX_LEGS, "a simulcast source's receivers by slot");
/* what protect appends: a 16-byte tag (GCM) or 10 (HMAC-SHA1-80), plus SRTCP's index */
#define MEDIA_SRTP_TRAILER 32
_Static_assert(SRTP_FAST_RTCP_TRAILER <= MEDIA_SRTP_TRAILER, "srtp_fast's trailer fits");

/* DTLS-SRTP protection profiles (RFC 5764, RFC 7714 ids, as media_dtls.h reports them) */
#define MEDIA_SRTP_AES128_CM_SHA1_80 1
#define MEDIA_SRTP_AEAD_AES_128_GCM 7
/* media_srtp_new() flags: libsrtp2 for GCM as well (benchmarks and interop tests) */
#define MEDIA_SRTP_LIBSRTP 1u

/* One SRTP/SRTCP context as the fast path uses it: which implementation, and its state. */
struct media_srtp {
	bool fast; /* srtp_fast (GCM), else libsrtp2 */
	union {
		struct srtp_fast *f;
		srtp_t lib;
	};
};

/* What an (un)protect came to: all the fast path tells apart. */
enum media_srtp_rc {
	MEDIA_SRTP_OK,
	MEDIA_SRTP_AUTH,   /* the tag does not verify: wrong key, tampered */
	MEDIA_SRTP_REPLAY, /* index already accepted, or behind the window */
	MEDIA_SRTP_OTHER,  /* too short, malformed header, no room for a new SSRC, ... */
};

/* A context for @profile from the DTLS-exported master @key (16 bytes) and @salt (14 for
 * AES-CM, 12 for GCM); @inbound unprotects (with a replay window of 1024), else it protects
 * and protects a repeated index again (forwarded retransmissions). Heap-allocated, never
 * moves. libsrtp2 must be initialised (srtp_init). 0 or a negative errno. */
int media_srtp_new(struct media_srtp **out, int profile, const uint8_t *key, const uint8_t *salt,
	bool inbound, unsigned int flags);
void media_srtp_free(struct media_srtp *s); /* NULL: nothing */

static inline enum media_srtp_rc media_srtp_fast_rc(int rc)
{
	if (__builtin_expect(rc == 0, 1))
		return MEDIA_SRTP_OK;
	if (rc == SRTP_FAST_E_AUTH)
		return MEDIA_SRTP_AUTH;
	return srtp_fast_is_replay(rc) ? MEDIA_SRTP_REPLAY : MEDIA_SRTP_OTHER;
}

static inline enum media_srtp_rc media_srtp_lib_rc(srtp_err_status_t e)
{
	if (__builtin_expect(e == srtp_err_status_ok, 1))
		return MEDIA_SRTP_OK;
	if (e == srtp_err_status_auth_fail)
		return MEDIA_SRTP_AUTH;
	if (e == srtp_err_status_replay_fail || e == srtp_err_status_replay_old)
		return MEDIA_SRTP_REPLAY;
	return MEDIA_SRTP_OTHER;
}

/* In place, as srtp_(un)protect(_rtcp): one branch on the implementation, which is the same
 * for every packet of a leg (the predictor learns it). */
static inline enum media_srtp_rc media_srtp_unprotect(const struct media_srtp *c, void *p, int *n)
{
	if (c->fast)
		return media_srtp_fast_rc(srtp_fast_unprotect(c->f, p, n));
	return media_srtp_lib_rc(srtp_unprotect(c->lib, p, n));
}

static inline enum media_srtp_rc media_srtp_unprotect_rtcp(const struct media_srtp *c, void *p,
	int *n)
{
	if (c->fast)
		return media_srtp_fast_rc(srtp_fast_unprotect_rtcp(c->f, p, n));
	return media_srtp_lib_rc(srtp_unprotect_rtcp(c->lib, p, n));
}

static inline enum media_srtp_rc media_srtp_protect(const struct media_srtp *c, void *p, int *n)
{
	if (c->fast)
		return media_srtp_fast_rc(srtp_fast_protect(c->f, p, n));
	return media_srtp_lib_rc(srtp_protect(c->lib, p, n));
}

/* The very same RTP packet again, byte for byte (srtp_fast_protect_again): srtp_fast only;
 * libsrtp2's contexts refuse a repeated index (allow_repeat_tx 0): MEDIA_SRTP_OTHER. */
static inline enum media_srtp_rc media_srtp_protect_again(const struct media_srtp *c, void *p,
	int *n)
{
	if (c->fast)
		return media_srtp_fast_rc(srtp_fast_protect_again(c->f, p, n));
	return MEDIA_SRTP_OTHER;
}

static inline enum media_srtp_rc media_srtp_protect_rtcp(const struct media_srtp *c, void *p,
	int *n)
{
	if (c->fast)
		return media_srtp_fast_rc(srtp_fast_protect_rtcp(c->f, p, n));
	return media_srtp_lib_rc(srtp_protect_rtcp(c->lib, p, n));
}

struct media_out {
	struct media_srtp tx;	   /* the receiver's key, this source's stream (above) */
	uint16_t dst;		   /* the receiver's slot */
	bool fwd_audio, fwd_video; /* the receiver takes this source's audio / video now
					 * (it has a slot for it and the source is not muted) */
	bool takes;		   /* it has a slot for this source (muted or not) */
	uint32_t dst_audio_ssrc;   /* the receiver's own streams: RTCP from this source */
	uint32_t dst_video_ssrc;   /* naming them goes to the receiver */
	uint8_t pt_map[128];	   /* this source's payload type -> the receiver's, 0xff: none */
	uint32_t sim_serial;	   /* the receiver leg's serial (a simulcast source's state for
				    * the receiver's slot is for this leg: simulcast.h) */
};

struct media_leg {
	uint16_t slot;
	uint8_t ifi;			  /* where the leg's packets arrive and leave */
	uint8_t mac[6];			  /* next hop towards the remote end */
	bool v6;			  /* its 5-tuple is IPv6: local_ip6, remote_ip6 (below) */
	uint32_t local_ip, remote_ip;	  /* network order; 0 for an IPv6 leg */
	uint16_t local_port, remote_port; /* network order */
	struct media_srtp rx;		  /* copied from the control plane's media_srtp_new() */
	uint32_t audio_ssrc, video_ssrc;  /* what the leg sends (0: nothing) */
	/* bumped by the control plane whenever a receiver's pt_map may differ from the last
	 * table's: a kept packet is resent only under the generation it was sent in, so that a
	 * retransmission is the very same bytes under the same index (media_srtp_protect_again) */
	uint32_t rtx_gen;
	uint8_t level_ext; /* its audio level's extension id (RFC 6464, 1..14; 0: none) */
	uint8_t vp8_pt;	   /* its VP8 payload type (picture sizes are read from key frames) */
	/* transport-cc: the one-byte header extension id (1..14) of the transport-wide sequence
	 * number its packets carry (0: none, no transport-cc feedback). twcc_ssrc is our RTCP
	 * sender SSRC in all the feedback we send it (transport-cc, NACKs, receiver reports;
	 * 0: we send none), and twcc_tx the context that protects that feedback: keyed with
	 * THIS leg's key (it receives it), for twcc_ssrc only, made once with the leg's keys
	 * and owned by the leg's worker like rx (no source's context toward this leg numbers
	 * twcc_ssrc: the media server refuses a leg that announces it) */
	uint8_t twcc_ext;
	uint32_t twcc_ssrc;
	struct media_srtp twcc_tx;
	/* its video kept for receivers' NACKs and its uplink's losses awaited (rtx.h):
	 * media_rtx[slot], owned by the leg's worker like rx; NULL: it sends no video */
	struct rtx_stream *rtx;
	/* simulcast (simulcast.h): its video comes as n_layers layers (0: one stream, video_ssrc)
	 * named rid[] in the rtp-stream-id extension rid_ext; their SSRCs are learnt into
	 * media_sim[slot] (sim), and each receiver is sent one layer as video_ssrc (ours) */
	bool remb; /* it has no transport-cc: our receiver reports carry REMB (media_remb_bps) */
	uint8_t n_layers, rid_ext;
	char rid[SIM_LAYERS][SIM_RID_LEN];
	struct sim_stream *sim;
	uint8_t n_out;
	struct media_out out[MEDIA_MAX_OUT];
	/* an IPv6 leg's addresses (v6), network order: past the hot lines, read for its own
	 * lookups and for the headers of what it receives (all zero for an IPv4 leg) */
	uint8_t local_ip6[16], remote_ip6[16];
};

struct media_tab {
	uint16_t index[MEDIA_INDEX_SIZE]; /* slot + 1 by hash of the 5-tuple; 0 = empty */
	uint32_t seed;
	uint64_t key6[4]; /* media_hash6's key (random per table, like seed) */
	struct media_leg *legs[MEDIA_MAX_LEGS]; /* by slot; NULL = none */
	unsigned int n_legs;
};

extern struct media_tab *media_tab_current;

static inline uint32_t media_hash(uint32_t seed, uint32_t rip, uint16_t rport, uint32_t lip,
	uint16_t lport)
{
	uint64_t h = ((uint64_t)rip << 32 | (uint64_t)rport << 16 | lport) ^ seed;

	h ^= (uint64_t)lip * 0x9e3779b97f4a7c15ull;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

/* The leg whose remote end is (@rip, @rport) on our (@lip, @lport); NULL when none. */
static inline const struct media_leg *media_lookup(const struct media_tab *t, uint32_t rip,
	uint16_t rport, uint32_t lip, uint16_t lport)
{
	uint32_t i = media_hash(t->seed, rip, rport, lip, lport);

	for (unsigned int probe = 0; probe < MEDIA_INDEX_SIZE; probe++, i++) {
		uint16_t s = t->index[i & (MEDIA_INDEX_SIZE - 1)];
		const struct media_leg *l;

		if (!s)
			return NULL;
		l = t->legs[s - 1];
		if (l->remote_ip == rip && l->remote_port == rport && l->local_ip == lip &&
			l->local_port == lport)
			return l;
	}
	return NULL;
}

/* The high and low halves of the 128-bit product of @a and @b, folded. */
static inline uint64_t media_mum(uint64_t a, uint64_t b)
{
	unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* An IPv6 5-tuple's slot in the index: a keyed hash of both addresses (NH-style: each
 * 64-bit half of an address xored with its word of @key, multiplied in pairs), then the
 * ports, finished as media_hash. The key is secret and random per table (media_server.c):
 * a guest who does not know it cannot aim addresses at one chain of the index. */
static inline uint32_t media_hash6(const uint64_t key[4], uint32_t seed, const uint8_t rip[16],
	uint16_t rport, const uint8_t lip[16], uint16_t lport)
{
	uint64_t r0, r1, l0, l1, h;

	memcpy(&r0, rip, 8);
	memcpy(&r1, rip + 8, 8);
	memcpy(&l0, lip, 8);
	memcpy(&l1, lip + 8, 8);
	h = media_mum(r0 ^ key[0], r1 ^ key[1]) ^ media_mum(l0 ^ key[2], l1 ^ key[3]);
	h ^= ((uint64_t)rport << 16 | lport) ^ ((uint64_t)seed << 32);
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

/* media_lookup for an IPv6 5-tuple (addresses of 16 bytes, network order). The same index:
 * an IPv4 leg never matches (its v6 is off), nor an IPv6 one media_lookup (its IPv4
 * addresses are 0, never the media port's address). */
static inline const struct media_leg *media_lookup6(const struct media_tab *t,
	const uint8_t rip[16], uint16_t rport, const uint8_t lip[16], uint16_t lport)
{
	uint32_t i = media_hash6(t->key6, t->seed, rip, rport, lip, lport);

	for (unsigned int probe = 0; probe < MEDIA_INDEX_SIZE; probe++, i++) {
		uint16_t s = t->index[i & (MEDIA_INDEX_SIZE - 1)];
		const struct media_leg *l;

		if (!s)
			return NULL;
		l = t->legs[s - 1];
		if (l->v6 && l->remote_port == rport && l->local_port == lport &&
			edge_ip6_eq(l->remote_ip6, rip) && edge_ip6_eq(l->local_ip6, lip))
			return l;
	}
	return NULL;
}

/* Where leg @l goes in @t's index: media_hash or media_hash6 of its 5-tuple. */
static inline uint32_t media_leg_hash(const struct media_tab *t, const struct media_leg *l)
{
	return l->v6 ?
		media_hash6(t->key6, t->seed, l->remote_ip6, l->remote_port, l->local_ip6,
			l->local_port) :
		media_hash(t->seed, l->remote_ip, l->remote_port, l->local_ip, l->local_port);
}

/* One leg's traffic on one lcore: written by that lcore only. What every packet touches
 * (rx_*, tx_*) shares the first cache line; the key-frame fields are rare. */
struct media_lcore_leg {
	uint64_t rx_pkts, rx_bytes; /* SRTP/SRTCP received and authenticated */
	/* of those, its audio SSRC's (its video: the rest) */
	uint64_t rx_audio_pkts, rx_audio_bytes;
	uint64_t tx_pkts, tx_bytes; /* sent to this leg (it is the receiver) */
	uint64_t auth_fail;	    /* unprotect failed: wrong key, tampered */
	uint64_t replay;	    /* replayed or too old */
	uint64_t keyframe_req;	    /* PLI/FIR it sent that reached a sender */
	uint64_t last_pli;	    /* TSC: the last key-frame request sent TO this leg */
	/* NACKs it sent as a receiver (sfu_nack_*), on the lcore that served them */
	uint64_t nack_seqs;   /* sequence numbers it asked for */
	uint64_t rtx_pkts;    /* of those, resent from a source's cache */
	uint64_t rtx_miss;    /* not kept (never sent, lost on the uplink, older than 1 s) */
	uint64_t rtx_refused; /* over its retransmission budget (and FCIs of one packet past
			       * SFU_NACK_FCI_MAX, one each) */
	uint32_t rtx_tokens;  /* the budget (SFU_RTX_PER_SEC), refilled at rtx_refill (ticks) */
	uint32_t rtx_refill;
	/* what its packets say (sfu_media_notes): its audio's loudness (the sum of 127 - level
	 * in -dBov, over the packets that carry one), frames of video sent (marker bits), its
	 * last VP8 key frame's size */
	uint64_t level_sum, level_pkts, voice_pkts;
	uint64_t video_frames;
	uint16_t width, height;
	/* its receiver reports about what we send it: the latest report block's fraction lost
	 * (/256) and interarrival jitter (RTP units: 48 kHz audio, 90 kHz video), per medium */
	uint8_t rr_lost[2]; /* [0] audio, [1] video */
	uint32_t rr_jitter[2];
	uint64_t rr_blocks;
	uint32_t rtt_ms; /* the round trip to it, from a report on a sender report we forwarded
			  * (LSR, DLSR: RFC 3550 6.4.1); 0: none yet */
} __attribute__((aligned(64)));

/* [lcore id][leg slot], each allocated by media_tables_add_lcore() before that lcore
 * forwards (NULL: it does not). */
extern struct media_lcore_leg *media_lcore[RTE_MAX_LCORE];

/* Per lcore: each leg's transport-wide arrivals (twcc.h), written by the lcore that owns the
 * leg (sfu_input records, sfu_twcc_tick reports), and the legs with arrivals not reported yet.
 * Apart from media_lcore so that its cache line stays what the per-packet counters need. */
struct media_twcc_lcore {
	struct rte_mempool *mp; /* where feedback comes from: the pool of the packets it reports */
	uint64_t next_tsc;	/* the next round of feedback */
	uint64_t pending[MEDIA_MAX_LEGS / 64];
	struct twcc_window w[MEDIA_MAX_LEGS];
};

extern struct media_twcc_lcore *media_twcc[RTE_MAX_LCORE];

/* A NACK received on one lcore for a stream another lcore owns, passed to that one: FCI @fci
 * (PID << 16 | BLP) from receiver slot @dst about source slot @src's SSRC @ssrc (checked
 * again where it is served: the slot may have been reused meanwhile). */
struct media_nack_req {
	uint16_t src, dst;
	uint32_t ssrc;
	uint32_t fci;
	uint32_t pad;
};

/* Per lcore: the NACK side of the SFU (sfu_nack_*). The ring is multi-producer (any lcore
 * that receives a NACK), single-consumer (this one, each pass). */
struct media_rtx_lcore {
	struct rte_mempool *mp; /* where retransmissions and NACKs come from */
	struct rte_ring *ring;	/* NACKs for the streams this lcore owns, from the others */
	uint64_t next_tsc;	/* the next round of NACKs to senders */
	uint64_t pending[MEDIA_MAX_LEGS / 64]; /* legs whose uplink awaits sequence numbers */
	uint64_t ring_full, ring_stale;	       /* requests dropped: no room; source gone */
};

extern struct media_rtx_lcore *media_rtx_lcore[RTE_MAX_LCORE];

/* Per lcore: what each leg's uplink delivered, per medium ([0] audio, [1] video), for our
 * receiver reports to it (rtcp_rr.h), written by the lcore that owns the leg. */
struct media_rr_lcore {
	uint64_t next_tsc;     /* the next round of reports */
	uint64_t clock_mul[2]; /* TSC -> 48 kHz, 90 kHz: (clock << 32) / TSC hz */
	uint64_t sent;	       /* reports sent */
	uint64_t remb;	       /* of those, with a REMB */
	struct rr_source s[MEDIA_MAX_LEGS][2];
};

extern struct media_rr_lcore *media_rr[RTE_MAX_LCORE];
/* By leg slot: allocated by the control plane (media_rtx_get) before a table names the slot,
 * kept for the slot's next legs (reset with its counters), freed by media_tables_fini(). */
extern struct rtx_stream *media_rtx[MEDIA_MAX_LEGS];

/* Slot @slot's stream, allocated on first use; NULL out of memory. Control plane only. */
struct rtx_stream *media_rtx_get(uint16_t slot);
/* By leg slot: the REMB our receiver reports to a leg without transport-cc carry (bits/s,
 * 0: none), the control plane's estimate of its uplink, one relaxed store a second. */
extern uint32_t media_remb_bps[MEDIA_MAX_LEGS];
/* By leg slot, like media_rtx: a simulcast leg's layers and its receivers' (simulcast.h), with
 * a cache for each of its first @layers layers; NULL out of memory. Control plane only. */
extern struct sim_stream *media_sim[MEDIA_MAX_LEGS];
struct sim_stream *media_sim_get(uint16_t slot, unsigned int layers);

/* By leg slot and medium ([0] audio, [1] video): the leg's last sender report as we forwarded
 * it, (NTP middle 32 bits) << 32 | (TSC >> 20, low 32 bits), one relaxed 64-bit store by the
 * lcore that owns the leg, read by any lcore whose receiver reports on it (the round trip). */
extern uint64_t media_sr_seen[MEDIA_MAX_LEGS][2];

/* The per-lcore arrays and ring for @lcore (the ring needs the EAL). */
int media_tables_add_lcore(unsigned int lcore);
/* The transport-cc feedback packets sent to slot @slot, summed over the lcores. */
uint64_t media_leg_twcc_sent(uint16_t slot);
/* Sums slot @slot over the lcores into @out (last_pli: the latest). */
void media_leg_counters(uint16_t slot, struct media_lcore_leg *out);
/* Zeroes slot @slot on every lcore (its transport-cc window too): the writer calls it for a
 * slot no published table has named for a grace period (a new leg starts from zero). */
void media_leg_counters_reset(uint16_t slot);
void media_tables_fini(void); /* every reader gone */

#endif
