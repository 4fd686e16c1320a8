//! The two curves Kalkan signs on, with the constants of their standards (FACTS.md §2.1–2.2, checked
//! against PyPI `gostcrypto` 1.2.5's tables): both have a = p − 3 and cofactor 1, so every point on the
//! curve other than infinity is in the group of order q.

use std::sync::OnceLock;

use crypto_bigint::{U256, U512, impl_modulus};

use super::field::{Fp, PseudoMersenne};
use super::point::{Affine, Curve};

/// p = 2^256 − 617 (`FF…FD97`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct P2004;

impl PseudoMersenne<4> for P2004 {
    const C: u64 = 617;
}

impl_modulus!(
    Q2004,
    U256,
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF6C611070995AD10045841B09B761B893"
);
/// p = 2^512 − 569 (`FF…FDC7`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct P2015;

impl PseudoMersenne<8> for P2015 {
    const C: u64 = 569;
}

impl_modulus!(
    Q2015,
    U512,
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\
     27E69532F48D89116FF22B8D4E0560609B4B38ABFAD2B85DCACDB1411F10B275"
);

/// GOST 34.310-2004 as Kalkan uses it (`1.2.398.3.10.1.1.1.1.1`): id-GostR3410-2001-CryptoPro-A-ParamSet
/// (RFC 4357 §11.4), the same curve as TC26's id-tc26-gost-3410-2012-256-paramSetB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CryptoProA;

impl Curve<4> for CryptoProA {
    type P = P2004;
    type Q = Q2004;
    const B: Fp<P2004, 4> = Fp::new(&U256::from_u64(0xA6));
    const G: Affine<Self, 4> = Affine {
        x: Fp::new(&U256::ONE),
        y: Fp::new(&U256::from_be_hex(
            "8D91E471E0989CDA27DF505A453F2B7635294F2DDF23E3B122ACC99C9E9F1E14",
        )),
    };

    fn g_table() -> &'static [Affine<Self, 4>] {
        static TABLE: OnceLock<Vec<Affine<CryptoProA, 4>>> = OnceLock::new();
        TABLE.get_or_init(super::point::odd_multiples_of_g)
    }
}

/// GOST R 34.10-2015 with 512-bit keys as Kalkan uses it (`1.2.398.3.10.1.1.2.2.1`):
/// id-tc26-gost-3410-12-512-paramSetA (RFC 7836 Appendix A.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tc26A512;

impl Curve<8> for Tc26A512 {
    type P = P2015;
    type Q = Q2015;
    const B: Fp<P2015, 8> = Fp::new(&U512::from_be_hex(
        "E8C2505DEDFC86DDC1BD0B2B6667F1DA34B82574761CB0E879BD081CFD0B6265\
         EE3CB090F30D27614CB4574010DA90DD862EF9D4EBEE4761503190785A71C760",
    ));
    const G: Affine<Self, 8> = Affine {
        x: Fp::new(&U512::from_u64(3)),
        y: Fp::new(&U512::from_be_hex(
            "7503CFE87A836AE3A61B8816E25450E6CE5E1C93ACF1ABC1778064FDCBEFA921\
             DF1626BE4FD036E93D75E6A50E3A41E98028FE5FC235F5B889A589CB5215F2A4",
        )),
    };

    fn g_table() -> &'static [Affine<Self, 8>] {
        static TABLE: OnceLock<Vec<Affine<Tc26A512, 8>>> = OnceLock::new();
        TABLE.get_or_init(super::point::odd_multiples_of_g)
    }
}
