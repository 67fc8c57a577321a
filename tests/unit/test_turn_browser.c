/* Where TURN's browser port (443) takes TCP and TLS (cfg_turn_browser_tcp_mask): on each TURN
 * listen interface where no other component holds that TCP port. The lab's layout: webadmin
 * on a:443, webbridge3 on b:445 (C2W a:6000), TURN on a and b: TCP/TLS 443 on b only. */
#include <string.h>

#include "edge_config.h"
#include "unit.h"

static struct edge_cfg cfg;

static void lab(void)
{
	cfg_defaults(&cfg);
	cfg.n_ifs = 2;
	snprintf(cfg.ifs[0].name, sizeof(cfg.ifs[0].name), "a");
	snprintf(cfg.ifs[1].name, sizeof(cfg.ifs[1].name), "b");
	cfg.role = EDGE_ROLE_BOTH;
	cfg.turn.enabled = true;
	cfg.turn.listen_mask = 3;
	cfg.webadmin.ifi = 0;
	cfg.webadmin.port = 443;
	cfg.wb3.https[0] = (struct cfg_listen){ 1, 445 };
	cfg.wb3.n_https = 1;
	cfg.wb3.c2w[0] = (struct cfg_listen){ 0, 6000 };
	cfg.wb3.n_c2w = 1;
}

static void test_lab_layout(void)
{
	lab();
	CU_ASSERT_EQUAL(cfg.turn.browser_port, 443); /* the default */
	CU_ASSERT_STRING_EQUAL(cfg_tcp_port_owner(&cfg, 0, 443), "webadmin");
	CU_ASSERT_PTR_NULL(cfg_tcp_port_owner(&cfg, 1, 443));
	CU_ASSERT_STRING_EQUAL(cfg_tcp_port_owner(&cfg, 1, 445), "webbridge3 HTTPS");
	CU_ASSERT_STRING_EQUAL(cfg_tcp_port_owner(&cfg, 0, 6000), "webbridge3 C2W");
	CU_ASSERT_EQUAL(cfg_turn_browser_tcp_mask(&cfg), 2); /* b only */
}

static void test_roles_and_redirects(void)
{
	lab();
	cfg.role = EDGE_ROLE_EDGE; /* no webadmin on an edge */
	CU_ASSERT_EQUAL(cfg_turn_browser_tcp_mask(&cfg), 3);
	cfg.role = EDGE_ROLE_BOTH;
	cfg.wb3.http_redirect = true;
	cfg.turn.browser_port = 80;
	CU_ASSERT_STRING_EQUAL(cfg_tcp_port_owner(&cfg, 1, 80), "webbridge3 HTTP redirect");
	CU_ASSERT_EQUAL(cfg_turn_browser_tcp_mask(&cfg), 1);
	cfg.wb3.https[0].port = 443; /* webbridge3 on b:443 too: nowhere for TCP */
	cfg.turn.browser_port = 443;
	CU_ASSERT_EQUAL(cfg_turn_browser_tcp_mask(&cfg), 0);
}

static void test_none_and_same_port(void)
{
	lab();
	cfg.turn.browser_port = 0;
	CU_ASSERT_EQUAL(cfg_turn_browser_tcp_mask(&cfg), 0);
	cfg.turn.browser_port = 443;
	cfg.turn.port = 443; /* TURN's own port already: nothing more */
	CU_ASSERT_EQUAL(cfg_turn_browser_tcp_mask(&cfg), 0);
	cfg.turn.port = 3478;
	cfg.turn.listen_mask = 1; /* only a, which webadmin has */
	CU_ASSERT_EQUAL(cfg_turn_browser_tcp_mask(&cfg), 0);
	CU_ASSERT(cfg_turn_browser_ok(53) && cfg_turn_browser_ok(80) && cfg_turn_browser_ok(443));
	CU_ASSERT(!cfg_turn_browser_ok(447) && !cfg_turn_browser_ok(3478));
	CU_ASSERT(!cfg_turn_browser_ok(0));
}

static const struct unit_test tests[] = {
	{ "the lab: webadmin has a:443, so TCP/TLS 443 on b only", test_lab_layout },
	{ "by role, and HTTP redirects' port 80", test_roles_and_redirects },
	{ "none, TURN's own port, and no free interface: nowhere", test_none_and_same_port },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("turn_browser", tests);
}
