;; Call-heavy: sixteen small functions reached through `call_indirect`, plus
;; direct calls to small helpers. Each round makes one indirect and three
;; direct calls. `run(n)` runs n rounds and returns the accumulator.
;;
;; The indirect target changes every 256 rounds, as a mostly monomorphic
;; virtual call does. A target that changes every round would mostly time
;; the CPU's indirect-branch predictor (a miss per round), not the engines'
;; call sequences; see the README.
(module
  (type $bin (func (param i32 i32) (result i32)))
  (table 16 funcref)
  (elem (i32.const 0)
    $f0 $f1 $f2 $f3 $f4 $f5 $f6 $f7 $f8 $f9 $f10 $f11 $f12 $f13 $f14 $f15)
  (func $f0 (type $bin) (i32.add (local.get 0) (local.get 1)))
  (func $f1 (type $bin) (i32.xor (local.get 0) (i32.shl (local.get 1) (i32.const 1))))
  (func $f2 (type $bin) (i32.add (i32.mul (local.get 0) (i32.const 31)) (local.get 1)))
  (func $f3 (type $bin) (i32.add (i32.rotl (local.get 0) (i32.const 5)) (local.get 1)))
  (func $f4 (type $bin) (i32.sub (local.get 0) (i32.mul (local.get 1) (i32.const 3))))
  (func $f5 (type $bin) (i32.xor (i32.shr_u (local.get 0) (i32.const 3)) (local.get 1)))
  (func $f6 (type $bin) (i32.or (i32.rotr (local.get 0) (i32.const 7)) (i32.and (local.get 1) (i32.const 0xff))))
  (func $f7 (type $bin) (i32.add (local.get 0) (i32.popcnt (local.get 1))))
  (func $f8 (type $bin) (i32.mul (i32.or (local.get 0) (i32.const 1)) (i32.add (local.get 1) (i32.const 7))))
  (func $f9 (type $bin) (i32.sub (i32.xor (local.get 0) (i32.const 0x5bd1e995)) (local.get 1)))
  (func $f10 (type $bin) (select (local.get 0) (local.get 1) (i32.gt_u (local.get 0) (local.get 1))))
  (func $f11 (type $bin) (i32.add (i32.clz (local.get 0)) (i32.mul (local.get 1) (local.get 0))))
  (func $f12 (type $bin) (i32.xor (local.get 0) (i32.ctz (i32.or (local.get 1) (i32.const 0x100)))))
  (func $f13 (type $bin) (i32.add (i32.shl (local.get 0) (i32.const 2)) (i32.shr_s (local.get 1) (i32.const 1))))
  (func $f14 (type $bin) (i32.sub (i32.const 0x7fffffff) (i32.xor (local.get 0) (local.get 1))))
  (func $f15 (type $bin) (i32.add (i32.mul (local.get 0) (i32.const 0x01000193)) (i32.const 0x811c9dc5)))
  ;; Direct-call helpers: $mix calls two of the table's functions directly.
  (func $mix (param $x i32) (result i32)
    (call $f3 (call $f2 (local.get $x) (i32.const 17)) (i32.const 11)))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $acc i32)
    (local.set $acc (i32.const 1))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (call_indirect (type $bin) (local.get $acc) (local.get $i)
            (i32.and (i32.shr_u (local.get $i) (i32.const 8)) (i32.const 15))))
        (local.set $acc (call $mix (local.get $acc)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i64.extend_i32_u (local.get $acc))))
