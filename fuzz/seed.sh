#!/usr/bin/env bash
# Writes the fuzz targets' seed inputs into fuzz/seeds/<target>/ (committed, so that a fuzz run starts
# from inputs that reach deep into each parser): a CA hierarchy from `qyzmet pki init`, an individual's
# signing key, an attached and a detached CMS over an application document, a signature with a
# time-stamp, certificates, CRLs, OCSP and time-stamp requests and answers (OpenSSL as the client)
# and identifiers. The regulation and calendar targets start from the shipped files themselves. Run it from the repository root after
# a change to what the parsers accept; it needs `openssl`.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --quiet --bin qyzmet
qyzmet="${CARGO_TARGET_DIR:-target}/debug/qyzmet"
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
seeds=fuzz/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{signed_document,certificate,crl,ocsp_request,ocsp_response,timestamp_request,timestamp_response,identifiers}

port=18590
url="http://127.0.0.1:$port"
echo "seed-passphrase" > "$work/passphrase"
echo "seed-password" > "$work/password"
"$qyzmet" pki init --data "$work/data" --passphrase-file "$work/passphrase" --public-url "$url" >/dev/null
"$qyzmet" pki issue --data "$work/data" --passphrase-file "$work/passphrase" --public-url "$url" \
    --iin 900101400003 --surname "Төлеуов" --name "Ерғали" \
    --p12-out "$work/signer.p12" --p12-password-file "$work/password" >/dev/null
for ca in root nca gov; do
    "$qyzmet" pki certificate "$ca" --data "$work/data" -o "$work/$ca.pem"
    openssl x509 -in "$work/$ca.pem" -outform DER -out "$seeds/certificate/$ca.der"
    "$qyzmet" pki crl --ca "$ca" --data "$work/data" --passphrase-file "$work/passphrase" -o "$work/$ca.crl"
    openssl crl -in "$work/$ca.crl" -inform PEM -outform DER -out "$seeds/crl/$ca.crl" 2>/dev/null \
        || cp "$work/$ca.crl" "$seeds/crl/$ca.crl"
done
openssl pkcs12 -in "$work/signer.p12" -passin file:"$work/password" -clcerts -nokeys -out "$work/signer.pem"
openssl x509 -in "$work/signer.pem" -outform DER -out "$seeds/certificate/signer.der"
cp "$work/signer.pem" "$seeds/certificate/signer.pem"

# The application document as the portal signs it.
cat > "$work/document.json" <<'JSON'
{"service":"appeal","channel":"portal","recipient":"individual","applicant":"900101400003","request_id":"seed","form":{"content":"Көше шамдарын жөндеуді сұраймын.","postal_address":"Қызылорда қ., Әйтеке би к-сі, 1"}}
JSON
cp "$work/document.json" "$seeds/document.json"
"$qyzmet" sign --p12 "$work/signer.p12" --password-file "$work/password" -o "$seeds/signed_document/attached.p7s" "$work/document.json"
"$qyzmet" sign --p12 "$work/signer.p12" --password-file "$work/password" --detached -o "$seeds/signed_document/detached.p7s" "$work/document.json"

# A running node answers OCSP and stamps time; OpenSSL is the client.
QYZMET_CA_PASSPHRASE=seed-passphrase "$qyzmet" serve --data "$work/data" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
"$qyzmet" sign --p12 "$work/signer.p12" --password-file "$work/password" --tsa "$url/pki/tsa" -o "$seeds/signed_document/time-stamped.p7s" "$work/document.json"
openssl ocsp -issuer "$work/nca.pem" -cert "$work/signer.pem" -url "$url/pki/ocsp" -reqout "$seeds/ocsp_request/nonce.der" \
    -respout "$seeds/ocsp_response/good.der" -noverify >/dev/null 2>&1
openssl ocsp -issuer "$work/nca.pem" -cert "$work/signer.pem" -no_nonce -reqout "$seeds/ocsp_request/no-nonce.der" >/dev/null 2>&1 || true
openssl ts -query -data "$work/document.json" -sha256 -cert -out "$seeds/timestamp_request/cert-req.tsq"
openssl ts -query -data "$work/document.json" -sha512 -no_nonce -out "$seeds/timestamp_request/sha512.tsq"
curl -fs -H 'Content-Type: application/timestamp-query' --data-binary @"$seeds/timestamp_request/cert-req.tsq" \
    "$url/pki/tsa" -o "$seeds/timestamp_response/granted.tsr"

printf '900101400003' > "$seeds/identifiers/iin"
printf '100140000003' > "$seeds/identifiers/bin"
printf ' 9001014000O3\n' > "$seeds/identifiers/letter"
date -u +%Y-%m-%dT%H:%M:%SZ > "$seeds/generated-at"
find "$seeds" -type f | sort
