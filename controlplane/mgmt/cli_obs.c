/* The observability commands: `metrics` (the registry as Prometheus text or JSON, and the
 * endpoint Prometheus scrapes) and `syslog` (remote syslog servers, CMS-SPEC 1.8). Like every
 * command they validate every word, edit a copy of the configuration and hand it to
 * cli_apply; the running services follow through the appliance's configuration hooks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_int.h"
#include "metrics.h"

#define METRICS_USAGE                                                                              \
	"metrics [json | status | listen <if> <port> | allow add|del "                             \
	"<prefix> | certs <key> <crt> | certs none | enable | disable]"
#define SYSLOG_USAGE                                                                               \
	"syslog [server add <host>[:<port>] [udp|tcp|tls] | server del "                           \
	"<host>[:<port>] | ca <bundle> | ca none | enable | disable]"

static const char *enabled_str(bool on)
{
	return on ? "true" : "false";
}

static void metrics_page(struct cli *cli, const struct obs_cli_ops *ops, FILE *out)
{
	const struct edge_cfg *c = cli->cfg;
	const struct cfg_metrics *m = &c->metrics;
	char a[16];

	fprintf(out, "Enabled                 : %s\n", enabled_str(m->enabled));
	fprintf(out, "Listening interface     : %s\n", m->ifi >= 0 ? c->ifs[m->ifi].name : "none");
	fprintf(out, "Listening port          : %u\n", m->port);
	fprintf(out, "Protocol                : %s\n", m->key[0] ? "HTTPS" : "HTTP");
	if (m->key[0]) {
		fprintf(out, "Key file                : %s\n", m->key);
		fprintf(out, "Certificate file        : %s\n", m->cert);
	}
	if (!m->n_allow)
		fprintf(out, "Allowed scrapers        : any\n");
	for (int i = 0; i < m->n_allow; i++)
		fprintf(out, "Allowed scrapers        : %s/%u\n", cfg_ipv4_str(m->allow[i].addr, a),
			m->allow[i].len);
	if (ops->metrics_status)
		ops->metrics_status(ops->ctx, out);
}

/* @word as a prefix with its host bits cleared, into @p; a refusal naming it otherwise. */
static int want_prefix(const char *cmd, const char *word, struct cfg_prefix *p, FILE *out)
{
	uint32_t a;
	uint8_t len;
	int r = cfg_parse_prefix(word, &a, &len);

	if (r == -ERANGE)
		return cli_refuse(out, "%s: '%s': prefix must be 0..32", cmd, word);
	if (r < 0)
		return cli_refuse(out, "%s: '%s': expected <a.b.c.d>/<prefix>", cmd, word);
	*p = (struct cfg_prefix){ a & (len ? htonl(~0u << (32 - len)) : 0), len };
	return 0;
}

/* What listens on TCP @port of @ifi besides the metrics endpoint, or NULL. */
static const char *port_taken(const struct edge_cfg *n, int ifi, uint16_t port)
{
	const struct cfg_turn *t = &n->turn;
	bool turn_here = t->enabled && (t->listen_mask & (1u << ifi));

	if (turn_here &&
		(port == t->port || (t->tls_port && port == t->tls_port) ||
			(t->browser_port && port == t->browser_port)))
		return "TURN";
	return cfg_tcp_port_owner(n, ifi, port);
}

