#!/usr/bin/env bash
# bench/cluster.sh: Switchyard on PostgreSQL against Switchyard on bbolt,
# and three nodes on one database against one (see bench/README.md).
#
# Measures, in one run on this machine and against loopback only, the
# async ingest (202/s) and end-to-end (messages/s reaching SUCCESS) of the
# same load as bench/ingest.sh, for
#   bolt-1   one node on bbolt (the default store): the baseline;
#   pg-1     one node on PostgreSQL, a fresh database made for the run;
#   pg-N     BENCH_NODES nodes (default 3) on another fresh database, the
#            load spread over them by wrk itself (each wrk thread and its
#            connections go to one node, threads dealt out in turn);
# each started, measured and stopped alone, after the ceiling
# (bench/ceiling) for reference. Reports the ratios pg-1/bolt-1 and
# pg-N/pg-1, CPU per message per node, the PostgreSQL backends' CPU,
# transactions per message (pg_stat_database.xact_commit) and round trips
# per message (switchyard_store_round_trips_total, counted by the client).
# The figures go to the terminal and to bench/out/cluster-<date>.md.
#
# Settings (environment), besides those of bench/ingest.sh (BENCH_DURATION,
# BENCH_WARMUP, BENCH_DRAIN_TIMEOUT, BENCH_PAYLOAD, BENCH_KEEP,
# BENCH_PROFILE):
#   BENCH_THREADS      wrk threads (default 3: a multiple of BENCH_NODES)
#   BENCH_CONNECTIONS  wrk connections (default 63: the same number per thread)
#   BENCH_NODES        nodes of the cluster run (default 3)
#   BENCH_PG           URL of a database to create and drop the run's
#                      databases from (default
#                      postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable);
#                      the role must be allowed to CREATE DATABASE
# Every run gets the same wrk settings, so the ratios compare like with like.
set -euo pipefail

