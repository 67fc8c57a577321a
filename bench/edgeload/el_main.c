/* edgeload's main: the command line, the back-end, the run and its reports. Exit status 0
 * done, 1 bad parameters or a failed run, 3 authentication failed (see --help). */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "el_args.h"
#include "el_engine.h"
#include "el_report.h"

static volatile sig_atomic_t signals;

/* The first ^C stops the traffic and releases the allocations; the second quits. */
static void on_signal(int sig)
{
	(void)sig;
	if (signals++)
		_exit(130);
	el_stop();
}

static const struct el_backend_ops *backend(const char *name)
{
	if (strcmp(name, "sock") == 0)
		return &el_sock_ops;
	if (strcmp(name, "dpdk") == 0)
		return &el_dpdk_ops;
	return NULL;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		fprintf(stderr, "edgeload: --lcore %d: %s (not pinned)\n", cpu, strerror(errno));
}

/* JSON, CSV and the plot; a failure is said and the others still written. */
static int outputs(const char *argv0, const struct el_cfg *cfg, const struct el_result *r)
{
	char err[256], tmp[] = "/tmp/edgeload-XXXXXX.json";
	const char *json = cfg->json;
	int ret = 0;

	if (cfg->plot && !json) {
		int fd = mkstemps(tmp, 5);

		if (fd >= 0) {
			close(fd);
			json = tmp;
		}
	}
	if (json && el_report_json(json, cfg, r, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgeload: %s\n", err);
		ret = -EIO;
	}
	if (cfg->csv && el_report_csv(cfg->csv, r, err, sizeof(err)) < 0) {
		fprintf(stderr, "edgeload: %s\n", err);
		ret = -EIO;
	}
	if (cfg->plot && json && el_report_plot(argv0, json, cfg->plot, err, sizeof(err)) < 0)
		fprintf(stderr, "edgeload: %s; continuing without it\n", err);
	if (json == tmp)
		unlink(tmp);
	return ret;
}

int main(int argc, char **argv)
{
	static struct el_result res; /* the series is large: not on the stack */
	const struct el_backend_ops *ops;
	struct el_cfg cfg;
	char err[512] = "";
	int ret;

	ret = el_args_parse(argc, argv, &cfg, err, sizeof(err));
	if (ret == 1) {
		el_args_usage(stdout);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "edgeload: %s\n", err);
		return 1;
	}
	ops = backend(cfg.backend);
	if (!ops) {
		fprintf(stderr, "edgeload: --backend %s: not built into this edgeload\n",
			cfg.backend);
		return 1;
	}
	if (cfg.net.lcore >= 0 && strcmp(cfg.backend, "sock") == 0)
		pin(cfg.net.lcore);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = el_run(&cfg, ops, &res, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "edgeload: %s\n", err[0] ? err : strerror(-ret));
		return 1;
	}
	el_report_summary(stdout, &cfg, &res);
	fflush(stdout);
	ret = outputs(argv[0], &cfg, &res);
	if (res.auth_failed)
		return EL_EXIT_AUTH;
	if (res.alloc.ok && !res.bind.ok) {
		fprintf(stderr,
			"edgeload: no channel or permission was granted: nothing relayed "
			"(the errors above say why)\n");
		return 1;
	}
	return ret < 0 ? 1 : 0;
}
