//! Executing the directives of one script.

use crate::Report;
use crate::values::{describe_vals, matches_ret};
use cmc_compiler::CompileError;
use cmc_runtime::{
    Config, Engine, Error, ExternRef, Instance, Linker, Module, Store, TrapKind, Val,
};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use wast::core::WastArgCore;
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{Id, Span};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// What went wrong with a directive, as printed after `file:line:`.
type Failure = String;

/// What running an invocation or instantiation produced: its results, or the
/// error the runtime raised.
type Outcome = Result<Vec<Val>, Error>;

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

/// Runs every directive of `source` on the current thread.
pub(crate) fn run(source: &str) -> Report {
    let mut report = Report::default();
    let parsed = with_directives(source, |directives| {
        let mut runner = match Runner::new(source) {
            Ok(runner) => runner,
            Err(e) => {
                report.fail(0, format!("cannot create the `spectest` module: {e}"));
                return;
            }
        };
        for directive in directives {
            let line = runner.line(directive.span());
            let outcome = catch_unwind(AssertUnwindSafe(|| runner.directive(directive)))
                .unwrap_or_else(|panic| Err(format!("panicked: {}", panic_message(&*panic))));
            match outcome {
                Ok(()) => report.passed += 1,
                Err(message) => report.fail(line, message),
            }
        }
    });
    if let Err(mut e) = parsed {
        e.set_text(source);
        let line = e.span().linecol_in(source).0 + 1;
        report.fail(line, format!("the script does not parse: {}", e.message()));
    }
    report
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// The state a script builds up: one store with everything instantiated so
/// far, and the names it was registered or defined under.
struct Runner<'a> {
    source: &'a str,
    engine: Engine,
    store: Store<()>,
    /// `spectest` plus every `register`ed instance.
    linker: Linker<()>,
    /// The most recent instance: the target of unnamed directives.
    current: Option<Instance>,
    /// Instances by their `$name`.
    instances: HashMap<String, Instance>,
    /// Modules of `module definition`, by `$name`.
    definitions: HashMap<String, Module>,
    /// The most recent `module definition`.
    last_definition: Option<Module>,
    /// `ref.extern N` arguments, one host reference per `N`.
    externrefs: HashMap<u32, ExternRef>,
}

