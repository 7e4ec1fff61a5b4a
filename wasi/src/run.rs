//! Running a command component: its `wasi:cli/run` export.

use crate::cli::I32Exit;
use crate::host::WasiView;
use cmc_runtime::component::{Instance, Val};
use cmc_runtime::{Error, Store};

/// Calls the instance's `wasi:cli/run` export (of any `0.2.x`) and returns
/// the process exit status it asks for: 0 when `run` returns `ok`, 1 for
/// `err`, or the status the guest passed to `wasi:cli/exit`.
pub fn run<T: WasiView>(store: &mut Store<T>, instance: &Instance) -> Result<i32, Error> {
    let name = instance
        .export_names(&*store)
        .into_iter()
        .find(|n| n.starts_with("wasi:cli/run@0.2."))
        .ok_or_else(|| Error::Usage("the component does not export `wasi:cli/run@0.2.x`".into()))?;
    let func = instance
        .get_func(&*store, &[&name, "run"])
        .ok_or_else(|| Error::Usage(format!("`{name}` has no function `run`")))?;
    let mut result = [Val::Bool(false)];
    match func.call(&mut *store, &[], &mut result) {
        Ok(()) => Ok(match result[0] {
            Val::Result(Ok(_)) => 0,
            _ => 1,
        }),
        Err(e) => match I32Exit::of(&e) {
            Some(I32Exit(code)) => Ok(code),
            None => Err(e),
        },
    }
}
