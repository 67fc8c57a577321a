/* edgeload's DPDK back-end: the endpoints live on two ethdev ports (memif, af_xdp, af_packet or a
 * PCI NIC), one facing the TURN server's listen address (clients), one its relay address (peers).
 * It speaks just enough Ethernet, ARP, IPv4 and UDP for that, with no kernel on the path. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_udp.h>

#include "el.h"

/* EDGELOAD_UDP_CSUM=0 sends UDP checksums of 0 (legal for IPv4: "none") and skips checking
 * them on receive. Measured in software on this machine's CPU: 33 ns at 20 bytes of payload,
 * 69 ns at 172, 313 ns at 1200, each way; at 1200 bytes it costs more than the rest of a send,
 * so saturation runs at large sizes should turn it off. */
#define DPDK_N_MBUFS 16383 /* 2^n - 1: the mempool's ring is sized best */
#define DPDK_MBUF_CACHE 256
/* one whole frame of EL_MAX_DGRAM bytes of payload in one segment, so rx needs no gathering */
#define DPDK_MBUF_ROOM (RTE_PKTMBUF_HEADROOM + 2304)
#define DPDK_RX_DESC 1024
#define DPDK_TX_DESC 1024
#define DPDK_HDR_LEN                                                                               \
	(sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_udp_hdr))
#define DPDK_LINK_WAIT_MS 10000
#define DPDK_ARP_WAIT_MS 5000
#define DPDK_ARP_RETRY_MS 100
#define DPDK_MAX_ARGS 64
#define DPDK_SPIN_NS 20000 /* recv() polls this long before it sleeps */
/* the lab's range (RFC 2544 benchmarking): ARP is answered for any address in it but the
 * server's, so that the server's gateway and off-subnet clients resolve to us */
#define DPDK_LAB_NET RTE_IPV4(198, 18, 0, 0)
#define DPDK_LAB_MASK RTE_IPV4(255, 254, 0, 0)

enum { DPDK_CLIENT, DPDK_PEER, DPDK_NPORTS };

struct el_backend {
	struct el_net net;
	uint64_t busy_ns; /* when a poll last brought a burst: traffic is flowing */
	uint16_t port[DPDK_NPORTS];
	bool started[DPDK_NPORTS];
	struct rte_ether_addr mac[DPDK_NPORTS]; /* ours */
	struct rte_ether_addr dst[DPDK_NPORTS]; /* the server's side: where we send */
	bool dst_known[DPDK_NPORTS];
	uint16_t client_port;			      /* first client port, host order */
	uint32_t client_ip_h, peer_ip_h, server_ip_h; /* host order, for the arithmetic */
	uint32_t n_client_ports;		      /* client ports per address */
	bool udp_csum;
	uint16_t ip_id;
	unsigned int rx_first; /* which port is polled first: alternates */
	struct rte_mempool *mp;
	/* the last burst's datagrams: their payloads are the engine's until the next recv */
	struct rte_mbuf *held[EL_MAX_BATCH];
	unsigned int n_held;
	struct el_backend_stats st;
};

static bool dpdk_eal_done;   /* rte_eal_init runs once per process, whatever happens later */
static bool dpdk_own_prefix; /* the runtime directory is edgeload-<pid>: ours to remove */

static const char *const dpdk_side[DPDK_NPORTS] = { "client", "peer" };

static bool dpdk_is_vdev(const char *dev)
{
	return strncmp(dev, "net_", 4) == 0;
}

/* The ethdev name of a port string: what comes before the first comma. */
static void dpdk_dev_name(const char *dev, char *name, size_t len)
{
	snprintf(name, len, "%.*s", (int)strcspn(dev, ","), dev);
}

static bool dpdk_has_arg(char **argv, int argc, const char *const *opts)
{
	for (int i = 1; i < argc; i++)
		for (const char *const *o = opts; *o; o++) {
			size_t n = strlen(*o);

			/* "-l0" and "-l 0" alike; a long option ends at its name or at '=' */
			if (strncmp(argv[i], *o, n) == 0 &&
				((*o)[1] != '-' || argv[i][n] == 0 || argv[i][n] == '='))
				return true;
		}
	return false;
}

