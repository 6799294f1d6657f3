-- Run by check.sh after one of the snippets: the *.cdl file opened has the filetype `cdl`, a
-- client named cdl attached, and the diagnostics of `cdl check` arrive (E0200 for `after = [nope]`).
local buf = vim.api.nvim_get_current_buf()
local function fail(what)
  io.stdout:write("FAIL " .. what .. "\n")
  vim.cmd("cquit 1")
end
if vim.bo[buf].filetype ~= "cdl" then fail("filetype is '" .. vim.bo[buf].filetype .. "', not cdl") end
local attached = vim.wait(10000, function()
  for _, c in pairs(vim.lsp.buf_get_clients(buf)) do
    if c.name == "cdl" then return true end
  end
  return false
end, 20)
if not attached then fail("no cdl client attached") end
local got = vim.wait(10000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
if not got then fail("no diagnostics") end
local codes = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do table.insert(codes, tostring(d.code)) end
local text = table.concat(codes, ",")
if not text:find("E0200", 1, true) then fail("diagnostics " .. text .. " lack E0200") end
io.stdout:write("PASS filetype cdl, client attached, diagnostics " .. text .. "\n")
vim.cmd("qall!")
