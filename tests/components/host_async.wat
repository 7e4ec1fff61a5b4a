;; A component that calls async host functions every way it can lower them
;; (tests/tests/e2e/host_async.rs):
;; `canon lower async` takes async functions only: `slow-async` is `slow`
;; with an async type.
;; - `run-async` (an async function) lowers `slow-async` async and waits for its
;;   subtask in a waitable set, or takes the result at once if the call
;;   returned; it returns the result plus one, plus 1000 if it waited.
;; - `run-two` has two calls of `slow-async` in flight at once and waits
;;   for both in one waitable set; it returns the sum of their results.
;; - `run-sync` (a synchronous function) lowers `slow` synchronously.
;; - `run-blocking` (an async function) lowers the async-typed `slow-async`
;;   synchronously: its task blocks.
;; - `cancel-never` lowers `never` async and cancels its subtask, returning
;;   what `subtask.cancel` returned.
;; - `now-async` lowers `now`, which the host defines as a synchronous
;;   function, async.
(component
  (import "slow" (func $slow (param "x" u32) (result u32)))
  (import "slow-async" (func $slow-async async (param "x" u32) (result u32)))
  (import "never" (func $never async (result u32)))
  (import "now" (func $now async (param "x" u32) (result u32)))
  (core module $Memory (memory (export "mem") 1))
  (core instance $memory (instantiate $Memory))
  (core func $slow-lowered-async (canon lower (func $slow-async) async (memory (core memory $memory "mem"))))
  (core func $slow-lowered-sync (canon lower (func $slow)))
  (core func $slow-async-lowered-sync (canon lower (func $slow-async)))
  (core func $never-lowered-async (canon lower (func $never) async (memory (core memory $memory "mem"))))
  (core func $now-lowered-async (canon lower (func $now) async (memory (core memory $memory "mem"))))
  (core func $task.return (canon task.return (result u32)))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable-set.wait (canon waitable-set.wait (memory (core memory $memory "mem"))))
  (core func $waitable.join (canon waitable.join))
  (core func $subtask.drop (canon subtask.drop))
  (core func $subtask.cancel (canon subtask.cancel))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "slow-lowered-async" (func $slow-lowered-async (param i32 i32) (result i32)))
    (import "" "slow-lowered-sync" (func $slow-lowered-sync (param i32) (result i32)))
    (import "" "slow-async-lowered-sync" (func $slow-async-lowered-sync (param i32) (result i32)))
    (import "" "never-lowered-async" (func $never-lowered-async (param i32) (result i32)))
    (import "" "now-lowered-async" (func $now-lowered-async (param i32 i32) (result i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
    (import "" "waitable.join" (func $waitable.join (param i32 i32)))
    (import "" "subtask.drop" (func $subtask.drop (param i32)))
    (import "" "subtask.cancel" (func $subtask.cancel (param i32) (result i32)))

    ;; Waits for the call whose async lower returned `status` to return,
    ;; unless it already did (then 0, else 1000); the result is then at 16.
    (func $await (param $status i32) (result i32)
      (local $set i32)
      (if (i32.eq (i32.and (local.get $status) (i32.const 0xf)) (i32.const 2))
        (then (return (i32.const 0))))
      ;; STARTED, else the lower's status is wrong.
      (if (i32.ne (i32.and (local.get $status) (i32.const 0xf)) (i32.const 1))
        (then unreachable))
      (local.set $set (call $waitable-set.new))
      (call $waitable.join (i32.shr_u (local.get $status) (i32.const 4)) (local.get $set))
      ;; A SUBTASK event (1) for this subtask, RETURNED (2).
      (if (i32.ne (call $waitable-set.wait (local.get $set) (i32.const 0)) (i32.const 1))
        (then unreachable))
      (if (i32.ne (i32.load (i32.const 0)) (i32.shr_u (local.get $status) (i32.const 4)))
        (then unreachable))
      (if (i32.ne (i32.load (i32.const 4)) (i32.const 2))
        (then unreachable))
      (call $subtask.drop (i32.shr_u (local.get $status) (i32.const 4)))
      (i32.const 1000))

    (func (export "run-async") (param $x i32)
      (call $task.return (i32.add
        (call $await (call $slow-lowered-async (local.get $x) (i32.const 16)))
        (i32.add (i32.load (i32.const 16)) (i32.const 1)))))

    (func (export "run-two") (param $x i32)
      (local $a i32) (local $b i32) (local $set i32)
      (local.set $a (call $slow-lowered-async (local.get $x) (i32.const 16)))
      (local.set $b
        (call $slow-lowered-async (i32.add (local.get $x) (i32.const 1)) (i32.const 20)))
      (if (i32.ne (i32.and (local.get $a) (i32.const 0xf)) (i32.const 1))
        (then unreachable))
      (if (i32.ne (i32.and (local.get $b) (i32.const 0xf)) (i32.const 1))
        (then unreachable))
      (local.set $set (call $waitable-set.new))
      (call $waitable.join (i32.shr_u (local.get $a) (i32.const 4)) (local.get $set))
      (call $waitable.join (i32.shr_u (local.get $b) (i32.const 4)) (local.get $set))
      (drop (call $waitable-set.wait (local.get $set) (i32.const 0)))
      (call $subtask.drop (i32.load (i32.const 0)))
      (drop (call $waitable-set.wait (local.get $set) (i32.const 0)))
      (call $subtask.drop (i32.load (i32.const 0)))
      (call $task.return (i32.add (i32.load (i32.const 16)) (i32.load (i32.const 20)))))

    (func (export "run-sync") (param $x i32) (result i32)
      (i32.add (call $slow-lowered-sync (local.get $x)) (i32.const 1)))

    (func (export "run-blocking") (param $x i32)
      (call $task.return
        (i32.add (call $slow-async-lowered-sync (local.get $x)) (i32.const 1))))

    (func (export "cancel-never")
      (local $status i32)
      (local.set $status (call $never-lowered-async (i32.const 16)))
      (if (i32.ne (i32.and (local.get $status) (i32.const 0xf)) (i32.const 1))
        (then unreachable))
      (call $task.return (call $subtask.cancel (i32.shr_u (local.get $status) (i32.const 4)))))

    (func (export "now-async") (param $x i32)
      (call $task.return (i32.add
        (call $await (call $now-lowered-async (local.get $x) (i32.const 16)))
        (i32.load (i32.const 16)))))
  )
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $memory "mem"))
    (export "slow-lowered-async" (func $slow-lowered-async))
    (export "slow-lowered-sync" (func $slow-lowered-sync))
    (export "slow-async-lowered-sync" (func $slow-async-lowered-sync))
    (export "never-lowered-async" (func $never-lowered-async))
    (export "now-lowered-async" (func $now-lowered-async))
    (export "task.return" (func $task.return))
    (export "waitable-set.new" (func $waitable-set.new))
    (export "waitable-set.wait" (func $waitable-set.wait))
    (export "waitable.join" (func $waitable.join))
    (export "subtask.drop" (func $subtask.drop))
    (export "subtask.cancel" (func $subtask.cancel))
  ))))
  (func (export "run-async") async (param "x" u32) (result u32)
    (canon lift (core func $m "run-async") async))
  (func (export "run-two") async (param "x" u32) (result u32)
    (canon lift (core func $m "run-two") async))
  (func (export "run-sync") (param "x" u32) (result u32)
    (canon lift (core func $m "run-sync")))
  (func (export "run-blocking") async (param "x" u32) (result u32)
    (canon lift (core func $m "run-blocking") async))
  (func (export "cancel-never") async (result u32)
    (canon lift (core func $m "cancel-never") async))
  (func (export "now-async") async (param "x" u32) (result u32)
    (canon lift (core func $m "now-async") async))
)
