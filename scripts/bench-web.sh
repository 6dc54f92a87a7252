#!/usr/bin/env bash
# HTTP benchmark of `bulletin serve` against nginx serving the same pages as static
# files (the ceiling), measured in the same run.
#
#   scripts/bench-web.sh [STORIES ...]        (default 100000 1000000)
#
# For each archive size: gen, import into a fresh SQLite data directory (timed),
# serve with access logs off (BULLETIN_LOG=warn), then wrk -t2 -c64 --latency
# on the home page, a tag archive's page 1 and a deep page, a story and the RSS
# feed, each "cached" (the rendered-page cache warm) and "uncached" (every
# request a URL the cache has not seen), then the same paths from nginx, then
# one page again with access logs on (BULLETIN_LOG=info) to show their cost.
#
# Needs: wrk, nginx (nginx-light), curl, /usr/bin/time (Debian `time`), python3;
# missing ones are installed with apt-get. wrk, the server and nginx share the
# machine's cores: quote ratios, not absolute figures. Prints figures; asserts nothing.
# BULLETIN_BENCH_DURATION (default 10s) and BULLETIN_BENCH_WARMUP (default 3s)
# set the length of a measured and a warm-up wrk run.
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# == 0)); then set -- 100000 1000000; fi
for n in "$@"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [STORIES ...]" >&2; exit 2; }
done
duration=${BULLETIN_BENCH_DURATION:-10s}
warmup=${BULLETIN_BENCH_WARMUP:-3s}
# --timeout: slow uncached pages are measured, not dropped at wrk's default 2 s.
wrk_opts=(-t2 -c64 --latency --timeout 30s)
story_target=2000 # distinct story paths for the uncached story run
tag_page_cap=2000 # tag archive pages cycled over in the uncached tag-pages run
deep_page=500

