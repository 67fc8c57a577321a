/* The `turn` commands: the guide's (`turn listen a b`, `turn credentials <u> <p> <realm>`,
 * `turn public-ip x.x.x.x`, `turn tls 447`, `turn certs <key> <crt>`, `turn enable`) and the
 * settings its status page shows, plus our own for ports (the browser port among them), quotas
 * and peer policy. Each
 * validates every word, edits a copy of the configuration and applies it whole. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include "cli_int.h"
#include "pki.h"

struct turn_sub {
	const char *name, *usage, *help;
	int min_args, max_args; /* words after the subcommand */
	int (*run)(struct cli *cli, struct edge_cfg *next, int argc, char **argv, FILE *out);
};

static const char *on_off(bool v, const char *on, const char *off)
{
	return v ? on : off;
}

/* A number in [lo, hi], or "none" (0) where @none_ok. */
static int number(const char *cmd, const char *w, long lo, long hi, bool none_ok, uint32_t *v,
	FILE *out)
{
	char *end;
	long n;

	if (none_ok && !strcmp(w, "none")) {
		*v = 0;
		return 0;
	}
	n = strtol(w, &end, 10);
	if (*end || end == w || n < lo || n > hi)
		return cli_refuse(out, "%s: '%s': expected a number %ld..%ld%s", cmd, w, lo, hi,
			none_ok ? " or none" : "");
	*v = (uint32_t)n;
	return 0;
}

static int sub_enable(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc, (void)out;
	n->turn.enabled = !strcmp(argv[0], "enable");
	if (n->turn.enabled && !n->turn.listen_mask)
		return cli_refuse(out,
			"turn enable: no listen interface (turn listen <if> ... first)");
	return 0;
}

static int sub_listen(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	uint8_t mask = 0;

	for (int i = 1; i < argc; i++) {
		int ifi = cli_want_iface(cli, "turn listen", argv[i], out);
		if (ifi < 0)
			return ifi;
		mask |= 1u << ifi;
	}
	n->turn.listen_mask = mask;
	return 0;
}

static bool printable_word(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || *s == 0x7f)
			return false;
	return true;
}

static int sub_credentials(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	struct cfg_turn *t = &n->turn;
	int k;

	(void)cli;
	if (!strcmp(argv[1], "delete")) {
		if (argc != 3)
			return cli_refuse(out, "turn credentials delete: expected <username>");
		for (k = 0; k < t->n_users && strcmp(t->users[k].name, argv[2]); k++)
			;
		if (k == t->n_users)
			return cli_refuse(out, "turn credentials delete: '%s': no such user",
				argv[2]);
		memmove(&t->users[k], &t->users[k + 1], (t->n_users - k - 1) * sizeof(t->users[0]));
		t->n_users--;
		return 0;
	}
	if (argc != 4)
		return cli_refuse(out, "turn credentials: expected <username> <password> <realm>");
	for (int i = 1; i <= 3; i++) {
		if (strlen(argv[i]) >= sizeof(t->users[0].name))
			return cli_refuse(out,
				"turn credentials: '%.20s...': longer than %zu characters", argv[i],
				sizeof(t->users[0].name) - 1);
		if (!printable_word(argv[i]))
			return cli_refuse(out,
				"turn credentials: '%s': control characters are not allowed",
				argv[i]);
	}
	if (strchr(argv[1], ':'))
		return cli_refuse(out,
			"turn credentials: '%s': a username may not contain ':' "
			"(the long-term key is MD5(username:realm:password))",
			argv[1]);
	for (k = 0; k < t->n_users && strcmp(t->users[k].name, argv[1]); k++)
		;
	if (k == TURN_MAX_USERS)
		return cli_refuse(out, "turn credentials: already %d users", TURN_MAX_USERS);
	snprintf(t->users[k].name, sizeof(t->users[k].name), "%s", argv[1]);
	snprintf(t->users[k].password, sizeof(t->users[k].password), "%s", argv[2]);
	if (k == t->n_users)
		t->n_users++;
	if (t->realm[0] && strcmp(t->realm, argv[3]))
		fprintf(out, "note: realm changed from '%s' to '%s' for every user\n", t->realm,
			argv[3]);
	snprintf(t->realm, sizeof(t->realm), "%s", argv[3]);
	return 0;
}

