"""free_port(): a TCP port on 127.0.0.1 that nothing listens on right now (for nginx and PostgreSQL baselines)."""
import socket


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
