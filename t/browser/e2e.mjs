// End-to-end test of the demo site in a real browser: Debian's chromium,
// driven by playwright-core, against nginx + the spotauth module + the mock
// Spotify, all on 127.0.0.1.
//
//   node t/browser/e2e.mjs BASE_URL MOCK_URL SCREENSHOT_PATH
//
// BASE_URL is nginx serving conf/demo-site with the locations of
// conf/demo.conf; MOCK_URL is t/mock_spotify.py (its control API is used to
// read tokens and stats and to expire tokens). Prints one line per check and
// exits 0 when all pass; on the first failure prints "FAIL: ..." and exits 1
// (a screenshot of the page then goes next to SCREENSHOT_PATH as
// *-failure.png).
import { chromium } from 'playwright-core';
import {
  Failure, check, launchLocalChromium, ok, runInBrowser, screenshotOpenPage, startWatchdog,
} from './checks.mjs';

const [BASE, MOCK, SCREENSHOT] = process.argv.slice(2);
if (!BASE || !MOCK || !SCREENSHOT) {
  console.error('usage: node e2e.mjs BASE_URL MOCK_URL SCREENSHOT_PATH');
  process.exit(2);
}

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 5000;           // any single wait in the page
const TOTAL_MS = 45000;         // the whole run
const COOKIE_NAMES = ['spotauth', '__Host-spotauth'];

// --- bookkeeping ------------------------------------------------------------

let currentPage = null;

startWatchdog(TOTAL_MS, 'the browser test');

// --- the mock's control API ---------------------------------------------------

async function mock(path, body) {
  const init = body === undefined
    ? { signal: AbortSignal.timeout(WAIT_MS) }
    : { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
        signal: AbortSignal.timeout(WAIT_MS) };
  const r = await fetch(MOCK + path, init);
  check(r.ok, `mock ${path} answered ${r.status}`);
  return r.json();
}

// Every token the mock has handed out during the run, by kind. Collected
// whenever new ones may exist (expired ones are no longer listed).
const accessTokens = new Set();
const refreshTokens = new Set();

async function collectTokens(user) {
  const t = await mock(`/_mock/tokens?user=${encodeURIComponent(user)}`);
  t.access_tokens.forEach((x) => accessTokens.add(x));
  t.refresh_tokens.forEach((x) => refreshTokens.add(x));
  return t;
}

const refreshCalls = async () => (await mock('/_mock/stats')).token_calls.refresh_token;

// --- what the browser received ----------------------------------------------

const requests = [];   // URLs the browser asked for
const responses = [];  // {url, path, origin, status, headers: Promise<object>, body: Promise<Body>}
const offHost = [];    // anything not on 127.0.0.1
const pageErrors = []; // uncaught exceptions and CSP violations
// How each request ended: a promise of {failure: null} once it finished
// (its response fully received) or {failure: 'net::ERR_...'} once the
// browser gave up on it, e.g. a subresource cancelled by a navigation.
const outcomes = new Map();
const settle = new Map();
const inFlight = new Set();

// The body of a response, read as soon as it exists: {text} when read;
// otherwise {error, failure}. Chromium's DevTools keep a body only while
// its document lives, so a body still unread when the page navigates is
// gone ("No resource with given identifier found"); settled() makes every
// navigation of the test wait for the reads. A request the browser aborted
// after its headers (failure set) never delivered its body to the page, so
// nothing can leak through it; a request that finished must be readable.
async function readBody(response) {
  const status = response.status();
  if (status >= 300 && status < 400) return { text: '' };   // redirects have no body
  const read = response.body().then((b) => ({ text: b.toString('utf8') }),
    (e) => ({ error: String(e.message).split('\n')[0] }));
  const [result, { failure }] = await Promise.all([read, outcomes.get(response.request())]);
  // 204 and 304 answers have no body, and Chromium keeps none.
  if (result.error && !failure && (status === 204 || status === 304)) return { text: '' };
  return { ...result, failure };
}

