// The only C in cmc: a frame that owns a jump buffer, so a trap raised deep
// inside compiled wasm code can return control to the host that called in.
// The jump happens from the signal handler (installed with SA_NODEFER, so the
// signal mask needs no restoring); no Rust frame with pending destructors is
// ever skipped, because host code always returns to compiled code first.
// It uses the compiler's `__builtin_setjmp`, which saves only the frame
// pointer, the stack pointer and the resume address (the compiler saves the
// callee-saved registers in `cmc_catch`'s own frame), so entering wasm costs a
// few stores instead of a libc `setjmp`.
#include <stddef.h>

typedef void (*cmc_body_fn)(void *);

// Runs `body(payload)` with a fresh jump buffer published in `*slot`.
// Returns 1 when `body` returned normally and 0 when `cmc_unwind` jumped back.
int cmc_catch(cmc_body_fn body, void *payload, void **slot) {
    void *buf[5];
    void *prev = *slot;
    *slot = buf;
    if (__builtin_setjmp(buf) == 0) {
        body(payload);
        *slot = prev;
        return 1;
    }
    *slot = prev;
    return 0;
}

// Jumps back to the `cmc_catch` frame that published `buf`.
void cmc_unwind(void *buf) { __builtin_longjmp((void **)buf, 1); }
