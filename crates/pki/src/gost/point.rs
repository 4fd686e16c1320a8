//! Points of a short Weierstrass curve y² = x³ − 3x + b over a prime field, on crypto-bigint's
//! fixed-modulus Montgomery residues.
//!
//! Two coordinate systems, for two kinds of work:
//! - [`Projective`] with the complete formulas of Renes, Costello and Batina (eprint 2015/1060,
//!   Algorithms 4 and 6, for a = −3): no exceptional case, so no branch, for anything that touches a
//!   secret scalar (key generation, the nonce point of a signature);
//! - [`Jacobian`] with the cheaper Bernstein–Lange formulas (dbl-2001-b, add-2007-bl, madd-2007-bl of the
//!   Explicit-Formulas Database), which branch on the exceptional cases: used only by verification,
//!   whose inputs are public.

use crypto_bigint::modular::constant_mod::{Residue, ResidueParams};

use super::field::{Fp, PseudoMersenne};
use crypto_bigint::subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use crypto_bigint::{Uint, Word};

/// A curve's constants. Every curve here has a = −3 (the formulas rely on it) and cofactor 1.
pub(crate) trait Curve<const L: usize>:
    Copy + Eq + std::fmt::Debug + Send + Sync + 'static
{
    /// The field modulus p.
    type P: PseudoMersenne<L>;
    /// The group order q.
    type Q: ResidueParams<L>;
    const B: Fp<Self::P, L>;
    const G: Affine<Self, L>;
    /// G, 3G, 5G, …, (2^(G_WINDOW−1) − 1)G, computed once: the base point's side of verification.
    fn g_table() -> &'static [Affine<Self, L>];
}

/// An element of the field of `C`.
pub(crate) type Fe<C, const L: usize> = Fp<<C as Curve<L>>::P, L>;
/// An integer modulo the group order of `C`.
pub(crate) type Scalar<C, const L: usize> = Residue<<C as Curve<L>>::Q, L>;

/// wNAF width of the base point's precomputed odd multiples (64 points: 8 KiB for the 512-bit curve).
pub(crate) const G_WINDOW: usize = 8;
/// wNAF width of a public key's odd multiples, computed at every verification (8 points).
pub(crate) const Q_WINDOW: usize = 5;

const WORD_BITS: usize = Word::BITS as usize;

/// Only for the variable-time code: public values.
fn is_zero<C: Curve<L>, const L: usize>(value: &Fe<C, L>) -> bool {
    value.is_zero_vartime()
}

fn double<C: Curve<L>, const L: usize>(value: &Fe<C, L>) -> Fe<C, L> {
    value.double()
}

/// A point other than infinity, in affine coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Affine<C: Curve<L>, const L: usize> {
    pub(crate) x: Fe<C, L>,
    pub(crate) y: Fe<C, L>,
}

impl<C: Curve<L>, const L: usize> Affine<C, L> {
    /// Whether y² = x³ − 3x + b.
    pub(crate) fn is_on_curve(&self) -> bool {
        let x = self.x;
        let three_x = x + double::<C, L>(&x);
        let right = x.square() * x - three_x + C::B;
        bool::from(self.y.square().ct_eq(&right))
    }

    fn neg(&self) -> Self {
        Affine {
            x: self.x,
            y: self.y.neg(),
        }
    }
}

/// Jacobian coordinates (X : Y : Z) for (X/Z², Y/Z³); Z = 0 is infinity. Variable time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Jacobian<C: Curve<L>, const L: usize> {
    x: Fe<C, L>,
    y: Fe<C, L>,
    z: Fe<C, L>,
}

impl<C: Curve<L>, const L: usize> Jacobian<C, L> {
    pub(crate) const IDENTITY: Self = Jacobian {
        x: Fe::<C, L>::ONE,
        y: Fe::<C, L>::ONE,
        z: Fe::<C, L>::ZERO,
    };

    pub(crate) fn from_affine(point: &Affine<C, L>) -> Self {
        Jacobian {
            x: point.x,
            y: point.y,
            z: Fe::<C, L>::ONE,
        }
    }

    pub(crate) fn is_identity(&self) -> bool {
        is_zero::<C, L>(&self.z)
    }

    fn neg(&self) -> Self {
        Jacobian {
            x: self.x,
            y: self.y.neg(),
            z: self.z,
        }
    }