function watch(context) {
  const mine = new Set();
  context.on('request', (request) => {
    const url = request.url();
    requests.push(url);
    inFlight.add(request);
    mine.add(request);
    outcomes.set(request, new Promise((resolve) => settle.set(request, (outcome) => {
      inFlight.delete(request);
      mine.delete(request);
      resolve(outcome);
    })));
    if (!/^(data|about|blob):/.test(url) && new URL(url).hostname !== '127.0.0.1') offHost.push(url);
  });
  context.on('requestfinished', (request) => settle.get(request)?.({ failure: null }));
  context.on('requestfailed', (request) => settle.get(request)?.({ failure: request.failure()?.errorText || 'failed' }));
  // Nothing more arrives for a closed context's requests.
  context.on('close', () => mine.forEach((request) => settle.get(request)({ failure: 'context closed' })));
  context.on('response', (response) => {
    const url = new URL(response.url());
    responses.push({
      url: response.url(),
      path: url.pathname,
      origin: url.origin,
      status: response.status(),
      // All headers as received; the ones Chromium passed with the response
      // when it has no raw ones.
      headers: response.allHeaders().catch(() => response.headers()),
      body: readBody(response),
    });
  });
  context.on('page', (page) => {
    page.on('pageerror', (e) => pageErrors.push(`${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) {
        pageErrors.push(`${page.url()}: ${m.text()}`);
      }
    });
  });
}

// Before anything that navigates away or closes a context: every request
// seen so far has finished or failed and every body received is read.
async function settled() {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const waiting = [...outcomes.values(), ...responses.map((r) => r.body), ...responses.map((r) => r.headers)];
    const count = outcomes.size + responses.length;
    let timer;
    const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now())); });
    const done = await Promise.race([Promise.all(waiting), timeout]);
    clearTimeout(timer);
    if (done === 'timeout') {
      const open = [...inFlight].map((r) => r.url());
      throw new Failure(`requests or body reads still pending after ${WAIT_MS / 1000} s: ${open.slice(0, 5).join(', ')}`);
    }
    if (outcomes.size + responses.length === count) return;
  }
}

async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  watch(context);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);
  currentPage = page;
  return { context, page };
}

function sameUrl(expected) {
  return (url) => url.href === expected;
}

// The "Connect" part: the mock's consent page, then back to the site.
async function consent(page, user) {
  await page.waitForURL((u) => u.href.startsWith(`${MOCK}/authorize?`));
  await page.locator('#agree').waitFor();
  check(await page.inputValue('input[name="user"]') === 'alice', 'consent page: user field is not prefilled with alice');
  if (user !== 'alice') await page.fill('input[name="user"]', user);
  await settled();
  await page.click('#agree');
}

async function artistNames(page) {
  await page.locator('#artists[aria-busy="false"] .artist-name').first().waitFor();
  return page.locator('#artists .artist-name').allTextContents();
}

// The mock's own answer for this user's top artists: what the page must show.
async function expectedArtists(user) {
  // The newest: the one this browser's login was just given (earlier
  // tests may have left the user other tokens, with other scopes).
  const { access_tokens: tokens } = await collectTokens(user);
  const token = tokens[tokens.length - 1];
  check(token, `the mock lists no access token for ${user}`);
  const r = await fetch(`${MOCK}/v1/me/top/artists?limit=10`, {
    headers: { Authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(WAIT_MS),
  });
  check(r.ok, `mock top artists answered ${r.status}`);
  return (await r.json()).items.map((a) => a.name);
}

async function playerSeconds(page) {
  const text = page.locator('#player-text');
  await page.locator('#player-status[data-state="ready"]').waitFor();
  const m = /^Player token ready, expires in (\d+) s$/.exec((await text.textContent()).trim());
  check(m, `player panel says "${await text.textContent()}"`);
  return Number(m[1]);
}

// What the Web Playback SDK would get: calls the page's getOAuthToken(cb).
function sdkToken(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error('getOAuthToken never called back')), 4000);
    window.getOAuthToken(resolve);
  }));
}

async function sessionCookie(context) {
  return (await context.cookies(BASE)).find((c) => COOKIE_NAMES.includes(c.name));
}

// No token anywhere the page's code or its user could see it, except the
// access token in /auth/token's answer. Returns the responses whose bodies
// the browser never got (requests it aborted after their headers).
async function checkNoTokenLeaks(page, where) {
  const all = [...accessTokens, ...refreshTokens];
  check(all.length >= 2, 'no tokens collected from the mock');
  const found = (text) => all.filter((t) => text.includes(t));

  const html = await page.content();
  check(!found(html).length, `${where}: a token appears in the page HTML`);
  const storage = await page.evaluate(() => JSON.stringify([{ ...localStorage }, { ...sessionStorage }, document.cookie]));
  check(!found(storage).length, `${where}: a token appears in localStorage, sessionStorage or document.cookie`);

  await settled();
  for (const url of requests) check(!found(url).length, `a token appears in a requested URL: ${url}`);
  const aborted = [];
  for (const r of responses) {
    const [body, headers] = await Promise.all([r.body, r.headers]);
    check(!found(JSON.stringify(headers)).length, `a token appears in the headers of ${r.status} ${r.url}`);
    if (body.text === undefined) {
      // Unreadable: only acceptable when the browser aborted the request.
      check(body.failure, `the body of ${r.status} ${r.url} could not be read although the browser received it: ${body.error}`);
      aborted.push(`${r.status} ${r.url} (${body.failure})`);
      continue;
    }
    const leaked = found(body.text);
    if (r.origin === BASE && r.path === '/auth/token') {
      check(leaked.every((t) => accessTokens.has(t)), '/auth/token answered with a refresh token');
    } else {
      check(!leaked.length, `a token appears in the body of ${r.status} ${r.url}`);
    }
  }
  return aborted;
}

// The ok line of checkNoTokenLeaks.
function okNoLeaks(where, aborted) {
  const note = aborted.length ? `; headers only of ${aborted.length} response(s) the browser aborted: ${aborted.join(', ')}` : '';
  ok(`${where}: no token in the HTML, storage, any URL, header or body but /auth/token's access token${note}`);
}

// --- the test ------------------------------------------------------------------

async function run(browser) {
  // 1. Landing page, signed out.
  const { context, page } = await newPage(browser);
  await page.goto(`${BASE}/`);
  await page.locator('#connect').waitFor();
  check(await page.locator('#dashboard').isHidden(), 'landing page shows "Go to your dashboard" while signed out');
  check((await page.getAttribute('#connect', 'href')) === '/auth/login?return_to=/dashboard.html',
    'the Connect button does not link to /auth/login?return_to=/dashboard.html');
  ok('landing page offers "Connect with Spotify"');

  // 2. Connect -> mock consent -> Agree -> dashboard.
  await settled();
  await page.click('#connect');
  await consent(page, 'alice');
  await page.waitForURL(sameUrl(`${BASE}/dashboard.html`));
  ok('Connect -> consent page -> Agree lands on /dashboard.html');

  await page.locator('#display-name', { hasText: 'Alice Liddell' }).waitFor();
  check((await page.textContent('#display-name')) === 'Alice Liddell', 'display name is not "Alice Liddell"');
  ok('dashboard shows the display name "Alice Liddell"');

  const expected = await expectedArtists('alice');
  check(expected.length > 0, 'the mock returned no artists for alice');
  const shown = await artistNames(page);
  check(JSON.stringify(shown) === JSON.stringify(expected),
    `dashboard artists ${JSON.stringify(shown)} differ from the mock's ${JSON.stringify(expected)}`);
  ok(`dashboard lists alice's ${shown.length} top artists (${shown[0]}, ...)`);

  // 3. The session cookie exists and JavaScript cannot read it.
  const cookie = await sessionCookie(context);
  check(cookie, 'no session cookie in the browser after login');
  check(cookie.httpOnly, `session cookie ${cookie.name} is not HttpOnly`);
  const documentCookie = await page.evaluate(() => document.cookie);
  check(!COOKIE_NAMES.some((n) => documentCookie.split(/;\s*/).some((c) => c.startsWith(`${n}=`))),
    `document.cookie shows the session cookie: ${documentCookie}`);
  ok(`session cookie "${cookie.name}" is HttpOnly, not in document.cookie`);

  // 4. The player panel got a token through /auth/token.
  const seconds = await playerSeconds(page);
  check(seconds > 60 && seconds <= 3600, `player token expires in ${seconds} s`);
  const tokenCalls = responses.filter((r) => r.origin === BASE && r.path === '/auth/token');
  check(tokenCalls.length === 1, `the dashboard called /auth/token ${tokenCalls.length} times`);
  check(tokenCalls[0].status === 200, `/auth/token answered ${tokenCalls[0].status}`);
  const { text: tokenText } = await tokenCalls[0].body;
  check(tokenText !== undefined, 'the body of /auth/token could not be read');
  const tokenBody = JSON.parse(tokenText);
  check(accessTokens.has(tokenBody.access_token), "/auth/token's access token is not alice's current one");
  const firstToken = tokenBody.access_token;
  check(await sdkToken(page) === firstToken, 'getOAuthToken(cb) did not pass the access token to cb');
  ok(`player panel: token from /auth/token via getOAuthToken(cb), "expires in ${seconds} s"`);

  // 5. No token leaked so far.
  await collectTokens('alice');
  okNoLeaks('dashboard', await checkNoTokenLeaks(page, 'dashboard'));

  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  ok(`dashboard screenshot saved to ${SCREENSHOT}`);

  // 6. Spotify ends the access token early: nginx refreshes it and replays
  //    the call; the page just gets its artists.
  const refreshesBefore = await refreshCalls();
  await mock('/_mock/expire', { user: 'alice' });
  let navigations = 0;
  const onNavigate = (frame) => { if (frame === page.mainFrame()) navigations += 1; };
  page.on('framenavigated', onNavigate);
  const answer = page.waitForResponse((r) => r.url().startsWith(`${BASE}/api/spotify/v1/me/top/artists`));
  await page.click('#refresh-artists');
  const refreshed = await answer;
  check(refreshed.status() === 200, `artists after the token expired: HTTP ${refreshed.status()}`);
  const setCookie = (await refreshed.headerValue('set-cookie')) || '';
  check(COOKIE_NAMES.some((n) => setCookie.startsWith(`${n}=`)), 'the refreshed answer carries no new session cookie');
  check(JSON.stringify(await artistNames(page)) === JSON.stringify(expected), 'artists changed after the refresh');
  check(await page.locator('#notice').isHidden(), `the page shows a notice: ${await page.textContent('#notice')}`);
  page.off('framenavigated', onNavigate);
  check(navigations === 0 && page.url() === `${BASE}/dashboard.html`, 'the page navigated during the refresh');
  const refreshes = (await refreshCalls()) - refreshesBefore;
  check(refreshes === 1, `the mock saw ${refreshes} refresh_token calls, expected 1`);
  ok('an access token expired at Spotify is refreshed inline: artists still render, 1 refresh_token call');

  await collectTokens('alice');
  const secondToken = await sdkToken(page);
  check(secondToken !== firstToken && accessTokens.has(secondToken),
    'after the refresh getOAuthToken(cb) does not get the new access token');
  ok('getOAuthToken(cb) now gets the refreshed access token');

  // 7. Log out with the form: back on the landing page, API says 401.
  await settled();
  await page.click('#logout');
  await page.waitForURL((u) => u.origin === BASE && u.pathname === '/');
  await page.locator('#connect').waitFor();
  await page.locator('#site-notice[data-notice="logged_out"]').waitFor();
  check(page.url() === `${BASE}/`, `spotauth_notice stays in the address bar: ${page.url()}`);
  ok('logout form returns to the landing page, which says "signed out" and offers Connect again');
  const switchHref = await page.locator('#switch-account').getAttribute('href');
  check(await page.locator('#switch-account').isVisible() && switchHref.startsWith('/auth/login?switch=1'),
    `the logout notice offers no "Sign in with another account": ${switchHref}`);
  ok('the logout notice offers "Sign in with another account" (/auth/login?switch=1)');
  check(!(await sessionCookie(context)), 'the session cookie is still in the browser after logout');
  const after = await page.evaluate(async () => {
    const r = await fetch('/api/spotify/v1/me/top/artists?limit=10', { credentials: 'same-origin' });
    const s = await (await fetch('/auth/session')).json();
    return { status: r.status, body: await r.json(), session: s };
  });
  check(after.status === 401, `the API answers ${after.status} after logout`);
  check(after.body.error === 'not_authenticated', `API error after logout: ${JSON.stringify(after.body)}`);
  check(after.session.authenticated === false, '/auth/session still says authenticated after logout');
  ok('after logout the API answers 401 not_authenticated to the page');

  await collectTokens('alice');
  okNoLeaks('landing page after logout', await checkNoTokenLeaks(page, 'landing page after logout'));
  await settled();
  await context.close();

  // 8. A deep link in a fresh browser goes through login and comes back.
  const fresh = await newPage(browser);
  const deepLink = `${BASE}/dashboard.html?from=bookmark`;
  await fresh.page.goto(deepLink);
  check(fresh.page.url().startsWith(`${MOCK}/authorize?`), `the deep link did not go to the login: ${fresh.page.url()}`);
  await consent(fresh.page, 'bob');
  await fresh.page.waitForURL(sameUrl(deepLink));
  await fresh.page.locator('#display-name', { hasText: 'Bob Dylan' }).waitFor();
  const bobExpected = await expectedArtists('bob');
  check(JSON.stringify(await artistNames(fresh.page)) === JSON.stringify(bobExpected), "bob's artists are not shown");
  await playerSeconds(fresh.page);
  ok('a deep link to /dashboard.html in a fresh browser logs in (as bob) and comes back to it');
  okNoLeaks('deep-linked dashboard', await checkNoTokenLeaks(fresh.page, 'deep-linked dashboard'));

  // 9. The fetch() variant of logout: 204, and the session is gone.
  const viaFetch = await fresh.page.evaluate(async () => {
    const out = await fetch('/auth/logout', { method: 'POST', credentials: 'same-origin' });
    const token = await fetch('/auth/token', { credentials: 'same-origin' });
    const session = await (await fetch('/auth/session')).json();
    return { logout: out.status, token: token.status, tokenBody: await token.json(), session };
  });
  check(viaFetch.logout === 204, `fetch() logout answered ${viaFetch.logout}`);
  check(viaFetch.token === 401 && viaFetch.tokenBody.error === 'not_authenticated',
    `/auth/token after logout: ${viaFetch.token} ${JSON.stringify(viaFetch.tokenBody)}`);
  check(viaFetch.session.authenticated === false, '/auth/session still authenticated after fetch() logout');
  ok('fetch() logout answers 204; then /auth/token is 401 not_authenticated');
  okNoLeaks('after fetch() logout', await checkNoTokenLeaks(fresh.page, 'after fetch() logout'));
  await fresh.context.close();

  check(!offHost.length, `the browser contacted other hosts: ${offHost.slice(0, 5).join(', ')}`);
  check(!pageErrors.length, `errors in the page: ${pageErrors.join('; ')}`);
  ok(`${requests.length} requests, all to 127.0.0.1; no page errors`);
}

await runInBrowser('e2e', () => launchLocalChromium(chromium, CHROMIUM), run,
  () => screenshotOpenPage(currentPage, SCREENSHOT.replace(/(\.png)?$/, '-failure.png')));
