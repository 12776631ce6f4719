#!/usr/bin/env bash
# bench/ingest.sh: Switchyard's ingest benchmark (see bench/README.md).
#
# Measures, in one run on this machine and against loopback only:
#   (a) asynchronous ingest (202) req/s, as a ratio to a bare Echo receiver
#       (bench/ceiling) measured right before it;
#   (b) sustained end-to-end messages/s reaching SUCCESS (matched by a GitHub
#       HMAC provider, one function run, outcome recorded), as a ratio to the
#       same ceiling;
#   (c) synchronous (flex-sync-webhook: true) req/s and p99 latency, against
#       a ceiling measured right before it.
# The figures go to the terminal and to bench/out/ingest-<date>.md.
#
# Settings (environment):
#   BENCH_DURATION     length of each measured wrk run (default 15s)
#   BENCH_WARMUP       length of the warm-up before each one (default 3s)
#   BENCH_CONNECTIONS  wrk connections (default 64)
#   BENCH_THREADS      wrk threads (default 2)
#   BENCH_DRAIN_TIMEOUT  seconds to wait for the queue to drain (default 300)
#   BENCH_PAYLOAD      the body sent (default testdata/github/push.json)
#   BENCH_KEEP=1       keep the temporary directory (binaries, data, logs)
#   BENCH_PROFILE=1    run the server as bench/profserve (the same server
#                      in-process, with CPU profiling) and write a Go CPU
#                      profile of the async and of the sync phase next to the
#                      report; profiling costs a few per cent of throughput,
#                      so figures from such a run are not the reference ones
# Switchyard's own SWITCHYARD_* variables (e.g. SWITCHYARD_WORKERS) pass
# through to the server, except listen, data and the admin token, which the
# benchmark sets.
set -euo pipefail

DURATION=${BENCH_DURATION:-15s}
WARMUP=${BENCH_WARMUP:-3s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
DRAIN_TIMEOUT=${BENCH_DRAIN_TIMEOUT:-300}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PAYLOAD=${BENCH_PAYLOAD:-$ROOT/testdata/github/push.json}
OUT_DIR=$ROOT/bench/out
PROFILE=${BENCH_PROFILE:-0}
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'ingest.sh: error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- cleanup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-bench.XXXXXX")
PIDS=()

cleanup() {
	local pid i
	[[ -z ${WRK_PID:-} ]] || kill -KILL "$WRK_PID" 2>/dev/null || true
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || continue
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ ${BENCH_KEEP:-} == 1 ]]; then
		printf 'ingest.sh: kept %s\n' "$WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- tools

