/* SDP offers from guests' browsers, parsed into fixed-size structs, and the callbridge's
 * answers (see cb_sdp.h). Everything here reads strangers' input: every field is bounded,
 * every number checked, and a refusal names the line and what is wrong with it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cb_sdp.h"

#define SDP_SIM_STREAMS 8 /* a=simulcast streams looked at: we take 3 */
#define SDP_SIM_ALTS 4	  /* alternatives looked at per stream */

/* The transport attributes as one level (session or one m-line) gives them. */
struct sdp_xport {
	char ufrag[64], pwd[128];
	char setup[16];
	bool fp_set; /* a sha-256 fingerprint was given */
	uint8_t fp[32];
	char fp_other[16]; /* the algorithm of a fingerprint we cannot use, if any */
};

struct sdp_parser {
	struct sdp_offer *o;
	char *err;
	size_t errlen;
	unsigned lineno;
	char line[SDP_MAX_LINE + 1]; /* the line as sent, for error messages */
	char work[SDP_MAX_LINE + 1]; /* the same, cut into tokens by the parser */
	struct sdp_xport sess, mx[SDP_MAX_MEDIA];
	enum sdp_dir sess_dir;
	struct sdp_media *m; /* the m-section being read, NULL at the session level */
	bool m_msid_attr;    /* the m-section had an a=msid line: a=ssrc msid: does not override */
	bool m_fid;	     /* the m-section had an a=ssrc-group:FID line */
	bool group_seen;
	unsigned n_bundle;
	char bundle[SDP_MAX_MEDIA][32];
	/* the m-section's a=simulcast send streams as written, resolved against its a=rid
	 * lines (which may come after) at its end: the first SDP_SIM_STREAMS streams, the first
	 * SDP_SIM_ALTS alternatives of each */
	bool m_sim;
	unsigned n_sim;
	struct sdp_sim_stream {
		unsigned n_alt;
		struct {
			bool paused;
			char id[SDP_RID_LEN];
		} alt[SDP_SIM_ALTS];
	} sim[SDP_SIM_STREAMS];
};

static int fail(struct sdp_parser *p, int e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "line N (excerpt): what" when at a line, else just "what" */
static int fail(struct sdp_parser *p, int e, const char *fmt, ...)
{
	char what[256], ex[48];
	size_t n = 0;
	va_list ap;

	if (!p->err || !p->errlen)
		return e;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!p->lineno) {
		snprintf(p->err, p->errlen, "%s", what);
		return e;
	}
	/* the excerpt is the stranger's text: printable ASCII only, short */
	for (const char *s = p->line; *s && n < 40; s++)
		ex[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	ex[n] = '\0';
	snprintf(p->err, p->errlen, "line %u (%s%s): %s", p->lineno, ex,
		strlen(p->line) > n ? "..." : "", what);
	return e;
}

static bool parse_uint(const char *s, uint32_t max, uint32_t *v)
{
	uint64_t x = 0;

	if (!*s || strlen(s) > 10)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (x > max)
		return false;
	*v = (uint32_t)x;
	return true;
}

/* RFC 4566 token-char: what may be echoed into our answer as a mid, kind, codec name */
static bool is_token(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("\"(),/:;<=>?@[\\]", *s))
			return false;
	return true;
}

/* RFC 5576's cname value is a byte-string; browsers' hold '+' and '/' (base64): any visible
 * ASCII, nothing that could end the line or the attribute. */
static bool is_visible(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max)
		return false;
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			return false;
	return true;
}

static bool is_ice_chars(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || *s == '+' || *s == '/'))
			return false;
	return true;
}

static bool copy_str(char *dst, size_t dlen, const char *src)
{
	size_t n = strlen(src);

	if (n >= dlen)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

/* the next space-separated token of *s, NUL-terminated in place; NULL at the end */
static char *next_tok(char **s)
{
	char *t = *s;

	while (*t == ' ' || *t == '\t')
		t++;
	if (!*t) {
		*s = t;
		return NULL;
	}
	*s = t + strcspn(t, " \t");
	if (**s)
		*(*s)++ = '\0';
	return t;
}

static const char *kind_of(const struct sdp_media *m)
{
	return m->kind[0] ? m->kind : "?";
}

/* One line of well-formed UTF-8 without control characters (tab aside). */
static int check_text(struct sdp_parser *p, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], need, cp;

		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return fail(p, -EINVAL, "control character 0x%02x", c);
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return fail(p, -EILSEQ, "not UTF-8 (byte 0x%02x)", c);
		if (n - i <= need)
			return fail(p, -EILSEQ, "not UTF-8 (cut sequence)");
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return fail(p, -EILSEQ, "not UTF-8 (byte 0x%02x)", s[i + k]);
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
			(need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			return fail(p, -EILSEQ, "not UTF-8 (overlong or out of range)");
		i += need + 1;
	}
	return 0;
}

static struct sdp_codec *codec_by_pt(struct sdp_media *m, uint32_t pt)
{
	for (unsigned i = 0; i < m->n_codecs; i++)
		if (m->codecs[i].pt == pt)
			return &m->codecs[i];
	return NULL;
}

static bool fb_wanted(const char *fb)
{
	return !strcasecmp(fb, "nack") || !strcasecmp(fb, "nack pli") || !strcasecmp(fb, "ccm fir");
}

/* transport-cc: the feedback we send on a guest's uplink (its send m-lines only: what we
 * send it carries the sources' own sequence numbers, which it must not answer) */
static bool fb_uplink(const char *fb)
{
	return !strcasecmp(fb, "transport-cc");
}

/* A codec's rtcp-fb list is bounded: once full, the ones we honour displace the others. */
static void fb_add(struct sdp_codec *c, const char *fb)
{
	if (strlen(fb) >= sizeof(c->fb[0]))
		return;
	for (unsigned i = 0; i < c->n_fb; i++)
		if (!strcasecmp(c->fb[i], fb))
			return;
	if (c->n_fb < SDP_MAX_FB) {
		copy_str(c->fb[c->n_fb++], sizeof(c->fb[0]), fb);
		return;
	}
	if (!fb_wanted(fb) && !fb_uplink(fb))
		return;
	for (unsigned i = SDP_MAX_FB; i-- > 0;)
		if (!fb_wanted(c->fb[i]) && !fb_uplink(c->fb[i])) {
			copy_str(c->fb[i], sizeof(c->fb[0]), fb);
			return;
		}
}

