/* The web components' commands, as the guide and CMS's MMP have them: `webbridge3 ...` (edge),
 * `callbridge ...` and `webadmin ...` (core), and `user ...`, the administrators the REST API
 * and the web admin pages let in. As in cli_turn.c, every word is validated, a copy of the
 * configuration is edited and applied whole. A setting persists at once and reaches a running
 * service on its restart; enable, disable and restart apply, then ask the appliance to act
 * (cli_ops.restart). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli_int.h"
#include "pki.h"

#define PASSWORD_MIN 8
#define PASSWORD_MAX 128

#define STRV(s) ((s)[0] ? (s) : "none") /* the status pages' word for unset */

enum sub_kind {
	SUB_SET,    /* edits the configuration; effective on the component's restart */
	SUB_SWITCH, /* enable, disable, restart: applies, then cli_ops.restart */
	SUB_INFO,   /* a live table from cli_ops.web_info */
	SUB_SHOW,   /* the component's own page (`user list`) */
};

struct web_sub {
	const char *w1, *w2; /* "https", "certs"; w2 NULL: a one-word sub-command */
	const char *usage, *help;
	int min_args, max_args; /* words after the sub-command */
	int (*run)(struct cli *cli, struct edge_cfg *next, int argc, char **argv, FILE *out);
	enum sub_kind kind;
	int secret; /* words from this index of the line on stay out of logs */
};

struct web_comp {
	const char *name;
	int absent;	/* the role it does not run on; -1: every role */
	size_t enabled; /* offsetof its `enabled` in struct edge_cfg */
	bool live;	/* changes need no restart */
	const struct web_sub *subs;
	void (*page)(struct cli *cli, const struct web_cli_ops *ops, FILE *out);
	/* Whether @n lets it start; a refusal naming what is missing otherwise. */
	int (*ready)(struct cli *cli, const struct edge_cfg *n, const char *cmd, FILE *out);
};

/* --- words --- */

static int number_word(const char *cmd, const char *w, long lo, long hi, long *v, FILE *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(w, &end, 10);
	if (*end || end == w || errno || n < lo || n > hi || w[0] == '+' || w[0] == ' ')
		return cli_refuse(out, "%s: '%s': expected a number %ld..%ld", cmd, w, lo, hi);
	*v = n;
	return 0;
}

/* " a b" (leading blank each), or " none". */
static const char *if_names(const struct edge_cfg *cfg, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < cfg->n_ifs && off < len; i++)
		off += snprintf(buf + off, len - off, " %s", cfg->ifs[i].name);
	return cfg->n_ifs ? buf : " none";
}

/* "<if>:<port>" words into @l; refusals name the word. */
static int listen_words(struct cli *cli, const char *cmd, int argc, char **argv,
	struct cfg_listen *l, int *n, FILE *out)
{
	char have[3 * EDGE_MAX_IFACES + 8];

	if (argc - 1 > WEB_MAX_LISTEN)
		return cli_refuse(out, "%s: '%s': at most %d listeners", cmd,
			argv[WEB_MAX_LISTEN + 1], WEB_MAX_LISTEN);
	for (int i = 1; i < argc; i++) {
		int r = cfg_parse_listen(cli->cfg, argv[i], &l[i - 1]);

		if (r == -ENOENT)
			return cli_refuse(out, "%s: '%s': no such interface (configured:%s)", cmd,
				argv[i], if_names(cli->cfg, have, sizeof(have)));
		if (r == -ERANGE)
			return cli_refuse(out, "%s: '%s': port must be 1..65535", cmd, argv[i]);
		if (r < 0)
			return cli_refuse(out, "%s: '%s': expected <if>:<port>", cmd, argv[i]);
		for (int k = 0; k < i - 1; k++)
			if (l[k].ifi == l[i - 1].ifi && l[k].port == l[i - 1].port)
				return cli_refuse(out, "%s: '%s': given twice", cmd, argv[i]);
	}
	*n = argc - 1;
	return 0;
}

/* A trust bundle, or "none": the file must hold at least one PEM certificate. */
static int trust_word(struct cli *cli, const char *cmd, const char *word, char *dst, size_t len,
	FILE *out)
{
	char path[512];
	int r, n = 0;
	X509 *x;
	BIO *b;

	if (!strcmp(word, "none")) {
		dst[0] = '\0';
		return 0;
	}
	/* @dst is in the configuration being edited: a refusal discards it whole */
	if ((r = pki_cli_name(cli, cmd, word, path, sizeof(path), dst, len, out)) < 0)
		return r;
	if (!(b = BIO_new_file(path, "r")))
		return cli_refuse(out, "%s: '%s': cannot read %s", cmd, word, path);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		n++;
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(b);
	if (!n)
		return cli_refuse(out, "%s: '%s': no certificate in it (PEM expected)", cmd, word);
	return 0;
}

/* The words from argv[1] on, joined by blanks, into @dst; "none" alone clears it. Each word's
 * characters must be in @allowed (printable ASCII if NULL) and not in @banned. */
static int words_value(const char *cmd, int argc, char **argv, const char *allowed,
	const char *banned, char *dst, size_t len, FILE *out)
{
	size_t off = 0;

	if (!strcmp(argv[1], "none")) {
		if (argc > 2)
			return cli_refuse(out, "%s: '%s': 'none' stands alone", cmd, argv[2]);
		dst[0] = '\0';
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		for (const char *p = argv[i]; *p; p++)
			if ((unsigned char)*p < 0x21 || *p == 0x7f || strchr(banned, *p) ||
				(allowed && !strchr(allowed, *p)))
				return cli_refuse(out, "%s: '%s': '%c' is not allowed", cmd,
					argv[i], *p < 0x21 || *p == 0x7f ? '?' : *p);
		if (off + strlen(argv[i]) + (i > 1) >= len)
			return cli_refuse(out, "%s: '%s': longer than %zu characters in all", cmd,
				argv[i], len - 1);
		off += snprintf(dst + off, len - off, "%s%s", i > 1 ? " " : "", argv[i]);
	}
	return 0;
}

