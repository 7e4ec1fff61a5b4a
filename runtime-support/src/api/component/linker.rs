//! Host definitions for component imports, grouped by interface name.

use super::host_tasks::HostFuture;
use super::lowered::{TypedHost, TypedHostFunc};
use super::{Component, Instance};
use crate::api::{Caller, Error, Store};
use crate::canon::typed::{LiftParams, LowerResults};
use crate::canon::{FuncType, Val};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// A dynamic host function: component values in, results out.
pub(crate) type DynamicHostFunc<T> =
    dyn Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync;

/// The call of an async host function: component values in (with the
/// import's type), the future of its result out.
pub(crate) type AsyncHostCall<T> =
    dyn Fn(Caller<'_, T>, &FuncType, &[Val]) -> Result<HostFuture, Error> + Send + Sync;

/// Checks a host function's Rust types against the import's type.
pub(crate) type TypeCheck = fn(&FuncType) -> Result<(), String>;

/// An async host function, and for one with Rust types the check of those
/// types.
pub(crate) struct AsyncHostFunc<T> {
    pub call: Box<AsyncHostCall<T>>,
    pub typecheck: Option<TypeCheck>,
}

/// A host function of a component import.
pub(crate) enum HostFunc<T> {
    /// Defined with [`LinkerInstance::func_new`].
    Dynamic(Arc<DynamicHostFunc<T>>),
    /// Defined with [`LinkerInstance::func_wrap`]: checked against the
    /// import's type when a component is instantiated.
    Typed(Arc<dyn TypedHostFunc<T>>),
    /// Defined with [`LinkerInstance::func_new_async`].
    Async(Arc<AsyncHostFunc<T>>),
}

impl<T> Clone for HostFunc<T> {
    fn clone(&self) -> Self {
        match self {
            HostFunc::Dynamic(f) => HostFunc::Dynamic(f.clone()),
            HostFunc::Typed(f) => HostFunc::Typed(f.clone()),
            HostFunc::Async(f) => HostFunc::Async(f.clone()),
        }
    }
}

/// The destructor of a host resource type: called with the representation
/// when a component drops the last (owning) handle of such a resource.
pub(crate) type HostDtor<T> = Arc<dyn Fn(Caller<'_, T>, u32) -> Result<(), Error> + Send + Sync>;

/// A definition: a function, a resource type, an instance of named
/// definitions, a core module or a component.
pub(crate) enum Definition<T> {
    Func(HostFunc<T>),
    Resource(HostDtor<T>),
    Instance(HashMap<String, Definition<T>>),
    Module(crate::api::Module),
    Component(Component),
}

impl<T> Clone for Definition<T> {
    fn clone(&self) -> Self {
        match self {
            Definition::Func(f) => Definition::Func(f.clone()),
            Definition::Resource(dtor) => Definition::Resource(dtor.clone()),
            Definition::Instance(defs) => Definition::Instance(defs.clone()),
            Definition::Module(module) => Definition::Module(module.clone()),
            Definition::Component(component) => Definition::Component(component.clone()),
        }
    }
}

impl<T> Definition<T> {
    /// What it is, for errors.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Definition::Func(_) => "a function",
            Definition::Resource(_) => "a resource type",
            Definition::Instance(_) => "an instance",
            Definition::Module(_) => "a core module",
            Definition::Component(_) => "a component",
        }
    }
}

/// Host functions for component imports, by name. Interfaces are
/// instances: `linker.instance("wasi:cli/stdout@0.2.6").func_new("get-stdout", …)`.
pub struct Linker<T> {
    root: HashMap<String, Definition<T>>,
}

impl<T> Default for Linker<T> {
    fn default() -> Self {
        Linker {
            root: HashMap::new(),
        }
    }
}

