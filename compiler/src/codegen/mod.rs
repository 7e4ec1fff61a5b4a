//! Code generation: compile every function (in parallel), link them into one
//! text section, and write the artifact.

mod artifact;
mod compile;
mod inline;
mod isa;
mod link;

pub use artifact::{Sections, Symbols, write_artifact};
pub use compile::{CompiledModule, CrossModule, compile_core, compile_module};
pub use inline::ForeignBodies;
pub use isa::{build_isa, isa_features};
pub use link::patch_foreign;
