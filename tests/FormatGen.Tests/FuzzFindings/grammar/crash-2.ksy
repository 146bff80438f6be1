meta:
  id: _l: le
  -fg-namespace:
docarget:
   ---8<---
     io: [arget:
   ---8<--:
  entries:
    pos: 2
    tyÿÿÿentry
    repeat: expr
    repeat-expr: count
types:
  entry:
    seq:
      - id: ofs
        type: uz
 /  instaseq:
  - id: count    troWt._io
    
      - id: ofs
        type:     pos: ofs
        type: u1