/* --- who listens where: one owner per interface and TCP port --- */

enum claim_kind {
	CL_WB3_HTTPS,
	CL_WB3_C2W,
	CL_WB3_REDIRECT,
	CL_WEBADMIN,
	CL_WEBADMIN_REDIRECT,
	CL_TURN,
	CL_TURN_TLS,
};

#define CL_WB3 (1u << CL_WB3_HTTPS | 1u << CL_WB3_C2W | 1u << CL_WB3_REDIRECT)
#define CL_WA (1u << CL_WEBADMIN | 1u << CL_WEBADMIN_REDIRECT)

static const char *const claim_names[] = {
	[CL_WB3_HTTPS] = "webbridge3 HTTPS",
	[CL_WB3_C2W] = "webbridge3 C2W",
	[CL_WB3_REDIRECT] = "webbridge3 HTTP redirect",
	[CL_WEBADMIN] = "webadmin",
	[CL_WEBADMIN_REDIRECT] = "webadmin HTTP redirect",
	[CL_TURN] = "turn",
	[CL_TURN_TLS] = "turn TLS",
};

struct claim {
	enum claim_kind kind;
	struct cfg_listen at;
};

#define MAX_CLAIMS (3 * WEB_MAX_LISTEN + 2 * EDGE_MAX_IFACES + 2)

/* The TCP ports the components that run on this role listen on, by interface. */
static int claims_of(const struct edge_cfg *c, struct claim *v)
{
	const struct cfg_webbridge3 *w = &c->wb3;
	int n = 0;

	if (c->role != EDGE_ROLE_CORE) {
		for (int i = 0; i < w->n_https; i++) {
			v[n++] = (struct claim){ CL_WB3_HTTPS, w->https[i] };
			if (w->http_redirect)
				v[n++] = (struct claim){ CL_WB3_REDIRECT, { w->https[i].ifi, 80 } };
		}
		for (int i = 0; i < w->n_c2w; i++)
			v[n++] = (struct claim){ CL_WB3_C2W, w->c2w[i] };
		for (int i = 0; i < c->n_ifs; i++) {
			if (!(c->turn.listen_mask & (1u << i)))
				continue;
			v[n++] = (struct claim){ CL_TURN, { (uint8_t)i, c->turn.port } };
			if (c->turn.tls_port)
				v[n++] = (struct claim){ CL_TURN_TLS,
					{ (uint8_t)i, c->turn.tls_port } };
		}
	}
	if (c->role != EDGE_ROLE_EDGE && c->webadmin.ifi >= 0) {
		uint8_t ifi = (uint8_t)c->webadmin.ifi;

		v[n++] = (struct claim){ CL_WEBADMIN, { ifi, c->webadmin.port } };
		if (c->webadmin.http_redirect)
			v[n++] = (struct claim){ CL_WEBADMIN_REDIRECT, { ifi, 80 } };
	}
	return n;
}

static bool c2w_and_https(enum claim_kind a, enum claim_kind b)
{
	return (a == CL_WB3_C2W && b == CL_WB3_HTTPS) || (a == CL_WB3_HTTPS && b == CL_WB3_C2W);
}

/* The claim that @v[i] clashes with: the same interface and port, or (@across) C2W and HTTPS
 * on one port whatever the interfaces. -1 if none. */
static int clash_of(const struct claim *v, int k, int i, bool across)
{
	for (int j = 0; j < k; j++) {
		if (v[j].kind == v[i].kind || v[j].at.port != v[i].at.port)
			continue;
		if (v[j].at.ifi == v[i].at.ifi || (across && c2w_and_https(v[i].kind, v[j].kind)))
			return j;
	}
	return -1;
}

/* Refuses if a listener of a kind in @mask shares its interface and port with another
 * component's, or if a C2W port is also an HTTPS port of webbridge3 on any interface. */
static int ports_check(const struct edge_cfg *n, unsigned int mask, const char *cmd, FILE *out)
{
	struct claim v[MAX_CLAIMS];
	int k = claims_of(n, v);
	char a[24], b[24];

	/* the clashes on one interface first: they are the likelier slip */
	for (int across = 0; across < 2; across++) {
		for (int i = 0; i < k; i++) {
			int j = (mask & (1u << v[i].kind)) ? clash_of(v, k, i, across) : -1;

			if (j < 0)
				continue;
			return cli_refuse(out, "%s: '%s': clashes with %s on %s%s", cmd,
				cfg_listen_str(n, &v[i].at, a, sizeof(a)), claim_names[v[j].kind],
				cfg_listen_str(n, &v[j].at, b, sizeof(b)),
				c2w_and_https(v[i].kind, v[j].kind) ?
					" (C2W needs a port of its own)" :
					"");
		}
	}
	return 0;
}

/* --- webbridge3 --- */

static int wb3_https_certs(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	return pki_cli_certs(cli, "webbridge3 https certs", argc, argv, n->wb3.https_key,
		n->wb3.https_cert, NULL, sizeof(n->wb3.https_key), out);
}

static int wb3_c2w_certs(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	return pki_cli_certs(cli, "webbridge3 c2w certs", argc, argv, n->wb3.c2w_key,
		n->wb3.c2w_cert, NULL, sizeof(n->wb3.c2w_key), out);
}

static int wb3_https_listen(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	const char *cmd = "webbridge3 https listen";
	int r;

	if ((r = listen_words(cli, cmd, argc, argv, n->wb3.https, &n->wb3.n_https, out)) < 0)
		return r;
	return ports_check(n, 1u << CL_WB3_HTTPS | 1u << CL_WB3_REDIRECT, cmd, out);
}

static int wb3_c2w_listen(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	const char *cmd = "webbridge3 c2w listen";
	int r;

	if ((r = listen_words(cli, cmd, argc, argv, n->wb3.c2w, &n->wb3.n_c2w, out)) < 0)
		return r;
	return ports_check(n, 1u << CL_WB3_C2W, cmd, out);
}

