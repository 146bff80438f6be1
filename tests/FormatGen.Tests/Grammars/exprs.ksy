meta:
  id: exprs
  endian: be
  encoding: UTF-8
  -fg-namespace: Snapshots.Exprs
doc: The expression language - arithmetic as Kaitai has it, bits, floats, strings, byte arrays, lists, enums, casts, sizes, _io.pos and ternaries.
seq:
  - id: a
    type: s2
  - id: b
    type: u1
  - id: flags
    type: u1
  - id: ratio
    type: f4
  - id: name
    type: strz
  - id: octets
    size: 4
  - id: nums
    type: u2
    repeat: expr
    repeat-expr: 3
  - id: pos_here
    type: u1
    valid:
      expr: _io.pos == 20 + name.length
  - id: tag
    type: u1
    enum: tag
  - id: body
    size: 2
    type:
      switch-on: tag
      cases:
        'tag::pair': pair
        'tag::word': word
  - id: pair_fixed
    type: pair
instances:
  div_floor:
    value: a / b
  mod_pos:
    value: a % b
  shifted:
    value: b << 3 >> 1
  bits:
    value: (flags & 0xf0) >> 4 | (flags & 0x0f) << 4
  xor_not:
    value: flags ^ 0xff
  ratio_sum:
    value: ratio * 2 + 0.25
  ratio_int:
    value: (ratio * 4).to_i
  greet:
    value: '"hi " + name + "!"'
  name_up_to:
    value: name.substring(0, 2)
  name_cmp:
    value: name < "zzz" and name != "x"
  octet_last:
    value: octets.last
  octet_max:
    value: octets.max
  octet_min:
    value: octets.min
  octets_eq:
    value: octets == [0xde, 0xad, 0xbe, 0xef]
  nums_first:
    value: nums.first
  nums_max:
    value: nums.max
  nums_mid:
    value: nums[1]
  tag_num:
    value: tag.to_i
  is_pair:
    value: tag == tag::pair
  body_sum:
    value: 'tag == tag::pair ? body.as<pair>.x + body.as<pair>.y : body.as<word>.w'
  size_pair:
    value: sizeof<pair>
  bits_word:
    value: bitsizeof<word>
  bits_b12:
    value: bitsizeof<b12>
  size_pair_self:
    value: pair_fixed._sizeof
  pick:
    value: 'a > 0 ? "positive" : "not positive"'
  hex_str:
    value: b.to_s
  literals:
    value: 0o17 + 0b101 + 1_000 + 0x_ff
types:
  pair:
    seq:
      - id: x
        type: u1
      - id: y
        type: u1
  word:
    seq:
      - id: w
        type: u2
    instances:
      own_size:
        value: _sizeof
enums:
  tag:
    1: pair
    2: word
