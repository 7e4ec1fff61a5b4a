;; Two components streaming bytes: `$Consumer.run(chunks, size)` calls
;; `$Producer.produce(chunks)`, which returns the readable end of a
;; `stream<u8>` and goes on writing `chunks` chunks of 64 KiB on its own
;; fiber, each write blocking until the consumer's reads of `size` bytes
;; have taken it all; `run` returns (bytes read) << 32 | (their sum mod 2^32).
(component
  (component $Producer
    (core module $Memory (memory (export "mem") 1))
    (core instance $memory (instantiate $Memory))
    (core module $P
      (import "" "mem" (memory 1))
      (import "" "stream.new" (func $stream.new (result i64)))
      (import "" "stream.write" (func $stream.write (param i32 i32 i32) (result i32)))
      (import "" "stream.drop-writable" (func $stream.drop-writable (param i32)))
      (import "" "task.return" (func $task.return (param i32)))
      ;; Writes `chunks` chunks of the 64 KiB pattern at 0 (byte k is
      ;; k mod 251), each in as many writes as the reader's reads take.
      (func (export "produce") (param $chunks i32)
        (local $ends i64) (local $tx i32) (local $k i32) (local $at i32) (local $ret i32)
        (loop $fill
          (i32.store8 (local.get $k) (i32.rem_u (local.get $k) (i32.const 251)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $fill (i32.lt_u (local.get $k) (i32.const 65536))))
        (local.set $ends (call $stream.new))
        (local.set $tx (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
        (call $task.return (i32.wrap_i64 (local.get $ends)))
        (block $done
          (loop $chunk
            (br_if $done (i32.eqz (local.get $chunks)))
            (local.set $at (i32.const 0))
            (loop $part
              (local.set $ret (call $stream.write (local.get $tx) (local.get $at)
                (i32.sub (i32.const 65536) (local.get $at))))
              ;; COMPLETED, with the count written
              (if (i32.ne (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 0))
                (then unreachable))
              (local.set $at (i32.add (local.get $at) (i32.shr_u (local.get $ret) (i32.const 4))))
              (br_if $part (i32.lt_u (local.get $at) (i32.const 65536))))
            (local.set $chunks (i32.sub (local.get $chunks) (i32.const 1)))
            (br $chunk)))
        (call $stream.drop-writable (local.get $tx)))
    )
    (type $ST (stream u8))
    (canon stream.new $ST (core func $stream.new))
    (canon stream.write $ST (memory (core memory $memory "mem")) (core func $stream.write))
    (canon stream.drop-writable $ST (core func $stream.drop-writable))
    (canon task.return (result $ST) (core func $task.return))
    (core instance $p (instantiate $P (with "" (instance
      (export "mem" (memory $memory "mem"))
      (export "stream.new" (func $stream.new))
      (export "stream.write" (func $stream.write))
      (export "stream.drop-writable" (func $stream.drop-writable))
      (export "task.return" (func $task.return))
    ))))
    (func (export "produce") async (param "chunks" u32) (result $ST)
      (canon lift (core func $p "produce") async))
  )
  (component $Consumer
    (type $ST (stream u8))
    (import "produce" (func $produce async (param "chunks" u32) (result $ST)))
    (core module $Memory (memory (export "mem") 1))
    (core instance $memory (instantiate $Memory))
    (core module $C
      (import "" "mem" (memory 1))
      (import "" "produce" (func $produce (param i32) (result i32)))
      (import "" "stream.read" (func $stream.read (param i32 i32 i32) (result i32)))
      (import "" "stream.drop-readable" (func $stream.drop-readable (param i32)))
      (import "" "task.return" (func $task.return (param i64)))
      ;; Reads the stream in reads of `size` bytes until the writer drops
      ;; it, and returns (bytes read) << 32 | (their sum mod 2^32).
      (func (export "run") (param $chunks i32) (param $size i32)
        (local $rx i32) (local $ret i32) (local $n i32) (local $i i32)
        (local $total i64) (local $sum i32)
        (local.set $rx (call $produce (local.get $chunks)))
        (block $end
          (loop $read
            (local.set $ret (call $stream.read (local.get $rx) (i32.const 0) (local.get $size)))
            (local.set $n (i32.shr_u (local.get $ret) (i32.const 4)))
            (local.set $total (i64.add (local.get $total) (i64.extend_i32_u (local.get $n))))
            (local.set $i (i32.const 0))
            (block $summed
              (loop $sum
                (br_if $summed (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $sum (i32.add (local.get $sum) (i32.load8_u (local.get $i))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $sum)))
            ;; DROPPED ends it; anything but COMPLETED otherwise is wrong.
            (br_if $end (i32.eq (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 1)))
            (if (i32.ne (i32.and (local.get $ret) (i32.const 0xf)) (i32.const 0))
              (then unreachable))
            (br $read)))
        (call $stream.drop-readable (local.get $rx))
        (call $task.return (i64.or (i64.shl (local.get $total) (i64.const 32))
          (i64.extend_i32_u (local.get $sum)))))
    )
    (canon lower (func $produce) (core func $produce'))
    (canon stream.read $ST (memory (core memory $memory "mem")) (core func $stream.read))
    (canon stream.drop-readable $ST (core func $stream.drop-readable))
    (canon task.return (result u64) (core func $task.return))
    (core instance $c (instantiate $C (with "" (instance
      (export "mem" (memory $memory "mem"))
      (export "produce" (func $produce'))
      (export "stream.read" (func $stream.read))
      (export "stream.drop-readable" (func $stream.drop-readable))
      (export "task.return" (func $task.return))
    ))))
    (func (export "run") async (param "chunks" u32) (param "size" u32) (result u64)
      (canon lift (core func $c "run") async))
  )
  (instance $producer (instantiate $Producer))
  (instance $consumer (instantiate $Consumer (with "produce" (func $producer "produce"))))
  (export "run" (func $consumer "run"))
)
