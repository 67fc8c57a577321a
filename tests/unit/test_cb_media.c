/* The callbridge's side of a guest's media (cb_media.c) over a stub media server: what the
 * answer and the media server's leg description say of a simulcast source (its layers, the
 * rtp-stream-id extension, an SSRC of ours that stays the same for every offer and that no
 * other leg of the call may have), and that its receivers' answers name that SSRC. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../controlplane/callbridge/cb_media.h"
#include "../../controlplane/callbridge/cb_sdp.h"
#include "edge_log.h"
#include "unit.h"

#ifndef EDGE_SRCDIR
#define EDGE_SRCDIR "."
#endif

/* ---- the stub media server and log ---- */

static struct media_leg_desc desc; /* the last media_leg_open()'s */
static unsigned int opens;
static const char *cand6; /* a second host candidate the stub's media server has: IPv6 */

int media_leg_open(struct media_server *ms, const struct media_leg_desc *d,
	struct media_local *local)
{
	(void)ms;
	desc = *d;
	opens++;
	memset(local, 0, sizeof(*local));
	snprintf(local->ufrag, sizeof(local->ufrag), "edgeLite");
	snprintf(local->pwd, sizeof(local->pwd), "edgeLitePassword0123456789");
	snprintf(local->fingerprint, sizeof(local->fingerprint),
		"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
		"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99");
	local->n_cand = 1;
	snprintf(local->cand[0].ip, sizeof(local->cand[0].ip), "198.18.20.1");
	local->cand[0].port = 3478;
	if (cand6) {
		snprintf(local->cand[1].ip, sizeof(local->cand[1].ip), "%s", cand6);
		local->cand[1].port = 3478;
		local->n_cand = 2;
	}
	return 0;
}

int media_leg_sources(struct media_server *ms, const char *id, const char (*src)[MEDIA_ID_LEN],
	unsigned int n)
{
	(void)ms, (void)id, (void)src, (void)n;
	return 0;
}

int media_leg_mute(struct media_server *ms, const char *id, bool audio, bool video)
{
	(void)ms, (void)id, (void)audio, (void)video;
	return 0;
}

void media_leg_close(struct media_server *ms, const char *id, const char *why)
{
	(void)ms, (void)id, (void)why;
}

static char logged[4096]; /* the lines since it was last emptied */

void edge_log(int level, const char *component, const char *fmt, ...)
{
	size_t n = strlen(logged);
	va_list ap;

	(void)level, (void)component;
	va_start(ap, fmt);
	vsnprintf(logged + n, sizeof(logged) - n, fmt, ap);
	va_end(ap);
	n = strlen(logged);
	snprintf(logged + n, sizeof(logged) - n, "\n");
}

size_t edge_log_sanitize(char *dst, size_t dstlen, const char *src)
{
	snprintf(dst, dstlen, "%s", src);
	return strlen(dst);
}

/* ---- a call, its legs, what they are sent ---- */

static char answer[65536], media_msg[512];

static void to_guest(void *ctx, struct cb_leg *leg, json_t *msg)
{
	const char *type = json_string_value(json_object_get(msg, "type"));

	(void)ctx, (void)leg;
	if (type && !strcmp(type, "answer"))
		snprintf(answer, sizeof(answer), "%s",
			json_string_value(json_object_get(msg, "sdp")));
	else if (type && !strcmp(type, "media"))
		snprintf(media_msg, sizeof(media_msg), "%s",
			json_string_value(json_object_get(msg, "message")));
	json_decref(msg);
}

static struct cb_media_io io = { .to_guest = to_guest };
static int ms_dummy;
#define MS ((struct media_server *)&ms_dummy)

static struct cb_call *new_call(void)
{
	struct cb_call *c = calloc(1, sizeof(*c));

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	snprintf(c->id, sizeof(c->id), "call-1");
	return c;
}

static struct cb_leg *new_leg(struct cb_call *c, const char *id)
{
	struct cb_leg *l = calloc(1, sizeof(*l)), **p = &c->legs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	snprintf(l->id, sizeof(l->id), "%s", id);
	snprintf(l->name, sizeof(l->name), "guest %s", id);
	l->call = c;
	l->session = true;
	while (*p)
		p = &(*p)->next;
	*p = l;
	c->n_legs++;
	return l;
}

static void free_call(struct cb_call *c)
{
	while (c->legs) {
		struct cb_leg *l = c->legs;

		c->legs = l->next;
		free(l);
	}
	free(c);
}

