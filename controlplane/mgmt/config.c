/* Configuration: libconfig file <-> struct edge_cfg, and the validated edits the CLI makes.
 * The file is the single source of truth across restarts; every live change is saved back. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "edge_config.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

void cfg_defaults(struct edge_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->cores, sizeof(cfg->cores), "0,1");
	cfg->memory_mb = 256;
	cfg->burst = 32;
	cfg->idle_sleep_us = 200;
	cfg->arp_timeout_s = 300;
	snprintf(cfg->ctl_socket, sizeof(cfg->ctl_socket), "/run/edged.sock");
	cfg->log_target = LOG_TARGET_STDERR;
	cfg->log_level = LOG_INFO;
	cfg->default_if = -1;
	snprintf(cfg->cert_dir, sizeof(cfg->cert_dir), "/etc/edge/certs");
	cfg->turn.port = 3478;
	cfg->turn.high_capacity = true;
	cfg->turn.relay_lo = 49152;
	cfg->turn.relay_hi = 65535;
	cfg->turn.lifetime_max = 3600;
	cfg->turn.max_conns = 16384;
	cfg->turn.max_conns_per_addr = 1024;
	cfg->turn.handshake_timeout = 10;
	cfg->turn.idle_timeout = 60;
	cfg->role = EDGE_ROLE_BOTH;
	cfg->wb3.audio_priority = true;
	cfg->cb.enabled = true;
	cfg->cb.prefer_if = -1;
	cfg->cb.jwt_expiry_hours = 24;
	snprintf(cfg->cb.db_path, sizeof(cfg->cb.db_path), "/var/lib/edged/callbridge.db");
	cfg->webadmin.ifi = -1;
	cfg->webadmin.port = 443;
}

int cfg_turn_relay_if(const struct cfg_turn *t)
{
	return t->listen_mask ? __builtin_ctz(t->listen_mask) : -1;
}

int cfg_parse_ipv4(const char *s, uint32_t *addr)
{
	unsigned int o[4];
	char tail;

	if (sscanf(s, "%3u.%3u.%3u.%3u%c", &o[0], &o[1], &o[2], &o[3], &tail) != 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++)
		if (o[i] > 255)
			return -EINVAL;
	/* reject leading '+', spaces and the like that sscanf would skip */
	for (const char *p = s; *p; p++)
		if ((*p < '0' || *p > '9') && *p != '.')
			return -EINVAL;
	*addr = htonl(o[0] << 24 | o[1] << 16 | o[2] << 8 | o[3]);
	return 0;
}

int cfg_parse_prefix(const char *s, uint32_t *addr, uint8_t *prefix)
{
	char ip[32];
	const char *slash = strchr(s, '/');
	char *end;
	long n;

	if (!slash || slash - s >= (long)sizeof(ip) || slash[1] == '\0')
		return -EINVAL;
	memcpy(ip, s, slash - s);
	ip[slash - s] = '\0';
	if (cfg_parse_ipv4(ip, addr) < 0)
		return -EINVAL;
	errno = 0;
	n = strtol(slash + 1, &end, 10);
	if (*end || errno || n < 0 || n > 32 || slash[1] == '-' || slash[1] == '+')
		return -ERANGE;
	*prefix = (uint8_t)n;
	return 0;
}

const char *cfg_ipv4_str(uint32_t addr, char buf[16])
{
	return inet_ntop(AF_INET, &addr, buf, 16);
}

int cfg_iface_find(const struct edge_cfg *cfg, const char *name)
{
	for (int i = 0; i < cfg->n_ifs; i++)
		if (strcmp(cfg->ifs[i].name, name) == 0)
			return i;
	return -ENOENT;
}

static uint32_t prefix_mask(uint8_t prefix)
{
	return prefix ? htonl(~0u << (32 - prefix)) : 0;
}

