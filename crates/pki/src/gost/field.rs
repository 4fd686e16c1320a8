//! The base fields of the two curves, GF(p) with p = 2^(64·L) − c for a small c (617 for the 256-bit
//! curve, 569 for the 512-bit one): such a p reduces a double-width product with L multiplications by c
//! instead of Montgomery's L². Measured on the development machine (AMD EPYC, 2.4 GHz, CPU time): a
//! 512-bit multiplication 123 ns here against 269 ns with crypto-bigint 0.5's generic Montgomery
//! residue, 40 ns against 58 ns at 256 bits. The point arithmetic, a verification's whole cost, is
//! almost all field multiplications. The scalar field (mod q, a few operations per signature) stays
//! crypto-bigint's.
//!
//! Constant time: no branch and no memory access depends on a value; carries are turned into masks.
//! Elements are always fully reduced (below p), so equal elements have equal limbs.

use std::marker::PhantomData;

use crypto_bigint::Uint;
use crypto_bigint::subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// A modulus p = 2^(64·L) − C.
pub(crate) trait PseudoMersenne<const L: usize>:
    Copy + Eq + std::fmt::Debug + Send + Sync + 'static
{
    /// Below 2^32, so that the reductions below cannot overflow.
    const C: u64;
}

/// The largest L the fixed-size product buffer takes (512 bits).
const MAX_LIMBS: usize = 8;

#[inline(always)]
fn mac(acc: u64, a: u64, b: u64, carry: u64) -> (u64, u64) {
    let t = u128::from(a) * u128::from(b) + u128::from(acc) + u128::from(carry);
    (t as u64, (t >> 64) as u64)
}

#[inline(always)]
fn adc(a: u64, b: u64, carry: u64) -> (u64, u64) {
    let (sum, first) = a.overflowing_add(b);
    let (sum, second) = sum.overflowing_add(carry);
    (sum, u64::from(first | second))
}

#[inline(always)]
fn sbb(a: u64, b: u64, borrow: u64) -> (u64, u64) {
    let (difference, first) = a.overflowing_sub(b);
    let (difference, second) = difference.overflowing_sub(borrow);
    (difference, u64::from(first | second))
}

/// An element of GF(p), little-endian 64-bit limbs, always below p.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fp<M: PseudoMersenne<L>, const L: usize> {
    limbs: [u64; L],
    modulus: PhantomData<M>,
}

impl<M: PseudoMersenne<L>, const L: usize> Fp<M, L> {
    pub(crate) const ZERO: Self = Self::from_limbs([0; L]);
    pub(crate) const ONE: Self = {
        let mut limbs = [0; L];
        limbs[0] = 1;
        Self::from_limbs(limbs)
    };

    const fn from_limbs(limbs: [u64; L]) -> Self {
        Fp {
            limbs,
            modulus: PhantomData,
        }
    }

    /// p itself, for range checks.
    pub(crate) const MODULUS: Uint<L> = {
        let mut limbs = [u64::MAX; L];
        limbs[0] = 0u64.wrapping_sub(M::C);
        Uint::from_words(limbs)
    };

    /// The element `value` mod p (any value below 2^(64·L): at most one subtraction of p). Const, so
    /// that the curve constants are computed at compile time.
    pub(crate) const fn new(value: &Uint<L>) -> Self {
        Self::from_limbs(Self::subtract_p_if_above(*value.as_words()))
    }

    pub(crate) fn to_uint(self) -> Uint<L> {
        Uint::from_words(self.limbs)
    }

    /// `limbs` − p when `limbs` ≥ p, else `limbs`: r ≥ p exactly when r + C carries out of 2^(64·L).
    #[inline(always)]
    const fn subtract_p_if_above(limbs: [u64; L]) -> [u64; L] {
        let mut plus_c = [0u64; L];
        let mut carry = M::C as u128;
        let mut i = 0;
        while i < L {
            let t = limbs[i] as u128 + carry;
            plus_c[i] = t as u64;
            carry = t >> 64;
            i += 1;
        }
        let mask = 0u64.wrapping_sub(carry as u64);
        let mut out = [0u64; L];
        let mut i = 0;
        while i < L {
            out[i] = (plus_c[i] & mask) | (limbs[i] & !mask);
            i += 1;
        }
        out
    }

