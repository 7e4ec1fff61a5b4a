;; utf8 strings and lists of integers passed from `$caller` to `$callee`,
;; and back as results: cmc fuses these calls, checking each string or list
;; where it lies and copying it into memory the other side's `realloc`
;; gives.
(component
  (component $callee
    (core module $m
      (memory (export "memory") 1)
      (global $next (mut i32) (i32.const 1024))
      ;; A bump allocator: round up to the alignment asked for.
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr
          (i32.and
            (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
            (i32.sub (i32.const 0) (local.get 2))))
        (global.set $next (i32.add (local.get $ptr) (local.get 3)))
        (local.get $ptr))
      ;; The sum of the bytes at [ptr, ptr + len).
      (func $sum (export "sum") (param $ptr i32) (param $len i32) (result i32)
        (local $acc i32)
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $len)))
            (local.set $acc (i32.add (local.get $acc) (i32.load8_u (local.get $ptr))))
            (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
            (local.set $len (i32.sub (local.get $len) (i32.const 1)))
            (br $l)))
        (local.get $acc))
      ;; The sum of the u16s at [ptr, ptr + 2 * len), plus 100000 if `ptr`
      ;; is 2-aligned.
      (func (export "sum16") (param $ptr i32) (param $len i32) (result i32)
        (local $acc i32)
        (if (i32.eqz (i32.and (local.get $ptr) (i32.const 1)))
          (then (local.set $acc (i32.const 100000))))
        (block $done
          (loop $l
            (br_if $done (i32.eqz (local.get $len)))
            (local.set $acc (i32.add (local.get $acc) (i32.load16_u (local.get $ptr))))
            (local.set $ptr (i32.add (local.get $ptr) (i32.const 2)))
            (local.set $len (i32.sub (local.get $len) (i32.const 1)))
            (br $l)))
        (local.get $acc))
