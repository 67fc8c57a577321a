/* The worker lcore's main loop: poll every rx queue it owns, run the stages over each
 * burst, send in bursts, report a quiescent state once per pass, and back off when idle
 * so that a two-core machine can run the appliance and its clients together. */
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "dp.h"
#include "edge_rcu.h"
#include "sfu.h"

/* Sends a burst; what the queue does not take is dropped and counted under @full.
 * Returns how many were sent. */
static inline uint16_t send_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n,
	struct dp_if_stats *st, enum dp_drop_reason full)
{
	uint16_t sent = rte_eth_tx_burst(port, queue, pkts, n);

	if (unlikely(sent < n)) {
		st->drops[full] += n - sent;
		rte_pktmbuf_free_bulk(pkts + sent, n - sent);
	}
	return sent;
}

/* To the wire: counted as the interface's transmit. */
static inline void tx_burst(uint16_t port, uint16_t queue, struct rte_mbuf **pkts, uint16_t n,
	struct dp_if_stats *st)
{
	uint64_t bytes = 0;
	uint16_t sent;

	if (n == 0)
		return;
	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	sent = send_burst(port, queue, pkts, n, st, DP_DROP_TX_FULL);
	if (likely(sent == n))
		st->tx_bytes += bytes;
	else
		for (uint16_t i = 0; i < sent; i++)
			st->tx_bytes += pkts[i]->pkt_len;
	st->tx_pkts += sent;
}

static inline void punt(struct dp_worker *w, struct rte_ring *ring, struct rte_mbuf **pkts,
	uint16_t n, struct dp_if_stats *st)
{
	unsigned int q;

	if (n == 0)
		return;
	q = rte_ring_enqueue_burst(ring, (void **)pkts, n, NULL);
	st->punted += q;
	if (q)
		dp_wake_kick(w->cp_wake);
	if (unlikely(q < n)) {
		st->drops[DP_DROP_PUNT_FULL] += n - q;
		rte_pktmbuf_free_bulk(pkts + q, n - q);
	}
}

/* Kernel -> wire: what the TAP mirror sends leaves through its port as it is, but for IPv6
 * from an address that is not ours (yet): dp_kernel_may_send. */
static inline void tap_input(const struct dp_l3 *l3, struct dp_worker *w, uint8_t ifi,
	struct rte_mbuf **pkts, uint16_t n, struct dp_if_stats *st)
{
	const struct dp_if *ifp = &l3->ifs[ifi];
	struct fw_flowtab *flows = dp_fw_flows;
	uint32_t now_s = flows ? (uint32_t)(rte_rdtsc() / rte_get_tsc_hz()) : 0;
	uint16_t k = 0;

	st->from_kernel += n;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);

		if (ifp->v6 && unlikely(!dp_kernel_may_send(ifp, pkts[i]))) {
			st->drops[DP_DROP_KERNEL_SOURCE6]++;
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		pkts[k++] = pkts[i];
		/* the appliance's own connections: their replies pass a default-deny firewall */
		if (!flows)
			continue;
		if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4) &&
			pkts[i]->data_len >= sizeof(*eth) + 20) {
			fw_flow_note_ipv4(flows, eth + 1, pkts[i]->data_len - sizeof(*eth), now_s);
		} else if (eth->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV6) &&
			pkts[i]->data_len >= sizeof(*eth) + 40) {
			/* the kernel's TCP and UDP carry no extension headers */
			const struct rte_ipv6_hdr *ip6 = (const struct rte_ipv6_hdr *)(eth + 1);

			fw_flow_note_ipv6(flows, ip6->src_addr, ip6->dst_addr, ip6->proto,
				(const uint8_t *)(ip6 + 1), pkts[i]->data_len - sizeof(*eth) - 40,
				now_s);
		}
	}
	tx_burst(ifp->port_id, w->id, pkts, k, st);
}

/* Hairpins waiting for the input stages, by the interface whose MAC they carry. A level's
 * queue is run through the stages with its own output (@out), whose hairpins go to @next; the
 * last level has none, so nothing loops. A full queue is run at once, never dropped: one
 * packet from a relayed guest fans out to every other relayed guest. */
