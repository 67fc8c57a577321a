/* SDP for the callbridge's media legs: parse a browser's offer (Chromium, Firefox; Unified
 * Plan, BUNDLE, rtcp-mux) and build our ICE-lite, DTLS-passive answer. Pure functions over
 * caller-owned fixed-size structs: no I/O, no allocation, safe on any input. */
#ifndef EDGE_CB_SDP_H
#define EDGE_CB_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SDP_MAX_MEDIA 50	 /* m-lines in one offer (2 + 24 receive pairs); more is refused */
#define SDP_MAX_CODECS 48	 /* per m-line; Chromium's recvonly video offers 34 PTs */
#define SDP_MAX_FB 8		 /* rtcp-fb lines per codec */
#define SDP_MAX_EXT 16		 /* extmaps per m-line */
#define SDP_MAX_LINE 4096	 /* one line, without its line ending */
#define SDP_MAX_LEN (256 * 1024) /* the whole offer */
#define SDP_MAX_CAND 4
#define SDP_MAX_RIDS 8	 /* a=rid lines kept per m-line; later ones are left out */
#define SDP_MAX_LAYERS 3 /* simulcast layers taken from one m-line (MEDIA_MAX_LAYERS) */
#define SDP_RID_LEN                                                                                \
	16 /* a rid-id of up to 15 characters and its NUL (RFC 8851 sets none:
			  * a longer one would not fit the one-byte header extension) */
#define SDP_RID_URI "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"

struct sdp_codec {
	uint8_t pt;
	char name[16]; /* as offered: "opus", "VP8", "H264" */
	uint32_t clock;
	uint8_t channels; /* 0 when the rtpmap has none */
	char fmtp[200];	  /* the a=fmtp value, "" if none */
	uint8_t n_fb;
	char fb[SDP_MAX_FB][40]; /* "nack", "nack pli", "ccm fir", "transport-cc", ... */
};

struct sdp_extmap {
	uint8_t id;
	char uri[96];
};

