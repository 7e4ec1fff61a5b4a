//! The four whole-call conversions a host call needs, built on
//! `lift_flat_values` and `lower_flat_values` of `CanonicalABI.md` as
//! `canon_lift` and `canon_lower` use them for synchronous functions:
//!
//! - the host calls a lifted export: [`lower_params`] into the callee, run
//!   the core function, then [`lift_results`] out of it (then post-return);
//! - wasm calls a host import through `canon lower`: [`lift_params`] out of
//!   the caller, run the host function, then [`lower_results`] into the
//!   caller (through [`return_pointer`] when results spill).
//!
//! Parameters beyond [`MAX_FLAT_PARAMS`] core values travel in memory: the
//! host allocates them with `realloc` in the first case and reads them
//! through the pointer wasm passes in the second. Results beyond
//! [`MAX_FLAT_RESULTS`] are returned as a pointer by a lifted export, and
//! written through a caller-supplied pointer for a lowered import.

use super::context::{LiftContext, LowerContext};
use super::error::CanonError;
use super::flatten::{MAX_FLAT_ASYNC_PARAMS, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, flat_count_all};
use super::lift::lift_flat_values;
use super::lower::{SpillTo, lower_flat_values};
use super::memory::{FlatReader, core_type_name};
use super::types::{FuncType, InterfaceType, PtrType};
use super::values::Val;
use crate::vm::Val as CoreVal;

/// How a `canon lower` passes values: synchronously, or `async` (at most
/// [`MAX_FLAT_ASYNC_PARAMS`] flat parameters, the result always through the
/// trailing return pointer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lowering {
    /// A synchronous lower.
    Sync,
    /// An async lower.
    Async,
}

impl Lowering {
    /// The most core parameters passed flat (`max_flat_params`).
    fn max_flat_params(self) -> usize {
        match self {
            Lowering::Sync => MAX_FLAT_PARAMS,
            Lowering::Async => MAX_FLAT_ASYNC_PARAMS,
        }
    }

    /// The most core results returned flat (`max_flat_results`).
    fn max_flat_results(self) -> usize {
        match self {
            Lowering::Sync => MAX_FLAT_RESULTS,
            Lowering::Async => 0,
        }
    }
}

fn arity(what: &'static str, expected: usize, found: usize) -> Result<(), CanonError> {
    if expected == found {
        Ok(())
    } else {
        Err(CanonError::ArityMismatch {
            what,
            expected,
            found,
        })
    }
}

/// Lowers the host's arguments for a call of a lifted export: checks them
/// against the parameter types, then flattens them, or stores them in memory
/// allocated with the callee's `realloc` and passes that pointer when they
/// exceed [`MAX_FLAT_PARAMS`] core values.
///
/// The core function's arguments are appended to `out`, which callers on a
/// hot path reuse from call to call.
pub fn lower_params<C: LowerContext>(
    cx: &mut C,
    ft: &FuncType,
    args: &[Val],
    out: &mut Vec<CoreVal>,
) -> Result<(), C::Error> {
    arity("arguments", ft.params.len(), args.len())?;
    for ((name, ty), arg) in ft.params.iter().zip(args) {
        arg.matches_at(ty, name)?;
    }
    let values = args.iter().zip(ft.param_types());
    lower_flat_values(cx, MAX_FLAT_PARAMS, values, SpillTo::Allocate, out)
}

/// The number of core values `types` pass as: flat, or one pointer beyond
/// `max_flat` (what `flatten_functype` counts, without building the list).
fn flat_or_pointer<'t>(types: impl Iterator<Item = &'t InterfaceType>, max_flat: usize) -> usize {
    match flat_count_all(types) {
        n if n > max_flat => 1,
        n => n,
    }
}

/// The number of core results of a lifted export of type `ft`.
fn lifted_result_count(ft: &FuncType) -> usize {
    flat_or_pointer(ft.result_types().iter(), MAX_FLAT_RESULTS)
}

/// The number of core parameters of a lowered import of type `ft`: its
/// arguments, plus the return pointer when its result spills.
fn lowered_param_count(ft: &FuncType, lowering: Lowering) -> usize {
    let retptr = flat_count_all(ft.result_types()) > lowering.max_flat_results();
    flat_or_pointer(ft.param_types(), lowering.max_flat_params()) + usize::from(retptr)
}