    /// dbl-2001-b (a = −3): 3M + 5S. The curves have odd order, so no point but infinity doubles to it.
    pub(crate) fn double(&self) -> Self {
        if self.is_identity() {
            return *self;
        }
        let delta = self.z.square();
        let gamma = self.y.square();
        let beta = self.x * gamma;
        let t = (self.x - delta) * (self.x + delta);
        let alpha = t + double::<C, L>(&t);
        let beta4 = double::<C, L>(&double::<C, L>(&beta));
        let x = alpha.square() - double::<C, L>(&beta4);
        let z = (self.y + self.z).square() - gamma - delta;
        let gamma_sq8 = double::<C, L>(&double::<C, L>(&double::<C, L>(&gamma.square())));
        let y = alpha * (beta4 - x) - gamma_sq8;
        Jacobian { x, y, z }
    }

    /// add-2007-bl: 11M + 5S; P + P and P + (−P) are the exceptional cases.
    pub(crate) fn add(&self, other: &Self) -> Self {
        if self.is_identity() {
            return *other;
        }
        if other.is_identity() {
            return *self;
        }
        let z1z1 = self.z.square();
        let z2z2 = other.z.square();
        let u1 = self.x * z2z2;
        let u2 = other.x * z1z1;
        let s1 = self.y * other.z * z2z2;
        let s2 = other.y * self.z * z1z1;
        let h = u2 - u1;
        let r_half = s2 - s1;
        if is_zero::<C, L>(&h) {
            return if is_zero::<C, L>(&r_half) {
                self.double()
            } else {
                Self::IDENTITY
            };
        }
        let i = double::<C, L>(&h).square();
        let j = h * i;
        let r = double::<C, L>(&r_half);
        let v = u1 * i;
        let x = r.square() - j - double::<C, L>(&v);
        let y = r * (v - x) - double::<C, L>(&(s1 * j));
        let z = ((self.z + other.z).square() - z1z1 - z2z2) * h;
        Jacobian { x, y, z }
    }

    /// madd-2007-bl (the other point affine): 7M + 4S.
    pub(crate) fn add_affine(&self, other: &Affine<C, L>) -> Self {
        if self.is_identity() {
            return Self::from_affine(other);
        }
        let z1z1 = self.z.square();
        let u2 = other.x * z1z1;
        let s2 = other.y * self.z * z1z1;
        let h = u2 - self.x;
        let r_half = s2 - self.y;
        if is_zero::<C, L>(&h) {
            return if is_zero::<C, L>(&r_half) {
                self.double()
            } else {
                Self::IDENTITY
            };
        }
        let hh = h.square();
        let i = double::<C, L>(&double::<C, L>(&hh));
        let j = h * i;
        let r = double::<C, L>(&r_half);
        let v = self.x * i;
        let x = r.square() - j - double::<C, L>(&v);
        let y = r * (v - x) - double::<C, L>(&(self.y * j));
        let z = (self.z + h).square() - z1z1 - hh;
        Jacobian { x, y, z }
    }

    pub(crate) fn to_affine(self) -> Option<Affine<C, L>> {
        let z_inv = self.z.invert()?;
        let z_inv2 = z_inv.square();
        Some(Affine {
            x: self.x * z_inv2,
            y: self.y * z_inv2 * z_inv,
        })
    }

    /// Whether the affine x of this point, reduced mod q, is `r` (which is below q): X = r·Z² or, when
    /// r + q is still below p, X = (r + q)·Z². No inversion needed.
    pub(crate) fn x_mod_q_is(&self, r: &Uint<L>) -> bool {
        if self.is_identity() {
            return false;
        }
        let zz = self.z.square();
        if self.x == Fe::<C, L>::new(r) * zz {
            return true;
        }
        let (r_plus_q, carry) = r.adc(
            &<C::Q as ResidueParams<L>>::MODULUS,
            crypto_bigint::Limb::ZERO,
        );
        carry == crypto_bigint::Limb::ZERO
            && r_plus_q < Fe::<C, L>::MODULUS
            && self.x == Fe::<C, L>::new(&r_plus_q) * zz
    }
}

/// Projective coordinates (X : Y : Z) for (X/Z, Y/Z); infinity is (0 : 1 : 0). Constant time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Projective<C: Curve<L>, const L: usize> {
    x: Fe<C, L>,
    y: Fe<C, L>,
    z: Fe<C, L>,
}

