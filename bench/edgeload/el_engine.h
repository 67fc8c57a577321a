/* edgeload's engine: the run's configuration (from the command line, el_args.c), its result
 * (for el_report.c) and the run itself over one back-end (el.h). */
#ifndef EDGE_EL_ENGINE_H
#define EDGE_EL_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <arpa/inet.h>

#include "el.h"
#include "el_stats.h"

enum el_pattern { EL_PAT_AUDIO, EL_PAT_VIDEO, EL_PAT_MAX, EL_PAT_CUSTOM };
enum el_peer_mode { EL_PEER_ECHO, EL_PEER_SINK };
enum el_phase { EL_PH_ALLOCATE, EL_PH_BIND, EL_PH_TRAFFIC, EL_PH_DRAIN, EL_PH_RELEASE, EL_PH_MAX };

#define EL_MAX_CLIENTS 1000000
#define EL_MAX_SERVER_PIDS 8
#define EL_MAX_ERR_CODES 16	/* distinct error codes counted per phase */
#define EL_PAYLOAD_HDR 24	/* magic, allocation, sequence, tx timestamp */
#define EL_SEND_IND_OVERHEAD 36 /* a Send indication's header, XOR-PEER-ADDRESS, DATA header */
#define EL_MAX_SIZE (EL_MAX_DGRAM - EL_SEND_IND_OVERHEAD)

struct el_cfg {
	struct el_net net;
	const char *backend; /* "sock" or "dpdk" */
	const char *user, *password, *realm, *secret;
	uint32_t alloc_rate; /* Allocate transactions started per second; 0: window only */
	uint32_t window;     /* transactions outstanding at most */
	enum el_pattern pattern;
	uint32_t pps;		/* per allocation (custom pattern) */
	uint32_t size;		/* payload bytes after the ChannelData header */
	uint32_t frame_packets; /* video: packets per frame */
	uint64_t rate;		/* total packets per second cap; 0: none */
	double duration_s;
	double warmup_s; /* traffic before the measurement, not counted */
	uint32_t drain_ms;
	double phase_timeout_s; /* each control phase, beyond its paced length */
	bool send_ind, keep, quiet, own_target;
	enum el_peer_mode peer_mode;
	int server_pid[EL_MAX_SERVER_PIDS];
	unsigned int n_server_pids;
	const char *json, *csv, *plot;
};

/* A control phase's figures. */
struct el_phase_result {
	uint64_t ok, failed, timeouts, retransmits, stale_nonce;
	struct {
		uint16_t code;
		uint64_t n;
	} err[EL_MAX_ERR_CODES]; /* error responses */
	unsigned int n_err;
	double seconds; /* first request to last answer */
	struct el_hist lat;
};

struct el_result {
	uint32_t n_allocs;
	struct el_phase_result alloc, bind, release;
	uint64_t auth_failed; /* 401 to an authenticated request */
	uint64_t refreshes, refresh_failed;
	/* the traffic phase */
	double traffic_s;
	uint64_t sent, tx_refused, pacer_skipped;
	uint64_t rx_peer, rx_client; /* relayed client->peer (at the peers), peer->client */
	uint64_t lost, reordered, duplicated, bad_payload, unmatched, tx_other;
	uint64_t echoed;	/* sent back by echo peers */
	uint64_t relay_outside; /* relay addresses refused: outside the lab */
	uint32_t active;	/* allocations bound, that sent traffic */
	struct el_hist lat;	/* round trip (echo) or one way (sink) */
	struct el_backend_stats be;
	double cpu_self_s, cpu_self_traffic_s, cpu_server_s;
	bool cpu_server_valid;
	bool aborted; /* hit the hard deadline or a signal */
	struct el_series series;
};

/* Runs @cfg over @ops; fills @res. 0, a negative errno with @err saying why (the back-end's
 * open, a relay address outside the lab), or EL_EXIT_AUTH when authentication failed. */
#define EL_EXIT_AUTH 3
int el_run(const struct el_cfg *cfg, const struct el_backend_ops *ops, struct el_result *res,
	char *err, size_t errlen);
/* Asks a run in progress to stop its traffic and release (from a signal handler). */
void el_stop(void);

/* Whether edgeload may send to @ip (network order): loopback and 198.18.0.0/15, or anything
 * with --i-own-this-target (@own). */
static inline bool el_target_ok(uint32_t ip, bool own)
{
	uint32_t h = ntohl(ip);

	return own || (h >> 24) == 127 || (h >> 17) == (0xc612u >> 1);
}

#endif
