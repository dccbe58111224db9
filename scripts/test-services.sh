#!/usr/bin/env bash
# `make test`: the test suite with the services the web tests need, all from Debian, all torn down after.
#   - PostgreSQL: a throwaway cluster made by pg_virtualenv -t (postgresql-common; -t: in a temporary directory
#     even as root, so a cluster left by a killed run or another run at the same time never blocks it), which exports
#     PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE, runs the tests and removes the cluster even when they fail;
#     SUBSIDY_TEST_DATABASE_URL is built from those variables (a name of its own: the tests empty that database).
#   - Chromium and a CJK font for the Playwright test (Playwright never downloads a browser here).
# Packages are installed only when missing (dpkg status), which needs root (CI runs as root) or sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

installed() {  # dpkg -s also answers for a removed package whose config files remain: check its status
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}
missing=()
for pkg in postgresql chromium fonts-wqy-zenhei; do
    installed "$pkg" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "test-services: missing ${missing[*]} and not root: install them (apt-get install -y ${missing[*]})" >&2
        exit 1
    fi
    echo "test-services: installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    if [[ " ${missing[*]} " == *" postgresql "* ]]; then
        # the package starts its default cluster; the tests bring their own, so leave no server running
        pg_lsclusters -h 2>/dev/null | awk '$2 == "main" && $4 == "online" {print $1, $2}' | while read -r version name; do
            "${sudo[@]}" pg_ctlcluster "$version" "$name" stop || true
        done
    fi
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# shellcheck disable=SC2016  # expanded by the inner shell, inside the cluster's environment
exec pg_virtualenv -t sh -c '
    SUBSIDY_TEST_DATABASE_URL=$("$0" -c "import os, urllib.parse as u; e = os.environ; print(\"postgresql://%s:%s@%s:%s/%s\" % (u.quote(e[\"PGUSER\"], safe=\"\"), u.quote(e[\"PGPASSWORD\"], safe=\"\"), e[\"PGHOST\"], e[\"PGPORT\"], e[\"PGDATABASE\"]))")
    export SUBSIDY_TEST_DATABASE_URL
    exec "$0" -m pytest "$@"
' "$PYTHON" "$@"