static const char *fixture(const char *name)
{
	static char bufs[2][SDP_MAX_LEN + 1];
	static unsigned turn;
	char rel[256];

	snprintf(rel, sizeof(rel), "sdp/%s", name);
	return unit_fixture(rel, bufs[turn++ & 1], sizeof(bufs[0]));
}

static void offer(struct cb_leg *l, const char *sdp)
{
	answer[0] = media_msg[0] = '\0';
	memset(&desc, 0, sizeof(desc));
	cb_media_offer(MS, &io, l, sdp);
}

static bool remembered(const struct cb_call *c, const char *leg, uint32_t ssrc)
{
	for (unsigned int i = 0; i < c->n_ssrcs; i++)
		if (c->ssrcs[i].ssrc == ssrc)
			return !strcmp(c->ssrcs[i].leg, leg);
	return false;
}

static unsigned int count_of(const char *hay, const char *needle)
{
	unsigned int n = 0;

	for (const char *s = hay; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* ---- tests ---- */

static void test_simulcast_source(void)
{
	struct cb_call *c = new_call();
	struct cb_leg *a = new_leg(c, "leg-a"), *b = new_leg(c, "leg-b");
	char line[128];
	uint32_t ours;

	io.simulcast = true;
	offer(a, fixture("chromium-simulcast.sdp"));
	CU_ASSERT_STRING_EQUAL(media_msg, "");
	CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(answer, "a=simulcast:recv h;m;l\r\n"));
	CU_ASSERT_EQUAL(desc.n_layers, 3);
	CU_ASSERT_STRING_EQUAL(desc.rid[0], "h");
	CU_ASSERT_STRING_EQUAL(desc.rid[1], "m");
	CU_ASSERT_STRING_EQUAL(desc.rid[2], "l");
	CU_ASSERT_EQUAL(desc.rid_ext, 10);
	CU_ASSERT_EQUAL(desc.twcc_ext, 3);
	CU_ASSERT_EQUAL(desc.pt[MEDIA_VP8], 96);
	/* the audio SSRC is the browser's; the video's ours (the offer names none) */
	CU_ASSERT_EQUAL(desc.audio_ssrc, 3081961041u);
	ours = desc.video_ssrc;
	CU_ASSERT(ours != 0 && ours != MEDIA_TWCC_SSRC && ours != desc.audio_ssrc);
	CU_ASSERT_EQUAL(a->video_ssrc, ours);
	CU_ASSERT_STRING_EQUAL(a->video_codec, "VP8");
	CU_ASSERT(a->media_open);
	CU_ASSERT(remembered(c, "leg-a", ours));
	/* not in our answer: the browser is the one that sends it */
	CU_ASSERT_PTR_NULL(strstr(answer, "a=ssrc"));
	/* an offer again (a renegotiation): the same SSRC, which its receivers' answers name */
	offer(a, fixture("chromium-simulcast.sdp"));
	CU_ASSERT_EQUAL(desc.video_ssrc, ours);
	CU_ASSERT_EQUAL(desc.n_layers, 3);
	CU_ASSERT_EQUAL(opens, 2);

	/* B receives A: its answer declares A's video under our SSRC */
	offer(b, fixture("chromium-2pairs.sdp"));
	CU_ASSERT_STRING_EQUAL(media_msg, "");
	CU_ASSERT_EQUAL(desc.n_layers, 0); /* B sends one stream: its own SSRC */
	CU_ASSERT_EQUAL(desc.video_ssrc, b->video_ssrc);
	CU_ASSERT(b->video_ssrc != 0);
	CU_ASSERT_PTR_NULL(strstr(answer, "a=simulcast"));
	snprintf(line, sizeof(line), "a=ssrc:%u cname:", ours);
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, line));
	snprintf(line, sizeof(line), "a=ssrc:%u msid:leg-a video-leg-a\r\n", ours);
	CU_ASSERT_PTR_NOT_NULL(strstr(answer, line));
	free_call(c);
}

/* Ours is never another leg's: one it has is passed over; a call that remembers too many to
 * tell refuses the offer, named. */
