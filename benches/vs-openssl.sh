#!/usr/bin/env bash
# toytls against OpenSSL 3 on this machine, side by side, in one run: every row of issue 13's table.
#
#   benches/vs-openssl.sh                    all rows, 3 rounds each
#   benches/vs-openssl.sh handshakes bulk    only these groups (handshakes, client, bulk, rsa)
#   ROUNDS=5 SECONDS_PER_RUN=5 BULK_MIB=256 benches/vs-openssl.sh
#
# It builds the release binary, makes one CA and one RSA-2048 server certificate, and starts two
# servers with that same certificate and key: `toytls server --http` and `openssl s_server -WWW`
# (TLS 1.2 only, RSA key transport, AES128-GCM-SHA256 or AES128-SHA256, no session tickets, so
# that resumption is the session-ID cache on both sides). Both send the same chain, the server
# certificate and the CA's (s_server's -cert takes only the first certificate of a file, so the CA
# goes in -cert_chain): the Certificate messages are byte for byte the same, so s_time's work per
# handshake (parse, chain check) is the same against each. Then, for each row, the toytls figure
# and the OpenSSL figure are measured in turns, A B A B ..., ROUNDS times, and the row prints the
# median and the range (min-max) of each side and the ratio of the medians.
#
# Rows (all wall-clock rates: the machine is ours for the run, so quote the load it prints):
#   handshakes   `openssl s_time -new` / `-reuse` against each server, one s_time process and 4
#                at once (connections per second, summed over the processes)
#   client       full handshakes per second against `openssl s_server`: `toytls bench-client`
#                (one connection at a time) against `openssl s_time -new`
#   bulk         one connection, BULK_MIB MiB: `toytls client` <- `toytls server --http` (our
#                suite, then GCM) against `curl` <- `s_server -WWW` (AES128-SHA256, then
#                AES128-GCM-SHA256); and `curl` <- `toytls server` against `curl` <- `s_server`,
#                both GCM. Every configuration is first fetched once with its bytes hashed and
#                compared with the file s_server serves, so a broken transfer never counts as fast.
#   rsa          RSA-2048 private (sign) and public (verify) operations per second:
#                `examples/rsa_speed.rs` (the rsa engineer's, when present) against
#                `openssl speed rsa2048`.
#
# Each group is one function (`group_handshakes`, ...) built from `row`, so a new row is a few
# lines. A tool for people, not a CI gate: nothing here asserts a time. Needs cargo, openssl and
# curl; every server it starts is stopped when it ends, however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
BULK_MIB=${BULK_MIB:-256}
# No single measurement may hang the script.
RUN_TIMEOUT=${RUN_TIMEOUT:-180}
GROUPS_WANTED=("$@")
[ ${#GROUPS_WANTED[@]} -eq 0 ] && GROUPS_WANTED=(handshakes client bulk rsa)

for tool in openssl curl sha256sum timeout; do
    command -v "$tool" >/dev/null || { echo "vs-openssl.sh: $tool not found" >&2; exit 1; }
done

cargo build --release --quiet --bin toytls
TOYTLS=$PWD/target/release/toytls

TMP=$(mktemp -d "${TMPDIR:-/tmp}/vs-openssl.XXXXXX")
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "$@" >&2; }

# ---------------------------------------------------------------------------------------------
# Setup: one certificate, two servers.

"$TOYTLS" ca init --out "$TMP/ca" >/dev/null
"$TOYTLS" cert issue --ca "$TMP/ca" --name localhost --name 127.0.0.1 --out "$TMP/srv" >/dev/null
CA=$TMP/ca/ca.pem CERT=$TMP/srv/cert.pem KEY=$TMP/srv/key.pem

BULK_BYTES=$((BULK_MIB * 1024 * 1024))

# Waits until FILE has a line matching SED (a sed script printing the port) and prints the port.
port_from() { # file sed-script pid
    local i port
    for i in $(seq 1 100); do
        port=$(sed -n "$2" "$1" 2>/dev/null | head -n 1)
        if [ -n "$port" ]; then echo "$port"; return; fi
        kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    say "vs-openssl.sh: a server did not start; its output:"
    cat "$1" >&2
    exit 1
}

# toytls server --http on a free port; its stderr (one line per failed connection) is kept.
# No tickets, as s_server's -no_ticket: both resume by session ID.
start_toytls() {
    "$TOYTLS" server --listen 127.0.0.1:0 --cert "$CERT" --key "$KEY" --http \
        --suites toy,gcm --no-tickets 2>"$TMP/toytls.log" &
    PIDS+=($!)
    TOYTLS_PORT=$(port_from "$TMP/toytls.log" 's/.*listening on .*:\([0-9]*\)$/\1/p' $!)
}

# openssl s_server -WWW serves files from its working directory: big.bin is the same bytes as
# toytls's /bytes/N (the alphabet, repeated). -WWW does not read stdin (the default mode would,
# and exits at its end).
start_openssl() {
    (cd "$TMP/www" && exec openssl s_server -accept 127.0.0.1:0 -cert "$CERT" -key "$KEY" \
        -cert_chain "$CA" -tls1_2 -cipher AES128-GCM-SHA256:AES128-SHA256 -no_ticket -WWW \
        >"$TMP/openssl.log" 2>&1 </dev/null) &
    PIDS+=($!)
    OPENSSL_PORT=$(port_from "$TMP/openssl.log" 's/^ACCEPT .*:\([0-9]*\)$/\1/p' $!)
}

mkdir -p "$TMP/www"
if [[ " ${GROUPS_WANTED[*]} " == *" bulk "* ]]; then
    # One 26-byte period repeated: 2^20 is not a multiple of 26, so build it by bytes.
    # (`yes` and `tr` end on SIGPIPE when `head` has enough, which pipefail would call a failure.)
    (set +o pipefail; yes abcdefghijklmnopqrstuvwxyz | tr -d '\n' | head -c "$BULK_BYTES") \
        >"$TMP/www/big.bin"
fi
start_toytls
start_openssl

# ---------------------------------------------------------------------------------------------
# Measurements: each prints one number (a rate) on stdout.

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f\n", n / (b - a) }'; }

# `openssl s_time` MODE (new|reuse) against PORT with PROCS processes at once: connections per
# second of wall-clock time, summed. s_time's own "real seconds" are whole seconds, so the time
# is taken here, from the first start to the last end. Bash's `time` also gives the CPU time the
# s_time processes used (user + system, `timeout` included), which goes to $TMP/cpu.PORT.MODE.PROCS
# as "connections wall-seconds cpu-seconds", one line per run, for `where_time_goes`.
# s_time checks the chain against our CA and only it (it reports the result and goes on either
# way: s_time does not enforce its -verify). Without -CAfile the check fails, and without
# -no-CApath and -no-CAstore OpenSSL 3.0 searches the system's certificate directory on every
# connection (/etc/ssl/certs: 292 files on the development machine, about 170 us of s_time's CPU
# per full handshake): a cost of the client's setup, the same whichever server answers, that
# would make the figure depend on how many CA certificates the machine has installed.
m_s_time() { # port mode procs
    local i t0 t1 n=0 c cpu pids=()
    t0=$(now)
    cpu=$( { TIMEFORMAT='%3U %3S'; time {
        for i in $(seq 1 "$3"); do
            timeout "$RUN_TIMEOUT" openssl s_time -connect "127.0.0.1:$1" "-$2" \
                -time "$SECONDS_PER_RUN" -tls1_2 -cipher AES128-GCM-SHA256 \
                -CAfile "$CA" -no-CApath -no-CAstore \
                >"$TMP/s_time.$i" 2>&1 &
            pids+=($!)
        done
        for i in "${pids[@]}"; do wait "$i" || true; done
    }; } 2>&1 | awk '{ print $1 + $2 }')
    t1=$(now)
    for i in $(seq 1 "$3"); do
        c=$(awk '/connections in .* real seconds/ {print $1}' "$TMP/s_time.$i")
        if [ -z "$c" ]; then say "s_time failed:"; cat "$TMP/s_time.$i" >&2; echo 0; return; fi
        n=$((n + c))
    done
    awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$cpu" 'BEGIN { print n, b - a, c }' \
        >>"$TMP/cpu.$1.$2.$3"
    rate "$n" "$t0" "$t1"
}

# `toytls bench-client`, one connection at a time, full handshakes, no application data.
m_bench_client() { # port
    timeout "$RUN_TIMEOUT" "$TOYTLS" bench-client "127.0.0.1:$1" --ca "$CA" \
        --server-name localhost --connections 1 --duration "$SECONDS_PER_RUN" --bytes 0 \
        2>/dev/null | awk '/handshakes per second/ {print $(NF - 3)}'
}

# One connection fetching BULK_BYTES, in MB/s (10^6 bytes) of wall-clock time, process start
# and handshake included (a few milliseconds out of hundreds).
m_toytls_fetch() { # port suite [sink]
    local t0 t1
    t0=$(now)
    printf 'GET /bytes/%s HTTP/1.0\r\n\r\n' "$BULK_BYTES" |
        timeout "$RUN_TIMEOUT" "$TOYTLS" client "127.0.0.1:$1" --ca "$CA" \
            --server-name localhost --suites "$2" >"${3:-/dev/null}"
    t1=$(now)
    awk -v n="$BULK_BYTES" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", n / (b - a) / 1e6 }'
}
m_curl_fetch() { # port cipher path [sink]
    local t0 t1
    t0=$(now)
    timeout "$RUN_TIMEOUT" curl -sS --fail --cacert "$CA" --tls-max 1.2 --ciphers "$2" \
        --resolve "localhost:$1:127.0.0.1" -o "${4:-/dev/null}" "https://localhost:$1$3"
    t1=$(now)
    awk -v n="$BULK_BYTES" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f\n", n / (b - a) / 1e6 }'
}

# ---------------------------------------------------------------------------------------------
# Rows.

# median min max of the numbers on stdin
stats() {
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "0 0 0"; exit }
        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%s %s %s\n", m, v[1], v[NR]
    }'
}

