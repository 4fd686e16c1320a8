//! BER to DER, as far as the bytes alone allow (X.690 §8 → §10): what foreign signers and key stores write
//! is read by the DER decoders the rest of the crate uses. OpenSSL's `cms -sign -stream`, KalkanCrypt's CMS
//! and the NCA's PKCS#12 files use indefinite lengths and constructed OCTET STRINGs.
//!
//! [`normalize`] changes three things and nothing else:
//! - indefinite lengths become definite (X.690 §10.1);
//! - constructed encodings of the universal string types (OCTET STRING, BIT STRING, the character strings
//!   and the times) are joined into one primitive encoding (§10.2);
//! - lengths are written in the fewest octets (§10.1).
//!
//! It does not sort SET OF elements (§11.6). A signature made over a SET OF (CMS signed attributes, RFC
//! 5652 §5.4; a certificate's RDNs) covers the order its signer encoded: OpenSSL verifies signed attributes
//! in the order received, and so does [`crate::cms::parse`], which keeps the attributes' bytes from the
//! normalised message. Sorting here would turn every such signature from an unsorting signer into a
//! failure while gaining nothing: the decoders accept either order.
//!
//! A context-specific tag over an OCTET STRING (`[0] IMPLICIT OCTET STRING`, e.g. PKCS#7's
//! encryptedContent) cannot be recognised without the schema: its constructed form stays constructed, with
//! its segments normalised, and the reader that knows the schema joins it (see [`crate::pkcs12`]).
//!
//! Bounded: no recursion (an explicit stack of at most [`MAX_DEPTH`] levels), every length checked against
//! the bytes that remain before it is used, no allocation sized by a declared length, and DER input (the
//! common case) is returned borrowed after one pass without allocating.

use std::borrow::Cow;

use crate::PkiError;

/// Nesting levels accepted. A CMS with certificates and a time-stamp token inside an unsigned attribute is
/// about 20 deep; PKCS#12 layers are normalised one at a time (each is an OCTET STRING's content).
pub const MAX_DEPTH: usize = 64;

/// The largest input accepted: normalised lengths are kept as `u32`, which keeps the bookkeeping of a
/// hostile input of tiny constructed elements at twice its size.
pub const MAX_INPUT: usize = u32::MAX as usize;

/// `input` (exactly one BER element) as DER, borrowed when it is DER already.
pub fn normalize(input: &[u8]) -> Result<Cow<'_, [u8]>, PkiError> {
    if input.len() > MAX_INPUT {
        return Err(PkiError::LimitExceeded(format!(
            "BER: {} bytes, at most {MAX_INPUT} are accepted",
            input.len()
        )));
    }
    // Pass 1: validate, and find out whether anything needs changing.
    let mut walker = Walker::new(input);
    while walker.next()?.is_some() {}
    if !walker.changed {
        return Ok(Cow::Borrowed(input));
    }
    let plan = measure(input)?;
    Ok(Cow::Owned(emit(input, &plan)?))
}

/// What pass 2 learns for pass 3: each constructed element's normalised content length (in the order the
/// elements open) and each joined BIT STRING's unused-bit count (in the same order).
struct Plan {
    lengths: Vec<u32>,
    unused_bits: Vec<u8>,
    total: usize,
}

/// Pass 2: the normalised content length of every constructed element, computed as each one closes.
fn measure(input: &[u8]) -> Result<Plan, PkiError> {
    struct Open {
        slot: usize,
        tag_len: usize,
        content: u64,
        bits: bool,
    }
    let mut plan = Plan {
        lengths: Vec::new(),
        unused_bits: Vec::new(),
        total: 0,
    };
    let mut open: Vec<Open> = Vec::with_capacity(MAX_DEPTH);
    let mut top_level: u64 = 0;
    let mut walker = Walker::new(input);
    while let Some(event) = walker.next()? {
        let add = match event {
            Event::Primitive { tag, content } => {
                (tag.len() + header_len(content.len()) + content.len()) as u64
            }
            Event::Segment { data } => data.len() as u64,
            Event::Open { tag, join } => {
                open.push(Open {
                    slot: plan.lengths.len(),
                    tag_len: tag.len(),
                    content: 0,
                    bits: join == Some(Join::Bits),
                });
                plan.lengths.push(0);
                continue;
            }
            Event::Close { unused_bits } => {
                let Some(closed) = open.pop() else {
                    return Err(PkiError::Malformed(
                        "BER: an element closed that was not open".into(),
                    ));
                };
                let content = closed.content + u64::from(closed.bits);
                let length = u32::try_from(content).map_err(|_| {
                    PkiError::LimitExceeded(format!("BER: a normalised length of {content} bytes"))
                })?;
                if let Some(slot) = plan.lengths.get_mut(closed.slot) {
                    *slot = length;
                }
                if let Some(unused) = unused_bits {
                    plan.unused_bits.push(unused);
                }
                (closed.tag_len + header_len(length as usize)) as u64 + content
            }
        };
        match open.last_mut() {
            Some(parent) => parent.content += add,
            None => top_level += add,
        }
    }
    plan.total = usize::try_from(top_level)
        .map_err(|_| PkiError::LimitExceeded(format!("BER: {top_level} bytes normalised")))?;
    Ok(plan)
}

