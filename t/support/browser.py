"""Debian's chromium driven by playwright-core from t/browser: where they are,
and why a browser test has to be skipped."""
from pathlib import Path

from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_DIR = ROOT / "t" / "browser"


def browser_missing():
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return "t/browser/node_modules is missing (cd t/browser && npm ci)"
    return None
