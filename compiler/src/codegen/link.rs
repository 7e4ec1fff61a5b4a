//! Laying out compiled functions in one text section and resolving the
//! calls between them, so the artifact needs no relocation at load time.
//! References to other modules of a component ([`ForeignReloc`]) are
//! resolved once the component's modules are laid out ([`patch_foreign`]).

use crate::error::{CompileError, Result};
use crate::translate::{ForeignFunc, NS_WASM_FUNC, trap_kind};
use cmc_runtime::abi::{CodeRange, DefinedFuncIndex, PrimaryMap, TrapSite};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::{self, ExternalName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{CompiledCode, FinalizedMachReloc, FinalizedRelocTarget};

/// A site to patch: where, how, and which function it refers to.
pub struct CallReloc<T> {
    offset: u32,
    kind: Reloc,
    addend: i64,
    target: T,
}

impl<T> CallReloc<T> {
    /// Cranelift's relocation `r`, which refers to `target`.
    fn new(r: &FinalizedMachReloc, target: T) -> CallReloc<T> {
        CallReloc {
            offset: r.offset,
            kind: r.kind,
            addend: r.addend,
            target,
        }
    }
}

/// A reference to a function of another module of the component, at
/// `offset` in its module's text.
pub type ForeignReloc = CallReloc<ForeignFunc>;

/// Machine code of one function before linking.
pub struct CompiledFunction {
    code: Vec<u8>,
    relocs: Vec<CallReloc<DefinedFuncIndex>>,
    foreign: Vec<ForeignReloc>,
    traps: Vec<TrapSite>,
}

impl CompiledFunction {
    pub fn new(compiled: &CompiledCode, func: &ir::Function) -> Result<CompiledFunction> {
        let buffer = &compiled.buffer;
        let (mut relocs, mut foreign) = (Vec::new(), Vec::new());
        for r in buffer.relocs() {
            match &r.target {
                FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => {
                    let name = &func.params.user_named_funcs()[*name];
                    if name.namespace == NS_WASM_FUNC {
                        relocs.push(CallReloc::new(r, DefinedFuncIndex::from_u32(name.index)));
                    } else if let Some(f) = ForeignFunc::from_name(name) {
                        foreign.push(CallReloc::new(r, f));
                    } else {
                        return Err(CompileError::Codegen(format!(
                            "call to unexpected symbol {name:?}"
                        )));
                    }
                }
                other => {
                    return Err(CompileError::Codegen(format!(
                        "unsupported relocation target {other:?} (kind {:?})",
                        r.kind
                    )));
                }
            }
        }
        let traps = buffer
            .traps()
            .iter()
            .map(|t| {
                let kind = trap_kind(t.code).ok_or_else(|| {
                    CompileError::Codegen(format!("unexpected trap code {:?}", t.code))
                })?;
                Ok(TrapSite {
                    offset: t.offset,
                    code: kind.to_u8(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(CompiledFunction {
            code: buffer.data().to_vec(),
            relocs,
            foreign,
            traps,
        })
    }
}

/// The linked text and where everything landed.
pub struct Linked {
    pub text: Vec<u8>,
    pub functions: PrimaryMap<DefinedFuncIndex, CodeRange>,
    pub entries: Vec<CodeRange>,
    pub exits: Vec<CodeRange>,
    pub traps: Vec<TrapSite>,
    /// The references to other modules' functions, by offset in `text`.
    pub foreign: Vec<ForeignReloc>,
}

/// Concatenates functions, then entry trampolines, then exit trampolines,
/// and patches every call to a defined function.
pub fn link(
    isa: &dyn TargetIsa,
    functions: &PrimaryMap<DefinedFuncIndex, CompiledFunction>,
    entries: &[CompiledFunction],
    exits: &[CompiledFunction],
) -> Result<Linked> {
    let align = isa.function_alignment().preferred.max(16) as usize;
    let mut text = Vec::new();
    let mut traps = Vec::new();
    let mut place = |f: &CompiledFunction| -> Result<CodeRange> {
        text.resize(text.len().next_multiple_of(align), 0);
        let start = u32::try_from(text.len())
            .map_err(|_| CompileError::Codegen("over 4 GiB of code".into()))?;
        text.extend_from_slice(&f.code);
        traps.extend(f.traps.iter().map(|t| TrapSite {
            offset: start + t.offset,
            code: t.code,
        }));
        Ok(CodeRange {
            start,
            len: f.code.len() as u32,
        })
    };
    let function_ranges = (functions.values())
        .map(&mut place)
        .collect::<Result<PrimaryMap<DefinedFuncIndex, _>>>()?;
    let entry_ranges = entries.iter().map(&mut place).collect::<Result<Vec<_>>>()?;
    let exit_ranges = exits.iter().map(&mut place).collect::<Result<Vec<_>>>()?;

    let all = (functions.values())
        .zip(function_ranges.values())
        .chain(entries.iter().zip(&entry_ranges))
        .chain(exits.iter().zip(&exit_ranges));
    let mut foreign = Vec::new();
    for (f, range) in all {
        for r in &f.relocs {
            let site = range.start + r.offset;
            let target = function_ranges.get(r.target).ok_or_else(|| {
                CompileError::Codegen(format!("call to unknown function {}", r.target))
            })?;
            patch(&mut text, site, r.kind, i64::from(target.start) + r.addend)?;
        }
        foreign.extend(f.foreign.iter().map(|r| CallReloc {
            offset: range.start + r.offset,
            ..*r
        }));
    }
    traps.sort_by_key(|t| t.offset);
    Ok(Linked {
        text,
        functions: function_ranges,
        entries: entry_ranges,
        exits: exit_ranges,
        traps,
        foreign,
    })
}

/// Patches the references to other modules in a component's `text`: each
/// comes with the offset in `text` of its module's text, and `start_of`
/// gives the offset in `text` of each function referred to.
pub fn patch_foreign(
    text: &mut [u8],
    relocs: impl IntoIterator<Item = (u32, ForeignReloc)>,
    start_of: impl Fn(ForeignFunc) -> Option<u32>,
) -> Result<()> {
    for (module_start, r) in relocs {
        let target = start_of(r.target).ok_or_else(|| {
            CompileError::Codegen(format!("reference to unknown function {:?}", r.target))
        })?;
        patch(
            text,
            module_start + r.offset,
            r.kind,
            i64::from(target) + r.addend,
        )?;
    }
    Ok(())
}

/// Writes the reference at `site` to `target` (both offsets in a text that
/// is mapped at a page boundary).
fn patch(text: &mut [u8], site: u32, kind: Reloc, target: i64) -> Result<()> {
    let delta = target - i64::from(site);
    let site = site as usize;
    let word = |text: &[u8]| u32::from_le_bytes(text[site..site + 4].try_into().unwrap());
    let range = |bits: u32| -> Result<()> {
        let limit = 1i64 << (bits - 1);
        if delta < -limit || delta >= limit {
            return Err(CompileError::Codegen(format!(
                "call displacement {delta} out of range for {kind:?}"
            )));
        }
        Ok(())
    };
    match kind {
        Reloc::X86CallPCRel4 | Reloc::X86PCRel4 => {
            range(32)?;
            text[site..site + 4].copy_from_slice(&(delta as i32).to_le_bytes());
        }
        Reloc::Arm64Call => {
            range(28)?;
            let word = (word(text) & 0xfc00_0000) | (((delta >> 2) as u32) & 0x03ff_ffff);
            text[site..site + 4].copy_from_slice(&word.to_le_bytes());
        }
        // adrp: the distance in 4 KiB pages, in immlo (bits 29-30) and
        // immhi (bits 5-23).
        Reloc::Aarch64AdrPrelPgHi21 => {
            let pages = (target >> 12) - (site as i64 >> 12);
            if !(-(1 << 20)..1 << 20).contains(&pages) {
                return Err(CompileError::Codegen(format!(
                    "page distance {pages} out of range for {kind:?}"
                )));
            }
            let pages = pages as u32;
            let word = (word(text) & 0x9f00_001f)
                | ((pages & 0x3) << 29)
                | (((pages >> 2) & 0x7_ffff) << 5);
            text[site..site + 4].copy_from_slice(&word.to_le_bytes());
        }
        // add: the offset within the page, in bits 10-21.
        Reloc::Aarch64AddAbsLo12Nc => {
            let word = (word(text) & 0xffc0_03ff) | (((target as u32) & 0xfff) << 10);
            text[site..site + 4].copy_from_slice(&word.to_le_bytes());
        }
        Reloc::RiscvCallPlt => {
            range(32)?;
            // auipc ra, hi20 ; jalr ra, lo12(ra)
            let hi = ((delta + 0x800) >> 12) as u32;
            let lo = (delta as u32) & 0xfff;
            let auipc = word(text);
            let jalr = u32::from_le_bytes(text[site + 4..site + 8].try_into().unwrap());
            let auipc = (auipc & 0xfff) | (hi << 12);
            let jalr = (jalr & 0x000f_ffff) | (lo << 20);
            text[site..site + 4].copy_from_slice(&auipc.to_le_bytes());
            text[site + 4..site + 8].copy_from_slice(&jalr.to_le_bytes());
        }
        other => {
            return Err(CompileError::Codegen(format!(
                "unsupported relocation kind {other:?}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where an `adrp` + `add` pair at `site` points, decoded.
    fn adrp_add_target(text: &[u8], site: usize) -> i64 {
        let word = |at: usize| u32::from_le_bytes(text[at..at + 4].try_into().unwrap());
        let adrp = word(site);
        let pages = ((adrp >> 29) & 0x3) | (((adrp >> 5) & 0x7_ffff) << 2);
        let pages = i64::from(((pages << 11) as i32) >> 11);
        let low = i64::from((word(site + 4) >> 10) & 0xfff);
        ((site as i64 >> 12) + pages) * 4096 + low
    }

    #[test]
    fn an_aarch64_address_is_patched_into_adrp_and_add() {
        // `adrp x20, 0` and `add x20, x20, #0`, at sites on either side of
        // their targets, across pages and within one.
        for (site, target) in [(0x1010, 0x35c8), (0x35c8, 0x1010), (0x200, 0x220), (0, 0)] {
            let mut text = vec![0; 0x4000];
            text[site..site + 4].copy_from_slice(&0x9000_0014u32.to_le_bytes());
            text[site + 4..site + 8].copy_from_slice(&0x9100_0294u32.to_le_bytes());
            patch(&mut text, site as u32, Reloc::Aarch64AdrPrelPgHi21, target).unwrap();
            patch(
                &mut text,
                site as u32 + 4,
                Reloc::Aarch64AddAbsLo12Nc,
                target,
            )
            .unwrap();
            assert_eq!(
                adrp_add_target(&text, site),
                target,
                "{site:#x} → {target:#x}"
            );
            // The registers are kept.
            assert_eq!(text[site] & 0x1f, 0x14);
            assert_eq!(
                u32::from_le_bytes(text[site + 4..site + 8].try_into().unwrap()) & 0x3ff,
                0x294
            );
        }
    }

    #[test]
    fn an_x86_64_address_is_patched_relative_to_the_end_of_its_field() {
        // `lea rax, [rip + 0]`: the field is the last 4 bytes, and the
        // relocation's addend (-4) makes it relative to the next instruction.
        let mut text = vec![0x48, 0x8d, 0x05, 0, 0, 0, 0, 0x90];
        text.resize(0x100, 0);
        patch(&mut text, 3, Reloc::X86CallPCRel4, 0x80 - 4).unwrap();
        let field = i32::from_le_bytes(text[3..7].try_into().unwrap());
        assert_eq!(7 + field as i64, 0x80);
    }
}
