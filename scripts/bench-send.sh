#!/usr/bin/env bash
# Newsletter throughput: `bulletin send` (release build) queues and sends an issue
# to N subscribers (default 10,000; half paid) through a local SMTP server
# (scripts/smtp-sink.py, PyPI aiosmtpd), and, as a peer measured in the same run
# against a fresh sink of the same kind, plain Python smtplib clients send N
# messages of the same size over the same number of connections. When the peer
# is no faster than bulletin, the SMTP server is the limit, not bulletin.
#
#   scripts/bench-send.sh [N] [--postgres URL]
#
# Also prints `bulletin send --dry-run` (render and build every message) and the
# time to queue, with peak memory (/usr/bin/time -v) for each.
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-10000}"
database=()
if [ "${2:-}" = "--postgres" ]; then database=(--database "$3"); fi
workers=4

python3 -c 'import aiosmtpd' 2>/dev/null || { echo "needs aiosmtpd: pip install aiosmtpd" >&2; exit 1; }
cargo build --release -p bulletin --quiet
bin="$PWD/target/release/bulletin"
work="$(mktemp -d)"
cleanup() {
  # The sinks started (in command substitutions, so their ids are in a file).
  if [ -f "$work/pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/pids"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A sink recording to RECORD; its port on stdout's first line.
start_sink() {
  rm -f "$work/port"
  python3 scripts/smtp-sink.py "$1" >"$work/port" 2>"$work/sink.log" &
  echo "$!" >>"$work/pids"
  for _ in $(seq 1 100); do
    [ -s "$work/port" ] && break
    sleep 0.05
  done
  head -1 "$work/port"
}

peak() { grep 'Maximum resident' "$1" | awk '{printf "%.0f MiB", $6 / 1024}'; }
cpu() { awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f s", s }' "$1"; }

data="$work/data"
mkdir -p "$data"
"$bin" --data "$data" "${database[@]}" gen --stories 5 --seed 1 -o "$work/issue.txt" 2>/dev/null
"$bin" --data "$data" "${database[@]}" import "$work/issue.txt" 2>/dev/null
python3 - "$n" >"$work/subscribers.csv" <<'EOF'
import sys
n = int(sys.argv[1])
print("email,name,plan")
for i in range(n):
    print(f"reader{i:06}@example.org,Reader {i},{'paid' if i % 2 == 0 else 'free'}")
EOF
"$bin" --data "$data" "${database[@]}" subscribers import "$work/subscribers.csv" 2>/dev/null

# One message of the issue, as the peer's payload (same size, same sink).
sample_port="$(start_sink "$work/sample.jsonl")"
printf '[smtp]\nurl = "smtp://127.0.0.1:%s"\nfrom = "news@bulletin.example.org"\nper_second = 1000000\n' \
  "$sample_port" >"$data/bulletin.toml"
"$bin" --data "$data" "${database[@]}" send 1 --to sample@example.org 2>/dev/null

echo "== render: bulletin send 1 --dry-run ($n recipients)"
/usr/bin/time -v "$bin" --data "$data" "${database[@]}" send 1 --dry-run 2>"$work/dry.log" || { cat "$work/dry.log"; exit 1; }
grep 'dry run' "$work/dry.log"
echo "   peak memory $(peak "$work/dry.log"), CPU $(cpu "$work/dry.log")"

echo "== bulletin send 1: queue and send $n messages over $workers connections"
port="$(start_sink /dev/null)"
printf '[smtp]\nurl = "smtp://127.0.0.1:%s"\nfrom = "news@bulletin.example.org"\nper_second = 1000000\n' \
  "$port" >"$data/bulletin.toml"
/usr/bin/time -v "$bin" --data "$data" "${database[@]}" send 1 --workers "$workers" 2>"$work/send.log" || { cat "$work/send.log"; exit 1; }
grep -E 'queued now|^issue 1:|this run' "$work/send.log"
echo "   peak memory $(peak "$work/send.log"), CPU $(cpu "$work/send.log") (bulletin's own, user + system)"
bulletin_rate="$(grep -o '([0-9.]* messages/s)' "$work/send.log" | tr -dc '0-9.')"

echo "== peer: python smtplib, $n messages of the same size over $workers connections"
peer_port="$(start_sink /dev/null)"
peer_rate="$(python3 - "$peer_port" "$n" "$workers" "$work/sample.jsonl" <<'EOF'
import json, smtplib, sys, time
from multiprocessing import Process
port, n, workers, sample = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
data = json.loads(open(sample).readline())["data"]

def run(k):
    s = smtplib.SMTP("127.0.0.1", port)
    for i in range(k, n, workers):
        s.sendmail("news@bulletin.example.org", [f"reader{i:06}@example.org"], data)
    s.quit()

start = time.monotonic()
procs = [Process(target=run, args=(k,)) for k in range(workers)]
for p in procs: p.start()
for p in procs: p.join()
print(f"{n / (time.monotonic() - start):.0f}")
EOF
)"
echo "   $n messages of $(python3 -c "import json,sys; print(len(json.loads(open(sys.argv[1]).readline())['data']))" "$work/sample.jsonl") bytes: $peer_rate messages/s"
echo "== bulletin $bulletin_rate messages/s, peer $peer_rate messages/s: bulletin at $(python3 -c "print(f'{$bulletin_rate / $peer_rate * 100:.0f}')")% of the peer"
