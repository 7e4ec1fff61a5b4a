//! The canonical ABI's lifting and lowering context over a store: the
//! `memory`, `realloc` and `string-encoding` options of one lift or lower.

use super::instance::resolve_core;
use crate::abi::CanonOptions;
use crate::api::store::StoreOpaque;
use crate::api::{Error, Extern, Func, Memory, Val as CoreVal};
use crate::component::{LiftContext, LowerContext, ResourceTypeId, ResourceVal, StringEncoding};

/// Canonical options resolved to store items.
#[derive(Clone, Copy)]
pub(super) struct Options {
    memory: Option<Memory>,
    realloc: Option<Func>,
    pub post_return: Option<Func>,
    encoding: StringEncoding,
}

impl Options {
    /// Resolves `options` of component instance `instance`.
    pub(super) fn resolve(
        store: &StoreOpaque,
        instance: usize,
        options: &CanonOptions,
    ) -> Result<Options, Error> {
        let func = |def: &Option<crate::abi::CoreDef>| -> Result<Option<Func>, Error> {
            def.as_ref()
                .map(|d| match resolve_core(store, instance, d)? {
                    Extern::Func(f) => Ok(f),
                    other => Err(Error::Link(format!(
                        "canonical option is a {}, not a function",
                        other.kind_name()
                    ))),
                })
                .transpose()
        };
        let memory = options
            .memory
            .as_ref()
            .map(|d| match resolve_core(store, instance, d)? {
                Extern::Memory(m) => Ok(m),
                other => Err(Error::Link(format!(
                    "canonical option is a {}, not a memory",
                    other.kind_name()
                ))),
            })
            .transpose()?;
        Ok(Options {
            memory,
            realloc: func(&options.realloc)?,
            post_return: func(&options.post_return)?,
            encoding: options.encoding,
        })
    }
}

/// A lift or lower in progress.
pub(super) struct Cx<'s> {
    pub store: &'s mut StoreOpaque,
    pub options: Options,
}

fn no_resources() -> Error {
    Error::Usage("resource handles are not supported yet".into())
}

impl LiftContext for Cx<'_> {
    type Error = Error;

    fn memory(&self) -> &[u8] {
        match self.options.memory {
            Some(m) => m.data(&*self.store),
            None => &[],
        }
    }

    fn string_encoding(&self) -> StringEncoding {
        self.options.encoding
    }

    fn lift_own(&mut self, _ty: ResourceTypeId, _index: u32) -> Result<ResourceVal, Error> {
        Err(no_resources())
    }

    fn lift_borrow(&mut self, _ty: ResourceTypeId, _index: u32) -> Result<ResourceVal, Error> {
        Err(no_resources())
    }
}

impl LowerContext for Cx<'_> {
    type Error = Error;

    fn memory(&mut self) -> &mut [u8] {
        match self.options.memory {
            Some(m) => m.data_mut(&mut *self.store),
            None => &mut [],
        }
    }

    fn string_encoding(&self) -> StringEncoding {
        self.options.encoding
    }

    fn realloc(
        &mut self,
        old_ptr: u32,
        old_size: u32,
        align: u32,
        new_size: u32,
    ) -> Result<u32, Error> {
        let realloc = self.options.realloc.ok_or_else(|| {
            Error::Usage("the component needs a `realloc` option to receive this value".into())
        })?;
        let args = [old_ptr, old_size, align, new_size].map(|v| CoreVal::I32(v as i32));
        let mut out = [CoreVal::I32(0)];
        realloc.call(&mut *self.store, &args, &mut out)?;
        Ok(out[0].i32().unwrap_or_default() as u32)
    }

    fn lower_own(&mut self, _ty: ResourceTypeId, _resource: ResourceVal) -> Result<u32, Error> {
        Err(no_resources())
    }

    fn lower_borrow(&mut self, _ty: ResourceTypeId, _resource: ResourceVal) -> Result<u32, Error> {
        Err(no_resources())
    }
}