    #[inline(always)]
    pub(crate) fn add(&self, other: &Self) -> Self {
        // a + b ≥ p exactly when a + b + C reaches 2^(64·L): then a + b + C − 2^(64·L) = a + b − p.
        let mut sum = [0u64; L];
        let mut carry = 0;
        for ((s, a), b) in sum.iter_mut().zip(&self.limbs).zip(&other.limbs) {
            (*s, carry) = adc(*a, *b, carry);
        }
        let mut plus_c = [0u64; L];
        let mut carry_c = M::C;
        for (out, s) in plus_c.iter_mut().zip(&sum) {
            (*out, carry_c) = adc(*s, carry_c, 0);
        }
        let mask = 0u64.wrapping_sub(carry | carry_c);
        let mut limbs = [0u64; L];
        for ((out, s), p) in limbs.iter_mut().zip(&sum).zip(&plus_c) {
            *out = (p & mask) | (s & !mask);
        }
        Self::from_limbs(limbs)
    }

    #[inline(always)]
    pub(crate) fn sub(&self, other: &Self) -> Self {
        // On a borrow the difference is a − b + 2^(64·L); a − b + p is that minus C.
        let mut difference = [0u64; L];
        let mut borrow = 0;
        for ((d, a), b) in difference.iter_mut().zip(&self.limbs).zip(&other.limbs) {
            (*d, borrow) = sbb(*a, *b, borrow);
        }
        let mut correction = M::C & 0u64.wrapping_sub(borrow);
        let mut limbs = [0u64; L];
        let mut borrow = 0;
        for (out, d) in limbs.iter_mut().zip(&difference) {
            (*out, borrow) = sbb(*d, correction, borrow);
            correction = 0;
        }
        Self::from_limbs(limbs)
    }

    #[inline(always)]
    pub(crate) fn neg(&self) -> Self {
        Self::ZERO.sub(self)
    }

    #[inline(always)]
    pub(crate) fn double(&self) -> Self {
        self.add(self)
    }

    pub(crate) fn mul(&self, other: &Self) -> Self {
        const { assert!(L <= MAX_LIMBS) };
        let mut product = [0u64; 2 * MAX_LIMBS];
        // One row per limb of `self`, written out so that the compiler unrolls both loops and keeps
        // the columns in registers (a loop over the rows kept them in memory: a third slower).
        macro_rules! row {
            ($i:expr) => {
                if $i < L {
                    let a = self.limbs[$i];
                    let mut carry = 0;
                    for (j, b) in other.limbs.iter().enumerate() {
                        (product[$i + j], carry) = mac(product[$i + j], a, *b, carry);
                    }
                    product[$i + L] = carry;
                }
            };
        }
        row!(0);
        row!(1);
        row!(2);
        row!(3);
        row!(4);
        row!(5);
        row!(6);
        row!(7);
        Self::reduce(&product)
    }

    pub(crate) fn square(&self) -> Self {
        // The products a_i·a_j for i < j once, doubled, then the squares a_i² on the diagonal.
        const { assert!(L <= MAX_LIMBS) };
        let a = &self.limbs;
        let mut product = [0u64; 2 * MAX_LIMBS];
        // Written out per row, as in `mul`.
        macro_rules! row {
            ($i:expr) => {
                if $i < L {
                    let mut carry = 0;
                    for j in $i + 1..L {
                        (product[$i + j], carry) = mac(product[$i + j], a[$i], a[j], carry);
                    }
                    product[$i + L] = carry;
                }
            };
        }
        row!(0);
        row!(1);
        row!(2);
        row!(3);
        row!(4);
        row!(5);
        row!(6);
        row!(7);
        let mut top = 0;
        for limb in product.iter_mut().take(2 * L) {
            let next = *limb >> 63;
            *limb = (*limb << 1) | top;
            top = next;
        }
        let mut carry = 0;
        for i in 0..L {
            let (low, high) = mac(0, a[i], a[i], 0);
            (product[2 * i], carry) = adc(product[2 * i], low, carry);
            (product[2 * i + 1], carry) = adc(product[2 * i + 1], high, carry);
        }
        Self::reduce(&product)
    }

