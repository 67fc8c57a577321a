/* The CLI grammar: each command changes what it says and nothing else; each malformed
 * command is refused with a message naming the bad word, and changes nothing. */
#include "unit.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edge_log.h"
#include "metrics.h"
#include "test_certs.h"
#include <unistd.h>

static struct edge_cfg running;
static int applies;
static int fail_apply;

static int fake_apply(void *ctx, const struct edge_cfg *next, char *err, size_t errlen)
{
	(void)ctx;
	if (fail_apply) {
		snprintf(err, errlen, "disk full");
		return -ENOSPC;
	}
	running = *next;
	applies++;
	return 0;
}

static void fake_iface(void *ctx, int ifi, FILE *out)
{
	(void)ctx;
	fprintf(out, "page of %s\n", running.ifs[ifi].name);
}

static char restarted[64]; /* the component the last restart named */
static int restarts;
static bool wa_running;

static int fake_restart(void *ctx, const char *component, FILE *out)
{
	(void)ctx;
	snprintf(restarted, sizeof(restarted), "%s", component);
	restarts++;
	fprintf(out, "%s restarted\n", component);
	return 0;
}

static void fake_web_info(void *ctx, const char *what, FILE *out)
{
	(void)ctx;
	fprintf(out, "table of %s\n", what);
}

static bool fake_webadmin_running(void *ctx)
{
	(void)ctx;
	return wa_running;
}

static void fake_turn_guest_peers(void *ctx, FILE *out)
{
	(void)ctx;
	fprintf(out, "Guest peers             : 198.18.10.3:50000\n");
}

/* A registry with one plain counter and one per interface, as the appliance's. */
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
static const struct metrics_family x_family = { "edge_x_total", "x", METRICS_COUNTER, NULL,
	x_collect, NULL };
static const struct metrics_family if_family = { "edge_interface_rx_packets_total", "rx",
	METRICS_COUNTER, if_label, if_collect, NULL };
static struct metrics_registry *registry;

static const struct cli_ops ops = { .apply = fake_apply };
static const struct dp_cli_ops dp_ops = { .iface = fake_iface };
static const struct turn_cli_ops turn_ops = { .guest_peers = fake_turn_guest_peers };
static const struct web_cli_ops web_ops = { .restart = fake_restart,
	.info = fake_web_info,
	.webadmin_running = fake_webadmin_running };
static const struct obs_cli_ops obs_ops;
static struct cli cli;

/* The CLI as edged makes it: its own commands, then each component's. */
static void cli_setup(void)
{
	cli_init(&cli, &running, &ops, NULL);
	CU_ASSERT_EQUAL(dp_cli_register(&cli, &dp_ops), 0);
	CU_ASSERT_EQUAL(turn_cli_register(&cli, &turn_ops), 0);
	CU_ASSERT_EQUAL(web_cli_register(&cli, &web_ops), 0);
	CU_ASSERT_EQUAL(obs_cli_register(&cli, &obs_ops), 0);
	if (!registry) {
		registry = metrics_registry_new();
		CU_ASSERT_EQUAL(metrics_register(registry, &x_family), 0);
		CU_ASSERT_EQUAL(metrics_register(registry, &if_family), 0);
	}
	cli.metrics = registry;
}

static char out_text[8192];

/* Runs @line; returns its status and leaves its answer in out_text. */
static int run(const char *line)
{
	FILE *f = fmemopen(out_text, sizeof(out_text), "w");
	int rc;

	memset(out_text, 0, sizeof(out_text));
	rc = cli_exec(&cli, line, f);
	fclose(f);
	return rc;
}

static void reset(void)
{
	cli_setup();
	cfg_defaults(&running);
	running.n_ifs = 2;
	snprintf(running.ifs[0].name, sizeof(running.ifs[0].name), "a");
	snprintf(running.ifs[1].name, sizeof(running.ifs[1].name), "b");
	applies = 0;
	fail_apply = 0;
	restarts = 0;
	restarted[0] = '\0';
	wa_running = false;
}

/* A refused command: status, message naming @word, configuration untouched. */
static void refused(const char *line, const char *word)
{
	struct edge_cfg before = running;
	int n = applies;

	CU_ASSERT_EQUAL(run(line), -EINVAL);
	if (!strstr(out_text, word) || strncmp(out_text, "error: ", 7) != 0) {
		fprintf(stderr, "\n  '%s' answered: %s", line, out_text);
		CU_FAIL("refusal does not name the bad word");
	}
	CU_ASSERT_EQUAL(memcmp(&before, &running, sizeof(before)), 0);
	CU_ASSERT_EQUAL(applies, n);
}

static void test_guide_commands(void)
{
	reset();
	/* the guide's three lines, with lab addresses */
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.10.1/24 198.18.10.254"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b add 198.18.20.1/24 198.18.20.254"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b default"), 0);
	CU_ASSERT_EQUAL(applies, 3);
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs, 1);
	CU_ASSERT_EQUAL(running.ifs[0].addrs[0].addr, inet_addr("198.18.10.1"));
	CU_ASSERT_EQUAL(running.ifs[0].addrs[0].prefix, 24);
	CU_ASSERT_EQUAL(running.ifs[0].addrs[0].gateway, inet_addr("198.18.10.254"));
	CU_ASSERT_EQUAL(running.default_if, 1);

	CU_ASSERT_EQUAL(run("ipv4 b"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "198.18.20.1/24"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "198.18.20.254"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Default route           : yes"));
}

static void test_add_del(void)
{
	reset();
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.10.1/24 198.18.10.2"), 0);
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.11.1/24"), 0); /* gateway optional */
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs, 2);
	CU_ASSERT_EQUAL(run("ipv4 a del 198.18.10.1"), 0);
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs, 1);
	CU_ASSERT_EQUAL(running.ifs[0].addrs[0].addr, inet_addr("198.18.11.1"));
	CU_ASSERT_EQUAL(run("ipv4 a del 198.18.11.1/24"), 0); /* with its prefix too */
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs, 0);
	/* tabs and extra spaces are only separators */
	CU_ASSERT_EQUAL(run("  ipv4\ta   add 198.18.12.1/24  "), 0);
	CU_ASSERT_EQUAL(running.ifs[0].addrs[0].addr, inet_addr("198.18.12.1"));
}

static void test_default_follows_gateway(void)
{
	reset();
	CU_ASSERT_EQUAL(run("ipv4 b add 198.18.20.1/24 198.18.20.2"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b default"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b del 198.18.20.1"), 0);
	CU_ASSERT_EQUAL(running.default_if, -1); /* no gateway left: no default route */
}

static void test_refusals(void)
{
	reset();
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.10.1/24 198.18.10.2"), 0);
	refused("ipv4 z add 198.18.9.1/24 198.18.9.2", "'z'");
	refused("ipv4 a add 198.18.10.9/33 198.18.10.2", "'198.18.10.9/33'");
	refused("ipv4 a add 198.18.10.9/24 198.18.9.1", "'198.18.9.1'");
	refused("ipv4 a add 198.18.10.300/24 198.18.10.2", "'198.18.10.300/24'");
	refused("ipv4 a add 198.18.10.9 198.18.10.2", "'198.18.10.9'");
	refused("ipv4 a add 198.18.10.9/24 gateway", "'gateway'");
	refused("ipv4 a add 198.18.10.9/24 198.18.10.2 extra", "'extra'");
	refused("ipv4 a add", "missing");
	refused("ipv4 a add 198.18.10.1/24 198.18.10.2", "'198.18.10.1' is already configured");
	refused("ipv4 b add 198.18.10.1/24", "already configured on interface a");
	refused("ipv4 a add 127.0.0.5/8", "'127.0.0.5'");
	refused("ipv4 a add 224.0.0.5/24", "'224.0.0.5'");
	refused("ipv4 a add 198.18.10.255/24", "broadcast");
	refused("ipv4 a del 198.18.99.1", "'198.18.99.1'");
	refused("ipv4 a del nonsense", "'nonsense'");
	refused("ipv4 a del", "missing");
	refused("ipv4 b default", "no gateway");
	refused("ipv4 a defualt", "'defualt'");
	refused("ipv4", "missing interface");
	refused("ipv5 a", "'ipv5'");
	refused("iface q", "'q'");
	refused("log many", "'many'");
	refused("help nosuch", "'nosuch'");
	refused("status now", "'now'");
	refused("ping", "missing");
	refused("ping 198.18.10.300", "'198.18.10.300'");
	refused("ping 198.18.10.2 0", "'0'");
	refused("ping 198.18.10.2 3 x", "'x'");
	/* eight addresses is the most an interface takes */
	for (int i = 2; i <= 8; i++) {
		char line[64];
		snprintf(line, sizeof(line), "ipv4 a add 198.18.%d.1/24", 10 + i);
		CU_ASSERT_EQUAL(run(line), 0);
	}
	refused("ipv4 a add 198.18.30.1/24", "already has 8 addresses");
}

