/* edgeload's command line: every option into struct el_cfg, every impossible value refused
 * with the option named, so that a run never starts on parameters it cannot honour. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "el_args.h"

enum {
	O_BACKEND = 256,
	O_SERVER,
	O_CLIENTS,
	O_CLIENT_IP,
	O_CLIENT_PORT,
	O_PEERS,
	O_PEER_IP,
	O_PEER_PORT,
	O_CLIENT_NETNS,
	O_PEER_NETNS,
	O_EAL,
	O_CLIENT_DEV,
	O_PEER_DEV,
	O_LCORE,
	O_USER,
	O_PASSWORD,
	O_REALM,
	O_SECRET,
	O_ALLOC_RATE,
	O_WINDOW,
	O_PATTERN,
	O_PPS,
	O_SIZE,
	O_FRAME_PACKETS,
	O_RATE,
	O_DURATION,
	O_WARMUP,
	O_DRAIN,
	O_PHASE_TIMEOUT,
	O_SEND_IND,
	O_KEEP,
	O_QUIET,
	O_PEER,
	O_OWN,
	O_SERVER_PID,
	O_JSON,
	O_CSV,
	O_PLOT,
	O_HELP,
};

static const struct option el_opts[] = {
	{ "backend", required_argument, NULL, O_BACKEND },
	{ "server", required_argument, NULL, O_SERVER },
	{ "clients", required_argument, NULL, O_CLIENTS },
	{ "allocations", required_argument, NULL, O_CLIENTS },
	{ "client-ip", required_argument, NULL, O_CLIENT_IP },
	{ "client-port", required_argument, NULL, O_CLIENT_PORT },
	{ "peers", required_argument, NULL, O_PEERS },
	{ "peer-ip", required_argument, NULL, O_PEER_IP },
	{ "peer-port", required_argument, NULL, O_PEER_PORT },
	{ "client-netns", required_argument, NULL, O_CLIENT_NETNS },
	{ "peer-netns", required_argument, NULL, O_PEER_NETNS },
	{ "eal", required_argument, NULL, O_EAL },
	{ "client-dev", required_argument, NULL, O_CLIENT_DEV },
	{ "peer-dev", required_argument, NULL, O_PEER_DEV },
	{ "lcore", required_argument, NULL, O_LCORE },
	{ "user", required_argument, NULL, O_USER },
	{ "password", required_argument, NULL, O_PASSWORD },
	{ "realm", required_argument, NULL, O_REALM },
	{ "secret", required_argument, NULL, O_SECRET },
	{ "alloc-rate", required_argument, NULL, O_ALLOC_RATE },
	{ "window", required_argument, NULL, O_WINDOW },
	{ "pattern", required_argument, NULL, O_PATTERN },
	{ "pps", required_argument, NULL, O_PPS },
	{ "size", required_argument, NULL, O_SIZE },
	{ "frame-packets", required_argument, NULL, O_FRAME_PACKETS },
	{ "rate", required_argument, NULL, O_RATE },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "warmup", required_argument, NULL, O_WARMUP },
	{ "drain", required_argument, NULL, O_DRAIN },
	{ "phase-timeout", required_argument, NULL, O_PHASE_TIMEOUT },
	{ "send-indications", no_argument, NULL, O_SEND_IND },
	{ "keep", no_argument, NULL, O_KEEP },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "peer", required_argument, NULL, O_PEER },
	{ "i-own-this-target", no_argument, NULL, O_OWN },
	{ "server-pid", required_argument, NULL, O_SERVER_PID },
	{ "json", required_argument, NULL, O_JSON },
	{ "csv", required_argument, NULL, O_CSV },
	{ "plot", required_argument, NULL, O_PLOT },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

void el_args_usage(FILE *f)
{
	fputs("usage: edgeload --server IP:PORT (--password P | --secret S) [options]\n"
	      "A TURN load generator: allocates, binds channels, relays timestamped traffic between its\n"
	      "clients and its own peers, and reports rates, loss and latency. Sends only to loopback\n"
	      "and 198.18.0.0/15 unless --i-own-this-target.\n\n"
	      "Back-end and addresses:\n"
	      "  --backend sock|dpdk     kernel sockets (default) or DPDK ports\n"
	      "  --server IP:PORT        the TURN server (UDP)\n"
	      "  --clients N             allocations, one client endpoint each (alias --allocations;\n"
	      "                          1..1000000, default 1)\n"
	      "  --client-ip IP[/COUNT]  client addresses (default 127.0.0.1)\n"
	      "  --client-port P         first client port (default: the back-end's choice)\n"
	      "  --peers N               peer endpoints; allocation i uses peer i % N (default 1)\n"
	      "  --peer-ip IP            the peers' address (default 127.0.0.1)\n"
	      "  --peer-port P           first peer port (default: the back-end's choice)\n"
	      "  --client-netns NS, --peer-netns NS   sock: network namespaces of the two sides\n"
	      "  --eal \"ARGS\"            dpdk: EAL arguments\n"
	      "  --client-dev DEV, --peer-dev DEV     dpdk: the two ports (vdev string or PCI address)\n"
	      "  --lcore N               CPU to pin the engine to\n"
	      "  --i-own-this-target     allow targets outside loopback and 198.18.0.0/15\n\n"
	      "Credentials:\n"
	      "  --user U (default edgeload) --password P [--realm R (default: the server's)]\n"
	      "  --secret S              TURN REST API shared secret (username \"<expiry>:<user>\")\n\n"
	      "Allocate and bind:\n"
	      "  --alloc-rate N          Allocate transactions started per second (0: window only)\n"
	      "  --window W              transactions outstanding at most (default 256)\n"
	      "  --send-indications      CreatePermission and Send indications instead of channels\n"
	      "  --phase-timeout S       bound of each control phase (default 60)\n"
	      "  --keep                  do not release the allocations at the end\n\n"
	      "Traffic:\n"
	      "  --pattern audio|video|max|custom   audio: 50 pps x 160 B per allocation; video: 30\n"
	      "                          frames/s of --frame-packets (4) x 1200 B; max: as fast as the\n"
	      "                          back-end takes; custom: --pps N --size B\n"
	      "  --pps N                 packets per second per allocation (implies custom)\n"
	      "  --size B                payload bytes after the ChannelData header (24..2012)\n"
	      "  --rate N                cap on the total packets per second\n"
	      "  --duration S            traffic seconds (default 10)\n"
	      "  --warmup S              traffic before the measured seconds, not counted (default 0)\n"
	      "  --drain MS              wait for late packets after the traffic (default 500)\n"
	      "  --peer echo|sink        peers send everything back (round trip) or count it (default echo)\n\n"
	      "Output:\n"
	      "  --server-pid PID[,PID]  report the server's CPU seconds over the traffic (repeatable)\n"
	      "  --json FILE, --csv FILE, --plot FILE.png   summary, per-second series, plot\n"
	      "  --quiet                 no progress line\n"
	      "  --help\n\n"
	      "Exit status: 0 done, 1 bad parameters or run error, 3 authentication failed.\n",
		f);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *v,
	char *err, size_t errlen)
{
	char *end;

	errno = 0;
	if (*s == '-' || *s == '\0')
		return fail(err, errlen, "--%s: '%s' is not a number", opt, s);
	*v = strtoull(s, &end, 10);
	if (errno || *end)
		return fail(err, errlen, "--%s: '%s' is not a number", opt, s);
	if (*v < lo || *v > hi)
		return fail(err, errlen, "--%s: %s is not %" PRIu64 "..%" PRIu64, opt, s, lo, hi);
	return 0;
}

static int parse_u32(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint32_t *v,
	char *err, size_t errlen)
{
	uint64_t x;
	int ret = parse_u64(opt, s, lo, hi, &x, err, errlen);

	*v = (uint32_t)x;
	return ret;
}

static int parse_secs(const char *opt, const char *s, double lo, double hi, double *v, char *err,
	size_t errlen)
{
	char *end;

	*v = strtod(s, &end);
	if (end == s || *end)
		return fail(err, errlen, "--%s: '%s' is not a number of seconds", opt, s);
	if (!(*v >= lo && *v <= hi))
		return fail(err, errlen, "--%s: %s is not %g..%g seconds", opt, s, lo, hi);
	return 0;
}

static int parse_ip(const char *opt, const char *s, uint32_t *ip, char *err, size_t errlen)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return fail(err, errlen, "--%s: '%s' is not an IPv4 address", opt, s);
	*ip = a.s_addr;
	return 0;
}

static int parse_server(const char *s, struct el_net *net, char *err, size_t errlen)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	uint32_t port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return fail(err, errlen, "--server: '%s' is not IP:PORT", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (parse_ip("server", host, &net->server_ip, err, errlen) < 0 ||
		parse_u32("server", colon + 1, 1, 65535, &port, err, errlen) < 0)
		return -EINVAL;
	net->server_port = (uint16_t)port;
	return 0;
}

static int parse_client_ip(const char *s, struct el_net *net, char *err, size_t errlen)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(host))
		return fail(err, errlen, "--client-ip: '%s' is not IP[/COUNT]", s);
	memcpy(host, s, n);
	host[n] = '\0';
	if (parse_ip("client-ip", host, &net->client_ip, err, errlen) < 0)
		return -EINVAL;
	net->n_client_ips = 1;
	return slash ?
		parse_u32("client-ip", slash + 1, 1, 65536, &net->n_client_ips, err, errlen) :
		0;
}

static int parse_pids(const char *s, struct el_cfg *cfg, char *err, size_t errlen)
{
	char buf[256], *tok, *save = NULL;
	uint32_t pid;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cfg->n_server_pids == EL_MAX_SERVER_PIDS)
			return fail(err, errlen, "--server-pid: more than %d processes",
				EL_MAX_SERVER_PIDS);
		if (parse_u32("server-pid", tok, 1, 4194304, &pid, err, errlen) < 0)
			return -EINVAL;
		cfg->server_pid[cfg->n_server_pids++] = (int)pid;
	}
	return 0;
}

static int parse_pattern(const char *s, struct el_cfg *cfg, char *err, size_t errlen)
{
	static const char *const names[] = { "audio", "video", "max", "custom" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			cfg->pattern = (enum el_pattern)i;
			return 0;
		}
	return fail(err, errlen, "--pattern: '%s' is not audio, video, max or custom", s);
}

static void set_defaults(struct el_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = "sock";
	cfg->net.n_clients = 1;
	cfg->net.n_peers = 1;
	cfg->net.client_ip = htonl(0x7f000001);
	cfg->net.n_client_ips = 1;
	cfg->net.peer_ip = htonl(0x7f000001);
	cfg->net.lcore = -1;
	cfg->user = "edgeload";
	cfg->window = 256;
	cfg->frame_packets = 4;
	cfg->duration_s = 10;
	cfg->drain_ms = 500;
	cfg->phase_timeout_s = 60;
}

/* One option; @sz_set and @pps_set note what the cross-checks need. */
static int parse_one(int c, const char *a, struct el_cfg *cfg, bool *pat_set, char *err,
	size_t errlen)
{
	struct el_net *n = &cfg->net;
	uint32_t v;
	int ret = 0;

	switch (c) {
	case O_BACKEND:
		if (strcmp(a, "sock") && strcmp(a, "dpdk"))
			return fail(err, errlen, "--backend: '%s' is not sock or dpdk", a);
		cfg->backend = a;
		break;
	case O_SERVER:
		return parse_server(a, n, err, errlen);
	case O_CLIENTS:
		return parse_u32("allocations", a, 1, EL_MAX_CLIENTS, &n->n_clients, err, errlen);
	case O_CLIENT_IP:
		return parse_client_ip(a, n, err, errlen);
	case O_CLIENT_PORT:
		ret = parse_u32("client-port", a, 0, 65535, &v, err, errlen);
		n->client_port = (uint16_t)v;
		break;
	case O_PEERS:
		return parse_u32("peers", a, 1, 65535, &n->n_peers, err, errlen);
	case O_PEER_IP:
		return parse_ip("peer-ip", a, &n->peer_ip, err, errlen);
	case O_PEER_PORT:
		ret = parse_u32("peer-port", a, 0, 65535, &v, err, errlen);
		n->peer_port = (uint16_t)v;
		break;
	case O_CLIENT_NETNS:
		n->client_netns = a;
		break;
	case O_PEER_NETNS:
		n->peer_netns = a;
		break;
	case O_EAL:
		n->eal_args = a;
		break;
	case O_CLIENT_DEV:
		n->client_port_dev = a;
		break;
	case O_PEER_DEV:
		n->peer_port_dev = a;
		break;
	case O_LCORE:
		ret = parse_u32("lcore", a, 0, 1023, &v, err, errlen);
		n->lcore = (int)v;
		break;
	case O_USER:
		cfg->user = a;
		break;
	case O_PASSWORD:
		cfg->password = a;
		break;
	case O_REALM:
		cfg->realm = a;
		break;
	case O_SECRET:
		cfg->secret = a;
		break;
	case O_ALLOC_RATE:
		return parse_u32("alloc-rate", a, 0, 10000000, &cfg->alloc_rate, err, errlen);
	case O_WINDOW:
		return parse_u32("window", a, 1, 65536, &cfg->window, err, errlen);
	case O_PATTERN:
		*pat_set = true;
		return parse_pattern(a, cfg, err, errlen);
	case O_PPS:
		return parse_u32("pps", a, 1, 1000000, &cfg->pps, err, errlen);
	case O_SIZE:
		if (parse_u32("size", a, 0, EL_MAX_SIZE, &cfg->size, err, errlen) < 0)
			return -EINVAL;
		if (cfg->size < EL_PAYLOAD_HDR)
			return fail(err, errlen,
				"--size %s: smaller than the %d-byte timestamp header", a,
				EL_PAYLOAD_HDR);
		break;
	case O_FRAME_PACKETS:
		return parse_u32("frame-packets", a, 1, 64, &cfg->frame_packets, err, errlen);
	case O_RATE:
		return parse_u64("rate", a, 1, 100000000, &cfg->rate, err, errlen);
	case O_DURATION:
		return parse_secs("duration", a, 0.001, 86400, &cfg->duration_s, err, errlen);
	case O_WARMUP:
		return parse_secs("warmup", a, 0, 3600, &cfg->warmup_s, err, errlen);
	case O_DRAIN:
		return parse_u32("drain", a, 0, 60000, &cfg->drain_ms, err, errlen);
	case O_PHASE_TIMEOUT:
		return parse_secs("phase-timeout", a, 0.001, 3600, &cfg->phase_timeout_s, err,
			errlen);
	case O_SEND_IND:
		cfg->send_ind = true;
		break;
	case O_KEEP:
		cfg->keep = true;
		break;
	case O_QUIET:
		cfg->quiet = true;
		break;
	case O_PEER:
		if (strcmp(a, "echo") == 0)
			cfg->peer_mode = EL_PEER_ECHO;
		else if (strcmp(a, "sink") == 0)
			cfg->peer_mode = EL_PEER_SINK;
		else
			return fail(err, errlen, "--peer: '%s' is not echo or sink", a);
		break;
	case O_OWN:
		cfg->own_target = true;
		break;
	case O_SERVER_PID:
		return parse_pids(a, cfg, err, errlen);
	case O_JSON:
		cfg->json = a;
		break;
	case O_CSV:
		cfg->csv = a;
		break;
	case O_PLOT:
		cfg->plot = a;
		break;
	default:
		return fail(err, errlen, "unknown option");
	}
	return ret;
}

