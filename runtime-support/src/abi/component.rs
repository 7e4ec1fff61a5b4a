//! What the runtime needs to instantiate a compiled component.
//!
//! The compiler flattens a component's instance graph into a
//! [`ComponentMeta`]: the core modules it contains (compiled, each with its
//! own [`ModuleMeta`](super::ModuleMeta)), the core instantiations in the
//! order they must happen with where each core import comes from, the
//! functions lowered from host imports, the functions lifted for export,
//! the resource types with the `resource.new/rep/drop` built-ins that act on
//! them, and the export tree. Nothing about the graph is decided at run time
//! except the root imports, which the host supplies.
//!
//! Every symbolic instantiation of a component (the root and each nested
//! one) is a *component instance* numbered from 0 in the order the
//! instantiations happen; each has its own resource handle table at run
//! time, as `CanonicalABI.md` requires, so lifted and lowered functions and
//! resource built-ins record the component instance they belong to.

use super::interface::{FuncType, InterfaceType, PtrType, ResourceTypeId, StringEncoding};
use super::{
    AdapterIndex, CanonBuiltinIndex, CodeRange, ComponentInstanceIndex, CoreInstanceIndex,
    ImportedInstanceIndex, LiftedIndex, LoweredIndex, ModuleIndex, ModuleMeta, PrimaryMap,
    RootImportIndex, TransferIndex,
};
use serde::{Deserialize, Serialize};

/// A core module inside a component artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleImage {
    /// Its metadata; code offsets are relative to `text.start`.
    pub meta: ModuleMeta,
    /// Its code within the artifact's text section.
    pub text: CodeRange,
    /// Its data segments within the artifact's data section.
    pub data: CodeRange,
}

/// A core item, as a core import or canonical option refers to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CoreDef {
    /// Export `name` of the runtime core instance `instance`.
    Export {
        /// Index into the instances created by [`Initializer`]s.
        instance: CoreInstanceIndex,
        /// Export name.
        name: String,
    },
    /// The core function lowered from host import [`ComponentMeta::lowered`]`[i]`.
    Lowered(LoweredIndex),
    /// The canonical built-in [`ComponentMeta::builtins`]`[i]`.
    Builtin(CanonBuiltinIndex),
    /// The call into another component [`ComponentMeta::adapters`]`[i]`.
    Adapter(AdapterIndex),
    /// The host half [`ComponentMeta::transfers`]`[i]` of a fused adapter.
    Transfer(TransferIndex),
    /// A fused adapter: export `name` of core instance `instance`, an
    /// adapter module. [`ComponentMeta::adapters`]`[adapter]` is the same
    /// call made by the runtime, which a store that intercepts calls
    /// between components uses instead (it sees the values).
    Fused {
        /// The adapter module's core instance.
        instance: CoreInstanceIndex,
        /// The adapter's export name.
        name: String,
        /// The runtime's adapter for the same call.
        adapter: AdapterIndex,
    },
    /// The store's count of calls between components: a mutable `i64`
    /// global that every fused adapter increments.
    CallCounter,
    /// A canonical-ABI trap that a fused adapter raises through the
    /// runtime, which gives it the spec's wording.
    AbiTrap(AbiTrap),
    /// A handle operation of a fused adapter, on the handle tables the
    /// runtime keeps.
    Handle(HandleOp),
    /// The `may_leave` flag of a component instance of the plan: a mutable
    /// `i32` global, 1 when the instance may call out of itself, 0 while
    /// its `realloc` or `post-return` runs.
    MayLeave(ComponentInstanceIndex),
    /// The `may_enter` flag of a component instance of the plan: a mutable
    /// `i32` global, 1 when a call may enter the instance, 0 while a call
    /// into it (or into an instance inside it) runs.
    MayEnter(ComponentInstanceIndex),
}

