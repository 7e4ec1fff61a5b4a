//! Executing the directives of one script, on core modules and components.

use crate::values::{describe_vals, matches_ret};
use crate::{Report, ScriptOptions};
use cmc_compiler::CompileError;
use cmc_compiler::Progress;
use cmc_runtime::component::{self, Component};
use cmc_runtime::{
    Config, Engine, Error, Extern, ExternRef, Instance, Linker, Memory, Module, SharedMemory,
    Store, TrapKind, Val,
};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use wast::core::WastArgCore;
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{Id, Span};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// What went wrong with a directive, as printed after `file:line:`.
type Failure = String;

/// What running an invocation or instantiation produced: its results, or the
/// error the runtime raised.
type Outcome = Result<Values, Error>;

/// Results of a core function or of a component function.
enum Values {
    Core(Vec<Val>),
    Component(Vec<component::Val>),
}

impl Values {
    fn is_empty(&self) -> bool {
        match self {
            Values::Core(vals) => vals.is_empty(),
            Values::Component(vals) => vals.is_empty(),
        }
    }
}

/// What a `module` or `component` directive compiled.
#[derive(Clone)]
enum Compiled {
    Module(Module),
    Component(Component),
}

/// An instance of a module or of a component (with the component, whose
/// export tree `register` needs).
#[derive(Clone)]
enum AnyInstance {
    Module(Instance),
    Component(component::Instance, Component),
}