/* Static routes: the prefix's host bits, the gateway's subnet, duplicates and removal. */
static void test_routes(void)
{
	reset();
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.10.1/24"), 0);
	CU_ASSERT_EQUAL(run("ipv4 a route add 198.18.30.0/24 198.18.10.2"), 0);
	CU_ASSERT_EQUAL(run("ipv4 a route add 198.18.32.0/20 198.18.10.3"), 0);
	CU_ASSERT_EQUAL(running.ifs[0].n_routes, 2);
	CU_ASSERT_EQUAL(running.ifs[0].routes[0].net, inet_addr("198.18.30.0"));
	CU_ASSERT_EQUAL(running.ifs[0].routes[0].prefix, 24);
	CU_ASSERT_EQUAL(running.ifs[0].routes[0].gateway, inet_addr("198.18.10.2"));
	CU_ASSERT_EQUAL(run("ipv4 a"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"Route                   : 198.18.30.0/24 via "
		"198.18.10.2\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "198.18.32.0/20 via 198.18.10.3"));
	/* the next hop: on the subnet itself, else the longest route, else the gateway */
	CU_ASSERT_EQUAL(cfg_next_hop(&running.ifs[0], inet_addr("198.18.10.7")),
		inet_addr("198.18.10.7"));
	CU_ASSERT_EQUAL(cfg_next_hop(&running.ifs[0], inet_addr("198.18.30.9")),
		inet_addr("198.18.10.2"));
	CU_ASSERT_EQUAL(cfg_next_hop(&running.ifs[0], inet_addr("198.18.40.9")),
		inet_addr("198.18.10.3"));
	CU_ASSERT_EQUAL(cfg_next_hop(&running.ifs[0], inet_addr("198.19.0.1")), 0);
	CU_ASSERT_EQUAL(run("ipv4 a route add 198.18.40.0/24 198.18.10.4"), 0); /* longer */
	CU_ASSERT_EQUAL(cfg_next_hop(&running.ifs[0], inet_addr("198.18.40.9")),
		inet_addr("198.18.10.4"));
	refused("ipv4 a route add 198.18.30.1/24 198.18.10.2",
		"'198.18.30.1/24' has host bits set: the network is 198.18.30.0/24");
	refused("ipv4 a route add 198.18.31.0/24 198.18.11.2", "gateway '198.18.11.2' is not on");
	refused("ipv4 a route add 198.18.31.0/24 198.18.10.1", "'198.18.10.1'"); /* ours */
	refused("ipv4 a route add 198.18.30.0/24 198.18.10.5", "198.18.30.0/24 is already routed");
	refused("ipv4 a route add 198.18.31.0/33 198.18.10.2", "'198.18.31.0/33'");
	refused("ipv4 a route add 0.0.0.0/0 198.18.10.2", "'0.0.0.0/0' is the default route");
	refused("ipv4 a route add 198.18.31.0 198.18.10.2", "'198.18.31.0'");
	refused("ipv4 a route add 198.18.31.0/24 gw", "'gw'");
	refused("ipv4 a route add 198.18.31.0/24", "missing");
	refused("ipv4 a route add 198.18.31.0/24 198.18.10.2 x", "'x'");
	refused("ipv4 a route change 198.18.31.0/24", "'change'");
	refused("ipv4 a route", "missing add or del");
	refused("ipv4 a route del 198.18.31.0/24", "no route to 198.18.31.0/24");
	refused("ipv4 b route add 198.18.31.0/24 198.18.10.2", "not on a subnet of interface b");
	/* connected subnets and routes never overlap, one network has one route, and no
	 * route goes via an address of ours */
	refused("ipv4 a route add 198.18.10.128/25 198.18.10.2",
		"198.18.10.128/25 is inside 198.18.10.0/24, connected on interface a");
	refused("ipv4 a route add 198.18.10.0/24 198.18.10.2", "is inside 198.18.10.0/24");
	CU_ASSERT_EQUAL(run("ipv4 b add 198.18.20.1/24"), 0);
	refused("ipv4 b route add 198.18.30.0/24 198.18.20.2",
		"198.18.30.0/24 is already routed on interface a (via 198.18.10.2)");
	refused("ipv4 a add 198.18.10.2/24",
		"'198.18.10.2' is the gateway of route 198.18.30.0/24");
	refused("ipv4 b add 198.18.30.1/24", "'198.18.30.1/24' takes in route 198.18.30.0/24");
	refused("ipv4 b add 198.18.0.1/16", "takes in route");
	CU_ASSERT_EQUAL(run("ipv4 b route add 198.18.64.0/18 198.18.20.2"), 0); /* elsewhere */
	CU_ASSERT_EQUAL(run("ipv4 b route del 198.18.64.0/18"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b del 198.18.20.1"), 0);
	/* the address that reaches the gateways stays until their routes go */
	refused("ipv4 a del 198.18.10.1", "route 198.18.30.0/24 via 198.18.10.2");
	CU_ASSERT_EQUAL(run("ipv4 a route del 198.18.30.0/24"), 0);
	CU_ASSERT_EQUAL(run("ipv4 a route del 198.18.32.0/20"), 0);
	CU_ASSERT_EQUAL(run("ipv4 a route del 198.18.40.0/24"), 0);
	CU_ASSERT_EQUAL(running.ifs[0].n_routes, 0);
	CU_ASSERT_EQUAL(run("ipv4 a del 198.18.10.1"), 0);
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.10.1/24"), 0);
	for (int i = 0; i < EDGE_MAX_ROUTES; i++) {
		char line[80];

		snprintf(line, sizeof(line), "ipv4 a route add 198.19.%d.0/24 198.18.10.2", i);
		CU_ASSERT_EQUAL(run(line), 0);
	}
	refused("ipv4 a route add 198.19.99.0/24 198.18.10.2", "already has 16 routes");
}

static void test_apply_failure_changes_nothing(void)
{
	reset();
	fail_apply = 1;
	refused("ipv4 a add 198.18.10.1/24 198.18.10.2", "disk full");
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs, 0);
}

/* The guide's turn lines, then the status page field for field as the guide prints it. */
static void test_turn_guide(void)
{
	struct tc_lab lab;
	const char *page = "Enabled                 : true\n"
			   "Username                : admin\n"
			   "Password                : Cisco.123\n"
			   "Short term credentials  : disabled\n"
			   "Shared secret           : none\n"
			   "Realm                   : cms.demo\n"
			   "Public IP               : none\n"
			   "High Capacity Mode      : enabled\n"
			   "Relay address           : 198.18.10.1\n"
			   "TLS port                : 447\n"
			   "TLS cert                : cmsedge-fullchain.cer\n"
			   "TLS key                 : edge.key\n"
			   "TLS bundle              : none\n"
			   "Listen interface      a\n"
			   "Listen interface      b\n";

	reset();
	CU_ASSERT_FATAL(tc_lab_make(&lab) == 0);
	snprintf(running.cert_dir, sizeof(running.cert_dir), "%s", lab.dir);
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.10.1/24 198.18.10.2"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b add 198.18.20.1/24 198.18.20.2"), 0);
	CU_ASSERT_EQUAL(run("turn certs edge.key cmsedge-fullchain.cer"), 0);
	CU_ASSERT_STRING_EQUAL(out_text, "SUCCESS: Key and certificate pair match\n");
	CU_ASSERT_EQUAL(run("turn listen a b"), 0);
	CU_ASSERT_EQUAL(run("turn credentials admin Cisco.123 cms.demo"), 0);
	CU_ASSERT_EQUAL(run("turn tls 447"), 0);
	CU_ASSERT_EQUAL(run("turn enable"), 0);
	CU_ASSERT_EQUAL(run("turn"), 0);
	if (strncmp(out_text, page, strlen(page)) != 0)
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s", out_text, page);
	CU_ASSERT_EQUAL(strncmp(out_text, page, strlen(page)), 0);
	/* with a 1:1 NAT the public address shows; the relay address stays the interface's */
	CU_ASSERT_EQUAL(run("turn public-ip 198.18.99.1"), 0);
	CU_ASSERT_EQUAL(run("turn"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Public IP               : 198.18.99.1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Relay address           : 198.18.10.1\n"));
	CU_ASSERT_EQUAL(run("turn public-ip none"), 0);
	CU_ASSERT_EQUAL(running.turn.public_ip, 0);
	tc_lab_free(&lab);
}

/* `turn certs` takes only a key with its certificate, valid now; anything else is refused
 * with the file and the problem named, and the configuration stays as it was. */
static void test_turn_certs(void)
{
	const struct tc_spec old = { .cn = "edge.lab.example",
		.not_before = "20190101000000Z",
		.not_after = "20200101000000Z" };
	struct tc_lab lab;
	EVP_PKEY *other;
	X509 *expired;

	reset();
	CU_ASSERT_FATAL(tc_lab_make(&lab) == 0);
	snprintf(running.cert_dir, sizeof(running.cert_dir), "%s", lab.dir);
	CU_ASSERT_FATAL((other = tc_key()) != NULL);
	CU_ASSERT_FATAL((expired = tc_cert(&old, lab.key, lab.ca, lab.ca_key)) != NULL);
	CU_ASSERT_FATAL(tc_write(lab.dir, "other.key", other, NULL, 0) == 0);
	CU_ASSERT_FATAL(tc_write(lab.dir, "expired.cer", NULL, &expired, 1) == 0);
	CU_ASSERT_FATAL(tc_write_text(lab.dir, "garbage.key", "not a key\n") == 0);

	CU_ASSERT_EQUAL(run("turn certs edge.key edge.cer ca.pem"), 0);
	CU_ASSERT_STRING_EQUAL(out_text, "SUCCESS: Key and certificate pair match\n");
	CU_ASSERT_STRING_EQUAL(running.turn.tls_key, "edge.key");
	CU_ASSERT_STRING_EQUAL(running.turn.tls_cert, "edge.cer");
	CU_ASSERT_STRING_EQUAL(running.turn.tls_bundle, "ca.pem");
	refused("turn certs other.key edge.cer",
		"other.key does not match the certificate in "
		"edge.cer");
	refused("turn certs edge.key expired.cer",
		"expired.cer: certificate expired on "
		"2020-01-01 00:00:00 UTC");
	refused("turn certs garbage.key edge.cer", "garbage.key: not a private key (PEM)");
	refused("turn certs edge.cer edge.key", "edge.cer: not a private key");
	refused("turn certs edge.key edge.cer garbage.key", "garbage.key: not a certificate (PEM)");
	refused("turn certs edge.key edge.cer nobundle.pem", "'nobundle.pem': cannot read");
	CU_ASSERT_PTR_NULL(strstr(out_text, "SUCCESS"));
	CU_ASSERT_STRING_EQUAL(running.turn.tls_key, "edge.key"); /* as before */
	CU_ASSERT_STRING_EQUAL(running.turn.tls_bundle, "ca.pem");
	/* a path is stored as typed */
	char line[256];
	snprintf(line, sizeof(line), "turn certs %s/edge.key cmsedge-fullchain.cer", lab.dir);
	CU_ASSERT_EQUAL(run(line), 0);
	CU_ASSERT_EQUAL(strncmp(running.turn.tls_key, lab.dir, strlen(lab.dir)), 0);
	CU_ASSERT_STRING_EQUAL(running.turn.tls_bundle, "");
	X509_free(expired);
	EVP_PKEY_free(other);
	tc_lab_free(&lab);
}

static void test_turn_settings(void)
{
	reset();
	CU_ASSERT_EQUAL(run("turn listen b"), 0);
	CU_ASSERT_EQUAL(running.turn.listen_mask, 2);
	CU_ASSERT_EQUAL(run("turn credentials alice s3cret example.org"), 0);
	CU_ASSERT_EQUAL(run("turn credentials bob hunter22 example.org"), 0);
	CU_ASSERT_EQUAL(run("turn credentials alice n3w example.org"), 0); /* changes alice */
	CU_ASSERT_EQUAL(running.turn.n_users, 2);
	CU_ASSERT_STRING_EQUAL(running.turn.users[0].password, "n3w");
	CU_ASSERT_EQUAL(run("turn credentials delete bob"), 0);
	CU_ASSERT_EQUAL(running.turn.n_users, 1);
	CU_ASSERT_EQUAL(run("turn shared-secret 0123456789abcdef"), 0);
	CU_ASSERT_STRING_EQUAL(running.turn.shared_secret, "0123456789abcdef");
	CU_ASSERT_EQUAL(run("turn short-term-credentials enable"), 0);
	CU_ASSERT_TRUE(running.turn.short_term);
	CU_ASSERT_EQUAL(run("turn relay-ports 40000-40999"), 0);
	CU_ASSERT_EQUAL(running.turn.relay_lo, 40000);
	CU_ASSERT_EQUAL(running.turn.relay_hi, 40999);
	CU_ASSERT_EQUAL(run("turn port 3479"), 0);
	CU_ASSERT_EQUAL(run("turn quota total 1000"), 0);
	CU_ASSERT_EQUAL(run("turn quota user 10"), 0);
	CU_ASSERT_EQUAL(run("turn bandwidth 2000"), 0);
	CU_ASSERT_EQUAL(run("turn peers deny 198.18.30.7/16"), 0);
	CU_ASSERT_EQUAL(running.turn.denied[0].addr,
		inet_addr("198.18.0.0")); /* host bits cleared */
	CU_ASSERT_EQUAL(running.turn.denied[0].len, 16);
	CU_ASSERT_EQUAL(run("turn peers allow 198.18.200.0/24"), 0);
	CU_ASSERT_EQUAL(run("turn peers delete deny 198.18.0.0/16"), 0);
	CU_ASSERT_EQUAL(running.turn.n_denied, 0);
	CU_ASSERT_EQUAL(run("turn enable"), 0);
	CU_ASSERT_EQUAL(run("turn disable"), 0);
	CU_ASSERT_FALSE(running.turn.enabled);
}

/* The `turn` page shows the peer policy in the order it applies: never, denied, allowed, the
 * default refusals (with what an allow range opens of them), the internal subnets, and the
 * guests' media targets. */
static void test_turn_peer_page(void)
{
	static const char *const want[] = {
		"Never relayed to        : this appliance's addresses (but relay ports), 0.0.0.0/8, ",
		"Denied peers            : 198.18.30.0/24\n",
		"Allowed peers           : 198.18.0.0/15\n",
		"Allowed peers           : 100.64.1.0/24\n",
		"Refused by default      : 10.0.0.0/8\n",
		"Refused by default      : 100.64.0.0/10 (partly allowed)\n",
		"Refused by default      : 172.16.0.0/12\n",
		"Refused by default      : 192.168.0.0/16\n",
		"Refused by default      : 198.18.0.0/15 (allowed)\n",
		"Refused by default      : 240.0.0.0/4\n",
		"Refused by default      : 198.18.10.0/24 (subnet of a, not public) (allowed)\n",
		"Refused by default      : 198.18.30.0/24 (routed via a, not public) (allowed)\n",
		"Guest peers             : 198.18.10.3:50000\n",
	};

	reset();
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.10.1/24 198.18.10.2"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b add 198.18.20.1/24 198.18.20.2"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b default"), 0);
	CU_ASSERT_EQUAL(run("ipv4 a route add 198.18.30.0/24 198.18.10.4"), 0);
	CU_ASSERT_EQUAL(run("turn"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Denied peers            : none\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Allowed peers           : none\n"));
	CU_ASSERT_EQUAL(run("turn peers allow 198.18.0.0/15"), 0);
	CU_ASSERT_EQUAL(run("turn peers allow 100.64.1.0/24"), 0);
	CU_ASSERT_EQUAL(run("turn peers deny 198.18.30.0/24"), 0);
	CU_ASSERT_EQUAL(run("turn"), 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CU_ASSERT_PTR_NOT_NULL(strstr(out_text, want[i]));
		if (!strstr(out_text, want[i]))
			fprintf(stderr, "\n   missing: %s", want[i]);
	}
	/* b holds the default route: its subnet is not refused as internal */
	CU_ASSERT_PTR_NULL(strstr(out_text, "198.18.20.0/24 (subnet of b"));
	/* and in that order */
	CU_ASSERT(strstr(out_text, "Never relayed") < strstr(out_text, "Denied peers") &&
		strstr(out_text, "Denied peers") < strstr(out_text, "Allowed peers") &&
		strstr(out_text, "Allowed peers") < strstr(out_text, "Refused by default") &&
		strstr(out_text, "Refused by default") < strstr(out_text, "Guest peers"));
}

static void test_turn_refusals(void)
{
	reset();
	refused("turn enable", "no listen interface");
	refused("turn listen q", "'q'");
	refused("turn listen", "missing");
	refused("turn credentials admin", "missing");
	refused("turn credentials ad:min pw realm", "'ad:min'");
	refused("turn credentials delete nobody", "'nobody'");
	refused("turn public-ip 1.2.3", "'1.2.3'");
	refused("turn tls 70000", "'70000'");
	refused("turn tls 3478", "'3478'");
	refused("turn certs missing.key missing.cer", "'missing.key'");
	refused("turn short-term-credentials maybe", "'maybe'");
	refused("turn shared-secret short", "'short");
	refused("turn relay-ports 100-200", "'100-200'");
	refused("turn relay-ports 50000-40000", "'50000-40000'");
	refused("turn relay-ports 3000-4000", "contains the TURN port");
	refused("turn port 0", "'0'");
	refused("turn port 50000", "inside the relay port range");
	refused("turn quota all 5", "'all'");
	refused("turn quota total -1", "'-1'");
	refused("turn bandwidth lots", "'lots'");
	refused("turn peers deny 198.18.0.0", "'198.18.0.0'");
	refused("turn peers block 198.18.0.0/16", "'block'");
	refused("turn peers delete allow 198.18.0.0/16", "not in the list");
	refused("turn frobnicate", "'frobnicate'");
	refused("turn enable now", "too many words");
}

/* `turn peers` takes IPv6 prefixes too (issue 18): into their own lists, shown on the page
 * in the policy's order; bad words refused by name. */
static void test_turn_peers6(void)
{
	static const uint8_t db8[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	static const char *const want[] = {
		"Never relayed to        : IPv6: ",
		"Denied peers            : 2001:db8:30::/48\n",
		"Allowed peers           : 198.18.0.0/15\n",
		"Allowed peers           : 2001:db8::/32\n",
		"Allowed peers           : fd00::/8\n",
		"Refused by default      : fc00::/7 (partly allowed)\n",
		"Refused by default      : 2001:db8::/32 (allowed)\n",
		"Refused by default      : 3fff::/20\n",
		"Refused by default      : 2001::/23\n",
		"Refused by default      : 64:ff9b:1::/48\n",
		"Refused by default      : 2a02:1:2:3::/64 (prefix of a, not public)\n",
		"Refused by default      : 2a02:9::/32 (routed via a, not public)\n",
	};
	char line[96];

	reset();
	CU_ASSERT_EQUAL(run("turn peers allow 2001:db8::/32"), 0);
	CU_ASSERT_EQUAL(run("turn peers allow 198.18.0.0/15"), 0);
	CU_ASSERT_EQUAL(run("turn peers allow FD00::/8"), 0);
	CU_ASSERT_EQUAL(run("turn peers deny 2001:db8:30::/48"), 0);
	CU_ASSERT_EQUAL(running.turn.n_allowed, 1);
	CU_ASSERT_EQUAL_FATAL(running.turn.n_allowed6, 2);
	CU_ASSERT_EQUAL(running.turn.n_denied, 0);
	CU_ASSERT_EQUAL_FATAL(running.turn.n_denied6, 1);
	CU_ASSERT_EQUAL(memcmp(running.turn.allowed6[0].addr, db8, 16), 0);
	CU_ASSERT_EQUAL(running.turn.allowed6[0].len, 32);
	CU_ASSERT_EQUAL(running.turn.allowed6[1].addr[0], 0xfd);
	CU_ASSERT_EQUAL(running.turn.denied6[0].addr[5], 0x30);
	CU_ASSERT_EQUAL(running.turn.denied6[0].len, 48);
	/* the page */
	CU_ASSERT_EQUAL(run("ipv6 a add 2a02:1:2:3::1/64"), 0);
	CU_ASSERT_EQUAL(run("ipv6 a route add 2a02:9::/32 2a02:1:2:3::9"), 0);
	CU_ASSERT_EQUAL(run("ipv6 b add 2a03:5::1/64"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b add 198.18.20.1/24 198.18.20.2"), 0);
	CU_ASSERT_EQUAL(run("ipv4 b default"), 0);
	CU_ASSERT_EQUAL(run("turn"), 0);
	CU_ASSERT(strlen(out_text) < sizeof(out_text) - 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CU_ASSERT_PTR_NOT_NULL(strstr(out_text, want[i]));
		if (!strstr(out_text, want[i]))
			fprintf(stderr, "\n   missing: %s", want[i]);
	}
	CU_ASSERT_PTR_NULL(strstr(out_text, "Denied peers            : none"));
	CU_ASSERT_PTR_NULL(strstr(out_text, "2a03:5::/64 (prefix of b")); /* b is public */
	CU_ASSERT(strstr(out_text, "Allowed peers           : 2001:db8::/32") <
		strstr(out_text, "Refused by default"));
	/* twice, delete, delete what is not there */
	refused("turn peers allow 2001:db8::/32", "already in the list");
	refused("turn peers allow 2001:0db8:0::/32", "already in the list");
	CU_ASSERT_EQUAL(run("turn peers delete allow 2001:db8::/32"), 0);
	CU_ASSERT_EQUAL(running.turn.n_allowed6, 1);
	CU_ASSERT_EQUAL(running.turn.allowed6[0].addr[0], 0xfd); /* the next moved up */
	CU_ASSERT_EQUAL(running.turn.n_allowed, 1);
	refused("turn peers delete allow 2001:db8::/32", "not in the list");
	refused("turn peers delete deny 2001:db8:30::/47", "not in the list");
	CU_ASSERT_EQUAL(run("turn peers delete deny 2001:db8:30::/48"), 0);
	CU_ASSERT_EQUAL(running.turn.n_denied6, 0);
	/* bad words */
	refused("turn peers allow 2001:db8::1/32",
		"'2001:db8::1/32': host bits set (2001:db8::/32?)");
	refused("turn peers deny 2001:db8::/129",
		"'2001:db8::/129': an IPv6 prefix length is 0..128");
	refused("turn peers deny 2001:db8::zz/32", "'2001:db8::zz/32'");
	refused("turn peers deny 2001:db8::", "'2001:db8::'");
	refused("turn peers deny fe80::1%a/64", "'fe80::1%a/64'");
	refused("turn peers deny nonsense", "'nonsense': expected a.b.c.d/n or an IPv6 prefix");
	/* 32 of each family */
	reset();
	for (int i = 0; i < TURN_MAX_PEER_RULES; i++) {
		snprintf(line, sizeof(line), "turn peers deny 2001:db8:%x::/48", i);
		CU_ASSERT_EQUAL(run(line), 0);
	}
	refused("turn peers deny 2001:db8:ffff::/48", "already 32 IPv6 entries");
	CU_ASSERT_EQUAL(run("turn peers deny 198.18.0.0/15"), 0);
	CU_ASSERT_EQUAL(running.turn.n_denied, 1);
	CU_ASSERT_EQUAL(running.turn.n_denied6, 32);
	CU_ASSERT_EQUAL(run("turn peers delete deny 2001:db8:5::/48"), 0);
	CU_ASSERT_EQUAL(running.turn.n_denied6, 31);
	CU_ASSERT_EQUAL(running.turn.denied6[5].addr[5], 6);
	CU_ASSERT_EQUAL(running.turn.denied6[30].addr[5], 31);
}

static void test_turn_log_hides_secrets(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	reset();
	CU_ASSERT_EQUAL(run("turn credentials carol Pa55word-x example.org"), 0);
	CU_ASSERT_EQUAL(run("turn shared-secret TopSecretValue1"), 0);
	f = open_memstream(&text, &len);
	edge_log_dump(f, 5);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "turn credentials carol ********"));
	CU_ASSERT_PTR_NULL(strstr(text, "Pa55word-x"));
	CU_ASSERT_PTR_NULL(strstr(text, "TopSecretValue1"));
	free(text);
}

static void test_firewall_commands(void)
{
	reset();
	/* the guide's three lines */
	CU_ASSERT_EQUAL(run("firewall a default allow"), 0);
	CU_ASSERT_EQUAL(run("firewall a deny 22"), 0);
	CU_ASSERT_EQUAL(run("firewall a enable"), 0);
	CU_ASSERT_TRUE(running.ifs[0].fw.enabled);
	CU_ASSERT_EQUAL(running.ifs[0].fw.n_rules, 1);
	CU_ASSERT_FALSE(fw_config_allows(&running.ifs[0].fw, 6, 0, 22));
	CU_ASSERT_TRUE(fw_config_allows(&running.ifs[0].fw, 6, 0, 23));
	CU_ASSERT_FALSE(running.ifs[1].fw.enabled); /* b untouched */
	CU_ASSERT_EQUAL(run("firewall a allow 3478/udp from 198.18.20.0/24"), 0);
	CU_ASSERT_EQUAL(run("firewall a delete deny 22"), 0);
	CU_ASSERT_EQUAL(running.ifs[0].fw.n_rules, 1);
	refused("firewall a deny 22x", "'22x'");
	refused("firewall a allow 70000", "'70000'");
	refused("firewall a delete deny 23", "23");
	refused("firewall q deny 22", "'q'");
	refused("firewall a frobnicate", "'frobnicate'");
	refused("firewall", "missing interface");
	/* the turn page says which of TURN's ports the firewall shuts (a rule with "from" opens
	 * a port to some only, which the page does not count as open) */
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.10.1/24"), 0);
	CU_ASSERT_EQUAL(run("turn listen a"), 0);
	CU_ASSERT_EQUAL(run("turn tls 447"), 0);
	CU_ASSERT_EQUAL(run("firewall a default deny"), 0);
	CU_ASSERT_EQUAL(run("turn"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"TURN port BLOCKED, relay ports BLOCKED, TCP port BLOCKED, "
		"TLS port BLOCKED"));
	CU_ASSERT_EQUAL(run("firewall a allow 447/tcp"), 0);
	CU_ASSERT_EQUAL(run("turn"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "TCP port BLOCKED, TLS port allowed"));
	CU_ASSERT_EQUAL(run("firewall a allow 3478"), 0); /* both protocols */
	CU_ASSERT_EQUAL(run("turn"), 0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out_text, "TURN port allowed, relay ports BLOCKED, TCP port allowed"));
}

static void test_misc(void)
{
	char long_line[2048];

	reset();
	CU_ASSERT_EQUAL(run(""), 0);
	CU_ASSERT_EQUAL(run("   "), 0);
	CU_ASSERT_EQUAL(run("help"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "ipv4 <if>"));
	CU_ASSERT_EQUAL(run("help ipv4"), 0);
	CU_ASSERT_PTR_NULL(strstr(out_text, "iface [<if>]"));
	CU_ASSERT_EQUAL(run("iface b"), 0);
	CU_ASSERT_STRING_EQUAL(out_text, "page of b\n");
	CU_ASSERT_EQUAL(run("status"), -EINVAL); /* no status op in this harness */
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	CU_ASSERT_EQUAL(run(long_line), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "too long"));
}

/* --- webbridge3, callbridge, webadmin, user --- */

static void ok(const char *line)
{
	int rc = run(line);

	if (rc != 0)
		fprintf(stderr, "\n  '%s' answered: %s", line, out_text);
	CU_ASSERT_EQUAL(rc, 0);
}

static void page_is(const char *line, const char *want)
{
	ok(line);
	if (strcmp(out_text, want) != 0)
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s", out_text, want);
	CU_ASSERT_STRING_EQUAL(out_text, want);
}

/* The guide's two boxes: lab certificates under the guide's names, addresses on a and b. */
static void web_lab(struct tc_lab *lab)
{
	X509 *chain[2];

	reset();
	CU_ASSERT_FATAL(tc_lab_make(lab) == 0);
	chain[0] = lab->leaf;
	chain[1] = lab->ca;
	snprintf(running.cert_dir, sizeof(running.cert_dir), "%s", lab->dir);
	CU_ASSERT_FATAL(tc_write(lab->dir, "core.key", lab->key, NULL, 0) == 0);
	CU_ASSERT_FATAL(tc_write(lab->dir, "cmscore-fullchain.cer", NULL, chain, 2) == 0);
	CU_ASSERT_FATAL(tc_write_text(lab->dir, "garbage.pem", "no certificate here\n") == 0);
	ok("ipv4 a add 198.18.10.1/24 198.18.10.2");
	ok("ipv4 b add 198.18.20.1/24 198.18.20.2");
}

static void test_webbridge3_guide(void)
{
	const char *page = "Enabled                               : true\n"
			   "HTTPS listening ports and interfaces  : a:445 b:445\n"
			   "HTTPS Key file                        : edge.key\n"
			   "HTTPS Full chain certificate file     : cmsedge-fullchain.cer\n"
			   "HTTPS Frame-Ancestors                 : none\n"
			   "HTTP redirect                         : Disabled\n"
			   "C2W listening ports and interfaces    : a:6000\n"
			   "C2W Key file                          : edge.key\n"
			   "C2W Full chain certificate file       : cmsedge-fullchain.cer\n"
			   "C2W Trust bundle                      : cmscore-fullchain.cer\n"
			   "Meetingapps address                   : none\n"
			   "Meetingapps port                      : none\n"
			   "Audio priority flag                   : Enabled\n"
			   "Beta options                          : none\n";
	struct tc_lab lab;

	web_lab(&lab);
	running.role = EDGE_ROLE_EDGE;
	/* the guide's lines, in its order */
	ok("webbridge3 https certs edge.key cmsedge-fullchain.cer");
	CU_ASSERT_STRING_EQUAL(out_text,
		"SUCCESS: Key and certificate pair match\n"
		"webbridge3: takes effect on 'webbridge3 enable'\n");
	ok("webbridge3 https listen b:445");
	CU_ASSERT_EQUAL(running.wb3.n_https, 1);
	ok("webbridge3 https listen a:445 b:445");
	ok("webbridge3 c2w certs edge.key cmsedge-fullchain.cer");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "SUCCESS: Key and certificate pair match\n"));
	ok("webbridge3 c2w listen a:6000");
	ok("webbridge3 c2w trust cmscore-fullchain.cer");
	CU_ASSERT_EQUAL(restarts, 0);
	ok("webbridge3 enable");
	CU_ASSERT_TRUE(running.wb3.enabled);
	CU_ASSERT_EQUAL(restarts, 1);
	CU_ASSERT_STRING_EQUAL(restarted, "webbridge3");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "webbridge3 restarted\n"));
	page_is("webbridge3", page);
	/* the model behind the page */
	CU_ASSERT_EQUAL(running.wb3.n_https, 2);
	CU_ASSERT_EQUAL(running.wb3.https[0].ifi, 0);
	CU_ASSERT_EQUAL(running.wb3.https[1].port, 445);
	CU_ASSERT_EQUAL(running.wb3.c2w[0].port, 6000);
	/* every other setting, then the page again */
	ok("webbridge3 https frame-ancestors https://intranet.example 'self'");
	CU_ASSERT_STRING_EQUAL(out_text, "webbridge3: takes effect on 'webbridge3 restart'\n");
	ok("webbridge3 http-redirect enable");
	ok("webbridge3 meetingapps add apps.example 8443 0123456789abcdef");
	ok("webbridge3 options beta1 beta2");
	ok("webbridge3 audio-priority disable");
	ok("webbridge3");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"HTTPS Frame-Ancestors                 : "
		"https://intranet.example 'self'\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out_text, "HTTP redirect                         : Enabled\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"Meetingapps address                   : apps.example\n"
		"Meetingapps port                      : 8443\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"Audio priority flag                   : Disabled\n"
		"Beta options                          : beta1 beta2\n"));
	CU_ASSERT_PTR_NULL(strstr(out_text, "0123456789abcdef")); /* the secret is not shown */
	ok("webbridge3 meetingapps del");
	CU_ASSERT_STRING_EQUAL(running.wb3.meetingapps_host, "");
	CU_ASSERT_EQUAL(running.wb3.meetingapps_port, 0);
	ok("webbridge3 https frame-ancestors none");
	ok("webbridge3 options none");
	CU_ASSERT_STRING_EQUAL(running.wb3.options, "");
	ok("webbridge3 c2w trust none");
	ok("webbridge3 connections");
	CU_ASSERT_STRING_EQUAL(out_text, "table of webbridge3 connections\n");
	/* restart and disable apply, then ask the appliance */
	ok("webbridge3 c2w trust cmscore-fullchain.cer");
	ok("webbridge3 restart");
	CU_ASSERT_EQUAL(restarts, 2);
	ok("webbridge3 disable");
	CU_ASSERT_FALSE(running.wb3.enabled);
	CU_ASSERT_EQUAL(restarts, 3);
	refused("webbridge3 restart", "disabled");
	CU_ASSERT_EQUAL(restarts, 3);
	/* on an edge the core's components are not there, but their pages are */
	refused("callbridge listen a", "callbridge: not on this appliance (role edge)");
	refused("webadmin listen a 443", "webadmin: not on this appliance (role edge)");
	refused("callbridge restart", "callbridge: not on this appliance (role edge)");
	ok("callbridge");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Listening interfaces  : none\n"));
	ok("webadmin");
	tc_lab_free(&lab);
}

