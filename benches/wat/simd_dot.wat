;; i32x4 dot product: two arrays of 16,384 i32 that the start function
;; fills with xorshift32 output (masked to 16 bits), multiplied lane-wise and
;; summed `run(n)` times, each round offset by the round number.
(module
  (memory 2)
  (func $fill (local $i i32) (local $x i32)
    (local.set $x (i32.const 0x9e3779b9))
    (loop $l
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
      (i32.store (local.get $i) (i32.and (local.get $x) (i32.const 0xffff)))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (i32.const 131072)))))
  (start $fill)
  (func (export "run") (param $n i32) (result i64)
    (local $round i32) (local $i i32) (local $acc v128) (local $total i64) (local $bias v128)
    (loop $rounds
      (local.set $acc (v128.const i32x4 0 0 0 0))
      (local.set $bias (i32x4.splat (local.get $round)))
      (local.set $i (i32.const 0))
      (loop $l
        (local.set $acc
          (i32x4.add (local.get $acc)
            (i32x4.mul
              (i32x4.add (v128.load (local.get $i)) (local.get $bias))
              (v128.load offset=65536 (local.get $i)))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (i32.const 65536))))
      (local.set $total (i64.add (local.get $total)
        (i64.extend_i32_u (i32.add
          (i32.add (i32x4.extract_lane 0 (local.get $acc)) (i32x4.extract_lane 1 (local.get $acc)))
          (i32.add (i32x4.extract_lane 2 (local.get $acc)) (i32x4.extract_lane 3 (local.get $acc)))))))
      (br_if $rounds (i32.lt_u (local.tee $round (i32.add (local.get $round) (i32.const 1))) (local.get $n))))
    (local.get $total)))
