/* streams: wasi:io streams and poll, called directly (WASI 0.2.12, no
 * preview1 adapter; the C bindings come from wit-bindgen, see build.sh).
 *
 *   streams FILE
 *
 * FILE is a file in the first preopened directory. In order:
 *   1. opens FILE (descriptor.open-at) and reads it through
 *      read-via-stream: skip(6), then blocking-splice of the rest to
 *      stdout, then skip at the end (closed);
 *   2. copies stdin to stdout with the non-blocking splice, waiting on
 *      stdin's pollable whenever nothing is ready;
 *   3. polls a 10 s and a 10 ms monotonic-clock pollable together: only
 *      the 10 ms one is ready, after >= 10 ms and well before 10 s; then
 *      polls [expired 10 ms, 10 s, expired 10 ms] (the same pollable
 *      twice: both places are reported) and [0 ms].
 * Everything on stdout is deterministic; elapsed times go to stderr. */
#include <stdarg.h>

#include "format.h"
#include "streams.h"

static wasi_io_streams_own_output_stream_t out, err;

static void write_to(wasi_io_streams_own_output_stream_t s, const char *fmt, va_list ap) {
    char buf[1024];
    streams_list_u8_t bytes = {(uint8_t *)buf, format(buf, sizeof buf, fmt, ap)};
    wasi_io_streams_stream_error_t e;
    wasi_io_streams_method_output_stream_blocking_write_and_flush(
        wasi_io_streams_borrow_output_stream(s), &bytes, &e);
}

static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_to(out, fmt, ap);
    va_end(ap);
}

static void note(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    write_to(err, fmt, ap);
    va_end(ap);
}

static const char *stream_error(wasi_io_streams_stream_error_t *e) {
    if (e->tag == WASI_IO_STREAMS_STREAM_ERROR_CLOSED)
        return "closed";
    wasi_io_error_error_drop_own(e->val.last_operation_failed);
    return "last-operation-failed";
}

static const char *fs_error(wasi_filesystem_types_error_code_t e) {
    static const char *names[] = {
        "access", "would-block", "already", "bad-descriptor", "busy", "deadlock", "quota",
        "exist", "file-too-large", "illegal-byte-sequence", "in-progress", "interrupted",
        "invalid", "io", "is-directory", "loop", "too-many-links", "message-size",
        "name-too-long", "no-device", "no-entry", "no-lock", "insufficient-memory",
        "insufficient-space", "not-directory", "not-empty", "not-recoverable", "unsupported",
        "no-tty", "no-such-device", "overflow", "not-permitted", "pipe", "read-only",
        "invalid-seek", "text-file-busy", "cross-device",
    };
    return e < sizeof names / sizeof names[0] ? names[e] : "?";
}

static uint64_t now(void) { return wasi_clocks_monotonic_clock_now(); }

/* Step 1: a file through an input-stream. */
static bool file_stream(streams_string_t *name) {
    wasi_filesystem_preopens_list_tuple2_own_descriptor_string_t dirs;
    wasi_filesystem_preopens_get_directories(&dirs);
    say("preopens: %zu", dirs.len);
    for (size_t i = 0; i < dirs.len; i++)
        say(" %.*s", (int)dirs.ptr[i].f1.len, dirs.ptr[i].f1.ptr);
    say("\n");
    if (dirs.len == 0)
        return false;

    wasi_filesystem_types_own_descriptor_t file;
    wasi_filesystem_types_error_code_t code;
    if (!wasi_filesystem_types_method_descriptor_open_at(
            wasi_filesystem_types_borrow_descriptor(dirs.ptr[0].f0), 0, name, 0,
            WASI_FILESYSTEM_TYPES_DESCRIPTOR_FLAGS_READ, &file, &code)) {
        say("open-at %.*s: %s\n", (int)name->len, name->ptr, fs_error(code));
        return false;
    }
    say("open-at %.*s: ok\n", (int)name->len, name->ptr);

    wasi_io_streams_own_input_stream_t in;
    if (!wasi_filesystem_types_method_descriptor_read_via_stream(
            wasi_filesystem_types_borrow_descriptor(file), 0, &in, &code)) {
        say("read-via-stream: %s\n", fs_error(code));
        return false;
    }
    wasi_io_streams_borrow_input_stream_t bin = wasi_io_streams_borrow_input_stream(in);
    wasi_io_streams_stream_error_t e;
    uint64_t n;

    /* skip is non-blocking: it may skip less than asked, even 0. */
    uint64_t skipped = 0;
    while (skipped < 6) {
        if (!wasi_io_streams_method_input_stream_skip(bin, 6 - skipped, &n, &e)) {
            say("skip: %s\n", stream_error(&e));
            return false;
        }
        skipped += n;
        if (n == 0) {
            wasi_io_poll_own_pollable_t p = wasi_io_streams_method_input_stream_subscribe(bin);
            wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(p));
            wasi_io_poll_pollable_drop_own(p);
        }
    }
    say("skipped %llu bytes\n", (unsigned long long)skipped);

    say("--- the rest of the file, spliced:\n");
    uint64_t total = 0;
    for (;;) {
        if (!wasi_io_streams_method_output_stream_blocking_splice(
                wasi_io_streams_borrow_output_stream(out), bin, 7, &n, &e)) {
            say("--- blocking-splice: %s after %llu bytes\n", stream_error(&e),
                (unsigned long long)total);
            break;
        }
        total += n;
    }
    if (!wasi_io_streams_method_input_stream_skip(bin, 10, &n, &e))
        say("skip at the end: %s\n", stream_error(&e));
    else
        say("skip at the end: %llu\n", (unsigned long long)n);

    /* A stream that starts past the end is closed at once. */
    wasi_io_streams_own_input_stream_t past;
    if (wasi_filesystem_types_method_descriptor_read_via_stream(
            wasi_filesystem_types_borrow_descriptor(file), 1000, &past, &code)) {
        streams_list_u8_t bytes;
        if (!wasi_io_streams_method_input_stream_blocking_read(
                wasi_io_streams_borrow_input_stream(past), 10, &bytes, &e))
            say("blocking-read from offset 1000: %s\n", stream_error(&e));
        else
            say("blocking-read from offset 1000: %zu bytes\n", bytes.len);
        wasi_io_streams_input_stream_drop_own(past);
    }

    /* Streams are children of their descriptor: drop them first. */
    wasi_io_streams_input_stream_drop_own(in);
    wasi_filesystem_types_descriptor_drop_own(file);
    return true;
}

