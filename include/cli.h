/* The operator's command language (MMP style, as in the guide): parsing, validation and
 * dispatch. It edits a copy of the configuration and hands the result to the appliance
 * through cli_ops, so a rejected command changes nothing and the grammar is testable
 * without a running data plane. */
#ifndef EDGE_CLI_H
#define EDGE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "edge_config.h"

struct metrics_registry;
struct cli;

struct cli_ops {
	/* Makes @next the running configuration (data plane, kernel mirror, file). */
	int (*apply)(void *ctx, const struct edge_cfg *next, char *err, size_t errlen);
	/* Interface @ifi's MAC address, for the `ipv6 <if>` page's link-local address: 0, or
	 * negative when unknown. May be NULL (the page says the address is derived at run time). */
	int (*if_mac)(void *ctx, int ifi, uint8_t mac[6]);
	/* The state of IPv6 address @addr on @ifi as text ("preferred", "tentative", "duplicate:
	 * ..."), for the same page. May be NULL. */
	const char *(
		*addr6_state)(void *ctx, int ifi, const uint8_t addr[16], char *buf, size_t len);
};

/* A command: the CLI's own (ipv4, ipv6, pki, log, metrics, help) and those components register
 * (the data plane's interfaces, turn, webbridge3, callbridge, webadmin, user, metrics,
 * syslog, ...). @run gets
 * the registering component's @ctx. */
typedef int cli_run_fn(struct cli *cli, void *ctx, int argc, char **argv, FILE *out);

struct cli_command {
	const char *name;
	const char *usage;
	const char *help;
	cli_run_fn *run;
	void (*more_help)(FILE *out); /* `help <name>`: its settings, one a line; may be NULL */
	/* `edgectl --json <name> [<arg>]`: the counters behind the page, as the metric families
	 * whose names start with one of these prefixes (NULL-terminated; NULL: the page has no
	 * JSON form), and the label its argument selects ("interface" for `iface a`; NULL: the
	 * JSON form takes no argument). */
	const char *const *json_families;
	const char *json_label;
	void *ctx;
};

#define CLI_MAX_COMMANDS 32

struct cli {
	struct edge_cfg *cfg; /* the running configuration; replaced only by apply */
	const struct cli_ops *ops;
	void *ctx;
	struct metrics_registry *metrics; /* `metrics` and `--json`; NULL: not available */
	struct cli_command cmds[CLI_MAX_COMMANDS];
	int n_cmds;
};

/* Makes @cli with the CLI's own commands (ipv4, ipv6, pki, log, help). */
void cli_init(struct cli *cli, struct edge_cfg *cfg, const struct cli_ops *ops, void *ctx);
/* Adds @cmd (copied; its strings must outlive @cli). 0, -EEXIST (that name is taken),
 * -EINVAL (no name or run) or -ENOSPC. */
int cli_register(struct cli *cli, const struct cli_command *cmd);

/* What the components' commands need of their component; any may be NULL (then the page or
 * action says it is not available here). Each registers with its own. */

/* The data plane's interfaces: `status`, `iface`, `arp`, `ping`, `firewall` (in cli.c). */
struct dp_cli_ops {
	void (*status)(void *ctx, FILE *out);
	void (*iface)(void *ctx, int ifi, FILE *out);
	void (*arp)(void *ctx, FILE *out);
	/* Sends @count echo requests from the data plane to @addr (network order) and reports
	 * them; returns 0 if any reply came back. */
	int (*ping)(void *ctx, uint32_t addr, int count, FILE *out);
	void (*firewall)(void *ctx, int ifi, FILE *out); /* `firewall <if>` */
	void *ctx;
};
int dp_cli_register(struct cli *cli, const struct dp_cli_ops *ops);

/* TURN: `turn ...` (cli_turn.c). */
struct turn_cli_ops {
	void (*allocations)(void *ctx, FILE *out); /* `turn allocations` */
	void (*stats)(void *ctx, FILE *out);	   /* `turn stats` */
	/* the `turn` page's "Guest peers : ..." line: the media targets guests may reach */
	void (*guest_peers)(void *ctx, FILE *out);
	void *ctx;
};
int turn_cli_register(struct cli *cli, const struct turn_cli_ops *ops);

/* The web components: `webbridge3`, `callbridge`, `webadmin`, `user` (cli_web.c). */
struct web_cli_ops {
	/* Brings @component ("webbridge3", "callbridge" or "webadmin") in line with the running
	 * configuration, which the CLI has just applied: starts or restarts it when enabled,
	 * stops it when not. Its answer goes to @out; 0 or -errno. */
	int (*restart)(void *ctx, const char *component, FILE *out);
	/* Live tables: @what is "callbridge calls", "callbridge participants" or
	 * "webbridge3 connections". */
	void (*info)(void *ctx, const char *what, FILE *out);
	/* Whether the web admin service runs (its status page's STATUS line). */
	bool (*webadmin_running)(void *ctx);
	void *ctx;
};
int web_cli_register(struct cli *cli, const struct web_cli_ops *ops);

/* Observability: `metrics` (the registry, and the endpoint Prometheus scrapes) and `syslog`
 * (cli_obs.c); the two status pages' live lines. */
struct obs_cli_ops {
	void (*metrics_status)(void *ctx, FILE *out); /* scrapes, refusals, running or why not */
	void (*syslog_status)(void *ctx, FILE *out);  /* each server: state, sent, lost */
	void *ctx;
};
int obs_cli_register(struct cli *cli, const struct obs_cli_ops *ops);

#define CLI_MAX_WORDS 32

/* Splits @line into words (spaces/tabs; no quoting needed by any command). Returns the
 * count, or -E2BIG. @buf receives the words' storage. */
int cli_split(const char *line, char *buf, size_t buflen, char **words, int max);

/* Runs one command line, writing its answer to @out. 0 on success, negative errno when
 * the command was refused (its message, naming the bad word, is in @out). A line starting
 * with "--json" asks for the JSON form of the page that follows (cli_command.json_families):
 * `--json turn`, `--json iface a`, `--json metrics`. */
int cli_exec(struct cli *cli, const char *line, FILE *out);

#endif
