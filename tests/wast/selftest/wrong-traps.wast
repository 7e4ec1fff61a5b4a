;; Wrong trap expectations: every directive marked FAIL must be reported as
;; a failure, every other one must pass.

(module
  (func (export "ok") (result i32) (i32.const 0))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "unreachable") (unreachable))
  (func $deep (export "deep") (call $deep))
)

(assert_trap (invoke "div" (i32.const 0)) "integer divide by zero")
(assert_trap (invoke "ok") "unreachable")                              ;; FAIL
(assert_trap (invoke "div" (i32.const 1)) "integer divide by zero")    ;; FAIL
(assert_trap (invoke "div" (i32.const 0)) "integer overflow")          ;; FAIL
(assert_trap (invoke "unreachable") "out of bounds memory access")     ;; FAIL
(assert_trap (invoke "deep") "unreachable")                            ;; FAIL
(assert_exhaustion (invoke "ok") "call stack exhausted")               ;; FAIL
(assert_exhaustion (invoke "unreachable") "call stack exhausted")      ;; FAIL
(assert_exhaustion (invoke "deep") "call stack exhausted")
(invoke "unreachable")                                                 ;; FAIL

;; A module that instantiates although a trap is expected.
(assert_trap (module (func)) "unreachable")                            ;; FAIL
;; A module whose start function traps with another message.
(assert_trap (module (func $s (unreachable)) (start $s)) "integer overflow") ;; FAIL
(assert_trap (module (func $s (unreachable)) (start $s)) "unreachable")
