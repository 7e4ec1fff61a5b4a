//! The embedding API: engines, modules, stores, linkers, instances, calls.

pub mod component;
mod engine;
mod error;
mod externals;
mod func;
mod instance;
mod linker;
mod module;
mod store;
mod typed;
mod values;

pub use crate::artifact::ArtifactError;
pub use crate::trap::FrameInfo;
pub use crate::vm::{ExternRef, Func, Val};
pub use engine::{Compiler, Config, Engine, Proposals};
pub use error::{Error, Trap};
pub use externals::{Extern, ExternType, Global, Memory, SharedMemory, Table};
pub use func::Caller;
pub(crate) use func::HostFailure;
pub use instance::Instance;
pub use linker::Linker;
pub use module::{ArtifactInfo, ArtifactMeta, ExportType, ImportType, Module};
pub use store::{AsStore, AsStoreMut, Store, StoreStats};
pub use typed::{TypedFunc, WasmTuple, WasmTy};
