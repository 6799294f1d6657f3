"""`cdl lsp` driven by a real LSP client (pytest-lsp): one test or more per capability."""
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import ROOT, cdl_check_json, cdl_fmt, open_doc

KINDS = """/// Checks of the database migrations.
kind migration { environment = forbidden; timeout = 10m }
"""

PIPELINE = """import "./kinds.cdl"

/// The shop.
pipeline shop {
  on push { branches = ["main"] }
  /// Token of the deploy API.
  secret TOKEN
  /// The test environment.
  environment staging { url = "https://staging.example" }
  environment production {
    url = "https://example.com"
    requires approval
    requires tests [ui, migration]
    requires promotion from staging
  }
  stage build {
    /// The release binary.
    artifact app { run = "make"; outputs = ["app"] }
    job lint { run = "make lint" }
    test migration { run = "./migrations.sh" }
  }
  stage staging {
    deploy app to staging { run = "./deploy.sh"; secrets = [TOKEN] }
    test ui on staging { run = "npx playwright test"; after = [deploy_app_staging] }
  }
  stage release {
    /// Ship it?
    gate approve { approvers = ["alice"]; after = [lint] }
  }
  stage production {
    deploy app to production { run = "./deploy.sh"; when = branch == "main" && event == push; secrets = [TOKEN] }
  }
}
"""


async def shop(client: LanguageClient, tmp_path: Path):
    (tmp_path / "kinds.cdl").write_text(KINDS)
    return await open_doc(client, tmp_path / "shop.cdl", PIPELINE)


def hover_text(hover) -> str:
    assert hover is not None
    return hover.contents.value


# ------------------------------------------------------------------ diagnostics


ERR_FIXTURES = sorted((ROOT / "tests" / "fixtures" / "err").glob("*.cdl"))


@pytest.mark.parametrize("fixture", ERR_FIXTURES, ids=lambda p: p.stem)
async def test_diagnostics_are_those_of_cdl_check(client: LanguageClient, fixture: Path):
    doc = await open_doc(client, fixture)
    expected = [d for d in cdl_check_json(fixture) if Path(d["file"]).resolve() == fixture.resolve()]
    got = [d for d in doc.diagnostics if not d.message.startswith("in ")]
    assert [d.code for d in got] == [d["code"] for d in expected]
    for lsp, check in zip(got, expected):
        assert lsp.source == "cdl"
        assert lsp.message.split("\nhelp: ")[0].split("\nnote: ")[0] == check["message"]
        if check["help"]:
            assert f"\nhelp: {check['help']}" in lsp.message
        assert lsp.severity == (
            types.DiagnosticSeverity.Error if check["severity"] == "error" else types.DiagnosticSeverity.Warning
        )
        # JSON columns count characters from 1; LSP columns UTF-16 units from 0 (ASCII here).
        assert (lsp.range.start.line, lsp.range.start.character) == (check["line"] - 1, check["column"] - 1)
        assert (lsp.range.end.line, lsp.range.end.character) == (check["end_line"] - 1, check["end_column"] - 1)
        related = [label for label in check["labels"] if not label["primary"]]
        assert len(lsp.related_information or []) == len(related)


async def test_a_duplicate_points_at_the_first_definition(client: LanguageClient):
    doc = await open_doc(client, ROOT / "tests" / "fixtures" / "err" / "E0205-duplicate-name.cdl")
    duplicate = next(d for d in doc.diagnostics if d.code == "E0205")
    assert duplicate.related_information
    first = duplicate.related_information[0]
    assert first.location.uri == doc.uri
    assert first.message == "first defined here"
    assert first.location.range.start.line < duplicate.range.start.line