/// Lifts the result of a lifted export from the core function's results:
/// flat, or read through the returned pointer (checked for alignment and
/// bounds) when it exceeds [`MAX_FLAT_RESULTS`] core values.
pub fn lift_results<C: LiftContext>(
    cx: &mut C,
    ft: &FuncType,
    flat: &[CoreVal],
) -> Result<Option<Val>, C::Error> {
    arity("core results", lifted_result_count(ft), flat.len())?;
    let mut result = None;
    lift_flat_values(
        cx,
        MAX_FLAT_RESULTS,
        &mut FlatReader::new(flat),
        ft.result_types().iter(),
        "results",
        |v| result = Some(v),
    )?;
    Ok(result)
}

/// Lifts the arguments of a call from wasm to a host import: flat, or read
/// through the argument pointer (checked for alignment and bounds) when they
/// exceed [`MAX_FLAT_PARAMS`] core values.
///
/// `flat` is the lowered import's whole core argument list, including the
/// trailing return pointer when results spill; get that one with
/// [`return_pointer`].
pub fn lift_params<C: LiftContext>(
    cx: &mut C,
    ft: &FuncType,
    flat: &[CoreVal],
) -> Result<Vec<Val>, C::Error> {
    lift_params_as(cx, ft, flat, Lowering::Sync)
}

/// [`lift_params`] for a lower of kind `lowering`.
pub fn lift_params_as<C: LiftContext>(
    cx: &mut C,
    ft: &FuncType,
    flat: &[CoreVal],
    lowering: Lowering,
) -> Result<Vec<Val>, C::Error> {
    arity(
        "core arguments",
        lowered_param_count(ft, lowering),
        flat.len(),
    )?;
    let mut args = Vec::with_capacity(ft.params.len());
    lift_flat_values(
        cx,
        lowering.max_flat_params(),
        &mut FlatReader::new(flat),
        ft.param_types(),
        "parameters",
        |v| args.push(v),
    )?;
    Ok(args)
}

/// The return pointer among a lowered import's core arguments, of type
/// `pt`: the last one when the results exceed [`MAX_FLAT_RESULTS`] core
/// values, else `None`.
pub fn return_pointer(
    ft: &FuncType,
    flat_args: &[CoreVal],
    pt: PtrType,
) -> Result<Option<u64>, CanonError> {
    return_pointer_as(ft, flat_args, pt, Lowering::Sync)
}

/// [`return_pointer`] for a lower of kind `lowering`.
pub fn return_pointer_as(
    ft: &FuncType,
    flat_args: &[CoreVal],
    pt: PtrType,
    lowering: Lowering,
) -> Result<Option<u64>, CanonError> {
    if flat_count_all(ft.result_types()) <= lowering.max_flat_results() {
        return Ok(None);
    }
    match (pt, flat_args.last()) {
        (PtrType::I32, Some(CoreVal::I32(ptr))) => Ok(Some(u64::from(*ptr as u32))),
        (PtrType::I64, Some(CoreVal::I64(ptr))) => Ok(Some(*ptr as u64)),
        (_, Some(other)) => Err(CanonError::FlatTypeMismatch {
            index: flat_args.len() - 1,
            expected: pt.flat(),
            found: core_type_name(other),
        }),
        (_, None) => Err(CanonError::MissingReturnPointer),
    }
}

/// Lowers a host import's result into the calling instance: checks it
/// against the result type, then appends it flat to `out`, or, when it
/// exceeds [`MAX_FLAT_RESULTS`] core values, stores it through `retptr`
/// (which must be aligned and in bounds) and appends nothing.
pub fn lower_results<C: LowerContext>(
    cx: &mut C,
    ft: &FuncType,
    result: Option<&Val>,
    retptr: Option<u64>,
    out: &mut Vec<CoreVal>,
) -> Result<(), C::Error> {
    lower_results_as(cx, ft, result, retptr, out, Lowering::Sync)
}

/// [`lower_results`] for a lower of kind `lowering`.
pub fn lower_results_as<C: LowerContext>(
    cx: &mut C,
    ft: &FuncType,
    result: Option<&Val>,
    retptr: Option<u64>,
    out: &mut Vec<CoreVal>,
    lowering: Lowering,
) -> Result<(), C::Error> {
    match (&ft.result, result) {
        (Some(ty), Some(v)) => v.matches_at(ty, "result")?,
        (None, None) => {}
        (expected, found) => arity(
            "results",
            usize::from(expected.is_some()),
            usize::from(found.is_some()),
        )?,
    }
    let max_flat = lowering.max_flat_results();
    let spill = if flat_count_all(ft.result_types()) > max_flat {
        SpillTo::Pointer(retptr.ok_or(CanonError::MissingReturnPointer)?)
    } else {
        SpillTo::Allocate
    };
    let values = result.into_iter().zip(ft.result_types());
    lower_flat_values(cx, max_flat, values, spill, out)
}