/// What a fused adapter asks of the handle tables when a call between
/// components passes resource handles. The borrows of one call are
/// bracketed by [`HandleOp::Enter`], [`HandleOp::Exit`] and
/// [`HandleOp::EndLends`]; calls nest, so the runtime keeps the open ones
/// on a stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HandleOp {
    /// `(index: i32) -> i32`: moves an owning handle of `ty` out of
    /// `from`'s table into `to`'s (`lift_own`, then `lower_own`).
    MoveOwn {
        /// The resource type.
        ty: ResourceTypeId,
        /// The instance whose table it leaves.
        from: ComponentInstanceIndex,
        /// The instance whose table it enters.
        to: ComponentInstanceIndex,
    },
    /// `(index: i32) -> i32`: lends `from`'s handle of `ty` to the call on
    /// top of the stack (`lift_borrow`) and gives `to` the representation
    /// if it implements `ty`, else a borrow handle in that call's scope
    /// (`lower_borrow`).
    Lend {
        /// The resource type.
        ty: ResourceTypeId,
        /// The caller.
        from: ComponentInstanceIndex,
        /// The callee.
        to: ComponentInstanceIndex,
    },
    /// `() -> ()`: opens the borrow scope of a call into `to` and pushes
    /// it, with no lends yet.
    Enter {
        /// The callee.
        to: ComponentInstanceIndex,
    },
    /// `() -> ()`: closes the scope on top of the stack as the callee
    /// returns (traps if borrow handles remain in it).
    Exit {
        /// The callee.
        to: ComponentInstanceIndex,
    },
    /// `() -> ()`: pops the call and ends the lends of `from`'s handles.
    EndLends {
        /// The caller.
        from: ComponentInstanceIndex,
    },
}

/// The traps a fused adapter detects in its own code but raises through a
/// host function `(value: i32) -> ()` that always fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AbiTrap {
    /// "invalid `char` bit pattern": a surrogate or a value past U+10FFFF.
    InvalidChar,
    /// "invalid variant discriminant": a case index of a variant (or enum,
    /// option, result) with `cases` cases.
    InvalidDiscriminant {
        /// The number of cases.
        cases: u32,
    },
    /// "cannot leave component instance": a call out of an instance whose
    /// `realloc` or `post-return` is running (the value is ignored).
    CannotLeave,
    /// "cannot enter component instance": a call into an instance that a
    /// call in progress has entered (the value is ignored).
    CannotEnter,
}

/// A string or list that a fused adapter's host half checks or copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Elements {
    /// A utf8 string.
    Utf8,
    /// A list of elements of `size` bytes aligned to `align`. The adapter
    /// copies (with [`TransferOp::Copy`]) only lists of plain values, whose
    /// bytes are their values: integers, and records and tuples of them
    /// without padding.
    List {
        /// Bytes per element.
        size: u32,
        /// Alignment of the list.
        align: u32,
    },
}

impl Elements {
    /// Size and alignment of one element.
    pub fn layout(self) -> (u32, u32) {
        match self {
            Elements::Utf8 => (1, 1),
            Elements::List { size, align } => (size, align),
        }
    }

    /// What it is, in errors.
    pub fn name(self) -> &'static str {
        match self {
            Elements::Utf8 => "string",
            Elements::List { .. } => "list",
        }
    }
}

/// What a block of memory that a fused adapter checks holds, named in the
/// error when the check fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    /// The caller's spilled parameters.
    Parameters,
    /// The callee's spilled results.
    Results,
    /// The caller's return pointer, where the results go.
    ReturnPointer,
}

impl Block {
    /// Its name in errors.
    pub fn name(self) -> &'static str {
        match self {
            Block::Parameters => "parameters",
            Block::Results => "results",
            Block::ReturnPointer => "return pointer",
        }
    }
}

/// What the host half of a fused adapter does with a value that moves
/// from memory `from` to memory `to` (the caller's and the callee's for an
/// argument, the other way round for a result). The adapter calls all but
/// [`TransferOp::Transcode`] only when its own checks fail (or a utf8
/// string is not ASCII), so that the call fails with the spec's error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransferOp {
    /// `(ptr: i64, len: i64) -> ()`: the checks of lifting it from `from`
    /// (aligned, in bounds, not too long, valid utf8), before `realloc`
    /// runs in `to`.
    Check(Elements),
    /// `(ptr: i64, len: i64, dst: i64) -> ()`: copies it to `dst` in `to`,
    /// which must be aligned for it and hold it.
    Copy(Elements),
    /// `(ptr: i64) -> ()`: checks that `size` bytes at `ptr` in `from` are
    /// aligned to `align` and in bounds.
    CheckBlock {
        /// Bytes of the block.
        size: u32,
        /// Its alignment.
        align: u32,
        /// What it holds.
        what: Block,
    },
    /// `(ptr: i64, len: i64) -> ()`: checks what `realloc` returned in `to`
    /// for `len` elements of `size` bytes: aligned to `align`, in bounds.
    CheckAlloc {
        /// Bytes per element.
        size: u32,
        /// The alignment asked for.
        align: u32,
        /// What it is for: a list, or spilled arguments.
        what: Alloc,
    },
    /// `(ptr: i64, units: i64) -> (ptr: i64, units: i64)`: lifts a string
    /// from `from` in encoding `from`, and lowers it into `to` in encoding
    /// `to` through [`MemoryTransfer::realloc`] (which runs with component
    /// instance `into`'s `may_leave` cleared), as the spec does.
    Transcode {
        /// The source's encoding and address type.
        from: (StringEncoding, PtrType),
        /// The destination's encoding and address type.
        to: (StringEncoding, PtrType),
        /// The component instance lowered into.
        into: ComponentInstanceIndex,
    },
}

