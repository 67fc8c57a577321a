/* The operator's command language (MMP style, as in the guide): parsing, validation and
 * dispatch. It edits a copy of the configuration and hands the result to the appliance
 * through cli_ops, so a rejected command changes nothing and the grammar is testable
 * without a running data plane. */
#ifndef EDGE_CLI_H
#define EDGE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "edge_config.h"

struct cli_ops {
	/* Makes @next the running configuration (data plane, kernel mirror, file). */
	int (*apply)(void *ctx, const struct edge_cfg *next, char *err, size_t errlen);
	/* Status pages; any may be NULL (then the command says it is unavailable). */
	void (*status)(void *ctx, FILE *out);
	void (*iface)(void *ctx, int ifi, FILE *out);
	void (*arp)(void *ctx, FILE *out);
	/* Sends @count echo requests from the data plane to @addr (network order) and reports
	 * them; returns 0 if any reply came back. */
	int (*ping)(void *ctx, uint32_t addr, int count, FILE *out);
	void (*turn_allocations)(void *ctx, FILE *out);	/* `turn allocations` */
	void (*turn_stats)(void *ctx, FILE *out);		/* `turn stats` */
	/* the `turn` page's "Guest peers : ..." line: the media targets guests may reach */
	void (*turn_guest_peers)(void *ctx, FILE *out);
	void (*firewall)(void *ctx, int ifi, FILE *out);	/* `firewall <if>` */
	/* Brings @component ("webbridge3", "callbridge" or "webadmin") in line with the running
	 * configuration, which the CLI has just applied: starts or restarts it when enabled,
	 * stops it when not. Its answer goes to @out; 0 or -errno. */
	int (*restart)(void *ctx, const char *component, FILE *out);
	/* Live tables: @what is "callbridge calls", "callbridge participants" or
	 * "webbridge3 connections". */
	void (*web_info)(void *ctx, const char *what, FILE *out);
	/* Whether the web admin service runs (its status page's STATUS line). */
	bool (*webadmin_running)(void *ctx);
	/* `metrics [json]`: every registered counter, Prometheus text or JSON (metrics.h). */
	void (*metrics)(void *ctx, FILE *out, bool json);
};

struct cli {
	struct edge_cfg *cfg;		/* the running configuration; replaced only by apply */
	const struct cli_ops *ops;
	void *ctx;
};

#define CLI_MAX_WORDS 32

/* Splits @line into words (spaces/tabs; no quoting needed by any command). Returns the
 * count, or -E2BIG. @buf receives the words' storage. */
int cli_split(const char *line, char *buf, size_t buflen, char **words, int max);

/* Runs one command line, writing its answer to @out. 0 on success, negative errno when
 * the command was refused (its message, naming the bad word, is in @out). */
int cli_exec(struct cli *cli, const char *line, FILE *out);

#endif
