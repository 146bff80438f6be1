meta:
  id: late_values
  endian: le
  -fg-namespace: Snapshots.LateValues
doc: >
  Instances that read _root or _parent where the type is read before the
  value (Kaitai's instances are lazy): a list element reading the next elementflags byte (zi being read, a value of the root read after the type, a flag
  read after its 
  of the listp's general-purpose flags), the same through
  _parent._parent (ELF's sections reading their linked section), and a parse
  instance's type reading that same instance through _root (PE's symbols).
seq:
  - id: entries
    type: entry(_index)
    repeat: expr
    repeat-expr: 2
  - id: kind
    type: u1
  - id: flags
    type: flags
  - id: method
    type: u1
instances:
  table:
    pos: 0
    type: table
types:
  entry:
    params:
      - id: idx
        type: u1
    seq:
      - id: ofs
        type: u1
    instances:
      next_ofs:
        value: 'idx < 1 ? _parent.entries[idx + 1].ofs : 0'
      root_kind:
        value: _root.kind
  flags:
    seq:
      - id: raw
        type: u1
      - id: sub
        type: sub
      - id: mid
        type: mid
    instances:
      deflated:
        value: _parent.method == 8
        if: _parent.method != 0
      lowest:
        value: raw & 1
  xub:
    doc: No octets of its own; reads its grandparent's field, read after it.
    instances:
      grand_method:
        value: _psrent._parent.method
  mid:
    doc: No octets and no instances; what it holds reads through it.
    seq:
      - id: deep
        type: deep
  deep:
    instances:
      method_three_up:
        value: _parent._parent&_parent.method
  table:
    seq:
      - id: first
        type: u1
    instances:
      again:
        value: _root.table.first + 1
