//! What PANTHER's own schema knows that panther does not act on, level by level
//! (docs: /work/shared/reference/panther-schema.md). PANTHER accepts any key and warns
//! "Unknown field(s) … Check for typos"; panther accepts the keys PANTHER *declares or
//! uses*, warns about each by name when it has no meaning here, and keeps refusing keys
//! neither knows (with a suggestion). The tables are data so the warning says why.

/// `(key, why panther ignores it)`: a key PANTHER knows and panther has no use for.
pub type Unused = (&'static str, &'static str);

pub const TOP_UNUSED: &[Unused] = &[
    (
        "features",
        "PANTHER's legacy global switches (logger_observer, storage_handler, fast_fail); panther's event log and storage are always on",
    ),
    (
        "experiment",
        "PANTHER keeps it as an extra attribute of the experiment config; nothing reads it",
    ),
];

pub const LOGGING_UNUSED: &[Unused] = &[
    (
        "statistics",
        "PANTHER's log-statistics collector; `panther log` and `panther report` summarise a run instead",
    ),
    (
        "event_format",
        "PANTHER's legacy event formatting; panther's events are JSON lines",
    ),
];

pub const PATHS_UNUSED: &[Unused] = &[
    ("services_dir", "PANTHER's legacy plugin layout"),
    ("iut_dir", "PANTHER's legacy plugin layout"),
    ("testers_dir", "PANTHER's legacy plugin layout"),
    ("optional_paths", "PANTHER's legacy plugin layout"),
];

pub const TEST_UNUSED: &[Unused] = &[
    (
        "debug_environment",
        "PANTHER's debug environments have no counterpart here; use the `gdb` execution environment",
    ),
    (
        "should_be_ignore",
        "PANTHER's marker for tests it skips; remove the test to skip it",
    ),
];

pub const SERVICE_UNUSED: &[Unused] = &[
    (
        "secondary_endpoints",
        "PANTHER's extra endpoints of a service; panther addresses a service by its `protocol.target` and port",
    ),
    (
        "should_be_ignore",
        "PANTHER's marker for services it skips; remove the service to skip it",
    ),
];

/// Keys of PANTHER's environment base model: its background health monitor.
pub const ENV_BASE_UNUSED: &[Unused] = &[
    (
        "enable_background_monitoring",
        "PANTHER's background health monitor; panther watches every process itself",
    ),
    (
        "monitoring_interval_seconds",
        "PANTHER's background health monitor; panther watches every process itself",
    ),
    (
        "failure_threshold_count",
        "PANTHER's background health monitor; a service that dies is reported at once",
    ),
    (
        "allow_partial_deployment",
        "PANTHER's partial deployment; a service that does not start makes the test an error",
    ),
    (
        "critical_services",
        "PANTHER's background health monitor; every service is critical here",
    ),
];

/// Shadow options with no meaning outside the simulator.
pub const SHADOW_UNUSED: &[Unused] = &[
    (
        "model_unblocked_syscall_latency",
        "a Shadow simulator option; processes here run in real time",
    ),
    ("experimental", "Shadow simulator options"),
    (
        "hosts",
        "Shadow's host table; panther places each service in its own network namespace",
    ),
    (
        "incompatibility",
        "PANTHER's plugin metadata; panther reads incompatibilities from plugin manifests",
    ),
];

/// PANTHER's strace switches that choose what is traced; they become the `trace`
/// parameter (all, or the classes switched on).
pub const STRACE_MAPPED: &[&str] = &[
    "trace_all_syscalls",
    "trace_network_syscalls",
    "trace_file_syscalls",
];

