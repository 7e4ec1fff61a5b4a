;; `fnv.wat` on a 64-bit memory (memory64): the same FNV-1a 64 over a 1 MiB
;; buffer of xorshift32 output, every access through an i64 address, which
;; cmc and wasmtime check explicitly instead of with a guard region.
(module
  (memory i64 16)
  (func $fill (local $i i64) (local $x i32)
    (local.set $x (i32.const 0x9e3779b9))
    (loop $l
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
      (i32.store (local.get $i) (local.get $x))
      (br_if $l (i64.lt_u (local.tee $i (i64.add (local.get $i) (i64.const 4))) (i64.const 1048576)))))
  (start $fill)
  (func (export "run") (param $len i32) (result i64)
    (local $i i64) (local $end i64) (local $h i64)
    (local.set $end (i64.extend_i32_u (local.get $len)))
    (local.set $h (i64.const 0xcbf29ce484222325))
    (block $done
      (loop $l
        (br_if $done (i64.ge_u (local.get $i) (local.get $end)))
        (local.set $h
          (i64.mul
            (i64.xor (local.get $h) (i64.load8_u (local.get $i)))
            (i64.const 0x100000001b3)))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $l)))
    (local.get $h)))