/// Pass 3: the DER, written front to back with the lengths measured.
fn emit(input: &[u8], plan: &Plan) -> Result<Vec<u8>, PkiError> {
    let mut out = Vec::with_capacity(plan.total);
    let mut lengths = plan.lengths.iter();
    let mut unused_bits = plan.unused_bits.iter();
    let missing = || PkiError::Malformed("BER: the input changed between passes".into());
    let mut walker = Walker::new(input);
    while let Some(event) = walker.next()? {
        match event {
            Event::Primitive { tag, content } => {
                out.extend_from_slice(tag);
                push_length(&mut out, content.len());
                out.extend_from_slice(content);
            }
            Event::Open { tag, join } => {
                let length = *lengths.next().ok_or_else(missing)? as usize;
                match join {
                    None => out.extend_from_slice(tag),
                    Some(join) => {
                        // The universal string tags are single octets; clearing bit 6 makes it primitive.
                        out.push(tag.first().copied().unwrap_or_default() & !CONSTRUCTED);
                        push_length(&mut out, length);
                        if join == Join::Bits {
                            out.push(*unused_bits.next().ok_or_else(missing)?);
                        }
                        continue;
                    }
                }
                push_length(&mut out, length);
            }
            Event::Segment { data } => out.extend_from_slice(data),
            Event::Close { .. } => {}
        }
    }
    Ok(out)
}

const CONSTRUCTED: u8 = 0x20;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;

/// How a constructed string is joined: BIT STRING segments each start with an unused-bits octet
/// (X.690 §8.6.4); every other string type's segments are OCTET STRINGs (§8.7.3, §8.23.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Join {
    Octets,
    Bits,
}

/// The universal types X.690 encodes as strings, which BER may split into segments: BIT STRING, OCTET
/// STRING, ObjectDescriptor, UTF8String, NumericString … UniversalString, BMPString, and UTCTime and
/// GeneralizedTime (VisibleStrings, §8.25–8.26). 29 is CHARACTER STRING, a SEQUENCE in disguise.
fn join_of(tag: u8) -> Option<Join> {
    match tag & 0x1F {
        3 => Some(Join::Bits),
        4 | 7 | 12 | 18..=28 | 30 => Some(Join::Octets),
        _ => None,
    }
}

#[derive(Debug)]
enum Event<'a> {
    /// A primitive element outside any joined string.
    Primitive { tag: &'a [u8], content: &'a [u8] },
    /// A constructed element; `join` when it is a string whose segments follow.
    Open { tag: &'a [u8], join: Option<Join> },
    /// Data of a joined string (a BIT STRING segment without its unused-bits octet).
    Segment { data: &'a [u8] },
    /// The end of the innermost open element; a joined BIT STRING's unused-bit count.
    Close { unused_bits: Option<u8> },
}

struct Frame {
    /// Where a definite length ends; `None` until the end-of-contents octets.
    end: Option<usize>,
    /// How far this element's content may reach (its own end, or its container's).
    limit: usize,
    /// A nested segment of a joined string: closes without an event.
    transparent: bool,
}

/// The string being joined: which kind, and the unused bits of its last BIT STRING segment.
#[derive(Clone, Copy)]
struct Joining {
    join: Join,
    unused_bits: u8,
}

/// Walks one BER element, depth first, without recursion. Every pass runs the same walk.
struct Walker<'a> {
    input: &'a [u8],
    pos: usize,
    stack: Vec<Frame>,
    started: bool,
    joining: Option<Joining>,
    /// Whether DER differs from the input: an indefinite or long-winded length, or a constructed string.
    changed: bool,
}

fn malformed(what: &str, offset: usize) -> PkiError {
    PkiError::Malformed(format!("BER: {what} at offset {offset}"))
}

