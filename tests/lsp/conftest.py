"""The pytest-lsp harness for `cdl lsp` (copied from shared/tools/validate/lsp and adapted).

The server is the built binary: $CDL_BIN, else the newer of target/release/cdl and target/debug/cdl.
Documents are real files in a temporary folder, so that imports resolve.
"""
import os
import subprocess
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

ROOT = Path(__file__).resolve().parents[2]


def cdl_binary() -> str:
    if os.environ.get("CDL_BIN"):
        return os.environ["CDL_BIN"]
    built = [ROOT / "target" / profile / "cdl" for profile in ("release", "debug")]
    built = [b for b in built if b.exists()]
    if not built:
        raise RuntimeError("build cdl first (cargo build), or set CDL_BIN")
    return str(max(built, key=lambda b: b.stat().st_mtime))


CDL = cdl_binary()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[CDL, "lsp"]))
async def client(lsp_client: LanguageClient, tmp_path_factory):
    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def _register(params):
        return None

    # Kept for the tests that read the server's capabilities (the semantic tokens' legend).
    lsp_client.initialize_result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=tmp_path_factory.getbasetemp().as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


class Doc:
    """An open document: its URI, text and version, with helpers for positions."""

    def __init__(self, client: LanguageClient, path: Path, text: str):
        self.client = client
        self.path = path
        self.uri = path.as_uri()
        self.text = text
        self.version = 1

    def position(self, needle: str, offset: int = 0, occurrence: int = 0) -> types.Position:
        """The LSP position (UTF-16) of `needle` (its `occurrence`-th match) plus `offset`."""
        at = -1
        for _ in range(occurrence + 1):
            at = self.text.index(needle, at + 1)
        at += offset
        line = self.text.count("\n", 0, at)
        line_start = self.text.rfind("\n", 0, at) + 1
        character = len(self.text[line_start:at].encode("utf-16-le")) // 2
        return types.Position(line=line, character=character)

    def end(self) -> types.Position:
        return self.position(self.text, len(self.text))

    @property
    def id(self):
        return types.TextDocumentIdentifier(uri=self.uri)

    def at(self, needle: str, offset: int = 0, occurrence: int = 0):
        return dict(text_document=self.id, position=self.position(needle, offset, occurrence))

    async def change(self, text: str):
        """Replaces the whole text with one ranged change, and waits for the diagnostics."""
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line=0, character=0), end=self.end()),
            text=text,
        )
        self.version += 1
        self.text = text
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
                content_changes=[change],
            )
        )
        await self.client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return self.client.diagnostics[self.uri]

    @property
    def diagnostics(self):
        return self.client.diagnostics.get(self.uri, [])


async def open_doc(client: LanguageClient, path: Path, text: str | None = None) -> Doc:
    if text is None:
        text = path.read_text()
    else:
        path.write_text(text)
    doc = Doc(client, path, text)
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=doc.uri, language_id="cdl", version=1, text=text)
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return doc


def cdl_check_json(path: Path) -> list[dict]:
    import json

    out = subprocess.run([CDL, "check", "--format", "json", str(path)], capture_output=True, text=True)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def cdl_fmt(text: str) -> str:
    return subprocess.run([CDL, "fmt", "-"], input=text, capture_output=True, text=True, check=True).stdout
