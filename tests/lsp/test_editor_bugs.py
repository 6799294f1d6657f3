"""Regression tests for what real editors hit (issue 15): completion after non-ASCII text,
malformed messages, positions inside a surrogate pair, and `after = [` completion."""
import json
import subprocess
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient

from conftest import CDL, open_doc
from test_cdl_lsp import complete, shop

# ------------------------------------------------------------------ bug 1: non-ASCII before the cursor


@pytest.mark.parametrize(
    "hostile",
    [
        "job quote { run = \u201cinfo\u201d }\n    ",  # pasted smart quotes
        "job caf\u00e9 { run = \"x\" }\n    ",  # a typo in a name
        "\u00a0job nbsp { run = \"x\" }\n    ",  # a no-break space
        "\ufeff",  # a byte order mark
        "job rocket { run = \"x\" } \U0001f680\n    ",  # an emoji outside a string
    ],
)
async def test_completion_after_non_ascii_outside_strings(client: LanguageClient, tmp_path: Path, hostile):
    doc = await shop(client, tmp_path)
    text = doc.text.replace("stage release {\n    ", "stage release {\n    " + hostile, 1)
    await doc.change(text)
    # Must answer (an internal error raises here) with the stage's keywords.
    labels = await complete(client, doc, "stage release {\n    " + hostile)
    assert {"artifact", "test", "deploy", "gate", "job"} <= labels, labels


# ------------------------------------------------------------------ bug 5: `after = [`


async def test_after_offers_no_job_of_a_later_stage_nor_the_job_itself(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    text = doc.text.replace('job lint { run = "make lint" }', 'job lint { run = "make lint"; after = [] }')
    await doc.change(text)
    labels = await complete(client, doc, 'run = "make lint"; after = [')
    assert {"app", "migration"} <= labels, labels
    # `lint` itself, and jobs of later stages (each an E0400 cycle) are not offered.
    assert not ({"lint", "deploy_app_staging", "ui", "approve"} & labels), labels


async def test_after_offers_no_job_that_already_waits_for_this_one(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    text = doc.text.replace('job lint { run = "make lint" }', 'job lint { run = "make lint"; after = [] }')
    text = text.replace('artifact app { run = "make";', 'artifact app { run = "make"; after = [lint];')
    await doc.change(text)
    labels = await complete(client, doc, 'run = "make lint"; after = [')
    assert "migration" in labels and "app" not in labels, labels


# ------------------------------------------------------------------ bug 3: mid-surrogate positions


async def test_an_edit_inside_a_surrogate_pair_is_applied_at_the_character_start(client: LanguageClient, tmp_path: Path):
    text = 'pipeline   p {\n  stage s {\n    job rocket { run = "\U0001f680\U0001f680"; after = [nope] }\n  }\n}\n'
    doc = await open_doc(client, tmp_path / "rocket.cdl", text)
    line = 2
    column = len('    job rocket { run = "'.encode("utf-16-le")) // 2 + 1  # between the two units
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc.id, position=types.Position(line=line, character=column))
    )
    assert hover is None or hover.contents is not None
    doc.version += 1
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line, column), end=types.Position(line, column)),
                    text="x",
                )
            ],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    # The edit landed before the first rocket: the server's text is the clamped one, and a
    # formatting request (which returns the whole text) shows it.
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=doc.id, options=types.FormattingOptions(tab_size=2, insert_spaces=True))
    )
    (diagnostic,) = [d for d in client.diagnostics[doc.uri] if d.code == "E0200"]
    expected = text.replace('"\U0001f680', '"x\U0001f680', 1)
    nope = expected.split("\n")[line]
    assert diagnostic.range.start.character == len(nope[: nope.index("nope")].encode("utf-16-le")) // 2
    assert edits and '"x\U0001f680\U0001f680"' in edits[0].new_text, edits


# ------------------------------------------------------------------ bug 2: malformed messages


