/* Command grammar and handlers for edgectl. Each handler validates every word before it
 * touches a copy of the configuration; only a fully valid edit reaches cli_ops.apply. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_int.h"
#include "edge_log.h"
#include "metrics.h"

#define IPV4_USAGE                                                                                 \
	"ipv4 <if> [add <addr>/<prefix> <gateway> | del <addr> | default | "                       \
	"route add <net>/<prefix> <gateway> | route del <net>/<prefix>]"

#define IPV6_USAGE                                                                                 \
	"ipv6 <if> [add <addr>/<prefix> [<gateway>] | del <addr> | "                               \
	"route add <net>/<prefix> <gateway> | route del <net>/<prefix>]"

int cli_refuse(FILE *out, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", out);
	if (!fmt) /* never, but GCC 12 with UBSan cannot see that and warns */
		fmt = "";
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	return -EINVAL;
}

int cli_split(const char *line, char *buf, size_t buflen, char **words, int max)
{
	size_t len = strlen(line);
	int n = 0;

	if (len >= buflen)
		return -E2BIG;
	memcpy(buf, line, len + 1);
	for (char *save, *w = strtok_r(buf, " \t\r\n", &save); w;
		w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -E2BIG;
		words[n++] = w;
	}
	return n;
}

int cli_want_iface(struct cli *cli, const char *cmd, const char *word, FILE *out)
{
	int ifi = cfg_iface_find(cli->cfg, word);

	if (ifi < 0) {
		char have[3 * EDGE_MAX_IFACES + 1] = "";

		for (int i = 0; i < cli->cfg->n_ifs; i++) {
			strcat(have, " ");
			strcat(have, cli->cfg->ifs[i].name);
		}
		return cli_refuse(out, "%s: '%s': no such interface (configured:%s)", cmd, word,
			cli->cfg->n_ifs ? have : " none");
	}
	return ifi;
}

int cli_enable_word(const char *cmd, const char *w, bool *v, FILE *out)
{
	if (!strcmp(w, "enable"))
		*v = true;
	else if (!strcmp(w, "disable"))
		*v = false;
	else
		return cli_refuse(out, "%s: '%s': expected enable or disable", cmd, w);
	return 0;
}

int cli_apply(struct cli *cli, const struct edge_cfg *next, const char *what, FILE *out)
{
	char err[256] = "";

	if (cli->ops->apply(cli->ctx, next, err, sizeof(err)) < 0)
		return cli_refuse(out, "%s: not applied: %s", what, err);
	edge_log(LOG_INFO, "mgmt", "configuration changed: %s", what);
	return 0;
}

static void ipv4_show(const struct edge_cfg *cfg, int ifi, FILE *out)
{
	const struct cfg_iface *ifc = &cfg->ifs[ifi];
	char a[16], g[16];

	fprintf(out, "Interface               : %s\n", ifc->name);
	if (ifc->n_addrs == 0)
		fprintf(out, "Address                 : none\n");
	for (int i = 0; i < ifc->n_addrs; i++) {
		cfg_ipv4_str(ifc->addrs[i].addr, a);
		fprintf(out, "Address                 : %s/%u\n", a, ifc->addrs[i].prefix);
		fprintf(out, "Gateway                 : %s\n",
			ifc->addrs[i].gateway ? cfg_ipv4_str(ifc->addrs[i].gateway, g) : "none");
	}
	fprintf(out, "Default route           : %s\n", cfg->default_if == ifi ? "yes" : "no");
	for (int i = 0; i < ifc->n_routes; i++)
		fprintf(out, "Route                   : %s/%u via %s\n",
			cfg_ipv4_str(ifc->routes[i].net, a), ifc->routes[i].prefix,
			cfg_ipv4_str(ifc->routes[i].gateway, g));
}

