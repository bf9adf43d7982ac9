// The login flow, a protected API location and /auth/token over HTTP/3:
// Debian's chromium, driven by playwright-core, forced onto QUIC for
// nginx's TLS origin, against nginx + the spotauth module + the mock
// Spotify, all on 127.0.0.1.
//
//   node t/browser/h3.mjs HTTPS_BASE_URL MOCK_URL SPKI_SHA256_BASE64
//
// HTTPS_BASE_URL is nginx's TLS server (https://127.0.0.1:PORT) with a QUIC
// listener on the same port and the test config's locations, answering every
// response with `X-Protocol: $server_protocol`; MOCK_URL is t/mock_spotify.py
// (plain http: only nginx's origin is forced onto QUIC); the SPKI hash is
// that of nginx's self-signed certificate, which chromium is told to accept.
// Prints one line per check and exits 0 when all pass; on the first failure
// prints "FAIL: ..." and exits 1.
import { chromium } from 'playwright-core';
import { check, ok, runInBrowser, startWatchdog } from './checks.mjs';

const [BASE, MOCK, SPKI] = process.argv.slice(2);
if (!BASE || !MOCK || !SPKI) {
  console.error('usage: node h3.mjs HTTPS_BASE_URL MOCK_URL SPKI_SHA256_BASE64');
  process.exit(2);
}

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 5000;           // any single wait in the page
const TOTAL_MS = 30000;         // the whole run
const RETURN_TO = '/dashboard.html';
const origin = new URL(BASE);

// What makes chromium speak HTTP/3 to nginx here: QUIC enabled and forced for
// nginx's origin (no Alt-Svc discovery, no TCP first), and nginx's throwaway
// certificate accepted by its public key hash (chromium checks QUIC
// certificates like TCP ones; without this every request to nginx fails with
// net::ERR_QUIC_PROTOCOL_ERROR).
const ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-quic', `--origin-to-force-quic-on=${origin.host}`,
  `--ignore-certificate-errors-spki-list=${SPKI}`,
  // No name resolves, so nothing but 127.0.0.1 is reachable.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'];


startWatchdog(TOTAL_MS, 'the HTTP/3 browser test');

// Every response the browser got from nginx (redirects included), in order.
const fromNginx = [];   // {path, status, protocol (X-Protocol header)}

function watch(context) {
  context.on('response', (response) => {
    const url = new URL(response.url());
    if (url.origin !== BASE) return;
    fromNginx.push({ path: url.pathname, status: response.status(),
      protocol: response.headers()['x-protocol'] });
  });
}

function answered(path) {
  const found = fromNginx.filter((r) => r.path === path);
  check(found.length > 0, `the browser got no response from nginx for ${path}`);
  for (const r of found) {
    check(r.protocol === 'HTTP/3.0', `${path} (${r.status}) came over ${r.protocol}, not HTTP/3.0`);
  }
  return found;
}

async function run(browser) {
  const context = await browser.newContext();
  watch(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);

  // 1. /auth/login -> the mock's consent page.
  await page.goto(`${BASE}/auth/login?return_to=${encodeURIComponent(RETURN_TO)}`);
  check(page.url().startsWith(`${MOCK}/authorize?`), `/auth/login led to ${page.url()}, not the consent page`);
  const [login] = answered('/auth/login');
  check(login.status === 302, `/auth/login answered ${login.status}`);
  ok('GET /auth/login over HTTP/3: 302 to the consent page');

  // 2. Agree -> /auth/callback -> back to return_to with the session.
  await page.locator('#agree').waitFor();
  await page.click('#agree');
  await page.waitForURL((u) => u.href === `${BASE}${RETURN_TO}`);
  const [callback] = answered('/auth/callback');
  check(callback.status === 302, `/auth/callback answered ${callback.status}`);
  const [dashboard] = answered(RETURN_TO);
  check(dashboard.status === 200, `${RETURN_TO} answered ${dashboard.status} after the login`);
  const nav = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
  check(nav === 'h3', `the navigation to ${RETURN_TO} used ${nav}, not h3`);
  const cookie = (await context.cookies(BASE)).find((c) => c.name === 'spotauth');
  check(cookie && cookie.httpOnly, 'no HttpOnly session cookie after the callback');
  ok(`consent -> GET /auth/callback over HTTP/3: 302 with the session cookie -> ${RETURN_TO} (200, h3)`);

  // 3. The protected API location and /auth/token, fetched by the page.
  const calls = await page.evaluate(async () => {
    const call = async (path) => {
      const r = await fetch(path, { credentials: 'same-origin', cache: 'no-store' });
      const body = await r.json();
      const entries = performance.getEntriesByName(r.url, 'resource');
      return { status: r.status, protocol: r.headers.get('x-protocol'), body,
        hop: entries.length ? entries[entries.length - 1].nextHopProtocol : null };
    };
    return { me: await call('/api/spotify/v1/me'), token: await call('/auth/token') };
  });
  const { me, token } = calls;
  check(me.status === 200, `/api/spotify/v1/me answered ${me.status}: ${JSON.stringify(me.body)}`);
  check(me.body.id === 'alice', `/api/spotify/v1/me is not alice's profile: ${JSON.stringify(me.body)}`);
  check(me.protocol === 'HTTP/3.0' && me.hop === 'h3', `/api/spotify/v1/me came over ${me.protocol} / ${me.hop}`);
  answered('/api/spotify/v1/me');
  ok(`fetch('/api/spotify/v1/me') over HTTP/3: 200, profile of ${me.body.id} ("${me.body.display_name}")`);

  check(token.status === 200, `/auth/token answered ${token.status}: ${JSON.stringify(token.body)}`);
  check(typeof token.body.access_token === 'string' && token.body.access_token.length > 0,
    `/auth/token has no access_token: ${Object.keys(token.body)}`);
  check(token.body.expires_in > 60, `/auth/token expires_in is ${token.body.expires_in}`);
  check(!('refresh_token' in token.body), '/auth/token answered with a refresh token');
  check(token.protocol === 'HTTP/3.0' && token.hop === 'h3', `/auth/token came over ${token.protocol} / ${token.hop}`);
  answered('/auth/token');
  ok(`fetch('/auth/token') over HTTP/3: 200, an access token for ${token.body.expires_in} s`);

  // 4. Nothing from nginx came any other way.
  const other = fromNginx.filter((r) => r.protocol !== 'HTTP/3.0');
  check(!other.length, `responses not over HTTP/3: ${JSON.stringify(other)}`);
  ok(`all ${fromNginx.length} responses from nginx came over HTTP/3`);
  await context.close();
}

await runInBrowser('h3',
  () => chromium.launch({ executablePath: CHROMIUM, headless: true, timeout: 15000, args: ARGS }), run,
  async () => console.error(`  responses from nginx: ${JSON.stringify(fromNginx)}`));
