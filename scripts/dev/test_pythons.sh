#!/usr/bin/env bash
# Run the core, sandbox, Exact Online and ConnectWise tests on other Python versions.
#
#   scripts/dev/test_pythons.sh [INTERPRETER...]    (default: Python 3.10 and 3.13)
#
# Each interpreter gets its own environment, .venv-py<major.minor>, synced from the committed
# uv.lock (--locked: fail rather than re-resolve). The test files that run Meltano or the demo
# scripts (*meltano*.py, *demo*.py) are left out: they call the main .venv's executables, so they
# would not test the interpreter.
# Exits non-zero if any sync or test run fails. To rerun one test in such an environment:
#   .venv-py3.10/bin/pytest -p no:cacheprovider tests/path/test_x.py::test_name
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

TESTS=(tests/core tests/sandbox tests/exactonline tests/connectwise)

# A runnable pythonX.Y on PATH (a pyenv shim may be on PATH yet fail), else what uv finds,
# else the newest pyenv X.Y.
find_python() {
    local py="python$1" pyenv_root
    if command -v "$py" >/dev/null && "$py" -c '' 2>/dev/null; then command -v "$py"; return; fi
    uv python find --no-python-downloads "$1" 2>/dev/null && return
    pyenv_root=$(pyenv root 2>/dev/null) && ls -d "$pyenv_root"/versions/"$1".*/bin/"$py" 2>/dev/null \
        | sort -V | tail -1 | grep . && return
    echo "no runnable Python $1 found; pass its path as an argument" >&2; return 1
}

if (($# == 0)); then py310=$(find_python 3.10); py313=$(find_python 3.13); set -- "$py310" "$py313"; fi

summary=() failed=0
for python in "$@"; do
    version=$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')
    export UV_PROJECT_ENVIRONMENT=".venv-py${version%.*}"
    log=$(mktemp)
    start=$SECONDS
    echo "=== Python $version ($python) -> $UV_PROJECT_ENVIRONMENT"
    if uv sync --locked --python "$python" \
        && "$UV_PROJECT_ENVIRONMENT/bin/pytest" -p no:cacheprovider --ignore-glob='*meltano*.py' \
            --ignore-glob='*demo*.py' "${TESTS[@]}" 2>&1 | tee "$log"
    then status=PASS
    else status=FAIL failed=1
    fi
    result=$(grep -E '^=+ .* in [0-9.]+s' "$log" | tail -1 | sed -E 's/^=+ | =+$//g' || true)
    summary+=("$status  Python $version: ${result:-no test summary}; wall $((SECONDS - start))s")
    rm -f "$log"
done

echo
printf '%s\n' "${summary[@]}"
exit "$failed"