;; Returns its argument: the pair (ptr, len) stored at 8.
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 8) (local.get 0))
        (i32.store (i32.const 12) (local.get 1))
        (i32.const 8))
      ;; A return pointer that is not 4-aligned.
      (func (export "bad-echo") (param i32 i32) (result i32) (i32.const 9))
      ;; len(a) * 1000 + sum(b) * 10 + x
      (func (export "mix") (param $a i32) (param $alen i32) (param $x i32)
          (param $b i32) (param $blen i32) (result i32)
        (i32.add
          (i32.add
            (i32.mul (local.get $alen) (i32.const 1000))
            (i32.mul (call $sum (local.get $b) (local.get $blen)) (i32.const 10)))
          (local.get $x))))
    (core instance $i (instantiate $m))
    (func (export "sum") (param "s" string) (result u32)
      (canon lift (core func $i "sum")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "mix") (param "a" string) (param "x" u8) (param "b" string) (result u32)
      (canon lift (core func $i "mix")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "sum16") (param "l" (list u16)) (result u32)
      (canon lift (core func $i "sum16")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc"))))
    (func (export "bad-echo") (param "s" string) (result string)
      (canon lift (core func $i "bad-echo")
        (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))
  (component $caller
    (import "sum" (func $sum (param "s" string) (result u32)))
    (import "mix" (func $mix (param "a" string) (param "x" u8) (param "b" string) (result u32)))
    (import "sum16" (func $sum16 (param "l" (list u16)) (result u32)))
    (import "echo" (func $echo (param "s" string) (result string)))
    (import "bad-echo" (func $bad-echo (param "s" string) (result string)))
    (core module $mem
      (memory (export "memory") 1)
      ;; The caller's allocator hands out 512 onwards.
      (global $next (mut i32) (i32.const 512))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ptr i32)
        (local.set $ptr (global.get $next))
        (global.set $next (i32.add (local.get $ptr) (local.get 3)))
        (local.get $ptr))
      (data (i32.const 0) "hello")
      (data (i32.const 16) "\ff")
      (data (i32.const 32) "\01\00\02\00\03\01"))
    (core instance $mem (instantiate $mem))
    (core func $sum (canon lower (func $sum) (memory (core memory $mem "memory"))))
    (core func $mix (canon lower (func $mix) (memory (core memory $mem "memory"))))
    (core func $sum16 (canon lower (func $sum16) (memory (core memory $mem "memory"))))
    (core func $echo (canon lower (func $echo)
      (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))
    (core func $bad-echo (canon lower (func $bad-echo)
      (memory (core memory $mem "memory")) (realloc (core func $mem "realloc"))))
    (core module $main
      (import "" "sum" (func $sum (param i32 i32) (result i32)))
      (import "" "mix" (func $mix (param i32 i32 i32 i32 i32) (result i32)))
      (import "" "sum16" (func $sum16 (param i32 i32) (result i32)))
      (import "" "echo" (func $echo (param i32 i32 i32)))
      (import "" "bad-echo" (func $bad-echo (param i32 i32 i32)))
      (import "" "memory" (memory 1))
      ;; "hello" there and back: len * 1000 + the first byte, + 100000 when
      ;; the copy is in the caller's allocator's range.
      (func (export "echo") (result i32)
        (local $ptr i32)
        (call $echo (i32.const 0) (i32.const 5) (i32.const 64))
        (local.set $ptr (i32.load (i32.const 64)))
        (i32.add
          (i32.add
            (i32.mul (i32.load (i32.const 68)) (i32.const 1000))
            (i32.load8_u (local.get $ptr)))
          (select (i32.const 100000) (i32.const 0) (i32.ge_u (local.get $ptr) (i32.const 512)))))
      (func (export "bad-retptr") (result i32)
        (call $echo (i32.const 0) (i32.const 5) (i32.const 66))
        (i32.const 0))
      (func (export "bad-result") (result i32)
        (call $bad-echo (i32.const 0) (i32.const 5) (i32.const 64))
        (i32.const 0))
      (func (export "list") (result i32) (call $sum16 (i32.const 32) (i32.const 3)))
      (func (export "unaligned-list") (result i32) (call $sum16 (i32.const 33) (i32.const 1)))
      (func (export "hello") (result i32) (call $sum (i32.const 0) (i32.const 5)))
      (func (export "mix") (result i32)
        (call $mix (i32.const 0) (i32.const 5) (i32.const 0x107) (i32.const 1) (i32.const 2)))
      (func (export "out-of-bounds") (result i32) (call $sum (i32.const 65535) (i32.const 2)))
      (func (export "invalid") (result i32) (call $sum (i32.const 16) (i32.const 1))))
    (core instance $main (instantiate $main
      (with "" (instance
        (export "sum" (func $sum)) (export "mix" (func $mix)) (export "sum16" (func $sum16))
        (export "echo" (func $echo)) (export "bad-echo" (func $bad-echo))
        (export "memory" (memory $mem "memory"))))))
    (func (export "echo") (result u32) (canon lift (core func $main "echo")))
    (func (export "bad-retptr") (result u32) (canon lift (core func $main "bad-retptr")))
    (func (export "bad-result") (result u32) (canon lift (core func $main "bad-result")))
    (func (export "list") (result u32) (canon lift (core func $main "list")))
    (func (export "unaligned-list") (result u32) (canon lift (core func $main "unaligned-list")))
    (func (export "hello") (result u32) (canon lift (core func $main "hello")))
    (func (export "mix") (result u32) (canon lift (core func $main "mix")))
    (func (export "out-of-bounds") (result u32) (canon lift (core func $main "out-of-bounds")))
    (func (export "invalid") (result u32) (canon lift (core func $main "invalid"))))
  (instance $callee (instantiate $callee))
  (instance $caller (instantiate $caller
    (with "sum" (func $callee "sum")) (with "mix" (func $callee "mix"))
    (with "sum16" (func $callee "sum16"))
    (with "echo" (func $callee "echo")) (with "bad-echo" (func $callee "bad-echo"))))
  (export "caller" (instance $caller)))
