;; Calls between components whose canonical options name memories of
;; different address types: `$caller64` has a 64-bit memory and calls
;; `$callee32`, whose memory is 32-bit; `$caller32` calls `$callee64`, which
;; keeps its strings as latin1+utf16 in a 64-bit memory (the utf16 tag is
;; then bit 63 of the length).
(component
  (component $callee32
    (core module $m
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      (func $realloc (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $ptr) (local.get 3)))
        (local.get $ptr))
      ;; "hi " followed by the name, returned through the pair at 16.
      (func (export "greet") (param $ptr i32) (param $len i32) (result i32)
        (local $dst i32)
        (local.set $dst
          (call $realloc (i32.const 0) (i32.const 0) (i32.const 1)
            (i32.add (local.get $len) (i32.const 3))))
        (i32.store8 (local.get $dst) (i32.const 104))
        (i32.store8 offset=1 (local.get $dst) (i32.const 105))
        (i32.store8 offset=2 (local.get $dst) (i32.const 32))
        (memory.copy (i32.add (local.get $dst) (i32.const 3)) (local.get $ptr) (local.get $len))
        (i32.store (i32.const 16) (local.get $dst))
        (i32.store (i32.const 20) (i32.add (local.get $len) (i32.const 3)))
        (i32.const 16))
      ;; The sum of a list<u64>.
      (func (export "sum") (param $ptr i32) (param $len i32) (result i64)
        (local $acc i64)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $len)))
            (local.set $acc (i64.add (local.get $acc) (i64.load (local.get $ptr))))
            (local.set $ptr (i32.add (local.get $ptr) (i32.const 8)))
            (local.set $len (i32.sub (local.get $len) (i32.const 1)))
            (br $l)))
        (local.get $acc)))
    (core instance $i (instantiate $m))
    (func (export "greet") (param "name" string) (result string)
      (canon lift (core func $i "greet")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "sum") (param "xs" (list u64)) (result u64)
      (canon lift (core func $i "sum")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
  (instance $callee32 (instantiate $callee32))

  (component $callee64
    (core module $m
      (memory (export "memory") i64 1)
      (global $next (mut i64) (i64.const 1024))
      (global $len (mut i64) (i64.const 0))
      ;; Shrinks in place; grows by moving (latin1+utf16 strings need both).
      (func (export "realloc") (param i64 i64 i64 i64) (result i64)
        (local $ptr i64)
        (if (i32.and (i64.ne (local.get 0) (i64.const 0)) (i64.le_u (local.get 3) (local.get 1)))
          (then (return (local.get 0))))
        (local.set $ptr
          (i64.and
            (i64.add (global.get $next) (i64.sub (local.get 2) (i64.const 1)))
            (i64.sub (i64.const 0) (local.get 2))))
        (global.set $next (i64.add (local.get $ptr) (local.get 3)))
        (memory.copy (local.get $ptr) (local.get 0) (local.get 1))
        (local.get $ptr))
      ;; Returns its argument through the pair at 32 and keeps its length.
      (func (export "echo") (param $ptr i64) (param $len i64) (result i64)
        (global.set $len (local.get $len))
        (i64.store (i64.const 32) (local.get $ptr))
        (i64.store (i64.const 40) (local.get $len))
        (i64.const 32))
      (func (export "last-len") (result i64) (global.get $len)))
    (core instance $i (instantiate $m))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo") string-encoding=latin1+utf16
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "last-len") (result u64) (canon lift (core func $i "last-len"))))
  (instance $callee64 (instantiate $callee64))

  (component $caller64
    (import "greet" (func $greet (param "name" string) (result string)))
    (import "sum" (func $sum (param "xs" (list u64)) (result u64)))
    (core module $libc
      (memory (export "memory") i64 1)
      (global $next (mut i64) (i64.const 4096))
      (func (export "realloc") (param i64 i64 i64 i64) (result i64)
        (local $ptr i64)
        (local.set $ptr
          (i64.and
            (i64.add (global.get $next) (i64.sub (local.get 2) (i64.const 1)))
            (i64.sub (i64.const 0) (local.get 2))))
        (global.set $next (i64.add (local.get $ptr) (local.get 3)))
        (local.get $ptr))
      (data (i64.const 100) "world")
      (data (i64.const 200) "\01\00\00\00\00\00\00\00\02\00\00\00\00\00\00\00\00\00\00\00\01\00\00\00"))
    (core instance $libc (instantiate $libc))
    (core func $greet (canon lower (func $greet)
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core func $sum (canon lower (func $sum)
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core module $main
      (import "libc" "memory" (memory i64 1))
      (import "" "greet" (func $greet (param i64 i64 i64)))
      (import "" "sum" (func $sum (param i64 i64) (result i64)))
      (func (export "greet-world") (result i64)
        (call $greet (i64.const 100) (i64.const 5) (i64.const 64))
        (i64.const 64))
      ;; A name beyond 4 GiB: out of bounds of this memory.
      (func (export "greet-far") (result i64)
        (call $greet (i64.const 0x100000000) (i64.const 1) (i64.const 64))
        (i64.const 64))
      (func (export "sum") (result i64) (call $sum (i64.const 200) (i64.const 3))))
    (core instance $main (instantiate $main
      (with "libc" (instance $libc))
      (with "" (instance (export "greet" (func $greet)) (export "sum" (func $sum))))))
    (func (export "greet-world") (result string)
      (canon lift (core func $main "greet-world") (memory (core memory $libc "memory"))))
    (func (export "greet-far") (result string)
      (canon lift (core func $main "greet-far") (memory (core memory $libc "memory"))))
    (func (export "sum") (result u64) (canon lift (core func $main "sum"))))
  (instance $caller64 (instantiate $caller64
    (with "greet" (func $callee32 "greet"))
    (with "sum" (func $callee32 "sum"))))

  (component $caller32
    (import "echo" (func $echo (param "s" string) (result string)))
    (core module $libc
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 4096))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $ptr) (local.get 3)))
        (local.get $ptr))
      ;; "日本" in utf8.
      (data (i32.const 100) "\e6\97\a5\e6\9c\ac"))
    (core instance $libc (instantiate $libc))
    (core func $echo (canon lower (func $echo)
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
    (core module $main
      (import "" "echo" (func $echo (param i32 i32 i32)))
      (func (export "echo") (result i32)
        (call $echo (i32.const 100) (i32.const 6) (i32.const 64))
        (i32.const 64)))
    (core instance $main (instantiate $main (with "" (instance (export "echo" (func $echo))))))
    (func (export "echo") (result string)
      (canon lift (core func $main "echo") (memory (core memory $libc "memory")))))
  (instance $caller32 (instantiate $caller32 (with "echo" (func $callee64 "echo"))))

  (export "caller64" (instance $caller64))
  (export "caller32" (instance $caller32))
  (export "last-len" (func $callee64 "last-len")))
