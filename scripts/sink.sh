# Sourced by the scripts: start_sink DIR [--print] starts tests/servers/sink.py
# on a free loopback port and sets SINK_PORT and SINK_PID; stop_sink ends it.
start_sink() {
  sink_dir=$1; shift
  rm -rf "$sink_dir"; mkdir -p "$sink_dir"
  rm -f "$sink_dir.port"
  build/venv/bin/python tests/servers/sink.py --dir "$sink_dir" --port-file "$sink_dir.port" "$@" &
  SINK_PID=$!
  i=0
  while [ ! -s "$sink_dir.port" ]; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then echo "sink did not start" >&2; kill $SINK_PID 2>/dev/null; return 1; fi
    sleep 0.1
  done
  SINK_PORT=$(cat "$sink_dir.port")
}

stop_sink() {
  [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
  SINK_PID=""
}
