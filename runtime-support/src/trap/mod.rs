//! Turning faults in compiled code into [`Trap`](crate::api::Trap)s.
//!
//! Every trap starts as a machine fault in compiled wasm code: a guard-page
//! access (SIGSEGV/SIGBUS), a trap instruction (SIGILL, or SIGTRAP on some
//! targets) or a hardware divide fault (SIGFPE). The handler looks the
//! faulting PC up in the trap table of the artifact that contains it, records
//! the kind and the wasm frames (walked through frame pointers, which all
//! compiled code keeps), and jumps back to the `cmc_catch` frame of the most
//! recent host→wasm call. A fault outside wasm code is passed on to whatever
//! handler was installed before, so host crashes stay crashes.

use crate::abi::FuncIndex;
use crate::artifact::lookup_pc;
use crate::vm::{MAX_TRAP_FRAMES, TrapRecord};
use std::cell::Cell;
use std::ffi::c_void;
use std::fmt;
use std::sync::Once;

mod signals;

unsafe extern "C" {
    fn cmc_catch(
        body: unsafe extern "C" fn(*mut c_void),
        payload: *mut c_void,
        slot: *mut *mut c_void,
    ) -> i32;
    fn cmc_unwind(buf: *mut c_void) -> !;
}

thread_local! {
    /// Jump buffer of the innermost active host→wasm call, or null.
    static JMP_BUF: Cell<*mut c_void> = const { Cell::new(std::ptr::null_mut()) };
    /// What the last trap on this thread left behind.
    static LAST_TRAP: Cell<Option<TrapRecord>> = const { Cell::new(None) };
}

static INSTALL: Once = Once::new();

/// Installs the signal handlers once per process.
pub(crate) fn init() {
    INSTALL.call_once(signals::install);
}

/// Runs `f` so that a trap inside it returns `Err` instead of crashing.
///
/// `f` must only call into compiled code (directly or through trampolines);
/// it must not own values with destructors across that call, because a trap
/// skips its frame.
pub(crate) fn catch_traps(f: &mut dyn FnMut()) -> Result<(), Box<TrapRecord>> {
    init();
    unsafe extern "C" fn body(payload: *mut c_void) {
        // SAFETY: `payload` is the `&mut &mut dyn FnMut()` passed below.
        let f = unsafe { &mut *(payload as *mut &mut dyn FnMut()) };
        f();
    }
    let mut f = f;
    let ok = JMP_BUF.with(|slot| {
        // SAFETY: `cmc_catch` calls `body` with our payload and publishes its
        // jump buffer in the thread-local slot for the signal handler.
        unsafe {
            cmc_catch(
                body,
                (&mut f as *mut &mut dyn FnMut()).cast(),
                slot.as_ptr(),
            )
        }
    });
    if ok != 0 {
        Ok(())
    } else {
        Err(Box::new(
            LAST_TRAP
                .with(|t| t.take())
                .expect("a trap unwound without recording itself"),
        ))
    }
}

/// Makes `buf` the jump buffer of the innermost active host→wasm call and
/// returns the one it replaces: a fiber's calls into wasm are active only
/// while it runs ([`crate::api::component`]'s fibers swap them).
pub(crate) fn swap_catch(buf: *mut c_void) -> *mut c_void {
    JMP_BUF.with(|slot| slot.replace(buf))
}

/// Bytes kept free above the end of a thread's stack for host functions and
/// the trap handler, whatever `max_wasm_stack` says.
pub(crate) const STACK_RESERVE: usize = 128 * 1024;

/// The lowest address wasm may use on this thread's stack, or 0 if the
/// stack's bounds are unknown.
pub(crate) fn stack_floor() -> usize {
    thread_local! {
        static FLOOR: Cell<Option<usize>> = const { Cell::new(None) };
    }
    FLOOR.with(|floor| match floor.get() {
        Some(known) => known,
        None => {
            // Computed once per thread: on the main thread glibc reads
            // /proc/self/maps to answer.
            let value = signals::stack_low().map_or(0, |low| low + STACK_RESERVE);
            floor.set(Some(value));
            value
        }
    })
}

/// Called by the signal handler: if `pc` is a trap site in wasm code, records
/// the trap and unwinds (never returns); otherwise returns so the handler can
/// pass the signal on.
///
/// # Safety
///
/// `fp` must be the frame pointer register at the fault.
pub(crate) unsafe fn handle_fault(pc: usize, fp: usize) {
    let buf = JMP_BUF.with(|b| b.get());
    if buf.is_null() {
        return;
    }
    let Some((artifact, offset)) = lookup_pc(pc) else {
        return;
    };
    let Some(kind) = artifact.trap_at(offset) else {
        return;
    };
    let mut record = TrapRecord {
        kind,
        pcs: [0; MAX_TRAP_FRAMES],
        num_pcs: 1,
    };
    record.pcs[0] = pc;
    // SAFETY: compiled code keeps frame pointers, so `fp` heads a chain of
    // (saved fp, return address) pairs up to the host's entry frame.
    unsafe { walk_frames(fp, &mut record) };
    LAST_TRAP.with(|t| t.set(Some(record)));
    // SAFETY: `buf` is the jump buffer of a live `cmc_catch` frame below us.
    unsafe { cmc_unwind(buf) }
}

/// Follows the frame-pointer chain from `fp` while return addresses lie in
/// wasm code.
unsafe fn walk_frames(mut fp: usize, record: &mut TrapRecord) {
    while fp != 0 && fp.is_multiple_of(8) && record.num_pcs < MAX_TRAP_FRAMES {
        // SAFETY: `fp` points at a frame record of compiled code: the saved
        // caller fp, then the return address.
        let (next_fp, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if lookup_pc(ret).is_none() {
            break;
        }
        record.pcs[record.num_pcs] = ret - 1;
        record.num_pcs += 1;
        if next_fp <= fp {
            break;
        }
        fp = next_fp;
    }
}

/// Names the wasm frames of a trap record.
pub(crate) fn symbolize(record: &TrapRecord) -> Vec<FrameInfo> {
    record.pcs[..record.num_pcs]
        .iter()
        .filter_map(|&pc| {
            let (artifact, offset) = lookup_pc(pc)?;
            let func_index = artifact.func_at(offset)?;
            Some(FrameInfo {
                func_index,
                func_name: artifact.meta.func_name(func_index).map(str::to_owned),
            })
        })
        .collect()
}

/// A wasm frame of a trap backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Function index in its module.
    pub func_index: FuncIndex,
    /// Function name from the name section, if any.
    pub func_name: Option<String>,
}

impl fmt::Display for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.func_name {
            Some(name) => write!(f, "{name} (func {})", self.func_index),
            None => write!(f, "func {}", self.func_index),
        }
    }
}