/* Never urn:ietf:params:rtp-hdrext:sdes:mid: extensions pass through the SFU as the sender
 * wrote them, and a receiver whose BUNDLE knows the mid extension routes a packet by the MID
 * in it (the source's, naming one of the receiver's own m-lines), not by the SSRC its answer
 * names. The rtp-stream-id is answered only with simulcast (sdp_simulcast()). */
static const char *const ext_audio[] = { "urn:ietf:params:rtp-hdrext:ssrc-audio-level", NULL };
static const char *const ext_video[] = { "urn:3gpp:video-orientation",
	"urn:ietf:params:rtp-hdrext:toffset", NULL };

/* the transport-wide sequence number: answered on the guest's send m-lines, with its id,
 * when that id fits the one-byte header (1..14: what the media server reads) */
#define SDP_TWCC_URI "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

static bool ext_allowed(bool audio, const char *uri)
{
	for (const char *const *a = audio ? ext_audio : ext_video; *a; a++)
		if (!strcmp(*a, uri))
			return true;
	return false;
}

static bool ext_kept(bool audio, const char *uri)
{
	return ext_allowed(audio, uri) || !strcmp(uri, SDP_TWCC_URI) ||
		(!audio && !strcmp(uri, SDP_RID_URI));
}

/* The offer's extension id for @uri on @m when it fits the one-byte header (1..14: what the
 * media server reads), else 0. */
static unsigned int ext_id_of(const struct sdp_media *m, const char *uri)
{
	for (unsigned k = 0; k < m->n_ext; k++)
		if (!strcmp(m->ext[k].uri, uri))
			return m->ext[k].id <= 14 ? m->ext[k].id : 0;
	return 0;
}

static unsigned int twcc_ext_of(const struct sdp_media *m)
{
	return ext_id_of(m, SDP_TWCC_URI);
}

static void ext_add(struct sdp_media *m, uint8_t id, const char *uri)
{
	struct sdp_extmap *e = NULL;

	if (strlen(uri) >= sizeof(m->ext[0].uri))
		return;
	if (m->n_ext < SDP_MAX_EXT) {
		e = &m->ext[m->n_ext++];
	} else if (!m->other && ext_kept(m->audio, uri)) {
		for (unsigned i = SDP_MAX_EXT; i-- > 0 && !e;)
			if (!ext_kept(m->audio, m->ext[i].uri))
				e = &m->ext[i];
	}
	if (e) {
		e->id = id;
		copy_str(e->uri, sizeof(e->uri), uri);
	}
}

/* ---- attributes ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_fingerprint(struct sdp_parser *p, struct sdp_xport *x, char *v)
{
	char *alg = next_tok(&v), *hex = next_tok(&v);
	uint8_t fp[32];
	unsigned n = 0;

	if (!alg || !hex)
		return fail(p, -EINVAL, "a=fingerprint: needs an algorithm and a value");
	if (strcasecmp(alg, "sha-256")) {
		if (!x->fp_set && !copy_str(x->fp_other, sizeof(x->fp_other), alg))
			copy_str(x->fp_other, sizeof(x->fp_other), "(long name)");
		return 0;
	}
	for (const char *s = hex;; s += 3) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (n == sizeof(fp) || lo < 0 || (s[2] && s[2] != ':'))
			return fail(p, -EINVAL,
				"a=fingerprint: sha-256 must be 32 hex pairs AB:CD:...");
		fp[n++] = (uint8_t)(hi << 4 | lo);
		if (!s[2])
			break;
	}
	if (n != sizeof(fp))
		return fail(p, -EINVAL, "a=fingerprint: sha-256 has %u bytes, not 32", n);
	memcpy(x->fp, fp, sizeof(fp));
	x->fp_set = true;
	return 0;
}

static int parse_xport(struct sdp_parser *p, struct sdp_xport *x, const char *name, char *v,
	bool *done)
{
	*done = true;
	if (!strcmp(name, "ice-ufrag")) {
		size_t n = strlen(v);

		if (n < 4 || n >= sizeof(x->ufrag) || !is_ice_chars(v))
			return fail(p, -EINVAL, "a=ice-ufrag: must be 4 to %zu ice-chars",
				sizeof(x->ufrag) - 1);
		copy_str(x->ufrag, sizeof(x->ufrag), v);
	} else if (!strcmp(name, "ice-pwd")) {
		size_t n = strlen(v);

		if (n < 22 || n >= sizeof(x->pwd) || !is_ice_chars(v))
			return fail(p, -EINVAL, "a=ice-pwd: must be 22 to %zu ice-chars",
				sizeof(x->pwd) - 1);
		copy_str(x->pwd, sizeof(x->pwd), v);
	} else if (!strcmp(name, "fingerprint")) {
		return parse_fingerprint(p, x, v);
	} else if (!strcmp(name, "setup")) {
		if (!copy_str(x->setup, sizeof(x->setup), v) || !*v)
			return fail(p, -EINVAL, "a=setup: unknown role");
	} else {
		*done = false;
	}
	return 0;
}

static bool parse_dir(const char *name, enum sdp_dir *d)
{
	static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(name, names[i])) {
			*d = (enum sdp_dir)i;
			return true;
		}
	return false;
}

static int parse_group(struct sdp_parser *p, char *v)
{
	char *sem = next_tok(&v), *mid;

	if (!sem || strcmp(sem, "BUNDLE"))
		return 0;
	if (p->group_seen)
		return fail(p, -EINVAL, "a=group:BUNDLE: more than one BUNDLE group");
	p->group_seen = true;
	while ((mid = next_tok(&v))) {
		if (p->n_bundle == SDP_MAX_MEDIA)
			return fail(p, -E2BIG, "a=group:BUNDLE: more than %d mids", SDP_MAX_MEDIA);
		if (!is_token(mid, sizeof(p->bundle[0]) - 1))
			return fail(p, -EINVAL, "a=group:BUNDLE: bad mid");
		copy_str(p->bundle[p->n_bundle++], sizeof(p->bundle[0]), mid);
	}
	return 0;
}

static int parse_rtpmap(struct sdp_parser *p, struct sdp_media *m, char *v)
{
	char *pt = next_tok(&v), *enc = next_tok(&v), *name, *clock, *ch;
	struct sdp_codec *c;
	uint32_t n, hz, chans = 0;

	if (!pt || !enc || !parse_uint(pt, 127, &n))
		return fail(p, -EINVAL, "a=rtpmap: needs a payload type 0..127 and an encoding");
	name = strtok_r(enc, "/", &enc);
	clock = strtok_r(NULL, "/", &enc);
	ch = strtok_r(NULL, "/", &enc);
	if (!name || !is_token(name, sizeof(c->name) - 1))
		return fail(p, -EINVAL, "a=rtpmap: encoding name must be 1 to %zu token characters",
			sizeof(c->name) - 1);
	if (!clock || !parse_uint(clock, UINT32_MAX, &hz) || !hz)
		return fail(p, -EINVAL, "a=rtpmap: clock rate is not a positive number");
	if (ch && (!parse_uint(ch, 255, &chans) || !chans))
		return fail(p, -EINVAL, "a=rtpmap: channels must be 1..255");
	c = codec_by_pt(m, n);
	if (!c)
		return 0; /* not in the m-line, or beyond what we keep */
	copy_str(c->name, sizeof(c->name), name);
	c->clock = hz;
	c->channels = (uint8_t)chans;
	return 0;
}

