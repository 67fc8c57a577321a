/* edged: the appliance daemon. Reads the configuration, starts DPDK and the ports, launches
 * the worker lcores, then runs the control plane's event loop on the main lcore until
 * SIGTERM or SIGINT, when it stops the workers and releases every port. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include <systemd/sd-daemon.h>

#include "appliance.h"
#include "ctl.h"
#include "edge_log.h"
#include "edge_rcu.h"
#include "evloop.h"
#include "hw.h"
#include "nbr.h"
#include "turn_tables.h"

static struct appliance app;

/* Packet buffers and rings, sized so that a worker's whole burst always fits: a burst leaves
 * the mempool cache in one go and lands in any ring in one enqueue. */
#define MBUFS_PER_PORT 8192
#define MBUF_CACHE 256
#define PUNT_RING 4096	 /* workers -> control plane (ARP, TURN stream data) */
#define INJECT_RING 1024 /* control plane -> one worker */
_Static_assert(EDGE_MAX_BURST <= MBUF_CACHE && EDGE_MAX_BURST < INJECT_RING &&
		EDGE_MAX_BURST < PUNT_RING,
	"a burst must fit the mempool cache and every ring");

static void on_signal(int sig)
{
	(void)sig;
	app.stop = true;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s -c FILE [-t]\n"
		"  -c FILE   configuration (libconfig syntax; see config/lab.conf)\n"
		"  -t        check the configuration, and this box for it, and exit (1: the file is\n"
		"            wrong; 3: the file is good, the box lacks something for it)\n"
		"exit status when running: 1 could not start; 4 the callbridge's database cannot\n"
		"be used (corrupt, of a newer schema, a migration that failed: said on stderr)\n",
		prog);
}

/* Gives every worker its rx queues: port queues round robin, each TAP to one worker. */
static void assign_queues(struct appliance *a)
{
	unsigned int next = 0;

	for (int i = 0; i < a->cfg.n_ifs; i++) {
		for (uint16_t q = 0; q < a->ports[i].n_rxq; q++) {
			struct dp_worker *w = &a->workers[next++ % a->n_workers];
			w->rxq[w->n_rxq++] =
				(struct dp_rxq){ a->ports[i].port_id, q, (uint8_t)i, false };
		}
		struct dp_worker *w = &a->workers[i % a->n_workers];
		w->rxq[w->n_rxq++] =
			(struct dp_rxq){ a->ports[i].tap_port_id, 0, (uint8_t)i, true };
	}
}

/* a worker punted while the loop slept: what it punted is drained by the loop's next pass */
static void on_wake(void *ctx, int fd, short revents)
{
	uint64_t v;

	(void)ctx;
	(void)revents;
	(void)!read(fd, &v, sizeof(v));
}

