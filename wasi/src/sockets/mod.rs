//! `wasi:sockets`.
use crate::host::WasiView;
use cmc_runtime::component::Linker;
pub(crate) fn add_to_linker<T: WasiView>(_linker: &mut Linker<T>) {}
