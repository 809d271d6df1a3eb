#!/usr/bin/env bash
# RSA-2048 side by side with OpenSSL on this machine, in one run: `openssl speed rsa2048` and
# `examples/rsa_speed.rs` take turns (A B A B ...), and the table gives the median and the
# range (min-max) of each figure over the rounds, and the ratio of the medians.
#
#   benches/vs-openssl-rsa.sh [ROUNDS [SECONDS]]      (defaults: 5 rounds of 2 s per figure)
#   ELAPSED=1 benches/vs-openssl-rsa.sh ...           (wall-clock instead of CPU time)
#   PORTABLE_ONLY=1 benches/vs-openssl-rsa.sh ...     (also the portable-only build, as on ARM)
#
# Both sides count operations per second of the CPU time they were given, which is what
# `openssl speed` does by default: on a shared machine the time other processes take does not
# count against either. ELAPSED=1 switches both to wall-clock time (`openssl speed -elapsed`),
# the right measure on a quiet machine. Either way, quote the load average it prints. A tool for
# people, not a CI gate.
#
# Rows:
#   private op   toytls sign_pkcs1v15_sha256 (blinded CRT + fault check + SHA-256) vs OpenSSL's
#                `sign` (RSA_sign of a digest, also blinded CRT + check): operations per second
#   public op    toytls verify_pkcs1v15_sha256 vs OpenSSL's `verify`
#   portable     the same with toytls forced onto its portable backend, against OpenSSL and
#                against num-bigint's modpow + CRT measured in the same rounds (on x86-64 with
#                BMI2 the portable 1024-bit code runs its BMI2 compile, see src/crypto/rsa/mont1024.rs;
#                PORTABLE_ONLY=1 adds the build without it, the code an ARM machine runs)
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-5}
seconds=${2:-2}

command -v openssl >/dev/null || { echo "openssl not found" >&2; exit 1; }
cargo build --release --quiet --example rsa_speed
ours=target/release/examples/rsa_speed
if [ "${PORTABLE_ONLY:-0}" = 1 ]; then
    # A separate target directory, so the two builds do not overwrite each other's example.
    cargo build --release --quiet --features portable-only --example rsa_speed \
        --target-dir target/portable-only
    ours_portable_only=target/portable-only/release/examples/rsa_speed
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "$(openssl version); toytls backend: $("$ours" --elapsed 0.01 | awk '$1 == "backend" {print $2}')"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$rounds rounds, $seconds s per figure, OpenSSL and toytls alternating"

openssl_flags=() ours_flags=() clock="CPU time"
if [ "${ELAPSED:-0}" = 1 ]; then
    openssl_flags=(-elapsed) ours_flags=(--elapsed) clock="wall-clock time"
fi
echo "measuring operations per second of $clock"

for r in $(seq 1 "$rounds"); do
    # OpenSSL: the last line is "rsa 2048 bits <s/sign> <s/verify> <sign/s> <verify/s>".
    openssl speed "${openssl_flags[@]}" -seconds "$seconds" rsa2048 2>/dev/null |
        awk '/^rsa 2048 bits/ {print "openssl-sign", $6; print "openssl-verify", $7}' >>"$tmp/all"
    "$ours" "${ours_flags[@]}" "$seconds" | grep -v '^backend' >>"$tmp/all"
    if [ -n "${ours_portable_only:-}" ]; then
        "$ours_portable_only" "${ours_flags[@]}" "$seconds" |
            awk '$1 == "sign-portable" {print "sign-portable-only", $2}' >>"$tmp/all"
    fi
    echo "  round $r/$rounds done (load $(cut -d' ' -f1 /proc/loadavg))" >&2
done

# median min max of one figure
stats() {
    awk -v k="$1" '$1 == k {print $2}' "$tmp/all" | sort -g |
        awk '{v[NR] = $1} END {
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%.0f %.0f %.0f\n", m, v[1], v[NR]
        }'
}

row() { # label ours theirs
    read -r om omin omax < <(stats "$2")
    read -r tm tmin tmax < <(stats "$3")
    printf "| %-34s | %8s/s (%s-%s) | %8s/s (%s-%s) | %5.2fx |\n" "$1" "$om" "$omin" "$omax" \
        "$tm" "$tmin" "$tmax" "$(awk -v a="$om" -v b="$tm" 'BEGIN {print a / b}')"
}

echo
echo "| RSA-2048, median (min-max) | toytls | baseline | toytls / baseline |"
echo "| --- | --- | --- | --- |"
row "private op (sign) vs OpenSSL" sign openssl-sign
row "public op (verify) vs OpenSSL" verify openssl-verify
row "private op, portable vs OpenSSL" sign-portable openssl-sign
row "public op, portable vs OpenSSL" verify-portable openssl-verify
row "private op, portable vs num-bigint" sign-portable numbigint-crt
if [ -n "${ours_portable_only:-}" ]; then
    row "portable-only build vs num-bigint" sign-portable-only numbigint-crt
fi
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