/* The EAL's arguments: the user's words, then what edgeload needs and the user did not say. The
 * strings stay in static storage: the EAL may keep pointers into them. */
static int dpdk_eal_args(const struct el_net *net, char **argv, char *err, size_t errlen)
{
	static char words[1024], extra[6][320];
	static const char *const prefix_opts[] = { "--file-prefix", "--in-memory", NULL };
	static const char *const pci_opts[] = { "--no-pci", "-a", "--allow", "-b", "--block",
		NULL };
	static const char *const core_opts[] = { "-l", "--lcores", "-c", NULL };
	const char *devs[DPDK_NPORTS] = { net->client_port_dev, net->peer_port_dev };
	bool any_pci = false;
	int argc = 0, nx = 0;

	argv[argc++] = "edgeload";
	if (net->eal_args && strlen(net->eal_args) >= sizeof(words)) {
		snprintf(err, errlen,
			"dpdk: EAL arguments '%.40s...' are too long (at most %zu "
			"characters)",
			net->eal_args, sizeof(words) - 1);
		return -E2BIG;
	}
	snprintf(words, sizeof(words), "%s", net->eal_args ? net->eal_args : "");
	for (char *save, *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		if (argc >= DPDK_MAX_ARGS - 16) {
			snprintf(err, errlen, "dpdk: too many EAL arguments (at most %d)",
				DPDK_MAX_ARGS - 16);
			return -E2BIG;
		}
		argv[argc++] = w;
	}
	bool user_pci = dpdk_has_arg(argv, argc, pci_opts);
	bool user_cores = dpdk_has_arg(argv, argc, core_opts);

	if (!dpdk_has_arg(argv, argc, prefix_opts)) {
		snprintf(extra[nx], sizeof(extra[nx]), "--file-prefix=edgeload-%d", (int)getpid());
		argv[argc++] = extra[nx++];
		dpdk_own_prefix = true;
	}
	if (!user_cores && net->lcore >= 0) {
		snprintf(extra[nx], sizeof(extra[nx]), "-l%d", net->lcore);
		argv[argc++] = extra[nx++];
	}
	for (int i = 0; i < DPDK_NPORTS; i++) {
		if (!dpdk_is_vdev(devs[i])) {
			any_pci = true;
			if (!user_pci) {
				snprintf(extra[nx], sizeof(extra[nx]), "-a%s", devs[i]);
				argv[argc++] = extra[nx++];
			}
			continue;
		}
		if (strlen(devs[i]) >= sizeof(extra[0]) - 8) {
			snprintf(err, errlen, "dpdk: %s port '%.40s...' is too long", dpdk_side[i],
				devs[i]);
			return -E2BIG;
		}
		snprintf(extra[nx], sizeof(extra[nx]), "--vdev=%s", devs[i]);
		argv[argc++] = extra[nx++];
	}
	if (!any_pci && !user_pci)
		argv[argc++] = "--no-pci";
	argv[argc] = NULL;
	return argc;
}

static int dpdk_eal_init(const struct el_net *net, char *err, size_t errlen)
{
	char *argv[DPDK_MAX_ARGS + 1];
	cpu_set_t before;
	int argc, ret;

	if (dpdk_eal_done) {
		snprintf(err, errlen,
			"dpdk: the EAL is initialised once per process: one DPDK "
			"back-end per run");
		return -EALREADY;
	}
	argc = dpdk_eal_args(net, argv, err, errlen);
	if (argc < 0)
		return argc;
	dpdk_eal_done = true;
	pthread_getaffinity_np(pthread_self(), sizeof(before), &before);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		snprintf(err, errlen, "dpdk: EAL init failed: %s (arguments: '%s')",
			rte_strerror(rte_errno), net->eal_args ? net->eal_args : "");
		return -(rte_errno ? rte_errno : EINVAL);
	}
	/* the EAL pins the main thread to its first lcore; no lcore asked: give the CPUs back */
	if (net->lcore < 0)
		pthread_setaffinity_np(pthread_self(), sizeof(before), &before);
	return 0;
}

