#!/usr/bin/env bash
# Seeds of the `decrypt` fuzz target (fuzz/corpus/decrypt/): real captures of toytls connections
# whose server key is the fixed fuzzing key (fuzz/keys/server_key.pem), so that every seed
# decrypts to the end under the target (tests/fuzz_replay.rs checks it):
#   toytls_gcm.pcapng   `toytls server --pcap` (our pcapng writer), GCM, a full and a resumed
#                       connection;
#   toytls_toy.pcap     the same with the toy suite, captured by tcpdump (legacy pcap, Ethernet);
#   toytls_gcm.frames   the frames of toytls_gcm.pcapng as the target's other input form, each
#                       frame behind a 2-byte big-endian length (reaches TCP and TLS directly).
# Needs a built toytls (cargo build --release) and tcpdump, run as root. Run from the repository
# root: fuzz/make_decrypt_corpus.sh
set -euo pipefail
cd "$(dirname "$0")/.."
toytls=target/release/toytls
out=fuzz/corpus/decrypt
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
server= port=

start_server() { # suite [--pcap FILE]; sets $server and $port
  "$toytls" server --listen 127.0.0.1:0 --cert fuzz/keys/server.pem --key fuzz/keys/server_key.pem \
    --echo --suites "$@" >/dev/null 2>"$work/server.err" &
  server=$!
  for _ in $(seq 100); do grep -q 'listening on' "$work/server.err" 2>/dev/null && break; sleep 0.05; done
  port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$work/server.err")
}

talk() { # suite
  echo "seed $1" | "$toytls" client "localhost:$port" --ca fuzz/keys/ca.pem --suites "$1" \
    --reconnect 1 >/dev/null
  sleep 0.3
}

start_server gcm --pcap "$work/gcm.pcapng"
talk gcm
kill "$server"; wait "$server" 2>/dev/null || true
cp "$work/gcm.pcapng" "$out/toytls_gcm.pcapng"

start_server toy
tcpdump -i lo -U --immediate-mode -n -s 0 -w "$work/toy.pcap" "tcp port $port" >/dev/null 2>"$work/tcpdump.err" &
sniffer=$!
for _ in $(seq 100); do grep -q 'listening on' "$work/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
talk toy
kill -TERM "$sniffer"; wait "$sniffer" 2>/dev/null || true
kill "$server"; wait "$server" 2>/dev/null || true
cp "$work/toy.pcap" "$out/toytls_toy.pcap"

# Our pcapng is little-endian blocks: type, length, body, length; packets are type 6 with the
# frame at offset 28, its length at offset 20.
python3 - "$out/toytls_gcm.pcapng" "$out/toytls_gcm.frames" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
out, at = bytearray(), 0
while at + 12 <= len(data):
    typ, length = struct.unpack_from('<II', data, at)
    if typ == 6:
        caplen = struct.unpack_from('<I', data, at + 20)[0]
        out += struct.pack('>H', caplen) + data[at + 28:at + 28 + caplen]
    at += length
open(sys.argv[2], 'wb').write(out)
PY
ls -l "$out"
