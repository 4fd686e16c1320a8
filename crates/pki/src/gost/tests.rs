use crypto_bigint::modular::constant_mod::Residue;
use crypto_bigint::{NonZero, U256, U512, impl_modulus};
use proptest::prelude::*;

use super::field::Fp;
use super::point::{Jacobian, double_mul, mul_ct, wnaf};
use super::*;

#[test]
fn gost34311_test_sbox_vectors() {
    // GOST R 34.11-94 with the test parameter set: FACTS.md §2.4, and the examples the standard's
    // literature gives for the same parameters.
    assert_eq!(
        hex::encode(gost34311(b"abc")),
        "f3134348c44fb1b2a277729e2285ebb5cb5e0f29c975bc753b70497c06a4d51d"
    );
    assert_eq!(
        hex::encode(gost34311(b"")),
        "ce85b99cc46752fffee35cab9a7b0278abb4c2d2055cff685af4912c49490f8d"
    );
    assert_eq!(
        hex::encode(gost34311(b"The quick brown fox jumps over the lazy dog")),
        "77b7fa410c9ac58a25f49bca7d0468c9296529315eaca76bd1a10f376d1f4294"
    );
    // The CryptoPro S-box gives another digest of "abc" (b285056d…): the wrong variant for Kalkan.
    assert!(!hex::encode(gost34311(b"abc")).starts_with("b285056d"));
}

#[test]
fn streebog512_vectors() {
    // GOST R 34.11-2012 Appendix A, example 1 (M1, 63 bytes), and the empty message.
    assert_eq!(
        hex::encode(streebog512(
            b"012345678901234567890123456789012345678901234567890123456789012"
        )),
        "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa\
         00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48"
    );
    assert_eq!(
        hex::encode(streebog512(b"")),
        "8e945da209aa869f0455928529bcae4679e9873ab707b55315f56ceb98bef0a7\
         362f715528356ee83cda5f2aac4c6ad2ba3a715c1bcd81cb8e9f90bf4c1c1a8a"
    );
}

// The base fields again as crypto-bigint's Montgomery residues: the reference for the dedicated field.
impl_modulus!(
    MontgomeryP2004,
    U256,
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFD97"
);
impl_modulus!(
    MontgomeryP2015,
    U512,
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\
     FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFDC7"
);

/// Every field operation agrees with crypto-bigint's residues, for values and for their extremes
/// (0, 1, p − 1, p − 2).
fn check_field<
    C: Curve<L>,
    M: crypto_bigint::modular::constant_mod::ResidueParams<L>,
    const L: usize,
>(
    a: &Uint<L>,
    b: &Uint<L>,
) {
    assert_eq!(M::MODULUS, Fe::<C, L>::MODULUS);
    let p = M::MODULUS;
    let extremes = [
        *a,
        *b,
        Uint::ZERO,
        Uint::ONE,
        p.wrapping_sub(&Uint::ONE),
        p.wrapping_sub(&Uint::from_u64(2)),
    ];
    for x in &extremes {
        for y in &extremes {
            let (fx, fy) = (Fe::<C, L>::new(x), Fe::<C, L>::new(y));
            let (rx, ry) = (Residue::<M, L>::new(x), Residue::<M, L>::new(y));
            assert_eq!((fx * fy).to_uint(), (rx * ry).retrieve());
            assert_eq!((fx + fy).to_uint(), (rx + ry).retrieve());
            assert_eq!((fx - fy).to_uint(), (rx - ry).retrieve());
            assert_eq!(fx.square().to_uint(), rx.square().retrieve());
            assert_eq!(fx.neg().to_uint(), rx.neg().retrieve());
        }
        let inverse = Fe::<C, L>::new(x).invert();
        let expected: Option<Residue<M, L>> =
            crypto_bigint::Invert::invert(&Residue::<M, L>::new(x)).into();
        assert_eq!(inverse.map(Fp::to_uint), expected.map(|r| r.retrieve()));
    }
    // Values of p and above are reduced.
    assert_eq!(Fe::<C, L>::new(&p), Fe::<C, L>::ZERO);
    assert_eq!(
        Fe::<C, L>::new(&Uint::MAX).to_uint(),
        Residue::<M, L>::new(&Uint::MAX).retrieve()
    );
}

fn q<C: Curve<L>, const L: usize>() -> Uint<L> {
    <C::Q as ResidueParams<L>>::MODULUS
}