/* ipv4 <if> route add <net>/<prefix> <gateway> | route del <net>/<prefix>, on next. */
static int ipv4_route(struct edge_cfg *next, int ifi, int argc, char **argv, FILE *out)
{
	bool add = argc > 3 && !strcmp(argv[3], "add");
	char err[200];
	uint32_t net, gw = 0;
	uint8_t prefix;
	int r;

	if (argc < 4)
		return cli_refuse(out, "ipv4 %s route: missing add or del", argv[1]);
	if (!add && strcmp(argv[3], "del"))
		return cli_refuse(out, "ipv4 %s route: '%s': expected add or del", argv[1],
			argv[3]);
	if (argc < (add ? 6 : 5))
		return cli_refuse(out, "ipv4 %s route %s: missing %s", argv[1], argv[3],
			add ? "<net>/<prefix> <gateway>" : "<net>/<prefix>");
	if (argc > (add ? 6 : 5))
		return cli_refuse(out, "ipv4 %s route %s: '%s': unexpected word", argv[1], argv[3],
			argv[add ? 6 : 5]);
	r = cfg_parse_prefix(argv[4], &net, &prefix);
	if (r == -ERANGE)
		return cli_refuse(out, "ipv4 route: '%s': prefix must be 0..32", argv[4]);
	if (r < 0)
		return cli_refuse(out, "ipv4 route: '%s': expected <a.b.c.d>/<prefix>", argv[4]);
	if (add && cfg_parse_ipv4(argv[5], &gw) < 0)
		return cli_refuse(out, "ipv4 route: gateway '%s' is not an IPv4 address", argv[5]);
	r = add ? cfg_route_add(next, ifi, net, prefix, gw, err, sizeof(err)) :
		  cfg_route_del(next, ifi, net, prefix, err, sizeof(err));
	return r < 0 ? cli_refuse(out, "%s", err) : 0;
}

/* The gateway of @ifi's first address that has one, or 0. */
static uint32_t if_gateway(const struct cfg_iface *ifc)
{
	for (int i = 0; i < ifc->n_addrs; i++)
		if (ifc->addrs[i].gateway)
			return ifc->addrs[i].gateway;
	return 0;
}

static int cmd_ipv4(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	struct edge_cfg next;
	char err[200], what[200];
	uint32_t addr, gw = 0;
	uint8_t prefix;
	int ifi;

	if (argc < 2)
		return cli_refuse(out, "ipv4: missing interface (usage: %s)", IPV4_USAGE);
	if ((ifi = cli_want_iface(cli, "ipv4", argv[1], out)) < 0)
		return ifi;
	if (argc == 2) {
		ipv4_show(cli->cfg, ifi, out);
		return 0;
	}
	next = *cli->cfg;
	if (!strcmp(argv[2], "add")) {
		if (argc < 4)
			return cli_refuse(out, "ipv4 %s add: missing <address>/<prefix> <gateway>",
				argv[1]);
		if (argc > 5)
			return cli_refuse(out, "ipv4 %s add: '%s': unexpected word", argv[1],
				argv[5]);
		int r = cfg_parse_prefix(argv[3], &addr, &prefix);
		if (r == -ERANGE)
			return cli_refuse(out, "ipv4: '%s': prefix must be 0..32", argv[3]);
		if (r < 0)
			return cli_refuse(out, "ipv4: '%s': expected <a.b.c.d>/<prefix>", argv[3]);
		if (argc == 5 && cfg_parse_ipv4(argv[4], &gw) < 0)
			return cli_refuse(out, "ipv4: gateway '%s' is not an IPv4 address",
				argv[4]);
		if (cfg_ipv4_add(&next, ifi, addr, prefix, gw, err, sizeof(err)) < 0)
			return cli_refuse(out, "%s", err);
	} else if (!strcmp(argv[2], "del")) {
		if (argc != 4)
			return cli_refuse(out, "ipv4 %s del: %s", argv[1],
				argc < 4 ? "missing <address>" : "too many words");
		char *slash = strchr(argv[3], '/');
		if (slash)
			*slash = '\0'; /* "del a.b.c.d/n" is accepted as the address */
		if (cfg_parse_ipv4(argv[3], &addr) < 0)
			return cli_refuse(out, "ipv4: '%s': not an IPv4 address", argv[3]);
		if (cfg_ipv4_del(&next, ifi, addr, err, sizeof(err)) < 0)
			return cli_refuse(out, "%s", err);
		if (next.default_if == ifi && !if_gateway(&next.ifs[ifi]))
			next.default_if = -1;
	} else if (!strcmp(argv[2], "route")) {
		int r = ipv4_route(&next, ifi, argc, argv, out);

		if (r < 0)
			return r;
	} else if (!strcmp(argv[2], "default")) {
		if (argc != 3)
			return cli_refuse(out, "ipv4 %s default: '%s': unexpected word", argv[1],
				argv[3]);
		if (!if_gateway(&next.ifs[ifi]))
			return cli_refuse(out,
				"ipv4 %s default: interface %s has no gateway "
				"(ipv4 %s add <address>/<prefix> <gateway> first)",
				argv[1], argv[1], argv[1]);
		next.default_if = ifi;
	} else {
		return cli_refuse(out, "ipv4 %s: '%s': expected add, del, default or route",
			argv[1], argv[2]);
	}
	(void)ctx;
	snprintf(what, sizeof(what), "ipv4 %s %s%s%s%s%s%s%s", argv[1], argv[2],
		argc > 3 ? " " : "", argc > 3 ? argv[3] : "", argc > 4 ? " " : "",
		argc > 4 ? argv[4] : "", argc > 5 ? " " : "", argc > 5 ? argv[5] : "");
	return cli_apply(cli, &next, what, out);
}

