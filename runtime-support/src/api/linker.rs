//! Linkers: name-based resolution of imports.

use super::func::HostFn;
use super::{AsStoreMut, Caller, Error, Extern, Func, Instance, Module, Store, Val};
use crate::abi::FuncType;
use std::collections::HashMap;
use std::sync::Arc;

/// Creates a typed host function in a store.
type MakeFunc<T> = dyn Fn(&mut Store<T>) -> Func + Send + Sync;

enum Definition<T> {
    Extern(Extern),
    HostFunc(FuncType, Arc<HostFn<T>>),
    /// A typed host function, created in each store by this closure.
    Typed(Arc<MakeFunc<T>>),
}

/// Maps `(module, name)` pairs to definitions and instantiates modules
/// against them.
pub struct Linker<T> {
    defs: HashMap<(String, String), Definition<T>>,
}

impl<T> Default for Linker<T> {
    fn default() -> Self {
        Linker {
            defs: HashMap::new(),
        }
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new() -> Linker<T> {
        Linker::default()
    }

    /// Defines a host function; it is created in each store that
    /// instantiates a module importing it.
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> &mut Self {
        self.defs.insert(
            (module.into(), name.into()),
            Definition::HostFunc(ty, Arc::new(func)),
        );
        self
    }

    /// Defines a host function with a static signature (see
    /// [`Func::wrap`]): the fastest way for wasm to call the host.
    pub fn func_wrap<P: super::WasmTuple + 'static, R: super::WasmTuple + 'static>(
        &mut self,
        module: &str,
        name: &str,
        func: impl Fn(Caller<'_, T>, P) -> Result<R, Error> + Send + Sync + 'static,
    ) -> &mut Self {
        let func = Arc::new(func);
        let make = move |store: &mut Store<T>| {
            let func = func.clone();
            Func::wrap(store, move |caller: Caller<'_, T>, params: P| {
                func(caller, params)
            })
        };
        self.defs.insert(
            (module.into(), name.into()),
            Definition::Typed(Arc::new(make)),
        );
        self
    }

    /// Defines an item that already lives in a store.
    pub fn define(&mut self, module: &str, name: &str, item: impl Into<Extern>) -> &mut Self {
        self.defs.insert(
            (module.into(), name.into()),
            Definition::Extern(item.into()),
        );
        self
    }

    /// Defines every export of `instance` under module name `module`.
    pub fn instance(
        &mut self,
        store: &mut Store<T>,
        module: &str,
        instance: Instance,
    ) -> &mut Self {
        for (name, item) in instance.exports(&mut *store) {
            self.define(module, &name, item);
        }
        self
    }

    /// Resolves `module`'s imports and instantiates it.
    pub fn instantiate(&self, store: &mut Store<T>, module: &Module) -> Result<Instance, Error> {
        let imports = module
            .imports()
            .map(|import| {
                match self
                    .defs
                    .get(&(import.module.to_owned(), import.name.to_owned()))
                {
                    Some(Definition::Extern(e)) => Ok(*e),
                    Some(Definition::HostFunc(ty, f)) => Ok(Extern::Func(Func::from_host_fn(
                        store,
                        ty.clone(),
                        f.clone(),
                    ))),
                    Some(Definition::Typed(make)) => Ok(Extern::Func(make(store))),
                    None => Err(Error::Link(format!(
                        "unknown import: `{}::{}` has not been defined",
                        import.module, import.name
                    ))),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Instance::new(store.as_store_mut(), module, &imports)
    }
}

macro_rules! into_extern {
    ($($t:ident),*) => {$(
        impl From<super::$t> for Extern {
            fn from(item: super::$t) -> Extern {
                Extern::$t(item)
            }
        }
    )*};
}
into_extern!(Func, Table, Memory, Global);