static void test_webbridge3_refusals(void)
{
	struct tc_lab lab;
	EVP_PKEY *other;

	web_lab(&lab);
	CU_ASSERT_FATAL((other = tc_key()) != NULL);
	CU_ASSERT_FATAL(tc_write(lab.dir, "other.key", other, NULL, 0) == 0);
	/* nothing set yet: enable names what is missing */
	refused("webbridge3 enable", "no HTTPS listener");
	refused("webbridge3 enable", "no C2W trust bundle");
	CU_ASSERT_EQUAL(restarts, 0);
	/* listeners */
	CU_ASSERT_EQUAL(run("webbridge3 https listen z:445"), -EINVAL);
	CU_ASSERT_STRING_EQUAL(out_text,
		"error: webbridge3 https listen: 'z:445': no such interface "
		"(configured: a b)\n");
	refused("webbridge3 https listen a:0", "'a:0': port must be 1..65535");
	refused("webbridge3 https listen a:65536", "'a:65536'");
	refused("webbridge3 https listen a445", "'a445': expected <if>:<port>");
	refused("webbridge3 https listen a:44x", "'a:44x'");
	refused("webbridge3 https listen a:445 a:445", "'a:445': given twice");
	refused("webbridge3 https listen a:1 a:2 a:3 a:4 a:5", "'a:5': at most 4 listeners");
	refused("webbridge3 c2w listen q:6000", "'q:6000': no such interface");
	refused("webbridge3 https listen", "missing words");
	refused("webbridge3 https", "missing words (expected certs, listen, frame-ancestors)");
	refused("webbridge3 https lisen a:445", "'lisen'");
	/* ports: C2W apart from HTTPS, and nobody on webadmin's interface and port */
	ok("webbridge3 https listen a:445 b:445");
	refused("webbridge3 c2w listen b:445", "'b:445': clashes with webbridge3 HTTPS on b:445");
	refused("webbridge3 c2w listen a:6000 b:445", "'b:445'");
	refused("webbridge3 c2w listen a:445", "C2W needs a port of its own");
	ok("webadmin listen a 443");
	refused("webbridge3 https listen a:443", "'a:443': clashes with webadmin on a:443");
	refused("webbridge3 c2w listen a:443", "'a:443': clashes with webadmin on a:443");
	ok("webbridge3 c2w listen b:443"); /* another interface: fine */
	ok("webbridge3 c2w listen a:6000");
	refused("webbridge3 https listen a:6000", "'a:6000': clashes with webbridge3 C2W");
	refused("webadmin listen a 6000", "'a:6000': clashes with webbridge3 C2W on a:6000");
	refused("webadmin listen b 445", "'b:445': clashes with webbridge3 HTTPS on b:445");
	ok("turn listen b");
	ok("turn tls 447");
	refused("webbridge3 https listen b:447", "'b:447': clashes with turn TLS on b:447");
	/* port 80: one redirect per interface */
	ok("webadmin http-redirect enable");
	refused("webbridge3 http-redirect enable",
		"'a:80': clashes with webadmin HTTP redirect on a:80");
	ok("webbridge3 https listen b:445");
	ok("webbridge3 http-redirect enable");
	refused("webbridge3 https listen a:445 b:445",
		"'a:80': clashes with webadmin HTTP redirect");
	refused("webbridge3 http-redirect maybe", "'maybe'");
	/* certificates: files in the certificate directory, a matching pair */
	refused("webbridge3 https certs missing.key cmsedge-fullchain.cer",
		"'missing.key': cannot read");
	refused("webbridge3 https certs edge.key missing.cer", "'missing.cer'");
	refused("webbridge3 https certs other.key cmsedge-fullchain.cer",
		"other.key does not match");
	refused("webbridge3 c2w certs other.key edge.cer", "other.key does not match");
	refused("webbridge3 c2w certs edge.key", "missing words");
	refused("webbridge3 c2w certs edge.key edge.cer ca.pem", "too many words");
	refused("webbridge3 c2w trust garbage.pem", "'garbage.pem': no certificate in it");
	refused("webbridge3 c2w trust missing.pem", "'missing.pem': cannot read");
	CU_ASSERT_PTR_NULL(strstr(out_text, "SUCCESS"));
	/* the rest */
	refused("webbridge3 meetingapps add apps.example 0 0123456789abcdef", "'0'");
	refused("webbridge3 meetingapps add apps/example 443 0123456789abcdef", "'apps/example'");
	refused("webbridge3 meetingapps add apps.example 443 short", "must be 8..127");
	refused("webbridge3 meetingapps del", "no meetingapps server");
	refused("webbridge3 meetingapps", "missing words");
	refused("webbridge3 options a;b", "'a;b'");
	refused("webbridge3 options none x", "'x'");
	refused("webbridge3 https frame-ancestors https://a.example;script-src", "';'");
	refused("webbridge3 audio-priority loud", "'loud'");
	refused("webbridge3 enable now", "too many words");
	refused("webbridge3 frobnicate", "'frobnicate'");
	/* all set but the trust: enable names it */
	ok("webbridge3 https certs edge.key cmsedge-fullchain.cer");
	ok("webbridge3 c2w certs edge.key cmsedge-fullchain.cer");
	refused("webbridge3 enable",
		"not ready: no C2W trust bundle (webbridge3 c2w trust <bundle>)");
	CU_ASSERT_FALSE(running.wb3.enabled);
	/* a core has no web bridge */
	running.role = EDGE_ROLE_CORE;
	refused("webbridge3 https listen a:445", "webbridge3: not on this appliance (role core)");
	refused("webbridge3 connections", "role core");
	ok("webbridge3");
	CU_ASSERT_EQUAL(restarts, 0);
	EVP_PKEY_free(other);
	tc_lab_free(&lab);
}

