/* The appliance's side of webbridge3 and the callbridge: starting their threads by role,
 * and the CLI's restart and live tables. */
#include <errno.h>
#include <string.h>

#include "appliance.h"
#include "callbridge/cb.h"
#include "edge_log.h"
#include "media/media_server.h"
#include "webbridge3/wb3.h"

/* webbridge3's thread: the linked callbridges' media ports, for the control loop's tick */
static void media_ports(void *ctx, const struct wb3_media *m, unsigned int n)
{
	struct appliance *app = ctx;

	pthread_mutex_lock(&app->media_lock);
	app->n_media = 0;
	for (unsigned int i = 0; i < n && i < APP_MAX_MEDIA; i++)
		app->media[app->n_media++] = (struct turn_media_target){ .ip = m[i].ip,
			.port = m[i].port };
	__atomic_store_n(&app->media_changed, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&app->media_lock);
	if (n > APP_MAX_MEDIA)
		LOG_WARN("webbridge3", "%u media ports announced: only the first %d are reachable "
			"by guests", n, APP_MAX_MEDIA);
}

void app_web_stop(struct appliance *app)
{
	/* the callbridge first: its guests' legs end while the web bridge still carries them */
	cb_stop(app->cb);
	app->cb = NULL;
	wb3_stop(app->wb3);
	app->wb3 = NULL;
}

static int web_restart(void *ctx, const char *component, FILE *out)
{
	struct appliance *app = ctx;

	if (!strcmp(component, "webbridge3")) {
		if (!app->wb3) {
			fprintf(out, "webbridge3: not on this appliance (role %s)\n",
				cfg_role_name(app->cfg.role));
			return -ENOTSUP;
		}
		return wb3_restart(app->wb3, &app->cfg, out);
	}
	if (!app->cb) {
		fprintf(out, "%s: not on this appliance (role %s)\n", component,
			cfg_role_name(app->cfg.role));
		return -ENOTSUP;
	}
	/* webadmin lives in the callbridge's thread: both restart together */
	return cb_restart(app->cb, &app->cfg, out);
}

static void web_info(void *ctx, const char *what, FILE *out)
{
	struct appliance *app = ctx;

	if (!strcmp(what, "webbridge3 connections") && app->wb3)
		wb3_connections(app->wb3, out);
	else if (!strcmp(what, "callbridge calls") && app->cb)
		cb_show_calls(app->cb, out);
	else if (!strcmp(what, "callbridge participants") && app->cb)
		cb_show_participants(app->cb, out);
	else if (!strcmp(what, "callbridge media") && app->cb)
		media_show(app->mediasrv, out);
	else if (!strcmp(what, "callbridge media rotate") && app->cb) {
		if (!app->mediasrv || media_server_rotate(app->mediasrv) < 0)
			fprintf(out, "callbridge media rotate: no media server to rotate\n");
		else
			fprintf(out, "callbridge media rotate: legs made from now on use a new "
				"certificate\n");
	}
	else
		fprintf(out, "%s: not on this appliance (role %s)\n", what,
			cfg_role_name(app->cfg.role));
}

/* after app->cfg changed: the administrators the web admin knows */
static void on_config(void *ctx)
{
	struct appliance *app = ctx;

	if (app->cb)
		cb_admins(app->cb, &app->cfg);
}

static bool webadmin_running(void *ctx)
{
	struct appliance *app = ctx;

	return app->cb && cb_webadmin_running(app->cb);
}

int app_web_start(struct appliance *app)
{
	static struct web_cli_ops ops = {
		.restart = web_restart,
		.info = web_info,
		.webadmin_running = webadmin_running,
	};
	int ret;

	ops.ctx = app;
	if ((ret = web_cli_register(&app->cli, &ops)) < 0 ||
		(ret = app_on_config(app, on_config, app)) < 0)
		return ret;
	if (app->cfg.role != EDGE_ROLE_CORE) {
		const struct wb3_services svc = { .ctx = app, .media_ports = media_ports };

		app->wb3 = wb3_start(&app->cfg, &svc);
		if (!app->wb3)
			return -ENOMEM;
	}
	if (app->cfg.role != EDGE_ROLE_EDGE) {
		app->cb = cb_start(&app->cfg, app->mediasrv);
		if (!app->cb)
			return -ENOMEM;
	}
	return 0;
}