static int dpdk_port_setup(struct el_backend *b, int side, const char *dev, char *err,
	size_t errlen)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	char name[RTE_DEV_NAME_MAX_LEN];
	uint16_t p, nrx = DPDK_RX_DESC, ntx = DPDK_TX_DESC;
	int ret;

	dpdk_dev_name(dev, name, sizeof(name));
	if (rte_eth_dev_get_port_by_name(name, &p) < 0) {
		snprintf(err, errlen,
			"dpdk: %s port '%s': no such port (not probed: the EAL said "
			"why above; check the PCI address, its driver binding, or the vdev string)",
			dpdk_side[side], name);
		return -ENODEV;
	}
	if (side == DPDK_PEER && p == b->port[DPDK_CLIENT]) {
		snprintf(err, errlen,
			"dpdk: peer port '%s' is the client port too: two ports "
			"are needed",
			name);
		return -EINVAL;
	}
	b->port[side] = p;
	ret = rte_eth_dev_info_get(p, &info);
	if (ret < 0)
		goto fail;
	ret = rte_eth_dev_configure(p, 1, 1, &conf);
	if (ret < 0)
		goto fail;
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(p, &nrx, &ntx);
	if (ret < 0)
		goto fail;
	ret = rte_eth_rx_queue_setup(p, 0, nrx, rte_eth_dev_socket_id(p), NULL, b->mp);
	if (ret < 0)
		goto fail;
	ret = rte_eth_tx_queue_setup(p, 0, ntx, rte_eth_dev_socket_id(p), NULL);
	if (ret < 0)
		goto fail;
	ret = rte_eth_dev_start(p);
	if (ret < 0) {
		if (strcmp(info.driver_name, "net_memif") == 0) {
			snprintf(err, errlen,
				"dpdk: %s port '%s': cannot start: %s (memif: is the "
				"server side, edged with role=server, listening on that socket? "
				"bench/perf_lab.sh up)",
				dpdk_side[side], name, rte_strerror(-ret));
			return ret;
		}
		goto fail;
	}
	b->started[side] = true;
	rte_eth_promiscuous_enable(p); /* best effort: some ports have no such thing */
	rte_eth_macaddr_get(p, &b->mac[side]);
	return 0;
fail:
	snprintf(err, errlen, "dpdk: %s port '%s': %s", dpdk_side[side], name, rte_strerror(-ret));
	return ret;
}

/* memif comes up when the server side (edged) has accepted us: wait, bounded. */
static int dpdk_link_wait(struct el_backend *b, char *err, size_t errlen)
{
	for (int side = 0; side < DPDK_NPORTS; side++) {
		struct rte_eth_link link = { 0 };
		uint64_t end = el_now_ns() + DPDK_LINK_WAIT_MS * 1000000ull;

		for (;;) {
			if (rte_eth_link_get_nowait(b->port[side], &link) == 0 &&
				link.link_status == RTE_ETH_LINK_UP)
				break;
			if (el_now_ns() > end) {
				char name[RTE_DEV_NAME_MAX_LEN] = "?";

				rte_eth_dev_get_name_by_port(b->port[side], name);
				snprintf(err, errlen,
					"dpdk: %s port '%s': link still down after "
					"%d s (memif: is the server side, edged with role=server, "
					"running on that socket?)",
					dpdk_side[side], name, DPDK_LINK_WAIT_MS / 1000);
				return -ETIMEDOUT;
			}
			usleep(10000);
		}
	}
	return 0;
}

static bool dpdk_in_lab(uint32_t ip_h)
{
	return (ip_h & DPDK_LAB_MASK) == DPDK_LAB_NET;
}

/* Which addresses a port answers ARP for: its own endpoints' and, so that the server's gateway
 * and off-subnet clients resolve to us, anything else in the lab's range but the asker's own and
 * the server's. */