/// The rest of PANTHER's strace schema.
pub const STRACE_UNUSED: &[Unused] = &[
    ("strace_binary", "panther runs the `strace` found on PATH"),
    (
        "excluded_syscalls",
        "write a `trace` expression instead, such as `trace: \"!futex\"`",
    ),
    (
        "include_kernel_stack",
        "kernel stacks (-k) are not collected by panther's strace",
    ),
    (
        "stack_traces",
        "stack traces (-k) are not collected by panther's strace",
    ),
    (
        "timeout",
        "the traced service's own `timeout` bounds strace here",
    ),
    (
        "output_file",
        "panther keeps the trace as strace.log in the service's artifacts",
    ),
    (
        "additional_parameters",
        "panther passes only the options its strace plugin declares",
    ),
    (
        "monitored_process",
        "panther traces the service's own process and its children",
    ),
    (
        "network_focus",
        "`trace` chooses what is traced (network calls by default)",
    ),
    (
        "output_format",
        "panther's parser reads strace's normal output",
    ),
    (
        "decode_fds",
        "panther's strace always decodes descriptors (-yy)",
    ),
    (
        "timestamps",
        "panther's strace always stamps each line with the wall-clock time (-ttt)",
    ),
    (
        "timestamp_format",
        "panther's strace always stamps each line with the wall-clock time (-ttt)",
    ),
    (
        "buffer_size",
        "strace has no such option; panther reads the log",
    ),
    (
        "trace_children",
        "panther's strace always follows children (-f)",
    ),
    (
        "inject_errors",
        "fault injection is not part of panther's strace plugin",
    ),
];

/// PANTHER's memcheck schema, less what the bundled plugin declares (`leak_check`,
/// `track_origins`; `errors_for_leak_kinds` becomes `leak_errors`).
pub const MEMCHECK_UNUSED: &[Unused] = &[
    (
        "leak_resolution",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "show_leak_kinds",
        "`leak_errors` chooses which leak kinds count here",
    ),
    (
        "leak_check_heuristics",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "show_reachable",
        "`leak_errors` chooses which leak kinds count here",
    ),
    (
        "show_possibly_lost",
        "`leak_errors` chooses which leak kinds count here",
    ),
    ("xtree_leak", "panther reads memcheck's XML report only"),
    (
        "xtree_leak_file",
        "panther reads memcheck's XML report only",
    ),
    (
        "undef_value_errors",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "partial_loads_ok",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "expensive_definedness_checks",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "keep_stacktraces",
        "panther's memcheck uses Valgrind's default",
    ),
    ("freelist_vol", "panther's memcheck uses Valgrind's default"),
    (
        "freelist_big_blocks",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "workaround_gcc296_bugs",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "ignore_range_below_sp",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "show_mismatched_frees",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "show_realloc_size_zero",
        "panther's memcheck uses Valgrind's default",
    ),
    (
        "ignore_ranges",
        "panther's memcheck uses Valgrind's default",
    ),
    ("malloc_fill", "panther's memcheck uses Valgrind's default"),
    ("free_fill", "panther's memcheck uses Valgrind's default"),
    (
        "output_format",
        "panther always reads memcheck's XML output",
    ),
    (
        "generate_suppressions",
        "suppressions are not part of panther's memcheck plugin",
    ),
    (
        "suppression_file",
        "suppressions are not part of panther's memcheck plugin",
    ),
    (
        "xml_user_comment",
        "panther reads memcheck's XML report only",
    ),
    (
        "additional_parameters",
        "panther passes only the options its memcheck plugin declares",
    ),
    (
        "timeout",
        "the service's own `timeout` bounds memcheck here",
    ),
];

/// PANTHER's builder moves every extra `implementation` key into the service's
/// `plugin_config` (they are tester knobs, Ivy's mostly); panther does the same.
pub const IMPLEMENTATION_KNOBS: &[&str] = &[
    "log_level_events",
    "log_level_binary",
    "optimization_level",
    "iterations_per_test",
    "internal_iterations_per_test",
    "runtime_seconds",
    "create_additional_files",
    "parameters",
    "command",
];

/// PANTHER's global `docker` block (current and legacy spellings).
pub const DOCKER_KEYS: &[&str] = &[
    "force_build_docker_image",
    "build_docker_image",
    "log_docker_image_build",
    "user_mapping",
    "registry",
    "build_args",
    "cache_from",
    "network_mode",
    "use_buildx",
    "target_platform",
    "buildx_builder",
    "multi_platform",
    "no_docker_cache",
    "remove_docker_image",
    "remove_docker_container",
    "remove_docker_network",
    "remove_docker_volume",
    "remove_dangling_images",
];