# row LABEL UNIT "toytls command" "openssl command": ROUNDS turns of A then B.
row() {
    local label=$1 unit=$2 a=$3 b=$4 r va vb am amin amax bm bmin bmax
    : >"$TMP/a" && : >"$TMP/b"
    for r in $(seq 1 "$ROUNDS"); do
        va=$(eval "$a") && vb=$(eval "$b")
        echo "$va" >>"$TMP/a" && echo "$vb" >>"$TMP/b"
        say "  $label, round $r/$ROUNDS: toytls $va, OpenSSL $vb $unit (load $(cut -d' ' -f1 /proc/loadavg))"
    done
    read -r am amin amax < <(stats <"$TMP/a")
    read -r bm bmin bmax < <(stats <"$TMP/b")
    printf "| %s | %s (%s-%s) | %s (%s-%s) | %s |\n" "$label" \
        "$(fmt "$am") $unit" "$(fmt "$amin")" "$(fmt "$amax")" \
        "$(fmt "$bm") $unit" "$(fmt "$bmin")" "$(fmt "$bmax")" \
        "$(awk -v a="$am" -v b="$bm" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')"
}
# 12345.6 -> 12,346
fmt() {
    awk -v x="$1" 'BEGIN {
        s = sprintf("%.0f", x); r = ""
        while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) }
        print s r
    }'
}

