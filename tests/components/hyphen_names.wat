;; Import and export names that differ only by hyphens (`x1` and `x-1`) are
;; distinct in the component model; wasmparser 0.263 confuses them, and cmc
;; validates such components all the same.
(component
  (import "x1" (func $x1 (result u32)))
  (import "x-1" (instance $i
    (export "v1" (func (result u32)))
    (export "v-1" (func (result u32)))))
  (alias export $i "v-1" (func $v-1))
  (core func $x1-core (canon lower (func $x1)))
  (core func $v-1-core (canon lower (func $v-1)))
  (core module $m
    (import "host" "x1" (func $a (result i32)))
    (import "host" "v-1" (func $b (result i32)))
    (func (export "sum") (result i32)
      (i32.add (call $a) (i32.mul (call $b) (i32.const 10)))))
  (core instance $host (export "x1" (func $x1-core)) (export "v-1" (func $v-1-core)))
  (core instance $mi (instantiate $m (with "host" (instance $host))))
  (func $sum (result u32) (canon lift (core func $mi "sum")))
  (component $inner
    (import "f1" (func $f (result u32)))
    (import "f-1" (func $g (result u32)))
    (export "g1" (func $f))
    (export "g-1" (func $g)))
  (instance $n (instantiate $inner (with "f1" (func $sum)) (with "f-1" (func $sum))))
  (export "sum" (func $sum))
  (export "n" (instance $n)))