/* Step 2: stdin to stdout with the non-blocking splice. */
static void stdin_stream(void) {
    wasi_io_streams_own_input_stream_t in = wasi_cli_stdin_get_stdin();
    wasi_io_streams_borrow_input_stream_t bin = wasi_io_streams_borrow_input_stream(in);
    wasi_io_poll_own_pollable_t ready = wasi_io_streams_method_input_stream_subscribe(bin);
    say("--- stdin, spliced:\n");
    uint64_t total = 0, n;
    wasi_io_streams_stream_error_t e;
    for (;;) {
        if (!wasi_io_streams_method_output_stream_splice(
                wasi_io_streams_borrow_output_stream(out), bin, 4096, &n, &e)) {
            say("--- splice: %s after %llu bytes\n", stream_error(&e), (unsigned long long)total);
            break;
        }
        total += n;
        if (n == 0)
            wasi_io_poll_method_pollable_block(wasi_io_poll_borrow_pollable(ready));
    }
    wasi_io_poll_pollable_drop_own(ready);
    wasi_io_streams_input_stream_drop_own(in);
}

static void print_ready(const char *what, streams_list_u32_t *r) {
    say("%s: [", what);
    for (size_t i = 0; i < r->len; i++)
        say(i ? ", %u" : "%u", r->ptr[i]);
    say("]\n");
}

/* Step 3: poll over several pollables. */
static void poll_clocks(void) {
    const uint64_t ms = 1000000;
    uint64_t start = now();
    wasi_io_poll_own_pollable_t slow = wasi_clocks_monotonic_clock_subscribe_duration(10000 * ms);
    wasi_io_poll_own_pollable_t fast = wasi_clocks_monotonic_clock_subscribe_duration(10 * ms);
    wasi_io_poll_borrow_pollable_t list[3] = {
        wasi_io_poll_borrow_pollable(slow),
        wasi_io_poll_borrow_pollable(fast),
    };
    wasi_io_poll_list_borrow_pollable_t pollables = {list, 2};
    streams_list_u32_t ready;
    wasi_io_poll_poll(&pollables, &ready);
    uint64_t elapsed = now() - start;
    print_ready("poll [10 s, 10 ms]", &ready);
    streams_list_u32_free(&ready);
    say("10 s ready: %s\n", wasi_io_poll_method_pollable_ready(list[0]) ? "yes" : "no");
    say("10 ms ready: %s\n", wasi_io_poll_method_pollable_ready(list[1]) ? "yes" : "no");
    say("returned after >= 10 ms: %s\n", elapsed >= 10 * ms ? "yes" : "no");
    say("returned before 5 s: %s\n", elapsed < 5000 * ms ? "yes" : "no");
    note("poll returned after %llu ms\n", (unsigned long long)(elapsed / ms));

    /* The same pollable twice: both places are reported. */
    list[0] = wasi_io_poll_borrow_pollable(fast);
    list[1] = wasi_io_poll_borrow_pollable(slow);
    list[2] = wasi_io_poll_borrow_pollable(fast);
    pollables.len = 3;
    start = now();
    wasi_io_poll_poll(&pollables, &ready);
    elapsed = now() - start;
    print_ready("poll [expired 10 ms, 10 s, expired 10 ms]", &ready);
    streams_list_u32_free(&ready);
    say("returned before 5 s: %s\n", elapsed < 5000 * ms ? "yes" : "no");

    /* A zero duration is ready at once. */
    wasi_io_poll_own_pollable_t zero = wasi_clocks_monotonic_clock_subscribe_duration(0);
    list[0] = wasi_io_poll_borrow_pollable(zero);
    pollables.len = 1;
    wasi_io_poll_poll(&pollables, &ready);
    print_ready("poll [0 ms]", &ready);
    streams_list_u32_free(&ready);

    wasi_io_poll_pollable_drop_own(zero);
    wasi_io_poll_pollable_drop_own(fast);
    wasi_io_poll_pollable_drop_own(slow);
}

bool exports_wasi_cli_run_run(void) {
    out = wasi_cli_stdout_get_stdout();
    err = wasi_cli_stderr_get_stderr();
    streams_list_string_t args;
    wasi_cli_environment_get_arguments(&args);
    if (args.len < 2) {
        say("usage: streams FILE\n");
        return false;
    }
    bool ok = file_stream(&args.ptr[1]);
    stdin_stream();
    poll_clocks();
    streams_list_string_free(&args);
    return ok;
}