impl<C: Curve<L>, const L: usize> ConditionallySelectable for Projective<C, L> {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Projective {
            x: Fe::<C, L>::conditional_select(&a.x, &b.x, choice),
            y: Fe::<C, L>::conditional_select(&a.y, &b.y, choice),
            z: Fe::<C, L>::conditional_select(&a.z, &b.z, choice),
        }
    }
}

impl<C: Curve<L>, const L: usize> Projective<C, L> {
    pub(crate) const IDENTITY: Self = Projective {
        x: Fe::<C, L>::ZERO,
        y: Fe::<C, L>::ONE,
        z: Fe::<C, L>::ZERO,
    };

    pub(crate) fn from_affine(point: &Affine<C, L>) -> Self {
        Projective {
            x: point.x,
            y: point.y,
            z: Fe::<C, L>::ONE,
        }
    }

    /// Renes–Costello–Batina Algorithm 4 (complete addition, a = −3).
    pub(crate) fn add(&self, other: &Self) -> Self {
        let b = C::B;
        let triple = |v: Fe<C, L>| v + double::<C, L>(&v);
        let xx = self.x * other.x;
        let yy = self.y * other.y;
        let zz = self.z * other.z;
        let xy_pairs = (self.x + self.y) * (other.x + other.y) - (xx + yy);
        let yz_pairs = (self.y + self.z) * (other.y + other.z) - (yy + zz);
        let xz_pairs = (self.x + self.z) * (other.x + other.z) - (xx + zz);
        let bzz3 = triple(xz_pairs - b * zz);
        let yy_m_bzz3 = yy - bzz3;
        let yy_p_bzz3 = yy + bzz3;
        let zz3 = triple(zz);
        let bxz3 = triple(b * xz_pairs - (zz3 + xx));
        let xx3_m_zz3 = triple(xx) - zz3;
        Projective {
            x: yy_p_bzz3 * xy_pairs - yz_pairs * bxz3,
            y: yy_p_bzz3 * yy_m_bzz3 + xx3_m_zz3 * bxz3,
            z: yy_m_bzz3 * yz_pairs + xy_pairs * xx3_m_zz3,
        }
    }

    /// Renes–Costello–Batina Algorithm 6 (exception-free doubling, a = −3).
    pub(crate) fn double(&self) -> Self {
        let b = C::B;
        let triple = |v: Fe<C, L>| v + double::<C, L>(&v);
        let xx = self.x.square();
        let yy = self.y.square();
        let zz = self.z.square();
        let xy2 = double::<C, L>(&(self.x * self.y));
        let xz2 = double::<C, L>(&(self.x * self.z));
        let bzz3 = triple(b * zz - xz2);
        let yy_m_bzz3 = yy - bzz3;
        let yy_p_bzz3 = yy + bzz3;
        let y_frag = yy_p_bzz3 * yy_m_bzz3;
        let x_frag = yy_m_bzz3 * xy2;
        let zz3 = triple(zz);
        let bxz6 = triple(b * xz2 - (zz3 + xx));
        let xx3_m_zz3 = triple(xx) - zz3;
        let yz2 = double::<C, L>(&(self.y * self.z));
        Projective {
            x: x_frag - bxz6 * yz2,
            y: y_frag + xx3_m_zz3 * bxz6,
            z: double::<C, L>(&double::<C, L>(&(yz2 * yy))),
        }
    }

    /// The affine point, `None` for infinity. Constant time (crypto-bigint's inversion is).
    pub(crate) fn to_affine(self) -> Option<Affine<C, L>> {
        let z_inv = self.z.invert()?;
        Some(Affine {
            x: self.x * z_inv,
            y: self.y * z_inv,
        })
    }
}

/// `k`·`base` in constant time: 4-bit fixed windows from the top, each window's multiple taken from
/// a 16-entry table by a full scan with conditional selection, complete formulas throughout (so the
/// zero window's infinity needs no branch). Same operations whatever `k` is.
pub(crate) fn mul_ct<C: Curve<L>, const L: usize>(
    base: &Affine<C, L>,
    k: &Uint<L>,
) -> Projective<C, L> {
    let mut table = [Projective::<C, L>::IDENTITY; 16];
    table[1] = Projective::from_affine(base);
    for i in 2..16 {
        table[i] = if i % 2 == 0 {
            table[i / 2].double()
        } else {
            table[i - 1].add(&table[1])
        };
    }
    let words = k.as_words();
    let mut acc = Projective::<C, L>::IDENTITY;
    let per_word = WORD_BITS / 4;
    for window in (0..L * per_word).rev() {
        for _ in 0..4 {
            acc = acc.double();
        }
        let nibble = (words[window / per_word] >> ((window % per_word) * 4)) & 0xF;
        let mut chosen = Projective::<C, L>::IDENTITY;
        for (i, entry) in (0..).zip(table.iter()) {
            chosen.conditional_assign(entry, i.ct_eq(&nibble));
        }
        acc = acc.add(&chosen);
    }
    acc
}

