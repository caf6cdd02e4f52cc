--[[
papergen.lua -- pandoc Lua filter shipped with papergen (used by export.py).

Conventions it implements (study-agnostic):

* Page breaks: an empty div `::: {.pagebreak}` / `:::` or a raw TeX block
  `\newpage`, `\pagebreak`, `\clearpage` becomes a real page break:
  DOCX  -> <w:p><w:r><w:br w:type="page"/></w:r></w:p> (raw openxml)
  Typst -> #pagebreak()        HTML -> <div class="pagebreak" ...></div>
  Typst forbids #pagebreak() inside containers, so for Typst any div that
  contains a page break is dissolved into its parent.
* Bracketed spans with attributes, e.g. [34.1]{.pg-value data-key="os.mean"},
  become their plain content in every non-HTML output (kept in HTML).
  Spans with an identifier, the class "mark" or a "custom-style" attribute
  (DOCX character style) are left alone.
* Citations: links to the bibliography (link-citations) are kept in HTML
  only; elsewhere a citation is its plain text.
* Captions: a leading "Table N" / "Figure N" label is set in bold.
* Typst only: relative image paths are resolved against --resource-path and
  rewritten relative to the output .typ file, so Typst finds them no matter
  where the .typ file is written; a figure's vector PDF beside its PNG is used.
* DOCX tables: cells in the "Table Text" styles, indents as paragraph indents,
  column widths from their content. The reference list has no links (non-HTML). Missing images are reported with pandoc's
  own wording ("Could not fetch resource ...").
]]

local PAGEBREAK_TEX = {
  ["\\newpage"] = true, ["\\pagebreak"] = true, ["\\clearpage"] = true,
}

local function is_html()
  return FORMAT:match("html") ~= nil or FORMAT:match("epub") ~= nil
    or FORMAT == "revealjs" or FORMAT == "slidy" or FORMAT == "s5"
    or FORMAT == "dzslides" or FORMAT == "slideous"
end

local function keeps_spans()
  return is_html() or FORMAT == "native" or FORMAT == "json"
    or FORMAT:match("^markdown") ~= nil
end

