//! `wasi:io/error`: the error a failed stream operation carries.

use crate::host::{WasiView, interface};
use crate::val::string_val;
use cmc_runtime::component::Linker;

/// The state of an `error` resource: the OS error behind it, which other
/// interfaces can "downcast" (`wasi:filesystem/types.filesystem-error-code`).
pub struct IoError(pub std::io::Error);

pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    interface(linker, "wasi:io/error")
        .resource::<IoError>("error")
        .func("[method]error.to-debug-string", |ctx, mut a| {
            let error = ctx.table.get::<IoError>(a.rep()?)?;
            Ok(string_val(error.0.to_string()))
        });
}
