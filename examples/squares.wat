;; Two components and the host: `$app` calls `$math`'s `square` through a
;; fused adapter and the host's monotonic clock through a lowered import.
;; Try it with the call trace and the run's stats:
;;   cmc run --trace --stats --invoke 'sum-of-squares(3, 4)' examples/squares.wat
(component
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $clock
    (export "now" (func (result u64)))))
  (component $math
    (core module $m
      (func (export "square") (param i32) (result i32)
        (i32.mul (local.get 0) (local.get 0))))
    (core instance $m (instantiate $m))
    (func (export "square") (param "x" u32) (result u32)
      (canon lift (core func $m "square"))))
  (instance $math (instantiate $math))
  (component $app
    (import "math" (instance $math
      (export "square" (func (param "x" u32) (result u32)))))
    (import "now" (func $now (result u64)))
    (core func $square (canon lower (func $math "square")))
    (core func $now (canon lower (func $now)))
    (core module $m
      (import "math" "square" (func $square (param i32) (result i32)))
      (import "clock" "now" (func $now (result i64)))
      (func (export "sum-of-squares") (param i32 i32) (result i32)
        (drop (call $now))
        (i32.add (call $square (local.get 0)) (call $square (local.get 1)))))
    (core instance $m (instantiate $m
      (with "math" (instance (export "square" (func $square))))
      (with "clock" (instance (export "now" (func $now))))))
    (func (export "sum-of-squares") (param "a" u32) (param "b" u32) (result u32)
      (canon lift (core func $m "sum-of-squares"))))
  (instance $app (instantiate $app
    (with "math" (instance $math))
    (with "now" (func $clock "now"))))
  (export "sum-of-squares" (func $app "sum-of-squares")))
