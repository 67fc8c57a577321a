/* The SFU's tables: which 5-tuple is which meeting leg, its SRTP contexts, and whom its
 * media goes to. The data plane forwards a leg's SRTP/SRTCP with nothing else.
 *
 * media_tab_current: written by the control plane only (the media server, on the control
 * loop's thread), published whole with edge_rcu_publish() whenever a leg is connected,
 * renegotiated, muted or ended; read lock-free by workers. A published media_tab and its
 * legs are immutable. The SRTP contexts they point to are not: a context is owned by ONE
 * worker, the one RSS gives the source leg's 5-tuple to (a leg's packets always arrive on
 * one queue), which is the only lcore that ever calls srtp_* on it:
 *   - leg->rx          the leg's inbound context: unprotects what the leg sends;
 *   - leg->out[i].tx   an outbound context keyed with the RECEIVER's key, made for this
 *                      source only: protects what this leg's packets become for out[i].
 * So two senders never share a context even when they reach the same receiver, and a
 * context keeps its replay window and rollover counter across table versions (the control
 * plane copies the pointer, never the context). The control plane frees a context only
 * after a grace period following the table that last named it.
 *
 * Per-leg counters live in per-lcore arrays indexed by the leg's slot (media_lcore),
 * summed on read. */
#ifndef EDGE_MEDIA_TABLES_H
#define EDGE_MEDIA_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_config.h>
#include <srtp2/srtp.h>

#include "edge_limits.h"

#define MEDIA_MAX_LEGS 1024	/* legs the data plane knows at once */
#define MEDIA_MAX_OUT 24	/* receivers of one source (a meeting of 25) */
#define MEDIA_MAX_PORTS 8	/* media ports (one per media interface) */
#define MEDIA_INDEX_SIZE (4 * MEDIA_MAX_LEGS)	/* open addressing, power of two */
/* what libsrtp appends: a 16-byte tag (GCM) or 10 (HMAC-SHA1-80), plus SRTCP's index */
#define MEDIA_SRTP_TRAILER 32

struct media_out {
	srtp_t tx;			/* the receiver's key, this source's stream: see above */
	uint16_t dst;			/* the receiver's slot */
	bool fwd_audio, fwd_video;	/* the receiver takes this source's audio / video now
					 * (it has a slot for it and the source is not muted) */
	uint32_t dst_audio_ssrc;	/* the receiver's own streams: RTCP from this source */
	uint32_t dst_video_ssrc;	/* naming them goes to the receiver */
	uint8_t pt_map[128];		/* this source's payload type -> the receiver's, 0xff: none */
};

struct media_leg {
	uint16_t slot;
	uint8_t ifi;			/* where the leg's packets arrive and leave */
	uint8_t mac[6];			/* next hop towards the remote end */
	uint32_t local_ip, remote_ip;	/* network order */
	uint16_t local_port, remote_port;	/* network order */
	srtp_t rx;
	uint32_t audio_ssrc, video_ssrc;	/* what the leg sends (0: nothing) */
	uint8_t n_out;
	struct media_out out[MEDIA_MAX_OUT];
};

struct media_tab {
	uint16_t index[MEDIA_INDEX_SIZE];	/* slot + 1 by hash of the 5-tuple; 0 = empty */
	uint32_t seed;
	struct media_leg *legs[MEDIA_MAX_LEGS];	/* by slot; NULL = none */
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

/* One leg's traffic on one lcore: written by that lcore only. */
struct media_lcore_leg {
	uint64_t rx_pkts, rx_bytes;	/* SRTP/SRTCP received and authenticated */
	uint64_t tx_pkts, tx_bytes;	/* sent to this leg (it is the receiver) */
	uint64_t auth_fail;		/* unprotect failed: wrong key, tampered */
	uint64_t replay;		/* replayed or too old */
	uint64_t keyframe_req;		/* PLI/FIR it sent that reached a sender */
	uint64_t last_pli;		/* TSC: the last key-frame request sent TO this leg */
} __attribute__((aligned(64)));

/* [lcore id][leg slot], each allocated by media_tables_add_lcore() before that lcore
 * forwards (NULL: it does not). */
extern struct media_lcore_leg *media_lcore[RTE_MAX_LCORE];

int media_tables_add_lcore(unsigned int lcore);
/* Sums slot @slot over the lcores into @out (last_pli: the latest). */
void media_leg_counters(uint16_t slot, struct media_lcore_leg *out);
/* Zeroes slot @slot on every lcore: the writer calls it for a slot no published table has
 * named for a grace period (a new leg starts from zero). */
void media_leg_counters_reset(uint16_t slot);
void media_tables_fini(void);	/* every reader gone */

#endif
