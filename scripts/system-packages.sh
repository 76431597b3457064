#!/usr/bin/env bash
# Installs the Debian packages Wuye needs when they are missing: PostgreSQL 15 (tests), a CJK font
# (Chinese text on gate posters), wrk (benchmarks), python3-venv (a minimal image lacks ensurepip),
# Debian's Chromium and the Noto CJK fonts for the browser tests (tests/browser; never a downloaded browser).
# Idempotent; needs root or sudo for apt-get.
set -euo pipefail
need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
