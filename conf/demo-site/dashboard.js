// Dashboard: who is signed in (/auth/session), their top artists (the
// Spotify API through /api/spotify/) and a player panel that gets its token
// the way the Web Playback SDK does (/auth/token).
'use strict';

const $ = (id) => document.getElementById(id);

// --- Messages ----------------------------------------------------------

function notice(kind, text, action) {
  $('notice').className = kind === 'error' ? 'notice error' : 'notice';
  $('notice-text').textContent = text;
  const button = $('notice-action');
  button.hidden = !action;
  if (action) {
    button.textContent = action.label;
    button.onclick = action.run;
  }
  $('notice').hidden = false;
}

function clearNotice() {
  $('notice').hidden = true;
}

// spotauth's 401 codes that mean the session ended (docs/frontend.md).
const ENDED = ['refresh_failed', 'session_expired', 'session_revoked'];

// What to do with an error of spotauth.api(): log in again, or try again.
function apiFailed(e, what, retry) {
  if (!(e instanceof spotauth.ApiError)) throw e;
  if (e.kind === 'login') {
    // The session is over (Spotify refused it, its lifetime is up, or it was
    // signed out elsewhere): back to the landing page, which says so.
    if (ENDED.includes(e.code)) {
      spotauth.leave(e.code);
      return;
    }
    // not_authenticated: no usable session. Sign in and come back here; the
    // body's login_url is where the login starts.
    if (spotauth.login(e.body && e.body.login_url)) return;
    notice('error', 'Spotify keeps refusing this session.', {
      label: 'Connect again',
      run: () => location.assign(spotauth.loginUrl()),
    });
    return;
  }
  if (e.kind === 'retry') {
    // token_endpoint_unavailable (503), Spotify rate limiting (429) or a
    // network failure: the session is fine, try again in a moment.
    const wait = e.body && e.body.retry_after ? `in ${e.body.retry_after} s` : 'in a moment';
    notice('warn', `Spotify is not answering right now. Try again ${wait}.`,
           { label: 'Try again', run: () => { clearNotice(); retry(); } });
    return;
  }
  notice('error', `Could not load ${what}: ${e.message || e.code} (HTTP ${e.status}).`);
}

// --- Who is signed in -----------------------------------------------------

async function loadSession() {
  const s = await spotauth.session();
  if (!s) {
    notice('warn', 'The server could not be reached.', { label: 'Reload', run: () => location.reload() });
    return;
  }
  if (!s.authenticated) {
    if (s.error === 'refresh_failed') {
      spotauth.leave(s.error);
      return;
    }
    // Signed out in another tab, or the session ended since this page loaded.
    if (!spotauth.login()) notice('error', 'You are signed out.', {
      label: 'Connect again', run: () => location.assign(spotauth.loginUrl()),
    });
    return;
  }
  const name = s.user.display_name || s.user.id;
  $('display-name').textContent = name;
  $('user-chip-name').textContent = name;
  const until = new Date(s.expires_at * 1000);
  $('session-info').textContent = `Spotify account “${s.user.id}” · signed in until ${until.toLocaleString([], {
    dateStyle: 'medium', timeStyle: 'short' })}`;
  if (s.error === 'token_endpoint_unavailable') {
    notice('warn', 'Spotify’s accounts service is not answering; some things may fail until it is back.');
  }
}

// --- Top artists ------------------------------------------------------------

function initials(name) {
  return name.replace(/^the\s+/i, '').split(/\s+/).slice(0, 2).map((w) => w[0]).join('').toUpperCase();
}

function hue(name) {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.codePointAt(0)) % 360;
  return h;
}

function artistItem(artist) {
  const li = document.createElement('li');
  const avatar = document.createElement('span');
  avatar.className = 'avatar';
  avatar.textContent = initials(artist.name);
  avatar.style.background = `hsl(${hue(artist.name)} 55% 62%)`;
  const text = document.createElement('div');
  const name = document.createElement('div');
  name.className = 'artist-name';
  name.textContent = artist.name;
  const meta = document.createElement('div');
  meta.className = 'artist-meta';
  const followers = artist.followers ? `${artist.followers.total.toLocaleString()} followers` : '';
  meta.textContent = [(artist.genres || []).slice(0, 2).join(', '), followers].filter(Boolean).join(' · ');
  text.append(name, meta);
  const popularity = document.createElement('span');
  popularity.className = 'popularity';
  popularity.title = `Popularity ${artist.popularity}/100`;
  const fill = document.createElement('span');
  fill.style.width = `${artist.popularity || 0}%`;
  popularity.append(fill);
  li.append(avatar, text, popularity);
  return li;
}

async function loadArtists() {
  const list = $('artists');
  list.setAttribute('aria-busy', 'true');
  try {
    const top = await spotauth.api('/v1/me/top/artists?limit=10');
    spotauth.loginWorked();
    list.classList.remove('skeleton');
    list.replaceChildren(...top.items.map(artistItem));
    if (!top.items.length) list.textContent = 'No top artists yet: listen to some music first.';
    clearNotice();
  } catch (e) {
    apiFailed(e, 'your top artists', loadArtists);
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

// --- Player -----------------------------------------------------------------
// The Spotify Web Playback SDK asks for a token through a callback:
//
//   const player = new Spotify.Player({ name: 'spotauth demo', getOAuthToken });
//
// It calls getOAuthToken(cb) when it connects and again whenever it needs a
// fresh token. /auth/token answers with a token valid for at least a minute
// (nginx refreshes it first if needed). This demo does not load the SDK (no
// external resources): it calls the callback the way the SDK would and only
// shows that a token arrived.

function getOAuthToken(cb) {
  fetch('/auth/token', { credentials: 'same-origin', cache: 'no-store' })
    .then(async (r) => {
      const body = await r.json().catch(() => ({}));
      if (r.ok && body.access_token) {
        playerPanel.ready(body.expires_in);
        cb(body.access_token);
      } else {
        playerPanel.failed(r.status, body.error);
      }
    })
    .catch(() => playerPanel.failed(0, 'network'));
}

const playerPanel = (() => {
  let expiresAt = 0;
  let timer = 0;

  function set(state, text, canRetry = false) {
    $('player-status').dataset.state = state;
    $('player-text').textContent = text;
    $('player-retry').hidden = !canRetry;
  }

  function tick() {
    const left = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
    set('ready', `Player token ready, expires in ${left} s`);
    if (left === 0) {
      // The SDK would ask for a new token now.
      clearInterval(timer);
      connect();
    }
  }

  return {
    ready(expiresIn) {
      expiresAt = Date.now() + expiresIn * 1000;
      clearInterval(timer);
      tick();
      timer = setInterval(tick, 1000);
    },
    failed(status, code) {
      clearInterval(timer);
      if (status === 401) {
        // not_authenticated / refresh_failed: log in again.
        set('error', 'Signed out: connect again to use the player.');
      } else if (status === 503 || status === 0) {
        // token_endpoint_unavailable or no network: try again later.
        set('waiting', 'Spotify is not answering right now. Try again in a moment.', true);
      } else {
        set('error', `No player token (${code || 'HTTP ' + status}).`);
      }
    },
  };
})();

// Stands in for `new Spotify.Player({..., getOAuthToken}).connect()`.
function connect() {
  getOAuthToken((token) => {
    // The SDK would open its connection with `token` here. Keep it out of
    // the DOM, storage and logs.
  });
}

$('player-retry').addEventListener('click', connect);
$('refresh-artists').addEventListener('click', loadArtists);

loadSession();
loadArtists();
connect();
