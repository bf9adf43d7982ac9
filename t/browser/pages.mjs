// Screenshots of every page state of the demo site and of the module's own
// pages, at desktop width (1280 px) and phone width (390 px): Debian's
// chromium, driven by playwright-core, against nginx + the spotauth module +
// the mock Spotify, all on 127.0.0.1.
//
//   node t/browser/pages.mjs BASE_URL MOCK_URL OUT_DIR
//
// BASE_URL is nginx serving conf/demo-site with the locations of
// conf/demo.conf, plus /members.html (`spotauth redirect` with an allow list
// that does not list alice). Writes OUT_DIR/pages-<width>-<state>.png and
// checks in each state what a person must see, and that nothing is wider
// than the viewport (no sideways scrolling on a phone). Prints one line per
// check and exits 0 when all pass; on the first failure prints "FAIL: ..."
// and exits 1 (the page then goes to OUT_DIR/pages-failure.png).
import { chromium } from 'playwright-core';
import {
  check, launchLocalChromium, ok, runInBrowser, screenshotOpenPage, startWatchdog,
} from './checks.mjs';

const [BASE, MOCK, OUT] = process.argv.slice(2);
if (!BASE || !MOCK || !OUT) {
  console.error('usage: node pages.mjs BASE_URL MOCK_URL OUT_DIR');
  process.exit(2);
}

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 5000;
const TOTAL_MS = 90000;
const VIEWPORTS = [{ name: 'desktop', width: 1280, height: 900 }, { name: 'phone', width: 390, height: 844 }];
const COOKIE_NAMES = ['spotauth', '__Host-spotauth'];

startWatchdog(TOTAL_MS, 'the page screenshots');

let currentPage = null;
const pageErrors = [];

async function mock(path, body) {
  const r = await fetch(MOCK + path, {
    method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' },
    signal: AbortSignal.timeout(WAIT_MS),
  });
  check(r.ok, `mock ${path} answered ${r.status}`);
}

// Nothing on the page is wider than the viewport, and the page itself does
// not scroll sideways.
async function checkFits(page, where) {
  const { scrollWidth, innerWidth, wide } = await page.evaluate(() => {
    const width = window.innerWidth;
    const wideOnes = [...document.querySelectorAll('body *')]
      .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > width + 0.5)
      .map((e) => e.tagName.toLowerCase() + (e.id ? `#${e.id}` : e.className ? `.${String(e.className).split(' ')[0]}` : ''));
    return { scrollWidth: document.scrollingElement.scrollWidth, innerWidth: width, wide: wideOnes.slice(0, 5) };
  });
  check(scrollWidth <= innerWidth, `${where}: the page is ${scrollWidth} px wide in a ${innerWidth} px viewport`);
  check(!wide.length, `${where}: these stick out of the ${innerWidth} px viewport: ${wide.join(', ')}`);
}

async function shoot(page, viewport, state, what) {
  await checkFits(page, `${state} at ${viewport.width} px`);
  const path = `${OUT}/pages-${viewport.width}-${state}.png`;
  await page.screenshot({ path, fullPage: true });
  ok(`${state} at ${viewport.width} px: ${what}; fits the viewport; ${path}`);
}

async function consent(page, user, decision = 'agree') {
  await page.waitForURL((u) => u.href.startsWith(`${MOCK}/authorize?`));
  await page.locator('#agree').waitFor();
  await page.fill('input[name="user"]', user);
  await page.click(decision === 'agree' ? '#agree' : '#cancel');
}

async function noticeShown(page, code) {
  const box = page.locator(`#site-notice[data-notice="${code}"]`);
  await box.waitFor();
  const text = (await page.textContent('#site-notice-text')).trim();
  check(text.length > 10, `the ${code} notice is empty`);
  check(!new URL(page.url()).searchParams.has('spotauth_notice'),
    `the address bar still has spotauth_notice: ${page.url()}`);
  return text;
}

// The dashboard does not squeeze: the header is one row (brand and Log
// out side by side, neither wrapping) and every artist's name has a line
// of its own width (at least 200 px, no name broken over two lines).
async function checkDashboardLayout(page, width) {
  const m = await page.evaluate(() => {
    const box = (e) => e.getBoundingClientRect();
    const brand = box(document.querySelector('.topbar .brand'));
    const logout = box(document.getElementById('logout'));
    const line = parseFloat(getComputedStyle(document.querySelector('.artist-name')).lineHeight);
    const names = [...document.querySelectorAll('#artists .artist-name')].map((e) => ({
      text: e.textContent, width: box(e).width, lines: Math.round(box(e).height / line) }));
    return { brand: brand.height, logout: logout.height, rowGap: Math.abs(brand.top + brand.height / 2 - logout.top - logout.height / 2), names };
  });
  check(m.rowGap < 8, `at ${width} px the header is not one row (brand and Log out ${m.rowGap} px apart)`);
  check(m.brand <= 32, `at ${width} px the brand wraps (${m.brand} px high)`);
  check(m.logout <= 44, `at ${width} px the Log out button wraps (${m.logout} px high)`);
  for (const n of m.names) {
    check(n.width >= 200, `at ${width} px "${n.text}" gets ${Math.round(n.width)} px`);
    check(n.lines === 1, `at ${width} px "${n.text}" takes ${n.lines} lines`);
  }
}

// A page of the module's template: status, title and both links.
async function modulePage(page, status, title) {
  await page.locator('h1').waitFor();
  check((await page.title()) === title, `the page's title is "${await page.title()}", expected "${title}"`);
  check((await page.textContent('.eyebrow')).includes(String(status)), 'the page does not show its status');
  check(await page.locator('a#home[href="/"]').count() === 1, 'the page has no link back to the site');
}