/// Parses `source` as a script. The spec scripts use confusable Unicode in
/// names on purpose, so the lexer must allow it.
fn with_directives<R>(
    source: &str,
    f: impl FnOnce(Vec<WastDirective<'_>>) -> R,
) -> Result<R, wast::Error> {
    let mut lexer = Lexer::new(source);
    lexer.allow_confusing_unicode(true);
    let buffer = ParseBuffer::new_with_lexer(lexer)?;
    let wast = parser::parse::<Wast<'_>>(&buffer)?;
    Ok(f(wast.directives))
}

/// How many directives `source` holds (1 when it does not parse, so that a
/// skipped script is never counted as nothing).
pub(crate) fn count_directives(source: &str) -> usize {
    with_directives(source, |d| d.len()).unwrap_or(1)
}

/// Runs every directive of `source` on the current thread, reporting each
/// one done to `progress`.
pub(crate) fn run(source: &str, progress: &dyn Progress, options: &ScriptOptions) -> Report {
    let mut report = Report::default();
    let parsed = with_directives(source, |directives| {
        match Runner::new(source, options, Runner::engine(options)) {
            Ok(mut runner) => run_directives(&mut runner, directives, progress, &mut report),
            Err(e) => report.fail(0, format!("cannot create the `spectest` module: {e}")),
        }
    });
    if let Err(mut e) = parsed {
        e.set_text(source);
        let line = e.span().linecol_in(source).0 + 1;
        report.fail(line, format!("the script does not parse: {}", e.message()));
    }
    report
}

/// Runs `directives` with `runner`, adding their outcomes to `report`.
///
/// A `thread` directive runs its own directives on a thread of its own, in
/// a store of its own that sees the shared memories of its `shared` module;
/// `wait` joins it and adds what it counted.
fn run_directives(
    runner: &mut Runner<'_>,
    directives: Vec<WastDirective<'_>>,
    progress: &dyn Progress,
    report: &mut Report,
) {
    std::thread::scope(|scope| {
        let mut threads = HashMap::new();
        for directive in directives {
            let line = runner.line(directive.span());
            let outcome = match directive {
                WastDirective::Thread(thread) => runner
                    .shared_exports(thread.shared_module)
                    .and_then(|shared| {
                        let (source, options) = (runner.source, runner.options);
                        let engine = runner.engine.clone();
                        let spawned = std::thread::Builder::new()
                            .stack_size(crate::SCRIPT_STACK_SIZE)
                            .spawn_scoped(scope, move || {
                                let mut report = Report::default();
                                match Runner::new(source, &options, engine) {
                                    Ok(mut runner) => {
                                        runner.shared = shared;
                                        let silent = &cmc_compiler::Silent;
                                        run_directives(
                                            &mut runner,
                                            thread.directives,
                                            silent,
                                            &mut report,
                                        );
                                    }
                                    Err(e) => {
                                        report.fail(line, format!("cannot start the thread: {e}"))
                                    }
                                }
                                report
                            })
                            .map_err(|e| format!("cannot start the thread: {e}"))?;
                        threads.insert(thread.name.name(), spawned);
                        Ok(())
                    }),
                WastDirective::Wait { thread, .. } => match threads.remove(thread.name()) {
                    Some(handle) => match handle.join() {
                        Ok(done) => {
                            report.add(&done);
                            Ok(())
                        }
                        Err(_) => Err("the thread panicked".to_owned()),
                    },
                    None => Err(format!("no thread called `${}`", thread.name())),
                },
                directive => catch_unwind(AssertUnwindSafe(|| runner.directive(directive)))
                    .unwrap_or_else(|panic| Err(format!("panicked: {}", panic_message(&*panic)))),
            };
            match outcome {
                Ok(()) => report.passed += 1,
                Err(message) => report.fail(line, message),
            }
            progress.advance(1);
        }
        // Threads never waited for still count.
        for (_, handle) in threads {
            if let Ok(done) = handle.join() {
                report.add(&done);
            }
        }
    });
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// A module instance a `thread` shares with the script: its name and its
/// shared memories by export name (what can cross into another store).
type SharedModule = (String, Vec<(String, SharedMemory)>);

/// The state a script builds up: one store with everything instantiated so
/// far, and the names it was registered or defined under.
struct Runner<'a> {
    source: &'a str,
    engine: Engine,
    store: Store<()>,
    /// `spectest` plus every `register`ed module instance.
    linker: Linker<()>,
    /// Every `register`ed component instance.
    component_linker: component::Linker<()>,
    /// The most recent instance: the target of unnamed directives.
    current: Option<AnyInstance>,
    /// Instances by their `$name`.
    instances: HashMap<String, AnyInstance>,
    /// Modules and components of `module definition` and `component
    /// definition`, by `$name`.
    definitions: HashMap<String, Compiled>,
    /// The most recent definition.
    last_definition: Option<Compiled>,
    /// `ref.extern N` arguments, one host reference per `N`.
    externrefs: HashMap<u32, ExternRef>,
    /// How the script runs (for the threads it starts).
    options: ScriptOptions,
    /// In a `thread`, the module it shares with the script.
    shared: Option<SharedModule>,
}

impl<'a> Runner<'a> {
    /// The engine a script's runners share (a thread's store must be of
    /// the same engine to share a memory).
    fn engine(options: &ScriptOptions) -> Engine {
        let mut config = Config::default();
        config.proposals(options.proposals);
        config.explicit_bounds_checks(options.explicit_bounds_checks);
        cmc_compiler::engine(config)
    }

    fn new(source: &'a str, options: &ScriptOptions, engine: Engine) -> Result<Runner<'a>, Error> {
        let mut store = Store::new(&engine, ());
        if options.intercept_calls {
            store.intercept_calls(Watcher::default());
        }
        let mut linker = Linker::new();
        crate::spectest::define(&mut store, &mut linker)?;
        Ok(Runner {
            source,
            engine,
            store,
            linker,
            component_linker: component::Linker::new(),
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            externrefs: HashMap::new(),
            options: *options,
            shared: None,
        })
    }

    /// The 1-based line of `span`.
    fn line(&self, span: Span) -> usize {
        span.linecol_in(self.source).0 + 1
    }

    /// Executes one directive; `Err` says how it failed.
    fn directive(&mut self, directive: WastDirective<'_>) -> Result<(), Failure> {
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name();
                self.forget_instance(name);
                let compiled = self.compile(&mut module)?;
                let instance = self.instantiate(&compiled).map_err(|e| {
                    format!("{} failed to instantiate: {}", kind(&module), one_line(&e))
                })?;
                self.set_current(name, instance);
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name();
                // As for instances: a failed definition replaces the one
                // of the same name, and the last one.
                self.last_definition = None;
                if let Some(name) = name {
                    self.definitions.remove(name.name());
                }
                let compiled = self.compile(&mut module)?;
                if let Some(name) = name {
                    self.definitions
                        .insert(name.name().to_owned(), compiled.clone());
                }
                self.last_definition = Some(compiled);
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                self.forget_instance(instance);
                let compiled = match module {
                    Some(id) => self.definitions.get(id.name()).cloned().ok_or_else(|| {
                        format!("no module or component definition called `${}`", id.name())
                    })?,
                    None => self
                        .last_definition
                        .clone()
                        .ok_or_else(|| "no module or component definition".to_owned())?,
                };
                let new = self
                    .instantiate(&compiled)
                    .map_err(|e| format!("failed to instantiate: {}", one_line(&e)))?;
                self.set_current(instance, new);
            }
            WastDirective::Register {
                name,
                module: Some(module),
                ..
            } if self
                .shared
                .as_ref()
                .is_some_and(|(id, _)| id == module.name()) =>
            {
                let (_, memories) = self.shared.clone().expect("checked above");
                for (export, shared) in memories {
                    let memory = Memory::from_shared(&mut self.store, &shared)
                        .map_err(|e| format!("cannot share memory `{export}`: {e}"))?;
                    self.linker.define(name, &export, memory);
                }
            }
            WastDirective::Register { name, module, .. } => match self.instance(module)? {
                AnyInstance::Module(instance) => {
                    self.linker.instance(&mut self.store, name, instance);
                }
                AnyInstance::Component(instance, component) => crate::component::register(
                    &mut self.component_linker.instance(name),
                    component.exports(),
                    instance,
                    &[],
                ),
            },
            WastDirective::Invoke(invoke) => {
                self.invoke(&invoke)?
                    .map_err(|e| format!("invocation failed: {}", one_line(&e)))?;
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let actual = self
                    .execute(exec)?
                    .map_err(|e| format!("expected a result, got: {}", one_line(&e)))?;
                self.check_results(&results, &actual)?;
            }
            WastDirective::AssertTrap { exec, message, .. } => {
                let outcome = self.execute(exec)?;
                self.expect_trap(outcome, message, None)?;
            }
            WastDirective::AssertExhaustion { call, message, .. } => {
                let outcome = self.invoke(&call)?;
                self.expect_trap(outcome, message, Some(TrapKind::StackOverflow))?;
            }
            WastDirective::AssertInvalid {
                mut module,
                message,
                ..
            } => {
                let what = kind(&module);
                let bytes = module.encode().map_err(|e| {
                    format!(
                        "expected an invalid {what} ({message}), but its text does not parse: {e}"
                    )
                })?;
                let component = is_component(&module);
                match self.build(component, &bytes) {
                    Ok(_) => return Err(format!("{what} is valid, expected invalid: {message}")),
                    Err(e) => match compile_error(&e) {
                        // Core scripts word their messages as the reference
                        // interpreter does, which the validator does not
                        // share. Component-model scripts are written against
                        // the validator's (wasmparser's) messages, so there the
                        // message must match: an invalid component rejected
                        // for another reason (typically a validator feature
                        // cmc does not enable) has not shown what the script
                        // checks.
                        Some(CompileError::InvalidWasm {
                            message: actual, ..
                        }) if component && !actual.contains(message) => {
                            return Err(format!(
                                "expected an invalid {what} ({message}), but it is invalid for another reason: {actual}"
                            ));
                        }
                        Some(CompileError::InvalidWasm { .. }) => {}
                        _ => {
                            return Err(format!(
                                "expected an invalid {what} ({message}), got another error: {e}"
                            ));
                        }
                    },
                }
            }
            WastDirective::AssertMalformed {
                mut module,
                message,
                ..
            } => {
                let what = kind(&module);
                // Text that does not parse or encode is malformed already.
                if let Ok(bytes) = module.encode() {
                    match self.build(is_component(&module), &bytes) {
                        Ok(_) => {
                            return Err(format!(
                                "{what} is well-formed and valid, expected malformed: {message}"
                            ));
                        }
                        Err(e) => match compile_error(&e) {
                            Some(CompileError::InvalidWasm { .. } | CompileError::Wat(_)) => {}
                            _ => {
                                return Err(format!(
                                    "expected a malformed {what} ({message}), got another error: {e}"
                                ));
                            }
                        },
                    }
                }
            }
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => {
                let mut module = QuoteWat::Wat(module);
                let what = kind(&module);
                let compiled = self.compile(&mut module)?;
                match self.instantiate(&compiled) {
                    Ok(_) => return Err(format!("{what} linked, expected: {message}")),
                    Err(Error::Link(actual)) if messages_match(&actual, message) => {}
                    Err(e) => {
                        return Err(format!(
                            "expected a link error ({message}), got: {}",
                            one_line(&e)
                        ));
                    }
                }
            }
            other => {
                return Err(format!(
                    "this runner cannot execute `{}` directives",
                    directive_name(&other)
                ));
            }
        }
        Ok(())
    }

    /// Encodes and compiles a module or component; it must be well-formed
    /// and valid.
    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Compiled, Failure> {
        let what = kind(module);
        let bytes = module
            .encode()
            .map_err(|e| format!("{what} text does not parse: {e}"))?;
        self.build(is_component(module), &bytes)
            .map_err(|e| format!("{what} failed to compile: {e}"))
    }

    /// Compiles a binary as a component or as a core module.
    fn build(&self, component: bool, bytes: &[u8]) -> Result<Compiled, Error> {
        if component {
            Component::new(&self.engine, bytes).map(Compiled::Component)
        } else {
            Module::new(&self.engine, bytes).map(Compiled::Module)
        }
    }

    fn instantiate(&mut self, compiled: &Compiled) -> Result<AnyInstance, Error> {
        Ok(match compiled {
            Compiled::Module(module) => {
                AnyInstance::Module(self.linker.instantiate(&mut self.store, module)?)
            }
            Compiled::Component(component) => AnyInstance::Component(
                self.component_linker
                    .instantiate(&mut self.store, component)?,
                component.clone(),
            ),
        })
    }

    /// Forgets the current instance and the one called `name`: a directive
    /// that makes an instance replaces them even when it fails, so that the
    /// directives after a failure never reach an older instance by mistake.
    fn forget_instance(&mut self, name: Option<Id<'_>>) {
        self.current = None;
        if let Some(name) = name {
            self.instances.remove(name.name());
        }
    }

    fn set_current(&mut self, name: Option<Id<'_>>, instance: AnyInstance) {
        if let Some(name) = name {
            self.instances
                .insert(name.name().to_owned(), instance.clone());
        }
        self.current = Some(instance);
    }

    /// The instance called `name`, or the current one.
    /// The shared memories that module instance `name` exports, for a
    /// thread that shares it (the module's other exports stay in this
    /// store).
    fn shared_exports(&self, name: Option<Id<'_>>) -> Result<Option<SharedModule>, Failure> {
        let Some(id) = name else {
            return Ok(None);
        };
        let AnyInstance::Module(instance) = self.instance(Some(id))? else {
            return Err(format!("`${}` is not a module instance", id.name()));
        };
        let memories = (instance.exports(&self.store).into_iter())
            .filter_map(|(export, item)| match item {
                Extern::Memory(memory) => Some((export, memory.to_shared(&self.store)?)),
                _ => None,
            })
            .collect();
        Ok(Some((id.name().to_owned(), memories)))
    }

    fn instance(&self, name: Option<Id<'_>>) -> Result<AnyInstance, Failure> {
        match name {
            Some(id) => self
                .instances
                .get(id.name())
                .cloned()
                .ok_or_else(|| format!("no instance called `${}`", id.name())),
            None => self.current.clone().ok_or_else(|| {
                "no current instance: the last module or component was not instantiated".to_owned()
            }),
        }
    }

    /// Runs what an assertion checks: an invocation, a global read, or the
    /// instantiation of a module or component (which yields no values).
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Outcome, Failure> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let AnyInstance::Module(instance) = self.instance(module)? else {
                    return Err("a component instance has no globals to `get`".into());
                };
                let global = instance
                    .get_export(&self.store, global)
                    .and_then(|e| e.into_global())
                    .ok_or_else(|| format!("no global export called `{global}`"))?;
                Ok(Ok(Values::Core(vec![global.get(&self.store)])))
            }
            WastExecute::Wat(wat) => {
                let compiled = self.compile(&mut QuoteWat::Wat(wat))?;
                Ok(self
                    .instantiate(&compiled)
                    .map(|_| Values::Core(Vec::new())))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Outcome, Failure> {
        let instance = match self.instance(invoke.module)? {
            AnyInstance::Module(instance) => instance,
            AnyInstance::Component(instance, _) => {
                return self.invoke_component(instance, invoke);
            }
        };
        let func = instance
            .get_func(&self.store, invoke.name)
            .ok_or_else(|| format!("no function export called `{}`", invoke.name))?;
        let args = invoke
            .args
            .iter()
            .map(|arg| self.arg(arg))
            .collect::<Result<Vec<_>, _>>()?;
        let mut results: Vec<Val> = func
            .ty(&self.store)
            .results
            .iter()
            .map(|&ty| Val::default_for(ty))
            .collect();
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| Values::Core(results)))
    }

    /// Calls a component's root export with component-value arguments.
    fn invoke_component(
        &mut self,
        instance: component::Instance,
        invoke: &WastInvoke<'_>,
    ) -> Result<Outcome, Failure> {
        let func = instance
            .get_func(&self.store, &[invoke.name])
            .ok_or_else(|| format!("no function export called `{}`", invoke.name))?;
        let args = invoke
            .args
            .iter()
            .map(crate::component::arg)
            .collect::<Result<Vec<_>, _>>()?;
        let mut results: Vec<component::Val> = func
            .ty(&self.store)
            .result
            .iter()
            .map(|_| component::Val::Bool(false))
            .collect();
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| Values::Component(results)))
    }

    /// The runtime value of a script argument.
    fn arg(&mut self, arg: &WastArg<'_>) -> Result<Val, Failure> {
        let WastArg::Core(core) = arg else {
            return Err(format!("{arg:?} is not a core value"));
        };
        Ok(match core {
            WastArgCore::I32(v) => Val::I32(*v),
            WastArgCore::I64(v) => Val::I64(*v),
            WastArgCore::F32(v) => Val::F32(v.bits),
            WastArgCore::F64(v) => Val::F64(v.bits),
            WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
            WastArgCore::RefNull(heap) => crate::values::null_of(heap)
                .ok_or_else(|| format!("unsupported null reference type {heap:?}"))?,
            WastArgCore::RefExtern(n) => Val::ExternRef(Some(self.externref(*n))),
            other => return Err(format!("unsupported argument {other:?}")),
        })
    }

    /// The host reference standing for `ref.extern n`.
    fn externref(&mut self, n: u32) -> ExternRef {
        *self
            .externrefs
            .entry(n)
            .or_insert_with(|| ExternRef::new(&mut self.store, n))
    }

    /// Checks that `outcome` is a trap whose message matches `message` (and
    /// whose kind is `kind`, when given). Traps are those of core wasm and
    /// those of the canonical ABI. The component-model scripts write some
    /// messages as wasmtime prints them, after `wasm trap: `; that prefix is
    /// not part of the message.
    fn expect_trap(
        &self,
        outcome: Outcome,
        message: &str,
        kind: Option<TrapKind>,
    ) -> Result<(), Failure> {
        let expected = message.strip_prefix("wasm trap: ").unwrap_or(message);
        match outcome {
            Ok(values) if values.is_empty() => {
                Err(format!("expected trap `{message}`, got a normal return"))
            }
            Ok(values) => Err(format!(
                "expected trap `{message}`, got {}",
                self.describe(&values)
            )),
            Err(Error::Trap(trap))
                if trap_message_matches(trap.kind, expected)
                    && kind.is_none_or(|k| k == trap.kind) =>
            {
                Ok(())
            }
            Err(Error::Canon(e)) if kind.is_none() && messages_match(&e.to_string(), expected) => {
                Ok(())
            }
            Err(e) => Err(format!("expected trap `{message}`, got: {}", one_line(&e))),
        }
    }

    fn check_results(&self, expected: &[WastRet<'_>], actual: &Values) -> Result<(), Failure> {
        let all_match = match actual {
            Values::Core(actual) => {
                expected.len() == actual.len()
                    && expected
                        .iter()
                        .zip(actual)
                        .all(|(want, have)| matches_ret(&self.store, want, have))
            }
            Values::Component(actual) => {
                expected.len() == actual.len()
                    && expected
                        .iter()
                        .zip(actual)
                        .all(|(want, have)| crate::component::matches_ret(want, have))
            }
        };
        if all_match {
            Ok(())
        } else {
            Err(format!(
                "expected {}, got {}",
                crate::values::describe_rets(expected),
                self.describe(actual)
            ))
        }
    }

    /// Actual results, in script syntax.
    fn describe(&self, values: &Values) -> String {
        match values {
            Values::Core(vals) => describe_vals(&self.store, vals),
            Values::Component(vals) => crate::component::describe_vals(vals),
        }
    }
}

