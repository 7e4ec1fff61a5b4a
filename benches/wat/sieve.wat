;; Sieve of Eratosthenes over one byte per number: byte loads and stores in
;; tight loops. `run(n)` returns how many primes are below `n` (n ≤ 1 MiB).
(module
  (memory 17)
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $count i32)
    ;; Mark every number as a candidate, byte by byte (no bulk memory here:
    ;; this workload is about ordinary loads and stores).
    (local.set $i (i32.const 0))
    (block $done
      (loop $clear
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (i32.store8 (local.get $i) (i32.const 1))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $clear)))
    (local.set $i (i32.const 2))
    (block $done
      (loop $outer
        (br_if $done (i32.gt_u (i32.mul (local.get $i) (local.get $i)) (local.get $n)))
        (if (i32.load8_u (local.get $i))
          (then
            (local.set $j (i32.mul (local.get $i) (local.get $i)))
            (block $inner_done
              (loop $inner
                (br_if $inner_done (i32.ge_u (local.get $j) (local.get $n)))
                (i32.store8 (local.get $j) (i32.const 0))
                (local.set $j (i32.add (local.get $j) (local.get $i)))
                (br $inner)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $outer)))
    (local.set $i (i32.const 2))
    (block $done
      (loop $tally
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $count (i32.add (local.get $count) (i32.load8_u (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tally)))
    (i64.extend_i32_u (local.get $count))))
