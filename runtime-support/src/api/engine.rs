//! Engines: configuration, the optional compiler, and the signature registry
//! shared by every module loaded into them.

use crate::abi::{CompileSettings, FuncType, OptLevel, PrimaryMap, SignatureId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

/// Turns wasm (binary or text) into artifact bytes. Implemented by
/// `cmc-compiler`; an engine without one loads artifacts only.
pub trait Compiler: Send + Sync {
    /// Compiles a core module (or a component) as `config` says.
    fn compile_module(
        &self,
        wasm: &[u8],
        config: &Config,
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>>;
}

/// The WebAssembly proposals beyond 2.0 that a core module may use, all on
/// by default (as in wasmtime). They change what validates, not the code of
/// a module that validates either way, so artifacts do not record them; the
/// spec runner turns them off for the 1.0 and 2.0 scripts, which expect
/// modules using them to be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proposals {
    /// WebAssembly 2.0's own additions to 1.0 (reference types, bulk
    /// memory, multi-value, SIMD, sign extension, saturating conversions);
    /// off only to check modules against 1.0, as scripts written for it
    /// expect.
    pub wasm2: bool,
    /// Arithmetic (`i32.add`, `i64.mul`, …) in constant expressions.
    pub extended_const: bool,
    /// More than one memory per module.
    pub multi_memory: bool,
    /// 128-bit addition and subtraction, 64×64→128-bit multiplication.
    pub wide_arithmetic: bool,
    /// SIMD operators whose result may depend on the machine; cmc gives
    /// each one lowering, the same everywhere.
    pub relaxed_simd: bool,
    /// Memories and tables with `i64` addresses.
    pub memory64: bool,
    /// Memories with one-byte pages.
    pub custom_page_sizes: bool,
    /// Shared memories and atomic operators.
    pub threads: bool,
}

impl Proposals {
    /// WebAssembly 2.0 alone.
    pub const NONE: Proposals = Proposals {
        wasm2: true,
        extended_const: false,
        multi_memory: false,
        wide_arithmetic: false,
        relaxed_simd: false,
        memory64: false,
        custom_page_sizes: false,
        threads: false,
    };
}

impl Default for Proposals {
    fn default() -> Proposals {
        Proposals {
            wasm2: true,
            extended_const: true,
            multi_memory: true,
            wide_arithmetic: true,
            relaxed_simd: true,
            memory64: true,
            custom_page_sizes: true,
            threads: true,
        }
    }
}

/// Engine configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Settings that change generated code; artifacts must match them.
    pub settings: CompileSettings,
    /// Bytes of native stack wasm may use below the host's entry call.
    pub max_wasm_stack: usize,
    /// The proposals beyond WebAssembly 2.0 modules may use.
    pub proposals: Proposals,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            settings: CompileSettings::default(),
            max_wasm_stack: 512 * 1024,
            proposals: Proposals::default(),
        }
    }
}

impl Config {
    /// Sets the optimization level.
    pub fn opt_level(&mut self, level: OptLevel) -> &mut Config {
        self.settings.opt_level = level;
        self
    }

    /// Compiles code that checks the store's epoch deadline at every
    /// function entry and loop header, so a running guest can be stopped
    /// (see [`Engine::increment_epoch`]). Off by default: the checks cost a
    /// few instructions per loop iteration.
    pub fn epoch_interruption(&mut self, on: bool) -> &mut Config {
        self.settings.epoch_interruption = on;
        self
    }

    /// Compiles code that charges the store's fuel one unit per wasm
    /// instruction and traps when it runs out (see
    /// [`Store::set_fuel`](super::Store::set_fuel)): deterministic, unlike a
    /// deadline. Off by default: metering costs a load, a subtraction and a
    /// store per block of straight-line code.
    pub fn consume_fuel(&mut self, on: bool) -> &mut Config {
        self.settings.consume_fuel = on;
        self
    }

    /// Lets modules use the proposals `proposals` (all by default).
    pub fn proposals(&mut self, proposals: Proposals) -> &mut Config {
        self.proposals = proposals;
        self
    }

    /// Compiles code that checks the bounds of every memory access
    /// explicitly, instead of letting the guard region that follows a
    /// 32-bit memory catch the accesses out of bounds (64-bit memories and
    /// memories of one-byte pages are always checked). Memories then reserve
    /// only their largest size, not 8 GiB of address space each. Off by
    /// default: the checks cost a compare and a branch per access.
    pub fn explicit_bounds_checks(&mut self, on: bool) -> &mut Config {
        self.settings.explicit_bounds_checks = on;
        self
    }

    /// Sets the wasm stack budget in bytes.
    pub fn max_wasm_stack(&mut self, bytes: usize) -> &mut Config {
        self.max_wasm_stack = bytes;
        self
    }
}

/// Interns signatures so that equal signatures share one id engine-wide;
/// `call_indirect` compares these ids.
#[derive(Default)]
struct TypeRegistry {
    ids: HashMap<FuncType, SignatureId>,
    types: PrimaryMap<SignatureId, Arc<FuncType>>,
}

struct EngineInner {
    config: Config,
    compiler: Option<Box<dyn Compiler>>,
    types: RwLock<TypeRegistry>,
    /// The epoch counter code built with epoch interruption reads.
    epoch: AtomicU64,
}

/// Shared, cheaply cloned state for loading and running modules.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<EngineInner>,
}

impl Engine {
    /// An engine that can only load precompiled artifacts.
    pub fn new(config: Config) -> Engine {
        Engine::build(config, None)
    }

    /// An engine that also compiles wasm, through `compiler`.
    pub fn with_compiler(config: Config, compiler: Box<dyn Compiler>) -> Engine {
        Engine::build(config, Some(compiler))
    }

    fn build(config: Config, compiler: Option<Box<dyn Compiler>>) -> Engine {
        Engine {
            inner: Arc::new(EngineInner {
                config,
                compiler,
                types: RwLock::new(TypeRegistry::default()),
                epoch: AtomicU64::new(0),
            }),
        }
    }

    /// Advances the engine's epoch by one. Code built with epoch
    /// interruption (`Config::epoch_interruption`) running in a store whose
    /// deadline ([`Store::set_epoch_deadline`](super::Store::set_epoch_deadline))
    /// this reaches traps with "interrupt" at its next function entry or
    /// loop header. Cheap and callable from any thread, e.g. a timer.
    pub fn increment_epoch(&self) {
        self.inner.epoch.fetch_add(1, Ordering::Relaxed);
    }

    /// The epoch counter, for store contexts.
    pub(crate) fn epoch(&self) -> &AtomicU64 {
        &self.inner.epoch
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The compiler, if any.
    pub(crate) fn compiler(&self) -> Option<&dyn Compiler> {
        self.inner.compiler.as_deref()
    }

    /// The engine-wide id of `ty`.
    pub(crate) fn register_type(&self, ty: &FuncType) -> SignatureId {
        if let Some(&id) = self.inner.types.read().unwrap().ids.get(ty) {
            return id;
        }
        let mut reg = self.inner.types.write().unwrap();
        if let Some(&id) = reg.ids.get(ty) {
            return id;
        }
        let id = reg.types.push(Arc::new(ty.clone()));
        reg.ids.insert(ty.clone(), id);
        id
    }

    /// The signature with id `id`.
    pub(crate) fn func_type(&self, id: SignatureId) -> Arc<FuncType> {
        self.inner.types.read().unwrap().types[id].clone()
    }

    /// Whether two engines are the same one.
    pub fn same(a: &Engine, b: &Engine) -> bool {
        Arc::ptr_eq(&a.inner, &b.inner)
    }
}