static void test_callbridge(void)
{
	const char *page = "Listening interfaces  : a\n"
			   "Preferred interface   : none\n"
			   "Key file              : core.key\n"
			   "Certificate file      : cmscore-fullchain.cer\n"
			   "Address               : none\n"
			   "C2W trusted certs                   : cmsedge-fullchain.cer\n"
			   "Callbridge cluster trusted certs    : none\n"
			   "Callbridge trust branding certs     : none\n"
			   "UCM trusted certs         : none\n"
			   "UCM verification mode     : disabled\n"
			   "IMPS trusted certs        : none\n"
			   "IMPS verification mode    : disabled\n"
			   "WC3 JWT Expiry in hours   : 24\n"
			   "Media ports               : none\n"
			   "Simulcast                 : disabled\n";
	struct tc_lab lab;

	web_lab(&lab);
	running.role = EDGE_ROLE_CORE;
	refused("callbridge restart", "not ready: no listening interface");
	ok("callbridge listen a");
	ok("callbridge certs core.key cmscore-fullchain.cer");
	CU_ASSERT_STRING_EQUAL(out_text,
		"SUCCESS: Key and certificate pair match\n"
		"callbridge: takes effect on 'callbridge restart'\n");
	ok("callbridge restart"); /* no C2W trust yet: a warning, not a refusal */
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "warning: no C2W trust"));
	ok("callbridge trust c2w cmsedge-fullchain.cer");
	ok("callbridge restart"); /* the guide applies the configuration so */
	CU_ASSERT_STRING_EQUAL(out_text, "callbridge restarted\n");
	CU_ASSERT_STRING_EQUAL(restarted, "callbridge");
	CU_ASSERT_EQUAL(restarts, 2);
	page_is("callbridge", page);
	/* every setting */
	ok("callbridge listen a b");
	CU_ASSERT_EQUAL(running.cb.listen_mask, 3);
	ok("callbridge prefer b");
	CU_ASSERT_EQUAL(running.cb.prefer_if, 1);
	refused("callbridge listen a", "the preferred interface b would not listen");
	ok("callbridge certs core.key cmscore-fullchain.cer ca.pem");
	CU_ASSERT_STRING_EQUAL(running.cb.bundle, "ca.pem");
	ok("callbridge trust cluster ca.pem");
	ok("callbridge trust branding ca.pem");
	ok("callbridge ucm trust ca.pem");
	ok("callbridge ucm verify enable");
	ok("callbridge imps trust ca.pem");
	ok("callbridge imps verify enable");
	ok("callbridge wc3jwt expiry 8");
	ok("callbridge media a:10000 b:50002"); /* TURN does not listen: no relay interface */
	CU_ASSERT_EQUAL(running.cb.n_media, 2);
	CU_ASSERT_EQUAL(running.cb.media[1].port, 50002);
	ok("callbridge");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"Listening interfaces  : a b\n"
		"Preferred interface   : b\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Callbridge cluster trusted certs    : ca.pem\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "UCM verification mode     : enabled\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"IMPS verification mode    : enabled\n"
		"WC3 JWT Expiry in hours   : 8\n"
		"Media ports               : a:10000 b:50002\n"));
	/* simulcast: off by default (the page above), on, off again; a bad word is named */
	CU_ASSERT_FALSE(running.cb.simulcast);
	ok("callbridge simulcast enable");
	CU_ASSERT_TRUE(running.cb.simulcast);
	ok("callbridge");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Simulcast                 : enabled\n"));
	refused("callbridge simulcast on",
		"callbridge simulcast: 'on': expected enable or disable");
	CU_ASSERT_TRUE(running.cb.simulcast); /* a refusal changes nothing */
	refused("callbridge simulcast", "missing words");
	refused("callbridge simulcast enable now", "too many words");
	ok("callbridge simulcast disable");
	CU_ASSERT_FALSE(running.cb.simulcast);
	refused("callbridge media a:50000 a:50002", "'a:50002': one media port per interface");
	/* with TURN relaying from b, b's media port may not be a relay port, nor become one */
	running.turn.listen_mask = 2;
	refused("callbridge media a:10000 b:50002",
		"'b:50002': inside TURN's relay ports 49152-65535 on that interface");
	refused("turn relay-ports 50000-60000", "contains the callbridge's media port 50002");
	/* nor TURN's own UDP ports there (3478, and the browsers' 443) when TURN is on */
	running.turn.enabled = true;
	refused("callbridge media b:3478", "'b:3478': TURN listens on UDP 3478 there");
	refused("callbridge media b:443", "'b:443': TURN listens on UDP 443 there");
	running.turn.enabled = false;
	running.turn.listen_mask = 0;
	refused("callbridge media c:50000", "'c:50000': no such interface");
	refused("callbridge media a:0", "'a:0': port must be 1..65535");
	CU_ASSERT_EQUAL(running.cb.n_media, 2); /* a refusal changes nothing */
	ok("callbridge media none");
	CU_ASSERT_EQUAL(running.cb.n_media, 0);
	ok("callbridge trust cluster none");
	CU_ASSERT_STRING_EQUAL(running.cb.trust_cluster, "");
	ok("callbridge prefer none");
	ok("callbridge calls");
	CU_ASSERT_STRING_EQUAL(out_text, "table of callbridge calls\n");
	ok("callbridge participants");
	CU_ASSERT_STRING_EQUAL(out_text, "table of callbridge participants\n");
	/* refusals */
	refused("callbridge listen z",
		"callbridge listen: 'z': no such interface (configured: a b)");
	refused("callbridge prefer z", "'z'");
	refused("callbridge certs core.key edge.cer garbage.pem", "garbage.pem");
	refused("callbridge certs missing.key edge.cer", "'missing.key'");
	refused("callbridge trust c2w garbage.pem", "'garbage.pem': no certificate");
	refused("callbridge trust everyone ca.pem", "'everyone': expected c2w, cluster, branding");
	refused("callbridge ucm verify sometimes", "'sometimes'");
	refused("callbridge imps trust", "missing words");
	refused("callbridge wc3jwt expiry 25", "'25': expected a number 1..24");
	refused("callbridge wc3jwt expiry 0", "'0'");
	refused("callbridge wc3jwt expiry 1h", "'1h'");
	refused("callbridge wc3jwt", "missing words");
	refused("callbridge calls now", "too many words");
	ok("callbridge disable");
	CU_ASSERT_FALSE(running.cb.enabled);
	refused("callbridge restart", "callbridge is disabled");
	ok("callbridge enable");
	CU_ASSERT_TRUE(running.cb.enabled);
	CU_ASSERT_EQUAL(restarts, 4);
	tc_lab_free(&lab);
}