    /// A double-width product T = H·2^(64·L) + Lo, reduced: 2^(64·L) ≡ C, so T ≡ Lo + H·C.
    #[inline(always)]
    fn reduce(product: &[u64; 2 * MAX_LIMBS]) -> Self {
        let mut r = [0u64; L];
        let mut carry = 0;
        for (i, out) in r.iter_mut().enumerate() {
            (*out, carry) = mac(product[i], product[i + L], M::C, carry);
        }
        // r + carry·2^(64·L) with carry ≤ C: fold the carry in as carry·C.
        let mut fold = carry * M::C;
        for out in r.iter_mut() {
            (*out, fold) = adc(*out, fold, 0);
        }
        // Carried again only if the sum was below carry·C + 2^(64·L): r is then tiny and + C cannot
        // carry a third time.
        let mut fold = fold * M::C;
        for out in r.iter_mut() {
            (*out, fold) = adc(*out, fold, 0);
        }
        Self::from_limbs(Self::subtract_p_if_above(r))
    }

    /// self^(p − 2) = self⁻¹ (Fermat), `None` for zero. The exponent is public, so 4-bit fixed
    /// windows over it leak nothing about `self`.
    pub(crate) fn invert(&self) -> Option<Self> {
        let mut table = [Self::ONE; 16];
        for i in 1..16 {
            table[i] = table[i - 1].mul(self);
        }
        let mut exponent = Self::MODULUS.to_words();
        exponent[0] = exponent[0].wrapping_sub(2);
        let mut result = Self::ONE;
        for word in exponent.iter().rev() {
            for nibble in (0..16).rev() {
                for _ in 0..4 {
                    result = result.square();
                }
                let index = ((word >> (nibble * 4)) & 0xF) as usize;
                result = result.mul(&table[index]);
            }
        }
        let zero = self.ct_eq(&Self::ZERO);
        Option::from(crypto_bigint::subtle::CtOption::new(result, !zero))
    }

    pub(crate) fn is_zero_vartime(&self) -> bool {
        self.limbs.iter().all(|l| *l == 0)
    }
}

impl<M: PseudoMersenne<L>, const L: usize> ConstantTimeEq for Fp<M, L> {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.limbs.ct_eq(&other.limbs)
    }
}

impl<M: PseudoMersenne<L>, const L: usize> ConditionallySelectable for Fp<M, L> {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        let mut limbs = [0u64; L];
        for ((out, x), y) in limbs.iter_mut().zip(&a.limbs).zip(&b.limbs) {
            *out = u64::conditional_select(x, y, choice);
        }
        Self::from_limbs(limbs)
    }
}

impl<M: PseudoMersenne<L>, const L: usize> std::ops::Add for Fp<M, L> {
    type Output = Self;
    fn add(self, other: Self) -> Self {
        Fp::add(&self, &other)
    }
}

impl<M: PseudoMersenne<L>, const L: usize> std::ops::Sub for Fp<M, L> {
    type Output = Self;
    fn sub(self, other: Self) -> Self {
        Fp::sub(&self, &other)
    }
}

impl<M: PseudoMersenne<L>, const L: usize> std::ops::Mul for Fp<M, L> {
    type Output = Self;
    fn mul(self, other: Self) -> Self {
        Fp::mul(&self, &other)
    }
}