struct hairpins {
	struct rte_mbuf *m[EDGE_MAX_IFACES][EDGE_MAX_BURST];
	uint16_t n[EDGE_MAX_IFACES];
	uint8_t mask;
	bool running; /* being run: what it makes goes to @next */
	const struct dp_l3 *l3;
	struct dp_worker *w;
	struct dp_burst_out *out;
	struct hairpins *next;
};

static void hairpin_run(struct hairpins *hp);

/* Sends @n packets out of interface @o, keeping back those addressed to one of our own MACs
 * for @hp (dropped and counted when @hp is NULL: a hairpin of the last level, or an answer
 * to a request, which never hairpins). */
static inline void fwd_burst(const struct dp_l3 *l3, struct dp_worker *w, uint8_t o,
	struct rte_mbuf **pkts, uint16_t n, struct hairpins *hp)
{
	struct dp_if_stats *st = &dp_stats[w->id].ifs[o];
	uint16_t k = 0;

	for (uint16_t i = 0; i < n; i++) {
		const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
		int t = dp_own_mac(l3, &eth->dst_addr);

		if (likely(t < 0)) {
			pkts[k++] = pkts[i];
			continue;
		}
		if (hp && hp->n[t] == EDGE_MAX_BURST && !hp->running)
			hairpin_run(hp);
		if (!hp || hp->n[t] == EDGE_MAX_BURST) {
			st->drops[DP_DROP_HAIRPIN_LOOP]++;
			rte_pktmbuf_free(pkts[i]);
		} else {
			hp->m[t][hp->n[t]++] = pkts[i];
			hp->mask |= 1u << t;
		}
	}
	tx_burst(l3->ifs[o].port_id, w->id, pkts, k, st);
}

/* What a full fwd[] queue is flushed with in the middle of a pass (the SFU's fan-out). */
struct flush_ctx {
	const struct dp_l3 *l3;
	struct dp_worker *w;
	struct hairpins *hp;
};

static void flush_fwd(void *ctx, uint8_t ifi, struct rte_mbuf **pkts, uint16_t n)
{
	struct flush_ctx *f = ctx;

	fwd_burst(f->l3, f->w, ifi, pkts, n, f->hp);
}

/* Everything a pass of the input stages sorted into @out, received on @ifi. Answers to
 * requests (tx: ARP, echo, STUN Binding) go back where they came from and never hairpin. */
static inline void emit(const struct dp_l3 *l3, struct dp_worker *w, uint8_t ifi,
	struct dp_burst_out *out, struct dp_if_stats *st, struct hairpins *hp)
{
	fwd_burst(l3, w, ifi, out->tx, out->n_tx, NULL);
	while (out->fwd_mask) { /* relayed: out of the interface that reaches the far end */
		unsigned int o = __builtin_ctz(out->fwd_mask);

		out->fwd_mask &= out->fwd_mask - 1;
		fwd_burst(l3, w, (uint8_t)o, out->fwd[o], out->n_fwd[o], hp);
		out->n_fwd[o] = 0;
	}
	if (out->n_kernel)
		send_burst(l3->ifs[ifi].tap_port_id, w->id, out->kernel, out->n_kernel, st,
			DP_DROP_KERNEL_FULL);
	punt(w, w->punt_ring, out->punt, out->n_punt, st);
	punt(w, w->data_ring, out->data, out->n_data, st);
}

/* Runs @hp's queues through the input stages as if received on the interface that holds
 * their destination (a relayed guest's media reaches the SFU, whose copy for another relayed
 * guest goes back into the relay: the next level), then the next level's. */
