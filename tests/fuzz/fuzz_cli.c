/* libFuzzer target for the CLI grammar (cli_exec): the input is split on newlines and each
 * line runs, in order, against one CLI made as edged makes it (its own commands, then the data
 * plane's, TURN's, the web components' and observability's, with stand-ins for what runs) over
 * a running configuration that starts as config/lab.conf, so that one input is a session and
 * a bug that needs state left by an earlier command shows. On any line it must neither crash
 * nor read out of bounds (ASan+UBSan watch); a refused command says why and changes nothing;
 * and every configuration the CLI applies is one edged could take: each interface's firewall
 * compiles, and the file cfg_save writes for it reads back with cfg_load and saves again to
 * the same bytes (what edged writes it must read at its next start). Nothing is written
 * outside one directory under /tmp, made once and removed at exit (the saved configuration;
 * the certificate directory points there too). Seed it with tests/fuzz/corpus/cli. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "edge_config.h"
#include "edge_log.h"
#include "fw.h"
#include "metrics.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64] = "/tmp/fuzz_cli.XXXXXX";
static char a_path[96], b_path[96];
static struct edge_cfg base, running, before, reread;
static struct cli cli;
static struct metrics_registry *registry;
static char a_text[1 << 20], b_text[1 << 20];

static void cleanup(void)
{
	unlink(a_path);
	unlink(b_path);
	rmdir(dir);
}

static long slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	if (!feof(f))
		abort();
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

static struct edge_cfg shown;
static struct cli shadow;
static const struct cli_ops no_ops = { .apply = NULL };
static char page_a[32768], page_b[32768];

/* Every configuration page of @cfg into @buf, as the operator reads them. */
static void pages(const struct edge_cfg *cfg, char *buf, size_t len)
{
	static const char *const each[] = { "turn", "webbridge3", "callbridge", "webadmin",
		"metrics", "syslog", "user list" };
	FILE *out;

	shown = *cfg;
	memset(buf, 0, len);
	out = fmemopen(buf, len - 1, "w");
	if (!out)
		abort();
	for (size_t i = 0; i < sizeof(each) / sizeof(each[0]); i++)
		cli_exec(&shadow, each[i], out);
	for (int i = 0; i < cfg->n_ifs; i++) {
		char line[64];

		snprintf(line, sizeof(line), "ipv4 %s", cfg->ifs[i].name);
		cli_exec(&shadow, line, out);
		snprintf(line, sizeof(line), "ipv6 %s", cfg->ifs[i].name);
		cli_exec(&shadow, line, out);
		snprintf(line, sizeof(line), "firewall %s", cfg->ifs[i].name);
		cli_exec(&shadow, line, out);
	}
	fclose(out);
}

static bool same_pages(const struct edge_cfg *a, const struct edge_cfg *b)
{
	pages(a, page_a, sizeof(page_a));
	pages(b, page_b, sizeof(page_b));
	return !strcmp(page_a, page_b);
}

/* What edged's apply checks before it takes @next, without a data plane: the firewall rule
 * sets compile and the file holds it. Then @next is the running configuration. */
static int fake_apply(void *ctx, const struct edge_cfg *next, char *err, size_t errlen)
{
	char e[512];
	long na, nb;

	(void)ctx;
	for (int i = 0; i < next->n_ifs; i++) {
		struct fw_ruleset *rs;

		if (i < running.n_ifs &&
			!memcmp(&next->ifs[i].fw, &running.ifs[i].fw, sizeof(next->ifs[i].fw)))
			continue; /* compiled when it was applied */
		rs = fw_compile(&next->ifs[i].fw);

		if (!rs) {
			snprintf(err, errlen, "%s: firewall does not compile", next->ifs[i].name);
			return -EINVAL;
		}
		fw_ruleset_free(rs);
	}
	if (cfg_save(a_path, next, err, errlen) < 0) {
		fprintf(stderr, "fuzz_cli: cannot save: %s\n", err);
		abort();
	}
	if (cfg_load(a_path, &reread, e, sizeof(e)) < 0) {
		fprintf(stderr,
			"fuzz_cli: the CLI applied a configuration its file cannot hold: %s\n", e);
		abort();
	}
	if (cfg_save(b_path, &reread, e, sizeof(e)) < 0)
		abort();
	na = slurp(a_path, a_text, sizeof(a_text));
	nb = slurp(b_path, b_text, sizeof(b_text));
	if (na < 0 || nb < 0)
		abort();
	if (na != nb || memcmp(a_text, b_text, (size_t)na)) {
		fprintf(stderr,
			"fuzz_cli: saved, loaded and saved again differs:\n--- first\n%s"
			"--- again\n%s",
			a_text, b_text);
		abort();
	}
	if (!same_pages(next, &reread)) {
		fprintf(stderr,
			"fuzz_cli: a page differs once the configuration is saved and "
			"loaded (what a restart shows):\n--- applied\n%s--- loaded\n%s",
			page_a, page_b);
		abort();
	}
	running = *next;
	return 0;
}