impl<'a> Runner<'a> {
    fn new(source: &'a str) -> Result<Runner<'a>, Error> {
        let engine = cmc_compiler::engine(Config::default());
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new();
        crate::spectest::define(&mut store, &mut linker)?;
        Ok(Runner {
            source,
            engine,
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
            externrefs: HashMap::new(),
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
                let module = self.compile(&mut module)?;
                let instance = self
                    .instantiate(&module)
                    .map_err(|e| format!("module failed to instantiate: {}", one_line(&e)))?;
                self.set_current(name, instance);
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name();
                let module = self.compile(&mut module)?;
                if let Some(name) = name {
                    self.definitions
                        .insert(name.name().to_owned(), module.clone());
                }
                self.last_definition = Some(module);
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let module = match module {
                    Some(id) => self.definitions.get(id.name()),
                    None => self.last_definition.as_ref(),
                }
                .cloned()
                .ok_or_else(|| "no such module definition".to_owned())?;
                let new = self
                    .instantiate(&module)
                    .map_err(|e| format!("module failed to instantiate: {}", one_line(&e)))?;
                self.set_current(instance, new);
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.linker.instance(&mut self.store, name, instance);
            }
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
                let bytes = module.encode().map_err(|e| {
                    format!(
                        "expected an invalid module ({message}), but its text does not parse: {e}"
                    )
                })?;
                match Module::new(&self.engine, &bytes) {
                    Ok(_) => return Err(format!("module is valid, expected invalid: {message}")),
                    Err(e) => match compile_error(&e) {
                        Some(CompileError::InvalidWasm { .. }) => {}
                        _ => {
                            return Err(format!(
                                "expected an invalid module ({message}), got another error: {e}"
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
                // Text that does not parse or encode is malformed already.
                if let Ok(bytes) = module.encode() {
                    match Module::new(&self.engine, &bytes) {
                        Ok(_) => {
                            return Err(format!(
                                "module is well-formed and valid, expected malformed: {message}"
                            ));
                        }
                        Err(e) => match compile_error(&e) {
                            Some(CompileError::InvalidWasm { .. } | CompileError::Wat(_)) => {}
                            _ => {
                                return Err(format!(
                                    "expected a malformed module ({message}), got another error: {e}"
                                ));
                            }
                        },
                    }
                }
            }
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => {
                let module = self.compile(&mut QuoteWat::Wat(module))?;
                match self.instantiate(&module) {
                    Ok(_) => return Err(format!("module linked, expected: {message}")),
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

    /// Encodes and compiles a module; it must be well-formed and valid.
    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module, Failure> {
        let bytes = module
            .encode()
            .map_err(|e| format!("module text does not parse: {e}"))?;
        Module::new(&self.engine, &bytes).map_err(|e| format!("module failed to compile: {e}"))
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, Error> {
        self.linker.instantiate(&mut self.store, module)
    }

    fn set_current(&mut self, name: Option<Id<'_>>, instance: Instance) {
        if let Some(name) = name {
            self.instances.insert(name.name().to_owned(), instance);
        }
        self.current = Some(instance);
    }

    /// The instance called `name`, or the current one.
    fn instance(&self, name: Option<Id<'_>>) -> Result<Instance, Failure> {
        match name {
            Some(id) => self
                .instances
                .get(id.name())
                .copied()
                .ok_or_else(|| format!("no instance called `${}`", id.name())),
            None => self
                .current
                .ok_or_else(|| "no module has been instantiated".to_owned()),
        }
    }

    /// Runs what an assertion checks: an invocation, a global read, or the
    /// instantiation of a module (which yields no values).
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Outcome, Failure> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                let global = instance
                    .get_export(&self.store, global)
                    .and_then(|e| e.into_global())
                    .ok_or_else(|| format!("no global export called `{global}`"))?;
                Ok(Ok(vec![global.get(&self.store)]))
            }
            WastExecute::Wat(wat) => {
                let module = self.compile(&mut QuoteWat::Wat(wat))?;
                Ok(self.instantiate(&module).map(|_| Vec::new()))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Outcome, Failure> {
        let instance = self.instance(invoke.module)?;
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
            .map(|()| results))
    }

    /// The runtime value of a script argument.
    fn arg(&mut self, arg: &WastArg<'_>) -> Result<Val, Failure> {
        let WastArg::Core(core) = arg else {
            return Err("component-model arguments are not supported".into());
        };
        Ok(match core {
            WastArgCore::I32(v) => Val::I32(*v),
            WastArgCore::I64(v) => Val::I64(*v),
            WastArgCore::F32(v) => Val::F32(v.bits),
            WastArgCore::F64(v) => Val::F64(v.bits),
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
    /// whose kind is `kind`, when given).
    fn expect_trap(
        &self,
        outcome: Outcome,
        message: &str,
        kind: Option<TrapKind>,
    ) -> Result<(), Failure> {
        match outcome {
            Ok(values) if values.is_empty() => {
                Err(format!("expected trap `{message}`, got a normal return"))
            }
            Ok(values) => Err(format!(
                "expected trap `{message}`, got {}",
                describe_vals(&self.store, &values)
            )),
            Err(Error::Trap(trap))
                if messages_match(trap.kind.message(), message)
                    && kind.is_none_or(|k| k == trap.kind) =>
            {
                Ok(())
            }
            Err(e) => Err(format!("expected trap `{message}`, got: {}", one_line(&e))),
        }
    }

    fn check_results(&self, expected: &[WastRet<'_>], actual: &[Val]) -> Result<(), Failure> {
        let all_match = expected.len() == actual.len()
            && expected
                .iter()
                .zip(actual)
                .all(|(want, have)| matches_ret(&self.store, want, have));
        if all_match {
            Ok(())
        } else {
            Err(format!(
                "expected {}, got {}",
                crate::values::describe_rets(expected),
                describe_vals(&self.store, actual)
            ))
        }
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
