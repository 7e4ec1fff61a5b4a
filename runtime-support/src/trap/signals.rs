//! POSIX signal handler installation and register access.

use std::mem::MaybeUninit;

const SIGNALS: [libc::c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGTRAP,
];

/// Handlers that were installed before ours, to pass foreign faults on to.
static mut PREVIOUS: [MaybeUninit<libc::sigaction>; 5] = [MaybeUninit::uninit(); 5];

pub(super) fn install() {
    for (i, &sig) in SIGNALS.iter().enumerate() {
        // SAFETY: runs once (under `Once`) before any handler can read
        // PREVIOUS; sigaction is given valid, initialised structs.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = handler as *const () as usize;
            // SA_NODEFER: the handler leaves by longjmp, so the signal must
            // not stay blocked afterwards.
            action.sa_flags = libc::SA_SIGINFO | libc::SA_NODEFER | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let prev = &raw mut PREVIOUS;
            libc::sigaction(sig, &action, (*prev)[i].as_mut_ptr());
        }
    }
}

unsafe extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
    let (pc, fp) = unsafe { pc_and_fp(ctx) };
    // SAFETY: `fp` is the frame pointer at the fault. Does not return when
    // the fault is a wasm trap.
    unsafe { super::handle_fault(pc, fp) };
    // Not ours: hand the signal to the previous handler.
    let i = SIGNALS.iter().position(|&s| s == sig).unwrap_or(0);
    // SAFETY: PREVIOUS was filled by `install` before this handler existed.
    unsafe {
        let prev = &raw const PREVIOUS;
        let prev = (*prev)[i].assume_init_ref();
        if prev.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(prev.sa_sigaction);
            f(sig, info, ctx);
        } else if prev.sa_sigaction == libc::SIG_DFL || prev.sa_sigaction == libc::SIG_IGN {
            // Restore the default action and return: the fault repeats and
            // the process dies with the right signal.
            libc::signal(sig, libc::SIG_DFL);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev.sa_sigaction);
            f(sig);
        }
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
unsafe fn pc_and_fp(ctx: *mut libc::c_void) -> (usize, usize) {
    // SAFETY: the caller passes the handler's ucontext.
    let uc = unsafe { &*(ctx as *const libc::ucontext_t) };
    let gregs = &uc.uc_mcontext.gregs;
    (
        gregs[libc::REG_RIP as usize] as usize,
        gregs[libc::REG_RBP as usize] as usize,
    )
}

#[cfg(all(target_os = "linux", target_arch = "aarch64"))]
unsafe fn pc_and_fp(ctx: *mut libc::c_void) -> (usize, usize) {
    // SAFETY: the caller passes the handler's ucontext.
    let uc = unsafe { &*(ctx as *const libc::ucontext_t) };
    (uc.uc_mcontext.pc as usize, uc.uc_mcontext.regs[29] as usize)
}

#[cfg(all(target_os = "linux", target_arch = "riscv64"))]
unsafe fn pc_and_fp(ctx: *mut libc::c_void) -> (usize, usize) {
    // SAFETY: the caller passes the handler's ucontext.
    let uc = unsafe { &*(ctx as *const libc::ucontext_t) };
    (
        uc.uc_mcontext.__gregs[0] as usize,
        uc.uc_mcontext.__gregs[8] as usize,
    )
}

/// The lowest address of the current thread's stack.
pub(super) fn stack_low() -> Option<usize> {
    // SAFETY: `attr` is initialised by pthread_getattr_np before it is read
    // and destroyed once; the out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return None;
        }
        let (mut addr, mut size) = (std::ptr::null_mut(), 0usize);
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        (rc == 0).then_some(addr as usize)
    }
}
