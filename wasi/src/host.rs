//! Registering WASI's functions and resources on a component `Linker`.

use crate::ctx::WasiCtx;
use crate::table::Rep;
use crate::val::Args;
use cmc_runtime::Error;
use cmc_runtime::component::{Linker, LinkerInstance, Val};
use std::any::Any;

/// The WASI 0.2 release whose interfaces the host defines (the vendored
/// WIT in `wit/`). Components importing any `0.2.x` link to them by
/// semver-compatible matching in the runtime's `Linker`.
pub const WASI_VERSION: &str = "0.2.12";

/// Gives WASI's host functions the WASI context inside the store's data.
pub trait WasiView: 'static {
    /// The WASI state of this store.
    fn wasi(&mut self) -> &mut WasiCtx;
}

impl WasiView for WasiCtx {
    fn wasi(&mut self) -> &mut WasiCtx {
        self
    }
}

/// A host function with a result.
pub(crate) type HostFn = fn(&mut WasiCtx, Args<'_>) -> Result<Val, Error>;
/// A host function without a result.
pub(crate) type HostProc = fn(&mut WasiCtx, Args<'_>) -> Result<(), Error>;
/// What runs when a guest drops the last handle of a host resource.
pub(crate) type HostDrop = fn(&mut WasiCtx, Rep) -> Result<(), Error>;

/// The definitions of one WASI interface in a linker.
pub(crate) struct Interface<'a, T> {
    defs: LinkerInstance<'a, T>,
}

/// The interface `name` (`wasi:io/streams`) of WASI 0.2 in `linker`.
pub(crate) fn interface<'a, T: WasiView>(
    linker: &'a mut Linker<T>,
    name: &str,
) -> Interface<'a, T> {
    Interface {
        defs: linker.instance(&format!("{name}@{WASI_VERSION}")),
    }
}

impl<T: WasiView> Interface<'_, T> {
    /// Defines function `name`, which returns a value.
    pub(crate) fn func(&mut self, name: &str, f: HostFn) -> &mut Self {
        self.defs
            .func_new(name, move |mut caller, params, results| {
                let result = f(caller.data_mut().wasi(), Args::new(params))?;
                match results.first_mut() {
                    Some(slot) => *slot = result,
                    None => {
                        return Err(Error::host(
                            "WASI host: a function without result returned one",
                        ));
                    }
                }
                Ok(())
            });
        self
    }

    /// Defines function `name`, which returns nothing.
    pub(crate) fn proc(&mut self, name: &str, f: HostProc) -> &mut Self {
        self.defs.func_new(name, move |mut caller, params, _| {
            f(caller.data_mut().wasi(), Args::new(params))
        });
        self
    }

    /// Defines resource type `name`, whose entries are `R`s that are simply
    /// removed from the table when the guest drops them.
    pub(crate) fn resource<R: Any + Send>(&mut self, name: &str) -> &mut Self {
        self.resource_with(name, |ctx, rep| ctx.table.delete::<R>(rep).map(drop))
    }

    /// Defines resource type `name` with its own drop.
    pub(crate) fn resource_with(&mut self, name: &str, on_drop: HostDrop) -> &mut Self {
        self.defs.resource(name, move |mut caller, rep| {
            on_drop(caller.data_mut().wasi(), Rep(rep))
        });
        self
    }
}
