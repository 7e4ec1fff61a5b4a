;; A script that does not parse is one failure, never a pass.
(module (func (export "f")))
(assert_return (invoke "f") (i32.const))   ;; FAIL
