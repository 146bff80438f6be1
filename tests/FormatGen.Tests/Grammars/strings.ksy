meta:
  id: strings
  endian: le
  encoding: UTF-8
  -fg-namespace: Snapshots.Strings
doc: Strings and terminated byte arrays, in every form Kaitai reads them.
seq:
  - id: magic
    contents: STR1
  - id: name
    type: strz
    doc: NUL-terminated, in the grammar's encoding.
  - id: label
    type: str
    size: 8
    terminator: 0
    doc: A terminator inside a fixed size.
  - id: padded
    type: str
    size: 6
    pad-right: 0x20
    doc: Space-padded on the right.
  - id: kind
    type: str
    size: 2
    encoding: ASCII
    valid: '"OK"'
  - id: len16
    type: u1
  - id: wide
    type: str
    size: len16
    encoding: UTF-16LE
  - id: latin
    type: str
    size: 4
    encoding: ISO-8859-1
  - id: digits
    type: str
    size: 3
    encoding: ASCII
  - id: csv_cell
    terminator: 0x2c
    include: true
    doc: Octets up to and including a comma.
  - id: peek
    terminator: 0x3b
    consume: false
  - id: semicolon
    type: u1
  - id: tail
    type: str
    size-eos: true
    encoding: ASCII
instances:
  greeting:
    value: name + "!"
  name_length:
    value: name.length
  is_hello:
    value: name == "hello"
  middle:
    value: name.substring(1, 3)
  number:
    value: digits.to_i
  first_octet:
    value: csv_cell.first
  cell_size:
    value: csv_cell.size
