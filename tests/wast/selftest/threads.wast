;; `thread` and `wait`: two threads share the memory of `$Mem`; one
;; publishes a value and notifies, the other waits for it. A failure inside
;; a thread is reported at its own line.
(module $Mem
  (memory (export "shared") 1 1 shared))

(thread $Writer (shared (module $Mem))
  (register "mem" $Mem)
  (module
    (memory (import "mem" "shared") 1 1 shared)
    (func (export "run")
      (i32.atomic.store (i32.const 4) (i32.const 42))
      (i32.atomic.store (i32.const 0) (i32.const 1))
      (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))))
  (invoke "run"))

(thread $Reader (shared (module $Mem))
  (register "mem" $Mem)
  (module
    (memory (import "mem" "shared") 1 1 shared)
    (func (export "run") (result i32)
      (block $done
        (loop $again
          (br_if $done (i32.atomic.load (i32.const 0)))
          (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 1000000)))
          (br $again)))
      (i32.atomic.load (i32.const 4))))
  (assert_return (invoke "run") (i32.const 42))
  (assert_return (invoke "run") (i32.const 7)) ;; FAIL
)

(wait $Writer)
(wait $Reader)
(wait $Nobody) ;; FAIL

(register "mem" $Mem)
(module
  (memory (import "mem" "shared") 1 1 shared)
  (func (export "value") (result i32) (i32.atomic.load (i32.const 4))))
(assert_return (invoke "value") (i32.const 42))