enum sdp_dir { SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

/* RFC 8851's a=rid:<id> send|recv [restrictions]: the id and its direction (the restrictions
 * are not kept: the answer accepts or drops a layer whole). */
struct sdp_rid {
	char id[SDP_RID_LEN];
	bool send;
};

struct sdp_media {
	bool audio;	/* else video, unless other */
	bool other;	/* application or anything else: rejected (port 0) in the answer */
	char kind[16];	/* the m-line's media: "audio", "video", "application" */
	char proto[32]; /* "UDP/TLS/RTP/SAVPF" */
	char fmt[32];	/* the first format, echoed when the line is rejected */
	char mid[32];
	enum sdp_dir dir; /* the offerer's direction */
	bool port0;	  /* port 0 without a=bundle-only: the offerer rejected it */
	bool bundle_only;
	bool bundled; /* its mid is in the BUNDLE group */
	bool rtcp_mux, rtcp_rsize;
	uint8_t n_codecs; /* in the offerer's order of preference */
	struct sdp_codec codecs[SDP_MAX_CODECS];
	uint8_t n_ext;
	struct sdp_extmap ext[SDP_MAX_EXT];
	uint32_t ssrc;	   /* the media SSRC (first of a=ssrc-group:FID, else first a=ssrc) */
	uint32_t rtx_ssrc; /* second of a=ssrc-group:FID; 0 if none */
	char msid[80];	   /* "<stream> <track>" from a=msid or a=ssrc msid:, "" if none */
	char cname[64];
	/* simulcast (RFC 8853): a=rid lines with a well-formed id of up to 15 characters, each
	 * id once, in the offer's order; and the layers a=simulcast:send asks to send: per
	 * stream (';') its first alternative (',') that is not paused ('~') and names a send
	 * rid, each once, the first SDP_MAX_LAYERS streams that have one. n_layers 0: one
	 * stream (no or an unusable a=simulcast). A malformed rid or simulcast line is left out
	 * (RFC 8851 10, RFC 8853 5.3): never a refusal. */
	uint8_t n_rids;
	struct sdp_rid rids[SDP_MAX_RIDS];
	uint8_t n_layers;
	char layers[SDP_MAX_LAYERS][SDP_RID_LEN];
};

/* ICE credentials, fingerprint and setup are the offer's BUNDLE transport's: those of the
 * first bundled m-line, falling back to the session level (Chromium writes them on every
 * m-line, Firefox the fingerprint at the session level). About 850 KiB: not for the stack
 * of a small thread. */
struct sdp_offer {
	char ufrag[64], pwd[128];
	char fp_alg[16]; /* "sha-256" */
	uint8_t fp[64];
	uint8_t fp_len;
	char setup[16]; /* "actpass" or "active" */
	bool bundle;
	unsigned n_media;
	struct sdp_media media[SDP_MAX_MEDIA];
};

/* 0, or a negative errno with err saying what is wrong and where ("line 7: ...").
 * sdp is NUL-terminated. */
int sdp_parse_offer(const char *sdp, struct sdp_offer *o, char *err, size_t errlen);

/* The codec we forward on this m-line, with its feedback lines cut to what we honour (nack,
 * nack pli, ccm fir). name NULL or "": our preference (audio opus/48000/2; video VP8, else
 * H264 packetization-mode=1, constrained baseline 42e01f first); else only a codec of that
 * name that we can forward (e.g. the one a source sends). 0, or -ENOENT. */
int sdp_choose(const struct sdp_media *m, const char *name, struct sdp_codec *out);

enum sdp_role {
	SDP_ROLE_RECV, /* the guest sends to us: recvonly (inactive if it offers no send) */
	SDP_ROLE_SEND, /* we send a source's stream: sendonly */
	SDP_ROLE_INACTIVE,
	SDP_ROLE_REJECT, /* port 0 */
};

struct sdp_source {
	char stream_id[64]; /* the browser's MediaStream id: the source participant's id */
	char track_id[80];
	char cname[64];
	uint32_t ssrc;
	char codec[16]; /* what the source sends ("VP8"): the receiver's PT for it is used */
};

struct sdp_answer_params {
	const char *ufrag, *pwd; /* ours, ICE-lite */
	const char *fingerprint; /* ours, sha-256, "AB:CD:..." */
	uint64_t session_id, session_version;
	unsigned n_cand;
	struct {
		char ip[46];
		uint16_t port;
	} cand[SDP_MAX_CAND];
	enum sdp_role role[SDP_MAX_MEDIA];    /* per m-line of the offer */
	struct sdp_source src[SDP_MAX_MEDIA]; /* for SDP_ROLE_SEND lines */
	/* the operator's `callbridge simulcast enable`: a video SDP_ROLE_RECV line that may be
	 * answered with simulcast (sdp_simulcast()) is */
	bool simulcast;
};

/* Whether we take simulcast on @m when we receive it (SDP_ROLE_RECV, simulcast enabled):
 * video the offerer sends, at least 2 layers, VP8 as our codec (the SFU reads VP8 key frames
 * to switch layers), and the rtp-stream-id extension with a one-byte id (1..14). Its id, or 0
 * when not. The answer then has a=rid:<id> recv per layer, a=simulcast:recv <id>;<id>... and
 * that extension; without it the browser sends one stream (Chromium: its first encoding). */
unsigned int sdp_simulcast(const struct sdp_media *m);

/* Whether we send REMB (draft-alvestrand-rmcat-remb) for what the offerer sends on @m with
 * payload type @pt: a line it sends on whose codec offers goog-remb and no transport-cc we can
 * take (transport-cc feedback and its header extension); the answer then keeps goog-remb. */
bool sdp_remb(const struct sdp_media *m, uint8_t pt);

/* The answer, CRLF lines, NUL-terminated. Its length, or a negative errno with err naming
 * the m-line or parameter at fault (no codec we can forward, a source codec the receiver did
 * not offer, a send role on a line the offerer only sends on, out too small). */
int sdp_build_answer(const struct sdp_offer *o, const struct sdp_answer_params *p, char *out,
	size_t outlen, char *err, size_t errlen);

/* "AB:CD:..." upper-case hex; 0 or -ENOSPC/-EINVAL. */
int sdp_fingerprint_str(const uint8_t *fp, size_t len, char *out, size_t outlen);

#endif
