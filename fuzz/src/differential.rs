//! The differential target: a generated module runs on cmc and on wasmi,
//! and everything observable must agree: whether instantiation traps, each
//! exported function's results or trap kind (called in export order with
//! arguments from the bytes), then every exported global and memory.

use crate::{Finding, Outcome, smith};
use arbitrary::Unstructured;
use cmc_runtime::{self as cmc, TrapKind};

/// What a call (or an instantiation) did, in terms both engines share.
#[derive(Clone, Debug, PartialEq)]
enum Did {
    /// Returned these values (floats as bits, references as null or not).
    Returned(Vec<Value>),
    /// Trapped with this kind.
    Trapped(Trap),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    /// A reference: whether it is null.
    Ref {
        null: bool,
    },
}

/// The trap kinds both engines have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trap {
    Unreachable,
    MemoryOutOfBounds,
    /// An access outside a table, including `call_indirect` past its end.
    TableOutOfBounds,
    IndirectCallToNull,
    BadSignature,
    IntegerOverflow,
    DivisionByZero,
    BadConversion,
    StackOverflow,
    /// Anything else, by its description.
    Other,
}

fn cmc_trap(kind: TrapKind) -> Trap {
    match kind {
        TrapKind::Unreachable => Trap::Unreachable,
        TrapKind::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
        TrapKind::TableOutOfBounds | TrapKind::UndefinedElement => Trap::TableOutOfBounds,
        TrapKind::UninitializedElement => Trap::IndirectCallToNull,
        TrapKind::IndirectCallTypeMismatch => Trap::BadSignature,
        TrapKind::IntegerOverflow => Trap::IntegerOverflow,
        TrapKind::IntegerDivisionByZero => Trap::DivisionByZero,
        TrapKind::BadConversionToInteger => Trap::BadConversion,
        TrapKind::StackOverflow => Trap::StackOverflow,
        _ => Trap::Other,
    }
}

fn wasmi_trap(code: wasmi::TrapCode) -> Trap {
    use wasmi::TrapCode as C;
    match code {
        C::UnreachableCodeReached => Trap::Unreachable,
        C::MemoryOutOfBounds => Trap::MemoryOutOfBounds,
        C::TableOutOfBounds => Trap::TableOutOfBounds,
        C::IndirectCallToNull => Trap::IndirectCallToNull,
        C::BadSignature => Trap::BadSignature,
        C::IntegerOverflow => Trap::IntegerOverflow,
        C::IntegerDivisionByZero => Trap::DivisionByZero,
        C::BadConversionToInteger => Trap::BadConversion,
        C::StackOverflow => Trap::StackOverflow,
        _ => Trap::Other,
    }
}

/// The most bytes each engine lets a memory grow to: a module that doubles
/// its memory in a loop would otherwise take gigabytes in each engine (a
/// finding of the fuzzer about itself). Both refuse to grow past it by
/// returning -1.
const MEMORY_LIMIT: u64 = 32 << 16;

/// The most elements each engine lets a table grow to, for the same reason.
const TABLE_LIMIT: u32 = 10_000;

/// A failure that is not a trap (a resource one engine refuses): the case
/// cannot be compared.
const RESOURCE: &str = "an engine refused a resource (memory, table size)";

