/* Port bring-up for PCI NICs and virtual devices alike: EAL arguments from the
 * configuration, queue set-up (one rx queue per worker where the port has them, one tx
 * queue per worker always, so no two lcores share a tx queue), and the TAP mirror. */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "port.h"

#define RX_DESC 1024
#define TX_DESC 1024

/* The ethdev name of a port spec: what comes before the first comma. */
static void spec_name(const char *spec, char *name, size_t len)
{
	size_t n = strcspn(spec, ",");

	snprintf(name, len, "%.*s", (int)n, spec);
}

int port_eal_args(const struct edge_cfg *cfg, const char *prog, char **argv, int max, char *buf,
	size_t buflen)
{
	int argc = 0;
	bool any_pci = false;
	char *p = buf, *end = buf + buflen;

#define ADD(...)                                                                                   \
	do {                                                                                       \
		int n_ = snprintf(p, end - p, __VA_ARGS__);                                        \
		if (argc >= max - 1 || n_ < 0 || n_ >= end - p)                                    \
			return -E2BIG;                                                             \
		argv[argc++] = p;                                                                  \
		p += n_ + 1;                                                                       \
	} while (0)

	ADD("%s", prog);
	ADD("-l");
	ADD("%s", cfg->cores);
	/* no files in /var/run, so several appliances (and tests) coexist */
	if (cfg->hugepages) {
		ADD("--in-memory");
	} else {
		ADD("--no-huge");
		ADD("--no-shconf");
	}
	ADD("-m");
	ADD("%d", cfg->memory_mb);
	for (int i = 0; i < cfg->n_ifs; i++) {
		if (cfg_port_is_pci(cfg->ifs[i].port)) {
			ADD("-a");
			any_pci = true;
		} else {
			ADD("--vdev");
		}
		ADD("%s", cfg->ifs[i].port);
	}
	if (!any_pci)
		ADD("--no-pci");
	/* extra words from the configuration, split on spaces */
	char extra[sizeof(cfg->eal_extra)];
	snprintf(extra, sizeof(extra), "%s", cfg->eal_extra);
	for (char *save, *w = strtok_r(extra, " ", &save); w; w = strtok_r(NULL, " ", &save))
		ADD("%s", w);
#undef ADD
	argv[argc] = NULL;
	return argc;
}

static int queues_setup(uint16_t port, uint16_t nrx, uint16_t ntx, struct rte_mempool *mp,
	char *err, size_t errlen, const char *what)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int ret;

	ret = rte_eth_dev_info_get(port, &info);
	if (ret < 0)
		goto fail;
	if (nrx > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads &
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP);
	} else {
		nrx = 1;
	}
	if (ntx > info.max_tx_queues) {
		snprintf(err, errlen,
			"%s: %u workers need %u tx queues, the port has %u "
			"(af_packet: add qpairs=%u)",
			what, ntx, ntx, info.max_tx_queues, ntx);
		return -EINVAL;
	}
	ret = rte_eth_dev_configure(port, nrx, ntx, &conf);
	if (ret < 0)
		goto fail;
	for (uint16_t q = 0; q < nrx; q++)
		if ((ret = rte_eth_rx_queue_setup(port, q, RX_DESC, rte_eth_dev_socket_id(port),
			     NULL, mp)) < 0)
			goto fail;
	for (uint16_t q = 0; q < ntx; q++)
		if ((ret = rte_eth_tx_queue_setup(port, q, TX_DESC, rte_eth_dev_socket_id(port),
			     NULL)) < 0)
			goto fail;
	ret = rte_eth_dev_start(port);
	if (ret < 0)
		goto fail;
	return nrx;
fail:
	snprintf(err, errlen, "%s: %s", what, rte_strerror(-ret));
	return ret;
}