as_root() {
	if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# ensure CMD PACKAGE: install the Debian package when CMD is missing.
ensure() {
	command -v "$1" >/dev/null 2>&1 && return 0
	log "installing $2 (for $1)"
	as_root apt-get install -y "$2" >&2 ||
		{ as_root apt-get update >&2 && as_root apt-get install -y "$2" >&2; } ||
		die "could not install the Debian package $2; install it and run again"
	command -v "$1" >/dev/null 2>&1 || die "$2 installed but $1 is still not on PATH"
}

command -v go >/dev/null 2>&1 || die "go is not on PATH"
ensure wrk wrk
ensure curl curl
ensure openssl openssl
[[ -r $PAYLOAD ]] || die "payload $PAYLOAD is not readable"

# ---------------------------------------------------------------- build

log "building switchyard and the ceiling server into $WORK/bin"
mkdir -p "$WORK/bin"
(cd "$ROOT" && go build -o "$WORK/bin/switchyard" ./cmd/switchyard) || die "go build ./cmd/switchyard failed"
(cd "$ROOT" && go build -o "$WORK/bin/ceiling" ./bench/ceiling) || die "go build ./bench/ceiling failed"
SY_CMD=("$WORK/bin/switchyard" serve)
if [[ $PROFILE == 1 ]]; then
	(cd "$ROOT" && go build -o "$WORK/bin/profserve" ./bench/profserve) || die "go build ./bench/profserve failed"
	SY_CMD=("$WORK/bin/profserve" --cpuprofile "$WORK/cpu")
fi

# ---------------------------------------------------------------- servers

TOKEN=$(openssl rand -hex 24)
SECRET=$(openssl rand -hex 20)

# wait_for_line LOG PATTERN PID NAME: the first match of PATTERN in LOG, or
# die with the log when PID exits or 15 s pass.
wait_for_line() {
	local file=$1 pattern=$2 pid=$3 name=$4 i line
	for i in $(seq 150); do
		line=$(grep -o -m1 -E "$pattern" "$file" 2>/dev/null || true)
		if [[ -n $line ]]; then
			printf '%s\n' "$line"
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			printf 'ingest.sh: %s exited before listening; its log (%s):\n' "$name" "$file" >&2
			tail -n 50 "$file" >&2
			exit 1
		fi
		sleep 0.1
	done
	printf 'ingest.sh: %s did not report listening within 15 s; its log (%s):\n' "$name" "$file" >&2
	tail -n 50 "$file" >&2
	exit 1
}

log "starting the ceiling server"
# The ceiling collects garbage as Switchyard does by default (GOGC=200, set
# in cmd/switchyard), so the ratio does not credit Switchyard for a GC
# setting; an explicit GOGC in the environment applies to both.
GOGC=${GOGC:-200} "$WORK/bin/ceiling" -listen 127.0.0.1:0 >"$WORK/ceiling.log" 2>&1 &
CEILING_PID=$!
PIDS+=("$CEILING_PID")
CEILING_ADDR=$(wait_for_line "$WORK/ceiling.log" 'listening on 127\.0\.0\.1:[0-9]+' "$CEILING_PID" ceiling)
CEILING_ADDR=${CEILING_ADDR#listening on }
CEILING=http://$CEILING_ADDR

log "starting switchyard (data in $WORK/data)"
SWITCHYARD_ADMIN_TOKEN=$TOKEN "${SY_CMD[@]}" \
	--listen 127.0.0.1:0 --data "$WORK/data" >"$WORK/switchyard.log" 2>&1 &
SY_PID=$!
PIDS+=("$SY_PID")
SY_ADDR=$(wait_for_line "$WORK/switchyard.log" 'msg="switchyard listening" addr=127\.0\.0\.1:[0-9]+' "$SY_PID" switchyard)
SY_ADDR=${SY_ADDR##*addr=}
SY=http://$SY_ADDR

# sy_fail MESSAGE: die, showing switchyard's log.
sy_fail() {
	printf 'ingest.sh: error: %s\nlast lines of the switchyard log (%s):\n' "$1" "$WORK/switchyard.log" >&2
	tail -n 40 "$WORK/switchyard.log" >&2
	exit 1
}

curl -fsS "$SY/healthz" >/dev/null || sy_fail "GET /healthz failed"
curl -fsS "$CEILING/webhooks/v1/ping" -d '{}' >/dev/null || die "the ceiling server does not answer; log: $(cat "$WORK/ceiling.log")"

# api METHOD PATH JSON_FILE: an admin API call; prints the body, dies on a non-2xx.
api() {
	local code
	code=$(curl -sS -o "$WORK/api.out" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "@$3" "$SY/api/v1$2") || sy_fail "$1 $2: curl failed"
	[[ $code == 2?? ]] || sy_fail "$1 $2 answered $code: $(cat "$WORK/api.out")"
	cat "$WORK/api.out"
}

first_id() { grep -o '"id":"[^"]*"' | head -n1 | cut -d'"' -f4; }

log "creating the GitHub provider and the github/push function"
cat >"$WORK/provider.json" <<EOF
{
  "name": "GitHub (bench)",
  "description": "X-Hub-Signature-256 over the raw body",
  "active": true,
  "match_script": "return HMAC.equals(HTTP_HEADERS[\"x-hub-signature-256\"] || \"\", \"sha256=\" + HMAC.generateHmacSHA256(FLX_PRISTINE_PAYLOAD, PROPERTIES.secret))",
  "secrets": {"secret": "$SECRET"}
}
EOF
PROVIDER_ID=$(api POST /providers "$WORK/provider.json" | first_id)
[[ -n $PROVIDER_ID ]] || sy_fail "POST /providers returned no id"

cat >"$WORK/function.json" <<EOF
{
  "name": "push summary (bench)",
  "provider_id": "$PROVIDER_ID",
  "uri": "github/push",
  "active": true,
  "script": "LOG.setMessage(PAYLOAD.ref + \" \" + PAYLOAD.commits.length); return true"
}
EOF
api POST /functions "$WORK/function.json" >/dev/null

# ---------------------------------------------------------------- request

SIGNATURE=sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r "$PAYLOAD" | cut -d' ' -f1)
PAYLOAD_BYTES=$(wc -c <"$PAYLOAD" | tr -d ' ')

# write_lua FILE [EXTRA_HEADER_LINES]: the wrk script that POSTs the payload.
write_lua() {
	cat >"$1" <<EOF
local f = assert(io.open([[$PAYLOAD]], "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-GitHub-Event"] = "push"
wrk.headers["X-Hub-Signature-256"] = "$SIGNATURE"
${2:-}
EOF
}
write_lua "$WORK/async.lua"
write_lua "$WORK/sync.lua" 'wrk.headers["flex-sync-webhook"] = "true"'

# One request of each kind first, so that a wrong signature or script shows
# up as a clear error and not as a figure.
log "checking one signed request of each kind"
post() { # post URL OUT [EXTRA_CURL_ARGS...] -> status code
	local url=$1 out=$2
	shift 2
	curl -sS -o "$out" -w '%{http_code}' -X POST "$url" \
		-H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
		-H "X-Hub-Signature-256: $SIGNATURE" "$@" --data-binary "@$PAYLOAD"
}
code=$(post "$SY/webhooks/v1/github/push" "$WORK/check.out" -H 'flex-sync-webhook: true') || sy_fail "sync check: curl failed"
[[ $code == 200 ]] && grep -q '"status":"SUCCESS"' "$WORK/check.out" ||
	sy_fail "a signed sync request answered $code, not 200 SUCCESS: $(cat "$WORK/check.out")"
code=$(post "$SY/webhooks/v1/github/push" "$WORK/check.out") || sy_fail "async check: curl failed"
[[ $code == 202 ]] || sy_fail "a signed async request answered $code, not 202: $(cat "$WORK/check.out")"
code=$(post "$CEILING/webhooks/v1/github/push" "$WORK/check.out") || die "ceiling check: curl failed"
[[ $code == 202 ]] || die "the ceiling answered $code, not 202"

# ---------------------------------------------------------------- measuring

now() { date +%s.%N; }

# cpu_seconds PID: user+system CPU time the process has used.
CLK_TCK=$(getconf CLK_TCK)
cpu_seconds() { awk -v hz="$CLK_TCK" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# cpu_ticks: "busy total" clock ticks of the whole machine so far.
cpu_ticks() { awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit}' /proc/stat; }
# busy_pct "B0 T0" "B1 T1": per cent of the machine's CPU that was busy.
busy_pct() { awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2])}'; }

# metric NAME_WITH_LABELS FILE: its value in a /metrics dump (0 if absent).
metric() { awk -v n="$1" '$1 == n {v = $2} END {printf "%d", v + 0}' "$2"; }

# snapshot PREFIX: read switchyard's counters into PREFIX_success etc.
snapshot() {
	curl -fsS "$SY/metrics" >"$WORK/metrics.txt" || sy_fail "GET /metrics failed"
	local p=$1 f=$WORK/metrics.txt
	printf -v "${p}_success" '%s' "$(metric 'switchyard_messages_processed_total{status="SUCCESS"}' "$f")"
	printf -v "${p}_failed" '%s' "$(metric 'switchyard_messages_processed_total{status="FAILED"}' "$f")"
	printf -v "${p}_unmatched" '%s' "$(metric 'switchyard_messages_processed_total{status="UNMATCHED"}' "$f")"
	printf -v "${p}_received" '%s' "$(metric switchyard_messages_received_total "$f")"
	printf -v "${p}_rejected" '%s' "$(metric switchyard_messages_rejected_total "$f")"
	printf -v "${p}_queue" '%s' "$(metric switchyard_queue_depth "$f")"
	printf -v "${p}_commits" '%s' "$(metric switchyard_store_commits_total "$f")"
	printf -v "${p}_writes" '%s' "$(metric switchyard_store_writes_total "$f")"
}

# wait_drain: poll until every received message is processed and the queue
# is empty; sets DRAINED_AT to the time of the poll that first saw it.
wait_drain() {
	local deadline=$(($(date +%s) + DRAIN_TIMEOUT))
	while :; do
		snapshot d
		if ((d_queue == 0 && d_success + d_failed + d_unmatched >= d_received)); then
			DRAINED_AT=$(now)
			return 0
		fi
		(($(date +%s) < deadline)) ||
			sy_fail "the queue did not drain within ${DRAIN_TIMEOUT}s (queue $d_queue, received $d_received, processed $((d_success + d_failed + d_unmatched)))"
		sleep 0.1
	done
}

# wrk_bg OUT ARGS...: wrk with the threads and connections, output to OUT.
# It runs in the background and is waited for, so that a signal stops the
# benchmark at once (bash runs traps only between foreground commands).
wrk_bg() {
	local out=$1 rc=0
	shift
	wrk -t"$THREADS" -c"$CONNECTIONS" "$@" >"$out" 2>&1 &
	WRK_PID=$!
	wait "$WRK_PID" || rc=$?
	WRK_PID=
	return "$rc"
}

declare -A BUSY CORES
# run_wrk NAME URL LUA [--latency]: a warm-up, then the measured run; the
# measured output is in $WORK/wrk-NAME.txt. Sets WRK_START and WRK_END, and
# CPU_AT_START and CPU_AT_END, the CPU time of the process CPU_PID then.
run_wrk() {
	local name=$1 url=$2 lua=$3
	shift 3
	wrk_bg "$WORK/wrk-$name-warmup.txt" -d"$WARMUP" -s "$lua" "$@" "$url" ||
		die "wrk warm-up $name failed: $(cat "$WORK/wrk-$name-warmup.txt")"
	if [[ ${WAIT_DRAIN_AFTER_WARMUP:-} == 1 ]]; then
		wait_drain
		snapshot before
	fi
	log "measuring $name for $DURATION ($CONNECTIONS connections, $THREADS threads)"
	[[ $CPU_PID != "$SY_PID" ]] || prof_start
	CPU_AT_START=$(cpu_seconds "$CPU_PID")
	local ticks0
	ticks0=$(cpu_ticks)
	WRK_START=$(now)
	wrk_bg "$WORK/wrk-$name.txt" -d"$DURATION" -s "$lua" "$@" "$url" ||
		die "wrk $name failed: $(cat "$WORK/wrk-$name.txt")"
	WRK_END=$(now)
	CPU_AT_END=$(cpu_seconds "$CPU_PID")
	BUSY[$name]=$(busy_pct "$ticks0" "$(cpu_ticks)")
	CORES[$name]=$(calc %.2f "($CPU_AT_END - $CPU_AT_START) / ($WRK_END - $WRK_START)")
	cat "$WORK/wrk-$name.txt" >&2
	grep -q '^Requests/sec:' "$WORK/wrk-$name.txt" || die "wrk $name printed no Requests/sec line (output above)"
}

# wrk_field NAME FIELD: a figure from $WORK/wrk-NAME.txt.
wrk_field() {
	local f=$WORK/wrk-$1.txt
	case $2 in
	rps) awk '/^Requests\/sec:/ {print $2}' "$f" ;;
	requests) awk '/ requests in / {print $1}' "$f" ;;
	non2xx) awk '/Non-2xx or 3xx responses:/ {v = $NF} END {print v + 0}' "$f" ;;
	errors) awk '/Socket errors:/ {sub(/^ *Socket errors: */, ""); v = $0} END {print (v == "" ? "none" : v)}' "$f" ;;
	p50 | p99)
		# "99%   12.34ms" in the --latency distribution, in milliseconds.
		awk -v q="${2#p}%" '$1 == q {
			v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
			m = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1
			printf "%.2f", v * m
		}' "$f"
		;;
	esac
}