static int wb3_c2w_trust(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)argc;
	return trust_word(cli, "webbridge3 c2w trust", argv[1], n->wb3.c2w_trust,
		sizeof(n->wb3.c2w_trust), out);
}

static int wb3_frame_ancestors(struct cli *cli, struct edge_cfg *n, int argc, char **argv,
	FILE *out)
{
	(void)cli;
	/* CSP source expressions: ';' or ',' would end the directive or the header */
	return words_value("webbridge3 https frame-ancestors", argc, argv, NULL, ";,\"\\",
		n->wb3.frame_ancestors, sizeof(n->wb3.frame_ancestors), out);
}

static int wb3_http_redirect(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	const char *cmd = "webbridge3 http-redirect";
	int r;

	(void)cli, (void)argc;
	if ((r = cli_enable_word(cmd, argv[1], &n->wb3.http_redirect, out)) < 0)
		return r;
	return ports_check(n, 1u << CL_WB3_REDIRECT, cmd, out);
}

static int wb3_meetingapps_add(struct cli *cli, struct edge_cfg *n, int argc, char **argv,
	FILE *out)
{
	static const char host_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789.-";
	const char *cmd = "webbridge3 meetingapps add";
	struct cfg_webbridge3 *w = &n->wb3;
	size_t slen = strlen(argv[3]);
	long port;
	int r;

	(void)cli, (void)argc;
	if (strlen(argv[1]) >= sizeof(w->meetingapps_host) ||
		strspn(argv[1], host_chars) != strlen(argv[1]) || argv[1][0] == '-' ||
		argv[1][0] == '.')
		return cli_refuse(out, "%s: '%s': expected a host name or IPv4 address", cmd,
			argv[1]);
	if ((r = number_word(cmd, argv[2], 1, 65535, &port, out)) < 0)
		return r;
	if (slen < 8 || slen >= sizeof(w->meetingapps_secret))
		return cli_refuse(out, "%s: '%.6s...': the secret must be 8..%zu characters", cmd,
			argv[3], sizeof(w->meetingapps_secret) - 1);
	snprintf(w->meetingapps_host, sizeof(w->meetingapps_host), "%s", argv[1]);
	w->meetingapps_port = (uint16_t)port;
	snprintf(w->meetingapps_secret, sizeof(w->meetingapps_secret), "%s", argv[3]);
	return 0;
}

static int wb3_meetingapps_del(struct cli *cli, struct edge_cfg *n, int argc, char **argv,
	FILE *out)
{
	(void)cli, (void)argc, (void)argv;
	if (!n->wb3.meetingapps_host[0])
		return cli_refuse(out, "webbridge3 meetingapps del: no meetingapps server is set");
	n->wb3.meetingapps_host[0] = n->wb3.meetingapps_secret[0] = '\0';
	n->wb3.meetingapps_port = 0;
	return 0;
}

static int wb3_options(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli;
	return words_value("webbridge3 options", argc, argv,
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.=:,+-", "",
		n->wb3.options, sizeof(n->wb3.options), out);
}

static int wb3_audio_priority(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	return cli_enable_word("webbridge3 audio-priority", argv[1], &n->wb3.audio_priority, out);
}

static int wb3_ready(struct cli *cli, const struct edge_cfg *n, const char *cmd, FILE *out)
{
	const struct cfg_webbridge3 *w = &n->wb3;
	char miss[400] = "";
	size_t off = 0;

	(void)cli;
#define MISSING(cond, what)                                                                        \
	if (cond)                                                                                  \
	off += snprintf(miss + off, sizeof(miss) - off, "%s" what, off ? ", " : "")
	MISSING(!w->n_https, "no HTTPS listener (webbridge3 https listen <if>:<port>)");
	MISSING(!w->https_key[0],
		"no HTTPS certificate (webbridge3 https certs <key> <fullchain>)");
	MISSING(!w->n_c2w, "no C2W listener (webbridge3 c2w listen <if>:<port>)");
	MISSING(!w->c2w_key[0], "no C2W certificate (webbridge3 c2w certs <key> <fullchain>)");
	MISSING(!w->c2w_trust[0], "no C2W trust bundle (webbridge3 c2w trust <bundle>)");
#undef MISSING
	if (off)
		return cli_refuse(out, "%s: not ready: %s", cmd, miss);
	return ports_check(n, CL_WB3, cmd, out);
}

static void wb3_page(struct cli *cli, const struct web_cli_ops *ops, FILE *out)
{
	const struct edge_cfg *c = cli->cfg;
	const struct cfg_webbridge3 *w = &c->wb3;
	char buf[24];
	(void)ops;

#define LINE(label, ...)                                                                           \
	(fprintf(out, "%-38s: ", label), fprintf(out, __VA_ARGS__), fputc('\n', out))
	LINE("Enabled", "%s", w->enabled ? "true" : "false");
	fprintf(out, "%-38s:", "HTTPS listening ports and interfaces");
	for (int i = 0; i < w->n_https; i++)
		fprintf(out, " %s", cfg_listen_str(c, &w->https[i], buf, sizeof(buf)));
	fprintf(out, "%s\n", w->n_https ? "" : " none");
	LINE("HTTPS Key file", "%s", STRV(w->https_key));
	LINE("HTTPS Full chain certificate file", "%s", STRV(w->https_cert));
	LINE("HTTPS Frame-Ancestors", "%s", STRV(w->frame_ancestors));
	LINE("HTTP redirect", "%s", w->http_redirect ? "Enabled" : "Disabled");
	fprintf(out, "%-38s:", "C2W listening ports and interfaces");
	for (int i = 0; i < w->n_c2w; i++)
		fprintf(out, " %s", cfg_listen_str(c, &w->c2w[i], buf, sizeof(buf)));
	fprintf(out, "%s\n", w->n_c2w ? "" : " none");
	LINE("C2W Key file", "%s", STRV(w->c2w_key));
	LINE("C2W Full chain certificate file", "%s", STRV(w->c2w_cert));
	LINE("C2W Trust bundle", "%s", STRV(w->c2w_trust));
	LINE("Meetingapps address", "%s", STRV(w->meetingapps_host));
	if (w->meetingapps_port)
		LINE("Meetingapps port", "%u", w->meetingapps_port);
	else
		LINE("Meetingapps port", "none");
	LINE("Audio priority flag", "%s", w->audio_priority ? "Enabled" : "Disabled");
	LINE("Beta options", "%s", STRV(w->options));
#undef LINE
}

