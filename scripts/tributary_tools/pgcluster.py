"""A throwaway PostgreSQL cluster in a directory: initdb, pg_ctl start/stop, as the 'postgres'
OS user when run as root (initdb refuses root). Listens on 127.0.0.1 only.

  scripts/tool postgres start --dir DIR [--fsync on|off] [--port N]   prints the connection URL
  scripts/tool postgres stop --dir DIR [--mode fast|immediate]
  scripts/tool postgres restart --dir DIR [--mode fast|immediate]

fsync off is for tests only (as pg_virtualenv does); benchmarks and durability claims use
fsync=on, synchronous_commit=on (the default here)."""
import argparse, glob, os, pwd, subprocess, sys

from .common import log
from .ports import free_port


def pg_bin():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("no PostgreSQL server binaries (apt-get install postgresql)")
    return os.path.dirname(found[-1])


def as_pg(cmd):
    return ["runuser", "-u", "postgres", "--", *cmd] if os.getuid() == 0 else cmd


class Cluster:
    """initdb into DIR/data on first start; DIR/port and DIR/url remember how to reach it."""

    def __init__(self, directory, fsync=True, port=None):
        self.dir = os.path.abspath(directory)
        self.data = os.path.join(self.dir, "data")
        self.fsync = fsync
        self.port = port
        self.bin = pg_bin()

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _prepare(self):
        os.makedirs(self.dir, exist_ok=True)
        if os.getuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.dir, pg.pw_uid, pg.pw_gid)
            # The postgres user must reach DIR through its parents (mktemp dirs are 0700).
            parent = os.path.dirname(self.dir)
            while parent not in ("/", ""):
                mode = os.stat(parent).st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o711)
                parent = os.path.dirname(parent)
        os.chmod(self.dir, 0o700)
        if self.port is None:
            self.port = free_port()
        if not os.path.exists(os.path.join(self.data, "PG_VERSION")):
            out = subprocess.run(as_pg([f"{self.bin}/initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                                        "--locale=C.UTF-8", "--no-sync"]), capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"initdb failed:\n{out.stdout}{out.stderr}")
        with open(os.path.join(self.data, "postgresql.auto.conf"), "w") as f:
            f.write(f"""listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.dir}'
max_connections = 200
fsync = {'on' if self.fsync else 'off'}
synchronous_commit = on
full_page_writes = on
logging_collector = off
""")
        if os.getuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(os.path.join(self.data, "postgresql.auto.conf"), pg.pw_uid, pg.pw_gid)
        with open(os.path.join(self.dir, "port"), "w") as f:
            f.write(f"{self.port} {'on' if self.fsync else 'off'}")

    def start(self):
        self._prepare()
        out = subprocess.run(as_pg([f"{self.bin}/pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "postgres.log"),
                                    "-w", "-t", "60", "start"]), capture_output=True, text=True)
        if out.returncode != 0:
            log_text = open(os.path.join(self.dir, "postgres.log")).read() if os.path.exists(os.path.join(self.dir, "postgres.log")) else ""
            raise SystemExit(f"pg_ctl start failed:\n{out.stdout}{out.stderr}{log_text[-2000:]}")
        with open(os.path.join(self.dir, "url"), "w") as f:
            f.write(self.url)
        return self.url

    def stop(self, mode="fast"):
        subprocess.run(as_pg([f"{self.bin}/pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @classmethod
    def existing(cls, directory):
        c = cls(directory)
        with open(os.path.join(c.dir, "port")) as f:
            port, fsync = f.read().split()
        c.port, c.fsync = int(port), fsync == "on"
        return c


def database_for(admin_url, key):
    """The URL of a database of its own for `key` (e.g. a server's data directory), created on
    first use: servers started on the same key (a restart) meet the same stores again."""
    import hashlib
    name = "t_" + hashlib.sha1(str(key).encode()).hexdigest()[:16]
    base, _, _ = admin_url.rpartition("/")
    exists = subprocess.run(["psql", admin_url, "-Atqc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
                            capture_output=True, text=True)
    if exists.returncode != 0:
        raise RuntimeError(f"psql {admin_url}: {exists.stderr.strip()}")
    if exists.stdout.strip() != "1":
        made = subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], capture_output=True, text=True)
        if made.returncode != 0 and "already exists" not in made.stderr:
            raise RuntimeError(f"CREATE DATABASE {name}: {made.stderr.strip()}")
    return f"{base}/{name}"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/tool postgres", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["start", "stop", "restart"])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--fsync", choices=["on", "off"], default="on")
    ap.add_argument("--port", type=int)
    ap.add_argument("--mode", choices=["smart", "fast", "immediate"], default="fast")
    a = ap.parse_args(argv)
    if a.action == "start":
        c = Cluster(a.dir, fsync=a.fsync == "on", port=a.port)
        print(c.start())
    elif a.action == "stop":
        Cluster.existing(a.dir).stop(a.mode)
    else:
        c = Cluster.existing(a.dir)
        c.stop(a.mode)
        print(c.start())
    return 0


if __name__ == "__main__":
    sys.exit(main())