/// Checks one case.
pub fn check(data: &[u8]) -> Result<Outcome, Finding> {
    let mut u = Unstructured::new(data);
    let Some(wasm) = smith::module(&mut u) else {
        return Ok(Outcome::Skipped("too few bytes for a module"));
    };
    let mut cmc = match Cmc::new(&wasm) {
        Ok(Some(cmc)) => cmc,
        Ok(None) => return Ok(Outcome::Skipped("a feature cmc does not support yet")),
        Err(e) => return Err(Finding(format!("cmc refused a valid module: {e}"))),
    };
    let mut wasmi = match Wasmi::new(&wasm) {
        Ok(wasmi) => wasmi,
        Err(_) => return Ok(Outcome::Skipped("wasmi refused the module")),
    };
    let started = (cmc.instantiate(), wasmi.instantiate());
    match &started {
        (Err(_), _) | (_, Err(_)) => return Ok(Outcome::Skipped(RESOURCE)),
        (Ok(a), Ok(b)) if a != b => {
            return Err(Finding(format!("instantiation: cmc {a:?}, wasmi {b:?}")));
        }
        (Ok(Did::Trapped(_)), _) => return Ok(Outcome::Checked),
        _ => {}
    }
    for name in cmc.func_exports() {
        let params = cmc.params(&name);
        let args: Vec<Value> = params.iter().map(|&t| arbitrary_value(&mut u, t)).collect();
        let (a, b) = (cmc.call(&name, &args), wasmi.call(&name, &args));
        if a == b {
            continue;
        }
        // One engine's stack is deeper than the other's: not comparable.
        if [&a, &b].contains(&&Did::Trapped(Trap::StackOverflow)) {
            return Ok(Outcome::Skipped("one engine's stack ran out first"));
        }
        return Err(Finding(format!(
            "`{name}`({args:?}): cmc {a:?}, wasmi {b:?}\nmodule: {}",
            hex(&wasm)
        )));
    }
    for name in cmc.global_exports() {
        let (a, b) = (cmc.global(&name), wasmi.global(&name));
        if a != b {
            return Err(Finding(format!(
                "global `{name}`: cmc {a:?}, wasmi {b:?}\nmodule: {}",
                hex(&wasm)
            )));
        }
    }
    for name in cmc.memory_exports() {
        let (a, b) = (cmc.memory(&name), wasmi.memory(&name));
        if a != b {
            let first = a.iter().zip(&b).position(|(x, y)| x != y);
            return Err(Finding(format!(
                "memory `{name}`: {} bytes on cmc, {} on wasmi, first difference at {first:?}\nmodule: {}",
                a.len(),
                b.len(),
                hex(&wasm)
            )));
        }
    }
    Ok(Outcome::Checked)
}

/// The module's bytes in hex, to replay a finding outside the seed.
pub(crate) fn hex(wasm: &[u8]) -> String {
    wasm.iter().map(|b| format!("{b:02x}")).collect()
}

/// An argument of type `ty` from the bytes (zero once they run out).
fn arbitrary_value(u: &mut Unstructured<'_>, ty: cmc::ValType) -> Value {
    use cmc::ValType as T;
    match ty {
        T::I32 => Value::I32(u.arbitrary().unwrap_or_default()),
        T::I64 => Value::I64(u.arbitrary().unwrap_or_default()),
        T::F32 => Value::F32(u.arbitrary().unwrap_or_default()),
        T::F64 => Value::F64(u.arbitrary().unwrap_or_default()),
        T::V128 => Value::V128(u.arbitrary().unwrap_or_default()),
        T::FuncRef | T::ExternRef => Value::Ref { null: true },
    }
}

/// The module on cmc.
struct Cmc {
    module: cmc::Module,
    store: cmc::Store<()>,
    instance: Option<cmc::Instance>,
}

