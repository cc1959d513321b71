# Sourced by ./dev and .ci/run: puts a Node.js >= 22 on PATH, installing Node 24 from the npm
# registry (the node-linux-<arch> package, no install scripts) when the system one is older.
wb_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(wb_node_major)" -lt 22 ]; then
  case "$(uname -m)" in
    x86_64) wb_arch=x64 ;;
    aarch64 | arm64) wb_arch=arm64 ;;
    *) echo "unsupported CPU $(uname -m): install Node.js >= 22 yourself" >&2; exit 1 ;;
  esac
  wb_node_home="${WRITEBACK_NODE_HOME:-$HOME/.cache/writeback/node24}"
  wb_node_bin="$wb_node_home/node_modules/node-linux-$wb_arch/bin"
  if [ ! -x "$wb_node_bin/node" ]; then
    echo "system Node.js is $(node -v 2>/dev/null || echo missing); installing Node 24 into $wb_node_home" >&2
    npm install --prefix "$wb_node_home" --no-save --ignore-scripts --no-audit --no-fund "node-linux-$wb_arch@24" >&2
  fi
  export PATH="$wb_node_bin:$PATH"
fi
