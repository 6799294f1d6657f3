-- cdl in Neovim 0.8 and later, without nvim-lspconfig: put this in init.lua.
vim.filetype.add({ extension = { cdl = "cdl" } })
vim.api.nvim_create_autocmd("FileType", {
  pattern = "cdl",
  callback = function(args)
    vim.bo[args.buf].commentstring = "// %s"
    vim.lsp.start({
      name = "cdl",
      cmd = { "cdl", "lsp" },
      root_dir = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(args.buf), ":p:h"),
    })
  end,
})
