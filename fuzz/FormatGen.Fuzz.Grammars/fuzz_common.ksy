meta:
  id: fuzz_common
  endian: le
  -fg-namespace: FormatGen.Fuzz.Grammars
doc: Types the fuzzing grammar imports.
types:
  name:
    doc: A length-prefixed UTF-8 string.
    seq:
      - id: len
        type: u1
      - id: text
        type: str
        size: len
        encoding: UTF-8
