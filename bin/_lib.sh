# Shared by bin/run and bin/test (sourced, not executed).
#
# After sourcing: the working directory is the repository root, $VENV points at .venv, and
# ensure_venv has created it (if missing) and installed requirements-dev.txt (if the
# requirements files changed since the last install).

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"

VENV="$REPO_ROOT/.venv"
VENV_STAMP="$VENV/.requirements.sha256"

log() {
    printf '==> %s\n' "$*" >&2
}

die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# The interpreter that builds .venv: $PYTHON if set, else python3.11, else python3 (>= 3.11).
find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3; do
        [[ -n "$candidate" ]] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)."
}

requirements_hash() {
    # The interpreter's version is part of it: a venv rebuilt on another Python reinstalls.
    "$VENV/bin/python" -c '
import hashlib, sys
h = hashlib.sha256(sys.version.encode())
for name in sys.argv[1:]:
    with open(name, "rb") as f:
        h.update(f.read())
print(h.hexdigest())
' requirements.txt requirements-dev.txt
}

ensure_venv() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        local python
        python="$(find_python)"
        log "Creating .venv with $python"
        "$python" -m venv "$VENV"
    fi
    local want have=""
    want="$(requirements_hash)"
    [[ -f "$VENV_STAMP" ]] && have="$(cat "$VENV_STAMP")"
    if [[ "$want" != "$have" ]]; then
        log "Installing requirements-dev.txt into .venv"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r requirements-dev.txt
        echo "$want" >"$VENV_STAMP"
    fi
}

# True when something accepts TCP connections on host:port.
port_answers() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_for_port HOST PORT SECONDS
wait_for_port() {
    local i
    for ((i = 0; i < $3 * 5; i++)); do
        port_answers "$1" "$2" && return 0
        sleep 0.2
    done
    return 1
}

# setting NAME DEFAULT: NAME from the environment, else from a KEY=VALUE line in .env (the
# file settings.py reads too), else DEFAULT.
setting() {
    if [[ -n "${!1+set}" ]]; then
        printf '%s' "${!1}"
        return
    fi
    local line=""
    if [[ -f .env ]]; then
        line="$(grep -E "^[[:space:]]*(export[[:space:]]+)?$1=" .env | tail -n 1)" || true
    fi
    if [[ -z "$line" ]]; then
        printf '%s' "$2"
        return
    fi
    line="${line#*=}"
    line="${line%\"}" && line="${line#\"}"
    line="${line%\'}" && line="${line#\'}"
    printf '%s' "$line"
}

# is_true VALUE: the values django-environ reads as true.
is_true() {
    case "${1,,}" in
        true | on | ok | y | yes | 1) return 0 ;;
        *) return 1 ;;
    esac
}

# run_defaults: the configuration bin/run runs with, for bin/run and bin/manage alike.
# DEBUG defaults to true (dev-only secrets). With no META_GRAPH_URL of its own, the service
# talks to the local Meta sandbox (USE_SANDBOX=1, port MOJITO_SANDBOX_PORT), which bin/run
# starts and seeds with a demo token and ad account. The demo's image is served by the service
# itself on loopback, hence MEDIA_FETCH_ALLOW_LOOPBACK: loopback and public addresses only, never
# the rest of the private network (never set it in production).
run_defaults() {
    DEBUG="$(setting DEBUG true)"
    export DEBUG
    SANDBOX_PORT="$(setting MOJITO_SANDBOX_PORT 8765)"
    if [[ -z "$(setting META_GRAPH_URL "")" ]]; then
        USE_SANDBOX=1
        export META_GRAPH_URL="http://127.0.0.1:$SANDBOX_PORT"
        MEDIA_FETCH_ALLOW_LOOPBACK="$(setting MEDIA_FETCH_ALLOW_LOOPBACK true)"
        export MEDIA_FETCH_ALLOW_LOOPBACK
        SANDBOX_TOKEN="sandbox-demo-token"
        SANDBOX_ACCOUNT="act_100000000000001"
        SANDBOX_PAGE="100000000000002"
    else
        USE_SANDBOX=0
    fi
}