group_handshakes() {
    row "full handshakes served (\`s_time -new\`, 1 process)" "/s" \
        "m_s_time $TOYTLS_PORT new 1" "m_s_time $OPENSSL_PORT new 1"
    row "resumed handshakes served (\`s_time -reuse\`, 1 process)" "/s" \
        "m_s_time $TOYTLS_PORT reuse 1" "m_s_time $OPENSSL_PORT reuse 1"
    row "full handshakes served, 4 \`s_time -new\` at once" "/s" \
        "m_s_time $TOYTLS_PORT new 4" "m_s_time $OPENSSL_PORT new 4"
    row "resumed handshakes served, 4 \`s_time -reuse\` at once" "/s" \
        "m_s_time $TOYTLS_PORT reuse 4" "m_s_time $OPENSSL_PORT reuse 4"
    # Kept apart from the client group's s_time runs, for `where_time_goes` at the end.
    # (No file when every s_time run failed: each row has said so already.)
    mkdir -p "$TMP/handshakes" && { mv "$TMP"/cpu.* "$TMP/handshakes/" 2>/dev/null || true; }
}

# The median over a file of `m_s_time` lines of an awk expression in n, wall, cpu and cores.
per_run() { # file expression
    [ -s "$1" ] || { echo 0; return; }
    awk -v cores="$(nproc)" "{ n = \$1; wall = \$2; cpu = \$3; print $2 }" "$1" | stats | cut -d' ' -f1
}

