;; `stream.read`/`write` of a 64-bit memory have type [i32 i64 i64] -> [i64]:
;; the length is the `i64` given and the result an `i64` (the runtime once
;; read the length as 0 and returned an `i32`, which failed the call).
(component
  (core module $Mem (memory (export "mem") i64 1))
  (core instance $mem (instantiate $Mem))
  (type $ST (stream u8))
  (canon stream.new $ST (core func $stream.new))
  (canon stream.write $ST async (memory (core memory $mem "mem")) (core func $stream.write))
  (core module $M
    (import "" "stream.new" (func $stream.new (result i64)))
    (import "" "stream.write" (func $stream.write (param i32 i64 i64) (result i64)))
    (func (export "run") (result i32) (local $e i64)
      (local.set $e (call $stream.new))
      (i32.wrap_i64 (call $stream.write (i32.wrap_i64 (i64.shr_u (local.get $e) (i64.const 32)))
        (i64.const 0) (i64.const 4)))))
  (core instance $m (instantiate $M (with "" (instance
    (export "stream.new" (func $stream.new))
    (export "stream.write" (func $stream.write))))))
  (func (export "run") (result u32) (canon lift (core func $m "run")))
)
;; expected: -1 (BLOCKED) for a 4-byte write nobody reads
(assert_return (invoke "run") (u32.const 0xffffffff))
