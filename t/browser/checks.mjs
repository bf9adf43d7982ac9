// What the browser tests share: one line per check, a failure type that
// names what went wrong, and a watchdog that ends a run that hangs.
export class Failure extends Error {}

let passed = 0;

export function check(condition, message) {
  if (!condition) throw new Failure(message);
}

export function ok(message) {
  passed += 1;
  console.log(`ok ${passed} - ${message}`);
}

export function checksPassed() {
  return passed;
}

// Exits with a failure if the run is not over after `totalMs`.
export function startWatchdog(totalMs, what) {
  setTimeout(() => {
    console.error(`FAIL: ${what} did not finish within ${totalMs / 1000} s`);
    process.exit(1);
  }, totalMs).unref();
}
