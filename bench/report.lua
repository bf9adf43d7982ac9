-- wrk script for bench/bench.py: prints one machine-readable summary line
-- ("WRKJSON {...}", latencies in microseconds) when the run ends.
--
-- With WRK_LIMIT=N in the environment each wrk thread stops after N
-- responses (bench.py runs wrk with -t1 for these), so a run covers a
-- known number of requests instead of a duration; -d stays as the bound.

local limit = tonumber(os.getenv("WRK_LIMIT") or "0") or 0

if limit > 0 then
    -- wrk's main thread sleeps for the whole -d even when every thread has
    -- stopped; a SIGINT (what Ctrl-C does) ends that sleep and the run.
    local ffi = require("ffi")
    ffi.cdef [[
        int getpid(void);
        int kill(int pid, int sig);
    ]]
    local seen = 0
    function response(status, headers, body)
        seen = seen + 1
        if seen == limit then
            wrk.thread:stop()
            ffi.C.kill(ffi.C.getpid(), 2)
        end
    end
end

-- With WRK_COOKIES=<file> each request carries the next session cookie of
-- the file (one a line), round robin.
local cookie_file = os.getenv("WRK_COOKIES") or ""
if cookie_file ~= "" then
    local cookies = {}
    for line in io.lines(cookie_file) do
        if line ~= "" then
            cookies[#cookies + 1] = line
        end
    end
    local i = 0
    function request()
        i = i % #cookies + 1
        return wrk.format(nil, nil, { Cookie = "spotauth=" .. cookies[i] })
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'WRKJSON {"requests":%d,"duration_us":%d,"rps":%.2f,"p50_us":%d,"p90_us":%d,' ..
        '"p99_us":%d,"mean_us":%.2f,"max_us":%d,"err_connect":%d,"err_read":%d,' ..
        '"err_write":%d,"err_status":%d,"err_timeout":%d}\n',
        summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
        latency:percentile(50), latency:percentile(90), latency:percentile(99),
        latency.mean, latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
