/* Compile-time bounds shared by both planes. */
#ifndef EDGE_LIMITS_H
#define EDGE_LIMITS_H

#define EDGE_MAX_IFACES 8	/* interfaces a..h */
#define EDGE_MAX_ADDRS 8	/* IPv4 addresses per interface */
#define EDGE_MAX_ROUTES 16	/* static IPv4 routes per interface */
#define EDGE_MAX_WORKERS 16	/* worker lcores */
#define EDGE_IFNAME_LEN 8
#define EDGE_PORTSPEC_LEN 256
/* The most packets a worker takes from a queue at once (dataplane.burst, 1..this): every
 * per-burst array is this long. */
#define EDGE_MAX_BURST 64

#endif
