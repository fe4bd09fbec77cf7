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
    apt_install libuv1-dev libpq-dev pkg-config
}

ensure_postgres() {
    # The PostgreSQL server binaries the tests start a throwaway cluster with.
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
}

fuzz_run() {
    # fuzz_run TARGET SECONDS CORPUS_NAME WORK_CORPUS WORK_ARTIFACTS LOG_NAME [LIBFUZZER_OPTIONS...]
    # Builds TARGET of Fuzz/Package.swift with libFuzzer + AddressSanitizer, fuzzes for SECONDS
    # over a copy of Fuzz/corpus/CORPUS_NAME, prints executions and crashes; exits 1 on a crash.
    local target=$1 seconds=$2 corpus=$3 work_corpus=$4 work_artifacts=$5 log_name=$6
    shift 6
    local root work bin log status execs crashes
    root="$(repo_root)"
    work="$root/.build-fuzz"
    mkdir -p "$work/$work_corpus" "$work/$work_artifacts"
    ensure_build_deps
    echo "building $target (Fuzz/Package.swift)" >&2
    # libFuzzer's coverage instrumentation and AddressSanitizer on every module; libFuzzer
    # itself without its `main` (the target's own main calls LLVMFuzzerRunDriver). The linker
    # warns about every ASan helper symbol: the log keeps only what failed.
    local runtime
    runtime="$(dirname "$(dirname "$(command -v swiftc)")")/lib/swift/clang/lib/linux/libclang_rt.fuzzer_no_main-$(uname -m).a"
    swift build --package-path "$root/Fuzz" --scratch-path "$work/spm" --product "$target" \
        -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table -Xswiftc -O \
        -Xcc -fsanitize=address -Xlinker "$runtime" -Xlinker -lstdc++ \
        > "$work/$target-build.log" 2>&1 || { grep -v "Cannot export local symbol" "$work/$target-build.log" | tail -40 >&2; exit 2; }
    bin="$(swift build --package-path "$root/Fuzz" --scratch-path "$work/spm" --show-bin-path)/$target"
    cp -n "$root/Fuzz/corpus/$corpus"/* "$work/$work_corpus/" 2>/dev/null || true
    log="$work/$log_name"
    echo "fuzzing for ${seconds}s (log: $log)" >&2
    set +e
    "$bin" "$work/$work_corpus" -max_total_time="$seconds" "$@" \
        -artifact_prefix="$work/$work_artifacts/" -print_final_stats=1 > "$log" 2>&1
    status=$?
    set -e
    execs="$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || true)"
    [ -n "$execs" ] || execs="$(grep -Eo '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)"
    crashes="$(grep -cE '^==[0-9]+==ERROR|deadly signal|Fatal error|fuzz invariant violated' "$log" || true)"
    echo "executions: ${execs:-unknown}"
    echo "seconds: $seconds"
    echo "crashes: $crashes"
    if [ "$status" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        echo "libFuzzer exited with $status; see $log and $work/$work_artifacts/" >&2
        grep -E 'fuzz invariant violated|ERROR|Test unit written' "$log" | head -5 >&2 || true
        exit 1
    fi
}