/// The definitions of one instance (or of the root) in a [`Linker`].
pub struct LinkerInstance<'a, T> {
    defs: &'a mut HashMap<String, Definition<T>>,
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new() -> Linker<T> {
        Linker::default()
    }

    /// A linker with these root definitions.
    pub(super) fn with_root(root: HashMap<String, Definition<T>>) -> Linker<T> {
        Linker { root }
    }

    /// Definitions at the root of the import namespace.
    pub fn root(&mut self) -> LinkerInstance<'_, T> {
        LinkerInstance {
            defs: &mut self.root,
        }
    }

    /// The instance `name` at the root (an interface such as
    /// `wasi:cli/stdout@0.2.6`), created on first use.
    pub fn instance(&mut self, name: &str) -> LinkerInstance<'_, T> {
        instance_in(&mut self.root, name)
    }

    /// Instantiates `component` with these definitions.
    pub fn instantiate(
        &self,
        store: &mut Store<T>,
        component: &Component,
    ) -> Result<Instance, Error> {
        Instance::new(store, component, self)
    }

    /// Whether the linker defines something at `path` (import name, then
    /// export names), with the same version matching as instantiation.
    pub fn contains(&self, path: &[&str]) -> bool {
        self.get(path).is_some()
    }

    /// The definition at `path` (import name, then export names).
    ///
    /// A versioned root name (`wasi:io/poll@0.2.3`) that the linker does not
    /// define exactly matches a definition of a semver-compatible version
    /// (`wasi:io/poll@0.2.12`), the rule wasmtime uses: same major version
    /// from 1.0 on, same minor version below it, and no pre-releases.
    pub(crate) fn get(&self, path: &[&str]) -> Option<&Definition<T>> {
        let (first, rest) = path.split_first()?;
        let mut def = match self.root.get(*first) {
            Some(def) => def,
            None => {
                let key = compatibility_key(first)?;
                self.root
                    .iter()
                    .find(|(name, _)| compatibility_key(name).as_ref() == Some(&key))?
                    .1
            }
        };
        for name in rest {
            match def {
                Definition::Instance(map) => def = map.get(*name)?,
                Definition::Func(_)
                | Definition::Resource(_)
                | Definition::Module(_)
                | Definition::Component(_) => return None,
            }
        }
        Some(def)
    }
}