calc() { awk "BEGIN {printf \"$1\", $2}"; }

# prof_start / prof_stop NAME: with BENCH_PROFILE=1, profile switchyard's
# CPU between the two into bench/out/ingest-<date>-NAME.pprof.
PROFILES=()
prof_start() {
	[[ $PROFILE == 1 ]] || return 0
	kill -USR1 "$SY_PID"
}
prof_stop() {
	[[ $PROFILE == 1 ]] || return 0
	local before i
	before=$(grep -c 'msg="cpu profile written"' "$WORK/switchyard.log" || true)
	kill -USR2 "$SY_PID"
	for i in $(seq 100); do
		(($(grep -c 'msg="cpu profile written"' "$WORK/switchyard.log" || true) > before)) && break
		sleep 0.1
	done
	local file
	file=$(grep 'msg="cpu profile written"' "$WORK/switchyard.log" | tail -n1 | sed 's/.* file=//')
	[[ -s $file ]] || sy_fail "the CPU profile $1 was not written"
	mkdir -p "$OUT_DIR"
	mv "$file" "$OUT_DIR/ingest-$STAMP-$1.pprof"
	PROFILES+=("bench/out/ingest-$STAMP-$1.pprof")
}

CEILING_URL=$CEILING/webhooks/v1/github/push
SY_URL=$SY/webhooks/v1/github/push

