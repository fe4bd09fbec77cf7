"""A Tributary cluster on this machine, the split deployment of docs/deployment.md:

  scripts/cluster up DIR [--replicas N] [--standbys] [--fsync on|off] [--debug]
  scripts/cluster status DIR
  scripts/cluster down DIR

`up` starts a PostgreSQL cluster in DIR/pg, one customers process, one orders process (with
--standbys a second of each, waiting for the writer lease), N query replicas per service (2 by
default) and Debian's nginx in front with deploy/nginx/locations.conf, waits until every
process is ready, and prints `front: http://127.0.0.1:PORT` as its last line. Each process runs
under a small supervisor that starts it again when it exits (as a lost lease or a SIGKILL
makes it), as systemd's Restart=always would. Logs: DIR/logs/NAME.log; layout: DIR/cluster.json.
`down` stops it all (processes with SIGTERM, nginx, PostgreSQL).

The binary: $TRIBUTARY_BIN, else a release build (--debug: .build/debug/tributary)."""
import argparse, json, os, shlex, signal, subprocess, sys, time
import urllib.request

from .common import ROOT, log
from .pgcluster import Cluster
from .ports import free_port

SERVICES = ("customers", "orders")


def process_layout(replicas, standbys):
    """[(name, role arguments, nginx upstreams it is in)], writers first."""
    out = []
    for s in SERVICES:
        out.append((s, ["--role", s], [f"{s}_writer", f"{s}_processes"]))
    if standbys:
        for s in SERVICES:
            out.append((f"{s}-standby", ["--role", s], [f"{s}_writer backup", f"{s}_processes"]))
    for s in SERVICES:
        for i in range(1, replicas + 1):
            out.append((f"{s}-q{i}", ["--role", "query", "--service", s], [f"{s}_queries"]))
    return out


def binary(debug):
    if os.environ.get("TRIBUTARY_BIN"):
        path = os.environ["TRIBUTARY_BIN"]
        return path if os.path.isabs(path) else os.path.join(ROOT, path)
    config = "debug" if debug else "release"
    log(f"==> building ({config})")
    subprocess.run(["swift", "build", "-c", config, "--product", "tributary"], cwd=ROOT, check=True,
                   stdout=sys.stderr)
    return os.path.join(ROOT, ".build", config, "tributary")


