/* The media server's life cycle, for the appliance: it opens the media ports' sockets on
 * the kernel mirror, registers them and its timer with the control loop, and publishes the
 * SFU tables. The callbridge's side of it is include/media.h. */
#ifndef EDGE_MEDIA_SERVER_H
#define EDGE_MEDIA_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge_config.h"
#include "evloop.h"
#include "media.h"

struct media_server_env {
	void *ctx;
	/* The MAC of the next hop towards @ip out of @ifi: 0, -EAGAIN while ARP is asked
	 * (the server asks again on its tick), -ENETUNREACH. */
	int (*resolve)(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6]);
	/* Sends @len bytes from (@src, @sport) to (@dst, @dport) (network order) when @dst is one
	 * of our own addresses (a leg through our TURN relay: a hairpin in the data plane); any
	 * error, -EHOSTUNREACH among them, sends it through the kernel socket instead. */
	int (*send_own)(void *ctx, uint8_t ifi, uint32_t src, uint16_t sport, uint32_t dst,
		uint16_t dport, const uint8_t *buf, size_t len);
	/* Whether @ip (network order) is one of our own addresses: a path from there is a
	 * guest relayed by our TURN server. May be NULL. */
	bool (*is_own)(void *ctx, uint32_t ip);
	/* The same three for IPv6 legs (issue 18; 16-byte addresses, network order). Each may
	 * be NULL: no IPv6 next hop (such a leg is never published), no hairpin, none ours. */
	int (*resolve6)(void *ctx, uint8_t ifi, const uint8_t ip[16], uint8_t mac[6]);
	int (*send_own6)(void *ctx, uint8_t ifi, const uint8_t src[16], uint16_t sport,
		const uint8_t dst[16], uint16_t dport, const uint8_t *buf, size_t len);
	bool (*is_own6)(void *ctx, const uint8_t ip[16]);
};

/* NULL with the reason in @err. The server serves @loop from now on (its thread). */
struct media_server *media_server_new(struct evloop *loop, const struct media_server_env *env,
	char *err, size_t errlen);
/* (Re)opens the media ports @cfg names: on each media interface a socket on its first IPv4
 * address and one on each of its IPv6 addresses (issue 18), whose host candidates the answers
 * carry. Sockets still wanted stay open with their legs; legs nominated on a socket that went
 * away end (all of them when none is left). 0 or -errno (the reason logged). */
int media_server_config(struct media_server *ms, const struct edge_cfg *cfg);
/* Ends every leg, closes the sockets, waits for the tables' grace period, frees. */
void media_server_free(struct media_server *ms);
/* For the metrics registry: legs by state (waiting for ICE, ICE connected, DTLS, connected,
 * ended), and what the media ports refused. Safe from any thread. */
#define MEDIA_N_STATES 5
struct media_server_stats {
	unsigned int legs[MEDIA_N_STATES];
	uint64_t legs_ended; /* since start */
	uint64_t ice_checks, ice_auth_fail;
	uint64_t unknown_ufrag, dtls_unknown, rtp_early, not_stun, handshakes_refused;
};
void media_server_stats(struct media_server *ms, struct media_server_stats *s);
const char *media_server_state_name(unsigned int state);

/* `callbridge media rotate`: a new DTLS certificate for the legs made from now on. */
int media_server_rotate(struct media_server *ms);

#endif
