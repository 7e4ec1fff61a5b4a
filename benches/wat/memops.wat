;; Bulk memory: `memory.copy` and `memory.fill` of mixed sizes (mostly
;; small, every fourth one up to 32 KiB), some overlapping. `run(iters)`
;; resets a 1 MiB region, performs `iters` rounds and returns a checksum of
;; 64 sampled words.
(module
  (memory 32)
  (func (export "run") (param $iters i32) (result i64)
    (local $k i32) (local $h i32) (local $len i32) (local $src i32) (local $dst i32)
    (local $sum i64)
    (memory.fill (i32.const 0) (i32.const 0x5a) (i32.const 1048576))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $k) (local.get $iters)))
        ;; A cheap per-round hash picks sizes and offsets.
        (local.set $h (i32.mul (i32.add (local.get $k) (i32.const 1)) (i32.const 0x9e3779b1)))
        (local.set $len
          (i32.add (i32.const 1)
            (if (result i32) (i32.and (local.get $k) (i32.const 3))
              (then (i32.and (i32.shr_u (local.get $h) (i32.const 8)) (i32.const 0xff)))
              (else (i32.and (i32.shr_u (local.get $h) (i32.const 8)) (i32.const 0x7fff))))))
        (local.set $src (i32.and (i32.shr_u (local.get $h) (i32.const 3)) (i32.const 0xfffff)))
        (local.set $dst (i32.and (i32.add (local.get $src) (i32.shr_u (local.get $h) (i32.const 20))) (i32.const 0xfffff)))
        (memory.copy (local.get $dst) (local.get $src) (local.get $len))
        (memory.fill (i32.add (local.get $src) (i32.shr_u (local.get $len) (i32.const 1)))
          (local.get $k) (i32.shr_u (local.get $len) (i32.const 1)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $l)))
    (local.set $k (i32.const 0))
    (loop $sample
      (local.set $sum
        (i64.add (i64.rotl (local.get $sum) (i64.const 7))
          (i64.load (i32.shl (local.get $k) (i32.const 14)))))
      (br_if $sample (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 64))))
    (local.get $sum)))
