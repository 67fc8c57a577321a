/* The appliance's side of webbridge3 and the callbridge: starting their threads by role,
 * and the CLI's restart and live tables. */
#include <errno.h>
#include <string.h>

#include "appliance.h"
#include "callbridge/cb.h"
#include "edge_log.h"
#include "webbridge3/wb3.h"

int app_web_start(struct appliance *app)
{
	if (app->cfg.role != EDGE_ROLE_CORE) {
		app->wb3 = wb3_start(&app->cfg);
		if (!app->wb3)
			return -ENOMEM;
	}
	if (app->cfg.role != EDGE_ROLE_EDGE) {
		app->cb = cb_start(&app->cfg);
		if (!app->cb)
			return -ENOMEM;
	}
	return 0;
}

void app_web_stop(struct appliance *app)
{
	/* the callbridge first: its guests' legs end while the web bridge still carries them */
	cb_stop(app->cb);
	app->cb = NULL;
	wb3_stop(app->wb3);
	app->wb3 = NULL;
}

int app_web_restart(void *ctx, const char *component, FILE *out)
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

void app_web_info(void *ctx, const char *what, FILE *out)
{
	struct appliance *app = ctx;

	if (!strcmp(what, "webbridge3 connections") && app->wb3)
		wb3_connections(app->wb3, out);
	else if (!strcmp(what, "callbridge calls") && app->cb)
		cb_show_calls(app->cb, out);
	else if (!strcmp(what, "callbridge participants") && app->cb)
		cb_show_participants(app->cb, out);
	else
		fprintf(out, "%s: not on this appliance (role %s)\n", what,
			cfg_role_name(app->cfg.role));
}

void app_web_config(struct appliance *app)
{
	if (app->cb)
		cb_admins(app->cb, &app->cfg);
}

bool app_webadmin_running(void *ctx)
{
	struct appliance *app = ctx;

	return app->cb && cb_webadmin_running(app->cb);
}