# --- tools -------------------------------------------------------------------
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
[[ -x /usr/bin/time ]] || missing+=(time)
command -v python3 >/dev/null || missing+=(python3)
if ((${#missing[@]})); then
  echo "== installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# --- processes and cleanup ---------------------------------------------------
work=$(mktemp -d /tmp/bulletin-bench-web.XXXXXX)
server_pid=""
nginx_pid=""
stop() { # pid: TERM, wait up to 10 s, then KILL
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$server_pid"
  stop "$nginx_pid"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server LOGLEVEL LOGFILE: sets server_pid and base (http://127.0.0.1:PORT).
start_server() {
  BULLETIN_LOG=$1 "$bin" --data "$data" serve --addr 127.0.0.1:0 2>"$2" &
  server_pid=$!
  local i addr=""
  for ((i = 0; i < 600; i++)); do
    kill -0 "$server_pid" 2>/dev/null || { echo "bulletin serve exited:"; cat "$2"; exit 1; }
    addr=$(grep -so 'serving http://[0-9.:]*' "$2" | head -n1 | cut -d/ -f3) || true
    if [[ -n $addr ]] && curl -fso /dev/null "http://$addr/"; then
      base="http://$addr"
      return
    fi
    sleep 0.1
  done
  echo "bulletin serve did not answer within 60 s:"; cat "$2"; exit 1
}

# get PATH: bulletin's page, with the `/` that HTML escaping writes as &#x2f; in links decoded.
get() { curl -fsS "$base$1" | sed -e 's|&#x2[fF];|/|g' -e 's|&#47;|/|g'; }

# status PATH: the HTTP status bulletin answers.
status() { curl -s -o /dev/null -w '%{http_code}' "$base$1"; }

# One wrk script for every run, so the client does the same work against both
# servers. `fixed`: cycle over the paths. `bust`: append a query string unique to
# each request; pages ignore it but the page cache keys on path and query, so
# every request is a miss (nginx ignores it too). Paths come from a file.
cat >"$work/paths.lua" <<'LUA'
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local paths, n, i, bust = {}, 0, 0, false
function init(args)
  for line in io.lines(args[1]) do
    n = n + 1
    paths[n] = line
  end
  bust = args[2] == "bust"
  i = tid * 7919 -- threads start at different paths
end
function request()
  i = i + 1
  local path = paths[(i % n) + 1]
  if bust then
    path = path .. "?nocache=" .. tid .. "-" .. i
  end
  return wrk.format("GET", path)
end
LUA

to_ms() { # wrk's latency (585.00us, 3.45ms, 1.20s) in ms
  awk -v v="$1" 'BEGIN {
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
    else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.2f", v * 60000 }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
    else printf "?" }'
}

# run_wrk LABEL URL PATHFILE MODE [WARMUP]: prints one line; sets rps p50 p99 nreq.
run_wrk() {
  local label=$1 url=$2 paths=$3 mode=$4 warm=${5:-} out="$work/wrk.out"
  if [[ -n $warm ]]; then
    wrk "${wrk_opts[@]}" -d"$warmup" -s "$work/paths.lua" "$url" -- "$paths" "$mode" >/dev/null
  fi
  wrk "${wrk_opts[@]}" -d"$duration" -s "$work/paths.lua" "$url" -- "$paths" "$mode" >"$out"
  rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
  nreq=$(awk '/ requests in / { print $1 }' "$out")
  printf '  %-30s %8s req/s   p50 %8s ms   p99 %8s ms   (%s requests)\n' "$label" "$rps" "$p50" "$p99" "$nreq"
  # wrk counts 4xx/5xx as "Non-2xx or 3xx"; socket errors include its 2 s timeout.
  local bad
  bad=$(grep -E 'Non-2xx|Socket errors' "$out" || true)
  if [[ -n $bad ]]; then
    echo "    !! $label: ${bad//$'\n'/; }"
    errors+=("$n $label: ${bad//$'\n'/; }")
  fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }

started=$SECONDS
cargo build --release -q -p bulletin
bin=$PWD/target/release/bulletin
echo "build: $((SECONDS - started)) s"
summary=()
memory=()
errors=()

for n in "$@"; do
  echo
  echo "=================== $n stories"
  data="$work/data-$n"
  gen="$work/gen-$n.txt"
  "$bin" gen --stories "$n" --seed 1 -o "$gen" 2>/dev/null
  printf 'generated: %.0f MB\n' "$(echo "$(stat -c %s "$gen") / 1000000" | bc -l)"

  /usr/bin/time -f "%e %M" -o "$work/time" "$bin" --data "$data" import "$gen" >"$work/out" 2>"$work/err" || {
    echo "import failed:"; cat "$work/err"; exit 1; }
  read -r t_import import_rss <"$work/time"
  printf 'import (sqlite): %.2f s, %.0f stories/s, peak %.0f MiB, data dir %s\n' "$t_import" \
    "$(echo "$n / $t_import" | bc -l)" "$(echo "$import_rss / 1024" | bc -l)" "$(du -sh "$data" | cut -f1)"
  rm -f "$gen"

  start_server warn "$work/serve.log"
  echo "bulletin serve: $base (pid $server_pid, BULLETIN_LOG=warn)"
  rss0=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")

  # --- discover the paths ----------------------------------------------------
  # The tag with the most stories, from "<a href="/tag/SLUG/">Name</a> (COUNT)".
  tag=$(get /tag/ | grep -oE 'href="/tag/[^"/]+/">[^<]*</a> \([0-9]+\)' |
    sed -E 's|^href="/tag/([^"/]+)/".*\(([0-9]+)\)$|\2 \1|' | sort -k1,1nr | head -n1 | cut -d' ' -f2) || true
  [[ -n $tag ]] || { echo "no tag found on /tag/"; exit 1; }
  tag_pages=$(get "/tag/$tag/" | grep -oE 'page 1 of [0-9]+' | awk '{ print $4 }' | head -n1) || true
  tag_pages=${tag_pages:-1}
  deep=$((tag_pages < deep_page ? tag_pages : deep_page))
  deep_path="/tag/$tag/page/$deep/"
  ((deep > 1)) || deep_path="/tag/$tag/"
  story=$(get / | grep -oE 'href="/[0-9]{4}/[0-9]{2}/[0-9]{2}/[^"/]+/"' | head -n1 | cut -d'"' -f2) || true
  [[ -n $story ]] || { echo "no story link on /"; exit 1; }

  # ~2000 story paths from ~210 year archive pages (cheap to render at any size):
  # page 1 of years spread over the whole archive, or more pages a year if few.
  mapfile -t years < <(get / | grep -oE 'href="/[0-9]{4}/"' | cut -d/ -f2 | awk '!seen[$0]++')
  ((${#years[@]})) || { echo "no year links on /"; exit 1; }
  ny=${#years[@]}
  per_year=$(((210 + ny - 1) / ny))
  : >"$work/harvest.cfg"
  for ((k = 1; k <= per_year; k++)); do
    for ((j = 0; j < (ny < 210 ? ny : 210); j++)); do
      y=${years[$((ny <= 210 ? j : j * (ny - 1) / 209))]}
      if ((k == 1)); then p="/$y/"; else p="/$y/page/$k/"; fi
      echo "url = \"$base$p\"" >>"$work/harvest.cfg"
    done
  done
  # -f: a year with fewer pages answers 404 for the rest; they are skipped.
  curl -fs -K "$work/harvest.cfg" | sed -e 's|&#x2[fF];|/|g' -e 's|&#47;|/|g' | grep -oE 'href="/[0-9]{4}/[0-9]{2}/[0-9]{2}/[^"/]+/"' |
    cut -d'"' -f2 | awk '!seen[$0]++' | head -n "$story_target" >"$work/story.paths" || true
  tag_cycle=$((tag_pages < tag_page_cap ? tag_pages : tag_page_cap))
  {
    echo "/tag/$tag/"
    for ((k = 2; k <= tag_cycle; k++)); do echo "/tag/$tag/page/$k/"; done
  } >"$work/tagpages.paths"
  echo "tag: $tag ($tag_pages pages); deep page: $deep_path; story: $story"
  echo "uncached lists: $(wc -l <"$work/story.paths") distinct story paths (from $(grep -c '^url' "$work/harvest.cfg") pages of $ny year archives), $tag_cycle tag pages"

  # Rows: name, path measured cached, file of paths for the uncached run.
  rows=(home tag1 tagdeep story tagpages feed)
  declare -A label=([home]="home /" [tag1]="tag page 1" [tagdeep]="tag page $deep"
    [story]="story" [tagpages]="tag pages 1..$tag_cycle" [feed]="feed /feed/")
  declare -A path=([home]=/ [tag1]="/tag/$tag/" [tagdeep]="$deep_path" [story]="$story" [tagpages]="" [feed]=/feed/)
  for r in home tag1 tagdeep feed; do echo "${path[$r]}" >"$work/$r.paths"; done
  # Every path must answer 200, with or without the cache-busting query string.
  checked=0
  for r in "${rows[@]}"; do
    while read -r p; do
      for q in "" "?nocache=check"; do
        s=$(status "$p$q")
        checked=$((checked + 1))
        if [[ $s != 200 ]]; then
          echo "  !! GET $p$q answered $s"
          errors+=("$n GET $p$q answered $s")
        fi
      done
    done < <(awk 'NR == 1 || NR % 500 == 0' "$work/$r.paths") # a sample of the long lists
  done
  echo "checked $checked addresses (each path, or a sample of a list, with and without ?nocache=)"

  # --- the ceiling: the same pages as files, served by nginx ------------------
  docroot="$work/docroot"
  rm -rf "$docroot"
  mkdir -p "$docroot"
  cat "$work"/{home,tag1,tagdeep,feed,story,tagpages}.paths | awk '!seen[$0]++' |
    while read -r p; do printf 'url = "%s%s"\noutput = "%s%sindex.html"\n' "$base" "$p" "$docroot" "$p"; done >"$work/save.cfg"
  save_started=$SECONDS
  saved=$(curl -sS --no-progress-meter -Z --parallel-max 4 --create-dirs -K "$work/save.cfg" -w '%{http_code}\n' 2>"$work/save.err" | grep -c '^200$') || true
  to_save=$(grep -c '^url' "$work/save.cfg")
  echo "saved $saved of $to_save pages with status 200 for nginx ($(du -sh "$docroot" | cut -f1), $((SECONDS - save_started)) s)"
  if ((saved < to_save)); then
    echo "  !! $((to_save - saved)) pages did not answer 200:"
    head -n 5 "$work/save.err"
    errors+=("$n saving pages for nginx: $((to_save - saved)) of $to_save did not answer 200")
  fi
  # nginx's workers run as `nobody` when it is started as root: let them read.
  chmod -R a+rX "$work"
  nginx_port=$(free_port)
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/client_body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  types { }
  default_type "text/html; charset=utf-8";
  server {
    listen 127.0.0.1:$nginx_port;
    root $docroot;
    index index.html;
    location /feed/ { default_type "application/rss+xml; charset=utf-8"; }
  }
}
CONF
  "$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" 2>>"$work/nginx/stderr" &
  nginx_pid=$!
  for ((i = 0; i < 100; i++)); do
    curl -fso /dev/null "http://127.0.0.1:$nginx_port/" && break
    kill -0 "$nginx_pid" 2>/dev/null || { echo "nginx exited:"; cat "$work/nginx/stderr" "$work/nginx/error.log"; exit 1; }
    sleep 0.1
  done
  nginx_base="http://127.0.0.1:$nginx_port"
  echo "nginx: $nginx_base (pid $nginx_pid)"

  # --- measure ----------------------------------------------------------------
  for r in "${rows[@]}"; do
    paths="$work/$r.paths"
    echo "-- ${label[$r]}"
    if [[ -n ${path[$r]} ]]; then
      echo "${path[$r]}" >"$work/one.paths"
      run_wrk "bulletin cached" "$base" "$work/one.paths" fixed warm
      c_rps=$rps c_p50=$p50 c_p99=$p99
    else
      c_rps="" c_p50="-" c_p99="-"
    fi
    run_wrk "bulletin uncached" "$base" "$paths" bust
    u_rps=$rps u_p50=$p50 u_p99=$p99
    echo "    distinct URLs: $nreq (every request; $(wc -l <"$paths") distinct paths + a unique query string)"
    run_wrk "nginx (static files)" "$nginx_base" "$paths" bust warm
    g_rps=$rps g_p50=$p50 g_p99=$p99
    printf '    bulletin/nginx: cached %s, uncached %s\n' "$(ratio "$c_rps" "$g_rps")" "$(ratio "$u_rps" "$g_rps")"
    summary+=("$(printf '%-9s %-20s %8s %7s %7s   %8s %7s %7s   %8s %7s %7s   %6s %6s' "$n" "${label[$r]}" \
      "${c_rps:--}" "$c_p50" "$c_p99" "$u_rps" "$u_p50" "$u_p99" "$g_rps" "$g_p50" "$g_p99" \
      "$(ratio "$c_rps" "$g_rps")" "$(ratio "$u_rps" "$g_rps")")")
  done

  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$server_pid/status")
  hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$server_pid/status")
  printf 'bulletin serve memory after the runs: VmRSS %.1f MiB, VmHWM %.1f MiB (VmRSS at start %.1f MiB)\n' \
    "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" "$(echo "$rss0 / 1024" | bc -l)"

  # --- the cost of the access log: the cached home page, logs off then on -----
  echo "-- access log cost: home / cached, back to back; logs on = BULLETIN_LOG=info, written to a file"
  echo / >"$work/one.paths"
  run_wrk "bulletin cached, logs off" "$base" "$work/one.paths" fixed warm
  off_rps=$rps
  stop "$server_pid"
  server_pid=""
  start_server info "$work/serve-info.log"
  run_wrk "bulletin cached, logs on" "$base" "$work/one.paths" fixed warm
  on_rps=$rps
  lines=$(grep -c 'bulletin::access' "$work/serve-info.log") || true
  log_bytes=$(grep 'bulletin::access' "$work/serve-info.log" | wc -c) || true
  printf '    logs on/off: %s; %s access log lines, %s bytes a line\n' \
    "$(ratio "$on_rps" "$off_rps")" "$lines" "$((log_bytes / (lines > 0 ? lines : 1)))"
  stop "$server_pid"
  server_pid=""
  stop "$nginx_pid"
  nginx_pid=""
  memory+=("$(printf '%-9s import %8.2f s   serve VmRSS %7.1f MiB   VmHWM %7.1f MiB   home cached logs on/off %s (%s / %s req/s)' \
    "$n" "$t_import" "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)" \
    "$(ratio "$on_rps" "$off_rps")" "$on_rps" "$off_rps")")
  rm -rf "$data" "$docroot"
done

echo
echo "=================== summary (req/s; p50 and p99 in ms; wrk -t2 -c64 -d$duration, same machine)"
printf '%-9s %-20s %8s %7s %7s   %8s %7s %7s   %8s %7s %7s   %6s %6s\n' stories page \
  "cached" p50 p99 "uncached" p50 p99 "nginx" p50 p99 "c/ngx" "u/ngx"
printf '%s\n' "${summary[@]}"
echo
printf '%s\n' "${memory[@]}"
if ((${#errors[@]})); then
  echo
  echo "errors:"
  printf '  %s\n' "${errors[@]}"
fi
echo
echo "total: $((SECONDS - started)) s (build included)"
