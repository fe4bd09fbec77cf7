"""Installing what a command needs: the Debian side through scripts/lib.sh (one implementation for the
bash and the Python scripts), the Python side through pip."""
import os, subprocess, sys

LIB_SH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib.sh")


def apt_install(*packages):
    """lib.sh apt_install: installs the Debian packages that are missing (apt-get update once)."""
    subprocess.run(["bash", "-c", 'source "$0"; apt_install "$@"', LIB_SH, *packages], check=True)


def ensure_build_deps():
    """lib.sh ensure_build_deps: what `swift build` needs (libuv1-dev, pkg-config)."""
    subprocess.run(["bash", "-c", 'source "$0"; ensure_build_deps', LIB_SH], check=True)


def pip_install(module, package=None):
    try:
        __import__(module)
    except ImportError:
        print(f"==> pip install {package or module}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--root-user-action=ignore", package or module],
                       check=False)
