/* The callbridge's SDP module: real Chromium and Firefox offers (tests/unit/fixtures/sdp)
 * parsed and answered as a guest's first offer and a renegotiation with sources, and every
 * kind of bad offer refused with a message naming what is wrong. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../controlplane/callbridge/cb_sdp.h"
#include "unit.h"

#ifndef EDGE_SRCDIR
#define EDGE_SRCDIR "."
#endif

static struct sdp_offer offer; /* 850 KiB: not on the stack */
static struct sdp_answer_params params;
static char answer[65536], err[256], text[SDP_MAX_LEN + 64];

static const char *fixture(const char *name)
{
	static char buf[SDP_MAX_LEN + 1];
	char rel[256];

	snprintf(rel, sizeof(rel), "sdp/%s", name);
	return unit_fixture(rel, buf, sizeof(buf));
}

static void parse_ok(const char *sdp)
{
	int r = sdp_parse_offer(sdp, &offer, err, sizeof(err));

	if (r)
		fprintf(stderr, "\nparse: %s\n", err);
	CU_ASSERT_EQUAL_FATAL(r, 0);
}

static const struct sdp_codec *codec(const struct sdp_media *m, uint8_t pt)
{
	for (unsigned i = 0; i < m->n_codecs; i++)
		if (m->codecs[i].pt == pt)
			return &m->codecs[i];
	return NULL;
}

static int ext_id(const struct sdp_media *m, const char *uri)
{
	for (unsigned i = 0; i < m->n_ext; i++)
		if (!strcmp(m->ext[i].uri, uri))
			return m->ext[i].id;
	return -1;
}

static void default_params(void)
{
	memset(&params, 0, sizeof(params));
	params.ufrag = "edgeLite";
	params.pwd = "edgeLitePassword0123456789";
	params.fingerprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
			     "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
	params.session_id = 4242;
	params.session_version = 1;
	params.n_cand = 1;
	strcpy(params.cand[0].ip, "198.18.20.1");
	params.cand[0].port = 3478;
}

static void set_source(unsigned i, const char *stream, const char *kind, uint32_t ssrc,
	const char *codec_name)
{
	struct sdp_source *s = &params.src[i];

	params.role[i] = SDP_ROLE_SEND;
	snprintf(s->stream_id, sizeof(s->stream_id), "%s", stream);
	snprintf(s->track_id, sizeof(s->track_id), "%s-%s", kind, stream);
	snprintf(s->cname, sizeof(s->cname), "cname-%s", stream);
	s->ssrc = ssrc;
	snprintf(s->codec, sizeof(s->codec), "%s", codec_name);
}