static int sub_public_ip(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	if (!strcmp(argv[1], "none")) {
		n->turn.public_ip = 0;
		return 0;
	}
	if (cfg_parse_ipv4(argv[1], &n->turn.public_ip) < 0)
		return cli_refuse(out, "turn public-ip: '%s': not an IPv4 address (or none)",
			argv[1]);
	return 0;
}

static int sub_tls(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	uint32_t port = 0;
	int r;

	(void)cli, (void)argc;
	if ((r = number("turn tls", argv[1], 1, 65535, true, &port, out)) < 0)
		return r;
	if (port && port == n->turn.port)
		return cli_refuse(out, "turn tls: '%s': that is the UDP/TCP port too", argv[1]);
	n->turn.tls_port = (uint16_t)port;
	if (port && (!n->turn.tls_key[0] || !n->turn.tls_cert[0]))
		fprintf(out,
			"warning: no certificate yet: TLS listens once 'turn certs' names one\n");
	return 0;
}

/* Ours: `turn browser-port 443|80|53|none`. Chromium uses TURN below port 1024 only on 53, 80
 * and 443, so a guest behind a firewall that lets out only 443 reaches us there: UDP on every
 * listen interface, TCP and TLS (one port, by the first byte) where no other component holds
 * the TCP port. TURN yields such an interface rather than refusing the setting: the lab's
 * and many sites' webadmin has 443 of one interface, and its guests come in on another. */
static int sub_browser_port(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	const struct cfg_turn *t = &n->turn;
	uint32_t port = 0;
	int r;

	(void)argc;
	if ((r = number("turn browser-port", argv[1], 1, 65535, true, &port, out)) < 0)
		return r;
	if (port && !cfg_turn_browser_ok((uint16_t)port))
		return cli_refuse(out,
			"turn browser-port: '%s': browsers use TURN below 1024 only "
			"on 53, 80 and 443 (or none)",
			argv[1]);
	for (int i = 0; port && i < n->cb.n_media; i++)
		if ((t->listen_mask & (1u << n->cb.media[i].ifi)) && n->cb.media[i].port == port)
			return cli_refuse(out,
				"turn browser-port: '%s': the callbridge's media "
				"port on %s",
				argv[1], n->ifs[n->cb.media[i].ifi].name);
	n->turn.browser_port = (uint16_t)port;
	if (port && port == t->port)
		fprintf(out, "note: %u is the TURN port already: nothing more listens\n", t->port);
	for (int i = 0; port && port != t->port && i < n->n_ifs; i++) {
		const char *who = (t->listen_mask & (1u << i)) ?
			cfg_tcp_port_owner(n, i, (uint16_t)port) :
			NULL;

		if (who)
			fprintf(out,
				"note: %s listens on TCP %s:%u: TURN takes only UDP %u there, "
				"TCP and TLS on the other listen interfaces\n",
				who, n->ifs[i].name, port, port);
	}
	if (port && port != t->port && (!t->tls_key[0] || !t->tls_cert[0]))
		fprintf(out, "note: no certificate yet: TLS on %u once 'turn certs' names one\n",
			port);
	(void)cli;
	return 0;
}

/* The guide's `turn certs <key> <crt> [<bundle>]`: refused unless the key is the certificate's,
 * the chain is in order and valid now, and the bundle holds certificates. */
static int sub_certs(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	struct cfg_turn *t = &n->turn;

	return pki_cli_certs(cli, "turn certs", argc, argv, t->tls_key, t->tls_cert, t->tls_bundle,
		sizeof(t->tls_key), out);
}

static int sub_short_term(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	return cli_enable_word("turn short-term-credentials", argv[1], &n->turn.short_term, out);
}

static int sub_high_capacity(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	return cli_enable_word("turn high-capacity-mode", argv[1], &n->turn.high_capacity, out);
}

