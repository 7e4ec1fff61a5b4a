;; Directives and values this runner cannot execute are failures, never
;; silent passes.

(module (func (export "f") (param i32) (result i32) (local.get 0)))

(assert_exception (invoke "f" (i32.const 0)))                                  ;; FAIL
(assert_return (invoke "f" (v128.const i32x4 0 0 0 0)) (i32.const 0))         ;; FAIL
(assert_return (invoke "f" (i32.const 0)) (v128.const i32x4 0 0 0 0))         ;; FAIL
(assert_return (invoke "f" (i32.const 0)) (ref.i31))                          ;; FAIL
(assert_return (invoke "f" (i32.const 0)) (i32.const 0))
