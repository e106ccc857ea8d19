// Sign-in: email and password, POST /api/v1/session; the answer carries the
// user and the session's CSRF token (the cookie is HttpOnly).
import { html, useState } from '../../vendor/vendor.js';
import { post } from '../api.js';

export function SignIn({ onSignedIn }) {
	const [email, setEmail] = useState('');
	const [password, setPassword] = useState('');
	const [error, setError] = useState(null);
	const [busy, setBusy] = useState(false);

	const submit = async (e) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			onSignedIn(await post('/session', { email, password }));
		} catch (err) {
			setError(err.status === 429 ? 'Too many attempts: wait a moment and try again.' : err.message);
		} finally {
			setBusy(false);
		}
	};
	return html`<main id="main" class="signin" tabindex="-1">
		<form onSubmit=${submit} class="card" aria-labelledby="signin-title">
			<h1 id="signin-title">Sign in to Frontline</h1>
			<label for="email">Email</label>
			<input id="email" name="email" type="email" autocomplete="username" required
				value=${email} onInput=${(e) => setEmail(e.target.value)} />
			<label for="password">Password</label>
			<input id="password" name="password" type="password" autocomplete="current-password" required
				value=${password} onInput=${(e) => setPassword(e.target.value)} />
			${error ? html`<p class="error" role="alert">${error}</p>` : null}
			<button type="submit" class="primary" disabled=${busy}>Sign in</button>
		</form>
	</main>`;
}
