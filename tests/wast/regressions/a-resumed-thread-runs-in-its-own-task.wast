;; Task "setup" makes thread T, makes it ready (resume-later), resolves and
;; stays alive (waits on an empty set). Task "run" then promotes T with
;; thread.yield-then-resume. T records thread.index: per spec it runs as
;; itself (its own task), so it must see its own index (it once ran as
;; part of the switcher's task, and saw the switcher's index).
(component
  (core module $Table (table (export "t") 1 funcref))
  (core instance $table (instantiate $Table))
  (core module $M
    (import "" "t" (table 1 funcref))
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "new" (func $new (param i32 i32) (result i32)))
    (import "" "resume-later" (func $resume-later (param i32)))
    (import "" "promote" (func $promote (param i32) (result i32)))
    (import "" "index" (func $index (result i32)))
    (import "" "ws.new" (func $ws.new (result i32)))
    (global $t (mut i32) (i32.const 0))
    (global $seen (mut i32) (i32.const -1))
    (func $body (param i32)
      (global.set $seen (call $index)))
    (elem (table 0) (i32.const 0) func $body)
    (func (export "setup") (result i32)
      (global.set $t (call $new (i32.const 0) (i32.const 0)))
      
      (call $task.return (i32.const 0))
      (i32.or (i32.const 2) (i32.shl (call $ws.new) (i32.const 4))))
    (func (export "cb") (param i32 i32 i32) (result i32) unreachable)
    (func (export "run")
      (drop (call $promote (global.get $t)))
      (call $task.return (i32.add (i32.mul (global.get $seen) (i32.const 1000)) (global.get $t)))))
  (core type $start (func (param i32)))
  (alias core export $table "t" (core table $t))
  (core func $new (canon thread.new-indirect $start (core table $t)))
  (canon task.return (result u32) (core func $task.return))
  (canon thread.resume-later (core func $resume-later))
  (canon thread.yield-then-resume (core func $promote))
  (canon thread.index (core func $index))
  (canon waitable-set.new (core func $ws.new))
  (core instance $m (instantiate $M (with "" (instance
    (export "t" (table $t))
    (export "task.return" (func $task.return))
    (export "new" (func $new))
    (export "resume-later" (func $resume-later))
    (export "promote" (func $promote))
    (export "index" (func $index))
    (export "ws.new" (func $ws.new))))))
  (func (export "setup") async (result u32) (canon lift (core func $m "setup") async (callback (core func $m "cb"))))
  (func (export "run") async (result u32) (canon lift (core func $m "run") async))
)
(assert_return (invoke "setup") (u32.const 0))
;; expected: seen*1000 + t with seen == t
(assert_return (invoke "run") (u32.const 1001))