BENCH_NAME=cluster
: "${BENCH_THREADS:=3}" "${BENCH_CONNECTIONS:=63}"
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NODES=${BENCH_NODES:-3}
PG_ADMIN=${BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
((THREADS % NODES == 0)) || die "BENCH_THREADS ($THREADS) must be a multiple of BENCH_NODES ($NODES): each wrk thread loads one node"
ensure psql postgresql-client

# ---------------------------------------------------------------- PostgreSQL

pg() { PGOPTIONS='-c client_min_messages=warning' psql "$PG_ADMIN" -X -At -v ON_ERROR_STOP=1 -c "$1"; }
pg >/dev/null 'SELECT 1' || die "cannot reach PostgreSQL at ${PG_ADMIN%%\?*}"

# pg_url DB: the store URL of the database DB on the same server.
pg_url() {
	local base=${PG_ADMIN%%\?*} query=
	[[ $PG_ADMIN != *\?* ]] || query=?${PG_ADMIN#*\?}
	printf '%s/%s%s' "${base%/*}" "$1" "$query"
}

# create_db LABEL: a fresh database for one run, dropped when it ends
# (drop_db) or, whatever happens, when the script ends. Sets DB.
create_db() {
	DB=switchyard_bench_$(date -u +%H%M%S)_$1_$$
	DB=${DB//-/_}
	pg "CREATE DATABASE $DB" >/dev/null || die "CREATE DATABASE $DB failed"
	CLEANUP_HOOKS+=("pg 'DROP DATABASE IF EXISTS $DB WITH (FORCE)' >/dev/null")
}
drop_db() { pg "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }

# xact_commits DB: transactions committed in DB so far. A backend reports
# its counts when it goes idle, at most once a second, and an idle one
# within 10 s: the reading is taken twice, a second apart, until stable.
xact_commits() {
	local a b i
	a=$(pg "SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'")
	for i in $(seq 15); do
		sleep 1
		b=$(pg "SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'")
		[[ $a != "$b" ]] || break
		a=$b
	done
	printf '%s' "$b"
}

# backend_cpu DB FILE: "pid seconds" of every backend connected to DB.
backend_cpu() {
	local pid
	: >"$2"
	for pid in $(pg "SELECT pid FROM pg_stat_activity WHERE datname = '$1' AND pid <> pg_backend_pid()"); do
		[[ -r /proc/$pid/stat ]] && printf '%s %s\n' "$pid" "$(cpu_seconds "$pid")" >>"$2"
	done
}

# backend_cpu_delta BEFORE AFTER: CPU the backends used between the two
# (a backend that appeared in between counts from zero; one that exited is
# missed, which the pools' long-lived connections make rare).
backend_cpu_delta() {
	awk 'NR == FNR {b[$1] = $2; next} {s += $2 - ($1 in b ? b[$1] : 0)} END {printf "%.3f", s}' "$1" "$2"
}

# ---------------------------------------------------------------- one run

# node_counter BASE NAME: one counter of one node.
node_counter() {
	curl -fsS "$1/metrics" >"$WORK/node-metrics.txt" || sy_fail "GET $1/metrics failed"
	metric "$2" "$WORK/node-metrics.txt"
}

# before_load: per-node and PostgreSQL readings taken once the warm-up
# is processed, right before the measured run (run_wrk's hook).
before_load() {
	local i
	if [[ -n $DB ]]; then
		# Let every backend report its warm-up transactions (see
		# xact_commits). Waited for in the background, so that a signal
		# stops the benchmark at once.
		sleep 11 &
		wait $!
		XACT0=$(pg "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'")
		backend_cpu "$DB" "$WORK/backends-before.txt"
	fi
	NODE_CPU0=() NODE_RECV0=()
	for i in "${!SY_PIDS[@]}"; do
		NODE_CPU0+=("$(cpu_seconds "${SY_PIDS[i]}")")
		NODE_RECV0+=("$(node_counter "${SY_BASES[i]}" switchyard_messages_received_total)")
	done
}

declare -A R
# measure LABEL NODES [STORE]: start the nodes, load them, wait for the
# drain, stop them; the figures go to R[LABEL,...].
measure() {
	local label=$1 n=$2 store=${3:-} i lua=$WORK/async.lua cpu0 per_node=() node_cpu recv
	DB=
	if [[ $store == pg ]]; then
		create_db "$label"
		store=$(pg_url "$DB")
	fi
	start_nodes "$label" "$n" "$store"
	create_scripts
	check_nodes
	if ((n > 1)); then
		lua=$WORK/async-$label.lua
		write_lua "$lua" "$(spread_lua "${SY_PORTS[@]}")"
	fi
	log "$label: async load"
	CPU_PIDS="${SY_PIDS[*]}" PROFILE_NODES=1 WAIT_DRAIN_AFTER_WARMUP=1 AFTER_DRAIN_HOOK=before_load \
		run_wrk "$label" "$SY/webhooks/v1/github/push" "$lua"
	cpu0=$CPU_AT_START
	local load_start=$WRK_START load_end=$WRK_END
	snapshot loadend
	local loadend_at
	loadend_at=$(now)
	log "$label: waiting for the queues to drain (up to ${DRAIN_TIMEOUT}s)"
	wait_drain
	local cpu1
	cpu1=$(cpu_seconds "${SY_PIDS[@]}")
	for i in "${!SY_PIDS[@]}"; do
		node_cpu=$(calc %.3f "$(cpu_seconds "${SY_PIDS[i]}") - ${NODE_CPU0[i]}")
		recv=$(($(node_counter "${SY_BASES[i]}" switchyard_messages_received_total) - NODE_RECV0[i]))
		per_node+=("$(calc %.3f "$node_cpu * 1000 / ($recv + 0.000001)") ($recv msg)")
	done
	[[ -z $DB ]] || backend_cpu "$DB" "$WORK/backends-after.txt"
	prof_stop "$label"
	snapshot after
	stop_nodes

	local ok=$((after_success - before_success))
	R[$label,rps]=$(wrk_field "$label" rps)
	R[$label,e2e]=$(calc %.1f "$ok / ($DRAINED_AT - $load_start)")
	R[$label,ok]=$ok
	R[$label,failed]=$((after_failed - before_failed + after_unmatched - before_unmatched))
	R[$label,received]=$((after_received - before_received))
	R[$label,rejected]=$after_rejected
	R[$label,non2xx]=$(wrk_field "$label" non2xx)
	R[$label,errors]=$(wrk_field "$label" errors)
	R[$label,load_s]=$(calc %.1f "$load_end - $load_start")
	R[$label,e2e_s]=$(calc %.1f "$DRAINED_AT - $load_start")
	R[$label,queue_at_end]=$loadend_queue
	R[$label,during]=$(calc %.0f "($loadend_success - before_success) / ($loadend_at - $load_start)")
	R[$label,cpu_ms]=$(calc %.3f "($cpu1 - $cpu0) * 1000 / $ok")
	R[$label,per_node]=$(IFS=/; echo "${per_node[*]}")
	R[$label,per_node]=${R[$label,per_node]//\// \/ }
	R[$label,cores]=${CORES[$label]}
	R[$label,busy]=${BUSY[$label]}
	R[$label,commits]=$((after_commits - before_commits))
	R[$label,wpc]=$(calc %.1f "($after_writes - $before_writes) / ($after_commits - $before_commits + 0.000001)")
	if [[ -n $DB ]]; then
		R[$label,trips]=$(calc %.2f "($after_trips - $before_trips) / $ok")
		R[$label,xact]=$(calc %.3f "($(xact_commits "$DB") - $XACT0) / $ok")
		R[$label,pg_cpu_ms]=$(calc %.3f "$(backend_cpu_delta "$WORK/backends-before.txt" "$WORK/backends-after.txt") * 1000 / $ok")
		R[$label,pg_backends]=$(wc -l <"$WORK/backends-after.txt")
		drop_db "$DB"
	fi
}

# ---------------------------------------------------------------- the runs

build
start_ceiling
write_lua "$WORK/async.lua"
check_ceiling
log "ceiling, async"
CPU_PIDS=$CEILING_PID run_wrk ceiling "$CEILING/webhooks/v1/github/push" "$WORK/async.lua"
ceiling_rps=$(wrk_field ceiling rps)
ceiling_cpu_ms=$(calc %.3f "($CPU_AT_END - $CPU_AT_START) * 1000 / $(wrk_field ceiling requests)")
stop_pid "$CEILING_PID"
forget_pid "$CEILING_PID"

PGN=pg-$NODES
measure bolt-1 1
measure pg-1 1 pg
measure "$PGN" "$NODES" pg

# ---------------------------------------------------------------- report

problems=()
for l in bolt-1 pg-1 "$PGN"; do
	((R[$l,non2xx] == 0)) || problems+=("$l: ${R[$l,non2xx]} non-2xx answers")
	((R[$l,failed] == 0)) || problems+=("$l: ${R[$l,failed]} messages FAILED or UNMATCHED")
	((R[$l,rejected] <= 2 * CONNECTIONS)) || problems+=("$l: ${R[$l,rejected]} requests rejected before being recorded")
done
((R[bolt-1,ok] > 0 && R[pg-1,ok] > 0 && R[$PGN,ok] > 0)) || problems+=("a run processed no message")

row() { # row MEASURE KEY FORMAT: one figure of each run
	printf '| %s | %s | %s | %s |\n' "$1" "$(printf "$3" "${R[bolt-1,$2]:-}")" "$(printf "$3" "${R[pg-1,$2]:-}")" "$(printf "$3" "${R[$PGN,$2]:-}")"
}

REPORT=$OUT_DIR/cluster-$STAMP.md
mkdir -p "$OUT_DIR"
{
	report_header 'Cluster benchmark' "; for $PGN, each wrk thread on one node"
	printf -- '- switchyard: default settings, one GitHub HMAC provider, one function on github/push; PostgreSQL %s on %s, a fresh database per run\n\n' \
		"$(pg 'SHOW server_version')" "$(printf '%s' "${PG_ADMIN%%\?*}" | sed -E 's#//[^@]*@#//#; s#/[^/]*$##')"
	printf '| ratio | (a) async ingest | (b) end to end | goal |\n| --- | ---: | ---: | --- |\n'
	printf '| pg-1 / bolt-1 | %s | %s | >= 0.5, %s / %s |\n' \
		"$(ratio "${R[pg-1,rps]}" "${R[bolt-1,rps]}")" "$(ratio "${R[pg-1,e2e]}" "${R[bolt-1,e2e]}")" \
		"$(verdict "$(ratio "${R[pg-1,rps]}" "${R[bolt-1,rps]}")" 0.5)" "$(verdict "$(ratio "${R[pg-1,e2e]}" "${R[bolt-1,e2e]}")" 0.5)"
	printf '| %s / pg-1 | %s | %s | |\n' "$PGN" "$(ratio "${R[$PGN,rps]}" "${R[pg-1,rps]}")" "$(ratio "${R[$PGN,e2e]}" "${R[pg-1,e2e]}")"
	for l in bolt-1 pg-1 "$PGN"; do
		printf '| %s / ceiling | %s | %s | |\n' "$l" "$(ratio "${R[$l,rps]}" "$ceiling_rps")" "$(ratio "${R[$l,e2e]}" "$ceiling_rps")"
	done
	printf '\n| measure | bolt-1 | pg-1 | %s |\n| --- | ---: | ---: | ---: |\n' "$PGN"
	row '(a) async ingest, 202/s' rps %.0f
	row '(b) end to end to SUCCESS, msg/s' e2e %.0f
	row 'switchyard CPU per message, ms (all nodes, load start to drain)' cpu_ms %s
	row 'CPU per message per node, ms (node CPU / messages it received)' per_node %s
	row 'PostgreSQL backends CPU per message, ms' pg_cpu_ms %s
	row 'transactions per message (xact_commit)' xact %s
	row 'round trips per message (client count)' trips %s
	row 'group commits (writes per commit)' commits %s
	row '' wpc '(%s)'
	row 'switchyard cores used during the load' cores %s
	row 'machine CPU busy during the load, %' busy %s
	row 'processed while the load ran, msg/s' during %s
	row 'queue depth when the load stopped' queue_at_end %s
	printf '\n- ceiling (Echo, reads the body, 202): %.0f req/s, %s ms CPU per request, measured first\n' "$ceiling_rps" "$ceiling_cpu_ms"
	for l in bolt-1 pg-1 "$PGN"; do
		printf -- '- %s: %d messages SUCCESS of %d received; load %s s, drained %s s after it started; socket errors %s\n' \
			"$l" "${R[$l,ok]}" "${R[$l,received]}" "${R[$l,load_s]}" "${R[$l,e2e_s]}" "${R[$l,errors]}"
	done
	printf -- '- transactions: the xact_commit delta of the run'"'"'s database, from after the warm-up was processed (and reported) to after the nodes stopped, over the messages; it includes heartbeats and scans of the drain\n'
	printf -- '- round trips: requests the nodes'"'"' pools sent (statements, batches; BEGIN and COMMIT each count), from switchyard_store_round_trips_total\n'
	printf -- '- PostgreSQL CPU: the backends connected to the run'"'"'s database (%s at the end of %s), not the WAL writer or checkpointer\n' \
		"${R[$PGN,pg_backends]}" "$PGN"
	if [[ $PROFILE == 1 ]]; then
		printf -- '- **profiling run** (bench/profserve): CPU profiles %s\n' "${PROFILES[*]}"
	fi
	if ((${#problems[@]})); then
		printf -- '- **problems**: %s\n' "${problems[@]}"
	else
		printf -- '- checks: every answer 2xx, no FAILED or UNMATCHED message\n'
	fi
} >"$REPORT"

log "report ($REPORT)"
cat "$REPORT"
if ((${#problems[@]})); then
	die "the run had problems (above); its figures are not valid"
fi
