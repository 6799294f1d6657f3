/**
 * @file The tree-sitter grammar of cdl, the continuous delivery language.
 *
 * It follows `grammar/cdl.pest` (the truth) rule by rule: where pest parses something only to
 * report it (a declaration in the wrong block, another system's block), this grammar parses it
 * too, so editors colour it instead of showing an error. Keywords are reserved only where they
 * are keywords (tree-sitter's keyword extraction through `word`), as in pest.
 *
 * Language v2 constructs (templates and `from`, `input`, `var`, `step`, `runs`, matrix
 * `include`/`exclude`, `reports`, `cache`, `+` values, `defined(...)`) are accepted already; to
 * add a construct, add a rule and name it in the item list of the block that holds it
 * (`_pipeline_item`, `_environment_item`, `_stage_item`, `_job_item`, `_top_item`).
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

const PREC = {
  or: 1, // `||`
  and: 2, // `&&`
  not: 3, // `!`: `!a == b` is `!(a == b)`, as in pest's Pratt parser
  compare: 4, // `==`, `!=`, `matches`
  concat: 5, // `+` (v2 composed values)
};

/**
 * The items of a block: its own, then the declarations pest parses anywhere to report them in the
 * wrong block (E0108, `misplaced` in cdl.pest), each once.
 */
function items($, own) {
  const misplaced = [
    $.kind_declaration,
    $.stage_declaration,
    $.artifact_job,
    $.test_job,
    $.deploy_job,
    $.gate_job,
    $.plain_job,
    $.environment_declaration,
    $.requirement,
    $.secret_declaration,
    $.trigger,
  ];
  const seen = new Set();
  return choice(...[...own, ...misplaced].filter(rule => {
    const key = typeof rule === 'string' ? rule : rule.name;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  }));
}

/** `rule (, rule)* ,?` inside brackets, possibly empty. */
function commaSep(rule) {
  return optional(seq(rule, repeat(seq(',', rule)), optional(',')));
}