impl Cmc {
    /// `None` when cmc does not support a feature the module uses.
    fn new(wasm: &[u8]) -> Result<Option<Cmc>, cmc::Error> {
        let engine = cmc_compiler::engine(cmc::Config::default());
        let module = match cmc::Module::new(&engine, wasm) {
            Ok(module) => module,
            Err(cmc::Error::Compile(e))
                if e.downcast_ref::<cmc_compiler::CompileError>()
                    .is_some_and(|e| matches!(e, cmc_compiler::CompileError::Unsupported(_))) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let mut store = cmc::Store::new(&engine, ());
        store.limit_memory_size(MEMORY_LIMIT);
        store.limit_table_elements(TABLE_LIMIT.into());
        Ok(Some(Cmc {
            module,
            store,
            instance: None,
        }))
    }

    fn instantiate(&mut self) -> Result<Did, String> {
        match cmc::Linker::new().instantiate(&mut self.store, &self.module) {
            Ok(instance) => {
                self.instance = Some(instance);
                Ok(Did::Returned(Vec::new()))
            }
            Err(cmc::Error::Trap(t)) => Ok(Did::Trapped(cmc_trap(t.kind))),
            Err(e) => Err(e.to_string()),
        }
    }

    fn exports_of(&self, kind: fn(&cmc::EntityType) -> bool) -> Vec<String> {
        (self.module.exports())
            .filter(|e| kind(&e.ty))
            .map(|e| e.name.to_owned())
            .collect()
    }

    fn func_exports(&self) -> Vec<String> {
        self.exports_of(|t| matches!(t, cmc::EntityType::Func(_)))
    }

    fn global_exports(&self) -> Vec<String> {
        self.exports_of(|t| matches!(t, cmc::EntityType::Global(_)))
    }

    fn memory_exports(&self) -> Vec<String> {
        self.exports_of(|t| matches!(t, cmc::EntityType::Memory(_)))
    }

    fn func(&self, name: &str) -> cmc::Func {
        let instance = self.instance.expect("instantiated");
        instance.get_func(&self.store, name).expect("exported")
    }

    fn params(&self, name: &str) -> Vec<cmc::ValType> {
        self.func(name).ty(&self.store).params.to_vec()
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Did {
        let func = self.func(name);
        let ty = func.ty(&self.store);
        let args: Vec<cmc::Val> = (args.iter().zip(ty.params.iter()))
            .map(|(&v, &t)| to_cmc(v, t))
            .collect();
        let mut results = crate::zeros(&ty.results);
        match func.call(&mut self.store, &args, &mut results) {
            Ok(()) => Did::Returned(results.iter().map(from_cmc).collect()),
            Err(cmc::Error::Trap(t)) => Did::Trapped(cmc_trap(t.kind)),
            Err(e) => Did::Trapped(match e.as_trap() {
                Some(t) => cmc_trap(t.kind),
                None => Trap::Other,
            }),
        }
    }

    fn global(&self, name: &str) -> Value {
        let instance = self.instance.expect("instantiated");
        match instance.get_export(&self.store, name) {
            Some(cmc::Extern::Global(g)) => from_cmc(&g.get(&self.store)),
            _ => Value::Ref { null: true },
        }
    }

    fn memory(&self, name: &str) -> Vec<u8> {
        let instance = self.instance.expect("instantiated");
        match instance.get_export(&self.store, name) {
            Some(cmc::Extern::Memory(m)) => m.data(&self.store).to_vec(),
            _ => Vec::new(),
        }
    }
}

fn to_cmc(v: Value, ty: cmc::ValType) -> cmc::Val {
    match v {
        Value::I32(x) => cmc::Val::I32(x),
        Value::I64(x) => cmc::Val::I64(x),
        Value::F32(x) => cmc::Val::F32(x),
        Value::F64(x) => cmc::Val::F64(x),
        Value::V128(x) => cmc::Val::V128(x),
        Value::Ref { .. } => cmc::Val::default_for(ty),
    }
}

fn from_cmc(v: &cmc::Val) -> Value {
    match v {
        cmc::Val::I32(x) => Value::I32(*x),
        cmc::Val::I64(x) => Value::I64(*x),
        cmc::Val::F32(x) => Value::F32(*x),
        cmc::Val::F64(x) => Value::F64(*x),
        cmc::Val::V128(x) => Value::V128(*x),
        cmc::Val::FuncRef(f) => Value::Ref { null: f.is_none() },
        cmc::Val::ExternRef(r) => Value::Ref { null: r.is_none() },
    }
}

/// The module on wasmi.
struct Wasmi {
    module: wasmi::Module,
    store: wasmi::Store<wasmi::StoreLimits>,
    instance: Option<wasmi::Instance>,
}

impl Wasmi {
    fn new(wasm: &[u8]) -> Result<Wasmi, wasmi::Error> {
        // Deep enough for any recursion the termination fuel allows, so
        // that wasmi's stack does not end a case before cmc's would.
        let mut config = wasmi::Config::default();
        config
            .set_max_recursion_depth(4 * smith::FUEL as usize)
            .set_max_stack_height(64 << 20);
        let engine = wasmi::Engine::new(&config);
        let module = wasmi::Module::new(&engine, wasm)?;
        let limits = wasmi::StoreLimitsBuilder::new()
            .memory_size(MEMORY_LIMIT as usize)
            .table_elements(TABLE_LIMIT as usize)
            .build();
        let mut store = wasmi::Store::new(&engine, limits);
        store.limiter(|limits| limits);
        Ok(Wasmi {
            module,
            store,
            instance: None,
        })
    }

    fn instantiate(&mut self) -> Result<Did, String> {
        let linker = wasmi::Linker::new(self.store.engine());
        match linker.instantiate_and_start(&mut self.store, &self.module) {
            Ok(instance) => {
                self.instance = Some(instance);
                Ok(Did::Returned(Vec::new()))
            }
            Err(e) => match e.as_trap_code() {
                Some(code) => Ok(Did::Trapped(wasmi_trap(code))),
                // wasmi reports a segment out of bounds at instantiation as
                // an error of its own rather than a trap.
                None if e.to_string().contains("out of bounds table access") => {
                    Ok(Did::Trapped(Trap::TableOutOfBounds))
                }
                None if e.to_string().contains("out of bounds memory access") => {
                    Ok(Did::Trapped(Trap::MemoryOutOfBounds))
                }
                None => Err(e.to_string()),
            },
        }
    }

    fn call(&mut self, name: &str, args: &[Value]) -> Did {
        let instance = self.instance.expect("instantiated");
        let func = instance
            .get_func(&self.store, name)
            .expect("the same exports as on cmc");
        let ty = func.ty(&self.store);
        let args: Vec<wasmi::Val> = args
            .iter()
            .zip(ty.params())
            .map(|(&v, &t)| to_wasmi(v, t))
            .collect();
        let mut results: Vec<wasmi::Val> = ty
            .results()
            .iter()
            .map(|&t| wasmi::Val::default_for_ty(t))
            .collect();
        match func.call(&mut self.store, &args, &mut results) {
            Ok(()) => Did::Returned(results.iter().map(from_wasmi).collect()),
            Err(e) => Did::Trapped(e.as_trap_code().map_or(Trap::Other, wasmi_trap)),
        }
    }

    fn global(&self, name: &str) -> Value {
        let instance = self.instance.expect("instantiated");
        match instance.get_global(&self.store, name) {
            Some(g) => from_wasmi(&g.get(&self.store)),
            None => Value::Ref { null: true },
        }
    }

    fn memory(&self, name: &str) -> Vec<u8> {
        let instance = self.instance.expect("instantiated");
        match instance.get_memory(&self.store, name) {
            Some(m) => m.data(&self.store).to_vec(),
            None => Vec::new(),
        }
    }
}

fn to_wasmi(v: Value, ty: wasmi::ValType) -> wasmi::Val {
    match v {
        Value::I32(x) => wasmi::Val::I32(x),
        Value::I64(x) => wasmi::Val::I64(x),
        Value::F32(x) => wasmi::Val::F32(f32::from_bits(x).into()),
        Value::F64(x) => wasmi::Val::F64(f64::from_bits(x).into()),
        Value::V128(x) => wasmi::Val::V128(x.into()),
        Value::Ref { .. } => wasmi::Val::default_for_ty(ty),
    }
}

fn from_wasmi(v: &wasmi::Val) -> Value {
    match v {
        wasmi::Val::I32(x) => Value::I32(*x),
        wasmi::Val::I64(x) => Value::I64(*x),
        wasmi::Val::F32(x) => Value::F32(x.to_bits()),
        wasmi::Val::F64(x) => Value::F64(x.to_bits()),
        wasmi::Val::V128(x) => Value::V128(x.as_u128()),
        wasmi::Val::FuncRef(f) => Value::Ref { null: f.is_null() },
        wasmi::Val::ExternRef(r) => Value::Ref { null: r.is_null() },
    }
}
