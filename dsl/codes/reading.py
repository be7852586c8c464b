"""N1xx: reading a `.net` file and its syntax (characters, brackets, strings, numbers, limits)."""

from __future__ import annotations

from .base import Code

CODES = [
    Code(
        "N101", "unreadable-file", "Cannot read the file",
        "The `.net` file could not be opened or read: it does not exist, is a folder, or its permissions "
        "forbid reading it. The operating system's reason follows the title.",
        "Check the path (a relative path is read from the current directory) and that the file is readable.",
        "$ netdsl check missing.net\nmissing.net: error[N101]: cannot read the file: No such file or directory",
        example_language="console",
    ),
    Code(
        "N102", "file-too-large", "The file is larger than the limit",
        "A `.net` program is a short text file; netdsl refuses to read one larger than its limit (a few "
        "MiB), which is most likely another file given by mistake.",
        "Check that the path names the program, not a data or model file.",
        "$ netdsl check data.csv\ndata.csv: error[N102]: the file is larger than 32 MiB",
        example_language="console",
    ),
    Code(
        "N103", "not-utf8", "The file is not UTF-8 text",
        "A `.net` file is UTF-8 text. The file holds a byte sequence that is not UTF-8 (often a file "
        "saved as Latin-1 or UTF-16, or a binary file); the error points at the first such byte.",
        "Save the file as UTF-8, or fix the character at the position shown.",
        "$ netdsl check latin1.net\nlatin1.net:3:19: error[N103]: the file is not UTF-8 text (byte e9)",
        example_language="console",
    ),
    Code(
        "N104", "unwritable-file", "Cannot write the file",
        "`netdsl fmt` could not write the formatted program back (a full disk, a read-only file or "
        "folder); the file is left unchanged. The operating system's reason follows the title.",
        "Free space, or make the file and its folder writable; `netdsl fmt --check` only reads.",
        "$ netdsl fmt readonly/demo.net\nreadonly/demo.net: error[N104]: cannot write the file: Permission "
        "denied; it is unchanged",
        example_language="console",
    ),
    Code(
        "N110", "unexpected-token", "Unexpected token",
        "The parser met a character, word or symbol that cannot come at this point of a statement (also "
        "a malformed array of numbers). The help line lists what could come instead.",
        "Write what the help line expects; put one statement (or one setting of `train { }`) per line.",
        "net demo\ninput (4)\ndense(8,, activation=relu)\n",
    ),
    Code(
        "N111", "unterminated-string", "Unterminated string",
        "A string opened with `\"` or `'` is not closed on the same line.",
        "Close the string with the same quote on the same line.",
        'net demo\ninput (4)\ndense(8, name="hidden)\n',
    ),
    Code(
        "N112", "unclosed-bracket", "Missing closing bracket",
        "A `(` or `[` is never closed: the error points where the closing bracket was expected, and a note "
        "points at the bracket that opened.",
        "Add the missing `)` or `]` (or the `,` between arguments).",
        "net demo\ninput (4)\ndense(8, activation=relu\n",
    ),
    Code(
        "N113", "unclosed-block", "Missing `}` at the end of the block",
        "A block (`train { }`, `augment { }`, `repeat N { }`) is never closed.",
        "Close the block with `}` on its own line.",
        "net demo\ninput (4)\ndense(1)\ntrain {\n    epochs = 5\n",
    ),
    Code(
        "N114", "invalid-escape", "Invalid escape in a string",
        "Strings take Python's escapes; this one is incomplete or names no character (`\\u` needs four "
        "hexadecimal digits, `\\N{...}` a Unicode character name).",
        "Complete the escape, or write the character itself.",
        'net demo\ninput (4)\ndense(8, name="a\\u12")\n',
    ),
    Code(
        "N115", "too-long", "Name or statement too long",
        "A name has more characters than netdsl takes (100), one statement has more tokens than it "
        "parses (an array of numbers alone counts as one token), or the program more than 50,000 lines.",
        "Use a shorter name; split a very long statement, or write a large array as numbers only.",
        "net " + "n" * 101 + "\ninput (4)\ndense(1)\n",
    ),
    Code(
        "N116", "nested-too-deep", "Nested too deep",
        "Values, calls, expressions or `repeat` blocks are nested inside one another more than 100 deep "
        "(each sign and each operator of a long sum counts as a level).",
        "Flatten the program: compute part of an expression in a `param`, write the number, or merge "
        "`repeat` blocks (their counts multiply).",
        "net demo\nparam units = " + "-" * 101 + "8\ninput (4)\ndense(units)\n",
    ),
    Code(
        "N130", "number-too-large", "Number too large",
        "A number (as written, or computed from constants) is beyond what 64 bits hold: integers up to "
        "about 9.2e18, floats up to about 1.8e308.",
        "Write a smaller number.",
        "net demo\ninput (4)\ndense(1, kernel_regularizer=l2(1e400))\n",
    ),
    Code(
        "N131", "beyond-float32", "A literal weight beyond float32's range",
        "Keras keeps weights as 32-bit floats: a number of a literal `kernel_initializer`, "
        "`bias_initializer` or `embeddings_initializer` beyond about ±3.4e38 would become infinite.",
        "Write numbers within float32's range.",
        "net demo\ninput (1)\ndense(1, kernel_initializer=[[1e39]])\n",
    ),
]