static int start(int argc, char **argv)
{
	char *eal_argv[64], eal_buf[2048], err[512];
	int eal_argc, ret;
	unsigned int lcore;

	eal_argc = port_eal_args(&app.cfg, argv[0], eal_argv, 64, eal_buf, sizeof(eal_buf));
	if (eal_argc < 0) {
		LOG_ERRX("mgmt", "EAL arguments too long");
		return -E2BIG;
	}
	(void)argc;
	ret = rte_eal_init(eal_argc, eal_argv);
	if (ret < 0) {
		LOG_ERRX("mgmt", "DPDK EAL failed to start: %s", rte_strerror(rte_errno));
		return -rte_errno;
	}
	app.n_workers = rte_lcore_count() - 1;
	if (app.n_workers == 0 || app.n_workers > EDGE_MAX_WORKERS) {
		LOG_ERRX("mgmt",
			"eal.cores '%s': need 2..%d lcores (the first runs the control "
			"plane, the others are workers)",
			app.cfg.cores, EDGE_MAX_WORKERS + 1);
		return -EINVAL;
	}
	app.tsc_hz = rte_get_timer_hz();
	app.mp = rte_pktmbuf_pool_create("mbufs", MBUFS_PER_PORT * (app.cfg.n_ifs + 1) - 1,
		MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!app.mp) {
		LOG_ERRX("mgmt", "cannot allocate packet buffers: %s (raise eal.memory_mb)",
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	app.punt_ring = rte_ring_create("punt", PUNT_RING, rte_socket_id(), RING_F_SC_DEQ);
	app.data_ring = rte_ring_create("turn-data", PUNT_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (!app.punt_ring || !app.data_ring)
		return -ENOMEM;
	app.cp_wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (app.cp_wake.fd < 0)
		return -errno;
	ret = evloop_add_fd(app.loop, app.cp_wake.fd, POLLIN, on_wake, NULL);
	if (ret < 0)
		return ret;
	for (int i = 0; i < app.cfg.n_ifs; i++) {
		ret = port_setup(&app.cfg.ifs[i], i, app.n_workers, app.mp, &app.ports[i], err,
			sizeof(err));
		if (ret < 0) {
			LOG_ERRX("mgmt", "%s", err);
			return ret;
		}
		dp_port_ifi[app.ports[i].port_id] = (uint8_t)i;
		dp_port_ifi[app.ports[i].tap_port_id] = (uint8_t)i;
		dp_port_is_tap[app.ports[i].tap_port_id] = true;
		char mac[RTE_ETHER_ADDR_FMT_SIZE];
		rte_ether_format_addr(mac, sizeof(mac), &app.ports[i].mac);
		LOG_INFO_("mgmt", "interface %s: port %u (%s) %s, mirror %s, %u rx queues",
			app.cfg.ifs[i].name, app.ports[i].port_id, app.ports[i].driver, mac,
			app.ports[i].tap_name, app.ports[i].n_rxq);
	}
	ret = nbr_init(12);
	if (ret < 0)
		return ret;
	/* the firewall's flow table and every worker's hit counters, before any packet */
	dp_fw_flows = fw_flowtab_create(65536);
	if (!dp_fw_flows)
		return -ENOMEM;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		dp_fw_counters[lcore] = rte_zmalloc("fw_counters",
			EDGE_MAX_IFACES * sizeof(struct fw_counters), RTE_CACHE_LINE_SIZE);
		if (!dp_fw_counters[lcore])
			return -ENOMEM;
	}
	ret = app_sync_kernel(&app, NULL, &app.cfg, err, sizeof(err));
	if (ret < 0) {
		LOG_ERRX("mgmt", "%s", err);
		return ret;
	}
	ret = app_publish_l3(&app, &app.cfg);
	if (ret < 0)
		return ret;

	unsigned int w = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		struct dp_worker *wk = &app.workers[w];
		char name[32];

		snprintf(name, sizeof(name), "inject%u", w);
		wk->id = w;
		wk->lcore_id = lcore;
		wk->punt_ring = app.punt_ring;
		wk->data_ring = app.data_ring;
		wk->inject_ring = rte_ring_create(name, INJECT_RING, rte_socket_id(),
			RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (!wk->inject_ring)
			return -ENOMEM;
		wk->burst = app.cfg.burst;
		wk->idle_sleep_us = app.cfg.idle_sleep_us;
		wk->stop = &app.stop;
		wk->cp_wake = &app.cp_wake;
		wk->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (wk->wake.fd < 0)
			return -errno;
		w++;
	}
	assign_queues(&app);
	pthread_mutex_init(&app.media_lock, NULL); /* webbridge3's thread and the tick share it */
	/* the registry and the CLI first: each component registers its counters and commands */
	if (app_metrics_start(&app) < 0) /* logged; the appliance runs without them */
		LOG_WARN("mgmt", "metrics: the registry is incomplete");
	app.cli.metrics = app.metrics;
	if ((ret = app_cli_register(&app)) < 0)
		return ret;
	ret = app_turn_start(&app);
	if (ret < 0)
		return ret;
	ret = app_media_start(&app);
	if (ret < 0)
		return ret;
	ret = app_web_start(&app);
	if (ret < 0)
		return ret;
	ret = app_obs_start(&app);
	if (ret < 0)
		return ret;
	w = 0;
	RTE_LCORE_FOREACH_WORKER(lcore)
	rte_eal_remote_launch(dp_worker_main, &app.workers[w++], lcore);
	return 0;
}

/* offline while blocked, so grace periods never wait for this thread */
static void rcu_offline(void *ctx)
{
	(void)ctx;
	edge_rcu_offline();
}

static void rcu_online(void *ctx)
{
	(void)ctx;
	edge_rcu_online();
}

/* Every 100 ms: neighbour expiry and ARP retries (components register their own ticks). */
static void on_tick(void *ctx)
{
	app_timers(ctx);
}

/* ---------------- systemd: readiness and the watchdog ---------------- */

/* What the watchdog saw of each worker at its last pass: a worker polls (loops) or sleeps
 * (sleeps) all the time, so a count that stands still means the lcore is stuck. */
static struct {
	uint64_t period_ms;
	uint64_t seen[EDGE_MAX_WORKERS];
	uint64_t stuck_since[EDGE_MAX_WORKERS]; /* ms of the pass that first saw it stand */
	bool logged[EDGE_MAX_WORKERS];
} wd;

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Twice a WatchdogSec: the control loop is alive (it runs this), so systemd is told so. A
 * data plane worker that stopped polling is no reason to restart the control plane: it is
 * logged (once, and again when it recovers). */
static void on_watchdog(void *ctx)
{
	struct appliance *a = ctx;
	uint64_t now = now_ms();

	for (unsigned int w = 0; w < a->n_workers; w++) {
		const struct dp_worker *wk = &a->workers[w];
		uint64_t c = __atomic_load_n(&wk->loops, __ATOMIC_RELAXED) +
			__atomic_load_n(&wk->sleeps, __ATOMIC_RELAXED);

		if (c != wd.seen[w]) {
			if (wd.logged[w])
				LOG_NOTE("mgmt", "data plane worker %u (lcore %u) polls again", w,
					wk->lcore_id);
			wd.seen[w] = c;
			wd.stuck_since[w] = 0;
			wd.logged[w] = false;
			continue;
		}
		if (!wd.stuck_since[w])
			wd.stuck_since[w] = now;
		else if (!wd.logged[w] && now - wd.stuck_since[w] >= wd.period_ms) {
			LOG_ERRX("mgmt",
				"data plane worker %u (lcore %u) has not polled for %lu ms", w,
				wk->lcore_id,
				(unsigned long)(now - wd.stuck_since[w] + wd.period_ms));
			wd.logged[w] = true;
		}
	}
	sd_notify(0, "WATCHDOG=1");
}

/* Under systemd (Type=notify, WatchdogSec): a timer that keeps the watchdog fed. */
static int watchdog_start(struct appliance *a)
{
	uint64_t usec = 0;
	int r = sd_watchdog_enabled(0, &usec);

	if (r <= 0)
		return r;
	wd.period_ms = usec / 2000 ? usec / 2000 : 1;
	r = evloop_add_timer(a->loop, wd.period_ms, on_watchdog, a);
	if (r < 0)
		return r;
	LOG_INFO_("mgmt", "systemd watchdog: fed every %lu ms", (unsigned long)wd.period_ms);
	return 0;
}

/* `debug stall <seconds>`: the control loop blocks, as a stuck one would (the watchdog's
 * test). The data plane keeps relaying meanwhile. */
static int debug_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	long n;
	char *end;

	(void)cli;
	(void)ctx;
	if (argc != 3 || strcmp(argv[1], "stall")) {
		fprintf(out, "error: debug: %s (usage: debug stall <1-30>)\n",
			argc == 2 && !strcmp(argv[1], "stall") ? "missing <seconds>" :
				argc > 3		       ? "too many words" :
								 "expected stall <seconds>");
		return -EINVAL;
	}
	n = strtol(argv[2], &end, 10);
	if (*end || n < 1 || n > 30) {
		fprintf(out, "error: debug stall: '%s': seconds must be 1..30\n", argv[2]);
		return -EINVAL;
	}
	LOG_WARN("mgmt", "debug stall: the control loop blocks for %ld s", n);
	sleep((unsigned int)n);
	fprintf(out, "the control loop was stalled for %ld s\n", n);
	return 0;
}

/* `hardware`: what this box has for the data plane and what it lacks (hw.h). */
static int hardware_cli(struct cli *cli, void *ctx, int argc, char **argv, FILE *out)
{
	static struct hw_report r; /* 4 KB: the control loop's, one page at a time */
	int rc;

	(void)cli;
	(void)ctx;
	if (argc != 1) {
		fprintf(out, "error: hardware: '%s': the command takes no word\n", argv[1]);
		return -EINVAL;
	}
	if ((rc = hw_probe("/", &r)) < 0) {
		fprintf(out, "error: hardware: /sys cannot be read: %s\n", strerror(-rc));
		return rc;
	}
	hw_print(&r, out);
	return 0;
}

static const struct cli_command hardware_command = { "hardware", "hardware",
	"the CPU, isolated cores, hugepages, IOMMU and NICs the data plane needs, with fixes",
	hardware_cli, NULL, NULL, NULL, NULL };

static const struct cli_command debug_command = { "debug", "debug stall <seconds>",
	"block the control loop for 1..30 s (tests the service's watchdog)", debug_cli, NULL, NULL,
	NULL, NULL };

/* Drains the punt rings between passes of the event loop. While they bring work the loop
 * only looks at its descriptors; when they are empty it sleeps until a descriptor, a timer
 * or a worker's kick (app.cp_wake: the flag is set before the rings are looked at again, so
 * a punt that races the sleep always wakes it). */
static void control_loop(void)
{
	edge_rcu_reader_start();
	evloop_set_block_hooks(app.loop, rcu_offline, rcu_online, NULL);
	while (!app.stop) {
		long wait_us = 0;

		if (app_drain_punts(&app) == 0) {
			__atomic_store_n(&app.cp_wake.sleeping, 1, __ATOMIC_SEQ_CST);
			if (rte_ring_count(app.punt_ring) == 0 &&
				rte_ring_count(app.data_ring) == 0)
				wait_us = -1;
			else /* raced: no sleep, so no worker need write the eventfd */
				__atomic_store_n(&app.cp_wake.sleeping, 0, __ATOMIC_SEQ_CST);
		}
		evloop_run_once(app.loop, wait_us);
		if (wait_us)
			__atomic_store_n(&app.cp_wake.sleeping, 0, __ATOMIC_SEQ_CST);
	}
	edge_rcu_offline();
}

static void stop_all(struct ctl_server *ctl)
{
	app.stop = true;
	rte_eal_mp_wait_lcore();
	if (ctl)
		ctl_close(ctl);
	app_obs_stop(&app);
	app_web_stop(&app);
	app_media_stop(&app);
	app_metrics_stop(&app);
	if (app.turn)
		app_turn_stop(&app);
	for (int i = 0; i < app.cfg.n_ifs; i++)
		port_teardown(&app.ports[i]);
	edge_rcu_barrier();
	turn_tables_fini();
	nbr_fini();
	rte_eal_cleanup();
	evloop_free(app.loop);
	app.loop = NULL;
}

/* edged -t, once the file parses: what it needs from this box (issue 19), one line a check.
 * 0: nothing lacks; 3: the file is good, the box lacks something for it (1 stays for a file
 * that is not). */
static int check_box(const char *path)
{
	static struct hw_report r;
	unsigned int lacks;
	int ret = hw_probe("/", &r);

	if (ret < 0) {
		printf("note cannot read /proc and /sys (%s): the box was not checked\n",
			strerror(-ret));
		printf("edged: %s: configuration OK (%d interfaces)\n", path, app.cfg.n_ifs);
		return 0;
	}
	lacks = hw_check_config("/", &r, &app.cfg, stdout);
	if (lacks) {
		printf("edged: %s: configuration OK, but this box lacks %u thing%s for it (see "
		       "above)\n",
			path, lacks, lacks == 1 ? "" : "s");
		return 3;
	}
	printf("edged: %s: configuration OK (%d interfaces)\n", path, app.cfg.n_ifs);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	bool check_only = false;
	struct ctl_server ctl;
	char err[512];
	int opt, ret;

	while ((opt = getopt(argc, argv, "c:th")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check_only = true;
			break;
		default:
			usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!path) {
		usage(argv[0]);
		return 2;
	}
	if (cfg_load(path, &app.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "edged: %s\n", err);
		return 1;
	}
	if (check_only)
		return check_box(path);
	snprintf(app.cfg_path, sizeof(app.cfg_path), "%s", path);
	if (edge_log_open(app.cfg.log_target, app.cfg.log_file, app.cfg.log_level) < 0) {
		fprintf(stderr, "edged: cannot open log file %s: %s\n", app.cfg.log_file,
			strerror(errno));
		return 1;
	}
	/* TURN over TCP/TLS holds a descriptor per client: as many as the system lets us */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	app.started = time(NULL);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	app.loop = evloop_new();
	if (!app.loop || evloop_add_timer(app.loop, 100, on_tick, &app) < 0) {
		LOG_ERRX("mgmt", "cannot allocate the control loop");
		return 1;
	}
	cli_init(&app.cli, &app.cfg, &app_cli_ops, &app);
	ret = start(argc, argv);
	if (ret < 0) {
		stop_all(NULL);
		/* 4: a database that restarting will not mend (edged.service:
		 * RestartPreventExitStatus) */
		return app.db_refused ? 4 : 1;
	}
	ret = ctl_open(&ctl, app.cfg.ctl_socket, &app.cli, app.loop);
	if (ret < 0) {
		LOG_ERRX("mgmt", "control socket %s: %s", app.cfg.ctl_socket, strerror(-ret));
		stop_all(NULL);
		return 1;
	}
	if (cli_register(&app.cli, &hardware_command) < 0)
		LOG_WARN("mgmt", "the hardware command could not be registered");
	if (cli_register(&app.cli, &debug_command) < 0 || watchdog_start(&app) < 0)
		LOG_WARN("mgmt", "the debug command or the systemd watchdog could not be set up");
	LOG_INFO_("mgmt", "edged started: %d interfaces, %u workers, control socket %s",
		app.cfg.n_ifs, app.n_workers, app.cfg.ctl_socket);
	/* systemd (Type=notify): the ports are up and the control socket listens */
	sd_notifyf(0, "READY=1\nSTATUS=%d interfaces, %u workers\nMAINPID=%lu", app.cfg.n_ifs,
		app.n_workers, (unsigned long)getpid());
	control_loop();
	sd_notify(0, "STOPPING=1");
	LOG_INFO_("mgmt", "edged stopping");
	stop_all(&ctl);
	LOG_INFO_("mgmt", "edged stopped");
	edge_log_close();
	return 0;
}
