# Sourced by the demo scripts: start_connectwise_sandbox PORT LOG [ARGS...] starts the ConnectWise
# emulator in the background, stops it when the script exits, and returns once it prints READY.
start_connectwise_sandbox() {
  local port="$1" log="$2"
  shift 2
  mkdir -p "$(dirname "$log")"
  uv run --no-sync connector-sandbox connectwise --port "$port" --seed 42 "$@" >"$log" 2>&1 &
  sandbox_pid=$!
  trap 'kill "$sandbox_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 100); do
    grep -q READY "$log" 2>/dev/null && return 0
    kill -0 "$sandbox_pid" 2>/dev/null || { cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "sandbox did not start; see $log" >&2
  return 1
}
