//! Every diagnostic code: its stable name, severity, one-line title and `cdl explain` page.
//!
//! Codes are a contract: never renumber one; retire it instead. Each page lives in
//! `docs/codes/<CODE>.md` and has a wrong and a right example (checked by the tests).

use crate::diagnostic::Severity;

macro_rules! codes {
    ($($variant:ident = $code:literal, $title:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// A short title, used for SARIF rules and the list in `cdl explain`.
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$variant => $title,)*
                }
            }

            /// The long page printed by `cdl explain`.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$variant => include_str!(concat!("../docs/codes/", $code, ".md")),)*
                }
            }
        }
    };
}

codes! {
    Syntax = "E0100", "syntax error";
    InvalidEscape = "E0101", "invalid escape in a string";
    MalformedNumber = "E0102", "malformed number or duration";
    ImportNotFound = "E0103", "imported file cannot be read";
    ImportCycle = "E0104", "import cycle";
    SecondPipeline = "E0105", "more than one pipeline";
    NoPipeline = "E0106", "no pipeline to plan";
    UnknownStdModule = "E0107", "unknown standard library module";
    Misplaced = "E0108", "declaration in the wrong block";
    InvalidName = "E0109", "name with a character names cannot hold";
    UnknownReportKind = "E0114", "unknown report kind";
    MatrixEntryAsAxis = "E0113", "matrix `include` or `exclude` written as an axis";
    UnknownJob = "E0200", "unknown job or gate";
    UnknownEnvironment = "E0201", "unknown environment";
    UnknownArtifact = "E0202", "unknown artifact";
    UnknownKind = "E0203", "unknown test kind";
    UnknownSecret = "E0204", "unknown secret";
    DuplicateName = "E0205", "name defined twice";
    UnknownTrigger = "E0206", "unknown trigger";
    DuplicateAttribute = "E0207", "attribute set twice";
    UnknownTeam = "E0208", "unknown team";
    UnknownInput = "E0210", "unknown input or var";
    VarNamedLikeSecret = "E0211", "a var and a secret of the same name";
    UnknownMatrixKey = "E0218", "matrix key that is not an axis or include key";
    StepSecretNotListed = "E0220", "step secret the job does not list";
    // v2 i13e: templates
    UnknownTemplate = "E0214", "unknown template";
    TemplateCycle = "E0215", "template cycle";
    DuplicateTemplate = "E0216", "template declared twice";
    ValueName = "E0221", "value name a `NAME=VALUE` line cannot hold";
    ValueVariableTwice = "E0222", "two values read through one variable";
    ValuesOnMatrix = "E0223", "values declared on a matrix job";
    UnknownScope = "E0226", "unknown permission scope";
    SettingMisplaced = "E0227", "platform setting in a block that cannot hold it";
    OidcWithoutIdToken = "E0228", "OIDC token in a job whose permissions deny `id_token`";
    InvalidPathGlob = "E0229", "path filter that matches no path";
    RegistryWithoutPackages = "E0230", "registry login in a job whose permissions deny `packages = write`";
    AttributeType = "E0300", "attribute has the wrong type";
    UnknownAttribute = "E0301", "unknown attribute";
    MissingAttribute = "E0302", "missing required attribute";
    OutOfRange = "E0303", "value out of range";
    InvalidValue = "E0304", "value not allowed here";
    EmptyList = "E0305", "list must not be empty";
    InvalidRefGlob = "E0306", "branch or tag pattern that no ref can match";
    OutputOutsideWorkdir = "E0307", "artifact output outside the working folder";
    // v2 i13e: templates
    TemplateAttributeNotAllowed = "E0314", "template sets what the job cannot have";
    InputComparedWrongly = "E0310", "input compared with a value of another type";
    InvalidInput = "E0311", "input declaration that cannot be given a value";
    KeptOutsideWorkdir = "E0325", "report or kept file outside the working folder";
    InvalidCoverageRegex = "E0326", "invalid coverage regex";
    RetentionOutOfRange = "E0327", "retention out of range";
    RetentionWithoutFiles = "E0328", "retention without files to keep";
    // v2 i14d: services
    InvalidServiceName = "E0342", "service name that is not a DNS label";
    EmptyServiceHealth = "E0343", "empty service `health` command";
    InvalidServiceImage = "E0344", "service image that names no image";
    // v2 i14c: caches
    CacheOutsideWorkdir = "E0339", "cache path or key file outside the working folder";
    CacheNameNotVariable = "E0340", "cache name that makes no environment variable name";
    CachePathsDisagree = "E0341", "cache declared with other paths by another job";
    AfterFailureOnGate = "E0317", "`runs` or `start` on a gate";
    StepWhenJobOnly = "E0318", "step condition testing a secret the job does not list";
    // v2 i14e: target-native steps
    InvalidNativeReference = "E0345", "malformed action, orb, orb command or plugin";
    ReferenceInCodeInput = "E0346", "reference in an action input that runs code";
    AutoWhenWithoutManual = "E0347", "`auto_when` on a job that is not `start = manual`";
    InvalidPages = "E0348", "a `pages` folder, or a site published twice";
    EntrypointWithoutImage = "E0349", "`entrypoint` on a job that runs in no image";
    EmptyMatrix = "E0320", "matrix with every combination excluded";
    DuplicateMatrixInstance = "E0321", "matrix include that repeats an instance";
    MatrixKeyMissing = "E0322", "matrix instance without a key the job needs";
    EmptyMatrixEntry = "E0323", "matrix `include` or `exclude` without keys";
    // v2 i13j: composed values
    UnknownReference = "E0329", "unknown reference in a composed value";
    UnresolvedReference = "E0330", "reference to something the job does not receive";
    SecretReference = "E0331", "secret reference outside a job's env or not listed";
    StaticValue = "E0332", "composed value where the value must be fixed";
    // v2 i13k: matrix artifacts
    OptionalOutputRequired = "E0333", "output both required and optional";
    DependencyCycle = "E0400", "dependency cycle";
    EnvironmentRequired = "E0401", "test kind needs an environment";
    EnvironmentForbidden = "E0402", "test kind forbids an environment";
    TestBeforeDeploy = "E0403", "test of an environment that nothing deploys to before it";
    ApprovalNotProved = "E0500", "deploy not guarded by an approval";
    TestsNotProved = "E0501", "deploy not guarded by the required tests";
    PromotionNotProved = "E0502", "deploy not guarded by a promotion";
    PromotionFromItself = "E0503", "environment promoted from itself";
    UnknownVariable = "E0600", "unknown variable in a condition";
    NotAnEvent = "E0601", "event compared with something that is not an event";
    ConditionType = "E0602", "condition has the wrong type";
    GateWithoutApprovers = "E0700", "gate without approvers";
    GateRequiresTooMany = "E0701", "gate requires more approvals than it has approvers";
    UnusedEnvironment = "W0100", "unused environment";
    UnusedArtifact = "W0101", "unused artifact";
    UnusedSecret = "W0102", "unused secret";
    EmptyStage = "W0103", "empty stage";
    EnvironmentWithoutUrl = "W0104", "deploy to an environment without a url";
    ShellStateLost = "W0105", "shell state lost between `run` entries";
    EnvNotExpanded = "W0106", "variable in an env value, which is never expanded";
    // v2 i13e: templates
    UnusedTemplate = "W0112", "unused template";
    ValueNotReceived = "W0116", "command reads a value the job does not receive";
    CoverageRegexSlashes = "W0115", "coverage regex between GitLab's slashes";
    ConcurrencyWithoutCancel = "W0117", "concurrency block that cancels nothing";
    // v2 i13k: matrix artifacts
    MatrixArtifactFolderRenamed = "W0119", "matrix artifact instance whose folder got a suffix";
    MatrixEntryNoEffect = "W0114", "matrix `include` or `exclude` that changes nothing";
    // v2 i14b: `changed()`
    ChangedArgument = "E0337", "`changed()` without a path-glob string";
    StepWhenChanged = "E0338", "`changed()` in a step's condition";
    // v2 i14d: services
    ServiceNotAwaited = "W0123", "service with neither `port` nor `health`";
    ValueOfLiterals = "W0118", "composed value of strings only";
    // v2 i14e: target-native steps
    UnpinnedUses = "W0124", "action not pinned to a commit";
    NativeShellWithoutRun = "W0125", "`shell` on a native step without `run`";
    CacheNeverRefreshed = "W0122", "cache without a key, saved once and never refreshed";
    // Review environments and stop jobs
    InvalidReviewEnvironment = "E0360", "misused review environment";
    InvalidStopJob = "E0361", "stop job that cannot stop the review environment";
    // Downstream pipelines
    InvalidTrigger = "E0362", "misused downstream pipeline trigger";
    NotExpressible = "W0200", "not expressible exactly on an export target";
}

impl Code {
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// Whether `cdl export` reports the code rather than `cdl check`.
    pub fn is_export(self) -> bool {
        self == Code::NotExpressible
    }

    /// Looks a code up by name, case-insensitively (`e0100` works).
    pub fn parse(name: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|code| code.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
