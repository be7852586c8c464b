"""The Neovim and Emacs configurations in editor/, run in the real editors where they are
installed (Debian: `apt-get install neovim emacs-nox elpa-eglot`): Neovim against the real
`netdsl lsp`, Emacs for its mode, its indentation of every example and its eglot entry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.net"))
CNN = ROOT / "examples" / "digits_cnn.net"

def _home(tmp_path: Path) -> dict:
    """An environment whose editor configuration and data are empty (none of the user's)."""
    env = dict(os.environ)
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / "home")
    return env


NEOVIM_CHECK = r"""
local found = { version = vim.fn.execute('version'):match('NVIM v([%d%.]+)') }
local function clients(buf)
  if vim.lsp.get_clients then return vim.lsp.get_clients({ bufnr = buf }) end
  return vim.lsp.buf_get_clients(buf)
end
vim.cmd('edit ' .. vim.fn.fnameescape(BROKEN))
local buf = vim.api.nvim_get_current_buf()
found.filetype = vim.bo[buf].filetype
found.commentstring = vim.bo[buf].commentstring
vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
found.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(found.diagnostics, { d.lnum + 1, d.col + 1, d.message })
end
vim.cmd('edit ' .. vim.fn.fnameescape(CNN))
buf = vim.api.nvim_get_current_buf()
vim.wait(20000, function() return #vim.tbl_values(clients(buf)) > 0 end, 50)
vim.wait(200)
found.syntax = { vim.fn.synIDattr(vim.fn.synID(1, 1, 1), 'name'), vim.fn.synIDattr(vim.fn.synID(3, 1, 1), 'name') }
local line = vim.fn.search('conv2d') - 1
local doc = { uri = vim.uri_from_bufnr(buf) }
local function request(method, params)
  for _, r in pairs(vim.lsp.buf_request_sync(buf, method, params, 10000) or {}) do return r.result end
end
local hover = request('textDocument/hover', { textDocument = doc, position = { line = line, character = 6 } })
found.hover = hover and hover.contents and hover.contents.value or ''
local hints = request('textDocument/inlayHint', { textDocument = doc,
  range = { start = { line = 0, character = 0 }, ['end'] = { line = 200, character = 0 } } }) or {}
found.hints = {}
for _, h in ipairs(hints) do table.insert(found.hints, { h.position.line + 1, h.label }) end
local file = io.open(OUT, 'w')
file:write(vim.json and vim.json.encode(found) or vim.fn.json_encode(found))
file:close()
vim.cmd('qa!')
"""


def _neovim(tmp_path: Path, inlay_hints: bool) -> dict:
    """What NEOVIM_CHECK finds with editor/neovim/netdsl.lua, its two settings set as a user would."""
    config = (ROOT / "editor" / "neovim" / "netdsl.lua").read_text()
    # the server pointed at this interpreter's netdsl (the console script may not be on the PATH)
    server = "{ " + ", ".join(json.dumps(part) for part in (sys.executable, "-m", "netdsl.pipelines.cli", "lsp")) + " }"
    for default, mine in [("local cmd = { 'netdsl', 'lsp' }", f"local cmd = {server}"),
                          ("local inlay_hints = true", f"local inlay_hints = {str(inlay_hints).lower()}")]:
        assert default in config
        config = config.replace(default, mine)
    (tmp_path / "netdsl.lua").write_text(config)
    broken = tmp_path / "broken.net"
    broken.write_text("net broken\ninput (8, 8, 1)\nflatten\ndnese(10, activation=softmax)\n")
    out = tmp_path / "found.json"
    paths = f"BROKEN = {json.dumps(str(broken))}\nCNN = {json.dumps(str(CNN))}\nOUT = {json.dumps(str(out))}\n"
    (tmp_path / "check.lua").write_text(paths + NEOVIM_CHECK)
    subprocess.run(["nvim", "--headless", "-u", str(tmp_path / "netdsl.lua"), "-c", f"luafile {tmp_path / 'check.lua'}"],
                   cwd=ROOT, timeout=120, check=True, capture_output=True, env=_home(tmp_path))
    return json.loads(out.read_text())


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim is not installed")
def test_neovim_config_starts_the_server_and_shows_its_answers(tmp_path: Path):
    found = _neovim(tmp_path, inlay_hints=True)
    assert (found["filetype"], found["commentstring"]) == ("netdsl", "# %s")
    assert found["syntax"] == ["netdslComment", "netdslKeyword"]
    assert [d[:2] for d in found["diagnostics"]] == [[4, 1]] and "`dnese`" in found["diagnostics"][0][2]
    assert found["hover"].startswith("**conv2d** `-> (batch, 8, 8, 16)  160 params`")
    assert [line for line, _ in found["hints"]] == [13, 14, 16, 17, 18, 19, 22, 23]
    assert found["hints"][0][1].strip() == "-> (batch, 8, 8, 16)  160 params"


@pytest.mark.skipif(shutil.which("nvim") is None, reason="Neovim is not installed")
def test_neovim_config_switches_inlay_hints_off(tmp_path: Path):
    found = _neovim(tmp_path, inlay_hints=False)
    assert found["hints"] == [] and len(found["diagnostics"]) == 1


EMACS_CHECK = r"""
(require 'eglot nil t)
(load (expand-file-name "editor/emacs/netdsl.el"))
(dolist (file command-line-args-left)
  (find-file file)
  (let ((before (buffer-string)))
    (indent-region (point-min) (point-max))
    (princ (format "%s %s %s %S\n" (file-name-nondirectory file) major-mode
                   (if (string= before (buffer-string)) "same" "changed") comment-start))))
(princ (format "eglot %S %S\n" (featurep 'eglot)
               (and (featurep 'eglot) (cdr (assq 'netdsl-mode eglot-server-programs)))))
(setq command-line-args-left nil)
"""


@pytest.mark.skipif(shutil.which("emacs") is None, reason="Emacs is not installed")
def test_emacs_mode_indents_every_example_as_it_is(tmp_path: Path):
    script = tmp_path / "check.el"
    script.write_text(EMACS_CHECK)
    done = subprocess.run(["emacs", "--batch", "-l", str(script), *map(str, EXAMPLES)],
                          cwd=ROOT, timeout=120, check=True, capture_output=True, text=True, env=_home(tmp_path))
    lines = done.stdout.splitlines()
    assert lines[:-1] == [f'{path.name} netdsl-mode same "# "' for path in EXAMPLES]
    # with eglot (built into Emacs 29+, a package before), the server program is registered
    assert lines[-1] in ('eglot t ("netdsl" "lsp" :initializationOptions (:inlayHints t))', "eglot nil nil")