static void test_simulcast_ssrc_taken(void)
{
	struct cb_call *c = new_call();
	struct cb_leg *a = new_leg(c, "leg-x");
	uint32_t first;

	io.simulcast = true;
	offer(a, fixture("chromium-simulcast.sdp"));
	first = desc.video_ssrc;
	CU_ASSERT(first != 0);
	free_call(c);

	/* the same leg id in another call whose other leg once had that SSRC */
	c = new_call();
	a = new_leg(c, "leg-x");
	c->ssrcs[0].ssrc = first;
	snprintf(c->ssrcs[0].leg, sizeof(c->ssrcs[0].leg), "leg-other");
	c->n_ssrcs = 1;
	offer(a, fixture("chromium-simulcast.sdp"));
	CU_ASSERT_STRING_EQUAL(media_msg, "");
	CU_ASSERT(desc.video_ssrc != 0 && desc.video_ssrc != first);
	CU_ASSERT(remembered(c, "leg-x", desc.video_ssrc));
	free_call(c);

	/* a call full of others' SSRCs */
	c = new_call();
	a = new_leg(c, "leg-y");
	for (unsigned int i = 0; i < CB_CALL_SSRCS; i++) {
		c->ssrcs[i].ssrc = 1000 + i;
		snprintf(c->ssrcs[i].leg, sizeof(c->ssrcs[i].leg), "leg-other");
	}
	c->n_ssrcs = CB_CALL_SSRCS;
	opens = 0;
	offer(a, fixture("chromium-simulcast.sdp"));
	CU_ASSERT_PTR_NOT_NULL(strstr(media_msg, "no SSRC left for its video"));
	CU_ASSERT_EQUAL(opens, 0);
	CU_ASSERT_FALSE(a->media_open);
	free_call(c);
}

/* Simulcast off: one stream. A browser that offered layers anyway names no SSRC for its
 * video, which is then not forwarded, and the log says why. */
static void test_simulcast_off(void)
{
	struct cb_call *c = new_call();
	struct cb_leg *a = new_leg(c, "leg-a");

	io.simulcast = false;
	logged[0] = '\0';
	offer(a, fixture("chromium-simulcast.sdp"));
	CU_ASSERT_STRING_EQUAL(media_msg, "");
	CU_ASSERT_PTR_NOT_NULL(answer[0] ? answer : NULL);
	CU_ASSERT_PTR_NULL(strstr(answer, "simulcast"));
	CU_ASSERT_PTR_NULL(strstr(answer, "a=rid"));
	CU_ASSERT_EQUAL(desc.n_layers, 0);
	CU_ASSERT_EQUAL(desc.rid_ext, 0);
	CU_ASSERT_EQUAL(desc.video_ssrc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(logged, "simulcast, answered with one stream"));
	/* the usual offer: its own SSRC, no layers */
	offer(a, fixture("chromium-initial.sdp"));
	CU_ASSERT_EQUAL(desc.n_layers, 0);
	CU_ASSERT(desc.video_ssrc != 0);
	CU_ASSERT_EQUAL(a->video_ssrc, desc.video_ssrc);
	free_call(c);
}

/* Issue 18: the media server's IPv6 host candidate reaches the answer whole (the longest
 * textual IPv6 address: media_local holds INET6_ADDRSTRLEN), after the IPv4 one. */
static void test_ipv6_candidate(void)
{
	struct cb_call *c = new_call();
	struct cb_leg *a = new_leg(c, "leg-6");

	io.simulcast = false;
	cand6 = "2001:db8:1234:5678:9abc:def0:1234:5678";
	CU_ASSERT_EQUAL(strlen(cand6) + 1 <= sizeof(((struct media_local *)0)->cand[0].ip), 1);
	offer(a, fixture("chromium-initial.sdp"));
	cand6 = NULL;
	CU_ASSERT_STRING_EQUAL(media_msg, "");
	CU_ASSERT_EQUAL(count_of(answer,
				"a=candidate:1 1 udp 2130706431 198.18.20.1 3478 typ "
				"host\r\n"),
		2);
	CU_ASSERT_EQUAL(count_of(answer,
				"a=candidate:2 1 udp 2130706430 "
				"2001:db8:1234:5678:9abc:def0:1234:5678 3478 typ host\r\n"),
		2);
	CU_ASSERT_EQUAL(count_of(answer, "c=IN IP4 198.18.20.1\r\n"), 2);
	free_call(c);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "a simulcast source and its receiver", test_simulcast_source },
		{ "our SSRC is nobody else's", test_simulcast_ssrc_taken },
		{ "simulcast off", test_simulcast_off },
		{ "an IPv6 host candidate in the answer", test_ipv6_candidate },
		{ NULL, NULL },
	};

	return unit_run("cb_media", tests);
}