/// Whether a directive's module is a component.
fn is_component(module: &QuoteWat<'_>) -> bool {
    matches!(
        module,
        QuoteWat::Wat(Wat::Component(_)) | QuoteWat::QuoteComponent(..)
    )
}

/// "module" or "component", for messages.
fn kind(module: &QuoteWat<'_>) -> &'static str {
    if is_component(module) {
        "component"
    } else {
        "module"
    }
}

/// The first line of a runtime error: a trap's backtrace would break the
/// one-line-per-failure output.
fn one_line(e: &Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_owned()
}

/// The compiler's error inside a runtime error, if it is one.
fn compile_error(e: &Error) -> Option<&CompileError> {
    match e {
        Error::Compile(inner) => inner.downcast_ref::<CompileError>(),
        _ => None,
    }
}

/// Other wordings of trap messages that scripts expect: the component-model
/// scripts write wasmtime's.
const TRAP_MESSAGE_ALIASES: &[(TrapKind, &str)] = &[(
    TrapKind::Unreachable,
    "wasm `unreachable` instruction executed",
)];

/// Whether a trap of `kind` is the one a script expects with `expected`.
fn trap_message_matches(kind: TrapKind, expected: &str) -> bool {
    messages_match(kind.message(), expected)
        || TRAP_MESSAGE_ALIASES
            .iter()
            .any(|&(k, alias)| k == kind && messages_match(alias, expected))
}

/// Whether a runtime message says what a script expects. The reference
/// interpreter's messages sometimes carry a detail the runtime does not
/// print ("uninitialized element 7"), and some scripts expect only the
/// start of a message, so either may be a prefix of the other.
fn messages_match(actual: &str, expected: &str) -> bool {
    !expected.is_empty() && (actual.starts_with(expected) || expected.starts_with(actual))
}

fn directive_name(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_prefixes() {
        assert!(messages_match(
            "uninitialized element",
            "uninitialized element 7"
        ));
        assert!(messages_match("uninitialized element", "uninitialized"));
        assert!(!messages_match(
            "integer overflow",
            "integer divide by zero"
        ));
        assert!(!messages_match("unreachable", ""));
    }
}

/// The interceptor of [`ScriptOptions::intercept_calls`]: it only checks that
/// every call's `after` follows its `before`, innermost first.
#[derive(Default)]
struct Watcher {
    depth: usize,
}

impl component::Interceptor for Watcher {
    fn before(&mut self, _: component::Call<'_>, _: &[component::Val]) {
        self.depth += 1;
    }

    fn after(&mut self, call: component::Call<'_>, _: Result<Option<&component::Val>, &Error>) {
        self.depth = (self.depth.checked_sub(1))
            .unwrap_or_else(|| panic!("`after` of {} without its `before`", call.name));
    }
}
