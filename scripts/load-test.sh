#!/usr/bin/env bash
# Load test: `bulletin serve` (release) on a generated archive, wrk at 256
# connections over a mix of cached pages, uncached pages (a unique query string
# per request, so the page cache misses) and searches, while the server's
# memory is sampled. Prints requests, errors, timeouts and memory; exits 1 if
# any request failed or timed out.
#
#   scripts/load-test.sh [STORIES] [DURATION]     (default 100000 60s)
#
# Needs wrk, curl and python3 (missing ones are installed with apt-get).
set -euo pipefail
cd "$(dirname "$0")/.."

stories=${1:-100000}
duration=${2:-60s}
[[ $stories =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [STORIES] [DURATION]" >&2; exit 2; }

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/bulletin-load.XXXXXX)
server_pid=""
sampler_pid=""
cleanup() {
  [[ -n $sampler_pid ]] && kill "$sampler_pid" 2>/dev/null || true
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -q -p bulletin
bin=$PWD/target/release/bulletin
data="$work/data"
"$bin" gen --stories "$stories" --seed 1 -o "$work/gen.txt" 2>/dev/null
"$bin" --data "$data" import "$work/gen.txt" 2>/dev/null
rm -f "$work/gen.txt"
"$bin" --data "$data" reindex 2>/dev/null

BULLETIN_LOG=warn "$bin" --data "$data" serve --addr 127.0.0.1:0 2>"$work/serve.log" &
server_pid=$!
base=""
for ((i = 0; i < 600; i++)); do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  addr=$(grep -so 'serving http://[0-9.:]*' "$work/serve.log" | head -n1 | cut -d/ -f3) || true
  if [[ -n $addr ]] && curl -fso /dev/null "http://$addr/"; then base="http://$addr"; break; fi
  sleep 0.1
done
[[ -n $base ]] || { echo "the server did not answer"; exit 1; }

# The mix: every story, tag and year page linked from the first pages (cached
# after their first request), the same with a unique query string (uncached),
# and searches for words of the generated text (the search page is not cached).
get() { curl -fsS "$base$1" | sed -e 's|&#x2[fF];|/|g' -e 's|&#47;|/|g'; }
{
  echo /
  echo /feed/
  get / | grep -oE 'href="/[0-9]{4}/[0-9/]*[^"]*"' | cut -d'"' -f2
  get /tag/ | grep -oE 'href="/tag/[^"]+/"' | cut -d'"' -f2 | head -n 200
} | awk '!seen[$0]++' >"$work/pages"
printf '%s\n' court detained election protest "human rights" journalist Almaty Baku Tashkent Bishkek |
  sed 's/ /+/g; s|^|/search?q=|' >"$work/searches"
echo "mix: $(wc -l <"$work/pages") pages (cached and uncached) and $(wc -l <"$work/searches") searches"

cat >"$work/mix.lua" <<'LUA'
local threads = 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
local pages, searches, i = {}, {}, 0
function init(args)
  for l in io.lines(args[1]) do pages[#pages + 1] = l end
  for l in io.lines(args[2]) do searches[#searches + 1] = l end
  i = tid * 7919
end
function request()
  i = i + 1
  local kind = i % 10
  if kind < 6 then -- cached
    return wrk.format("GET", pages[(i % #pages) + 1])
  elseif kind < 9 then -- uncached
    return wrk.format("GET", pages[(i % #pages) + 1] .. "?load=" .. tid .. "-" .. i)
  else
    return wrk.format("GET", searches[(i % #searches) + 1] .. "&page=" .. ((i % 5) + 1))
  end
end
LUA

# Memory: the server's resident size every half second.
(while kill -0 "$server_pid" 2>/dev/null; do
  awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status" 2>/dev/null
  sleep 0.5
done) >"$work/rss" &
sampler_pid=$!
rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")

wrk -t2 -c256 -d"$duration" --timeout 10s --latency -s "$work/mix.lua" "$base" -- \
  "$work/pages" "$work/searches" | tee "$work/wrk.out"
kill "$sampler_pid" 2>/dev/null || true
sampler_pid=""

max_rss=$(sort -n "$work/rss" | tail -n1)
end_rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
printf 'memory: VmRSS %.0f MiB at start, %.0f MiB at most during the run, %.0f MiB at the end (VmHWM %.0f MiB)\n' \
  "$(echo "$rss0 / 1024" | bc -l)" "$(echo "$max_rss / 1024" | bc -l)" "$(echo "$end_rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"
if grep -qE 'Non-2xx|Socket errors' "$work/wrk.out"; then
  echo "FAILED: some requests failed or timed out (above)"
  exit 1
fi
echo "0 errors, 0 timeouts"
