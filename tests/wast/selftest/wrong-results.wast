;; Wrong results: every directive marked FAIL must be reported as a failure,
;; every other one must pass.

(module
  (func (export "one") (result i32) (i32.const 1))
  (func (export "big") (result i64) (i64.const 1))
  (func (export "half") (result f32) (f32.const 0.5))
  (func (export "nan") (result f64) (f64.const nan:0x4))
  (func (export "qnan") (result f32) (f32.const nan:0x400001))
  (func (export "id") (param externref) (result externref) (local.get 0))
  (func $f (export "func") (result funcref) (ref.func $f))
  (func (export "null") (result funcref) (ref.null func))
  (func (export "pair") (result i32 i32) (i32.const 1) (i32.const 2))
  (global (export "g") i32 (i32.const 5))
)

(assert_return (invoke "one") (i32.const 1))
(assert_return (invoke "one") (i32.const 2))                          ;; FAIL
(assert_return (invoke "one") (i64.const 1))                          ;; FAIL
(assert_return (invoke "big") (i64.const -1))                         ;; FAIL
(assert_return (invoke "half") (f32.const -0.5))                      ;; FAIL
(assert_return (invoke "half") (f32.const nan:canonical))             ;; FAIL
(assert_return (invoke "nan") (f64.const nan:canonical))              ;; FAIL
(assert_return (invoke "nan") (f64.const nan:arithmetic))             ;; FAIL
(assert_return (invoke "qnan") (f32.const nan:arithmetic))
(assert_return (invoke "qnan") (f32.const nan:canonical))             ;; FAIL
(assert_return (invoke "id" (ref.extern 1)) (ref.extern 2))           ;; FAIL
(assert_return (invoke "id" (ref.extern 1)) (ref.null extern))        ;; FAIL
(assert_return (invoke "id" (ref.null extern)) (ref.extern))          ;; FAIL
(assert_return (invoke "func") (ref.null func))                       ;; FAIL
(assert_return (invoke "null") (ref.func))                            ;; FAIL
(assert_return (invoke "null") (ref.null extern))                     ;; FAIL
(assert_return (invoke "pair") (i32.const 1))                         ;; FAIL
(assert_return (invoke "pair") (i32.const 1) (i32.const 2) (i32.const 3)) ;; FAIL
(assert_return (invoke "pair") (either (i32.const 2) (i32.const 3)) (i32.const 2)) ;; FAIL
(assert_return (get "g") (i32.const 6))                               ;; FAIL
(assert_return (get "missing") (i32.const 5))                         ;; FAIL
(assert_return (invoke "missing"))                                    ;; FAIL
(assert_return (invoke "one" (i32.const 1)) (i32.const 1))            ;; FAIL
(invoke $nowhere "one")                                               ;; FAIL
