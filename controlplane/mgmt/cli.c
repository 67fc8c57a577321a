/* Command grammar and handlers for edgectl. Each handler validates every word before it
 * touches a copy of the configuration; only a fully valid edit reaches cli_ops.apply. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_int.h"
#include "edge_log.h"

struct cmd {
	const char *name;
	const char *usage;
	const char *help;
	int (*run)(struct cli *cli, int argc, char **argv, FILE *out);
};

#define IPV4_USAGE "ipv4 <if> [add <addr>/<prefix> <gateway> | del <addr> | default | " \
	"route add <net>/<prefix> <gateway> | route del <net>/<prefix>]"

int cli_refuse(FILE *out, const char *fmt, ...)
{
	va_list ap;

	fputs("error: ", out);
	if (!fmt)	/* never, but GCC 12 with UBSan cannot see that and warns */
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
		return cli_refuse(out, "ipv4 %s route: '%s': expected add or del", argv[1], argv[3]);
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
	r = add ? cfg_route_add(next, ifi, net, prefix, gw, err, sizeof(err))
		: cfg_route_del(next, ifi, net, prefix, err, sizeof(err));
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

static int cmd_ipv4(struct cli *cli, int argc, char **argv, FILE *out)
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
			return cli_refuse(out, "ipv4 %s add: missing <address>/<prefix> <gateway>", argv[1]);
		if (argc > 5)
			return cli_refuse(out, "ipv4 %s add: '%s': unexpected word", argv[1], argv[5]);
		int r = cfg_parse_prefix(argv[3], &addr, &prefix);
		if (r == -ERANGE)
			return cli_refuse(out, "ipv4: '%s': prefix must be 0..32", argv[3]);
		if (r < 0)
			return cli_refuse(out, "ipv4: '%s': expected <a.b.c.d>/<prefix>", argv[3]);
		if (argc == 5 && cfg_parse_ipv4(argv[4], &gw) < 0)
			return cli_refuse(out, "ipv4: gateway '%s' is not an IPv4 address", argv[4]);
		if (cfg_ipv4_add(&next, ifi, addr, prefix, gw, err, sizeof(err)) < 0)
			return cli_refuse(out, "%s", err);
	} else if (!strcmp(argv[2], "del")) {
		if (argc != 4)
			return cli_refuse(out, "ipv4 %s del: %s", argv[1],
				argc < 4 ? "missing <address>" : "too many words");
		char *slash = strchr(argv[3], '/');
		if (slash)
			*slash = '\0';	/* "del a.b.c.d/n" is accepted as the address */
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
			return cli_refuse(out, "ipv4 %s default: '%s': unexpected word", argv[1], argv[3]);
		if (!if_gateway(&next.ifs[ifi]))
			return cli_refuse(out, "ipv4 %s default: interface %s has no gateway "
				"(ipv4 %s add <address>/<prefix> <gateway> first)", argv[1], argv[1], argv[1]);
		next.default_if = ifi;
	} else {
		return cli_refuse(out, "ipv4 %s: '%s': expected add, del, default or route", argv[1],
			argv[2]);
	}
	snprintf(what, sizeof(what), "ipv4 %s %s%s%s%s%s%s%s", argv[1], argv[2],
		argc > 3 ? " " : "", argc > 3 ? argv[3] : "", argc > 4 ? " " : "",
		argc > 4 ? argv[4] : "", argc > 5 ? " " : "", argc > 5 ? argv[5] : "");
	return cli_apply(cli, &next, what, out);
}

static int cmd_iface(struct cli *cli, int argc, char **argv, FILE *out)
{
	int ifi = -1;

	if (argc > 2)
		return cli_refuse(out, "iface: '%s': unexpected word", argv[2]);
	if (argc == 2 && (ifi = cli_want_iface(cli, "iface", argv[1], out)) < 0)
		return ifi;
	if (!cli->ops->iface)
		return cli_refuse(out, "iface: not available here");
	for (int i = 0; i < cli->cfg->n_ifs; i++)
		if (ifi < 0 || ifi == i)
			cli->ops->iface(cli->ctx, i, out);
	return 0;
}

static int cmd_status(struct cli *cli, int argc, char **argv, FILE *out)
{
	if (argc > 1)
		return cli_refuse(out, "status: '%s': unexpected word", argv[1]);
	if (!cli->ops->status)
		return cli_refuse(out, "status: not available here");
	cli->ops->status(cli->ctx, out);
	return 0;
}

static int cmd_arp(struct cli *cli, int argc, char **argv, FILE *out)
{
	if (argc > 1)
		return cli_refuse(out, "arp: '%s': unexpected word", argv[1]);
	if (!cli->ops->arp)
		return cli_refuse(out, "arp: not available here");
	cli->ops->arp(cli->ctx, out);
	return 0;
}

static int cmd_ping(struct cli *cli, int argc, char **argv, FILE *out)
{
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
	if (!cli->ops->ping)
		return cli_refuse(out, "ping: not available here");
	if (cli->ops->ping(cli->ctx, addr, (int)count, out) < 0) {
		fprintf(out, "error: ping: no reply from %s\n", argv[1]);
		return -EHOSTUNREACH;
	}
	return 0;
}

/* `firewall <if> [default allow|deny | allow|deny <ports>[/tcp|/udp] [from <prefix>] |
 * delete allow|deny ... | enable | disable]`, the guide's `firewall a deny 22` among them. */
