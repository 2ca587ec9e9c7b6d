#!/usr/bin/env bash
# jupyter_tinyai quick start.
#
#   ./scripts/run.sh demo   install into .venv, then ask the bundled model a question
#   ./scripts/run.sh lab    install into .venv, then open JupyterLab on examples/quickstart.ipynb
#   ./scripts/run.sh test   install into .venv with the test tools (and Chromium), run every test
#
# Environment: PYTHON (default python3), TINYAI_VENV (default .venv), CMAKE_ARGS (passed to
# the llama-cpp-python build; chosen automatically when unset, see detect_cmake_args).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${TINYAI_VENV:-.venv}

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

make_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
            || { echo "Python 3.10 or newer is needed (PYTHON=$PYTHON is older)" >&2; exit 1; }
        say "creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    "$VENV/bin/python" -m pip install -q --upgrade pip
}

# llama.cpp builds for the CPU it is built on. Some CPUs (and VMs) advertise AMX but kill
# the process with SIGILL when it is used: probe it, and build portably where it fails.
# A laptop whose CPU runs its own instructions keeps the native build.
detect_cmake_args() {
    [ -n "${CMAKE_ARGS:-}" ] && return
    "$VENV/bin/python" -c 'import llama_cpp' 2>/dev/null && return
    [ "$(uname -s)" = Linux ] && grep -qw amx_tile /proc/cpuinfo 2>/dev/null || return 0
    command -v cc >/dev/null || return 0
    local dir; dir=$(mktemp -d)
    cat > "$dir/amx.c" <<'C'
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
    syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */);
    unsigned char config[64] = {0};
    config[0] = 1;
    __asm__ volatile("ldtilecfg %0" :: "m"(config));
    __asm__ volatile("tilezero %%tmm0" ::: "memory");
    __asm__ volatile("tilerelease" ::: "memory");
    return 0;
}
C
    if cc -mamx-tile -o "$dir/amx" "$dir/amx.c" 2>/dev/null \
        && ! sh -c '"$1"; exit $?' sh "$dir/amx" 2>/dev/null; then  # sh reports the SIGILL, quietly
        export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON"
        say "this CPU advertises AMX but cannot run it: building llama.cpp with CMAKE_ARGS=\"$CMAKE_ARGS\""
    fi
    rm -rf "$dir"
}

# Building the JupyterLab extension from source needs Node.js 18+ (a wheel from PyPI does not).
ensure_node() {
    command -v node >/dev/null && return
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        say "installing Debian's nodejs to build the JupyterLab extension"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
    else
        echo "Node.js 18 or newer is needed to build the JupyterLab extension from a clone: install it first" >&2
        exit 1
    fi
}

# $1: the extra to install ("" or test); $2 = python-only: the JupyterLab extension is not
# needed (the demo), so without Node.js the package installs without building it.
install() {
    if [ "${2:-}" = python-only ] && ! command -v node >/dev/null; then
        say "no Node.js: installing without building the JupyterLab extension (\`$0 lab\` builds it)"
        export SKIP_JUPYTER_BUILDER=1
    else
        ensure_node
    fi
    make_venv
    detect_cmake_args
    say "installing jupyter-tinyai${1:+[$1]} (the first time, llama-cpp-python compiles for about 5 minutes)"
    "$VENV/bin/python" -m pip install -q -e ".${1:+[$1]}"
}

install_test_system_packages() {
    # Debian's Chromium for the browser tests (test tools' own browser downloads do not work offline)
    if ! command -v chromium >/dev/null; then
        if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
            say "installing Debian's chromium for the browser tests"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
        else
            echo "chromium is not installed: the browser tests will fail (apt-get install chromium)" >&2
        fi
    fi
}

# Run "$@" with no network but loopback, where the machine allows it: proves the suite
# (kernels, the host, the server, the browser) makes no outside connection.
offline() {
    if command -v unshare >/dev/null && unshare -n true 2>/dev/null && command -v ip >/dev/null; then
        say "running offline (a network namespace with loopback only)"
        unshare -n sh -c 'ip link set lo up && exec "$@"' sh "$@"
    else
        say "unshare -n is not available here: running with the network (the tests still block it in-process)"
        "$@"
    fi
}

demo() {
    install "" python-only
    say "asking the bundled model"
    "$VENV/bin/jupyter" tinyai ask "What is the capital of France?"
}

test_all() {
    install test
    install_test_system_packages
    local status=0 jest=0
    if [ $# = 0 ]; then  # the whole suite: the labextension's lint and unit tests too
        say "labextension lint (eslint, prettier) and unit tests (jest)"
        (cd labextension && export PATH="$(cd .. && pwd)/$VENV/bin:$PATH" \
            && jlpm install >/dev/null && jlpm lint:check && offline jlpm test --silent) || jest=$?
    fi
    say "python, kernel, server and browser tests (pytest)"
    offline "$VENV/bin/python" -m pytest "$@" || status=$?
    if [ "$status" = 5 ]; then
        echo "pytest collected no tests: that is a failure here" >&2
        exit 1
    fi
    [ "$jest" = 0 ] || { echo "the labextension's lint or jest tests failed (exit $jest)" >&2; exit 1; }
    exit "$status"
}

lab() {
    install ""
    say "starting JupyterLab with the quick-start notebook (Ctrl-C stops it)"
    exec "$VENV/bin/jupyter" lab examples/quickstart.ipynb
}

case "${1:-}" in
    demo) demo ;;
    lab) lab ;;
    test) shift; test_all "$@" ;;
    *) echo "usage: $0 demo | lab | test [pytest args]" >&2; exit 2 ;;
esac