# (a) + (b): async, ceiling first.
log "(a) ceiling, async"
CPU_PID=$CEILING_PID run_wrk ceiling-async "$CEILING_URL" "$WORK/async.lua"
ceiling_async_rps=$(wrk_field ceiling-async rps)
ceiling_async_cpu_ms=$(calc %.3f "($CPU_AT_END - $CPU_AT_START) * 1000 / $(wrk_field ceiling-async requests)")
# The warm-up's messages must be processed before the count starts, so
# run_wrk drains the queue after the warm-up and takes the snapshot "before".
log "(a)+(b) switchyard, async"
CPU_PID=$SY_PID WAIT_DRAIN_AFTER_WARMUP=1 run_wrk switchyard-async "$SY_URL" "$WORK/async.lua"
snapshot loadend
loadend_at=$(now)
s0=$CPU_AT_START
load_start=$WRK_START
log "waiting for the queue to drain (up to ${DRAIN_TIMEOUT}s)"
wait_drain
s1=$(cpu_seconds "$SY_PID")
prof_stop async
snapshot after
sy_async_rps=$(wrk_field switchyard-async rps)
sy_async_requests=$(wrk_field switchyard-async requests)
e2e_success=$((after_success - before_success))
e2e_failed=$((after_failed - before_failed))
e2e_unmatched=$((after_unmatched - before_unmatched))
e2e_received=$((after_received - before_received))
e2e_seconds=$(calc %.3f "$DRAINED_AT - $load_start")
load_seconds=$(calc %.3f "$WRK_END - $load_start")
e2e_rate=$(calc %.1f "$e2e_success / $e2e_seconds")
# Split of (b): processed while the load ran, and after it (processing alone).
during_load=$((loadend_success - before_success))
during_rate=$(calc %.0f "$during_load / ($loadend_at - $load_start)")
drain_rate=$(calc %.0f "($after_success - $loadend_success) / ($DRAINED_AT - $loadend_at + 0.000001)")