static int sub_shared_secret(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	struct cfg_turn *t = &n->turn;

	(void)cli, (void)argc;
	if (!strcmp(argv[1], "none")) {
		t->shared_secret[0] = '\0';
		return 0;
	}
	if (strlen(argv[1]) >= sizeof(t->shared_secret) || strlen(argv[1]) < 8)
		return cli_refuse(out, "turn shared-secret: '%.16s...': must be 8..%zu characters",
			argv[1], sizeof(t->shared_secret) - 1);
	snprintf(t->shared_secret, sizeof(t->shared_secret), "%s", argv[1]);
	return 0;
}

static int sub_port(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	uint32_t port = 0;
	int r;

	(void)cli, (void)argc;
	if ((r = number("turn port", argv[1], 1, 65535, false, &port, out)) < 0)
		return r;
	if (port == n->turn.tls_port)
		return cli_refuse(out, "turn port: '%s': that is the TLS port", argv[1]);
	if (port >= n->turn.relay_lo && port <= n->turn.relay_hi)
		return cli_refuse(out, "turn port: '%s': inside the relay port range %u-%u",
			argv[1], n->turn.relay_lo, n->turn.relay_hi);
	n->turn.port = (uint16_t)port;
	return 0;
}

static int sub_relay_ports(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	unsigned int lo, hi;
	char tail;

	(void)cli, (void)argc;
	if (sscanf(argv[1], "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1024 || hi > 65535 || lo > hi)
		return cli_refuse(out,
			"turn relay-ports: '%s': expected <lo>-<hi> within 1024-65535", argv[1]);
	if (n->turn.port >= lo && n->turn.port <= hi)
		return cli_refuse(out, "turn relay-ports: '%s': contains the TURN port %u", argv[1],
			n->turn.port);
	for (int i = 0; i < n->cb.n_media; i++)
		if (n->cb.media[i].ifi == cfg_turn_relay_if(&n->turn) &&
			n->cb.media[i].port >= lo && n->cb.media[i].port <= hi)
			return cli_refuse(out,
				"turn relay-ports: '%s': contains the callbridge's "
				"media port %u",
				argv[1], n->cb.media[i].port);
	n->turn.relay_lo = (uint16_t)lo;
	n->turn.relay_hi = (uint16_t)hi;
	return 0;
}

static int sub_quota(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	if (!strcmp(argv[1], "total"))
		return number("turn quota total", argv[2], 1, 100000000, true, &n->turn.max_allocs,
			out);
	if (!strcmp(argv[1], "user"))
		return number("turn quota user", argv[2], 1, 1000000, true,
			&n->turn.max_allocs_per_user, out);
	return cli_refuse(out, "turn quota: '%s': expected total or user", argv[1]);
}

static int sub_bandwidth(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	return number("turn bandwidth", argv[1], 8, 10000000, true, &n->turn.bandwidth_kbps, out);
}

static int sub_lifetime(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	(void)cli, (void)argc;
	return number("turn max-lifetime", argv[1], 600, 86400, false, &n->turn.lifetime_max, out);
}

static int sub_peers(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	struct cfg_turn *t = &n->turn;
	bool del = !strcmp(argv[1], "delete"), deny;
	const char *kind = argv[del ? 2 : 1], *word = argv[del ? 3 : 2];
	struct cfg_prefix p = { 0 }; /* padding too: models are compared with memcmp */
	struct cfg_prefix6 p6;
	char why[96], *list;
	size_t size;
	int *count, k, fam;

	(void)cli;
	if (argc != (del ? 4 : 3))
		return cli_refuse(out,
			"turn peers: expected [delete] allow|deny <prefix> "
			"(a.b.c.d/n or IPv6)");
	deny = !strcmp(kind, "deny");
	if (!deny && strcmp(kind, "allow"))
		return cli_refuse(out, "turn peers: '%s': expected allow, deny or delete", kind);
	if ((fam = cfg_parse_peer_prefix(word, &p, &p6, why, sizeof(why))) < 0)
		return cli_refuse(out, "turn peers: '%s': %s", word, why);
	/* then the same for both families: @k in a list of @size-byte entries */
	if (fam == 4) {
		struct cfg_prefix *l = deny ? t->denied : t->allowed;

		count = deny ? &t->n_denied : &t->n_allowed;
		for (k = 0; k < *count && (l[k].addr != p.addr || l[k].len != p.len); k++)
			;
		list = (char *)l;
		size = sizeof(p);
	} else {
		struct cfg_prefix6 *l = deny ? t->denied6 : t->allowed6;

		count = deny ? &t->n_denied6 : &t->n_allowed6;
		for (k = 0; k < *count && memcmp(&l[k], &p6, sizeof(p6)); k++) /* no padding */
			;
		list = (char *)l;
		size = sizeof(p6);
	}
	if (del) {
		if (k == *count)
			return cli_refuse(out, "turn peers delete %s: '%s': not in the list", kind,
				word);
		memmove(list + k * size, list + (k + 1) * size, (*count - k - 1) * size);
		(*count)--;
		return 0;
	}
	if (k < *count)
		return cli_refuse(out, "turn peers %s: '%s': already in the list", kind, word);
	if (*count == TURN_MAX_PEER_RULES)
		return cli_refuse(out, "turn peers %s: already %d IPv%d entries", kind,
			TURN_MAX_PEER_RULES, fam);
	memcpy(list + (*count)++ * size, fam == 4 ? (const void *)&p : (const void *)&p6, size);
	return 0;
}

static int sub_connections(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	bool total = !strcmp(argv[1], "total");

	(void)cli, (void)argc;
	if (!total && strcmp(argv[1], "per-address"))
		return cli_refuse(out, "turn connections: '%s': expected total or per-address",
			argv[1]);
	return number(total ? "turn connections total" : "turn connections per-address", argv[2], 1,
		65534, true, total ? &n->turn.max_conns : &n->turn.max_conns_per_addr, out);
}

static int sub_timeouts(struct cli *cli, struct edge_cfg *n, int argc, char **argv, FILE *out)
{
	bool hs = !strcmp(argv[1], "handshake");

	(void)cli, (void)argc;
	if (!hs && strcmp(argv[1], "idle"))
		return cli_refuse(out, "turn timeouts: '%s': expected handshake or idle", argv[1]);
	return number(hs ? "turn timeouts handshake" : "turn timeouts idle", argv[2], 1,
		hs ? 3600 : 86400, true, hs ? &n->turn.handshake_timeout : &n->turn.idle_timeout,
		out);
}

static const struct turn_sub subs[] = {
	{ "enable", "turn enable", "start relaying on the listen interfaces", 0, 0, sub_enable },
	{ "disable", "turn disable", "stop the TURN server (allocations end)", 0, 0, sub_enable },
	{ "listen", "turn listen <if> [<if> ...]",
		"interfaces that take TURN clients; the first relays", 1, EDGE_MAX_IFACES,
		sub_listen },
	{ "credentials", "turn credentials <username> <password> <realm> | delete <username>",
		"long-term credentials (add or change a user; one realm)", 2, 3, sub_credentials },
	{ "public-ip", "turn public-ip <a.b.c.d>|none", "the 1:1 NAT address advertised as relay",
		1, 1, sub_public_ip },
	{ "tls", "turn tls <port>|none", "TURN over TLS port", 1, 1, sub_tls },
	{ "certs", "turn certs <key> <cert> [<bundle>]",
		"TLS key, full-chain certificate, CA bundle", 2, 3, sub_certs },
	{ "browser-port", "turn browser-port 443|80|53|none",
		"UDP, TCP and TLS for browsers (443); TCP/TLS only where no other component has "
		"the port",
		1, 1, sub_browser_port },
	{ "short-term-credentials", "turn short-term-credentials enable|disable",
		"accept short-term credentials (RFC 8489 9.1)", 1, 1, sub_short_term },
	{ "shared-secret", "turn shared-secret <secret>|none",
		"time-limited credentials (TURN REST API, coturn's use-auth-secret)", 1, 1,
		sub_shared_secret },
	{ "high-capacity-mode", "turn high-capacity-mode enable|disable", "as on the status page",
		1, 1, sub_high_capacity },
	{ "port", "turn port <port>", "UDP and TCP port (3478)", 1, 1, sub_port },
	{ "relay-ports", "turn relay-ports <lo>-<hi>", "relay port range (49152-65535)", 1, 1,
		sub_relay_ports },
	{ "quota", "turn quota total|user <n>|none", "allocation limits, in total and per user", 2,
		2, sub_quota },
	{ "bandwidth", "turn bandwidth <kbit/s>|none", "cap per allocation and direction", 1, 1,
		sub_bandwidth },
	{ "max-lifetime", "turn max-lifetime <s>", "longest allocation lifetime granted (3600)", 1,
		1, sub_lifetime },
	{ "peers", "turn peers [delete] allow|deny <a.b.c.d/n>|<ipv6-prefix>",
		"peers to refuse (403), or to relay to despite the default refusals (private and "
		"special ranges, internal subnets); deny wins over allow",
		2, 3, sub_peers },
	{ "connections", "turn connections total|per-address <n>|none",
		"TCP/TLS client connections allowed (16384 in all, 1024 per address)", 2, 2,
		sub_connections },
	{ "timeouts", "turn timeouts handshake|idle <s>|none",
		"close TLS handshakes not done (10 s), connections idle without allocation (60 s)",
		2, 2, sub_timeouts },
	{ NULL, NULL, NULL, 0, 0, NULL },
};

static void turn_cli_help(FILE *out)
{
	fprintf(out, "  %-66s %s\n", "turn allocations",
		"live allocations: client, relay, user, age, peers");
	fprintf(out, "  %-66s %s\n", "turn stats",
		"requests, errors by code, relayed packets, drops");
	for (const struct turn_sub *s = subs; s->name; s++)
		fprintf(out, "  %-66s %s\n", s->usage, s->help);
}

/* " (allowed)" when an allow range takes in all of @p, " (partly allowed)" when some of it. */
static const char *allowed_note(const struct cfg_turn *t, const struct cfg_prefix *p)
{
	const char *note = "";

	for (int i = 0; i < t->n_allowed; i++) {
		const struct cfg_prefix *al = &t->allowed[i];

		if (al->len <= p->len && cfg_prefix_has(al, p->addr))
			return " (allowed)";
		if (al->len > p->len && cfg_prefix_has(p, al->addr))
			note = " (partly allowed)";
	}
	return note;
}

static void prefix_line(const char *field, const struct cfg_prefix *p, const char *note, FILE *out)
{
	char a[16];

	fprintf(out, "%-24s: %s/%u%s\n", field, cfg_ipv4_str(p->addr, a), p->len, note);
}

/* allowed_note() for an IPv6 prefix. */
static const char *allowed_note6(const struct cfg_turn *t, const struct cfg_prefix6 *p)
{
	const char *note = "";

	for (int i = 0; i < t->n_allowed6; i++) {
		const struct cfg_prefix6 *al = &t->allowed6[i];

		if (al->len <= p->len && cfg_prefix6_has(al, p->addr))
			return " (allowed)";
		if (al->len > p->len && cfg_prefix6_has(p, al->addr))
			note = " (partly allowed)";
	}
	return note;
}

static void prefix6_line(const char *field, const struct cfg_prefix6 *p, const char *note,
	FILE *out)
{
	char a[INET6_ADDRSTRLEN];

	fprintf(out, "%-24s: %s/%u%s\n", field, cfg_ipv6_str(p->addr, a), p->len, note);
}

/* The networks behind the interfaces without the default route, IPv4 then IPv6. */
static void internal_lines(const struct edge_cfg *cfg, FILE *out)
{
	const struct cfg_turn *t = &cfg->turn;

	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *ifc = &cfg->ifs[i];
		char note[64];

		if (i == cfg->default_if)
			continue;
		for (int k = 0; k < ifc->n_addrs + ifc->n_routes; k++) {
			struct cfg_prefix p = k < ifc->n_addrs ?
				(struct cfg_prefix){ ifc->addrs[k].addr, ifc->addrs[k].prefix } :
				(struct cfg_prefix){ ifc->routes[k - ifc->n_addrs].net,
					ifc->routes[k - ifc->n_addrs].prefix };

			p.addr &= p.len ? htonl(~0u << (32 - p.len)) : 0;
			snprintf(note, sizeof(note), " (%s %s, not public)%s",
				k < ifc->n_addrs ? "subnet of" : "routed via", ifc->name,
				allowed_note(t, &p));
			prefix_line("Refused by default", &p, note, out);
		}
		for (int k = 0; k < ifc->n_addrs6 + ifc->n_routes6; k++) {
			struct cfg_prefix6 p = k < ifc->n_addrs6 ?
				cfg_prefix6_of(ifc->addrs6[k].addr, ifc->addrs6[k].prefix) :
				cfg_prefix6_of(ifc->routes6[k - ifc->n_addrs6].net,
					ifc->routes6[k - ifc->n_addrs6].prefix);

			snprintf(note, sizeof(note), " (%s %s, not public)%s",
				k < ifc->n_addrs6 ? "prefix of" : "routed via", ifc->name,
				allowed_note6(t, &p));
			prefix6_line("Refused by default", &p, note, out);
		}
	}
}

/* The peer policy as cfg_turn_peer_verdict() and cfg_turn_peer6_verdict() apply it, in
 * their order. */
static void peer_policy(const struct edge_cfg *cfg, FILE *out)
{
	const struct cfg_turn *t = &cfg->turn;

	fprintf(out,
		"Never relayed to        : this appliance's addresses (but relay ports), "
		"0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4, 255.255.255.255, subnets' network and "
		"broadcast addresses\n");
	fprintf(out,
		"Never relayed to        : IPv6: this appliance's addresses (but relay ports) and "
		"prefixes' subnet-router anycast, ::/96, ::ffff:0:0/96, fe80::/10, ff00::/8, "
		"NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms of the IPv4 ones\n");
	if (!t->n_denied && !t->n_denied6)
		fprintf(out, "Denied peers            : none\n");
	for (int i = 0; i < t->n_denied; i++)
		prefix_line("Denied peers", &t->denied[i], "", out);
	for (int i = 0; i < t->n_denied6; i++)
		prefix6_line("Denied peers", &t->denied6[i], "", out);
	if (!t->n_allowed && !t->n_allowed6)
		fprintf(out, "Allowed peers           : none\n");
	for (int i = 0; i < t->n_allowed; i++)
		prefix_line("Allowed peers", &t->allowed[i], "", out);
	for (int i = 0; i < t->n_allowed6; i++)
		prefix6_line("Allowed peers", &t->allowed6[i], "", out);
	for (int i = 0; i < cfg_turn_n_special; i++)
		prefix_line("Refused by default", &cfg_turn_special[i],
			allowed_note(t, &cfg_turn_special[i]), out);
	for (int i = 0; i < cfg_turn_n_special6; i++)
		prefix6_line("Refused by default", &cfg_turn_special6[i],
			allowed_note6(t, &cfg_turn_special6[i]), out);
	internal_lines(cfg, out);
}

/* The browser port, and where its TCP and TLS listen (cfg_turn_browser_tcp_mask). */
static void browser_line(const struct edge_cfg *cfg, FILE *out)
{
	const struct cfg_turn *t = &cfg->turn;
	uint8_t tcp = cfg_turn_browser_tcp_mask(cfg);
	bool tls = t->tls_key[0] && t->tls_cert[0];

	if (!t->browser_port) {
		fprintf(out, "Browser port            : none\n");
		return;
	}
	if (t->browser_port == t->port) {
		fprintf(out, "Browser port            : %u (the UDP/TCP port)\n", t->browser_port);
		return;
	}
	fprintf(out, "Browser port            : %u (UDP on every listen interface; TCP%s on",
		t->browser_port, tls ? " and TLS" : ", TLS once certs are set,");
	if (!tcp)
		fprintf(out, " none");
	for (int i = 0; i < cfg->n_ifs; i++)
		if (tcp & (1u << i))
			fprintf(out, " %s", cfg->ifs[i].name);
	fprintf(out, ")\n");
	for (int i = 0; i < cfg->n_ifs; i++) {
		const char *who = (t->listen_mask & (1u << i)) ?
			cfg_tcp_port_owner(cfg, i, t->browser_port) :
			NULL;

		if (who)
			fprintf(out, "Browser port on %-8s: UDP only (%s has TCP %u)\n",
				cfg->ifs[i].name, who, t->browser_port);
	}
}

static void status_page(struct cli *cli, const struct turn_cli_ops *ops, FILE *out)
{
	const struct edge_cfg *cfg = cli->cfg;
	const struct cfg_turn *t = &cfg->turn;
	int rif = cfg_turn_relay_if(t);
	char a[16], a6[46];

	/* the guide's page, field for field (its last lines have no colon) */
	fprintf(out, "Enabled                 : %s\n", t->enabled ? "true" : "false");
	if (t->n_users == 0)
		fprintf(out, "Username                : none\nPassword                : none\n");
	for (int i = 0; i < t->n_users; i++)
		fprintf(out, "Username                : %s\nPassword                : %s\n",
			t->users[i].name, t->users[i].password);
	fprintf(out, "Short term credentials  : %s\n",
		on_off(t->short_term, "enabled", "disabled"));
	fprintf(out, "Shared secret           : %s\n",
		t->shared_secret[0] ? t->shared_secret : "none");
	fprintf(out, "Realm                   : %s\n", t->realm[0] ? t->realm : "none");
	fprintf(out, "Public IP               : %s\n",
		t->public_ip ? cfg_ipv4_str(t->public_ip, a) : "none");
	fprintf(out, "High Capacity Mode      : %s\n",
		on_off(t->high_capacity, "enabled", "disabled"));
	fprintf(out, "Relay address           : %s\n",
		rif >= 0 && cfg->ifs[rif].n_addrs ? cfg_ipv4_str(cfg->ifs[rif].addrs[0].addr, a) :
						    "none");
	if (t->tls_port)
		fprintf(out, "TLS port                : %u\n", t->tls_port);
	else
		fprintf(out, "TLS port                : none\n");
	fprintf(out, "TLS cert                : %s\n", t->tls_cert[0] ? t->tls_cert : "none");
	fprintf(out, "TLS key                 : %s\n", t->tls_key[0] ? t->tls_key : "none");
	fprintf(out, "TLS bundle              : %s\n", t->tls_bundle[0] ? t->tls_bundle : "none");
	for (int i = 0; i < cfg->n_ifs; i++)
		if (t->listen_mask & (1u << i))
			fprintf(out, "Listen interface      %s\n", cfg->ifs[i].name);
	/* ours */
	fprintf(out, "\nUDP/TCP port            : %u\n", t->port);
	browser_line(cfg, out);
	fprintf(out, "Relay ports             : %u-%u\n", t->relay_lo, t->relay_hi);
	/* RFC 8656 7.2: REQUESTED-ADDRESS-FAMILY IPv6 and dual allocations relay from here */
	if (rif >= 0 && cfg->ifs[rif].n_addrs6)
		fprintf(out, "IPv6 relay address      : %s\n",
			cfg_ipv6_str(cfg->ifs[rif].addrs6[0].addr, a6));
	else
		fprintf(out, "IPv6 relay address      : none (IPv6 relayed addresses: 440)\n");
	fprintf(out, "Max allocations         : ");
	t->max_allocs ? fprintf(out, "%u\n", t->max_allocs) : fprintf(out, "none\n");
	fprintf(out, "Max allocations per user: ");
	t->max_allocs_per_user ? fprintf(out, "%u\n", t->max_allocs_per_user) :
				 fprintf(out, "none\n");
	fprintf(out, "Bandwidth per allocation: ");
	t->bandwidth_kbps ? fprintf(out, "%u kbit/s\n", t->bandwidth_kbps) : fprintf(out, "none\n");
	fprintf(out, "Max lifetime            : %u s\n", t->lifetime_max);
	fprintf(out, "Max TCP/TLS connections : ");
	t->max_conns ? fprintf(out, "%u", t->max_conns) : fprintf(out, "none");
	fprintf(out, " (per address: ");
	t->max_conns_per_addr ? fprintf(out, "%u)\n", t->max_conns_per_addr) :
				fprintf(out, "none)\n");
	fprintf(out, "Handshake timeout       : ");
	t->handshake_timeout ? fprintf(out, "%u s\n", t->handshake_timeout) :
			       fprintf(out, "none\n");
	fprintf(out, "Idle timeout            : ");
	t->idle_timeout ? fprintf(out, "%u s\n", t->idle_timeout) : fprintf(out, "none\n");
	peer_policy(cfg, out);
	if (ops->guest_peers) /* the media targets guests' allocations may reach */
		ops->guest_peers(ops->ctx, out);
	else
		fprintf(out, "Guest peers             : none\n");
	/* the firewall does not open TURN's ports by itself: say where they are shut */
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct fw_if_config *fw = &cfg->ifs[i].fw;
		unsigned int blocked = 0, total = 0;

		if (!(t->listen_mask & (1u << i)) || !fw->enabled)
			continue;
		for (uint32_t p = t->relay_lo; p <= t->relay_hi; p++, total++)
			blocked += !fw_config_allows_any(fw, IPPROTO_UDP, (uint16_t)p);
		fprintf(out,
			"Firewall %s              : TURN port %s, relay ports %s, TCP port %s, "
			"TLS port %s",
			cfg->ifs[i].name, fw_port_state(fw, IPPROTO_UDP, t->port),
			blocked == 0		 ? "allowed" :
				blocked == total ? "BLOCKED" :
						   "partly BLOCKED",
			fw_port_state(fw, IPPROTO_TCP, t->port),
			t->tls_port ? fw_port_state(fw, IPPROTO_TCP, t->tls_port) : "none");
		if (t->browser_port && t->browser_port != t->port)
			fprintf(out, ", browser port UDP %s, TCP %s",
				fw_port_state(fw, IPPROTO_UDP, t->browser_port),
				!(cfg_turn_browser_tcp_mask(cfg) & (1u << i)) ?
					"not ours" :
					fw_port_state(fw, IPPROTO_TCP, t->browser_port));
		fprintf(out, "\n");
	}
}