/* The pattern's packets per second per allocation. */
static double per_alloc_pps(const struct el_cfg *cfg)
{
	switch (cfg->pattern) {
	case EL_PAT_AUDIO:
		return 50;
	case EL_PAT_VIDEO:
		return 30.0 * cfg->frame_packets;
	case EL_PAT_CUSTOM:
		return cfg->pps;
	default:
		return 0;
	}
}

static int check_rates(struct el_cfg *cfg, bool pat_set, char *err, size_t errlen)
{
	double total;

	if (cfg->pps && pat_set && cfg->pattern != EL_PAT_CUSTOM)
		return fail(err, errlen,
			"--pps: only with --pattern custom, not with this pattern");
	if (cfg->pps)
		cfg->pattern = EL_PAT_CUSTOM;
	if (cfg->pattern == EL_PAT_CUSTOM && !cfg->pps)
		return fail(err, errlen, "--pattern custom: needs --pps N");
	if (!cfg->size)
		cfg->size = cfg->pattern == EL_PAT_VIDEO ? 1200 : 160;
	total = per_alloc_pps(cfg) * cfg->net.n_clients;
	if (total > 100e6)
		return fail(err, errlen,
			"--clients %u: %.0f packets per second in all, over "
			"100000000",
			cfg->net.n_clients, total);
	return 0;
}

