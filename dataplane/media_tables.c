/* The SFU's per-lcore leg counters, the published table pointer, and the SRTP contexts the
 * control plane makes for it (media_tables.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "media_tables.h"

struct media_tab *media_tab_current;
struct media_lcore_leg *media_lcore[RTE_MAX_LCORE];
struct media_twcc_lcore *media_twcc[RTE_MAX_LCORE];
struct media_rtx_lcore *media_rtx_lcore[RTE_MAX_LCORE];
struct media_rr_lcore *media_rr[RTE_MAX_LCORE];
struct rtx_stream *media_rtx[MEDIA_MAX_LEGS];
struct sim_stream *media_sim[MEDIA_MAX_LEGS];
uint32_t media_remb_bps[MEDIA_MAX_LEGS];
uint64_t media_sr_seen[MEDIA_MAX_LEGS][2];

/* NACKs one lcore passes another between two of its passes: a burst of 32 packets each with
 * a few FCIs, from every other lcore, with room to spare */
#define MEDIA_NACK_RING 1024

int media_tables_add_lcore(unsigned int lcore)
{
	if (lcore >= RTE_MAX_LCORE)
		return -EINVAL;
	if (!media_lcore[lcore]) {
		media_lcore[lcore] =
			aligned_alloc(64, sizeof(struct media_lcore_leg) * MEDIA_MAX_LEGS);
		if (!media_lcore[lcore])
			return -ENOMEM;
		memset(media_lcore[lcore], 0, sizeof(struct media_lcore_leg) * MEDIA_MAX_LEGS);
	}
	if (!media_twcc[lcore]) {
		/* C11: the size a multiple of the alignment (ASan refuses it otherwise) */
		media_twcc[lcore] =
			aligned_alloc(64, (sizeof(struct media_twcc_lcore) + 63) & ~(size_t)63);
		if (!media_twcc[lcore])
			return -ENOMEM;
		memset(media_twcc[lcore], 0, sizeof(struct media_twcc_lcore));
	}
	if (!media_rtx_lcore[lcore]) {
		struct media_rtx_lcore *r = calloc(1, sizeof(*r));
		char name[RTE_RING_NAMESIZE];

		if (!r)
			return -ENOMEM;
		snprintf(name, sizeof(name), "media_nack_%u", lcore);
		r->ring = rte_ring_create_elem(name, sizeof(struct media_nack_req), MEDIA_NACK_RING,
			SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (!r->ring) {
			free(r);
			return -rte_errno;
		}
		media_rtx_lcore[lcore] = r;
	}
	if (!media_rr[lcore]) {
		struct media_rr_lcore *r = calloc(1, sizeof(*r));

		if (!r)
			return -ENOMEM;
		r->clock_mul[0] = (48000ull << 32) / rte_get_tsc_hz();
		r->clock_mul[1] = (90000ull << 32) / rte_get_tsc_hz();
		media_rr[lcore] = r;
	}
	return 0;
}

struct rtx_stream *media_rtx_get(uint16_t slot)
{
	if (slot >= MEDIA_MAX_LEGS)
		return NULL;
	if (!media_rtx[slot]) {
		media_rtx[slot] = aligned_alloc(64, (sizeof(struct rtx_stream) + 63) & ~(size_t)63);
		if (media_rtx[slot])
			rtx_reset(media_rtx[slot]);
	}
	return media_rtx[slot];
}

struct sim_stream *media_sim_get(uint16_t slot, unsigned int layers)
{
	struct sim_stream *s;

	if (slot >= MEDIA_MAX_LEGS)
		return NULL;
	if (!media_sim[slot]) {
		s = aligned_alloc(64, (sizeof(struct sim_stream) + 63) & ~(size_t)63);
		if (!s)
			return NULL;
		memset(s->rtx, 0, sizeof(s->rtx));
		sim_reset(s);
		media_sim[slot] = s;
	}
	s = media_sim[slot];
	/* a layer's cache is made before any table names the stream with that many layers */
	for (unsigned int k = 0; k < layers && k < SIM_LAYERS; k++) {
		if (s->rtx[k])
			continue;
		s->rtx[k] = aligned_alloc(64, (sizeof(struct rtx_stream) + 63) & ~(size_t)63);
		if (!s->rtx[k])
			return NULL;
		rtx_reset(s->rtx[k]);
	}
	return s;
}

void media_leg_counters(uint16_t slot, struct media_lcore_leg *out)
{
	memset(out, 0, sizeof(*out));
	if (slot >= MEDIA_MAX_LEGS)
		return;
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		const struct media_lcore_leg *c = media_lcore[l] ? &media_lcore[l][slot] : NULL;

		if (!c)
			continue;
		out->rx_pkts += c->rx_pkts;
		out->rx_bytes += c->rx_bytes;
		out->rx_audio_pkts += c->rx_audio_pkts;
		out->rx_audio_bytes += c->rx_audio_bytes;
		out->tx_pkts += c->tx_pkts;
		out->tx_bytes += c->tx_bytes;
		out->auth_fail += c->auth_fail;
		out->replay += c->replay;
		out->keyframe_req += c->keyframe_req;
		out->nack_seqs += c->nack_seqs;
		out->rtx_pkts += c->rtx_pkts;
		out->rtx_miss += c->rtx_miss;
		out->rtx_refused += c->rtx_refused;
		out->level_sum += c->level_sum;
		out->level_pkts += c->level_pkts;
		out->voice_pkts += c->voice_pkts;
		out->video_frames += c->video_frames;
		out->rr_blocks += c->rr_blocks;
		if (c->rtt_ms)
			out->rtt_ms = c->rtt_ms;
		/* the latest of one lcore (a leg's packets arrive on one) */
		if (c->width) {
			out->width = c->width;
			out->height = c->height;
		}
		for (int k = 0; k < 2; k++)
			if (c->rr_blocks) {
				out->rr_lost[k] = c->rr_lost[k];
				out->rr_jitter[k] = c->rr_jitter[k];
			}
		if (c->last_pli > out->last_pli)
			out->last_pli = c->last_pli;
	}
}

