/* A guest's media, as the callbridge negotiates it: the browser always offers (its own
 * audio and video, sendonly, then one recvonly audio + video pair per other participant it
 * can receive); we answer as an ICE-lite, DTLS-passive endpoint and map each receive pair to
 * one source, whose SSRCs the answer declares (a=ssrc, a=msid: the browser's MediaStream id
 * is the source's participant id). When the others change, the guest is asked to offer
 * again ({"type":"renegotiate","sources":N}); the browser is the only offerer, so there is
 * no glare. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "cb_media.h"
#include "cb_sdp.h"
#include "edge_log.h"

#define ANSWER_MAX (64 * 1024)

_Static_assert(SDP_MAX_LAYERS == MEDIA_MAX_LAYERS && SDP_RID_LEN == MEDIA_RID_LEN,
	"cb_sdp's simulcast layers are the media server's");

static void media_error(const struct cb_media_io *io, struct cb_leg *leg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void media_error(const struct cb_media_io *io, struct cb_leg *leg, const char *fmt, ...)
{
	char msg[400], clean[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	edge_log_sanitize(clean, sizeof(clean), msg);
	edge_log(LOG_WARNING, "host:server", "WARNING : call %d: media refused: %s", leg->call_no,
		clean);
	io->to_guest(io->ctx, leg,
		json_pack("{s:s, s:s, s:s}", "type", "media", "state", "error", "message", msg));
}

static struct cb_leg *leg_in_call(struct cb_call *c, const char *id)
{
	for (struct cb_leg *l = c->legs; l; l = l->next)
		if (!strcmp(l->id, id))
			return l;
	return NULL;
}

static bool assigned(const struct cb_leg *leg, const char *id)
{
	for (unsigned int k = 0; k < leg->n_pairs && k < CB_MAX_PAIRS; k++)
		if (!strcmp(leg->pair_src[k], id))
			return true;
	return false;
}

/* How many other participants of @leg's call send media now. */
static unsigned int others_open(const struct cb_leg *leg)
{
	unsigned int n = 0;

	for (const struct cb_leg *o = leg->call->legs; o; o = o->next)
		n += o != leg && o->media_open;
	return n;
}

/* Keeps each receive pair on the source it had while that source is still sending, and gives
 * the free pairs to sources that have none. */
static void map_pairs(struct cb_leg *leg, unsigned int n_pairs)
{
	if (n_pairs > CB_MAX_PAIRS)
		n_pairs = CB_MAX_PAIRS;
	for (unsigned int k = n_pairs; k < CB_MAX_PAIRS; k++)
		leg->pair_src[k][0] = 0;
	leg->n_pairs = n_pairs;
	for (unsigned int k = 0; k < n_pairs; k++) {
		struct cb_leg *s = leg->pair_src[k][0] ? leg_in_call(leg->call, leg->pair_src[k]) :
							 NULL;

		if (!s || !s->media_open || s == leg)
			leg->pair_src[k][0] = 0;
	}
	for (struct cb_leg *s = leg->call->legs; s; s = s->next) {
		if (s == leg || !s->media_open || assigned(leg, s->id))
			continue;
		for (unsigned int k = 0; k < n_pairs; k++)
			if (!leg->pair_src[k][0]) {
				snprintf(leg->pair_src[k], CB_ID_LEN, "%s", s->id);
				break;
			}
	}
}

static void source_of(const struct cb_leg *s, bool audio, struct sdp_source *src)
{
	memset(src, 0, sizeof(*src));
	snprintf(src->stream_id, sizeof(src->stream_id), "%s", s->id);
	snprintf(src->track_id, sizeof(src->track_id), "%s-%s", audio ? "audio" : "video", s->id);
	snprintf(src->cname, sizeof(src->cname), "%s", s->cname[0] ? s->cname : s->id);
	src->ssrc = audio ? s->audio_ssrc : s->video_ssrc;
	snprintf(src->codec, sizeof(src->codec), "%s", audio ? "opus" : s->video_codec);
}

/* The payload type the offer gives @name on any line of its kind (BUNDLE makes them agree),
 * 0xff when none. */
static uint8_t pt_of(const struct sdp_offer *o, bool audio, const char *name)
{
	struct sdp_codec c;

	for (unsigned int i = 0; i < o->n_media; i++) {
		const struct sdp_media *m = &o->media[i];

		if (!m->other && m->audio == audio && sdp_choose(m, name, &c) == 0)
			return c.pt;
	}
	return 0xff;
}

