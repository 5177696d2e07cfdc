#!/usr/bin/env bash
# Benchmark entry point (`make bench`, `make bench ARGS="--suite scale --quick"`).
# Creates .bench-venv at the repo root if needed, installs bench/requirements.txt and ftl
# (`pip install -e .`) into it when they changed, then runs bench/run.py with the arguments.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.bench-venv"
py="$venv/bin/python"
stamp="$venv/.bench-installed"

if [[ ! -x "$py" ]]; then
    echo "bench: creating $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
fi

# Reinstall only when the requirements or the project's metadata changed.
want="$(cat "$repo/bench/requirements.txt" "$repo/pyproject.toml" 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "bench: installing bench/requirements.txt into $venv" >&2
    "$py" -m pip install --quiet --disable-pip-version-check -r "$repo/bench/requirements.txt"
    ftl_ok=1
    if [[ -f "$repo/pyproject.toml" ]]; then
        echo "bench: installing ftl (pip install -e .)" >&2
        if ! (cd "$repo" && "$py" -m pip install --quiet --disable-pip-version-check -e .); then
            echo "bench: 'pip install -e .' failed; ftl rows will show as not available" >&2
            ftl_ok=0
        fi
    else
        ftl_ok=0
    fi
    # Retry the installs next time until ftl installed too.
    if [[ "$ftl_ok" == 1 ]]; then echo "$want" > "$stamp"; else rm -f "$stamp"; fi
fi

cd "$repo"
exec "$py" bench/run.py "$@"