void media_leg_counters_reset(uint16_t slot)
{
	if (slot >= MEDIA_MAX_LEGS)
		return;
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		if (media_lcore[l])
			memset(&media_lcore[l][slot], 0, sizeof(media_lcore[l][slot]));
		/* its pending bit may stay: the worker clears it, finding no window to report */
		if (media_twcc[l])
			memset(&media_twcc[l]->w[slot], 0, sizeof(media_twcc[l]->w[slot]));
		if (media_rr[l])
			memset(media_rr[l]->s[slot], 0, sizeof(media_rr[l]->s[slot]));
	}
	if (media_rtx[slot])
		rtx_reset(media_rtx[slot]);
	if (media_sim[slot])
		sim_reset(media_sim[slot]);
	media_sr_seen[slot][0] = media_sr_seen[slot][1] = 0;
	media_remb_bps[slot] = 0;
}

uint64_t media_leg_twcc_sent(uint16_t slot)
{
	uint64_t n = 0;

	if (slot >= MEDIA_MAX_LEGS)
		return 0;
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++)
		if (media_twcc[l])
			n += media_twcc[l]->w[slot].fb_sent;
	return n;
}

void media_tables_fini(void)
{
	for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
		free(media_lcore[l]);
		media_lcore[l] = NULL;
		free(media_twcc[l]);
		media_twcc[l] = NULL;
		if (media_rtx_lcore[l])
			rte_ring_free(media_rtx_lcore[l]->ring);
		free(media_rtx_lcore[l]);
		media_rtx_lcore[l] = NULL;
		free(media_rr[l]);
		media_rr[l] = NULL;
	}
	for (unsigned int i = 0; i < MEDIA_MAX_LEGS; i++) {
		free(media_rtx[i]);
		media_rtx[i] = NULL;
		for (unsigned int k = 0; media_sim[i] && k < SIM_LAYERS; k++)
			free(media_sim[i]->rtx[k]);
		free(media_sim[i]);
		media_sim[i] = NULL;
	}
}

/* srtp_fast's state sits right after the handle, in one cache-aligned allocation. */
struct media_srtp_fast {
	struct media_srtp h;
	_Alignas(64) struct srtp_fast f;
};

static int srtp_lib_new(srtp_t *s, int profile, const uint8_t *key, const uint8_t *salt,
	bool inbound)
{
	uint8_t k[SRTP_AES_ICM_128_KEY_LEN_WSALT];
	size_t salt_len = profile == MEDIA_SRTP_AEAD_AES_128_GCM ? 12 : 14;
	srtp_policy_t p;
	srtp_err_status_t e;

	memset(&p, 0, sizeof(p));
	if (profile == MEDIA_SRTP_AEAD_AES_128_GCM) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&p.rtp);
		srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	}
	memset(k, 0, sizeof(k));
	memcpy(k, key, 16);
	memcpy(k + 16, salt, salt_len);
	p.key = k;
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.window_size = SRTP_FAST_RTP_WINDOW; /* libwebrtc's, as srtp_fast's */
	p.allow_repeat_tx = 0; /* never one index twice under one key (media_srtp_protect_at) */
	p.next = NULL;
	e = srtp_create(s, &p);
	OPENSSL_cleanse(k, sizeof(k));
	return e == srtp_err_status_ok ? 0 : e == srtp_err_status_alloc_fail ? -ENOMEM : -EINVAL;
}

int media_srtp_new(struct media_srtp **out, int profile, const uint8_t *key, const uint8_t *salt,
	bool inbound, unsigned int flags)
{
	struct media_srtp_fast *mf;
	struct media_srtp *s;
	int rc;

	*out = NULL;
	if (profile != MEDIA_SRTP_AEAD_AES_128_GCM && profile != MEDIA_SRTP_AES128_CM_SHA1_80)
		return -EPROTONOSUPPORT;
	if (profile == MEDIA_SRTP_AEAD_AES_128_GCM && !(flags & MEDIA_SRTP_LIBSRTP)) {
		mf = aligned_alloc(64, sizeof(*mf));
		if (!mf)
			return -ENOMEM;
		rc = srtp_fast_init(&mf->f, key, salt, inbound);
		if (rc < 0) {
			free(mf);
			return rc;
		}
		mf->h = (struct media_srtp){ .fast = true, .f = &mf->f };
		*out = &mf->h;
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	rc = srtp_lib_new(&s->lib, profile, key, salt, inbound);
	if (rc < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void media_srtp_free(struct media_srtp *s)
{
	if (!s)
		return;
	if (s->fast) {
		struct media_srtp_fast *mf = (struct media_srtp_fast *)s; /* h is first */

		srtp_fast_free(&mf->f);
		free(mf);
		return;
	}
	srtp_dealloc(s->lib);
	free(s);
}