static void test_webadmin(void)
{
	const char *page = "Enabled                 : true\n"
			   "TLS listening interface : a\n"
			   "TLS listening port      : 443\n"
			   "Key file                : core.key\n"
			   "Certificate file        : cmscore-fullchain.cer\n"
			   "HTTP redirect           : Disabled\n"
			   "STATUS                  : webadmin running\n";
	struct tc_lab lab;

	web_lab(&lab);
	ok("webadmin");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "TLS listening interface : none\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out_text, "STATUS                  : webadmin not running\n"));
	refused("webadmin enable", "not ready: no listening interface");
	ok("webadmin listen a 443");
	refused("webadmin enable", "not ready: no certificate");
	ok("webadmin certs core.key cmscore-fullchain.cer");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "SUCCESS: Key and certificate pair match\n"));
	ok("webadmin enable");
	CU_ASSERT_STRING_EQUAL(restarted, "webadmin");
	wa_running = true;
	page_is("webadmin", page);
	ok("webadmin http-redirect enable");
	CU_ASSERT_TRUE(running.webadmin.http_redirect);
	ok("webadmin listen b 8443");
	CU_ASSERT_EQUAL(running.webadmin.ifi, 1);
	CU_ASSERT_EQUAL(running.webadmin.port, 8443);
	ok("webadmin certs core.key cmscore-fullchain.cer ca.pem");
	CU_ASSERT_STRING_EQUAL(running.webadmin.bundle, "ca.pem");
	ok("webadmin restart");
	ok("webadmin disable");
	CU_ASSERT_FALSE(running.webadmin.enabled);
	CU_ASSERT_EQUAL(restarts, 3);
	refused("webadmin listen z 443",
		"webadmin listen: 'z': no such interface (configured: a b)");
	refused("webadmin listen a 0", "'0'");
	refused("webadmin listen a https", "'https'");
	refused("webadmin listen a", "missing words");
	refused("webadmin certs other.key cmscore-fullchain.cer", "'other.key'");
	refused("webadmin http-redirect on", "'on'");
	refused("webadmin restart", "webadmin is disabled");
	/* a web bridge on the same box takes port 80 on b first */
	ok("webbridge3 https listen b:445");
	ok("webadmin http-redirect disable");
	ok("webbridge3 http-redirect enable");
	refused("webadmin http-redirect enable",
		"'b:80': clashes with webbridge3 HTTP redirect on b:80");
	tc_lab_free(&lab);
}

