"""Templates (language v2 §3) in `cdl lsp`: hover says where a job's attributes came from,
go to definition on a name after `from`, completion after `from`, rename of a template, and
half-typed templates never break the server."""
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import open_doc
from test_cdl_lsp import apply, complete, definition, hover_text

SHARED = """/// The Rust toolchain.
template rust {
  image = "rust:1.89"
  env { CARGO_TERM_COLOR = "always" }
}
"""

PIPELINE = """import "./shared.cdl"

template slow from rust { timeout = 45m }
template linux { runner = "ubuntu-24.04" }

pipeline p {
  stage build {
    job clippy from rust { run = "cargo clippy" }
    test unit from slow, linux { run = "cargo test" }
  }
}
"""


async def templated(client: LanguageClient, tmp_path: Path):
    (tmp_path / "shared.cdl").write_text(SHARED)
    return await open_doc(client, tmp_path / "pipeline.cdl", PIPELINE)


async def test_hover_on_a_templated_job_says_where_each_attribute_came_from(client: LanguageClient, tmp_path: Path):
    doc = await templated(client, tmp_path)
    assert list(doc.diagnostics) == []
    text = hover_text(await client.text_document_hover_async(types.HoverParams(**doc.at("unit from"))))
    assert '`timeout = 45m` from template `slow`' in text, text
    assert '`image = "rust:1.89"` from template `rust` (`' in text and "shared.cdl" in text, text
    assert '`runner = "ubuntu-24.04"` from template `linux`' in text, text
    assert "default of kind" not in text, "the template's timeout is above the kind's default"
    text = hover_text(await client.text_document_hover_async(types.HoverParams(**doc.at("rust {", 1))))
    assert "template rust" in text and "The Rust toolchain." in text, text


async def test_definition_of_a_template_after_from(client: LanguageClient, tmp_path: Path):
    doc = await templated(client, tmp_path)
    location = await definition(client, doc, "linux {", 1, occurrence=1)
    assert location.uri == doc.uri and location.range.start == doc.position("linux {")
    location = await definition(client, doc, "rust {", 1, occurrence=1)
    assert location.uri == (tmp_path / "shared.cdl").as_uri()
    assert location.range.start == types.Position(line=1, character=9)


async def test_completion_after_from_lists_templates(client: LanguageClient, tmp_path: Path):
    doc = await templated(client, tmp_path)
    text = doc.text.replace("  stage build {\n", "  stage build {\n    job new from \n", 1)
    await doc.change(text)
    labels = await complete(client, doc, "job new from ")
    assert {"rust", "slow", "linux"} <= labels, labels
    text = doc.text.replace("job new from \n", "job new from slow, \n", 1)
    await doc.change(text)
    labels = await complete(client, doc, "job new from slow, ")
    assert {"rust", "linux"} <= labels and "slow" not in labels, labels


async def test_rename_a_template_and_every_from(client: LanguageClient, tmp_path: Path):
    doc = await templated(client, tmp_path)
    result = await client.text_document_rename_async(
        types.RenameParams(**doc.at("linux {"), new_name="ubuntu")
    )
    text = apply(doc.text, doc, result.changes[doc.uri])
    assert "template ubuntu {" in text and "from slow, ubuntu {" in text and "linux" not in text
    assert list(await doc.change(text)) == []


async def test_half_typed_templates_never_break_the_server(client: LanguageClient, tmp_path: Path):
    doc = await templated(client, tmp_path)
    for cut in ["template", "template x from", "template x from a,", "template x from a, {",
                "pipeline p { stage s { job j from", "pipeline p { stage s { test unit from x, ",
                "pipeline p { stage s { deploy a to e as n from t { run = "]:
        await doc.change(PIPELINE + cut)
        await client.text_document_hover_async(types.HoverParams(**doc.at(cut[:4])))
        await complete(client, doc, cut)
    assert list(await doc.change(PIPELINE)) == []
