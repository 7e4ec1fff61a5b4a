//! Compile errors.

/// Why a module could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// The input is not valid (or not well-formed) WebAssembly.
    #[error("invalid WebAssembly at byte offset {offset:#x}: {message}")]
    InvalidWasm {
        /// What the validator said.
        message: String,
        /// Byte offset in the binary.
        offset: u64,
    },
    /// The text format could not be parsed.
    #[error("{0}")]
    Wat(String),
    /// Valid wasm using a feature cmc does not compile yet.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Cranelift failed (a bug, or a limit of the backend).
    #[error("code generation failed: {0}")]
    Codegen(String),
    /// The requested target or settings are unusable.
    #[error("bad target or settings: {0}")]
    Target(String),
}

impl From<wasmparser::BinaryReaderError> for CompileError {
    fn from(e: wasmparser::BinaryReaderError) -> CompileError {
        CompileError::InvalidWasm {
            message: e.message().to_string(),
            offset: e.offset(),
        }
    }
}

/// Result of compilation steps.
pub type Result<T, E = CompileError> = std::result::Result<T, E>;
