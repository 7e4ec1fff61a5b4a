//! Compiling from the command line: the allocator the compiler runs on,
//! and the progress bar it shows.
//!
//! The compiler allocates and frees many small objects from every thread;
//! glibc malloc spent a tenth of a large compile in its locks and free
//! lists, so the command uses mimalloc. mimalloc gives freed memory back to
//! the system after a delay and takes it again later; where transparent
//! huge pages back the heap, each time it does the kernel zeroes a whole
//! 2 MiB page on the first touch, which took a tenth of the compile of an
//! 18 MB component (`clear_page_erms` under `perf`). A compile therefore
//! runs with huge pages off for the process and puts back the setting it
//! found when it ends, so that a guest's memory is backed as the system
//! (or the parent process) decides.

use crate::progress::{self, Unit};
use cmc_compiler::{CompileError, Options};
use std::fmt::Display;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Compiles `wasm` with `options`, with a progress bar named after `name`.
pub fn compile(
    name: impl Display,
    wasm: &[u8],
    options: Options<'_>,
) -> Result<Vec<u8>, CompileError> {
    let _small_pages = SmallPages::new();
    progress::with_bar(&format!("compiling {name}"), Unit::Code, |progress| {
        cmc_compiler::compile_with(wasm, &options.progress(progress))
    })
}

/// Keeps transparent huge pages off for the process while it lives, then
/// puts back the setting it found (a parent may have turned them off).
struct SmallPages {
    were_disabled: bool,
}

impl SmallPages {
    fn new() -> SmallPages {
        let were_disabled = thp_disabled();
        set_thp_disabled(true);
        SmallPages { were_disabled }
    }
}

impl Drop for SmallPages {
    fn drop(&mut self) {
        set_thp_disabled(self.were_disabled);
    }
}

/// Whether transparent huge pages are off for the process.
fn thp_disabled() -> bool {
    #[cfg(target_os = "linux")]
    // SAFETY: `PR_GET_THP_DISABLE` takes no argument and returns the flag.
    unsafe {
        libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// Turns transparent huge pages off or on for the process. Where the
/// system has none (or refuses), nothing changes, and nothing needs to.
fn set_thp_disabled(disabled: bool) {
    #[cfg(target_os = "linux")]
    // SAFETY: `PR_SET_THP_DISABLE` takes an integer flag and no pointer; it
    // changes how the kernel backs new faults, never memory contents.
    unsafe {
        libc::prctl(
            libc::PR_SET_THP_DISABLE,
            libc::c_ulong::from(disabled),
            0,
            0,
            0,
        );
    }
    #[cfg(not(target_os = "linux"))]
    let _ = disabled;
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use cmc_runtime::CompileSettings;

    #[test]
    fn a_compile_puts_the_huge_page_setting_back_when_it_ends() {
        let settings = CompileSettings::default();
        let wasm = wat::parse_str("(module (func (export \"f\") (result i32) i32.const 1))")
            .expect("valid text");
        let before = thp_disabled();
        compile("f", &wasm, Options::new(&settings)).expect("compiles");
        assert_eq!(thp_disabled(), before);
        let bad = compile("bad", b"\0asm\x01\0\0\0\x0a", Options::new(&settings));
        assert!(bad.is_err());
        assert_eq!(thp_disabled(), before);
    }
}