/// What `realloc` allocated, for [`TransferOp::CheckAlloc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Alloc {
    /// A list's elements.
    List,
    /// A string's code units.
    String,
    /// Spilled arguments.
    Arguments,
}

impl Alloc {
    /// Its name in errors.
    pub fn name(self) -> &'static str {
        match self {
            Alloc::List => "list",
            Alloc::String => "string",
            Alloc::Arguments => "arguments",
        }
    }
}

/// The host half of a fused adapter: the checks and copies of a value in
/// memory with the spec's errors, which the adapter's compiled code falls
/// back to when its own checks fail, and the transcoding of strings.
/// Pointers and lengths pass as `i64`s, whatever the memories' address
/// types.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryTransfer {
    /// What it does.
    pub op: TransferOp,
    /// The memory read.
    pub from: CoreDef,
    /// The memory written.
    pub to: CoreDef,
    /// The `realloc` of `to`'s instance, for [`TransferOp::Transcode`].
    pub realloc: Option<CoreDef>,
}

/// Which `canon resource.*` built-in a [`CanonBuiltinOp::Resource`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceOp {
    /// `resource.new`: `(rep: i32) -> (handle: i32)`.
    New,
    /// `resource.rep`: `(handle: i32) -> (rep: i32)`.
    Rep,
    /// `resource.drop`: `(handle: i32) -> ()`, running the destructor of an
    /// owned resource.
    Drop,
}

/// What a canonical built-in ([`CanonBuiltin`]) does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum CanonBuiltinOp {
    /// `resource.new`, `resource.rep` or `resource.drop` of `resource`.
    Resource {
        /// The operation.
        op: ResourceOp,
        /// The resource type it acts on.
        resource: ResourceTypeId,
    },
    /// `context.get` of slot `slot` of the current thread's storage.
    ContextGet {
        /// The slot (0 or 1).
        slot: u32,
    },
    /// `context.set` of slot `slot`.
    ContextSet {
        /// The slot (0 or 1).
        slot: u32,
    },
    /// `backpressure.inc`.
    BackpressureInc,
    /// `backpressure.dec`.
    BackpressureDec,
    /// `task.return`: resolves the current (async) task with a value of
    /// `result`, lifted with `options`; both must be the task's own.
    TaskReturn {
        /// The result type it was defined with.
        result: Option<InterfaceType>,
        /// The options it was defined with.
        options: CanonOptions,
    },
    /// `thread.yield`.
    ThreadYield,
    /// `waitable-set.new`.
    WaitableSetNew,
    /// `waitable-set.wait`, storing the event's payload in `memory`.
    WaitableSetWait {
        /// The memory the payload is stored in.
        memory: CoreDef,
    },
    /// `waitable-set.poll`, storing the event's payload in `memory`.
    WaitableSetPoll {
        /// The memory the payload is stored in.
        memory: CoreDef,
    },
    /// `waitable-set.drop`.
    WaitableSetDrop,
    /// `waitable.join`.
    WaitableJoin,
    /// `subtask.drop`.
    SubtaskDrop,
    /// `task.cancel`.
    TaskCancel,
    /// `thread.index`.
    ThreadIndex,
    /// `thread.new-indirect` with the start functions in `table`.
    ThreadNewIndirect {
        /// The core table of start functions.
        table: CoreDef,
    },
    /// `thread.resume-later`.
    ThreadResumeLater,
    /// `thread.suspend`.
    ThreadSuspend,
    /// `thread.{yield,suspend}-then-{resume,promote}`.
    ThreadSwitch {
        /// Whether the current thread stays ready (`yield`; else it
        /// suspends).
        yields: bool,
        /// Whether the other thread is only switched to if its wait is
        /// over (`promote`; else it must be suspended).
        promote: bool,
    },
    /// `subtask.cancel` (`async` if it may return `BLOCKED`).
    SubtaskCancel {
        /// Whether it is `async`.
        is_async: bool,
    },
    /// `stream.new` or `future.new` of `ty` (a stream or future type):
    /// both ends, as `readable | writable << 32`.
    CopyNew {
        /// The stream or future type.
        ty: InterfaceType,
    },
    /// `stream.read`/`write` or `future.read`/`write` of `ty`, with the
    /// buffer in `options`' memory (`async` if the copy may return
    /// `BLOCKED`).
    Copy {
        /// The stream or future type.
        ty: InterfaceType,
        /// Whether it writes (else it reads).
        write: bool,
        /// Its options.
        options: CanonOptions,
    },
    /// `stream.cancel-read`/`write` or `future.cancel-read`/`write`.
    CancelCopy {
        /// The stream or future type.
        ty: InterfaceType,
        /// Whether it cancels a write (else a read).
        write: bool,
        /// Whether it is `async` (may return `BLOCKED`).
        is_async: bool,
    },
    /// `stream.drop-readable`/`writable` or `future.drop-readable`/`writable`.
    DropEnd {
        /// The stream or future type.
        ty: InterfaceType,
        /// Whether it drops the writable end (else the readable one).
        writable: bool,
    },
    /// `error-context.new`, reading the message with `options`.
    ErrorContextNew {
        /// Its options.
        options: CanonOptions,
    },
    /// `error-context.debug-message`, writing the message with `options`.
    ErrorContextDebugMessage {
        /// Its options.
        options: CanonOptions,
    },
    /// `error-context.drop`.
    ErrorContextDrop,
}

