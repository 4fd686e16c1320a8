//! The BER normaliser's two laws, over random trees: DER comes back as it went in (borrowed), and any BER
//! re-encoding of a DER tree (indefinite lengths, strings split into constructed segments, long-winded
//! lengths) normalises back to that DER.

use std::borrow::Cow;

use proptest::prelude::*;
use qyzmet_pki::ber::normalize;

#[derive(Debug, Clone)]
enum Tree {
    Primitive(u8, Vec<u8>),
    Constructed(u8, Vec<Tree>),
}

/// Primitive tags that are not strings (INTEGER, NULL-ish, OID, context-specific) or are strings BER may
/// split (OCTET STRING, UTF8String, PrintableString, IA5String, BMPString); BIT STRING is made apart so its
/// first octet is a valid unused-bits count.
const PRIMITIVE_TAGS: [u8; 9] = [0x02, 0x06, 0x80, 0x81, 0x04, 0x0C, 0x13, 0x16, 0x1E];
const CONSTRUCTED_TAGS: [u8; 4] = [0x30, 0x31, 0xA0, 0xA3];

fn content() -> impl Strategy<Value = Vec<u8>> {
    // Up to 300 octets so that both short and long length forms occur.
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..8),
        proptest::collection::vec(any::<u8>(), 100..300),
    ]
}

fn bit_string() -> impl Strategy<Value = Tree> {
    (0u8..8, proptest::collection::vec(any::<u8>(), 0..200)).prop_map(|(unused, data)| {
        let unused = if data.is_empty() { 0 } else { unused };
        Tree::Primitive(0x03, std::iter::once(unused).chain(data).collect())
    })
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (proptest::sample::select(&PRIMITIVE_TAGS[..]), content())
            .prop_map(|(tag, content)| Tree::Primitive(tag, content)),
        bit_string(),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        (
            proptest::sample::select(&CONSTRUCTED_TAGS[..]),
            proptest::collection::vec(inner, 0..6),
        )
            .prop_map(|(tag, children)| Tree::Constructed(tag, children))
    })
}

fn length(n: usize) -> Vec<u8> {
    if n < 0x80 {
        return vec![n as u8];
    }
    let octets: Vec<u8> = n
        .to_be_bytes()
        .into_iter()
        .skip_while(|&b| b == 0)
        .collect();
    std::iter::once(0x80 | octets.len() as u8)
        .chain(octets)
        .collect()
}

fn der(tree: &Tree) -> Vec<u8> {
    let (tag, content) = match tree {
        Tree::Primitive(tag, content) => (*tag, content.clone()),
        Tree::Constructed(tag, children) => (*tag, children.iter().flat_map(der).collect()),
    };
    [vec![tag], length(content.len()), content].concat()
}

/// A tiny deterministic generator choosing the BER form of each element.
struct Choices(u64);

impl Choices {
    fn pick(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    /// A definite length, sometimes in more octets than needed (up to four, with leading zeros).
    fn length(&mut self, n: usize) -> Vec<u8> {
        if self.pick(3) != 0 {
            return length(n);
        }
        let octets = (n as u32).to_be_bytes();
        let needed = (4 - octets.iter().take_while(|&&b| b == 0).count()).max(1);
        let keep = needed + self.pick((5 - needed) as u64) as usize;
        std::iter::once(0x80 | keep as u8)
            .chain(octets[4 - keep..].iter().copied())
            .collect()
    }

    /// Tag, then the content in definite or indefinite form.
    fn wrap(&mut self, tag: u8, content: Vec<u8>) -> Vec<u8> {
        if tag & 0x20 != 0 && self.pick(2) == 0 {
            [vec![tag, 0x80], content, vec![0, 0]].concat()
        } else {
            [vec![tag], self.length(content.len()), content].concat()
        }
    }

    /// A string's content split into segments (possibly nested), as X.690 §8.7.3 / §8.6.4 allow.
    fn segments(&mut self, bits: bool, data: &[u8], unused: u8, depth: u32) -> Vec<u8> {
        let segment_tag = if bits { 0x03 } else { 0x04 };
        let mut out = Vec::new();
        let mut rest = data;
        loop {
            let take = if rest.is_empty() {
                0
            } else {
                self.pick(rest.len() as u64 + 1) as usize
            };
            let (chunk, after) = rest.split_at(take);
            let last = after.is_empty();
            let chunk_unused = if last { unused } else { 0 };
            if depth < 2 && self.pick(4) == 0 && !last {
                let inner = self.segments(bits, chunk, 0, depth + 1);
                out.extend(self.wrap(segment_tag | 0x20, inner));
            } else {
                let content: Vec<u8> = if bits {
                    std::iter::once(chunk_unused)
                        .chain(chunk.iter().copied())
                        .collect()
                } else {
                    chunk.to_vec()
                };
                out.extend(self.wrap(segment_tag, content));
            }
            rest = after;
            if last {
                return out;
            }
        }
    }

    fn ber(&mut self, tree: &Tree) -> Vec<u8> {
        match tree {
            Tree::Constructed(tag, children) => {
                let content = children.iter().flat_map(|c| self.ber(c)).collect();
                self.wrap(*tag, content)
            }
            Tree::Primitive(tag, content) => {
                let splittable = matches!(tag, 0x03 | 0x04 | 0x0C | 0x13 | 0x16 | 0x1E);
                if !splittable || self.pick(2) == 0 {
                    return [vec![*tag], self.length(content.len()), content.clone()].concat();
                }
                let segments = if *tag == 0x03 {
                    let (unused, data) = content.split_first().unwrap_or((&0, &[]));
                    self.segments(true, data, *unused, 0)
                } else {
                    self.segments(false, content, 0, 0)
                };
                self.wrap(tag | 0x20, segments)
            }
        }
    }
}

proptest! {
    #[test]
    fn der_is_returned_borrowed_and_unchanged(tree in tree()) {
        let der = der(&tree);
        let normalised = normalize(&der).expect("DER is valid BER");
        prop_assert!(matches!(normalised, Cow::Borrowed(_)));
        prop_assert_eq!(normalised.as_ref(), der.as_slice());
    }

    #[test]
    fn ber_of_a_der_tree_normalises_back_to_it(tree in tree(), seed in 1u64..) {
        let der = der(&tree);
        let ber = Choices(seed).ber(&tree);
        let normalised = normalize(&ber).expect("the re-encoding is valid BER");
        prop_assert_eq!(normalised.as_ref(), der.as_slice());
        // And normalising the result changes nothing more.
        prop_assert!(matches!(normalize(&normalised), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn truncated_ber_is_an_error_not_a_panic(tree in tree(), seed in 1u64.., cut in any::<prop::sample::Index>()) {
        let ber = Choices(seed).ber(&tree);
        let cut = cut.index(ber.len());
        prop_assert!(normalize(&ber[..cut]).is_err());
    }
}