# What `s_time` did with each handshake's wall time, from the figures `m_s_time` kept: its own
# CPU time per handshake (building the hello, checking the certificate, encrypting the
# pre-master secret, its share of the kernel's TCP work) and, with one process, the rest: the
# time it sat waiting for the server, which is all the server can change (the rest also holds
# s_time's start, a few milliseconds of a run of seconds). With 4 processes, the
# share of the machine's cores the clients took. Medians over the rounds.
where_time_goes() {
    local mode label k v a b r what d=$TMP/handshakes
    echo
    echo "Where a handshake's time went, as \`s_time\` saw it (medians over the rounds; the ratio is"
    echo "how many times longer \`s_server\` kept it waiting):"
    echo
    echo "| what | toytls | OpenSSL | ratio |"
    echo "| --- | --- | --- | --- |"
    for mode in new reuse; do
        [ "$mode" = new ] && label=full || label=resumed
        [ -s "$d/cpu.$TOYTLS_PORT.$mode.1" ] || continue
        for k in cpu wait; do
            if [ $k = cpu ]; then
                v="1e6 * cpu / n"
                what="$label, 1 process: \`s_time\`'s own CPU time per handshake"
            else
                v="1e6 * (wall - cpu) / n"
                what="$label, 1 process: \`s_time\` waiting for the server, per handshake"
            fi
            a=$(per_run "$d/cpu.$TOYTLS_PORT.$mode.1" "$v")
            b=$(per_run "$d/cpu.$OPENSSL_PORT.$mode.1" "$v")
            r=""
            [ $k = wait ] && r=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.2fx", b / a; else print "-" }')
            printf "| %s | %s us | %s us | %s |\n" "$what" "$(fmt "$a")" "$(fmt "$b")" "$r"
        done
    done
    for mode in new reuse; do
        [ "$mode" = new ] && label=full || label=resumed
        [ -s "$d/cpu.$TOYTLS_PORT.$mode.4" ] || continue
        v="100 * cpu / (cores * wall)"
        a=$(per_run "$d/cpu.$TOYTLS_PORT.$mode.4" "$v")
        b=$(per_run "$d/cpu.$OPENSSL_PORT.$mode.4" "$v")
        printf "| %s | %.0f %% | %.0f %% | |\n" \
            "$label, 4 at once: the share of the $(nproc) cores the \`s_time\` processes took" "$a" "$b"
    done
}

group_client() {
    row "our client: full handshakes against \`s_server\` (vs \`s_time -new\`)" "/s" \
        "m_bench_client $OPENSSL_PORT" "m_s_time $OPENSSL_PORT new 1"
}

# Fetches once per configuration with the bytes hashed, against the file s_server serves.
check_bulk() {
    local want got
    want=$(sha256sum <"$TMP/www/big.bin" | cut -d' ' -f1)
    for suite in toy gcm; do
        got=$("$TOYTLS" client "127.0.0.1:$TOYTLS_PORT" --ca "$CA" --server-name localhost \
            --suites "$suite" < <(printf 'GET /bytes/%s HTTP/1.0\r\n\r\n' "$BULK_BYTES") |
            tail -c "$BULK_BYTES" | sha256sum | cut -d' ' -f1)
        [ "$got" = "$want" ] || { say "toytls client <- toytls server ($suite): wrong bytes"; exit 1; }
    done
    got=$(curl -sS --fail --cacert "$CA" --tls-max 1.2 --ciphers AES128-GCM-SHA256 \
        --resolve "localhost:$TOYTLS_PORT:127.0.0.1" "https://localhost:$TOYTLS_PORT/bytes/$BULK_BYTES" |
        sha256sum | cut -d' ' -f1)
    [ "$got" = "$want" ] || { say "curl <- toytls server: wrong bytes"; exit 1; }
    for c in AES128-SHA256 AES128-GCM-SHA256; do
        got=$(curl -sS --fail --cacert "$CA" --tls-max 1.2 --ciphers "$c" \
            --resolve "localhost:$OPENSSL_PORT:127.0.0.1" "https://localhost:$OPENSSL_PORT/big.bin" |
            sha256sum | cut -d' ' -f1)
        [ "$got" = "$want" ] || { say "curl <- s_server ($c): wrong bytes"; exit 1; }
    done
    say "  bulk: all five configurations delivered the same $BULK_MIB MiB (sha256 $want)"
}