static bool dpdk_arp_ours(const struct el_backend *b, int side, uint32_t tip_h, uint32_t sip_h)
{
	if (side == DPDK_CLIENT && tip_h - b->client_ip_h < b->net.n_client_ips)
		return true;
	if (side == DPDK_PEER && tip_h == b->peer_ip_h)
		return true;
	return dpdk_in_lab(tip_h) && tip_h != sip_h && tip_h != b->server_ip_h;
}

static void dpdk_arp_fill(struct rte_mbuf *m, const struct rte_ether_addr *src,
	const struct rte_ether_addr *dst, uint16_t op, uint32_t sip,
	const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);

	rte_ether_addr_copy(src, &eh->src_addr);
	rte_ether_addr_copy(dst, &eh->dst_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(src, &ah->arp_data.arp_sha);
	ah->arp_data.arp_sip = sip;
	rte_ether_addr_copy(tha, &ah->arp_data.arp_tha);
	ah->arp_data.arp_tip = tip;
	m->data_len = m->pkt_len = sizeof(*eh) + sizeof(*ah);
}

static void dpdk_tx_one(struct el_backend *b, int side, struct rte_mbuf *m)
{
	if (rte_eth_tx_burst(b->port[side], 0, &m, 1) == 0) {
		rte_pktmbuf_free(m);
		b->st.tx_dropped++;
	}
}

/* An ARP frame on @side: learn the server side's MAC from it, answer a request for our
 * addresses in place (the mbuf becomes the reply), free anything else. */
static void dpdk_arp_input(struct el_backend *b, int side, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	struct rte_ether_addr sha;
	uint32_t sip, tip;

	b->st.rx_other++;
	if (m->data_len < sizeof(*eh) + sizeof(*ah) ||
		ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
		ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
		ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4)
		goto drop;
	sip = ah->arp_data.arp_sip;
	tip = ah->arp_data.arp_tip;
	rte_ether_addr_copy(&ah->arp_data.arp_sha, &sha);
	/* the client port talks only to the server; the peer port only to the relay side, whose
	 * address we learn from whoever asks or answers there */
	if (side == DPDK_PEER || rte_be_to_cpu_32(sip) == b->server_ip_h) {
		rte_ether_addr_copy(&sha, &b->dst[side]);
		b->dst_known[side] = true;
	}
	if (ah->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
		!dpdk_arp_ours(b, side, rte_be_to_cpu_32(tip), rte_be_to_cpu_32(sip)))
		goto drop;
	dpdk_arp_fill(m, &b->mac[side], &sha, RTE_ARP_OP_REPLY, tip, &sha, sip);
	dpdk_tx_one(b, side, m);
	return;
drop:
	rte_pktmbuf_free(m);
}

/* The endpoint a datagram to @dip:@dport (host order) on @side is for, or -1. */
static int64_t dpdk_ep_of(const struct el_backend *b, int side, uint32_t dip, uint16_t dport)
{
	if (side == DPDK_CLIENT) {
		uint32_t ipi = dip - b->client_ip_h;
		uint32_t pi = (uint16_t)(dport - b->client_port);
		uint64_t ep;

		if (ipi >= b->net.n_client_ips || pi >= b->n_client_ports)
			return -1;
		ep = (uint64_t)pi * b->net.n_client_ips + ipi;
		return ep < b->net.n_clients ? (int64_t)ep : -1;
	}
	uint32_t k = (uint16_t)(dport - b->net.peer_port);

	if (dip != b->peer_ip_h || k >= b->net.n_peers)
		return -1;
	return (int64_t)b->net.n_clients + k;
}

/* The UDP checksum over the pseudo header and @ulen bytes of datagram sums to all ones.
 * (rte_ipv4_udptcp_cksum_verify is still experimental in 22.11, and uses the IP length.) */
static bool dpdk_udp_csum_ok(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *uh,
	uint16_t ulen)
{
	uint32_t sum = __rte_raw_cksum(&ip->src_addr, 8, 0);

	sum += rte_cpu_to_be_16(IPPROTO_UDP) + rte_cpu_to_be_16(ulen);
	sum = __rte_raw_cksum(uh, ulen, sum);
	return __rte_raw_cksum_reduce(sum) == 0xffff;
}

