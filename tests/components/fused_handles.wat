;; Resource handles passed between components, which cmc fuses: `$user`
;; creates `counter`s in `$lib` (which implements them), lends them to
;; `$lib` and to `$mid` (which gets borrow handles of its own and lends
;; them on), and moves them into `$lib` and back.
(component
  (component $lib
    (core module $state
      (global $drops (mut i32) (i32.const 0))
      (func (export "dtor") (param i32)
        (global.set $drops (i32.add (global.get $drops) (i32.const 1))))
      (func (export "drops") (result i32) (global.get $drops)))
    (core instance $state (instantiate $state))
    (type $counter (resource (rep i32) (dtor (core func $state "dtor"))))
    (export $C "counter" (type $counter))
    (core func $new (canon resource.new $counter))
    (core func $rep (canon resource.rep $counter))
    (core func $drop (canon resource.drop $counter))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "rep" (func $rep (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      (func (export "new") (param i32) (result i32) (call $new (local.get 0)))
      ;; A borrow of its own type arrives as the representation.
      (func (export "get") (param i32) (result i32) (local.get 0))
      ;; Drops the counter and returns a new one with the next value.
      (func (export "bump") (param i32) (result i32)
        (local $r i32)
        (local.set $r (call $rep (local.get 0)))
        (call $drop (local.get 0))
        (call $new (i32.add (local.get $r) (i32.const 1)))))
    (core instance $m (instantiate $m (with "" (instance
      (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))))))
    (func (export "new") (param "v" u32) (result (own $C)) (canon lift (core func $m "new")))
    (func (export "get") (param "c" (borrow $C)) (result u32) (canon lift (core func $m "get")))
    (func (export "bump") (param "c" (own $C)) (result (own $C))
      (canon lift (core func $m "bump")))
    (func (export "drops") (result u32) (canon lift (core func $state "drops"))))
  (instance $lib (instantiate $lib))

  (component $mid
    (import "lib" (instance $lib
      (export "counter" (type $c (sub resource)))
      (export "get" (func (param "c" (borrow $c)) (result u32)))))
    (alias export $lib "counter" (type $c))
    (alias export $lib "get" (func $get))
    (core func $get (canon lower (func $get)))
    (core func $drop (canon resource.drop $c))
    (core module $m
      (import "" "get" (func $get (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      ;; Lends its borrow handle on, then drops it as it must.
      (func (export "peek") (param i32) (result i32)
        (local $v i32)
        (local.set $v (call $get (local.get 0)))
        (call $drop (local.get 0))
        (local.get $v))
      ;; Forgets to drop it.
      (func (export "leak") (param i32) (result i32) (call $get (local.get 0))))
    (core instance $m (instantiate $m (with "" (instance
      (export "get" (func $get)) (export "drop" (func $drop))))))
    (func (export "peek") (param "c" (borrow $c)) (result u32) (canon lift (core func $m "peek")))
    (func (export "leak") (param "c" (borrow $c)) (result u32) (canon lift (core func $m "leak"))))
  (instance $mid (instantiate $mid (with "lib" (instance $lib))))

  (component $user
    (import "lib" (instance $lib
      (export "counter" (type $c (sub resource)))
      (export "new" (func (param "v" u32) (result (own $c))))
      (export "get" (func (param "c" (borrow $c)) (result u32)))
      (export "bump" (func (param "c" (own $c)) (result (own $c))))
      (export "drops" (func (result u32)))))
    (alias export $lib "counter" (type $c))
    (import "mid" (instance $mid
      (alias outer $user $c (type $c))
      (export "peek" (func (param "c" (borrow $c)) (result u32)))
      (export "leak" (func (param "c" (borrow $c)) (result u32)))))
    (core func $new (canon lower (func $lib "new")))
    (core func $get (canon lower (func $lib "get")))
    (core func $bump (canon lower (func $lib "bump")))
    (core func $drops (canon lower (func $lib "drops")))
    (core func $peek (canon lower (func $mid "peek")))
    (core func $leak (canon lower (func $mid "leak")))
    (core func $drop (canon resource.drop $c))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (import "" "get" (func $get (param i32) (result i32)))
      (import "" "bump" (func $bump (param i32) (result i32)))
      (import "" "drops" (func $drops (result i32)))
      (import "" "peek" (func $peek (param i32) (result i32)))
      (import "" "leak" (func $leak (param i32) (result i32)))
      (import "" "drop" (func $drop (param i32)))
      ;; 5, then bumped to 6 (one drop), peeked through `$mid`, dropped
      ;; (two drops): 506062.
      (func (export "counters") (result i32)
        (local $h i32) (local $a i32)
        (local.set $h (call $new (i32.const 5)))
        (local.set $a (call $get (local.get $h)))
        (local.set $h (call $bump (local.get $h)))
        (local.set $a (i32.add (i32.mul (local.get $a) (i32.const 100)) (call $get (local.get $h))))
        (local.set $a (i32.add (i32.mul (local.get $a) (i32.const 100)) (call $peek (local.get $h))))
        (call $drop (local.get $h))
        (i32.add (i32.mul (local.get $a) (i32.const 10)) (call $drops)))
      (func (export "leak") (result i32) (call $leak (call $new (i32.const 1))))
      (func (export "use-after-move") (result i32)
        (local $h i32)
        (local.set $h (call $new (i32.const 1)))
        ;; The new counter may take the moved one's index: drop it too.
        (call $drop (call $bump (local.get $h)))
        (call $get (local.get $h))))
    (core instance $m (instantiate $m (with "" (instance
      (export "new" (func $new)) (export "get" (func $get)) (export "bump" (func $bump))
      (export "drops" (func $drops)) (export "peek" (func $peek)) (export "leak" (func $leak))
      (export "drop" (func $drop))))))
    (func (export "counters") (result u32) (canon lift (core func $m "counters")))
    (func (export "leak") (result u32) (canon lift (core func $m "leak")))
    (func (export "use-after-move") (result u32) (canon lift (core func $m "use-after-move"))))
  (instance $user (instantiate $user (with "lib" (instance $lib)) (with "mid" (instance $mid))))
  (export "user" (instance $user)))
