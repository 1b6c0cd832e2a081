#!/bin/sh
# Runs the runtime-neutral test files (node:test + node:assert) under Node or
# Bun; `deno task test` runs them (and everything else in tests/) under Deno.
#
#   sh tests/cross_runtime.sh node   # Node 20+, TypeScript through tsx
#   sh tests/cross_runtime.sh bun    # bun test
#
# Append new cross-runtime test files to FILES below (paths from the
# repository root). Extra arguments are passed to the runner.
set -eu
cd "$(dirname "$0")/.."

FILES="
tests/transport/transport_test.ts
tests/transport/memory_test.ts
tests/transport/socket_like_test.ts
tests/transport/default_test.ts
tests/transport/permissive_tls_test.ts
tests/codec/crc32_test.ts
tests/codec/utf8_test.ts
tests/codec/properties_test.ts
tests/codec/message_test.ts
tests/codec/message_ext_test.ts
tests/codec/message_id_test.ts
tests/codec/compression_test.ts
tests/codec/fastjson_test.ts
tests/codec/bodies_test.ts
tests/codec/ext_fields_test.ts
tests/codec/frame_test.ts
tests/codec/header_json_test.ts
tests/codec/header_rocketmq_test.ts
tests/codec/remoting_decoder_stream_test.ts
tests/codec/golden_test.ts
tests/codec/golden_messages_test.ts
tests/codec/golden_bodies_test.ts
tests/codec/sql92_test.ts
tests/client/request_tracker_test.ts
tests/broker/acl/access_control_test.ts
tests/broker/acl/watch_test.ts
tests/remoting/connection_test.ts
tests/client/rebalance_test.ts
tests/integration/request_reply_test.ts
tests/integration/broker_restart_test.ts
tests/integration/message_lookup_test.ts
tests/integration/consumer_test.ts
tests/integration/features_test.ts
tests/integration/responder_test.ts
tests/integration/handover_test.ts
tests/integration/sql92_test.ts
tests/integration/orderly_test.ts
tests/integration/broadcast_test.ts
tests/integration/consumer_control_test.ts
tests/integration/message_iterator_test.ts
tests/client/local_offset_store_test.ts
tests/integration/batch_test.ts
tests/client/queue_lock_test.ts
tests/client/batch_test.ts
tests/client/consume_stats_test.ts
tests/broker/store/memory_store_test.ts
tests/broker/store/conformance_test.ts
tests/broker/store/file_store_test.ts
tests/broker/store/key_index_test.ts
tests/broker/store/file_store_property_test.ts
tests/broker/handlers/send_message_test.ts
tests/broker/handlers/pull_message_test.ts
tests/broker/handlers/heartbeat_test.ts
tests/broker/handlers/consumer_offset_test.ts
tests/broker/handlers/send_back_test.ts
tests/broker/handlers/reply_message_test.ts
tests/broker/handlers/lock_test.ts
tests/broker/handlers/route_test.ts
tests/broker/handlers/lite_pull_test.ts
tests/broker/handlers/query_message_test.ts
tests/broker/handlers/broker_stats_test.ts
tests/broker/malformed_test.ts
tests/broker/limits_test.ts
tests/broker/broker_test.ts
tests/broker/restart_test.ts
tests/broker/fuzz_test.ts
tests/broker/delay_test.ts
tests/cli/cli_test.ts
"

runtime="${1:-}"
[ $# -gt 0 ] && shift
PATH="$PWD/.tools/node_modules/.bin:$PATH"
export PATH

case "$runtime" in
node)
  loader="$PWD/.tools/node_modules/tsx/dist/loader.mjs"
  if [ ! -f "$loader" ]; then
    npm install --prefix .tools --no-audit --no-fund tsx@4 >&2
  fi
  # package.json has "type": "module", so tsx loads the .ts files as ESM.
  # shellcheck disable=SC2086
  exec node --import "file://$loader" --test "$@" $FILES
  ;;
bun)
  if ! command -v bun >/dev/null 2>&1; then
    npm install --prefix .tools --no-audit --no-fund bun@1 >&2
  fi
  for f in $FILES; do set -- "$@" "./$f"; done # bun test wants ./-prefixed paths
  # bun test fails any test that runs over 5 s by default; on a loaded 2-core
  # machine a property test near its own time limit can pass that. A hang
  # still fails, after 60 s (deno test and node --test have no such limit).
  exec bun test --timeout 60000 "$@"
  ;;
*)
  echo "usage: sh tests/cross_runtime.sh <node|bun> [runner arguments]" >&2
  exit 2
  ;;
esac
