;; A component with scalar and string exports, and a host import that takes
;; and returns strings.
(component
  (import "host" (instance $host
    (export "greet" (func (param "name" string) (result string)))))
  (core module $libc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    ;; A bump allocator: realloc(old_ptr, old_size, align, new_size).
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ptr i32)
      (local.set $ptr
        (i32.and
          (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
          (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $ptr) (local.get 3)))
      (local.get $ptr)))
  (core instance $libc (instantiate $libc))
  (core func $greet (canon lower (func $host "greet")
    (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (core module $main
    (import "libc" "memory" (memory 1))
    (import "host" "greet" (func $greet (param i32 i32 i32)))
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (local.get 0) (local.get 1)))
    (func (export "count") (param i32 i32) (result i32)
      (local.get 1))
    ;; echo(s) returns a pointer to (ptr, len) at address 16.
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 16) (local.get 0))
      (i32.store (i32.const 20) (local.get 1))
      (i32.const 16))
    ;; hello(s) forwards to the host's greet, result at address 32.
    (func (export "hello") (param i32 i32) (result i32)
      (call $greet (local.get 0) (local.get 1) (i32.const 32))
      (i32.const 32)))
  (core instance $main (instantiate $main
    (with "libc" (instance $libc))
    (with "host" (instance (export "greet" (func $greet))))))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $main "add")))
  (func (export "count") (param "s" string) (result u32)
    (canon lift (core func $main "count")
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $main "echo")
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (func $hello (param "s" string) (result string)
    (canon lift (core func $main "hello")
      (memory (core memory $libc "memory")) (realloc (core func $libc "realloc"))))
  (instance $api (export "hello" (func $hello)))
  (export "api" (instance $api)))