/// A canonical built-in other than lift and lower, lowered to a core
/// function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CanonBuiltin {
    /// What it does.
    pub op: CanonBuiltinOp,
    /// The component instance it acts for: whose handle table, flags and
    /// current task it uses.
    pub instance: ComponentInstanceIndex,
    /// Its core function type, as the validator gives it.
    pub ty: crate::abi::FuncType,
}

/// A resource type: [`ComponentMeta::resources`]`[id]` for [`ResourceTypeId`] `id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceDef {
    /// Defined by `(type (resource (rep i32) (dtor …)))`, once per
    /// instantiation of the defining component (resource types are
    /// generative).
    Guest {
        /// The destructor, a core function taking the representation.
        dtor: Option<CoreDef>,
        /// The component instance that defines (implements) it.
        instance: ComponentInstanceIndex,
    },
    /// Imported from the host at this path: the host defines it.
    Host(ImportPath),
}

/// One step of instantiating a component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Initializer {
    /// Instantiate core module `module` with one definition per import, in
    /// the module's import order.
    Instantiate {
        /// Index into [`ComponentMeta::modules`].
        module: ModuleIndex,
        /// What each import is bound to.
        imports: Vec<CoreDef>,
    },
    /// Instantiate the core module the host provides for a root import
    /// (`Linker::module`), binding each of its imports by name; the
    /// module may not import anything else.
    InstantiateImported {
        /// The import.
        import: ImportPath,
        /// What each import name (module, field) the component declares
        /// for it is bound to.
        imports: Vec<(String, String, CoreDef)>,
    },
}

impl Initializer {
    /// What the imports of the core instance it creates are bound to.
    pub fn import_defs(&self) -> Box<dyn Iterator<Item = &CoreDef> + '_> {
        match self {
            Initializer::Instantiate { imports, .. } => Box::new(imports.iter()),
            Initializer::InstantiateImported { imports, .. } => {
                Box::new(imports.iter().map(|(_, _, def)| def))
            }
        }
    }
}

/// The canonical options of a `canon lift` or `canon lower`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonOptions {
    /// The memory strings and lists live in.
    pub memory: Option<CoreDef>,
    /// The address type of `memory` (`i32` without one): the type of
    /// pointers and lengths in flat values and in memory, and of `realloc`.
    pub ptr_type: PtrType,
    /// The log2 of `memory`'s page size (16 without one): what a fused
    /// adapter that imports the memory declares.
    pub page_size_log2: u8,
    /// The allocation function.
    pub realloc: Option<CoreDef>,
    /// Called after a lifted export's results were read.
    pub post_return: Option<CoreDef>,
    /// String encoding of the core side.
    pub encoding: StringEncoding,
    /// The `async` option: an async lift or lower (`Concurrency.md`).
    pub is_async: bool,
    /// The `callback` option of an async lift: the function its event
    /// loop calls (stackless); `None` for a stackful async lift.
    pub callback: Option<CoreDef>,
}

