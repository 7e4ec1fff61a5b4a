;; Component directives and component values: right and wrong expectations.

(component definition $Adder
  (core module $m
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    (func (export "first") (param i32 i32) (result i32) (local.get 0))
    ;; option<u32> flattens to (discriminant, payload)
    (func (export "or-zero") (param i32 i32) (result i32)
      (select (local.get 1) (i32.const 0) (local.get 0)))
    (func (export "half") (param f32) (result f32)
      (f32.mul (local.get 0) (f32.const 0.5)))
    (func (export "trap") unreachable))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
  (func (export "first") (param "p" (tuple u32 u32)) (result u32)
    (canon lift (core func $i "first")))
  (func (export "or-zero") (param "o" (option u32)) (result u32)
    (canon lift (core func $i "or-zero")))
  (func (export "half") (param "x" f32) (result f32)
    (canon lift (core func $i "half")))
  (func (export "trap") (canon lift (core func $i "trap"))))
(component instance $adder $Adder)

(assert_return (invoke "add" (u32.const 40) (u32.const 2)) (u32.const 42))
(assert_return (invoke "add" (u32.const 40) (u32.const 2)) (u32.const 43))      ;; FAIL
(assert_return (invoke "add" (u32.const 40) (u32.const 2)) (s32.const 42))      ;; FAIL
(assert_return (invoke "first" (tuple.const (u32.const 7) (u32.const 8))) (u32.const 7))
(assert_return (invoke "or-zero" (option.some (u32.const 5))) (u32.const 5))
(assert_return (invoke "or-zero" (option.none)) (u32.const 0))
(assert_return (invoke "half" (f32.const 3)) (f32.const 1.5))
(assert_return (invoke "half" (f32.const nan)) (f32.const nan:canonical))
(invoke "add" (u32.const 1) (u32.const 1))
;; A trap poisons the instance: each one gets a fresh instance, and the
;; poisoned one refuses entry.
(assert_trap (invoke "trap") "unreachable")
(assert_trap (invoke "add" (u32.const 1) (u32.const 1)) "cannot enter component instance")
(component instance $adder $Adder)
(assert_trap (invoke "trap") "wasm trap: unreachable")
(component instance $adder $Adder)
(assert_trap (invoke "trap") "wasm trap: wasm `unreachable` instruction executed")
(component instance $adder $Adder)
(assert_trap (invoke "add" (u32.const 1) (u32.const 1)) "unreachable")         ;; FAIL
(assert_return (invoke "add" (u32.const 1)) (u32.const 1))                      ;; FAIL
(assert_return (invoke "add" (str.const "x") (u32.const 1)) (u32.const 1))      ;; FAIL
(assert_return (invoke "add" (i32.const 1) (i32.const 1)) (u32.const 2))        ;; FAIL
(assert_return (invoke "missing") (u32.const 1))                                ;; FAIL

;; Strings through linear memory.
(component
  (core module $m
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (global.get $next)
      (global.set $next (i32.add (global.get $next) (local.get 3))))
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16)))
  (core instance $i (instantiate $m))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo")
      (memory (core memory $i "memory")) (realloc (core func $i "realloc")))))

(assert_return (invoke "echo" (str.const "héllo")) (str.const "héllo"))
(assert_return (invoke "echo" (str.const "a")) (str.const "b"))                ;; FAIL

;; Definitions, named instances, and `register` for later imports.
(component definition $D
  (core module $m (func (export "f") (result i32) (i32.const 7)))
  (core instance $i (instantiate $m))
  (func (export "f") (result u32) (canon lift (core func $i "f"))))
(component instance $d1 $D)
(assert_return (invoke $d1 "f") (u32.const 7))
(assert_return (invoke "f") (u32.const 7))
(register "adder" $adder)
(component $user
  (import "adder" (instance $a
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
  (core func $add (canon lower (func $a "add")))
  (core module $m
    (import "" "add" (func $add (param i32 i32) (result i32)))
    (func (export "twice") (param i32) (result i32)
      (call $add (local.get 0) (local.get 0))))
  (core instance $i (instantiate $m (with "" (instance (export "add" (func $add))))))
  (func (export "twice") (param "x" u32) (result u32)
    (canon lift (core func $i "twice"))))
(assert_return (invoke "twice" (u32.const 21)) (u32.const 42))
(assert_return (invoke $adder "add" (u32.const 2) (u32.const 2)) (u32.const 4))

(component binary "\00asm" "\0d\00\01\00")
(component quote "(core module)")

;; Validation, decoding and linking.
(assert_invalid (component (export "a" (func 0))) "function index out of bounds")
(assert_invalid (component) "anything")                                         ;; FAIL
(assert_invalid (component (export "a" (func 0))) "some other reason")          ;; FAIL
(assert_malformed (component quote "(func") "unexpected end")
(assert_malformed (component binary "\00asm" "\0d\00\01\00" "\ff") "malformed section id")
(assert_malformed (component) "expected malformed")                             ;; FAIL
(assert_unlinkable
  (component
    (import "nothing" (func $f))
    (core func $g (canon lower (func $f)))
    (core module $m (import "" "f" (func)))
    (core instance (instantiate $m (with "" (instance (export "f" (func $g)))))))
  "unknown import")
(assert_unlinkable (component) "unknown import")                                ;; FAIL

;; After a component fails, unnamed directives do not reach an older one.
(component (core module $m (func (export "f") unreachable) (start 0)) (core instance (instantiate $m)))  ;; FAIL
(assert_return (invoke "twice" (u32.const 1)) (u32.const 2))                    ;; FAIL
