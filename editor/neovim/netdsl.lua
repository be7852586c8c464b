-- netdsl in Neovim: `.net` files get the filetype `netdsl`, comments with `#`, a little syntax
-- highlighting, and the netdsl language server (`netdsl lsp`, over stdio) with its diagnostics,
-- hover, inlay hints, completion, rename and formatting.
--
-- Copy this file to ~/.config/nvim/plugin/netdsl.lua (Neovim loads it at start), or paste it into
-- init.lua. Neovim 0.11+ uses vim.lsp.config/vim.lsp.enable; 0.7-0.10 start the server from a
-- FileType autocommand instead.

local cmd = { 'netdsl', 'lsp' } -- or { '/path/to/venv/bin/netdsl', 'lsp' }
local inlay_hints = true -- the server's `netdsl.inlayHints`: each layer's shape after its line

-- Sent as in VS Code: at start (initializationOptions) and as workspace/didChangeConfiguration.
local init_options = { inlayHints = inlay_hints }
local settings = { netdsl = { inlayHints = inlay_hints } }

if vim.filetype and vim.filetype.add then
  vim.filetype.add({ extension = { net = 'netdsl' } })
end
if vim.fn.has('nvim-0.8') == 0 then -- 0.7 detects filetypes with filetype.vim
  vim.cmd('autocmd BufRead,BufNewFile *.net setfiletype netdsl')
end

local syntax = [[
  syntax clear
  syntax keyword netdslKeyword net param input output repeat residual skip augment train from in
  syntax match netdslNumber /\<\d\+\(\.\d*\)\=\([eE][-+]\=\d\+\)\=\>/
  syntax region netdslString start=/"/ skip=/\\"/ end=/"/ oneline
  syntax region netdslString start=/'/ skip=/\\'/ end=/'/ oneline
  syntax match netdslComment /#.*$/
  highlight default link netdslKeyword Keyword
  highlight default link netdslNumber Number
  highlight default link netdslString String
  highlight default link netdslComment Comment
]]
vim.api.nvim_create_autocmd('FileType', {
  pattern = 'netdsl',
  callback = function(args)
    vim.bo[args.buf].commentstring = '# %s'
    vim.bo[args.buf].shiftwidth = 4
    vim.bo[args.buf].expandtab = true
    vim.bo[args.buf].smartindent = true
    -- Scheduled: `:syntax on` sets (and clears) a buffer's syntax in its own FileType handler.
    vim.schedule(function()
      if vim.api.nvim_buf_is_valid(args.buf) and vim.bo[args.buf].filetype == 'netdsl' then
        vim.api.nvim_buf_call(args.buf, function() vim.cmd(syntax) end)
      end
    end)
  end,
})

if vim.fn.has('nvim-0.11') == 1 then
  vim.lsp.config('netdsl', {
    cmd = cmd,
    filetypes = { 'netdsl' },
    root_markers = { 'pyproject.toml', '.git' },
    init_options = init_options,
    settings = settings,
  })
  vim.lsp.enable('netdsl')
else
  local client_id
  vim.api.nvim_create_autocmd('FileType', {
    pattern = 'netdsl',
    callback = function(args)
      -- One server for the session, attached to every netdsl buffer (started again if it stopped).
      if not (client_id and vim.lsp.get_client_by_id(client_id)) then
        client_id = vim.lsp.start_client({
          name = 'netdsl',
          cmd = cmd,
          root_dir = vim.fn.getcwd(),
          init_options = init_options,
          settings = settings,
          -- Neovim 0.7 does not send the settings itself (0.11 does); twice does no harm.
          on_init = function(client)
            client.notify('workspace/didChangeConfiguration', { settings = settings })
          end,
        })
      end
      if client_id then
        vim.lsp.buf_attach_client(args.buf, client_id)
      end
    end,
  })
end

-- Inlay hints are drawn by Neovim 0.10+ once enabled for the buffer.
if vim.lsp.inlay_hint and inlay_hints then
  vim.api.nvim_create_autocmd('LspAttach', {
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == 'netdsl' then
        vim.lsp.inlay_hint.enable(true, { bufnr = args.buf })
      end
    end,
  })
end