static const struct web_sub wb3_subs[] = {
	{ "https", "certs", "webbridge3 https certs <key> <fullchain>",
		"the browsers' TLS key and full-chain certificate", 2, 2, wb3_https_certs, SUB_SET,
		0 },
	{ "https", "listen", "webbridge3 https listen <if>:<port> [<if>:<port> ...]",
		"where browsers connect (the guide: b:445, or a:445 b:445)", 1, CLI_MAX_WORDS,
		wb3_https_listen, SUB_SET, 0 },
	{ "https", "frame-ancestors", "webbridge3 https frame-ancestors <uri> [<uri> ...]|none",
		"sites that may frame the web app (CSP frame-ancestors)", 1, CLI_MAX_WORDS,
		wb3_frame_ancestors, SUB_SET, 0 },
	{ "c2w", "certs", "webbridge3 c2w certs <key> <fullchain>",
		"the callbridge link's TLS key and full-chain certificate", 2, 2, wb3_c2w_certs,
		SUB_SET, 0 },
	{ "c2w", "listen", "webbridge3 c2w listen <if>:<port> [<if>:<port> ...]",
		"where the callbridge connects (the guide: a:6000)", 1, CLI_MAX_WORDS,
		wb3_c2w_listen, SUB_SET, 0 },
	{ "c2w", "trust", "webbridge3 c2w trust <bundle>|none",
		"certificates of the callbridges allowed in (without it WebRTC fails)", 1, 1,
		wb3_c2w_trust, SUB_SET, 0 },
	{ "http-redirect", NULL, "webbridge3 http-redirect enable|disable",
		"redirect port 80 to HTTPS on the HTTPS interfaces", 1, 1, wb3_http_redirect,
		SUB_SET, 0 },
	{ "meetingapps", "add", "webbridge3 meetingapps add <host> <port> <secret>",
		"the MeetingApps server", 3, 3, wb3_meetingapps_add, SUB_SET, 5 },
	{ "meetingapps", "del", "webbridge3 meetingapps del", "forget the MeetingApps server", 0, 0,
		wb3_meetingapps_del, SUB_SET, 0 },
	{ "options", NULL, "webbridge3 options <word> [<word> ...]|none", "beta options", 1,
		CLI_MAX_WORDS, wb3_options, SUB_SET, 0 },
	{ "audio-priority", NULL, "webbridge3 audio-priority enable|disable",
		"favour audio over video when bandwidth is short", 1, 1, wb3_audio_priority,
		SUB_SET, 0 },
	{ "enable", NULL, "webbridge3 enable",
		"start serving (checks listeners, certificates, trust)", 0, 0, NULL, SUB_SWITCH,
		0 },
	{ "disable", NULL, "webbridge3 disable", "stop serving", 0, 0, NULL, SUB_SWITCH, 0 },
	{ "restart", NULL, "webbridge3 restart", "restart with the saved settings", 0, 0, NULL,
		SUB_SWITCH, 0 },
	{ "connections", NULL, "webbridge3 connections", "live C2W links from callbridges", 0, 0,
		NULL, SUB_INFO, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, SUB_SET, 0 },
};

/* --- callbridge --- */

static int cb_listen(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	uint8_t mask = 0;

	for (int i = 1; i < argc; i++) {
		int ifi = cli_want_iface(cli, "callbridge listen", argv[i], out);

		if (ifi < 0)
			return ifi;
		mask |= 1u << ifi;
	}
	if (n->cb.prefer_if >= 0 && !(mask & (1u << n->cb.prefer_if)))
		return cli_refuse(out,
			"callbridge listen: the preferred interface %s would not "
			"listen (callbridge prefer none, or name it too)",
			n->ifs[n->cb.prefer_if].name);
	n->cb.listen_mask = mask;
	return 0;
}

static int cb_prefer(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	int ifi;

	(void)argc;
	if (!strcmp(argv[1], "none")) {
		n->cb.prefer_if = -1;
		return 0;
	}
	if ((ifi = cli_want_iface(cli, "callbridge prefer", argv[1], out)) < 0)
		return ifi;
	if (!(n->cb.listen_mask & (1u << ifi)))
		return cli_refuse(out,
			"callbridge prefer: '%s': not a listening interface "
			"(callbridge listen ... first)",
			argv[1]);
	n->cb.prefer_if = ifi;
	return 0;
}

static int cb_certs(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	return pki_cli_certs(cli, "callbridge certs", argc, argv, n->cb.key, n->cb.cert,
		n->cb.bundle, sizeof(n->cb.key), out);
}

#define TRUST_SUB(fn, cmd, field)                                                                  \
	static int fn(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)       \
	{                                                                                          \
		(void)argc;                                                                        \
		return trust_word(cli, cmd, argv[1], n->cb.field, sizeof(n->cb.field), out);       \
	}
TRUST_SUB(cb_trust_c2w, "callbridge trust c2w", trust_c2w)
TRUST_SUB(cb_trust_cluster, "callbridge trust cluster", trust_cluster)
TRUST_SUB(cb_trust_branding, "callbridge trust branding", trust_branding)
TRUST_SUB(cb_ucm_trust, "callbridge ucm trust", ucm_trust)
TRUST_SUB(cb_imps_trust, "callbridge imps trust", imps_trust)
#undef TRUST_SUB

static int cb_ucm_verify(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	return cli_enable_word("callbridge ucm verify", argv[1], &n->cb.ucm_verify, out);
}

static int cb_imps_verify(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	return cli_enable_word("callbridge imps verify", argv[1], &n->cb.imps_verify, out);
}