int cfg_ipv4_add(struct edge_cfg *cfg, int ifi, uint32_t addr, uint8_t prefix, uint32_t gw,
	char *err, size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	uint32_t mask = prefix_mask(prefix);
	char a[16], g[16];

	cfg_ipv4_str(addr, a);
	if (prefix > 32)
		return ERR("ipv4: '%s/%u': prefix must be 0..32", a, prefix);
	if ((ntohl(addr) >> 24) == 0 || (ntohl(addr) >> 24) == 127 || (ntohl(addr) >> 28) >= 14)
		return ERR("ipv4: '%s': not a unicast host address", a);
	if (prefix < 31 && ((addr & ~mask) == 0 || (addr | mask) == 0xffffffffu))
		return ERR("ipv4: '%s/%u': that is the network or broadcast address", a, prefix);
	if (gw) {
		cfg_ipv4_str(gw, g);
		if ((gw & mask) != (addr & mask))
			return ERR("ipv4: gateway '%s' is not inside %s/%u", g, a, prefix);
		if (gw == addr)
			return ERR("ipv4: gateway '%s' is the address itself", g);
	}
	for (int i = 0; i < cfg->n_ifs; i++)
		for (int j = 0; j < cfg->ifs[i].n_addrs; j++)
			if (cfg->ifs[i].addrs[j].addr == addr)
				return ERR("ipv4: '%s' is already configured on interface %s", a,
					cfg->ifs[i].name);
	if (ifc->n_addrs >= EDGE_MAX_ADDRS)
		return ERR("ipv4: interface %s already has %d addresses", ifc->name, EDGE_MAX_ADDRS);
	ifc->addrs[ifc->n_addrs++] = (struct cfg_ipv4){ .addr = addr, .prefix = prefix, .gateway = gw };
	return 0;
}

int cfg_ipv4_del(struct edge_cfg *cfg, int ifi, uint32_t addr, char *err, size_t errlen)
{
	struct cfg_iface *ifc = &cfg->ifs[ifi];
	char a[16];

	for (int j = 0; j < ifc->n_addrs; j++) {
		if (ifc->addrs[j].addr != addr)
			continue;
		memmove(&ifc->addrs[j], &ifc->addrs[j + 1], (ifc->n_addrs - j - 1) * sizeof(ifc->addrs[0]));
		ifc->n_addrs--;
		return 0;
	}
	return ERR("ipv4: '%s' is not configured on interface %s", cfg_ipv4_str(addr, a), ifc->name);
}

