/* Configuration: the lab's and the guide's files load as written, a save reloads to the
 * same model, and every malformed file is refused with its line and the bad value named. */
#include "unit.h"
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "edge_config.h"

static char path_buf[512];

static const char *src(const char *rel)
{
	const char *root = getenv("EDGE_SRCDIR");

	snprintf(path_buf, sizeof(path_buf), "%s/%s", root ? root : EDGE_SRCDIR, rel);
	return path_buf;
}

static uint32_t ip(const char *s)
{
	return inet_addr(s);
}

static void test_lab_conf(void)
{
	struct edge_cfg c;
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(cfg_load(src("config/lab.conf"), &c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.n_ifs, 2);
	CU_ASSERT_STRING_EQUAL(c.ifs[0].name, "a");
	CU_ASSERT_STRING_EQUAL(c.ifs[1].name, "b");
	CU_ASSERT_STRING_EQUAL(c.ifs[0].port, "net_af_packet0,iface=veth-a,qpairs=1");
	CU_ASSERT_STRING_EQUAL(c.ifs[1].tap, "edge-b");
	CU_ASSERT_EQUAL(c.ifs[0].n_addrs, 1);
	CU_ASSERT_EQUAL(c.ifs[0].addrs[0].addr, ip("198.18.10.1"));
	CU_ASSERT_EQUAL(c.ifs[0].addrs[0].prefix, 24);
	CU_ASSERT_EQUAL(c.ifs[1].addrs[0].gateway, ip("198.18.20.2"));
	CU_ASSERT_EQUAL(c.default_if, 1);
	CU_ASSERT_FALSE(c.hugepages);
	CU_ASSERT_STRING_EQUAL(c.cores, "0,1");
	CU_ASSERT_EQUAL(c.log_target, LOG_TARGET_FILE);
	CU_ASSERT_STRING_EQUAL(c.ctl_socket, "/run/edge-lab/edged.sock");
	CU_ASSERT_STRING_EQUAL(c.ctl_group, ""); /* no mgmt.socket_group: root only */
}

static void test_guide_conf(void)
{
	struct edge_cfg c;
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(cfg_load(src("config/cms-edge.conf"), &c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.n_ifs, 2);
	/* the guide's "ipv4 <if> add <addr>/<prefix> <gateway>" lines, quoted in the file's
	 * header, are the addressing it loads (the addresses stay in the example file, which
	 * nothing sends to) */
	{
		FILE *f = fopen(src("config/cms-edge.conf"), "r");
		char line[256], name[8], pfx[32], gw[32];
		int quoted = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		while (fgets(line, sizeof(line), f) && line[0] == '#')
			for (char *q = strstr(line, "\"ipv4 "); q; q = strstr(q + 1, "\"ipv4 ")) {
				uint32_t a, g;
				uint8_t len;
				int ifi;

				if (sscanf(q, "\"ipv4 %7s add %31s %31[0-9.]", name, pfx, gw) != 3)
					continue;
				ifi = cfg_iface_find(&c, name);
				CU_ASSERT_FATAL(ifi >= 0);
				CU_ASSERT_EQUAL(cfg_parse_prefix(pfx, &a, &len), 0);
				CU_ASSERT_EQUAL(cfg_parse_ipv4(gw, &g), 0);
				CU_ASSERT_EQUAL(c.ifs[ifi].addrs[0].addr, a);
				CU_ASSERT_EQUAL(c.ifs[ifi].addrs[0].prefix, len);
				CU_ASSERT_EQUAL(c.ifs[ifi].addrs[0].gateway, g);
				quoted++;
			}
		fclose(f);
		CU_ASSERT_EQUAL(quoted, 2);
	}
	/* ipv4 b default */
	CU_ASSERT_EQUAL(c.default_if, 1);
	CU_ASSERT_TRUE(c.hugepages);
	CU_ASSERT_STRING_EQUAL(c.ifs[0].port, "0000:03:00.0");
	CU_ASSERT_STRING_EQUAL(c.ifs[0].tap, "edge-a"); /* defaulted */
	CU_ASSERT_EQUAL(c.log_target, LOG_TARGET_SYSLOG);
	/* the turn lines of the guide */
	CU_ASSERT_TRUE(c.turn.enabled);
	CU_ASSERT_EQUAL(c.turn.n_users, 1);
	CU_ASSERT_STRING_EQUAL(c.turn.users[0].name, "admin");
	CU_ASSERT_STRING_EQUAL(c.turn.users[0].password, "Cisco.123");
	CU_ASSERT_STRING_EQUAL(c.turn.realm, "cms.demo");
	CU_ASSERT_EQUAL(c.turn.tls_port, 447);
	CU_ASSERT_STRING_EQUAL(c.turn.tls_key, "edge.key");
	CU_ASSERT_STRING_EQUAL(c.turn.tls_cert, "cmsedge-fullchain.cer");
	CU_ASSERT_EQUAL(c.turn.listen_mask, 3);
	CU_ASSERT_EQUAL(cfg_turn_relay_if(&c.turn), 0); /* relay address: interface a's */
	CU_ASSERT_EQUAL(c.turn.port, 3478);
	CU_ASSERT_EQUAL(c.turn.public_ip, 0);
}

/* @a as lab.conf loads, and an empty temporary file named in @tmp ("...XXXXXX"). */
static void lab_and_tmp(struct edge_cfg *a, char *tmp)
{
	char err[256] = "";
	int fd = mkstemp(tmp);

	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(cfg_load(src("config/lab.conf"), a, err, sizeof(err)), 0);
}

/* A string field as a load leaves it: the value, then zeros. */
#define SET(field, value) (memset(field, 0, sizeof(field)), memcpy(field, value, strlen(value)))

static void test_save_roundtrip(void)
{
	struct edge_cfg a, b;
	char err[256] = "", tmp[] = "/tmp/edge-cfg-XXXXXX";

	lab_and_tmp(&a, tmp);
	CU_ASSERT_EQUAL(cfg_ipv4_add(&a, 0, ip("198.18.11.1"), 24, 0, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg_route_add(&a, 0, ip("198.18.30.0"), 24, ip("198.18.11.2"), err,
				sizeof(err)),
		0);
	CU_ASSERT_EQUAL(cfg_route_add(&a, 0, ip("198.18.32.0"), 20, ip("198.18.10.2"), err,
				sizeof(err)),
		0);
	a.turn.public_ip = ip("198.18.99.1");
	snprintf(a.ctl_group, sizeof(a.ctl_group), "edge-ops");
	a.turn.short_term = true;
	snprintf(a.turn.shared_secret, sizeof(a.turn.shared_secret), "s3cr3t-s3cr3t");
	a.turn.max_allocs = 5000;
	a.turn.bandwidth_kbps = 1500;
	a.turn.denied[a.turn.n_denied++] = (struct cfg_prefix){ ip("198.18.64.0"), 18 };
	a.metrics = (struct cfg_metrics){ .enabled = true,
		.ifi = 1,
		.port = 9443,
		.n_allow = 2,
		.allow = { { ip("198.18.20.0"), 24 }, { ip("198.18.30.7"), 32 } } };
	SET(a.metrics.key, "m.key");
	SET(a.metrics.cert, "m.crt");
	a.syslog.enabled = true;
	SET(a.syslog.ca, "ca.pem");
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("198.18.20.2", CFG_SYSLOG_UDP, &a.syslog.servers[0],
				err, sizeof(err)),
		0);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("[2001:db8::5]:6000", CFG_SYSLOG_TLS,
				&a.syslog.servers[1], err, sizeof(err)),
		0);
	a.syslog.n_servers = 2;
	{
		char w0[] = "deny", w1[] = "22", w2[] = "allow", w3[] = "3478/udp", w4[] = "from",
		     w5[] = "198.18.20.0/24", w6[] = "enable", w7[] = "default", w8[] = "deny";
		char *r1[] = { w0, w1 }, *r2[] = { w2, w3, w4, w5 }, *r3[] = { w6 },
		     *r4[] = { w7, w8 };

		CU_ASSERT_EQUAL(fw_cmd_apply(&a.ifs[1].fw, 2, r1, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(fw_cmd_apply(&a.ifs[1].fw, 4, r2, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(fw_cmd_apply(&a.ifs[1].fw, 1, r3, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(fw_cmd_apply(&a.ifs[1].fw, 2, r4, err, sizeof(err)), 0);
	}
	CU_ASSERT_EQUAL_FATAL(cfg_save(tmp, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &b, err, sizeof(err)), 0);
	/* the firewall comes back as the same rules (slots and serials are bookkeeping) */
	CU_ASSERT_TRUE(b.ifs[1].fw.enabled);
	CU_ASSERT_EQUAL(b.ifs[1].fw.default_action, FW_DENY);
	CU_ASSERT_EQUAL_FATAL(b.ifs[1].fw.n_rules, 2);
	for (int i = 0; i < 2; i++)
		CU_ASSERT_TRUE(fw_rule_same(&a.ifs[1].fw.rules[i], &b.ifs[1].fw.rules[i]));
	for (int i = 0; i < a.n_ifs; i++)
		memset(&a.ifs[i].fw, 0, sizeof(a.ifs[i].fw)),
			memset(&b.ifs[i].fw, 0, sizeof(b.ifs[i].fw));
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	CU_ASSERT_STRING_EQUAL(b.ctl_group, "edge-ops");
	CU_ASSERT_EQUAL(b.metrics.port, 9443);
	CU_ASSERT_STRING_EQUAL(b.syslog.servers[1].host, "2001:db8::5");
	CU_ASSERT_EQUAL(b.syslog.servers[1].port, 6000);
	CU_ASSERT_EQUAL(b.syslog.servers[1].transport, CFG_SYSLOG_TLS);
	CU_ASSERT_EQUAL(b.ifs[0].n_addrs, 2);
	CU_ASSERT_EQUAL(b.ifs[0].addrs[1].addr, ip("198.18.11.1"));
	CU_ASSERT_EQUAL(b.ifs[0].addrs[1].gateway, 0);
	CU_ASSERT_EQUAL(b.ifs[0].n_routes, 2);
	CU_ASSERT_EQUAL(b.ifs[0].routes[1].net, ip("198.18.32.0"));
	CU_ASSERT_EQUAL(b.ifs[0].routes[1].prefix, 20);
	unlink(tmp);
}

/* The web components, the role and the administrators go to the file and come back. */
static void test_web_roundtrip(void)
{
	struct edge_cfg a, b;
	char err[256] = "", tmp[] = "/tmp/edge-cfg-XXXXXX";

	lab_and_tmp(&a, tmp);
	a.role = EDGE_ROLE_EDGE;
	a.wb3.enabled = true;
	CU_ASSERT_EQUAL(cfg_parse_listen(&a, "a:445", &a.wb3.https[0]), 0);
	CU_ASSERT_EQUAL(cfg_parse_listen(&a, "b:445", &a.wb3.https[1]), 0);
	a.wb3.n_https = 2;
	CU_ASSERT_EQUAL(cfg_parse_listen(&a, "a:6000", &a.wb3.c2w[0]), 0);
	a.wb3.n_c2w = 1;
	SET(a.wb3.https_key, "edge.key");
	SET(a.wb3.https_cert, "cmsedge-fullchain.cer");
	SET(a.wb3.c2w_key, "edge.key");
	SET(a.wb3.c2w_cert, "cmsedge-fullchain.cer");
	SET(a.wb3.c2w_trust, "cmscore-fullchain.cer");
	SET(a.wb3.frame_ancestors, "https://intra.example 'self'");
	SET(a.wb3.meetingapps_host, "apps.example");
	a.wb3.meetingapps_port = 8443;
	SET(a.wb3.meetingapps_secret, "0123456789abcdef");
	a.wb3.audio_priority = false;
	a.wb3.http_redirect = true;
	SET(a.wb3.options, "beta1 beta2");
	SET(a.wb3.webapp_dir, "/usr/share/edge/webapp");
	a.cb.enabled = false;
	a.cb.listen_mask = 3;
	a.cb.prefer_if = 1;
	SET(a.cb.key, "core.key");
	SET(a.cb.cert, "cmscore-fullchain.cer");
	SET(a.cb.bundle, "ca.pem");
	SET(a.cb.address, "core.cms.demo");
	SET(a.cb.trust_c2w, "cmsedge-fullchain.cer");
	SET(a.cb.trust_cluster, "cluster.pem");
	SET(a.cb.trust_branding, "branding.pem");
	SET(a.cb.ucm_trust, "ucm.pem");
	SET(a.cb.imps_trust, "imps.pem");
	a.cb.ucm_verify = a.cb.imps_verify = true;
	a.cb.jwt_expiry_hours = 8;
	a.cb.simulcast = true;
	SET(a.cb.db_path, "/tmp/cb.db");
	a.cb.media[0] = (struct cfg_listen){ .ifi = 1, .port = 50000 };
	a.cb.n_media = 1;
	a.webadmin.enabled = true;
	a.webadmin.ifi = 0;
	a.webadmin.port = 8443;
	SET(a.webadmin.key, "core.key");
	SET(a.webadmin.cert, "cmscore-fullchain.cer");
	SET(a.webadmin.bundle, "ca.pem");
	a.webadmin.http_redirect = true;
	SET(a.admins[0].name, "admin");
	SET(a.admins[0].role, "admin");
	CU_ASSERT_EQUAL(cfg_admin_hash("Cisco.123", a.admins[0].hash, sizeof(a.admins[0].hash)), 0);
	SET(a.admins[1].name, "api_user");
	SET(a.admins[1].role, "api");
	CU_ASSERT_EQUAL(cfg_admin_hash("api-pass-1", a.admins[1].hash, sizeof(a.admins[1].hash)),
		0);
	a.n_admins = 2;
	CU_ASSERT_EQUAL(strncmp(a.admins[0].hash, "$y$", 3), 0);

	/* hashes and secrets in it: 0600 whatever the umask, over a file that was 0644 */
	{
		mode_t mask = umask(022);
		struct stat sb;

		CU_ASSERT_EQUAL(chmod(tmp, 0644), 0);
		CU_ASSERT_EQUAL_FATAL(cfg_save(tmp, &a, err, sizeof(err)), 0);
		umask(mask);
		CU_ASSERT_EQUAL(stat(tmp, &sb), 0);
		CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
	}
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(b.role, EDGE_ROLE_EDGE);
	CU_ASSERT_EQUAL(b.wb3.n_https, 2);
	CU_ASSERT_EQUAL(b.wb3.https[1].ifi, 1);
	CU_ASSERT_EQUAL(b.wb3.https[1].port, 445);
	CU_ASSERT_EQUAL(b.wb3.c2w[0].port, 6000);
	CU_ASSERT_EQUAL(b.cb.prefer_if, 1);
	CU_ASSERT_EQUAL(b.cb.n_media, 1);
	CU_ASSERT_EQUAL(b.cb.media[0].port, 50000);
	CU_ASSERT_TRUE(b.cb.simulcast);
	CU_ASSERT_EQUAL(b.webadmin.ifi, 0);
	CU_ASSERT_STRING_EQUAL(b.admins[1].name, "api_user");
	CU_ASSERT_EQUAL(cfg_admin_check(&b, "admin", "Cisco.123"), 0);
	CU_ASSERT_EQUAL(cfg_admin_check(&b, "api_user", "api-pass-1"), 0);
	CU_ASSERT_EQUAL(cfg_admin_check(&b, "admin", "api-pass-1"), -EACCES);
	CU_ASSERT_EQUAL(cfg_admin_check(&b, "nobody", "Cisco.123"), -EACCES);
	for (int i = 0; i < a.n_ifs; i++)
		memset(&a.ifs[i].fw, 0, sizeof(a.ifs[i].fw)),
			memset(&b.ifs[i].fw, 0, sizeof(b.ifs[i].fw));
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	/* and what is not set stays at its default: none, -1, 24 hours */
	cfg_defaults(&a);
	CU_ASSERT_EQUAL_FATAL(cfg_save(tmp, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	CU_ASSERT_EQUAL(b.cb.prefer_if, -1);
	CU_ASSERT_EQUAL(b.webadmin.ifi, -1);
	CU_ASSERT_EQUAL(b.cb.jwt_expiry_hours, 24);
	CU_ASSERT_FALSE(b.cb.simulcast);
	unlink(tmp);
}

/* Writes @text to a temporary file, loads it, and checks the error mentions @needle and not
 * @secret (NULL: none). */
static void refused_without(const char *text, const char *needle, const char *secret)
{
	char tmp[] = "/tmp/edge-cfg-XXXXXX", err[512] = "";
	struct edge_cfg c;
	int fd = mkstemp(tmp);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	CU_ASSERT_EQUAL(cfg_load(tmp, &c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle)) {
		fprintf(stderr, "\n  expected '%s' in: %s\n", needle, err);
		CU_FAIL("error message does not name the problem");
	}
	if (secret && strstr(err, secret)) {
		fprintf(stderr, "\n  '%s' shown in: %s\n", secret, err);
		CU_FAIL("error message shows a secret");
	}
	unlink(tmp);
}

static void refused(const char *text, const char *needle)
{
	refused_without(text, needle, NULL);
}

#define IF_A(v4) "interfaces = ( { name = \"a\"; port = \"net_ring0\"; ipv4 = ( " v4 " ); } );\n"

static void test_malformed(void)
{
	refused("eal: { cores = \"0,1\" \n", "syntax error");
	refused(IF_A("{ address = \"198.18.10.1/33\"; }"), "198.18.10.1/33");
	refused(IF_A("{ address = \"198.18.10.300/24\"; }"), "198.18.10.300/24");
	refused(IF_A("{ address = \"198.18.10.1/24\"; gateway = \"198.18.11.1\"; }"),
		"198.18.11.1");
	refused(IF_A("{ address = \"198.18.10.1/24\"; gateway = \"gw\"; }"), "'gw'");
	refused(IF_A("{ address = \"198.18.10.0/24\"; }"), "network or broadcast");
	refused(IF_A("{ address = \"198.18.10.1/24\"; }, { address = \"198.18.10.1/24\"; }"),
		"already configured");
	refused(IF_A("{ gateway = \"198.18.10.2\"; }"), "without 'address'");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; }, { name = \"a\"; port = \"x\"; } );",
		"defined twice");
	refused("interfaces = ( { name = \"z\"; port = \"net_ring0\"; } );", "'z'");
	refused("interfaces = ( { name = \"a\"; } );", "no port");
	refused(IF_A("") "ipv4_default = \"q\";\n", "'q'");
	refused("mgmt: { log = \"printer\"; };", "'printer'");
	refused("mgmt: { log = \"file\"; };", "log_file");
	refused("mgmt: { log_level = \"loud\"; };", "'loud'");
	refused("mgmt: { socket_group = \"adm;rm\"; };", "'adm;rm'");
	refused("mgmt: { socket_group = \"9adm\"; };", "'9adm'");
	refused("mgmt: { socket_group = 4; };", "'socket_group': expected a string");
	refused("dataplane: { burst = 500; };", "burst 500");
	refused("eal: { memory_mb = 1; };", "memory_mb 1");
	refused(IF_A("") "turn: { listen = [ \"z\" ]; };", "'z'");
	refused("turn: { relay_ports = \"10-20\"; };", "'10-20'");
	refused("turn: { port = 70000; };", "70000");
	refused("metrics: { enabled = true; };", "without 'listen'");
	refused(IF_A("") "metrics: { listen = \"a\"; port = 0; };", "port 0");
	refused(IF_A("") "metrics: { listen = \"a\"; allow = [ \"198.18.0.0/40\" ]; };",
		"'198.18.0.0/40'");
	refused(IF_A("") "metrics: { listen = \"a\"; key = \"k\"; };", "key and cert go together");
	refused("syslog: { servers = ( { port = 514; } ); };", "without 'host'");
	refused("syslog: { servers = ( { host = \"h\"; transport = \"sctp\"; } ); };", "'sctp'");
	refused("syslog: { servers = ( { host = \"h\"; port = 99999; } ); };", "99999");
	refused("syslog: { servers = ( { host = \"a b\"; } ); };", "'a b'");
	refused("turn: { public_ip = \"nat\"; };", "'nat'");
	refused("turn: { users = ( { name = \"x\"; } ); };", "name and a password");
	refused("turn: { denied_peers = [ \"198.18.0.0\" ]; };", "'198.18.0.0'");
	refused("turn: { lifetime_max = 5; };", "lifetime_max 5");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; firewall = { rules = [ \"deny 22x\" ]; }; } );",
		"'22x'");
	/* the web components: a bad value is named, with its line */
	refused("role = \"middle\";", "line 1: role 'middle'");
	refused(IF_A("") "webbridge3: {\n https_listen = [ \"z:445\" ]; };",
		"line 3: "
		"webbridge3.https_listen: 'z:445': no such interface");
	refused(IF_A("") "webbridge3: { c2w_listen = [ \"a:0\" ]; };",
		"'a:0': port must be 1..65535");
	refused(IF_A("") "webbridge3: { c2w_listen = [ \"a6000\" ]; };",
		"'a6000': expected <if>:<port>");
	refused(IF_A("") "webbridge3: { https_listen = [ \"a:1\", \"a:2\", \"a:3\", \"a:4\", "
			 "\"a:5\" ]; };",
		"more than 4 listeners");
	refused(IF_A("") "webbridge3: { https_listen = [ \"a:445\", \"a:445\" ]; };",
		"given twice");
	refused("webbridge3: { meetingapps_port = 65536; };",
		"meetingapps_port 65536: must be 0..65535");
	refused("\nwebbridge3: {\n https_key = \""
		"0123456789012345678901234567890123456789"
		"0123456789012345678901234567890123456789012345678901234567890123456789"
		"0123456789012345678901234567890\"; };",
		"'https_key' is longer than 127");
	refused(IF_A("") "callbridge: { media = [ \"a:50000\", \"a:50002\" ]; };",
		"one media port per interface (a twice)");
	refused("callbridge: {\n\n jwt_expiry_hours = 25; };",
		"line 3: callbridge.jwt_expiry_hours 25: "
		"must be 1..24");
	refused("callbridge: { jwt_expiry_hours = 0; };", "jwt_expiry_hours 0");
	refused(IF_A("") "callbridge: { listen = [ \"a\", \"q\" ]; };", "callbridge.listen: 'q'");
	refused(IF_A("") "callbridge: { prefer = \"q\"; };", "callbridge.prefer: 'q'");
	refused(IF_A("") "webadmin: { listen = \"q\"; };", "webadmin.listen: 'q'");
	refused("webadmin: { port = 0; };", "webadmin.port 0: must be 1..65535");
	refused("webadmin: { port = \"443\"; };", "webadmin.port: expected a number");
	refused("admins = ( { name = \"root\"; role = \"god\"; hash = \"$y$x\"; } );",
		"role 'god'");
	refused("admins = ( { name = \"Root\"; role = \"admin\"; hash = \"$y$x\"; } );", "'Root'");
	refused("admins = ( { name = \"root\"; role = \"admin\"; hash = \"secret\"; } );",
		"expected a crypt(3) hash");
	/* not a word of the hash: it may be a password typed in the wrong place */
	refused_without("admins = ( { name = \"root\"; role = \"admin\"; "
			"hash = \"Xq7secretpw\"; } );",
		"line 1: admins: root: hash: expected", "Xq7");
	/* a value of the wrong type is refused, not ignored */
	refused("webbridge3: {\n enabled = 1; };",
		"line 2: webbridge3.enabled: expected true or false");
	refused("callbridge: { ucm_verify = \"yes\"; };",
		"line 1: callbridge.ucm_verify: expected true or false");
	refused("callbridge: { simulcast = \"enable\"; };",
		"line 1: callbridge.simulcast: expected true or false");
	refused("\nwebadmin: { http_redirect = 0; };",
		"line 2: webadmin.http_redirect: expected true or false");
	refused(IF_A("") "webbridge3: {\n https_listen = \"a:445\"; };",
		"line 3: webbridge3.https_listen: expected a list");
	refused(IF_A("") "webbridge3: { c2w_listen = 6000; };",
		"webbridge3.c2w_listen: expected a list");
	refused(IF_A("") "webbridge3: { c2w_listen = ( \"a:6000\", 1 ); };", "expected strings");
	refused("admins = ( { name = \"root\"; role = \"admin\"; hash = \"$y$x\"; },\n"
		" { name = \"root\"; role = \"api\"; hash = \"$y$x\"; } );",
		"line 2: admins: 'root' is "
		"defined twice");
	/* ... in every section, the older ones too */
	refused("turn: {\n port = \"3478\"; };", "line 2: turn.port: expected a number");
	refused("turn: { enabled = \"yes\"; };", "turn.enabled: expected true or false");
	refused("turn: { short_term = 1; };", "turn.short_term: expected true or false");
	refused("turn: { max_allocations = \"many\"; };",
		"turn.max_allocations: expected a number");
	refused("turn: { max_allocations = -1; };",
		"turn.max_allocations -1: must be 0..100000000");
	refused("turn: { bandwidth_kbps = 4; };", "turn.bandwidth_kbps 4: must be 0 (none) or 8..");
	refused("turn: { idle_timeout = 1.5; };", "turn.idle_timeout: expected a number");
	refused("turn: { realm = 7; };", "'realm': expected a string");
	refused("turn: { public_ip = 1; };", "turn.public_ip: expected a string");
	refused("turn: { relay_ports = 49152; };", "turn.relay_ports: expected a string");
	refused("eal: { hugepages = \"no\"; };", "eal.hugepages: expected true or false");
	refused("eal: { memory_mb = \"512\"; };", "eal.memory_mb: expected a number");
	refused("dataplane: { arp_timeout = \"60\"; };",
		"dataplane.arp_timeout: expected a number");
	refused("mgmt: { log = 2; };", "mgmt.log: expected a string");
	refused("mgmt: { socket = 2; };", "'socket': expected a string");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; rx_queues = \"2\"; } );",
		"interface.rx_queues: expected a number");
	refused("interfaces = ( { name = 1; port = \"net_ring0\"; } );",
		"interface.name: expected a string");
	refused(IF_A("{ address = \"198.18.10.1/24\"; gateway = 0; }"),
		"ipv4.gateway: expected a string");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; firewall = { enabled = 1; }; } );",
		"firewall.enabled: expected true or false");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; firewall = { rules = \"deny 22\"; }; } );",
		"firewall.rules: expected a list");
	refused(IF_A("") "ipv4_default = 1;", "ipv4_default '?'");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; ipv4 = ( { address = "
		"\"198.18.10.1/24\"; } );\n routes = [ \"198.18.30.0/24 198.18.11.2\" ]; } );",
		"line 2: ipv4 route: gateway '198.18.11.2' is not on a subnet of interface a");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; ipv4 = ( { address = "
		"\"198.18.10.1/24\"; } ); routes = [ \"198.18.30.0/24\" ]; } );",
		"routes: '198.18.30.0/24': expected \"<net>/<prefix> <gateway>\"");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; routes = \"x\"; } );",
		"interface.routes: expected a list");
	refused(IF_A("") "turn: {\n listen = \"a\"; };", "line 3: turn.listen: expected a list");
	refused("turn: { users = { name = \"u\"; password = \"p\"; }; };",
		"turn.users: expected a list");
	refused("turn: { denied_peers = \"198.18.0.0/15\"; };",
		"turn.denied_peers: expected a list");
	refused(IF_A("") "callbridge: { listen = \"a\"; };", "callbridge.listen: expected a list");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; ipv4 = \"198.18.10.1/24\"; } );",
		"interface.ipv4: expected a list");
}

/* text in a new temporary file, whose name is left in tmp */
static void write_tmp(char *tmp, const char *text)
{
	int fd = mkstemp(tmp);
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* The format version: a file without one (written before it) is version 1 and loads; a save
 * writes it first and loads back the same; a newer one is refused naming the file and both
 * versions; one that is not a whole number is refused. */
static void test_format_version(void)
{
	char tmp[] = "/tmp/edge-cfg-XXXXXX", tmp2[] = "/tmp/edge-cfg-XXXXXX", err[512] = "",
	     want[640], text[256], line[256];
	struct edge_cfg a, b;
	FILE *f;

	/* lab.conf has no version: it loads, and its save starts with this build's */
	lab_and_tmp(&a, tmp);
	CU_ASSERT_EQUAL_FATAL(cfg_save(tmp, &a, err, sizeof(err)), 0);
	f = fopen(tmp, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof(line), f));
	fclose(f);
	snprintf(want, sizeof(want), "version = %d;\n", EDGE_CFG_FORMAT_VERSION);
	CU_ASSERT_STRING_EQUAL(line, want);
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	/* saved again: the same bytes (the version is not doubled, nothing drifts) */
	CU_ASSERT_EQUAL_FATAL(cfg_save(tmp2, &b, err, sizeof(err)), 0);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "cmp -s %s %s", tmp, tmp2);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
	unlink(tmp);
	unlink(tmp2);

	/* the same settings with version 1 spelled out, or not: the same model */
	memcpy(tmp, "/tmp/edge-cfg-XXXXXX", sizeof(tmp));
	write_tmp(tmp, "version = 1;\n" IF_A("{ address = \"198.18.10.1/24\"; }"));
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &a, err, sizeof(err)), 0);
	unlink(tmp);
	memcpy(tmp, "/tmp/edge-cfg-XXXXXX", sizeof(tmp));
	write_tmp(tmp, IF_A("{ address = \"198.18.10.1/24\"; }"));
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	CU_ASSERT_EQUAL(b.ifs[0].addrs[0].addr, ip("198.18.10.1"));
	unlink(tmp);

	/* newer: refused, the file and both versions named */
	memcpy(tmp, "/tmp/edge-cfg-XXXXXX", sizeof(tmp));
	snprintf(text, sizeof(text), "version = %d;\n" IF_A("{ address = \"198.18.10.1/24\"; }"),
		EDGE_CFG_FORMAT_VERSION + 1);
	write_tmp(tmp, text);
	CU_ASSERT_EQUAL(cfg_load(tmp, &a, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		"%s: configuration format version %d is newer than this build's %d", tmp,
		EDGE_CFG_FORMAT_VERSION + 1, EDGE_CFG_FORMAT_VERSION);
	CU_ASSERT_STRING_EQUAL(err, want);
	unlink(tmp);

	refused("version = 0;\n", "line 1: version must be a whole number, 1 or more");
	refused("\nversion = \"1\";\n", "line 2: version must be a whole number, 1 or more");
	refused("version = 1.5;\n", "version must be a whole number");
}

/* With no setting for them, the paths are the package's (FHS): the control socket under
 * /run/edge, the certificates and the callbridge's database under /var/lib/edge. */
static void test_default_paths(void)
{
	char tmp[] = "/tmp/edge-cfg-XXXXXX", err[256] = "";
	struct edge_cfg c;

	write_tmp(tmp, "");
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &c, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(c.ctl_socket, "/run/edge/edged.sock");
	CU_ASSERT_STRING_EQUAL(c.cert_dir, "/var/lib/edge/certs");
	CU_ASSERT_STRING_EQUAL(c.cb.db_path, "/var/lib/edge/callbridge.db");
	unlink(tmp);
}

static void test_missing_file(void)
{
	struct edge_cfg c;
	char err[256] = "";

	CU_ASSERT_EQUAL(cfg_load("/nonexistent/edged.conf", &c, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot read"));
}

static void test_parse_ipv4(void)
{
	uint32_t a;
	uint8_t p;

	CU_ASSERT_EQUAL(cfg_parse_ipv4("198.18.0.1", &a), 0);
	CU_ASSERT_EQUAL(a, ip("198.18.0.1"));
	CU_ASSERT_EQUAL(cfg_parse_ipv4("198.18.0", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_ipv4("198.18.0.1.5", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_ipv4("198.18.0.256", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_ipv4(" 198.18.0.1", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_ipv4("198.18.0.1 ", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_ipv4("+1.2.3.4", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_ipv4("", &a), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_prefix("198.18.0.1/0", &a, &p), 0);
	CU_ASSERT_EQUAL(p, 0);
	CU_ASSERT_EQUAL(cfg_parse_prefix("198.18.0.1/32", &a, &p), 0);
	CU_ASSERT_EQUAL(p, 32);
	CU_ASSERT_EQUAL(cfg_parse_prefix("198.18.0.1/33", &a, &p), -ERANGE);
	CU_ASSERT_EQUAL(cfg_parse_prefix("198.18.0.1/-1", &a, &p), -ERANGE);
	CU_ASSERT_EQUAL(cfg_parse_prefix("198.18.0.1/", &a, &p), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_prefix("198.18.0.1", &a, &p), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_prefix("198.18.0.1/2x", &a, &p), -ERANGE);
}

/* `syslog server add` and the file's servers: host, port and transport words, one parser
 * (the forwarder takes what it gives); each error names the bad word. */
static void test_syslog_server_words(void)
{
	struct cfg_syslog_server s;
	enum cfg_syslog_transport t;
	char err[256];

	CU_ASSERT_EQUAL(cfg_syslog_server_parse("198.18.0.10", CFG_SYSLOG_UDP, &s, err,
				sizeof(err)),
		0);
	CU_ASSERT_STRING_EQUAL(s.host, "198.18.0.10");
	CU_ASSERT_EQUAL(s.port, 514);
	CU_ASSERT_EQUAL(s.transport, CFG_SYSLOG_UDP);
	CU_ASSERT_EQUAL(cfg_syslog_transport_parse("tcp", &t), 0);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("logs.example:1514", t, &s, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(s.host, "logs.example");
	CU_ASSERT_EQUAL(s.port, 1514);
	CU_ASSERT_EQUAL(s.transport, CFG_SYSLOG_TCP);
	CU_ASSERT_EQUAL(cfg_syslog_transport_parse("TLS", &t), 0);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("logs.example", t, &s, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(s.port, 6514);
	CU_ASSERT_EQUAL(s.transport, CFG_SYSLOG_TLS);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("[2001:db8::1]:10514", CFG_SYSLOG_TLS, &s, err,
				sizeof(err)),
		0);
	CU_ASSERT_STRING_EQUAL(s.host, "2001:db8::1");
	CU_ASSERT_EQUAL(s.port, 10514);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("2001:db8::1", CFG_SYSLOG_UDP, &s, err,
				sizeof(err)),
		0);
	CU_ASSERT_STRING_EQUAL(s.host, "2001:db8::1");
	CU_ASSERT_EQUAL(s.port, 514);

	CU_ASSERT_EQUAL(cfg_syslog_transport_parse("sctp", &t), -EINVAL);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("h:0", CFG_SYSLOG_TCP, &s, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'0'"));
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("h:65536", CFG_SYSLOG_UDP, &s, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'65536'"));
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("h:51x", CFG_SYSLOG_UDP, &s, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'51x'"));
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("h:", CFG_SYSLOG_UDP, &s, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("h:-1", CFG_SYSLOG_UDP, &s, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("", CFG_SYSLOG_UDP, &s, err, sizeof(err)), -EINVAL);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse(":514", CFG_SYSLOG_UDP, &s, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("[2001:db8::1", CFG_SYSLOG_UDP, &s, err,
				sizeof(err)),
		-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "']'"));
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("[logs.example]:514", CFG_SYSLOG_UDP, &s, err,
				sizeof(err)),
		-EINVAL);
	CU_ASSERT_EQUAL(cfg_syslog_server_parse("bad host!", CFG_SYSLOG_UDP, &s, err, sizeof(err)),
		-EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'bad host!'"));
}

/* --- IPv6 (issue 18) --- */

static void v6(const char *s, uint8_t out[16])
{
	CU_ASSERT_EQUAL_FATAL(cfg_parse_ipv6(s, out), 0);
}

/* The link-local address is fe80::/64 with the modified EUI-64 of the MAC (RFC 4291). */
static void test_ipv6_link_local(void)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	static const uint8_t mac2[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
	static const uint8_t want[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0x00, 0xff,
		0xfe, 0x12, 0x34, 0x56 };
	uint8_t ll[16], ref[16];
	char s[46];

	memset(ll, 0xaa, sizeof(ll));
	cfg_ipv6_link_local(mac, ll);
	CU_ASSERT_EQUAL(memcmp(ll, want, 16), 0);
	CU_ASSERT_STRING_EQUAL(cfg_ipv6_str(ll, s), "fe80::5054:ff:fe12:3456");
	/* the U/L bit is flipped, not set: a locally administered MAC gives a 0 there */
	cfg_ipv6_link_local(mac2, ll);
	CU_ASSERT_STRING_EQUAL(cfg_ipv6_str(ll, s), "fe80::ff:fe00:1");
	CU_ASSERT_EQUAL(cfg_parse_ipv6("fe80::ff:fe00:1", ref), 0);
	CU_ASSERT_EQUAL(memcmp(ll, ref, 16), 0);
}

/* Address text: inet_pton's, no zone, no spaces; a prefix 0..128 in decimal; out in RFC 5952. */
static void test_parse_ipv6(void)
{
	uint8_t a[16], p = 77;
	char s[46];

	CU_ASSERT_EQUAL(cfg_parse_ipv6("2001:db8::1", a), 0);
	CU_ASSERT_EQUAL(a[0], 0x20);
	CU_ASSERT_EQUAL(a[1], 0x01);
	CU_ASSERT_EQUAL(a[3], 0xb8);
	CU_ASSERT_EQUAL(a[15], 1);
	CU_ASSERT_EQUAL(cfg_parse_ipv6("2001:db8::g", a), -1);
	CU_ASSERT_EQUAL(cfg_parse_ipv6(" 2001:db8::1", a), -1);
	CU_ASSERT_EQUAL(cfg_parse_ipv6("2001:db8::1 ", a), -1);
	CU_ASSERT_EQUAL(cfg_parse_ipv6("2001:db8::1%eth0", a), -1);
	CU_ASSERT_EQUAL(cfg_parse_ipv6("2001:db8:1:2:3:4:5:6:7", a), -1);
	CU_ASSERT_EQUAL(cfg_parse_ipv6("2001:db8::1::2", a), -1);
	CU_ASSERT_EQUAL(cfg_parse_ipv6("198.18.0.1", a), -1);
	CU_ASSERT_EQUAL(cfg_parse_ipv6("", a), -1);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::/0", a, &p), 0);
	CU_ASSERT_EQUAL(p, 0);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::1/128", a, &p), 0);
	CU_ASSERT_EQUAL(p, 128);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::1/129", a, &p), -ERANGE);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::1/99999999999999999999", a, &p), -ERANGE);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::1/-1", a, &p), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::1/+1", a, &p), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::1/ 64", a, &p), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::1/64x", a, &p), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::1/", a, &p), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::1", a, &p), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_prefix6("2001:db8::x/64", a, &p), -EINVAL);
	CU_ASSERT_EQUAL(p, 128); /* untouched by the failures */
	/* RFC 5952: lower case, no leading zeros, the longest zero run as "::", not one field */
	v6("2001:0DB8:0000:0000:0001:0000:0000:0001", a);
	CU_ASSERT_STRING_EQUAL(cfg_ipv6_str(a, s), "2001:db8::1:0:0:1");
	v6("2001:db8:0:1:1:1:1:1", a);
	CU_ASSERT_STRING_EQUAL(cfg_ipv6_str(a, s), "2001:db8:0:1:1:1:1:1");
	v6("2001:db8:0:0:1:0:0:0", a);
	CU_ASSERT_STRING_EQUAL(cfg_ipv6_str(a, s), "2001:db8:0:0:1::");
}

/* The file's shape as the issue writes it: loads, saves in canonical text, and reads back to
 * the same model and, saved again, the same bytes. */
static void test_ipv6_file_roundtrip(void)
{
	const char *text =
		"interfaces = ( { name = \"a\"; port = \"net_ring0\";\n"
		"  ipv6 = ( { address = \"2001:DB8:20:0:0:0:0:1/64\"; gateway = \"2001:db8:20::2\"; },\n"
		"           { address = \"2001:db8:21::1/128\"; gateway = \"fe80::1\"; },\n"
		"           { address = \"2001:db8:22::1/48\"; gateway = \"\"; } );\n"
		"  routes6 = ( { net = \"2001:db8:99::/48\"; gateway = \"2001:db8:20::2\"; },\n"
		"              { net = \"::/0\"; gateway = \"fe80::1\"; } ); },\n"
		" { name = \"b\"; port = \"net_ring1\"; ipv4 = ( { address = \"198.18.20.1/24\"; } );\n"
		"  ipv6 = ( { address = \"2001:db8:30::1/64\"; } ); } );\n";
	char tmp[] = "/tmp/edge-cfg-XXXXXX", a_path[] = "/tmp/edge-cfg-XXXXXX",
	     b_path[] = "/tmp/edge-cfg-XXXXXX", err[512] = "", s[46];
	static char a_text[16384], b_text[16384];
	struct edge_cfg a, b, c;
	uint8_t want[16];
	FILE *f;
	size_t na, nb;
	int fd;

	write_tmp(tmp, text);
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a.ifs[0].n_addrs, 0);
	CU_ASSERT_EQUAL_FATAL(a.ifs[0].n_addrs6, 3);
	v6("2001:db8:20::1", want);
	CU_ASSERT_EQUAL(memcmp(a.ifs[0].addrs6[0].addr, want, 16), 0);
	CU_ASSERT_EQUAL(a.ifs[0].addrs6[0].prefix, 64);
	CU_ASSERT_STRING_EQUAL(cfg_ipv6_str(a.ifs[0].addrs6[0].gateway, s), "2001:db8:20::2");
	CU_ASSERT_EQUAL(a.ifs[0].addrs6[1].prefix, 128);
	CU_ASSERT_STRING_EQUAL(cfg_ipv6_str(a.ifs[0].addrs6[1].gateway, s), "fe80::1");
	CU_ASSERT_STRING_EQUAL(cfg_ipv6_str(a.ifs[0].addrs6[2].gateway, s), "::"); /* none */
	CU_ASSERT_EQUAL_FATAL(a.ifs[0].n_routes6, 2);
	CU_ASSERT_STRING_EQUAL(cfg_ipv6_str(a.ifs[0].routes6[0].net, s), "2001:db8:99::");
	CU_ASSERT_EQUAL(a.ifs[0].routes6[0].prefix, 48);
	CU_ASSERT_EQUAL(a.ifs[0].routes6[1].prefix, 0);
	CU_ASSERT_EQUAL(a.ifs[1].n_addrs, 1);
	CU_ASSERT_EQUAL(a.ifs[1].n_addrs6, 1);
	CU_ASSERT_EQUAL(a.ifs[1].n_routes6, 0);

	fd = mkstemp(a_path);
	close(fd);
	fd = mkstemp(b_path);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(cfg_save(a_path, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg_load(a_path, &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg_save(b_path, &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg_load(b_path, &c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&b, &c, sizeof(b)), 0);
	f = fopen(a_path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	na = fread(a_text, 1, sizeof(a_text) - 1, f);
	fclose(f);
	a_text[na] = '\0';
	f = fopen(b_path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	nb = fread(b_text, 1, sizeof(b_text) - 1, f);
	fclose(f);
	b_text[nb] = '\0';
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT_STRING_EQUAL(a_text, b_text);
	/* canonical text, the gateway only where there is one */
	CU_ASSERT_PTR_NOT_NULL(strstr(a_text, "address = \"2001:db8:20::1/64\";"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a_text, "gateway = \"2001:db8:20::2\";"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a_text, "net = \"2001:db8:99::/48\";"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a_text, "net = \"::/0\";"));
	CU_ASSERT_PTR_NULL(strstr(a_text, "DB8"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a_text, "routes6"));
	/* b has no routes6 and a lab-like interface with no IPv6 none of it */
	CU_ASSERT_PTR_NULL(strstr(strstr(a_text, "net_ring1"), "routes6"));
	unlink(tmp);
	unlink(a_path);
	unlink(b_path);
}

/* cfg_save of lab.conf with IPv6 added by the edit functions reads back equal. */
static void test_ipv6_save_roundtrip(void)
{
	struct edge_cfg a, b;
	char err[256] = "", tmp[] = "/tmp/edge-cfg-XXXXXX";
	uint8_t x[16], g[16], n[16];

	lab_and_tmp(&a, tmp);
	v6("2001:db8:11::1", x);
	v6("2001:db8:11::2", g);
	CU_ASSERT_EQUAL(cfg_ipv6_add(&a, 0, x, 64, g, err, sizeof(err)), 0);
	v6("2001:db8:21::1", x);
	CU_ASSERT_EQUAL(cfg_ipv6_add(&a, 1, x, 64, NULL, err, sizeof(err)), 0);
	v6("2001:db8:99::", n);
	CU_ASSERT_EQUAL(cfg_route6_add(&a, 0, n, 48, g, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a.ifs[0].n_routes6, 1);
	CU_ASSERT_EQUAL_FATAL(cfg_save(tmp, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &b, err, sizeof(err)), 0);
	for (int i = 0; i < a.n_ifs; i++)
		memset(&a.ifs[i].fw, 0, sizeof(a.ifs[i].fw)),
			memset(&b.ifs[i].fw, 0, sizeof(b.ifs[i].fw));
	CU_ASSERT_EQUAL(memcmp(&a, &b, sizeof(a)), 0);
	CU_ASSERT_EQUAL(b.ifs[0].n_routes6, 1);
	CU_ASSERT_EQUAL(memcmp(b.ifs[0].routes6[0].gateway, g, 16), 0);
	CU_ASSERT_EQUAL(memcmp(b.ifs[1].addrs6[b.ifs[1].n_addrs6 - 1].addr, x, 16), 0);
	CU_ASSERT_EQUAL(b.ifs[0].n_addrs, 1); /* IPv4 beside it, as it was */
	unlink(tmp);
}

#define IF6(v6s) "interfaces = ( { name = \"a\"; port = \"net_ring0\"; ipv6 = ( " v6s " ); } );\n"
#define IF6R(v6s, r6)                                                                              \
	"interfaces = ( { name = \"a\"; port = \"net_ring0\"; ipv6 = ( " v6s " );\n"               \
	" routes6 = ( " r6 " ); } );\n"
#define A64 "{ address = \"2001:db8:20::1/64\"; }"

static void test_ipv6_malformed(void)
{
	char tmp[] = "/tmp/edge-cfg-XXXXXX", err[512] = "", want[600], text[2048];
	struct edge_cfg c;
	int off;

	/* the error names the file and the line */
	write_tmp(tmp, "\n" IF6("{ address = \"2001:db8:20::1/129\"; }"));
	CU_ASSERT_EQUAL(cfg_load(tmp, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		"%s: line 2: ipv6: '2001:db8:20::1/129': expected <address>/<prefix> with prefix "
		"1..128",
		tmp);
	CU_ASSERT_STRING_EQUAL(err, want);
	unlink(tmp);

	refused(IF6("{ address = \"2001:db8:20::g/64\"; }"), "'2001:db8:20::g/64'");
	refused(IF6("{ address = \"2001:db8:20::1\"; }"), "'2001:db8:20::1': expected");
	refused(IF6("{ address = \"2001:db8:20::1/0\"; }"),
		"ipv6: '2001:db8:20::1/0': prefix must be 1..128");
	refused(IF6("{ address = \"ff02::1/64\"; }"), "'ff02::1' is a multicast address");
	refused(IF6("{ address = \"::/64\"; }"), "'::' is the unspecified address");
	refused(IF6("{ address = \"::1/128\"; }"), "'::1' is the loopback address");
	refused(IF6("{ address = \"fe80::1/64\"; }"),
		"'fe80::1' is link-local (fe80::/10): the interface's link-local address is derived "
		"from its MAC");
	refused(IF6("{ address = \"febf::1/64\"; }"), "'febf::1' is link-local");
	refused(IF6("{ address = \"::ffff:198.18.0.1/120\"; }"),
		"'::ffff:198.18.0.1' is an IPv4-mapped address");
	refused(IF6(A64 ", { address = \"2001:db8:20::1/48\"; }"),
		"'2001:db8:20::1' is already configured on interface a");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; ipv6 = ( " A64 " ); },\n"
		" { name = \"b\"; port = \"net_ring1\"; ipv6 = ( " A64 " ); } );",
		"line 2: ipv6: '2001:db8:20::1' is already configured on interface a");
	refused(IF6("{ address = \"2001:db8:20::1/64\"; gateway = \"2001:db8:21::2\"; }"),
		"gateway '2001:db8:21::2' is neither inside 2001:db8:20::1/64 nor link-local");
	refused(IF6("{ address = \"2001:db8:20::1/64\"; gateway = \"2001:db8:20::1\"; }"),
		"gateway '2001:db8:20::1' is the address itself");
	refused(IF6("{ address = \"2001:db8:20::1/64\"; gateway = \"ff02::2\"; }"),
		"gateway 'ff02::2' is a multicast address");
	refused(IF6("{ address = \"2001:db8:20::1/64\"; gateway = \"gw\"; }"),
		"ipv6: gateway 'gw' is not an IPv6 address");
	refused(IF6("{ address = \"2001:db8:20::1/64\"; gateway = 0; }"),
		"ipv6.gateway: expected a string");
	refused(IF6("{ gateway = \"2001:db8:20::2\"; }"), "ipv6 entry without 'address'");
	refused(IF6("\"2001:db8:20::1/64\""), "ipv6: expected { address");
	refused("interfaces = ( { name = \"a\"; port = \"net_ring0\"; ipv6 = \"2001:db8::1/64\"; } );",
		"interface.ipv6: expected a list");
	/* more than EDGE_MAX_ADDRS */
	off = snprintf(text, sizeof(text),
		"interfaces = ( { name = \"a\"; port = \"net_ring0\"; ipv6 = ( ");
	for (int i = 0; i <= EDGE_MAX_ADDRS; i++)
		off += snprintf(text + off, sizeof(text) - off,
			"%s{ address = \"2001:db8:%d::1/64\"; }", i ? ", " : "", 20 + i);
	snprintf(text + off, sizeof(text) - off, " ); } );\n");
	refused(text, "ipv6: interface a already has 8 addresses");
	/* routes */
	refused(IF6R(A64, "{ net = \"2001:db8:99::1/48\"; gateway = \"2001:db8:20::2\"; }"),
		"line 2: ipv6 route: '2001:db8:99::1/48' has host bits set: the network is "
		"2001:db8:99::/48");
	refused(IF6R(A64, "{ net = \"2001:db8:99::/129\"; gateway = \"2001:db8:20::2\"; }"),
		"routes6: '2001:db8:99::/129': expected <net>/<prefix> with prefix 0..128");
	refused(IF6R(A64, "{ net = \"2001:db8:99::/48\"; gateway = \"2001:db8:21::2\"; }"),
		"ipv6 route: gateway '2001:db8:21::2' is neither on a prefix of interface a nor "
		"link-local");
	refused(IF6R(A64, "{ net = \"2001:db8:99::/48\"; gateway = \"2001:db8:20::1\"; }"),
		"gateway '2001:db8:20::1' is an address of this appliance (interface a)");
	refused(IF6R(A64, "{ net = \"2001:db8:99::/48\"; gateway = \"ff02::1\"; }"),
		"ipv6 route: gateway 'ff02::1' is a multicast address");
	refused(IF6R(A64, "{ net = \"2001:db8:20:0:1::/80\"; gateway = \"2001:db8:20::2\"; }"),
		"2001:db8:20:0:1::/80 is inside 2001:db8:20::/64, connected on interface a");
	refused(IF6R(A64, "{ net = \"2001:db8:20::/64\"; gateway = \"2001:db8:20::2\"; }"),
		"2001:db8:20::/64 is inside 2001:db8:20::/64");
	refused(IF6R(A64,
			"{ net = \"2001:db8:99::/48\"; gateway = \"2001:db8:20::2\"; },\n"
			"{ net = \"2001:db8:99::/48\"; gateway = \"2001:db8:20::3\"; }"),
		"2001:db8:99::/48 is already routed on interface a (via 2001:db8:20::2)");
	refused(IF6R("", "{ net = \"2001:db8:99::/48\"; gateway = \"fe80::1\"; }"),
		"ipv6 route: interface a has no IPv6 address");
	refused(IF6R(A64, "{ net = \"2001:db8:99::/48\"; }"), "routes6 entry without 'gateway'");
	refused(IF6R(A64, "{ gateway = \"2001:db8:20::2\"; }"), "routes6 entry without 'net'");
	refused(IF6R(A64, "{ net = \"2001:db8:99::/48\"; gateway = \"gw\"; }"),
		"routes6: gateway 'gw' is not an IPv6 address");
	refused(IF6R(A64, "\"2001:db8:99::/48 2001:db8:20::2\""), "routes6: expected { net");
}

/* The edits themselves: what the CLI calls, each refusal leaving the model as it was. */
static void test_ipv6_edits(void)
{
	struct edge_cfg c, before;
	char err[256];
	uint8_t a1[16], a2[16], g[16], ll[16], n[16], n2[16];

	cfg_defaults(&c);
	c.n_ifs = 2;
	snprintf(c.ifs[0].name, sizeof(c.ifs[0].name), "a");
	snprintf(c.ifs[1].name, sizeof(c.ifs[1].name), "b");
	v6("2001:db8:20::1", a1);
	v6("2001:db8:21::1", a2);
	v6("2001:db8:20::2", g);
	v6("fe80::1", ll);
	v6("2001:db8:99::", n);
	v6("2001:db8:98::", n2);
	CU_ASSERT_EQUAL(cfg_ipv6_add(&c, 0, a1, 64, g, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg_ipv6_add(&c, 0, a2, 64, ll, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg_route6_add(&c, 0, n, 48, g, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg_route6_add(&c, 0, n2, 48, ll, err, sizeof(err)), 0);
	before = c;
	/* an address that is a route's gateway, or takes in a route, is refused */
	CU_ASSERT_EQUAL(cfg_ipv6_add(&c, 1, g, 64, NULL, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err,
		"ipv6: '2001:db8:20::2' is the gateway of route "
		"2001:db8:99::/48 on interface a (ipv6 a route del "
		"2001:db8:99::/48 first)");
	v6("2001:db8:99::1", a2);
	CU_ASSERT_EQUAL(cfg_ipv6_add(&c, 1, a2, 32, NULL, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'2001:db8:99::1/32' takes in route 2001:db8:99::/48"));
	/* the address that reaches a route's gateway stays until the route goes */
	CU_ASSERT_EQUAL(cfg_ipv6_del(&c, 0, a1, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err,
		"'2001:db8:20::1' is the way to the gateway of route "
		"2001:db8:99::/48 via 2001:db8:20::2"));
	CU_ASSERT_EQUAL(cfg_ipv6_del(&c, 1, a1, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "ipv6: '2001:db8:20::1' is not configured on interface b");
	CU_ASSERT_EQUAL(cfg_route6_del(&c, 0, n, 64, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "ipv6 route: no route to 2001:db8:99::/64 on interface a");
	CU_ASSERT_EQUAL(cfg_route6_add(&c, 0, n, 129, g, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "prefix must be 0..128"));
	CU_ASSERT_EQUAL(memcmp(&before, &c, sizeof(c)), 0);
	/* with the global route gone, a1 may go: the link-local route needs an address left */
	CU_ASSERT_EQUAL(cfg_route6_del(&c, 0, n, 48, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.ifs[0].n_routes6, 1);
	CU_ASSERT_EQUAL(cfg_ipv6_del(&c, 0, a1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.ifs[0].n_addrs6, 1);
	v6("2001:db8:21::1", a2);
	CU_ASSERT_EQUAL(memcmp(c.ifs[0].addrs6[0].addr, a2, 16), 0);
	CU_ASSERT_EQUAL(cfg_ipv6_del(&c, 0, a2, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "via fe80::1"));
	CU_ASSERT_EQUAL(cfg_route6_del(&c, 0, n2, 48, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg_ipv6_del(&c, 0, a2, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(c.ifs[0].n_addrs6, 0);
	CU_ASSERT_EQUAL(c.ifs[0].n_routes6, 0);
	/* emptied slots are zero, as a load leaves them */
	{
		static const struct cfg_ipv6 z6;
		static const struct cfg_route6 zr;

		CU_ASSERT_EQUAL(memcmp(&c.ifs[0].addrs6[0], &z6, sizeof(z6)), 0);
		CU_ASSERT_EQUAL(memcmp(&c.ifs[0].routes6[0], &zr, sizeof(zr)), 0);
	}
	/* routes are full at EDGE_MAX_ROUTES */
	CU_ASSERT_EQUAL(cfg_ipv6_add(&c, 0, a1, 64, NULL, err, sizeof(err)), 0);
	for (int i = 0; i < EDGE_MAX_ROUTES; i++) {
		n[5] = (uint8_t)(0x80 + i);
		CU_ASSERT_EQUAL(cfg_route6_add(&c, 0, n, 48, g, err, sizeof(err)), 0);
	}
	n[5] = 0x7f;
	CU_ASSERT_EQUAL(cfg_route6_add(&c, 0, n, 48, g, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "ipv6 route: interface a already has 16 routes");
}

static const struct unit_test tests[] = {
	{ "syslog server words: host, port, transport", test_syslog_server_words },
	{ "lab.conf loads as written", test_lab_conf },
	{ "the guide's deployment loads", test_guide_conf },
	{ "save then load gives the same model", test_save_roundtrip },
	{ "webbridge3, callbridge, webadmin, role and admins: save then load", test_web_roundtrip },
	{ "malformed files are refused, naming the problem", test_malformed },
	{ "a missing file is reported", test_missing_file },
	{ "format version: absent is 1, saved first, newer refused", test_format_version },
	{ "default paths are the package's", test_default_paths },
	{ "address and prefix parsing is strict", test_parse_ipv4 },
	{ "ipv6: the link-local address from the MAC (modified EUI-64)", test_ipv6_link_local },
	{ "ipv6: address and prefix parsing is strict, output RFC 5952", test_parse_ipv6 },
	{ "ipv6: the file's addresses and routes6 round-trip to the same bytes",
		test_ipv6_file_roundtrip },
	{ "ipv6: edits saved then loaded give the same model", test_ipv6_save_roundtrip },
	{ "ipv6: malformed addresses, gateways and routes are refused, naming them",
		test_ipv6_malformed },
	{ "ipv6: edits refuse what would break a route, and change nothing", test_ipv6_edits },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("config", tests);
}