/// The curve constants hang together: G is on the curve, q·G is infinity, (q − 1)·G = −G.
fn check_group_order<C: Curve<L>, const L: usize>() {
    assert!(C::G.is_on_curve());
    let q = q::<C, L>();
    let minus_one = q.wrapping_sub(&Uint::ONE);
    let minus_g = mul_ct(&C::G, &minus_one).to_affine().unwrap();
    assert_eq!(minus_g.x, C::G.x);
    assert_eq!(minus_g.y, C::G.y.neg());
    assert!(mul_ct(&C::G, &q).to_affine().is_none());
    assert!(double_mul::<C, L>(&q, &Uint::ZERO, &C::G).is_identity());
    // The precomputed table holds G, 3G, 5G, …
    let table = C::g_table();
    assert_eq!(table.len(), 1 << (point::G_WINDOW - 2));
    assert_eq!(
        Some(table[1]),
        mul_ct(&C::G, &Uint::from_u64(3)).to_affine()
    );
}

#[test]
fn group_order_2004() {
    check_group_order::<CryptoProA, 4>();
}

#[test]
fn group_order_2015() {
    check_group_order::<Tc26A512, 8>();
}

fn scalar<const L: usize>(bytes: &[u8], modulus: &Uint<L>) -> Uint<L> {
    let mut wide = bytes.to_vec();
    wide.resize(L * WORD_BYTES, 0);
    let value = uint_from_le::<L>(&wide).unwrap();
    value.rem(&NonZero::new(*modulus).unwrap())
}

/// The Horner sum of the digits, most significant first, mod 2^(64·L).
fn wnaf_value<const L: usize>(naf: &[i8]) -> Uint<L> {
    naf.iter().rev().fold(Uint::ZERO, |acc, digit| {
        let acc = acc.wrapping_add(&acc);
        let magnitude = Uint::from_u64(u64::from(digit.unsigned_abs()));
        match *digit >= 0 {
            true => acc.wrapping_add(&magnitude),
            false => acc.wrapping_sub(&magnitude),
        }
    })
}