/// A core function lifted to a component function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiftedFunc {
    /// The core function.
    pub core: CoreDef,
    /// Its options.
    pub options: CanonOptions,
    /// Its component type.
    pub ty: FuncType,
    /// The component instance it belongs to (whose handle table its
    /// handles are in).
    pub instance: ComponentInstanceIndex,
    /// The path under which the outermost component that exports it does
    /// (`name`, or `interface#name`), for traces; empty if none does.
    pub name: String,
}

/// The path of an item from outside the plan: where it starts, then
/// export names into nested instances.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ImportPath {
    /// Where it starts.
    pub root: PathRoot,
    /// Export names, outermost first.
    pub names: Vec<String>,
}

/// Where an [`ImportPath`] starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PathRoot {
    /// A root import, which the host defines: index into
    /// [`ComponentMeta::imports`].
    Import(RootImportIndex),
    /// The exports of an instance of a component the host gave: index into
    /// [`ComponentMeta::imported_instances`].
    Instance(ImportedInstanceIndex),
}

impl ImportPath {
    /// The root import `import` itself.
    pub fn import(import: RootImportIndex) -> ImportPath {
        ImportPath {
            root: PathRoot::Import(import),
            names: Vec::new(),
        }
    }

    /// The path one export name further in.
    pub fn join(&self, name: &str) -> ImportPath {
        let mut path = self.clone();
        path.names.push(name.to_owned());
        path
    }

    /// The root import it starts at, if it starts at one.
    pub fn host_import(&self) -> Option<RootImportIndex> {
        match self.root {
            PathRoot::Import(import) => Some(import),
            PathRoot::Instance(_) => None,
        }
    }
}

/// An instantiation of a component the host gives for an import
/// (`Linker::component`), which the plan cannot see into: the runtime
/// instantiates it as a component instance of its own in the store, with
/// imports bound to items of the plan, and calls between the two go
/// through the runtime's canonical ABI, as host calls do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedInstance {
    /// The import that names the component (a root import, or an export
    /// of one).
    pub component: ImportPath,
    /// What each of its imports is bound to.
    pub args: Vec<(String, ComponentArg)>,
    /// The plan's component instance that instantiates it: calls from it
    /// into the plan enter as calls from there do.
    pub parent: ComponentInstanceIndex,
    /// How many of the plan's core instances exist when it is instantiated
    /// (it runs before [`ComponentMeta::initializers`]`[before]`).
    pub before: usize,
}

/// What an import of an [`ImportedInstance`] is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComponentArg {
    /// A host definition, or an export of an earlier imported instance.
    Path(ImportPath),
    /// A function the plan lifted.
    Lifted(LiftedIndex),
    /// An instance of these named items.
    Instance(Vec<(String, ComponentArg)>),
}

/// A host import function lowered to a core function.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoweredFunc {
    /// Which import.
    pub import: ImportPath,
    /// The options of the lowering.
    pub options: CanonOptions,
    /// The import's component type.
    pub ty: FuncType,
    /// The component instance that lowers it (whose handle table its
    /// handles are in).
    pub instance: ComponentInstanceIndex,
}

/// A `canon lower` of a function that another component instance of the
/// plan lifted: a call from one component into another.
///
/// The runtime performs it through the canonical ABI helpers (lift from the
/// caller, lower into the callee, and back), the same path host calls take:
/// for the signatures no fused adapter carries yet, and for every call when
/// the store intercepts calls ([`CoreDef::Fused`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterFunc {
    /// The callee: index into [`ComponentMeta::lifted`].
    pub lifted: LiftedIndex,
    /// The caller's options of the lowering.
    pub options: CanonOptions,
    /// The caller's component instance.
    pub instance: ComponentInstanceIndex,
}

/// The type of a root import.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ImportType {
    /// A function.
    Func(FuncType),
    /// An instance with these exports.
    Instance(Vec<(String, ImportType)>),
    /// A type, resolved when the component was compiled: the host defines
    /// nothing for it.
    Type,
    /// A resource type the host defines (through the linker's `resource`).
    Resource(ResourceTypeId),
    /// A core module, which the host provides (through the linker's
    /// `module`).
    Module {
        /// The imports (module, field) its type declares, which the
        /// component binds.
        imports: Vec<(String, String)>,
        /// The exports its type declares.
        exports: Vec<String>,
    },
    /// A component, which the host provides (through the linker's
    /// `component`) and the plan instantiates.
    Component {
        /// The imports its type declares, which the plan binds: the
        /// component given may import only these, of these types.
        imports: Vec<(String, ImportType)>,
        /// The exports its type declares: the component given must export
        /// them, of these types.
        exports: Vec<(String, ImportType)>,
    },
    /// Something cmc does not link yet (values, components with resource
    /// types); a description for errors.
    Other(String),
}

