;; `waitable-set.poll` of a 64-bit memory takes an `i64` payload pointer:
;; the event goes at that pointer (the runtime once read it as 0 and wrote
;; the 8 bytes at address 0).
(component
  (core module $Mem (memory (export "mem") i64 1))
  (core instance $mem (instantiate $Mem))
  (canon waitable-set.new (core func $ws.new))
  (canon waitable-set.poll (memory (core memory $mem "mem")) (core func $poll))
  (core module $M
    (import "" "mem" (memory i64 1))
    (import "" "ws.new" (func $ws.new (result i32)))
    (import "" "poll" (func $poll (param i32 i64) (result i32)))
    (func (export "run") (result i32)
      (i32.store (i64.const 0) (i32.const 0x11111111))
      (i32.store (i64.const 0x100) (i32.const 0x22222222))
      (drop (call $poll (call $ws.new) (i64.const 0x100)))
      ;; 0 when address 0 was left alone
      (i32.ne (i32.load (i64.const 0)) (i32.const 0x11111111))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "mem"))
    (export "ws.new" (func $ws.new))
    (export "poll" (func $poll))))))
  (func (export "run") (result u32) (canon lift (core func $m "run")))
)
(assert_return (invoke "run") (u32.const 0))
