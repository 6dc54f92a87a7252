#!/usr/bin/env bash
# The cost of overflow checks in bulletin's own code (the release profile in
# Cargo.toml turns them on for the workspace's crates, off for dependencies):
# the release binary built with them and without them, measured in the same run
# on an import, on search from the command line, and on pages served (a
# year's archive pages 2-20 over 1996-2015 of the generated archive, and
# searches).
#
#   scripts/bench-overflow.sh [STORIES]        (default 100000)
#
# BULLETIN_BENCH_BINARIES=DIR measures DIR/checked and DIR/unchecked instead
# of building them. Needs hyperfine and wrk (Debian packages; installed when
# missing). Both
# binaries share the machine: quote the ratios. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

stories=${1:-100000}
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/bulletin-bench-overflow.XXXXXX)
server=""
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -n ${BULLETIN_BENCH_BINARIES:-} ]]; then
  # Binaries built before (DIR/checked and DIR/unchecked): measure only.
  cp "$BULLETIN_BENCH_BINARIES/checked" "$BULLETIN_BENCH_BINARIES/unchecked" "$work/"
else
echo "== building the release binary with and without overflow checks"
# The unchecked build has a target folder of its own, so neither build undoes
# the other (a profile change rebuilds every crate).
cargo build --release -q -p bulletin
cp target/release/bulletin "$work/checked"
CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=false CARGO_TARGET_DIR=target/overflow-unchecked \
  cargo build --release -q -p bulletin
cp target/overflow-unchecked/release/bulletin "$work/unchecked"
fi

"$work/checked" gen --stories "$stories" --seed 1 -o "$work/archive.txt" 2>/dev/null

echo "== import of $stories stories (SQLite, fresh data directory each run)"
hyperfine --warmup 1 --runs 5 --prepare "rm -rf $work/import" \
  -n checked "$work/checked --data $work/import import $work/archive.txt" \
  -n unchecked "$work/unchecked --data $work/import import $work/archive.txt"

echo "== search from the command line (process start, index open, one query)"
"$work/checked" --data "$work/site" import "$work/archive.txt" 2>/dev/null
"$work/checked" --data "$work/site" search "detained" >/dev/null
for q in 'political rights' 'detained -Uzbekistan' '"opposition leader"'; do
  hyperfine --warmup 3 --runs 30 \
    -n "checked: $q" "$work/checked --data $work/site search '$q' --json" \
    -n "unchecked: $q" "$work/unchecked --data $work/site search '$q' --json"
done

echo "== pages served: wrk -t2 -c32 -d10s over archive pages and searches, cache cold at start"
cat >"$work/mix.lua" <<'LUA'
local paths = {}
for year = 1996, 2015 do
  for page = 2, 20 do paths[#paths + 1] = "/" .. year .. "/page/" .. page .. "/" end
end
for _, q in ipairs({"detained", "election", "protest", "court", "gas", "rights", "opposition", "border"}) do
  paths[#paths + 1] = "/search/?q=" .. q
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
for variant in checked unchecked; do
  BULLETIN_LOG=warn "$work/$variant" --data "$work/site" serve --addr 127.0.0.1:0 >/dev/null 2>"$work/$variant.log" &
  server=$!
  for _ in $(seq 1 300); do
    grep -q "bulletin is serving" "$work/$variant.log" 2>/dev/null && break
    sleep 0.1
  done
  addr=$(sed -n 's|.*serving http://\([^/]*\)/.*|\1|p' "$work/$variant.log" | head -1)
  echo "-- $variant ($(curl -s -o /dev/null -w '%{http_code}' "http://$addr/2015/page/20/") for /2015/page/20/)"
  wrk -t2 -c32 -d10s -s "$work/mix.lua" "http://$addr" | grep -E "Requests/sec|Latency|requests in"
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
done
