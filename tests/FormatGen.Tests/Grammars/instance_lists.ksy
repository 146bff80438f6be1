meta:
  id: instance_lists
  endian: le
  -fg-namespace: Snapshots.InstanceLists
doc: >
  A parse instance list whose elements have parse instances of their own
  reading the root's stream (gettext .mo's strings): each element keeps the
  stream it reads from, none copies it.
seq:
  - id: count
    type: u2
instances:
  entries:
    pos: 2
    type: entry
    repeat: expr
    repeat-expr: count
types:
  entry:
    seq:
      - id: ofs
        type: u2
    instances:
      target:
        io: _root._io
        pos: ofs
        type: u1
