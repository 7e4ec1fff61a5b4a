//! `wasi:io`: errors, pollables and byte streams, the base every other
//! WASI interface builds on.

pub mod error;
pub mod poll;
pub mod streams;

use crate::host::WasiView;
use cmc_runtime::component::Linker;

pub(crate) fn add_to_linker<T: WasiView>(linker: &mut Linker<T>) {
    error::add_to_linker(linker);
    poll::add_to_linker(linker);
    streams::add_to_linker(linker);
}
