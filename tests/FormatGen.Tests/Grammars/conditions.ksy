meta:
  id: conditions
  endian: le
  -fg-namespace: Snapshots.Conditions
doc: Conditional lists, switches and value instances, and rules over byte arrays.
seq:
  - id: has_list
    type: u1
  - id: items
    type: u1
    repeat: expr
    repeat-expr: 2
    if: has_list != 0
  - id: kind
    type: u1
  - id: body
    type:
      switch-on: kind
      cases:
        1: u2
        2: pair
    if: kind != 0
  - id: sig
    size: 2
    valid: '[0x4b, 0x53]'
  - id: version
    size: 1
    valid:
      any-of: ['[1]', '[2]']
instances:
  item_count:
    value: 'has_list != 0 ? items.size : 0'
  first_item:
    value: items[0]
    if: has_list != 0
  sig_text:
    value: sig.to_s('ASCII')
    if: has_list != 0
  doubled:
    value: first_item * 2
    if: has_list != 0 and first_item > 5
  pair_sum:
    value: body.as<pair>.total
    if: kind == 2
  text_length:
    value: sig_text.length
types:
  pair:
    seq:
      - id: a
        type: u1
      - id: b
        type: u1
    instances:
      total:
        value: a + b
        if: a != 0
      total_or_zero:
        value: 'total + 0'

