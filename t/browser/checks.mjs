// What the browser tests share: one line per check, a failure type that
// names what went wrong, a watchdog that ends a run that hangs, and the run
// itself (browser closed, summary line, exit status).
export class Failure extends Error {}

const startedAt = Date.now();  // this module is imported first: the run's start
let passed = 0;

export function check(condition, message) {
  if (!condition) throw new Failure(message);
}

export function ok(message) {
  passed += 1;
  console.log(`ok ${passed} - ${message}`);
}

// Exits with a failure if the run is not over after `totalMs`.
export function startWatchdog(totalMs, what) {
  setTimeout(() => {
    console.error(`FAIL: ${what} did not finish within ${totalMs / 1000} s`);
    process.exit(1);
  }, totalMs).unref();
}

// Chromium that does no background traffic and resolves no name, so that
// nothing but 127.0.0.1 is reachable (belt and braces for the tests' rule).
export function launchLocalChromium(chromium, executablePath) {
  return chromium.launch({
    executablePath,
    headless: true,
    timeout: 15000,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
}

// Runs `body(browser)` with the browser `launch()` gives, closes it and ends
// the run: a summary line, or the failure, what `onFailure()` adds (a
// screenshot, the responses seen) and exit status 1.
export async function runInBrowser(name, launch, body, onFailure = async () => {}) {
  let browser;
  let failed = false;
  try {
    browser = await launch();
    await body(browser);
  } catch (e) {
    failed = true;
    console.error(`FAIL: ${e instanceof Failure ? e.message : e.stack || e}`);
    await onFailure();
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  if (failed) {
    console.error(`${name}: failed after ${passed} checks (${seconds} s)`);
    process.exit(1);
  }
  console.log(`${name}: all ${passed} checks passed in ${seconds} s`);
}

// Saves the page a failure left open, if there is one, to `path`.
export async function screenshotOpenPage(page, path) {
  if (!page || page.isClosed()) return;
  await page.screenshot({ path, fullPage: true, timeout: 3000 }).then(
    () => console.error(`  page ${page.url()} saved to ${path}`), () => {});
}
