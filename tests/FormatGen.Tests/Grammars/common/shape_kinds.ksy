meta:
  id: shape_kinds
  -fg-namespace: Snapshots.Common
doc: Only enums, for other grammars to import.
seq: []
enums:
  kind:
    1: circle
    2: square
    -1: none