struct offer_lines {
	int a_send, v_send; /* the guest's own audio and video, -1 = none */
	int recv_a[CB_MAX_PAIRS], recv_v[CB_MAX_PAIRS];
	unsigned int na, nv;
};

static void sort_lines(const struct sdp_offer *o, struct offer_lines *ol)
{
	ol->a_send = ol->v_send = -1;
	ol->na = ol->nv = 0;
	for (unsigned int i = 0; i < o->n_media; i++) {
		const struct sdp_media *m = &o->media[i];

		if (m->other || m->port0)
			continue;
		if (m->dir == SDP_SENDONLY || m->dir == SDP_SENDRECV) {
			if (m->audio && ol->a_send < 0)
				ol->a_send = (int)i;
			else if (!m->audio && ol->v_send < 0)
				ol->v_send = (int)i;
		} else if (m->dir == SDP_RECVONLY) {
			if (m->audio && ol->na < CB_MAX_PAIRS)
				ol->recv_a[ol->na++] = (int)i;
			else if (!m->audio && ol->nv < CB_MAX_PAIRS)
				ol->recv_v[ol->nv++] = (int)i;
		}
	}
}

/* What a guest sends, from its offer: the leg keeps it only once the offer is answered. */
struct leg_send {
	uint32_t audio_ssrc, video_ssrc; /* video: ours when it sends layers */
	char cname[64];
	char video_codec[16];
};

/* Its video's layers, when the answer takes simulcast (sdp_simulcast(), as the answer
 * decides it): their rids and the rtp-stream-id extension's id. */
static void describe_layers(const struct sdp_media *m, bool simulcast, struct media_leg_desc *d)
{
	unsigned int ext = simulcast ? sdp_simulcast(m) : 0;

	if (!ext)
		return;
	d->rid_ext = (uint8_t)ext;
	d->n_layers = m->n_layers;
	for (unsigned int k = 0; k < m->n_layers; k++)
		snprintf(d->rid[k], sizeof(d->rid[k]), "%s", m->layers[k]);
}

/* What the offer says the guest sends, for the media server. */
static int describe(const struct sdp_offer *o, const struct offer_lines *ol,
	const struct cb_leg *leg, bool simulcast, struct media_leg_desc *d, struct leg_send *ls,
	char *err, size_t errlen)
{
	struct sdp_codec vc;

	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", leg->id);
	snprintf(d->call, sizeof(d->call), "%s", leg->call->id);
	snprintf(d->name, sizeof(d->name), "%s", leg->name);
	snprintf(d->remote_ufrag, sizeof(d->remote_ufrag), "%s", o->ufrag);
	snprintf(d->remote_pwd, sizeof(d->remote_pwd), "%s", o->pwd);
	if (o->fp_len != sizeof(d->remote_fp)) {
		snprintf(err, errlen, "the DTLS fingerprint is not SHA-256");
		return -EINVAL;
	}
	memcpy(d->remote_fp, o->fp, sizeof(d->remote_fp));
	d->pt[MEDIA_OPUS] = pt_of(o, true, "opus");
	d->pt[MEDIA_VP8] = pt_of(o, false, "VP8");
	d->pt[MEDIA_H264] = pt_of(o, false, "H264");
	memset(ls, 0, sizeof(*ls));
	if (ol->a_send >= 0)
		ls->audio_ssrc = o->media[ol->a_send].ssrc;
	if (ol->v_send >= 0 && sdp_choose(&o->media[ol->v_send], NULL, &vc) == 0) {
		ls->video_ssrc = o->media[ol->v_send].ssrc;
		snprintf(ls->video_codec, sizeof(ls->video_codec), "%s", vc.name);
		describe_layers(&o->media[ol->v_send], simulcast, d);
		if (d->n_layers)
			ls->video_ssrc = 0; /* ours, chosen once the others' are known */
	}
	if (ol->a_send >= 0 || ol->v_send >= 0)
		snprintf(ls->cname, sizeof(ls->cname), "%s",
			o->media[ol->a_send >= 0 ? ol->a_send : ol->v_send].cname);
	d->audio_ssrc = ls->audio_ssrc;
	d->video_ssrc = ls->video_ssrc;
	/* the transport-wide sequence number, as the answer keeps it on the send lines (the
	 * one-byte header's ids; one id under BUNDLE): the media server sends feedback */
	for (int k = 0; k < 2 && !d->twcc_ext; k++) {
		int line = k ? ol->a_send : ol->v_send;
		const struct sdp_media *m = line >= 0 ? &o->media[line] : NULL;

		if (!m)
			continue;
		for (unsigned int j = 0; j < m->n_ext; j++)
			if (!strcmp(m->ext[j].uri, MEDIA_TWCC_URI)) {
				d->twcc_ext = m->ext[j].id <= 14 ? m->ext[j].id : 0;
				break;
			}
	}
	/* no transport-cc but goog-remb on a send line (as the answer keeps it): the media
	 * server sends REMB with its estimate of the uplink */
	for (int k = 0; k < 2 && !d->twcc_ext && !d->remb; k++) {
		int line = k ? ol->a_send : ol->v_send;
		struct sdp_codec c;

		if (line >= 0 && sdp_choose(&o->media[line], NULL, &c) == 0)
			d->remb = sdp_remb(&o->media[line], c.pt);
	}
	/* its audio level (RFC 6464), which the answer keeps on its audio: the active speaker */
	if (ol->a_send >= 0) {
		const struct sdp_media *m = &o->media[ol->a_send];

		for (unsigned int j = 0; j < m->n_ext; j++)
			if (!strcmp(m->ext[j].uri, MEDIA_AUDIO_LEVEL_URI))
				d->level_ext = m->ext[j].id <= 14 ? m->ext[j].id : 0;
	}
	return 0;
}

