//! GOST R 34.10 signature generation and verification on integers (GOST R 34.10-2012 §6.1–6.2; the
//! 2001 and 2012 algorithms are the same, only the curves and hashes differ). Byte order is the
//! caller's business ([`super`] reads Kalkan's).

use crypto_bigint::modular::constant_mod::ResidueParams;
use crypto_bigint::subtle::{ConditionallySelectable, ConstantTimeEq};
use crypto_bigint::{Random, Uint};
use rand_core::OsRng;

use super::point::{Curve, Scalar, double_mul, mul_ct};

/// Random nonces tried before signing gives up. A nonce is refused only when it, r or s is zero, each
/// with probability about 1/q; reaching the limit means the random generator is broken.
const NONCE_ATTEMPTS: usize = 8;

/// e = `digest` mod q, and 1 where that is 0 (§6.1 step 2).
fn digest_scalar<C: Curve<L>, const L: usize>(digest: &Uint<L>) -> Scalar<C, L> {
    // The digest is below 2^(64·L) = R, which Montgomery reduction takes whole: `new` reduces it mod q.
    let e = Scalar::<C, L>::new(digest);
    Scalar::<C, L>::conditional_select(&e, &Scalar::<C, L>::ONE, e.ct_eq(&Scalar::<C, L>::ZERO))
}

/// A uniform scalar in [1, q − 1] from the operating system's generator.
pub(crate) fn random_scalar<C: Curve<L>, const L: usize>() -> Option<Scalar<C, L>> {
    (0..NONCE_ATTEMPTS)
        .map(|_| Scalar::<C, L>::random(&mut OsRng))
        .find(|k| !bool::from(k.ct_eq(&Scalar::<C, L>::ZERO)))
}

/// (r, s) for the secret `d` over the digest integer `digest`; `None` only if the generator fails.
pub(crate) fn sign<C: Curve<L>, const L: usize>(
    d: &Scalar<C, L>,
    digest: &Uint<L>,
) -> Option<(Uint<L>, Uint<L>)> {
    let e = digest_scalar::<C, L>(digest);
    for _ in 0..NONCE_ATTEMPTS {
        let k = random_scalar::<C, L>()?;
        let Some(c) = mul_ct(&C::G, &k.retrieve()).to_affine() else {
            continue;
        };
        // x_C < p < 2^(64·L): `new` reduces it mod q, as for the digest.
        let r = Scalar::<C, L>::new(&c.x.to_uint());
        if bool::from(r.ct_eq(&Scalar::<C, L>::ZERO)) {
            continue;
        }
        let s = r * d + k * e;
        if bool::from(s.ct_eq(&Scalar::<C, L>::ZERO)) {
            continue;
        }
        return Some((r.retrieve(), s.retrieve()));
    }
    None
}

/// Whether (r, s) is a signature of the digest integer `digest` by the key `public` (§6.2): r and s in
/// [1, q − 1], v = e⁻¹, C = (s·v)G + (−r·v)Q, and x_C mod q = r.
pub(crate) fn verify<C: Curve<L>, const L: usize>(
    public: &super::point::Affine<C, L>,
    digest: &Uint<L>,
    r: &Uint<L>,
    s: &Uint<L>,
) -> bool {
    let q = <C::Q as ResidueParams<L>>::MODULUS;
    if *r == Uint::ZERO || *s == Uint::ZERO || *r >= q || *s >= q {
        return false;
    }
    let e = digest_scalar::<C, L>(digest);
    let Some(v) = invert_vartime::<C, L>(&e.retrieve()) else {
        return false;
    };
    let z1 = Scalar::<C, L>::new(s) * v;
    let z2 = (Scalar::<C, L>::new(r) * v).neg();
    double_mul(&z1.retrieve(), &z2.retrieve(), public).x_mod_q_is(r)
}

/// a⁻¹ mod q by the binary extended Euclidean algorithm (HAC 14.61 for an odd modulus), variable
/// time: for verification, where a (the digest) is public. crypto-bigint's inversion is constant
/// time and costs about a tenth of a whole verification. `None` for a = 0.
///
/// Invariants: x1·a ≡ u and x2·a ≡ v (mod q); every step halves u or v or subtracts the smaller
/// from the larger, so at most 2·log2(q) + 2 steps reach u = 1 or v = 1 (q is prime).
pub(crate) fn invert_vartime<C: Curve<L>, const L: usize>(a: &Uint<L>) -> Option<Scalar<C, L>> {
    let q = <C::Q as ResidueParams<L>>::MODULUS;
    if *a == Uint::ZERO || *a >= q {
        return None;
    }
    let (mut u, mut v) = (*a, q);
    // Halving and subtracting are linear, so Montgomery-form residues carry x1 and x2 directly.
    let (mut x1, mut x2) = (Scalar::<C, L>::ONE, Scalar::<C, L>::ZERO);
    let one = Uint::<L>::ONE;
    for _ in 0..2 * 64 * L + 2 {
        if u == one {
            return Some(x1);
        }
        if v == one {
            return Some(x2);
        }
        let shift = u.trailing_zeros_vartime();
        u = u.shr_vartime(shift);
        for _ in 0..shift {
            x1 = x1.div_by_2();
        }
        let shift = v.trailing_zeros_vartime();
        v = v.shr_vartime(shift);
        for _ in 0..shift {
            x2 = x2.div_by_2();
        }
        if u >= v {
            u = u.wrapping_sub(&v);
            x1 -= x2;
        } else {
            v = v.wrapping_sub(&u);
            x2 -= x1;
        }
    }
    None
}