async def test_diagnostics_follow_every_change(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    assert list(doc.diagnostics) == []
    broken = doc.text.replace("after = [lint]", "after = [lnt]")
    diagnostics = await doc.change(broken)
    assert [d.code for d in diagnostics] == ["E0200"]
    assert "did you mean `lint`?" in diagnostics[0].message
    assert doc.text[doc.text.index("lnt"):].startswith("lnt")
    assert diagnostics[0].range.start == doc.position("lnt")
    assert list(await doc.change(PIPELINE)) == []


async def test_positions_are_utf16(client: LanguageClient, tmp_path: Path):
    text = 'pipeline p {\n  stage s { job a { run = "\U0001d11e é"; after = [nope] } }\n}\n'
    doc = await open_doc(client, tmp_path / "utf16.cdl", text)
    (diagnostic,) = [d for d in doc.diagnostics if d.code == "E0200"]
    # U+1D11E is two UTF-16 units: the column is 43, not 42 (characters) or 45 (bytes).
    assert diagnostic.range.start == doc.position("nope")
    assert diagnostic.range.start.character == 43


async def test_an_error_in_an_imported_file_shows_on_the_import(client: LanguageClient, tmp_path: Path):
    (tmp_path / "kinds.cdl").write_text("kind migration { timeout = 10 }\n")
    doc = await open_doc(client, tmp_path / "shop.cdl", PIPELINE)
    (diagnostic,) = [d for d in doc.diagnostics if d.code == "E0300"]
    assert diagnostic.message.startswith("in ")
    assert diagnostic.range.start.line == 0
    assert diagnostic.related_information[0].location.uri == (tmp_path / "kinds.cdl").as_uri()


# ------------------------------------------------------------------ hover


@pytest.mark.parametrize(
    "needle, offset, expected",
    [
        ("requires approval", 0, "what must guard every deploy"),  # a keyword
        ("requires approval", 9, "a gate must guard"),  # another
        ("timeout = 10m", 0, None),  # (in kinds.cdl: not this document)
        ('url = "https://staging', 0, "Type:** a string"),  # an attribute and its type
        ("ui on staging", 0, "Browser tests"),  # a kind: its /// doc from the stdlib
        ("migration {", 0, "Checks of the database migrations"),  # a kind of an imported file
        ("staging {\n    deploy", 0, "stage staging"),  # a stage
        ("to staging", 3, "The test environment."),  # an environment, by a reference
        ("approve {", 0, "Ship it?"),  # a gate
        ("after = [lint]", 9, "job lint"),  # a job, by a reference
        ("app { run", 0, "The release binary."),  # an artifact
        ("TOKEN]", 0, "Token of the deploy API."),  # a secret
        ('branch == "main"', 0, "The branch of the run"),  # a variable of conditions
        ("push; secrets", 0, "A push to a branch"),  # an event
        ("deploy app to staging", 0, "deploy_app_staging"),  # an implicitly named job
        ("retries", 0, None),
    ],
)
async def test_hover(client: LanguageClient, tmp_path: Path, needle, offset, expected):
    doc = await shop(client, tmp_path)
    if needle not in doc.text:
        return
    hover = await client.text_document_hover_async(types.HoverParams(**doc.at(needle, offset)))
    if expected is None:
        return
    assert expected in hover_text(hover)


async def test_hover_on_a_job_attribute_gives_its_expected_type(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    text = hover_text(await client.text_document_hover_async(types.HoverParams(**doc.at("outputs"))))
    assert "a list of strings (required)" in text
    text = hover_text(await client.text_document_hover_async(types.HoverParams(**doc.at("when ="))))
    assert "a condition" in text


async def test_hover_on_a_test_shows_the_defaults_of_its_kind(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    text = hover_text(await client.text_document_hover_async(types.HoverParams(**doc.at("ui on staging"))))
    assert "`timeout = 30m`, the default of kind `ui`" in text
    assert "`retries = 1`, the default of kind `ui`" in text
    text = hover_text(await client.text_document_hover_async(types.HoverParams(**doc.at("lint {"))))
    assert "default of kind" not in text


async def test_inlay_hints_show_what_a_test_inherits_from_its_kind(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=doc.uri),
            range=types.Range(start=types.Position(0, 0), end=doc.end()),
        )
    )
    # (The hints of kinds only: deploys' names and inherited conditions are tested apart.)
    hints = [h for h in hints if "timeout" in h.label or "retries" in h.label]
    by_line = {h.position.line: h.label for h in hints}
    migration = doc.position("test migration {")
    ui = doc.position("test ui on staging")
    assert by_line == {migration.line: "timeout = 10m", ui.line: "timeout = 30m, retries = 1"}
    # A test that sets its own timeout shows only what it still inherits.
    text = doc.text.replace('test ui on staging { run = "npx playwright test"', 'test ui on staging { timeout = 5m; run = "npx playwright test"')
    await doc.change(text)
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=doc.uri),
            range=types.Range(start=types.Position(0, 0), end=doc.end()),
        )
    )
    assert [h.label for h in hints if h.position.line == ui.line and "runs only" not in h.label] == ["retries = 1"]