/* One frame from @side: a datagram for an endpoint goes into @d (and its mbuf is held); ARP is
 * answered; anything else is counted and freed. Returns whether @d was filled. */
static bool dpdk_rx_one(struct el_backend *b, int side, struct rte_mbuf *m, struct el_dgram *d)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *uh;
	uint16_t et, ihl, tot, ulen;
	int64_t ep;

	if (m->nb_segs != 1 || m->data_len < sizeof(*eh))
		goto bad;
	et = eh->ether_type;
	if (et == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		dpdk_arp_input(b, side, m);
		return false;
	}
	if (et != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		goto other;
	ip = (const struct rte_ipv4_hdr *)(eh + 1);
	if (m->data_len < sizeof(*eh) + sizeof(*ip) || (ip->version_ihl >> 4) != 4)
		goto bad;
	ihl = (ip->version_ihl & 0xf) * 4;
	tot = rte_be_to_cpu_16(ip->total_length);
	if (ihl < sizeof(*ip) || tot < ihl || tot > m->data_len - sizeof(*eh))
		goto bad;
	if (ip->next_proto_id != IPPROTO_UDP)
		goto other;
	/* a fragment: the engine never sends datagrams that need them */
	if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))
		goto bad;
	uh = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	ulen = rte_be_to_cpu_16(uh->dgram_len);
	if (tot < ihl + sizeof(*uh) || ulen < sizeof(*uh) || ulen > tot - ihl ||
		ulen - sizeof(*uh) > EL_MAX_DGRAM)
		goto bad;
	if (b->udp_csum && uh->dgram_cksum && ihl == sizeof(*ip) && !dpdk_udp_csum_ok(ip, uh, ulen))
		goto bad;
	ep = dpdk_ep_of(b, side, rte_be_to_cpu_32(ip->dst_addr), rte_be_to_cpu_16(uh->dst_port));
	if (ep < 0)
		goto bad;
	if (side == DPDK_PEER && !b->dst_known[side]) {
		rte_ether_addr_copy(&eh->src_addr, &b->dst[side]);
		b->dst_known[side] = true;
	}
	d->ep = (uint32_t)ep;
	d->rip = ip->src_addr;
	d->rport = uh->src_port;
	d->len = ulen - sizeof(*uh);
	d->data = (uint8_t *)(uh + 1);
	return true;
other:
	b->st.rx_other++;
	rte_pktmbuf_free(m);
	return false;
bad:
	b->st.rx_dropped++;
	rte_pktmbuf_free(m);
	return false;
}

static void dpdk_release(struct el_backend *b)
{
	if (b->n_held)
		rte_pktmbuf_free_bulk(b->held, b->n_held);
	b->n_held = 0;
}

static unsigned int dpdk_poll(struct el_backend *b, struct el_dgram *d, unsigned int max)
{
	struct rte_mbuf *pkts[EL_MAX_BATCH];
	unsigned int got = 0;

	b->rx_first ^= 1;
	for (int i = 0; i < DPDK_NPORTS && got < max; i++) {
		int side = (int)(b->rx_first ^ (unsigned int)i);
		uint16_t n = rte_eth_rx_burst(b->port[side], 0, pkts, (uint16_t)(max - got));
		uint64_t now;

		if (!n)
			continue;
		now = el_now_ns();
		for (uint16_t j = 0; j < n; j++) {
			if (j + 1 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[j + 1], void *));
			if (dpdk_rx_one(b, side, pkts[j], &d[got])) {
				d[got++].rx_ns = now;
				b->held[b->n_held++] = pkts[j];
			}
		}
	}
	return got;
}

