// The official Spotify Web API SDK (@spotify/web-api-ts-sdk, pinned in
// package.json) through spotauth, with the adapter of docs/frontend.md run
// as written there: Debian's chromium, driven by playwright-core, against
// nginx + the spotauth module + the mock Spotify, all on 127.0.0.1.
//
//   node t/browser/sdk.mjs BASE_URL MOCK_URL
//
// BASE_URL serves /sdk.html (an import map naming the SDK's ES modules,
// served under /sdk/, and the adapter as /spotauth-sdk.js: see
// t/integration/test_browser.py) and the test suite's /api/spotify/ and
// /auth/* locations. Prints one line per check and exits 0 when all pass;
// on the first failure prints "FAIL: ..." and exits 1.
import { chromium } from 'playwright-core';
import { check, launchLocalChromium, ok, runInBrowser, startWatchdog } from './checks.mjs';

const [BASE, MOCK] = process.argv.slice(2);
if (!BASE || !MOCK) {
  console.error('usage: node sdk.mjs BASE_URL MOCK_URL');
  process.exit(2);
}

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 5000;
startWatchdog(60000, 'the SDK test');

async function mock(path, body) {
  const init = body === undefined ? { signal: AbortSignal.timeout(WAIT_MS) }
    : { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
        signal: AbortSignal.timeout(WAIT_MS) };
  const r = await fetch(MOCK + path, init);
  check(r.ok, `mock ${path} answered ${r.status}`);
  return r.json();
}

// Runs `call` (a method path of the SDK, e.g. "currentUser.profile") in the
// page with the adapter's spotifyApi(); answers {value} or the SpotauthError's
// fields as {error}.
function sdkCall(page, call, ...args) {
  return page.evaluate(async ([what, callArgs]) => {
    const sdk = window.spotauthSdk.spotifyApi();
    const [group, method] = what.split('.');
    try {
      return { value: await sdk[group][method](...callArgs) };
    } catch (e) {
      return { error: { name: e.constructor.name, message: e.message, status: e.status, code: e.code, loginUrl: e.loginUrl } };
    }
  }, [call, args]);
}

async function walk(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await page.goto(`${BASE}/sdk.html`);
  await page.waitForFunction(() => window.spotauthSdk !== undefined);
  ok('the SDK (ES modules, import map) and the adapter load');

  // Signed out: spotauth's 401 reaches the page with its code and login_url.
  const signedOut = await sdkCall(page, 'currentUser.profile');
  check(signedOut.error, `signed out, profile() answered ${JSON.stringify(signedOut.value)}`);
  check(signedOut.error.name === 'SpotauthError' && signedOut.error.status === 401
    && signedOut.error.code === 'not_authenticated' && signedOut.error.loginUrl === '/auth/login',
  `signed out, the SDK threw ${JSON.stringify(signedOut.error)}`);
  ok('signed out: SpotauthError 401 not_authenticated with login_url /auth/login (not "Bad or expired token")');

  // Its login_url signs in and comes back.
  await page.goto(`${BASE}${signedOut.error.loginUrl}?return_to=%2Fsdk.html`);
  await page.waitForURL((u) => u.href.startsWith(`${MOCK}/authorize?`));
  await page.locator('#agree').click();
  await page.waitForURL(`${BASE}/sdk.html`);
  await page.waitForFunction(() => window.spotauthSdk !== undefined);

  const since = Date.now() / 1000;
  const me = await sdkCall(page, 'currentUser.profile');
  check(me.value && me.value.id === 'alice', `profile() after login answered ${JSON.stringify(me)}`);
  const top = await sdkCall(page, 'currentUser.topItems', 'artists', 'medium_term', 5);
  check(top.value && top.value.items.length > 0, `topItems('artists') answered ${JSON.stringify(top)}`);
  ok(`signed in: profile() is ${me.value.id}, topItems('artists') lists ${top.value.items.length}`);

  // The API saw alice's real token, never the adapter's placeholder.
  const { access_tokens: tokens } = await mock('/_mock/tokens?user=alice');
  const seen = (await mock(`/_mock/requests?since=${since}`))
    .filter((r) => r.path.startsWith('/v1/me'))
    .map((r) => Object.entries(r.headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1]);
  check(seen.length >= 2, `the mock saw ${seen.length} /v1/me calls`);
  check(seen.every((h) => tokens.some((t) => h === `Bearer ${t}`)), `the API saw ${JSON.stringify(seen)}`);
  ok('nginx replaced the placeholder Authorization with the session\'s token');

  // The session ends at Spotify: a 401 refresh_failed, login_url kept.
  await mock('/_mock/revoke', { user: 'alice' });
  await mock('/_mock/expire', { user: 'alice' });
  const ended = await sdkCall(page, 'currentUser.profile');
  check(ended.error && ended.error.status === 401 && ended.error.code === 'refresh_failed'
    && ended.error.loginUrl === '/auth/login', `after a revoke, the SDK threw ${JSON.stringify(ended)}`);
  ok('a revoked session: SpotauthError 401 refresh_failed with login_url');

  check(!pageErrors.length, `errors in the page: ${pageErrors.join('; ')}`);
  await context.close();
}

await runInBrowser('sdk', () => launchLocalChromium(chromium, CHROMIUM), walk);