static int turn_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	const struct turn_cli_ops *ops = ctx;
	struct edge_cfg next;
	char what[256];
	int r, off = 0;

	if (argc == 1) {
		status_page(cli, ops, out);
		return 0;
	}
	if (!strcmp(argv[1], "allocations") || !strcmp(argv[1], "stats")) {
		bool list = !strcmp(argv[1], "allocations");
		void (*op)(void *, FILE *) = list ? ops->allocations : ops->stats;

		if (argc > 2)
			return cli_refuse(out, "turn %s: '%s': unexpected word", argv[1], argv[2]);
		if (!op)
			return cli_refuse(out, "turn %s: not available here", argv[1]);
		op(ops->ctx, out);
		return 0;
	}
	for (const struct turn_sub *s = subs; s->name; s++) {
		if (strcmp(argv[1], s->name))
			continue;
		if (argc - 2 < s->min_args || argc - 2 > s->max_args)
			return cli_refuse(out, "turn %s: %s (usage: %s)", s->name,
				argc - 2 < s->min_args ? "missing words" : "too many words",
				s->usage);
		next = *cli->cfg;
		if ((r = s->run(cli, &next, argc - 1, argv + 1, out)) < 0)
			return r;
		for (int i = 0; i < argc && off < (int)sizeof(what) - 1; i++)
			off += snprintf(what + off, sizeof(what) - off, "%s%s", i ? " " : "",
				/* no password or secret in a log line */
				(i == 3 && !strcmp(argv[1], "credentials") &&
					strcmp(argv[2], "delete")) ||
						(i == 2 && !strcmp(argv[1], "shared-secret") &&
							strcmp(argv[2], "none")) ?
					"********" :
					argv[i]);
		return cli_apply(cli, &next, what, out);
	}
	return cli_refuse(out, "turn: '%s': unknown setting (help turn lists them)", argv[1]);
}

static const char *const turn_families[] = { "edge_turn_", NULL };

int turn_cli_register(struct cli *cli, const struct turn_cli_ops *ops)
{
	const struct cli_command cmd = { "turn", "turn [<setting> ...]",
		"the TURN server: status page, or change a setting ('help turn')", turn_cli,
		turn_cli_help, turn_families, NULL, (void *)ops };

	return cli_register(cli, &cmd);
}
