#!/usr/bin/env bash
# Whole-process benchmarks of bulletin against simple peers, measured in the same run.
#
#   scripts/bench.sh [STORIES]        (default 1000000)
#
# Needs: /usr/bin/time (Debian `time`), sqlite3, psql and python3; PostgreSQL at
# $BULLETIN_BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test),
# where a scratch database is created and dropped.
# Prints figures; asserts nothing. Quote ratios, not absolute times: machines differ.
set -euo pipefail
cd "$(dirname "$0")/.."

stories=${1:-1000000}
pg_admin=${BULLETIN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
work=$(mktemp -d /tmp/bulletin-bench.XXXXXX)
pg_db="bulletin_bench_$$"
pg_url="${pg_admin%/*}/$pg_db"
cleanup() {
  psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -q -p bulletin
bin=target/release/bulletin

# /usr/bin/time -f: wall seconds and peak resident memory (KiB).
measure() { # variable, label, command...: sets $variable to the wall seconds
  local var=$1 label=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    echo "$label failed:"; cat "$work/err"; exit 1; }
  read -r wall rss <"$work/time"
  printf '%-34s %8.2f s   peak %7.1f MiB\n' "$label" "$wall" "$(echo "$rss / 1024" | bc -l)"
  printf -v "$var" '%s' "$wall"
}

echo "== generating $stories stories"
"$bin" gen --stories "$stories" --seed 1 -o "$work/gen.txt"
bytes=$(stat -c %s "$work/gen.txt")
mb=$(echo "$bytes / 1000000" | bc -l)
printf 'file: %.0f MB\n' "$mb"

echo "== reading (one core)"
measure t_wc "peer: wc -l" wc -l "$work/gen.txt"
measure t_check "bulletin check (read + lint)" "$bin" check "$work/gen.txt"
printf 'reader: %.0f MB/s; wc -l: %.0f MB/s; ratio bulletin/wc = %.2f\n' \
  "$(echo "$mb / $t_check" | bc -l)" \
  "$(echo "$mb / $t_wc" | bc -l)" \
  "$(echo "$t_check / $t_wc" | bc -l)"

echo "== import into SQLite"
measure t_sqlite "bulletin import (sqlite)" "$bin" --data "$work/sqlite" import "$work/gen.txt"
grep '^imported ' "$work/err" | cut -c1-200
# The peer: SQLite's own CSV loader putting the same stories in an unindexed table.
"$bin" --data "$work/sqlite" export --format json -o "$work/all.json"
python3 - "$work/all.json" "$work/stories.csv" <<'PY'
import csv, json, sys
data = json.load(open(sys.argv[1]))
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    for s in data["stories"]:
        w.writerow([s["slug"], s["headline"], s["dateline"]["date"], json.dumps(s["dateline"]["places"]),
                    json.dumps(s["body"]), json.dumps(s["tags"]), json.dumps(s["countries"]),
                    (s["issue"] or {}).get("number"), s["copyright"]["year"]])
PY
cat >"$work/peer.sql" <<SQL
CREATE TABLE stories (slug TEXT, headline TEXT, date TEXT, places TEXT, body TEXT, tags TEXT, countries TEXT, issue INTEGER, year INTEGER);
.mode csv
.import $work/stories.csv stories
SQL
measure t_sqlite_peer "peer: sqlite3 .import (csv)" sh -c "sqlite3 '$work/peer.db' < '$work/peer.sql'"
printf 'sqlite: bulletin %.0f stories/s; sqlite3 .import %.0f rows/s; ratio bulletin/peer time = %.2f\n' \
  "$(echo "$stories / $t_sqlite" | bc -l)" \
  "$(echo "$stories / $t_sqlite_peer" | bc -l)" \
  "$(echo "$t_sqlite / $t_sqlite_peer" | bc -l)"

echo "== import into PostgreSQL"
psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
measure t_pg "bulletin import (postgres)" "$bin" --database "$pg_url" import "$work/gen.txt"
grep '^imported ' "$work/err" | cut -c1-200
psql -q "$pg_url" -c "CREATE TABLE peer (slug TEXT, headline TEXT, date DATE, places JSONB, body JSONB, tags JSONB, countries JSONB, issue INTEGER, year INTEGER)" >/dev/null
measure t_pg_peer "peer: psql \\copy (csv)" psql -q "$pg_url" -c "\\copy peer FROM '$work/stories.csv' WITH (FORMAT csv)"
printf 'postgres: bulletin %.0f stories/s; psql \\copy %.0f rows/s; ratio bulletin/peer time = %.2f\n' \
  "$(echo "$stories / $t_pg" | bc -l)" \
  "$(echo "$stories / $t_pg_peer" | bc -l)" \
  "$(echo "$t_pg / $t_pg_peer" | bc -l)"
