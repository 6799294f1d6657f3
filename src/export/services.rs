//! Services of v2 §9 (i14d) shared by every exporter: where the job reaches each service
//! (`CDL_SERVICE_<NAME>_HOST`/`_PORT`), the health command as a docker option when it can be
//! passed exactly, and the `W0200` findings, with the job's span, for what a target cannot
//! express. Each target maps the rest natively in its own file.

use super::Lossy;
use crate::plan::{Job, Service};

/// A service a target cannot run at all: one finding per service.
pub fn unsupported(job: &Job, system: &str, instead: &str) -> Vec<Lossy> {
    job.services
        .iter()
        .map(|service| {
            Lossy::at(
                job,
                format!(
                    "{system} cannot start the service `{}` ({}) of `{}`: the job runs without it, and without `{}`",
                    service.name,
                    service.image,
                    job.id,
                    service.host_variable()
                ),
                instead.to_string(),
            )
        })
        .collect()
}

/// One part of a service a target cannot express (`health`, `command`).
pub fn part_lost(job: &Job, service: &Service, part: &str, system: &str, instead: &str) -> Lossy {
    Lossy::at(
        job,
        format!(
            "{system} cannot express the `{part}` of the service `{}` of `{}`: it is left out",
            service.name, job.id
        ),
        instead.to_string(),
    )
}

/// `health` as docker's `--health-cmd "…"`, when the command can be passed exactly however the
/// option string is split (GitHub's runner passes `options` on docker's command line; its
/// container hooks split it on spaces): only letters, digits, spaces and `._/:=,@+-%`, no two
/// spaces in a row, no leading or trailing space. `None`: it cannot.
pub fn docker_health_option(health: &str) -> Option<String> {
    let plain = health
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == ' ' || "._/:=,@+-%".contains(c));
    let spaced = !health.contains("  ") && health.trim() == health && !health.is_empty();
    (plain && spaced).then(|| {
        format!(
            "--health-cmd \"{health}\" --health-interval 2s --health-timeout 5s --health-retries 60"
        )
    })
}

/// `CDL_SERVICE_<NAME>_HOST` and, with a port, `_PORT`, from the target's way of reaching a
/// service.
pub fn variables(
    job: &Job,
    host: impl Fn(&Service) -> String,
    port: impl Fn(&Service, u16) -> String,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for service in &job.services {
        out.push((service.host_variable(), host(service)));
        if let Some(number) = service.port {
            out.push((service.port_variable(), port(service, number)));
        }
    }
    out
}

/// A service as a Kubernetes sidecar of the job's pod (Argo Workflows, Tekton): it shares the
/// pod's network, so the job reaches it at `localhost` and its port.
#[derive(serde::Serialize)]
pub struct Sidecar {
    pub name: String,
    pub image: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<super::kubernetes::EnvVar>,
}

/// The job's services as sidecars. Text the system or Kubernetes would substitute (the
/// dialect's variables, Kubernetes' `$(NAME)` and `$$` in `args` and `env`) is left out with a
/// finding; `health` is a finding (the job does not wait for a sidecar).
pub fn sidecars(
    job: &Job,
    dialect: &super::kubernetes::Dialect,
    lossy: &mut Vec<Lossy>,
) -> Vec<Sidecar> {
    let system = dialect.system;
    let substituted =
        |text: &str| (dialect.substitutes)(text) || text.contains("$(") || text.contains("$$");
    let instead = format!(
        "{system} and Kubernetes substitute `{}`, `$(NAME)` and `$$` in a container's image, args and env; write the value without them, or set it in the image",
        dialect.opener
    );
    let mut out = Vec::new();
    for service in &job.services {
        if substituted(&service.image) {
            lossy.extend(unsupported(job, system, &instead));
            continue;
        }
        if service.health.is_some() {
            lossy.push(part_lost(
                job,
                service,
                "health",
                system,
                "a sidecar starts with the job, which does not wait for it: wait in the job's first step (for example `until nc -z localhost PORT; do sleep 1; done`)",
            ));
        }
        let mut env = Vec::new();
        for (name, value) in &service.env {
            if substituted(value) {
                lossy.push(part_lost(
                    job,
                    service,
                    &format!("env {name}"),
                    system,
                    &instead,
                ));
            } else {
                env.push(super::kubernetes::EnvVar::value(
                    name.clone(),
                    value.clone(),
                ));
            }
        }
        let args = if service.command.iter().any(|c| substituted(c)) {
            lossy.push(part_lost(job, service, "command", system, &instead));
            Vec::new()
        } else {
            service.command.clone()
        };
        out.push(Sidecar {
            name: format!("service-{}", service.name),
            image: service.image.clone(),
            args,
            env,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_health_commands_become_docker_options() {
        assert_eq!(
            docker_health_option("pg_isready -U postgres").as_deref(),
            Some(
                "--health-cmd \"pg_isready -U postgres\" --health-interval 2s --health-timeout 5s --health-retries 60"
            )
        );
        for hostile in [
            "a'b",
            "a\"b",
            "echo $HOME",
            "${{ x }}",
            "a\nb",
            "a # b",
            "a  b",
            " a",
            "$(x)",
            "a\\b",
            "{{x}}",
            "<<x>>",
            "",
        ] {
            assert_eq!(docker_health_option(hostile), None, "{hostile}");
        }
    }
}
