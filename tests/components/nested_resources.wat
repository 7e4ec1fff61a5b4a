;; One component that defines a resource type, instantiated twice: resource
;; types are generative, so `a#r` and `b#r` are distinct types, and each
;; instance has its own handle table. `$D` imports `a`'s type and drops
;; handles of it, which runs `a`'s destructor.
(component
  (component $C
    (core module $state
      (global $drops (mut i32) (i32.const 0))
      (func (export "dtor") (param i32)
        (global.set $drops (i32.add (global.get $drops) (i32.const 1))))
      (func (export "drops") (result i32) (global.get $drops)))
    (core instance $state (instantiate $state))
    (type $r (resource (rep i32) (dtor (core func $state "dtor"))))
    (export $R "r" (type $r))
    (core func $new (canon resource.new $r))
    (core module $m
      (import "" "new" (func $new (param i32) (result i32)))
      (func (export "make") (param i32) (result i32) (call $new (local.get 0)))
      ;; Keeps the handle in the instance's table and returns its index.
      (func (export "hold") (param i32) (result i32) (local.get 0)))
    (core instance $m (instantiate $m (with "" (instance (export "new" (func $new))))))
    (func (export "make") (param "v" u32) (result (own $R))
      (canon lift (core func $m "make")))
    (func (export "hold") (param "r" (own $R)) (result u32)
      (canon lift (core func $m "hold")))
    (func (export "drops") (result u32) (canon lift (core func $state "drops"))))
  (component $D
    (import "c" (instance $c (export "r" (type (sub resource)))))
    (alias export $c "r" (type $r))
    (core func $drop (canon resource.drop $r))
    (core module $m
      (import "" "drop" (func $drop (param i32)))
      (func (export "take") (param i32) (result i32)
        (call $drop (local.get 0))
        (local.get 0)))
    (core instance $m (instantiate $m (with "" (instance (export "drop" (func $drop))))))
    (func (export "take") (param "r" (own $r)) (result u32)
      (canon lift (core func $m "take"))))
  (instance $a (instantiate $C))
  (instance $b (instantiate $C))
  (instance $d (instantiate $D (with "c" (instance $a))))
  (export "a" (instance $a))
  (export "b" (instance $b))
  (export "d" (instance $d)))
