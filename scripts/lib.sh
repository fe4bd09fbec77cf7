# Shared helpers for scripts/*. Source it; do not run it.
# Installs what the project needs on a fresh Debian machine, idempotently.

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

apt_updated=0
apt_install() {
    # apt_install PKG...: install the Debian packages that are missing.
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> installing ${missing[*]}" >&2
    if [ $apt_updated -eq 0 ]; then apt-get update -qq >&2 || true; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

pip_install() {
    # pip_install MODULE=PKG...: pip-install the packages whose module cannot be imported.
    local missing=()
    for spec in "$@"; do
        python3 -c "import ${spec%%=*}" >/dev/null 2>&1 || missing+=("${spec#*=}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> pip installing ${missing[*]}" >&2
    python3 -m pip install -q --root-user-action=ignore "${missing[@]}" >&2
}

ensure_build_deps() {
    apt_install libuv1-dev pkg-config
}