/* Without the appliance's ops, the commands that need them say so and change nothing. */
static void test_web_ops_missing(void)
{
	static const struct web_cli_ops none;
	static struct cli c;
	struct edge_cfg before;
	FILE *f;

	reset();
	cli_init(&c, &running, &ops, NULL);
	CU_ASSERT_EQUAL(web_cli_register(&c, &none), 0);
	before = running;
	f = fmemopen(out_text, sizeof(out_text), "w");
	CU_ASSERT_EQUAL(cli_exec(&c, "callbridge disable", f), -EINVAL);
	CU_ASSERT_EQUAL(cli_exec(&c, "callbridge calls", f), -EINVAL);
	CU_ASSERT_EQUAL(cli_exec(&c, "webbridge3 connections", f), -EINVAL);
	CU_ASSERT_EQUAL(cli_exec(&c, "webadmin", f), 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "error: callbridge disable: not available here\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "error: callbridge calls: not available here\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out_text, "error: webbridge3 connections: not available here\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out_text, "STATUS                  : webadmin not running\n"));
	CU_ASSERT_EQUAL(memcmp(&before, &running, sizeof(before)), 0);
	CU_ASSERT_EQUAL(applies, 0);
}

static void test_users(void)
{
	char *text = NULL, hash[128];
	size_t len = 0;
	FILE *f;

	reset();
	ok("user list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "no users"));
	ok("user add admin admin Cisco.123x");
	CU_ASSERT_EQUAL(running.n_admins, 1);
	CU_ASSERT_STRING_EQUAL(running.admins[0].role, "admin");
	CU_ASSERT_EQUAL(strncmp(running.admins[0].hash, "$y$", 3), 0); /* yescrypt */
	CU_ASSERT_PTR_NULL(strstr(running.admins[0].hash, "Cisco.123x"));
	CU_ASSERT_EQUAL(cfg_admin_check(&running, "admin", "Cisco.123x"), 0);
	CU_ASSERT_EQUAL(cfg_admin_check(&running, "admin", "Cisco.123"), -EACCES);
	CU_ASSERT_EQUAL(cfg_admin_check(&running, "admin", ""), -EACCES);
	CU_ASSERT_EQUAL(cfg_admin_check(&running, "nobody", "Cisco.123x"), -EACCES);
	ok("user add api_1 api s3cret-api");
	ok("user add auditor audit 12345678");
	ok("user list");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "admin                            admin\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "api_1                            api\n"));
	CU_ASSERT_PTR_NULL(strstr(out_text, "$y$"));
	/* a new password replaces the old one */
	snprintf(hash, sizeof(hash), "%s", running.admins[1].hash);
	ok("user passwd api_1 n3w-secret");
	CU_ASSERT_STRING_NOT_EQUAL(running.admins[1].hash, hash);
	CU_ASSERT_EQUAL(cfg_admin_check(&running, "api_1", "n3w-secret"), 0);
	CU_ASSERT_EQUAL(cfg_admin_check(&running, "api_1", "s3cret-api"), -EACCES);
	/* refusals */
	refused("user add Bob api password1", "'Bob'");
	refused("user add 1bob api password1", "'1bob'");
	refused("user add bob root password1", "'root'");
	refused("user add bob api short", "password too short: at least 8 characters");
	refused("user add bob api", "no password");
	refused("user add admin api password1", "'admin': already a user");
	refused("user passwd nobody password1", "'nobody': no such user");
	refused("user passwd api_1 short", "too short");
	refused("user passwd api_1", "no password");
	refused("user del nobody", "'nobody'");
	refused("user del admin", "'admin': the last admin user cannot be deleted");
	refused("user add bob api password1 extra", "too many words");
	refused("user frob", "'frob'");
	/* the passwords never reach the log */
	f = open_memstream(&text, &len);
	edge_log_dump(f, 10);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "user add admin admin ********"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "user passwd api_1 ********"));
	CU_ASSERT_PTR_NULL(strstr(text, "Cisco.123x"));
	CU_ASSERT_PTR_NULL(strstr(text, "n3w-secret"));
	free(text);
	/* with a second admin, the first may go */
	ok("user del auditor");
	ok("user add root admin password2");
	ok("user del admin");
	CU_ASSERT_EQUAL(running.n_admins, 2);
	CU_ASSERT_EQUAL(cfg_admin_check(&running, "admin", "Cisco.123x"), -EACCES);
	CU_ASSERT_EQUAL(cfg_admin_check(&running, "root", "password2"), 0);
	/* users exist on every role */
	running.role = EDGE_ROLE_EDGE;
	ok("user add ops appadmin password3");
}

static void test_web_help(void)
{
	reset();
	ok("help");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "webbridge3 [<setting> ...]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "callbridge [<setting> ...]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "webadmin [<setting> ...]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "user [list"));
	ok("help webbridge3");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "webbridge3 https listen <if>:<port>"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out_text, "webbridge3 meetingapps add <host> <port> <secret>"));
	CU_ASSERT_PTR_NULL(strstr(out_text, "callbridge listen"));
	ok("help callbridge");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "callbridge wc3jwt expiry <1-24>"));
	ok("help webadmin");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "webadmin listen <if> <port>"));
	ok("help user");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "user passwd <name> [<password>]"));
}

/* `metrics [json]` writes the registry; anything else is refused; no registry: unavailable. */
static void test_metrics_command(void)
{
	static struct cli c;
	FILE *f;

	reset();
	ok("metrics");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"# HELP edge_x_total x\n# TYPE edge_x_total "
		"counter\nedge_x_total 7\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out_text, "edge_interface_rx_packets_total{interface=\"b\"} 22\n"));
	ok("metrics json");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "{\"families\":[{\"name\":\"edge_x_total\""));
	refused("metrics xml", "xml");
	refused("metrics json extra", "extra");
	cli_init(&c, &running, &ops, NULL);
	CU_ASSERT_EQUAL(obs_cli_register(&c, &obs_ops), 0);
	memset(out_text, 0, sizeof(out_text));
	f = fmemopen(out_text, sizeof(out_text), "w");
	CU_ASSERT_EQUAL(cli_exec(&c, "metrics", f), -EINVAL);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(out_text, "error: metrics: not available here\n");
}