static int metrics_set(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	struct cfg_metrics *m = &n->metrics;
	const char *who;

	if (!strcmp(argv[1], "listen")) {
		long port;
		char *end;
		int ifi;

		if (argc != 4)
			return cli_refuse(out,
				"metrics listen: %s (usage: metrics listen <if> <port>)",
				argc < 4 ? "missing words" : "too many words");
		if ((ifi = cli_want_iface(cli, "metrics listen", argv[2], out)) < 0)
			return ifi;
		port = strtol(argv[3], &end, 10);
		if (*end || port < 1 || port > 65535)
			return cli_refuse(out, "metrics listen: '%s': port must be 1..65535",
				argv[3]);
		m->ifi = ifi;
		m->port = (uint16_t)port;
	} else if (!strcmp(argv[1], "allow")) {
		struct cfg_prefix p;
		bool add = argc > 2 && !strcmp(argv[2], "add");
		int i, r;

		if (argc != 4 || (!add && strcmp(argv[2], "del")))
			return cli_refuse(out,
				"metrics allow: %s (usage: metrics allow add|del "
				"<prefix>)",
				argc < 3	  ? "missing add or del" :
					argc == 3 ? "missing <prefix>" :
					argc > 4  ? "too many words" :
						    argv[2]);
		if ((r = want_prefix("metrics allow", argv[3], &p, out)) < 0)
			return r;
		for (i = 0; i < m->n_allow; i++)
			if (m->allow[i].addr == p.addr && m->allow[i].len == p.len)
				break;
		if (add && i < m->n_allow)
			return cli_refuse(out, "metrics allow add: '%s': already allowed", argv[3]);
		if (!add && i == m->n_allow)
			return cli_refuse(out, "metrics allow del: '%s': not in the list", argv[3]);
		if (add && m->n_allow == CFG_METRICS_MAX_ALLOW)
			return cli_refuse(out,
				"metrics allow add: '%s': the list is full (%d prefixes)", argv[3],
				CFG_METRICS_MAX_ALLOW);
		if (add) {
			m->allow[m->n_allow++] = p;
		} else {
			memmove(&m->allow[i], &m->allow[i + 1],
				(size_t)(m->n_allow - i - 1) * sizeof(m->allow[0]));
			m->n_allow--;
		}
	} else if (!strcmp(argv[1], "certs")) {
		if (argc == 3 && !strcmp(argv[2], "none")) {
			m->key[0] = m->cert[0] = '\0';
		} else {
			int r;

			if (argc != 4)
				return cli_refuse(out,
					"metrics certs: %s (usage: metrics certs <key> "
					"<crt> | certs none)",
					argc < 4 ? "missing words" : "too many words");
			r = pki_cli_certs(cli, "metrics certs", argc - 1, argv + 1, m->key, m->cert,
				NULL, sizeof(m->key), out);
			if (r < 0)
				return r;
		}
	} else if (!strcmp(argv[1], "enable") || !strcmp(argv[1], "disable")) {
		if (argc != 2)
			return cli_refuse(out, "metrics %s: '%s': unexpected word", argv[1],
				argv[2]);
		m->enabled = !strcmp(argv[1], "enable");
		if (m->enabled && m->ifi < 0)
			return cli_refuse(out,
				"metrics enable: no interface to listen on (metrics "
				"listen <if> <port> first)");
	} else {
		return cli_refuse(out, "metrics: '%s': unknown setting (usage: %s)", argv[1],
			METRICS_USAGE);
	}
	if (m->enabled && m->ifi >= 0 && (who = port_taken(n, m->ifi, m->port)))
		return cli_refuse(out, "metrics: '%s:%u': %s listens there", n->ifs[m->ifi].name,
			m->port, who);
	return 0;
}

typedef int edit_fn(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out);

/* Runs @edit on a copy of the running configuration and applies it, logged as typed. */
static int edit_apply(struct cli *cli, edit_fn *edit, int argc, char **argv, FILE *out)
{
	struct edge_cfg *next = malloc(sizeof(*next)); /* 180 KB: not on the stack */
	char what[256];
	int r, off = 0;

	if (!next)
		return cli_refuse(out, "%s: out of memory", argv[0]);
	*next = *cli->cfg;
	r = edit(cli, next, argc, argv, out);
	if (r >= 0) {
		for (int i = 0; i < argc && off < (int)sizeof(what) - 1; i++)
			off += snprintf(what + off, sizeof(what) - (size_t)off, "%s%s",
				i ? " " : "", argv[i]);
		r = cli_apply(cli, next, what, out);
	}
	free(next);
	return r;
}

