;; Traps with a backtrace: `cmc run --invoke main examples/trap.wat` exits 134.
(module
  (func $divide (param i32 i32) (result i32)
    (i32.div_u (local.get 0) (local.get 1)))
  (func $compute (param i32) (result i32)
    (call $divide (i32.const 100) (local.get 0)))
  (func (export "main") (result i32)
    (call $compute (i32.const 0))))