static int parse_fmtp(struct sdp_parser *p, struct sdp_media *m, char *v)
{
	char *pt = next_tok(&v);
	struct sdp_codec *c;
	uint32_t n;

	if (!pt || !parse_uint(pt, 127, &n))
		return fail(p, -EINVAL, "a=fmtp: needs a payload type 0..127");
	while (*v == ' ' || *v == '\t')
		v++;
	c = codec_by_pt(m, n);
	if (!c)
		return 0;
	if (!copy_str(c->fmtp, sizeof(c->fmtp), v))
		return fail(p, -EINVAL, "a=fmtp: longer than %zu characters", sizeof(c->fmtp) - 1);
	return 0;
}

static int parse_rtcp_fb(struct sdp_parser *p, struct sdp_media *m, char *v)
{
	char *pt = next_tok(&v);
	uint32_t n;

	if (!pt || (strcmp(pt, "*") && !parse_uint(pt, 127, &n)))
		return fail(p, -EINVAL, "a=rtcp-fb: needs a payload type 0..127 or *");
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v)
		return fail(p, -EINVAL, "a=rtcp-fb: no feedback type");
	if (!strcmp(pt, "*")) {
		for (unsigned i = 0; i < m->n_codecs; i++)
			fb_add(&m->codecs[i], v);
	} else if (codec_by_pt(m, n)) {
		fb_add(codec_by_pt(m, n), v);
	}
	return 0;
}

static int parse_extmap(struct sdp_parser *p, struct sdp_media *m, char *v)
{
	char *id = next_tok(&v), *uri = next_tok(&v);
	uint32_t n;

	if (!id || !uri)
		return fail(p, -EINVAL, "a=extmap: needs an id and a URI");
	id[strcspn(id, "/")] = '\0'; /* Firefox's "2/recvonly" */
	if (!parse_uint(id, 255, &n) || !n)
		return fail(p, -EINVAL, "a=extmap: id must be 1..255");
	ext_add(m, (uint8_t)n, uri);
	return 0;
}

static int parse_ssrc(struct sdp_parser *p, struct sdp_media *m, char *v)
{
	char *id = next_tok(&v), *attr;
	uint32_t n;

	if (!id || !parse_uint(id, UINT32_MAX, &n))
		return fail(p, -EINVAL, "a=ssrc: SSRC is not a 32-bit number");
	while (*v == ' ' || *v == '\t')
		v++;
	attr = v;
	if (!m->ssrc && !p->m_fid)
		m->ssrc = n;
	if (!strncmp(attr, "cname:", 6) && !m->cname[0])
		copy_str(m->cname, sizeof(m->cname), attr + 6);
	else if (!strncmp(attr, "msid:", 5) && !p->m_msid_attr && !m->msid[0])
		copy_str(m->msid, sizeof(m->msid), attr + 5);
	return 0;
}

static int parse_ssrc_group(struct sdp_parser *p, struct sdp_media *m, char *v)
{
	char *sem = next_tok(&v), *a, *b;
	uint32_t sa, sb;

	if (!sem || strcmp(sem, "FID"))
		return 0;
	a = next_tok(&v);
	b = next_tok(&v);
	if (!a || !b || !parse_uint(a, UINT32_MAX, &sa) || !parse_uint(b, UINT32_MAX, &sb))
		return fail(p, -EINVAL, "a=ssrc-group:FID: needs two SSRCs");
	if (p->m_fid)
		return 0; /* simulcast's several FID groups: the first is the one we use */
	p->m_fid = true;
	m->ssrc = sa;
	m->rtx_ssrc = sb;
	return 0;
}

/* ---- simulcast (RFC 8851 rid, RFC 8853 simulcast) ---- */

/* rid-id = 1*(alpha-numeric / "-" / "_") */
static bool rid_syntax(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return false;
	return true;
}

/* and short enough for us (SDP_RID_LEN) */
static bool rid_ok(const char *s)
{
	return rid_syntax(s) && strlen(s) < SDP_RID_LEN;
}

static const struct sdp_rid *rid_find(const struct sdp_media *m, const char *id)
{
	for (unsigned i = 0; i < m->n_rids; i++)
		if (!strcmp(m->rids[i].id, id))
			return &m->rids[i];
	return NULL;
}

/* a=rid:<id> send|recv [restrictions]. One we cannot use (a malformed or over-long id, an
 * unknown direction, an id given twice, one past SDP_MAX_RIDS) is left out: the layers that
 * name it are then not taken (RFC 8851 10: the answerer removes what it does not accept). */
static void parse_rid(struct sdp_media *m, char *v)
{
	char *id = next_tok(&v), *dir = next_tok(&v);
	struct sdp_rid *r;

	if (!id || !dir || !rid_ok(id) || (strcmp(dir, "send") && strcmp(dir, "recv")) ||
		rid_find(m, id) || m->n_rids == SDP_MAX_RIDS)
		return;
	r = &m->rids[m->n_rids++];
	copy_str(r->id, sizeof(r->id), id);
	r->send = !strcmp(dir, "send");
}

/* One sc-str-list: "h;m;l", "h,x;~m", each alternative a rid-id, "~" paused; cut in place.
 * false when it is not one (an empty stream or alternative, a bad id). An id too long for us
 * is kept as "", which names no rid: that alternative is not taken. */