static void fake_page(void *ctx, FILE *out)
{
	(void)ctx;
	fputs("page\n", out);
}

static void fake_iface(void *ctx, int ifi, FILE *out)
{
	(void)ctx;
	if (ifi < 0 || ifi >= running.n_ifs)
		abort();
	fprintf(out, "page of %s\n", running.ifs[ifi].name);
}

static int fake_ping(void *ctx, uint32_t addr, int count, FILE *out)
{
	(void)ctx;
	(void)addr;
	fprintf(out, "%d sent\n", count);
	return -EHOSTUNREACH;
}

static int fake_restart(void *ctx, const char *component, FILE *out)
{
	(void)ctx;
	fprintf(out, "%s restarted\n", component);
	return 0;
}

static void fake_info(void *ctx, const char *what, FILE *out)
{
	(void)ctx;
	fprintf(out, "table of %s\n", what);
}

static bool fake_running(void *ctx)
{
	(void)ctx;
	return true;
}

static void x_collect(void *ctx, struct metrics_sink *sink)
{
	(void)ctx;
	metrics_sample_u64(sink, NULL, 7);
}

static void if_collect(void *ctx, struct metrics_sink *sink)
{
	static const char *const a[] = { "a" }, *const b[] = { "b" };

	(void)ctx;
	metrics_sample_u64(sink, a, 11);
	metrics_sample_u64(sink, b, 22);
}

static const char *const if_label[] = { "interface", NULL };
static const struct metrics_family x_family = { "edge_turn_x_total", "x", METRICS_COUNTER, NULL,
	x_collect, NULL };
static const struct metrics_family if_family = { "edge_interface_rx_packets_total", "rx",
	METRICS_COUNTER, if_label, if_collect, NULL };

static const struct cli_ops ops = { .apply = fake_apply };
static const struct dp_cli_ops dp_ops = { .status = fake_page,
	.iface = fake_iface,
	.arp = fake_page,
	.ping = fake_ping };
static const struct turn_cli_ops turn_ops = { .allocations = fake_page,
	.stats = fake_page,
	.guest_peers = fake_page };
static const struct web_cli_ops web_ops = { .restart = fake_restart,
	.info = fake_info,
	.webadmin_running = fake_running };
static const struct obs_cli_ops obs_ops = { .metrics_status = fake_page,
	.syslog_status = fake_page };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(a_path, sizeof(a_path), "%s/a.conf", dir);
	snprintf(b_path, sizeof(b_path), "%s/b.conf", dir);
	atexit(cleanup);
	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_EMERG); /* keep lines for `log`, print none */
	if (cfg_load(EDGE_SRCDIR "/config/lab.conf", &base, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_cli: %s\n", err);
		abort();
	}
	/* nothing of the CLI's may point out of the directory */
	snprintf(base.cert_dir, sizeof(base.cert_dir), "%s", dir);
	snprintf(base.log_file, sizeof(base.log_file), "%s/edged.log", dir);
	snprintf(base.ctl_socket, sizeof(base.ctl_socket), "%s/edged.sock", dir);
	snprintf(base.cb.db_path, sizeof(base.cb.db_path), "%s/cb.db", dir);
	registry = metrics_registry_new();
	if (!registry || metrics_register(registry, &x_family) ||
		metrics_register(registry, &if_family))
		abort();
	return 0;
}

static char out_text[16384];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	running = base;
	cli_init(&cli, &running, &ops, NULL);
	if (dp_cli_register(&cli, &dp_ops) || turn_cli_register(&cli, &turn_ops) ||
		web_cli_register(&cli, &web_ops) || obs_cli_register(&cli, &obs_ops))
		abort();
	cli.metrics = registry;
	/* the pages of a configuration being applied, shown by a CLI that applies nothing */
	cli_init(&shadow, &shown, &no_ops, NULL);
	if (dp_cli_register(&shadow, &dp_ops) || turn_cli_register(&shadow, &turn_ops) ||
		web_cli_register(&shadow, &web_ops) || obs_cli_register(&shadow, &obs_ops))
		abort();
	shadow.metrics = registry;
	for (int n = 0; off < size && n < 64; n++) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		char *line = malloc(len + 1);
		FILE *out;
		int rc;

		if (!line)
			abort();
		memcpy(line, data + off, len);
		line[len] = '\0';
		off += len + 1;
		before = running;
		memset(out_text, 0, sizeof(out_text));
		out = fmemopen(out_text, sizeof(out_text), "w");
		if (!out)
			abort();
		rc = cli_exec(&cli, line, out);
		fclose(out);
		if (rc > 0)
			abort();
		/* refused: a message, and the running configuration as it was */
		if (rc < 0 && (!out_text[0] || memcmp(&before, &running, sizeof(running)))) {
			fprintf(stderr, "fuzz_cli: '%s' refused (%d) %s\n", line, rc,
				out_text[0] ? "but changed the configuration" : "without a word");
			abort();
		}
		free(line);
	}
	return 0;
}