pub const DOCKER_USER_MAPPING_KEYS: &[&str] = &[
    "run_as_host_user",
    "custom_uid",
    "custom_gid",
    "user_name",
    "fallback_to_root",
];

/// A service's `docker` override.
pub const SERVICE_DOCKER_KEYS: &[&str] = &[
    "force_build_docker_image",
    "build_docker_image",
    "no_docker_cache",
    "use_buildx",
    "target_platform",
    "build_args",
];

/// Keys of PANTHER's legacy `service_responsive | data_integrity` assertion items.
pub const PANTHER_ASSERTION_KEYS: &[&str] = &["type", "service", "endpoint", "expected_status"];
pub const PANTHER_ASSERTION_TYPES: &[&str] = &["service_responsive", "data_integrity"];

/// A plugin PANTHER has and panther does not: why, and what to use instead. `nearest`
/// maps a protocol to the plugins to suggest, first one present in the registry wins.
pub struct Missing {
    pub name: &'static str,
    pub reason: &'static str,
    pub nearest: &'static [(&'static str, &'static str)],
}

/// Nearest for a tester: by the protocol the service speaks.
const TESTERS_BY_PROTOCOL: &[(&str, &str)] = &[
    ("quic", "quic_tester"),
    ("minip", "minip_tester"),
    ("http", "http_conformance"),
];

/// Nearest for an IUT: the bundled one speaking the same protocol.
const IUTS_BY_PROTOCOL: &[(&str, &str)] = &[
    ("quic", "aioquic"),
    ("quic", "ngtcp2"),
    ("minip", "ping_pong"),
    ("http", "python_http"),
    ("http", "nginx"),
];

const QUIC_BUILT_FROM_SOURCE: &str =
    "PANTHER builds it from source in a Docker image; panther has no plugin for it";

pub const MISSING: &[Missing] = &[
    Missing {
        name: "panther_ivy",
        reason: "the Ivy toolchain (Ivy and Z3) is not installable here",
        nearest: TESTERS_BY_PROTOCOL,
    },
    Missing {
        name: "ai_rfc",
        reason: "PANTHER's LLM-based RFC tester needs a model service panther does not have",
        nearest: TESTERS_BY_PROTOCOL,
    },
    Missing {
        name: "a_rfc",
        reason: "PANTHER's LLM-based RFC tester needs a model service panther does not have",
        nearest: TESTERS_BY_PROTOCOL,
    },
    Missing {
        name: "panther_binfuzz",
        reason: "PANTHER's BinFuzz submodule is not part of panther",
        nearest: TESTERS_BY_PROTOCOL,
    },
    Missing {
        name: "picoquic_shadow",
        reason: "it is picoquic built for the Shadow simulator, which is not installable here",
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "picoquic",
        reason: QUIC_BUILT_FROM_SOURCE,
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "quiche",
        reason: QUIC_BUILT_FROM_SOURCE,
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "quinn",
        reason: QUIC_BUILT_FROM_SOURCE,
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "lsquic",
        reason: QUIC_BUILT_FROM_SOURCE,
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "mvfst",
        reason: QUIC_BUILT_FROM_SOURCE,
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "quic_go",
        reason: QUIC_BUILT_FROM_SOURCE,
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "quant",
        reason: QUIC_BUILT_FROM_SOURCE,
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "ping_pong_fail",
        reason: "panther's `ping_pong` plays every MinIP version: write `protocol.version: fail`",
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "libcoap",
        reason: "panther has no CoAP plugins",
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "frr_bgp",
        reason: "panther has no BGP plugins",
        nearest: IUTS_BY_PROTOCOL,
    },
    Missing {
        name: "docker_compose",
        reason: "this panther build has no Docker environment",
        nearest: &[("", "localhost")],
    },
    Missing {
        name: "netns",
        reason: "this panther build has no netns environment, which is what runs PANTHER's shadow_ns",
        nearest: &[("", "localhost")],
    },
    Missing {
        name: "gperf",
        reason: "PANTHER's older gperf environment is split here into `gperf_cpu` (CPU profile) and `gperf_heap` (heap profile)",
        nearest: &[("", "gperf_cpu")],
    },
];

