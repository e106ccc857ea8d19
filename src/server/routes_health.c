/*
 * Probes and metrics: /healthz (the process answers), /readyz (the store is
 * reachable with a current schema, and the server is not draining), and
 * /metrics (the Prometheus text format). All three are public, meant for
 * the load balancer and the scraper; put them behind the network's rules.
 */
#include "server_int.h"
#include "monitor/monitor.h"
#include "store/store.h"

static void healthz(struct server_req *r)
{
	server__reply_json(r, 200, json_pack("{s:s, s:s, s:I}", "status", "ok", "version", FL_VERSION,
					     "uptime_s",
					     (json_int_t)((fl_wall_us() - r->srv->started_us) / 1000000)));
}

static void readyz(struct server_req *r)
{
	struct store *st;
	int rc, version = 0;

	if (server_draining(r->srv)) {
		server__unavailable(r, 5, "draining: the server is shutting down");
		return;
	}
	st = server__store(r);
	rc = store_ping(st);
	if (rc != STORE_OK) {
		fl_log(FL_LOG_WARN, "readiness: store not ready: %s", store_errmsg(st));
		server__unavailable(r, 5, rc == STORE_EVERSION ? "the store's schema is not current"
							       : "the store is unreachable");
		return;
	}
	store_schema_version(st, &version);
	server__reply_json(r, 200, json_pack("{s:s, s:s, s:i}", "status", "ready", "store",
					     store_backend(st), "schema_version", version));
}

static void metrics(struct server_req *r)
{
	struct fl_buf b = FL_BUF_INIT;

	if (!fl_config_bool("METRICS_ENABLED", true)) {
		server__not_found(r, "metrics are disabled (METRICS_ENABLED=false);", NULL);
		return;
	}
	monitor_registry_expose(r->srv->registry, &b);
	server__reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.buf, b.len);
	fl_buf_release(&b);
}

const struct server_route server__health_routes[] = {
	{ "GET", "/healthz", healthz, SERVER_ROLE_PUBLIC, SERVER_ROUTE_NO_LOG | SERVER_ROUTE_NO_STORE, "liveness: the process answers" },
	{ "GET", "/readyz", readyz, SERVER_ROLE_PUBLIC, SERVER_ROUTE_NO_LOG,
	  "readiness: store reachable, schema current, not draining" },
	{ "GET", "/metrics", metrics, SERVER_ROLE_PUBLIC, SERVER_ROUTE_NO_LOG | SERVER_ROUTE_NO_STORE,
	  "Prometheus metrics (text format 0.0.4)" },
	{ NULL, NULL, NULL, 0, 0, NULL },
};