# (c) sync, ceiling first.
log "(c) ceiling, same request (it ignores flex-sync-webhook)"
CPU_PID=$CEILING_PID run_wrk ceiling-sync "$CEILING_URL" "$WORK/sync.lua" --latency
log "(c) switchyard, sync"
snapshot sync_before
CPU_PID=$SY_PID run_wrk switchyard-sync "$SY_URL" "$WORK/sync.lua" --latency
prof_stop sync
wait_drain
snapshot sync_after
sync_failed=$((sync_after_failed - sync_before_failed))
sync_unmatched=$((sync_after_unmatched - sync_before_unmatched))

# ---------------------------------------------------------------- report

ratio() { calc %.2f "$1 / $2"; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN {print (r >= t) ? "met" : "**missed**"}'; }

ratio_async=$(ratio "$sy_async_rps" "$ceiling_async_rps")
ratio_e2e=$(ratio "$e2e_rate" "$ceiling_async_rps")
ceiling_sync_rps=$(wrk_field ceiling-sync rps)
sy_sync_rps=$(wrk_field switchyard-sync rps)
ratio_sync=$(ratio "$sy_sync_rps" "$ceiling_sync_rps")
sy_cpu_ms=$(calc %.3f "($s1 - $s0) * 1000 / $e2e_success")

problems=()
for name in ceiling-async switchyard-async ceiling-sync switchyard-sync; do
	n=$(wrk_field "$name" non2xx)
	((n == 0)) || problems+=("$name: $n non-2xx answers")
done
((e2e_failed == 0 && e2e_unmatched == 0)) || problems+=("async phase: $e2e_failed FAILED, $e2e_unmatched UNMATCHED")
((sync_failed == 0 && sync_unmatched == 0)) || problems+=("sync phase: $sync_failed FAILED, $sync_unmatched UNMATCHED")
# wrk ends each run by closing its connections, which can cut a request
# whose body is still arriving; the server counts it as rejected (nothing
# was recorded, nobody is waiting for the answer). Up to one per connection
# per wrk run against switchyard is that; more is a fault.
((after_rejected <= 4 * CONNECTIONS)) || problems+=("$after_rejected requests rejected before being recorded")

REPORT=$OUT_DIR/ingest-$STAMP.md
mkdir -p "$OUT_DIR"
{
	printf '### Ingest benchmark, %s\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf -- '- machine: %s cores (`nproc`), %s, %s; wrk %s\n' "$(nproc)" \
		"$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" "$(go version | cut -d' ' -f3-)" \
		"$(wrk --version 2>&1 | awk 'NR == 1 {print $2}')"
	printf -- '- commit: %s%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' (with uncommitted changes to tracked files)' || true)"
	printf -- '- load: wrk -t%s -c%s -d%s (warm-up %s), POST of %s (%s bytes), signed X-Hub-Signature-256\n' \
		"$THREADS" "$CONNECTIONS" "$DURATION" "$WARMUP" "${PAYLOAD#"$ROOT"/}" "$PAYLOAD_BYTES"
	printf -- '- switchyard: default settings (%s workers), one GitHub HMAC provider, one function on github/push\n\n' \
		"${SWITCHYARD_WORKERS:-default: 2 per core}"
	printf '| measure | switchyard | ceiling | ratio | target |\n'
	printf '| --- | ---: | ---: | ---: | --- |\n'
	printf '| (a) async ingest, 202/s | %.0f | %.0f | %s | >= 0.6, %s |\n' "$sy_async_rps" "$ceiling_async_rps" "$ratio_async" "$(verdict "$ratio_async" 0.6)"
	printf '| (b) end-to-end to SUCCESS, msg/s | %.0f | %.0f | %s | >= 0.3, %s |\n' "$e2e_rate" "$ceiling_async_rps" "$ratio_e2e" "$(verdict "$ratio_e2e" 0.3)"
	printf '| (c) sync, 200/s | %.0f | %.0f | %s | |\n' "$sy_sync_rps" "$ceiling_sync_rps" "$ratio_sync"
	printf '| (c) sync latency p50 / p99, ms | %s / %s | %s / %s | | |\n' \
		"$(wrk_field switchyard-sync p50)" "$(wrk_field switchyard-sync p99)" "$(wrk_field ceiling-sync p50)" "$(wrk_field ceiling-sync p99)"
	printf '| server CPU per message, ms | %s | %s | | |\n' "$sy_cpu_ms" "$ceiling_async_cpu_ms"
	printf '| server cores used, async / sync run | %s / %s | %s / %s | | |\n' \
		"${CORES[switchyard-async]}" "${CORES[switchyard-sync]}" "${CORES[ceiling-async]}" "${CORES[ceiling-sync]}"
	printf '| machine CPU busy, async / sync run, %% | %s / %s | %s / %s | | |\n\n' \
		"${BUSY[switchyard-async]}" "${BUSY[switchyard-sync]}" "${BUSY[ceiling-async]}" "${BUSY[ceiling-sync]}"
	printf -- '- (b): %d messages reached SUCCESS (%d FAILED, %d UNMATCHED) of %d received; load ran %.1f s, the last was processed %.1f s after the load started\n' \
		"$e2e_success" "$e2e_failed" "$e2e_unmatched" "$e2e_received" "$load_seconds" "$e2e_seconds"
	printf -- '- (b) split: %d processed while the load ran (%s msg/s; queue depth %d at its end), the rest at %s msg/s once the load stopped (processing alone)\n' \
		"$during_load" "$during_rate" "$loadend_queue" "$drain_rate"
	printf -- '- store, async phase to drain: %d commits carrying %d writes (%s writes per commit)\n' \
		"$((after_commits - before_commits))" "$((after_writes - before_writes))" \
		"$(awk -v c="$((after_commits - before_commits))" -v w="$((after_writes - before_writes))" 'BEGIN {printf "%.1f", c ? w / c : 0}')"
	printf -- '- wrk answers: %s async requests, %s sync requests; socket errors: switchyard async %s, sync %s\n' \
		"$sy_async_requests" "$(wrk_field switchyard-sync requests)" "$(wrk_field switchyard-async errors)" "$(wrk_field switchyard-sync errors)"
	printf -- '- server CPU per message: user+system CPU of the server process divided by messages (switchyard: from load start to drain, ingest and processing; ceiling: its async run). Cores used: server CPU time / wall time of the wrk run. Machine busy: all CPUs, wrk included, during the wrk run\n'
	if [[ $PROFILE == 1 ]]; then
		printf -- '- **profiling run** (bench/profserve): CPU profiles %s; read with `go tool pprof -top FILE`\n' "${PROFILES[*]}"
	fi
	if ((${#problems[@]})); then
		printf -- '- **problems**: %s\n' "${problems[@]}"
	else
		printf -- '- checks: every answer 2xx, no FAILED or UNMATCHED message; %d requests cut by wrk at the end of a run (rejected, not recorded)\n' "$after_rejected"
	fi
} >"$REPORT"

log "report ($REPORT)"
cat "$REPORT"
if ((${#problems[@]})); then
	die "the run had problems (above); its figures are not valid"
fi
