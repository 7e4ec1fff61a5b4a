;; Streams and futures with one end in the host
;; (tests/tests/e2e/host_copies.rs):
;; - `sum(s: stream<u32>)` reads `s` in synchronous reads of 4 elements
;;   until the writer drops it, and returns the sum of what it read.
;; - `await(f: future<u32>)` reads `f` async; if the read blocks it calls
;;   the host's `ping` (which may write the future then) and waits for the
;;   read in a waitable set. It returns the value.
;; - `produce(n)` returns a `stream<u32>` and goes on writing 0..n to it
;;   in synchronous writes of up to 3 elements, then drops its end.
;; - `drop-it(s: stream<u32>)` drops `s` unread.
;; - `idle()` returns a `stream<u32>` it never writes.
;; - `start-sum(s: stream<u32>)` returns at once and goes on reading `s`
;;   as `sum` does, leaving the sum where `last-sum()` finds it.
;; - `sum-bytes(s: stream<u8>)` reads `s` in synchronous reads of 1000
;;   bytes and returns the sum of the bytes.
;; - `produce-bytes(n)` returns a `stream<u8>` and goes on writing n bytes
;;   (byte k is k mod 251) in writes of up to 4096, then drops its end.
;; - `read-nothing(s: stream<u8>)` reads 0 bytes into a buffer past the end
;;   of its memory (which a read of nothing may name) and returns what
;;   `stream.read` returned.
;; - `spin()` (a callback lift) returns 0 and then yields forever.
;; - `promise()` returns a `future<u32>` and then writes 42 to it
;;   synchronously.
(component
  (import "ping" (func $ping))
  (type $S (stream u32))
  (type $F (future u32))
  (type $B (stream u8))
  (core module $Memory (memory (export "mem") 1))
  (core instance $memory (instantiate $Memory))
  (core func $ping (canon lower (func $ping)))
  (core func $stream.new (canon stream.new $S))
  (core func $stream.read (canon stream.read $S (memory (core memory $memory "mem"))))
  (core func $stream.write (canon stream.write $S (memory (core memory $memory "mem"))))
  (core func $stream.drop-readable (canon stream.drop-readable $S))
  (core func $stream.drop-writable (canon stream.drop-writable $S))
  (core func $bytes.new (canon stream.new $B))
  (core func $bytes.read (canon stream.read $B (memory (core memory $memory "mem"))))
  (core func $bytes.write (canon stream.write $B (memory (core memory $memory "mem"))))
  (core func $bytes.drop-readable (canon stream.drop-readable $B))
  (core func $bytes.drop-writable (canon stream.drop-writable $B))
  (core func $return-bytes (canon task.return (result $B)))
  (core func $future.new (canon future.new $F))
  (core func $future.read (canon future.read $F async (memory (core memory $memory "mem"))))
  (core func $future.write (canon future.write $F (memory (core memory $memory "mem"))))
  (core func $future.drop-readable (canon future.drop-readable $F))
  (core func $future.drop-writable (canon future.drop-writable $F))
  (core func $waitable-set.new (canon waitable-set.new))
  (core func $waitable-set.wait (canon waitable-set.wait (memory (core memory $memory "mem"))))
  (core func $waitable.join (canon waitable.join))
  (core func $return-u32 (canon task.return (result u32)))
  (core func $return-stream (canon task.return (result $S)))
  (core func $return-future (canon task.return (result $F)))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "ping" (func $ping))
    (import "" "stream.new" (func $stream.new (result i64)))
    (import "" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
    (import "" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
    (import "" "stream.drop-readable" (func $stream.drop-readable (param i32)))
    (import "" "stream.drop-writable" (func $stream.drop-writable (param i32)))
    (import "" "bytes.new" (func $bytes.new (result i64)))
    (import "" "bytes.read" (func $bytes.read (param i32 i32 i32) (result i32)))
    (import "" "bytes.write" (func $bytes.write (param i32 i32 i32) (result i32)))
    (import "" "bytes.drop-readable" (func $bytes.drop-readable (param i32)))
    (import "" "bytes.drop-writable" (func $bytes.drop-writable (param i32)))
    (import "" "return-bytes" (func $return-bytes (param i32)))
    (import "" "future.new" (func $future.new (result i64)))
    (import "" "future.read" (func $future.read (param i32 i32) (result i32)))
    (import "" "future.write" (func $future.write (param i32 i32) (result i32)))
    (import "" "future.drop-readable" (func $future.drop-readable (param i32)))
    (import "" "future.drop-writable" (func $future.drop-writable (param i32)))
    (import "" "waitable-set.new" (func $waitable-set.new (result i32)))
    (import "" "waitable-set.wait" (func $waitable-set.wait (param i32 i32) (result i32)))
    (import "" "waitable.join" (func $waitable.join (param i32 i32)))
    (import "" "return-u32" (func $return-u32 (param i32)))
    (import "" "return-stream" (func $return-stream (param i32)))
    (import "" "return-future" (func $return-future (param i32)))

    (global $last-sum (mut i32) (i32.const 0))
    (func (export "start-sum") (param $rx i32)
      (call $return-u32 (i32.const 0))
      (global.set $last-sum (call $sum (local.get $rx))))
    (func (export "last-sum") (result i32) (global.get $last-sum))
    (func (export "sum") (param $rx i32)
      (call $return-u32 (call $sum (local.get $rx))))

    ;; Reads `rx` to its end and drops it; returns the sum.
    (func $sum (param $rx i32) (result i32)
      (local $ret i32) (local $n i32) (local $sum i32)
      (block $end
        (loop $read
          (local.set $ret (call $stream.read (local.get $rx) (i32.const 64) (i32.const 4)))
          (local.set $n (i32.shr_u (local.get $ret) (i32.const 4)))
          (if (i32.ge_u (local.get $n) (i32.const 1))
            (then (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 64))))))
          (if (i32.ge_u (local.get $n) (i32.const 2))
            (then (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 68))))))
          (if (i32.ge_u (local.get $n) (i32.const 3))
            (then (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 72))))))
          (if (i32.ge_u (local.get $n) (i32.const 4))
            (then (local.set $sum (i32.add (local.get $sum) (i32.load (i32.const 76))))))
          ;; COMPLETED (0) reads on; DROPPED (1) ends.
          (br_if $end (i32.eq (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 1)))
          (if (i32.ne (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 0))
            (then unreachable))
          (br $read)))
      (call $stream.drop-readable (local.get $rx))
      (local.get $sum))

    (func (export "await") (param $rx i32)
      (local $set i32)
      (if (i32.eq (call $future.read (local.get $rx) (i32.const 64)) (i32.const -1))
        (then
          (call $ping)
          (local.set $set (call $waitable-set.new))
          (call $waitable.join (local.get $rx) (local.get $set))
          ;; FUTURE_READ (4), COMPLETED (0).
          (if (i32.ne (call $waitable-set.wait (local.get $set) (i32.const 0)) (i32.const 4))
            (then unreachable))
          (if (i32.ne (i32.load (i32.const 4)) (i32.const 0))
            (then unreachable))))
      (call $future.drop-readable (local.get $rx))
      (call $return-u32 (i32.load (i32.const 64))))

    (func (export "produce") (param $n i32)
      (local $ends i64) (local $tx i32) (local $k i32) (local $at i32) (local $ret i32)
      (local $len i32)
      (local.set $ends (call $stream.new))
      (local.set $tx (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $return-stream (i32.wrap_i64 (local.get $ends)))
      (block $done
        (loop $write
          (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
          ;; Up to 3 elements k, k+1, k+2 at 128.
          (local.set $len (i32.sub (local.get $n) (local.get $k)))
          (if (i32.gt_u (local.get $len) (i32.const 3)) (then (local.set $len (i32.const 3))))
          (i32.store (i32.const 128) (local.get $k))
          (i32.store (i32.const 132) (i32.add (local.get $k) (i32.const 1)))
          (i32.store (i32.const 136) (i32.add (local.get $k) (i32.const 2)))
          (local.set $ret (call $stream.write (local.get $tx) (i32.const 128) (local.get $len)))
          (if (i32.ne (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 0))
            (then unreachable))
          ;; As many as the reader took.
          (local.set $k (i32.add (local.get $k) (i32.shr_u (local.get $ret) (i32.const 4))))
          (br $write)))
      (call $stream.drop-writable (local.get $tx)))

    (func (export "drop-it") (param $rx i32)
      (call $stream.drop-readable (local.get $rx))
      (call $return-u32 (i32.const 0)))

    (func (export "idle")
      (call $return-stream (i32.wrap_i64 (call $stream.new))))

    (func (export "sum-bytes") (param $rx i32)
      (local $ret i32) (local $n i32) (local $i i32) (local $sum i32)
      (block $end
        (loop $read
          (local.set $ret (call $bytes.read (local.get $rx) (i32.const 4096) (i32.const 1000)))
          (local.set $n (i32.shr_u (local.get $ret) (i32.const 4)))
          (local.set $i (i32.const 0))
          (block $summed
            (loop $sum
              (br_if $summed (i32.ge_u (local.get $i) (local.get $n)))
              (local.set $sum (i32.add (local.get $sum)
                (i32.load8_u (i32.add (i32.const 4096) (local.get $i)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $sum)))
          (br_if $end (i32.eq (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 1)))
          (br $read)))
      (call $bytes.drop-readable (local.get $rx))
      (call $return-u32 (local.get $sum)))

    (func (export "produce-bytes") (param $n i32)
      (local $ends i64) (local $tx i32) (local $k i32) (local $len i32) (local $i i32)
      (local $ret i32)
      (local.set $ends (call $bytes.new))
      (local.set $tx (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $return-bytes (i32.wrap_i64 (local.get $ends)))
      (block $done
        (loop $write
          (br_if $done (i32.ge_u (local.get $k) (local.get $n)))
          (local.set $len (i32.sub (local.get $n) (local.get $k)))
          (if (i32.gt_u (local.get $len) (i32.const 4096)) (then (local.set $len (i32.const 4096))))
          (local.set $i (i32.const 0))
          (block $filled
            (loop $fill
              (br_if $filled (i32.ge_u (local.get $i) (local.get $len)))
              (i32.store8 (i32.add (i32.const 8192) (local.get $i))
                (i32.rem_u (i32.add (local.get $k) (local.get $i)) (i32.const 251)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $fill)))
          (local.set $ret (call $bytes.write (local.get $tx) (i32.const 8192) (local.get $len)))
          (if (i32.ne (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 0))
            (then unreachable))
          (local.set $k (i32.add (local.get $k) (i32.shr_u (local.get $ret) (i32.const 4))))
          (br $write)))
      (call $bytes.drop-writable (local.get $tx)))

    (func (export "read-nothing") (param $rx i32)
      (call $return-u32 (call $bytes.read (local.get $rx) (i32.const 0x20000) (i32.const 0))))

    (func (export "spin") (result i32)
      (call $return-u32 (i32.const 0))
      (i32.const 1))
    (func (export "spin-cb") (param i32 i32 i32) (result i32) (i32.const 1))

    (func (export "promise")
      (local $ends i64) (local $tx i32)
      (local.set $ends (call $future.new))
      (local.set $tx (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $return-future (i32.wrap_i64 (local.get $ends)))
      (i32.store (i32.const 192) (i32.const 42))
      (if (i32.ne (call $future.write (local.get $tx) (i32.const 192)) (i32.const 0))
        (then unreachable))
      (call $future.drop-writable (local.get $tx)))
  )
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $memory "mem"))
    (export "ping" (func $ping))
    (export "stream.new" (func $stream.new))
    (export "stream.read" (func $stream.read))
    (export "stream.write" (func $stream.write))
    (export "stream.drop-readable" (func $stream.drop-readable))
    (export "stream.drop-writable" (func $stream.drop-writable))
    (export "bytes.new" (func $bytes.new))
    (export "bytes.read" (func $bytes.read))
    (export "bytes.write" (func $bytes.write))
    (export "bytes.drop-readable" (func $bytes.drop-readable))
    (export "bytes.drop-writable" (func $bytes.drop-writable))
    (export "return-bytes" (func $return-bytes))
    (export "future.new" (func $future.new))
    (export "future.read" (func $future.read))
    (export "future.write" (func $future.write))
    (export "future.drop-readable" (func $future.drop-readable))
    (export "future.drop-writable" (func $future.drop-writable))
    (export "waitable-set.new" (func $waitable-set.new))
    (export "waitable-set.wait" (func $waitable-set.wait))
    (export "waitable.join" (func $waitable.join))
    (export "return-u32" (func $return-u32))
    (export "return-stream" (func $return-stream))
    (export "return-future" (func $return-future))
  ))))
  (func (export "sum") async (param "s" $S) (result u32)
    (canon lift (core func $m "sum") async))
  (func (export "await") async (param "f" $F) (result u32)
    (canon lift (core func $m "await") async))
  (func (export "produce") async (param "n" u32) (result $S)
    (canon lift (core func $m "produce") async))
  (func (export "start-sum") async (param "s" $S) (result u32)
    (canon lift (core func $m "start-sum") async))
  (func (export "last-sum") (result u32) (canon lift (core func $m "last-sum")))
  (func (export "drop-it") async (param "s" $S) (result u32)
    (canon lift (core func $m "drop-it") async))
  (func (export "idle") async (result $S)
    (canon lift (core func $m "idle") async))
  (func (export "sum-bytes") async (param "s" $B) (result u32)
    (canon lift (core func $m "sum-bytes") async))
  (func (export "produce-bytes") async (param "n" u32) (result $B)
    (canon lift (core func $m "produce-bytes") async))
  (func (export "read-nothing") async (param "s" $B) (result u32)
    (canon lift (core func $m "read-nothing") async))
  (func (export "spin") async (result u32)
    (canon lift (core func $m "spin") async (callback (core func $m "spin-cb"))))
  (func (export "promise") async (result $F)
    (canon lift (core func $m "promise") async))
)