# ------------------------------------------------------------------ definition and references


async def definition(client, doc, needle, offset=0, occurrence=0):
    result = await client.text_document_definition_async(
        types.DefinitionParams(**doc.at(needle, offset, occurrence))
    )
    assert result, f"no definition for {needle}"
    return result[0]


async def test_definition_of_every_kind_of_name(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    # environment
    location = await definition(client, doc, "to staging", 3)
    assert location.uri == doc.uri and location.range.start == doc.position("staging {")
    # job in `after`
    location = await definition(client, doc, "after = [lint]", 9)
    assert location.range.start == doc.position("lint {")
    # implicitly named deploy
    location = await definition(client, doc, "deploy_app_staging")
    assert location.range.start == doc.position("deploy app to staging")
    # artifact
    location = await definition(client, doc, "deploy app to production", 7)
    assert location.range.start == doc.position("app {")
    # secret
    location = await definition(client, doc, "TOKEN]")
    assert location.range.start == doc.position("TOKEN\n")
    # kind of an imported file
    location = await definition(client, doc, "migration]")
    assert location.uri == (tmp_path / "kinds.cdl").as_uri()
    assert location.range.start == types.Position(line=1, character=5)
    # kind of the standard library, written out so the editor can open it
    location = await definition(client, doc, "ui on staging")
    assert location.uri.endswith("/prelude.cdl")
    assert "kind ui" in Path(location.uri.removeprefix("file://")).read_text()


async def test_references_of_an_environment(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    result = await client.text_document_references_async(
        types.ReferenceParams(
            **doc.at("staging {"), context=types.ReferenceContext(include_declaration=True)
        )
    )
    starts = sorted((r.range.start.line, r.range.start.character) for r in result)
    expected = sorted(
        (p.line, p.character)
        for p in [
            doc.position("staging {"),
            doc.position("from staging", 5),
            doc.position("to staging", 3),
            doc.position("on staging", 3),
        ]
    )
    assert starts == expected
    without = await client.text_document_references_async(
        types.ReferenceParams(**doc.at("staging {"), context=types.ReferenceContext(include_declaration=False))
    )
    assert len(without) == 3


async def test_references_of_a_kind_across_imports(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    kinds = await open_doc(client, tmp_path / "kinds.cdl")
    result = await client.text_document_references_async(
        types.ReferenceParams(**kinds.at("migration {"), context=types.ReferenceContext(include_declaration=True))
    )
    uris = sorted({r.uri for r in result})
    assert uris == sorted({doc.uri, kinds.uri})
    in_shop = [r for r in result if r.uri == doc.uri]
    assert len(in_shop) == 2  # `requires tests [.., migration]` and `test migration`


# ------------------------------------------------------------------ completion


async def complete(client, doc, needle, offset=None):
    offset = len(needle) if offset is None else offset
    result = await client.text_document_completion_async(types.CompletionParams(**doc.at(needle, offset)))
    items = result.items if hasattr(result, "items") else result
    return {item.label for item in items or []}


@pytest.mark.parametrize(
    "edit, needle, expected, absent",
    [
        # keywords valid at the start of a stage item
        ("stage release {\n", "stage release {\n", {"artifact", "test", "deploy", "gate", "job"}, {"stage"}),
        # attribute names of the enclosing block, without those already set
        ('job lint { run = "make lint"; ', 'job lint { run = "make lint"; ', {"timeout", "after", "when", "env"}, {"run", "outputs"}),
        # kinds after `test`
        ("stage release {\n    test ", "stage release {\n    test ", {"unit", "ui", "migration"}, {"app"}),
        # environments after `on` and after `to`
        ("stage release {\n    test smoke on ", "test smoke on ", {"staging", "production"}, set()),
        ("stage release {\n    deploy app to ", "deploy app to ", {"staging", "production"}, set()),
        # artifacts after `deploy`
        ("stage release {\n    deploy ", "stage release {\n    deploy ", {"app"}, {"lint"}),
        # jobs in `after = [`
        ("after = [lint", '"alice"]; after = [', {"lint", "app", "migration", "deploy_app_staging", "ui"}, {"approve"}),
        # secrets in `secrets = [`
        ("secrets = [TOKEN] }\n    test", "secrets = [", {"TOKEN"}, set()),
        # kinds in `requires tests [`
        ("requires tests [", "requires tests [", {"unit", "e2e", "migration"}, set()),
        # events in conditions, variables in conditions
        ("event == push", "event == ", {"push", "pull_request", "tag", "schedule", "manual"}, set()),
        ("when = branch", "when = ", {"branch", "tag", "event"}, set()),
        # triggers after `on` in the pipeline
        ("  on push", "  on ", {"push", "tag", "schedule"}, set()),
        # keywords of an environment
        ("    requires approval", "    requires ", {"approval", "tests", "promotion"}, set()),
    ],
)
async def test_completion_in_context(client: LanguageClient, tmp_path: Path, edit, needle, expected, absent):
    doc = await shop(client, tmp_path)
    if edit not in doc.text:
        # the edit inserts text that the pipeline lacks; the cursor goes at its end
        text = doc.text.replace("stage release {\n", edit, 1)
        await doc.change(text)
    labels = await complete(client, doc, needle)
    assert expected <= labels, labels
    assert not (absent & labels), labels


async def test_completion_and_symbols_work_from_the_last_good_parse(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    broken = doc.text.replace("stage release {\n", "stage release {\n    job x { after = [", 1)
    diagnostics = await doc.change(broken)
    assert [d.code for d in diagnostics] == ["E0100"]
    labels = await complete(client, doc, "job x { after = [")
    assert {"lint", "app", "approve"} <= labels
    symbols = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc.id))
    assert [s.name for s in symbols] == ["shop"]


# ------------------------------------------------------------------ symbols, formatting, rename


async def test_document_symbols(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    (pipeline,) = await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc.id))
    assert pipeline.name == "shop" and pipeline.kind == types.SymbolKind.Module
    children = {(c.name, c.detail): c for c in pipeline.children}
    assert {
        ("staging", "environment"),
        ("production", "environment"),
        ("staging", "stage"),
        ("build", "stage"),
        ("TOKEN", "secret"),
        ("on push", None),
    } <= set(children)
    build = children[("build", "stage")]
    assert [j.name for j in build.children] == ["app", "lint", "migration"]
    assert build.selection_range.start == doc.position("build {")
    staging = children[("staging", "stage")]
    assert [(j.name, j.detail) for j in staging.children] == [("deploy_app_staging", "deploy"), ("ui", "test")]


async def test_formatting_is_cdl_fmt(client: LanguageClient, tmp_path: Path):
    messy = "pipeline p{stage s{job a{run=\"true\"\ntimeout=1m}}}\n"
    doc = await open_doc(client, tmp_path / "messy.cdl", messy)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc.id, options=types.FormattingOptions(tab_size=2, insert_spaces=True))
    )
    (edit,) = edits
    assert edit.new_text == cdl_fmt(messy)
    assert edit.range.start == types.Position(line=0, character=0)
    assert edit.range.end == doc.end()
    tidy = await open_doc(client, tmp_path / "tidy.cdl", cdl_fmt(messy))
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=tidy.id, options=types.FormattingOptions(tab_size=2, insert_spaces=True))
    )
    assert not edits