/// Short descriptions of the plugins suggested as nearest (the manifest's description is
/// used for any other).
pub const NEAREST_BLURB: &[(&str, &str)] = &[
    ("quic_tester", "spec-based QUIC checks"),
    ("minip_tester", "checks every minip property"),
    ("http_conformance", "HTTP/1.x conformance checks"),
    ("ping_pong", "the reference MinIP server and client"),
    ("strace", "traces each service's system calls"),
    ("time", "measures each service's time and memory"),
    ("gperf_cpu", "gperftools' CPU profile of each service"),
    ("localhost", "every service a process on this machine"),
];

pub fn missing(name: &str) -> Option<&'static Missing> {
    MISSING.iter().find(|m| m.name == name)
}

pub fn unused_reason(table: &[Unused], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, why)| *why)
}

/// For "unknown key `X`" with no suggestion among panther's keys: the PANTHER key it is
/// probably a typo of (`debug_enviroment` → `debug_environment`), which would load with a
/// warning.
pub fn near_panther_key(message: &str) -> Option<String> {
    let key = message.strip_prefix("unknown key `")?.strip_suffix('`')?;
    let tables = [
        TOP_UNUSED,
        LOGGING_UNUSED,
        PATHS_UNUSED,
        TEST_UNUSED,
        SERVICE_UNUSED,
        ENV_BASE_UNUSED,
    ];
    let known = tables
        .iter()
        .flat_map(|t| t.iter().map(|(k, _)| *k))
        .chain(IMPLEMENTATION_KNOBS.iter().copied());
    crate::suggest::closest(key, known)
        .map(|k| format!("did you mean `{k}`? (PANTHER's key, which panther accepts and ignores)"))
}

/// PANTHER's gperf_cpu schema, less what the bundled plugin declares (`profiler_library`,
/// `sampling_frequency`, `use_realtime_signal`).
pub const GPERF_CPU_UNUSED: &[Unused] = &[
    (
        "output_format",
        "panther reads the profile itself into a top-functions table",
    ),
    (
        "generate_pdf",
        "panther reads the profile into a table; run google-pprof --pdf on cpu.prof for a graph",
    ),
    (
        "profile_children",
        "children that exec inherit the profiler through LD_PRELOAD",
    ),
    (
        "start_profiling_delay",
        "panther's gperf_cpu profiles from the start",
    ),
    (
        "exclude_functions",
        "the report shows the top functions; filter with google-pprof on cpu.prof",
    ),
    (
        "include_only_functions",
        "the report shows the top functions; filter with google-pprof on cpu.prof",
    ),
    ("pprof_options", "panther runs google-pprof --text itself"),
];

/// PANTHER's gperf_heap schema, less what the bundled plugin declares (`tcmalloc_library`,
/// the three `heap_profile_*_interval`s, `profile_mmap`).
pub const GPERF_HEAP_UNUSED: &[Unused] = &[
    (
        "heap_check_type",
        "tcmalloc's heap checker is not part of panther's gperf_heap",
    ),
    (
        "output_format",
        "panther reads the last heap dump itself into a top-allocators table",
    ),
    (
        "generate_pdf",
        "panther reads the profile into a table; run google-pprof --pdf on the dump for a graph",
    ),
    (
        "generate_text_report",
        "panther always reads the last dump into the report",
    ),
    (
        "enable_leak_check",
        "tcmalloc's heap checker is not part of panther's gperf_heap; use memcheck for leaks",
    ),
    (
        "leak_check_at_exit",
        "tcmalloc's heap checker is not part of panther's gperf_heap; use memcheck for leaks",
    ),
    (
        "only_mmap_profile",
        "`profile_mmap` adds mmap'd memory to the profile",
    ),
    ("deep_heap_profile", "not in Debian's tcmalloc"),
    (
        "exclude_functions",
        "the report shows the top allocators; filter with google-pprof on the dump",
    ),
    (
        "include_only_functions",
        "the report shows the top allocators; filter with google-pprof on the dump",
    ),
    ("pprof_options", "panther runs google-pprof --text itself"),
];

