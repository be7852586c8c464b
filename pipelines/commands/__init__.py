"""The subcommands of `netdsl`, one module each.

Every module has the same two functions: `register(subparsers)` adds its parser (and sets `run` as
the function to call) and `run(args) -> int` does the work and returns the exit status. `common`
holds what several commands share. The list of commands is `netdsl.pipelines.cli.COMMANDS`: to add
a command, write a module here and add its name there. Importing a command module must stay cheap
(no NumPy, scikit-learn or TensorFlow): `netdsl --help` imports them all.
"""