/* Whether @ssrc belongs to a leg of @c other than @leg, now or ever (0: free). -ENOSPC when
 * the call remembers too many to tell. */
static int ssrc_taken(const struct cb_call *c, const struct cb_leg *leg, uint32_t ssrc)
{
	if (!ssrc)
		return 0;
	for (unsigned int i = 0; i < c->n_ssrcs; i++)
		if (c->ssrcs[i].ssrc == ssrc)
			return strcmp(c->ssrcs[i].leg, leg->id) ? 1 : 0;
	return c->n_ssrcs == CB_CALL_SSRCS ? -ENOSPC : 0;
}

static void ssrc_remember(struct cb_call *c, const struct cb_leg *leg, uint32_t ssrc)
{
	for (unsigned int i = 0; ssrc && i < c->n_ssrcs; i++)
		if (c->ssrcs[i].ssrc == ssrc)
			return;
	if (!ssrc || c->n_ssrcs == CB_CALL_SSRCS)
		return;
	c->ssrcs[c->n_ssrcs].ssrc = ssrc;
	snprintf(c->ssrcs[c->n_ssrcs++].leg, CB_ID_LEN, "%s", leg->id);
}

/* The SSRC a simulcast source's receivers see: ours, the same for every offer of @leg (its
 * receivers' answers keep naming it), unpredictable to the guests: HMAC(a key of this
 * process, the leg's id and a counter), the first that is not 0, not the feedback SSRC, not
 * one the offer names and not another leg's in the call. 0, or -ENOSPC (the call remembers
 * too many SSRCs to tell), -EAGAIN (none found). */
static int our_video_ssrc(const struct cb_leg *leg, const struct sdp_media *m, uint32_t audio,
	uint32_t *out)
{
	static unsigned char key[32];
	static bool keyed;
	unsigned char in[CB_ID_LEN + 1], md[EVP_MAX_MD_SIZE];
	size_t n = strlen(leg->id);

	if (!keyed && RAND_bytes(key, sizeof(key)) != 1)
		return -EAGAIN;
	keyed = true;
	memcpy(in, leg->id, n);
	for (unsigned char k = 0; k < 16; k++) {
		unsigned int mdlen = 0;
		uint32_t s;
		int t;

		in[n] = k;
		if (!HMAC(EVP_sha256(), key, sizeof(key), in, n + 1, md, &mdlen) || mdlen < 4)
			return -EAGAIN;
		s = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 | (uint32_t)md[2] << 8 | md[3];
		if (!s || s == MEDIA_TWCC_SSRC || s == audio || s == m->ssrc || s == m->rtx_ssrc)
			continue;
		if ((t = ssrc_taken(leg->call, leg, s)) < 0)
			return t;
		if (!t) {
			*out = s;
			return 0;
		}
	}
	return -EAGAIN;
}

/* The answer's role for each m-line, from the pairs' mapping. */
static void roles(const struct sdp_offer *o, const struct offer_lines *ol, struct cb_leg *leg,
	struct sdp_answer_params *ap)
{
	unsigned int n = ol->na < ol->nv ? ol->na : ol->nv;