int port_setup(const struct cfg_iface *ifc, int ifi, unsigned int n_workers, struct rte_mempool *mp,
	struct port_info *pi, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	char name[RTE_DEV_NAME_MAX_LEN], what[160], tapargs[128], mac[RTE_ETHER_ADDR_FMT_SIZE];
	uint16_t want_rx;
	int ret;

	memset(pi, 0, sizeof(*pi));
	spec_name(ifc->port, name, sizeof(name));
	snprintf(what, sizeof(what), "interface %s (%s)", ifc->name, name);
	ret = rte_eth_dev_get_port_by_name(name, &pi->port_id);
	if (ret < 0) {
		snprintf(err, errlen,
			"%s: no such port (not probed: check the PCI address, the "
			"driver binding, or the vdev string)",
			what);
		return -ENODEV;
	}
	rte_eth_dev_info_get(pi->port_id, &info);
	snprintf(pi->driver, sizeof(pi->driver), "%s", info.driver_name);
	want_rx = ifc->rx_queues > 0 ? (uint16_t)ifc->rx_queues : (uint16_t)n_workers;
	if (want_rx > info.max_rx_queues)
		want_rx = info.max_rx_queues;
	ret = queues_setup(pi->port_id, want_rx, n_workers, mp, err, errlen, what);
	if (ret < 0)
		return ret;
	pi->n_rxq = ret;
	pi->n_txq = n_workers;
	pi->open = true;
	rte_eth_promiscuous_enable(pi->port_id); /* best effort: veth/af_packet ignore it */
	rte_eth_macaddr_get(pi->port_id, &pi->mac);

	/* the kernel mirror, with the port's MAC so replies to either reach both */
	snprintf(pi->tap_name, sizeof(pi->tap_name), "%s", ifc->tap);
	rte_ether_format_addr(mac, sizeof(mac), &pi->mac);
	snprintf(tapargs, sizeof(tapargs), "net_tap%d,iface=%s,mac=%s", ifi, ifc->tap, mac);
	ret = rte_dev_probe(tapargs);
	if (ret < 0) {
		snprintf(err, errlen, "%s: cannot create TAP mirror %s: %s", what, ifc->tap,
			rte_strerror(-ret));
		return ret;
	}
	snprintf(name, sizeof(name), "net_tap%d", ifi);
	if (rte_eth_dev_get_port_by_name(name, &pi->tap_port_id) < 0) {
		snprintf(err, errlen, "%s: TAP mirror %s did not appear", what, ifc->tap);
		return -ENODEV;
	}
	pi->tap_open = true;
	snprintf(what, sizeof(what), "interface %s TAP mirror %s", ifc->name, ifc->tap);
	ret = queues_setup(pi->tap_port_id, 1, n_workers, mp, err, errlen, what);
	if (ret < 0)
		return ret;
	pi->tap_ifindex = (int)if_nametoindex(ifc->tap);
	if (pi->tap_ifindex == 0) {
		snprintf(err, errlen, "%s: not visible to the kernel", what);
		return -ENODEV;
	}
	/* IPv6 off until the interface has an address of that family (app_sync_kernel) */
	tap_ipv6(ifc->tap, false);
	ret = tap_link_up(pi->tap_ifindex);
	if (ret < 0) {
		snprintf(err, errlen, "%s: cannot set up: %s", what, strerror(-ret));
		return ret;
	}
	return 0;
}

void port_teardown(struct port_info *pi)
{
	if (pi->tap_open) {
		rte_eth_dev_stop(pi->tap_port_id);
		rte_eth_dev_close(pi->tap_port_id);
		pi->tap_open = false;
	}
	if (pi->open) {
		rte_eth_dev_stop(pi->port_id);
		rte_eth_dev_close(pi->port_id);
		pi->open = false;
	}
}

int port_link(const struct port_info *pi, bool *up, uint32_t *speed_mbps)
{
	struct rte_eth_link link;
	int ret = rte_eth_link_get_nowait(pi->port_id, &link);

	if (ret < 0)
		return ret;
	*up = link.link_status == RTE_ETH_LINK_UP;
	*speed_mbps = link.link_speed;
	return 0;
}