static bool parse_sim_list(struct sdp_parser *p, char *list, bool keep)
{
	for (char *stream = list, *end; stream; stream = end) {
		struct sdp_sim_stream *st =
			keep && p->n_sim < SDP_SIM_STREAMS ? &p->sim[p->n_sim++] : NULL;

		if ((end = strchr(stream, ';')))
			*end++ = '\0';
		for (char *alt = stream, *next; alt; alt = next) {
			bool paused = *alt == '~';

			if ((next = strchr(alt, ',')))
				*next++ = '\0';
			if (!rid_syntax(alt + paused))
				return false;
			if (st && st->n_alt < SDP_SIM_ALTS) {
				st->alt[st->n_alt].paused = paused;
				if (!copy_str(st->alt[st->n_alt].id, SDP_RID_LEN, alt + paused))
					st->alt[st->n_alt].id[0] = '\0';
				st->n_alt++;
			}
		}
	}
	return true;
}

/* a=simulcast:send <list> [recv <list>] (or recv first): the send list kept for the m-line's
 * end. A malformed line, or a second one, is left out whole: one stream then (RFC 8853 5.3). */
static void parse_simulcast(struct sdp_parser *p, char *v)
{
	char *dir, *list;
	bool send_seen = false, recv_seen = false;

	if (p->m_sim)
		return;
	p->m_sim = true;
	while ((dir = next_tok(&v))) {
		bool send = !strcmp(dir, "send");

		if ((!send && strcmp(dir, "recv")) || (send ? send_seen : recv_seen) ||
			!(list = next_tok(&v)) || !parse_sim_list(p, list, send)) {
			p->n_sim = 0;
			return;
		}
		*(send ? &send_seen : &recv_seen) = true;
	}
}

/* The layers: per stream, its first alternative that is not paused and names a send rid,
 * each rid once, the first SDP_MAX_LAYERS streams that have one. */
static void end_simulcast(struct sdp_parser *p, struct sdp_media *m)
{
	m->n_layers = 0;
	for (unsigned i = 0; i < p->n_sim && m->n_layers < SDP_MAX_LAYERS; i++) {
		const struct sdp_sim_stream *st = &p->sim[i];

		for (unsigned k = 0; k < st->n_alt; k++) {
			const struct sdp_rid *r = rid_find(m, st->alt[k].id);
			bool again = false;

			for (unsigned j = 0; j < m->n_layers; j++)
				again |= !strcmp(m->layers[j], st->alt[k].id);
			if (st->alt[k].paused || !r || !r->send || again)
				continue;
			copy_str(m->layers[m->n_layers++], SDP_RID_LEN, r->id);
			break;
		}
	}
	p->m_sim = false;
	p->n_sim = 0;
}

static int parse_media_attr(struct sdp_parser *p, const char *name, char *v)
{
	struct sdp_media *m = p->m;

	if (!strcmp(name, "mid")) {
		if (m->mid[0])
			return fail(p, -EINVAL, "a=mid: a second mid in one m-section");
		if (!is_token(v, sizeof(m->mid) - 1))
			return fail(p, -EINVAL, "a=mid: must be 1 to %zu token characters",
				sizeof(m->mid) - 1);
		for (unsigned i = 0; i + 1 < p->o->n_media; i++)
			if (!strcmp(p->o->media[i].mid, v))
				return fail(p, -EINVAL, "a=mid: mid '%s' used twice", v);
		copy_str(m->mid, sizeof(m->mid), v);
	} else if (parse_dir(name, &m->dir)) {
		return 0;
	} else if (!strcmp(name, "rtcp-mux")) {
		m->rtcp_mux = true;
	} else if (!strcmp(name, "rtcp-rsize")) {
		m->rtcp_rsize = true;
	} else if (!strcmp(name, "bundle-only")) {
		m->bundle_only = true;
	} else if (!strcmp(name, "msid")) {
		p->m_msid_attr = true;
		if (!copy_str(m->msid, sizeof(m->msid), v))
			m->msid[0] = '\0';
	} else if (m->other) {
		return 0; /* its codecs and streams are none of our business */
	} else if (!strcmp(name, "rtpmap")) {
		return parse_rtpmap(p, m, v);
	} else if (!strcmp(name, "fmtp")) {
		return parse_fmtp(p, m, v);
	} else if (!strcmp(name, "rtcp-fb")) {
		return parse_rtcp_fb(p, m, v);
	} else if (!strcmp(name, "extmap")) {
		return parse_extmap(p, m, v);
	} else if (!strcmp(name, "ssrc")) {
		return parse_ssrc(p, m, v);
	} else if (!strcmp(name, "ssrc-group")) {
		return parse_ssrc_group(p, m, v);
	} else if (!strcmp(name, "rid")) {
		parse_rid(m, v);
	} else if (!strcmp(name, "simulcast")) {
		parse_simulcast(p, v);
	}
	return 0;
}

static int parse_attr(struct sdp_parser *p, char *a)
{
	char *v = strchr(a, ':');
	bool done;
	int r;

	if (v)
		*v++ = '\0';
	else
		v = a + strlen(a);
	r = parse_xport(p, p->m ? &p->mx[p->o->n_media - 1] : &p->sess, a, v, &done);
	if (r || done)
		return r;
	if (p->m)
		return parse_media_attr(p, a, v);
	if (!strcmp(a, "group"))
		return parse_group(p, v);
	parse_dir(a, &p->sess_dir);
	return 0;
}

/* ---- m-sections ---- */

static const struct {
	uint8_t pt;
	const char *name;
	uint32_t clock;
} static_pts[] = { { 0, "PCMU", 8000 }, { 8, "PCMA", 8000 }, { 9, "G722", 8000 } };

/* Codecs without an rtpmap (and not static) are dropped: nothing can be said about them. The
 * simulcast layers are resolved against the section's rids. */
static void end_media(struct sdp_parser *p, struct sdp_media *m)
{
	unsigned n = 0;

	end_simulcast(p, m);

	for (unsigned i = 0; i < m->n_codecs; i++) {
		struct sdp_codec *c = &m->codecs[i];

		for (unsigned k = 0; !c->name[0] && k < sizeof(static_pts) / sizeof(static_pts[0]);
			k++)
			if (static_pts[k].pt == c->pt) {
				copy_str(c->name, sizeof(c->name), static_pts[k].name);
				c->clock = static_pts[k].clock;
			}
		if (c->name[0]) {
			if (n != i)
				m->codecs[n] = *c;
			n++;
		}
	}
	m->n_codecs = (uint8_t)n;
}