static int check_ports(const struct el_net *n, char *err, size_t errlen)
{
	uint64_t per_ip = (n->n_clients + n->n_client_ips - 1) / n->n_client_ips;

	if (n->client_port && n->client_port + per_ip - 1 > 65535)
		return fail(err, errlen,
			"--client-port %u: %" PRIu64 " clients per address do not "
			"fit below port 65536",
			n->client_port, per_ip);
	if (n->peer_port && (uint64_t)n->peer_port + n->n_peers - 1 > 65535)
		return fail(err, errlen, "--peer-port %u: %u peers do not fit below port 65536",
			n->peer_port, n->n_peers);
	return 0;
}

static int check_cfg(struct el_cfg *cfg, bool pat_set, char *err, size_t errlen)
{
	char ip[INET_ADDRSTRLEN];

	if (!cfg->net.server_ip)
		return fail(err, errlen, "--server: missing (the TURN server's IP:PORT)");
	inet_ntop(AF_INET, &cfg->net.server_ip, ip, sizeof(ip));
	if (!el_target_ok(cfg->net.server_ip, cfg->own_target))
		return fail(err, errlen,
			"--server %s: not loopback or 198.18.0.0/15 (the lab); "
			"add --i-own-this-target if that server is yours to load",
			ip);
	if (!cfg->password == !cfg->secret)
		return fail(err, errlen, "--password or --secret: exactly one is needed");
	if (strcmp(cfg->backend, "dpdk") == 0 &&
		(!cfg->net.client_port_dev || !cfg->net.peer_port_dev))
		return fail(err, errlen, "--backend dpdk: needs --client-dev and --peer-dev");
	if (check_ports(&cfg->net, err, errlen) < 0)
		return -EINVAL;
	return check_rates(cfg, pat_set, err, errlen);
}

int el_args_parse(int argc, char **argv, struct el_cfg *cfg, char *err, size_t errlen)
{
	bool pat_set = false;
	int c;

	set_defaults(cfg);
	optind = 0; /* glibc: start over (the unit test parses many command lines) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", el_opts, NULL)) != -1) {
		if (c == 'h' || c == O_HELP)
			return 1;
		if (c == '?' || c == ':')
			return fail(err, errlen, "%s: unknown option or missing value (see --help)",
				argv[optind - 1]);
		if (parse_one(c, optarg, cfg, &pat_set, err, errlen) < 0)
			return -EINVAL;
	}
	if (optind < argc)
		return fail(err, errlen, "'%s': unexpected argument (see --help)", argv[optind]);
	return check_cfg(cfg, pat_set, err, errlen);
}