fn check_wnaf<const L: usize>(k: &Uint<L>, w: usize) {
    let naf = wnaf(k, w);
    assert_eq!(wnaf_value::<L>(&naf), *k);
    let limit = 1i16 << (w - 1);
    for (i, digit) in naf.iter().enumerate().filter(|(_, d)| **d != 0) {
        assert!(digit % 2 != 0 && i16::from(*digit).abs() < limit, "{naf:?}");
        assert!(naf[i + 1..].iter().take(w - 1).all(|d| *d == 0), "{naf:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_field_agrees_with_crypto_bigint(a in prop::collection::vec(any::<u8>(), 64),
                                           b in prop::collection::vec(any::<u8>(), 64)) {
        check_field::<CryptoProA, MontgomeryP2004, 4>(
            &U256::from_le_slice(&a[..32]), &U256::from_le_slice(&b[..32]));
        check_field::<Tc26A512, MontgomeryP2015, 8>(
            &U512::from_le_slice(&a), &U512::from_le_slice(&b));
    }

    #[test]
    fn the_variable_time_inverse_is_the_inverse(a in prop::collection::vec(any::<u8>(), 64)) {
        let a2004 = scalar::<4>(&a, &q::<CryptoProA, 4>());
        let expected: Option<Scalar<CryptoProA, 4>> =
            crypto_bigint::Invert::invert(&Scalar::<CryptoProA, 4>::new(&a2004)).into();
        prop_assert_eq!(signature::invert_vartime::<CryptoProA, 4>(&a2004), expected);
        let a2015 = scalar::<8>(&a, &q::<Tc26A512, 8>());
        let expected: Option<Scalar<Tc26A512, 8>> =
            crypto_bigint::Invert::invert(&Scalar::<Tc26A512, 8>::new(&a2015)).into();
        prop_assert_eq!(signature::invert_vartime::<Tc26A512, 8>(&a2015), expected);
    }

    #[test]
    fn wnaf_digits_rebuild_the_scalar(bytes in prop::collection::vec(any::<u8>(), 64), w in 2usize..=8) {
        check_wnaf(&scalar::<4>(&bytes, &q::<CryptoProA, 4>()), w);
        check_wnaf(&scalar::<8>(&bytes, &q::<Tc26A512, 8>()), w);
        check_wnaf(&U512::MAX, w);
    }

    /// (a + b)·G = a·G + b·G on the 256-bit curve, through the complete formulas.
    #[test]
    fn scalar_multiplication_is_additive_2004(a in prop::collection::vec(any::<u8>(), 32),
                                              b in prop::collection::vec(any::<u8>(), 32)) {
        let (a, b) = (scalar::<4>(&a, &q::<CryptoProA, 4>()), scalar::<4>(&b, &q::<CryptoProA, 4>()));
        let sum = (Scalar::<CryptoProA, 4>::new(&a) + Scalar::<CryptoProA, 4>::new(&b)).retrieve();
        let g = CryptoProA::G;
        let separately = mul_ct(&g, &a).add(&mul_ct(&g, &b)).to_affine();
        prop_assert_eq!(separately, mul_ct(&g, &sum).to_affine());
    }

    /// The verifier's interleaved wNAF (Jacobian, variable time) agrees with the signer's ladder
    /// (complete formulas, constant time): u1·G + u2·Q both ways, Q = d·G.
    #[test]
    fn both_multiplications_agree_2015(u1 in prop::collection::vec(any::<u8>(), 64),
                                       u2 in prop::collection::vec(any::<u8>(), 64),
                                       d in prop::collection::vec(any::<u8>(), 64)) {
        let order = q::<Tc26A512, 8>();
        let (u1, u2, d) = (scalar::<8>(&u1, &order), scalar::<8>(&u2, &order), scalar::<8>(&d, &order));
        let g = Tc26A512::G;
        let Some(public) = mul_ct(&g, &d).to_affine() else {
            return Ok(());
        };
        let expected = mul_ct(&g, &u1).add(&mul_ct(&public, &u2)).to_affine();
        prop_assert_eq!(double_mul(&u1, &u2, &public).to_affine(), expected);
    }

    #[test]
    fn signatures_verify_and_changes_fail(message in prop::collection::vec(any::<u8>(), 0..200),
                                          flip in any::<prop::sample::Index>()) {
        for set in ParameterSet::ALL {
            let key = SigningKey::generate(set).unwrap();
            let signature = key.sign(&message).unwrap();
            prop_assert_eq!(signature.len(), 2 * set.size());
            prop_assert_eq!(key.public_key().verify(&message, &signature), Ok(()));
            let mut forged = signature.clone();
            forged[flip.index(signature.len())] ^= 0x80;
            prop_assert_eq!(key.public_key().verify(&message, &forged), Err(GostError::Invalid));
            let mut other = message.clone();
            other.push(0);
            prop_assert_eq!(key.public_key().verify(&other, &signature), Err(GostError::Invalid));
        }
    }
}

#[test]
fn jacobian_exceptional_cases() {
    let g = Jacobian::from_affine(&Tc26A512::G);
    assert_eq!(g.add(&g).to_affine(), g.double().to_affine());
    assert!(
        g.add_affine(&Affine {
            x: Tc26A512::G.x,
            y: Tc26A512::G.y.neg()
        })
        .is_identity()
    );
    assert_eq!(
        Jacobian::<Tc26A512, 8>::IDENTITY.add(&g).to_affine(),
        Some(Tc26A512::G)
    );
    assert_eq!(g.add(&Jacobian::IDENTITY).to_affine(), Some(Tc26A512::G));
    assert!(Jacobian::<Tc26A512, 8>::IDENTITY.double().is_identity());
}

#[test]
fn public_keys_are_checked() {
    let key = SigningKey::generate(ParameterSet::Gost2004).unwrap();
    let xy = key.public_key().to_xy_le();
    assert_eq!(
        PublicKey::from_xy_le(ParameterSet::Gost2004, &xy).unwrap(),
        *key.public_key()
    );
    // Off the curve.
    let mut off = xy.clone();
    off[40] ^= 1;
    assert!(matches!(
        PublicKey::from_xy_le(ParameterSet::Gost2004, &off),
        Err(GostError::Malformed(m)) if m.contains("not on the curve")
    ));
    // A coordinate of p or more (all ones is above p).
    let mut big = xy.clone();
    big[..32].fill(0xFF);
    assert!(matches!(
        PublicKey::from_xy_le(ParameterSet::Gost2004, &big),
        Err(GostError::Malformed(m)) if m.contains("below the field modulus")
    ));
    // The (0, 0) that stands for infinity elsewhere, and the wrong size.
    assert!(PublicKey::from_xy_le(ParameterSet::Gost2004, &[0; 64]).is_err());
    assert!(PublicKey::from_xy_le(ParameterSet::Gost2015, &xy).is_err());
}

#[test]
fn signature_halves_must_lie_between_one_and_q() {
    let key = SigningKey::generate(ParameterSet::Gost2004).unwrap();
    let digest = gost34311(b"m");
    let signature = key.sign_digest(&digest).unwrap();
    let public = key.public_key();
    assert_eq!(public.verify_digest(&digest, &signature), Ok(()));
    let q_le = uint_to_le(&q::<CryptoProA, 4>());
    let (r, s) = signature.split_at(32);
    for (r, s) in [
        (&[0u8; 32][..], s),
        (r, &[0u8; 32][..]),
        (&q_le[..], s),
        (r, &q_le[..]),
    ] {
        let candidate = [r, s].concat();
        assert_eq!(
            public.verify_digest(&digest, &candidate),
            Err(GostError::Invalid)
        );
    }
    // s + q names the same residue: refused by the range check, not accepted by reduction.
    let s_plus_q = U256::from_le_slice(s).wrapping_add(&q::<CryptoProA, 4>());
    if s_plus_q > q::<CryptoProA, 4>() {
        let candidate = [r, &uint_to_le(&s_plus_q)[..]].concat();
        assert_eq!(
            public.verify_digest(&digest, &candidate),
            Err(GostError::Invalid)
        );
    }
    assert_eq!(
        public.verify_digest(&digest, &signature[..63]),
        Err(GostError::Invalid)
    );
}

#[test]
fn inverses_of_the_extremes() {
    let q = q::<Tc26A512, 8>();
    assert_eq!(signature::invert_vartime::<Tc26A512, 8>(&Uint::ZERO), None);
    assert_eq!(signature::invert_vartime::<Tc26A512, 8>(&q), None);
    for a in [Uint::ONE, Uint::from_u64(2), q.wrapping_sub(&Uint::ONE)] {
        let inverse = signature::invert_vartime::<Tc26A512, 8>(&a).unwrap();
        assert_eq!(
            inverse * Scalar::<Tc26A512, 8>::new(&a),
            Scalar::<Tc26A512, 8>::ONE
        );
    }
}

#[test]
fn a_zero_digest_signs_as_one() {
    // e = 0 mod q is replaced by 1 (GOST R 34.10 §6.1 step 2): the digest q (little-endian) and the
    // digest 1 give the same e, so one signature verifies for both.
    let key = SigningKey::generate(ParameterSet::Gost2004).unwrap();
    let q_digest = uint_to_le(&q::<CryptoProA, 4>());
    let one = uint_to_le(&U256::ONE);
    let signature = key.sign_digest(&q_digest).unwrap();
    assert_eq!(key.public_key().verify_digest(&one, &signature), Ok(()));
    assert_eq!(key.public_key().verify_digest(&[0; 32], &signature), Ok(()));
}

#[test]
fn pkcs8_round_trip_in_kalkan_layout() {
    for set in ParameterSet::ALL {
        let key = SigningKey::generate(set).unwrap();
        let doc = key.to_pkcs8_der().unwrap();
        let info = pkcs8::PrivateKeyInfo::from_der(doc.as_bytes()).unwrap();
        assert_eq!(info.algorithm.oid, set.key_oid());
        let parameters: KeyParameters = info.algorithm.parameters.unwrap().decode_as().unwrap();
        assert_eq!(parameters.curve, set.curve_oid());
        assert_eq!(parameters.hash, set.hash_parameters_oid());
        let inner = AnyRef::from_der(info.private_key).unwrap();
        match set {
            ParameterSet::Gost2015 => {
                assert_eq!(inner.tag(), Tag::OctetString);
                assert_eq!(inner.value(), &key.scalar_le()[..]);
            }
            ParameterSet::Gost2004 => assert_eq!(inner.tag(), Tag::Integer),
        }
        let back = SigningKey::from_pkcs8(&info).unwrap();
        assert_eq!(back.public_key(), key.public_key());
        assert_eq!(back.scalar_le(), key.scalar_le());
    }
}

#[test]
fn private_scalars_out_of_range_are_refused() {
    let q_be: Vec<u8> = uint_to_le(&q::<CryptoProA, 4>())
        .into_iter()
        .rev()
        .collect();
    assert!(SigningKey::from_scalar_be(ParameterSet::Gost2004, &q_be).is_err());
    assert!(SigningKey::from_scalar_be(ParameterSet::Gost2004, &[0; 32]).is_err());
    assert!(SigningKey::from_scalar_be(ParameterSet::Gost2004, &[1; 33]).is_err());
    let one = SigningKey::from_scalar_be(ParameterSet::Gost2004, &[1]).unwrap();
    assert_eq!(
        one.public_key().to_xy_le(),
        point_to_le(&CryptoProA::G),
        "1·G is G"
    );
}
