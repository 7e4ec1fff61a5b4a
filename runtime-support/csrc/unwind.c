// The only C in cmc: a frame that owns a jump buffer, so a trap raised deep
// inside compiled wasm code can return control to the host that called in.
// The jump happens from the signal handler (installed with SA_NODEFER, so the
// signal mask needs no restoring); no Rust frame with pending destructors is
// ever skipped, because host code always returns to compiled code first.
#include <setjmp.h>
#include <stddef.h>

typedef void (*cmc_body_fn)(void *);

// Runs `body(payload)` with a fresh jump buffer published in `*slot`.
// Returns 1 when `body` returned normally and 0 when `cmc_unwind` jumped back.
int cmc_catch(cmc_body_fn body, void *payload, void **slot) {
    jmp_buf buf;
    void *prev = *slot;
    *slot = &buf;
    if (setjmp(buf) == 0) {
        body(payload);
        *slot = prev;
        return 1;
    }
    *slot = prev;
    return 0;
}

// Jumps back to the `cmc_catch` frame that published `buf`.
void cmc_unwind(void *buf) { longjmp(*(jmp_buf *)buf, 1); }
