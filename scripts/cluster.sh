#!/usr/bin/env bash
# Three `bulletin serve` instances on one PostgreSQL database, each with its own
# data directory, behind nginx on loopback: the several-instances layout of
# docs/deploy.md, to try by hand. crates/bulletin/tests/cluster.rs checks the
# same in CI.
#
#   scripts/cluster.sh [--stories N] [--load]
#
# --stories N   generated stories imported first (default 2000)
# --load        instead of waiting for Ctrl-C: wrk through nginx for 60 s at 256
#               connections while instance B is stopped (SIGTERM) and started
#               again after 20 s; prints wrk's figures (aim: no failed request)
#
# PostgreSQL: $BULLETIN_CLUSTER_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test), where a database bulletin_cluster_PID
# is created and dropped at the end. Needs nginx and wrk (Debian; installed
# when missing) and a release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."

stories=2000
load=false
while (($#)); do
  case $1 in
    --stories) stories=$2; shift 2 ;;
    --load) load=true; shift ;;
    *) echo "usage: $0 [--stories N] [--load]" >&2; exit 2 ;;
  esac
done

missing=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx-light)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

admin=${BULLETIN_CLUSTER_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
db="bulletin_cluster_$$"
url="${admin%/*}/$db"
work=$(mktemp -d /tmp/bulletin-cluster.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -q -p bulletin
bin=$PWD/target/release/bulletin
psql -q "$admin" -c "CREATE DATABASE $db" >/dev/null

echo "== importing $stories generated stories"
"$bin" gen --stories "$stories" --seed 1 -o "$work/archive.txt" 2>/dev/null
"$bin" --data "$work/a" --database "$url" import "$work/archive.txt" 2>&1 | tail -1

ports=(18081 18082 18083)
front=18080
start() { # name port
  BULLETIN_LOG=warn "$bin" --data "$work/$1" --database "$url" \
    serve --addr "127.0.0.1:$2" --trusted-proxy 127.0.0.1 >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    grep -q "bulletin is serving" "$work/$1.log" && return 0
    sleep 0.1
  done
  echo "instance $1 did not start:"; cat "$work/$1.log"; exit 1
}
start a "${ports[0]}"
start b "${ports[1]}"
start c "${ports[2]}"

mkdir -p "$work/nginx"
user=""
[[ $(id -u) == 0 ]] && user="user root;"
cat >"$work/nginx/nginx.conf" <<NGINX
$user
daemon off;
worker_processes auto;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    fastcgi_temp_path $work/nginx/fastcgi;
    uwsgi_temp_path $work/nginx/uwsgi;
    scgi_temp_path $work/nginx/scgi;
    upstream bulletin {
        server 127.0.0.1:${ports[0]} max_fails=0;
        server 127.0.0.1:${ports[1]} max_fails=0;
        server 127.0.0.1:${ports[2]} max_fails=0;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$front;
        location / {
            proxy_pass http://bulletin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
        }
    }
}
NGINX
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$front/" && break; sleep 0.1; done

echo "== three instances: ${ports[*]} (each its own data directory in $work), nginx on http://127.0.0.1:$front/"
if ! $load; then
  echo "Ctrl-C stops everything."
  wait
  exit 0
fi

cat >"$work/mix.lua" <<'LUA'
local paths = {"/", "/feed/", "/tag/", "/issue/", "/search/?q=detained", "/search/?q=election", "/country/"}
for year = 1996, 1999 do paths[#paths + 1] = "/" .. year .. "/" end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
LUA
echo "== wrk through nginx, 60 s at 256 connections; instance B restarts at 20 s"
wrk -t2 -c256 -d60s --timeout 10s --latency -s "$work/mix.lua" "http://127.0.0.1:$front/" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
sleep 20
b_pid=${pids[1]}
kill -TERM "$b_pid"
wait "$b_pid" 2>/dev/null || true
echo "   B stopped (SIGTERM) at $(date +%T); starting it again"
start b "${ports[1]}"
wait "$wrk_pid" || true
cat "$work/wrk.txt"
if grep -qE "Non-2xx|Socket errors" "$work/wrk.txt"; then
  echo "== some requests failed"
  exit 1
fi
echo "== no request failed"