static void hairpin_run(struct hairpins *hp)
{
	struct dp_burst_out *out = hp->out;

	hp->running = true;
	while (hp->mask) {
		unsigned int t = __builtin_ctz(hp->mask);
		struct dp_if_stats *st = &dp_stats[hp->w->id].ifs[t];
		struct flush_ctx fc = { .l3 = hp->l3, .w = hp->w, .hp = hp->next };
		uint16_t n = hp->n[t];

		hp->mask &= hp->mask - 1;
		hp->n[t] = 0;
		out->n_tx = out->n_kernel = out->n_punt = out->n_data = 0;
		out->fwd_mask = 0;
		out->hairpin = true;
		out->flush = flush_fwd;
		out->flush_ctx = &fc;
		st->hairpin_pkts += n;
		dp_port_input(hp->l3, (uint8_t)t, hp->m[t], n, out, st);
		emit(hp->l3, hp->w, (uint8_t)t, out, st, hp->next);
	}
	hp->running = false;
	if (hp->next && hp->next->mask)
		hairpin_run(hp->next);
}

/* Control plane -> wire: packets it built or resolved, each tagged with its out port (one
 * addressed to our own MAC is a hairpin: the media server's answer to a leg that comes
 * through our relay). */
static inline unsigned int inject_input(const struct dp_l3 *l3, struct dp_worker *w,
	struct hairpins *hp)
{
	struct rte_mbuf *pkts[EDGE_RING_BURST];
	unsigned int n = rte_ring_dequeue_burst(w->inject_ring, (void **)pkts, RTE_DIM(pkts), NULL);

	for (unsigned int i = 0; i < n; i++) {
		uint16_t port = pkts[i]->port;
		struct dp_if_stats *st = &dp_stats[w->id].ifs[dp_port_ifi[port]];

		if (dp_port_is_tap[port]) /* to the kernel: not the wire's transmit */
			send_burst(port, w->id, &pkts[i], 1, st, DP_DROP_KERNEL_FULL);
		else
			fwd_burst(l3, w, dp_port_ifi[port], &pkts[i], 1, hp);
	}
	return n;
}

/* The SFU's feedback, sent like a pass's output: transport-cc feedback (every 50 ms:
 * sfu_twcc_tick), NACKs (every 10 ms: sfu_nack_tick) and receiver reports (every second:
 * sfu_rr_tick) to the senders whose legs this worker owns, and the retransmissions other
 * workers' receivers asked of those (sfu_nack_drain). */
static inline unsigned int media_feedback(const struct dp_l3 *l3, struct dp_worker *w,
	struct dp_burst_out *out, struct flush_ctx *fc, struct hairpins *hp)
{
	const struct media_twcc_lcore *tl = media_twcc[rte_lcore_id()];
	const struct media_rtx_lcore *rl = media_rtx_lcore[rte_lcore_id()];
	uint64_t now;
	unsigned int n;

	if (likely(!tl || !rl))
		return 0;
	now = rte_rdtsc();
	if (now < tl->next_tsc && now < rl->next_tsc && rte_ring_empty(rl->ring) &&
		(!media_rr[rte_lcore_id()] || now < media_rr[rte_lcore_id()]->next_tsc))
		return 0; /* most passes: not due, nothing touched */
	out->n_tx = out->n_kernel = out->n_punt = out->n_data = 0;
	out->fwd_mask = 0;
	*fc = (struct flush_ctx){ .l3 = l3, .w = w, .hp = hp };
	out->flush_ctx = fc;
	n = sfu_twcc_tick(l3, now, rte_get_tsc_hz(), out, dp_stats[w->id].ifs);
	n += sfu_nack_tick(l3, now, rte_get_tsc_hz(), out, dp_stats[w->id].ifs);
	n += sfu_nack_drain(l3, now, out, dp_stats[w->id].ifs);
	n += sfu_rr_tick(l3, now, rte_get_tsc_hz(), out, dp_stats[w->id].ifs);
	if (n) {
		/* nothing to answer or punt: interface 0 only names emit()'s unused queues */
		emit(l3, w, 0, out, &dp_stats[w->id].ifs[0], hp);
		if (unlikely(hp->mask))
			hairpin_run(hp);
	}
	return n;
}

/* Sleeps up to @us, or until the control plane injects (it kicks w->wake after its enqueue;
 * the ring is looked at after the flag is set, so no inject waits out a whole sleep).
 * Offline meanwhile, so that grace periods do not wait for an idle core. */
