/* libFuzzer target for the callbridge's SDP module: whatever offer a guest's page sends, the
 * parser must neither crash nor read out of bounds (ASan+UBSan watch), what it accepts must
 * hold only bounded, terminated fields, and every answer we build from it must be CRLF lines
 * inside the buffer. Seed it with tests/unit/fixtures/sdp. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../controlplane/callbridge/cb_sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sdp_offer offer;
static struct sdp_answer_params params;
static char text[SDP_MAX_LEN + 2], answer[1 << 17];

static void must_end(const char *s, size_t n)
{
	if (!memchr(s, '\0', n))
		abort();
}

static void check_offer(const struct sdp_offer *o)
{
	must_end(o->ufrag, sizeof(o->ufrag));
	must_end(o->pwd, sizeof(o->pwd));
	must_end(o->setup, sizeof(o->setup));
	if (!o->bundle || !o->ufrag[0] || !o->pwd[0] || o->fp_len != 32 || !o->n_media ||
		o->n_media > SDP_MAX_MEDIA)
		abort();
	for (unsigned i = 0; i < o->n_media; i++) {
		const struct sdp_media *m = &o->media[i];

		must_end(m->mid, sizeof(m->mid));
		must_end(m->kind, sizeof(m->kind));
		must_end(m->msid, sizeof(m->msid));
		must_end(m->cname, sizeof(m->cname));
		if (!m->mid[0] || m->n_codecs > SDP_MAX_CODECS || m->n_ext > SDP_MAX_EXT)
			abort();
		for (unsigned k = 0; k < m->n_codecs; k++) {
			const struct sdp_codec *c = &m->codecs[k];

			must_end(c->name, sizeof(c->name));
			must_end(c->fmtp, sizeof(c->fmtp));
			if (!c->name[0] || c->pt > 127 || c->n_fb > SDP_MAX_FB)
				abort();
			for (unsigned f = 0; f < c->n_fb; f++)
				must_end(c->fb[f], sizeof(c->fb[f]));
		}
		for (unsigned k = 0; k < m->n_ext; k++)
			must_end(m->ext[k].uri, sizeof(m->ext[k].uri));
		if (m->n_rids > SDP_MAX_RIDS || m->n_layers > SDP_MAX_LAYERS ||
			(sdp_simulcast(m) && (m->n_layers < 2 || sdp_simulcast(m) > 14)))
			abort();
		for (unsigned k = 0; k < m->n_rids; k++)
			if (!m->rids[k].id[0])
				abort();
		for (unsigned k = 0; k < m->n_rids; k++)
			must_end(m->rids[k].id, sizeof(m->rids[k].id));
		for (unsigned k = 0; k < m->n_layers; k++) {
			must_end(m->layers[k], sizeof(m->layers[k]));
			if (!m->layers[k][0])
				abort();
		}
	}
}

/* an answer is CRLF lines, all printable, and fits */
static void check_answer(int len)
{
	if (len <= 0 || (size_t)len >= sizeof(answer) || strlen(answer) != (size_t)len || len < 2 ||
		answer[len - 2] != '\r' || answer[len - 1] != '\n')
		abort();
	for (int i = 0; i < len; i++) {
		unsigned char c = (unsigned char)answer[i];

		if ((c == '\r') != (i + 1 < len && answer[i + 1] == '\n'))
			abort();
		if (c == '\n' && (i == 0 || answer[i - 1] != '\r'))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sdp_codec c;
	char err[256];
	int r;

	if (size > SDP_MAX_LEN + 1)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	r = sdp_parse_offer(text, &offer, err, sizeof(err));
	must_end(err, sizeof(err));
	if (r) {
		if (r > 0 || !err[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	check_offer(&offer);
	memset(&params, 0, sizeof(params));
	params.ufrag = "edgeLite";
	params.pwd = "edgeLitePassword0123456789";
	params.fingerprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
			     "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
	params.n_cand = 2;
	params.simulcast = size & 1; /* the operator's switch: both ways */
	strcpy(params.cand[0].ip, "198.18.20.1");
	params.cand[0].port = 3478;
	strcpy(params.cand[1].ip, "2001:db8::1");
	params.cand[1].port = 3478;
	/* the first offer's answer, then sources on every line that can take one */
	r = sdp_build_answer(&offer, &params, answer, sizeof(answer), err, sizeof(err));
	if (r >= 0)
		check_answer(r);
	else if (r != -ENOENT || !err[0])
		abort();
	for (unsigned i = 0; i < offer.n_media; i++) {
		const struct sdp_media *m = &offer.media[i];
		struct sdp_source *s = &params.src[i];

		if (sdp_choose(m, NULL, &c) == 0) {
			if (c.n_fb > SDP_MAX_FB || sdp_choose(m, c.name, &c) != 0)
				abort(); /* what we choose we find again by name */
		}
		params.role[i] = i % 4 == 3				   ? SDP_ROLE_REJECT :
			(m->dir == SDP_SENDRECV || m->dir == SDP_RECVONLY) ? SDP_ROLE_SEND :
			i % 2						   ? SDP_ROLE_INACTIVE :
									     SDP_ROLE_RECV;
		strcpy(s->stream_id, "src");
		strcpy(s->track_id, "trk");
		strcpy(s->cname, "cn");
		s->ssrc = 1000 + i;
		strcpy(s->codec, m->audio ? "opus" : i % 2 ? "H264" : "VP8");
	}
	r = sdp_build_answer(&offer, &params, answer, sizeof(answer), err, sizeof(err));
	if (r >= 0)
		check_answer(r);
	else if (!err[0])
		abort();
	return 0;
}
