//! `cmc run --trace`: every call that crosses a component boundary, on
//! stderr as it happens, with its arguments and result in WAVE and how long
//! it took, indented by how deep it is, and every time an async task that
//! had suspended goes on.

use crate::wave::format_traced;
use cmc_runtime::Error;
use cmc_runtime::component::{Call, CallKind, Interceptor, Resumption, Val};
use std::io::Write;
use std::time::Instant;

/// Prints the calls a store's interceptor sees.
#[derive(Default)]
pub struct Tracer {
    /// When each call in progress started, outermost first.
    started: Vec<Instant>,
}

/// How a trace line names the boundary.
fn kind(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Export => "export",
        CallKind::Import => "import",
        CallKind::Component => "component",
    }
}

impl Tracer {
    fn line(&self, text: std::fmt::Arguments<'_>) {
        let indent = "  ".repeat(self.started.len());
        // A closed stderr must not stop the guest: the trace is lost, the
        // run goes on.
        let _ = writeln!(std::io::stderr().lock(), "{indent}{text}");
    }
}

impl Interceptor for Tracer {
    fn before(&mut self, call: Call<'_>, params: &[Val]) {
        let params: Vec<String> = params.iter().map(format_traced).collect();
        self.line(format_args!(
            "→ {} {}({})",
            kind(call.kind),
            call.name,
            params.join(", ")
        ));
        self.started.push(Instant::now());
    }

    fn after(&mut self, call: Call<'_>, result: Result<Option<&Val>, &Error>) {
        let took = self.started.pop().map(|t| t.elapsed()).unwrap_or_default();
        let outcome = match result {
            Ok(Some(val)) => format!(" = {}", format_traced(val)),
            Ok(None) => String::new(),
            Err(e) => format!(" failed: {}", e.to_string().lines().next().unwrap_or("")),
        };
        self.line(format_args!(
            "← {} {}{outcome} ({took:.1?})",
            kind(call.kind),
            call.name
        ));
    }

    fn resumed(&mut self, task: &str, how: Resumption) {
        match how {
            Resumption::Callback {
                code,
                index,
                payload,
            } => self.line(format_args!(
                "↻ {task}: callback, event {} ({index}, {payload})",
                event_name(code)
            )),
            Resumption::Fiber => self.line(format_args!("↻ {task}: resumed")),
        }
    }
}

/// The spec's name of event `code`.
fn event_name(code: u32) -> &'static str {
    match code {
        0 => "none",
        1 => "subtask",
        2 => "stream-read",
        3 => "stream-write",
        4 => "future-read",
        5 => "future-write",
        6 => "task-cancelled",
        _ => "unknown",
    }
}
