//! Laying out compiled functions in one text section and resolving the
//! calls between them, so the artifact needs no relocation at load time.

use crate::error::{CompileError, Result};
use crate::translate::{NS_WASM_FUNC, trap_kind};
use cmc_runtime::abi::{CodeRange, DefinedFuncIndex, PrimaryMap, TrapSite};
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::ir::{self, ExternalName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{CompiledCode, FinalizedRelocTarget};

/// A call site to patch: where, how, and which defined function it targets.
struct CallReloc {
    offset: u32,
    kind: Reloc,
    addend: i64,
    target: DefinedFuncIndex,
}

/// Machine code of one function before linking.
pub struct CompiledFunction {
    code: Vec<u8>,
    relocs: Vec<CallReloc>,
    traps: Vec<TrapSite>,
}

impl CompiledFunction {
    pub fn new(compiled: &CompiledCode, func: &ir::Function) -> Result<CompiledFunction> {
        let buffer = &compiled.buffer;
        let mut relocs = Vec::new();
        for r in buffer.relocs() {
            let target = match &r.target {
                FinalizedRelocTarget::ExternalName(ExternalName::User(name)) => {
                    let name = &func.params.user_named_funcs()[*name];
                    if name.namespace != NS_WASM_FUNC {
                        return Err(CompileError::Codegen(format!(
                            "call to unexpected symbol {name:?}"
                        )));
                    }
                    DefinedFuncIndex::from_u32(name.index)
                }
                other => {
                    return Err(CompileError::Codegen(format!(
                        "unsupported relocation target {other:?} (kind {:?})",
                        r.kind
                    )));
                }
            };
            relocs.push(CallReloc {
                offset: r.offset,
                kind: r.kind,
                addend: r.addend,
                target,
            });
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
    for (f, range) in all {
        for r in &f.relocs {
            let site = range.start as usize + r.offset as usize;
            let target = function_ranges.get(r.target).ok_or_else(|| {
                CompileError::Codegen(format!("call to unknown function {}", r.target))
            })?;
            let delta = i64::from(target.start) + r.addend - site as i64;
            patch(&mut text, site, r.kind, delta)?;
        }
    }
    traps.sort_by_key(|t| t.offset);
    Ok(Linked {
        text,
        functions: function_ranges,
        entries: entry_ranges,
        exits: exit_ranges,
        traps,
    })
}

/// Writes a PC-relative call displacement `delta` (target − site) at `site`.
fn patch(text: &mut [u8], site: usize, kind: Reloc, delta: i64) -> Result<()> {
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
            let word = u32::from_le_bytes(text[site..site + 4].try_into().unwrap());
            let word = (word & 0xfc00_0000) | (((delta >> 2) as u32) & 0x03ff_ffff);
            text[site..site + 4].copy_from_slice(&word.to_le_bytes());
        }
        Reloc::RiscvCallPlt => {
            range(32)?;
            // auipc ra, hi20 ; jalr ra, lo12(ra)
            let hi = ((delta + 0x800) >> 12) as u32;
            let lo = (delta as u32) & 0xfff;
            let auipc = u32::from_le_bytes(text[site..site + 4].try_into().unwrap());
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