static int metrics_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	const struct obs_cli_ops *ops = ctx;

	if (argc == 1 || !strcmp(argv[1], "json")) {
		bool json = argc == 2;

		if (argc > 2)
			return cli_refuse(out, "metrics: '%s': unexpected word", argv[2]);
		if (!cli->metrics)
			return cli_refuse(out, "metrics: not available here");
		if (json)
			metrics_write_json(cli->metrics, out);
		else
			metrics_write_prometheus(cli->metrics, out);
		return 0;
	}
	if (!strcmp(argv[1], "status")) {
		if (argc > 2)
			return cli_refuse(out, "metrics status: '%s': unexpected word", argv[2]);
		metrics_page(cli, ops, out);
		return 0;
	}
	return edit_apply(cli, metrics_set, argc, argv, out);
}

static void syslog_page(struct cli *cli, const struct obs_cli_ops *ops, FILE *out)
{
	const struct cfg_syslog *sl = &cli->cfg->syslog;

	fprintf(out, "Enabled                 : %s\n", enabled_str(sl->enabled));
	fprintf(out, "CA bundle               : %s\n", sl->ca[0] ? sl->ca : "none");
	if (!sl->n_servers)
		fprintf(out, "Servers                 : none\n");
	if (ops->syslog_status && sl->enabled) {
		ops->syslog_status(ops->ctx, out);
		return;
	}
	for (int i = 0; i < sl->n_servers; i++)
		fprintf(out, "Server                  : %s:%u %s\n", sl->servers[i].host,
			sl->servers[i].port, cfg_syslog_transport_name(sl->servers[i].transport));
}

static bool same_server(const struct cfg_syslog_server *a, const struct cfg_syslog_server *b)
{
	return !strcmp(a->host, b->host) && a->port == b->port && a->transport == b->transport;
}

static int syslog_set(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	struct cfg_syslog *sl = &n->syslog;
	char err[256];

	if (!strcmp(argv[1], "server")) {
		struct cfg_syslog_server s;
		enum cfg_syslog_transport t = CFG_SYSLOG_UDP;
		bool add = argc > 2 && !strcmp(argv[2], "add");
		bool has_port;
		int i, kept = 0;

		if (argc < 4 || (!add && strcmp(argv[2], "del")))
			return cli_refuse(out, "syslog server: %s (usage: %s)",
				argc < 3	  ? "missing add or del" :
					argc == 3 ? "missing <host>" :
						    argv[2],
				SYSLOG_USAGE);
		if (argc > (add ? 5 : 4))
			return cli_refuse(out, "syslog server %s: '%s': unexpected word", argv[2],
				argv[add ? 5 : 4]);
		if (argc == 5 && cfg_syslog_transport_parse(argv[4], &t) < 0)
			return cli_refuse(out, "syslog server add: '%s': expected udp, tcp or tls",
				argv[4]);
		if (cfg_syslog_server_parse(argv[3], t, &s, err, sizeof(err)) < 0)
			return cli_refuse(out, "syslog server %s: %s", argv[2], err);
		if (add) {
			for (i = 0; i < sl->n_servers; i++)
				if (same_server(&sl->servers[i], &s))
					return cli_refuse(out,
						"syslog server add: '%s' %s: already a "
						"server",
						argv[3], cfg_syslog_transport_name(t));
			if (sl->n_servers == CFG_SYSLOG_MAX_SERVERS)
				return cli_refuse(out,
					"syslog server add: '%s': at most %d servers", argv[3],
					CFG_SYSLOG_MAX_SERVERS);
			if (t == CFG_SYSLOG_TLS && !sl->ca[0])
				return cli_refuse(out,
					"syslog server add: '%s' tls: no CA bundle to "
					"check it against (syslog ca <bundle> first)",
					argv[3]);
			sl->servers[sl->n_servers++] = s;
			return 0;
		}
		/* del <host> removes every server on that host, del <host>:<port> that one */
		has_port = argv[3][0] == '[' ?
			strstr(argv[3], "]:") != NULL :
			strchr(argv[3], ':') && !strchr(strchr(argv[3], ':') + 1, ':');
		for (i = 0; i < sl->n_servers; i++)
			if (strcmp(sl->servers[i].host, s.host) ||
				(has_port && sl->servers[i].port != s.port))
				sl->servers[kept++] = sl->servers[i];
		if (kept == sl->n_servers)
			return cli_refuse(out, "syslog server del: '%s': no such server", argv[3]);
		sl->n_servers = kept;
	} else if (!strcmp(argv[1], "ca")) {
		char path[512];
		int r;

		if (argc != 3)
			return cli_refuse(out,
				"syslog ca: %s (usage: syslog ca <bundle> | ca none)",
				argc < 3 ? "missing <bundle>" : "too many words");
		if (!strcmp(argv[2], "none")) {
			for (int i = 0; i < sl->n_servers; i++)
				if (sl->servers[i].transport == CFG_SYSLOG_TLS)
					return cli_refuse(out,
						"syslog ca none: server %s uses TLS "
						"(syslog server del %s first)",
						sl->servers[i].host, sl->servers[i].host);
			sl->ca[0] = '\0';
			return 0;
		}
		r = pki_cli_name(cli, "syslog ca", argv[2], path, sizeof(path), sl->ca,
			sizeof(sl->ca), out);
		if (r < 0)
			return r;
	} else if (!strcmp(argv[1], "enable") || !strcmp(argv[1], "disable")) {
		if (argc != 2)
			return cli_refuse(out, "syslog %s: '%s': unexpected word", argv[1],
				argv[2]);
		sl->enabled = !strcmp(argv[1], "enable");
	} else {
		return cli_refuse(out, "syslog: '%s': unknown setting (usage: %s)", argv[1],
			SYSLOG_USAGE);
	}
	return 0;
}

