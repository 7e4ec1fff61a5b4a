;; Dense f64 matrix multiply C = A × B of n×n matrices (n ≤ 128), with A and
;; B filled from their indices each call. `run(n)` returns the bits of the
;; sum of C (exact across engines: no NaN, same operation order).
(module
  (memory 6)
  ;; A at 0, B at 128 KiB, C at 256 KiB: 128×128×8 bytes each.
  (global $b i32 (i32.const 131072))
  (global $c i32 (i32.const 262144))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $k i32)
    (local $acc f64) (local $sum f64) (local $row i32)
    ;; Fill A[i][j] = (i*3 + j) % 17 / 8, B[i][j] = (i + j*5) % 13 / 4.
    (local.set $i (i32.const 0))
    (loop $fi
      (local.set $j (i32.const 0))
      (loop $fj
        (local.set $row (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3)))
        (f64.store (local.get $row)
          (f64.div
            (f64.convert_i32_u (i32.rem_u (i32.add (i32.mul (local.get $i) (i32.const 3)) (local.get $j)) (i32.const 17)))
            (f64.const 8)))
        (f64.store (i32.add (global.get $b) (local.get $row))
          (f64.div
            (f64.convert_i32_u (i32.rem_u (i32.add (local.get $i) (i32.mul (local.get $j) (i32.const 5))) (i32.const 13)))
            (f64.const 4)))
        (br_if $fj (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))
      (br_if $fi (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    ;; C = A × B, summing C as we go.
    (local.set $i (i32.const 0))
    (loop $mi
      (local.set $j (i32.const 0))
      (loop $mj
        (local.set $acc (f64.const 0))
        (local.set $k (i32.const 0))
        (loop $mk
          (local.set $acc
            (f64.add (local.get $acc)
              (f64.mul
                (f64.load (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $k)) (i32.const 3)))
                (f64.load (i32.add (global.get $b)
                  (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $j)) (i32.const 3)))))))
          (br_if $mk (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (local.get $n))))
        (f64.store (i32.add (global.get $c)
            (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3)))
          (local.get $acc))
        (local.set $sum (f64.add (local.get $sum) (local.get $acc)))
        (br_if $mj (i32.lt_u (local.tee $j (i32.add (local.get $j) (i32.const 1))) (local.get $n))))
      (br_if $mi (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (i64.reinterpret_f64 (local.get $sum))))