static int cb_jwt_expiry(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	long h;
	int r;

	(void)cli, (void)argc;
	if ((r = number_word("callbridge wc3jwt expiry", argv[1], 1, 24, &h, out)) < 0)
		return r;
	n->cb.jwt_expiry_hours = (int)h;
	return 0;
}

static int cb_simulcast(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	return cli_enable_word("callbridge simulcast", argv[1], &n->cb.simulcast, out);
}

/* Media ports: "none", or one <if>:<port> per media interface. */
static int cb_media(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	const char *cmd = "callbridge media";
	int r;

	if (argc == 2 && !strcmp(argv[1], "none")) {
		n->cb.n_media = 0;
		return 0;
	}
	if ((r = listen_words(cli, cmd, argc, argv, n->cb.media, &n->cb.n_media, out)) < 0)
		return r;
	for (int i = 1; i < n->cb.n_media; i++)
		for (int k = 0; k < i; k++)
			if (n->cb.media[k].ifi == n->cb.media[i].ifi)
				return cli_refuse(out, "%s: '%s': one media port per interface",
					cmd, argv[i + 1]);
	if ((r = cfg_media_in_relay(n)) >= 0)
		return cli_refuse(out,
			"%s: '%s': inside TURN's relay ports %u-%u on that interface", cmd,
			argv[r + 1], n->turn.relay_lo, n->turn.relay_hi);
	/* the data plane would give the port to one of the two: neither may lose it */
	for (int i = 0; i < n->cb.n_media; i++) {
		const struct cfg_listen *m = &n->cb.media[i];

		if (n->turn.enabled && (n->turn.listen_mask & (1u << m->ifi)) &&
			(m->port == n->turn.port || m->port == n->turn.browser_port))
			return cli_refuse(out, "%s: '%s': TURN listens on UDP %u there", cmd,
				argv[i + 1], m->port);
	}
	return 0;
}

static int cb_ready(struct cli *cli, const struct edge_cfg *n, const char *cmd, FILE *out)
{
	(void)cli;
	if (!n->cb.listen_mask)
		return cli_refuse(out,
			"%s: not ready: no listening interface (callbridge listen <if>)", cmd);
	if (!n->cb.key[0])
		return cli_refuse(out,
			"%s: not ready: no certificate (callbridge certs <key> <crt>)", cmd);
	if (!n->cb.trust_c2w[0])
		fprintf(out,
			"warning: no C2W trust (callbridge trust c2w <bundle>): web bridges "
			"cannot be reached and WebRTC fails\n");
	return 0;
}

static void cb_page(struct cli *cli, const struct web_cli_ops *ops, FILE *out)
{
	const struct edge_cfg *c = cli->cfg;
	const struct cfg_callbridge *b = &c->cb;
	(void)ops;

	/* the guide's page: three column widths, as printed */
	fprintf(out, "Listening interfaces  :");
	for (int i = 0; i < c->n_ifs; i++)
		if (b->listen_mask & (1u << i))
			fprintf(out, " %s", c->ifs[i].name);
	fprintf(out, "%s\n", b->listen_mask ? "" : " none");
	fprintf(out, "Preferred interface   : %s\n",
		b->prefer_if >= 0 ? c->ifs[b->prefer_if].name : "none");
	fprintf(out, "Key file              : %s\n", STRV(b->key));
	fprintf(out, "Certificate file      : %s\n", STRV(b->cert));
	fprintf(out, "Address               : %s\n", STRV(b->address));
	fprintf(out, "C2W trusted certs                   : %s\n", STRV(b->trust_c2w));
	fprintf(out, "Callbridge cluster trusted certs    : %s\n", STRV(b->trust_cluster));
	fprintf(out, "Callbridge trust branding certs     : %s\n", STRV(b->trust_branding));
	fprintf(out, "UCM trusted certs         : %s\n", STRV(b->ucm_trust));
	fprintf(out, "UCM verification mode     : %s\n", b->ucm_verify ? "enabled" : "disabled");
	fprintf(out, "IMPS trusted certs        : %s\n", STRV(b->imps_trust));
	fprintf(out, "IMPS verification mode    : %s\n", b->imps_verify ? "enabled" : "disabled");
	fprintf(out, "WC3 JWT Expiry in hours   : %d\n", b->jwt_expiry_hours);
	fprintf(out, "Media ports               :");
	for (int i = 0; i < b->n_media; i++) {
		char buf[24];

		fprintf(out, " %s", cfg_listen_str(c, &b->media[i], buf, sizeof(buf)));
	}
	fprintf(out, "%s\n", b->n_media ? "" : " none");
	fprintf(out, "Simulcast                 : %s\n", b->simulcast ? "enabled" : "disabled");
}