impl<'a> Walker<'a> {
    fn new(input: &'a [u8]) -> Self {
        Walker {
            input,
            pos: 0,
            stack: Vec::with_capacity(MAX_DEPTH),
            started: false,
            joining: None,
            changed: false,
        }
    }

    fn next(&mut self) -> Result<Option<Event<'a>>, PkiError> {
        loop {
            match self.stack.last() {
                Some(top) => {
                    let ends_here = match top.end {
                        Some(end) => self.pos == end,
                        None => {
                            self.pos + 2 <= top.limit
                                && self.input.get(self.pos..self.pos + 2) == Some(&[0, 0][..])
                        }
                    };
                    if ends_here {
                        if top.end.is_none() {
                            self.pos += 2;
                        }
                        if let Some(event) = self.close() {
                            return Ok(Some(event));
                        }
                        continue;
                    }
                }
                None if self.started => {
                    return if self.pos == self.input.len() {
                        Ok(None)
                    } else {
                        Err(malformed("data after the element", self.pos))
                    };
                }
                None => self.started = true,
            }
            let limit = self.stack.last().map_or(self.input.len(), |f| f.limit);
            let start = self.pos;
            let tag = self.tag(limit)?;
            let first = tag[0];
            if first == 0 {
                return Err(malformed(
                    "end-of-contents octets where no indefinite length is open",
                    start,
                ));
            }
            let constructed = first & CONSTRUCTED != 0;
            let length = self.length(limit, constructed, start)?;
            if let Some(joining) = self.joining {
                let segment = match joining.join {
                    Join::Bits => BIT_STRING,
                    Join::Octets => OCTET_STRING,
                };
                if tag != [segment] && tag != [segment | CONSTRUCTED] {
                    return Err(malformed(
                        &format!(
                            "a segment of a constructed string tagged {first:#04x}, not {segment:#04x}"
                        ),
                        start,
                    ));
                }
                if constructed {
                    self.open(length, limit, true, start)?;
                    continue;
                }
                let content = self.content(length);
                return self.segment(content, start).map(Some);
            }
            if !constructed {
                return Ok(Some(Event::Primitive {
                    tag,
                    content: self.content(length),
                }));
            }
            // Only a universal tag in the low-tag-number form names a string type.
            let join = (first & 0xC0 == 0 && tag.len() == 1)
                .then(|| join_of(first))
                .flatten();
            self.open(length, limit, false, start)?;
            if let Some(join) = join {
                self.changed = true;
                self.joining = Some(Joining {
                    join,
                    unused_bits: 0,
                });
            }
            return Ok(Some(Event::Open { tag, join }));
        }
    }

    /// The identifier octets at the current position (X.690 §8.1.2), at most five.
    fn tag(&mut self, limit: usize) -> Result<&'a [u8], PkiError> {
        let start = self.pos;
        let first = *self
            .input
            .get(start)
            .filter(|_| start < limit)
            .ok_or_else(|| malformed("an identifier past the end of its container", start))?;
        let mut end = start + 1;
        if first & 0x1F == 0x1F {
            // High tag number: base-128 octets, the last without bit 8.
            loop {
                let octet = *self
                    .input
                    .get(end)
                    .filter(|_| end < limit)
                    .ok_or_else(|| malformed("a tag number cut short", start))?;
                end += 1;
                if octet & 0x80 == 0 {
                    break;
                }
                if end - start >= 5 {
                    return Err(malformed("a tag number longer than four octets", start));
                }
            }
        }
        self.pos = end;
        Ok(&self.input[start..end])
    }

    /// The length octets (X.690 §8.1.3): `None` for the indefinite form. A definite length is checked
    /// against the bytes its container has left.
    fn length(
        &mut self,
        limit: usize,
        constructed: bool,
        start: usize,
    ) -> Result<Option<usize>, PkiError> {
        let at = self.pos;
        let first = *self
            .input
            .get(at)
            .filter(|_| at < limit)
            .ok_or_else(|| malformed("a length past the end of its container", start))?;
        self.pos += 1;
        let length = match first {
            0x00..=0x7F => usize::from(first),
            0x80 if constructed => {
                self.changed = true;
                return Ok(None);
            }
            0x80 => {
                return Err(malformed(
                    "an indefinite length on a primitive element",
                    start,
                ));
            }
            0xFF => return Err(malformed("the reserved length octet 0xff", at)),
            _ => {
                let count = usize::from(first & 0x7F);
                if count > 8 {
                    return Err(malformed(&format!("{count} length octets"), at));
                }
                let octets = self
                    .input
                    .get(self.pos..self.pos + count)
                    .filter(|_| self.pos + count <= limit)
                    .ok_or_else(|| {
                        malformed("length octets past the end of their container", at)
                    })?;
                self.pos += count;
                let value = octets
                    .iter()
                    .fold(0u64, |acc, &octet| (acc << 8) | u64::from(octet));
                let value = usize::try_from(value)
                    .map_err(|_| malformed(&format!("a length of {value}"), at))?;
                if value < 0x80 || octets.first() == Some(&0) {
                    self.changed = true;
                }
                value
            }
        };
        if length > limit - self.pos {
            return Err(malformed(
                &format!(
                    "a length of {length} where {} bytes remain in the container",
                    limit - self.pos
                ),
                start,
            ));
        }
        Ok(Some(length))
    }

    /// The content of a primitive element (its length already checked).
    fn content(&mut self, length: Option<usize>) -> &'a [u8] {
        let length = length.unwrap_or_default();
        let content = &self.input[self.pos..self.pos + length];
        self.pos += length;
        content
    }

    fn open(
        &mut self,
        length: Option<usize>,
        limit: usize,
        transparent: bool,
        start: usize,
    ) -> Result<(), PkiError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(malformed(
                &format!("nesting deeper than {MAX_DEPTH} levels"),
                start,
            ));
        }
        if transparent {
            self.changed = true;
        }
        let end = length.map(|length| self.pos + length);
        self.stack.push(Frame {
            end,
            limit: end.unwrap_or(limit),
            transparent,
        });
        Ok(())
    }

    /// Pops the innermost frame; the event it makes, unless it was a nested segment.
    fn close(&mut self) -> Option<Event<'a>> {
        let frame = self.stack.pop()?;
        if frame.transparent {
            return None;
        }
        let unused_bits = match self.joining.take() {
            Some(Joining {
                join: Join::Bits,
                unused_bits,
            }) => Some(unused_bits),
            _ => None,
        };
        Some(Event::Close { unused_bits })
    }

    /// A primitive segment of the string being joined; BIT STRING rules of X.690 §8.6.4 checked.
    fn segment(&mut self, content: &'a [u8], start: usize) -> Result<Event<'a>, PkiError> {
        let Some(joining) = self.joining.as_mut() else {
            return Err(malformed("a segment outside a string", start));
        };
        if joining.join == Join::Octets {
            return Ok(Event::Segment { data: content });
        }
        if joining.unused_bits != 0 {
            return Err(malformed(
                "a BIT STRING segment after one with unused bits (only the last may have them)",
                start,
            ));
        }
        let Some((&unused_bits, data)) = content.split_first() else {
            return Err(malformed(
                "a BIT STRING segment without its unused-bits octet",
                start,
            ));
        };
        if unused_bits > 7 || (data.is_empty() && unused_bits != 0) {
            return Err(malformed(
                &format!(
                    "{unused_bits} unused bits in a BIT STRING segment of {} octets",
                    data.len()
                ),
                start,
            ));
        }
        joining.unused_bits = unused_bits;
        Ok(Event::Segment { data })
    }
}

