// The console's one door to the server: JSON over fetch, same origin, the
// session cookie sent by the browser. Every change (POST, PUT, PATCH,
// DELETE) carries the session's CSRF token in X-CSRF-Token; an error answer
// ({"error": {"code", "message", "field", "details"}}) becomes an ApiError.

let csrfToken = null;
let onSignedOut = null;

export function setCsrf(token) {
	csrfToken = token;
}

// Called when the server answers 401 to a signed-in console (the session expired).
export function whenSignedOut(fn) {
	onSignedOut = fn;
}

export class ApiError extends Error {
	constructor(status, body) {
		const e = (body && body.error) || {};
		super(e.message || `the server answered ${status}`);
		this.status = status;
		this.code = e.code || 'http_' + status;
		this.field = e.field || null;
		this.details = e.details || null;
	}
}

export async function api(method, path, body) {
	const headers = { Accept: 'application/json' };
	const init = { method, headers, credentials: 'same-origin' };
	if (body !== undefined) {
		headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	if (method !== 'GET' && method !== 'HEAD' && csrfToken)
		headers['X-CSRF-Token'] = csrfToken;
	let res;
	try {
		res = await fetch('/api/v1' + path, init);
	} catch (err) {
		throw new ApiError(0, { error: { code: 'network', message: 'cannot reach the server: ' + err.message } });
	}
	if (res.status === 204)
		return null;
	let data = null;
	try {
		data = await res.json();
	} catch {
		data = null;
	}
	if (!res.ok) {
		const e = new ApiError(res.status, data);
		if (res.status === 401 && path !== '/session' && onSignedOut)
			onSignedOut(e);
		throw e;
	}
	return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body = {}) => api('POST', path, body);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const del = (path) => api('DELETE', path);

// A query string from an object, leaving out empty values.
export function query(params) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params))
		if (v !== undefined && v !== null && v !== '')
			q.set(k, v);
	const s = q.toString();
	return s ? '?' + s : '';
}

// Tells the server this ticket is being viewed, replied to, or left (presence).
// keepalive lets the "left" of a closing tab reach the server.
export function presence(ticketId, state) {
	const headers = { 'Content-Type': 'application/json' };
	if (csrfToken)
		headers['X-CSRF-Token'] = csrfToken;
	return fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}/presence`, {
		method: 'POST', headers, credentials: 'same-origin', keepalive: true,
		body: JSON.stringify({ state }),
	}).catch(() => null);
}