def apply(text: str, doc, edits) -> str:
    """Applies LSP text edits (ASCII text) from the last to the first."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    def offset(p):
        return offsets[p.line] + p.character
    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def rename(client, doc, needle, new_name, offset=0):
    result = await client.text_document_rename_async(
        types.RenameParams(**doc.at(needle, offset), new_name=new_name)
    )
    return apply(doc.text, doc, result.changes[doc.uri])


async def test_rename_a_job_and_its_references(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    prepared = await client.text_document_prepare_rename_async(types.PrepareRenameParams(**doc.at("lint {")))
    assert prepared.placeholder == "lint"
    text = await rename(client, doc, "lint {", "style")
    assert "job style {" in text and "after = [style]" in text and "lint" not in text.replace("make lint", "")
    assert list(await doc.change(text)) == []


async def test_rename_an_environment_renames_the_deploys_named_after_it(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    text = await rename(client, doc, "staging {", "preprod")
    assert "environment preprod {" in text
    assert "requires promotion from preprod" in text
    assert "deploy app to preprod {" in text and "test ui on preprod" in text
    assert "after = [deploy_app_preprod]" in text
    assert "stage staging {" in text  # a stage of the same name is another namespace
    assert list(await doc.change(text)) == []


async def test_rename_an_artifact_and_a_gate(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    text = await rename(client, doc, "app {", "server")
    assert "artifact server {" in text and "deploy server to staging" in text
    assert "after = [deploy_server_staging]" in text
    assert list(await doc.change(text)) == []
    text = await rename(client, doc, "approve {", "ship")
    assert "gate ship {" in text
    assert list(await doc.change(text)) == []


async def test_rename_gives_an_implicitly_named_job_a_name(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    text = await rename(client, doc, "deploy_app_staging", "to_staging")
    assert "deploy app to staging as to_staging {" in text and "after = [to_staging]" in text
    assert list(await doc.change(text)) == []
    text = await rename(client, doc, "migration {", "migrations")
    assert "test migration migrations {" in text
    assert list(await doc.change(text)) == []


async def test_kinds_and_bad_names_are_not_renamed(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    prepared = await client.text_document_prepare_rename_async(types.PrepareRenameParams(**doc.at("ui, migration")))
    assert prepared is None
    with pytest.raises(Exception):
        await client.text_document_rename_async(types.RenameParams(**doc.at("lint {"), new_name="not a name"))
    with pytest.raises(Exception):
        await client.text_document_rename_async(types.RenameParams(**doc.at("lint {"), new_name="app"))


# ------------------------------------------------------------------ quick fixes

FIXABLE = [p for p in ERR_FIXTURES if any(d.get("suggestion") for d in cdl_check_json(p))]


def test_some_fixtures_carry_an_exact_edit():
    assert len(FIXABLE) >= 10


@pytest.mark.parametrize("fixture", FIXABLE, ids=lambda p: p.stem)
async def test_a_suggested_edit_is_a_quick_fix_that_removes_its_diagnostic(
    client: LanguageClient, fixture: Path
):
    doc = await open_doc(client, fixture)
    expected = [d for d in cdl_check_json(fixture) if d.get("suggestion")]
    original = doc.text
    for check in expected:
        line, column = check["line"] - 1, check["column"] - 1
        here = types.Range(start=types.Position(line, column), end=types.Position(line, column))
        actions = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=doc.uri),
                range=here,
                context=types.CodeActionContext(diagnostics=list(doc.diagnostics)),
            )
        )
        fixes = [a for a in actions if a.kind == types.CodeActionKind.QuickFix and a.diagnostics[0].code == check["code"]]
        assert len(fixes) == 1, [a.title for a in actions]
        edits = fixes[0].edit.changes[doc.uri]
        suggestion = check["suggestion"]
        assert [e.new_text for e in edits] == [suggestion["replacement"]]
        assert edits[0].range.start == types.Position(suggestion["line"] - 1, suggestion["column"] - 1)
        before = [d.message.split("\nhelp: ")[0] for d in doc.diagnostics].count(check["message"])
        fixed = apply(doc.text, doc, edits)
        after = await doc.change(fixed)
        # The fixed diagnostic is gone; another one with the same message may remain.
        assert [d.message.split("\nhelp: ")[0] for d in after].count(check["message"]) == before - 1
        await doc.change(original)
