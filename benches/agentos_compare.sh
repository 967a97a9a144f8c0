#!/usr/bin/env bash
# AgentOS load benchmarks: our agent-os server next to Agno's AgentOS, on this machine, over loopback.
#
# Rows: GET /agents and non-streaming runs (POST /agents/instant/runs, stream=false) at 32 and 1,000
# connections (requests/s, p50, p99), and memory per streaming run with 10,000 concurrent streams on the
# `timer` agent. Ours and Agno's rounds alternate (ROUNDS each, the order flipped every round); each cell
# is the median over the rounds. Every server gets a fresh process for the memory row. Every step is
# bounded: loadgen caps each run (--max-secs), `timeout` caps each loadgen process, servers that do not
# answer within 60 s or do not stop within 10 s are killed.
#
# Usage: benches/agentos_compare.sh            (from the workspace root)
# Each GET and run row sends requests for WARMUP_SECS (not measured), then measures for MEASURE_SECS.
# Knobs (environment): ROUNDS=3 STREAMS=10000 MEASURE_SECS=10 WARMUP_SECS=5 TIMER_SECS=120
#                      AGNO_VENV=/work/venv-agno-bench OUT=<dir for raw results> LOADGEN_THREADS=1
#                      SQLITE=1 adds a column: our server with a SQLite store (a fresh file per
#                      server), for the GET and run rows.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-3}
STREAMS=${STREAMS:-10000}
MEASURE_SECS=${MEASURE_SECS:-10}
WARMUP_SECS=${WARMUP_SECS:-5}
TIMER_SECS=${TIMER_SECS:-120}
AGNO_VENV=${AGNO_VENV:-/work/venv-agno-bench}
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
SQLITE=${SQLITE:-0}
OUT=${OUT:-$(mktemp -d /tmp/agentos-bench.XXXXXX)}
PORT=${PORT:-7781}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}/release
RESULTS=$OUT/results.jsonl
mkdir -p "$OUT"
: >"$RESULTS"

# 10,000 streams need 10,000 sockets in the generator and as many in the server.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" -lt $((STREAMS + 1000)) ]; then
    echo "fd limit $(ulimit -n) is too low for $STREAMS streams" >&2
    exit 1
fi

log() { echo "[$(date +%T)] $*" >&2; }

# --- build and set up -------------------------------------------------------------------------------
log "building loadgen and agentos_bench_server (release)"
(cd "$ROOT" && cargo build --release -q -p benches --bin loadgen --bin agentos_bench_server)
if [ ! -x "$AGNO_VENV/bin/python" ]; then
    log "creating $AGNO_VENV"
    python3 -m venv "$AGNO_VENV"
    "$AGNO_VENV/bin/pip" install -q -r "$ROOT/benches/agno/requirements.txt"
fi