/* `--json <page> [<arg>]`: the counters behind the page, filtered by its argument. */
static void test_json_pages(void)
{
	reset();
	ok("--json iface");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "\"name\":\"edge_interface_rx_packets_total\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "{\"interface\":\"a\"},\"value\":11"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "{\"interface\":\"b\"},\"value\":22"));
	CU_ASSERT_PTR_NULL(strstr(out_text, "edge_x_total")); /* not the page's */
	ok("--json iface b");
	CU_ASSERT_PTR_NULL(strstr(out_text, "\"a\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "{\"interface\":\"b\"},\"value\":22"));
	ok("--json metrics");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "edge_x_total"));
	ok("--json turn"); /* a page whose component has no counters yet: an empty list */
	CU_ASSERT_STRING_EQUAL(out_text, "{\"families\":[]}\n");
	refused("--json iface z", "'z'");
	refused("--json iface a b", "'b'");
	refused("--json arp", "'arp'");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "no JSON form"));
	refused("--json nosuch", "'nosuch'");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "pages with one: iface status firewall turn "));
	refused("--json", "missing command");
	refused("--json turn extra", "'extra'");
}

/* Components register commands; a name is registered once, the table is bounded. */
static void test_register(void)
{
	static struct cli c;
	static const struct cli_command dup = { "turn", "turn", "again", NULL, NULL, NULL, NULL,
		NULL };
	struct cli_command cmd = { "x", "x", "x", NULL, NULL, NULL, NULL, NULL };
	char names[CLI_MAX_COMMANDS][8];
	int r = 0;

	reset();
	CU_ASSERT_EQUAL(cli_register(&cli, &dup), -EINVAL); /* no run */
	cmd.run = cli.cmds[0].run;
	cmd.name = "turn";
	CU_ASSERT_EQUAL(cli_register(&cli, &cmd), -EEXIST);
	cli_init(&c, &running, &ops, NULL);
	for (int i = 0; i < CLI_MAX_COMMANDS && r == 0; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		cmd.name = names[i];
		r = cli_register(&c, &cmd);
	}
	CU_ASSERT_EQUAL(r, -ENOSPC);
	CU_ASSERT_EQUAL(c.n_cmds, CLI_MAX_COMMANDS);
	ok("help turn"); /* a component's own help follows its line */
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "turn [<setting> ...]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "turn credentials"));
}

/* `metrics listen|allow|certs|enable|disable` edit the endpoint's settings, each word checked;
 * `metrics status` shows them. */
static void test_metrics_endpoint(void)
{
	struct tc_lab lab;

	reset();
	CU_ASSERT_FATAL(tc_lab_make(&lab) == 0);
	snprintf(running.cert_dir, sizeof(running.cert_dir), "%s", lab.dir);
	refused("metrics enable", "metrics listen <if> <port> first");
	ok("metrics listen a 9100");
	CU_ASSERT_EQUAL(running.metrics.ifi, 0);
	CU_ASSERT_EQUAL(running.metrics.port, 9100);
	refused("metrics listen z 9100", "'z'");
	refused("metrics listen a 0", "'0'");
	refused("metrics listen a 70000", "'70000'");
	refused("metrics listen a", "missing words");
	ok("metrics allow add 198.18.20.0/24");
	ok("metrics allow add 198.18.30.7/32");
	refused("metrics allow add 198.18.20.9/24", "already allowed"); /* same network */
	refused("metrics allow add 198.18.20.0/33", "'198.18.20.0/33'");
	refused("metrics allow del 198.18.40.0/24", "not in the list");
	refused("metrics allow move 198.18.40.0/24", "move");
	ok("metrics allow del 198.18.30.7/32");
	CU_ASSERT_EQUAL(running.metrics.n_allow, 1);
	ok("metrics certs edge.key cmsedge-fullchain.cer");
	CU_ASSERT_STRING_EQUAL(out_text, "SUCCESS: Key and certificate pair match\n");
	refused("metrics certs edge.key ca.pem", "ca.pem"); /* not the key's certificate */
	CU_ASSERT_STRING_EQUAL(running.metrics.cert, "cmsedge-fullchain.cer");
	ok("metrics enable");
	CU_ASSERT(running.metrics.enabled);
	ok("metrics status");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"Enabled                 : true\n"
		"Listening interface     : a\nListening port          : 9100\n"
		"Protocol                : HTTPS\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Allowed scrapers        : 198.18.20.0/24\n"));
	/* a port another listener holds on that interface */
	ok("turn listen a");
	ok("turn enable");
	refused("metrics listen a 3478", "TURN listens there");
	ok("metrics certs none");
	CU_ASSERT_STRING_EQUAL(running.metrics.key, "");
	ok("metrics disable");
	refused("metrics frobnicate", "'frobnicate'");
	tc_lab_free(&lab);
}

/* `syslog server add|del`, `syslog ca`, `syslog enable|disable` (CMS-SPEC 1.8). */
static void test_syslog_commands(void)
{
	struct tc_lab lab;

	reset();
	CU_ASSERT_FATAL(tc_lab_make(&lab) == 0);
	snprintf(running.cert_dir, sizeof(running.cert_dir), "%s", lab.dir);
	page_is("syslog",
		"Enabled                 : false\nCA bundle               : none\n"
		"Servers                 : none\n");
	ok("syslog server add 198.18.20.2");
	CU_ASSERT_EQUAL(running.syslog.n_servers, 1);
	CU_ASSERT_EQUAL(running.syslog.servers[0].port, 514);
	CU_ASSERT_EQUAL(running.syslog.servers[0].transport, CFG_SYSLOG_UDP);
	ok("syslog server add 198.18.20.2:1514 tcp");
	refused("syslog server add 198.18.20.2:1514 tcp", "already a server");
	refused("syslog server add logs.example tls", "syslog ca <bundle> first");
	refused("syslog server add 198.18.20.2:0", "port must be 1..65535");
	refused("syslog server add 198.18.20.2:x", "port must be 1..65535");
	refused("syslog server add 198.18.20.2 sctp", "'sctp'");
	refused("syslog server add bad/name", "'bad/name'");
	refused("syslog ca nosuch.pem", "nosuch.pem");
	ok("syslog ca ca.pem");
	ok("syslog server add logs.example tls");
	CU_ASSERT_EQUAL(running.syslog.servers[2].port, 6514);
	ok("syslog server add [2001:db8::5]:6000 udp");
	CU_ASSERT_STRING_EQUAL(running.syslog.servers[3].host, "2001:db8::5");
	refused("syslog server add 198.18.20.9", "at most 4 servers");
	refused("syslog ca none", "uses TLS");
	ok("syslog enable");
	ok("syslog");
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out_text, "Server                  : 198.18.20.2:1514 tcp\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out_text, "Server                  : logs.example:6514 tls\n"));
	ok("syslog server del 198.18.20.2:1514"); /* that one */
	CU_ASSERT_EQUAL(running.syslog.n_servers, 3);
	ok("syslog server del logs.example");
	refused("syslog server del logs.example", "no such server");
	ok("syslog server del 198.18.20.2"); /* every server on the host */
	CU_ASSERT_EQUAL(running.syslog.n_servers, 1);
	refused("syslog enable now", "'now'");
	ok("syslog disable");
	CU_ASSERT(!running.syslog.enabled);
	tc_lab_free(&lab);
}

/* --- ipv6 (issue 18) --- */

static int fake_if_mac(void *ctx, int ifi, uint8_t mac[6])
{
	static const uint8_t macs[2][6] = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
		{ 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 } };

	(void)ctx;
	if (ifi < 0 || ifi > 1)
		return -ENOENT;
	memcpy(mac, macs[ifi], 6);
	return 0;
}

static const struct cli_ops mac_ops = { .apply = fake_apply, .if_mac = fake_if_mac };

static void v6(const char *s, uint8_t out[16])
{
	CU_ASSERT_EQUAL_FATAL(cfg_parse_ipv6(s, out), 0);
}

/* add, del, route add and del, and the page: live (applied once each) like ipv4 */
static void test_ipv6_commands(void)
{
	const char *page =
		"Interface               : a\n"
		"Address                 : 2001:db8:20::1/64\n"
		"Gateway                 : 2001:db8:20::2\n"
		"Address                 : 2001:db8:21::1/128\n"
		"Gateway                 : none\n"
		"Route                   : 2001:db8:99::/48 via 2001:db8:20::2\n"
		"Link-local              : fe80::/64 from the MAC (derived at run time)\n"
		"SLAAC                   : off (addresses are configured)\n";
	uint8_t want[16];

	reset();
	CU_ASSERT_EQUAL(run("ipv6 a"), 0);
	CU_ASSERT_STRING_EQUAL(out_text,
		"Interface               : a\n"
		"Address                 : none\n"
		"Link-local              : none (no IPv6 address configured)\n"
		"SLAAC                   : off (addresses are configured)\n");
	ok("ipv6 a add 2001:DB8:20:0::1/64 2001:db8:20::2");
	ok("ipv6 a add 2001:db8:21::1/128"); /* gateway optional */
	ok("ipv6 a route add 2001:db8:99::/48 2001:db8:20::2");
	CU_ASSERT_EQUAL(applies, 3);
	CU_ASSERT_EQUAL_FATAL(running.ifs[0].n_addrs6, 2);
	v6("2001:db8:20::1", want);
	CU_ASSERT_EQUAL(memcmp(running.ifs[0].addrs6[0].addr, want, 16), 0);
	CU_ASSERT_EQUAL(running.ifs[0].addrs6[0].prefix, 64);
	v6("2001:db8:20::2", want);
	CU_ASSERT_EQUAL(memcmp(running.ifs[0].addrs6[0].gateway, want, 16), 0);
	CU_ASSERT_EQUAL(running.ifs[0].addrs6[1].prefix, 128);
	CU_ASSERT_EQUAL(running.ifs[0].n_routes6, 1);
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs, 0); /* IPv4 untouched */
	CU_ASSERT_EQUAL(running.ifs[1].n_addrs6, 0);
	CU_ASSERT_EQUAL(run("ipv6 a"), 0);
	if (strcmp(out_text, page))
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s", out_text, page);
	CU_ASSERT_STRING_EQUAL(out_text, page);
	/* a link-local gateway for an address and for a route */
	ok("ipv6 b add 2001:db8:30::1/64 fe80::1");
	ok("ipv6 b route add 2001:db8:98::/48 fe80::1");
	ok("ipv6 b route add ::/0 fe80::1");
	CU_ASSERT_EQUAL(running.ifs[1].n_routes6, 2);
	CU_ASSERT_EQUAL(run("ipv6 b"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Gateway                 : fe80::1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Route                   : ::/0 via fe80::1\n"));
	/* removal, with or without the prefix */
	ok("ipv6 a route del 2001:db8:99::/48");
	CU_ASSERT_EQUAL(running.ifs[0].n_routes6, 0);
	ok("ipv6 a del 2001:db8:20::1");
	ok("ipv6 a del 2001:db8:21::1/128");
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs6, 0);
	ok("ipv6 b route del ::/0");
	ok("ipv6 b route del 2001:db8:98::/48");
	ok("ipv6 b del 2001:db8:30::1");
	CU_ASSERT_EQUAL(running.ifs[1].n_addrs6, 0);
	CU_ASSERT_EQUAL(applies, 12);
	/* tabs and extra spaces are only separators */
	ok("  ipv6\ta   add 2001:db8:20::1/64  ");
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs6, 1);
	/* help lists it beside ipv4 */
	ok("help");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "ipv6 <if> [add <addr>/<prefix> [<gateway>]"));
	ok("help ipv6");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "no SLAAC"));
}

