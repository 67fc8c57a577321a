/* The media server: ICE-lite and DTLS-SRTP for every meeting leg, on the media ports, and
 * the SFU tables it publishes to the data plane (media_tables.h). What the callbridge calls.
 *
 * Threads: the media server's sockets and timers run on the control loop's thread; the
 * callbridge calls media_leg_*() from its own thread. Both take the server's lock, briefly:
 * nothing blocks under it. Table publication happens on the control loop only. */
#ifndef EDGE_MEDIA_H
#define EDGE_MEDIA_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define MEDIA_ID_LEN 40
#define MEDIA_MAX_CAND 4
#define MEDIA_MAX_LAYERS 3 /* simulcast layers of one video source */
#define MEDIA_RID_LEN 16 /* a rid-id (RFC 8851: 1*(ALPHA / DIGIT / "-" / "_"), 15 at most) + NUL */
#define MEDIA_RID_URI "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"

/* The codecs the SFU forwards, for payload-type maps. */
enum media_codec { MEDIA_OPUS, MEDIA_VP8, MEDIA_H264, MEDIA_N_CODECS };

/* What the callbridge learnt from a guest's offer. */
struct media_leg_desc {
	char id[MEDIA_ID_LEN];	 /* the call leg's id */
	char call[MEDIA_ID_LEN]; /* its conference: legs of one call hear each other */
	char name[64];		 /* display name, for the log */
	char remote_ufrag[64], remote_pwd[160];
	uint8_t remote_fp[32];		 /* SHA-256 of the browser's DTLS certificate */
	uint32_t audio_ssrc, video_ssrc; /* what it sends (0: nothing) */
	uint8_t pt[MEDIA_N_CODECS];	 /* its payload type for each codec, 0xff: none */
	uint8_t twcc_ext;  /* its transport-wide sequence number's extension id (1..14), as the
			   * answer kept it: we send it transport-cc feedback; 0: none */
	uint8_t level_ext; /* its audio level's (RFC 6464, 1..14) on its audio; 0: none */
	bool remb;	   /* no transport-cc, goog-remb: we send it REMB (our estimate of its
			    * uplink) with our receiver reports */
	/* Simulcast: the layers its video m-line sends (a=simulcast:send, the first alternative
	 * of each, paused ones left out), in the offer's order; 0 when it sends one stream.
	 * With layers, video_ssrc is OURS (the callbridge picks it: random, not 0, not
	 * MEDIA_TWCC_SSRC, unique in the call and remembered like the others): the SSRC its
	 * receivers see, one continuous stream whichever layer they get. The browser's layer
	 * SSRCs are learnt by the data plane from the rtp-stream-id extension (rid_ext). */
	uint8_t n_layers;
	char rid[MEDIA_MAX_LAYERS][MEDIA_RID_LEN];
	uint8_t rid_ext; /* the rtp-stream-id one-byte extension id (1..14) on its video */
};

/* The SSRC our transport-cc feedback comes from (each leg's under its own key): an offer
 * that announces it is refused (-EINVAL), so that no source's context numbers it too. */
#define MEDIA_TWCC_SSRC 0x7c5f0001u
#define MEDIA_TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define MEDIA_AUDIO_LEVEL_URI "urn:ietf:params:rtp-hdrext:ssrc-audio-level"

/* What the answer tells the browser. */
struct media_local {
	char ufrag[16], pwd[40];
	char fingerprint[100]; /* "AB:CD:...", sha-256 */
	unsigned int n_cand;
	struct {
		char ip[46]; /* INET6_ADDRSTRLEN: an IPv6 host candidate too */
		uint16_t port;
	} cand[MEDIA_MAX_CAND];
};

enum media_event_type { MEDIA_EV_CONNECTED, MEDIA_EV_ENDED };

struct media_event {
	char id[MEDIA_ID_LEN];
	enum media_event_type type;
	char why[96];
};

struct media_server;

/* A new leg (-ENOSPC when the table is full), or a renegotiation of a known one (ICE and DTLS
 * carry on; SSRCs and payload types are taken anew). */
int media_leg_open(struct media_server *ms, const struct media_leg_desc *d,
	struct media_local *local);
/* The sources (other legs' ids) receiver @id takes now, as its last answer mapped them. */
int media_leg_sources(struct media_server *ms, const char *id, const char (*src)[MEDIA_ID_LEN],
	unsigned int n);
