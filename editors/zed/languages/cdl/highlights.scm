; Highlights for cdl (nvim-treesitter, Helix and Zed capture names).

; Comments
(line_comment) @comment
(block_comment) @comment
(doc_comment) @comment.documentation

; Keywords
[
  "import"
  "kind"
  "pipeline"
  "team"
  "template"
  "input"
  "var"
  "secret"
  "environment"
  "stage"
  "env"
  "matrix"
  "step"
  "from"
  "as"
  "to"
] @keyword

"on" @keyword
"requires" @keyword
(requires_approval) @keyword
(requires_tests "tests" @keyword)
(requires_promotion "promotion" @keyword)

[
  "artifact"
  "test"
  "deploy"
  "gate"
  "job"
] @keyword.function

"matches" @keyword.operator

; Declarations
(pipeline_declaration name: (identifier) @type)
(kind_declaration name: (identifier) @type)
(template_declaration name: (identifier) @type)
(from_clause template: (identifier) @type)
(test_job kind: (identifier) @type)
(team_declaration name: (identifier) @namespace)
(environment_declaration name: (identifier) @namespace)
(test_job environment: (identifier) @namespace)
(deploy_job environment: (identifier) @namespace)
(requires_promotion environment: (identifier) @namespace)
(stage_declaration name: (identifier) @label)
(artifact_job name: (identifier) @function)
(test_job name: (identifier) @function)
(deploy_job artifact: (identifier) @function)
(deploy_job name: (identifier) @function)
(gate_job name: (identifier) @function)
(plain_job name: (identifier) @function)
(step_block name: (identifier) @function)
(name_tail) @error
(secret_declaration name: (identifier) @constant)
(input_declaration name: (identifier) @variable.parameter)
(var_declaration name: (identifier) @variable)
(requires_tests (identifier_list (identifier) @type))

; Triggers: every event name, `push` and `pull_request` as much as `tag`
(trigger event: (identifier) @constant.builtin)

; Blocks and attributes
(block type: (identifier) @keyword)
(block name: (identifier) @label)
(attribute key: (identifier) @property)
(env_block (attribute key: (identifier) @constant))

; Values
(string) @string
(triple_string) @string
(escape_sequence) @string.escape
(invalid_escape) @error
(duration) @number
(integer) @number
(malformed_number) @error
(boolean) @boolean
(foreign_name) @error
(call_expression function: (identifier) @function.builtin)
(name_path) @variable
(binary_expression right: (identifier) @variable)
(binary_expression left: (identifier) @variable.builtin
  (#any-of? @variable.builtin "branch" "tag" "event" "sha" "repository" "default_branch"))
(list (identifier) @variable)

; Operators and punctuation
["||" "&&" "!" "==" "!=" "+" "="] @operator
["{" "}" "[" "]" "(" ")"] @punctuation.bracket
["," ";"] @punctuation.delimiter
