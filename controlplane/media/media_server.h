/* The media server's life cycle, for the appliance: it opens the media ports' sockets on
 * the kernel mirror, registers them and its timer with the control loop, and publishes the
 * SFU tables. The callbridge's side of it is include/media.h. */
#ifndef EDGE_MEDIA_SERVER_H
#define EDGE_MEDIA_SERVER_H

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
};

/* NULL with the reason in @err. The server serves @loop from now on (its thread). */
struct media_server *media_server_new(struct evloop *loop, const struct media_server_env *env,
	char *err, size_t errlen);
/* (Re)opens the media ports @cfg names; legs on a port that went away end. 0 or -errno (the
 * reason logged). */
int media_server_config(struct media_server *ms, const struct edge_cfg *cfg);
/* Ends every leg, closes the sockets, waits for the tables' grace period, frees. */
void media_server_free(struct media_server *ms);
/* `callbridge media rotate`: a new DTLS certificate for the legs made from now on. */
int media_server_rotate(struct media_server *ms);

#endif
