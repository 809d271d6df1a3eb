#!/usr/bin/env bash
# Writes the seed corpus of the `x509` fuzz target with the openssl CLI (OpenSSL 3), so the corpus
# holds certificates that toytls did not make itself. Keys and serials are random, so the bytes
# differ on every run; the kinds of certificate do not:
#   ca.der/.pem           self-signed RSA CA (v3: basicConstraints, keyUsage, key identifiers)
#   leaf.der/.pem         RSA server certificate from that CA (subjectAltName DNS + IP, EKU serverAuth)
#   chain.pem             leaf then CA, as a server's chain file
#   leaf_text.pem         `openssl x509 -text` output: a readable dump before the PEM block
#   far_future.der        valid past 2049, so its notAfter is a GeneralizedTime (RFC 5280 4.1.2.5)
#   ec.der                an ECDSA P-256 certificate (toytls refuses it: RSA only)
#   ca_pubkey.pem         a PUBLIC KEY block (a label parse_certificates skips)
#   key_pkcs8.der/.pem    a throwaway 1024-bit RSA key (made for the corpus, protects nothing) as
#   key_pkcs1.der/.pem    PKCS #8 and PKCS #1
# Then run `cargo run --example fuzz_corpus -- fuzz/corpus`: the handshake corpus embeds leaf + CA.
set -euo pipefail
out="${1:-$(dirname "$0")/corpus/x509}"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/ca.key" -days 3650 -sha256 \
  -subj "/CN=toytls fuzz CA/O=toytls" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -outform DER -out "$out/ca.der" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$tmp/leaf.key" -subj "/CN=localhost/O=toytls" \
  -out "$tmp/leaf.csr" 2>/dev/null
cat > "$tmp/leaf.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:*.example.com,IP:127.0.0.1,IP:::1
EXT
openssl x509 -req -in "$tmp/leaf.csr" -CA "$out/ca.der" -CAform DER -CAkey "$tmp/ca.key" \
  -CAcreateserial -CAserial "$tmp/ca.srl" -days 365 -sha256 -extfile "$tmp/leaf.ext" -outform DER -out "$out/leaf.der" 2>/dev/null
openssl req -x509 -newkey rsa:1024 -nodes -keyout "$tmp/far.key" -days 10000 -sha256 \
  -subj "/C=XX/ST=Nowhere/L=Here/O=toytls/OU=fuzz/CN=far.example" \
  -outform DER -out "$out/far_future.der" 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/ec.key" \
  -days 365 -subj "/CN=ec.example" -outform DER -out "$out/ec.der" 2>/dev/null

for c in ca leaf; do openssl x509 -inform DER -in "$out/$c.der" -out "$out/$c.pem"; done
cat "$out/leaf.pem" "$out/ca.pem" > "$out/chain.pem"
openssl x509 -inform DER -in "$out/leaf.der" -text > "$out/leaf_text.pem"
openssl pkey -in "$tmp/ca.key" -pubout -out "$out/ca_pubkey.pem"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$out/key_pkcs8.pem" 2>/dev/null
openssl pkey -in "$out/key_pkcs8.pem" -outform DER -out "$out/key_pkcs8.der"
openssl rsa -in "$out/key_pkcs8.pem" -traditional -out "$out/key_pkcs1.pem" 2>/dev/null
openssl rsa -in "$out/key_pkcs8.pem" -traditional -outform DER -out "$out/key_pkcs1.der" 2>/dev/null
ls -l "$out"
