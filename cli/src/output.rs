//! Writing to stdout without `println!`'s panic when the reader has gone
//! away (`cmc inspect app.cmc | head -1`): the command then ends quietly,
//! as command-line tools do.

use std::fmt;
use std::io::{ErrorKind, Write};

/// `println!` for the command's own output.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for the command's own output.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write(format_args!($($arg)*))
    };
}

/// Writes `args` to stdout. A closed stdout ends the process with status 0
/// (the reader chose to stop); any other write error ends it with status 1.
pub fn write(args: fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args).and_then(|()| stdout.flush()) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}
