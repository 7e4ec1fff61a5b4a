;; Wrong module expectations: every directive marked FAIL must be reported
;; as a failure, every other one must pass.

(module $a (func (export "f")))
(register "a" $a)

(assert_invalid (module (func (result i32) (i32.const 0))) "type mismatch")   ;; FAIL
(assert_invalid (module (func (result i32) (i64.const 0))) "type mismatch")
(assert_malformed (module quote "(func (result i32) (i32.const 0))") "unexpected token") ;; FAIL
(assert_malformed (module binary "\00asm" "\01\00\00\00") "unexpected end") ;; FAIL
(assert_malformed (module binary "\00asm" "\01\00\00") "unexpected end")
(assert_unlinkable (module (import "a" "f" (func))) "unknown import")         ;; FAIL
(assert_unlinkable (module (import "a" "g" (func))) "incompatible import type") ;; FAIL
(assert_unlinkable (module (import "a" "g" (func))) "unknown import")
(assert_unlinkable (module (import "a" "f" (func (param i32)))) "incompatible import type")
(module (func (result i32) (i64.const 0)))                                    ;; FAIL
(module (import "a" "missing" (func)))                                        ;; FAIL
(module (func $s (unreachable)) (start $s))                                   ;; FAIL
(module quote "(func (i32.const))")                                           ;; FAIL
(register "b" $nowhere)                                                       ;; FAIL
(module instance $i $undefined)                                               ;; FAIL
