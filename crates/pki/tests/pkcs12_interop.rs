//! Key stores from elsewhere: the NCA's test packs (KalkanCrypt: BER, SHA-1 MAC, 3DES key bag, RC2-40
//! certificate safe) and what OpenSSL 3 writes with each cipher and MAC it offers.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions unwrap too

mod support;

use jiff::Timestamp;
use qyzmet_pki::algorithm::verify_signature;
use qyzmet_pki::authority::Profile;
use qyzmet_pki::pkcs12::KeyStore;
use qyzmet_pki::{KeyAlgorithm, PkiError, PrivateKey};
use support::*;

const NCA_P12: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/nca-test/p12");

#[test]
fn every_nca_test_key_store_opens_with_its_key_and_certificate() {
    let mut files: Vec<_> = std::fs::read_dir(NCA_P12)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "p12"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 12);
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let store = KeyStore::from_pkcs12(&bytes, "Qwerty12")
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let spki = &store.certificate.tbs_certificate.subject_public_key_info;
        assert_eq!(
            &store.key.public_key_info().unwrap(),
            spki,
            "{}",
            path.display()
        );
        assert_eq!(store.key.algorithm(), KeyAlgorithm::Gost2015);
        // One certificate, no CA certificates in the NCA's packs (FACTS.md §3).
        assert!(store.chain.is_empty());
        // The key signs what the certificate's key verifies.
        let message = b"qyzmet pkcs12 interop";
        let signature = store.key.sign(message).unwrap();
        verify_signature(
            spki,
            &store.key.signature_algorithm(),
            None,
            message,
            &signature,
        )
        .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));

        assert!(
            matches!(
                KeyStore::from_pkcs12(&bytes, "Qwerty21"),
                Err(PkiError::WrongPassword)
            ),
            "{}",
            path.display()
        );
    }
}

/// OpenSSL 3's `pkcs12 -export` with the given key and certificate encryption and MAC digest.
fn openssl_export(dir: &std::path::Path, key_pbe: &str, cert_pbe: &str, mac: &str) -> Vec<u8> {
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let out = p(&format!("{key_pbe}-{cert_pbe}-{mac}.p12"));
    let args = [
        "pkcs12",
        "-export",
        "-legacy",
        "-inkey",
        &p("key.pem"),
        "-passin",
        "pass:pw",
        "-in",
        &p("cert.pem"),
        "-certfile",
        &p("chain.pem"),
        "-keypbe",
        key_pbe,
        "-certpbe",
        cert_pbe,
        "-macalg",
        mac,
        "-passout",
        "pass:Сәлем",
        "-out",
        &out,
    ];
    assert_ok(&openssl(&args), &format!("openssl pkcs12 -export {args:?}"));
    std::fs::read(out).unwrap()
}

#[test]
fn openssl_key_stores_open_with_every_cipher_and_mac() {
    for algorithm in KeyAlgorithm::ALL {
        let h = hierarchy(algorithm);
        let dir = tempfile::tempdir().unwrap();
        let key = PrivateKey::generate(algorithm).unwrap();
        let certificate = issue(
            &h.nca,
            &holder(3, false),
            Profile::Signing { role: None },
            &key,
            Timestamp::now(),
        );
        std::fs::write(
            dir.path().join("key.pem"),
            key.to_encrypted_pem(b"pw").unwrap(),
        )
        .unwrap();
        write_pem(&dir.path().join("cert.pem"), &[&certificate]);
        // The chain as a CA bundle would list it, root first: the reader orders it upwards.
        write_pem(
            &dir.path().join("chain.pem"),
            &[&h.root.certificate, &h.nca.certificate],
        );
        for (key_pbe, cert_pbe, mac) in [
            ("PBE-SHA1-3DES", "PBE-SHA1-RC2-40", "sha1"),
            ("PBE-SHA1-RC2-128", "PBE-SHA1-3DES", "sha256"),
            ("PBE-SHA1-RC2-40", "PBE-SHA1-RC2-128", "sha384"),
            ("AES-256-CBC", "AES-128-CBC", "sha512"),
        ] {
            let bytes = openssl_export(dir.path(), key_pbe, cert_pbe, mac);
            let what = format!("{algorithm} {key_pbe} {cert_pbe} {mac}");
            // The password is non-ASCII: it must be BMP-encoded for the PKCS#12 KDF (RFC 7292 B.1)
            // and UTF-8 for PBKDF2, as OpenSSL does.
            let store =
                KeyStore::from_pkcs12(&bytes, "Сәлем").unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(store.certificate, certificate, "{what}");
            assert_eq!(
                store.key.public_key_info().unwrap(),
                key.public_key_info().unwrap(),
                "{what}"
            );
            assert_eq!(
                store.chain,
                [h.nca.certificate.clone(), h.root.certificate.clone()],
                "{what}"
            );
            assert!(
                matches!(
                    KeyStore::from_pkcs12(&bytes, "Салем"),
                    Err(PkiError::WrongPassword)
                ),
                "{what}"
            );
        }
    }
}

#[test]
fn our_key_stores_still_open() {
    let h = hierarchy(KeyAlgorithm::EcdsaP256);
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let certificate = issue(
        &h.nca,
        &holder(4, false),
        Profile::Signing { role: None },
        &key,
        Timestamp::now(),
    );
    let store = KeyStore {
        key,
        certificate,
        chain: h.nca.chain_from_here(),
    };
    let bytes = store.to_pkcs12("pw", "signing").unwrap();
    let read = KeyStore::from_pkcs12(&bytes, "pw").unwrap();
    assert_eq!(read.certificate, store.certificate);
    assert_eq!(read.chain, store.chain);
    assert!(matches!(
        KeyStore::from_pkcs12(&bytes, "wp"),
        Err(PkiError::WrongPassword)
    ));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Any byte of a KalkanCrypt file changed, or the file cut short: an error, never a panic, and never
    /// a key store (the MAC covers the safes; the rest is structure).
    #[test]
    fn a_damaged_nca_key_store_is_refused(at in 0usize..1915, value in proptest::prelude::any::<u8>(), cut in proptest::prelude::any::<bool>()) {
        let original = std::fs::read(format!("{NCA_P12}/legal_valid_head.p12")).unwrap();
        let at = at % original.len();
        let damaged = if cut {
            original[..at].to_vec()
        } else {
            let mut damaged = original.clone();
            proptest::prop_assume!(damaged[at] != value);
            damaged[at] = value;
            damaged
        };
        proptest::prop_assert!(KeyStore::from_pkcs12(&damaged, "Qwerty12").is_err());
    }
}