int media_leg_mute(struct media_server *ms, const char *id, bool audio, bool video);
/* Receiver @id shows source @source's video @height pixels high (its tile, in device pixels;
 * 0: not shown): a simulcast source's layer for it is then at most the smallest one that is as
 * high. 0, -ENOENT (either leg unknown) or -ENODEV (no media server). */
int media_leg_view(struct media_server *ms, const char *id, const char *source,
	unsigned int height);
void media_leg_close(struct media_server *ms, const char *id, const char *why);
/* Events since the last call, oldest first: up to @max. */
unsigned int media_events_take(struct media_server *ms, struct media_event *ev, unsigned int max);
/* `callbridge media`: the legs with their 5-tuple, state, profile and counters. */
void media_show(struct media_server *ms, FILE *out);

/* One medium one way on one leg (CMS's rxAudio, txVideo, ...). rx is what the leg's browser
 * sends us, tx what we send it. */
struct media_flow_stats {
	uint64_t packets, bytes; /* since the leg connected (SRTP and its SRTCP) */
	uint64_t bit_rate;	 /* bits/s over the last MEDIA_RATE_SECONDS */
};

#define MEDIA_RATE_SECONDS 3 /* the window of media_flow_stats.bit_rate */

/* A leg's media figures, from the SFU's counters (media_tables.h) sampled every second. rx
 * per medium is counted by SSRC on the fast path; tx is counted per leg only, and split
 * between audio and video as the sources it takes send them (an estimate: see
 * docs/media.md). Loss on its uplink is counted by sequence number (video only: audio has no
 * NACK); loss and jitter on what we send it come from its own receiver reports; the picture
 * size from VP8 key frames (the SFU decodes no video). */
struct media_leg_stats {
	bool connected; /* DTLS done: SRTP flows */
	bool via_relay; /* its path is our own TURN relay's */
	struct media_flow_stats rx_audio, rx_video, tx_audio, tx_video;
	uint64_t keyframe_req; /* key-frame requests it sent that reached a sender */
	uint64_t auth_fail, replay;
	/* its uplink's video: sequence numbers found missing, of those that came after all
	 * (our NACKs, or reordered), NACK packets we sent it; packet loss over the last
	 * MEDIA_RATE_SECONDS in 1/10 %, before retransmission */
	uint64_t uplink_lost, uplink_recovered, nacks_sent;
	unsigned int rx_video_loss_permille;
	/* its NACKs as a receiver: sequence numbers asked for, resent from our cache, not kept
	 * (or lost upstream), refused over its budget */
	uint64_t nack_seqs, rtx_sent, rtx_miss, rtx_refused;
	/* its receiver reports about what we send it: fraction lost in 1/10 % and jitter in
	 * ms (0 before a report), per medium; report blocks seen */
	unsigned int tx_audio_loss_permille, tx_video_loss_permille;
	unsigned int tx_audio_jitter_ms, tx_video_jitter_ms;
	uint64_t report_blocks;
	unsigned int rtt_ms; /* the round trip to it (its report on a sender report we forwarded) */
	/* what it sends: video frames per second over the last MEDIA_RATE_SECONDS, its last VP8
	 * key frame's size (0 x 0: none seen), its audio level now (dBov, -127 silence; 0 when
	 * it sends none) */
	unsigned int rx_video_fps, rx_video_width, rx_video_height;
	int audio_level_dbov;
};

/* Leg @id's figures: 0, -ENOENT (no such leg) or -ENODEV (no media server). */
int media_leg_stats(struct media_server *ms, const char *id, struct media_leg_stats *out);

/* One leg's audio level as the fast path read it from its packets (RFC 6464): running sums,
 * for the caller to difference at its own pace (the active speaker). sum: of 127 - level in
 * -dBov over the pkts that carried one (the mean loudness above -127 dBov), voice: of those,
 * with the voice activity flag set. */
struct media_level {
	char id[MEDIA_ID_LEN];
	char call[MEDIA_ID_LEN];
	uint64_t sum, pkts, voice;
};

/* Every connected leg's that sends audio, into @out: how many (at most @max). */
unsigned int media_levels(struct media_server *ms, struct media_level *out, unsigned int max);

#endif