static const struct web_sub cb_subs[] = {
	{ "listen", NULL, "callbridge listen <if> [<if> ...]", "interfaces the callbridge serves",
		1, EDGE_MAX_IFACES, cb_listen, SUB_SET, 0 },
	{ "prefer", NULL, "callbridge prefer <if>|none", "the interface outgoing links leave by", 1,
		1, cb_prefer, SUB_SET, 0 },
	{ "certs", NULL, "callbridge certs <key> <crt> [<bundle>]",
		"TLS key, certificate and CA bundle", 2, 3, cb_certs, SUB_SET, 0 },
	{ "trust", "c2w", "callbridge trust c2w <bundle>|none",
		"web bridges' certificates (without it WebRTC fails)", 1, 1, cb_trust_c2w, SUB_SET,
		0 },
	{ "trust", "cluster", "callbridge trust cluster <bundle>|none",
		"other callbridges of a cluster", 1, 1, cb_trust_cluster, SUB_SET, 0 },
	{ "trust", "branding", "callbridge trust branding <bundle>|none", "the branding server", 1,
		1, cb_trust_branding, SUB_SET, 0 },
	{ "ucm", "trust", "callbridge ucm trust <bundle>|none", "Unified CM's certificates", 1, 1,
		cb_ucm_trust, SUB_SET, 0 },
	{ "ucm", "verify", "callbridge ucm verify enable|disable", "verify Unified CM", 1, 1,
		cb_ucm_verify, SUB_SET, 0 },
	{ "imps", "trust", "callbridge imps trust <bundle>|none", "IM and Presence's certificates",
		1, 1, cb_imps_trust, SUB_SET, 0 },
	{ "imps", "verify", "callbridge imps verify enable|disable", "verify IM and Presence", 1, 1,
		cb_imps_verify, SUB_SET, 0 },
	{ "media", "rotate", "callbridge media rotate",
		"a new DTLS certificate for the media legs made from now on", 0, 0, NULL, SUB_INFO,
		0 },
	{ "media", NULL, "callbridge media", "media legs: 5-tuple, SRTP profile, packets each way",
		0, 0, NULL, SUB_INFO, 0 },
	{ "media", NULL, "callbridge media <if>:<port> [<if>:<port> ...]|none",
		"UDP media ports (guests' TURN relays may reach only these)", 1, WEB_MAX_LISTEN,
		cb_media, SUB_SET, 0 },
	{ "simulcast", NULL, "callbridge simulcast enable|disable",
		"guests send video in up to 3 sizes; each receiver gets one", 1, 1, cb_simulcast,
		SUB_SET, 0 },
	{ "wc3jwt", "expiry", "callbridge wc3jwt expiry <1-24>",
		"hours a web app's login token lasts", 1, 1, cb_jwt_expiry, SUB_SET, 0 },
	{ "enable", NULL, "callbridge enable", "start the callbridge", 0, 0, NULL, SUB_SWITCH, 0 },
	{ "disable", NULL, "callbridge disable", "stop the callbridge (calls end)", 0, 0, NULL,
		SUB_SWITCH, 0 },
	{ "restart", NULL, "callbridge restart",
		"restart with the saved settings (the guide's way "
		"to apply them)",
		0, 0, NULL, SUB_SWITCH, 0 },
	{ "calls", NULL, "callbridge calls", "live calls", 0, 0, NULL, SUB_INFO, 0 },
	{ "participants", NULL, "callbridge participants", "live participants", 0, 0, NULL,
		SUB_INFO, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, SUB_SET, 0 },
};

/* --- webadmin --- */

static int wa_listen(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	const char *cmd = "webadmin listen";
	long port;
	int ifi, r;

	(void)argc;
	if ((ifi = cli_want_iface(cli, cmd, argv[1], out)) < 0)
		return ifi;
	if ((r = number_word(cmd, argv[2], 1, 65535, &port, out)) < 0)
		return r;
	n->webadmin.ifi = ifi;
	n->webadmin.port = (uint16_t)port;
	return ports_check(n, CL_WA, cmd, out);
}

static int wa_certs(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	return pki_cli_certs(cli, "webadmin certs", argc, argv, n->webadmin.key, n->webadmin.cert,
		n->webadmin.bundle, sizeof(n->webadmin.key), out);
}

static int wa_http_redirect(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	const char *cmd = "webadmin http-redirect";
	int r;

	(void)cli, (void)argc;
	if ((r = cli_enable_word(cmd, argv[1], &n->webadmin.http_redirect, out)) < 0)
		return r;
	return ports_check(n, 1u << CL_WEBADMIN_REDIRECT, cmd, out);
}

static int wa_ready(struct cli *cli, const struct edge_cfg *n, const char *cmd, FILE *out)
{
	(void)cli;
	if (n->webadmin.ifi < 0)
		return cli_refuse(out,
			"%s: not ready: no listening interface (webadmin listen <if> "
			"<port>)",
			cmd);
	if (!n->webadmin.key[0])
		return cli_refuse(out, "%s: not ready: no certificate (webadmin certs <key> <crt>)",
			cmd);
	return ports_check(n, CL_WA, cmd, out);
}

static void wa_page(struct cli *cli, const struct web_cli_ops *ops, FILE *out)
{
	const struct edge_cfg *c = cli->cfg;
	const struct cfg_webadmin *w = &c->webadmin;
	bool running = ops->webadmin_running && ops->webadmin_running(ops->ctx);

	fprintf(out, "Enabled                 : %s\n", w->enabled ? "true" : "false");
	fprintf(out, "TLS listening interface : %s\n", w->ifi >= 0 ? c->ifs[w->ifi].name : "none");
	fprintf(out, "TLS listening port      : %u\n", w->port);
	fprintf(out, "Key file                : %s\n", STRV(w->key));
	fprintf(out, "Certificate file        : %s\n", STRV(w->cert));
	fprintf(out, "HTTP redirect           : %s\n", w->http_redirect ? "Enabled" : "Disabled");
	fprintf(out, "STATUS                  : webadmin %s\n",
		running ? "running" : "not running");
}

static const struct web_sub wa_subs[] = {
	{ "listen", NULL, "webadmin listen <if> <port>",
		"where the web admin pages and the REST API are served", 2, 2, wa_listen, SUB_SET,
		0 },
	{ "certs", NULL, "webadmin certs <key> <crt> [<bundle>]",
		"TLS key, certificate and CA bundle", 2, 3, wa_certs, SUB_SET, 0 },
	{ "http-redirect", NULL, "webadmin http-redirect enable|disable",
		"redirect port 80 to HTTPS on the webadmin interface", 1, 1, wa_http_redirect,
		SUB_SET, 0 },
	{ "enable", NULL, "webadmin enable", "start serving", 0, 0, NULL, SUB_SWITCH, 0 },
	{ "disable", NULL, "webadmin disable", "stop serving", 0, 0, NULL, SUB_SWITCH, 0 },
	{ "restart", NULL, "webadmin restart", "restart with the saved settings", 0, 0, NULL,
		SUB_SWITCH, 0 },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, SUB_SET, 0 },
};

/* --- user --- */