	for (unsigned int i = 0; i < o->n_media; i++)
		ap->role[i] = o->media[i].other ? SDP_ROLE_REJECT : SDP_ROLE_INACTIVE;
	if (ol->a_send >= 0)
		ap->role[ol->a_send] = SDP_ROLE_RECV;
	if (ol->v_send >= 0)
		ap->role[ol->v_send] = SDP_ROLE_RECV;
	for (unsigned int k = 0; k < n; k++) {
		struct cb_leg *s = leg->pair_src[k][0] ? leg_in_call(leg->call, leg->pair_src[k]) :
							 NULL;

		if (!s)
			continue;
		if (s->audio_ssrc) {
			ap->role[ol->recv_a[k]] = SDP_ROLE_SEND;
			source_of(s, true, &ap->src[ol->recv_a[k]]);
		}
		if (s->video_ssrc) {
			ap->role[ol->recv_v[k]] = SDP_ROLE_SEND;
			source_of(s, false, &ap->src[ol->recv_v[k]]);
		}
	}
}

static void tell_sources(struct media_server *ms, struct cb_leg *leg)
{
	char(*ids)[MEDIA_ID_LEN] = calloc(CB_MAX_PAIRS, MEDIA_ID_LEN);
	unsigned int n = 0;

	if (!ids)
		return;
	for (unsigned int k = 0; k < leg->n_pairs; k++)
		if (leg->pair_src[k][0])
			snprintf(ids[n++], MEDIA_ID_LEN, "%s", leg->pair_src[k]);
	media_leg_sources(ms, leg->id, (const char(*)[MEDIA_ID_LEN])ids, n);
	free(ids);
}

