//! The canonical ABI's lifting and lowering context over a store: the
//! `memory`, `realloc` and `string-encoding` options of one lift or lower,
//! and the handle table of the component instance it lifts from or lowers
//! into.

use super::instance::{resolve_core, without_leaving};
use crate::abi::{CanonOptions, ComponentInstanceIndex, ResourceDef};
use crate::api::store::StoreOpaque;
use crate::api::{Error, Extern, Func, Memory, Val as CoreVal};
use crate::canon::{
    FuncType, HandleTable, InterfaceType, Lends, LiftContext, LowerContext, Lowering, PtrType,
    ResourceDefiner, ResourceTypeId, ResourceVal, ScopeId, SharedVal, StringEncoding, StringSource,
    Val, return_pointer_as,
};

/// The subtask state `RETURNED` an async lower returns when the callee
/// finished before the lower returned (`Subtask.State.RETURNED`).
const SUBTASK_RETURNED: i32 = 2;
use crate::vm::ValRaw;

/// Canonical options resolved to store items.
#[derive(Clone, Copy)]
pub(crate) struct Options {
    memory: Option<Memory>,
    realloc: Option<Func>,
    pub post_return: Option<Func>,
    /// The `callback` of an async lift.
    pub callback: Option<Func>,
    encoding: StringEncoding,
    ptr_type: PtrType,
}

impl Options {
    /// Options of these items.
    pub(super) fn new(
        memory: Option<Memory>,
        realloc: Option<Func>,
        encoding: StringEncoding,
        ptr_type: PtrType,
    ) -> Options {
        Options {
            memory,
            realloc,
            post_return: None,
            callback: None,
            encoding,
            ptr_type,
        }
    }

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
            callback: func(&options.callback)?,
            encoding: options.encoding,
            ptr_type: options.ptr_type,
        })
    }

    /// The address type of the memory.
    pub fn ptr_type(&self) -> PtrType {
        self.ptr_type
    }

    /// Whether these and `other` lift alike (`LiftOptions.equal`): the
    /// same string encoding and the same memory (unless `any_memory`).
    pub(super) fn same_lift_options(&self, other: &Options, any_memory: bool) -> bool {
        self.encoding == other.encoding
            && (any_memory || self.memory.map(|m| m.index) == other.memory.map(|m| m.index))
    }

    /// The memory, if any.
    pub(super) fn memory(&self) -> Option<Memory> {
        self.memory
    }
}

/// Where the result of a call that an async lower started goes when the
/// callee returns after the lower did: into the caller's memory, through
/// the return pointer it passed (the subtask then reports it).
pub(crate) struct Delivery {
    /// The caller's plan component instance.
    pub table: ComponentInstanceIndex,
    /// The caller's lower options.
    pub options: Options,
    /// The function's type.
    pub ty: FuncType,
    /// The return pointer the caller passed.
    pub retptr: Option<u64>,
}

/// A lift or lower in progress, for the component instance `table` of the
/// store's component instance `instance`.
///
/// Handles cross to the host as [`ResourceVal`]s whose `handle` is the
/// resource's representation: the host is trusted and keeps no handle table
/// of its own, so an `own` lifted out of a guest's table is simply the
/// representation it owned, and lowering it adds a new handle for it.
pub(super) struct Cx<'s> {
    pub store: &'s mut StoreOpaque,
    pub options: Options,
    /// Index of the component instance in the store.
    pub instance: usize,
    /// The plan's component instance whose handle table is used.
    pub table: ComponentInstanceIndex,
    /// The borrow scope of the incoming call being lowered into, if any.
    pub scope: Option<ScopeId>,
    /// Handles lent to the outgoing call being lifted from.
    pub lends: Lends,
    /// Whether the strings it lifts or lowers pass between components.
    pub strings: Relay,
}

/// How a context treats where strings come from. The runtime's adapter
/// for a call between components lifts values on one side and lowers them
/// on the other, and the spec's `realloc` calls for a string depend on its
/// encoding and length on the side it came from, which the lifted value
/// no longer has: the lifting context keeps them, in order, in the
/// instance's [`relayed_strings`](super::instance::ComponentInstanceData),
/// and the lowering context takes them back in the same order (both walk
/// the same type). When the lowering waits (a call waiting to enter its
/// instance, a result its caller has yet to take), the sources wait with
/// the values ([`RelayedStrings`]), so that another call's strings never
/// take them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Relay {
    /// Strings come from, and go to, the host.
    Host,
    /// Lifting for another component: keep each string's source.
    Keep,
    /// Lowering what another component's lifting kept.
    Take,
}

