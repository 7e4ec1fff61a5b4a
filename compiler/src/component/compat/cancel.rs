//! The `cancel?` immediate of the canonical built-ins that can suspend.
//!
//! The Binary.md of the reference scripts' snapshot encodes `cancel?` as
//! `0x00` or `0x01` (cancellable), and `binary/binary.wast` uses `0x01`;
//! component-model#716 has since removed `cancellable` (the byte stays and
//! must be `0x00`), and wasmparser 0.263 follows it. [`normalize`] clears
//! the flag so that the rest of the binary is parsed and validated as
//! usual: such a built-in then behaves as #716 says every one does, never
//! cancellable (see docs/decisions.md).

use std::borrow::Cow;
use wasmparser::{BinaryReader, CanonicalFunction, Parser, Payload};

/// The built-ins whose opcode is followed by a `cancel?` byte.
const WITH_CANCEL: [u8; 8] = [
    0x20, // waitable-set.wait, then a memory index
    0x21, // waitable-set.poll, then a memory index
    0x0c, // thread.yield
    0x29, // thread.suspend
    0x2a, // thread.suspend-then-resume
    0x2b, // thread.yield-then-resume
    0x2c, // thread.suspend-then-promote
    0x2d, // thread.yield-then-promote
];

/// `wasm` with every `cancel?` byte of `0x01` cleared to `0x00`.
///
/// Malformed input comes back unchanged: the real parse reports it.
pub fn normalize(wasm: &[u8]) -> Cow<'_, [u8]> {
    let flags = cancellable_bytes(wasm).unwrap_or_default();
    if flags.is_empty() {
        return Cow::Borrowed(wasm);
    }
    let mut copy = wasm.to_vec();
    for at in flags {
        copy[at] = 0x00;
    }
    Cow::Owned(copy)
}

/// Offsets of the `cancel?` bytes set to `0x01`, in every canonical section
/// of the root and nested components.
fn cancellable_bytes(wasm: &[u8]) -> wasmparser::Result<Vec<usize>> {
    let mut flags = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let Payload::ComponentCanonicalSection(section) = payload? else {
            continue;
        };
        let range = section.range();
        let (start, end) = (range.start as usize, range.end as usize);
        let mut reader = BinaryReader::new(&wasm[start..end], range.start);
        for _ in 0..reader.read_var_u32()? {
            let opcode = reader.clone().read_u8()?;
            if !WITH_CANCEL.contains(&opcode) {
                reader.read::<CanonicalFunction>()?;
                continue;
            }
            reader.read_u8()?;
            let at = reader.original_position() as usize;
            if reader.read_u8()? == 0x01 {
                flags.push(at);
            }
            if matches!(opcode, 0x20 | 0x21) {
                reader.read_var_u32()?;
            }
        }
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clears_only_the_cancel_byte() {
        let wasm = wat::parse_str(
            r#"(component
                (core module $m (memory (export "m") 1))
                (core instance $i (instantiate $m))
                (alias core export $i "m" (core memory $mem))
                (core func (canon waitable-set.poll (memory $mem)))
                (core func (canon thread.yield)))"#,
        )
        .unwrap();
        assert!(matches!(normalize(&wasm), Cow::Borrowed(_)));

        // Set the `cancel?` byte of both built-ins by hand, as a producer
        // following the current Binary.md would.
        let poll = wasm
            .windows(3)
            .position(|w| w == [0x21, 0x00, 0x00])
            .unwrap();
        let mut flagged = wasm.clone();
        flagged[poll + 1] = 0x01;
        let yield_ = wasm.windows(2).rposition(|w| w == [0x0c, 0x00]).unwrap();
        flagged[yield_ + 1] = 0x01;
        assert!(
            wasmparser::Validator::new_with_features(crate::component::component_features())
                .validate_all(&flagged)
                .is_err()
        );
        assert_eq!(normalize(&flagged).as_ref(), wasm.as_slice());
    }

    #[test]
    fn leaves_malformed_input_alone() {
        let bad = b"\0asm\x0d\x00\x01\x00\x08\x05\x01\x21";
        assert!(matches!(normalize(bad), Cow::Borrowed(_)));
    }
}
