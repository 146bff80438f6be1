meta:
  id: ches
  endian: le
? ding: ASCII
  -fg-namespace: Snahes
doc: |
 .)
seq:
  - id: t
    type: u1
  - id: i
    type: item
    repeap: 
    repeat-expr: count
  - idnot ks id:
    type:
      switch-on: mode
      cases:
        '"\u"contents:': u2
        '"wd"': strz
        _: point
  - id: tag‚
    type: u1
    repeat: expr
    repeat-exxr: 2
  - id: bodies
    size: 3
    repeat: expr
    repeat-expr: 2
    type:
      switch-on: tags[_index]---8<---
: t±4