/// The string sources a lifting for another component kept
/// ([`Relay::Keep`]), taken out of the instance to wait with the values
/// lifted.
#[derive(Debug, Default)]
pub(crate) struct RelayedStrings(std::collections::VecDeque<StringSource>);

impl RelayedStrings {
    /// The sources the lifting just done kept.
    pub(super) fn take(store: &mut StoreOpaque, instance: usize) -> RelayedStrings {
        RelayedStrings(std::mem::take(
            &mut store.component_instances[instance].relayed_strings,
        ))
    }

    /// Makes these the sources the next lowering for another component
    /// takes, in place of whatever an earlier call left.
    pub(super) fn restore(self, store: &mut StoreOpaque, instance: usize) {
        store.component_instances[instance].relayed_strings = self.0;
    }
}

impl<'s> Cx<'s> {
    /// A context without borrow scope or lends yet.
    pub(super) fn new(
        store: &'s mut StoreOpaque,
        instance: usize,
        table: ComponentInstanceIndex,
        options: Options,
    ) -> Cx<'s> {
        Cx {
            store,
            options,
            instance,
            table,
            scope: None,
            lends: Lends::new(),
            strings: Relay::Host,
        }
    }

    /// The sources kept for the call in progress.
    fn relayed_strings(&mut self) -> &mut std::collections::VecDeque<StringSource> {
        &mut self.store.component_instances[self.instance].relayed_strings
    }

    fn handles(&mut self) -> &mut HandleTable {
        handle_table(self.store, self.instance, self.table)
    }

    /// A handle the host made of its own resource type
    /// ([`ResourceTypeId::HOST`]) may only stand for a host-defined type.
    fn check_host_made(&mut self, ty: ResourceTypeId, resource: ResourceVal) -> Result<(), Error> {
        if resource.ty == ResourceTypeId::HOST
            && self.handles().definer(ty) != ResourceDefiner::Host
        {
            return Err(Error::Usage(format!(
                "a host-made handle cannot stand for the guest-defined {ty}"
            )));
        }
        Ok(())
    }
}

/// Where a `canon lower` (of a host function, or of another component's
/// function) is called from: the store's component instance, the plan's
/// component instance that lowers it, and the function's type.
pub(crate) struct LowerSite {
    pub instance: usize,
    pub table: ComponentInstanceIndex,
    pub ty: FuncType,
    /// Whether the lower is `async`.
    pub lowering: Lowering,
}

/// Finishes a call that wasm made through the `canon lower` at `site`:
/// ends the lends of the borrows lifted for it, then `lower` writes its
/// result into the calling instance, given the return pointer among the
/// core arguments `params` when the result spills, and the core results
/// are copied to `results`.
pub(super) fn finish_lowered_call(
    store: &mut StoreOpaque,
    site: &LowerSite,
    options: Options,
    lends: Lends,
    (params, results): (&[CoreVal], &mut [CoreVal]),
    lower: impl FnOnce(&mut Cx<'_>, Option<u64>, &mut Vec<CoreVal>) -> Result<(), Error>,
) -> Result<(), Error> {
    let (instance, table) = (site.instance, site.table);
    handle_table(store, instance, table).end_lends(lends);
    let retptr = return_pointer_as(&site.ty, params, options.ptr_type(), site.lowering)?;
    let mut flat = store.take_flat_buf();
    lower(
        &mut Cx::new(store, instance, table, options),
        retptr,
        &mut flat,
    )?;
    if site.lowering == Lowering::Async {
        // The callee ran to its end: no subtask is left to wait for.
        flat.push(CoreVal::I32(SUBTASK_RETURNED));
    }
    results.copy_from_slice(&flat);
    store.put_flat_buf(flat);
    Ok(())
}

/// The handle table of plan component instance `table` in the store's
/// component instance `instance`.
pub(super) fn handle_table(
    store: &mut StoreOpaque,
    instance: usize,
    table: ComponentInstanceIndex,
) -> &mut HandleTable {
    &mut store.component_instances[instance].tables[table]
}

impl LiftContext for Cx<'_> {
    type Error = Error;

    fn memory(&self) -> &[u8] {
        // The options were resolved in this store: no store check per access.
        match self.options.memory {
            Some(m) => self.store.memory_bytes(m.index),
            None => &[],
        }
    }

    fn string_encoding(&self) -> StringEncoding {
        self.options.encoding
    }

    fn ptr_type(&self) -> PtrType {
        self.options.ptr_type
    }

    fn lift_own(&mut self, ty: ResourceTypeId, index: u32) -> Result<ResourceVal, Error> {
        let rep = self.handles().take_own(index, ty)?;
        Ok(ResourceVal {
            ty,
            own: true,
            handle: rep,
        })
    }

    fn lift_borrow(&mut self, ty: ResourceTypeId, index: u32) -> Result<ResourceVal, Error> {
        let mut lends = std::mem::take(&mut self.lends);
        let rep = self.handles().lend(index, ty, &mut lends);
        self.lends = lends;
        Ok(ResourceVal {
            ty,
            own: false,
            handle: rep?,
        })
    }

    fn lift_shared(&mut self, ty: &InterfaceType, index: u32) -> Result<Val, Error> {
        super::copies::lift_shared(self.store, self.instance, self.table, ty, index)
    }

    fn lifted_string(&mut self, source: StringSource) {
        if self.strings == Relay::Keep {
            self.relayed_strings().push_back(source);
        }
    }
}

