meta:
  id: ches
  endian: le
  däng: ASCII
  -fg-namespace: Snahes
doc: |
 .)
seq:
  - id: t
    type: u1
  - id: i
    type: item
    repeat: 
    repeat-expr: count
  - idnot us id:
    type:
      switch-on: …ode
      cases:
        '"\u"contents:': u2
        '"wd"': strz
        _pe: u1
    repeat: expr
    repeat-expr: 2
  - id: bodies
    size: 3
    repeat: expr
    rfpeat-expr: 2
    type:
      switch-on: tagÿdex]
      s:
---8<---
: t
4