async function walk(browser, viewport) {
  const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height } });
  context.on('page', (p) => p.on('pageerror', (e) => pageErrors.push(`${p.url()}: ${e.message}`)));
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  currentPage = page;

  // The landing page, signed out.
  await page.goto(`${BASE}/`);
  await page.locator('#connect').waitFor();
  await shoot(page, viewport, 'home-signed-out', 'landing page offers Connect');

  // A callback error: the user clicks Cancel on Spotify's consent page.
  await page.click('#connect');
  await consent(page, 'alice', 'cancel');
  // The page replaces the spent callback address with the site's: a reload
  // would otherwise say the sign-in link expired.
  await page.waitForURL((u) => u.href === `${BASE}/`);
  await modulePage(page, 403, 'Not connected');
  check(await page.getAttribute('a#login', 'href') === '/auth/login?return_to=%2Fdashboard.html',
    `the login link does not come back to the dashboard: ${await page.getAttribute('a#login', 'href')}`);
  await shoot(page, viewport, 'callback-declined', '403 access_denied page, login link keeps return_to');

  // Its login link: signed in, on the dashboard.
  await page.click('a#login');
  await consent(page, 'alice');
  await page.waitForURL(`${BASE}/dashboard.html`);
  await page.locator('#artists[aria-busy="false"] .artist-name').first().waitFor();
  await page.locator('#player-status[data-state="ready"]').waitFor();
  await checkDashboardLayout(page, viewport.width);
  await shoot(page, viewport, 'dashboard', 'dashboard with artists and the player panel, header in one row, names unbroken');

  // A page alice may not see: the 403 page.
  await page.goto(`${BASE}/members.html?tab=1`);
  await modulePage(page, 403, 'No access');
  check(await page.getAttribute('a#login', 'href') === '/auth/login?switch=1&return_to=%2Fmembers.html%3Ftab%3D1',
    'the 403 page\'s "Sign in with another account" does not switch and come back to /members.html?tab=1');
  check((await page.textContent('a#login')).trim() === 'Sign in with another account',
    'the 403 page does not offer "Sign in with another account"');
  await shoot(page, viewport, 'forbidden', '403 page of a spotauth_allow_users location');

  // The session ends at Spotify (access removed): the dashboard's API call
  // fails with refresh_failed and the landing page says why.
  const kept = (await context.cookies(BASE)).find((c) => COOKIE_NAMES.includes(c.name));
  check(kept, 'no session cookie after login');
  await page.goto(`${BASE}/dashboard.html`);
  await page.locator('#artists[aria-busy="false"] .artist-name').first().waitFor();
  await mock('/_mock/revoke', { user: 'alice' });
  await mock('/_mock/expire', { user: 'alice' });
  await page.click('#refresh-artists');
  await page.waitForURL((u) => u.pathname === '/');
  await noticeShown(page, 'refresh_failed');
  await shoot(page, viewport, 'notice-refresh_failed', 'landing page after a refused refresh');

  // Log out with the dashboard's form: back on the landing page, told so.
  await page.click('#connect');
  await consent(page, 'alice');
  await page.waitForURL(`${BASE}/dashboard.html`);
  const before = (await context.cookies(BASE)).find((c) => COOKIE_NAMES.includes(c.name));
  await page.click('#logout');
  await page.waitForURL((u) => u.pathname === '/');
  await noticeShown(page, 'logged_out');
  await page.locator('#connect').waitFor();
  await shoot(page, viewport, 'notice-logged_out', 'landing page after the logout form');

  // The logged-out session's cookie, kept (a copy): the dashboard says the
  // session was signed out, with a way back in to the dashboard.
  // (A query string the browser has not cached: the test config serves
  // the dashboard without Cache-Control.)
  await context.addCookies([before]);
  await page.goto(`${BASE}/dashboard.html?from=bookmark`);
  await modulePage(page, 401, 'You were signed out');
  check(await page.getAttribute('a#login', 'href') === '/auth/login?return_to=%2Fdashboard.html%3Ffrom%3Dbookmark',
    'the signed-out page\'s login link does not come back to the dashboard');
  await shoot(page, viewport, 'session-revoked-page', '401 session_revoked page of a spotauth redirect location');

  // The other notices a page can send (docs/frontend.md), and a code the
  // demo does not know (shown as nothing).
  for (const code of ['session_expired', 'session_revoked']) {
    await page.goto(`${BASE}/?spotauth_notice=${code}`);
    await noticeShown(page, code);
    await shoot(page, viewport, `notice-${code}`, `landing page with the ${code} notice`);
  }
  await page.goto(`${BASE}/?spotauth_notice=%3Cb%3Ex`);
  await page.locator('#connect').waitFor();
  check(await page.locator('#site-notice').isHidden(), 'an unknown notice code is shown');
  check(page.url() === `${BASE}/`, `the unknown notice stays in the address bar: ${page.url()}`);
  ok(`an unknown spotauth_notice is ignored and removed from the URL (${viewport.width} px)`);
  await context.close();
}

async function walkAll(browser) {
  for (const viewport of VIEWPORTS) await walk(browser, viewport);
  check(!pageErrors.length, `errors in the page: ${pageErrors.join('; ')}`);
  ok('no page errors');
}

await runInBrowser('pages', () => launchLocalChromium(chromium, CHROMIUM), walkAll,
  () => screenshotOpenPage(currentPage, `${OUT}/pages-failure.png`));