static int syslog_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	if (argc == 1) {
		syslog_page(cli, ctx, out);
		return 0;
	}
	return edit_apply(cli, syslog_set, argc, argv, out);
}

static void metrics_help(FILE *out)
{
	fprintf(out, "  %-66s %s\n", "metrics", "every counter, Prometheus text exposition");
	fprintf(out, "  %-66s %s\n", "metrics json", "the same as JSON");
	fprintf(out, "  %-66s %s\n", "metrics status",
		"the scrape endpoint: settings, scrapes, "
		"refusals");
	fprintf(out, "  %-66s %s\n", "metrics listen <if> <port>",
		"serve GET /metrics on the "
		"interface's address (9100 by default)");
	fprintf(out, "  %-66s %s\n", "metrics allow add|del <prefix>",
		"scrapers allowed (none "
		"listed: any)");
	fprintf(out, "  %-66s %s\n", "metrics certs <key> <crt> | certs none",
		"HTTPS with these "
		"files, or plain HTTP");
	fprintf(out, "  %-66s %s\n", "metrics enable | disable", "start or stop the endpoint");
}

static void syslog_help(FILE *out)
{
	fprintf(out, "  %-66s %s\n", "syslog server add <host>[:<port>] [udp|tcp|tls]",
		"a remote server (RFC 5424; 514, or 6514 for TLS)");
	fprintf(out, "  %-66s %s\n", "syslog server del <host>[:<port>]", "remove it");
	fprintf(out, "  %-66s %s\n", "syslog ca <bundle> | ca none",
		"CA bundle TLS servers are "
		"checked against");
	fprintf(out, "  %-66s %s\n", "syslog enable | disable",
		"send the log to the servers, "
		"or stop");
}

static const char *const all_families[] = { "", NULL };
static const char *const syslog_families[] = { "edge_syslog_", NULL };

int obs_cli_register(struct cli *cli, const struct obs_cli_ops *ops)
{
	const struct cli_command cmds[] = {
		{ "metrics", METRICS_USAGE,
			"every counter (Prometheus text or JSON), and the endpoint Prometheus scrapes",
			metrics_cli, metrics_help, all_families, NULL, (void *)ops },
		{ "syslog", SYSLOG_USAGE, "remote syslog servers: status page, or change them",
			syslog_cli, syslog_help, syslog_families, NULL, (void *)ops },
	};
	int r;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if ((r = cli_register(cli, &cmds[i])) < 0)
			return r;
	return 0;
}
