//! A progress bar on stderr while a compile (or a run of scripts) takes
//! longer than a second, so a user waiting for a large program sees how far
//! it has got. Only when stderr is a terminal: never in logs or pipes.

use cmc_compiler::{Progress, Silent};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::Duration;

/// How long work runs before the bar shows.
const QUIET_FOR: Duration = Duration::from_secs(1);

/// What a bar counts.
#[derive(Clone, Copy)]
pub enum Unit {
    /// Bytes of function bodies compiled: shown as a percentage.
    Code,
    /// Things with a name ("directives"): shown as a count.
    Count(&'static str),
}

/// Runs `work`, which reports to the `Progress` it is given in `unit`s;
/// shows `what` with a bar if it takes longer than [`QUIET_FOR`] and stderr
/// is a terminal.
pub fn with_bar<R>(what: &str, unit: Unit, work: impl FnOnce(&dyn Progress) -> R) -> R {
    if !std::io::stderr().is_terminal() {
        return work(&Silent);
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
    let template = match unit {
        Unit::Code => "{msg} [{bar:30}] {percent:>3}% ({elapsed}, about {eta} left)".to_owned(),
        Unit::Count(what) => format!("{{msg}} [{{bar:30}}] {{pos}}/{{len}} {what} ({{elapsed}})"),
    };
    bar.set_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    let (done, finished) = mpsc::channel::<()>();
    let reveal = {
        let bar = bar.clone();
        std::thread::spawn(move || {
            if finished.recv_timeout(QUIET_FOR).is_err() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(100));
            }
        })
    };
    let result = work(&Bar(bar.clone()));
    // The thread ends when it hears of it (or has already shown the bar).
    let _ = done.send(());
    let _ = reveal.join();
    bar.finish_and_clear();
    result
}

/// A [`Progress`] that moves an indicatif bar.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn add_work(&self, n: u64) {
        self.0.inc_length(n);
    }

    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
}
