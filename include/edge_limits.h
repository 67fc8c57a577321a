/* Compile-time bounds shared by both planes. */
#ifndef EDGE_LIMITS_H
#define EDGE_LIMITS_H

#define EDGE_MAX_IFACES 8   /* interfaces a..h */
#define EDGE_MAX_ADDRS 8    /* IPv4 addresses per interface */
#define EDGE_MAX_ROUTES 16  /* static IPv4 routes per interface */
#define EDGE_MAX_WORKERS 16 /* worker lcores */
#define EDGE_IFNAME_LEN 8
#define EDGE_PORTSPEC_LEN 256
/* The most packets a worker takes from a queue at once (dataplane.burst, 1..this): every
 * per-burst array is this long. */
#define EDGE_MAX_BURST 64
/* dataplane.burst's default, and the burst the benchmarks measure. */
#define EDGE_DEFAULT_BURST 32
/* The most packets taken at once from an internal ring (control plane -> worker injection,
 * worker -> control plane punts and stream data): a ring drain is a burst too. */
#define EDGE_RING_BURST 32

_Static_assert(EDGE_DEFAULT_BURST >= 1 && EDGE_DEFAULT_BURST <= EDGE_MAX_BURST,
	"the default burst must be a valid dataplane.burst");
_Static_assert(EDGE_RING_BURST <= EDGE_MAX_BURST, "a ring drain is at most a burst");

#endif
