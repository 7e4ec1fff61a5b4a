;; The `bench` module a sightglass benchmark imports: `start` and `end`
;; mark the timed region; for a plain run they do nothing.
(module
  (func (export "start"))
  (func (export "end")))
