/*
 * Matching a request against the route table. Patterns are literal
 * segments and {name} segments that capture one non-empty segment; a last
 * segment {name...} captures the rest of the path (one segment or more: the
 * console's files). When several patterns match a path, the one with more
 * literal segments wins, so /api/v1/kb/search is never taken for
 * /api/v1/kb/{id}, and a {name...} pattern loses to every other. A path that
 * exists under other methods gives 405 with an Allow list, not 404 (a
 * {name...} pattern alone does not make it exist: POST /nothing stays 404).
 */
#include <string.h>

#include "server_int.h"

/* Whether the pattern segment p (plen bytes) is a rest capture, {name...}. */
static bool is_rest(const char *p, size_t plen)
{
	return plen >= 6 && p[0] == '{' && !memcmp(p + plen - 4, "...}", 4);
}

/*
 * Walks pattern and path segment by segment; captures into m when capture
 * is set. *literals counts the literal segments, and is -1 for a match by
 * a rest capture.
 */
static bool path_matches(const char *pattern, const char *path, struct server_match *m,
			 bool capture, int *literals)
{
	const char *p = pattern, *s = path;

	*literals = 0;
	while (*p == '/' && *s == '/') {
		const char *pe, *se;
		size_t plen, slen;

		p++;
		s++;
		pe = strchr(p, '/');
		se = strchr(s, '/');
		plen = pe ? (size_t)(pe - p) : strlen(p);
		slen = se ? (size_t)(se - s) : strlen(s);
		if (!pe && is_rest(p, plen)) {
			if (!*s)
				return false;
			if (capture && m->nparams < SERVER_MAX_PARAMS)
				m->params[m->nparams++] = fl_strdup(s);
			*literals = -1;
			return true;
		}
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			if (!slen)
				return false;
			if (capture && m->nparams < SERVER_MAX_PARAMS)
				m->params[m->nparams++] = fl_strndup(s, slen);
		} else {
			if (plen != slen || memcmp(p, s, plen))
				return false;
			(*literals)++;
		}
		p += plen;
		s += slen;
	}
	return !*p && !*s;
}

const struct server_route *server_route_match(const struct server_route *table, const char *method,
					      const char *path, struct server_match *m)
{
	const struct server_route *best = NULL, *r;
	int best_literals = -2, literals;
	size_t alen = 0;

	memset(m, 0, sizeof(*m));
	for (r = table; r->method; r++) {
		if (!path_matches(r->path, path, NULL, false, &literals))
			continue;
		if (strcmp(r->method, method)) {
			size_t n = strlen(r->method);

			if (literals < 0)
				continue;
			m->path_matched = true;
			if (!strstr(m->allow, r->method) && alen + n + 3 < sizeof(m->allow)) {
				if (alen)
					memcpy(m->allow + alen, ", ", 2), alen += 2;
				memcpy(m->allow + alen, r->method, n + 1);
				alen += n;
			}
			continue;
		}
		if (literals > best_literals) {
			best = r;
			best_literals = literals;
		}
	}
	/* a path another method serves answers 405, not the rest capture's file */
	if (best && best_literals < 0 && m->path_matched)
		best = NULL;
	if (best) {
		path_matches(best->path, path, m, true, &literals);
		m->route = best;
		m->path_matched = true;
	}
	/* HEAD is GET without the body (libmicrohttpd drops it) */
	if (!best && !strcmp(method, "HEAD"))
		return server_route_match(table, "GET", path, m);
	return best;
}

void server_match_release(struct server_match *m)
{
	size_t i;

	for (i = 0; i < m->nparams; i++)
		free(m->params[i]);
	m->nparams = 0;
	m->route = NULL;
}
