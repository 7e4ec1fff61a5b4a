//! A spinner on stderr while a compile runs longer than a second, so a
//! user waiting for a large program sees that something is happening. Only
//! when stderr is a terminal: never in logs or pipes.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::mpsc;
use std::time::Duration;

/// How long a compile runs before the spinner shows.
const QUIET_FOR: Duration = Duration::from_secs(1);

/// Runs `compile`, showing `what` with a spinner and the elapsed time if it
/// takes longer than [`QUIET_FOR`] and stderr is a terminal.
pub fn while_compiling<R>(what: &str, compile: impl FnOnce() -> R) -> R {
    if !std::io::stderr().is_terminal() {
        return compile();
    }
    let (done, finished) = mpsc::channel::<()>();
    let message = format!("compiling {what}");
    let spinner = std::thread::spawn(move || {
        if finished.recv_timeout(QUIET_FOR).is_ok() {
            return;
        }
        let bar = ProgressBar::new_spinner().with_message(message);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        while finished.recv_timeout(Duration::from_millis(100)).is_err() {
            bar.tick();
        }
        bar.finish_and_clear();
    });
    let result = compile();
    // The spinner thread ends when it hears of it (or has already ended).
    let _ = done.send(());
    let _ = spinner.join();
    result
}
