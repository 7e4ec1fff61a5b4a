;; Host↔wasm call overhead. The host calls the empty export `nop`; `run(n)`
;; calls the empty host import `env.host` n times and returns n.
(module
  (import "env" "host" (func $host (param i32)))
  (func (export "nop"))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $host (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i64.extend_i32_u (local.get $n))))
