"""Reading one value from the module's Prometheus text (spotauth_status)."""
import re


def metric(text, name):
    match = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert match, f"{name} missing from:\n{text}"
    return float(match.group(1))


def gauge(n, name):
    match = re.search(rf"^{name} (\S+)$", n.get("/metrics").text, re.M)
    return float(match.group(1))