static int cmd_firewall(struct cli *cli, int argc, char **argv, FILE *out)
{
	struct edge_cfg *next;
	char err[256], what[256];
	int ifi, r, off = 0;

	if (argc < 2)
		return cli_refuse(out, "firewall: missing interface (usage: firewall <if> [...])");
	if ((ifi = cli_want_iface(cli, "firewall", argv[1], out)) < 0)
		return ifi;
	if (argc == 2) {
		if (!cli->ops->firewall)
			return cli_refuse(out, "firewall: not available here");
		cli->ops->firewall(cli->ctx, ifi, out);
		return 0;
	}
	next = malloc(sizeof(*next));	/* a configuration holds 8 rule lists: not on the stack */
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
			!fw_config_allows(&next->ifs[ifi].fw, IPPROTO_UDP, 0, t->port))
			fprintf(out, "warning: interface %s will refuse TURN on %u/udp\n", argv[1], t->port);
		if (!fw_config_allows(&next->ifs[ifi].fw, IPPROTO_TCP, 0, 22))
			fprintf(out, "note: interface %s refuses new SSH (22/tcp); sessions already "
				"open stay up\n", argv[1]);
	}
	for (int i = 0; i < argc && off < (int)sizeof(what) - 1; i++)
		off += snprintf(what + off, sizeof(what) - off, "%s%s", i ? " " : "", argv[i]);
	r = cli_apply(cli, next, what, out);
	free(next);
	return r;
}

static int cmd_log(struct cli *cli, int argc, char **argv, FILE *out)
{
	long n = 50;
	char *end;

	(void)cli;
	if (argc > 2)
		return cli_refuse(out, "log: '%s': unexpected word", argv[2]);
	if (argc == 2) {
		n = strtol(argv[1], &end, 10);
		if (*end || n < 1 || n > 100000)
			return cli_refuse(out, "log: '%s': expected a number of lines (1..100000)", argv[1]);
	}
	edge_log_dump(out, (int)n);
	return 0;
}

static int cmd_metrics(struct cli *cli, int argc, char **argv, FILE *out)
{
	bool json = argc > 1 && !strcmp(argv[1], "json");

	if (argc > 2 || (argc == 2 && !json))
		return cli_refuse(out, "metrics: '%s': unexpected word (try 'metrics json')",
			argv[json ? 2 : 1]);
	if (!cli->ops->metrics)
		return cli_refuse(out, "metrics: not available here");
	cli->ops->metrics(cli->ctx, out, json);
	return 0;
}

static int cmd_help(struct cli *cli, int argc, char **argv, FILE *out);

static const struct cmd commands[] = {
	{ "ipv4", IPV4_USAGE,
		"show or change an interface's IPv4 addressing", cmd_ipv4 },
	{ "iface", "iface [<if>]", "interfaces: link, addresses, counters, drops by reason", cmd_iface },
	{ "status", "status", "the appliance at a glance: interfaces, workers, counters", cmd_status },
	{ "arp", "arp", "the data plane's neighbour table", cmd_arp },
	{ "ping", "ping <address> [<count>]", "echo requests from the data plane (resolves ARP itself)",
		cmd_ping },
	{ "turn", "turn [<setting> ...]", "the TURN server: status page, or change a setting ('help turn')",
		turn_cli },
	{ "webbridge3", "webbridge3 [<setting> ...]",
		"the web bridge (edge): status page, or a setting ('help webbridge3')",
		webbridge3_cli },
	{ "callbridge", "callbridge [<setting> ...]",
		"the call bridge (core): status page, or a setting ('help callbridge')",
		callbridge_cli },
	{ "webadmin", "webadmin [<setting> ...]",
		"web admin pages and REST API (core): status page, or a setting ('help webadmin')",
		webadmin_cli },
	{ "user", "user [list | add | del | passwd ...]",
		"administrators of the web admin pages and the REST API ('help user')", user_cli },
	{ "firewall", "firewall <if> [default allow|deny | [delete] allow|deny <ports>[/tcp|/udp] "
		"[from <prefix>] | enable | disable]", "the interface's firewall: status page, or change it",
		cmd_firewall },
	{ "pki", "pki list | inspect | match | verify ...",
		"key and certificate files: list, inspect, match a pair, verify a chain ('help pki')",
		pki_cli },
	{ "log", "log [<lines>]", "recent log lines", cmd_log },
	{ "metrics", "metrics [json]", "every counter: Prometheus text exposition, or JSON",
		cmd_metrics },
	{ "help", "help [<command>]", "this list, or one command's usage", cmd_help },
	{ NULL, NULL, NULL, NULL },
};

static int cmd_help(struct cli *cli, int argc, char **argv, FILE *out)
{
	(void)cli;
	for (const struct cmd *c = commands; c->name; c++)
		if (argc < 2 || !strcmp(argv[1], c->name))
			fprintf(out, "%-60s %s\n", c->usage, c->help);
	if (argc >= 2 && !strcmp(argv[1], "turn"))
		turn_cli_help(out);
	if (argc >= 2 && !strcmp(argv[1], "pki"))
		pki_cli_help(out);
	if (argc >= 2)
		web_cli_help(argv[1], out);
	if (argc >= 2) {
		for (const struct cmd *c = commands; c->name; c++)
			if (!strcmp(argv[1], c->name))
				return 0;
		return cli_refuse(out, "help: '%s': no such command", argv[1]);
	}
	return 0;
}

int cli_exec(struct cli *cli, const char *line, FILE *out)
{
	char buf[1024], *argv[CLI_MAX_WORDS];
	int argc = cli_split(line, buf, sizeof(buf), argv, CLI_MAX_WORDS);

	if (argc < 0)
		return cli_refuse(out, "command too long");
	if (argc == 0)
		return 0;
	for (const struct cmd *c = commands; c->name; c++)
		if (!strcmp(argv[0], c->name))
			return c->run(cli, argc, argv, out);
	return cli_refuse(out, "'%s': unknown command (try 'help')", argv[0]);
}
