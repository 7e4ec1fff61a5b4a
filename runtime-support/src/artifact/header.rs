//! The checks an artifact header must pass before anything else is read.

use super::ArtifactError;
use crate::abi::{self, ArtifactHeader, ArtifactKind, CompileSettings};

fn mismatch(field: &'static str, found: impl ToString, expected: impl ToString) -> ArtifactError {
    ArtifactError::Mismatch {
        field,
        found: found.to_string(),
        expected: expected.to_string(),
    }
}

/// Refuses an artifact written by another format, version, target, CPU
/// feature set or compile settings, or of another kind than `kind`.
pub(crate) fn check_header(
    header: &ArtifactHeader,
    settings: &CompileSettings,
    kind: ArtifactKind,
) -> Result<(), ArtifactError> {
    if header.magic != abi::ARTIFACT_MAGIC {
        return Err(ArtifactError::NotAnArtifact(
            "bad magic in the header".into(),
        ));
    }
    if header.format_version != abi::ARTIFACT_FORMAT_VERSION {
        return Err(mismatch(
            "artifact format version",
            header.format_version,
            abi::ARTIFACT_FORMAT_VERSION,
        ));
    }
    if header.cmc_version != abi::CMC_VERSION {
        return Err(mismatch(
            "cmc version",
            &header.cmc_version,
            abi::CMC_VERSION,
        ));
    }
    let host = target_lexicon::HOST.to_string();
    if header.target != host {
        return Err(mismatch("target", &header.target, host));
    }
    for feature in &header.isa_features {
        match host_has_feature(feature) {
            Some(true) => {}
            Some(false) => {
                return Err(mismatch("CPU feature", feature, "a feature this CPU lacks"));
            }
            None => return Err(mismatch("ISA flag", feature, "a flag this runtime knows")),
        }
    }
    if header.settings.opt_level != settings.opt_level {
        return Err(mismatch(
            "optimization level",
            header.settings.opt_level,
            settings.opt_level,
        ));
    }
    if header.settings.epoch_interruption != settings.epoch_interruption {
        let (built, runs) = match settings.epoch_interruption {
            true => (
                "without",
                "needs them: rebuild it with `cmc build -W epoch-interruption=y`",
            ),
            false => (
                "with",
                "does not check them: enable `Config::epoch_interruption`",
            ),
        };
        return Err(ArtifactError::Settings(format!(
            "the artifact was built {built} epoch-interruption checks, and this engine {runs}"
        )));
    }
    if header.settings.consume_fuel != settings.consume_fuel {
        let (built, runs) = match settings.consume_fuel {
            true => (
                "without",
                "needs it: rebuild it with `cmc build -W consume-fuel=y`",
            ),
            false => ("with", "does not meter fuel: enable `Config::consume_fuel`"),
        };
        return Err(ArtifactError::Settings(format!(
            "the artifact was built {built} fuel metering, and this engine {runs}"
        )));
    }
    if header.settings.explicit_bounds_checks != settings.explicit_bounds_checks {
        return Err(mismatch(
            "explicit bounds checks",
            header.settings.explicit_bounds_checks,
            settings.explicit_bounds_checks,
        ));
    }
    if header.kind != kind {
        return Err(mismatch("kind", header.kind, kind));
    }
    Ok(())
}

/// Whether the host CPU has the feature a Cranelift ISA flag asks for;
/// `None` for a flag this runtime does not know.
fn host_has_feature(flag: &str) -> Option<bool> {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! x86 {
            ($($flag:literal => $feat:tt),* $(,)?) => {
                match flag {
                    $($flag => Some(std::arch::is_x86_feature_detected!($feat)),)*
                    _ => None,
                }
            };
        }
        x86! {
            "has_sse3" => "sse3", "has_ssse3" => "ssse3", "has_cmpxchg16b" => "cmpxchg16b",
            "has_sse41" => "sse4.1", "has_sse42" => "sse4.2", "has_avx" => "avx",
            "has_avx2" => "avx2", "has_fma" => "fma", "has_avx512bitalg" => "avx512bitalg",
            "has_avx512dq" => "avx512dq", "has_avx512vl" => "avx512vl",
            "has_avx512vbmi" => "avx512vbmi", "has_avx512f" => "avx512f",
            "has_avx512vnni" => "avx512vnni", "has_avx_vnni" => "avxvnni",
            "has_popcnt" => "popcnt", "has_bmi1" => "bmi1", "has_bmi2" => "bmi2",
            "has_lzcnt" => "lzcnt",
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! arm {
            ($($flag:literal => $feat:tt),* $(,)?) => {
                match flag {
                    $($flag => Some(std::arch::is_aarch64_feature_detected!($feat)),)*
                    // Return-address signing uses hint-space instructions that
                    // run as no-ops where unsupported.
                    "sign_return_address" | "sign_return_address_all"
                    | "sign_return_address_with_bkey" | "use_bti" => Some(true),
                    _ => None,
                }
            };
        }
        arm! { "has_lse" => "lse", "has_pauth" => "paca", "has_fp16" => "fp16" }
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = flag;
        None
    }
}