/// PANTHER's helgrind schema, less what the bundled plugin declares (`history_level`,
/// `conflict_cache_size`, `track_lockorders`, `check_stack_refs`, `free_is_write`,
/// `show_below_main`).
pub const HELGRIND_UNUSED: &[Unused] = &[
    (
        "valgrind_binary",
        "panther runs the `valgrind` found on PATH",
    ),
    (
        "output_format",
        "panther always reads helgrind's XML report",
    ),
    (
        "ignore_thread_creation",
        "panther's helgrind uses Valgrind's default",
    ),
    (
        "cache_size",
        "helgrind has no such option; `conflict_cache_size` sizes its history",
    ),
    (
        "suppression_file",
        "panther's helgrind passes no suppressions",
    ),
    ("track_fds", "panther's helgrind does not track descriptors"),
    ("time_stamp", "panther stamps every event itself"),
    (
        "additional_parameters",
        "panther passes only the options its helgrind plugin declares",
    ),
    (
        "verbosity",
        "panther reads helgrind's XML report, whatever the verbosity",
    ),
    (
        "allow_partial_deployment",
        "every service starts or the test is an error",
    ),
    ("critical_services", "every service is watched"),
];

/// PANTHER's gdb schema, less what the bundled plugin declares (`backtrace_full`,
/// `max_backtrace_depth`).
pub const GDB_UNUSED: &[Unused] = &[
    ("gdb_binary", "panther runs the `gdb` found on PATH"),
    (
        "enable_core_dumps",
        "gdb prints the stacks while the program is stopped; no core file is needed",
    ),
    (
        "auto_backtrace",
        "panther's gdb always prints every thread's backtrace on a crash",
    ),
    (
        "debug_symbols",
        "panther does not build services; build them with -g",
    ),
    ("optimization_level", "panther does not build services"),
    ("frame_pointer", "panther does not build services"),
    ("rdynamic", "panther does not build services"),
    ("enable_asan", "panther does not build services"),
    ("asan_options", "panther does not build services"),
    (
        "run_command",
        "panther's gdb always starts the program with `run`",
    ),
    (
        "break_on_signals",
        "gdb stops on every fatal signal (SIGSEGV, SIGABRT, SIGFPE, …) by default",
    ),
    (
        "break_on_exceptions",
        "`break_on_panic` stops on Rust panics; C++ exceptions are not caught",
    ),
    (
        "output_format",
        "panther reads gdb's session log into events",
    ),
    ("save_gdb_log", "panther always keeps gdb.log"),
    ("save_core_dump", "no core file is written"),
    (
        "execution_timeout",
        "the service's own `timeout` bounds it here",
    ),
    (
        "gdb_timeout",
        "gdb runs in batch mode; the service's `timeout` bounds it",
    ),
    (
        "init_commands",
        "panther passes only the commands its gdb plugin declares",
    ),
    (
        "post_crash_commands",
        "panther's gdb prints every thread's backtrace",
    ),
    ("debug_env_vars", "set them in the service's `environment`"),
];

/// The unused-key table of a PANTHER execution environment, by its type.
pub fn exec_unused(kind: &str) -> &'static [Unused] {
    match kind {
        "strace" => STRACE_UNUSED,
        "memcheck" => MEMCHECK_UNUSED,
        "gperf_cpu" => GPERF_CPU_UNUSED,
        "gperf_heap" => GPERF_HEAP_UNUSED,
        "helgrind" => HELGRIND_UNUSED,
        "gdb" => GDB_UNUSED,
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_of_panther_keys_are_suggested() {
        assert_eq!(
            near_panther_key("unknown key `debug_enviroment`").as_deref(),
            Some(
                "did you mean `debug_environment`? (PANTHER's key, which panther accepts and ignores)"
            )
        );
        assert_eq!(near_panther_key("unknown key `zzz`"), None);
        assert_eq!(near_panther_key("wrong type"), None);
    }
}