SERVER_PID=
start_server() { # side port -> SERVER_PID
    local side=$1 port=$2
    if [ "$side" = ours ]; then
        "$TARGET/agentos_bench_server" --port "$port" --timer-secs "$TIMER_SECS" >>"$OUT/ours.log" 2>&1 &
    elif [ "$side" = sqlite ]; then
        rm -f "$OUT"/ours.sqlite*
        "$TARGET/agentos_bench_server" --port "$port" --timer-secs "$TIMER_SECS" --sqlite "$OUT/ours.sqlite" \
            >>"$OUT/sqlite.log" 2>&1 &
    else
        BENCH_TIMER_SECS=$TIMER_SECS "$AGNO_VENV/bin/python" "$ROOT/benches/agno/agno_server.py" "$port" \
            >>"$OUT/agno.log" 2>&1 &
    fi
    SERVER_PID=$!
    local tries=0
    until curl -sf -m 1 -o /dev/null "http://127.0.0.1:$port/agents"; do
        tries=$((tries + 1))
        if [ $tries -ge 120 ] || ! kill -0 "$SERVER_PID" 2>/dev/null; then
            log "$side server did not come up (see $OUT/$side.log)"
            stop_server
            exit 1
        fi
        sleep 0.5
    done
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null || true
    local tries=0
    while kill -0 "$SERVER_PID" 2>/dev/null && [ $tries -lt 100 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}
trap stop_server EXIT

loadgen() { # label mode args... ; appends the JSON line to $RESULTS
    local label=$1
    shift
    local line
    if line=$(timeout 400 "$TARGET/loadgen" "$@" --threads "$LOADGEN_THREADS" --label "$label" 2>>"$OUT/loadgen.log"); then
        echo "$line" >>"$RESULTS"
        log "$line"
    else
        log "loadgen failed: $label (see $OUT/loadgen.log)"
    fi
}

check_answers() { # side port: the same requests answer on both servers before anything is measured
    local side=$1 port=$2 json sse
    json=$(curl -sf -m 10 -X POST "http://127.0.0.1:$port/agents/instant/runs" -d 'message=hi&stream=false')
    sse=$(curl -sf -m 10 -N -X POST "http://127.0.0.1:$port/agents/instant/runs" -d 'message=hi&stream=true')
    if ! grep -q '"status":"COMPLETED"' <<<"$json" || ! grep -q '^data: .*"event":"RunCompleted"' <<<"$sse"; then
        log "$side: the instant agent did not answer as expected"
        printf '%s\n%s\n' "$json" "$sse" >&2
        exit 1
    fi
}

throughput_rows() { # side round
    local side=$1 round=$2 port=$PORT
    start_server "$side" "$port"
    if [ "$round" = 1 ]; then check_answers "$side" "$port"; fi
    local base=http://127.0.0.1:$port
    local timing=(--secs "$MEASURE_SECS" --warmup-secs "$WARMUP_SECS" --max-secs $((MEASURE_SECS + WARMUP_SECS + 60)))
    for connections in 32 1000; do
        loadgen "$side|get@$connections|$round" get --url "$base/agents" --connections $connections "${timing[@]}"
    done
    for connections in 32 1000; do
        loadgen "$side|run@$connections|$round" post --url "$base/agents/instant/runs" \
            --form 'message=hi&stream=false' --connections $connections "${timing[@]}"
    done
    stop_server
}

memory_row() { # side round
    local side=$1 round=$2 port=$PORT
    start_server "$side" "$port"
    local base=http://127.0.0.1:$port
    # Warm the streaming path on the instant agent, so the baseline includes what one stream initializes.
    timeout 120 "$TARGET/loadgen" post --url "$base/agents/instant/runs" --form 'message=hi&stream=true' \
        --connections 32 --requests 500 --warmup 0 --max-secs 60 >/dev/null 2>>"$OUT/loadgen.log" || true
    sleep 1
    loadgen "$side|stream@$STREAMS|$round" stream --url "$base/agents/timer/runs" --form 'message=hi&stream=true' \
        --streams "$STREAMS" --pid "$SERVER_PID" --max-secs $((TIMER_SECS - 20)) --hold-secs 3
    stop_server
}

# --- conditions --------------------------------------------------------------------------------------
{
    echo "date: $(date -u +%FT%TZ)"
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
    echo "cpu: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
    echo "rustc: $(rustc --version)"
    echo "python: $("$AGNO_VENV/bin/python" --version 2>&1)"
    echo "agno stack: $("$AGNO_VENV/bin/pip" list 2>/dev/null | awk '$1 ~ /^(agno|fastapi|starlette|uvicorn|pydantic|python-multipart|uvloop|httptools)$/ {printf "%s %s, ", $1, $2}')"
    if "$AGNO_VENV/bin/python" -c 'import uvloop' 2>/dev/null; then
        echo "uvloop: present (uvicorn's default loop uses it)"
    else
        echo "uvloop: absent (uvicorn runs the asyncio loop, h11)"
    fi
    echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "rounds: $ROUNDS, per GET/run row: ${WARMUP_SECS}s warm-up + ${MEASURE_SECS}s measured, streams: $STREAMS, timer: ${TIMER_SECS}s, loadgen threads: $LOADGEN_THREADS"
} | tee "$OUT/conditions.txt" >&2

# --- rounds ------------------------------------------------------------------------------------------
for round in $(seq 1 "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="ours agno"; else order="agno ours"; fi
    sides=$order
    if [ "$SQLITE" = 1 ]; then sides="$order sqlite"; fi
    for side in $sides; do
        log "round $round: $side throughput"
        throughput_rows "$side" "$round"
    done
    for side in $order; do
        log "round $round: $side memory"
        memory_row "$side" "$round"
    done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/conditions.txt" >&2

# --- table -------------------------------------------------------------------------------------------
python3 - "$RESULTS" "$STREAMS" <<'PY' | tee "$OUT/table.md"
import json, statistics, sys

results, streams = sys.argv[1], int(sys.argv[2])
cells = {}
for line in open(results):
    record = json.loads(line)
    side, row, _round = record["label"].split("|")
    cells.setdefault((row, side), []).append(record)

def median(records, key):
    return statistics.median(r[key] for r in records) if records else None

def throughput(records):
    if not records:
        return "failed", None
    rps, p50, p99 = (median(records, k) for k in ("rps", "p50_ms", "p99_ms"))
    errors = sum(r["errors"] for r in records)
    text = f"{rps:,.0f} req/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    if errors or any(r["truncated"] for r in records):
        text += f" ({errors} errors{', truncated' if any(r['truncated'] for r in records) else ''})"
    return text, rps

def memory(records):
    if not records:
        return "failed", None
    per_stream = median(records, "bytes_per_stream")
    lost = sum(r["streams"] - r["opened"] + r["ended_early"] for r in records)
    text = f"{per_stream / 1024:,.1f} KiB/stream (open in {median(records, 'open_secs'):.1f} s)"
    if lost:
        text += f" ({lost} streams failed or ended early)"
    return text, per_stream

rows = [
    ("GET /agents @32", "get@32", throughput, "req/s"),
    ("GET /agents @1000", "get@1000", throughput, "req/s"),
    ("run (stream=false) @32", "run@32", throughput, "req/s"),
    ("run (stream=false) @1000", "run@1000", throughput, "req/s"),
    (f"memory per stream @{streams:,} streams", f"stream@{streams}", memory, "memory"),
]
sqlite = any(side == "sqlite" for _, side in cells)
print("| row | ours | Agno | ratio (ours ÷ Agno) |" + (" ours with SQLite store |" if sqlite else ""))
print("|---|---|---|---|" + ("---|" if sqlite else ""))
for title, key, cell, unit in rows:
    ours_text, ours = cell(cells.get((key, "ours"), []))
    agno_text, agno = cell(cells.get((key, "agno"), []))
    ratio = f"{ours / agno:.2f}× {unit}" if ours is not None and agno else "—"
    extra = ""
    if sqlite:
        extra = f" {cell(cells[(key, 'sqlite')])[0]} |" if (key, "sqlite") in cells else " — |"
    print(f"| {title} | {ours_text} | {agno_text} | {ratio} |{extra}")
PY
log "raw results and logs in $OUT"