static int build(void)
{
	return sdp_build_answer(&offer, &params, answer, sizeof(answer), err, sizeof(err));
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *s = hay; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* the m-section of the answer with this index, NUL-terminated in a static buffer */
static const char *section(unsigned idx)
{
	static char sec[16384];
	const char *s = answer, *e;

	for (unsigned i = 0; i <= idx; i++) {
		s = strstr(s, "\r\nm=");
		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		s += 2;
	}
	e = strstr(s, "\r\nm=");
	e = e ? e + 2 : s + strlen(s);
	CU_ASSERT_FATAL((size_t)(e - s) < sizeof(sec));
	memcpy(sec, s, (size_t)(e - s));
	sec[e - s] = '\0';
	return sec;
}

/* every line of the answer ends in CRLF and none is empty */
static void assert_crlf(void)
{
	CU_ASSERT_EQUAL(count(answer, "\n"), count(answer, "\r\n"));
	CU_ASSERT_EQUAL(count(answer, "\r"), count(answer, "\r\n"));
	CU_ASSERT_EQUAL(count(answer, "\r\n\r\n"), 0);
	CU_ASSERT(strlen(answer) >= 2 && !strcmp(answer + strlen(answer) - 2, "\r\n"));
}

/* ---- parsing real offers ---- */

static void test_parse_chromium_initial(void)
{
	static const uint8_t fp0[4] = { 0x60, 0x67, 0xde, 0x45 };
	const struct sdp_media *a, *v;

	parse_ok(fixture("chromium-initial.sdp"));
	CU_ASSERT_STRING_EQUAL(offer.ufrag, "WBtK");
	CU_ASSERT_STRING_EQUAL(offer.pwd, "s0XfssE9QxK4Td6QE0vtkQe+");
	CU_ASSERT_STRING_EQUAL(offer.fp_alg, "sha-256");
	CU_ASSERT_EQUAL(offer.fp_len, 32);
	CU_ASSERT_EQUAL(memcmp(offer.fp, fp0, 4), 0);
	CU_ASSERT_EQUAL(offer.fp[31], 0x72);
	CU_ASSERT_STRING_EQUAL(offer.setup, "actpass");
	CU_ASSERT(offer.bundle);
	CU_ASSERT_EQUAL_FATAL(offer.n_media, 2);
	a = &offer.media[0];
	v = &offer.media[1];
	CU_ASSERT(a->audio && !a->other && !v->audio && !v->other);
	CU_ASSERT_STRING_EQUAL(a->mid, "0");
	CU_ASSERT_STRING_EQUAL(v->mid, "1");
	CU_ASSERT(a->dir == SDP_SENDONLY && v->dir == SDP_SENDONLY);
	CU_ASSERT(a->rtcp_mux && a->rtcp_rsize && v->rtcp_mux && v->rtcp_rsize);
	CU_ASSERT(!a->port0 && !v->port0 && a->bundled && v->bundled);
	CU_ASSERT_EQUAL(a->ssrc, 3615942172u);
	CU_ASSERT_EQUAL(a->rtx_ssrc, 0);
	CU_ASSERT_EQUAL(v->ssrc, 222336587u);
	CU_ASSERT_EQUAL(v->rtx_ssrc, 3229379828u);
	CU_ASSERT_STRING_EQUAL(a->cname, "d3ZXz1VLrhKJu77l");
	CU_ASSERT_STRING_EQUAL(v->msid,
		"0e05dedc-25d5-4cbf-b665-4578fa61c67d "
		"13196dc0-7039-47cb-8ac1-c317484a427a");
	/* all of them, in the offer's order */
	CU_ASSERT_EQUAL(a->n_codecs, 8);
	CU_ASSERT_EQUAL(v->n_codecs, 23);
	CU_ASSERT_EQUAL(a->codecs[0].pt, 111);
	CU_ASSERT_STRING_EQUAL(a->codecs[0].name, "opus");
	CU_ASSERT_EQUAL(a->codecs[0].clock, 48000);
	CU_ASSERT_EQUAL(a->codecs[0].channels, 2);
	CU_ASSERT_STRING_EQUAL(a->codecs[0].fmtp, "minptime=10;useinbandfec=1");
	CU_ASSERT_EQUAL(v->codecs[0].pt, 96);
	CU_ASSERT_STRING_EQUAL(v->codecs[0].name, "VP8");
	CU_ASSERT_EQUAL(v->codecs[0].n_fb, 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(codec(v, 108));
	CU_ASSERT_STRING_EQUAL(codec(v, 108)->fmtp,
		"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
	CU_ASSERT_STRING_EQUAL(codec(v, 97)->name, "rtx");
	CU_ASSERT_EQUAL(ext_id(a, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"), 1);
	CU_ASSERT_EQUAL(ext_id(v, "urn:ietf:params:rtp-hdrext:toffset"), 14);
	CU_ASSERT_EQUAL(ext_id(v, "urn:3gpp:video-orientation"), 13);
}

static void test_parse_chromium_2pairs(void)
{
	parse_ok(fixture("chromium-2pairs.sdp"));
	CU_ASSERT_EQUAL_FATAL(offer.n_media, 6);
	for (unsigned i = 0; i < 6; i++) {
		char mid[4];

		snprintf(mid, sizeof(mid), "%u", i);
		CU_ASSERT_STRING_EQUAL(offer.media[i].mid, mid);
		CU_ASSERT_EQUAL(offer.media[i].audio, i % 2 == 0);
		CU_ASSERT_EQUAL(offer.media[i].dir, i < 2 ? SDP_SENDONLY : SDP_RECVONLY);
		CU_ASSERT(offer.media[i].bundled);
	}
	CU_ASSERT_EQUAL(offer.media[1].ssrc, 2533008788u);
	CU_ASSERT_EQUAL(offer.media[1].rtx_ssrc, 1949626943u);
	CU_ASSERT_EQUAL(offer.media[3].ssrc, 0); /* recvonly: Chromium sends none */
	/* the recvonly video lists 34 payload types, more than the sendonly one */
	CU_ASSERT_EQUAL(offer.media[3].n_codecs, 34);
	CU_ASSERT_STRING_EQUAL(codec(&offer.media[3], 49)->name, "flexfec-03");
}

static void test_parse_firefox(void)
{
	const struct sdp_media *a, *v;

	/* Firefox: fingerprint at the session level, fmtp before rtpmap, the video bundle-only
	 * with port 0, FID after the a=ssrc lines, extmap directions */
	parse_ok(fixture("firefox-initial.sdp"));
	CU_ASSERT_STRING_EQUAL(offer.ufrag, "52e0171c");
	CU_ASSERT_STRING_EQUAL(offer.pwd, "8460061fac98a8598bc2e4d2abd479ee");
	CU_ASSERT_EQUAL(offer.fp_len, 32);
	CU_ASSERT_EQUAL(offer.fp[0], 0x27);
	CU_ASSERT_EQUAL(offer.fp[31], 0xa7);
	CU_ASSERT_STRING_EQUAL(offer.setup, "actpass");
	CU_ASSERT_EQUAL_FATAL(offer.n_media, 2);
	a = &offer.media[0];
	v = &offer.media[1];
	CU_ASSERT(!v->port0 && v->bundle_only && v->bundled);
	CU_ASSERT_EQUAL(a->codecs[0].pt, 109);
	CU_ASSERT_STRING_EQUAL(a->codecs[0].fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
	CU_ASSERT_EQUAL(v->codecs[0].pt, 120);
	CU_ASSERT_STRING_EQUAL(v->codecs[0].name, "VP8");
	CU_ASSERT_STRING_EQUAL(v->codecs[0].fmtp, "max-fs=12288;max-fr=60");
	CU_ASSERT_EQUAL(v->ssrc, 712800477u);
	CU_ASSERT_EQUAL(v->rtx_ssrc, 4285693074u);
	CU_ASSERT_EQUAL(a->ssrc, 4080157500u);
	CU_ASSERT_STRING_EQUAL(a->cname, "{89726c22-4502-42a5-aaab-c21d4cefd0a5}");
	CU_ASSERT_STRING_EQUAL(a->msid,
		"{c2c08383-5d0d-4457-9ff4-a4d383def4fe} "
		"{96b16dd1-d2c8-4129-a0ea-a57bfc068adc}");
	CU_ASSERT_EQUAL(ext_id(a, "urn:ietf:params:rtp-hdrext:csrc-audio-level"), 2);
	CU_ASSERT_EQUAL(ext_id(v, "urn:ietf:params:rtp-hdrext:toffset"), 5);

	parse_ok(fixture("firefox-2pairs.sdp"));
	CU_ASSERT_EQUAL_FATAL(offer.n_media, 6);
	CU_ASSERT_EQUAL(offer.media[5].dir, SDP_RECVONLY);
	CU_ASSERT_STRING_EQUAL(offer.media[5].mid, "5");
	CU_ASSERT_EQUAL(offer.media[5].ssrc, 2747069767u);
}

/* ---- codec choice ---- */

static const char *tmpl = "v=0\r\n"
			  "o=- 1 2 IN IP4 127.0.0.1\r\n"
			  "s=-\r\n"
			  "t=0 0\r\n"
			  "a=group:BUNDLE 0 1\r\n"
			  "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\n"
			  "c=IN IP4 0.0.0.0\r\n"
			  "a=ice-ufrag:abcd\r\n"
			  "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
			  "a=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"
			  "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF\r\n"
			  "a=setup:actpass\r\n"
			  "a=mid:0\r\n"
			  "a=sendonly\r\n"
			  "a=rtcp-mux\r\n"
			  "a=rtpmap:111 opus/48000/2\r\n"
			  "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
			  "c=IN IP4 0.0.0.0\r\n"
			  "a=ice-ufrag:abcd\r\n"
			  "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
			  "a=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"
			  "01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF\r\n"
			  "a=setup:actpass\r\n"
			  "a=mid:1\r\n"
			  "a=sendonly\r\n"
			  "a=rtcp-mux\r\n"
			  "a=rtpmap:96 VP8/90000\r\n"
			  "a=rtpmap:97 rtx/90000\r\n"
			  "a=fmtp:97 apt=96\r\n";

/* base with every occurrence of from replaced by to, in one of two buffers used in turn */
static const char *subst(const char *base, const char *from, const char *to)
{
	static char bufs[2][16384];
	static unsigned turn;
	char *out = bufs[turn++ & 1];
	size_t fl = strlen(from), tl = strlen(to), n = 0;

	for (const char *s = base; *s;) {
		CU_ASSERT_FATAL(n + tl + 1 < sizeof(bufs[0]));
		if (fl && !strncmp(s, from, fl)) {
			memcpy(out + n, to, tl);
			n += tl;
			s += fl;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	return out;
}

static const char *variant(const char *from, const char *to)
{
	return subst(tmpl, from, to);
}

static void test_template_parses(void)
{
	parse_ok(tmpl);
	CU_ASSERT_EQUAL(offer.n_media, 2);
	CU_ASSERT_STRING_EQUAL(offer.media[0].codecs[1].name, "PCMU"); /* static PT */
}

static void test_choose(void)
{
	struct sdp_codec c;
	const char *h264 = "m=video 9 UDP/TLS/RTP/SAVPF 102 104 106 108\r\n"
			   "a=rtpmap:102 H264/90000\r\n"
			   "a=fmtp:102 packetization-mode=0;profile-level-id=42e01f\r\n"
			   "a=rtpmap:104 H264/90000\r\n"
			   "a=fmtp:104 level-asymmetry-allowed=1; packetization-mode=1; "
			   "profile-level-id=4d001f\r\n"
			   "a=rtpmap:106 H264/90000\r\n"
			   "a=fmtp:106 packetization-mode=1;profile-level-id=42e01f\r\n"
			   "a=rtcp-fb:106 goog-remb\r\n"
			   "a=rtcp-fb:106 transport-cc\r\n"
			   "a=rtcp-fb:106 nack pli\r\n"
			   "a=rtpmap:108 H264/90000\r\n"
			   "a=fmtp:108 packetization-mode=1;profile-level-id=42c01f\r\n";
	char m[2048];

	parse_ok(fixture("chromium-initial.sdp"));
	CU_ASSERT_EQUAL_FATAL(sdp_choose(&offer.media[0], NULL, &c), 0);
	CU_ASSERT_EQUAL(c.pt, 111);
	CU_ASSERT_EQUAL(c.n_fb, 0); /* transport-cc dropped */
	CU_ASSERT_EQUAL_FATAL(sdp_choose(&offer.media[1], NULL, &c), 0);
	CU_ASSERT_EQUAL(c.pt, 96);
	CU_ASSERT_EQUAL(c.n_fb, 3);
	for (unsigned i = 0; i < c.n_fb; i++)
		CU_ASSERT(!strcmp(c.fb[i], "nack") || !strcmp(c.fb[i], "nack pli") ||
			!strcmp(c.fb[i], "ccm fir"));
	CU_ASSERT_EQUAL_FATAL(sdp_choose(&offer.media[1], "H264", &c), 0);
	CU_ASSERT_EQUAL(c.pt, 108); /* packetization-mode=1, 42e01f */
	CU_ASSERT_EQUAL(sdp_choose(&offer.media[1], "VP9", &c), -ENOENT);
	CU_ASSERT_EQUAL(sdp_choose(&offer.media[0], "PCMU", &c), -ENOENT);

	/* no VP8: H264 packetization-mode=1 constrained baseline 42e01f, whatever the order */
	snprintf(m, sizeof(m), "%s", h264);
	parse_ok(variant("m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n", m));
	CU_ASSERT_EQUAL_FATAL(sdp_choose(&offer.media[1], NULL, &c), 0);
	CU_ASSERT_EQUAL(c.pt, 106);
	CU_ASSERT_EQUAL(c.n_fb, 1);
	CU_ASSERT_STRING_EQUAL(c.fb[0], "nack pli");
	/* without it, another constrained baseline (42c01f) before main (4d001f) */
	parse_ok(variant("m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n",
		"m=video 9 UDP/TLS/RTP/SAVPF 102 104 108\r\n"
		"a=rtpmap:102 H264/90000\r\n"
		"a=fmtp:102 packetization-mode=0;profile-level-id=42e01f\r\n"
		"a=rtpmap:104 H264/90000\r\n"
		"a=fmtp:104 packetization-mode=1;profile-level-id=4d001f\r\n"
		"a=rtpmap:108 H264/90000\r\n"
		"a=fmtp:108 packetization-mode=1;profile-level-id=42c01f\r\n"));
	CU_ASSERT_EQUAL_FATAL(sdp_choose(&offer.media[1], NULL, &c), 0);
	CU_ASSERT_EQUAL(c.pt, 108);
	/* audio: opus/48000/2 only */
	parse_ok(variant("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/1"));
	CU_ASSERT_EQUAL(sdp_choose(&offer.media[0], NULL, &c), -ENOENT);
}

/* ---- answers ---- */

#define TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

static void test_answer_initial_chromium(void)
{
	const char *a, *v;

	parse_ok(fixture("chromium-initial.sdp"));
	default_params();
	CU_ASSERT_FATAL(build() > 0);
	assert_crlf();
	CU_ASSERT(!strncmp(answer, "v=0\r\no=- 4242 1 IN IP4 ", 23));
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "\r\ns=-\r\nt=0 0\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "\r\na=ice-lite\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "\r\na=group:BUNDLE 0 1\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "\r\na=msid-semantic: WMS *\r\n"));
	CU_ASSERT_EQUAL(count(answer, "\r\nm="), 2);
	CU_ASSERT_EQUAL(count(answer, "a=setup:passive\r\n"), 2);
	CU_ASSERT_EQUAL(count(answer, "a=setup:"), 2);
	CU_ASSERT_EQUAL(count(answer, "a=recvonly\r\n"), 2);
	CU_ASSERT_EQUAL(count(answer, "a=rtcp-mux\r\n"), 2);
	CU_ASSERT_EQUAL(count(answer, "a=rtcp-rsize\r\n"), 2);
	CU_ASSERT_EQUAL(count(answer, "a=ice-ufrag:edgeLite\r\n"), 2);
	CU_ASSERT_EQUAL(count(answer, "a=fingerprint:sha-256 AA:BB:CC:DD:"), 2);
	CU_ASSERT_EQUAL(count(answer,
				"a=candidate:1 1 udp 2130706431 198.18.20.1 3478 typ host\r\n"),
		2);
	CU_ASSERT_EQUAL(count(answer, "a=end-of-candidates\r\n"), 2);
	/* nothing we do not do */
	CU_ASSERT_PTR_NULL(strstr(answer, "rtx"));
	CU_ASSERT_PTR_NULL(strstr(answer, "red/"));
	CU_ASSERT_PTR_NULL(strstr(answer, "ulpfec"));
	CU_ASSERT_PTR_NULL(strstr(answer, "goog-remb"));
	/* transport-cc on both send lines (our feedback on the guest's uplink), id kept */
	CU_ASSERT_EQUAL(count(answer, "a=extmap:3 " TWCC "\r\n"), 2);
	CU_ASSERT_EQUAL(count(answer, "transport-cc"), 2);
	CU_ASSERT_PTR_NULL(strstr(answer, "sdes:mid"));
	CU_ASSERT_PTR_NULL(strstr(answer, "abs-send-time"));
	CU_ASSERT_PTR_NULL(strstr(answer, "a=ssrc"));
	CU_ASSERT_PTR_NULL(strstr(answer, "a=msid:"));
	CU_ASSERT_PTR_NULL(strstr(answer, "actpass"));

	a = section(0);
	CU_ASSERT(
		!strncmp(a, "m=audio 3478 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 198.18.20.1\r\n", 58));
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "a=mid:0\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "a=rtpmap:111 opus/48000/2\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "a=fmtp:111 minptime=10;useinbandfec=1\r\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(a, "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"));
	CU_ASSERT_EQUAL(count(a, "a=extmap:"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "a=rtcp-fb:111 transport-cc\r\n"));
	CU_ASSERT_EQUAL(count(a, "a=rtcp-fb:"), 1);
	v = section(1);
	CU_ASSERT(!strncmp(v, "m=video 3478 UDP/TLS/RTP/SAVPF 96\r\n", 35));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=mid:1\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=rtpmap:96 VP8/90000\r\n"));
	CU_ASSERT_EQUAL(count(v, "a=rtpmap:"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=rtcp-fb:96 nack\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=rtcp-fb:96 nack pli\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=rtcp-fb:96 ccm fir\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=rtcp-fb:96 transport-cc\r\n"));
	CU_ASSERT_EQUAL(count(v, "a=rtcp-fb:"), 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=extmap:13 urn:3gpp:video-orientation\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=extmap:3 " TWCC "\r\n"));
	CU_ASSERT_EQUAL(count(v, "a=extmap:"), 3);
	/* an id the one-byte header cannot carry (what the media server reads): neither the
	 * extension nor its feedback */
	parse_ok(subst(fixture("chromium-initial.sdp"), "a=extmap:3 http", "a=extmap:15 http"));
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NULL(strstr(answer, "transport-cc"));
	CU_ASSERT_PTR_NULL(strstr(answer, "transport-wide-cc"));
	/* ... so REMB where the codec offers it (Chromium: its video, not Opus): our estimate of
	 * the uplink goes with our receiver reports */
	CU_ASSERT_PTR_NOT_NULL(strstr(section(1), "a=rtcp-fb:96 goog-remb\r\n"));
	CU_ASSERT_EQUAL(count(answer, "goog-remb"), 1);
	CU_ASSERT_TRUE(sdp_remb(&offer.media[1], 96));
	CU_ASSERT_FALSE(sdp_remb(&offer.media[0], 111));
	/* without goog-remb either: none */
	parse_ok(
		subst(subst(fixture("chromium-initial.sdp"), "a=extmap:3 http", "a=extmap:15 http"),
			" goog-remb\r\n", " x-other\r\n"));
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NULL(strstr(answer, "goog-remb"));
	CU_ASSERT_FALSE(sdp_remb(&offer.media[1], 96));
	/* with transport-cc usable: never REMB */
	parse_ok(fixture("chromium-initial.sdp"));
	CU_ASSERT_FALSE(sdp_remb(&offer.media[1], 96));
}

static void test_answer_initial_firefox(void)
{
	parse_ok(fixture("firefox-initial.sdp"));
	default_params();
	params.n_cand = 2;
	strcpy(params.cand[1].ip, "2001:db8::1");
	params.cand[1].port = 3479;
	CU_ASSERT_FATAL(build() > 0);
	assert_crlf();
	CU_ASSERT(!strncmp(section(0), "m=audio 3478 UDP/TLS/RTP/SAVPF 109\r\n", 36));
	CU_ASSERT_PTR_NOT_NULL(strstr(section(0), "a=rtpmap:109 opus/48000/2\r\n"));
	/* bundle-only with port 0 in the offer: accepted, with a port */
	CU_ASSERT(!strncmp(section(1), "m=video 3478 UDP/TLS/RTP/SAVPF 120\r\n", 36));
	CU_ASSERT_PTR_NOT_NULL(strstr(section(1), "a=rtpmap:120 VP8/90000\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(section(1), "a=fmtp:120 max-fs=12288;max-fr=60\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(section(1), "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset"));
	CU_ASSERT_PTR_NULL(strstr(answer, "csrc-audio-level"));
	CU_ASSERT_PTR_NULL(strstr(answer, "rtx"));
	/* Firefox numbers it 7: kept, with transport-cc for the codec we answer only */
	CU_ASSERT_EQUAL(count(answer, "a=extmap:7 " TWCC "\r\n"), 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(section(0), "a=rtcp-fb:109 transport-cc\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(section(1), "a=rtcp-fb:120 transport-cc\r\n"));
	CU_ASSERT_EQUAL(count(answer, "transport-cc"), 2);
	CU_ASSERT_PTR_NULL(
		strstr(answer, "a=rtcp-rsize\r\na=extmap:1")); /* not offered for audio */
	CU_ASSERT_EQUAL(count(answer,
				"a=candidate:2 1 udp 2130706430 2001:db8::1 3479 typ host\r\n"),
		2);
	CU_ASSERT_EQUAL(count(answer, "a=recvonly\r\n"), 2);
}

static void test_answer_send_roles(void)
{
	const char *s;

	parse_ok(fixture("chromium-2pairs.sdp"));
	default_params();
	set_source(2, "alice", "audio", 1111, "opus");
	set_source(3, "alice", "video", 2222, "VP8");
	params.role[4] = SDP_ROLE_INACTIVE;
	params.role[5] = SDP_ROLE_INACTIVE;
	CU_ASSERT_FATAL(build() > 0);
	assert_crlf();
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "a=group:BUNDLE 0 1 2 3 4 5\r\n"));
	s = section(2);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=sendonly\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=rtpmap:111 opus/48000/2\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=msid:alice audio-alice\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=ssrc:1111 cname:cname-alice\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=ssrc:1111 msid:alice audio-alice\r\n"));
	s = section(3);
	CU_ASSERT(!strncmp(s, "m=video 3478 UDP/TLS/RTP/SAVPF 96\r\n", 35));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=sendonly\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=msid:alice video-alice\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=ssrc:2222 cname:cname-alice\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=ssrc:2222 msid:alice video-alice\r\n"));
	for (unsigned i = 4; i < 6; i++) {
		s = section(i);
		CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=inactive\r\n"));
		CU_ASSERT_PTR_NULL(strstr(s, "a=ssrc"));
		CU_ASSERT_PTR_NULL(strstr(s, " 0 UDP/TLS"));
	}
	CU_ASSERT_EQUAL(count(answer, "a=recvonly\r\n"), 2);
	CU_ASSERT_EQUAL(count(answer, "a=sendonly\r\n"), 2);
	/* transport-cc on the guest's uplink only: what we send it carries the sources' own
	 * transport-wide sequence numbers, not for it to answer */
	for (unsigned i = 0; i < 6; i++) {
		s = section(i);
		CU_ASSERT_EQUAL(count(s, "transport-cc"), i < 2);
		CU_ASSERT_EQUAL(count(s, "transport-wide-cc"), i < 2);
		if (i < 2)
			CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=extmap:3 " TWCC "\r\n"));
	}

	/* the source sends H264: the receiver's own PT for it */
	set_source(3, "alice", "video", 2222, "H264");
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT(!strncmp(section(3), "m=video 3478 UDP/TLS/RTP/SAVPF 108\r\n", 36));
	CU_ASSERT_PTR_NOT_NULL(strstr(section(3), "profile-level-id=42e01f\r\n"));

	/* a RECV role on a line the browser only receives on: inactive */
	params.role[4] = SDP_ROLE_RECV;
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(section(4), "a=inactive\r\n"));

	/* Firefox takes no H264 here: the error names the line and the codec */
	parse_ok(fixture("firefox-2pairs.sdp"));
	CU_ASSERT_EQUAL(build(), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "m-line 3 (video)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "H264"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "offered: VP8, VP9, AV1"));
	set_source(3, "alice", "video", 2222, "VP8");
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT(!strncmp(section(3), "m=video 3478 UDP/TLS/RTP/SAVPF 120\r\n", 36));
	CU_ASSERT_PTR_NOT_NULL(strstr(section(3), "a=ssrc:2222 msid:alice video-alice\r\n"));

	/* sending on a line the browser only sends on is the caller's mistake */
	set_source(0, "bob", "audio", 3333, "opus");
	CU_ASSERT_EQUAL(build(), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "m-line 0 (audio)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "sendonly"));
	params.role[0] = SDP_ROLE_RECV;
	/* a source without an SSRC or with a space in its id */
	params.src[2].ssrc = 0;
	CU_ASSERT_EQUAL(build(), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "m-line 2 (audio)"));
	params.src[2].ssrc = 1111;
	strcpy(params.src[2].stream_id, "a b");
	CU_ASSERT_EQUAL(build(), -EINVAL);
}

/* The second offer of a call (captured after the first answer was applied): Chromium now
 * carries its candidates, Firefox a session-level a=sendrecv that every m-line overrides. */
static void test_reoffers(void)
{
	static const char *const names[] = { "chromium-reoffer-2pairs.sdp",
		"firefox-reoffer-2pairs.sdp" };

	for (unsigned f = 0; f < 2; f++) {
		parse_ok(fixture(names[f]));
		CU_ASSERT_EQUAL_FATAL(offer.n_media, 6);
		CU_ASSERT_STRING_EQUAL(offer.setup, "actpass");
		for (unsigned i = 0; i < 6; i++)
			CU_ASSERT_EQUAL(offer.media[i].dir, i < 2 ? SDP_SENDONLY : SDP_RECVONLY);
		default_params();
		set_source(2, "bob", "audio", 5555, "opus");
		set_source(3, "bob", "video", 6666, "VP8");
		params.role[4] = params.role[5] = SDP_ROLE_INACTIVE;
		CU_ASSERT_FATAL(build() > 0);
		assert_crlf();
		CU_ASSERT_PTR_NOT_NULL(strstr(answer, "a=group:BUNDLE 0 1 2 3 4 5\r\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(section(3), "a=ssrc:6666 msid:bob video-bob\r\n"));
		CU_ASSERT_EQUAL(count(answer, "a=recvonly\r\n"), 2);
		CU_ASSERT_EQUAL(count(answer, "a=sendonly\r\n"), 2);
		CU_ASSERT_EQUAL(count(answer, "a=inactive\r\n"), 2);
	}
	CU_ASSERT_STRING_EQUAL(offer.ufrag, "7aae3b8c");
}

static void test_answer_reject(void)
{
	const char *s;

	/* a data channel, and the offerer's own rejected line: port 0, mid kept, not bundled */
	snprintf(text, sizeof(text), "%s",
		variant("a=group:BUNDLE 0 1\r\n", "a=group:BUNDLE 0 1 2\r\n"));
	snprintf(text + strlen(text), sizeof(text) - strlen(text),
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
		"c=IN IP4 0.0.0.0\r\na=mid:2\r\na=sctp-port:5000\r\n"
		"m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:3\r\n"
		"a=rtpmap:96 VP8/90000\r\n");
	parse_ok(text);
	CU_ASSERT_EQUAL_FATAL(offer.n_media, 4);
	CU_ASSERT(offer.media[2].other);
	CU_ASSERT_STRING_EQUAL(offer.media[2].kind, "application");
	CU_ASSERT(offer.media[3].port0);
	default_params();
	params.role[1] = SDP_ROLE_REJECT;
	CU_ASSERT_FATAL(build() > 0);
	assert_crlf();
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "a=group:BUNDLE 0\r\n"));
	s = section(1);
	CU_ASSERT(!strncmp(s, "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n", 32));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=mid:1\r\n"));
	CU_ASSERT_PTR_NULL(strstr(s, "a=candidate"));
	s = section(2);
	CU_ASSERT(!strncmp(s, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n", 50));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=mid:2\r\n"));
	s = section(3);
	CU_ASSERT(!strncmp(s, "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n", 32));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a=mid:3\r\n"));
}

static void test_answer_no_codec(void)
{
	const char *sdp = subst(variant("96 97\r\n", "96 97 98 99 100\r\n"),
		"a=rtpmap:96 VP8/90000\r\n",
		"a=rtpmap:96 AV1/90000\r\na=rtpmap:98 VP9/90000\r\na=rtpmap:99 VP9/90000\r\n"
		"a=rtpmap:100 H264/90000\r\na=fmtp:100 packetization-mode=0\r\n");

	parse_ok(sdp);
	CU_ASSERT_EQUAL(offer.media[1].n_codecs, 5);
	default_params();
	CU_ASSERT_EQUAL(build(), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err,
		"m-line 1 (video): no codec we can forward; "
		"offered: AV1, VP9, H264");
	/* an inactive line needs a codec too; a rejected one does not */
	params.role[1] = SDP_ROLE_INACTIVE;
	CU_ASSERT_EQUAL(build(), -ENOENT);
	params.role[1] = SDP_ROLE_REJECT;
	CU_ASSERT(build() > 0);
}

/* Issue 18: the media server's IPv6 host candidates beside the IPv4 one, in every m-section,
 * addresses of any length kept whole; an IPv6-only media interface's answer says IP6 in its
 * c= lines; an IPv6 address that does not parse is refused, named. */
static void test_answer_ipv6_candidates(void)
{
	static const char *const long6 = "2001:db8:1234:5678:9abc:def0:1234:5678";
	char line[128];

	parse_ok(fixture("chromium-initial.sdp"));
	default_params();
	params.n_cand = 3;
	strcpy(params.cand[1].ip, "2001:db8:20::1");
	params.cand[1].port = 3478;
	strcpy(params.cand[2].ip, long6);
	params.cand[2].port = 3478;
	CU_ASSERT_FATAL(build() > 0);
	assert_crlf();
	for (unsigned i = 0; i < 2; i++) {
		const char *sec = section(i);

		CU_ASSERT_PTR_NOT_NULL(strstr(sec, "\r\nc=IN IP4 198.18.20.1\r\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(sec,
			"a=candidate:1 1 udp 2130706431 198.18.20.1 3478 typ host\r\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(sec,
			"a=candidate:2 1 udp 2130706430 2001:db8:20::1 3478 typ host\r\n"));
		snprintf(line, sizeof(line), "a=candidate:3 1 udp 2130706429 %s 3478 typ host\r\n",
			long6);
		CU_ASSERT_PTR_NOT_NULL(strstr(sec, line));
		/* the candidates end the section's list, once */
		CU_ASSERT_PTR_NOT_NULL(strstr(sec, " typ host\r\na=end-of-candidates\r\n"));
	}
	CU_ASSERT_EQUAL(count(answer, "a=candidate:"), 6);

	/* IPv6 only */
	default_params();
	strcpy(params.cand[0].ip, "2001:db8:20::1");
	params.cand[0].port = 445;
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_EQUAL(count(answer, "\r\nc=IN IP6 2001:db8:20::1\r\n"), 2);
	CU_ASSERT_EQUAL(count(answer, "c=IN IP4"), 0);
	CU_ASSERT_EQUAL(count(answer,
				"a=candidate:1 1 udp 2130706431 2001:db8:20::1 445 typ host\r\n"),
		2);
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, "m=audio 445 "));

	/* not an address */
	default_params();
	params.n_cand = 2;
	strcpy(params.cand[1].ip, "2001:db8::g");
	params.cand[1].port = 3478;
	CU_ASSERT_EQUAL(build(), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "candidate 1"));
}

static void test_answer_errors(void)
{
	char small[256];

	parse_ok(fixture("chromium-initial.sdp"));
	default_params();
	CU_ASSERT_EQUAL(sdp_build_answer(&offer, &params, small, sizeof(small), err, sizeof(err)),
		-ENOSPC);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than"));
	params.fingerprint = "aa:bb";
	CU_ASSERT_EQUAL(build(), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "fingerprint"));
	default_params();
	params.n_cand = 0;
	CU_ASSERT_EQUAL(build(), -EINVAL);
	params.n_cand = 1;
	strcpy(params.cand[0].ip, "198.18.20.1\r\na=x");
	CU_ASSERT_EQUAL(build(), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "candidate 0"));
	default_params();
	params.pwd = "short";
	CU_ASSERT_EQUAL(build(), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "pwd"));
}

/* ---- bad offers ---- */

struct bad {
	const char *from, *to; /* the change to tmpl */
	int err;
	const char *says;
};

static const struct bad bad_offers[] = {
	{ "a=ice-ufrag:abcd\r\n", "", -EINVAL, "no a=ice-ufrag" },
	{ "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n", "", -EINVAL, "no a=ice-pwd" },
	{ "a=ice-pwd:abcdefghijklmnopqrstuvwx", "a=ice-pwd:short", -EINVAL, "a=ice-pwd" },
	{ "a=ice-ufrag:abcd", "a=ice-ufrag:ab\"d", -EINVAL, "a=ice-ufrag" },
	{ "a=fingerprint:sha-256", "a=x-fingerprint:sha-256", -EINVAL, "no a=fingerprint" },
	{ "a=fingerprint:sha-256 01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:",
		"a=fingerprint:sha-1 01:23:45:67:89:AB:CD:EF:01:23:", -ENOTSUP,
		"sha-1 offered, we need sha-256" },
	{ "01:23:45:67:89:AB:CD:EF\r\n", "01:23:45:67:89:AB:CD\r\n", -EINVAL, "31 bytes" },
	{ "01:23:45:67:89:AB:CD:EF\r\n", "01:23:45:67:89:AB:CD:EG\r\n", -EINVAL, "hex pairs" },
	{ "01:23:45:67:89:AB:CD:EF\r\n", "01:23:45:67:89:AB:CD:EF:01\r\n", -EINVAL, "hex pairs" },
	{ "a=setup:actpass", "a=setup:passive", -EINVAL, "a=setup:passive" },
	{ "a=setup:actpass\r\n", "", -EINVAL, "no a=setup" },
	{ "a=rtcp-mux\r\n", "", -EINVAL, "no a=rtcp-mux" },
	{ "a=group:BUNDLE 0 1\r\n", "", -EINVAL, "no a=group:BUNDLE" },
	{ "a=group:BUNDLE 0 1\r\n", "a=group:BUNDLE 0\r\n", -EINVAL, "not in the BUNDLE group" },
	{ "a=group:BUNDLE 0 1\r\n", "a=group:BUNDLE 0 1 7\r\n", -EINVAL, "mid 7 has no m-line" },
	{ "a=group:BUNDLE 0 1\r\n", "a=group:BUNDLE 0 1\r\na=group:BUNDLE 0\r\n", -EINVAL,
		"more than one BUNDLE" },
	{ "a=mid:1\r\n", "", -EINVAL, "m-line 1 (video): no a=mid" },
	{ "a=mid:1\r\n", "a=mid:0\r\n", -EINVAL, "used twice" },
	{ "a=mid:1\r\n", "a=mid:1 2\r\n", -EINVAL, "a=mid" },
	{ "v=0\r\n", "", -EINVAL, "starts with v=0" },
	{ "v=0\r\n", "v=0\r\nhello\r\n", -EINVAL, "line 2 (hello): not an SDP line" },
	{ "s=-\r\n", "s=\x01\r\n", -EINVAL, "control character 0x01" },
	{ "s=-\r\n", "s=caf\xc3\xa9\r\n", 0, NULL }, /* UTF-8 is fine */
	{ "s=-\r\n", "s=caf\xe9\r\n", -EILSEQ, "not UTF-8" },
	{ "s=-\r\n", "s=\xc0\xaf\r\n", -EILSEQ, "not UTF-8" },
	{ "s=-\r\n", "s=\xed\xa0\x80\r\n", -EILSEQ, "not UTF-8" },
	{ "s=-\r\n", "s=\xf0\x9f\r\n", -EILSEQ, "not UTF-8" },
	{ "s=-\r\n", "s=a\rb\r\n", -EINVAL, "carriage return" },
	{ "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus", -EINVAL, "clock rate" },
	{ "a=rtpmap:111 opus/48000/2", "a=rtpmap:128 opus/48000/2", -EINVAL, "payload type" },
	{ "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/48000/0", -EINVAL, "channels" },
	{ "a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/99999999999/2", -EINVAL, "clock" },
	{ "111 0\r\n", "111 x\r\n", -EINVAL, "m-line 0 (audio): payload type 'x'" },
	{ "m=video 9 UDP", "m=video 70000 UDP", -EINVAL, "port" },
	{ "m=video 9 UDP/TLS/RTP/SAVPF 96 97", "m=video 9", -EINVAL, "needs media, port" },
	{ "m=video 9 UDP/TLS/RTP/SAVPF", "m=video 9 RTP/AVP", -EPROTONOSUPPORT, "RTP/AVP" },
	{ "a=fmtp:97 apt=96", "a=fmtp:x apt=96", -EINVAL, "a=fmtp" },
	{ "a=sendonly\r\na=rtcp-mux\r\na=rtpmap:111",
		"a=sendonly\r\na=rtcp-mux\r\na=extmap:0 u\r\n"
		"a=rtpmap:111",
		-EINVAL, "a=extmap: id" },
	{ "a=sendonly\r\na=rtcp-mux\r\na=rtpmap:111",
		"a=sendonly\r\na=rtcp-mux\r\n"
		"a=ssrc:4294967296 cname:x\r\na=rtpmap:111",
		-EINVAL, "a=ssrc" },
	{ "a=fmtp:97 apt=96\r\n", "a=fmtp:97 apt=96", -EINVAL, "truncated" },
	{ "a=fmtp:97 apt=96\r\n", "a=fmtp:97 apt=96\r\na=ssrc-group:FID 1\r\n", -EINVAL, "FID" },
};

static void test_bad_offers(void)
{
	for (size_t i = 0; i < sizeof(bad_offers) / sizeof(bad_offers[0]); i++) {
		const struct bad *b = &bad_offers[i];
		int r;

		const char *sdp = variant(b->from, b->to);

		CU_ASSERT_FATAL(strcmp(sdp, tmpl) != 0); /* the change applied */
		r = sdp_parse_offer(sdp, &offer, err, sizeof(err));
		if (getenv("SDP_TEST_SHOW"))
			fprintf(stderr, "\n  %s", err);
		if (r != b->err || (b->says && !strstr(err, b->says)))
			fprintf(stderr, "\n#%zu: got %d '%s', want %d '%s'\n", i, r, err, b->err,
				b->says);
		CU_ASSERT_EQUAL(r, b->err);
		if (b->says)
			CU_ASSERT_PTR_NOT_NULL(strstr(err, b->says));
	}
}

static void test_limits(void)
{
	size_t n;

	/* SDP_MAX_MEDIA m-lines (a guest and 24 receive pairs), then one more */
	char more[64];

	n = (size_t)snprintf(text, sizeof(text), "%s", tmpl);
	for (int i = 2; i < SDP_MAX_MEDIA; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
			"m=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=mid:%d\r\n", i);
	parse_ok(text);
	CU_ASSERT_EQUAL(offer.n_media, SDP_MAX_MEDIA);
	snprintf(text + n, sizeof(text) - n, "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\na=mid:x\r\n");
	CU_ASSERT_EQUAL(sdp_parse_offer(text, &offer, err, sizeof(err)), -E2BIG);
	snprintf(more, sizeof(more), "more than %d m-lines", SDP_MAX_MEDIA);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, more));

	/* a line of 4096 bytes is fine, one of 4097 is not */
	n = (size_t)snprintf(text, sizeof(text), "%sa=x-long:", tmpl);
	memset(text + n, 'x', 4096 - 9);
	strcpy(text + n + 4096 - 9, "\r\n");
	CU_ASSERT_EQUAL(sdp_parse_offer(text, &offer, err, sizeof(err)), 0);
	memset(text + n, 'x', 4096 - 8);
	strcpy(text + n + 4096 - 8, "\r\n");
	CU_ASSERT_EQUAL(sdp_parse_offer(text, &offer, err, sizeof(err)), -E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than 4096 bytes"));

	/* the whole offer */
	n = (size_t)snprintf(text, sizeof(text), "%s", tmpl);
	while (n < SDP_MAX_LEN + 10)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "a=x-pad:%0990d\r\n", 0);
	CU_ASSERT_EQUAL(sdp_parse_offer(text, &offer, err, sizeof(err)), -E2BIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "offer longer than"));

	CU_ASSERT_EQUAL(sdp_parse_offer(NULL, &offer, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(sdp_parse_offer("", &offer, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "empty"));
	CU_ASSERT_EQUAL(sdp_parse_offer("v=0\r\n", &offer, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no m-line"));
	/* no err buffer at all */
	CU_ASSERT_EQUAL(sdp_parse_offer("x", &offer, NULL, 0), -EINVAL);
}

static void test_many_codecs(void)
{
	char pts[512];
	size_t n = 0;

	/* 62 payload types on the video line (the template's video is its last section) */
	for (int pt = 30; pt < 90; pt++)
		n += (size_t)snprintf(pts + n, sizeof(pts) - n, " %d", pt);
	snprintf(pts + n, sizeof(pts) - n, "\r\n");
	n = (size_t)snprintf(text, sizeof(text), "%s",
		subst(tmpl, "SAVPF 96 97\r\n", subst("SAVPF 96 97@", "@", pts)));
	for (int pt = 30; pt < 90; pt++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
			"a=rtpmap:%d VP9/90000\r\na=rtcp-fb:%d goog-remb\r\n", pt, pt);
	parse_ok(text);
	CU_ASSERT_EQUAL(offer.media[1].n_codecs, SDP_MAX_CODECS);
	CU_ASSERT_STRING_EQUAL(offer.media[1].codecs[0].name, "VP8");
	/* a full rtcp-fb list still makes room for the ones we keep */
	n = (size_t)snprintf(text, sizeof(text), "%s", tmpl);
	for (int i = 0; i < 10; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "a=rtcp-fb:96 x-fb-%d\r\n", i);
	snprintf(text + n, sizeof(text) - n, "a=rtcp-fb:* nack pli\r\n");
	parse_ok(text);
	CU_ASSERT_EQUAL(offer.media[1].codecs[0].n_fb, SDP_MAX_FB);
	{
		struct sdp_codec c;

		CU_ASSERT_EQUAL_FATAL(sdp_choose(&offer.media[1], NULL, &c), 0);
		CU_ASSERT_EQUAL(c.n_fb, 1);
		CU_ASSERT_STRING_EQUAL(c.fb[0], "nack pli");
	}
}

/* Every prefix of a real offer is refused cleanly, or (cut at a line end) parsed. */
static void test_truncations(void)
{
	static char cut[SDP_MAX_LEN + 1];
	const char *full = fixture("chromium-2pairs.sdp");
	size_t len = strlen(full);

	for (size_t n = 0; n < len; n++) {
		int r;

		memcpy(cut, full, n);
		cut[n] = '\0';
		r = sdp_parse_offer(cut, &offer, err, sizeof(err));
		CU_ASSERT(r <= 0);
		CU_ASSERT(r == 0 || err[0]);
		if (n && cut[n - 1] != '\n')
			CU_ASSERT(r < 0 && strstr(err, "truncated"));
	}
}

/* ---- simulcast (RFC 8851, RFC 8853) ---- */

#define RID_URI "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define SIM_LINE "a=simulcast:send h;m;l\r\n"

/* The layers the offer's video line (1) gives, "h;m;l", and what the answer says of them. */
static const char *layers_of(const char *sdp)
{
	static char buf[64];
	const struct sdp_media *m;

	parse_ok(sdp);
	m = &offer.media[1];
	buf[0] = '\0';
	for (unsigned k = 0; k < m->n_layers; k++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", k ? ";" : "",
			m->layers[k]);
	return buf;
}

static const char *sim_variant(const char *from, const char *to)
{
	return subst(fixture("chromium-simulcast.sdp"), from, to);
}

/* A real Chromium 156 offer: the web app's three encodings (h, m, l) */
static void test_parse_simulcast(void)
{
	const struct sdp_media *v;

	parse_ok(fixture("chromium-simulcast.sdp"));
	CU_ASSERT_EQUAL_FATAL(offer.n_media, 2);
	v = &offer.media[1];
	CU_ASSERT_EQUAL(v->n_rids, 3);
	CU_ASSERT_STRING_EQUAL(v->rids[0].id, "h");
	CU_ASSERT_STRING_EQUAL(v->rids[2].id, "l");
	CU_ASSERT(v->rids[0].send && v->rids[1].send && v->rids[2].send);
	CU_ASSERT_EQUAL(v->n_layers, 3);
	CU_ASSERT_STRING_EQUAL(v->layers[0], "h");
	CU_ASSERT_STRING_EQUAL(v->layers[1], "m");
	CU_ASSERT_STRING_EQUAL(v->layers[2], "l");
	/* Chromium names no SSRC for a line with rids: the layers' come with the packets */
	CU_ASSERT_EQUAL(v->ssrc, 0);
	CU_ASSERT_EQUAL(ext_id(v, RID_URI), 10);
	CU_ASSERT_EQUAL(sdp_simulcast(v), 10);
	CU_ASSERT_EQUAL(offer.media[0].n_layers, 0);
	CU_ASSERT_EQUAL(offer.media[0].n_rids, 0);
	CU_ASSERT_EQUAL(sdp_simulcast(&offer.media[0]), 0);
	/* the offers without simulcast have none */
	parse_ok(fixture("chromium-2pairs.sdp"));
	for (unsigned i = 0; i < offer.n_media; i++) {
		CU_ASSERT_EQUAL(offer.media[i].n_layers, 0);
		CU_ASSERT_EQUAL(sdp_simulcast(&offer.media[i]), 0);
	}
}

static void test_answer_simulcast(void)
{
	const char *v;

	parse_ok(fixture("chromium-simulcast.sdp"));
	default_params();
	params.simulcast = true;
	CU_ASSERT_FATAL(build() > 0);
	assert_crlf();
	v = section(1);
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=recvonly\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=rtpmap:96 VP8/90000\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=extmap:10 " RID_URI "\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=extmap:13 urn:3gpp:video-orientation\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(v, "a=extmap:3 " TWCC "\r\n"));
	CU_ASSERT_EQUAL(count(v, "a=extmap:"), 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(v,
		"a=rid:h recv\r\na=rid:m recv\r\na=rid:l recv\r\n"
		"a=simulcast:recv h;m;l\r\n"));
	CU_ASSERT_EQUAL(count(answer, "a=rid:"), 3);
	CU_ASSERT_EQUAL(count(answer, "a=simulcast:"), 1);
	/* never the MID (it would reach receivers as the sender wrote it), nor RTX's rid */
	CU_ASSERT_PTR_NULL(strstr(answer, "sdes:mid"));
	CU_ASSERT_PTR_NULL(strstr(answer, "repaired-rtp-stream-id"));
	CU_ASSERT_PTR_NULL(strstr(answer, "a=ssrc"));
	CU_ASSERT_PTR_NULL(strstr(section(0), RID_URI));
	/* simulcast off: one stream, nothing of it in the answer */
	params.simulcast = false;
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NULL(strstr(answer, "a=rid"));
	CU_ASSERT_PTR_NULL(strstr(answer, "simulcast"));
	CU_ASSERT_PTR_NULL(strstr(answer, RID_URI));
	CU_ASSERT_EQUAL(count(section(1), "a=extmap:"), 3);
	/* a line we do not receive on takes none */
	params.simulcast = true;
	params.role[1] = SDP_ROLE_INACTIVE;
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NULL(strstr(answer, "simulcast"));
	CU_ASSERT_PTR_NULL(strstr(answer, RID_URI));
	params.role[1] = SDP_ROLE_RECV;
	/* VP8 only: without it (H.264 chosen) one stream */
	parse_ok(sim_variant("a=rtpmap:96 VP8/90000", "a=rtpmap:96 VP7/90000"));
	CU_ASSERT_EQUAL(offer.media[1].n_layers, 3);
	CU_ASSERT_EQUAL(sdp_simulcast(&offer.media[1]), 0);
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(section(1), " H264/90000\r\n"));
	CU_ASSERT_PTR_NULL(strstr(answer, "simulcast"));
	CU_ASSERT_PTR_NULL(strstr(answer, "a=rid"));
	/* no rtp-stream-id extension, or one the one-byte header cannot carry: one stream */
	parse_ok(sim_variant("a=extmap:10 " RID_URI "\r\n", ""));
	CU_ASSERT_EQUAL(sdp_simulcast(&offer.media[1]), 0);
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NULL(strstr(answer, "simulcast"));
	parse_ok(sim_variant("a=extmap:10 " RID_URI, "a=extmap:15 " RID_URI));
	CU_ASSERT_EQUAL(sdp_simulcast(&offer.media[1]), 0);
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NULL(strstr(answer, "simulcast"));
	CU_ASSERT_PTR_NULL(strstr(answer, RID_URI));
	/* a line the offerer only receives on */
	parse_ok(sim_variant("a=sendonly\r\na=msid:", "a=recvonly\r\na=msid:"));
	CU_ASSERT_EQUAL(offer.media[1].dir, SDP_RECVONLY);
	CU_ASSERT_EQUAL(sdp_simulcast(&offer.media[1]), 0);
	/* two layers are simulcast, in the offer's order */
	parse_ok(sim_variant(SIM_LINE, "a=simulcast:send m;h\r\n"));
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(section(1),
		"a=rid:m recv\r\na=rid:h recv\r\n"
		"a=simulcast:recv m;h\r\n"));
	CU_ASSERT_EQUAL(count(answer, "a=rid:"), 2);
	/* one is not */
	parse_ok(sim_variant(SIM_LINE, "a=simulcast:send h\r\n"));
	CU_ASSERT_EQUAL(offer.media[1].n_layers, 1);
	CU_ASSERT_EQUAL(sdp_simulcast(&offer.media[1]), 0);
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NULL(strstr(answer, "a=rid"));
	/* the answer to 5 layers names the 3 we take, in the offer's order */
	parse_ok(subst(subst(fixture("chromium-simulcast.sdp"), "a=rid:h send\r\n",
			       "a=rid:a send\r\na=rid:b send\r\na=rid:h send\r\n"),
		SIM_LINE, "a=simulcast:send a;b;h;m;l\r\n"));
	CU_ASSERT_EQUAL(offer.media[1].n_rids, 5);
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(section(1),
		"a=rid:a recv\r\na=rid:b recv\r\na=rid:h recv\r\n"
		"a=simulcast:recv a;b;h\r\n"));
	CU_ASSERT_EQUAL(count(answer, "a=rid:"), 3);
}

/* RFC 8853's grammar and what does not fit it: never a refusal, one stream at worst */
static void test_simulcast_bad(void)
{
	static const struct {
		const char *line, *layers;
	} cases[] = {
		{ SIM_LINE, "h;m;l" },
		{ "a=simulcast:send h;x;l\r\n", "h;l" }, /* x: no a=rid */
		{ "a=simulcast:send x;y\r\n", "" },
		{ "a=simulcast:send ~h;m;l\r\n", "m;l" }, /* paused: left out */
		{ "a=simulcast:send ~h,m;l\r\n", "m;l" }, /* the first alternative not paused */
		{ "a=simulcast:send h,m;l\r\n", "h;l" },  /* the first alternative */
		{ "a=simulcast:send x,m;l\r\n", "m;l" },  /* the first alternative we know */
		{ "a=simulcast:send h;h;m\r\n", "h;m" },  /* each once */
		{ "a=simulcast:send h,m;m,l\r\n", "h;m" },
		{ "a=simulcast:recv x send l;m;h\r\n", "l;m;h" }, /* recv first, not ours */
		{ "a=simulcast:send h;m;l recv x\r\n", "h;m;l" },
		{ "a=simulcast:send h;m;l;h;m;l;h;m;l;x\r\n", "h;m;l" },
		/* empty lists and bad syntax: the line is left out */
		{ "a=simulcast:\r\n", "" },
		{ "a=simulcast:send\r\n", "" },
		{ "a=simulcast:send \r\n", "" },
		{ "a=simulcast:send ;\r\n", "" },
		{ "a=simulcast:send h;;l\r\n", "" },
		{ "a=simulcast:send ;h;l\r\n", "" },
		{ "a=simulcast:send h;m;\r\n", "" },
		{ "a=simulcast:send h,;m\r\n", "" },
		{ "a=simulcast:send ,h;m\r\n", "" },
		{ "a=simulcast:send ~;m\r\n", "" },
		{ "a=simulcast:send ~~h;m;l\r\n", "" },
		{ "a=simulcast:send h;m;l send h\r\n", "" },
		{ "a=simulcast:send h;m;l recv\r\n", "" },
		{ "a=simulcast:sendrecv h;m\r\n", "" },
		{ "a=simulcast: send rid=h;m;l\r\n", "" }, /* the draft's syntax */
		{ "a=simulcast:send h;m;l\xc3\xa9\r\n", "" },
		/* a rid we cannot carry (16 characters) is not taken; 15 are */
		{ "a=simulcast:send abcdefghijklmnop;m;l\r\n", "m;l" },
		/* a second line changes nothing */
		{ SIM_LINE "a=simulcast:send l;m\r\n", "h;m;l" },
		/* none: one stream */
		{ "", "" },
	};
	char line[160];

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = layers_of(sim_variant(SIM_LINE, cases[i].line));

		if (strcmp(got, cases[i].layers))
			fprintf(stderr, "\ncase %u: %s -> '%s'\n", i, cases[i].line, got);
		CU_ASSERT_STRING_EQUAL(got, cases[i].layers);
	}
	/* the rids' own lines */
	CU_ASSERT_STRING_EQUAL(layers_of(sim_variant("a=rid:m send\r\n", "a=rid:m recv\r\n")),
		"h;l");
	CU_ASSERT_STRING_EQUAL(layers_of(sim_variant("a=rid:m send\r\n", "a=rid:m\r\n")), "h;l");
	CU_ASSERT_STRING_EQUAL(layers_of(sim_variant("a=rid:m send\r\n", "a=rid:m sendonly\r\n")),
		"h;l");
	CU_ASSERT_STRING_EQUAL(layers_of(sim_variant("a=rid:m send\r\n", "a=rid:m;x send\r\n")),
		"h;l");
	CU_ASSERT_STRING_EQUAL(layers_of(sim_variant("a=rid:m send\r\n", "a=rid:\r\n")), "h;l");
	CU_ASSERT_STRING_EQUAL(layers_of(sim_variant("a=rid:m send\r\n",
				       "a=rid:m send pt=96;max-width=640\r\n")),
		"h;m;l"); /* restrictions are not ours to keep */
	CU_ASSERT_STRING_EQUAL(layers_of(sim_variant("a=rid:h send\r\n",
				       "a=rid:h recv\r\na=rid:h send\r\n")),
		"m;l"); /* an id twice: the first line counts */
	/* over-long: 16 characters are not ours, 15 are */
	CU_ASSERT_STRING_EQUAL(layers_of(subst(sim_variant("a=rid:h send\r\n",
						       "a=rid:abcdefghijklmnop send\r\n"),
				       SIM_LINE, "a=simulcast:send abcdefghijklmnop;m;l\r\n")),
		"m;l");
	CU_ASSERT_STRING_EQUAL(layers_of(subst(sim_variant("a=rid:h send\r\n",
						       "a=rid:abcdefghijklmno send\r\n"),
				       SIM_LINE, "a=simulcast:send abcdefghijklmno;m;l\r\n")),
		"abcdefghijklmno;m;l");
	/* the simulcast line before the rids it names */
	snprintf(line, sizeof(line), "%s", SIM_LINE "a=rid:h send\r\n");
	CU_ASSERT_STRING_EQUAL(layers_of(
				       subst(sim_variant(SIM_LINE, ""), "a=rid:h send\r\n", line)),
		"h;m;l");
	/* more a=rid lines than we keep: the first SDP_MAX_RIDS */
	{
		char rids[512] = "", list[256] = "a=simulcast:send ";

		for (int k = 0; k < SDP_MAX_RIDS + 2; k++) {
			snprintf(rids + strlen(rids), sizeof(rids) - strlen(rids),
				"a=rid:r%d send\r\n", k);
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%sr%d",
				k ? ";" : "", SDP_MAX_RIDS + 1 - k);
		}
		strcat(list, "\r\n");
		CU_ASSERT_STRING_EQUAL(layers_of(subst(sim_variant("a=rid:h send\r\n", rids),
					       SIM_LINE, list)),
			"r7;r6;r5");
		CU_ASSERT_EQUAL(offer.media[1].n_rids, SDP_MAX_RIDS); /* r8, r9, m, l left out */
	}
	/* a session-level simulcast is no m-line's */
	CU_ASSERT_STRING_EQUAL(layers_of(subst(sim_variant(SIM_LINE, ""), "t=0 0\r\n",
				       "t=0 0\r\n" SIM_LINE)),
		"");
	/* audio may say it too: only video is answered with it */
	parse_ok(subst(fixture("chromium-simulcast.sdp"), "a=rtpmap:111 opus",
		"a=rid:h send\r\na=rid:m send\r\n"
		"a=simulcast:send h;m\r\na=rtpmap:111 opus"));
	CU_ASSERT_EQUAL(offer.media[0].n_layers, 2);
	CU_ASSERT_EQUAL(sdp_simulcast(&offer.media[0]), 0);
	default_params();
	params.simulcast = true;
	CU_ASSERT_FATAL(build() > 0);
	CU_ASSERT_EQUAL(count(section(0), "a=rid"), 0);
	CU_ASSERT_EQUAL(count(section(1), "a=rid"), 3);
}

static void test_fingerprint_str(void)
{
	static const uint8_t fp[3] = { 0xab, 0x01, 0xff };
	char s[16];

	CU_ASSERT_EQUAL(sdp_fingerprint_str(fp, 3, s, sizeof(s)), 0);
	CU_ASSERT_STRING_EQUAL(s, "AB:01:FF");
	CU_ASSERT_EQUAL(sdp_fingerprint_str(fp, 3, s, 9), 0);
	CU_ASSERT_EQUAL(sdp_fingerprint_str(fp, 3, s, 8), -ENOSPC);
	CU_ASSERT_EQUAL(sdp_fingerprint_str(fp, 0, s, sizeof(s)), -EINVAL);
	/* and back through the parser */
	parse_ok(fixture("firefox-initial.sdp"));
	{
		char str[128];

		CU_ASSERT_EQUAL(sdp_fingerprint_str(offer.fp, offer.fp_len, str, sizeof(str)), 0);
		CU_ASSERT_STRING_EQUAL(str,
			"27:25:80:5E:E5:E8:74:F2:CF:7B:F1:37:E1:3E:18:1A:"
			"30:94:5C:86:EB:4F:60:A9:98:A1:4E:10:8C:2C:4D:A7");
	}
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "parse Chromium initial offer", test_parse_chromium_initial },
		{ "parse Chromium offer with 2 receive pairs", test_parse_chromium_2pairs },
		{ "parse Firefox offers", test_parse_firefox },
		{ "the template offer parses", test_template_parses },
		{ "codec choice", test_choose },
		{ "answer to Chromium's first offer", test_answer_initial_chromium },
		{ "answer to Firefox's first offer", test_answer_initial_firefox },
		{ "answer with sources, inactive lines", test_answer_send_roles },
		{ "answers to re-offers", test_reoffers },
		{ "rejected and other m-lines", test_answer_reject },
		{ "no codec we can forward", test_answer_no_codec },
		{ "answer parameter errors", test_answer_errors },
		{ "answer: IPv6 host candidates (issue 18)", test_answer_ipv6_candidates },
		{ "bad offers are refused, named", test_bad_offers },
		{ "limits", test_limits },
		{ "more codecs and feedback than we keep", test_many_codecs },
		{ "every truncation of a real offer", test_truncations },
		{ "fingerprint string", test_fingerprint_str },
		{ "parse Chromium's simulcast offer", test_parse_simulcast },
		{ "answer to simulcast", test_answer_simulcast },
		{ "simulcast: bad and odd input", test_simulcast_bad },
		{ NULL, NULL },
	};

	return unit_run("cb_sdp", tests);
}
