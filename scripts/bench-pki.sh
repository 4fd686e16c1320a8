#!/usr/bin/env bash
# CMS sign/verify rates on one core beside `openssl speed` on the same machine, in the same run
# (docs/PERFORMANCE.md, "Signatures"). Needs openssl and jq. Extra arguments go to criterion.
set -eu
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
bench_args=${*:---warm-up-time 1 --measurement-time 3}

cargo bench -p qyzmet-pki --bench signatures --no-run
# Measure only on an otherwise idle machine: wait for any compiler to finish.
while pgrep -x rustc >/dev/null; do echo "waiting for rustc to finish..." >&2; sleep 10; done

date -u '+%Y-%m-%d %H:%M UTC'; openssl version; nproc
speed=$(openssl speed -seconds 3 rsa2048 ecdsap256 2>/dev/null)
echo "$speed" | grep -E '^(rsa 2048|.*nistp256)'
# sign/s and verify/s are the last two columns of each line.
read -r ossl_rsa_sign ossl_rsa_verify <<<"$(echo "$speed" | awk '/^rsa 2048 bits/ {print $(NF-1), $NF}')"
read -r ossl_p256_sign ossl_p256_verify <<<"$(echo "$speed" | awk '/ecdsa \(nistp256\)/ {print $(NF-1), $NF}')"

# shellcheck disable=SC2086 # bench_args are separate words on purpose
cargo bench -p qyzmet-pki --bench signatures -- $bench_args

# Operations per second from criterion's estimate (slope when it has one, as criterion prints).
rate() {
    jq '1e9 / (if .slope then .slope.point_estimate else .mean.point_estimate end)' \
        "$target/criterion/signatures_$1/$2/new/estimates.json"
}
row() { # label, ours, openssl's
    awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN { printf "| %s | %.0f/s | %.0f/s | %.2f |\n", l, a, b, a / b }'
}
echo "| operation (1 core) | ours | openssl speed | ratio |"
echo "|---|---|---|---|"
for alg in rsa2048 p256; do
    if [ "$alg" = rsa2048 ]; then sign=$ossl_rsa_sign verify=$ossl_rsa_verify; else sign=$ossl_p256_sign verify=$ossl_p256_verify; fi
    row "$alg CMS verify (1 KiB, chain + CRLs cached)" "$(rate $alg cms_verify)" "$verify"
    row "$alg raw verify_signature" "$(rate $alg raw_verify)" "$verify"
    row "$alg CMS sign (1 KiB)" "$(rate $alg cms_sign)" "$sign"
    row "$alg raw PrivateKey::sign" "$(rate $alg raw_sign)" "$sign"
done
