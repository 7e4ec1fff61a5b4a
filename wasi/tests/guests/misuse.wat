;; A hand-written WASI 0.2.0 guest for the host's bad-input tests: each
;; export misuses (or stresses) one interface the way a broken or hostile
;; guest could.
(component
  (import "wasi:io/error@0.2.0" (instance $error (export "error" (type (sub resource)))))
  (alias export $error "error" (type $error_t))
  (import "wasi:io/poll@0.2.0" (instance $poll
    (export "pollable" (type $p (sub resource)))
    (export "poll" (func (param "in" (list (borrow $p))) (result (list u32))))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:io/streams@0.2.0" (instance $streams
    (alias outer 1 $error_t (type $e0))
    (export "error" (type $e (eq $e0)))
    (export "output-stream" (type $os (sub resource)))
    (export "input-stream" (type $is (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $e)) (case "closed")))
    (export "stream-error" (type $se2 (eq $se)))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $se2)))))
    (export "[method]input-stream.blocking-read"
      (func (param "self" (borrow $is)) (param "len" u64) (result (result (list u8) (error $se2)))))))
  (alias export $streams "output-stream" (type $output_stream))
  (alias export $streams "input-stream" (type $input_stream))
  (import "wasi:cli/stdout@0.2.0" (instance $stdout
    (alias outer 1 $output_stream (type $o0))
    (export "output-stream" (type $o (eq $o0)))
    (export "get-stdout" (func (result (own $o))))))
  (import "wasi:cli/stdin@0.2.0" (instance $stdin
    (alias outer 1 $input_stream (type $i0))
    (export "input-stream" (type $i (eq $i0)))
    (export "get-stdin" (func (result (own $i))))))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (alias outer 1 $pollable (type $p0))
    (export "pollable" (type $p (eq $p0)))
    (export "subscribe-duration" (func (param "when" u64) (result (own $p))))))
  (import "wasi:random/random@0.2.0" (instance $random
    (export "get-random-bytes" (func (param "len" u64) (result (list u8))))))

  ;; Memory and a bump allocator for the values the host returns.
  (core module $libc
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $next))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
        (then (drop (memory.grow (i32.const 2)))))
      (local.get $at)))
  (core instance $libc (instantiate $libc))

  (core func $get_stdout (canon lower (func $stdout "get-stdout")))
  (core func $get_stdin (canon lower (func $stdin "get-stdin")))
  (core func $write (canon lower (func $streams "[method]output-stream.blocking-write-and-flush")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $read (canon lower (func $streams "[method]input-stream.blocking-read")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $drop_out (canon resource.drop $output_stream))
  (core func $subscribe (canon lower (func $clock "subscribe-duration")))
  (core func $poll (canon lower (func $poll "poll")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))
  (core func $random (canon lower (func $random "get-random-bytes")
    (memory (core memory $libc "mem")) (realloc (core func $libc "realloc"))))

  (core module $m
    (import "libc" "mem" (memory 1))
    (import "wasi" "get-stdout" (func $get_stdout (result i32)))
    (import "wasi" "get-stdin" (func $get_stdin (result i32)))
    (import "wasi" "write" (func $write (param i32 i32 i32 i32)))
    (import "wasi" "read" (func $read (param i32 i64 i32)))
    (import "wasi" "drop-out" (func $drop_out (param i32)))
    (import "wasi" "subscribe" (func $subscribe (param i64) (result i32)))
    (import "wasi" "poll" (func $poll (param i32 i32 i32)))
    (import "wasi" "random" (func $random (param i64 i32)))
    (data (i32.const 0) "hi\n")
    ;; Writes through a handle after dropping it.
    (func (export "write-dead")
      (local $h i32)
      (local.set $h (call $get_stdout))
      (call $drop_out (local.get $h))
      (call $write (local.get $h) (i32.const 0) (i32.const 3) (i32.const 64)))
    ;; Writes bytes that lie past the end of memory.
    (func (export "write-out-of-bounds")
      (call $write (call $get_stdout) (i32.const 0xfffffff0) (i32.const 16) (i32.const 64)))
    ;; Writes "hi\n" properly.
    (func (export "write-ok") (result i32)
      (call $write (call $get_stdout) (i32.const 0) (i32.const 3) (i32.const 64))
      (i32.load8_u (i32.const 64)))
    ;; Asks stdin for u64::MAX bytes; returns how many came back.
    (func (export "read-huge") (result i32)
      (call $read (call $get_stdin) (i64.const -1) (i32.const 64))
      (if (i32.load8_u (i32.const 64)) (then (unreachable)))
      (i32.load (i32.const 72)))
    ;; Asks for a terabyte of random bytes.
    (func (export "random-huge")
      (call $random (i64.const 0x10000000000) (i32.const 64)))
    ;; Polls a 10 ms and a 10 s sleep: returns (ready count << 8) | first.
    (func (export "poll-two") (result i32)
      (i32.store (i32.const 128) (call $subscribe (i64.const 10000000)))
      (i32.store (i32.const 132) (call $subscribe (i64.const 10000000000)))
      (call $poll (i32.const 128) (i32.const 2) (i32.const 64))
      (i32.or
        (i32.shl (i32.load (i32.const 68)) (i32.const 8))
        (i32.load (i32.load (i32.const 64))))))
  (core instance $i (instantiate $m
    (with "libc" (instance $libc))
    (with "wasi" (instance
      (export "get-stdout" (func $get_stdout))
      (export "get-stdin" (func $get_stdin))
      (export "write" (func $write))
      (export "read" (func $read))
      (export "drop-out" (func $drop_out))
      (export "subscribe" (func $subscribe))
      (export "poll" (func $poll))
      (export "random" (func $random))))))
  (func (export "write-dead") (canon lift (core func $i "write-dead")))
  (func (export "write-out-of-bounds") (canon lift (core func $i "write-out-of-bounds")))
  (func (export "write-ok") (result u32) (canon lift (core func $i "write-ok")))
  (func (export "read-huge") (result u32) (canon lift (core func $i "read-huge")))
  (func (export "random-huge") (canon lift (core func $i "random-huge")))
  (func (export "poll-two") (result u32) (canon lift (core func $i "poll-two"))))