impl<'a, T: 'static> LinkerInstance<'a, T> {
    /// Defines core module `name`, for a component that imports a core
    /// module and instantiates it (with imports from its own core
    /// instances; the module may import nothing else).
    pub fn module(&mut self, name: &str, module: &crate::api::Module) -> &mut Self {
        self.defs
            .insert(name.to_owned(), Definition::Module(module.clone()));
        self
    }

    /// Defines component `name`, for a component that imports a component
    /// and instantiates it. Each instantiation is a component instance of
    /// its own in the store, with imports bound to what the importing
    /// component passes; the component given may import only what the
    /// import's type declares and must export all it declares, of the same
    /// types.
    pub fn component(&mut self, name: &str, component: &Component) -> &mut Self {
        self.defs
            .insert(name.to_owned(), Definition::Component(component.clone()));
        self
    }

    /// Defines host function `name`. It receives the arguments as component
    /// values and writes its result (if the function has one) to the
    /// one-element results slice.
    pub fn func_new(
        &mut self,
        name: &str,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Error> + Send + Sync + 'static,
    ) -> &mut Self {
        let func = HostFunc::Dynamic(Arc::new(func));
        self.defs.insert(name.to_owned(), Definition::Func(func));
        self
    }

    /// Defines async host function `name`: `func` receives the arguments
    /// as component values, with the store, and returns the future of its
    /// result, which runs without the store. The store's event loop polls
    /// it: a component that lowers the import `async` goes on meanwhile
    /// (its subtask reports the result; `subtask.cancel` drops the future),
    /// and one that lowers it synchronously waits for it, letting its other
    /// tasks run if its task may block. A future ready when first polled
    /// costs no task at all.
    pub fn func_new_async(
        &mut self,
        name: &str,
        func: impl Fn(Caller<'_, T>, &[Val]) -> Result<HostFuture, Error> + Send + Sync + 'static,
    ) -> &mut Self {
        let func = AsyncHostFunc {
            call: Box::new(move |caller, _, args| func(caller, args)),
            typecheck: None,
        };
        let func = HostFunc::Async(Arc::new(func));
        self.defs.insert(name.to_owned(), Definition::Func(func));
        self
    }

    /// Defines async host function `name` with Rust types, as
    /// [`func_new_async`](Self::func_new_async) with the types of
    /// [`func_wrap`](Self::func_wrap): `func` receives the parameters as
    /// a tuple and returns the future of `()` or `(R,)`. The types are
    /// checked against the import's when a component importing it is
    /// instantiated.
    pub fn func_wrap_async<P, R, F>(
        &mut self,
        name: &str,
        func: impl Fn(Caller<'_, T>, P) -> Result<F, Error> + Send + Sync + 'static,
    ) -> &mut Self
    where
        P: LiftParams + 'static,
        R: LowerResults + 'static,
        F: Future<Output = Result<R, Error>> + Send + 'static,
    {
        let call = move |caller: Caller<'_, T>, ty: &FuncType, args: &[Val]| {
            let args = P::from_vals(args.to_vec(), &ty.params)?;
            let future = func(caller, args)?;
            let result_ty = ty.result.clone();
            Ok(Box::pin(async move {
                let result = future.await?;
                Ok(result.to_val(result_ty.as_ref()))
            }) as HostFuture)
        };
        let typecheck = |ty: &FuncType| {
            P::typecheck(&ty.params)
                .and_then(|()| R::typecheck(ty.result.as_ref()))
                .map_err(|e| format!("the function has type {ty}: {e}"))
        };
        let func = AsyncHostFunc {
            call: Box::new(call),
            typecheck: Some(typecheck),
        };
        let func = HostFunc::Async(Arc::new(func));
        self.defs.insert(name.to_owned(), Definition::Func(func));
        self
    }

    /// Defines host function `name` with Rust types: `func` receives the
    /// parameters as a tuple of [`Lift`](crate::component::Lift) types and
    /// returns `()` for no result or `(R,)` for a result of a
    /// [`Lower`](crate::component::Lower) type. The types are checked
    /// against the import's type when a component importing it is
    /// instantiated; calls then convert no `Val`s.
    pub fn func_wrap<P, R>(
        &mut self,
        name: &str,
        func: impl Fn(Caller<'_, T>, P) -> Result<R, Error> + Send + Sync + 'static,
    ) -> &mut Self
    where
        P: LiftParams + 'static,
        R: LowerResults + 'static,
    {
        let func = HostFunc::Typed(Arc::new(TypedHost::new(func)));
        self.defs.insert(name.to_owned(), Definition::Func(func));
        self
    }

    /// Defines the host resource type `name`. Components that import it
    /// receive and pass handles whose representation the host chooses: a
    /// host creates an owning handle as a
    /// [`ResourceVal`](crate::component::ResourceVal) `{ ty, own: true,
    /// handle: rep }`, with `ty` from
    /// [`Component::resource_type`]. `dtor` runs with the representation
    /// when a component drops an owning handle of the type.
    pub fn resource(
        &mut self,
        name: &str,
        dtor: impl Fn(Caller<'_, T>, u32) -> Result<(), Error> + Send + Sync + 'static,
    ) -> &mut Self {
        self.defs
            .insert(name.to_owned(), Definition::Resource(Arc::new(dtor)));
        self
    }

    /// The nested instance `name`, created on first use.
    pub fn instance(&mut self, name: &str) -> LinkerInstance<'_, T> {
        instance_in(self.defs, name)
    }
}

impl<T> Linker<T> {
    /// The versions of `name`'s package and interface that the linker
    /// defines at the root, for an error about an incompatible one.
    pub(crate) fn other_versions(&self, name: &str) -> Vec<&str> {
        let Some((base, _)) = name.rsplit_once('@') else {
            return Vec::new();
        };
        let mut names: Vec<&str> = self
            .root
            .keys()
            .filter(|n| n.rsplit_once('@').is_some_and(|(b, _)| b == base))
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names
    }
}

/// What semver-compatible versions of a name share: `(name, major)` from
/// 1.0 on, `(name, 0, minor)` for 0.x, `(name, 0, 0, patch)` for 0.0.x;
/// `None` for an unversioned name or a pre-release.
fn compatibility_key(name: &str) -> Option<(&str, u64, u64, u64)> {
    let (base, version) = name.rsplit_once('@')?;
    let version = semver::Version::parse(version).ok()?;
    if !version.pre.is_empty() {
        return None;
    }
    Some(match (version.major, version.minor) {
        (0, 0) => (base, 0, 0, version.patch),
        (0, minor) => (base, 0, minor, u64::MAX),
        (major, _) => (base, major, u64::MAX, u64::MAX),
    })
}

/// The instance `name` in `defs`, replacing a function or resource of that
/// name.
fn instance_in<'m, T>(
    defs: &'m mut HashMap<String, Definition<T>>,
    name: &str,
) -> LinkerInstance<'m, T> {
    let entry = defs
        .entry(name.to_owned())
        .or_insert_with(|| Definition::Instance(HashMap::new()));
    if !matches!(entry, Definition::Instance(_)) {
        *entry = Definition::Instance(HashMap::new());
    }
    let Definition::Instance(defs) = entry else {
        unreachable!("just made an instance")
    };
    LinkerInstance { defs }
}

#[cfg(test)]
mod tests {
    use super::compatibility_key;

    #[test]
    fn semver_compatible_names() {
        let key = |n| compatibility_key(n);
        assert_eq!(key("wasi:io/poll@0.2.0"), key("wasi:io/poll@0.2.12"));
        assert_ne!(key("wasi:io/poll@0.2.0"), key("wasi:io/poll@0.3.0"));
        assert_ne!(key("wasi:io/poll@0.2.0"), key("wasi:io/streams@0.2.0"));
        assert_eq!(key("a:b/c@1.2.0"), key("a:b/c@1.0.1"));
        assert_ne!(key("a:b/c@1.2.0"), key("a:b/c@2.0.0"));
        assert_ne!(key("a:b/c@0.0.1"), key("a:b/c@0.0.2"));
        assert_eq!(key("wasi:io/poll@0.3.0-rc-2025-09-16"), None);
        assert_eq!(key("greet"), None);
    }
}
