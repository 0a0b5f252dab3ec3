#!/bin/sh
# DEV ONLY: generates a throw-away CA, a server certificate (localhost, 127.0.0.1, ::1) and a client
# certificate, all ECDSA P-256 with 10-year validity. Never use these in production: the keys are
# committed to git. Usage: certs/make-dev-certs.sh [output-dir]   (default: the folder of this script)
set -eu
OUT="${1:-$(cd "$(dirname "$0")" && pwd)}"
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
DAYS=3650

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# CA
key "$OUT/dev-ca-key.pem"
openssl req -x509 -new -key "$OUT/dev-ca-key.pem" -sha256 -days $DAYS \
    -subj "/O=Herald DEV ONLY/CN=Herald Dev CA (DO NOT TRUST)" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$OUT/dev-ca.pem"

# Server leaf
key "$OUT/dev-server-key.pem"
openssl req -new -key "$OUT/dev-server-key.pem" -subj "/O=Herald DEV ONLY/CN=localhost" -out "$TMP/server.csr"
cat > "$TMP/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
EXT
openssl x509 -req -in "$TMP/server.csr" -CA "$OUT/dev-ca.pem" -CAkey "$OUT/dev-ca-key.pem" \
    -CAcreateserial -CAserial "$TMP/ca.srl" -days $DAYS -sha256 -extfile "$TMP/server.ext" \
    -out "$OUT/dev-server.pem" 2>/dev/null

# Client leaf
key "$OUT/dev-client-key.pem"
openssl req -new -key "$OUT/dev-client-key.pem" -subj "/O=Herald DEV ONLY/CN=dev-client" -out "$TMP/client.csr"
cat > "$TMP/client.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
EXT
openssl x509 -req -in "$TMP/client.csr" -CA "$OUT/dev-ca.pem" -CAkey "$OUT/dev-ca-key.pem" \
    -CAserial "$TMP/ca.srl" -days $DAYS -sha256 -extfile "$TMP/client.ext" \
    -out "$OUT/dev-client.pem" 2>/dev/null

chmod 600 "$OUT"/*-key.pem
openssl verify -CAfile "$OUT/dev-ca.pem" -purpose sslserver -verify_hostname localhost "$OUT/dev-server.pem" >/dev/null
openssl verify -CAfile "$OUT/dev-ca.pem" -purpose sslclient "$OUT/dev-client.pem" >/dev/null
echo "dev certificates written to $OUT (DEV ONLY)"
