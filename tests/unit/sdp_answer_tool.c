/* Prints the callbridge's SDP answer to an offer file, for checking answers against a real
 * browser by hand (tests/unit/fixtures/sdp/check_answer.py): not a test on its own.
 * Usage: sdp_answer_tool [--simulcast] OFFER [ROLE...]; ROLE per m-line: recv | inactive |
 * reject | send:CODEC:STREAM:TRACK:SSRC; lines without a role are recv. --simulcast: as with
 * `callbridge simulcast enable`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../controlplane/callbridge/cb_sdp.h"

static int set_role(struct sdp_answer_params *p, unsigned i, char *r)
{
	if (!strcmp(r, "recv")) {
		p->role[i] = SDP_ROLE_RECV;
	} else if (!strcmp(r, "inactive")) {
		p->role[i] = SDP_ROLE_INACTIVE;
	} else if (!strcmp(r, "reject")) {
		p->role[i] = SDP_ROLE_REJECT;
	} else if (!strncmp(r, "send:", 5)) {
		struct sdp_source *s = &p->src[i];
		char *save, *codec = strtok_r(r + 5, ":", &save),
			    *stream = strtok_r(NULL, ":", &save),
			    *track = strtok_r(NULL, ":", &save), *ssrc = strtok_r(NULL, ":", &save);

		if (!codec || !stream || !track || !ssrc)
			return -EINVAL;
		p->role[i] = SDP_ROLE_SEND;
		snprintf(s->codec, sizeof(s->codec), "%s", codec);
		snprintf(s->stream_id, sizeof(s->stream_id), "%s", stream);
		snprintf(s->track_id, sizeof(s->track_id), "%s", track);
		snprintf(s->cname, sizeof(s->cname), "src-%s", stream);
		s->ssrc = (uint32_t)strtoul(ssrc, NULL, 10);
	} else {
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct sdp_offer o;
	static struct sdp_answer_params p;
	static char sdp[SDP_MAX_LEN + 1], ans[65536];
	char err[256];
	size_t n;
	FILE *f;

	if (argc > 1 && !strcmp(argv[1], "--simulcast")) {
		p.simulcast = true;
		argc--, argv++;
	}
	if (argc < 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr,
			"usage: sdp_answer_tool [--simulcast] OFFER [recv|inactive|reject|"
			"send:CODEC:STREAM:TRACK:SSRC ...]\n");
		return 2;
	}
	n = fread(sdp, 1, SDP_MAX_LEN, f);
	fclose(f);
	sdp[n] = '\0';
	if (sdp_parse_offer(sdp, &o, err, sizeof(err))) {
		fprintf(stderr, "offer: %s\n", err);
		return 1;
	}
	p.ufrag = "edgeLite";
	p.pwd = "edgeLitePassword0123456789";
	p.fingerprint = "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:"
			"AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99";
	p.session_id = 4242;
	p.session_version = 1;
	p.n_cand = 1;
	snprintf(p.cand[0].ip, sizeof(p.cand[0].ip), "198.18.20.1");
	p.cand[0].port = 3478;
	for (int i = 2; i < argc && i - 2 < SDP_MAX_MEDIA; i++)
		if (set_role(&p, (unsigned)(i - 2), argv[i])) {
			fprintf(stderr, "bad role '%s'\n", argv[i]);
			return 2;
		}
	if (sdp_build_answer(&o, &p, ans, sizeof(ans), err, sizeof(err)) < 0) {
		fprintf(stderr, "answer: %s\n", err);
		return 1;
	}
	fputs(ans, stdout);
	return 0;
}
