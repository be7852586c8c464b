"""The `netdsl` command line: check, fmt and show, run in-process and as the installed script."""

import json
import shutil
import subprocess

import pytest

from netdsl.pipelines.cli import main

from conftest import DATA, EXAMPLES, ROOT


def test_check_accepts_every_example(capsys):
    assert main(["check", *map(str, EXAMPLES)]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok") == len(EXAMPLES)


def test_check_reports_every_broken_file_and_exits_1(capsys):
    files = [DATA / "invalid" / "unknown_layer.net", DATA / "invalid" / "undefined_param.net", EXAMPLES[0]]
    assert main(["check", *map(str, files)]) == 1
    captured = capsys.readouterr()
    assert "unknown_layer.net:3:1: error[N201]: unknown layer kind `dens`" in captured.err
    assert "undefined_param.net:4:7: error[N211]: undefined name `hiden`" in captured.err
    assert f"{EXAMPLES[0]}: ok" in captured.out


def test_check_missing_file(capsys, tmp_path):
    assert main(["check", str(tmp_path / "nope.net")]) == 1
    assert "cannot read the file" in capsys.readouterr().err


def test_fmt_check_passes_on_examples(capsys):
    assert main(["fmt", "--check", *map(str, EXAMPLES)]) == 0


def test_fmt_rewrites_and_then_is_stable(tmp_path, capsys):
    path = tmp_path / "messy.net"
    path.write_text("net   messy\ninput(64)\n\n\n\ndense( 10 ,activation = softmax )   # out\n")
    assert main(["fmt", "--check", str(path)]) == 1
    assert "would reformat" in capsys.readouterr().out
    assert main(["fmt", str(path)]) == 0
    assert path.read_text() == "net messy\ninput (64)\n\ndense(10, activation=softmax)  # out\n"
    assert main(["fmt", "--check", str(path)]) == 0


def test_fmt_goes_on_past_a_file_that_does_not_parse(tmp_path, capsys):
    # as check does: the broken file is reported, the others are formatted, the exit status is 1
    broken, messy = tmp_path / "broken.net", tmp_path / "messy.net"
    broken.write_text("net broken\ndense(10,\n")
    messy.write_text("net   messy\ninput(64)\ndense( 10 )\n")
    assert main(["fmt", str(broken), str(messy)]) == 1
    captured = capsys.readouterr()
    assert "broken.net:" in captured.err and "error" in captured.err
    assert f"{messy}: reformatted" in captured.out
    assert messy.read_text() == "net messy\ninput (64)\ndense(10)\n"
    assert broken.read_text() == "net broken\ndense(10,\n"


def test_show_table_has_shapes_params_and_totals(capsys):
    assert main(["show", str(ROOT / "examples" / "digits_cnn.net")]) == 0
    out = capsys.readouterr().out
    assert "(batch, 8, 8, 16)" in out
    assert "(batch, 4, 4, 16)" in out
    assert "4x4" in out  # receptive field after conv 3x3 + pool 2x2
    assert "total params: 17,258" in out


def test_show_json_binds_data_names(tmp_path, capsys):
    path = tmp_path / "any_width.net"
    path.write_text("net any_width\ndense(64, activation=relu)\ndense(n_classes, activation=softmax)\n")
    assert main(["show", str(path), "--json"]) == 0
    symbolic = json.loads(capsys.readouterr().out)
    assert "n_classes" in json.dumps(symbolic)
    assert main(["show", str(path), "--features", "64", "--classes", "10", "--json"]) == 0
    bound = json.loads(capsys.readouterr().out)
    assert bound["total_params"] == 64 * 64 + 64 + 64 * 10 + 10


def test_show_sets_params(capsys):
    assert main(["show", str(ROOT / "examples" / "digits_cnn.net"), "--set", "depth=2", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert sum(row["kind"] == "conv2d" for row in summary["rows"]) == 2


@pytest.mark.skipif(shutil.which("netdsl") is None, reason="console script not installed")
def test_console_script_runs():
    result = subprocess.run(["netdsl", "check", *map(str, EXAMPLES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_command_says_its_own_code_for_a_mistake_made_in_python(capsys):
    from netdsl.dsl.errors import InputError, ParameterError
    from netdsl.pipelines.commands.common import error
    from netdsl.pipelines.data import DataError

    # E101 and P101 name mistakes in Python; at the command line the data or options given made them.
    assert error(InputError("Input X contains NaN."), code="D101") == 1
    assert capsys.readouterr().err == "netdsl: error[D101]: Input X contains NaN.\n"
    error(ParameterError("bad"), code="D101")
    assert capsys.readouterr().err.startswith("netdsl: error[D101]: ")
    error(InputError("no default given"))
    assert capsys.readouterr().err.startswith("netdsl: error[E101]: ")
    error(DataError("a file"), code="C101")  # an error's own code otherwise
    assert capsys.readouterr().err.startswith("netdsl: error[D101]: ")
    error(KeyError("x"), code="D101")  # another library's: the code given
    assert capsys.readouterr().err.startswith("netdsl: error[D101]: ")