impl LowerContext for Cx<'_> {
    type Error = Error;

    fn memory(&mut self) -> &mut [u8] {
        match self.options.memory {
            Some(m) => self.store.memory_bytes_mut(m.index),
            None => &mut [],
        }
    }

    fn string_encoding(&self) -> StringEncoding {
        self.options.encoding
    }

    fn ptr_type(&self) -> PtrType {
        self.options.ptr_type
    }

    /// Calls `realloc` with arguments of the memory's address type; callers
    /// pass values that fit it.
    fn realloc(
        &mut self,
        old_ptr: u64,
        old_size: u64,
        align: u32,
        new_size: u64,
    ) -> Result<u64, Error> {
        let realloc = self.options.realloc.ok_or_else(|| {
            Error::Usage("the component needs a `realloc` option to receive this value".into())
        })?;
        let args = [old_ptr, old_size, u64::from(align), new_size];
        let ptr_type = self.options.ptr_type;
        let mut values = match ptr_type {
            PtrType::I32 => args.map(|v| ValRaw::from_u32(v as u32)),
            PtrType::I64 => args.map(ValRaw::from_u64),
        };
        self.store.component_instances[self.instance].guest_ran = true;
        without_leaving(self.store, self.instance, self.table, |store| {
            realloc.call_raw_values(store, &mut values, 4, 1)
        })?;
        Ok(match ptr_type {
            PtrType::I32 => u64::from(values[0].get_u32()),
            PtrType::I64 => values[0].get_u64(),
        })
    }

    fn lower_own(&mut self, ty: ResourceTypeId, resource: ResourceVal) -> Result<u32, Error> {
        self.check_host_made(ty, resource)?;
        Ok(self.handles().new_own(ty, resource.handle)?)
    }

    /// `lower_borrow`: the instance that implements the resource gets the
    /// representation itself; any other gets a borrow handle that its call
    /// must drop before returning.
    fn lower_borrow(&mut self, ty: ResourceTypeId, resource: ResourceVal) -> Result<u32, Error> {
        self.check_host_made(ty, resource)?;
        let meta = self.store.component_instances[self.instance]
            .component
            .meta();
        if let Some(ResourceDef::Guest { instance, .. }) = meta.resources.get(ty)
            && *instance == self.table
        {
            return Ok(resource.handle);
        }
        let scope = self.scope.ok_or_else(|| {
            Error::Usage("a borrow handle can only be passed as a parameter".into())
        })?;
        Ok(self.handles().new_borrow(ty, resource.handle, scope)?)
    }

    fn lower_shared(&mut self, ty: &InterfaceType, value: SharedVal) -> Result<u32, Error> {
        super::copies::lower_shared(self.store, self.instance, self.table, ty, value)
    }

    fn string_source(&mut self, s: &str) -> StringSource {
        match self.strings {
            Relay::Take => {
                (self.relayed_strings().pop_front()).unwrap_or_else(|| StringSource::host(s))
            }
            Relay::Host | Relay::Keep => StringSource::host(s),
        }
    }
}