impl ImportType {
    /// Whether it is, or holds, a function whose type `matches` picks.
    pub fn any_func(&self, matches: &impl Fn(&FuncType) -> bool) -> bool {
        let any = |items: &[(String, ImportType)]| items.iter().any(|(_, t)| t.any_func(matches));
        match self {
            ImportType::Func(f) => matches(f),
            ImportType::Instance(exports) => any(exports),
            ImportType::Component { imports, exports } => any(imports) || any(exports),
            _ => false,
        }
    }
}

/// An exported item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExportItem {
    /// A lifted function: index into [`ComponentMeta::lifted`].
    Func(LiftedIndex),
    /// An instance of named exports.
    Instance(Vec<(String, ExportItem)>),
}

/// A flattened component.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ComponentMeta {
    /// The core modules.
    pub modules: PrimaryMap<ModuleIndex, ModuleImage>,
    /// Root imports by name.
    pub imports: PrimaryMap<RootImportIndex, (String, ImportType)>,
    /// Core instantiations in order.
    pub initializers: Vec<Initializer>,
    /// Host imports lowered to core functions.
    pub lowered: PrimaryMap<LoweredIndex, LoweredFunc>,
    /// Core functions lifted to component functions.
    pub lifted: PrimaryMap<LiftedIndex, LiftedFunc>,
    /// Resource types, by [`ResourceTypeId`].
    pub resources: PrimaryMap<ResourceTypeId, ResourceDef>,
    /// Canonical built-ins lowered to core functions.
    pub builtins: PrimaryMap<CanonBuiltinIndex, CanonBuiltin>,
    /// Lifted functions lowered into other component instances, where the
    /// runtime does the adapting.
    pub adapters: PrimaryMap<AdapterIndex, AdapterFunc>,
    /// The host halves of fused adapters.
    pub transfers: PrimaryMap<TransferIndex, MemoryTransfer>,
    /// The component instances (root and nested instantiations): the one
    /// each was instantiated in (`None` for the root), always an earlier
    /// one.
    pub parents: PrimaryMap<ComponentInstanceIndex, Option<ComponentInstanceIndex>>,
    /// Whether each component instance has tasks the runtime must keep:
    /// it defines a built-in that acts on the current task or thread, or
    /// lifts a function `async`. Calls into such an instance go through
    /// the runtime (never a fused adapter), which keeps its tasks; every
    /// other call pays nothing for the asynchronous model.
    pub tasked: PrimaryMap<ComponentInstanceIndex, bool>,
    /// Root exports.
    pub exports: Vec<(String, ExportItem)>,
    /// Instances of components the host gives, in the order the plan
    /// makes them.
    pub imported_instances: PrimaryMap<ImportedInstanceIndex, ImportedInstance>,
}

impl ComponentMeta {
    /// The component instances a call into `callee` from `caller` (`None`
    /// for the host) enters, whose `may_enter` it checks and clears: the
    /// callee and its ancestors, but for those of the caller
    /// (`ComponentInstance.entering_set`).
    pub fn entering_set(
        &self,
        callee: ComponentInstanceIndex,
        caller: Option<ComponentInstanceIndex>,
    ) -> impl Iterator<Item = ComponentInstanceIndex> + '_ {
        let ancestors = move |from: Option<ComponentInstanceIndex>| {
            std::iter::successors(from, move |&i| self.parents.get(i).copied().flatten())
        };
        ancestors(Some(callee)).filter(move |i| !ancestors(caller).any(|a| a == *i))
    }

    /// How many lowerings of another component's function the plan has:
    /// `(fused, runtime)`, compiled into fused adapters or left to the
    /// runtime's adapter.
    pub fn adapter_counts(&self) -> (usize, usize) {
        let imports = self.initializers.iter().flat_map(Initializer::import_defs);
        let (mut fused, mut runtime) = (0, 0);
        for def in imports {
            match def {
                CoreDef::Fused { .. } => fused += 1,
                CoreDef::Adapter(_) => runtime += 1,
                _ => {}
            }
        }
        (fused, runtime)
    }
}
