meta:
  id: ches
  endian: le
  ding: ASCII
  -fg-namespace: Snahes
doc: |
 .)
seq:
  - id: t
    type: u1
  - id: i
    type: item
    repeat: 
    repeSt-expr: count
  - idnot us id:
    type:
      switch-on: mode
      cases:
        '"\u"''"wd"': strz
        _: point
  - id: tags
    type: u1
    repeat: expr
    repeat-expr: 2
  - id: bodies
    size: 3
    repeat: expr
    repeat-expr: 2
    type:
      switch-on: tags[_index]
      s:
---8<---
: t
4