/// Octets a definite length of `n` takes.
fn header_len(n: usize) -> usize {
    if n < 0x80 {
        1
    } else {
        1 + (usize::BITS - n.leading_zeros()).div_ceil(8) as usize
    }
}

fn push_length(out: &mut Vec<u8>, n: usize) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let octets = n.to_be_bytes();
    let skip = (n.leading_zeros() / 8) as usize;
    out.push(0x80 | (octets.len() - skip) as u8);
    out.extend_from_slice(&octets[skip..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(input: &[u8]) -> Vec<u8> {
        match normalize(input) {
            Ok(Cow::Owned(out)) => out,
            other => panic!("expected a changed encoding, got {other:?}"),
        }
    }

    fn error(input: &[u8]) -> String {
        match normalize(input) {
            Err(e) => e.to_string(),
            Ok(out) => panic!("expected an error, got {out:?}"),
        }
    }

    #[test]
    fn der_is_borrowed() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xAA];
        assert!(matches!(normalize(&der), Ok(Cow::Borrowed(b)) if b == der));
    }

    #[test]
    fn indefinite_lengths_become_definite() {
        // SEQUENCE { [0] { INTEGER 5 } } with both lengths indefinite.
        let ber = [0x30, 0x80, 0xA0, 0x80, 0x02, 0x01, 0x05, 0, 0, 0, 0];
        assert_eq!(owned(&ber), [0x30, 0x05, 0xA0, 0x03, 0x02, 0x01, 0x05]);
    }

    #[test]
    fn constructed_octet_string_is_joined_through_nested_segments() {
        // X.690 §8.7.3.2's shape, with a nested constructed segment.
        let ber = [
            0x24, 0x80, 0x04, 0x02, 0x01, 0x02, 0x24, 0x04, 0x04, 0x02, 0x03, 0x04, 0x04, 0x00, 0,
            0,
        ];
        assert_eq!(owned(&ber), [0x04, 0x04, 0x01, 0x02, 0x03, 0x04]);
    }

    #[test]
    fn constructed_bit_string_keeps_the_last_unused_bits() {
        let ber = [
            0x23, 0x09, 0x03, 0x03, 0x00, 0x0A, 0x3B, 0x03, 0x02, 0x04, 0xF0,
        ];
        assert_eq!(owned(&ber), [0x03, 0x04, 0x04, 0x0A, 0x3B, 0xF0]);
        let early = [0x23, 0x08, 0x03, 0x02, 0x04, 0xF0, 0x03, 0x02, 0x00, 0x0A];
        assert!(error(&early).contains("only the last"), "{}", error(&early));
    }

    #[test]
    fn a_constructed_utf8_string_is_joined_from_octet_string_segments() {
        let ber = [0x2C, 0x80, 0x04, 0x01, b'a', 0x04, 0x01, b'b', 0, 0];
        assert_eq!(owned(&ber), [0x0C, 0x02, b'a', b'b']);
        let wrong = [0x2C, 0x80, 0x0C, 0x01, b'a', 0, 0];
        assert!(error(&wrong).contains("segment"));
    }

    #[test]
    fn long_form_lengths_become_minimal() {
        assert_eq!(owned(&[0x04, 0x81, 0x01, 0xAA]), [0x04, 0x01, 0xAA]);
        let mut long = vec![0x04, 0x83, 0x00, 0x01, 0x00];
        long.extend([7; 256]);
        let mut expected = vec![0x04, 0x82, 0x01, 0x00];
        expected.extend([7; 256]);
        assert_eq!(owned(&long), expected);
    }

    #[test]
    fn a_context_specific_constructed_string_stays_constructed() {
        // [0] IMPLICIT OCTET STRING in constructed form: only the schema knows it is a string.
        let ber = [
            0xA0, 0x80, 0x04, 0x01, 0xAA, 0x24, 0x80, 0x04, 0x01, 0xBB, 0, 0, 0, 0,
        ];
        assert_eq!(
            owned(&ber),
            [0xA0, 0x06, 0x04, 0x01, 0xAA, 0x04, 0x01, 0xBB]
        );
    }

    #[test]
    fn errors_name_the_offset() {
        assert!(error(&[0x30, 0x05, 0x02, 0x01]).contains("offset 0"));
        assert!(error(&[0x30, 0x80, 0x02, 0x01, 0x05]).contains("offset 5"));
        assert!(error(&[0x02, 0x80, 0, 0]).contains("primitive"));
        assert!(error(&[0x30, 0x02, 0x00, 0x00]).contains("end-of-contents"));
        assert!(error(&[0x02, 0x01, 0x05, 0x00]).contains("data after the element at offset 3"));
        assert!(error(&[]).contains("offset 0"));
        assert!(error(&[0x1F, 0x81, 0x82, 0x83, 0x84, 0x05, 0x00]).contains("four octets"));
        assert!(error(&[0x04, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]).contains("9 length octets"));
    }

    #[test]
    fn deep_nesting_is_refused_without_recursion() {
        let mut ber = Vec::new();
        for _ in 0..100_000 {
            ber.extend([0x30, 0x80]);
        }
        let message = error(&ber);
        assert!(
            message.contains(&format!("deeper than {MAX_DEPTH}")),
            "{message}"
        );
        assert!(message.contains(&format!("offset {}", 2 * MAX_DEPTH)));
        let mut at_limit = Vec::new();
        for _ in 0..MAX_DEPTH {
            at_limit.extend([0x30, 0x80]);
        }
        at_limit.extend(std::iter::repeat_n(0, 2 * MAX_DEPTH));
        assert_eq!(owned(&at_limit).len(), 2 * MAX_DEPTH);
    }

    #[test]
    fn length_octets() {
        for n in [0, 1, 127, 128, 255, 256, 65_535, 65_536, 16_777_216] {
            let mut out = Vec::new();
            push_length(&mut out, n);
            assert_eq!(out.len(), header_len(n), "{n}");
        }
    }
}
