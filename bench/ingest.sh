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
# through to the server, except listen, data, store and the admin token,
# which the benchmark sets. What this and bench/cluster.sh share is in
# bench/lib.sh.
set -euo pipefail

BENCH_NAME=ingest
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build
start_ceiling
start_nodes switchyard 1
create_scripts
write_lua "$WORK/async.lua"
write_lua "$WORK/sync.lua" 'wrk.headers["flex-sync-webhook"] = "true"'
check_nodes
check_ceiling

CEILING_URL=$CEILING/webhooks/v1/github/push
SY_URL=$SY/webhooks/v1/github/push

# (a) + (b): async, ceiling first.
log "(a) ceiling, async"
CPU_PIDS=$CEILING_PID run_wrk ceiling-async "$CEILING_URL" "$WORK/async.lua"
ceiling_async_rps=$(wrk_field ceiling-async rps)
ceiling_async_cpu_ms=$(calc %.3f "($CPU_AT_END - $CPU_AT_START) * 1000 / $(wrk_field ceiling-async requests)")
# The warm-up's messages must be processed before the count starts, so
# run_wrk drains the queue after the warm-up and takes the snapshot "before".
log "(a)+(b) switchyard, async"
CPU_PIDS=$SY_PID PROFILE_NODES=1 WAIT_DRAIN_AFTER_WARMUP=1 run_wrk switchyard-async "$SY_URL" "$WORK/async.lua"
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
CPU_PIDS=$CEILING_PID run_wrk ceiling-sync "$CEILING_URL" "$WORK/sync.lua" --latency
log "(c) switchyard, sync"
snapshot sync_before
CPU_PIDS=$SY_PID PROFILE_NODES=1 run_wrk switchyard-sync "$SY_URL" "$WORK/sync.lua" --latency
prof_stop sync
wait_drain
snapshot sync_after
sync_failed=$((sync_after_failed - sync_before_failed))
sync_unmatched=$((sync_after_unmatched - sync_before_unmatched))

# ---------------------------------------------------------------- report

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
	report_header 'Ingest benchmark'
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
