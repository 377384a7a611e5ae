#!/usr/bin/env bash
# The first hour of a new user, as a script (run by .ci/run): in a fresh temporary clone of this
# repository, (1) `npm ci` without optional packages (no impit) and `npm run build`; (2) `npm pack` and a
# global install of the tarball into a temporary prefix; (3) the installed CLI's --version, help,
# `sync -h` and the typo `sycn`, which must suggest `sync`; (4) the README's "Try it without an account"
# block, run as a script, which must leave no process behind. Every step must pass.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/garmin-s3-newcomer-XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { printf '\n--> newcomer: %s\n' "$*"; }
fail() { echo "newcomer: FAILED: $*" >&2; exit 1; }

step "a fresh clone of $(git -C "$repo" rev-parse --short HEAD)"
git clone --quiet "$repo" "$work/clone"
cd "$work/clone"

step '1. npm ci without optional packages, then npm run build'
npm ci --omit=optional --no-audit --no-fund --prefer-offline >/dev/null
if node -e "import('impit').then(() => process.exit(0), () => process.exit(1))"; then fail 'impit is installed'; fi
npm run build >/dev/null
[ -f dist/lambda/index.mjs ] && [ -f oclif.manifest.json ] || fail 'the build left no Lambda bundle or manifest'

step '2. npm pack, and a global install of the tarball into a temporary prefix'
tarball="$(npm pack --silent --ignore-scripts | tail -n 1)"
npm install --global --prefix "$work/prefix" --omit=optional --no-audit --no-fund --prefer-offline "./$tarball" >/dev/null
cli="$work/prefix/bin/garmin-s3"
[ -x "$cli" ] || fail "no garmin-s3 in $work/prefix/bin"

step '3. the installed CLI: --version, help, sync -h, and a typo'
(cd "$work" && "$cli" --version) | grep -q '^garmin-s3/' || fail '--version'
(cd "$work" && "$cli" help) | grep -q 'sync' || fail 'help does not list sync'
(cd "$work" && "$cli" sync -h) | grep -q -- '--bucket' || fail 'sync -h'
set +e
typo="$(cd "$work" && "$cli" sycn </dev/null 2>&1)"
typo_exit=$?
set -e
[ "$typo_exit" -eq 2 ] || fail "sycn exited $typo_exit, expected 2"
grep -q 'sync' <<<"$typo" || fail "sycn did not suggest sync: $typo"

step "4. the README's try-it block, as a script"
awk '/<!-- try-it -->/{f=1; next} f && /^```bash/{g=1; next} g && /^```/{exit} g' README.md > try-it.sh
[ -s try-it.sh ] || fail 'no try-it block in README.md'
if command -v duckdb >/dev/null 2>&1; then bash try-it.sh > try-it.log 2>&1 || { cat try-it.log; fail 'the try-it block'; }
else sed '/^duckdb /d' try-it.sh > try-it-noduck.sh && bash try-it-noduck.sh > try-it.log 2>&1 || { cat try-it.log; fail 'the try-it block'; }; fi
grep -q 'Up to date' try-it.log || { cat try-it.log; fail 'the second sync did not say "Up to date"'; }
# The block starts the simulator as `node --import tsx test/sim/cli.ts` (a relative path), so a leftover
# is found by its working folder, this clone, not by an absolute path in its command line.
left=''
for pid in $(pgrep -f 'test/sim/cli\.ts' || true); do
  if [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$work/clone" ]; then left="$left $pid"; fi
done
[ -z "$left" ] || { kill $left 2>/dev/null || true; fail "the try-it block left processes behind:$left"; }

echo
echo 'newcomer: all four steps passed'
