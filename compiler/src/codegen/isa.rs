//! Choosing and configuring the Cranelift target.

use crate::error::{CompileError, Result};
use cmc_runtime::abi::CompileSettings;
use cranelift_codegen::isa::{self, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use std::str::FromStr;
use target_lexicon::Triple;

/// Builds the ISA for `target` (the host when `None`) with `settings`.
///
/// For the host, CPU features are detected; for another target, a
/// conservative baseline is used (x86-64-v2 on x86_64, the vector extension
/// on riscv64).
pub fn build_isa(target: Option<&str>, settings: &CompileSettings) -> Result<OwnedTargetIsa> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| CompileError::Target(format!("cranelift setting {name}={value}: {e}")))
    };
    set(&mut flags, "opt_level", settings.opt_level.as_str())?;
    // Traps walk frames through frame pointers.
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(&mut flags, "unwind_info", "false")?;
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    set(&mut flags, "enable_probestack", "false")?;
    // A function may return more values than there are return registers
    // (found by the differential fuzzer): the rest go through a return area
    // Cranelift adds. Callers and callees are all compiled by the same cmc.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    let shared = settings::Flags::new(flags);

    let builder = match target {
        None => cranelift_native::builder_with_options(true)
            .map_err(|e| CompileError::Target(format!("host CPU not supported: {e}")))?,
        Some(triple) => {
            let triple = Triple::from_str(triple)
                .map_err(|e| CompileError::Target(format!("target `{triple}`: {e}")))?;
            let mut builder = isa::lookup(triple.clone())
                .map_err(|e| CompileError::Target(format!("target `{triple}`: {e}")))?;
            // x86-64-v2 on x86_64; on riscv64 the vector extension, which
            // SIMD code needs (and the RVA23 profile makes mandatory).
            let baseline: &[&str] = match triple.architecture {
                target_lexicon::Architecture::X86_64 => &[
                    "has_sse3",
                    "has_ssse3",
                    "has_sse41",
                    "has_sse42",
                    "has_popcnt",
                ],
                target_lexicon::Architecture::Riscv64(_) => &["has_v"],
                _ => &[],
            };
            for feature in baseline {
                builder
                    .enable(feature)
                    .map_err(|e| CompileError::Target(format!("{feature}: {e}")))?;
            }
            builder
        }
    };
    let isa = builder
        .finish(shared)
        .map_err(|e| CompileError::Target(e.to_string()))?;
    if isa.pointer_bytes() != 8 {
        return Err(CompileError::Target(format!(
            "{}: only 64-bit targets are supported",
            isa.triple()
        )));
    }
    Ok(isa)
}

/// The enabled boolean ISA flags, which the loader checks against the CPU.
pub fn isa_features(isa: &dyn isa::TargetIsa) -> Vec<String> {
    isa.isa_flags()
        .iter()
        .filter(|v| v.as_bool() == Some(true))
        .map(|v| v.name.to_owned())
        .collect()
}

/// Whether code for `isa` can refer to the address of another module's
/// function (the test of a fixed call between modules): the artifact
/// linker resolves those references on x86-64 and aarch64.
pub fn supports_fixed_calls(isa: &dyn isa::TargetIsa) -> bool {
    matches!(
        isa.triple().architecture,
        target_lexicon::Architecture::X86_64 | target_lexicon::Architecture::Aarch64(_)
    )
}