/* With the appliance's MAC hook the page shows the interface's own link-local address. */
static void test_ipv6_link_local_page(void)
{
	reset();
	cli_init(&cli, &running, &mac_ops, NULL);
	ok("ipv6 b");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "Link-local              : none"));
	ok("ipv6 b add 2001:db8:30::1/64");
	ok("ipv6 b");
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text,
		"Link-local              : fe80::5054:ff:fe12:3457/64 "
		"(from MAC 52:54:00:12:34:57)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "SLAAC                   : off"));
}

/* Every bad word is named; the configuration stays as it was, nothing is applied. */
static void test_ipv6_refusals(void)
{
	reset();
	ok("ipv6 a add 2001:db8:20::1/64 2001:db8:20::2");
	ok("ipv6 a route add 2001:db8:99::/48 2001:db8:20::2");
	refused("ipv6", "ipv6: missing interface");
	refused("ipv6 z add 2001:db8:20::9/64", "ipv6: 'z': no such interface");
	refused("ipv6 a add 2001:db8::1/129",
		"ipv6 a add: '2001:db8::1/129': prefix must be 1..128");
	refused("ipv6 a add 2001:db8::1/0", "ipv6 a add: '2001:db8::1/0': prefix must be 1..128");
	refused("ipv6 a add 2001:db8::1", "ipv6 a add: '2001:db8::1': expected <address>/<prefix>");
	refused("ipv6 a add 2001:db8::g/64", "'2001:db8::g/64'");
	refused("ipv6 a add 198.18.10.1/24", "'198.18.10.1/24'");
	refused("ipv6 a add 2001:db8:20::9/64 gw",
		"ipv6 a add: gateway 'gw' is not an IPv6 address");
	refused("ipv6 a add 2001:db8:20::9/64 2001:db8:20::2 extra", "'extra': unexpected word");
	refused("ipv6 a add", "ipv6 a add: missing");
	refused("ipv6 a add 2001:db8:20::1/64",
		"'2001:db8:20::1' is already configured on interface a");
	refused("ipv6 b add 2001:db8:20::1/48", "already configured on interface a");
	refused("ipv6 a add ff02::1/64", "'ff02::1' is a multicast address");
	refused("ipv6 a add ::/64", "'::' is the unspecified address");
	refused("ipv6 a add ::1/128", "'::1' is the loopback address");
	refused("ipv6 a add fe80::1/64", "'fe80::1' is link-local");
	refused("ipv6 a add ::ffff:198.18.10.1/120", "IPv4-mapped");
	refused("ipv6 a add 2001:db8:21::1/64 2001:db8:20::2",
		"gateway '2001:db8:20::2' is neither inside 2001:db8:21::1/64 nor link-local");
	refused("ipv6 a add 2001:db8:21::1/64 2001:db8:21::1", "is the address itself");
	refused("ipv6 a del 2001:db8:29::1", "'2001:db8:29::1' is not configured on interface a");
	refused("ipv6 a del nonsense", "ipv6 a del: 'nonsense': not an IPv6 address");
	refused("ipv6 a del", "missing <address>");
	refused("ipv6 a del 2001:db8:20::1 x", "too many words");
	refused("ipv6 a del 2001:db8:20::1", "route 2001:db8:99::/48 via 2001:db8:20::2");
	refused("ipv6 a default", "ipv6 a: 'default': expected add, del or route");
	refused("ipv6 a route", "missing add or del");
	refused("ipv6 a route change 2001:db8:99::/48", "'change'");
	refused("ipv6 a route add 2001:db8:98::/48", "missing <net>/<prefix> <gateway>");
	refused("ipv6 a route add 2001:db8:98::/48 2001:db8:20::2 x", "'x': unexpected word");
	refused("ipv6 a route add 2001:db8:98::/129 2001:db8:20::2",
		"ipv6 a route add: '2001:db8:98::/129': prefix must be 0..128");
	refused("ipv6 a route add 2001:db8:98:: 2001:db8:20::2", "'2001:db8:98::': expected");
	refused("ipv6 a route add 2001:db8:98::/48 gw", "gateway 'gw' is not an IPv6 address");
	refused("ipv6 a route add 2001:db8:98::1/48 2001:db8:20::2",
		"'2001:db8:98::1/48' has host bits set: the network is 2001:db8:98::/48");
	refused("ipv6 a route add 2001:db8:98::/48 2001:db8:21::2",
		"gateway '2001:db8:21::2' is neither on a prefix of interface a nor link-local");
	refused("ipv6 a route add 2001:db8:98::/48 2001:db8:20::1",
		"is an address of this appliance");
	refused("ipv6 a route add 2001:db8:99::/48 2001:db8:20::3",
		"is already routed on interface a");
	refused("ipv6 b route add 2001:db8:98::/48 fe80::1", "interface b has no IPv6 address");
	refused("ipv6 a route del 2001:db8:98::/48", "no route to 2001:db8:98::/48 on interface a");
	refused("ipv6 a route del 2001:db8:99::/47", "no route to 2001:db8:99::/47");
	refused("ipv6 a route del", "missing <net>/<prefix>");
	/* eight addresses is the most an interface takes */
	for (int i = 1; i < EDGE_MAX_ADDRS; i++) {
		char line[64];

		snprintf(line, sizeof(line), "ipv6 a add 2001:db8:%d::1/64", 40 + i);
		ok(line);
	}
	refused("ipv6 a add 2001:db8:50::1/64", "already has 8 addresses");
	/* a failed apply changes nothing either */
	fail_apply = 1;
	refused("ipv6 b add 2001:db8:30::1/64", "disk full");
	CU_ASSERT_EQUAL(running.ifs[1].n_addrs6, 0);
}

/* What the commands did is what the file holds: saved, loaded back the same, and the text in
 * the file is the shape, canonical. */
static void test_ipv6_persisted(void)
{
	char tmp[] = "/tmp/edge-cli6-XXXXXX", err[256] = "", text[8192];
	struct edge_cfg back;
	int fd = mkstemp(tmp);
	FILE *f;
	size_t n;

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	reset();
	snprintf(running.ifs[0].port, sizeof(running.ifs[0].port), "net_ring0");
	snprintf(running.ifs[1].port, sizeof(running.ifs[1].port), "net_ring1");
	ok("ipv4 a add 198.18.10.1/24 198.18.10.2");
	ok("ipv6 a add 2001:db8:20::1/64 2001:db8:20::2");
	ok("ipv6 a add 2001:db8:21::1/64");
	ok("ipv6 a route add 2001:db8:99::/48 2001:db8:20::2");
	ok("ipv6 b add 2001:db8:30::1/64 fe80::1");
	ok("ipv6 a del 2001:db8:21::1");
	CU_ASSERT_EQUAL_FATAL(cfg_save(tmp, &running, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &back, err, sizeof(err)), 0);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(back.ifs[i].n_addrs6, running.ifs[i].n_addrs6);
		CU_ASSERT_EQUAL(back.ifs[i].n_routes6, running.ifs[i].n_routes6);
		CU_ASSERT_EQUAL(memcmp(back.ifs[i].addrs6, running.ifs[i].addrs6,
					sizeof(back.ifs[i].addrs6)),
			0);
		CU_ASSERT_EQUAL(memcmp(back.ifs[i].routes6, running.ifs[i].routes6,
					sizeof(back.ifs[i].routes6)),
			0);
	}
	CU_ASSERT_EQUAL(back.ifs[0].n_addrs6, 1);
	CU_ASSERT_EQUAL(back.ifs[0].n_addrs, 1);
	f = fopen(tmp, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "address = \"2001:db8:20::1/64\";"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "net = \"2001:db8:99::/48\";"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "gateway = \"fe80::1\";"));
	CU_ASSERT_PTR_NULL(strstr(text, "2001:db8:21::1"));
	unlink(tmp);
}

static const struct unit_test tests[] = {
	{ "the guide's ipv4 commands", test_guide_commands },
	{ "add and del addresses", test_add_del },
	{ "default route needs a gateway", test_default_follows_gateway },
	{ "malformed commands are refused and change nothing", test_refusals },
	{ "static routes", test_routes },
	{ "a failed apply changes nothing", test_apply_failure_changes_nothing },
	{ "ipv6: add, del, routes and the page", test_ipv6_commands },
	{ "ipv6: the page's link-local address from the appliance's MAC",
		test_ipv6_link_local_page },
	{ "ipv6: malformed commands are refused and change nothing", test_ipv6_refusals },
	{ "ipv6: what the commands did is what the file holds", test_ipv6_persisted },
	{ "help, empty lines, long lines", test_misc },
	{ "turn: the guide's commands and its status page, field for field", test_turn_guide },
	{ "turn: every setting", test_turn_settings },
	{ "turn certs: only a matching pair, valid now", test_turn_certs },
	{ "turn: malformed settings are refused and change nothing", test_turn_refusals },
	{ "turn peers: IPv6 prefixes, listed, refused by name", test_turn_peers6 },
	{ "turn: the page shows the peer policy in its order, and the guests' peers",
		test_turn_peer_page },
	{ "turn: no password or secret in a log line", test_turn_log_hides_secrets },
	{ "firewall: the guide's commands, rules, refusals", test_firewall_commands },
	{ "webbridge3: the guide's commands, its page byte for byte", test_webbridge3_guide },
	{ "webbridge3: bad interfaces, ports, clashes, files refused", test_webbridge3_refusals },
	{ "callbridge: the guide's commands, its status page, every setting", test_callbridge },
	{ "webadmin: commands, status page, clashes", test_webadmin },
	{ "web components without the appliance's ops", test_web_ops_missing },
	{ "user: add, del, passwd, and cfg_admin_check", test_users },
	{ "help lists the web components' commands", test_web_help },
	{ "--json pages from the registry", test_json_pages },
	{ "components register their commands", test_register },
	{ "metrics endpoint settings", test_metrics_endpoint },
	{ "syslog servers", test_syslog_commands },
	{ "metrics: text, json, refusals, no op", test_metrics_command },
	{ NULL, NULL },
};

int main(void)
{
	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_ERR); /* keep lines for `log`, print none */
	return unit_run("cli", tests);
}
