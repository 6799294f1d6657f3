-- cdl in Neovim 0.7 (Debian 12's 0.7.2), without nvim-lspconfig: put this in init.lua.
vim.cmd([[autocmd BufRead,BufNewFile *.cdl setfiletype cdl]])
local cdl_client = nil
vim.api.nvim_create_autocmd("FileType", {
  pattern = "cdl",
  callback = function(args)
    vim.bo[args.buf].commentstring = "// %s"
    cdl_client = cdl_client or vim.lsp.start_client({
      name = "cdl",
      cmd = { "cdl", "lsp" },
      root_dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(args.buf), ":p:h"),
    })
    vim.lsp.buf_attach_client(args.buf, cdl_client)
  end,
})