static void ipv6_show(const struct cli *cli, int ifi, FILE *out)
{
	const struct cfg_iface *ifc = &cli->cfg->ifs[ifi];
	static const uint8_t none[16];
	char a[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN], st[96];
	uint8_t mac[6], ll[16];

	fprintf(out, "Interface               : %s\n", ifc->name);
	if (ifc->n_addrs6 == 0)
		fprintf(out, "Address                 : none\n");
	for (int i = 0; i < ifc->n_addrs6; i++) {
		const struct cfg_ipv6 *x = &ifc->addrs6[i];

		fprintf(out, "Address                 : %s/%u", cfg_ipv6_str(x->addr, a),
			x->prefix);
		if (cli->ops && cli->ops->addr6_state)
			fprintf(out, " (%s)",
				cli->ops->addr6_state(cli->ctx, ifi, x->addr, st, sizeof(st)));
		fputc('\n', out);
		fprintf(out, "Gateway                 : %s\n",
			memcmp(x->gateway, none, 16) ? cfg_ipv6_str(x->gateway, g) : "none");
	}
	for (int i = 0; i < ifc->n_routes6; i++)
		fprintf(out, "Route                   : %s/%u via %s\n",
			cfg_ipv6_str(ifc->routes6[i].net, a), ifc->routes6[i].prefix,
			cfg_ipv6_str(ifc->routes6[i].gateway, g));
	/* the data plane speaks IPv6, its link-local address among it, once an address is
	 * configured */
	if (ifc->n_addrs6 == 0)
		fprintf(out, "Link-local              : none (no IPv6 address configured)\n");
	else if (cli->ops && cli->ops->if_mac && cli->ops->if_mac(cli->ctx, ifi, mac) == 0) {
		cfg_ipv6_link_local(mac, ll);
		fprintf(out,
			"Link-local              : %s/64 (from MAC "
			"%02x:%02x:%02x:%02x:%02x:%02x",
			cfg_ipv6_str(ll, a), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		if (cli->ops->addr6_state)
			fprintf(out, "; %s",
				cli->ops->addr6_state(cli->ctx, ifi, ll, st, sizeof(st)));
		fprintf(out, ")\n");
	} else
		fprintf(out,
			"Link-local              : fe80::/64 from the MAC (derived at run "
			"time)\n");
	fprintf(out, "SLAAC                   : off (addresses are configured)\n");
}

/* ipv6 <if> route add <net>/<prefix> <gateway> | route del <net>/<prefix>, on next. */
static int ipv6_route(struct edge_cfg *next, int ifi, int argc, char **argv, FILE *out)
{
	bool add = argc > 3 && !strcmp(argv[3], "add");
	char err[256];
	uint8_t net[16], gw[16];
	uint8_t prefix;
	int r;

	if (argc < 4)
		return cli_refuse(out, "ipv6 %s route: missing add or del", argv[1]);
	if (!add && strcmp(argv[3], "del"))
		return cli_refuse(out, "ipv6 %s route: '%s': expected add or del", argv[1],
			argv[3]);
	if (argc < (add ? 6 : 5))
		return cli_refuse(out, "ipv6 %s route %s: missing %s", argv[1], argv[3],
			add ? "<net>/<prefix> <gateway>" : "<net>/<prefix>");
	if (argc > (add ? 6 : 5))
		return cli_refuse(out, "ipv6 %s route %s: '%s': unexpected word", argv[1], argv[3],
			argv[add ? 6 : 5]);
	r = cfg_parse_prefix6(argv[4], net, &prefix);
	if (r == -ERANGE)
		return cli_refuse(out, "ipv6 %s route %s: '%s': prefix must be 0..128", argv[1],
			argv[3], argv[4]);
	if (r < 0)
		return cli_refuse(out, "ipv6 %s route %s: '%s': expected <net>/<prefix>", argv[1],
			argv[3], argv[4]);
	if (add && cfg_parse_ipv6(argv[5], gw) < 0)
		return cli_refuse(out, "ipv6 %s route add: gateway '%s' is not an IPv6 address",
			argv[1], argv[5]);
	r = add ? cfg_route6_add(next, ifi, net, prefix, gw, err, sizeof(err)) :
		  cfg_route6_del(next, ifi, net, prefix, err, sizeof(err));
	return r < 0 ? cli_refuse(out, "%s", err) : 0;
}

static int cmd_ipv6(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	struct edge_cfg next;
	char err[256], what[256];
	uint8_t addr[16], gw[16] = { 0 };
	uint8_t prefix;
	int ifi, r;

	if (argc < 2)
		return cli_refuse(out, "ipv6: missing interface (usage: %s)", IPV6_USAGE);
	if ((ifi = cli_want_iface(cli, "ipv6", argv[1], out)) < 0)
		return ifi;
	if (argc == 2) {
		ipv6_show(cli, ifi, out);
		return 0;
	}
	next = *cli->cfg;
	if (!strcmp(argv[2], "add")) {
		if (argc < 4)
			return cli_refuse(out,
				"ipv6 %s add: missing <address>/<prefix> [<gateway>]", argv[1]);
		if (argc > 5)
			return cli_refuse(out, "ipv6 %s add: '%s': unexpected word", argv[1],
				argv[5]);
		r = cfg_parse_prefix6(argv[3], addr, &prefix);
		if (r == -ERANGE || (r == 0 && prefix == 0))
			return cli_refuse(out, "ipv6 %s add: '%s': prefix must be 1..128", argv[1],
				argv[3]);
		if (r < 0)
			return cli_refuse(out, "ipv6 %s add: '%s': expected <address>/<prefix>",
				argv[1], argv[3]);
		if (argc == 5 && cfg_parse_ipv6(argv[4], gw) < 0)
			return cli_refuse(out, "ipv6 %s add: gateway '%s' is not an IPv6 address",
				argv[1], argv[4]);
		if (cfg_ipv6_add(&next, ifi, addr, prefix, gw, err, sizeof(err)) < 0)
			return cli_refuse(out, "%s", err);
	} else if (!strcmp(argv[2], "del")) {
		if (argc != 4)
			return cli_refuse(out, "ipv6 %s del: %s", argv[1],
				argc < 4 ? "missing <address>" : "too many words");
		char *slash = strchr(argv[3], '/');
		if (slash)
			*slash = '\0'; /* "del <address>/<prefix>" is accepted as the address */
		if (cfg_parse_ipv6(argv[3], addr) < 0)
			return cli_refuse(out, "ipv6 %s del: '%s': not an IPv6 address", argv[1],
				argv[3]);
		if (cfg_ipv6_del(&next, ifi, addr, err, sizeof(err)) < 0)
			return cli_refuse(out, "%s", err);
	} else if (!strcmp(argv[2], "route")) {
		if ((r = ipv6_route(&next, ifi, argc, argv, out)) < 0)
			return r;
	} else {
		return cli_refuse(out, "ipv6 %s: '%s': expected add, del or route", argv[1],
			argv[2]);
	}
	(void)ctx;
	snprintf(what, sizeof(what), "ipv6 %s %s%s%s%s%s%s%s", argv[1], argv[2],
		argc > 3 ? " " : "", argc > 3 ? argv[3] : "", argc > 4 ? " " : "",
		argc > 4 ? argv[4] : "", argc > 5 ? " " : "", argc > 5 ? argv[5] : "");
	return cli_apply(cli, &next, what, out);
}

static int cmd_iface(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	const struct dp_cli_ops *o = ctx;
	int ifi = -1;

	if (argc > 2)
		return cli_refuse(out, "iface: '%s': unexpected word", argv[2]);
	if (argc == 2 && (ifi = cli_want_iface(cli, "iface", argv[1], out)) < 0)
		return ifi;
	if (!o->iface)
		return cli_refuse(out, "iface: not available here");
	for (int i = 0; i < cli->cfg->n_ifs; i++)
		if (ifi < 0 || ifi == i)
			o->iface(o->ctx, i, out);
	return 0;
}

static int cmd_status(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	const struct dp_cli_ops *o = ctx;

	(void)cli;
	if (argc > 1)
		return cli_refuse(out, "status: '%s': unexpected word", argv[1]);
	if (!o->status)
		return cli_refuse(out, "status: not available here");
	o->status(o->ctx, out);
	return 0;
}

static int cmd_arp(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	const struct dp_cli_ops *o = ctx;

	(void)cli;
	if (argc > 1)
		return cli_refuse(out, "arp: '%s': unexpected word", argv[1]);
	if (!o->arp)
		return cli_refuse(out, "arp: not available here");
	o->arp(o->ctx, out);
	return 0;
}

static int cmd_ping(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	const struct dp_cli_ops *o = ctx;
	uint32_t addr;
	long count = 3;
	char *end;

	if (argc < 2)
		return cli_refuse(out, "ping: missing <address>");
	if (argc > 3)
		return cli_refuse(out, "ping: '%s': unexpected word", argv[3]);
	if (cfg_parse_ipv4(argv[1], &addr) < 0)
		return cli_refuse(out, "ping: '%s': not an IPv4 address", argv[1]);
	if (argc == 3) {
		count = strtol(argv[2], &end, 10);
		if (*end || count < 1 || count > 10)
			return cli_refuse(out, "ping: '%s': count must be 1..10", argv[2]);
	}
	(void)cli;
	if (!o->ping)
		return cli_refuse(out, "ping: not available here");
	if (o->ping(o->ctx, addr, (int)count, out) < 0) {
		fprintf(out, "error: ping: no reply from %s\n", argv[1]);
		return -EHOSTUNREACH;
	}
	return 0;
}

/* `firewall <if> [default allow|deny | allow|deny <ports>[/tcp|/udp] [from <prefix>] |
 * delete allow|deny ... | enable | disable]`, the guide's `firewall a deny 22` among them. */
static int cmd_firewall(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	const struct dp_cli_ops *o = ctx;
	struct edge_cfg *next;
	char err[256], what[256];
	int ifi, r, off = 0;

	if (argc < 2)
		return cli_refuse(out, "firewall: missing interface (usage: firewall <if> [...])");
	if ((ifi = cli_want_iface(cli, "firewall", argv[1], out)) < 0)
		return ifi;
	if (argc == 2) {
		if (!o->firewall)
			return cli_refuse(out, "firewall: not available here");
		o->firewall(o->ctx, ifi, out);
		return 0;
	}
	next = malloc(sizeof(*next)); /* a configuration holds 8 rule lists: not on the stack */
	if (!next)
		return cli_refuse(out, "firewall: out of memory");
	*next = *cli->cfg;
	r = fw_cmd_apply(&next->ifs[ifi].fw, argc - 2, argv + 2, err, sizeof(err));
	if (r < 0) {
		free(next);
		return cli_refuse(out, "%s", err);
	}
	/* a local console cannot be cut off; but say when TURN or SSH will be shut out */
	if (next->ifs[ifi].fw.enabled) {
		const struct cfg_turn *t = &next->turn;

		if (t->enabled && (t->listen_mask & (1u << ifi)) &&
			!fw_config_allows_any(&next->ifs[ifi].fw, IPPROTO_UDP, t->port))
			fprintf(out, "warning: interface %s will refuse TURN on %u/udp (%s)\n",
				argv[1], t->port,
				fw_port_state(&next->ifs[ifi].fw, IPPROTO_UDP, t->port));
		if (!fw_config_allows_any(&next->ifs[ifi].fw, IPPROTO_TCP, 22))
			fprintf(out,
				"note: interface %s refuses new SSH (22/tcp: %s); sessions already "
				"open stay up\n",
				argv[1], fw_port_state(&next->ifs[ifi].fw, IPPROTO_TCP, 22));
	}
	for (int i = 0; i < argc && off < (int)sizeof(what) - 1; i++)
		off += snprintf(what + off, sizeof(what) - off, "%s%s", i ? " " : "", argv[i]);
	r = cli_apply(cli, next, what, out);
	free(next);
	return r;
}

static int cmd_log(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	long n = 50;
	char *end;

	(void)cli;
	(void)ctx;
	if (argc > 2)
		return cli_refuse(out, "log: '%s': unexpected word", argv[2]);
	if (argc == 2) {
		n = strtol(argv[1], &end, 10);
		if (*end || n < 1 || n > 100000)
			return cli_refuse(out, "log: '%s': expected a number of lines (1..100000)",
				argv[1]);
	}
	edge_log_dump(out, (int)n);
	return 0;
}

static const struct cli_command *find_command(const struct cli *cli, const char *name)
{
	for (int i = 0; i < cli->n_cmds; i++)
		if (!strcmp(cli->cmds[i].name, name))
			return &cli->cmds[i];
	return NULL;
}

static int cmd_help(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	const struct cli_command *c;

	(void)ctx;
	if (argc > 2)
		return cli_refuse(out, "help: '%s': unexpected word", argv[2]);
	if (argc == 2) {
		if (!(c = find_command(cli, argv[1])))
			return cli_refuse(out, "help: '%s': no such command", argv[1]);
		fprintf(out, "%-60s %s\n", c->usage, c->help);
		if (c->more_help)
			c->more_help(out);
		return 0;
	}
	for (int i = 0; i < cli->n_cmds; i++)
		fprintf(out, "%-60s %s\n", cli->cmds[i].usage, cli->cmds[i].help);
	fprintf(out, "%-60s %s\n", "--json <command> [<arg>]",
		"a page's counters as JSON (edgectl --json ...)");
	return 0;
}

/* `--json <command> [<arg>]`: the counters behind a page, from the registry. */
static int run_json(struct cli *cli, int argc, char **argv, FILE *out)
{
	const struct cli_command *c;
	unsigned int matched = 0;
	char have[256] = "";
	size_t off = 0;
	int r;

	if (argc < 2)
		return cli_refuse(out, "--json: missing command (e.g. --json turn)");
	c = find_command(cli, argv[1]);
	if (!c || !c->json_families) {
		for (int i = 0; i < cli->n_cmds; i++)
			if (cli->cmds[i].json_families)
				off += (size_t)snprintf(have + off,
					off < sizeof(have) ? sizeof(have) - off : 0, " %s",
					cli->cmds[i].name);
		return cli_refuse(out, "--json: '%s': %s (pages with one:%s)", argv[1],
			c ? "this page has no JSON form" : "unknown command", have);
	}
	if (argc > (c->json_label ? 3 : 2))
		return cli_refuse(out, "--json %s: '%s': unexpected word", argv[1],
			argv[c->json_label ? 3 : 2]);
	if (argc == 3 && !strcmp(c->json_label, "interface") &&
		(r = cli_want_iface(cli, "--json", argv[2], out)) < 0)
		return r;
	if (!cli->metrics)
		return cli_refuse(out, "--json: not available here");
	r = metrics_write_json_filtered(cli->metrics, out, c->json_families,
		argc == 3 ? c->json_label : NULL, argc == 3 ? argv[2] : NULL, &matched);
	if (r < 0)
		return cli_refuse(out, "--json %s: %s", argv[1], strerror(-r));
	if (argc == 3 && !matched) /* written, but say so: a typo is not an empty page */
		return cli_refuse(out, "--json %s: '%s': no %s of that name has counters", argv[1],
			argv[2], c->json_label);
	return 0;
}

int cli_register(struct cli *cli, const struct cli_command *cmd)
{
	if (!cmd->name || !*cmd->name || !cmd->run || !cmd->usage || !cmd->help)
		return -EINVAL;
	if (find_command(cli, cmd->name))
		return -EEXIST;
	if (cli->n_cmds == CLI_MAX_COMMANDS)
		return -ENOSPC;
	cli->cmds[cli->n_cmds++] = *cmd;
	return 0;
}

static const struct cli_command own_commands[] = {
	{ "ipv4", IPV4_USAGE, "show or change an interface's IPv4 addressing", cmd_ipv4, NULL, NULL,
		NULL, NULL },
	{ "ipv6", IPV6_USAGE,
		"show or change an interface's IPv6 addressing (configured: no SLAAC; link-local "
		"from the MAC)",
		cmd_ipv6, NULL, NULL, NULL, NULL },
	{ "pki", "pki list | inspect | match | verify ...",
		"key and certificate files: list, inspect, match a pair, verify a chain ('help pki')",
		pki_cli, pki_cli_help, NULL, NULL, NULL },
	{ "log", "log [<lines>]", "recent log lines", cmd_log, NULL, NULL, NULL, NULL },
	{ "help", "help [<command>]", "this list, or one command's usage", cmd_help, NULL, NULL,
		NULL, NULL },
};

void cli_init(struct cli *cli, struct edge_cfg *cfg, const struct cli_ops *ops, void *ctx)
{
	memset(cli, 0, sizeof(*cli));
	cli->cfg = cfg;
	cli->ops = ops;
	cli->ctx = ctx;
	for (size_t i = 0; i < sizeof(own_commands) / sizeof(own_commands[0]); i++)
		cli_register(cli, &own_commands[i]);
}

static const char *const if_families[] = { "edge_interface_", "edge_worker_", NULL };
static const char *const status_families[] = { "edge_interface_", "edge_worker_",
	"edge_packet_buffers", "edge_dpdk_heap_", "edge_malloc_", "process_", NULL };
static const char *const fw_families[] = { "edge_firewall_", NULL };

int dp_cli_register(struct cli *cli, const struct dp_cli_ops *ops)
{
	const struct cli_command cmds[] = {
		{ "iface", "iface [<if>]", "interfaces: link, addresses, counters, drops by reason",
			cmd_iface, NULL, if_families, "interface", (void *)ops },
		{ "status", "status", "the appliance at a glance: interfaces, workers, counters",
			cmd_status, NULL, status_families, NULL, (void *)ops },
		{ "arp", "arp", "the data plane's neighbour table", cmd_arp, NULL, NULL, NULL,
			(void *)ops },
		{ "ping", "ping <address> [<count>]",
			"echo requests from the data plane (resolves ARP itself)", cmd_ping, NULL,
			NULL, NULL, (void *)ops },
		{ "firewall",
			"firewall <if> [default allow|deny | [delete] allow|deny "
			"<ports>[/tcp|/udp] [from <prefix>] | enable | disable]",
			"the interface's firewall: status page, or change it", cmd_firewall, NULL,
			fw_families, "interface", (void *)ops },
	};
	int r;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if ((r = cli_register(cli, &cmds[i])) < 0)
			return r;
	return 0;
}

int cli_exec(struct cli *cli, const char *line, FILE *out)
{
	char buf[1024], *argv[CLI_MAX_WORDS];
	int argc = cli_split(line, buf, sizeof(buf), argv, CLI_MAX_WORDS);
	const struct cli_command *c;

	if (argc < 0)
		return cli_refuse(out, "command too long");
	if (argc == 0)
		return 0;
	if (!strcmp(argv[0], "--json"))
		return run_json(cli, argc, argv, out);
	if (!(c = find_command(cli, argv[0])))
		return cli_refuse(out, "'%s': unknown command (try 'help')", argv[0]);
	return c->run(cli, c->ctx, argc, argv, out);
}
