//! One GOST verification of each kind, for instruction counts (docs: the GOST part of
//! crates/pki/benches/signatures.rs):
//!
//! ```text
//! cargo build --release -p qyzmet-pki --example gost_verify_once
//! valgrind --tool=callgrind --toggle-collect='*verify_signature*' \
//!     target/release/examples/gost_verify_once [gost2004|gost2015]
//! ```
//!
//! Each key first verifies once outside `verify_signature` (building the base point's table, a
//! one-time cost), so the counted calls are one steady-state verification of a 32-byte message per
//! algorithm: key decoding, the digest, the curve arithmetic.

use qyzmet_pki::algorithm::verify_signature;
use qyzmet_pki::{KeyAlgorithm, PkiError, PrivateKey};

fn main() -> Result<(), PkiError> {
    let message = [0x5au8; 32];
    let only = std::env::args().nth(1);
    for algorithm in KeyAlgorithm::GOST
        .into_iter()
        .filter(|a| only.as_deref().is_none_or(|code| code == a.code()))
    {
        let key = PrivateKey::generate(algorithm)?;
        let spki = key.public_key_info()?;
        let signature = key.sign(&message)?;
        let public = qyzmet_pki::gost::PublicKey::from_spki(&spki)?;
        public.verify(&message, &signature)?;
        let verdict = verify_signature(
            &spki,
            &key.signature_algorithm(),
            None,
            &message,
            &signature,
        );
        println!("{algorithm}: {verdict:?}");
    }
    Ok(())
}