static void idle_sleep(struct dp_worker *w, unsigned int us)
{
	struct pollfd pfd = { .fd = w->wake.fd, .events = POLLIN };
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
	uint64_t v;

	__atomic_store_n(&w->wake.sleeping, 1, __ATOMIC_SEQ_CST);
	if (rte_ring_count(w->inject_ring) == 0) {
		edge_rcu_offline();
		if (ppoll(&pfd, w->wake.fd >= 0, &ts, NULL) > 0)
			(void)!read(w->wake.fd, &v, sizeof(v));
		edge_rcu_online();
	}
	__atomic_store_n(&w->wake.sleeping, 0, __ATOMIC_SEQ_CST);
	w->sleeps++;
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_mbuf *pkts[EDGE_MAX_BURST];
	struct dp_burst_out out = { .fwd_mask = 0 }; /* all zero: n_fwd[] counts from 0 */
	/* three passes' outputs: the wire's, and each hairpin level's */
	static __thread struct dp_burst_out out1, out2;
	struct hairpins hp2 = { .w = w, .out = &out2 };
	struct hairpins hp = { .w = w, .out = &out1, .next = &hp2 };
	struct flush_ctx fc;

	out.flush = flush_fwd;
	/* idle passes in a row, and the back-off's sleep: it starts at 10 us and doubles every
	 * 16 sleeps up to w->idle_sleep_us, so a short gap costs little latency and a long
	 * idle next to no CPU */
	unsigned int idle = 0, sleep_us = 0, at_level = 0;

	edge_rcu_reader_start();
	while (!*w->stop) {
		const struct dp_l3 *l3 = edge_rcu_read(dp_l3_current);
		unsigned int work = 0;

		for (unsigned int q = 0; q < w->n_rxq; q++) {
			const struct dp_rxq *rq = &w->rxq[q];
			struct dp_if_stats *st = &dp_stats[w->id].ifs[rq->ifi];
			uint16_t n = rte_eth_rx_burst(rq->port_id, rq->queue_id, pkts, w->burst);

			if (n == 0)
				continue;
			work += n;
			if (rq->is_tap) {
				tap_input(l3, w, rq->ifi, pkts, n, st);
				continue;
			}
			out.n_tx = out.n_kernel = out.n_punt = out.n_data = 0;
			out.fwd_mask = 0;
			fc = (struct flush_ctx){ .l3 = l3, .w = w, .hp = &hp };
			out.flush_ctx = &fc;
			hp.l3 = hp2.l3 = l3;
			dp_port_input(l3, rq->ifi, pkts, n, &out, st);
			emit(l3, w, rq->ifi, &out, st, &hp);
			if (unlikely(hp.mask))
				hairpin_run(&hp);
		}
		hp.l3 = hp2.l3 = l3;
		work += inject_input(l3, w, &hp);
		if (unlikely(hp.mask))
			hairpin_run(&hp);
		work += media_feedback(l3, w, &out, &fc, &hp);
		w->loops++;
		edge_rcu_quiescent();

		if (work) {
			if (unlikely(sleep_us && 2 * sleep_us >= w->idle_sleep_us)) {
				w->deep_wakes++;
				if (work > w->deep_wake_max)
					w->deep_wake_max =
						(uint16_t)RTE_MIN(work, (unsigned int)UINT16_MAX);
			}
			idle = sleep_us = at_level = 0;
			continue;
		}
		/* Back off: spin a little, then sleep progressively longer. */
		w->idle_loops++;
		if (++idle < 64 || w->idle_sleep_us == 0) {
			rte_pause();
			continue;
		}
		if (sleep_us == 0) {
			sleep_us = RTE_MIN(10u, w->idle_sleep_us);
		} else if (++at_level == 16) {
			sleep_us = RTE_MIN(2 * sleep_us, w->idle_sleep_us);
			at_level = 0;
		}
		idle_sleep(w, sleep_us);
	}
	edge_rcu_reader_stop();
	return 0;
}