class Raw:
    """`cdl lsp` over pipes, with messages written byte for byte."""

    def __init__(self):
        self.process = subprocess.Popen([CDL, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.next_id = 0

    def send_bytes(self, body: bytes):
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def send(self, message: dict):
        self.send_bytes(json.dumps(message).encode())

    def request(self, method: str, params) -> int:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def read(self) -> dict:
        length = None
        while True:
            line = self.process.stdout.readline()
            assert line, f"the server exited: {self.process.wait()} {self.process.stderr.read()!r}"
            line = line.strip()
            if not line:
                break
            name, value = line.split(b":", 1)
            if name.lower() == b"content-length":
                length = int(value)
        return json.loads(self.process.stdout.read(length))

    def response(self, id) -> dict:
        while True:
            message = self.read()
            if "method" not in message and message.get("id") == id:
                return message

    def close(self):
        self.request("shutdown", None)
        self.send({"jsonrpc": "2.0", "method": "exit"})
        self.process.stdin.close()
        return self.process.wait(timeout=10)


@pytest.fixture
def raw(tmp_path):
    server = Raw()
    server.response(server.request("initialize", {"capabilities": {}, "rootUri": tmp_path.as_uri()}))
    server.send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    yield server
    if server.process.poll() is None:
        server.process.kill()


URI = "file:///tmp/cdl-raw-test.cdl"
TEXT = 'pipeline   webshop {\n  stage s { job a { run = "x" } }\n}\n'


def open_raw(raw: Raw):
    raw.send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
              "params": {"textDocument": {"uri": URI, "languageId": "cdl", "version": 1, "text": TEXT}}})


def hover(raw: Raw, line: int, character: int) -> dict:
    return raw.response(raw.request("textDocument/hover", {"textDocument": {"uri": URI}, "position": {"line": line, "character": character}}))


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc": "2.0", "id": 99, "method": ',  # truncated JSON
        b'{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"t":"\xff\xfe\xc3"}}',  # invalid UTF-8
        b"[1, 2",
        b"not json at all",
    ],
    ids=["truncated", "invalid-utf8", "truncated-array", "not-json"],
)
def test_a_malformed_message_gets_a_parse_error_and_the_server_goes_on(raw: Raw, body: bytes):
    open_raw(raw)
    raw.send_bytes(body)
    error = raw.read()
    while "method" in error:  # diagnostics of the open
        error = raw.read()
    assert error["id"] is None and error["error"]["code"] == -32700, error
    answer = hover(raw, 1, 14)  # `job`
    assert "result" in answer, answer
    assert raw.close() == 0


def test_a_lone_surrogate_is_read_as_a_replacement_character(raw: Raw):
    open_raw(raw)
    # As JavaScript's JSON.stringify writes a lone surrogate.
    lone = TEXT.replace('run = "x"', 'run = "x@y"')
    text = json.dumps(lone).replace("@", "\\ud800")  # as JavaScript's JSON.stringify writes it
    body = ('{"jsonrpc":"2.0","method":"textDocument/didChange","params":{"textDocument":{"uri":"%s","version":2},'
            '"contentChanges":[{"text":%s}]}}') % (URI, text)
    assert "\\ud800" in body
    raw.send_bytes(body.encode())
    answer = hover(raw, 1, 14)
    assert "result" in answer, answer
    # A later edit by position lands where the editor put it: U+FFFD is one UTF-16 unit, as the
    # surrogate was. `y` is at column 29 of line 1.
    assert lone.split("\n")[1][29] == "y"
    raw.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": URI, "version": 3},
        "contentChanges": [{"range": {"start": {"line": 1, "character": 29}, "end": {"line": 1, "character": 30}}, "text": "z"}]}})
    result = raw.response(raw.request("textDocument/formatting", {"textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": True}}))
    (edit,) = result["result"]
    assert '"x\ufffdz"' in edit["newText"], edit
    assert raw.close() == 0