static int password_word(const char *cmd, char **argv, int i, int argc, FILE *out)
{
	size_t len;

	if (i >= argc)
		return cli_refuse(out,
			"%s: no password (edgectl asks for it on a terminal; in a "
			"script give it as the last word)",
			cmd);
	len = strlen(argv[i]);
	if (len < PASSWORD_MIN)
		return cli_refuse(out, "%s: password too short: at least %d characters", cmd,
			PASSWORD_MIN);
	if (len > PASSWORD_MAX)
		return cli_refuse(out, "%s: password too long: at most %d characters", cmd,
			PASSWORD_MAX);
	for (const char *p = argv[i]; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return cli_refuse(out, "%s: password: control characters are not allowed",
				cmd);
	return 0;
}

static int set_password(const char *cmd, struct cfg_admin *a, const char *password, FILE *out)
{
	int r = cfg_admin_hash(password, a->hash, sizeof(a->hash));

	if (r < 0)
		return cli_refuse(out, "%s: cannot hash the password: %s", cmd, strerror(-r));
	return 0;
}

static int user_add(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	const char *cmd = "user add";
	struct cfg_admin *a;
	int r;

	(void)cli;
	if (!cfg_admin_name_ok(argv[1]))
		return cli_refuse(out, "%s: '%s': a name is [a-z_][a-z0-9_.-]{0,30}", cmd, argv[1]);
	if (cfg_admin_find(n, argv[1]) >= 0)
		return cli_refuse(out,
			"%s: '%s': already a user (user passwd changes the password)", cmd,
			argv[1]);
	if (!cfg_admin_role_ok(argv[2]))
		return cli_refuse(out, "%s: '%s': expected a role: admin, api, audit or appadmin",
			cmd, argv[2]);
	if (n->n_admins == WEB_MAX_ADMINS)
		return cli_refuse(out, "%s: '%s': already %d users", cmd, argv[1], WEB_MAX_ADMINS);
	if ((r = password_word(cmd, argv, 3, argc, out)) < 0)
		return r;
	a = &n->admins[n->n_admins];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", argv[1]);
	snprintf(a->role, sizeof(a->role), "%s", argv[2]);
	if ((r = set_password(cmd, a, argv[3], out)) < 0)
		return r;
	n->n_admins++;
	return 0;
}

static int user_del(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	int i = cfg_admin_find(n, argv[1]), admins = 0;

	(void)cli, (void)argc;
	if (i < 0)
		return cli_refuse(out, "user del: '%s': no such user", argv[1]);
	for (int k = 0; k < n->n_admins; k++)
		admins += !strcmp(n->admins[k].role, "admin");
	if (!strcmp(n->admins[i].role, "admin") && admins == 1)
		return cli_refuse(out, "user del: '%s': the last admin user cannot be deleted",
			argv[1]);
	memmove(&n->admins[i], &n->admins[i + 1], (n->n_admins - i - 1) * sizeof(n->admins[0]));
	n->n_admins--;
	memset(&n->admins[n->n_admins], 0, sizeof(n->admins[0]));
	return 0;
}

static int user_passwd(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	int i = cfg_admin_find(n, argv[1]), r;

	(void)cli;
	if (i < 0)
		return cli_refuse(out, "user passwd: '%s': no such user", argv[1]);
	if ((r = password_word("user passwd", argv, 2, argc, out)) < 0)
		return r;
	return set_password("user passwd", &n->admins[i], argv[2], out);
}

static void user_page(struct cli *cli, const struct web_cli_ops *ops, FILE *out)
{
	const struct edge_cfg *c = cli->cfg;
	(void)ops;

	if (!c->n_admins) {
		fprintf(out, "no users (user add <name> admin)\n");
		return;
	}
	fprintf(out, "%-32s %s\n", "Name", "Role");
	for (int i = 0; i < c->n_admins; i++)
		fprintf(out, "%-32s %s\n", c->admins[i].name, c->admins[i].role);
}

static const struct web_sub user_subs[] = {
	{ "list", NULL, "user list", "the administrators and their roles", 0, 0, NULL, SUB_SHOW,
		0 },
	{ "add", NULL, "user add <name> admin|api|audit|appadmin [<password>]",
		"a new administrator (edgectl asks for the password)", 2, 3, user_add, SUB_SET, 4 },
	{ "del", NULL, "user del <name>", "remove an administrator (not the last admin)", 1, 1,
		user_del, SUB_SET, 0 },
	{ "passwd", NULL, "user passwd <name> [<password>]",
		"change a password (edgectl asks for it)", 1, 2, user_passwd, SUB_SET, 3 },
	{ NULL, NULL, NULL, NULL, 0, 0, NULL, SUB_SET, 0 },
};

/* --- the components and the dispatcher --- */

static const struct web_comp wb3_comp = { "webbridge3", EDGE_ROLE_CORE,
	offsetof(struct edge_cfg, wb3.enabled), false, wb3_subs, wb3_page, wb3_ready };
static const struct web_comp cb_comp = { "callbridge", EDGE_ROLE_EDGE,
	offsetof(struct edge_cfg, cb.enabled), false, cb_subs, cb_page, cb_ready };
static const struct web_comp wa_comp = { "webadmin", EDGE_ROLE_EDGE,
	offsetof(struct edge_cfg, webadmin.enabled), false, wa_subs, wa_page, wa_ready };
static const struct web_comp user_comp = { "user", -1, 0, true, user_subs, user_page, NULL };

/* enable, disable, restart: the switch in @n, and whether the component can start. */
static int switch_run(const struct web_comp *c, struct cli *cli, struct edge_cfg *n,
	const char *word, const char *cmd, FILE *out)
{
	bool *enabled = (bool *)((char *)n + c->enabled);

	if (!strcmp(word, "disable")) {
		*enabled = false;
		return 0;
	}
	if (!strcmp(word, "restart") && !*enabled)
		return cli_refuse(out, "%s: %s is disabled ('%s enable' starts it)", cmd, c->name,
			c->name);
	*enabled = true;
	return c->ready(cli, n, cmd, out);
}

static const struct web_sub *find_sub(const struct web_comp *c, int argc, char **argv, int *skip,
	FILE *out)
{
	const struct web_sub *s;
	char alts[200] = "";
	size_t off = 0;

	for (s = c->subs; s->w1; s++) {
		if (strcmp(argv[1], s->w1))
			continue;
		if (!s->w2) {
			/* one word, two forms told apart by their arguments ("callbridge media"
			 * shows the legs, "callbridge media a:10000" sets the port) */
			if ((argc - 2 < s->min_args || argc - 2 > s->max_args) && s[1].w1 &&
				!strcmp(s[1].w1, s->w1) && !s[1].w2)
				continue;
			*skip = 2;
			return s;
		}
		if (argc > 2 && !strcmp(argv[2], s->w2)) {
			*skip = 3;
			return s;
		}
		off += snprintf(alts + off, sizeof(alts) - off, "%s%s", off ? ", " : "", s->w2);
	}
	if (!off)
		cli_refuse(out, "%s: '%s': unknown setting (help %s lists them)", c->name, argv[1],
			c->name);
	else if (argc == 2)
		cli_refuse(out, "%s %s: missing words (expected %s)", c->name, argv[1], alts);
	else
		cli_refuse(out, "%s %s: '%s': expected %s", c->name, argv[1], argv[2], alts);
	return NULL;
}

static int web_run(const struct web_comp *c, struct cli *cli, const struct web_cli_ops *ops,
	int argc, char **argv, FILE *out)
{
	const struct web_sub *s;
	struct edge_cfg *next;
	char cmd[64], what[256];
	int r, skip, off = 0;

	if (argc == 1) {
		c->page(cli, ops, out);
		return 0;
	}
	if (c->absent >= 0 && cli->cfg->role == (enum edge_role)c->absent)
		return cli_refuse(out, "%s: not on this appliance (role %s)", c->name,
			cfg_role_name(cli->cfg->role));
	if (!(s = find_sub(c, argc, argv, &skip, out)))
		return -EINVAL;
	snprintf(cmd, sizeof(cmd), "%s %s%s%s", c->name, s->w1, s->w2 ? " " : "",
		s->w2 ? s->w2 : "");
	if (argc - skip < s->min_args || argc - skip > s->max_args)
		return cli_refuse(out, "%s: %s (usage: %s)", cmd,
			argc - skip < s->min_args ? "missing words" : "too many words", s->usage);
	if (s->kind == SUB_SHOW) {
		c->page(cli, ops, out);
		return 0;
	}
	if (s->kind == SUB_INFO) {
		if (!ops->info)
			return cli_refuse(out, "%s: not available here", cmd);
		ops->info(ops->ctx, cmd, out);
		return 0;
	}
	if (s->kind == SUB_SWITCH && !ops->restart)
		return cli_refuse(out, "%s: not available here", cmd);
	if (!(next = malloc(sizeof(*next)))) /* 180 KB: not on the stack */
		return cli_refuse(out, "%s: out of memory", cmd);
	*next = *cli->cfg;
	if (s->kind == SUB_SWITCH)
		r = switch_run(c, cli, next, s->w1, cmd, out);
	else
		r = s->run(cli, next, argc - skip + 1, argv + skip - 1, out);
	for (int i = 0; r >= 0 && i < argc && off < (int)sizeof(what) - 1; i++)
		off += snprintf(what + off, sizeof(what) - off, "%s%s", i ? " " : "",
			s->secret && i >= s->secret ? "********" : argv[i]);
	if (r >= 0)
		r = cli_apply(cli, next, what, out);
	if (r >= 0 && s->kind == SUB_SET && !c->live) {
		bool on = *(const bool *)((const char *)cli->cfg + c->enabled);

		fprintf(out, "%s: takes effect on '%s %s'\n", c->name, c->name,
			on ? "restart" : "enable");
	}
	if (r >= 0 && s->kind == SUB_SWITCH)
		r = ops->restart(ops->ctx, c->name, out);
	explicit_bzero(next, sizeof(*next)); /* a password may have passed through */
	free(next);
	return r;
}

static int webbridge3_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	return web_run(&wb3_comp, cli, ctx, argc, argv, out);
}

