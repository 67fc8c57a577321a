/* The appliance's configuration model: what edged -c FILE holds, what edgectl edits, and
 * what is written back to FILE after every change. Owned by the control plane (mgmt). */
#ifndef EDGE_CONFIG_H
#define EDGE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge_limits.h"

struct cfg_ipv4 {
	uint32_t addr;		/* network byte order */
	uint8_t prefix;		/* 0..32 */
	uint32_t gateway;	/* network byte order; 0 = none */
};

struct cfg_iface {
	char name[EDGE_IFNAME_LEN];		/* "a", "b", ... */
	char port[EDGE_PORTSPEC_LEN];		/* PCI address or vdev string */
	char tap[16];				/* kernel mirror name; "" = edge-<name> */
	struct cfg_ipv4 addrs[EDGE_MAX_ADDRS];
	int n_addrs;
	int rx_queues;				/* 0 = one per worker */
};

enum log_target { LOG_TARGET_STDERR, LOG_TARGET_FILE, LOG_TARGET_SYSLOG };

struct edge_cfg {
	/* EAL */
	char cores[64];			/* lcore list for -l, first is the control plane */
	int memory_mb;
	bool hugepages;			/* false: --no-huge */
	char eal_extra[256];		/* extra EAL words, space separated */
	/* data plane */
	int burst;
	int idle_sleep_us;		/* longest back-off sleep of an idle worker */
	int arp_timeout_s;
	/* management */
	char ctl_socket[108];
	enum log_target log_target;
	char log_file[256];
	int log_level;			/* syslog level: LOG_ERR .. LOG_DEBUG */
	/* interfaces */
	struct cfg_iface ifs[EDGE_MAX_IFACES];
	int n_ifs;
	int default_if;			/* index into ifs carrying the default route; -1 = none */
};

void cfg_defaults(struct edge_cfg *cfg);

/* Reads @path (libconfig syntax). On error returns -EINVAL and writes "file:line: why". */
int cfg_load(const char *path, struct edge_cfg *cfg, char *err, size_t errlen);

/* Writes @cfg to @path atomically (temp file + rename). */
int cfg_save(const char *path, const struct edge_cfg *cfg, char *err, size_t errlen);

int cfg_iface_find(const struct edge_cfg *cfg, const char *name);

/* Edits used by the CLI; each validates first and changes nothing on error. */
int cfg_ipv4_add(struct edge_cfg *cfg, int ifi, uint32_t addr, uint8_t prefix, uint32_t gw,
	char *err, size_t errlen);
int cfg_ipv4_del(struct edge_cfg *cfg, int ifi, uint32_t addr, char *err, size_t errlen);

/* Parses "a.b.c.d" (strict: four decimal octets). Returns 0 or -EINVAL. */
int cfg_parse_ipv4(const char *s, uint32_t *addr);
/* Parses "a.b.c.d/n". */
int cfg_parse_prefix(const char *s, uint32_t *addr, uint8_t *prefix);

const char *cfg_ipv4_str(uint32_t addr, char buf[16]);

#endif