module.exports = grammar({
  name: 'cdl',

  word: $ => $.identifier,

  externals: $ => [
    $.block_comment, // nested, as in pest
    $.string_content, // inside "…": up to a quote, a backslash or a line break
    $._triple_string_content, // inside """…""": up to a backslash or the closing quotes
  ],

  extras: $ => [/[ \t\r\n\uFEFF]/, $.line_comment, $.block_comment],

  supertypes: $ => [$._expression],

  rules: {
    source_file: $ => repeat($._top_item),

    _top_item: $ => items($, [
      $.doc_comment,
      $.import_declaration,
      $.kind_declaration,
      $.team_declaration,
      $.pipeline_declaration,
      // v2
      $.template_declaration,
      $.input_declaration,
      $.var_declaration,
    ]),

    // ------------------------------------------------------------------ comments
    // `//` and `////…` are comments; exactly three slashes make a doc comment.
    line_comment: _ => token(choice(/\/\/([^\/\n][^\n]*)?/, /\/\/\/\/[^\n]*/)),
    doc_comment: _ => token(/\/\/\/([^\/\n][^\n]*)?/),

    // ------------------------------------------------------------------ top level
    import_declaration: $ => seq('import', field('path', $._string_literal)),

    kind_declaration: $ => seq('kind', field('name', $.identifier), field('body', $.attribute_block)),

    team_declaration: $ => seq('team', field('name', $.identifier), field('body', $.attribute_block)),

    template_declaration: $ => seq(
      'template',
      field('name', $.identifier),
      optional($.from_clause),
      field('body', $.job_body),
    ),

    input_declaration: $ => seq('input', field('name', $.identifier), field('body', $.attribute_block)),

    var_declaration: $ => seq('var', field('name', $.identifier), field('body', $.attribute_block)),

    pipeline_declaration: $ => seq('pipeline', field('name', $.identifier), field('body', $.pipeline_body)),

    pipeline_body: $ => seq('{', repeat($._pipeline_item), '}'),

    _pipeline_item: $ => items($, [
      $.doc_comment,
      $.trigger,
      $.env_block,
      $.secret_declaration,
      $.team_declaration,
      $.environment_declaration,
      $.stage_declaration,
      $.attribute,
      ';',
      $.block,
      // v2
      $.input_declaration,
      $.var_declaration,
      $.template_declaration,
    ]),

    trigger: $ => prec.right(seq('on', field('event', $.identifier), optional(field('body', $.attribute_block)))),

    env_block: $ => seq('env', '{', repeat(choice($.doc_comment, $.attribute, ';')), '}'),

    secret_declaration: $ => seq('secret', field('name', $.identifier)),

    environment_declaration: $ => seq(
      'environment',
      field('name', $.identifier),
      field('body', $.environment_body),
    ),

    environment_body: $ => seq('{', repeat($._environment_item), '}'),

    _environment_item: $ => items($, [$.doc_comment, $.requirement, $.env_block, $.attribute, ';']),

    requirement: $ => seq('requires', choice(
      $.requires_approval,
      $.requires_tests,
      $.requires_promotion,
    )),
    requires_approval: _ => 'approval',
    requires_tests: $ => seq('tests', $.identifier_list),
    requires_promotion: $ => seq('promotion', 'from', field('environment', $.identifier)),

    identifier_list: $ => seq('[', commaSep($.identifier), ']'),

    stage_declaration: $ => seq('stage', field('name', $.identifier), field('body', $.stage_body)),

    stage_body: $ => seq('{', repeat($._stage_item), '}'),

    // the jobs come in through items()
    _stage_item: $ => items($, [$.doc_comment, ';']),

    // ------------------------------------------------------------------ jobs
    artifact_job: $ => seq(
      'artifact',
      field('name', $.identifier),
      optional($.name_tail),
      optional($.from_clause),
      field('body', $.job_body),
    ),

    // `test KIND [NAME] [on ENV] [from T]`: a test cannot be named `on` (nor `from`).
    test_job: $ => seq(
      'test',
      field('kind', $.identifier),
      optional(seq(field('name', $.identifier), optional($.name_tail))),
      optional(seq('on', field('environment', $.identifier))),
      optional($.from_clause),
      field('body', $.job_body),
    ),

    deploy_job: $ => seq(
      'deploy',
      field('artifact', $.identifier),
      'to',
      field('environment', $.identifier),
      optional(seq('as', field('name', $.identifier), optional($.name_tail))),
      optional($.from_clause),
      field('body', $.job_body),
    ),

    gate_job: $ => seq(
      'gate',
      field('name', $.identifier),
      optional($.name_tail),
      optional($.from_clause),
      field('body', $.job_body),
    ),

    plain_job: $ => seq(
      'job',
      field('name', $.identifier),
      optional($.name_tail),
      optional($.from_clause),
      field('body', $.job_body),
    ),

    // `build:linux`, `test/unit`: GitLab-style job names, reported (E0109) with the name to use.
    name_tail: _ => token.immediate(/[:\/.][A-Za-z0-9_\-:\/.]*/),

    // v2: `from rust, rust_release` ends a job's head.
    from_clause: $ => seq('from', field('template', $.identifier), repeat(seq(',', field('template', $.identifier)))),

    job_body: $ => seq('{', repeat($._job_item), '}'),

    _job_item: $ => items($, [
      $.doc_comment,
      $.env_block,
      $.matrix_block,
      $.step_block,
      $.review_environment,
      $.attribute,
      ';',
      $.block,
    ]),

    // A review environment the job makes per branch: `environment { name = "review/" + branch }`.
    review_environment: $ => seq('environment', field('body', $.attribute_block)),

    matrix_block: $ => seq('matrix', '{', repeat(choice($.doc_comment, $.attribute, ';', $.block)), '}'),

    // v2: `step NAME { run = …  env { … } }`
    step_block: $ => seq('step', field('name', $.identifier), field('body', $.job_body)),

    // Another system's block (`variables { … }`, `strategy { … }`), reported with the cdl
    // construct (E0301); and the named blocks of v2 (`cache cargo { … }`, `reports { … }`,
    // `include { … }`, `github { … }`).
    block: $ => seq(
      field('type', $.identifier),
      optional(field('name', $.identifier)),
      field('body', $.block_body),
    ),

    block_body: $ => seq('{', repeat(choice(
      $.doc_comment,
      $.env_block,
      $.matrix_block,
      $.attribute,
      ';',
      $.block,
    )), '}'),

    attribute_block: $ => seq('{', repeat(choice($.doc_comment, $.attribute, ';', $.block)), '}'),

    // A keyword is an attribute's name when `=` follows it (`environment = "staging"` in a job,
    // another system's spelling reported as E0301): pest tries the declaration, then the attribute.
    attribute: $ => seq(
      field('key', choice($.identifier, alias($._keyword_key, $.identifier))),
      '=',
      field('value', $._expression),
    ),
    _keyword_key: _ => choice(
      'import', 'kind', 'pipeline', 'on', 'env', 'secret', 'environment', 'requires', 'stage',
      'artifact', 'test', 'deploy', 'gate', 'job', 'matrix', 'team',
      'template', 'input', 'var', 'step',
    ),

    // ------------------------------------------------------------------ values and conditions
    _expression: $ => choice(
      $.binary_expression,
      $.unary_expression,
      $.parenthesized_expression,
      $.list,
      $.string,
      $.triple_string,
      $.duration,
      $.integer,
      $.malformed_number,
      $.boolean,
      $.foreign_name,
      $.call_expression,
      $.name_path,
      $.identifier,
    ),

    binary_expression: $ => choice(
      prec.left(PREC.or, seq(field('left', $._expression), field('operator', '||'), field('right', $._expression))),
      prec.left(PREC.and, seq(field('left', $._expression), field('operator', '&&'), field('right', $._expression))),
      prec.left(PREC.compare, seq(
        field('left', $._expression),
        field('operator', choice('==', '!=', 'matches')),
        field('right', $._expression),
      )),
      prec.left(PREC.concat, seq(field('left', $._expression), field('operator', '+'), field('right', $._expression))),
    ),

    unary_expression: $ => prec(PREC.not, seq(field('operator', '!'), field('operand', $._expression))),

    parenthesized_expression: $ => seq('(', $._expression, ')'),

    // v2: `defined(secret.NAME)`
    call_expression: $ => seq(
      field('function', $.identifier),
      token.immediate('('),
      commaSep($._expression),
      ')',
    ),

    list: $ => seq('[', commaSep($._expression), ']'),

    boolean: _ => choice('true', 'false'),

    // One or more pairs of a number and a unit: `30s`, `1h30m`. The three number tokens have one
    // precedence: the longest match wins, and a tie goes to the first (a duration).
    duration: _ => /([0-9]+[dhms])+/,
    integer: _ => /-?[0-9]+/,
    // `1.5h` is `1` then an error, `10min` a malformed number (E0102), as in pest.
    malformed_number: _ => /[0-9]+[A-Za-z0-9_-]+/,

    // `env.X`, `github.ref`, `build:linux`, `matrix.os`, `input.dry_run`.
    name_path: _ => token(/[A-Za-z_][A-Za-z0-9_-]*([.:\/][A-Za-z_][A-Za-z0-9_-]*)+/),
    // `$CI_COMMIT_BRANCH`, `${X}`: another system's spelling, reported with the cdl one.
    foreign_name: _ => token(/\$(\{[A-Za-z_][A-Za-z0-9_-]*\}|[A-Za-z_][A-Za-z0-9_-]*)/),

    identifier: _ => /[A-Za-z_][A-Za-z0-9_-]*/,

    _string_literal: $ => choice($.string, $.triple_string),

    string: $ => seq(
      '"',
      repeat(choice($.string_content, $.escape_sequence, $.invalid_escape)),
      token.immediate('"'),
    ),

    triple_string: $ => seq(
      '"""',
      repeat(choice(alias($._triple_string_content, $.string_content), $.escape_sequence, $.invalid_escape)),
      '"""',
    ),

    // `\"` `\\` `\n` `\t` `\r` and `\u{HEX}` of a Unicode scalar value (not a surrogate, at most
    // 10FFFF); any other backslash sequence is E0101.
    escape_sequence: _ => token.immediate(prec(2, choice(
      /\\["\\ntr]/,
      /\\u\{0*([0-9a-fA-F]{1,3}|[0-9a-cA-CeEfF][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2}|[0-9a-fA-F]{5}|10[0-9a-fA-F]{4})\}/,
    ))),
    invalid_escape: _ => token.immediate(prec(1, choice(/\\u\{[^}"\\\n]*\}?/, /\\(.|\n)?/))),
  },
});