static unsigned int dpdk_recv(struct el_backend *b, struct el_dgram *d, unsigned int max,
	unsigned int timeout_us)
{
	unsigned int got;
	uint64_t start = 0, end = 0;

	dpdk_release(b);
	if (max > EL_MAX_BATCH)
		max = EL_MAX_BATCH;
	if (!max)
		return 0;
	while ((got = dpdk_poll(b, d, max)) == 0 && timeout_us) {
		uint64_t now = el_now_ns();

		if (!end) {
			start = now;
			end = now + timeout_us * 1000ull;
		} else if (now >= end) {
			break;
		}
		/* two CPUs, shared: spin briefly (an answer from the data plane is a few µs away),
		 * then yield the CPU in short sleeps so the server's control plane can run. While
		 * traffic flows (a burst in the last millisecond) it spins the whole wait: a sleep
		 * on this kind of machine can last milliseconds, and the ports' rings overflow */
		if (now - start < DPDK_SPIN_NS || now - b->busy_ns < 1000000) {
			rte_pause();
		} else {
			uint64_t left = (end - now) / 1000;

			usleep(left < 20 ? (unsigned int)left + 1 : 20);
		}
	}
	if (got >= 8)
		b->busy_ns = el_now_ns();
	return got;
}

static void dpdk_fill_udp(struct el_backend *b, int side, struct rte_mbuf *m,
	const struct el_dgram *d, uint32_t sip, uint16_t sport)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *uh = (struct rte_udp_hdr *)(ip + 1);

	rte_ether_addr_copy(&b->mac[side], &eh->src_addr);
	rte_ether_addr_copy(&b->dst[side], &eh->dst_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*uh) + d->len);
	ip->packet_id = rte_cpu_to_be_16(b->ip_id++);
	ip->fragment_offset = 0;
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->hdr_checksum = 0;
	ip->src_addr = sip;
	ip->dst_addr = d->rip;
	uh->src_port = sport;
	uh->dst_port = d->rport;
	uh->dgram_len = rte_cpu_to_be_16(sizeof(*uh) + d->len);
	uh->dgram_cksum = 0;
	memcpy(uh + 1, d->data, d->len);
	m->data_len = m->pkt_len = DPDK_HDR_LEN + d->len;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (b->udp_csum)
		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
}

static void dpdk_local(const struct el_backend *b, uint32_t ep, uint32_t *ip, uint16_t *port)
{
	if (ep < b->net.n_clients) {
		*ip = rte_cpu_to_be_32(b->client_ip_h + ep % b->net.n_client_ips);
		*port = rte_cpu_to_be_16((uint16_t)(b->client_port + ep / b->net.n_client_ips));
	} else {
		*ip = b->net.peer_ip;
		*port = rte_cpu_to_be_16((uint16_t)(b->net.peer_port + (ep - b->net.n_clients)));
	}
}

/* Returns how many the port took; the rest are freed and counted. */
static uint16_t dpdk_tx_flush(struct el_backend *b, int side, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t sent = 0;

	/* a second try takes what the ring freed meanwhile; never more: send() never blocks */
	for (int t = 0; t < 2 && sent < n; t++)
		sent += rte_eth_tx_burst(b->port[side], 0, pkts + sent, n - sent);
	if (sent < n) {
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		b->st.tx_dropped += n - sent;
	}
	return sent;
}

static unsigned int dpdk_send(struct el_backend *b, const struct el_dgram *d, unsigned int n)
{
	struct rte_mbuf *mb[EL_MAX_BATCH], *out[DPDK_NPORTS][EL_MAX_BATCH];
	uint16_t nout[DPDK_NPORTS] = { 0 };
	uint32_t n_eps = b->net.n_clients + b->net.n_peers;
	unsigned int taken = 0;

	if (n > EL_MAX_BATCH)
		n = EL_MAX_BATCH;
	if (!n)
		return 0;
	if (rte_pktmbuf_alloc_bulk(b->mp, mb, n) != 0)
		return 0; /* the pool is dry: the caller counts these as not sent */
	for (unsigned int i = 0; i < n; i++) {
		int side = d[i].ep < b->net.n_clients ? DPDK_CLIENT : DPDK_PEER;
		uint32_t sip;
		uint16_t sport;

		if (d[i].ep >= n_eps || d[i].len > EL_MAX_DGRAM || !b->dst_known[side]) {
			rte_pktmbuf_free(mb[i]);
			b->st.tx_dropped++;
			continue;
		}
		dpdk_local(b, d[i].ep, &sip, &sport);
		dpdk_fill_udp(b, side, mb[i], &d[i], sip, sport);
		out[side][nout[side]++] = mb[i];
	}
	for (int side = 0; side < DPDK_NPORTS; side++)
		if (nout[side])
			taken += dpdk_tx_flush(b, side, out[side], nout[side]);
	/* what a port did not take is the caller's to count as not sent, not as lost */
	return taken;
}

