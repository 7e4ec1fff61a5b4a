;; Byte search: counts the bytes equal to `needle` in a 1 MiB buffer of
;; xorshift32 output, 16 at a time (i8x16.eq, bitmask, popcnt), for each
;; needle 0..n.
(module
  (memory 16)
  (func $fill (local $i i32) (local $x i32)
    (local.set $x (i32.const 0x9e3779b9))
    (loop $l
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
      (i32.store (local.get $i) (local.get $x))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 4))) (i32.const 1048576)))))
  (start $fill)
  (func (export "run") (param $n i32) (result i64)
    (local $needle i32) (local $i i32) (local $splat v128) (local $count i64)
    (loop $needles
      (local.set $splat (i8x16.splat (local.get $needle)))
      (local.set $i (i32.const 0))
      (loop $l
        (local.set $count (i64.add (local.get $count)
          (i64.extend_i32_u (i32.popcnt
            (i8x16.bitmask (i8x16.eq (v128.load (local.get $i)) (local.get $splat)))))))
        (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 16))) (i32.const 1048576))))
      (br_if $needles (i32.lt_u (local.tee $needle (i32.add (local.get $needle) (i32.const 1))) (local.get $n))))
    (local.get $count)))
