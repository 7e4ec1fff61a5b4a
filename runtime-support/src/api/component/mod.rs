//! The component embedding API: load components, link host functions by
//! interface name, instantiate, and call exports with component values
//! ([`Func::call`], [`LinkerInstance::func_new`]) or with Rust values whose
//! types are checked once ([`Func::typed`], [`LinkerInstance::func_wrap`]).
//!
//! A compiled component is a list of core modules plus a flat plan (see
//! [`ComponentMeta`](crate::abi::ComponentMeta)); instantiating it runs the
//! plan's core instantiations in order, binding lowered host imports to core
//! host functions that lift their arguments and lower their results through
//! the canonical ABI (`crate::component`).
//!
//! Resources: each component instance of the plan has a
//! [`HandleTable`](crate::component::HandleTable) in the store; lifted
//! exports open a borrow scope per call, lowered imports lend the borrows
//! they lift until the host returns, and the `resource.new/rep/drop`
//! built-ins are core functions over the right table. Host-defined resource
//! types are defined with [`LinkerInstance::resource`].

mod adapters;
mod builtins;
mod context;
mod copies;
mod event_loop;
mod fiber;
mod func;
mod host_copies;
mod host_tasks;
mod imported;
mod instance;
mod intercept;
mod linker;
mod loaded;
mod lowered;
mod tasks;
mod threads;
mod typed;

pub(crate) use fiber::FiberYielder;
pub use func::Func;
pub use host_copies::{HostReader, HostWriter};
pub use host_tasks::HostFuture;
pub(crate) use instance::ComponentInstanceData;
pub use instance::Instance;
pub use intercept::{Call, CallKind, Interceptor, Resumption};
pub use linker::{Linker, LinkerInstance};
pub use loaded::Component;
pub use typed::TypedFunc;