/* The server's MAC on the client port: ARP for it every 100 ms, for at most 5 s. The peer
 * port needs no such thing: a peer only answers what the relay sent it. */
static int dpdk_resolve_server(struct el_backend *b, char *err, size_t errlen)
{
	static const struct rte_ether_addr bcast = { .addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff,
							     0xff } };
	static const struct rte_ether_addr zero;
	uint64_t start = el_now_ns(), next = start;
	struct el_dgram d[EL_MAX_BATCH];

	while (!b->dst_known[DPDK_CLIENT]) {
		uint64_t now = el_now_ns();

		if (now - start > DPDK_ARP_WAIT_MS * 1000000ull) {
			char ip[16];

			snprintf(ip, sizeof(ip), "%u.%u.%u.%u", b->server_ip_h >> 24,
				(b->server_ip_h >> 16) & 0xff, (b->server_ip_h >> 8) & 0xff,
				b->server_ip_h & 0xff);
			snprintf(err, errlen,
				"dpdk: server %s did not answer ARP on the client "
				"port in %d s (wrong server address, or the wrong port?)",
				ip, DPDK_ARP_WAIT_MS / 1000);
			return -EHOSTUNREACH;
		}
		if (now >= next) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(b->mp);

			if (m) {
				dpdk_arp_fill(m, &b->mac[DPDK_CLIENT], &bcast, RTE_ARP_OP_REQUEST,
					rte_cpu_to_be_32(b->client_ip_h), &zero, b->net.server_ip);
				dpdk_tx_one(b, DPDK_CLIENT, m);
			}
			next = now + DPDK_ARP_RETRY_MS * 1000000ull;
		}
		/* answers ARP meanwhile; a stray datagram is dropped with the burst */
		dpdk_recv(b, d, EL_MAX_BATCH, 1000);
	}
	dpdk_release(b);
	return 0;
}

static int dpdk_check_net(const struct el_net *net, char *err, size_t errlen)
{
	if (!net->client_port_dev || !net->client_port_dev[0] || !net->peer_port_dev ||
		!net->peer_port_dev[0]) {
		snprintf(err, errlen, "dpdk: both a client port and a peer port are needed");
		return -EINVAL;
	}
	if (!net->n_clients || !net->n_client_ips || !net->n_peers) {
		snprintf(err, errlen, "dpdk: %s is 0",
			!net->n_clients		   ? "clients" :
				!net->n_client_ips ? "client addresses" :
						     "peers");
		return -EINVAL;
	}
	uint32_t port = net->client_port ? net->client_port : 10000;
	uint64_t per_ip = (net->n_clients + net->n_client_ips - 1) / net->n_client_ips;

	if (port + per_ip - 1 > 65535) {
		snprintf(err, errlen,
			"dpdk: %u clients on %u addresses need ports %u..%llu: "
			"more client addresses, or a lower first port",
			net->n_clients, net->n_client_ips, port,
			(unsigned long long)(port + per_ip - 1));
		return -ERANGE;
	}
	if ((uint64_t)rte_be_to_cpu_32(net->client_ip) + net->n_client_ips - 1 > UINT32_MAX) {
		snprintf(err, errlen, "dpdk: %u client addresses run past 255.255.255.255",
			net->n_client_ips);
		return -ERANGE;
	}
	if (!net->peer_port || (uint32_t)net->peer_port + net->n_peers - 1 > 65535) {
		snprintf(err, errlen, "dpdk: %u peers from port %u run past port 65535",
			net->n_peers, net->peer_port);
		return -ERANGE;
	}
	return 0;
}

