/* The CLI grammar: each command changes what it says and nothing else; each malformed
 * command is refused with a message naming the bad word, and changes nothing. */
#include "unit.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "edge_log.h"
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

static const struct cli_ops ops = { .apply = fake_apply, .iface = fake_iface };
static struct cli cli = { .cfg = &running, .ops = &ops };

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
	cfg_defaults(&running);
	running.n_ifs = 2;
	snprintf(running.ifs[0].name, sizeof(running.ifs[0].name), "a");
	snprintf(running.ifs[1].name, sizeof(running.ifs[1].name), "b");
	applies = 0;
	fail_apply = 0;
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
	CU_ASSERT_EQUAL(run("ipv4 a add 198.18.11.1/24"), 0);	/* gateway optional */
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs, 2);
	CU_ASSERT_EQUAL(run("ipv4 a del 198.18.10.1"), 0);
	CU_ASSERT_EQUAL(running.ifs[0].n_addrs, 1);
	CU_ASSERT_EQUAL(running.ifs[0].addrs[0].addr, inet_addr("198.18.11.1"));
	CU_ASSERT_EQUAL(run("ipv4 a del 198.18.11.1/24"), 0);	/* with its prefix too */
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
	CU_ASSERT_EQUAL(running.default_if, -1);	/* no gateway left: no default route */
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
	const char *page =
		"Enabled                 : true\n"
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
	const struct tc_spec old = { .cn = "edge.lab.example", .not_before = "20190101000000Z",
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
	refused("turn certs other.key edge.cer", "other.key does not match the certificate in "
		"edge.cer");
	refused("turn certs edge.key expired.cer", "expired.cer: certificate expired on "
		"2020-01-01 00:00:00 UTC");
	refused("turn certs garbage.key edge.cer", "garbage.key: not a private key (PEM)");
	refused("turn certs edge.cer edge.key", "edge.cer: not a private key");
	refused("turn certs edge.key edge.cer garbage.key", "garbage.key: not a certificate (PEM)");
	refused("turn certs edge.key edge.cer nobundle.pem", "'nobundle.pem': cannot read");
	CU_ASSERT_PTR_NULL(strstr(out_text, "SUCCESS"));
	CU_ASSERT_STRING_EQUAL(running.turn.tls_key, "edge.key");	/* as before */
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
	CU_ASSERT_EQUAL(run("turn credentials alice n3w example.org"), 0);	/* changes alice */
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
	CU_ASSERT_EQUAL(running.turn.denied[0].addr, inet_addr("198.18.0.0"));	/* host bits cleared */
	CU_ASSERT_EQUAL(running.turn.denied[0].len, 16);
	CU_ASSERT_EQUAL(run("turn peers allow 198.18.200.0/24"), 0);
	CU_ASSERT_EQUAL(run("turn peers delete deny 198.18.0.0/16"), 0);
	CU_ASSERT_EQUAL(running.turn.n_denied, 0);
	CU_ASSERT_EQUAL(run("turn enable"), 0);
	CU_ASSERT_EQUAL(run("turn disable"), 0);
	CU_ASSERT_FALSE(running.turn.enabled);
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
	CU_ASSERT_FALSE(running.ifs[1].fw.enabled);	/* b untouched */
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
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "TURN port BLOCKED, relay ports BLOCKED, TCP port BLOCKED, "
		"TLS port BLOCKED"));
	CU_ASSERT_EQUAL(run("firewall a allow 447/tcp"), 0);
	CU_ASSERT_EQUAL(run("turn"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "TCP port BLOCKED, TLS port allowed"));
	CU_ASSERT_EQUAL(run("firewall a allow 3478"), 0);	/* both protocols */
	CU_ASSERT_EQUAL(run("turn"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "TURN port allowed, relay ports BLOCKED, TCP port allowed"));
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
	CU_ASSERT_EQUAL(run("status"), -EINVAL);	/* no status op in this harness */
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	CU_ASSERT_EQUAL(run(long_line), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(out_text, "too long"));
}

static const struct unit_test tests[] = {
	{ "the guide's ipv4 commands", test_guide_commands },
	{ "add and del addresses", test_add_del },
	{ "default route needs a gateway", test_default_follows_gateway },
	{ "malformed commands are refused and change nothing", test_refusals },
	{ "a failed apply changes nothing", test_apply_failure_changes_nothing },
	{ "help, empty lines, long lines", test_misc },
	{ "turn: the guide's commands and its status page, field for field", test_turn_guide },
	{ "turn: every setting", test_turn_settings },
	{ "turn certs: only a matching pair, valid now", test_turn_certs },
	{ "turn: malformed settings are refused and change nothing", test_turn_refusals },
	{ "turn: no password or secret in a log line", test_turn_log_hides_secrets },
	{ "firewall: the guide's commands, rules, refusals", test_firewall_commands },
	{ NULL, NULL },
};

int main(void)
{
	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_ERR);	/* keep lines for `log`, print none */
	return unit_run("cli", tests);
}
