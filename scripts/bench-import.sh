#!/usr/bin/env bash
# WordPress import benchmark: a generated WXR export of N posts, imported whole,
# against peers that only parse the same file, measured in the same run.
#
#   scripts/bench-import.sh [POSTS]        (default 100000)
#
# Needs: /usr/bin/time (Debian `time`), xmllint (Debian `libxml2-utils`), python3;
# PostgreSQL at $BULLETIN_BENCH_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/test), where a scratch database is created and
# dropped. Prints figures; asserts nothing. Quote ratios: machines differ.
set -euo pipefail
cd "$(dirname "$0")/.."

posts=${1:-100000}
pg_admin=${BULLETIN_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
work=$(mktemp -d /tmp/bulletin-bench-import.XXXXXX)
pg_db="bulletin_bench_import_$$"
pg_url="${pg_admin%/*}/$pg_db"
cleanup() {
  psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -q -p bulletin
bin=target/release/bulletin

measure() { # variable, label, command...: sets $variable to the wall seconds
  local var=$1 label=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/out" 2>"$work/err" || {
    echo "$label failed:"; tail -20 "$work/err"; exit 1; }
  read -r wall rss <"$work/time"
  printf '%-40s %8.2f s   peak %7.1f MiB\n' "$label" "$wall" "$(echo "$rss / 1024" | bc -l)"
  printf -v "$var" '%s' "$wall"
}

echo "== generating a WordPress export of $posts posts"
"$bin" gen --format wxr --stories "$posts" --seed 1 -o "$work/export.xml"
mb=$(echo "$(stat -c %s "$work/export.xml") / 1000000" | bc -l)
printf 'file: %.0f MB\n' "$mb"

echo "== parsing only (peers)"
measure t_xmllint "peer: xmllint --stream (libxml2, C)" xmllint --stream --noout "$work/export.xml"
cat >"$work/iterparse.py" <<'PY'
import sys, xml.etree.ElementTree as ET
posts = 0
for event, element in ET.iterparse(sys.argv[1], events=("end",)):
    if element.tag == "item":
        posts += 1
        element.clear()
print(posts)
PY
measure t_python "peer: python iterparse (expat)" python3 "$work/iterparse.py" "$work/export.xml"

echo "== bulletin import"
measure t_dry "bulletin import --dry-run (sqlite)" "$bin" --data "$work/dry" import --dry-run "$work/export.xml"
measure t_sqlite "bulletin import (sqlite)" "$bin" --data "$work/sqlite" import "$work/export.xml"
grep '^imported ' "$work/err" | cut -c1-220
psql -q "$pg_admin" -c "CREATE DATABASE $pg_db" >/dev/null
measure t_pg "bulletin import (postgres)" "$bin" --data "$work/pg" --database "$pg_url" import "$work/export.xml"

printf '\nposts/s: sqlite %.0f, postgres %.0f, dry run %.0f\n' \
  "$(echo "$posts / $t_sqlite" | bc -l)" "$(echo "$posts / $t_pg" | bc -l)" "$(echo "$posts / $t_dry" | bc -l)"
printf 'ratios: import(sqlite)/xmllint = %.2f; import(sqlite)/python iterparse = %.2f\n' \
  "$(echo "$t_sqlite / $t_xmllint" | bc -l)" "$(echo "$t_sqlite / $t_python" | bc -l)"

echo "== backup round trip (sqlite -> json -> postgres)"
measure t_export "bulletin export --format json (sqlite)" "$bin" --data "$work/sqlite" export --format json -o "$work/backup.json"
psql -q "$pg_admin" -c "DROP DATABASE $pg_db WITH (FORCE)" -c "CREATE DATABASE $pg_db" >/dev/null
measure t_restore "bulletin import backup.json (postgres)" "$bin" --data "$work/pg2" --database "$pg_url" import "$work/backup.json"