static const char *level_names[] = { [LOG_ERR] = "err", [LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug" };

static int level_parse(const char *s)
{
	for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
		if (level_names[i] && strcmp(level_names[i], s) == 0)
			return i;
	return -EINVAL;
}

static int copy_str(const config_setting_t *grp, const char *key, char *dst, size_t len,
	char *err, size_t errlen)
{
	const char *v;

	if (!config_setting_lookup_string(grp, key, &v))
		return 0;
	if (strlen(v) >= len)
		return ERR("line %d: '%s' is longer than %zu characters",
			config_setting_source_line(grp), key, len - 1);
	snprintf(dst, len, "%s", v);
	return 0;
}

/* Runs one firewall command (space-separated words) on @fw, as the CLI would. */
static int fw_words(struct fw_if_config *fw, const char *text, int line, char *err, size_t errlen)
{
	char buf[256], *argv[16], e[200];
	int argc = 0;

	if (strlen(text) >= sizeof(buf))
		return ERR("line %d: firewall rule too long", line);
	snprintf(buf, sizeof(buf), "%s", text);
	for (char *save, *w = strtok_r(buf, " ", &save); w && argc < 16; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	if (fw_cmd_apply(fw, argc, argv, e, sizeof(e)) < 0)
		return ERR("line %d: %s", line, e);
	return 0;
}

/* firewall: { enabled = true; default = "allow"; rules = [ "deny 22", ... ]; } */
static int load_firewall(const config_setting_t *g, struct fw_if_config *fw, char *err,
	size_t errlen)
{
	const config_setting_t *rules;
	const char *def;
	int en, line;

	memset(fw, 0, sizeof(*fw));
	if (!g)
		return 0;
	line = config_setting_source_line(g);
	if (config_setting_lookup_string(g, "default", &def)) {
		char cmd[32];

		snprintf(cmd, sizeof(cmd), "default %.16s", def);
		if (fw_words(fw, cmd, line, err, errlen) < 0)
			return -EINVAL;
	}
	rules = config_setting_get_member(g, "rules");
	for (int i = 0; rules && i < config_setting_length(rules); i++) {
		const char *r = config_setting_get_string_elem(rules, i);

		if (!r || fw_words(fw, r, config_setting_source_line(rules), err, errlen) < 0)
			return r ? -EINVAL : ERR("line %d: firewall rules must be strings", line);
	}
	if (config_setting_lookup_bool(g, "enabled", &en))
		fw->enabled = en;
	return 0;
}

static int load_iface(const config_setting_t *s, struct cfg_iface *ifc, struct edge_cfg *cfg,
	int ifi, char *err, size_t errlen)
{
	const config_setting_t *v4;
	const char *name;
	int line = config_setting_source_line(s);

	if (!config_setting_lookup_string(s, "name", &name))
		return ERR("line %d: interface without a name", line);
	if (strlen(name) != 1 || name[0] < 'a' || name[0] >= 'a' + EDGE_MAX_IFACES)
		return ERR("line %d: interface '%s': names are a..%c", line, name,
			'a' + EDGE_MAX_IFACES - 1);
	if (cfg_iface_find(cfg, name) >= 0)
		return ERR("line %d: interface '%s' is defined twice", line, name);
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	if (copy_str(s, "port", ifc->port, sizeof(ifc->port), err, errlen) < 0 ||
		copy_str(s, "tap", ifc->tap, sizeof(ifc->tap), err, errlen) < 0)
		return -EINVAL;
	if (!ifc->port[0])
		return ERR("line %d: interface '%s' has no port (PCI address or vdev)", line, name);
	if (!ifc->tap[0])
		snprintf(ifc->tap, sizeof(ifc->tap), "edge-%s", name);
	config_setting_lookup_int(s, "rx_queues", &ifc->rx_queues);
	cfg->n_ifs = ifi + 1;	/* so cfg_ipv4_add sees this interface */
	if (load_firewall(config_setting_get_member(s, "firewall"), &ifc->fw, err, errlen) < 0)
		return -EINVAL;

	v4 = config_setting_get_member(s, "ipv4");
	for (int i = 0; v4 && i < config_setting_length(v4); i++) {
		const config_setting_t *a = config_setting_get_elem(v4, i);
		const char *addr, *gw = NULL;
		uint32_t ip, gwip = 0;
		uint8_t prefix;

		if (!config_setting_lookup_string(a, "address", &addr))
			return ERR("line %d: ipv4 entry without 'address'", config_setting_source_line(a));
		if (cfg_parse_prefix(addr, &ip, &prefix) < 0)
			return ERR("line %d: ipv4: '%s': expected a.b.c.d/prefix with prefix 0..32",
				config_setting_source_line(a), addr);
		if (config_setting_lookup_string(a, "gateway", &gw) && gw[0] &&
			cfg_parse_ipv4(gw, &gwip) < 0)
			return ERR("line %d: ipv4: gateway '%s' is not an IPv4 address",
				config_setting_source_line(a), gw);
		char e2[200];
		if (cfg_ipv4_add(cfg, ifi, ip, prefix, gwip, e2, sizeof(e2)) < 0)
			return ERR("line %d: %s", config_setting_source_line(a), e2);
	}
	return 0;
}

static int load_prefixes(const config_setting_t *grp, const char *key, struct cfg_prefix *out,
	int *n, char *err, size_t errlen)
{
	const config_setting_t *list = config_setting_get_member(grp, key);

	for (int i = 0; list && i < config_setting_length(list); i++) {
		const char *v = config_setting_get_string_elem(list, i);
		uint32_t a;
		uint8_t len;

		if (i >= TURN_MAX_PEER_RULES)
			return ERR("turn.%s: more than %d entries", key, TURN_MAX_PEER_RULES);
		if (!v || cfg_parse_prefix(v, &a, &len) < 0)
			return ERR("line %d: turn.%s: '%s': expected a.b.c.d/prefix",
				config_setting_source_line(list), key, v ? v : "?");
		out[i] = (struct cfg_prefix){ a & (len ? htonl(~0u << (32 - len)) : 0), len };
		*n = i + 1;
	}
	return 0;
}

static int load_turn(const config_setting_t *s, struct edge_cfg *cfg, char *err, size_t errlen)
{
	struct cfg_turn *t = &cfg->turn;
	const config_setting_t *l;
	const char *str;
	int v, line = config_setting_source_line(s);

	if (config_setting_lookup_bool(s, "enabled", &v))
		t->enabled = v;
	if (config_setting_lookup_bool(s, "short_term", &v))
		t->short_term = v;
	if (config_setting_lookup_bool(s, "high_capacity", &v))
		t->high_capacity = v;
	if (copy_str(s, "realm", t->realm, sizeof(t->realm), err, errlen) < 0 ||
		copy_str(s, "shared_secret", t->shared_secret, sizeof(t->shared_secret), err, errlen) < 0 ||
		copy_str(s, "tls_key", t->tls_key, sizeof(t->tls_key), err, errlen) < 0 ||
		copy_str(s, "tls_cert", t->tls_cert, sizeof(t->tls_cert), err, errlen) < 0 ||
		copy_str(s, "tls_bundle", t->tls_bundle, sizeof(t->tls_bundle), err, errlen) < 0)
		return -EINVAL;
	if (config_setting_lookup_string(s, "public_ip", &str) && str[0] &&
		cfg_parse_ipv4(str, &t->public_ip) < 0)
		return ERR("line %d: turn.public_ip '%s' is not an IPv4 address", line, str);
	if (config_setting_lookup_int(s, "port", &v)) {
		if (v < 1 || v > 65535)
			return ERR("line %d: turn.port %d: must be 1..65535", line, v);
		t->port = (uint16_t)v;
	}
	if (config_setting_lookup_int(s, "tls_port", &v)) {
		if (v < 0 || v > 65535)
			return ERR("line %d: turn.tls_port %d: must be 0 (none) or 1..65535", line, v);
		t->tls_port = (uint16_t)v;
	}
	if (config_setting_lookup_string(s, "relay_ports", &str)) {
		unsigned int lo, hi;
		char tail;
		if (sscanf(str, "%u-%u%c", &lo, &hi, &tail) != 2 || lo < 1024 || hi > 65535 || lo > hi)
			return ERR("line %d: turn.relay_ports '%s': expected lo-hi within 1024-65535",
				line, str);
		t->relay_lo = (uint16_t)lo;
		t->relay_hi = (uint16_t)hi;
	}
	config_setting_lookup_int(s, "max_allocations", (int *)&t->max_allocs);
	config_setting_lookup_int(s, "max_allocations_per_user", (int *)&t->max_allocs_per_user);
	config_setting_lookup_int(s, "bandwidth_kbps", (int *)&t->bandwidth_kbps);
	if (config_setting_lookup_int(s, "lifetime_max", &v)) {
		if (v < 600 || v > 86400)
			return ERR("line %d: turn.lifetime_max %d: must be 600..86400 s", line, v);
		t->lifetime_max = (uint32_t)v;
	}
	{
		static const struct {
			const char *name;
			size_t off;
			int max;
		} lims[] = {
			{ "max_connections", offsetof(struct cfg_turn, max_conns), 65534 },
			{ "max_connections_per_address", offsetof(struct cfg_turn, max_conns_per_addr), 65534 },
			{ "handshake_timeout", offsetof(struct cfg_turn, handshake_timeout), 3600 },
			{ "idle_timeout", offsetof(struct cfg_turn, idle_timeout), 86400 },
		};

		for (size_t i = 0; i < sizeof(lims) / sizeof(lims[0]); i++)
			if (config_setting_lookup_int(s, lims[i].name, &v)) {
				if (v < 0 || v > lims[i].max)
					return ERR("line %d: turn.%s %d: must be 0 (none)..%d", line,
						lims[i].name, v, lims[i].max);
				*(uint32_t *)((char *)t + lims[i].off) = (uint32_t)v;
			}
	}
	l = config_setting_get_member(s, "listen");
	for (int i = 0; l && i < config_setting_length(l); i++) {
		const char *name = config_setting_get_string_elem(l, i);
		int ifi = name ? cfg_iface_find(cfg, name) : -1;

		if (ifi < 0)
			return ERR("line %d: turn.listen: '%s': no such interface",
				config_setting_source_line(l), name ? name : "?");
		t->listen_mask |= 1u << ifi;
	}
	l = config_setting_get_member(s, "users");
	for (int i = 0; l && i < config_setting_length(l); i++) {
		const config_setting_t *u = config_setting_get_elem(l, i);
		struct cfg_turn_user *cu = &t->users[i];

		if (i >= TURN_MAX_USERS)
			return ERR("turn.users: more than %d", TURN_MAX_USERS);
		if (copy_str(u, "name", cu->name, sizeof(cu->name), err, errlen) < 0 ||
			copy_str(u, "password", cu->password, sizeof(cu->password), err, errlen) < 0)
			return -EINVAL;
		if (!cu->name[0] || !cu->password[0])
			return ERR("line %d: turn.users: an entry needs a name and a password",
				config_setting_source_line(u));
		t->n_users = i + 1;
	}
	if (load_prefixes(s, "denied_peers", t->denied, &t->n_denied, err, errlen) < 0 ||
		load_prefixes(s, "allowed_peers", t->allowed, &t->n_allowed, err, errlen) < 0)
		return -EINVAL;
	return 0;
}

int cfg_load(const char *path, struct edge_cfg *cfg, char *err, size_t errlen)
{
	config_t c;
	const config_setting_t *s;
	const char *str;
	int rc = -EINVAL;
	char e[300];

	cfg_defaults(cfg);
	config_init(&c);
	if (!config_read_file(&c, path)) {
		if (config_error_type(&c) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		else
			snprintf(err, errlen, "%s:%d: %s", path, config_error_line(&c),
				config_error_text(&c));
		goto out;
	}
#define FAIL(...) do { snprintf(e, sizeof(e), __VA_ARGS__); FAILE(); } while (0)
#define FAILE() do { snprintf(err, errlen, "%s: %s", path, e); goto out; } while (0)
	if ((s = config_lookup(&c, "eal"))) {
		if (copy_str(s, "cores", cfg->cores, sizeof(cfg->cores), e, sizeof(e)) < 0 ||
			copy_str(s, "extra", cfg->eal_extra, sizeof(cfg->eal_extra), e, sizeof(e)) < 0)
			FAILE();
		config_setting_lookup_int(s, "memory_mb", &cfg->memory_mb);
		int hp;
		if (config_setting_lookup_bool(s, "hugepages", &hp))
			cfg->hugepages = hp;
		if (cfg->memory_mb < 64 || cfg->memory_mb > 1 << 20)
			FAIL("eal.memory_mb %d: must be 64..1048576", cfg->memory_mb);
	}
	if ((s = config_lookup(&c, "dataplane"))) {
		config_setting_lookup_int(s, "burst", &cfg->burst);
		config_setting_lookup_int(s, "idle_sleep_us", &cfg->idle_sleep_us);
		config_setting_lookup_int(s, "arp_timeout", &cfg->arp_timeout_s);
		if (cfg->burst < 1 || cfg->burst > 64)
			FAIL("dataplane.burst %d: must be 1..64", cfg->burst);
		if (cfg->idle_sleep_us < 0 || cfg->idle_sleep_us > 100000)
			FAIL("dataplane.idle_sleep_us %d: must be 0..100000", cfg->idle_sleep_us);
		if (cfg->arp_timeout_s < 10 || cfg->arp_timeout_s > 86400)
			FAIL("dataplane.arp_timeout %d: must be 10..86400", cfg->arp_timeout_s);
	}
	if ((s = config_lookup(&c, "mgmt"))) {
		if (copy_str(s, "socket", cfg->ctl_socket, sizeof(cfg->ctl_socket), e, sizeof(e)) < 0 ||
			copy_str(s, "cert_dir", cfg->cert_dir, sizeof(cfg->cert_dir), e, sizeof(e)) < 0 ||
			copy_str(s, "log_file", cfg->log_file, sizeof(cfg->log_file), e, sizeof(e)) < 0)
			FAILE();
		if (config_setting_lookup_string(s, "log", &str)) {
			if (!strcmp(str, "stderr"))
				cfg->log_target = LOG_TARGET_STDERR;
			else if (!strcmp(str, "file"))
				cfg->log_target = LOG_TARGET_FILE;
			else if (!strcmp(str, "syslog"))
				cfg->log_target = LOG_TARGET_SYSLOG;
			else
				FAIL("mgmt.log '%s': must be stderr, file or syslog", str);
		}
		if (config_setting_lookup_string(s, "log_level", &str) &&
			(cfg->log_level = level_parse(str)) < 0)
			FAIL("mgmt.log_level '%s': must be err, warning, notice, info or debug", str);
		if (cfg->log_target == LOG_TARGET_FILE && !cfg->log_file[0])
			FAIL("mgmt.log is 'file' but mgmt.log_file is not set");
	}
	s = config_lookup(&c, "interfaces");
	if (s && !config_setting_is_list(s))
		FAIL("line %d: 'interfaces' must be a list ( {...}, ... )", config_setting_source_line(s));
	for (int i = 0; s && i < config_setting_length(s); i++) {
		if (i >= EDGE_MAX_IFACES)
			FAIL("more than %d interfaces", EDGE_MAX_IFACES);
		if (load_iface(config_setting_get_elem(s, i), &cfg->ifs[i], cfg, i, e, sizeof(e)) < 0)
			FAILE();
	}
	if ((s = config_lookup(&c, "turn")) && load_turn(s, cfg, e, sizeof(e)) < 0)
		FAILE();
	if (config_lookup_string(&c, "ipv4_default", &str)) {
		cfg->default_if = cfg_iface_find(cfg, str);
		if (cfg->default_if < 0)
			FAIL("ipv4_default '%s': no such interface", str);
	}
#undef FAIL
#undef FAILE
	rc = 0;
out:
	config_destroy(&c);
	return rc;
}

static void set_str(config_setting_t *grp, const char *key, const char *v)
{
	config_setting_set_string(config_setting_add(grp, key, CONFIG_TYPE_STRING), v);
}

static void set_int(config_setting_t *grp, const char *key, int v)
{
	config_setting_set_int(config_setting_add(grp, key, CONFIG_TYPE_INT), v);
}

static void set_bool(config_setting_t *grp, const char *key, bool v)
{
	config_setting_set_bool(config_setting_add(grp, key, CONFIG_TYPE_BOOL), v);
}

static void save_prefixes(config_setting_t *g, const char *key, const struct cfg_prefix *p, int n)
{
	config_setting_t *l = config_setting_add(g, key, CONFIG_TYPE_ARRAY);
	char a[16], buf[24];

	for (int i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%s/%u", cfg_ipv4_str(p[i].addr, a), p[i].len);
		config_setting_set_string_elem(l, -1, buf);
	}
}

static void save_turn(config_setting_t *root, const struct edge_cfg *cfg)
{
	const struct cfg_turn *t = &cfg->turn;
	config_setting_t *g = config_setting_add(root, "turn", CONFIG_TYPE_GROUP), *l;
	char a[16], buf[16];

	set_bool(g, "enabled", t->enabled);
	set_str(g, "realm", t->realm);
	l = config_setting_add(g, "users", CONFIG_TYPE_LIST);
	for (int i = 0; i < t->n_users; i++) {
		config_setting_t *u = config_setting_add(l, NULL, CONFIG_TYPE_GROUP);
		set_str(u, "name", t->users[i].name);
		set_str(u, "password", t->users[i].password);
	}
	set_bool(g, "short_term", t->short_term);
	set_str(g, "shared_secret", t->shared_secret);
	set_str(g, "public_ip", t->public_ip ? cfg_ipv4_str(t->public_ip, a) : "");
	set_bool(g, "high_capacity", t->high_capacity);
	set_int(g, "port", t->port);
	set_int(g, "tls_port", t->tls_port);
	set_str(g, "tls_key", t->tls_key);
	set_str(g, "tls_cert", t->tls_cert);
	set_str(g, "tls_bundle", t->tls_bundle);
	l = config_setting_add(g, "listen", CONFIG_TYPE_ARRAY);
	for (int i = 0; i < cfg->n_ifs; i++)
		if (t->listen_mask & (1u << i))
			config_setting_set_string_elem(l, -1, cfg->ifs[i].name);
	snprintf(buf, sizeof(buf), "%u-%u", t->relay_lo, t->relay_hi);
	set_str(g, "relay_ports", buf);
	set_int(g, "max_allocations", (int)t->max_allocs);
	set_int(g, "max_allocations_per_user", (int)t->max_allocs_per_user);
	set_int(g, "bandwidth_kbps", (int)t->bandwidth_kbps);
	set_int(g, "lifetime_max", (int)t->lifetime_max);
	set_int(g, "max_connections", (int)t->max_conns);
	set_int(g, "max_connections_per_address", (int)t->max_conns_per_addr);
	set_int(g, "handshake_timeout", (int)t->handshake_timeout);
	set_int(g, "idle_timeout", (int)t->idle_timeout);
	save_prefixes(g, "denied_peers", t->denied, t->n_denied);
	save_prefixes(g, "allowed_peers", t->allowed, t->n_allowed);
}

int cfg_save(const char *path, const struct edge_cfg *cfg, char *err, size_t errlen)
{
	static const char *targets[] = { "stderr", "file", "syslog" };
	config_t c;
	config_setting_t *root, *g, *list;
	char tmp[512], a[16];
	int rc = 0;

	config_init(&c);
	root = config_root_setting(&c);
	g = config_setting_add(root, "eal", CONFIG_TYPE_GROUP);
	set_str(g, "cores", cfg->cores);
	set_int(g, "memory_mb", cfg->memory_mb);
	config_setting_set_bool(config_setting_add(g, "hugepages", CONFIG_TYPE_BOOL), cfg->hugepages);
	set_str(g, "extra", cfg->eal_extra);
	g = config_setting_add(root, "dataplane", CONFIG_TYPE_GROUP);
	set_int(g, "burst", cfg->burst);
	set_int(g, "idle_sleep_us", cfg->idle_sleep_us);
	set_int(g, "arp_timeout", cfg->arp_timeout_s);
	g = config_setting_add(root, "mgmt", CONFIG_TYPE_GROUP);
	set_str(g, "socket", cfg->ctl_socket);
	set_str(g, "log", targets[cfg->log_target]);
	set_str(g, "log_file", cfg->log_file);
	set_str(g, "log_level", level_names[cfg->log_level]);
	set_str(g, "cert_dir", cfg->cert_dir);
	list = config_setting_add(root, "interfaces", CONFIG_TYPE_LIST);
	for (int i = 0; i < cfg->n_ifs; i++) {
		const struct cfg_iface *ifc = &cfg->ifs[i];
		config_setting_t *e = config_setting_add(list, NULL, CONFIG_TYPE_GROUP);
		config_setting_t *v4;

		set_str(e, "name", ifc->name);
		set_str(e, "port", ifc->port);
		set_str(e, "tap", ifc->tap);
		if (ifc->rx_queues)
			set_int(e, "rx_queues", ifc->rx_queues);
		if (ifc->fw.enabled || ifc->fw.n_rules || ifc->fw.default_action != FW_ALLOW) {
			config_setting_t *fg = config_setting_add(e, "firewall", CONFIG_TYPE_GROUP);
			config_setting_t *rl;

			config_setting_set_bool(config_setting_add(fg, "enabled", CONFIG_TYPE_BOOL),
				ifc->fw.enabled);
			set_str(fg, "default", ifc->fw.default_action == FW_DENY ? "deny" : "allow");
			rl = config_setting_add(fg, "rules", CONFIG_TYPE_ARRAY);
			for (int k = 0; k < ifc->fw.n_rules; k++) {
				char rule[128];

				fw_rule_format(&ifc->fw.rules[k], rule, sizeof(rule));
				config_setting_set_string_elem(rl, -1, rule);
			}
		}
		v4 = config_setting_add(e, "ipv4", CONFIG_TYPE_LIST);
		for (int j = 0; j < ifc->n_addrs; j++) {
			config_setting_t *ae = config_setting_add(v4, NULL, CONFIG_TYPE_GROUP);
			char pfx[24];

			snprintf(pfx, sizeof(pfx), "%s/%u", cfg_ipv4_str(ifc->addrs[j].addr, a),
				ifc->addrs[j].prefix);
			set_str(ae, "address", pfx);
			if (ifc->addrs[j].gateway)
				set_str(ae, "gateway", cfg_ipv4_str(ifc->addrs[j].gateway, a));
		}
	}
	if (cfg->default_if >= 0)
		set_str(root, "ipv4_default", cfg->ifs[cfg->default_if].name);
	save_turn(root, cfg);

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	if (!config_write_file(&c, tmp)) {
		rc = -errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(-rc));
	} else if (rename(tmp, path) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(errno));
		unlink(tmp);
	}
	config_destroy(&c);
	return rc;
}
