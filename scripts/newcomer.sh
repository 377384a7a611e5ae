#!/usr/bin/env bash
# The first hour of a new user, as a script (run by .ci/run): in a fresh temporary clone of this
# repository, (1) `npm ci` without optional packages (no impit) and `npm run build`; (2) `npm pack` and a
# global install of the tarball into a temporary prefix; (3) the installed CLI's --version, help,
# `sync -h` and the typo `sycn`, which must suggest `sync`; (4) the README's "Try it without an account"
# block, run as a script, which must leave no process behind; (5) `npx --package <git spec> garmin-s3`, what
# a workflow written by `init github-actions --package github:owner/repo#tag` runs (npm clones, installs
# the devDependencies and builds through the prepare script). Every step must pass.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/garmin-s3-newcomer-XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { printf '\n--> newcomer: %s\n' "$*"; }
fail() { echo "newcomer: FAILED: $*" >&2; exit 1; }

step "a fresh clone of $(git -C "$repo" rev-parse --short HEAD)"
git clone --quiet "$repo" "$work/clone"
cd "$work/clone"

step '1. npm ci without optional packages (it builds, through prepare), then npm run build'
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

step '5. npx from a git spec, as a workflow written with --package github:owner/repo#tag runs it'
# A git+file spec takes npm's path for github: specs (clone, npm install with devDependencies, prepare,
# pack) without the network; the packages come from the cache npm ci filled.
spec="git+file://$work/clone#$(git rev-parse HEAD)"
cache="$(npm config get cache)"
from_git="$(cd "$work" && npx --yes --prefer-offline --package "$spec" garmin-s3 --version 2>"$work/npx.log")" \
  || { grep -v TAR_ENTRY "$work/npx.log" | tail -n 20; fail "npx --package $spec garmin-s3 --version"; }
grep -q '^garmin-s3/' <<<"$from_git" || fail "npx from git printed: $from_git"
# npx keeps what it installed under the cache's _npx folder: remove this run's copy.
for manifest in "$cache"/_npx/*/package.json; do
  if grep -qF "$work/clone" "$manifest" 2>/dev/null; then rm -rf "$(dirname "$manifest")"; fi
done

echo
echo 'newcomer: all five steps passed'
