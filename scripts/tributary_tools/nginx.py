"""The nginx baseline: one worker serving given bytes as static files on 127.0.0.1 (a free port)."""
import os, shutil, signal, subprocess, tempfile, time

from .common import get
from .ports import free_port


class Nginx:
    """files: {path: bytes}. start() writes them under www/, starts nginx (daemon, 1 worker), waits until
    the first path answers 200 and checks that (up to) the first three are served byte for byte."""

    def __init__(self, files, worker_connections=4096, open_file_cache=16, keepalive_timeout=None):
        self.files = files
        self.worker_connections, self.open_file_cache, self.keepalive_timeout = (
            worker_connections, open_file_cache, keepalive_timeout)
        self.dir = None
        self.port = None

    def start(self):
        tmp = self.dir = tempfile.mkdtemp(prefix="bench-nginx-")
        os.chmod(tmp, 0o755)  # nginx workers run as an unprivileged user
        for path, body in self.files.items():
            full = os.path.join(tmp, "www", path.lstrip("/"))
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(body)
        self.port = free_port()
        keepalive = f" keepalive_timeout {self.keepalive_timeout};" if self.keepalive_timeout else ""
        with open(f"{tmp}/nginx.conf", "w") as f:
            f.write(f"""worker_processes 1; daemon on; pid {tmp}/nginx.pid; error_log {tmp}/err warn;
events {{ worker_connections {self.worker_connections}; }}
http {{ access_log off; keepalive_requests 100000000;{keepalive} open_file_cache max={self.open_file_cache};
  server {{ listen 127.0.0.1:{self.port}; root {tmp}/www; default_type application/json; }} }}""")
        subprocess.run(["nginx", "-c", f"{tmp}/nginx.conf", "-p", tmp], check=True)
        for _ in range(50):
            if get(self.port, next(iter(self.files)))[0] == 200:
                break
            time.sleep(0.1)
        for path, body in list(self.files.items())[:3]:
            if get(self.port, path)[2] != body:
                raise RuntimeError("nginx does not serve the same bytes")
        return self

    def stop(self):
        if self.dir is None:
            return
        try:
            os.kill(int(open(f"{self.dir}/nginx.pid").read()), signal.SIGTERM)
        except Exception:
            pass
        time.sleep(0.2)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
