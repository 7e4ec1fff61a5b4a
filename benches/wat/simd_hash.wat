;; A four-lane multiply-rotate hash over the first `len` bytes of a 1 MiB
;; buffer of xorshift32 output (16 bytes a step: i32x4 mul, add, shifts,
;; xor), its lanes folded into one i64 at the end.
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
  (func (export "run") (param $len i32) (result i64)
    (local $i i32) (local $h v128) (local $k v128)
    (local.set $h (v128.const i32x4 0x243f6a88 0x85a308d3 0x13198a2e 0x03707344))
    (local.set $k (i32x4.splat (i32.const 0x9e3779b1)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (local.set $h (i32x4.mul (i32x4.add (local.get $h) (v128.load (local.get $i))) (local.get $k)))
        (local.set $h (v128.xor (local.get $h)
          (v128.or (i32x4.shl (local.get $h) (i32.const 13)) (i32x4.shr_u (local.get $h) (i32.const 19)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $l)))
    (i64.xor
      (i64x2.extract_lane 0 (local.get $h))
      (i64.rotl (i64x2.extract_lane 1 (local.get $h)) (i64.const 29)))))
