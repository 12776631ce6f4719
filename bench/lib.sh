# bench/lib.sh: what bench/ingest.sh and bench/cluster.sh share (see
# bench/README.md). Sourced by them, not run: it reads the settings, makes
# the temporary directory, stops every process it started when the script
# ends, and holds the functions that start Switchyard, load it with wrk and
# read its counters. A script may set BENCH_THREADS and BENCH_CONNECTIONS
# defaults before sourcing it, and BENCH_NAME (used in messages and file
# names).

DURATION=${BENCH_DURATION:-15s}
WARMUP=${BENCH_WARMUP:-3s}
CONNECTIONS=${BENCH_CONNECTIONS:-64}
THREADS=${BENCH_THREADS:-2}
DRAIN_TIMEOUT=${BENCH_DRAIN_TIMEOUT:-300}
NAME=${BENCH_NAME:-ingest}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PAYLOAD=${BENCH_PAYLOAD:-$ROOT/testdata/github/push.json}
OUT_DIR=$ROOT/bench/out
PROFILE=${BENCH_PROFILE:-0}
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)

log() { printf '\n== %s\n' "$*" >&2; }
die() { printf '%s.sh: error: %s\n' "$NAME" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- cleanup

WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-bench.XXXXXX")
PIDS=()
# Commands run at the end, after every process is stopped (e.g. dropping
# a database).
CLEANUP_HOOKS=()

# stop_pid PID: SIGTERM, up to 5 s to exit, then SIGKILL.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# forget_pid PID: it was stopped; the cleanup must not signal its number.
forget_pid() {
	local keep=() p
	for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

cleanup() {
	local pid hook
	[[ -z ${WRK_PID:-} ]] || kill -KILL "$WRK_PID" 2>/dev/null || true
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	for hook in "${CLEANUP_HOOKS[@]}"; do eval "$hook" || true; done
	if [[ ${BENCH_KEEP:-} == 1 ]]; then
		printf '%s.sh: kept %s\n' "$NAME" "$WORK" >&2
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

# build: switchyard and the ceiling (and profserve with BENCH_PROFILE=1)
# into $WORK/bin; SY_CMD is how a node is started.
build() {
	log "building switchyard and the ceiling server into $WORK/bin"
	mkdir -p "$WORK/bin"
	(cd "$ROOT" && go build -o "$WORK/bin/switchyard" ./cmd/switchyard) || die "go build ./cmd/switchyard failed"
	(cd "$ROOT" && go build -o "$WORK/bin/ceiling" ./bench/ceiling) || die "go build ./bench/ceiling failed"
	SY_CMD=("$WORK/bin/switchyard" serve)
	if [[ $PROFILE == 1 ]]; then
		(cd "$ROOT" && go build -o "$WORK/bin/profserve" ./bench/profserve) || die "go build ./bench/profserve failed"
		SY_CMD=("$WORK/bin/profserve")
	fi
}

# ---------------------------------------------------------------- servers

TOKEN=$(openssl rand -hex 24)
SECRET=$(openssl rand -hex 20)
# The secrets key every PostgreSQL node of a run shares.
SECRET_KEY=$(openssl rand -base64 32)

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
			printf '%s.sh: %s exited before listening; its log (%s):\n' "$NAME" "$name" "$file" >&2
			tail -n 50 "$file" >&2
			exit 1
		fi
		sleep 0.1
	done
	printf '%s.sh: %s did not report listening within 15 s; its log (%s):\n' "$NAME" "$name" "$file" >&2
	tail -n 50 "$file" >&2
	exit 1
}

# start_ceiling: the Echo baseline; sets CEILING_PID and CEILING (its URL).
start_ceiling() {
	log "starting the ceiling server"
	# The ceiling collects garbage as Switchyard does by default (GOGC=200,
	# set in cmd/switchyard), so the ratio does not credit Switchyard for a
	# GC setting; an explicit GOGC in the environment applies to both.
	GOGC=${GOGC:-200} "$WORK/bin/ceiling" -listen 127.0.0.1:0 >"$WORK/ceiling.log" 2>&1 &
	CEILING_PID=$!
	PIDS+=("$CEILING_PID")
	CEILING_ADDR=$(wait_for_line "$WORK/ceiling.log" 'listening on 127\.0\.0\.1:[0-9]+' "$CEILING_PID" ceiling)
	CEILING_ADDR=${CEILING_ADDR#listening on }
	CEILING=http://$CEILING_ADDR
	curl -fsS "$CEILING/webhooks/v1/ping" -d '{}' >/dev/null || die "the ceiling server does not answer; log: $(cat "$WORK/ceiling.log")"
}

# start_nodes LABEL N [STORE]: N switchyard processes, each with its own
# data directory under $WORK/LABEL-<i>, on STORE (default: bolt in the
# data directory) with the run's admin token and secrets key. Sets
# SY_PIDS, SY_BASES (their URLs), SY_LOGS, SY_PORTS, and SY and SY_PID for
# the first node.
start_nodes() {
	local label=$1 n=$2 store=${3:-} i dir addr pid prof
	SY_PIDS=() SY_BASES=() SY_LOGS=() SY_PORTS=()
	for ((i = 1; i <= n; i++)); do
		dir=$WORK/$label-$i
		mkdir -p "$dir"
		prof=()
		[[ $PROFILE != 1 ]] || prof=(--cpuprofile "$dir/cpu")
		log "starting switchyard $label node $i (data in $dir${store:+, store ${store%%\?*}})"
		SWITCHYARD_ADMIN_TOKEN=$TOKEN SWITCHYARD_STORE=$store SWITCHYARD_SECRET_KEY=${store:+$SECRET_KEY} \
			"${SY_CMD[@]}" --listen 127.0.0.1:0 --data "$dir/data" "${prof[@]}" >"$dir/switchyard.log" 2>&1 &
		pid=$!
		PIDS+=("$pid")
		addr=$(wait_for_line "$dir/switchyard.log" 'msg="switchyard listening" addr=127\.0\.0\.1:[0-9]+' "$pid" "switchyard $label-$i")
		addr=${addr##*addr=}
		SY_PIDS+=("$pid") SY_BASES+=("http://$addr") SY_LOGS+=("$dir/switchyard.log") SY_PORTS+=("${addr##*:}")
		curl -fsS "http://$addr/healthz" >/dev/null || sy_fail "GET /healthz failed"
	done
	SY=${SY_BASES[0]} SY_PID=${SY_PIDS[0]}
}

# stop_nodes: stop the nodes start_nodes started.
stop_nodes() {
	local pid
	for pid in "${SY_PIDS[@]}"; do
		stop_pid "$pid"
		forget_pid "$pid"
	done
}

# sy_fail MESSAGE: die, showing the end of each switchyard log.
sy_fail() {
	local f
	printf '%s.sh: error: %s\n' "$NAME" "$1" >&2
	for f in "${SY_LOGS[@]}"; do
		printf 'last lines of %s:\n' "$f" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}

# api METHOD PATH JSON_FILE: an admin API call to the first node; prints
# the body, dies on a non-2xx.
api() {
	local code
	code=$(curl -sS -o "$WORK/api.out" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary "@$3" "$SY/api/v1$2") || sy_fail "$1 $2: curl failed"
	[[ $code == 2?? ]] || sy_fail "$1 $2 answered $code: $(cat "$WORK/api.out")"
	cat "$WORK/api.out"
}

first_id() { grep -o '"id":"[^"]*"' | head -n1 | cut -d'"' -f4; }

# create_scripts: the GitHub provider and the github/push function, on
# the first node.
create_scripts() {
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
	local provider_id
	provider_id=$(api POST /providers "$WORK/provider.json" | first_id)
	[[ -n $provider_id ]] || sy_fail "POST /providers returned no id"
	cat >"$WORK/function.json" <<EOF
{
  "name": "push summary (bench)",
  "provider_id": "$provider_id",
  "uri": "github/push",
  "active": true,
  "script": "LOG.setMessage(PAYLOAD.ref + \" \" + PAYLOAD.commits.length); return true"
}
EOF
	api POST /functions "$WORK/function.json" >/dev/null
}

# ---------------------------------------------------------------- request

SIGNATURE=sha256=$(openssl dgst -sha256 -hmac "$SECRET" -r "$PAYLOAD" | cut -d' ' -f1)
PAYLOAD_BYTES=$(wc -c <"$PAYLOAD" | tr -d ' ')

# write_lua FILE [EXTRA_LINES]: the wrk script that POSTs the payload.
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

# spread_lua PORT...: wrk lines that give each thread (and so its
# connections) the next of these loopback ports in turn, whatever the URL.
spread_lua() {
	printf 'local ports = {%s}\nlocal threads = 0\n' "$(IFS=,; echo "$*")"
	cat <<'EOF'
function setup(thread)
  threads = threads + 1
  thread.addr = wrk.lookup("127.0.0.1", tostring(ports[(threads - 1) % #ports + 1]))[1]
end
EOF
}

post() { # post URL OUT [EXTRA_CURL_ARGS...] -> status code
	local url=$1 out=$2
	shift 2
	curl -sS -o "$out" -w '%{http_code}' -X POST "$url" \
		-H 'Content-Type: application/json' -H 'X-GitHub-Event: push' \
		-H "X-Hub-Signature-256: $SIGNATURE" "$@" --data-binary "@$PAYLOAD"
}

# check_nodes: one signed request of each kind to every node, so that a
# wrong signature or script shows up as a clear error and not as a
# figure. A node on a shared store learns of the scripts another node
# saved within about a second: its sync check is tried for up to 10 s.
check_nodes() {
	local base code i
	log "checking one signed request of each kind on each node"
	for base in "${SY_BASES[@]}"; do
		for i in $(seq 100); do
			code=$(post "$base/webhooks/v1/github/push" "$WORK/check.out" -H 'flex-sync-webhook: true') || sy_fail "sync check: curl failed"
			[[ $code == 200 ]] && grep -q '"status":"SUCCESS"' "$WORK/check.out" && break
			((i < 100)) || sy_fail "a signed sync request to $base answered $code, not 200 SUCCESS: $(cat "$WORK/check.out")"
			sleep 0.1
		done
		code=$(post "$base/webhooks/v1/github/push" "$WORK/check.out") || sy_fail "async check: curl failed"
		[[ $code == 202 ]] || sy_fail "a signed async request to $base answered $code, not 202: $(cat "$WORK/check.out")"
	done
}

check_ceiling() {
	local code
	code=$(post "$CEILING/webhooks/v1/github/push" "$WORK/check.out") || die "ceiling check: curl failed"
	[[ $code == 202 ]] || die "the ceiling answered $code, not 202"
}

# ---------------------------------------------------------------- measuring

now() { date +%s.%N; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }

# cpu_seconds PID...: user+system CPU time the processes have used.
CLK_TCK=$(getconf CLK_TCK)
cpu_seconds() {
	local pid sum=0
	for pid in "$@"; do
		sum=$(awk -v s="$sum" -v hz="$CLK_TCK" '{printf "%.3f", s + ($14 + $15) / hz}' "/proc/$pid/stat")
	done
	printf '%s' "$sum"
}

# cpu_ticks: "busy total" clock ticks of the whole machine so far.
cpu_ticks() { awk '$1 == "cpu" {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit}' /proc/stat; }
# busy_pct "B0 T0" "B1 T1": per cent of the machine's CPU that was busy.
busy_pct() { awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " "); printf "%.0f", 100 * (y[1] - x[1]) / (y[2] - x[2])}'; }

# metric NAME_WITH_LABELS FILE: its value in a /metrics dump (0 if absent).
metric() { awk -v n="$1" '$1 == n {v = $2} END {printf "%d", v + 0}' "$2"; }

# snapshot PREFIX: read the counters of every node, summed, into
# PREFIX_success etc.
snapshot() {
	local p=$1 f=$WORK/metrics.txt base
	: >"$f"
	for base in "${SY_BASES[@]}"; do
		curl -fsS "$base/metrics" >>"$f" || sy_fail "GET $base/metrics failed"
	done
	node_sum() { awk -v n="$1" '$1 == n {v += $2} END {printf "%d", v + 0}' "$f"; }
	printf -v "${p}_success" '%s' "$(node_sum 'switchyard_messages_processed_total{status="success"}')"
	printf -v "${p}_failed" '%s' "$(node_sum 'switchyard_messages_processed_total{status="failed"}')"
	printf -v "${p}_unmatched" '%s' "$(node_sum 'switchyard_messages_processed_total{status="unmatched"}')"
	printf -v "${p}_received" '%s' "$(node_sum switchyard_messages_received_total)"
	printf -v "${p}_rejected" '%s' "$(node_sum switchyard_messages_rejected_total)"
	printf -v "${p}_queue" '%s' "$(node_sum switchyard_inbound_queue_messages)"
	printf -v "${p}_commits" '%s' "$(node_sum switchyard_store_commits_total)"
	printf -v "${p}_writes" '%s' "$(node_sum switchyard_store_writes_total)"
	printf -v "${p}_trips" '%s' "$(node_sum switchyard_store_round_trips_total)"
}

# wait_drain: poll until every received message is processed and every
# queue is empty; sets DRAINED_AT to the time of the poll that first saw it.
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
# CPU_AT_START and CPU_AT_END, the CPU time then of the processes CPU_PIDS
# (a space-separated list) names. With WAIT_DRAIN_AFTER_WARMUP=1 the
# warm-up's messages are processed, and the snapshot "before" taken, before
# the measured run; PROFILE_NODES=1 profiles the nodes during it.
run_wrk() {
	local name=$1 url=$2 lua=$3
	shift 3
	wrk_bg "$WORK/wrk-$name-warmup.txt" -d"$WARMUP" -s "$lua" "$@" "$url" ||
		die "wrk warm-up $name failed: $(cat "$WORK/wrk-$name-warmup.txt")"
	if [[ ${WAIT_DRAIN_AFTER_WARMUP:-} == 1 ]]; then
		wait_drain
		[[ -z ${AFTER_DRAIN_HOOK:-} ]] || eval "$AFTER_DRAIN_HOOK"
		snapshot before
	fi
	log "measuring $name for $DURATION ($CONNECTIONS connections, $THREADS threads)"
	[[ ${PROFILE_NODES:-} != 1 ]] || prof_start
	# shellcheck disable=SC2086 # CPU_PIDS is a list
	CPU_AT_START=$(cpu_seconds $CPU_PIDS)
	local ticks0
	ticks0=$(cpu_ticks)
	WRK_START=$(now)
	wrk_bg "$WORK/wrk-$name.txt" -d"$DURATION" -s "$lua" "$@" "$url" ||
		die "wrk $name failed: $(cat "$WORK/wrk-$name.txt")"
	WRK_END=$(now)
	# shellcheck disable=SC2086
	CPU_AT_END=$(cpu_seconds $CPU_PIDS)
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

# prof_start / prof_stop NAME: with BENCH_PROFILE=1, profile the nodes'
# CPU between the two into bench/out/<name>-<date>-NAME[-<node>].pprof.
PROFILES=()
prof_start() {
	[[ $PROFILE == 1 ]] || return 0
	local pid
	for pid in "${SY_PIDS[@]}"; do kill -USR1 "$pid"; done
}
prof_stop() {
	[[ $PROFILE == 1 ]] || return 0
	local i n=${#SY_PIDS[@]} log before file suffix j
	for ((i = 0; i < n; i++)); do
		log=${SY_LOGS[i]}
		before=$(grep -c 'msg="cpu profile written"' "$log" || true)
		kill -USR2 "${SY_PIDS[i]}"
		for j in $(seq 100); do
			(($(grep -c 'msg="cpu profile written"' "$log" || true) > before)) && break
			sleep 0.1
		done
		file=$(grep 'msg="cpu profile written"' "$log" | tail -n1 | sed 's/.* file=//')
		[[ -s $file ]] || sy_fail "the CPU profile $1 was not written"
		suffix=$1
		((n == 1)) || suffix=$1-node$((i + 1))
		mkdir -p "$OUT_DIR"
		mv "$file" "$OUT_DIR/$NAME-$STAMP-$suffix.pprof"
		PROFILES+=("bench/out/$NAME-$STAMP-$suffix.pprof")
	done
}

# ---------------------------------------------------------------- report

ratio() { calc %.2f "$1 / $2"; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN {print (r >= t) ? "met" : "**missed**"}'; }

# report_header TITLE LOAD_NOTE: the lines every report starts with.
report_header() {
	printf '### %s, %s\n\n' "$1" "$(date -u '+%Y-%m-%d %H:%M UTC')"
	printf -- '- machine: %s cores (`nproc`), %s, %s; wrk %s; load average before the run %s\n' "$(nproc)" \
		"$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)" "$(go version | cut -d' ' -f3-)" \
		"$(wrk --version 2>&1 | awk 'NR == 1 {print $2}')" "$LOAD_BEFORE"
	printf -- '- commit: %s%s\n' "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
		"$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo ' (with uncommitted changes to tracked files)' || true)"
	printf -- '- load: wrk -t%s -c%s -d%s (warm-up %s), POST of %s (%s bytes), signed X-Hub-Signature-256%s\n' \
		"$THREADS" "$CONNECTIONS" "$DURATION" "$WARMUP" "${PAYLOAD#"$ROOT"/}" "$PAYLOAD_BYTES" "${2:-}"
}
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