static int callbridge_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	return web_run(&cb_comp, cli, ctx, argc, argv, out);
}

static int webadmin_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	return web_run(&wa_comp, cli, ctx, argc, argv, out);
}

static int user_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	return web_run(&user_comp, cli, ctx, argc, argv, out);
}

static void web_help(const struct web_comp *c, FILE *out)
{
	for (const struct web_sub *s = c->subs; s->w1; s++)
		fprintf(out, "  %-66s %s\n", s->usage, s->help);
}

static void wb3_help(FILE *out)
{
	web_help(&wb3_comp, out);
}

static void cb_help(FILE *out)
{
	web_help(&cb_comp, out);
}

static void wa_help(FILE *out)
{
	web_help(&wa_comp, out);
}

static void user_help(FILE *out)
{
	web_help(&user_comp, out);
}

static const char *const wb3_families[] = { "edge_webbridge3_", NULL };
static const char *const cb_families[] = { "edge_callbridge_", "edge_media_", NULL };

int web_cli_register(struct cli *cli, const struct web_cli_ops *ops)
{
	const struct cli_command cmds[] = {
		{ "webbridge3", "webbridge3 [<setting> ...]",
			"the web bridge (edge): status page, or a setting ('help webbridge3')",
			webbridge3_cli, wb3_help, wb3_families, NULL, (void *)ops },
		{ "callbridge", "callbridge [<setting> ...]",
			"the call bridge (core): status page, or a setting ('help callbridge')",
			callbridge_cli, cb_help, cb_families, NULL, (void *)ops },
		{ "webadmin", "webadmin [<setting> ...]",
			"web admin pages and REST API (core): status page, or a setting "
			"('help webadmin')",
			webadmin_cli, wa_help, NULL, NULL, (void *)ops },
		{ "user", "user [list | add | del | passwd ...]",
			"administrators of the web admin pages and the REST API ('help user')",
			user_cli, user_help, NULL, NULL, (void *)ops },
	};
	int r;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if ((r = cli_register(cli, &cmds[i])) < 0)
			return r;
	return 0;
}
