// Shared helpers of the spotauth demo pages. Plain browser JavaScript, no
// build step. The page never sees the session or a refresh token: nginx keeps
// them in an HttpOnly cookie. See docs/frontend.md for the endpoints.
'use strict';

const spotauth = (() => {
  const LOGIN = '/auth/login';
  // Guards against a login loop: if we sent the browser to the login a few
  // seconds ago and the API still says 401, stop and say so instead.
  const LOOP_KEY = 'spotauth-demo:login-started';
  const LOOP_WINDOW_MS = 15000;

  /** "/auth/login?return_to=<this page>" (or another same-site path). */
  function loginUrl(returnTo, base) {
    const url = new URL(base || LOGIN, location.origin);
    url.searchParams.set('return_to', returnTo || location.pathname + location.search);
    return url.pathname + url.search;
  }

  /** Sends the browser through "Sign in with Spotify" and back to this page.
   *  Returns false (and does nothing) if that just happened: a loop. */
  function login(base) {
    const last = Number(sessionStorage.getItem(LOOP_KEY) || 0);
    if (Date.now() - last < LOOP_WINDOW_MS) return false;
    sessionStorage.setItem(LOOP_KEY, String(Date.now()));
    location.assign(loginUrl(undefined, base));
    return true;
  }

  /** Call once the API answered: the login worked, the loop guard is reset. */
  function loginWorked() {
    sessionStorage.removeItem(LOOP_KEY);
  }

  async function json(response) {
    try {
      return await response.json();
    } catch {
      return {};
    }
  }

  /** GET /auth/session: {authenticated, user?, expires_at?, error?}. Always
   *  200; a network failure counts as "don't know" (null). */
  async function session() {
    try {
      const r = await fetch('/auth/session', { credentials: 'same-origin', cache: 'no-store' });
      return await r.json();
    } catch {
      return null;
    }
  }

  /** An error thrown by api(): kind is "login" (sign in again), "retry" (try
   *  again later) or "fail" (won't work by retrying). */
  class ApiError extends Error {
    constructor(kind, status, code, message, body) {
      super(message);
      this.kind = kind;
      this.status = status;
      this.code = code;
      this.body = body;
    }
  }

  /** GET https://api.spotify.com<path> through nginx (/api/spotify<path>).
   *  Resolves to the parsed JSON; rejects with an ApiError. */
  async function api(path, init = {}) {
    let r;
    try {
      r = await fetch('/api/spotify' + path, {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        ...init,
      });
    } catch (e) {
      throw new ApiError('retry', 0, 'network', 'The server could not be reached.');
    }
    const body = await json(r);
    if (r.ok) return body;
    // Errors made by spotauth: {"error": "code", "error_description": "..."}.
    // Errors passed through from Spotify: {"error": {"status", "message"}}.
    const code = typeof body.error === 'string' ? body.error : 'spotify_error';
    const message = body.error_description || (body.error && body.error.message) || r.statusText;
    if (r.status === 401) {
      // not_authenticated or refresh_failed: the session is gone, sign in again.
      throw new ApiError('login', 401, code, message, body);
    }
    if (r.status === 503 || r.status === 504 || r.status === 429) {
      // token_endpoint_unavailable, Spotify down or rate limiting: transient.
      const wait = Number(r.headers.get('Retry-After')) || 0;
      throw new ApiError('retry', r.status, code, message, { ...body, retry_after: wait });
    }
    throw new ApiError('fail', r.status, code, message, body);
  }

  // Why the browser was sent back to the site: nginx adds
  // ?spotauth_notice=logged_out to a logout's return_to; the dashboard sends
  // the other codes when the API says the session is over. Shown as text,
  // never as HTML: the parameter is in a URL anybody can craft.
  const NOTICE = 'spotauth_notice';
  const NOTICES = {
    logged_out: 'You are signed out. Connect again any time.',
    session_expired: 'Your session has ended. Connect again to continue.',
    session_revoked: 'You were signed out in another tab or on another device. Connect again to continue.',
    refresh_failed: 'Spotify no longer accepts this session (access removed or password changed). Connect again to continue.',
  };

  /** The notice code of this page's URL, if it is a known one; the
   *  parameter is removed from the address bar (and so from bookmarks and
   *  the history) either way. */
  function takeNotice() {
    const url = new URL(location.href);
    const code = url.searchParams.get(NOTICE);
    if (code === null) return '';
    url.searchParams.delete(NOTICE);
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    return Object.hasOwn(NOTICES, code) ? code : '';
  }

  function noticeText(code) {
    return NOTICES[code] || '';
  }

  /** Back to the landing page, which says why (a code of NOTICES). */
  function leave(code) {
    location.assign('/?' + NOTICE + '=' + encodeURIComponent(code));
  }

  /** Shows the element with this id and hides the others given. */
  function show(id, ...others) {
    for (const other of others) document.getElementById(other).hidden = true;
    document.getElementById(id).hidden = false;
  }

  return { loginUrl, login, loginWorked, session, api, ApiError, show, takeNotice, noticeText, leave };
})();