static int parse_mline(struct sdp_parser *p, char *v)
{
	char *kind = next_tok(&v), *port = next_tok(&v), *proto = next_tok(&v), *fmt;
	struct sdp_offer *o = p->o;
	struct sdp_media *m;
	uint32_t n;

	if (p->m)
		end_media(p, p->m);
	if (o->n_media == SDP_MAX_MEDIA)
		return fail(p, -E2BIG, "more than %d m-lines", SDP_MAX_MEDIA);
	m = &o->media[o->n_media++];
	memset(m, 0, sizeof(*m));
	memset(&p->mx[o->n_media - 1], 0, sizeof(p->mx[0]));
	p->m = m;
	p->m_msid_attr = p->m_fid = false;
	m->dir = p->sess_dir;
	if (!kind || !port || !proto || !(fmt = next_tok(&v)))
		return fail(p, -EINVAL, "m-line %u: needs media, port, protocol and formats",
			o->n_media - 1);
	if (!is_token(kind, sizeof(m->kind) - 1))
		return fail(p, -EINVAL, "m-line %u: bad media type", o->n_media - 1);
	copy_str(m->kind, sizeof(m->kind), kind);
	m->audio = !strcmp(kind, "audio");
	m->other = !m->audio && strcmp(kind, "video");
	port[strcspn(port, "/")] = '\0';
	if (!parse_uint(port, 65535, &n))
		return fail(p, -EINVAL, "m-line %u (%s): port is not 0..65535", o->n_media - 1,
			kind);
	m->port0 = n == 0;
	if (!copy_str(m->proto, sizeof(m->proto), proto) || !is_token(fmt, sizeof(m->fmt) - 1))
		return fail(p, -EINVAL, "m-line %u (%s): protocol or format too long",
			o->n_media - 1, kind);
	copy_str(m->fmt, sizeof(m->fmt), fmt);
	if (m->other)
		return 0;
	do {
		if (!parse_uint(fmt, 127, &n))
			return fail(p, -EINVAL, "m-line %u (%s): payload type '%.8s' is not 0..127",
				o->n_media - 1, kind, fmt);
		if (m->n_codecs < SDP_MAX_CODECS && !codec_by_pt(m, n))
			m->codecs[m->n_codecs++].pt = (uint8_t)n;
	} while ((fmt = next_tok(&v)));
	return 0;
}

/* ---- the whole offer ---- */

static const char *dir_name(enum sdp_dir d)
{
	static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

	return names[d & 3];
}

static int check_media(struct sdp_parser *p, unsigned i)
{
	struct sdp_media *m = &p->o->media[i];
	bool live;

	m->port0 = m->port0 && !m->bundle_only;
	live = !m->other && !m->port0;
	if (!m->mid[0])
		return fail(p, -EINVAL, "m-line %u (%s): no a=mid", i, kind_of(m));
	for (unsigned k = 0; k < p->n_bundle; k++)
		m->bundled |= !strcmp(p->bundle[k], m->mid);
	if (!live)
		return 0;
	if (strcmp(m->proto, "UDP/TLS/RTP/SAVPF"))
		return fail(p, -EPROTONOSUPPORT, "m-line %u (%s): protocol %s, we need %s", i,
			m->kind, m->proto, "UDP/TLS/RTP/SAVPF");
	if (!m->bundled)
		return fail(p, -EINVAL, "m-line %u (%s): mid %s is not in the BUNDLE group", i,
			m->kind, m->mid);
	if (!m->rtcp_mux)
		return fail(p, -EINVAL, "m-line %u (%s): no a=rtcp-mux", i, m->kind);
	return 0;
}

/* The BUNDLE transport: the offerer's tagged m-line (the group's first mid), each attribute
 * falling back to the session level. */
static int check_transport(struct sdp_parser *p)
{
	struct sdp_offer *o = p->o;
	const struct sdp_xport *s = &p->sess, *x = NULL;

	for (unsigned i = 0; i < o->n_media && !x; i++)
		if (!strcmp(o->media[i].mid, p->bundle[0]))
			x = &p->mx[i];
	if (!x)
		return fail(p, -EINVAL, "a=group:BUNDLE: mid %s has no m-line", p->bundle[0]);
	copy_str(o->ufrag, sizeof(o->ufrag), x->ufrag[0] ? x->ufrag : s->ufrag);
	copy_str(o->pwd, sizeof(o->pwd), x->pwd[0] ? x->pwd : s->pwd);
	copy_str(o->setup, sizeof(o->setup), x->setup[0] ? x->setup : s->setup);
	if (!o->ufrag[0])
		return fail(p, -EINVAL, "no a=ice-ufrag");
	if (!o->pwd[0])
		return fail(p, -EINVAL, "no a=ice-pwd");
	if (x->fp_set || s->fp_set) {
		memcpy(o->fp, x->fp_set ? x->fp : s->fp, 32);
		o->fp_len = 32;
		copy_str(o->fp_alg, sizeof(o->fp_alg), "sha-256");
	} else if (x->fp_other[0] || s->fp_other[0]) {
		return fail(p, -ENOTSUP, "a=fingerprint: %s offered, we need sha-256",
			x->fp_other[0] ? x->fp_other : s->fp_other);
	} else {
		return fail(p, -EINVAL, "no a=fingerprint");
	}
	if (!o->setup[0])
		return fail(p, -EINVAL, "no a=setup");
	if (strcmp(o->setup, "actpass") && strcmp(o->setup, "active"))
		return fail(p, -EINVAL, "a=setup:%s: we are DTLS passive, the offer must be %s",
			o->setup, "actpass or active");
	return 0;
}

static int finish(struct sdp_parser *p)
{
	struct sdp_offer *o = p->o;
	int r;

	p->lineno = 0;
	if (p->m)
		end_media(p, p->m);
	if (!o->n_media)
		return fail(p, -EINVAL, "no m-line");
	if (!p->group_seen || !p->n_bundle)
		return fail(p, -EINVAL, "no a=group:BUNDLE: we need every m-line bundled");
	for (unsigned i = 0; i < o->n_media; i++)
		if ((r = check_media(p, i)))
			return r;
	for (unsigned k = 0; k < p->n_bundle; k++) {
		bool found = false;

		for (unsigned i = 0; i < o->n_media; i++)
			found |= !strcmp(o->media[i].mid, p->bundle[k]);
		if (!found)
			return fail(p, -EINVAL, "a=group:BUNDLE: mid %s has no m-line",
				p->bundle[k]);
	}
	if ((r = check_transport(p)))
		return r;
	o->bundle = true;
	return 0;
}