bool cb_media_offer(struct media_server *ms, const struct cb_media_io *io, struct cb_leg *leg,
	const char *sdp)
{
	struct sdp_offer *o = calloc(1, sizeof(*o));
	struct sdp_answer_params *ap = calloc(1, sizeof(*ap));
	char *answer = malloc(ANSWER_MAX), err[256];
	struct media_leg_desc d;
	struct leg_send ls;
	struct media_local local;
	struct offer_lines ol;
	bool first = false;
	int rc;

	if (!o || !ap || !answer) {
		media_error(io, leg, "The meeting server is out of memory.");
		goto out;
	}
	if (!ms) {
		media_error(io, leg,
			"This meeting server has no media port: the meeting "
			"carries signalling only.");
		goto out;
	}
	if (!sdp || sdp_parse_offer(sdp, o, err, sizeof(err)) < 0) {
		media_error(io, leg, "The browser's offer was refused: %s", sdp ? err : "no SDP");
		goto out;
	}
	sort_lines(o, &ol);
	if (describe(o, &ol, leg, io->simulcast, &d, &ls, err, sizeof(err)) < 0) {
		media_error(io, leg, "The browser's offer was refused: %s", err);
		goto out;
	}
	if (d.n_layers &&
		our_video_ssrc(leg, &o->media[ol.v_send], ls.audio_ssrc, &ls.video_ssrc) < 0) {
		media_error(io, leg,
			"The browser's offer was refused: the meeting has no SSRC left "
			"for its video. Join again.");
		goto out;
	}
	d.video_ssrc = ls.video_ssrc;
	if (ol.v_send >= 0 && ls.video_codec[0] && !ls.video_ssrc)
		edge_log(LOG_WARNING, "host:server",
			"WARNING : call %d: the browser's video has no SSRC in its offer%s: "
			"it is not forwarded",
			leg->call_no,
			o->media[ol.v_send].n_layers ? " (simulcast, answered with one stream)" :
						       "");
	/* two legs sending as one SSRC would share a receiver's keystream (media_tables.h):
	 * not now, nor one that left (its receivers may still be there) */
	if (ssrc_taken(leg->call, leg, ls.audio_ssrc) ||
		ssrc_taken(leg->call, leg, ls.video_ssrc) ||
		(ls.audio_ssrc && ls.audio_ssrc == ls.video_ssrc)) {
		media_error(io, leg,
			"The browser's offer was refused: its SSRC is another "
			"participant's. Join again.");
		goto out;
	}
	if (!leg->media_open && others_open(leg) >= CB_MAX_PAIRS) {
		media_error(io, leg,
			"This meeting's media is full (%d participants send and "
			"receive media): you are in the meeting without it.",
			CB_MAX_PAIRS + 1);
		goto out;
	}
	if (ol.a_send >= 0 && d.pt[MEDIA_OPUS] == 0xff) {
		media_error(io, leg,
			"The browser offers no audio codec the meeting can forward "
			"(Opus).");
		goto out;
	}
	if (ol.v_send >= 0 && !ls.video_codec[0]) {
		media_error(io, leg,
			"The browser offers no video codec the meeting can forward "
			"(VP8, H.264).");
		goto out;
	}
	rc = media_leg_open(ms, &d, &local);
	if (rc < 0) {
		media_error(io, leg, "%s",
			rc == -ENOSPC	      ? "The meeting server has no room for "
						"more media." :
				rc == -EPROTO ? "An ICE restart or a new DTLS certificate "
						"is not supported: join again." :
						"The meeting server cannot take media now.");
		goto out;
	}
	/* answered from here on: the leg sends what this offer says */
	leg->audio_ssrc = ls.audio_ssrc;
	leg->video_ssrc = ls.video_ssrc;
	snprintf(leg->cname, sizeof(leg->cname), "%s", ls.cname);
	snprintf(leg->video_codec, sizeof(leg->video_codec), "%s", ls.video_codec);
	ssrc_remember(leg->call, leg, ls.audio_ssrc);
	ssrc_remember(leg->call, leg, ls.video_ssrc);
	map_pairs(leg, ol.na < ol.nv ? ol.na : ol.nv);
	roles(o, &ol, leg, ap);
	ap->simulcast = io->simulcast; /* as describe() took it: sdp_simulcast() decides both */
	ap->ufrag = local.ufrag;
	ap->pwd = local.pwd;
	ap->fingerprint = local.fingerprint;
	if (!leg->sdp_session) { /* one session id for all its answers (RFC 3264 8) */
		RAND_bytes((unsigned char *)&leg->sdp_session, sizeof(leg->sdp_session));
		leg->sdp_session = (leg->sdp_session >> 2) | 1; /* positive as a signed number */
	}
	ap->session_id = leg->sdp_session;
	ap->session_version = ++leg->sdp_version;
	ap->n_cand = local.n_cand;
	for (unsigned int i = 0; i < local.n_cand && i < SDP_MAX_CAND; i++) {
		snprintf(ap->cand[i].ip, sizeof(ap->cand[i].ip), "%s", local.cand[i].ip);
		ap->cand[i].port = local.cand[i].port;
	}
	if (sdp_build_answer(o, ap, answer, ANSWER_MAX, err, sizeof(err)) < 0) {
		media_error(io, leg, "No answer could be made to the browser's offer: %s", err);
		goto out;
	}
	tell_sources(ms, leg);
	first = !leg->media_open;
	leg->media_open = true;
	media_leg_mute(ms, leg->id, leg->audio_muted, leg->video_muted);
	io->to_guest(io->ctx, leg, json_pack("{s:s, s:s}", "type", "answer", "sdp", answer));
	edge_log(LOG_INFO, "host:server",
		"INFO : call %d: SDP answer sent (%u receive pairs, "
		"%u other participants with media)",
		leg->call_no, leg->n_pairs, others_open(leg));
	/* fewer pairs than participants: ask for more at once */
	if (others_open(leg) > leg->n_pairs)
		io->to_guest(io->ctx, leg,
			json_pack("{s:s, s:i}", "type", "renegotiate", "sources",
				(int)others_open(leg)));
out:
	free(o);
	free(ap);
	free(answer);
	return first;
}

/* Whether @leg's pairs carry exactly the others that send media now. */
static bool pairs_current(const struct cb_leg *leg)
{
	unsigned int mapped = 0;

	for (unsigned int k = 0; k < leg->n_pairs; k++) {
		const struct cb_leg *s =
			leg->pair_src[k][0] ? leg_in_call(leg->call, leg->pair_src[k]) : NULL;

		if (leg->pair_src[k][0] && (!s || !s->media_open))
			return false; /* a source that left */
		mapped += s != NULL;
	}
	return mapped == others_open(leg) || mapped == CB_MAX_PAIRS;
}

void cb_media_check(const struct cb_media_io *io, struct cb_call *c)
{
	for (struct cb_leg *l = c->legs; l; l = l->next)
		if (l->media_open && l->session && !pairs_current(l))
			io->to_guest(io->ctx, l,
				json_pack("{s:s, s:i}", "type", "renegotiate", "sources",
					(int)others_open(l)));
}

void cb_media_leave(struct media_server *ms, struct cb_leg *leg, const char *why)
{
	if (!leg->media_open)
		return;
	leg->media_open = false;
	media_leg_close(ms, leg->id, why);
}
