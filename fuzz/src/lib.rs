//! What the fuzz targets share: the seeds' trust anchors, CRLs, document and moment (`fuzz/seeds/`,
//! written by `fuzz/seed.sh`), so that a mutated seed is judged as the platform judges a real one, and
//! an OCSP responder and a TSA made at start-up for the targets that play the server.

use std::sync::{Arc, LazyLock};

use const_oid::db::rfc4519::{COMMON_NAME, COUNTRY_NAME};
use der::Decode;
use jiff::Timestamp;
use qyzmet_pki::authority::{Authority, Endpoints, Issue, Profile};
use qyzmet_pki::name::simple_name;
use qyzmet_pki::ocsp::Responder;
use qyzmet_pki::revocation::CrlSet;
use qyzmet_pki::tsp::TimeStampAuthority;
use qyzmet_pki::verify::Verifier;
use qyzmet_pki::{KeyAlgorithm, PrivateKey};
use x509_cert::Certificate;

pub struct Fixtures {
    /// When the seeds were made: their certificates are valid and their CRLs fresh then.
    pub at: Timestamp,
    pub root: Certificate,
    pub nca: Certificate,
    pub gov: Certificate,
    pub signer: Certificate,
    /// The application document the seed signatures sign.
    pub document: &'static [u8],
    /// Trusts the seeds' root, with their CRLs.
    pub verifier: Verifier,
}

fn certificate(der: &[u8]) -> Certificate {
    Certificate::from_der(der).expect("a seed certificate")
}

pub static FIXTURES: LazyLock<Fixtures> = LazyLock::new(|| {
    let root = certificate(include_bytes!("../seeds/certificate/root.der"));
    let crls = vec![
        include_bytes!("../seeds/crl/root.crl").to_vec(),
        include_bytes!("../seeds/crl/nca.crl").to_vec(),
        include_bytes!("../seeds/crl/gov.crl").to_vec(),
    ];
    Fixtures {
        at: include_str!("../seeds/generated-at")
            .trim()
            .parse()
            .expect("an RFC 3339 moment"),
        verifier: Verifier::new(vec![root.clone()], Arc::new(CrlSet::new(crls))),
        root,
        nca: certificate(include_bytes!("../seeds/certificate/nca.der")),
        gov: certificate(include_bytes!("../seeds/certificate/gov.der")),
        signer: certificate(include_bytes!("../seeds/certificate/signer.der")),
        document: include_bytes!("../seeds/document.json"),
    }
});

/// A CA of its own with an OCSP responder and a TSA under it, as a `serve` node holds them.
pub struct Services {
    pub ca: Authority,
    pub responder: Responder,
    pub tsa: TimeStampAuthority,
}

pub static SERVICES: LazyLock<Services> = LazyLock::new(|| {
    let endpoints = Endpoints {
        base_url: "http://127.0.0.1:9".into(),
    };
    let now = Timestamp::now();
    let name = |cn: &str| simple_name(&[(COMMON_NAME, cn), (COUNTRY_NAME, "KZ")]).expect("a name");
    let key = || PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("a key");
    let ca =
        Authority::create_root("root", name("Fuzz Root"), key(), &endpoints, now).expect("a root");
    let service = |cn: &str, profile: Profile| {
        let key = key();
        let certificate = ca
            .issue(
                &Issue {
                    subject: name(cn),
                    public_key: key.public_key_info().expect("a public key"),
                    profile,
                    not_before: now,
                },
                &endpoints,
            )
            .expect("a service certificate");
        (certificate, key)
    };
    let (certificate, key) = service("Fuzz OCSP", Profile::OcspResponder);
    let responder = Responder { certificate, key };
    let (certificate, key) = service("Fuzz TSA", Profile::TimeStamping);
    let tsa = TimeStampAuthority {
        certificate,
        key,
        chain: ca.chain_from_here(),
        policy: const_oid::ObjectIdentifier::new_unwrap("1.2.398.3.3.2.6.1"),
    };
    Services { ca, responder, tsa }
});

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::FIXTURES;
    use qyzmet_pki::verify::Expectation;

    /// The signed seeds are judged valid at their moment, so that the fuzzer starts from inputs
    /// that pass every check and mutates its way out of each one.
    #[test]
    fn the_signed_seeds_are_valid() {
        let f = &*FIXTURES;
        for (seed, detached) in [
            (
                &include_bytes!("../seeds/signed_document/attached.p7s")[..],
                None,
            ),
            (
                &include_bytes!("../seeds/signed_document/detached.p7s")[..],
                Some(f.document),
            ),
            (
                &include_bytes!("../seeds/signed_document/time-stamped.p7s")[..],
                None,
            ),
        ] {
            let report = f
                .verifier
                .verify(seed, detached, &Expectation::default(), f.at);
            assert!(report.valid, "{:?}", report.codes());
        }
    }
}
