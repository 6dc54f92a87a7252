#!/usr/bin/env bash
# The cost of metrics on throughput: the same archive served by `bulletin serve`
# without and with `--metrics-addr` (scraped every second during the run, as
# Prometheus would), measured with wrk in the same run, alternating twice.
#
#   scripts/bench-metrics.sh [STORIES]        (default 100000)
#
# Needs wrk and curl (Debian; installed when missing). wrk and the server share
# the machine: quote the ratio. Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

stories=${1:-100000}
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/bulletin-bench-metrics.XXXXXX)
server=""
scraper=""
cleanup() {
  [[ -n $scraper ]] && kill "$scraper" 2>/dev/null || true
  [[ -n $server ]] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -q -p bulletin
bin=target/release/bulletin
"$bin" gen --stories "$stories" --seed 1 -o "$work/archive.txt" 2>/dev/null
"$bin" --data "$work/site" import "$work/archive.txt" 2>&1 | tail -1

cat >"$work/mix.lua" <<'LUA'
local paths = {"/", "/feed/", "/tag/", "/issue/", "/country/", "/search/?q=detained"}
for year = 1996, 2015 do
  for page = 2, 20 do paths[#paths + 1] = "/" .. year .. "/page/" .. page .. "/" end
end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA

run() { # label, serve arguments...
  local label=$1
  shift
  BULLETIN_LOG=warn "$bin" --data "$work/site" serve --addr 127.0.0.1:0 "$@" >/dev/null 2>"$work/serve.log" &
  server=$!
  for _ in $(seq 1 300); do
    grep -q "bulletin is serving" "$work/serve.log" 2>/dev/null && break
    sleep 0.1
  done
  local addr metrics
  addr=$(sed -n 's|.*serving http://\([^/]*\)/.*|\1|p' "$work/serve.log" | head -1)
  metrics=$(sed -n 's|^metrics at \(http://[^ ]*\)$|\1|p' "$work/serve.log" | head -1)
  # Warm the page cache, then measure.
  wrk -t2 -c64 -d3s -s "$work/mix.lua" "http://$addr" >/dev/null
  if [[ -n $metrics ]]; then
    (while :; do curl -s -o /dev/null "$metrics"; sleep 1; done) &
    scraper=$!
  fi
  printf '%-22s ' "$label"
  wrk -t2 -c64 -d10s -s "$work/mix.lua" "http://$addr" |
    awk '/Requests\/sec/ {rps = $2} /Latency/ {lat = $2} END {printf "%s req/s   latency avg %s\n", rps, lat}'
  if [[ -n $scraper ]]; then kill "$scraper"; wait "$scraper" 2>/dev/null || true; scraper=""; fi
  if [[ -n $metrics ]]; then
    echo "   series exposed: $(curl -s "$metrics" | grep -vc '^#')"
  fi
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
}

echo "== wrk -t2 -c64 -d10s over cached pages and searches ($stories stories)"
for round in 1 2; do
  run "without metrics ($round)"
  run "with metrics ($round)" --metrics-addr 127.0.0.1:0
done