static int parse_line(struct sdp_parser *p, bool first)
{
	char *l = memcpy(p->work, p->line, strlen(p->line) + 1);

	if (first && strcmp(l, "v=0"))
		return fail(p, -EINVAL, "an SDP offer starts with v=0");
	if (l[0] < 'a' || l[0] > 'z' || l[1] != '=')
		return fail(p, -EINVAL, "not an SDP line (x=...)");
	if (l[0] == 'm')
		return parse_mline(p, l + 2);
	if (l[0] == 'a')
		return parse_attr(p, l + 2);
	return 0;
}

int sdp_parse_offer(const char *sdp, struct sdp_offer *o, char *err, size_t errlen)
{
	struct sdp_parser p; /* 17 KiB */
	size_t total;
	bool first = true;

	memset(&p, 0, sizeof(p));
	memset(o, 0, offsetof(struct sdp_offer, media));
	p.o = o;
	p.err = err;
	p.errlen = errlen;
	if (err && errlen)
		err[0] = '\0';
	if (!sdp)
		return fail(&p, -EINVAL, "no offer");
	total = strnlen(sdp, SDP_MAX_LEN + 1);
	if (total > SDP_MAX_LEN)
		return fail(&p, -E2BIG, "offer longer than %d bytes", SDP_MAX_LEN);
	for (const char *s = sdp; *s;) {
		const char *nl = memchr(s, '\n', total - (size_t)(s - sdp));
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		int r;

		p.lineno++;
		if (n && s[n - 1] == '\r')
			n--;
		/* what the error excerpt shows */
		memcpy(p.line, s, n > SDP_MAX_LINE ? SDP_MAX_LINE : n);
		p.line[n > SDP_MAX_LINE ? SDP_MAX_LINE : n] = '\0';
		if (n > SDP_MAX_LINE)
			return fail(&p, -E2BIG, "longer than %d bytes", SDP_MAX_LINE);
		if (!nl)
			return fail(&p, -EINVAL, "truncated: the last line has no line ending");
		if (memchr(s, '\r', n))
			return fail(&p, -EINVAL, "a carriage return inside the line");
		if ((r = check_text(&p, (const unsigned char *)s, n)))
			return r;
		s = nl + 1;
		if (!n)
			continue; /* a blank line says nothing */
		if ((r = parse_line(&p, first)))
			return r;
		first = false;
	}
	if (first)
		return fail(&p, -EINVAL, "empty offer");
	return finish(&p);
}

/* ---- codec choice ---- */

/* The value of key in "a=1;b=2" (spaces allowed around ';'), or false. */
static bool fmtp_get(const char *fmtp, const char *key, char *val, size_t vlen)
{
	size_t kl = strlen(key);

	for (const char *s = fmtp; *s;) {
		size_t n;

		while (*s == ' ' || *s == ';')
			s++;
		n = strcspn(s, ";");
		if (n > kl && !strncasecmp(s, key, kl) && s[kl] == '=') {
			size_t vl = n - kl - 1;

			while (vl && s[kl + 1 + vl - 1] == ' ')
				vl--;
			if (vl >= vlen)
				return false;
			memcpy(val, s + kl + 1, vl);
			val[vl] = '\0';
			return true;
		}
		s += n;
	}
	return false;
}

/* H264 we forward: packetization-mode=1; constrained baseline 42e01f first, then any
 * constrained baseline (profile_idc 0x42 with constraint_set1), then the rest. */
static int h264_rank(const struct sdp_codec *c)
{
	char v[16];
	unsigned long plid;

	if (!fmtp_get(c->fmtp, "packetization-mode", v, sizeof(v)) || strcmp(v, "1"))
		return -1;
	if (!fmtp_get(c->fmtp, "profile-level-id", v, sizeof(v)) || strlen(v) != 6)
		return 1;
	plid = strtoul(v, NULL, 16);
	if (!strcasecmp(v, "42e01f"))
		return 4;
	if ((plid >> 16) == 0x42 && (plid & 0x4000))
		return 3;
	return 2;
}

static int codec_rank(const struct sdp_media *m, const struct sdp_codec *c)
{
	if (m->audio)
		return !strcasecmp(c->name, "opus") && c->clock == 48000 && c->channels == 2 ? 10 :
											       -1;
	if (c->clock != 90000)
		return -1;
	if (!strcasecmp(c->name, "VP8"))
		return 10;
	if (!strcasecmp(c->name, "H264"))
		return h264_rank(c);
	return -1;
}

int sdp_choose(const struct sdp_media *m, const char *name, struct sdp_codec *out)
{
	const struct sdp_codec *best = NULL;
	int best_rank = -1;

	if (m->other)
		return -ENOENT;
	for (unsigned i = 0; i < m->n_codecs && i < SDP_MAX_CODECS; i++) {
		const struct sdp_codec *c = &m->codecs[i];
		int r = codec_rank(m, c);

		if (name && *name && strcasecmp(c->name, name))
			continue;
		if (r > best_rank) {
			best = c;
			best_rank = r;
		}
	}
	if (!best)
		return -ENOENT;
	*out = *best;
	out->n_fb = 0;
	for (unsigned i = 0; i < best->n_fb && i < SDP_MAX_FB; i++)
		if (fb_wanted(best->fb[i]))
			memcpy(out->fb[out->n_fb++], best->fb[i], sizeof(out->fb[0]));
	return 0;
}

/* ---- the answer ---- */

struct sdp_buf {
	char *p;
	size_t len, cap;
	bool over;
};

static void put(struct sdp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct sdp_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->over = true;
		return;
	}
	b->len += (size_t)n;
}