# ------------------------------------------------------------------ quick fixes, semantic tokens, inlay hints


async def quick_fixes(client: LanguageClient, doc, needle: str):
    at = doc.position(needle)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc.id,
            range=types.Range(start=at, end=at),
            context=types.CodeActionContext(diagnostics=list(doc.diagnostics)),
        )
    )
    return [a for a in actions or [] if a.kind == types.CodeActionKind.QuickFix]


async def test_did_you_mean_is_a_quick_fix(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    diagnostics = await doc.change(doc.text.replace("after = [lint]", "after = [lnt]"))
    assert [d.code for d in diagnostics] == ["E0200"]
    (fix,) = await quick_fixes(client, doc, "lnt")
    (edit,) = fix.edit.changes[doc.uri]
    assert edit.new_text == "lint" and edit.range.start == doc.position("lnt")
    assert fix.diagnostics[0].code == "E0200"


async def test_a_missing_attribute_is_added_with_a_placeholder(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    diagnostics = await doc.change(doc.text.replace('job lint { run = "make lint" }', "job lint {}"))
    assert "E0302" in [d.code for d in diagnostics]
    (fix,) = await quick_fixes(client, doc, "job lint")
    (edit,) = fix.edit.changes[doc.uri]
    assert edit.new_text == ' run = "TODO" '


async def test_semantic_tokens_full_and_delta(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    full = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(text_document=doc.id))
    assert full.result_id and len(full.data) % 5 == 0 and len(full.data) > 100
    server_legend = client.initialize_result.capabilities.semantic_tokens_provider.legend
    types_ = server_legend.token_types
    # Decode: every token's text and type.
    lines = doc.text.split("\n")
    line = start = 0
    decoded = []
    for i in range(0, len(full.data), 5):
        dl, ds, length, ty, mods = full.data[i : i + 5]
        line += dl
        start = ds if dl else start + ds
        units = lines[line].encode("utf-16-le")
        decoded.append((units[2 * start : 2 * (start + length)].decode("utf-16-le"), types_[ty], mods))
    words = {(w, t) for w, t, _ in decoded}
    for expected in [("pipeline", "keyword"), ("shop", "class"), ("staging", "enum"), ("TOKEN", "variable"),
                     ("app", "function"), ("migration", "type"), ("branch", "variable"), ("push", "event"),
                     ("run", "property"), ('"make"', "string"), ("/// The shop.", "comment")]:
        assert expected in words, (expected, sorted(words))
    # A delta after an edit changes only the middle, and applying it gives the new full result.
    await doc.change(doc.text.replace("job lint", "job lint2").replace("after = [lint]", "after = [lint2]"))
    delta = await client.text_document_semantic_tokens_full_delta_async(
        types.SemanticTokensDeltaParams(text_document=doc.id, previous_result_id=full.result_id)
    )
    data = list(full.data)
    for edit in sorted(delta.edits, key=lambda e: -e.start):
        data[edit.start : edit.start + edit.delete_count] = edit.data or []
    again = await client.text_document_semantic_tokens_full_async(types.SemanticTokensParams(text_document=doc.id))
    assert data == list(again.data)
    assert sum(len(e.data or []) for e in delta.edits) < len(again.data)


async def test_inlay_hints_name_deploys_and_show_inherited_conditions(client: LanguageClient, tmp_path: Path):
    doc = await shop(client, tmp_path)
    text = doc.text.replace('job lint { run = "make lint" }', 'job lint { run = "make lint"; when = event == push }')
    await doc.change(text)
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(text_document=doc.id, range=types.Range(start=types.Position(0, 0), end=doc.end()))
    )
    labels = {(h.position.line, h.label) for h in hints}
    assert (doc.position("deploy app to staging").line, "as deploy_app_staging") in labels
    assert (doc.position("gate approve").line, "runs only when event == push") in labels
