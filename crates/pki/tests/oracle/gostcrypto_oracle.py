"""An independent GOST R 34.10 implementation (PyPI gostcrypto 1.2.5) as the oracle of crates/pki/tests/gost.rs.

gostcrypto speaks the RFC convention of the standard's text: public key X||Y and signature r||s with every
half big-endian, e read big-endian from the digest. Kalkan (and our code) write every half little-endian and
read e little-endian (testdata/nca-test/FACTS.md section 2). This script converts between the two, so
that a byte-order mistake on either side shows up as a failure.

Usage (all values hex, in Kalkan's layout):
  verify SET PUBLIC DIGEST SIGNATURE  -> prints "valid" or "invalid"
  sign SET DIGEST                     -> prints "PUBLIC SIGNATURE" for a fresh key
  streebog512 MESSAGE                 -> prints the digest (gostcrypto's Streebog, as output)
SET is gost2004 (CryptoPro-A = TC26 256 paramSetB) or gost2015 (TC26 512 paramSetA).
"""

import os
import sys

import gostcrypto
from gostcrypto import gostsignature

CURVES = {
    "gost2004": (gostsignature.MODE_256, "id-tc26-gost-3410-2012-256-paramSetB", 32),
    "gost2015": (gostsignature.MODE_512, "id-tc26-gost-3410-12-512-paramSetA", 64),
}


def halves_reversed(data, size):
    """Kalkan's layout to the RFC layout and back: each size-byte half reversed in place."""
    if len(data) != 2 * size:
        raise SystemExit(f"expected {2 * size} bytes, got {len(data)}")
    return bytearray(data[:size][::-1] + data[size:][::-1])


def signer(name):
    mode, curve, size = CURVES[name]
    return gostsignature.new(mode, gostsignature.CURVES_R_1323565_1_024_2019[curve]), curve, size


def main(argv):
    command = argv[1]
    if command == "streebog512":
        hasher = gostcrypto.gosthash.new("streebog512", data=bytearray.fromhex(argv[2]))
        print(hasher.hexdigest())
        return 0
    sign_obj, curve, size = signer(argv[2])
    if command == "verify":
        public = halves_reversed(bytes.fromhex(argv[3]), size)
        digest = bytearray(bytes.fromhex(argv[4])[::-1])
        signature = halves_reversed(bytes.fromhex(argv[5]), size)
        print("valid" if sign_obj.verify(public, digest, signature) else "invalid")
        return 0
    if command == "sign":
        digest = bytearray(bytes.fromhex(argv[3])[::-1])
        q = gostsignature.CURVES_R_1323565_1_024_2019[curve]["q"]
        while True:
            private = bytearray(os.urandom(size))
            if 0 < int.from_bytes(private, "big") < q:
                break
        public = sign_obj.public_key_generate(bytearray(private))
        signature = sign_obj.sign(bytearray(private), digest)
        print(halves_reversed(public, size).hex(), halves_reversed(signature, size).hex())
        return 0
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