local function pagebreak_block()
  if FORMAT == "docx" then
    return pandoc.RawBlock("openxml", '<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
  elseif FORMAT == "typst" then
    return pandoc.RawBlock("typst", "#pagebreak()")
  elseif FORMAT:match("latex") or FORMAT == "beamer" or FORMAT == "context" then
    return pandoc.RawBlock("latex", "\\newpage")
  elseif FORMAT == "odt" or FORMAT == "opendocument" then
    return pandoc.RawBlock("opendocument",
      '<text:p text:style-name="Pagebreak"/>')
  elseif is_html() then
    return pandoc.RawBlock("html",
      '<div class="pagebreak" style="break-after: page; page-break-after: always;"></div>')
  end
  return nil
end

local function is_pagebreak(block)
  return block.t == "RawBlock" and (
    (block.format == "typst" and block.text == "#pagebreak()")
    or (block.format == "openxml" and block.text:match('w:type="page"') ~= nil))
end

-- Raw TeX page-break commands (\newpage and friends).
local function RawBlock(el)
  if (el.format == "tex" or el.format == "latex")
      and PAGEBREAK_TEX[el.text:gsub("^%s+", ""):gsub("%s+$", "")] then
    local br = pagebreak_block()
    if br then return br end
    return {}
  end
  return nil
end

local function Div(el)
  if el.identifier == "refs" and not is_html() then
    -- the reference list as the journal prints it: DOIs and URLs as text, not blue links
    return el:walk({ Link = function(l) return l.content end })
  end
  if FORMAT == "docx" and el.classes:includes("table-notes") then
    el.attributes["custom-style"] = "Table Note"  -- a table's footnotes, compact like its cells
    return el
  end
  if el.classes:includes("pagebreak") then
    local out = pandoc.List()
    local br = pagebreak_block()
    if br then out:insert(br) end
    out:extend(el.content)
    return out
  end
  if FORMAT == "typst" then
    for _, b in ipairs(el.content) do
      if is_pagebreak(b) then return el.content end
    end
  end
  return nil
end

local function Span(el)
  if keeps_spans() then return nil end
  if el.identifier ~= "" or el.classes:includes("mark")
      or el.attributes["custom-style"] ~= nil then
    return nil
  end
  return el.content
end

-- papergen.document resolves citations with link-citations on (the review edition
-- links each citation to its reference). Every other output gets the resolved text
-- without those links, and no Cite element: a writer run without --citeproc would
-- otherwise emit the format's own citation command (Typst: #cite(<key>)).
local function Cite(el)
  if is_html() then return nil end
  return el.content:walk({ Link = function(l)
    if l.target:match("^#ref%-") then return l.content end
  end })
end

-- Bold "Table 1" / "Figure 2" / "Supplementary Table S1" at the start of a caption.
local LABEL_WORDS = { Table = true, Figure = true, Fig = true, ["Fig."] = true }

local function bold_label(blocks)
  if not blocks or #blocks == 0 then return blocks end
  local first = blocks[1]
  if first.t ~= "Plain" and first.t ~= "Para" then return blocks end
  local il = first.content
  if #il >= 3 and il[1].t == "Str" and LABEL_WORDS[il[1].text]
      and il[2].t == "Space" and il[3].t == "Str"
      and il[3].text:match("^S?%d+[A-Za-z]?[.:]?$") then
    local label = pandoc.Strong({ il[1], il[2], il[3] })
    local rest = pandoc.List({ label })
    for i = 4, #il do rest:insert(il[i]) end
    first.content = rest
  end
  return blocks
end

-- Typst and DOCX: tables without explicit column widths get widths proportional to
-- their longest cell (clamped, and never narrower than the column's longest word,
-- so no word breaks inside itself: "Characteristi / c"), so every table spans the
-- text width like a journal's three-line table and its caption lines up with its left edge.
local MIN_CHARS, MAX_CHARS = 6, 40

-- fn(rows) for the head's, each body's and the foot's rows of a table
local function each_rows(tbl, fn)
  fn(tbl.head.rows)
  for _, body in ipairs(tbl.bodies) do
    fn(body.head)
    fn(body.body)
  end
  fn(tbl.foot.rows)
end

local function full_width(tbl, always)
  local n = #tbl.colspecs
  if n == 0 then return end
  for _, cs in ipairs(tbl.colspecs) do
    if not always and cs[2] ~= nil and cs[2] > 0 then return end  -- widths given by the author
  end
  local longest = {}
  for i = 1, n do longest[i] = MIN_CHARS end
  local function scan(rows)
    for _, row in ipairs(rows) do
      local col = 1
      for _, cell in ipairs(row.cells) do
        local span = cell.col_span or 1
        local text = pandoc.utils.stringify(cell.contents)
        local len = utf8.len(text) or 0
        local word = 0
        for w in text:gmatch("%S+") do word = math.max(word, utf8.len(w) or 0) end
        if span == 1 and col <= n then
          longest[col] = math.max(longest[col], math.min(len, MAX_CHARS), word + 2)
        end
        col = col + span
      end
    end
  end
  each_rows(tbl, scan)
  local total = 0
  for i = 1, n do total = total + longest[i] end
  local specs = pandoc.List()
  for i, cs in ipairs(tbl.colspecs) do
    specs:insert({ cs[1], longest[i] / total })
  end
  tbl.colspecs = specs
end

-- DOCX: each cell's paragraphs in the reference.docx's compact "Table Text" style (the
-- body's spacing never applies inside tables), and a label indented with leading
-- no-break spaces (4 per level, papergen.tables) indented by the paragraph instead:
-- "Table Text Indent" (level 1) or "Table Text Indent 2".
local NBSP4 = "\u{00A0}\u{00A0}\u{00A0}\u{00A0}"

local function indent_level(blocks)
  local first = blocks[1]
  if not first or (first.t ~= "Plain" and first.t ~= "Para") then return 0 end
  local il = first.content
  if #il == 0 or il[1].t ~= "Str" then return 0 end
  local text, level = il[1].text, 0
  while text:sub(1, #NBSP4) == NBSP4 do
    text, level = text:sub(#NBSP4 + 1), level + 1
  end
  if level == 0 then return 0 end
  if text == "" then il:remove(1) else il[1].text = text end
  return level
end

local function table_cells(tbl)
  local function restyle(rows)
    for _, row in ipairs(rows) do
      for _, cell in ipairs(row.cells) do
        local level = indent_level(cell.contents)
        local style = "Table Text"
        if level == 1 then style = "Table Text Indent" elseif level >= 2 then style = "Table Text Indent 2" end
        local paras = pandoc.List()
        for _, b in ipairs(cell.contents) do  -- a Plain would get pandoc's "Compact" style
          if b.t == "Plain" then paras:insert(pandoc.Para(b.content)) else paras:insert(b) end
        end
        cell.contents = { pandoc.Div(paras, { ["custom-style"] = style }) }
      end
    end
  end
  each_rows(tbl, restyle)
end

local function Table(tbl)
  tbl.caption.long = bold_label(tbl.caption.long)
  if FORMAT == "typst" then full_width(tbl) end
  if FORMAT == "docx" then full_width(tbl, true) end  -- pandoc's pipe-table widths are the dashes' count
  if FORMAT == "docx" then table_cells(tbl) end
  return tbl
end

local function Figure(fig)
  fig.caption.long = bold_label(fig.caption.long)
  return fig
end

-- Typst: make image paths resolvable from the .typ file's folder.
local function file_exists(p)
  local f = io.open(p, "rb")
  if f then f:close() return true end
  return false
end

local function Image(img)
  if FORMAT ~= "typst" then return nil end
  local src = img.src
  -- the vector PDF a figure is also drawn as, when it sits beside the PNG
  local vector = src:gsub("%.png$", ".pdf")
  if vector ~= src then
    for _, dir in ipairs(PANDOC_STATE.resource_path) do
      if file_exists(pandoc.path.join({ dir, vector })) then src = vector break end
    end
  end
  if src:match("^%a[%w+.-]*://") or src:match("^data:") then return nil end
  local out = PANDOC_STATE.output_file
  if not out then return nil end
  local outdir = pandoc.path.directory(pandoc.path.normalize(out))
  local found = nil
  if pandoc.path.is_absolute(src) then
    if file_exists(src) then found = src end
  else
    for _, dir in ipairs(PANDOC_STATE.resource_path) do
      local candidate = pandoc.path.join({ dir, src })
      if file_exists(candidate) then found = candidate break end
    end
  end
  if not found then
    pandoc.log.warn("Could not fetch resource " .. src)
    return nil
  end
  local rel = pandoc.path.make_relative(pandoc.path.normalize(found), outdir, true)
  img.src = rel:gsub("\\", "/")
  return img
end

return {
  { RawBlock = RawBlock, Span = Span, Image = Image, Cite = Cite },
  { Div = Div, Table = Table, Figure = Figure },
}