group_bulk() {
    check_bulk
    row "one connection, $BULK_MIB MiB: our suite (\`toytls client\` <- \`toytls server\`) vs AES128-SHA256 (\`curl\` <- \`s_server -WWW\`)" "MB/s" \
        "m_toytls_fetch $TOYTLS_PORT toy" "m_curl_fetch $OPENSSL_PORT AES128-SHA256 /big.bin"
    row "one connection, $BULK_MIB MiB, AES-128-GCM: \`toytls client\` <- \`toytls server\` vs \`curl\` <- \`s_server\`" "MB/s" \
        "m_toytls_fetch $TOYTLS_PORT gcm" "m_curl_fetch $OPENSSL_PORT AES128-GCM-SHA256 /big.bin"
    row "one connection, $BULK_MIB MiB, AES-128-GCM: \`curl\` <- \`toytls server\` vs \`curl\` <- \`s_server\`" "MB/s" \
        "m_curl_fetch $TOYTLS_PORT AES128-GCM-SHA256 /bytes/$BULK_BYTES" \
        "m_curl_fetch $OPENSSL_PORT AES128-GCM-SHA256 /big.bin"
}

# RSA-2048: `examples/rsa_speed.rs` prints `sign N` and `verify N` (operations per second);
# `openssl speed` prints "rsa 2048 bits <s/sign> <s/verify> <sign/s> <verify/s>". Both in
# wall-clock time here, like every other row.
m_rsa_ours() { # sign|verify
    timeout "$RUN_TIMEOUT" "$RSA_SPEED" --elapsed "$SECONDS_PER_RUN" | awk -v k="$1" '$1 == k {print $2}'
}
m_rsa_openssl() { # sign|verify
    timeout "$RUN_TIMEOUT" openssl speed -elapsed -seconds "$SECONDS_PER_RUN" rsa2048 2>/dev/null |
        awk -v k="$1" '/^rsa 2048 bits/ { print (k == "sign") ? $6 : $7 }'
}
group_rsa() {
    if [ ! -f examples/rsa_speed.rs ]; then
        echo "| RSA-2048 rows | (need examples/rsa_speed.rs) | | |"
        return
    fi
    cargo build --release --quiet --example rsa_speed
    RSA_SPEED=$PWD/target/release/examples/rsa_speed
    row "RSA-2048 private op (sign; \`openssl speed rsa2048\`)" "/s" \
        "m_rsa_ours sign" "m_rsa_openssl sign"
    row "RSA-2048 public op (verify; \`openssl speed rsa2048\`)" "/s" \
        "m_rsa_ours verify" "m_rsa_openssl verify"
}

# ---------------------------------------------------------------------------------------------

echo "toytls $(git rev-parse --short HEAD 2>/dev/null || echo '?') vs $(openssl version | cut -d' ' -f1-2), $(curl --version | head -n 1 | cut -d' ' -f1-2)"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "$ROUNDS rounds per row, toytls and OpenSSL alternating; ${SECONDS_PER_RUN} s per handshake run; $BULK_MIB MiB per transfer"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| what (median, min-max) | toytls | OpenSSL | ratio |"
echo "| --- | --- | --- | --- |"
for g in "${GROUPS_WANTED[@]}"; do
    case $g in
        handshakes | client | bulk | rsa) "group_$g" ;;
        *) say "vs-openssl.sh: unknown group '$g' (handshakes, client, bulk, rsa)"; exit 2 ;;
    esac
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -d "$TMP/handshakes" ] && where_time_goes
