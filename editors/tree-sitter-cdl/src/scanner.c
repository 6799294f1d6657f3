// The external scanner of the cdl grammar: what a regular expression cannot say.
// - `/* … */` comments nest, as in pest (`block_comment`).
// - the text of a `"…"` string stops at a quote, a backslash or a line break, and the text of a
//   `"""…"""` string at a backslash or the first `"""`; both are scanned here so that comment
//   rules never match inside a string.

#include "tree_sitter/parser.h"

enum TokenType {
  BLOCK_COMMENT,
  STRING_CONTENT,
  TRIPLE_STRING_CONTENT,
};

void *tree_sitter_cdl_external_scanner_create(void) { return NULL; }
void tree_sitter_cdl_external_scanner_destroy(void *payload) { (void)payload; }
unsigned tree_sitter_cdl_external_scanner_serialize(void *payload, char *buffer) {
  (void)payload;
  (void)buffer;
  return 0;
}
void tree_sitter_cdl_external_scanner_deserialize(void *payload, const char *buffer, unsigned length) {
  (void)payload;
  (void)buffer;
  (void)length;
}

static inline void advance(TSLexer *lexer) { lexer->advance(lexer, false); }

static bool scan_string_content(TSLexer *lexer) {
  bool has_content = false;
  while (!lexer->eof(lexer) && lexer->lookahead != '"' && lexer->lookahead != '\\' &&
         lexer->lookahead != '\n') {
    advance(lexer);
    has_content = true;
  }
  lexer->result_symbol = STRING_CONTENT;
  lexer->mark_end(lexer);
  return has_content;
}

static bool scan_triple_string_content(TSLexer *lexer) {
  bool has_content = false;
  lexer->result_symbol = TRIPLE_STRING_CONTENT;
  for (;;) {
    if (lexer->eof(lexer) || lexer->lookahead == '\\') {
      lexer->mark_end(lexer);
      return has_content;
    }
    if (lexer->lookahead == '"') {
      lexer->mark_end(lexer);
      advance(lexer);
      if (lexer->lookahead == '"') {
        advance(lexer);
        if (lexer->lookahead == '"') {
          return has_content; // the closing quotes: the text ends before them
        }
      }
      has_content = true; // one or two quotes are text
      continue;
    }
    advance(lexer);
    has_content = true;
  }
}

static bool scan_block_comment(TSLexer *lexer) {
  while (lexer->lookahead == ' ' || lexer->lookahead == '\t' || lexer->lookahead == '\r' ||
         lexer->lookahead == '\n' || lexer->lookahead == 0xFEFF) {
    lexer->advance(lexer, true);
  }
  if (lexer->lookahead != '/') return false;
  advance(lexer);
  if (lexer->lookahead != '*') return false;
  advance(lexer);
  unsigned depth = 1;
  while (depth > 0) {
    if (lexer->eof(lexer)) return false; // unterminated: an error, as in pest
    if (lexer->lookahead == '/') {
      advance(lexer);
      if (lexer->lookahead == '*') {
        advance(lexer);
        depth++;
      }
    } else if (lexer->lookahead == '*') {
      advance(lexer);
      if (lexer->lookahead == '/') {
        advance(lexer);
        depth--;
      }
    } else {
      advance(lexer);
    }
  }
  lexer->result_symbol = BLOCK_COMMENT;
  lexer->mark_end(lexer);
  return true;
}

bool tree_sitter_cdl_external_scanner_scan(void *payload, TSLexer *lexer, const bool *valid_symbols) {
  (void)payload;
  // Error recovery marks every token valid: then only a comment is looked for.
  bool recovering = valid_symbols[STRING_CONTENT] && valid_symbols[TRIPLE_STRING_CONTENT];
  // Inside a string nothing else may start, not even a comment (extras are valid everywhere).
  if (!recovering && valid_symbols[TRIPLE_STRING_CONTENT]) return scan_triple_string_content(lexer);
  if (!recovering && valid_symbols[STRING_CONTENT]) return scan_string_content(lexer);
  if (valid_symbols[BLOCK_COMMENT]) return scan_block_comment(lexer);
  return false;
}
