# Sourced by the demo scripts. Each function starts an emulator in the background, stops it (and
# waits for it) when the script exits, and returns once it prints READY:
#   start_connectwise_sandbox PORT LOG [ARGS...]    the ConnectWise Manage emulator
#   start_exactonline_sandbox PORT LOG [ARGS...]    the Exact Online emulator
#   start_superoffice_sandbox PORT LOG [ARGS...]    the SuperOffice CRM Online emulator
#   start_lightspeed_sandbox PORT LOG [ARGS...]     the Lightspeed Retail X-Series emulator
#   start_saleslayer_sandbox PORT LOG [ARGS...]     the Sales Layer PIM emulator
# ARGS go to `connector-sandbox VENDOR` (see `uv run connector-sandbox VENDOR --help`).
sandbox_pids=()

start_sandbox() {
  local vendor="$1" port="$2" log="$3"
  shift 3
  mkdir -p "$(dirname "$log")"
  uv run --no-sync connector-sandbox "$vendor" --port "$port" --seed 42 "$@" >"$log" 2>&1 &
  local pid=$!
  sandbox_pids+=("$pid")
  trap '{ kill "${sandbox_pids[@]}"; wait "${sandbox_pids[@]}"; } 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    grep -q READY "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "$vendor sandbox did not start; see $log" >&2
  return 1
}

start_connectwise_sandbox() { start_sandbox connectwise "$@"; }
start_exactonline_sandbox() { start_sandbox exactonline "$@"; }
start_superoffice_sandbox() { start_sandbox superoffice "$@"; }
start_lightspeed_sandbox() { start_sandbox lightspeed "$@"; }
start_saleslayer_sandbox() { start_sandbox saleslayer "$@"; }