def get_json(port, path, timeout=2.0):
    """(status, parsed body or None) of GET http://127.0.0.1:PORT/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"null")
        except ValueError:
            return e.code, None
    except (OSError, ValueError):
        return None, None


class ClusterDir:
    """DIR's layout: cluster.json (ports, URL, processes), run/ (pid files), logs/, pg/, nginx/."""

    def __init__(self, directory):
        self.dir = os.path.abspath(directory)
        self.run = os.path.join(self.dir, "run")
        self.logs = os.path.join(self.dir, "logs")
        self.nginx = os.path.join(self.dir, "nginx")
        self.layout_file = os.path.join(self.dir, "cluster.json")

    def load(self):
        with open(self.layout_file) as f:
            return json.load(f)

    def pid(self, name):
        """The pid of process NAME now (its supervisor rewrites the file on every start), or None."""
        try:
            with open(os.path.join(self.run, f"{name}.pid")) as f:
                return int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def supervise(self, name, argv):
        """Starts `argv` under a supervisor loop (restarts it 0.3 s after it exits, until DIR/run/stopping)."""
        logf = os.path.join(self.logs, f"{name}.log")
        pidf = os.path.join(self.run, f"{name}.pid")
        stop = os.path.join(self.run, "stopping")
        quoted = " ".join(shlex.quote(str(a)) for a in argv)
        script = (f'while [ ! -e {shlex.quote(stop)} ]; do {quoted} >> {shlex.quote(logf)} 2>&1 & '
                  f'echo $! > {shlex.quote(pidf)}; wait $!; [ -e {shlex.quote(stop)} ] && break; sleep 0.3; done')
        sup = subprocess.Popen(["bash", "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        with open(os.path.join(self.run, f"{name}.supervisor"), "w") as f:
            f.write(str(sup.pid))


def upstream_of(process):
    """The nginx upstream of one process (for /processes/NAME/)."""
    return "process_" + process["name"].replace("-", "_")


def nginx_conf(cd, front_port, processes):
    upstreams = {}
    for p in processes:
        for spec in p["upstreams"]:
            name, _, flag = spec.partition(" ")
            upstreams.setdefault(name, []).append(f"server 127.0.0.1:{p['port']} max_fails=1 fail_timeout=1s{' ' + flag if flag else ''};")
    upstreams["all_queries"] = [f"server 127.0.0.1:{p['port']} max_fails=1 fail_timeout=1s;"
                                for p in processes if "--service" in p["args"]]
    # One upstream per process too, for /processes/NAME/ (kept connections, like the others).
    for p in processes:
        upstreams[upstream_of(p)] = [f"server 127.0.0.1:{p['port']};"]
    blocks = "\n".join(f"  upstream {name} {{ {' '.join(lines)} keepalive 256; }}" for name, lines in upstreams.items())
    per_process = "\n".join(f"    location /processes/{p['name']}/ {{ proxy_pass http://{upstream_of(p)}/; proxy_buffering off; }}"
                            for p in processes)
    tmp = os.path.join(cd.nginx, "tmp")
    return f"""worker_processes 1;
daemon on;
pid {cd.nginx}/nginx.pid;
error_log {cd.nginx}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  client_max_body_size 1m; client_body_buffer_size 1m;
  keepalive_requests 100000;
{blocks}
  server {{
    listen 127.0.0.1:{front_port};
    include {ROOT}/deploy/nginx/locations.conf;
{per_process}
  }}
}}
"""


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")


def up(directory, replicas=2, standbys=False, fsync=True, debug=False, extra=()):
    cd = ClusterDir(directory)
    if os.path.exists(cd.layout_file):
        raise SystemExit(f"{cd.dir} already holds a cluster (scripts/cluster down {directory} first)")
    for d in (cd.run, cd.logs, os.path.join(cd.nginx, "tmp")):
        os.makedirs(d, exist_ok=True)
    os.chmod(os.path.join(cd.nginx, "tmp"), 0o777)
    bin_path = binary(debug)
    pg = Cluster(os.path.join(cd.dir, "pg"), fsync=fsync)
    admin = pg.start()
    made = subprocess.run(["psql", admin, "-qc", "CREATE DATABASE tributary"], capture_output=True, text=True)
    if made.returncode != 0 and "already exists" not in made.stderr:
        raise SystemExit(f"CREATE DATABASE tributary: {made.stderr.strip()}")
    url = admin.rpartition("/")[0] + "/tributary"
    processes = []
    for name, role_args, upstreams in process_layout(replicas, standbys):
        processes.append({"name": name, "args": role_args, "port": free_port(), "upstreams": upstreams})
    front = free_port()
    layout = {"url": url, "front": front, "binary": bin_path, "processes": processes, "pg": os.path.join(cd.dir, "pg")}
    with open(cd.layout_file, "w") as f:
        json.dump(layout, f, indent=2)
    for p in processes:
        argv = [bin_path, "serve", *p["args"], "--postgres", url, "--listen", f"127.0.0.1:{p['port']}", *extra]
        cd.supervise(p["name"], argv)
        if p["name"] in SERVICES:
            # Writers first, one by one: each creates its schemas and takes its lease before the rest start.
            wait_for(lambda: (get_json(p["port"], "/ready")[1] or {}).get("role", {}).get("writer") == "leader", 120,
                     f"{p['name']} to take its writer lease (see {cd.logs}/{p['name']}.log)")
    for p in processes:
        wait_for(lambda: get_json(p["port"], "/ready")[0] == 200, 120, f"{p['name']} to be ready ({cd.logs}/{p['name']}.log)")
    conf = os.path.join(cd.nginx, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(cd, front, processes))
    out = subprocess.run(["nginx", "-p", cd.nginx, "-c", conf], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"nginx did not start: {out.stderr.strip()}")
    wait_for(lambda: get_json(front, "/ready")[0] == 200, 30, "nginx to answer")
    return layout


def down(directory):
    cd = ClusterDir(directory)
    if not os.path.exists(cd.layout_file):
        raise SystemExit(f"no cluster in {cd.dir}")
    layout = cd.load()
    open(os.path.join(cd.run, "stopping"), "w").close()
    try:
        with open(os.path.join(cd.nginx, "nginx.pid")) as f:
            os.kill(int(f.read().strip()), signal.SIGQUIT)
    except (OSError, ValueError):
        pass
    pids = [pid for pid in (cd.pid(p["name"]) for p in layout["processes"]) if pid]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 20
    for pid in pids:
        while time.monotonic() < deadline and alive(pid):
            time.sleep(0.05)
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    for p in layout["processes"]:
        try:
            with open(os.path.join(cd.run, f"{p['name']}.supervisor")) as f:
                os.kill(int(f.read()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    Cluster.existing(layout["pg"]).stop("fast")
    os.remove(cd.layout_file)
    os.remove(os.path.join(cd.run, "stopping"))


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of an exited supervisor counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def status(directory):
    cd = ClusterDir(directory)
    layout = cd.load()
    rows = []
    for p in layout["processes"]:
        code, health = get_json(p["port"], "/health")
        role = (health or {}).get("role", {})
        lag = max([c.get("lag", 0) for c in (health or {}).get("components", [])] or [0])
        rows.append(f"{p['name']:<20} pid {cd.pid(p['name']) or '-':<8} port {p['port']:<6} "
                    f"{(health or {}).get('status', 'down'):<9} writer {role.get('writer', '-'):<8} max lag {lag}")
    print("\n".join(rows))
    print(f"front: http://127.0.0.1:{layout['front']}")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/cluster", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["up", "down", "status"])
    ap.add_argument("dir")
    ap.add_argument("--replicas", type=int, default=2, help="query replicas per service (default 2)")
    ap.add_argument("--standbys", action="store_true", help="a standby per service, waiting for its writer lease")
    ap.add_argument("--fsync", choices=["on", "off"], default="on", help="PostgreSQL fsync (off: tests only)")
    ap.add_argument("--debug", action="store_true", help="use a debug build (default: release)")
    a, extra = ap.parse_known_args(argv)
    if a.action == "up":
        if not 1 <= a.replicas <= 8:
            ap.error("--replicas: 1 to 8")
        layout = up(a.dir, a.replicas, a.standbys, a.fsync == "on", a.debug, extra)
        print(f"front: http://127.0.0.1:{layout['front']}", flush=True)
    elif a.action == "down":
        down(a.dir)
    else:
        status(a.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