/* The EAL leaves its runtime directory (/var/run/dpdk/<prefix>) behind: one per run, since
 * the prefix names our pid. Only files are in it. */
static void dpdk_rm_runtime_dir(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	rmdir(dir);
}

static void dpdk_eal_fini(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (dpdk_own_prefix && strstr(dir, "/edgeload-"))
		dpdk_rm_runtime_dir(dir);
}

static void dpdk_close(struct el_backend *b)
{
	if (!b)
		return;
	dpdk_release(b);
	for (int side = 0; side < DPDK_NPORTS; side++)
		if (b->started[side]) {
			rte_eth_dev_stop(b->port[side]);
			rte_eth_dev_close(b->port[side]);
		}
	rte_mempool_free(b->mp);
	free(b);
	dpdk_eal_fini();
}

static int dpdk_open(struct el_backend **bp, const struct el_net *net, char *err, size_t errlen)
{
	struct el_backend *b;
	const char *csum = getenv("EDGELOAD_UDP_CSUM");
	int ret;

	*bp = NULL;
	if ((ret = dpdk_check_net(net, err, errlen)) < 0)
		return ret;
	if (csum && strcmp(csum, "0") != 0 && strcmp(csum, "1") != 0) {
		snprintf(err, errlen, "dpdk: EDGELOAD_UDP_CSUM='%s': expected 0 or 1", csum);
		return -EINVAL;
	}
	if ((ret = dpdk_eal_init(net, err, errlen)) < 0)
		return ret;
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "dpdk: out of memory");
		dpdk_eal_fini();
		return -ENOMEM;
	}
	b->net = *net;
	b->udp_csum = !csum || strcmp(csum, "1") == 0;
	b->client_port = net->client_port ? net->client_port : 10000;
	b->client_ip_h = rte_be_to_cpu_32(net->client_ip);
	b->peer_ip_h = rte_be_to_cpu_32(net->peer_ip);
	b->server_ip_h = rte_be_to_cpu_32(net->server_ip);
	b->n_client_ports = (net->n_clients + net->n_client_ips - 1) / net->n_client_ips;
	/* sleeps in recv() are short on purpose: the default 50 µs slack would stretch them */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	b->mp = rte_pktmbuf_pool_create("edgeload", DPDK_N_MBUFS, DPDK_MBUF_CACHE, 0,
		DPDK_MBUF_ROOM, (int)rte_socket_id());
	if (!b->mp) {
		snprintf(err, errlen,
			"dpdk: cannot make a pool of %d mbufs: %s (more memory: "
			"EAL -m)",
			DPDK_N_MBUFS, rte_strerror(rte_errno));
		ret = -ENOMEM;
		goto fail;
	}
	if ((ret = dpdk_port_setup(b, DPDK_CLIENT, net->client_port_dev, err, errlen)) < 0 ||
		(ret = dpdk_port_setup(b, DPDK_PEER, net->peer_port_dev, err, errlen)) < 0 ||
		(ret = dpdk_link_wait(b, err, errlen)) < 0 ||
		(ret = dpdk_resolve_server(b, err, errlen)) < 0)
		goto fail;
	*bp = b;
	return 0;
fail:
	dpdk_close(b);
	return ret;
}

static void dpdk_stats(const struct el_backend *b, struct el_backend_stats *st)
{
	*st = b->st;
	/* what the ports themselves lost: a full receive ring, a dry pool */
	for (int side = 0; side < DPDK_NPORTS; side++) {
		struct rte_eth_stats es;

		if (rte_eth_stats_get(b->port[side], &es) == 0)
			st->rx_dropped += es.imissed + es.rx_nombuf;
	}
}

const struct el_backend_ops el_dpdk_ops = {
	.name = "dpdk",
	.open = dpdk_open,
	.local = dpdk_local,
	.send = dpdk_send,
	.recv = dpdk_recv,
	.stats = dpdk_stats,
	.close = dpdk_close,
};
