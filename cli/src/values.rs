//! Command-line values: parsing arguments by type and printing results.

use anyhow::{Result, bail};
use cmc_runtime::{Val, ValType};

/// Parses `text` as a value of type `ty`. Integers accept decimal (signed or
/// unsigned) and `0x` hex; floats accept decimal, `inf`, `-inf` and `nan`.
pub fn parse_val(text: &str, ty: ValType) -> Result<Val> {
    let int = |bits: u32| -> Result<u64> {
        let (neg, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let magnitude = match digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
            None => digits.replace('_', "").parse::<u64>(),
        };
        let Ok(magnitude) = magnitude else {
            bail!("`{text}` is not an integer");
        };
        let max = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let min_neg = 1u64 << (bits - 1);
        if (neg && magnitude > min_neg) || (!neg && magnitude > max) {
            bail!("`{text}` does not fit in i{bits}");
        }
        Ok(if neg {
            magnitude.wrapping_neg()
        } else {
            magnitude
        })
    };
    let float = || -> Result<f64> {
        match text.parse::<f64>() {
            Ok(v) => Ok(v),
            Err(_) => bail!("`{text}` is not a number"),
        }
    };
    Ok(match ty {
        ValType::I32 => Val::I32(int(32)? as u32 as i32),
        ValType::I64 => Val::I64(int(64)? as i64),
        ValType::F32 => Val::F32((float()? as f32).to_bits()),
        ValType::F64 => Val::F64(float()?.to_bits()),
        other => bail!("arguments of type {other} cannot be given on the command line"),
    })
}

/// Formats a result: integers in signed decimal, floats in shortest
/// round-trip decimal.
pub fn format_val(val: &Val) -> String {
    match *val {
        Val::I32(v) => v.to_string(),
        Val::I64(v) => v.to_string(),
        Val::F32(bits) => f32::from_bits(bits).to_string(),
        Val::F64(bits) => f64::from_bits(bits).to_string(),
        Val::V128(v) => format!("{v:#034x}"),
        Val::FuncRef(None) | Val::ExternRef(None) => "null".into(),
        Val::FuncRef(Some(_)) => "<funcref>".into(),
        Val::ExternRef(Some(_)) => "<externref>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert_eq!(parse_val("-1", ValType::I32).unwrap(), Val::I32(-1));
        assert_eq!(parse_val("4294967295", ValType::I32).unwrap(), Val::I32(-1));
        assert_eq!(parse_val("0x10", ValType::I64).unwrap(), Val::I64(16));
        assert_eq!(
            parse_val("-9223372036854775808", ValType::I64).unwrap(),
            Val::I64(i64::MIN)
        );
        assert!(parse_val("4294967296", ValType::I32).is_err());
        assert!(parse_val("-2147483649", ValType::I32).is_err());
        assert!(parse_val("x", ValType::I32).is_err());
    }

    #[test]
    fn floats() {
        assert_eq!(
            parse_val("1.5", ValType::F64).unwrap(),
            Val::F64(1.5f64.to_bits())
        );
        assert_eq!(format_val(&Val::F32(0.1f32.to_bits())), "0.1");
        assert_eq!(format_val(&Val::F64((-0.0f64).to_bits())), "-0");
        assert!(parse_val("one", ValType::F32).is_err());
    }
}
