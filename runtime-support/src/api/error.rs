//! Errors of the runtime API.

use crate::abi::TrapKind;
use crate::artifact::ArtifactError;
use crate::trap::FrameInfo;
use std::fmt;

/// Anything that can go wrong loading, linking, instantiating or calling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The compiler rejected the input (invalid wasm, unsupported feature).
    #[error("{0}")]
    Compile(Box<dyn std::error::Error + Send + Sync>),
    /// The engine has no compiler, so it can only load artifacts.
    #[error("this engine has no compiler: it can only load precompiled artifacts")]
    NoCompiler,
    /// The artifact is unreadable or was written for something else.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// An import could not be satisfied.
    #[error("{0}")]
    Link(String),
    /// Wasm execution trapped.
    #[error(transparent)]
    Trap(#[from] Trap),
    /// A host function failed; its error, unchanged.
    #[error("{0}")]
    Host(Box<dyn std::error::Error + Send + Sync>),
    /// The API was used wrongly (wrong argument count or type, a handle
    /// from another store, a missing export).
    #[error("{0}")]
    Usage(String),
    /// A value broke the canonical ABI's rules while crossing a component
    /// boundary (a trap of the component model).
    #[error(transparent)]
    Canon(#[from] crate::canon::CanonError),
    /// The operating system refused a resource (address space, memory).
    #[error("{0}")]
    Resource(String),
    /// The guest used a feature cmc does not carry out yet (a built-in of
    /// the asynchronous component model); the message names it.
    #[error("not supported yet: {0}")]
    Unsupported(String),
}

impl Error {
    /// A host error from a message.
    pub fn host(message: impl Into<String>) -> Error {
        Error::Host(message.into().into())
    }

    /// The trap, if this error is one.
    pub fn as_trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }
}

/// A wasm trap: its kind and the wasm frames it unwound, innermost first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trap {
    /// What happened.
    pub kind: TrapKind,
    /// The wasm call stack at the trap, innermost first.
    pub backtrace: Vec<FrameInfo>,
}

impl Trap {
    /// A trap with no backtrace (raised outside compiled code, e.g. during
    /// instantiation).
    pub fn new(kind: TrapKind) -> Trap {
        Trap {
            kind,
            backtrace: Vec::new(),
        }
    }
}

impl std::error::Error for Trap {}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "wasm trap: {}", self.kind)?;
        if self.backtrace.is_empty() {
            return Ok(());
        }
        write!(f, "\nwasm backtrace:")?;
        // Deep recursion repeats one frame many times: print each run once.
        let mut i = 0;
        while i < self.backtrace.len() {
            let frame = &self.backtrace[i];
            let run = self.backtrace[i..]
                .iter()
                .take_while(|f| *f == frame)
                .count();
            write!(f, "\n  {i:>2}: {frame}")?;
            if run > 1 {
                write!(f, " (repeated {run} times)")?;
            }
            i += run;
        }
        Ok(())
    }
}