/// The width-`w` non-adjacent form of `k`, least significant digit first: every non-zero digit is odd,
/// below 2^(w−1) in magnitude, and followed by at least w − 1 zeros. Variable time (public scalars only).
pub(crate) fn wnaf<const L: usize>(k: &Uint<L>, w: usize) -> Vec<i8> {
    let words = k.as_words();
    let bits = L * WORD_BITS;
    let width: Word = 1 << w;
    let mask = width - 1;
    let mut naf = vec![0i8; bits + 1];
    let mut pos = 0;
    let mut carry: Word = 0;
    while pos <= bits {
        let (index, offset) = (pos / WORD_BITS, pos % WORD_BITS);
        let low = words.get(index).copied().unwrap_or(0) >> offset;
        let high = match offset {
            0 => 0,
            _ => words.get(index + 1).copied().unwrap_or(0) << (WORD_BITS - offset),
        };
        let window = carry + ((low | high) & mask);
        if window & 1 == 0 {
            pos += 1;
            continue;
        }
        // The window fits a signed digit: below 2^(w−1) as it is, or as window − 2^w with a carry.
        let digit = if window < width / 2 {
            carry = 0;
            window as i64
        } else {
            carry = 1;
            window as i64 - width as i64
        };
        if let (Some(slot), Ok(digit)) = (naf.get_mut(pos), i8::try_from(digit)) {
            *slot = digit;
        }
        pos += w;
    }
    naf
}

/// G, 3G, …, (2^(G_WINDOW−1) − 1)G in affine form (what [`Curve::g_table`] keeps).
pub(crate) fn odd_multiples_of_g<C: Curve<L>, const L: usize>() -> Vec<Affine<C, L>> {
    odd_multiples(&C::G, G_WINDOW)
        .into_iter()
        .filter_map(Jacobian::to_affine)
        .collect()
}

fn odd_multiples<C: Curve<L>, const L: usize>(
    point: &Affine<C, L>,
    w: usize,
) -> Vec<Jacobian<C, L>> {
    let count = 1usize << (w - 2);
    let first = Jacobian::from_affine(point);
    let twice = first.double();
    let mut table = Vec::with_capacity(count);
    table.push(first);
    for i in 1..count {
        let next = table[i - 1].add(&twice);
        table.push(next);
    }
    table
}

/// u1·G + u2·`point`, variable time: one pass of doublings over both width-w NAFs (Straus–Shamir
/// interleaving), G's odd multiples from the static table, the point's computed here.
pub(crate) fn double_mul<C: Curve<L>, const L: usize>(
    u1: &Uint<L>,
    u2: &Uint<L>,
    point: &Affine<C, L>,
) -> Jacobian<C, L> {
    let g_table = C::g_table();
    let q_table = odd_multiples(point, Q_WINDOW);
    let naf1 = wnaf(u1, G_WINDOW);
    let naf2 = wnaf(u2, Q_WINDOW);
    let top = naf1
        .iter()
        .zip(&naf2)
        .rposition(|(a, b)| *a != 0 || *b != 0);
    let Some(top) = top else {
        return Jacobian::IDENTITY;
    };
    let mut acc = Jacobian::<C, L>::IDENTITY;
    for i in (0..=top).rev() {
        acc = acc.double();
        let d1 = naf1[i];
        if let Some(entry) = g_table.get(usize::from(d1.unsigned_abs() / 2)) {
            if d1 > 0 {
                acc = acc.add_affine(entry);
            } else if d1 < 0 {
                acc = acc.add_affine(&entry.neg());
            }
        }
        let d2 = naf2[i];
        if let Some(entry) = q_table.get(usize::from(d2.unsigned_abs() / 2)) {
            if d2 > 0 {
                acc = acc.add(entry);
            } else if d2 < 0 {
                acc = acc.add(&entry.neg());
            }
        }
    }
    acc
}