static int afail(char *err, size_t errlen, int e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int afail(char *err, size_t errlen, int e, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return e;
}

/* "AV1, VP9": the media codecs of an m-line, each name once, for an error message */
static void offered_list(const struct sdp_media *m, char *out, size_t outlen)
{
	static const char *const skip[] = { "rtx", "red", "ulpfec", "flexfec-03", "CN",
		"telephone-event" };
	size_t len = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < m->n_codecs; i++) {
		const char *n = m->codecs[i].name;
		bool dup = false;

		for (unsigned k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
			dup |= !strcasecmp(n, skip[k]);
		for (unsigned k = 0; k < i; k++)
			dup |= !strcasecmp(n, m->codecs[k].name);
		if (dup)
			continue;
		int w = snprintf(out + len, outlen - len, "%s%s", len ? ", " : "", n);

		if (w < 0 || (size_t)w >= outlen - len)
			break;
		len += (size_t)w;
	}
	if (!len)
		snprintf(out, outlen, "nothing");
}

static bool valid_fingerprint(const char *f)
{
	size_t n = strlen(f);

	if (n != 32 * 3 - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (i % 3 == 2 ? f[i] != ':' : !strchr("0123456789ABCDEF", f[i]))
			return false;
	return true;
}

static int check_params(const struct sdp_answer_params *p, char *err, size_t errlen)
{
	size_t n;

	if (!p->ufrag || (n = strlen(p->ufrag)) < 4 || n > 256 || !is_ice_chars(p->ufrag))
		return afail(err, errlen, -EINVAL, "answer: ufrag must be 4 to 256 ice-chars");
	if (!p->pwd || (n = strlen(p->pwd)) < 22 || n > 256 || !is_ice_chars(p->pwd))
		return afail(err, errlen, -EINVAL, "answer: pwd must be 22 to 256 ice-chars");
	if (!p->fingerprint || !valid_fingerprint(p->fingerprint))
		return afail(err, errlen, -EINVAL, "answer: fingerprint must be %s",
			"sha-256 AB:CD:... in upper case");
	if (!p->n_cand || p->n_cand > SDP_MAX_CAND)
		return afail(err, errlen, -EINVAL, "answer: 1 to %d candidates", SDP_MAX_CAND);
	for (unsigned i = 0; i < p->n_cand; i++) {
		unsigned char a[16];

		if (!memchr(p->cand[i].ip, '\0', sizeof(p->cand[i].ip)) ||
			(inet_pton(AF_INET, p->cand[i].ip, a) != 1 &&
				inet_pton(AF_INET6, p->cand[i].ip, a) != 1) ||
			!p->cand[i].port)
			return afail(err, errlen, -EINVAL,
				"answer: candidate %u: bad address or port", i);
	}
	return 0;
}

static bool source_ok(const struct sdp_source *s)
{
	return memchr(s->stream_id, '\0', sizeof(s->stream_id)) &&
		memchr(s->track_id, '\0', sizeof(s->track_id)) &&
		memchr(s->cname, '\0', sizeof(s->cname)) &&
		memchr(s->codec, '\0', sizeof(s->codec)) &&
		is_token(s->stream_id, sizeof(s->stream_id)) &&
		is_token(s->track_id, sizeof(s->track_id)) &&
		is_visible(s->cname, sizeof(s->cname)) && s->ssrc;
}

/* What each m-line becomes: rejected, or a direction and a codec (and simulcast). */
struct sdp_plan {
	bool accept;
	enum sdp_dir dir;
	struct sdp_codec codec;
	unsigned int rid_ext; /* simulcast taken: the rtp-stream-id extension's id; 0: not */
};

unsigned int sdp_simulcast(const struct sdp_media *m)
{
	struct sdp_codec c;

	if (m->audio || m->other || m->port0 || m->n_layers < 2 ||
		(m->dir != SDP_SENDONLY && m->dir != SDP_SENDRECV) || sdp_choose(m, NULL, &c) ||
		strcasecmp(c.name, "VP8"))
		return 0;
	return ext_id_of(m, SDP_RID_URI);
}

bool sdp_remb(const struct sdp_media *m, uint8_t pt)
{
	bool remb = false, twcc = false;

	if (m->other || m->port0 || (m->dir != SDP_SENDONLY && m->dir != SDP_SENDRECV))
		return false;
	for (unsigned k = 0; k < m->n_codecs; k++)
		for (unsigned j = 0; m->codecs[k].pt == pt && j < m->codecs[k].n_fb; j++) {
			remb |= !strcasecmp(m->codecs[k].fb[j], "goog-remb");
			twcc |= fb_uplink(m->codecs[k].fb[j]);
		}
	return remb && !(twcc && twcc_ext_of(m));
}

static int plan_line(const struct sdp_offer *o, const struct sdp_answer_params *p, unsigned i,
	struct sdp_plan *pl, char *err, size_t errlen)
{
	const struct sdp_media *m = &o->media[i];
	enum sdp_role role = p->role[i];
	char offered[160];
	bool they_send = m->dir == SDP_SENDRECV || m->dir == SDP_SENDONLY;
	bool they_recv = m->dir == SDP_SENDRECV || m->dir == SDP_RECVONLY;

	pl->rid_ext = 0;
	pl->accept = !m->other && !m->port0 && role != SDP_ROLE_REJECT;
	if (!pl->accept)
		return 0;
	if (role == SDP_ROLE_SEND) {
		const struct sdp_source *s = &p->src[i];

		if (!source_ok(s))
			return afail(err, errlen, -EINVAL, "m-line %u (%s): source needs %s", i,
				m->kind,
				"stream and track ids (token characters), a cname (visible ASCII), an SSRC");
		if (!they_recv)
			return afail(err, errlen, -EINVAL,
				"m-line %u (%s): a source to send, but the offer is %s", i, m->kind,
				dir_name(m->dir));
		if (sdp_choose(m, s->codec, &pl->codec)) {
			offered_list(m, offered, sizeof(offered));
			return afail(err, errlen, -ENOENT,
				"m-line %u (%s): the source sends %s, %s; offered: %s", i, m->kind,
				s->codec[0] ? s->codec : "(none)",
				"which this receiver cannot take", offered);
		}
		pl->dir = SDP_SENDONLY;
		return 0;
	}
	if (sdp_choose(m, NULL, &pl->codec)) {
		offered_list(m, offered, sizeof(offered));
		return afail(err, errlen, -ENOENT,
			"m-line %u (%s): no codec we can forward; offered: %s", i, m->kind,
			offered);
	}
	pl->dir = role == SDP_ROLE_RECV && they_send ? SDP_RECVONLY : SDP_INACTIVE;
	pl->rid_ext = pl->dir == SDP_RECVONLY && p->simulcast ? sdp_simulcast(m) : 0;
	return 0;
}

static void put_media(struct sdp_buf *b, const struct sdp_offer *o,
	const struct sdp_answer_params *p, unsigned i, const struct sdp_plan *pl)
{
	const struct sdp_media *m = &o->media[i];
	const struct sdp_codec *c = &pl->codec;
	const char *ipv = strchr(p->cand[0].ip, ':') ? "IP6" : "IP4";
	/* transport-cc on the guest's uplink: the extension and the codec's feedback line */
	unsigned int twcc = pl->dir == SDP_RECVONLY ? twcc_ext_of(m) : 0;
	bool twcc_fb = false;

	if (!pl->accept) {
		put(b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\n", m->kind, m->proto,
			m->fmt, m->mid);
		return;
	}
	put(b, "m=%s %u %s %u\r\nc=IN %s %s\r\n", m->kind, p->cand[0].port, m->proto, c->pt, ipv,
		p->cand[0].ip);
	put(b,
		"a=mid:%s\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n"
		"a=setup:passive\r\na=%s\r\na=rtcp-mux\r\n",
		m->mid, p->ufrag, p->pwd, p->fingerprint, dir_name(pl->dir));
	if (m->rtcp_rsize)
		put(b, "a=rtcp-rsize\r\n");
	for (unsigned k = 0; k < m->n_ext; k++) {
		bool again = false;

		for (unsigned j = 0; j < k; j++)
			again |= !strcmp(m->ext[j].uri, m->ext[k].uri);
		if (again)
			continue;
		if (ext_allowed(m->audio, m->ext[k].uri) ||
			(twcc && m->ext[k].id == twcc && !strcmp(m->ext[k].uri, SDP_TWCC_URI)) ||
			(pl->rid_ext && m->ext[k].id == pl->rid_ext &&
				!strcmp(m->ext[k].uri, SDP_RID_URI)))
			put(b, "a=extmap:%u %s\r\n", m->ext[k].id, m->ext[k].uri);
	}
	if (c->channels)
		put(b, "a=rtpmap:%u %s/%u/%u\r\n", c->pt, c->name, c->clock, c->channels);
	else
		put(b, "a=rtpmap:%u %s/%u\r\n", c->pt, c->name, c->clock);
	if (c->fmtp[0])
		put(b, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
	for (unsigned k = 0; k < c->n_fb; k++)
		put(b, "a=rtcp-fb:%u %s\r\n", c->pt, c->fb[k]);
	for (unsigned k = 0; k < m->n_codecs; k++)
		if (twcc && m->codecs[k].pt == c->pt)
			for (unsigned j = 0; j < m->codecs[k].n_fb; j++)
				twcc_fb |= fb_uplink(m->codecs[k].fb[j]);
	if (twcc_fb)
		put(b, "a=rtcp-fb:%u transport-cc\r\n", c->pt);
	else if (pl->dir == SDP_RECVONLY && sdp_remb(m, c->pt)) /* no transport-cc: REMB */
		put(b, "a=rtcp-fb:%u goog-remb\r\n", c->pt);
	if (pl->rid_ext) { /* the layers we take, in the offer's order (RFC 8853 5.3.2) */
		for (unsigned k = 0; k < m->n_layers; k++)
			put(b, "a=rid:%s recv\r\n", m->layers[k]);
		put(b, "a=simulcast:recv ");
		for (unsigned k = 0; k < m->n_layers; k++)
			put(b, "%s%s", k ? ";" : "", m->layers[k]);
		put(b, "\r\n");
	}
	if (pl->dir == SDP_SENDONLY) {
		const struct sdp_source *s = &p->src[i];

		put(b, "a=msid:%s %s\r\na=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n",
			s->stream_id, s->track_id, s->ssrc, s->cname, s->ssrc, s->stream_id,
			s->track_id);
	}
	for (unsigned k = 0; k < p->n_cand; k++)
		put(b, "a=candidate:%u 1 udp %u %s %u typ host\r\n", k + 1, 2130706431u - k,
			p->cand[k].ip, p->cand[k].port);
	put(b, "a=end-of-candidates\r\n");
}

int sdp_build_answer(const struct sdp_offer *o, const struct sdp_answer_params *p, char *out,
	size_t outlen, char *err, size_t errlen)
{
	struct sdp_plan plan[SDP_MAX_MEDIA]; /* 18 KiB */
	struct sdp_buf b = { .p = out, .cap = outlen };
	bool any = false;
	int r;

	if (err && errlen)
		err[0] = '\0';
	if (!o || !p || !out || !outlen)
		return afail(err, errlen, -EINVAL, "answer: no offer, parameters or buffer");
	if (!o->bundle || !o->n_media || o->n_media > SDP_MAX_MEDIA)
		return afail(err, errlen, -EINVAL, "answer: the offer was not parsed");
	if ((r = check_params(p, err, errlen)))
		return r;
	for (unsigned i = 0; i < o->n_media; i++) {
		if ((r = plan_line(o, p, i, &plan[i], err, errlen)))
			return r;
		any |= plan[i].accept;
	}
	out[0] = '\0';
	put(&b, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n",
		(unsigned long long)p->session_id, (unsigned long long)p->session_version);
	if (any) {
		put(&b, "a=group:BUNDLE");
		for (unsigned i = 0; i < o->n_media; i++)
			if (plan[i].accept)
				put(&b, " %s", o->media[i].mid);
		put(&b, "\r\n");
	}
	put(&b, "a=msid-semantic: WMS *\r\n");
	for (unsigned i = 0; i < o->n_media; i++)
		put_media(&b, o, p, i, &plan[i]);
	if (b.over) {
		out[0] = '\0';
		return afail(err, errlen, -ENOSPC, "answer: longer than the %zu-byte buffer",
			outlen);
	}
	return (int)b.len;
}

int sdp_fingerprint_str(const uint8_t *fp, size_t len, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!fp || !len || !out)
		return -EINVAL;
	if (outlen < len * 3)
		return -ENOSPC;
	for (size_t i = 0; i < len; i++) {
		out[i * 3] = hex[fp[i] >> 4];
		out[i * 3 + 1] = hex[fp[i] & 15];
		out[i * 3 + 2] = i + 1 < len ? ':' : '\0';
	}
	return 0;
}
