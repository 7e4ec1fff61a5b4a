;; A script whose every directive is right: the runner must report
;; 0 failures. It touches every directive kind the core runner supports.

(module $m
  (import "spectest" "print_i32" (func $print (param i32)))
  (import "spectest" "global_i32" (global $g i32))
  (import "spectest" "memory" (memory 1 2))
  (import "spectest" "table" (table 10 20 funcref))
  (global (export "answer") i64 (i64.const 42))
  (func (export "add") (param i32 i32) (result i32)
    (call $print (local.get 0))
    (i32.add (local.get 0) (local.get 1)))
  (func (export "g") (result i32) (global.get $g))
  (func (export "div") (param i32 i32) (result i32)
    (i32.div_s (local.get 0) (local.get 1)))
  (func (export "f32.div") (param f32 f32) (result f32)
    (f32.div (local.get 0) (local.get 1)))
  (func (export "f64.add") (param f64 f64) (result f64)
    (f64.add (local.get 0) (local.get 1)))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func (export "null") (result funcref) (ref.null func))
  (func $self (export "self") (result funcref) (ref.func $self))
  (func (export "pair") (result i32 i64) (i32.const 1) (i64.const -1))
  (func $loop (export "loop") (call $loop))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
)

(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke $m "g") (i32.const 666))
(assert_return (get "answer") (i64.const 42))
(assert_return (get $m "answer") (i64.const 42))
(assert_return (invoke "f32.div" (f32.const 0) (f32.const 0)) (f32.const nan:canonical))
(assert_return (invoke "f32.div" (f32.const 0) (f32.const 0)) (f32.const nan:arithmetic))
(assert_return (invoke "f32.div" (f32.const 1) (f32.const 4)) (f32.const 0.25))
(assert_return (invoke "f64.add" (f64.const -0x1p-1) (f64.const 0.5)) (f64.const 0))
(assert_return (invoke "id" (ref.extern 7)) (ref.extern 7))
(assert_return (invoke "id" (ref.extern 7)) (ref.extern))
(assert_return (invoke "id" (ref.null extern)) (ref.null extern))
(assert_return (invoke "null") (ref.null func))
(assert_return (invoke "self") (ref.func))
(assert_return (invoke "pair") (i32.const 1) (i64.const -1))
(assert_return (invoke "div" (i32.const 7) (i32.const 2)) (either (i32.const 3) (i32.const 4)))
(invoke "add" (i32.const 0) (i32.const 0))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "div" (i32.const 0x80000000) (i32.const -1)) "integer overflow")
(assert_trap (invoke "load" (i32.const 65536)) "out of bounds memory access")
(assert_exhaustion (invoke "loop") "call stack exhausted")

(register "m" $m)
(module
  (import "m" "add" (func $add (param i32 i32) (result i32)))
  (func (export "twice") (param i32) (result i32)
    (call $add (local.get 0) (local.get 0))))
(assert_return (invoke "twice" (i32.const 21)) (i32.const 42))

;; An instantiation that traps: the start function divides by zero.
(assert_trap
  (module (func $start (drop (i32.div_u (i32.const 1) (i32.const 0)))) (start $start))
  "integer divide by zero")

(assert_invalid
  (module (func (result i32) (i64.const 0)))
  "type mismatch")
(assert_malformed
  (module quote "(func (i32.const))")
  "unexpected token")
(assert_malformed
  (module binary "\00asm" "\02\00\00\00")
  "unknown binary version")
(assert_unlinkable
  (module (import "m" "missing" (func)))
  "unknown import")
(assert_unlinkable
  (module (import "m" "add" (func (param i64))))
  "incompatible import type")

(module definition $def
  (func (export "seven") (result i32) (i32.const 7)))
(module instance $inst $def)
(assert_return (invoke $inst "seven") (i32.const 7))
(module binary
  "\00asm" "\01\00\00\00"
  "\01\05\01\60\00\01\7f"                      ;; type: () -> i32
  "\03\02\01\00"                               ;; one function of type 0
  "\07\07\01\03\6f\6e\65\00\00"                ;; export "one" = func 0
  "\0a\06\01\04\00\41\01\0b"                   ;; body: i32.const 1
)
(assert_return (invoke "one") (i32.const 1))
(module quote "(func (export \"two\") (result i32) (i32.const 2))")
(assert_return (invoke "two") (i32.const 2))
