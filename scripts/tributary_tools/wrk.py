"""wrk: running it, parsing its output, and the wrk scripts in lua/ (one command mix: lua/commands.lua)."""
import json, os, re, shutil, subprocess, sys, tempfile, time

from .common import LIB, get, log

LUA = os.path.join(LIB, "lua")
COMMANDS_LUA = os.path.join(LUA, "commands.lua")   # THE command mix (MIX=lifecycle, the default, or MIX=edits)
QUERIES_LUA = os.path.join(LUA, "queries.lua")
PATHS_LUA = os.path.join(LUA, "paths.lua")
PIPELINE_LUA = os.path.join(LUA, "pipeline.lua")


def parse_wrk(out):
    def ms(label):
        m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), out, re.M)
        if not m:
            return float("nan")
        v, u = float(m.group(1)), m.group(2)
        return v / 1000 if u == "us" else v * 1000 if u == "s" else v
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError("wrk produced no result:\n" + out[-2000:])
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    total = re.search(r"(\d+) requests in", out)
    statuses = {}
    for k, v in re.findall(r"^status (\d+) (\d+)$", out, re.M):
        statuses[int(k)] = int(v)
    return {"rps": float(m.group(1)), "p50": ms("50%"), "p90": ms("90%"), "p99": ms("99%"),
            "requests": int(total.group(1)) if total else 0,
            "non2xx": int(non2xx.group(1)) if non2xx else 0, "sockerr": errs.group(1).strip() if errs else "",
            "statuses": statuses, "raw": out}


def wrk(url, conns, duration, script=None, env=None, threads=1, progress_port=None, label="wrk",
        timeout="10s", progress=True):
    """Runs `wrk -tT -cC -dDs --latency [--timeout X] [-s script] url` (timeout=None: wrk's own 2 s
    default) and returns parse_wrk() of its output (stdout and stderr). With progress, prints a line
    every second (with the server's store positions if progress_port). Killed after duration + 60 s."""
    if not shutil.which("wrk"):
        sys.exit("wrk missing: apt-get install -y wrk")
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency"] + (["--timeout", timeout] if timeout else [])
    if script:
        cmd += ["-s", script]
    with tempfile.TemporaryFile("w+") as out:
        p = subprocess.Popen(cmd + [url], stdout=out, stderr=subprocess.STDOUT, text=True,
                             env={**os.environ, **(env or {})})
        t0 = time.monotonic()
        while True:
            try:
                p.wait(1)
                break
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() - t0 > duration + 60:
                p.kill(); p.wait()
                break
            if not progress:
                continue
            extra = ""
            if progress_port:
                st, _, body = get(progress_port, "/health", timeout=2)
                if st == 200:
                    try:
                        stores = json.loads(body)["stores"]
                        extra = " store positions " + " ".join(f"{k}={v['lastPosition']}" for k, v in stores.items())
                    except (ValueError, KeyError):
                        pass
            log(f"  {label} t={time.monotonic() - t0:4.0f}s of {duration}s{extra}")
        out.seek(0)
        return parse_wrk(out.read())
